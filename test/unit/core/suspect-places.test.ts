/**
 * Alerted places are not learned (core/baseline-update.ts): an address an alert of the window named becomes a
 * suspect place of its user, counted but not learned as theirs nor as shared, until it is answered
 * (`markPlacesKnown`, what `authwatch benign` runs) or `suspectDays` pass (`settleSuspects`).
 */
import { describe, expect, it } from 'vitest';
import {
  computeBaselineUpdate,
  markPlacesKnown,
  settleAllSuspects,
  settleSuspects,
} from '../../../shared/core/baseline-update';
import { MAX_SUSPECT_PER_USER, type AlertedPlace } from '../../../shared/core/suspect';
import {
  BUCKET_MS,
  DAY_MS,
  type LogonObservation,
  type NetworkOwner,
  type PopulationStats,
  type UserBaseline,
} from '../../../shared/core/model';
import { sharedUsers } from '../../../shared/core/population';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, logon, T0 } from '../../support/history';

const settings = DEFAULT_SETTINGS;
const ATTACKER = '203.0.113.9';
const HOSTING: NetworkOwner = { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' };
/** Day 22, 10:05: the attacker's first logon, after three weeks of alice at home. */
const AT = T0 + 22 * DAY_MS + 10 * HOUR + 5 * 60_000;

function history(): History {
  return new History().daily('alice', ['81.2.69.142'], { toDay: 22 }).daily('bob', ['81.2.70.7'], { toDay: 22 });
}

function alerted(user: string, ip: string, at: number, overrides: Partial<AlertedPlace> = {}): AlertedPlace {
  return {
    user,
    sourceIp: ip,
    alertId: `unusualsourceip-${user}`,
    detectorId: 'Auth.UnusualSourceIp',
    at,
    ...overrides,
  };
}

/** One window ending at the next bucket boundary after the latest logon, as the schedule runs it. */
function learn(
  obs: LogonObservation[],
  users: ReadonlyMap<string, UserBaseline>,
  population: PopulationStats,
  suspects: AlertedPlace[] = [],
  s = settings,
) {
  const end = Math.ceil((Math.max(...obs.map((o) => o.lastSeen)) + 1) / BUCKET_MS) * BUCKET_MS;
  return computeBaselineUpdate(obs, users, population, { windowEnd: end, learning: false, settings: s, suspects });
}

/** The map with the update's users written (as the store would, version bumped). */
function saved(users: ReadonlyMap<string, UserBaseline>, update: { users: UserBaseline[] }): Map<string, UserBaseline> {
  const out = new Map(users);
  for (const b of update.users) out.set(b.user, { ...b, version: b.version + 1 });
  return out;
}

describe('an alerted place', () => {
  it('becomes a suspect place: not learned as the user’s place, owner or country, nor shared; the activity counts', () => {
    const h = history();
    const o = logon('alice', ATTACKER, AT, { owner: HOSTING, count: 3, lastSeen: AT + 60_000 });
    const u = learn([o], h.users, h.population, [alerted('alice', ATTACKER, AT, { owner: HOSTING })]);
    const b = u.users.find((x) => x.user === 'alice')!;

    expect(b.suspect).toEqual({
      [ATTACKER]: {
        alertId: 'unusualsourceip-alice',
        detectorId: 'Auth.UnusualSourceIp',
        ip: ATTACKER,
        since: AT,
        last: AT + 60_000,
        logons: 0,
        owner: HOSTING,
      },
    });
    expect(b.ips[ATTACKER]).toBeUndefined();
    expect(b.prefixes['203.0.113.0/24']).toBeUndefined();
    expect(b.networks['203.0.0.0/16']).toBeUndefined();
    expect(b.owners).toBeUndefined();
    expect(b.countries).toBeUndefined();
    expect(b.hostingActivity).toBeUndefined();
    // The account did log on: its activity counts as it would have, but not as a period with a new place.
    const plain = learn([o], h.users, h.population);
    const p = plain.users.find((x) => x.user === 'alice')!;
    expect(b.activity).toEqual(p.activity);
    expect(b.novelty.periods).toBe(p.novelty.periods);
    expect(b.novelty.network).toBeLessThan(p.novelty.network);
    // Nor anyone else's: no share in the sketches, no new network in the organisation's rates.
    expect(u.population.sharedIps[ATTACKER]).toBeUndefined();
    expect(u.population.sharedPrefixes['203.0.113.0/24']).toBeUndefined();
    expect(u.population.sharedNetworks?.AS64498).toBeUndefined();
    expect(u.population.sharedCountries?.US).toBeUndefined();
    expect(u.population.placeNovelty!.periods).toBe(plain.population.placeNovelty!.periods);
    expect(u.population.placeNovelty!.network).toBeLessThan(plain.population.placeNovelty!.network);
    expect(u.population.userBuckets).toBe(plain.population.userBuckets);
  });

  it('without the alert, the same logon is learned as before (the negative)', () => {
    const h = history();
    const u = learn([logon('alice', ATTACKER, AT, { owner: HOSTING })], h.users, h.population);
    const b = u.users.find((x) => x.user === 'alice')!;
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips[ATTACKER]).toBeDefined();
    expect(b.owners?.AS64498).toBeDefined();
    expect(sharedUsers(u.population.sharedIps, ATTACKER)).toBe(1);
  });

  it('leaves the user’s other places of the same window learned as usual', () => {
    const h = history();
    const home = logon('alice', '81.2.69.142', AT + 2 * 60_000);
    const u = learn([logon('alice', ATTACKER, AT), home], h.users, h.population, [alerted('alice', ATTACKER, AT)]);
    const b = u.users.find((x) => x.user === 'alice')!;
    expect(b.ips['81.2.69.142']!.last).toBe(AT + 2 * 60_000);
    expect(Object.keys(b.suspect!)).toEqual([ATTACKER]);
  });

  it('is not made suspect when it is already a known address of the user (an alert cannot unteach it)', () => {
    const h = history();
    const u = learn([logon('alice', '81.2.69.142', AT)], h.users, h.population, [alerted('alice', '81.2.69.142', AT)]);
    const b = u.users.find((x) => x.user === 'alice')!;
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips['81.2.69.142']!.last).toBe(AT);
  });

  it('keeps one entry per address when two alerts name it: the smallest id, whatever their order', () => {
    const h = history();
    const two = [
      alerted('alice', ATTACKER, AT, { alertId: 'unusualsourceip-b' }),
      alerted('alice', ATTACKER, AT, { alertId: 'impossibletravel-a', detectorId: 'Auth.ImpossibleTravel' }),
    ];
    for (const order of [two, [...two].reverse()]) {
      const u = learn([logon('alice', ATTACKER, AT)], h.users, h.population, order);
      expect(u.users[0]!.suspect![ATTACKER]).toMatchObject({
        alertId: 'impossibletravel-a',
        detectorId: 'Auth.ImpossibleTravel',
      });
    }
  });
});

