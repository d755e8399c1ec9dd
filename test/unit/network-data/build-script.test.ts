import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/build-network-data';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';
import { FIXTURE_TSV } from './support';

const dir = mkdtempSync(join(tmpdir(), 'authwatch-netdata-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], stdin?: Readable) {
  let out = '';
  let err = '';
  const code = await main(args, {
    out: (s) => {
      out += s;
    },
    err: (s) => {
      err += s;
    },
    ...(stdin ? { stdin } : {}),
  });
  return { code, out, err };
}

describe('npm run network-data:build', () => {
  it('builds the publisher file (gzip) into a database the loader reads, and says what it built', async () => {
    const gz = join(dir, 'ip2asn-combined.tsv.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE_TSV)));
    const output = join(dir, 'out.awnd');
    const r = await run([
      '--input',
      gz,
      '--output',
      output,
      '--source',
      'extract',
      '--built-at',
      '2026-11-30T03:00:00Z',
    ]);
    expect(r.code).toBe(0);
    const db = NetworkDatabase.fromBytes(readFileSync(output));
    expect(db.meta).toMatchObject({
      source: 'extract',
      builtAt: Date.UTC(2026, 10, 30, 3),
      ipv4Ranges: 8,
      ipv6Ranges: 6,
    });
    expect(db.lookup('8.8.8.8')).toMatchObject({ asn: 15169, org: 'GOOGLE' });
    const json = JSON.parse(r.out) as { problems: string[]; stats: { malformed: number } };
    expect(json.stats.malformed).toBe(0);
    // The extract is far smaller than the deployed bounds: reported as warnings, not refused without --strict.
    expect(json.problems).toEqual(['8 IPv4 ranges, expected 200000–2000000', '6 IPv6 ranges, expected 50000–1000000']);
    expect(r.err).toContain('warning: 8 IPv4 ranges');
  });

  it('reads stdin, and with --strict fails on what the refresh would refuse', async () => {
    const output = join(dir, 'stdin.awnd');
    const r = await run(['--input', '-', '--output', output, '--strict'], Readable.from([readFileSync(FIXTURE_TSV)]));
    expect(r.code).toBe(1);
    expect(r.err).toContain('error: 6 IPv6 ranges, expected 50000–1000000');
    expect(NetworkDatabase.fromBytes(readFileSync(output)).meta.source).toBe('stdin');
  });

  it('fails on an unreadable input or bad arguments, saying why', async () => {
    const cut = join(dir, 'cut.tsv.gz');
    const gz = gzipSync(readFileSync(FIXTURE_TSV));
    writeFileSync(cut, gz.subarray(0, gz.length - 10));
    expect(await run(['--input', cut, '--output', join(dir, 'cut.awnd')])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/gzip stream is truncated or corrupt/),
    });
    expect(await run(['--output', 'x', '--built-at', 'yesterday'])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/--input is required\n--built-at "yesterday" is not a time/),
    });
  });
});
