/**
 * `--network-data <file>` on the command line: replay and the demo compose the network data into the detection run
 * (an .awnd database, or an IPtoASN TSV, plain or gzip, built in memory), their alerts name owners and countries,
 * and the summary says how many addresses had a known owner. A file that is not network data is a clear mistake.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cmdDemo, DEMO_NETWORK_DATA, main } from '../../cli/authwatch';
import type { ScenarioLabels } from '../../cli/scenario/types';
import { DAY_MS } from '../../shared/core/model';
import { build, FIXTURE_TSV } from '../unit/network-data/support';

/** Stdout and stderr of `fn` while it runs in-process. */
async function capture(fn: () => Promise<unknown>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await fn();
    return { code: typeof code === 'number' ? code : 0, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const T0 = Date.UTC(2026, 2, 2);

/** Two days of three users at home (addresses the extract does not know), then mallory from 8.8.8.8 on the third. */
function sshdLog(): string {
  const lines: string[] = [];
  const line = (t: number, user: string, ip: string) =>
    `${new Date(t).toISOString().replace('Z', '+00:00')} web-01 sshd[100]: Accepted publickey for ${user} from ${ip} port 22 ssh2`;
  for (let d = 0; d < 2; d++)
    for (let h = 8; h < 18; h++)
      for (const [u, ip] of [
        ['alice', '81.2.69.10'],
        ['bob', '81.2.70.20'],
        ['carol', '81.2.71.30'],
      ] as const)
        lines.push(line(T0 + d * DAY_MS + h * 3_600_000 + 60_000, u, ip));
  lines.push(line(T0 + 2 * DAY_MS + 9 * 3_600_000, 'mallory', '8.8.8.8'));
  return `${lines.join('\n')}\n`;
}

const NAMED = '8.8.8.8 (AS15169 GOOGLE, US)';

describe('--network-data', () => {
  let dir: string;
  let log: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-netdata-'));
    log = join(dir, 'auth.log');
    writeFileSync(log, sshdLog());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  const replay = (...extra: string[]) =>
    capture(() =>
      main(['replay', '--profile', 'sshd', '--input', log, '--learning-days', '1', '--as-of', '2026-03-05', ...extra]),
    );

  it("replay with IPtoASN's TSV: each alert's document and table row name the owner, the summary counts owners", async () => {
    const json = await replay('--network-data', FIXTURE_TSV);
    expect(json.code).toBe(0);
    const alerts = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user: { name: string }; source: unknown });
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.source).toEqual({
      ip: '8.8.8.8',
      as: { number: 15169, organization: { name: 'GOOGLE' } },
      geo: { country_iso_code: 'US' },
    });
    const flat = json.err.replace(/\s+/g, ' ');
    expect(flat).toMatch(/network owners from .*ip2asn-combined\.tsv: \d+ IPv4 \+ \d+ IPv6 ranges/);
    // Four addresses each window they are active in; only 8.8.8.8 has an owner in the extract.
    expect(flat).toMatch(/network owners: known for \d+% of addresses \(2 of \d+ looked up, counted per window\)/);

    const pretty = await replay('--network-data', FIXTURE_TSV, '--pretty');
    expect(pretty.code).toBe(0);
    expect(pretty.out.replace(/\s+/g, ' ')).toContain(NAMED);
  });

  it('replay --allow-asn and --allow-country silence the logons whose owner they name, and no others', async () => {
    const alertsOf = (r: { out: string }) => r.out.split('\n').filter((l) => l.trim() !== '').length;
    const byAs = await replay('--network-data', FIXTURE_TSV, '--allow-asn', 'AS15169');
    expect(byAs.code).toBe(0);
    expect(alertsOf(byAs)).toBe(0);
    const byCountry = await replay('--network-data', FIXTURE_TSV, '--allow-country', 'us');
    expect(alertsOf(byCountry)).toBe(0);
    const elsewhere = await replay('--network-data', FIXTURE_TSV, '--allow-country', 'JP', '--allow-asn', '13335');
    expect(alertsOf(elsewhere)).toBe(1);
  });

  it('replay with an .awnd database or a gzip-compressed TSV: the same owner', async () => {
    const awnd = join(dir, 'data.bin'); // recognised by its bytes, whatever its name
    writeFileSync(awnd, build().bytes);
    const gz = join(dir, 'ip2asn.tsv.gz');
    writeFileSync(gz, gzipSync(readFileSync(FIXTURE_TSV)));
    for (const file of [awnd, gz]) {
      const r = await replay('--network-data', file);
      expect(r.code, r.err).toBe(0);
      expect(JSON.parse(r.out.trim())).toMatchObject({ source: { as: { number: 15169 } } });
    }
  });

  it('replay without it: alerts carry the bare address, and the summary says no owners were looked up', async () => {
    const r = await replay();
    expect(r.code).toBe(0);
    const alert = JSON.parse(r.out.trim()) as { source: unknown };
    expect(alert.source).toEqual({ ip: '8.8.8.8' });
    expect(r.err.replace(/\s+/g, ' ')).toContain('network owners: none looked up (no --network-data given)');
  });

  it('a file that is not network data, or is missing, is a mistake named in one line (exit 2)', async () => {
    const notData = await replay('--network-data', log);
    expect(notData.code).toBe(2);
    expect(notData.err).toMatch(/--network-data .*auth\.log: no address range in it \(\d+ lines, \d+ malformed/);
    expect(notData.out).toBe('');
    const brokenGzip = join(dir, 'broken.tsv.gz');
    writeFileSync(brokenGzip, gzipSync(readFileSync(FIXTURE_TSV)).subarray(0, 40));
    const broken = await replay('--network-data', brokenGzip);
    expect(broken.code).toBe(2);
    expect(broken.err).toContain('broken.tsv.gz');
    const corrupt = join(dir, 'corrupt.awnd');
    writeFileSync(corrupt, build().bytes.subarray(0, 100));
    const bad = await replay('--network-data', corrupt);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/corrupt\.awnd: .*give an \.awnd database/);
    const missing = await replay('--network-data', join(dir, 'nope.tsv'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nope.tsv: no such file');
  });

  it('backfill takes it with --alerts only (priming raises no alert)', async () => {
    const r = await capture(() =>
      main([
        'backfill',
        '--profile',
        'sshd',
        '--input',
        log,
        '--store',
        join(dir, 'bf'),
        '--network-data',
        FIXTURE_TSV,
      ]),
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('--network-data applies with --alerts only');
  });

  describe('the demo', () => {
    let demo: string;
    beforeAll(() => {
      demo = join(dir, 'demo');
      mkdirSync(demo);
      writeFileSync(join(demo, 'auth.log'), sshdLog());
      const end = T0 + 3 * DAY_MS;
      const labels: ScenarioLabels = {
        users: ['alice', 'bob', 'carol'].map((name) => ({ name, archetype: 'home' }) as ScenarioLabels['users'][0]),
        incidents: [
          {
            id: 'attacker-account-1',
            kind: 'attacker-account',
            user: 'mallory',
            sourceIp: '8.8.8.8',
            start: T0 + 2 * DAY_MS + 9 * 3_600_000,
            end: T0 + 2 * DAY_MS + 9 * 3_600_000,
            description: 'mallory, an account nobody made, logs on from 8.8.8.8',
            logons: 1,
            failedAttempts: 0,
            hosts: ['web-01'],
          },
        ],
        expectedNovelty: [],
        benignChanges: [],
        meta: {
          seed: 1,
          shape: 'small-office',
          start: T0,
          end,
          days: 3,
          learningDays: 1,
          learningEnd: T0 + DAY_MS,
          userDays: 6,
          detectionUserDays: 3,
          events: 61,
          successes: 61,
          failures: 0,
          notes: [],
        },
      };
      writeFileSync(join(demo, 'labels.json'), JSON.stringify(labels));
    });

    it("uses the sample's network-data.tsv when it is there: its alerts name owners and countries", async () => {
      copyFileSync(FIXTURE_TSV, join(demo, DEMO_NETWORK_DATA));
      try {
        const r = await capture(() => cmdDemo(demo, undefined, join(dir, 'demo-report.html')));
        const out = r.out.replace(/\s+/g, ' ');
        expect(out).toContain(NAMED);
        expect(out).toContain('▲ labelled attack (attacker-account)');
        const err = r.err.replace(/\s+/g, ' ');
        expect(err).toMatch(/network owners from .*network-data\.tsv/);
        expect(err).toMatch(/network owners: known for \d+% of addresses \(2 of \d+ looked up/);
        expect(err).toContain('Attacks in the sample: 1, alerted: 1.');
      } finally {
        rmSync(join(demo, DEMO_NETWORK_DATA));
      }
    });

    it('runs without owners when the sample has no network data, and says so', async () => {
      const r = await capture(() => cmdDemo(demo, undefined, join(dir, 'demo-report.html')));
      expect(r.out).toContain('8.8.8.8');
      expect(r.out).not.toContain('AS15169');
      expect(r.err.replace(/\s+/g, ' ')).toMatch(/network owners: none looked up \(no .*network-data\.tsv\)/);
      expect(r.err).toContain('Attacks in the sample: 1, alerted: 1.');
    });
  });
});
