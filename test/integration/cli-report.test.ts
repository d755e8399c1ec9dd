/**
 * `authwatch report` on the command line: from a replay kept in a local store (the embedded DynamoDB, read through
 * the OperatorStore's scans as a deployed table is), from an evaluation's JSON, and the mistakes it names.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/authwatch';
import { DAY_MS } from '../../shared/core/model';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    return { code: await fn(), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

const T0 = Date.UTC(2026, 2, 2);

/** Two days of alice and bob at home, then mallory (a name nobody had) on the third. */
function sshdLog(): string {
  const line = (t: number, user: string, ip: string) =>
    `${new Date(t).toISOString().replace('Z', '+00:00')} web-01 sshd[100]: Accepted publickey for ${user} from ${ip} port 22 ssh2`;
  const lines: string[] = [];
  for (let d = 0; d < 2; d++)
    for (let h = 8; h < 18; h++)
      for (const [u, ip] of [
        ['alice', '81.2.69.10'],
        ['bob', '81.2.70.20'],
      ] as const)
        lines.push(line(T0 + d * DAY_MS + h * 3_600_000 + 60_000, u, ip));
  lines.push(line(T0 + 2 * DAY_MS + 9 * 3_600_000, 'mallory', '8.8.8.8'));
  return `${lines.join('\n')}\n`;
}

/** The page's data block, parsed. */
function data(file: string): { alerts: { user: string }[]; users: { user: string }[]; summary: [string, string][] } {
  const page = readFileSync(file, 'utf8');
  return JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(page)![1]!);
}

describe('authwatch report', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-cli-report-'));
    writeFileSync(join(dir, 'auth.log'), sshdLog());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reports a kept local store's recent alerts and baselines, as it would the deployed table", async () => {
    const store = join(dir, 'store');
    const replay = await capture(() =>
      main([
        'replay',
        '--profile',
        'sshd',
        '--input',
        join(dir, 'auth.log'),
        '--learning-days',
        '1',
        '--as-of',
        '2026-03-05',
        '--store',
        store,
        '--keep',
      ]),
    );
    expect(replay.code, replay.err).toBe(0);
    const out = join(dir, 'store.html');
    const r = await capture(() => main(['report', '--store', store, '--days', '2', '--out', out]));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toContain(`Report: ${out}`);
    const d = data(out);
    expect(d.alerts.map((a) => a.user)).toEqual(['mallory']);
    expect(d.users.map((u) => u.user)).toEqual(['mallory']);
    expect(d.summary).toContainEqual(['users with a baseline', '3']);
  });

  it('reports an evaluation from its JSON, and names a file that is not one', async () => {
    const kr = { total: 1, detected: 1, recall: 1 };
    const summary = { recall: 1, incidents: 1, detected: 1, alerts: 2, falseAlerts: 1, expectedNovelty: 1, noise: 0 };
    const json = join(dir, 'eval.json');
    writeFileSync(
      json,
      JSON.stringify({
        authwatch: summary,
        naive: { ...summary, alerts: 30, falseAlerts: 29, noise: 28 },
        scenarios: [
          {
            seed: 1,
            shape: 'small-office',
            users: 58,
            authwatch: { recall: kr, alerts: 2, falseAlerts: { total: 1, expectedNovelty: 1, noise: 0 } },
            naive: { recall: kr, alerts: 30, falseAlerts: 29 },
          },
        ],
      }),
    );
    const out = join(dir, 'eval.html');
    const r = await capture(() => main(['report', '--eval', json, '--out', out]));
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('<td>small-office #1</td>');

    writeFileSync(json, '{"scenarios": []}');
    const bad = await capture(() => main(['report', '--eval', json, '--out', out]));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--eval .*eval\.json is not the JSON npm run eval writes: authwatch/);
  });

  it('says what to report on, and which options belong to which source', async () => {
    const cases: [string[], RegExp][] = [
      [['report'], /say what to report on/],
      [['report', '--eval', 'e.json', '--table', 't'], /--eval and --table are exclusive/],
      [['report', '--profile', 'sshd', '--table', 't'], /--profile applies to a replay/],
      [['report', '--eval', 'e.json', '--days', '3'], /--days applies to --table or --store alone/],
      [['report', '--table', 't', '--days', 'soon'], /--days: "soon" is not a positive number of days/],
      [['report', 'file.log'], /report takes its input as --input, --eval, --table or --store/],
    ];
    for (const [argv, message] of cases) {
      const r = await capture(() => main(argv));
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
  });
});