describe('a suspect place in later windows', () => {
  /** alice after the attacker's first window, as stored. */
  function afterAlert() {
    const h = history();
    const first = learn([logon('alice', ATTACKER, AT)], h.users, h.population, [alerted('alice', ATTACKER, AT)]);
    return { users: saved(h.users, first), population: first.population };
  }

  it('is still not learned nor shared, and counts the logons after the alert’s own', () => {
    const { users, population } = afterAlert();
    // The next window overlaps: the alert's logon again, and two new ones.
    const again = logon('alice', ATTACKER, AT, { count: 3, lastSeen: AT + 20 * 60_000 });
    const u = learn([again], users, population);
    const b = u.users.find((x) => x.user === 'alice')!;
    expect(b.ips[ATTACKER]).toBeUndefined();
    expect(u.population.sharedIps[ATTACKER]).toBeUndefined();
    // Straddling the last counted logon: at least one more (which of the three are new is not known).
    expect(b.suspect![ATTACKER]).toMatchObject({ alertId: 'unusualsourceip-alice', last: AT + 20 * 60_000, logons: 1 });

    const later = logon('alice', ATTACKER, AT + HOUR, { count: 4, lastSeen: AT + HOUR + 60_000 });
    const v = learn([later], saved(users, u), u.population);
    expect(v.users[0]!.suspect![ATTACKER]).toMatchObject({ last: AT + HOUR + 60_000, logons: 5 });
  });

  it('takes an IPv6 address’s /64 as the place: the device’s next privacy address is counted, not learned', () => {
    const h = history();
    const first = learn([logon('alice', '2001:db8:7:1:aaaa::1', AT)], h.users, h.population, [
      alerted('alice', '2001:db8:7:1:aaaa::1', AT),
    ]);
    const users = saved(h.users, first);
    expect(Object.keys(users.get('alice')!.suspect!)).toEqual(['2001:db8:7:1::/64']);
    const next = learn([logon('alice', '2001:db8:7:1:bbbb::2', AT + DAY_MS)], users, first.population);
    const b = next.users[0]!;
    expect(b.ips['2001:db8:7:1:bbbb::2']).toBeUndefined();
    expect(b.prefixes['2001:db8:7::/48']).toBeUndefined();
    expect(b.suspect!['2001:db8:7:1::/64']).toMatchObject({ ip: '2001:db8:7:1:bbbb::2', logons: 1 });
    expect(next.population.sharedIps['2001:db8:7:1::/64']).toBeUndefined();
    // Answered with the alert's address: the place, as its latest address, is released.
    const answered = markPlacesKnown(b, '2001:db8:7:1:aaaa::1', AT + DAY_MS);
    expect(answered).not.toHaveProperty('suspect');
    expect(answered.prefixes['2001:db8:7::/48']).toBeDefined();
  });

  it('is idempotent: the same window applied twice leaves the baseline and the population equal', () => {
    const { users, population } = afterAlert();
    const obs = [logon('alice', ATTACKER, AT + HOUR, { count: 2, lastSeen: AT + HOUR + 60_000 })];
    const once = learn(obs, users, population);
    const onceUsers = saved(users, once);
    const twice = learn(obs, onceUsers, once.population);
    expect(twice.users).toEqual([]);
    expect(twice.populationChanged).toBe(false);
    // And the alert's own window re-applied (a retry, the overlap) changes nothing either.
    const retry = learn([logon('alice', ATTACKER, AT)], users, population, [alerted('alice', ATTACKER, AT)]);
    expect(retry.users).toEqual([]);
  });

  it('is learned like any place once suspectDays have passed, and shared from then on', () => {
    const { users, population } = afterAlert();
    const s = { ...settings, suspectDays: 2 };
    // One day on: still suspect.
    const dayAfter = learn([logon('alice', ATTACKER, AT + DAY_MS)], users, population, [], s);
    expect(dayAfter.users[0]!.ips[ATTACKER]).toBeUndefined();
    // Two days after the alert's logon: learned, no longer suspect, counted as the organisation's.
    const expired = learn(
      [logon('alice', ATTACKER, AT + 2 * DAY_MS)],
      saved(users, dayAfter),
      dayAfter.population,
      [],
      s,
    );
    const b = expired.users[0]!;
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips[ATTACKER]!.last).toBe(AT + 2 * DAY_MS);
    expect(b.networks['203.0.0.0/16']).toBeDefined();
    expect(sharedUsers(expired.population.sharedIps, ATTACKER)).toBe(1);
  });

  it('settles an expired entry even when the user logs on from elsewhere (saved with that window)', () => {
    const { users, population } = afterAlert();
    const u = learn([logon('alice', '81.2.69.142', AT + 8 * DAY_MS)], users, population);
    const b = u.users[0]!;
    expect(b).not.toHaveProperty('suspect');
    // Learned at its last logon: the place is the user's, as if they had used it then.
    expect(b.ips[ATTACKER]!.last).toBe(AT);
    expect(u.population.sharedIps[ATTACKER]).toBeUndefined();
  });
});

