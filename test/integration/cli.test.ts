/**
 * The command line end to end, through `main(argv)` as `npm run authwatch -- …` calls it: output on
 * stdout, summaries and errors on stderr, exit codes. `replay` runs on the embedded DynamoDB (dynalite).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMANDS } from '../../cli/args';
import { main } from '../../cli/authwatch';
import { displayWidth } from '../../cli/text-width';
import { toEcsLine } from '../../cli/scenario/writers';
import { DAY_MS, type LogonEvent } from '../../shared/core/model';

const FIXTURES = join(__dirname, '..', 'fixtures');

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('authwatch command line', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it("query prints the profile's Logs Insights query", async () => {
    const r = await run(['query', '--profile', 'sshd']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('stats sum(attempts) as logons');
    expect(r.out.trimEnd().endsWith('| limit 10000')).toBe(true);
  });

  it('parse prints one normalised logon per logon line and counts the rest', async () => {
    const file = join(FIXTURES, 'sshd', 'auth.log');
    const expected = (
      JSON.parse(readFileSync(join(FIXTURES, 'sshd', 'expected.json'), 'utf8')) as Record<string, { kind: string }[]>
    )['auth.log']!;
    const r = await run(['parse', '--profile', 'sshd', file]);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user: string; '@timestamp': string });
    expect(lines).toHaveLength(expected.filter((x) => x.kind === 'event').length);
    expect(lines[0]!.user).toBe('alice');
    expect(r.err).toMatch(/\d+ lines, \d+ malformed/);
  });

  it('replay walks the file on the schedule and writes each alert as one ECS-flavoured JSON line', async () => {
    // Two days of three users at home, learning one day, then a stranger and a stolen credential.
    const t0 = Date.UTC(2026, 2, 2);
    const events: LogonEvent[] = [];
    for (let d = 0; d < 2; d++)
      for (let h = 8; h < 18; h++)
        for (const [u, ip] of [
          ['alice', '81.2.69.10'],
          ['bob', '81.2.70.20'],
          ['carol', '81.2.71.30'],
        ] as const)
          events.push({
            timestamp: t0 + d * DAY_MS + h * 3_600_000 + 60_000,
            user: u,
            sourceIp: ip,
            outcome: 'success',
            host: 'web-01',
            method: 'publickey',
            logSource: 'ecs',
          });
    events.push({
      timestamp: t0 + 2 * DAY_MS + 9 * 3_600_000,
      user: 'mallory',
      sourceIp: '203.0.113.66',
      outcome: 'success',
      host: 'db-01',
      method: 'password',
      logSource: 'ecs',
    });
    const input = join(dir, 'auth.ndjson');
    // Plus a line that is not a logon (skipped) and a logon without a usable time (counted as malformed).
    const bad = JSON.stringify({
      '@timestamp': 'yesterday',
      event: { category: 'authentication', outcome: 'success' },
      user: { name: 'x' },
      source: { ip: '192.0.2.1' },
    });
    writeFileSync(input, events.map(toEcsLine).join('\n') + `\nnot json at all\n${bad}\n`);
    const r = await run([
      'replay',
      '--profile',
      'ecs',
      '--input',
      input,
      '--learning-days',
      '1',
      '--store',
      join(dir, 'store'),
    ]);
    expect(r.code).toBe(0);
    const alerts = r.out
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as Record<string, unknown> & {
            rule: { id: string };
            user: { name: string };
            source: { ip: string };
          },
      );
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: { id: 'Auth.RareUser' },
      user: { name: 'mallory' },
      source: { ip: '203.0.113.66' },
    });
    expect(alerts[0]).toHaveProperty('@timestamp');
    expect(alerts[0]).toHaveProperty('explanation');
    expect(r.err).toContain('windows run:');
    expect(r.err).toContain('1 malformed');
  });

  it('rejects an unknown profile with the list of known ones and exit code 2', async () => {
    const r = await run(['query', '--profile', 'sshdd']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('sshd');
    expect(r.err).toContain('cloudtrail');
  });

  it('reports every bad replay flag at once', async () => {
    const r = await run([
      'replay',
      '--profile',
      'ecs',
      '--input',
      'x',
      '--learning-days',
      'ten',
      '--threshold',
      'Auth.Nope=80',
      '--allow-cidr',
      '10.0.0.0/33',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--learning-days');
    expect(r.err).toContain('Auth.Nope');
    expect(r.err).toContain('10.0.0.0/33');
  });

  it('routes backfill: primes a local store from a file without alerting', async () => {
    const t0 = Date.UTC(2026, 2, 2);
    const events: LogonEvent[] = [];
    for (let d = 0; d < 2; d++)
      for (let h = 8; h < 12; h++)
        events.push({
          timestamp: t0 + d * DAY_MS + h * 3_600_000,
          user: 'alice',
          sourceIp: '81.2.69.10',
          outcome: 'success',
          host: 'web-01',
          method: 'publickey',
          logSource: 'ecs',
        });
    const input = join(dir, 'history.ndjson');
    writeFileSync(input, events.map(toEcsLine).join('\n') + '\n');
    const store = join(dir, 'backfilled');
    const r = await run([
      'backfill',
      '--profile',
      'ecs',
      '--input',
      input,
      '--store',
      store,
      '--checkpoint',
      join(dir, 'ckpt.json'),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    const explain = await run(['explain', 'alice', '--store', store, '--json']);
    expect(explain.code).toBe(0);
    expect(explain.out).toContain('81.2.69.10');
  });

  it('parse --as-of places year-less syslog timestamps in the year the file was written', async () => {
    const input = join(dir, 'old-auth.log');
    writeFileSync(
      input,
      'Dec 31 23:59:00 web-01 sshd[1]: Accepted publickey for alice from 203.0.113.9 port 5000 ssh2\nJan  1 00:01:00 web-01 sshd[2]: Accepted publickey for bob from 203.0.113.9 port 5001 ssh2\n',
    );
    const r = await run(['parse', '--profile', 'sshd', '--as-of', '2024-01-02', input]);
    expect(r.code).toBe(0);
    const stamps = r.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { '@timestamp': string })['@timestamp']);
    expect(stamps).toEqual(['2023-12-31T23:59:00.000Z', '2024-01-01T00:01:00.000Z']);
    expect((await run(['parse', '--profile', 'sshd', '--as-of', 'soon', input])).code).toBe(2);
  });
  it('a file with no logon for the profile says so and names the profile that recognises its first lines', async () => {
    const sshd = join(FIXTURES, 'sshd', 'auth.log');
    const parsed = await run(['parse', '--profile', 'ecs', sshd]);
    expect(parsed.code).toBe(0);
    expect(parsed.out).toBe('');
    expect(parsed.err).toMatch(
      /0 logons in 27 non-empty lines of .*auth\.log with --profile ecs; its first lines look like sshd: try --profile sshd/,
    );

    const replayed = await run(['replay', '--profile', 'cloudtrail', '--input', sshd]);
    expect(replayed.code).toBe(0);
    expect(replayed.err).toContain('try --profile sshd');
    expect(replayed.err).toContain('nothing to replay');

    // Nothing recognises it: said as such, with the list of profiles.
    const prose = join(dir, 'notes.txt');
    writeFileSync(prose, 'meeting notes\n\nnothing to see here\n');
    const none = await run(['parse', '--profile', 'sshd', prose]);
    expect(none.err).toMatch(
      /0 logons in 2 non-empty lines .*no profile \(sshd, cloudtrail, ecs, windows, okta, auditd, cisco-asa, identity-center, entra, google-workspace\) finds a logon in its first 2 lines/,
    );
    // A file with logons prints no hint.
    expect((await run(['parse', '--profile', 'sshd', sshd])).err).not.toContain('non-empty lines');
  });

  it('reads gzip-compressed logs transparently (by their magic bytes), and names a corrupt one', async () => {
    const plain = join(FIXTURES, 'sshd', 'auth.log');
    const gz = join(dir, 'auth.log.1'); // rotated names need not end in .gz
    writeFileSync(gz, gzipSync(readFileSync(plain)));
    const a = await run(['parse', '--profile', 'sshd', '--as-of', '2026-11-03', plain]);
    const b = await run(['parse', '--profile', 'sshd', '--as-of', '2026-11-03', gz]);
    expect(b.code).toBe(0);
    expect(b.out).toBe(a.out);
    expect(b.out.split('\n').length).toBeGreaterThan(5);

    const replayed = await run([
      'replay',
      '--profile',
      'sshd',
      '--as-of',
      '2026-11-03',
      '--input',
      gz,
      '--learning-days',
      '1',
    ]);
    expect(replayed.code).toBe(0);
    expect(replayed.err.replace(/\s+/g, ' ')).toContain('27 lines, 9 logons'); // wrapped to 80 columns

    const corrupt = join(dir, 'corrupt.gz');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not really gzip at all')]));
    const c = await run(['parse', '--profile', 'sshd', corrupt]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/corrupt\.gz: not a valid gzip file/);
  });
  it('every command has --help and help <command>: the same text, its usage first, within 80 columns', async () => {
    for (const c of COMMANDS) {
      const a = await run([c.name, '--help']);
      const b = await run(['help', c.name]);
      expect(a.code).toBe(0);
      expect(a.out).toBe(b.out);
      expect(a.out.startsWith(`usage: authwatch ${c.name}`)).toBe(true);
      for (const name of Object.keys(c.options)) expect(a.out).toContain(`--${name}`);
      for (const l of a.out.split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(80);
    }
    const overview = await run(['help']);
    for (const l of overview.out.split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(80);
    expect((await run(['help', 'nope'])).code).toBe(2);
  });
});
