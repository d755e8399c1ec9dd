/**
 * A format defined only in configuration, through the command line: `query` and `parse` read its definition from
 * the configuration (`--config`, a cdk.json), so an operator can try it on their own lines before deploying; and a
 * `replay` of lines in that format alerts like any built-in's (a new name after the learning period), with the
 * configuration's identity rules applied as the detector applies them.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/authwatch';
import { DAY_MS } from '../../shared/core/model';

const FIXTURES = join(__dirname, '..', 'fixtures', 'custom');
const CONFIG = join(FIXTURES, 'cdk.json');

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

/** One line of the fixture's `custom:vpn` format. */
function vpnLine(t: number, user: string, ip: string, verdict = 'ok'): string {
  return `${new Date(t).toISOString()} vpn-gw-01 authd[311]: login ${verdict} user=${user} src=${ip} method=password`;
}

describe('authwatch with a format defined in the configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-cli-custom-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  it('query prints the Logs Insights query built from the definition', async () => {
    const r = await run(['query', '--profile', 'custom:vpn', '--config', CONFIG]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('| parse @message /^(?<time>');
    expect(r.out).toContain(
      '| stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome, host',
    );
    expect(r.out.trimEnd().endsWith('| limit 10000')).toBe(true);
  });

  it('parse reads a file with it: one JSON line per logon, the malformed counted', async () => {
    const r = await run(['parse', '--profile', 'custom:idp', '--config', CONFIG, join(FIXTURES, 'idp.jsonl')]);
    expect(r.code).toBe(0);
    const events = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { user: string; logSource: string });
    expect(events.map((e) => e.user)).toEqual(['alice@corp.example', 'a.smith@corp.example', 'bob@corp.example']);
    expect(events.every((e) => e.logSource === 'custom:idp')).toBe(true);
    expect(r.err).toContain('9 lines, 1 malformed, 3 logons');
  });

  it('names what is wrong: a format not defined where it looks, an invalid definition, a file it cannot read', async () => {
    const missing = await run(['query', '--profile', 'custom:vpn', '--config', join(dir, 'none.json')]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--config: cannot read');

    const empty = join(dir, 'empty.json');
    writeFileSync(empty, JSON.stringify({ context: {} }));
    const undefinedFormat = await run(['query', '--profile', 'custom:vpn', '--config', empty]);
    expect(undefinedFormat.code).toBe(2);
    expect(undefinedFormat.err).toContain('"custom:vpn": no format of that name is defined');

    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify({
        customProfiles: [{ id: 'custom:x', kind: 'text', pattern: '(?<user>\\S+)', outcome: 'failure' }],
      }),
    );
    const invalid = await run(['parse', '--profile', 'custom:x', '--config', bad, join(FIXTURES, 'vpn.log')]);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain(`${bad}: authwatch.customProfiles.0.pattern: needs a named group (?<ip>...)`);
  });

  it('replay of lines in that format alerts on a new name after the learning period, with the identity rules applied', async () => {
    // Two days of three users, learning one day; then a stranger, and alice logging on as CORP\alice, which the
    // configuration's rules make the same person (corp → corp.example, dropped: alice).
    const t0 = Date.UTC(2026, 2, 2);
    const lines: string[] = [];
    for (let d = 0; d < 2; d++)
      for (let h = 8; h < 18; h++)
        for (const [u, ip] of [
          ['alice', '81.2.69.10'],
          ['bob', '81.2.70.20'],
          ['carol', '81.2.71.30'],
        ] as const)
          lines.push(vpnLine(t0 + d * DAY_MS + h * 3_600_000 + 60_000, u, ip));
    lines.push(vpnLine(t0 + 2 * DAY_MS + 9 * 3_600_000, 'mallory', '203.0.113.66'));
    lines.push(vpnLine(t0 + 2 * DAY_MS + 10 * 3_600_000, 'CORP\\alice', '81.2.69.10'));
    const input = join(dir, 'vpn.log');
    writeFileSync(input, `${lines.join('\n')}\n`);
    const replay = (config: string, store: string) =>
      run([
        'replay',
        '--profile',
        'custom:vpn',
        '--config',
        config,
        '--input',
        input,
        '--learning-days',
        '1',
        '--store',
        join(dir, store),
      ]);
    const alertsOf = (out: string) =>
      out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { rule: { id: string }; user: { name: string }; log_source: string });

    const withRules = await replay(CONFIG, 'store-rules');
    expect(withRules.code).toBe(0);
    const alerts = alertsOf(withRules.out);
    expect(alerts.map((a) => [a.rule.id, a.user.name])).toEqual([['Auth.RareUser', 'mallory']]);
    expect(alerts[0]!.log_source).toBe('custom:vpn');
    // alice, bob, carol and mallory: CORP\alice is alice.
    expect(withRules.err).toContain('(4 users with successful logons)');

    // The same lines, the format alone: `alice@corp` is a fifth user, with a baseline of its own.
    const formatOnly = join(dir, 'format-only.json');
    const full = JSON.parse(readFileSync(CONFIG, 'utf8')) as { context: { authwatch: { customProfiles: unknown } } };
    writeFileSync(formatOnly, JSON.stringify({ customProfiles: full.context.authwatch.customProfiles }));
    const without = await replay(formatOnly, 'store-plain');
    expect(without.code).toBe(0);
    expect(alertsOf(without.out).map((a) => a.user.name)).toContain('mallory');
    expect(without.err).toContain('(5 users with successful logons)');
  });

  it('backfill primes the baselines from lines in that format, under the identities the detector judges by', async () => {
    const t0 = Date.UTC(2026, 2, 2);
    const input = join(dir, 'history.log');
    writeFileSync(
      input,
      `${[
        vpnLine(t0 + 8 * 3_600_000, 'alice', '81.2.69.10'),
        vpnLine(t0 + 9 * 3_600_000, 'CORP\\alice', '81.2.69.11'),
        vpnLine(t0 + DAY_MS + 8 * 3_600_000, 'alice@corp.example', '81.2.69.12'),
      ].join('\n')}\n`,
    );
    const store = join(dir, 'backfilled');
    const r = await run([
      'backfill',
      '--profile',
      'custom:vpn',
      '--config',
      CONFIG,
      '--input',
      input,
      '--store',
      store,
      '--checkpoint',
      join(dir, 'ckpt.json'),
    ]);
    expect(r.code).toBe(0);
    const explain = await run(['explain', 'alice', '--store', store, '--json']);
    expect(explain.code).toBe(0);
    for (const ip of ['81.2.69.10', '81.2.69.11', '81.2.69.12']) expect(explain.out).toContain(ip);
  });
});