describe('settleSuspects', () => {
  const entry = (ip: string, since: number, owner?: NetworkOwner) => ({
    alertId: 'x',
    detectorId: 'Auth.UnusualSourceIp',
    ip,
    since,
    last: since + 60_000,
    logons: 2,
    ...(owner ? { owner } : {}),
  });

  it('returns the baseline itself while nothing expired, and learns the expired with their owner and country', () => {
    const alice = history().get('alice');
    const b: UserBaseline = {
      ...alice,
      suspect: { [ATTACKER]: entry(ATTACKER, AT, HOSTING), '198.51.100.4': entry('198.51.100.4', AT + DAY_MS) },
    };
    expect(settleSuspects(b, AT + 7 * DAY_MS - 1, settings)).toBe(b);
    const settled = settleSuspects(b, AT + 7 * DAY_MS, settings);
    expect(Object.keys(settled.suspect!)).toEqual(['198.51.100.4']);
    expect(settled.ips[ATTACKER]!.last).toBe(AT + 60_000);
    expect(settled.prefixes['203.0.113.0/24']).toBeDefined();
    expect(settled.owners?.AS64498).toBeDefined();
    expect(settled.countries?.US).toBeDefined();
    const all = settleSuspects(b, AT + 8 * DAY_MS, settings);
    expect(all).not.toHaveProperty('suspect');
    expect(all.ips['198.51.100.4']).toBeDefined();
  });

  it('over a run’s baselines: the same map when none expired', () => {
    const alice = history().get('alice');
    const m = new Map([['alice', { ...alice, suspect: { [ATTACKER]: entry(ATTACKER, AT) } }]]);
    expect(settleAllSuspects(m, AT + DAY_MS, settings)).toBe(m);
    expect(settleAllSuspects(m, AT + 7 * DAY_MS, settings).get('alice')!.ips[ATTACKER]).toBeDefined();
  });
});

