/**
 * The command line as a user runs it: a real process through the `bin` shim (`npx authwatch`), so exit codes,
 * what reaches stderr, a closed stdout and the SDK's warnings are what a person sees. Each user mistake gives
 * exactly one line saying what is wrong and what to do, then the command's usage line, and exit status 2.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Control characters (C0 but newline, DEL, C1) in `s`: none may reach a terminal from log content. */
function controlChars(s: string): string[] {
  return [...s].filter((c) => {
    const n = c.codePointAt(0) ?? 0;
    return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n < 0xa0);
  });
}

const ROOT = join(__dirname, '..', '..');
const SHIM = join(ROOT, 'bin', 'authwatch.js');
const SSHD_LOG = join(ROOT, 'test', 'fixtures', 'sshd', 'auth.log');

interface Ran {
  code: number | null;
  out: string;
  err: string;
}

/** `authwatch ...argv` through the shim, in `cwd`, without a terminal. */
function authwatch(argv: readonly string[], cwd = ROOT): Ran {
  const r = spawnSync(process.execPath, [SHIM, ...argv], {
    cwd,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The mistake contract: two lines on stderr (what is wrong; usage), exit 2, nothing on stdout, no stack. */
function expectMistake(r: Ran, what: RegExp): void {
  const lines = r.err.split('\n').filter((l) => l !== '');
  expect(r.code).toBe(2);
  expect(lines, r.err).toHaveLength(2);
  expect(lines[0]).toMatch(/^authwatch: /);
  expect(lines[0]).toMatch(what);
  expect(lines[1]).toMatch(/^usage: authwatch /);
  expect(r.err).not.toMatch(/\n\s+at |unexpected error|ERR_PARSE_ARGS/);
  expect(r.out).toBe('');
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authwatch-process-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('user mistakes: one line, the usage, exit 2', () => {
  it('an option without its value names the value and the choices', () => {
    expectMistake(authwatch(['parse', '--profile']), /--profile needs a value.*write --profile <id> \(one of sshd, /);
    expectMistake(
      authwatch(['replay', '--profile', '--input', SSHD_LOG]),
      /--profile needs a value, but the next argument is the option --input/,
    );
  });

  it('an unknown option suggests the nearest known one', () => {
    expectMistake(
      authwatch(['replay', '--profle', 'sshd', '--input', SSHD_LOG]),
      /unknown option --profle for replay \(did you mean --profile\?\)/,
    );
    expectMistake(authwatch(['status', '--threshold', '80', '--store', dir]), /unknown option --threshold for status/);
  });

  it('extra arguments are refused, with the shell-glob hint (an unquoted `allow user *`)', () => {
    // What the shell makes of `allow user *` in a folder holding README.md and package.json.
    expectMistake(
      authwatch(['allow', 'user', 'README.md', 'package.json', '--store', join(dir, 'store')]),
      /allow user: unexpected "package\.json" after the user name; .*quote it/,
    );
    expectMistake(authwatch(['query', '--profile', 'sshd', 'extra']), /query takes no arguments, got "extra"/);
    expectMistake(authwatch(['explain', 'alice', 'bob', '--store', dir]), /explain takes one user name, got 2/);
  });

  it('a missing or unreadable input file', () => {
    expectMistake(
      authwatch(['parse', '--profile', 'sshd', join(dir, 'no-such.log')]),
      /no-such\.log: no such file \(check the path/,
    );
    expectMistake(
      authwatch(['replay', '--profile', 'sshd', '--input', join(dir, 'gone.log')]),
      /--input .*gone\.log: no such file/,
    );
    const folder = join(dir, 'a-folder');
    mkdirSync(folder, { recursive: true });
    expectMistake(
      authwatch(['backfill', '--profile', 'sshd', '--input', folder, '--store', join(dir, 'bf')]),
      /a-folder is a folder: give a log file/,
    );
  });

  it('a --store that is not a store folder is refused before anything is wiped', () => {
    const file = join(dir, 'precious.txt');
    writeFileSync(file, 'keep me');
    expectMistake(
      authwatch(['replay', '--profile', 'sshd', '--input', SSHD_LOG, '--store', file]),
      /precious\.txt is a file, not a folder/,
    );
    const folder = join(dir, 'documents');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'thesis.tex'), 'keep me too');
    expectMistake(
      authwatch(['replay', '--profile', 'sshd', '--input', SSHD_LOG, '--store', folder]),
      /documents holds other files and is not a local store/,
    );
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expect(readFileSync(join(folder, 'thesis.tex'), 'utf8')).toBe('keep me too');
  });

  it('an unknown profile lists the known ones; an unknown command suggests the nearest', () => {
    expectMistake(
      authwatch(['query', '--profile', 'sshdd']),
      /unknown log-source profile "sshdd": expected one of sshd, cloudtrail, ecs/,
    );
    expectMistake(authwatch(['replya', '--profile', 'sshd']), /unknown command "replya" \(did you mean replay\?\)/);
    expectMistake(authwatch([]), /give a command/);
  });

  it('bad numbers: every problem in the one line', () => {
    expectMistake(
      authwatch(['replay', '--profile', 'sshd', '--input', SSHD_LOG, '--learning-days', 'ten', '--max-alerts', 'many']),
      /--learning-days: "ten" is not a number; --max-alerts: "many" is not a number/,
    );
    expectMistake(
      authwatch([
        'backfill',
        '--profile',
        'sshd',
        '--input',
        SSHD_LOG,
        '--store',
        join(dir, 'bf'),
        '--window-hours',
        '0',
      ]),
      /--window-hours: "0" is not a whole number/,
    );
  });

  it('terminal escapes in what the user typed never reach the terminal', () => {
    const evil = '\x1b]0;pwned\x07\x1b[31mroot';
    for (const r of [
      authwatch(['replay', '--profile', 'sshd', '--input', SSHD_LOG, '--learning-days', evil]),
      authwatch([`--${evil}`]),
      authwatch(['explain', 'alice', evil, '--store', dir]),
      authwatch(['query', '--profile', evil]),
    ]) {
      expect(r.code).toBe(2);
      expect(controlChars(r.err)).toEqual([]);
      // Shown, made inert: `?` for each control character, or a JSON escape where the message quotes as JSON.
      expect(r.err).toMatch(/(\?|\\u001b)\]0;pwned(\?|\\u0007)/);
    }
  });
});

describe('the process', () => {
  it('a closed stdout (`parse ... | head -1`) ends quietly with exit 0', async () => {
    // Enough output to overflow a pipe buffer many times over.
    const big = join(dir, 'big.log');
    const line = 'Nov  2 08:15:03 web-01 sshd[4211]: Accepted publickey for alice from 203.0.113.9 port 52114 ssh2\n';
    writeFileSync(big, line.repeat(20_000));
    const child = spawn(process.execPath, [SHIM, 'parse', '--profile', 'sshd', '--as-of', '2026-12-01', big], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const first = await new Promise<string>((resolve) =>
      child.stdout.once('data', (d: Buffer) => resolve(d.toString())),
    );
    child.stdout.destroy(); // the reader went away, as `head -1` does after its line
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(first).toContain('"user":"alice"');
    expect(code).toBe(0);
    expect(err).not.toMatch(/EPIPE|Error|at /);
  });

  it('--help on every command and help <command> print the same usage, within 80 columns', () => {
    const overview = authwatch(['--help']);
    expect(overview.code).toBe(0);
    const commands = [
      'parse',
      'query',
      'replay',
      'demo',
      'backfill',
      'allow',
      'benign',
      'show',
      'status',
      'explain',
      'help',
    ];
    for (const c of commands) expect(overview.out).toContain(`  ${c} `);
    for (const c of ['replay', 'allow', 'show']) {
      const a = authwatch([c, '--help']);
      const b = authwatch(['help', c]);
      expect(a.code).toBe(0);
      expect(a.out).toBe(b.out);
      expect(a.out).toMatch(new RegExp(`^usage: authwatch ${c}`));
      expect(a.out).toContain('--help');
      for (const l of a.out.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    }
    // -h wins over a mistake in the same line: a person asking for help gets it.
    expect(authwatch(['replay', '--profle', 'x', '-h']).code).toBe(0);
  });

  it("runs as `npx authwatch` in a clone (package.json bin), without the SDK's Node-version warning", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin.authwatch).toBe('bin/authwatch.js');
    const npx = spawnSync('npx', ['--offline', '--no-install', 'authwatch', 'help', 'query'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(npx.status, npx.stderr).toBe(0);
    expect(npx.stdout).toContain('usage: authwatch query --profile <id>');

    // A replay builds DynamoDB clients (on the embedded store): no "NodeVersionSupportWarning" on stderr.
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const r = spawnSync(
      process.execPath,
      [SHIM, 'replay', '--profile', 'sshd', '--as-of', '2026-11-03', '--input', SSHD_LOG, '--learning-days', '1'],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000, env },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('windows run:');
    expect(r.stderr).not.toMatch(/Warning|upgrade to node/);
  });
});

describe('hostile log content: reported and skipped, never the end of a run', () => {
  const stamp = (t: number) => new Date(t).toISOString().replace('Z', '+00:00');
  const sshdLine = (t: number, user: string, ip: string) =>
    `${stamp(t)} web-01 sshd[42]: Accepted password for ${user} from ${ip} port 5000 ssh2`;
  const T0 = Date.UTC(2026, 2, 2);
  /** Two days of three users at home (learning: one day), then a stranger on day three: one rare-user alert. */
  function office(stranger = 'mallory'): string[] {
    const lines: string[] = [];
    for (let d = 0; d < 2; d++)
      for (let h = 8; h < 18; h++)
        for (const [u, ip] of [
          ['alice', '81.2.69.10'],
          ['bob', '81.2.70.20'],
          ['carol', '81.2.71.30'],
        ] as const)
          lines.push(sshdLine(T0 + d * 86_400_000 + h * 3_600_000 + 60_000, u, ip));
    lines.push(sshdLine(T0 + 2 * 86_400_000 + 9 * 3_600_000, stranger, '203.0.113.66'));
    return lines;
  }
  const replayArgs = (input: string) => [
    'replay',
    '--profile',
    'sshd',
    '--input',
    input,
    '--learning-days',
    '1',
    '--as-of',
    '2026-03-05',
  ];
  const alertsOf = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { rule: { id: string }; user: { name: string } });
  /** `text` as a pattern that also matches it wrapped to the terminal (any space may have become a line break and an indent). */
  const wrapped = (text: string) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/ /g, '\\s+'));
  /** The replay's stated span: "replaying <from> → <to>: <n> windows". */
  const stated = (err: string) => /^replaying (\S+ \S+) → (\S+ \S+): ([\d,]+) windows/m.exec(err);

  it("a logon dated 2099 is reported with its line and skipped; the span is stated before the replay starts and is the file's", () => {
    const input = join(dir, 'future.log');
    const lines = office();
    writeFileSync(input, [...lines, sshdLine(Date.UTC(2099, 5, 1, 10), 'alice', '81.2.69.10')].join('\n') + '\n');
    const r = authwatch(replayArgs(input));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/\b1 dated in the future\b/);
    expect(r.err).toMatch(
      wrapped('skipped, dated more than 24 hours after the file was written (2026-03-05 00:00Z; --as-of sets it):\n'),
    );
    expect(r.err).toContain(`    line ${lines.length + 1}: logon of alice dated 2099-06-01 10:00Z\n`);
    const span = stated(r.err);
    expect(span?.slice(1, 3)).toEqual(['2026-03-02 08:01Z', '2026-03-04 09:00Z']);
    // Stated before the replay, and walked: the file's two days, not the 2.5 million windows to 2099.
    expect(r.err.indexOf(span![0])).toBeLessThan(r.err.indexOf('windows run:'));
    expect(r.err).toContain(`windows run:        ${span![3]} `);
    expect(Number(span![3])).toBeLessThan(300);
    expect(alertsOf(r.out).map((a) => a.user.name)).toEqual(['mallory']);
  });

  it('a logon a month away from the rest is left out of the span, and said so', () => {
    const input = join(dir, 'boot.log');
    const lines = office();
    // 200 logons, so the stray one is under 1% of them.
    for (let i = 0; i < 100; i++)
      lines.push(sshdLine(T0 + 86_400_000 + 20 * 3_600_000 + i * 1000, 'carol', '81.2.71.30'));
    writeFileSync(input, [sshdLine(Date.UTC(2026, 0, 1, 0, 0, 5), 'dave', '81.2.72.40'), ...lines].join('\n') + '\n');
    const r = authwatch(replayArgs(input));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/left out: 1 logon at 2026-01-01 00:00Z, 60 days before the rest/);
    expect(stated(r.err)?.[1]).toBe('2026-03-02 08:01Z');
    expect(r.err).toMatch(wrapped('1 far from the rest left out'));
  });

  it('a 10 MB user name does not end the replay: the name is cut and counted, the other alerts come out', () => {
    const input = join(dir, 'huge-name.log');
    const lines = office();
    lines.push(sshdLine(T0 + 2 * 86_400_000 + 10 * 3_600_000, 'A'.repeat(10 * 1024 * 1024), '203.0.113.67'));
    writeFileSync(input, lines.join('\n') + '\n');
    const r = authwatch(replayArgs(input));
    expect(r.code, r.err.slice(0, 2000)).toBe(0);
    expect(r.err).toMatch(/\b1 user names cut\b/);
    expect(r.err).toMatch(/\(5 users with successful logons\)/);
    expect(alertsOf(r.out).map((a) => a.user.name)).toEqual(['mallory']);
    // What the name became: 256 characters, the hash of the whole name at the end.
    const p = authwatch(['parse', '--profile', 'sshd', '--as-of', '2026-03-05', input]);
    const users = p.out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { user: string }).user);
    const cut = users.find((u) => u.length > 20);
    expect(cut).toMatch(/^a{200,}…#[0-9a-f]{16}$/);
    expect([...cut!]).toHaveLength(256);
    expect(p.err).toMatch(/, 1 user names cut\n.*longer than 256 characters are cut/);
  });

  it('two names differing only in a byte that is not UTF-8 stay two users (in parse and in replay)', () => {
    const input = join(dir, 'latin1.log');
    const base = office().join('\n') + '\n';
    const extra = [
      sshdLine(T0 + 2 * 86_400_000 + 10 * 3_600_000, 'j\xf6rg', '203.0.113.70'),
      sshdLine(T0 + 2 * 86_400_000 + 11 * 3_600_000, 'j\xe4rg', '203.0.113.71'),
    ];
    writeFileSync(input, Buffer.concat([Buffer.from(base), Buffer.from(extra.join('\n') + '\n', 'latin1')]));
    const p = authwatch(['parse', '--profile', 'sshd', '--as-of', '2026-03-05', input]);
    expect(p.code).toBe(0);
    const users = new Set(
      p.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { user: string }).user),
    );
    expect(users).toEqual(new Set(['alice', 'bob', 'carol', 'mallory', 'j\ufffdf6rg', 'j\ufffde4rg']));
    expect(p.err).toMatch(/, 2 with invalid UTF-8/);
    const r = authwatch(replayArgs(input));
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/\(6 users with successful logons\)/);
  });

  it('a lone CR inside a line leaves it one line, as CloudWatch Logs keeps it one event; CRLF lines read as lines', () => {
    const input = join(dir, 'cr.log');
    writeFileSync(
      input,
      `${sshdLine(T0, 'bob', '81.2.70.20')}\r: RSA SHA256:abc\r\n${sshdLine(T0 + 60_000, 'carol', '81.2.71.30')}\r\n`,
    );
    const r = authwatch(['parse', '--profile', 'sshd', '--as-of', '2026-03-05', input]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/^2 lines, 0 malformed, 2 logons$/m);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { user: string; host: string }).user),
    ).toEqual(['bob', 'carol']);
  });

  it('terminal escapes in a user name never reach the terminal, in parse or replay messages or output', () => {
    const evil = '\x1b]0;pwned\x07\x1b[31mroot\u009b2J';
    const input = join(dir, 'evil.log');
    writeFileSync(input, [...office(evil), sshdLine(Date.UTC(2099, 0, 1), evil, '203.0.113.69')].join('\n') + '\n');
    const p = authwatch(['parse', '--profile', 'sshd', '--as-of', '2026-03-05', input]);
    const r = authwatch(replayArgs(input));
    for (const x of [p, r]) {
      expect(x.code, x.err).toBe(0);
      // The future-dated logon's note names the user: inert.
      expect(x.err).toMatch(/logon of \?\]0;pwned\?\?\[31mroot\?2j dated 2099-01-01/);
      expect(controlChars(x.err)).toEqual([]);
      // Output is JSON: the same name, every control character escaped.
      expect(controlChars(x.out)).toEqual([]);
    }
    expect(p.out).toContain('"user":"\\u001b]0;pwned\\u0007\\u001b[31mroot\\u009b2j"');
    expect(alertsOf(r.out).map((a) => a.user.name)).toEqual(['\x1b]0;pwned\x07\x1b[31mroot\u009b2j']);
    expect(r.out).toContain('\\u001b]0;pwned\\u0007\\u001b[31mroot\\u009b2j');
  });
});
