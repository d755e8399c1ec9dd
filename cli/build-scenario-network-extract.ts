/**
 * `npm run scenario:network-extract -- --asn <dir> --country <dir>`: rewrite the scenario's network extract
 * (cli/scenario/network-extract.tsv) from a development snapshot of the `@ip-location-db/asn` and
 * `@ip-location-db/asn-country` packages, unpacked in those folders (`asn-ipv4.csv`, `asn-ipv6.csv`;
 * `asn-country-ipv4.csv`, `asn-country-ipv6.csv`). Fetch them without adding them to the project:
 *
 *   cd /tmp && npm pack @ip-location-db/asn @ip-location-db/asn-country
 *   mkdir asn asn-country && tar xzf ip-location-db-asn-*.tgz -C asn && tar xzf ip-location-db-asn-country-*.tgz -C asn-country
 *   npm run scenario:network-extract -- --asn /tmp/asn/package --country /tmp/asn-country/package
 *
 * The packages say their npm copies contain errors and are no longer updated: good enough for the scenario's
 * realism, never what a deployment relies on (a deployment's refresh downloads its own data). Their licences and
 * the attribution they ask for are in NOTICE; keep them with the extract. Then `npm run demo:regen`, since the
 * demo's addresses and network data come from the extract.
 *
 * Prints the rows kept and any shortfall (a network with fewer ranges than asked) on stderr; exit 1 on a
 * shortfall, so a curated AS that left the data is noticed rather than silently dropped.
 */
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SCENARIO_EXTRACT_PATH } from './paths';
import { extractNetworks } from './scenario/network-extract';
import { REAL_NETWORKS } from './scenario/real-networks';

const USAGE =
  'usage: npm run scenario:network-extract -- --asn <folder of @ip-location-db/asn> --country <folder of @ip-location-db/asn-country> [--output <file>]';

async function readLines(path: string): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY }))
    lines.push(line);
  return lines;
}

/** Run the extraction; returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const options = {
    asn: { type: 'string' },
    country: { type: 'string' },
    output: { type: 'string', default: SCENARIO_EXTRACT_PATH },
    help: { type: 'boolean', short: 'h', default: false },
  } as const;
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!values.asn || !values.country) {
    process.stderr.write(`--asn and --country are required\n${USAGE}\n`);
    return 2;
  }
  const asnLines = [
    ...(await readLines(join(values.asn, 'asn-ipv4.csv'))),
    ...(await readLines(join(values.asn, 'asn-ipv6.csv'))),
  ];
  const countryLines = [
    ...(await readLines(join(values.country, 'asn-country-ipv4.csv'))),
    ...(await readLines(join(values.country, 'asn-country-ipv6.csv'))),
  ];
  const { rows, shortfalls } = extractNetworks(REAL_NETWORKS, asnLines, countryLines);
  await writeFile(values.output, `${rows.join('\n')}\n`);
  const asns = new Set(rows.map((r) => r.split('\t')[2]));
  process.stderr.write(`${values.output}: ${rows.length} ranges of ${asns.size} networks\n`);
  for (const s of shortfalls) process.stderr.write(`shortfall: ${s}\n`);
  return shortfalls.length > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`scenario:network-extract: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