describe('markPlacesKnown (benign)', () => {
  it('releases the suspect place and learns it, with the owner and country the windows did not learn', () => {
    const h = history();
    const first = learn([logon('alice', ATTACKER, AT, { owner: HOSTING })], h.users, h.population, [
      alerted('alice', ATTACKER, AT, { owner: HOSTING }),
    ]);
    const b = markPlacesKnown(first.users[0]!, ATTACKER, AT + HOUR);
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips[ATTACKER]!.last).toBe(AT + HOUR);
    expect(b.owners?.AS64498?.last).toBe(AT + HOUR);
    expect(b.countries?.US).toBeDefined();
  });

  it('keeps the other suspect places', () => {
    const h = history();
    const first = learn([logon('alice', ATTACKER, AT), logon('alice', '198.51.100.4', AT)], h.users, h.population, [
      alerted('alice', ATTACKER, AT),
      alerted('alice', '198.51.100.4', AT, { alertId: 'other' }),
    ]);
    const b = markPlacesKnown(first.users[0]!, ATTACKER, AT + HOUR);
    expect(Object.keys(b.suspect!)).toEqual(['198.51.100.4']);
  });
});

describe('the bound', () => {
  it(`keeps at most ${MAX_SUSPECT_PER_USER} suspect places per user, the oldest giving way (never learned for it)`, () => {
    const h = history();
    let users: ReadonlyMap<string, UserBaseline> = h.users;
    let population = h.population;
    for (let i = 0; i <= MAX_SUSPECT_PER_USER; i++) {
      const t = AT + i * HOUR;
      const ip = `198.51.100.${i + 1}`;
      const u = learn([logon('alice', ip, t)], users, population, [alerted('alice', ip, t, { alertId: `a${i}` })]);
      users = saved(users, u);
      population = u.population;
    }
    const b = users.get('alice')!;
    expect(Object.keys(b.suspect!)).toHaveLength(MAX_SUSPECT_PER_USER);
    expect(b.suspect!['198.51.100.1']).toBeUndefined();
    expect(b.ips['198.51.100.1']).toBeUndefined();
    expect(b.suspect!['198.51.100.9']!.alertId).toBe(`a${MAX_SUSPECT_PER_USER}`);
  });
});
