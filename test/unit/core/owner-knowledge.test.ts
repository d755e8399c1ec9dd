/**
 * What a user and the organisation learn about network owners and countries (baseline-update.ts, population.ts),
 * and how it is stored (items/codec.ts, items/size.ts): created only with the first known owner, so a baseline or
 * population learned without network data keeps its shape, and stored items written before it still read the same.
 */
import { describe, expect, it } from 'vitest';
import {
  decodePopulation,
  decodeUser,
  encodePopulationBody,
  encodeUserBody,
} from '../../../shared/adapters/items/codec';
import { fitUser } from '../../../shared/adapters/items/size';
import { MAX_COUNTRIES_PER_USER, MAX_OWNERS_PER_USER } from '../../../shared/core/baseline-update';
import { DAY_MS, type NetworkOwner, type PopulationNovelty, type SeenStats } from '../../../shared/core/model';
import { addBucketToPool, POOL_COUNTRY_CAP, POOL_NOVELTY_CAP, sharedUsers } from '../../../shared/core/population';
import { History, T0 } from '../../support/history';

const NL: NetworkOwner = { asn: 64501, org: 'EXAMPLE-BROADBAND', country: 'NL' };
const owners = (ip: string): NetworkOwner | undefined =>
  ip.startsWith('81.') ? NL : ip.startsWith('77.') ? { asn: 65301, org: 'EXAMPLE-TELCO', country: 'DE' } : undefined;

describe('learning network owners', () => {
  it('leaves a user and the population learned without owners exactly as they were shaped', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 10 });
    const b = h.get('alice');
    for (const k of ['owners', 'countries', 'ownerActivity', 'hostingActivity']) expect(b).not.toHaveProperty(k);
    expect(Object.keys(b.novelty).sort()).toEqual(['ip', 'network', 'periods', 'prefix']);
    expect(h.population).not.toHaveProperty('sharedCountries');
    expect(Object.keys(h.population.placeNovelty!).sort()).toEqual([
      'ip',
      'ipInKnownPrefix',
      'network',
      'networkOrgNovel',
      'periods',
      'prefix',
    ]);
  });

  it('learns owners, countries and how long they have been learned, and counts new countries once they matured', () => {
    // Prepare: three weeks at home with owners known, then a trip: a day in Germany.
    const h = new History({ ownerOf: owners }).daily('alice', ['81.2.69.142'], { toDay: 21 });
    const home = h.get('alice');
    expect(Object.keys(home.owners!)).toEqual(['AS64501']);
    expect(Object.keys(home.countries!)).toEqual(['NL']);
    expect(home.ownerActivity!.days).toBe(21);
    expect(home.hostingActivity).toBeUndefined();
    // Owners were known from the first logon, so owner knowledge matured with the user: every period since counts
    // for the country level as for the others, and none brought a new country.
    expect(home.novelty.ownerPeriods).toBeGreaterThan(5);
    expect(home.novelty.ownerPeriods).toBeCloseTo(home.novelty.periods, 6);
    expect(home.novelty.country).toBe(0);
    h.daily('alice', ['77.1.2.3'], { fromDay: 21, toDay: 22 });
    const trip = h.get('alice');
    expect(trip.novelty.country).toBeCloseTo(1, 1);
    expect(Object.keys(trip.countries!).sort()).toEqual(['DE', 'NL']);
    // The organisation's counts: countries' users, and the pooled rate of new countries over owner-known periods.
    const pop = h.population;
    expect(sharedUsers(pop.sharedCountries!, 'DE')).toBeCloseTo(1, 3);
    expect(pop.placeNovelty!.country).toBeCloseTo(1, 1);
    expect(pop.placeNovelty!.ownerPeriods).toBeCloseTo(trip.novelty.ownerPeriods!, 6);
    expect(pop.placeNovelty!.networkOwned).toBeCloseTo(1, 1);
    expect(pop.placeNovelty!.networkHosting).toBe(0);
  });

  it("counts the existing levels' pooled rates as before, whatever owners are known (the prior of users without)", () => {
    // Carrier users hopping /16s of one AS, and home users: once learned without owners, once with.
    const learn = (h: History) => {
      for (let k = 0; k < 6; k++)
        h.daily(`m${k}`, (d, i) => `81.${(k * 3 + d + i) % 40}.${k}.${i % 200}`, { toDay: 21 });
      for (let k = 0; k < 6; k++) h.daily(`h${k}`, [`62.${k}.1.1`], { toDay: 21 });
      return h.population.placeNovelty!;
    };
    const before = learn(new History());
    const after = learn(
      new History({
        ownerOf: (ip) =>
          ip.startsWith('62.') ? { asn: 65000 + Number(ip.split('.')[1]), org: '', country: 'NL' } : owners(ip),
      }),
    );
    for (const k of ['periods', 'ip', 'prefix', 'network', 'ipInKnownPrefix'] as const)
      expect(after[k], k).toBeCloseTo(before[k], 9);
    // The owner level sees the carrier's /16s as one network: far fewer new networks than /16s.
    expect(after.ownerPeriods).toBeCloseTo(after.periods, 9);
    expect(after.ownerNetwork!).toBeLessThan(after.network / 4);
  });

  it('remembers a user was on a hosting network', () => {
    const h = new History({ ownerOf: () => ({ asn: 16509, org: 'AMAZON-02', country: 'US' }) });
    h.daily('ci', ['52.1.2.3'], { toDay: 2 });
    expect(h.get('ci').hostingActivity!.days).toBe(2);
  });
});

