import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSlice } from '../../../shared/core/detectors/state';
import { failuresThenSuccess } from '../../../shared/core/detectors/failures-then-success';
import {
  learnFailureMemory,
  MAX_PAIRS,
  MAX_SPRAYERS,
  failureMemorySchema,
  pairKey,
  type FailureMemory,
} from '../../../shared/core/detectors/failures-then-success/state';
import {
  DAY_MS,
  emptyPopulation,
  type LogonObservation,
  type NetworkOwner,
  type UserBaseline,
} from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { HOUR, History, logon, T0 } from '../../support/history';

const DAY = T0 + 20 * DAY_MS;
const WINDOW = { start: DAY + 10 * HOUR, end: DAY + 10 * HOUR + 30 * 60_000 };
const HOSTING: NetworkOwner = { asn: 64500, org: 'EXAMPLE-HOSTING', country: 'NL' };
const PEOPLE = Array.from({ length: 12 }, (_, i) => `p${i}`);
const home = (i: number) => `81.2.${i}.10`;
const baselines: Map<string, UserBaseline> = (() => {
  const h = new History();
  PEOPLE.forEach((u, i) => {
    h.daily(u, [home(i)], { toDay: 16 });
  });
  return h.users;
})();

const at = (min: number) => WINDOW.start + min * 60_000;
function fail(user: string, ip: string, count: number, t = at(2), owner?: NetworkOwner): LogonObservation {
  return logon(user, ip, t, { outcome: 'failure', count, lastSeen: t + 60_000, ...(owner ? { owner } : {}) });
}
function ok(user: string, ip: string, t = at(10), owner?: NetworkOwner): LogonObservation {
  return logon(user, ip, t, owner ? { owner } : {});
}

function judge(observations: LogonObservation[], memory?: FailureMemory, window = WINDOW) {
  return failuresThenSuccess.evaluateWindow({
    observations,
    baselines,
    allTargetsRead: true,
    population: memory ? { ...emptyPopulation(), detectorState: { bfs: memory } } : emptyPopulation(),
    window,
    settings: DEFAULT_SETTINGS,
  });
}

describe('Auth.FailuresThenSuccess', () => {
  it('raises a success after repeated failures from a network new to the user, rated high', () => {
    const [f, ...rest] = judge([
      fail('p1', '203.0.113.9', 7, at(2), HOSTING),
      ok('p1', '203.0.113.9', at(10), HOSTING),
    ]);
    expect(rest).toEqual([]);
    expect(f!.user).toBe('p1');
    expect(f!.score).toBeGreaterThanOrEqual(90);
    expect(f!.explanation).toBe(
      'p1 logged on from 203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL) after 7 failed logons for the account from it (7 in this window); the network is new to them and to everyone here (or a hosting provider’s). Probability 0.00069.',
    );
    expect(failuresThenSuccess.severity).toBe('high');
    expect(failuresThenSuccess.riskScore).toBe(73);
  });

  it('does not raise a user who mistypes twice, even from a new network', () => {
    expect(judge([fail('p1', '203.0.113.9', 2, at(2), HOSTING), ok('p1', '203.0.113.9', at(5), HOSTING)])).toEqual([]);
  });

  it('does not raise a mail client retrying a changed password from the user’s own home address, however long', () => {
    expect(judge([fail('p2', home(2), 400), ok('p2', home(2))])).toEqual([]);
    // From a known subnet neither.
    expect(judge([fail('p2', '81.2.2.77', 400), ok('p2', '81.2.2.77')])).toEqual([]);
  });

  it('ignores failures that came after the success', () => {
    expect(judge([fail('p1', '203.0.113.9', 9, at(20), HOSTING), ok('p1', '203.0.113.9', at(3), HOSTING)])).toEqual([]);
  });

  it('counts a source that was spraying, even without failures for the user', () => {
    const obs = [...PEOPLE.slice(2, 9).map((u) => fail(u, '198.51.100.7', 1)), ok('p0', '198.51.100.7')];
    const [f] = judge(obs);
    expect(f!.user).toBe('p0');
    expect(f!.score).toBe(94);
    expect(f!.explanation).toContain('without failing for the account first');
    expect(f!.explanation).toContain('The source was spraying: it failed as 7 real users here in this window.');
  });

  it('remembers failures of earlier windows for a day, and spraying sources for two', () => {
    const earlier = { start: WINDOW.start - 3 * HOUR, end: WINDOW.end - 3 * HOUR };
    const m = learnFailureMemory(
      undefined,
      [
        fail('p1', '203.0.113.9', 6, earlier.start + 60_000),
        ...PEOPLE.slice(3, 9).map((u) => fail(u, '198.51.100.7', 1, earlier.start)),
      ],
      baselines,
      earlier.end,
    )!;
    expect(m.p[pairKey('p1', '203.0.113.9')]).toMatchObject({ n: 6 });
    const [f] = judge([fail('p1', '203.0.113.9', 2), ok('p1', '203.0.113.9')], m);
    expect(f!.evidence).toMatchObject({ failures_before: 8, failures_in_window: 2, failures_earlier: 6 });
    const [g] = judge([ok('p0', '198.51.100.7')], m);
    expect(g!.explanation).toContain('in the past two days');
    // A day later the failures are forgotten.
    const later = { start: WINDOW.start + DAY_MS, end: WINDOW.end + DAY_MS };
    expect(judge([ok('p1', '203.0.113.9', later.start + 60_000)], m, later)).toEqual([]);
  });
});

