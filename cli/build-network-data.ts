/**
 * `npm run network-data:build -- --input ip2asn-combined.tsv.gz --output network-data.awnd`: build a network
 * database from a file in IPtoASN's format (gzip if the name ends in `.gz`; `-` reads stdin, `--gzip` if it is
 * compressed), the same way the refresh function does, and check it as the refresh would before a swap.
 *
 * Prints what was built on stderr and one JSON object on stdout (header, build counts, validation problems).
 * Exit 1 on an unreadable input; with `--strict`, also when validation finds problems (the deployed bounds
 * expect the full file: a small extract is reported, not refused, unless asked).
 *
 * Options: --source <name or URL for the header; default the input path>  --built-at <ISO time; default now>
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fileNetworkDataSource, StreamNetworkDataSource } from '../shared/adapters/network-data-source';
import { NetworkDataBuilder } from '../shared/core/network-data/build';
import { NetworkDatabase } from '../shared/core/network-data/lookup';
import { DEFAULT_EXPECTATIONS, validateNetworkData } from '../shared/core/network-data/validate';
import { AuthwatchError } from '../shared/errors';

const USAGE =
  'usage: npm run network-data:build -- --input <ip2asn-combined.tsv[.gz] | -> --output <file> [--source <name>] [--built-at <ISO time>] [--gzip] [--strict]';

/** Run the build; returns the exit code. `io` lets tests capture the output. */
export async function main(
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void; stdin?: NodeJS.ReadableStream } = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
  },
): Promise<number> {
  const options = {
    input: { type: 'string' },
    output: { type: 'string' },
    source: { type: 'string' },
    'built-at': { type: 'string' },
    gzip: { type: 'boolean', default: false },
    strict: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options }));
  } catch (e) {
    io.err(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    io.out(`${USAGE}\n`);
    return 0;
  }
  const problems: string[] = [];
  if (!values.input) problems.push('--input is required');
  if (!values.output) problems.push('--output is required');
  const builtAt = values['built-at'] === undefined ? Date.now() : Date.parse(values['built-at']);
  if (!Number.isFinite(builtAt)) problems.push(`--built-at "${values['built-at']}" is not a time`);
  if (problems.length > 0) {
    io.err(`${problems.join('\n')}\n${USAGE}\n`);
    return 2;
  }
  const input = values.input!;
  const source =
    input === '-'
      ? new StreamNetworkDataSource(
          values.source ?? 'stdin',
          () => (io.stdin ?? process.stdin) as import('node:stream').Readable,
          values.gzip,
        )
      : fileNetworkDataSource(input, values.source ?? input);

  const builder = new NetworkDataBuilder();
  try {
    for await (const line of source.lines()) builder.addLine(line);
  } catch (e) {
    if (!(e instanceof AuthwatchError)) throw e;
    io.err(`${e.message}\n`);
    return 1;
  }
  const built = builder.finish({ builtAt, source: source.name });
  const db = NetworkDatabase.fromBytes(built.bytes);
  const issues = validateNetworkData({ meta: db.meta, stats: built.stats, db }, DEFAULT_EXPECTATIONS);
  await writeFile(values.output!, built.bytes);

  const { stats, bytes } = { stats: built.stats, bytes: built.bytes.length };
  io.err(
    `${values.output}: ${db.meta.ipv4Ranges} IPv4 + ${db.meta.ipv6Ranges} IPv6 ranges, ${db.meta.asns} ASNs, ${db.meta.countries - 1} countries (the header counts ${db.meta.countries}, with "unknown"), ${bytes} bytes` +
      ` (${stats.lines} lines: ${stats.notRouted} not routed, ${stats.merged} merged, ${stats.malformed} malformed, ${stats.overlapping} overlapping)\n`,
  );
  for (const ex of stats.examples) io.err(`  ${ex}\n`);
  for (const p of issues) io.err(`${values.strict ? 'error' : 'warning'}: ${p}\n`);
  io.out(`${JSON.stringify({ output: values.output, meta: db.meta, stats, problems: issues })}\n`);
  return values.strict && issues.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`network-data:build: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