describe("pooled counts of new countries and owners' networks", () => {
  const pool: PopulationNovelty = {
    periods: 100,
    ip: 10,
    prefix: 5,
    network: 2,
    ipInKnownPrefix: 4,
    networkOrgNovel: 1,
  };
  const newAt = { ip: true, prefix: true, network: true };

  it('adds the owner-level counts only with a bucket that says something about them', () => {
    const carried = { periods: 10, ip: 1, prefix: 1, network: 1 };
    expect(addBucketToPool(pool, carried, { newAt, orgNovelNetwork: true })).not.toHaveProperty('country');
    expect(
      addBucketToPool(pool, carried, {
        newAt,
        orgNovelNetwork: true,
        owned: { newNetwork: true, newCountry: true, newNetworkOwner: { hosting: true } },
      }),
    ).toMatchObject({ networkOwned: 1, networkHosting: 1, ownerPeriods: 1, country: 1, ownerNetwork: 1 });
    // An owner-known bucket that brought nothing new still counts as one of the owner-level periods.
    expect(
      addBucketToPool(pool, carried, {
        newAt: { ip: false, prefix: false, network: false },
        orgNovelNetwork: false,
        owned: { newNetwork: false, newCountry: false },
      }),
    ).toMatchObject({ networkOwned: 0, networkHosting: 0, ownerPeriods: 1, country: 0, ownerNetwork: 0 });
  });

  it("stops counting a user's new countries past their bound, still counting their periods", () => {
    const capped = { periods: 10, ip: 0, prefix: 0, network: 0, ownerPeriods: 10, country: POOL_COUNTRY_CAP };
    const n = addBucketToPool({ ...pool, ownerPeriods: 50, country: 1 }, capped, {
      newAt,
      orgNovelNetwork: false,
      owned: { newNetwork: false, newCountry: true },
    });
    expect(n.ownerPeriods).toBe(51);
    expect(n.country).toBe(1);
  });

  it("stops counting a user's hosting networks with their new networks (one account on endless clouds)", () => {
    const capped = { periods: 10, ip: 0, prefix: 0, network: 0, ownerNetwork: POOL_NOVELTY_CAP.network };
    const n = addBucketToPool({ ...pool, networkOwned: 20, networkHosting: 1, ownerNetwork: 30 }, capped, {
      newAt,
      orgNovelNetwork: true,
      owned: { newNetwork: true, newCountry: false, newNetworkOwner: { hosting: true } },
    });
    expect(n).toMatchObject({ network: 3, ownerNetwork: 30, networkOwned: 20, networkHosting: 1 });
  });
});

const seen = (t: number): SeenStats => ({ first: t, last: t, buckets: 1, lastBucket: 1, days: 1, lastDay: 1 });

describe('storing owner knowledge', () => {
  it('round-trips owners, countries and their counters in user and population items', () => {
    const h = new History({ ownerOf: owners })
      .daily('alice', ['81.2.69.142'], { toDay: 21 })
      .daily('alice', ['77.1.2.3'], { fromDay: 21, toDay: 22 });
    const b = h.get('alice');
    const body = encodeUserBody(b);
    const read = decodeUser('alice', body, b.version);
    expect(read).toStrictEqual(b);
    expect(encodeUserBody(read)).toBe(body);
    const pop = h.population;
    const popBody = encodePopulationBody(pop);
    expect(decodePopulation(popBody, pop.version)).toStrictEqual(pop);
  });

  it('reads a body written before owners as it was: no owner field appears, not even as undefined', () => {
    const b = new History().daily('alice', ['81.2.69.142'], { toDay: 5 }).get('alice');
    const read = decodeUser('alice', encodeUserBody(b), b.version);
    expect(read).toStrictEqual(b);
    expect(Object.keys(read)).not.toContain('owners');
  });

  it("evicts a user's least recently seen owners and countries too when the item is over its target", () => {
    const b = new History({ ownerOf: owners }).daily('alice', ['81.2.69.142'], { toDay: 5 }).get('alice');
    const many = (n: number, key: (i: number) => string) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [key(i), seen(T0 + i * DAY_MS)]));
    const big = {
      ...b,
      owners: many(MAX_OWNERS_PER_USER + 8, (i) => `AS${70000 + i}`),
      countries: many(MAX_COUNTRIES_PER_USER + 8, (i) => `C${i}`),
    };
    const fitted = fitUser(big, 2048);
    expect(fitted.bounded).toBe(true);
    expect(fitted.bytes).toBeLessThanOrEqual(2048);
    expect(Object.keys(fitted.user.owners!).length).toBeLessThan(MAX_OWNERS_PER_USER);
    expect(Object.keys(fitted.user.countries!).length).toBeLessThan(MAX_COUNTRIES_PER_USER);
    // The most recently seen are kept.
    expect(fitted.user.owners).toHaveProperty(`AS${70000 + MAX_OWNERS_PER_USER + 7}`);
    expect(fitted.user.countries).toHaveProperty(`C${MAX_COUNTRIES_PER_USER + 7}`);
    // A user without owners stays without them when bounded.
    const plain = { ...b, owners: undefined, countries: undefined, ownerActivity: undefined };
    delete plain.owners;
    delete plain.countries;
    delete plain.ownerActivity;
    const ips = many(200, (i) => `198.51.${i >> 8}.${i & 255}`);
    expect(fitUser({ ...plain, ips }, 4096).user).not.toHaveProperty('owners');
  });
});