describe('the failure memory', () => {
  const W1 = WINDOW.end;
  const W2 = WINDOW.end + 15 * 60_000;

  it('learns a window once, merges the overlapping half by maximum, adds what is new, and forgets a pair on success', () => {
    const m1 = learnFailureMemory(undefined, [fail('p1', '203.0.113.9', 3, W1 - 10 * 60_000)], baselines, W1)!;
    expect(learnFailureMemory(m1, [fail('p1', '203.0.113.9', 3, W1 - 10 * 60_000)], baselines, W1)).toBe(m1);
    // The next window still holds those three (they began before W1) and two more: five, not eight.
    const m2 = learnFailureMemory(m1, [fail('p1', '203.0.113.9', 5, W1 - 10 * 60_000)], baselines, W2)!;
    expect(m2.p[pairKey('p1', '203.0.113.9')]!.n).toBe(5);
    // Failures that began after the last learned window are added.
    const m3 = learnFailureMemory(m2, [fail('p1', '203.0.113.9', 4, W2 + 60_000)], baselines, W2 + 30 * 60_000)!;
    expect(m3.p[pairKey('p1', '203.0.113.9')]!.n).toBe(9);
    const m4 = learnFailureMemory(m3, [ok('p1', '203.0.113.9', W2 + 35 * 60_000)], baselines, W2 + 45 * 60_000)!;
    expect(m4.p[pairKey('p1', '203.0.113.9')]).toBeUndefined();
  });

  it('keeps no pair for names that are not users here, and a window that teaches nothing leaves the slice as it was', () => {
    expect(learnFailureMemory(undefined, [fail('root', '198.51.100.1', 50)], baselines, W1)).toBeUndefined();
    const m = learnFailureMemory(undefined, [fail('p1', '203.0.113.9', 3, W1 - 60_000)], baselines, W1)!;
    expect(learnFailureMemory(m, [fail('root', '198.51.100.1', 50), ok('p4', home(4))], baselines, W2)).toBe(m);
  });

  it('is bounded, about 18 KB at its bounds, and parses', () => {
    const many = new History();
    const names = Array.from({ length: MAX_PAIRS + 50 }, (_, i) => `user-${i}`);
    for (const n of names) many.apply([logon(n, '192.0.2.1', T0)]);
    const obs = names.map((n, i) =>
      fail(n, `2001:db8:ffff:ffff:ffff:ffff:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}`, 1000),
    );
    let m = learnFailureMemory(undefined, obs, many.users, W1)!;
    m = {
      ...m,
      s: Object.fromEntries(
        Array.from({ length: MAX_SPRAYERS + 5 }, (_, i) => [
          `2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16)}`,
          { u: 999, l: 1 },
        ]).slice(0, MAX_SPRAYERS),
      ),
    };
    expect(Object.keys(m.p)).toHaveLength(MAX_PAIRS);
    expect(failureMemorySchema.safeParse(m).success).toBe(true);
    const bytes = JSON.stringify({ v: 1, s: m }).length;
    expect(bytes).toBeLessThan(20_000);
  });
});

describe('the stored failure memory', () => {
  it('reads the slice version 1 wrote, and refuses one from a newer version', () => {
    const fixture = JSON.parse(
      readFileSync(
        new URL('../../fixtures/detectors/failures-then-success-population-v1.json', import.meta.url),
        'utf8',
      ),
    ) as unknown;
    const slice = failuresThenSuccess.state!.population!;
    const read = readSlice(slice, fixture);
    expect('state' in read && read.state.p[pairKey('alice', '198.51.100.20')]).toMatchObject({ n: 6 });
    expect('state' in read && read.state.s['203.0.113.9']).toMatchObject({ u: 6 });
    expect(readSlice(slice, { v: 2, s: {} })).toHaveProperty('defect');
  });
});
