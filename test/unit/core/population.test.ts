import { describe, expect, it } from 'vitest';
import { computeBaselineUpdate } from '../../../shared/core/baseline-update';
import { busiestAddressIn } from '../../../shared/core/detectors/unusual-source-ip';
import { bucketOf, emptyPopulation, type PopulationNovelty, type SketchCounter } from '../../../shared/core/model';
import { sharedAddressKey } from '../../../shared/core/net';
import {
  addBucketToPool,
  decayPopulationTo,
  POOL_NOVELTY_CAP,
  POOL_BUCKETS_CAP,
  sharedUsers,
  sketchAdd,
  sketchAddInPlace,
  userShareTopUp,
} from '../../../shared/core/population';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, T0, logon } from '../../support/history';

const c = (count: number, error: number, last: number): SketchCounter => ({ count, error, last });
const HALF_LIFE_BUCKETS = Math.round(Math.log(0.5) / Math.log1p(-0.0005)); // ~1,386 buckets, ~14.4 days

describe('Space-Saving sketch of users per place', () => {
  it("adds a user's weight to a known place, keeping its error and its latest time", () => {
    const s = sketchAdd({ a: c(3, 1, 500) }, 'a', 100, 4, 0.25);
    expect(s.a).toEqual(c(3.25, 1, 500));
    expect(sketchAdd({ a: c(3, 1, 500) }, 'a', 900, 4).a).toEqual(c(4, 1, 900));
  });

  it('takes a newcomer at its weight while there is room, up to the capacity', () => {
    const s = sketchAdd({ a: c(2, 0, 1) }, 'b', 7, 2, 0.5);
    expect(s.b).toEqual(c(0.5, 0, 7));
    expect(Object.keys(s)).toHaveLength(2);
    // Full: the newcomer replaces the least widely used instead of growing the sketch.
    expect(Object.keys(sketchAdd(s, 'c', 8, 2))).toHaveLength(2);
  });

  it('evicts the place with the lowest guaranteed count, the newcomer inheriting its count as error', () => {
    // `wide` has the highest count but, being mostly error, the lowest guaranteed number of users.
    const s = sketchAdd({ wide: c(9, 8.5, 10), nat: c(8, 0, 5), one: c(1, 0, 1) }, 'new', 20, 3);
    expect(Object.keys(s).sort()).toEqual(['nat', 'new', 'one']);
    expect(s.new).toEqual(c(10, 9, 20));
    expect(sharedUsers(s, 'new')).toBe(1);
  });

  it("adds the newcomer's own weight on top of the inherited count", () => {
    expect(sketchAdd({ old: c(0.75, 0.5, 1) }, 'new', 5, 1, 0.5).new).toEqual(c(1.25, 0.75, 5));
  });

  it('evicts the least recently used among equally wide places', () => {
    const s = sketchAdd({ older: c(1, 0, 10), newer: c(1, 0, 20) }, 'x', 30, 2);
    expect(Object.keys(s).sort()).toEqual(['newer', 'x']);
    const t = sketchAdd({ newer: c(1, 0, 20), older: c(1, 0, 10) }, 'x', 30, 2);
    expect(Object.keys(t).sort()).toEqual(['newer', 'x']);
  });

  it('never lets a newcomer displace a place more widely used than the newcomer itself', () => {
    const full = { nat: c(8, 0, 5), vpn: c(3, 0, 6) };
    expect(sketchAdd(full, 'flood', 9, 2)).toEqual(full);
    // ... but a place exactly as wide as the newcomer gives way (the newcomer is more recent).
    expect(Object.keys(sketchAdd({ nat: c(8, 0, 5), one: c(1, 0, 6) }, 'other', 9, 2)).sort()).toEqual([
      'nat',
      'other',
    ]);
  });

  it('holds an office NAT against one account flooding thousands of addresses', () => {
    const s: Record<string, SketchCounter> = { nat: c(8, 0, 1) };
    for (let k = 0; k < 5000; k++) sketchAddInPlace(s, `44.${k >> 8}.${k & 255}.7`, 10 + k, 50);
    expect(sharedUsers(s, 'nat')).toBe(8);
    expect(Object.keys(s)).toHaveLength(50);
  });

  it("reads a place's users as its guaranteed count, never negative, 0 when absent", () => {
    expect(sharedUsers({ a: c(10, 4, 0) }, 'a')).toBe(6);
    expect(sharedUsers({ a: c(1, 1.5, 0) }, 'a')).toBe(0);
    expect(sharedUsers({ a: c(10, 4, 0) }, 'b')).toBe(0);
  });

  it('decays counts and errors alike with the population, so a place no one uses any more fades', () => {
    const p = {
      ...emptyPopulation(),
      lastBucket: 1000,
      sharedIps: { nat: c(8, 2, 7) },
      sharedPrefixes: { p: c(4, 0, 7) },
      sharedNetworks: { n: c(2, 0, 7) },
    };
    const later = decayPopulationTo(p, 1000 + HALF_LIFE_BUCKETS);
    expect(later.sharedIps.nat!.count).toBeCloseTo(4, 2);
    expect(later.sharedIps.nat!.error).toBeCloseTo(1, 2);
    expect(later.sharedIps.nat!.last).toBe(7);
    expect(sharedUsers(later.sharedPrefixes, 'p')).toBeCloseTo(2, 2);
    expect(sharedUsers(later.sharedNetworks!, 'n')).toBeCloseTo(1, 2);
    expect(decayPopulationTo(p, 999)).toBe(p);
  });
});

