/**
 * Failed logons per profile: on one shared sample per format (test/fixtures/failures/), the line parser (with the
 * local aggregation) and the profile's Logs Insights query text (run by the emulator in test/support) must both
 * count exactly the failed and successful attempts listed in expected.json: the rule in README "What counts as
 * one failed logon".
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import type { LogonEvent, LogonObservation } from '../../../shared/core/model';
import { getProfile, PROFILE_IDS, type ProfileId } from '../../../shared/core/profiles';
import { runInsightsQuery } from '../../support/insights-emulator';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'failures');
const FILES: Readonly<Record<ProfileId, string>> = {
  sshd: 'sshd.log',
  cloudtrail: 'cloudtrail.jsonl',
  ecs: 'ecs.jsonl',
  windows: 'windows.jsonl',
  okta: 'okta.jsonl',
  auditd: 'auditd.log',
  'cisco-asa': 'cisco-asa.log',
  'identity-center': 'identity-center.jsonl',
  entra: 'entra.jsonl',
  'google-workspace': 'google-workspace.jsonl',
};
type Tally = Record<string, number>;
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  { failures: Tally; successes: Tally }
>;
const WINDOW = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 10, 3) };
/** The time CloudWatch Logs gives a log event the parser does not read (only logons are aggregated anyway). */
const INGESTED = Date.UTC(2026, 10, 2, 12);

function tally(observations: readonly LogonObservation[], outcome: 'success' | 'failure'): Tally {
  const out: Tally = {};
  for (const o of observations)
    if (o.outcome === outcome) out[`${o.user} ${o.sourceIp}`] = (out[`${o.user} ${o.sourceIp}`] ?? 0) + o.count;
  return out;
}

describe.each(PROFILE_IDS)('%s: failed logons in the shared sample', (id) => {
  const profile = getProfile(id, { year: 2026 });
  const file = FILES[id];
  const lines = readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');
  const parsed = lines.map((line) => ({ line, result: profile.parseLine(line) }));
  const want = EXPECTED[file]!;

  it('the sample holds lines that count and lines that must not', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(Object.values(FILES).sort());
    expect(parsed.some((p) => p.result.kind === 'skip')).toBe(true);
    expect(Object.keys(want.failures).length).toBeGreaterThan(0);
    expect(parsed.every((p) => p.result.kind !== 'malformed')).toBe(true);
  });

  it('the line parser, aggregated locally, counts exactly the documented failures and successes', () => {
    const events = parsed.flatMap((p) => (p.result.kind === 'event' ? [p.result.event] : []));
    const observations = aggregateEvents(events, WINDOW);
    expect(tally(observations, 'failure')).toEqual(want.failures);
    expect(tally(observations, 'success')).toEqual(want.successes);
  });

  it('the Logs Insights query text counts the same, row by row through mapRow', () => {
    const events = parsed.map((p) => ({
      message: p.line,
      timestamp: p.result.kind === 'event' ? p.result.event.timestamp : INGESTED,
    }));
    const rows = runInsightsQuery(profile.query, events);
    const mapped = rows.map((row) => profile.mapRow(row));
    expect(mapped.filter((m) => m.kind === 'malformed')).toEqual([]);
    const observations = mergeObservations(mapped.flatMap((m) => (m.kind === 'observation' ? [m.observation] : [])));
    expect(tally(observations, 'failure')).toEqual(want.failures);
    expect(tally(observations, 'success')).toEqual(want.successes);
  });
});

describe('aggregateEvents', () => {
  const base: LogonEvent = {
    timestamp: Date.UTC(2026, 10, 2, 8),
    user: 'root',
    sourceIp: '192.0.2.201',
    outcome: 'failure',
    logSource: 'sshd',
  };

  it('sums the attempts a line stands for, one for a line without a count', () => {
    const [o] = aggregateEvents([base, { ...base, timestamp: base.timestamp + 8_000, count: 5 }], WINDOW);
    expect(o).toMatchObject({ count: 6, firstSeen: base.timestamp, lastSeen: base.timestamp + 8_000 });
  });

  it('leaves a repeat line outside the window out, with all the attempts it stands for', () => {
    const out = aggregateEvents([base, { ...base, timestamp: WINDOW.end, count: 5 }], WINDOW);
    expect(out.map((o) => o.count)).toEqual([1]);
  });
});

describe('the Insights emulator used above', () => {
  it('refuses what it does not emulate, so a query beyond it cannot pass untested', () => {
    const ev = [{ message: '{"a":1}', timestamp: WINDOW.start }];
    expect(() => runInsightsQuery('fields a\n| sort a desc', ev)).toThrow(/not emulated/);
    expect(() => runInsightsQuery('filter strlen(a) = 1\n| stats count(*) as logons', ev)).toThrow(/unsupported/);
    expect(() => runInsightsQuery('fields a', ev)).toThrow(/must end in stats/);
  });

  it('treats a comparison with an absent field as false, `!=` included', () => {
    const ev = [
      { message: '{"user":"a","ip":"192.0.2.1","outcome":"success","x":"Invalid"}', timestamp: WINDOW.start },
      { message: '{"user":"b","ip":"192.0.2.1","outcome":"success"}', timestamp: WINDOW.start },
    ];
    const stats = 'stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user';
    expect(runInsightsQuery(`filter x != "Valid"\n| ${stats}`, ev).map((r) => r.user)).toEqual(['a']);
    expect(runInsightsQuery(`filter not ispresent(x) or x != "Invalid"\n| ${stats}`, ev).map((r) => r.user)).toEqual([
      'b',
    ]);
  });
});
