import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSlice } from '../../../shared/core/detectors/state';
import { passwordSpray } from '../../../shared/core/detectors/password-spray';
import { priorTail, tailProbability, usualText } from '../../../shared/core/detectors/password-spray/judge';
import {
  BIN_EDGES,
  emptySprayState,
  learnSpray,
  MAX_HASHES,
  MAX_SOURCES,
  spraySchema,
  type SprayState,
} from '../../../shared/core/detectors/password-spray/state';
import { userHash } from '../../../shared/core/failures';
import {
  bucketOf,
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

/** Forty people, each at home on their own address. */
const PEOPLE = Array.from({ length: 40 }, (_, i) => `p${i}`);
const home = (i: number) => `81.2.${i}.10`;
const baselines: Map<string, UserBaseline> = (() => {
  const h = new History();
  PEOPLE.forEach((u, i) => {
    h.daily(u, [home(i)], { toDay: 16 });
  });
  return h.users;
})();

function fail(user: string, ip: string, t = WINDOW.start + 60_000, owner?: NetworkOwner): LogonObservation {
  return logon(user, ip, t, { outcome: 'failure', count: 2, ...(owner ? { owner } : {}) });
}

function judge(observations: LogonObservation[], state?: SprayState, window = WINDOW) {
  const population = state ? { ...emptyPopulation(), detectorState: { spray: state } } : emptyPopulation();
  return passwordSpray.evaluateWindow({
    observations,
    baselines,
    allTargetsRead: true,
    population,
    window,
    settings: DEFAULT_SETTINGS,
  });
}

/** A slice that learned `windows` failing sources of one real user each (an organisation's ordinary failures). */
function ordinary(windows = 500): SprayState {
  const h = BIN_EDGES.map((_, i) => (i === 0 ? windows : i === 1 ? windows / 50 : 0));
  return { ...emptySprayState(), h, at: bucketOf(WINDOW.start), we: WINDOW.start - DAY_MS };
}

describe('Auth.PasswordSpray', () => {
  it('raises one finding about a source failing as many real users new to it, listing them', () => {
    const obs = [
      ...PEOPLE.slice(0, 30).map((u) => fail(u, '203.0.113.9', undefined, HOSTING)),
      ...['root', 'admin'].map((u) => fail(u, '203.0.113.9', undefined, HOSTING)),
      logon('p0', '203.0.113.9', WINDOW.start + 20 * 60_000, { owner: HOSTING }),
    ];
    const [f, ...rest] = judge(obs, ordinary());
    expect(rest).toEqual([]);
    expect(f!.user).toBe('');
    expect(f!.sourceKey).toBe('203.0.113.9');
    expect(f!.outcome).toBe('success');
    expect(f!.users!.slice(0, 1)).toEqual([{ name: 'p0', failures: 2, successes: 1, known: true }]);
    expect(f!.users!.filter((u) => !u.known).map((u) => u.name)).toEqual(['admin', 'root']);
    expect(f!.score).toBeGreaterThanOrEqual(95);
    expect(f!.explanation).toBe(
      "203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL) failed to log on as 32 different users in 30 minutes, 30 of them real users here (30 for whom it is not a usual place); the organisation's failing sources usually try 1 (at most 2 in the past weeks). 1 of the users then logged on from it: p0. Probability 0.000042.",
    );
  });

  it('does not alert on background scanning for names that are not users here, however many addresses do it', () => {
    const obs: LogonObservation[] = [];
    for (let a = 0; a < 200; a++)
      for (const u of ['root', 'admin', 'oracle', 'test', 'ubuntu', 'git', 'postgres'])
        obs.push(fail(u, `198.51.100.${a}`));
    expect(judge(obs, ordinary())).toEqual([]);
  });

  it('does not alert on many people mistyping from their own shared address (an office NAT they all use)', () => {
    const h = new History();
    PEOPLE.forEach((u) => {
      h.daily(u, ['192.0.2.1'], { toDay: 16 });
    });
    const obs = PEOPLE.slice(0, 20).map((u) => fail(u, '192.0.2.1'));
    const found = passwordSpray.evaluateWindow({
      observations: obs,
      baselines: h.users,
      allTargetsRead: true,
      population: emptyPopulation(),
      window: WINDOW,
      settings: DEFAULT_SETTINGS,
    });
    expect(found).toEqual([]);
  });

  it('judges against what the organisation learned: five real users alert where failing sources try one, not on the prior alone', () => {
    const five = PEOPLE.slice(0, 5).map((u) => fail(u, '203.0.113.9'));
    expect(judge(five)).toEqual([]);
    const [f] = judge(five, ordinary());
    expect(f!.score).toBeGreaterThanOrEqual(75);
    // Fewer than five is never a spray, however quiet the organisation.
    expect(
      judge(
        PEOPLE.slice(0, 4).map((u) => fail(u, '203.0.113.9')),
        ordinary(5000),
      ),
    ).toEqual([]);
  });

  it('judges a spray spread over a network owner’s addresses as the owner', () => {
    const obs = PEOPLE.slice(0, 24).map((u, i) => fail(u, `203.0.113.${10 + (i % 6)}`, undefined, HOSTING));
    const found = judge(obs, ordinary());
    expect(found.map((f) => f.sourceKey)).toEqual(['AS64500']);
    expect(found[0]!.explanation).toContain(
      '6 addresses of AS64500 EXAMPLE-HOSTING, NL failed to log on as 24 different users',
    );
  });

  it('remembers a slow spray across windows and raises it once it has tried enough real users', () => {
    let state: SprayState | undefined;
    let raised: number | undefined;
    for (let w = 0; w < 12; w++) {
      const window = { start: WINDOW.start + w * HOUR, end: WINDOW.end + w * HOUR };
      const obs = PEOPLE.slice(w * 2, w * 2 + 2).map((u) => fail(u, '203.0.113.9', window.start + 60_000));
      const found = judge(obs, state ?? ordinary(), window);
      if (found.length > 0 && raised === undefined) raised = w;
      state = passwordSpray.state!.population!.learn(state ?? ordinary(), {
        windowEnd: window.end,
        windowStart: window.start,
        learning: false,
        settings: DEFAULT_SETTINGS,
        users: [],
        observations: obs,
        baselines,
      }) as SprayState;
    }
    // Ten real users (the memory's minimum) were reached in the fifth window.
    expect(raised).toBe(4);
    expect(state!.s['203.0.113.9']!.k).toHaveLength(24);
    expect(state!.s['203.0.113.9']!.r).toBe(Math.floor(WINDOW.start / DAY_MS));
  });

  it('does not raise a remembered spray again on a later day unless it has doubled', () => {
    const b = bucketOf(WINDOW.start);
    const hashes = PEOPLE.slice(0, 12).map(userHash);
    const reported: SprayState = {
      ...ordinary(),
      s: {
        '203.0.113.9': {
          k: hashes,
          n: 12,
          f: b - 90,
          l: b - 1,
          w: 20,
          r: Math.floor(WINDOW.start / DAY_MS) - 1,
          rk: 12,
        },
      },
    };
    expect(judge([fail('p12', '203.0.113.9'), fail('p13', '203.0.113.9')], reported)).toEqual([]);
    const more = PEOPLE.slice(12, 24).map((u) => fail(u, '203.0.113.9'));
    expect(judge(more, reported)).toHaveLength(1);
  });
});

describe('the spray slice', () => {
  const lesson = (key: string, users: string[], t = WINDOW.start) => ({
    key,
    hashes: users.map(userHash),
    names: users.length,
    firstSeen: t,
    lastSeen: t,
    reported: false,
    inHistogram: true,
  });

  it('learns a window once: a retried or replayed window changes nothing, an overlapping one adds no user twice', () => {
    const once = learnSpray(undefined, [lesson('203.0.113.9', ['a', 'b'])], WINDOW.end)!;
    expect(once.h[1]).toBe(1);
    expect(learnSpray(once, [lesson('203.0.113.9', ['a', 'b'])], WINDOW.end)).toEqual(once);
    const next = learnSpray(once, [lesson('203.0.113.9', ['b', 'c'])], WINDOW.end + 15 * 60_000)!;
    expect(next.s['203.0.113.9']!.k).toHaveLength(3);
    expect(next.s['203.0.113.9']!.w).toBe(2);
  });

  it('is not rewritten by a window of background scanning (no real user tried)', () => {
    const once = learnSpray(undefined, [lesson('203.0.113.9', ['a', 'b'])], WINDOW.end)!;
    const scan = { ...lesson('198.51.100.1', []), names: 7 };
    expect(learnSpray(once, [scan], WINDOW.end + 15 * 60_000)).toBe(once);
    expect(learnSpray(undefined, [scan], WINDOW.end)).toBeUndefined();
  });

  it('forgets a source after two days, and keeps the sources with the most users when full', () => {
    const s = learnSpray(undefined, [lesson('198.51.100.1', ['a'])], WINDOW.end)!;
    expect(learnSpray(s, [], WINDOW.end + 3 * DAY_MS)!.s).toEqual({});
    let full: SprayState | undefined;
    for (let i = 0; i < MAX_SOURCES; i++)
      full = learnSpray(full, [lesson(`198.51.100.${i}`, ['a', 'b'])], WINDOW.end + i);
    const small = learnSpray(full, [lesson('203.0.113.1', ['x'])], WINDOW.end + 100)!;
    expect(small.s['203.0.113.1']).toBeUndefined();
    const big = learnSpray(full, [lesson('203.0.113.2', ['x', 'y', 'z'])], WINDOW.end + 100)!;
    expect(Object.keys(big.s)).toHaveLength(MAX_SOURCES);
    expect(big.s['203.0.113.2']).toBeDefined();
  });

  it('stays about 22 KB of the population item at its bounds, and parses', () => {
    const users = Array.from({ length: MAX_HASHES + 10 }, (_, i) => `user-${i}`);
    let st: SprayState | undefined;
    for (let i = 0; i < MAX_SOURCES; i++)
      st = learnSpray(
        st,
        [lesson(`2001:db8:ffff:ffff:ffff:ffff:ffff:${(0x1000 + i).toString(16)}`, users)],
        WINDOW.end + i * 60_000,
      );
    st = {
      ...st!,
      s: Object.fromEntries(Object.entries(st!.s).map(([k, e]) => [k, { ...e, r: 20_000, rk: MAX_HASHES }])),
    };
    expect(Object.keys(st.s)).toHaveLength(MAX_SOURCES);
    expect(spraySchema.safeParse(st).success).toBe(true);
    const bytes = JSON.stringify({ v: 1, s: st }).length;
    expect(bytes).toBeLessThan(24_000);
    expect(bytes).toBeGreaterThan(15_000);
  });
});

describe('the stored spray slice', () => {
  it('reads the slice version 1 wrote, and refuses one from a newer version', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../fixtures/detectors/password-spray-population-v1.json', import.meta.url), 'utf8'),
    ) as unknown;
    const slice = passwordSpray.state!.population!;
    const read = readSlice(slice, fixture);
    expect('state' in read && Object.keys(read.state.s)).toEqual(['192.0.2.44', '198.51.100.20', '203.0.113.9']);
    expect('state' in read && read.state.s['203.0.113.9']).toMatchObject({ r: 20_530, rk: 6 });
    expect('state' in read && read.state.h.slice(0, 3)).toEqual([1, 1, 0]);
    expect(readSlice(slice, { v: 2, s: {} })).toEqual({
      defect: 'version 2 was written by a newer authwatch (this one reads up to 1)',
    });
    expect(readSlice(slice, { v: 1, s: { h: [] } })).toHaveProperty('defect');
  });
});

describe('the spray model', () => {
  it('is the prior on an empty histogram and the organisation’s own once it has learned', () => {
    const empty = BIN_EDGES.map(() => 0);
    expect(tailProbability(10, empty)).toBeCloseTo(priorTail(10));
    const quiet = BIN_EDGES.map((_, i) => (i === 0 ? 1000 : 0));
    expect(tailProbability(5, quiet)).toBeLessThan(0.001);
    const busy = BIN_EDGES.map((_, i) => (i <= 4 ? 200 : 0));
    expect(tailProbability(5, busy)).toBeGreaterThan(0.1);
    expect(usualText(quiet)).toEqual({ usual: '1', most: '1' });
    expect(usualText(busy)).toEqual({ usual: '3', most: '5–7' });
    expect(usualText(empty)).toBeUndefined();
  });
});