describe("one user's share of a place", () => {
  it('is 1 on the first logon, nothing more in the same period, the decayed part in a later one', () => {
    expect(userShareTopUp(undefined, 50)).toBe(1);
    expect(userShareTopUp(50, 50)).toBe(0);
    expect(userShareTopUp(50, 50 + HALF_LIFE_BUCKETS)).toBeCloseTo(0.5, 2);
  });

  it('counts a user who logs on from a NAT every day as one user of it, not one per logon or per period', () => {
    const h = new History();
    for (let d = 0; d < 30; d++)
      for (const hr of [8, 9, 10, 11, 11]) h.apply([logon('busy', '198.51.100.10', T0 + d * 86_400_000 + hr * HOUR)]);
    h.shared('198.51.100.10', 3, T0 + 29 * 86_400_000 + 12 * HOUR);
    expect(sharedUsers(h.population.sharedIps, '198.51.100.10')).toBeCloseTo(4, 1);
    expect(sharedUsers(h.population.sharedPrefixes, '198.51.100.0/24')).toBeCloseTo(4, 1);
    expect(sharedUsers(h.population.sharedNetworks!, '198.51.0.0/16')).toBeCloseTo(4, 1);
  });

  it('gives a user their whole share back when their place was pushed out of the sketch meanwhile', () => {
    const h = new History().apply([logon('a', '198.51.100.10', T0), logon('b', '198.51.100.10', T0 + 1000)]);
    const pop = h.population;
    const evicted = { ...pop, sharedIps: {} };
    const again = computeBaselineUpdate([logon('a', '198.51.100.10', T0 + 2 * HOUR)], h.users, evicted, {
      windowEnd: T0 + 2 * HOUR + 1,
      learning: true,
      settings: DEFAULT_SETTINGS,
    });
    expect(sharedUsers(again.population.sharedIps, '198.51.100.10')).toBe(1);
    const kept = computeBaselineUpdate([logon('a', '198.51.100.10', T0 + 2 * HOUR)], h.users, pop, {
      windowEnd: T0 + 2 * HOUR + 1,
      learning: true,
      settings: DEFAULT_SETTINGS,
    });
    expect(sharedUsers(kept.population.sharedIps, '198.51.100.10')).toBeCloseTo(2, 2);
    expect(sharedUsers(kept.population.sharedIps, '198.51.100.10')).toBeLessThanOrEqual(2);
  });

  it('counts an IPv6 device once per /64, however often its privacy address changes', () => {
    expect(sharedAddressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(sharedAddressKey('::ffff:10.0.0.1')).toBe('10.0.0.1');
    const h = new History();
    for (let d = 0; d < 20; d++)
      h.apply([logon('v6', `2001:db8:1:2:${(d + 1).toString(16)}::${d + 7}`, T0 + d * 86_400_000 + 9 * HOUR)]);
    expect(Object.keys(h.population.sharedIps)).toEqual(['2001:db8:1:2::/64']);
    expect(sharedUsers(h.population.sharedIps, '2001:db8:1:2::/64')).toBeCloseTo(1, 1);
    expect(busiestAddressIn(h.population.sharedIps, '2001:db8:1::/48', '2001:db8:1:3::/64')).toBeCloseTo(1, 1);
    expect(busiestAddressIn(h.population.sharedIps, '2001:db8:1::/48', '2001:db8:1:2::/64')).toBe(0);
  });

  it('learns nothing into the population from excluded (allowlisted) users, their own baseline still', () => {
    const obs = [logon('svc-ci', '44.1.2.3', T0), logon('alice', '81.2.69.142', T0 + 1000)];
    const u = computeBaselineUpdate(obs, new Map(), emptyPopulation(), {
      windowEnd: T0 + 2000,
      learning: false,
      settings: DEFAULT_SETTINGS,
      excludeFromPopulation: (x) => x.startsWith('svc-'),
    });
    expect(u.users.map((b) => b.user).sort()).toEqual(['alice', 'svc-ci']);
    expect(Object.keys(u.population.sharedIps)).toEqual(['81.2.69.142']);
    expect(Object.keys(u.population.sharedNetworks!)).toEqual(['81.2.0.0/16']);
    expect(u.population.userBuckets).toBe(1);
    expect(u.population.newUsers).toBe(1);
    expect(u.population.knownUsers).toBe(2);
    expect(bucketOf(T0)).toBe(u.population.lastBucket);
  });
});

describe('pooled novelty: what one user adds', () => {
  const pool: PopulationNovelty = {
    periods: 100,
    ip: 10,
    prefix: 5,
    network: 2,
    ipInKnownPrefix: 4,
    networkOrgNovel: 1,
  };
  const all = { ip: true, prefix: true, network: true };

  it('counts a period and its new places while the user is under every bound', () => {
    expect(
      addBucketToPool(pool, { periods: 10, ip: 1, prefix: 1, network: 1 }, { newAt: all, orgNovelNetwork: true }),
    ).toEqual({ periods: 101, ip: 11, prefix: 6, network: 3, ipInKnownPrefix: 4, networkOrgNovel: 2 });
    expect(
      addBucketToPool(
        pool,
        { periods: 10, ip: 1, prefix: 1, network: 1 },
        { newAt: { ip: true, prefix: false, network: false }, orgNovelNetwork: false },
      ),
    ).toEqual({ ...pool, periods: 101, ip: 11, ipInKnownPrefix: 5 });
  });

  it("stops counting a level's new places once the user's own decayed count there reaches its bound", () => {
    const capped = {
      periods: 10,
      ip: POOL_NOVELTY_CAP.ip,
      prefix: POOL_NOVELTY_CAP.prefix,
      network: POOL_NOVELTY_CAP.network,
    };
    expect(addBucketToPool(pool, capped, { newAt: all, orgNovelNetwork: true })).toEqual({ ...pool, periods: 101 });
    const under = {
      periods: 10,
      ip: POOL_NOVELTY_CAP.ip - 0.01,
      prefix: POOL_NOVELTY_CAP.prefix - 0.01,
      network: POOL_NOVELTY_CAP.network - 0.01,
    };
    expect(
      addBucketToPool(pool, under, { newAt: { ip: true, prefix: false, network: false }, orgNovelNetwork: false })
        .ipInKnownPrefix,
    ).toBe(5);
    expect(
      addBucketToPool(
        pool,
        { ...under, ip: POOL_NOVELTY_CAP.ip },
        { newAt: { ip: true, prefix: false, network: false }, orgNovelNetwork: false },
      ).ipInKnownPrefix,
    ).toBe(4);
    expect(addBucketToPool(pool, under, { newAt: all, orgNovelNetwork: true })).toEqual({
      periods: 101,
      ip: 11,
      prefix: 6,
      network: 3,
      ipInKnownPrefix: 4,
      networkOrgNovel: 2,
    });
  });

  it("stops counting a user's periods at all past the periods bound (a service account active every period)", () => {
    expect(
      addBucketToPool(
        pool,
        { periods: POOL_BUCKETS_CAP, ip: 0, prefix: 0, network: 0 },
        { newAt: all, orgNovelNetwork: true },
      ),
    ).toBe(pool);
    expect(
      addBucketToPool(
        pool,
        { periods: POOL_BUCKETS_CAP - 0.01, ip: 0, prefix: 0, network: 0 },
        { newAt: all, orgNovelNetwork: false },
      ).periods,
    ).toBe(101);
  });
});
