import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeBaselineUpdate } from '../../../shared/core/baseline-update';
import { DETECTORS } from '../../../shared/core/detectors';
import { durationText, impossibleTravel, travelProbability } from '../../../shared/core/detectors/impossible-travel';
import { COUNTRIES } from '../../../shared/core/detectors/impossible-travel/countries';
import { countryPlace, minDistanceKm } from '../../../shared/core/detectors/impossible-travel/geo';
import { isHostingOwner } from '../../../shared/core/detectors/impossible-travel/hosting';
import {
  impossibleTravelState,
  learnUserTravel,
  MAX_POINTS,
  type UserTravel,
} from '../../../shared/core/detectors/impossible-travel/state';
import { readSlice } from '../../../shared/core/detectors/state';
import {
  BUCKET_MS,
  bucketOf,
  emptyPopulation,
  type LogonObservation,
  type NetworkOwner,
  type PopulationStats,
  type UserBaseline,
} from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { HOUR, logon, T0 } from '../../support/history';

const MIN = 60_000;
const PT_ISP: NetworkOwner = { asn: 64500, org: 'EXAMPLE-PT-ISP', country: 'PT' };
const SG_ISP: NetworkOwner = { asn: 64501, org: 'EXAMPLE-SG-ISP', country: 'SG' };
const NL_ISP: NetworkOwner = { asn: 64502, org: 'EXAMPLE-NL-ISP', country: 'NL' };
const DE_ISP: NetworkOwner = { asn: 64503, org: 'EXAMPLE-DE-ISP', country: 'DE' };
const US_ISP: NetworkOwner = { asn: 64504, org: 'EXAMPLE-US-ISP', country: 'US' };
const CORP_VPN_US: NetworkOwner = { asn: 64505, org: 'EXAMPLE-CORP-VPN', country: 'US' };
const HOME = '198.51.100.7';
const ABROAD = '192.0.2.44';

interface World {
  users: Map<string, UserBaseline>;
  population: PopulationStats;
}

/** Learn logons as production does: one window per 15-minute bucket, in time order. */
function learn(logons: readonly LogonObservation[], w?: World): World {
  const world: World = w ?? { users: new Map(), population: emptyPopulation() };
  const byBucket = new Map<number, LogonObservation[]>();
  for (const o of logons) {
    const b = bucketOf(o.lastSeen);
    byBucket.set(b, [...(byBucket.get(b) ?? []), o]);
  }
  for (const b of [...byBucket.keys()].sort((x, y) => x - y)) {
    const u = computeBaselineUpdate(byBucket.get(b)!, world.users, world.population, {
      windowEnd: (b + 1) * BUCKET_MS,
      learning: false,
      settings: DEFAULT_SETTINGS,
    });
    for (const x of u.users) world.users.set(x.user, { ...x, version: x.version + 1 });
    world.population = u.population;
  }
  return world;
}

function judge(w: World, o: LogonObservation) {
  return impossibleTravel.evaluate({
    observation: o,
    baseline: w.users.get(o.user),
    population: w.population,
    window: { start: o.firstSeen - 15 * MIN, end: o.firstSeen + 15 * MIN },
    settings: DEFAULT_SETTINGS,
  });
}

const at = (user: string, ip: string, t: number, owner?: NetworkOwner) => logon(user, ip, t, owner ? { owner } : {});

/** Three days of logons from home, the last at `T0 + 3 days + 09:00`. */
function atHome(user: string, owner: NetworkOwner, ip = HOME): LogonObservation[] {
  return [0, 1, 2, 3].flatMap((d) => [8, 9].map((h) => at(user, ip, T0 + d * 24 * HOUR + h * HOUR, owner)));
}
const LAST_HOME = T0 + 3 * 24 * HOUR + 9 * HOUR;

describe('Auth.ImpossibleTravel', () => {
  it('is registered, medium severity, threshold 75, its own state key', () => {
    expect(DETECTORS).toContain(impossibleTravel);
    expect(impossibleTravel).toMatchObject({ severity: 'medium', riskScore: 47, defaultThreshold: 75 });
    expect(impossibleTravel.state?.key).toBe('travel');
    expect(impossibleTravel.mitre.tactic.id).toBe('TA0001');
  });

  it('alerts on Lisbon then, 40 minutes later, Singapore, and explains it in countries, km and km/h', () => {
    const w = learn(atHome('alice', PT_ISP));
    const f = judge(w, at('alice', ABROAD, LAST_HOME + 40 * MIN, SG_ISP));
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(99);
    expect(f!.explanation).toContain(
      'logged on from Portugal (198.51.100.7, AS64500), then 40 minutes later from Singapore',
    );
    expect(f!.explanation).toMatch(/at least 11,\d{3} km, at least 17,\d{3} km\/h/);
    expect(f!.evidence).toMatchObject({
      from_country: 'Portugal (PT)',
      to_country: 'Singapore (SG)',
      minutes_between: 40,
      previous_ip: HOME,
      owner: 'AS64501 EXAMPLE-SG-ISP, SG',
    });
    expect(f!.evidence.min_distance_km).toBeGreaterThan(11_000);
    expect(f!.evidence.min_speed_kmh).toBeGreaterThan(16_500);
  });

  it('sees a jump within one window in the next run, once both logons are learned', () => {
    const w = learn(atHome('alice', PT_ISP));
    const home = at('alice', HOME, LAST_HOME + 3 * HOUR + 5 * MIN, PT_ISP);
    const abroad = at('alice', ABROAD, LAST_HOME + 3 * HOUR + 10 * MIN, SG_ISP);
    // Judged before the window is learned: the home logon 5 minutes earlier is not known yet; the previous
    // located logon, 3 hours before, is still too close in time for 11,000 km.
    expect(judge(w, abroad)).not.toBeNull();
    learn([home, abroad], w);
    const again = judge(w, abroad);
    expect(again!.evidence.minutes_between).toBe(5);
  });

  it('never alerts between neighbours within an hour (the Netherlands and Germany: 0 km at country level)', () => {
    const w = learn(atHome('bob', NL_ISP));
    expect(judge(w, at('bob', ABROAD, LAST_HOME + 20 * MIN, DE_ISP))).toBeNull();
    const v = learn(atHome('carl', DE_ISP));
    expect(judge(v, at('carl', ABROAD, LAST_HOME + 5 * MIN, NL_ISP))).toBeNull();
    expect(minDistanceKm(countryPlace('NL')!, countryPlace('DE')!)).toBe(0);
  });

  it('needs 500 km at least, however fast: Belgium to Switzerland in 5 minutes is within geolocation error', () => {
    const BE_ISP: NetworkOwner = { asn: 64507, org: 'EXAMPLE-BE-ISP', country: 'BE' };
    const CH_ISP: NetworkOwner = { asn: 64508, org: 'EXAMPLE-CH-ISP', country: 'CH' };
    const w = learn(atHome('bea', BE_ISP));
    const km = minDistanceKm(countryPlace('BE')!, countryPlace('CH')!);
    // Over 900 km/h for the least distance, but less than 500 km of it.
    expect(km).toBeGreaterThan(900 / 12);
    expect(km).toBeLessThan(500);
    expect(judge(w, at('bea', ABROAD, LAST_HOME + 5 * MIN, CH_ISP))).toBeNull();
  });

  it('does not take a VPN egress many colleagues share for a place: not this logon, nor a previous one abroad', () => {
    const VPN = '198.51.100.200';
    const colleagues = ['c1', 'c2', 'c3', 'c4'].flatMap((u) => atHome(u, CORP_VPN_US, VPN));
    const w = learn([...colleagues, ...atHome('dana', DE_ISP)]);
    expect(judge(w, at('dana', VPN, LAST_HOME + 10 * MIN, CORP_VPN_US))).toBeNull();

    // The same address used by dana alone is a place in the United States: the same jump alerts.
    const alone = learn(atHome('dana', DE_ISP));
    expect(judge(alone, at('dana', VPN, LAST_HOME + 10 * MIN, CORP_VPN_US))).not.toBeNull();

    // A day on the VPN alone (no own address in the last day), then a logon from home: no journey from the VPN.
    const monday = LAST_HOME + 3 * 24 * HOUR;
    learn(
      [0, 4, 8].map((h) => at('dana', VPN, monday + h * HOUR, CORP_VPN_US)),
      w,
    );
    expect(judge(w, at('dana', HOME, monday + 8 * HOUR + 20 * MIN, DE_ISP))).toBeNull();
  });

  it('takes an office NAT many colleagues share for a place when the user was in its country before it', () => {
    const NAT = '192.0.2.1';
    const OFFICE_NL: NetworkOwner = { asn: 64496, org: 'EXAMPLE-CORP-OFFICE', country: 'NL' };
    const colleagues = ['c1', 'c2', 'c3', 'c4'].flatMap((u) => atHome(u, OFFICE_NL, NAT));
    const w = learn([...colleagues, ...atHome('olga', NL_ISP)]);
    // At home in the Netherlands in the evening, at the office the next morning, then Singapore half an hour later.
    const office = at('olga', NAT, LAST_HOME + 23 * HOUR, OFFICE_NL);
    learn([office], w);
    const f = judge(w, at('olga', ABROAD, LAST_HOME + 23 * HOUR + 30 * MIN, SG_ISP));
    expect(f?.evidence).toMatchObject({ previous_ip: NAT, minutes_between: 30 });
  });

  it('does not alert when both places are one network (a carrier or VPN registered in several countries)', () => {
    const CARRIER_PT: NetworkOwner = { asn: 64510, org: 'EXAMPLE-GLOBAL-CARRIER', country: 'PT' };
    const CARRIER_SG: NetworkOwner = { ...CARRIER_PT, country: 'SG' };
    const w = learn(atHome('erin', CARRIER_PT));
    expect(judge(w, at('erin', ABROAD, LAST_HOME + 40 * MIN, CARRIER_SG))).toBeNull();
  });

  it('does not locate a hosting provider (a cloud desktop, a gateway)', () => {
    const CLOUD_SG: NetworkOwner = { asn: 16509, org: 'AMAZON-02', country: 'SG' };
    const w = learn(atHome('fay', PT_ISP));
    expect(judge(w, at('fay', ABROAD, LAST_HOME + 40 * MIN, CLOUD_SG))).toBeNull();
    expect(isHostingOwner({ asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' })).toBe(true);
    expect(isHostingOwner(PT_ISP)).toBe(false);
  });

  it('learns a commuter pair: alerts on the first two days the user switches, not on the third', () => {
    let w: World = { users: new Map(), population: emptyPopulation() };
    const verdicts: boolean[] = [];
    for (const day of [0, 2, 4]) {
      const t = T0 + day * 24 * HOUR;
      learn([at('gus', HOME, t + 8 * HOUR, DE_ISP)], w);
      const jump = at('gus', ABROAD, t + 8 * HOUR + 30 * MIN, US_ISP);
      verdicts.push(judge(w, jump) !== null);
      w = learn([jump], w);
    }
    expect(verdicts).toEqual([true, true, false]);
  });

  it('raises one alert per excursion: the return home and another switch within the day are not judged again', () => {
    const w = learn(atHome('hana', PT_ISP));
    const out = at('hana', ABROAD, LAST_HOME + 40 * MIN, SG_ISP);
    expect(judge(w, out)).not.toBeNull();
    learn([out], w);
    expect(judge(w, at('hana', HOME, LAST_HOME + 60 * MIN, PT_ISP))).toBeNull();
    learn([at('hana', HOME, LAST_HOME + 60 * MIN, PT_ISP)], w);
    expect(judge(w, at('hana', ABROAD, LAST_HOME + 90 * MIN, SG_ISP))).toBeNull();
  });

  it('calls logons at the same time so, with a minute as the floor of the speed', () => {
    const w = learn(atHome('ivy', PT_ISP));
    const f = judge(w, at('ivy', ABROAD, LAST_HOME, SG_ISP));
    expect(f!.explanation).toContain('and at the same time from Singapore');
    expect(f!.evidence.minutes_between).toBe(0);
  });

  it('allows a plausible flight', () => {
    const w = learn(atHome('jo', PT_ISP));
    // 11,400 km at least in 14 hours: about 820 km/h.
    expect(judge(w, at('jo', ABROAD, LAST_HOME + 14 * HOUR, SG_ISP))).toBeNull();
    expect(judge(w, at('jo', ABROAD, LAST_HOME + 11 * HOUR, SG_ISP))).not.toBeNull();
  });

  it('never judges, nor learns, without network data', () => {
    const w = learn(atHome('kim', PT_ISP).map(({ owner: _, ...o }) => o));
    expect(w.users.get('kim')!.detectorState?.travel).toBeUndefined();
    expect(judge(w, at('kim', ABROAD, LAST_HOME + 40 * MIN))).toBeNull();
    // Owner data for the new logon alone: there is no previous located logon to travel from.
    expect(judge(w, at('kim', ABROAD, LAST_HOME + 40 * MIN, SG_ISP))).toBeNull();
    // A country the table does not place (the registries' EU) is not located either.
    const eu = learn(atHome('lee', { asn: 64506, org: 'EXAMPLE-EU', country: 'EU' }));
    expect(eu.users.get('lee')!.detectorState?.travel).toBeUndefined();
  });

  it('scores by speed: 900 km/h is the default threshold’s 75, faster scores higher', () => {
    expect(travelProbability(900)).toBeCloseTo(0.01, 10);
    expect(travelProbability(1800)).toBeCloseTo(0.0025, 10);
    expect(travelProbability(17_800)).toBeLessThan(0.00003);
    expect(durationText(40 * MIN)).toBe('40 minutes');
    expect(durationText(125 * MIN)).toBe('2 hours 5 minutes');
    expect(durationText(60 * MIN)).toBe('1 hour');
  });

  it('learns idempotently: a window learned twice is the same state, and the slice stays bounded', () => {
    const window = [at('max', HOME, T0, PT_ISP), at('max', ABROAD, T0 + 5 * MIN, SG_ISP)];
    const once = learnUserTravel(undefined, window, T0 + 15 * MIN)!;
    expect(learnUserTravel(once, window, T0 + 30 * MIN)).toBe(once);
    expect(once.pairs['PT-SG']).toHaveLength(1);
    let s: UserTravel | undefined;
    for (let i = 0; i < 40; i++)
      s = learnUserTravel(s, [at('max', `192.0.2.${i}`, T0 + i * MIN, PT_ISP)], T0 + i * MIN + 1);
    expect(s!.points).toHaveLength(MAX_POINTS);
    expect(s!.points[0]!.t).toBe(T0 + (40 - MAX_POINTS) * MIN);
    // Points older than a day are dropped when something new is learned.
    const later = learnUserTravel(s, [at('max', HOME, T0 + 30 * HOUR, PT_ISP)], T0 + 30 * HOUR + MIN)!;
    expect(later.points).toHaveLength(1);
  });

  it('reads the stored slice of version 1, and refuses one from a newer version', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../fixtures/detectors/impossible-travel-user-v1.json', import.meta.url), 'utf8'),
    ) as unknown;
    const read = readSlice(impossibleTravelState.user!, fixture);
    expect('state' in read && read.state.points.map((p) => p.c)).toEqual(['DE', 'DE', 'US']);
    expect('state' in read && read.state.pairs).toEqual({ 'DE-US': [20514, 20516] });
    expect(readSlice(impossibleTravelState.user!, { v: 2, s: {} })).toEqual({
      defect: 'version 2 was written by a newer authwatch (this one reads up to 1)',
    });
    expect(readSlice(impossibleTravelState.user!, { v: 1, s: { points: [] } })).toHaveProperty('defect');
  });

  it('places every country of its table on the globe with an extent, from 20 km (Singapore) up', () => {
    const rows = Object.entries(COUNTRIES);
    expect(rows.length).toBeGreaterThan(230);
    for (const [code, [lat, lon, extent, name]] of rows) {
      expect(code).toMatch(/^[A-Z]{2}$/);
      expect(Math.abs(lat)).toBeLessThanOrEqual(90);
      expect(Math.abs(lon)).toBeLessThanOrEqual(180);
      expect(extent).toBeGreaterThan(0);
      expect(extent).toBeLessThan(4500);
      expect(name.length).toBeGreaterThan(2);
    }
    const ptSg = minDistanceKm(countryPlace('PT')!, countryPlace('sg')!);
    expect(ptSg).toBeGreaterThan(11_000);
    expect(ptSg).toBeLessThan(11_900);
    expect(countryPlace('EU')).toBeUndefined();
    expect(countryPlace('__proto__')).toBeUndefined();
  });
});
