/**
 * The `office-hours` scenario's impossible-travel attacks, checked against the events and the scenario's own
 * network data (what the eval replays them with): a consumer network abroad, far from the victim's country, soon
 * after the victim's own logon at home from their usual address.
 */
import { describe, expect, it } from 'vitest';
import { generateScenario, type Incident, type Scenario } from '../../../cli/scenario/generate';
import { TRAVEL_ATTACK_GAP_MINUTES, TRAVEL_ATTACK_MIN_KM } from '../../../cli/scenario/attacks';
import { HOME_COUNTRIES, TRAVEL_NETS, homeIspOwner } from '../../../cli/scenario/network';
import { scenarioNetworkData } from '../../../cli/scenario/network-data';
import { countryPlace, minDistanceKm } from '../../../shared/core/detectors/impossible-travel/geo';
import { isHostingOwner } from '../../../shared/core/detectors/impossible-travel/hosting';
import { DAY_MS, type LogonEvent, type NetworkOwner } from '../../../shared/core/model';

const MIN = 60_000;
const HOUR = 60 * MIN;
const SEEDS = [1, 2, 3] as const;
const db = scenarioNetworkData();
const cache = new Map<number, Scenario>();
function scenario(seed: number): Scenario {
  let s = cache.get(seed);
  if (!s) cache.set(seed, (s = generateScenario({ seed, shape: 'office-hours' })));
  return s;
}

function ownerOf(ip: string): NetworkOwner | undefined {
  const r = db.lookup(ip);
  return r.known ? { asn: r.asn, org: r.org, ...(r.country ? { country: r.country } : {}) } : undefined;
}

function isAttackEvent(s: Scenario, e: LogonEvent): boolean {
  return s.incidents.some(
    (i) => i.user === e.user && i.sourceIp === e.sourceIp && e.timestamp >= i.start - 31 * MIN && e.timestamp <= i.end,
  );
}

function travelIncidents(s: Scenario): Incident[] {
  return s.incidents.filter((i) => i.kind === 'impossible-travel');
}

describe('office-hours: impossible travel', () => {
  it.each(SEEDS)('seed %i: two incidents, after learning, on victims of no other incident', (seed) => {
    const s = scenario(seed);
    const travel = travelIncidents(s);
    expect(travel.map((i) => i.id)).toEqual(['impossible-travel-1', 'impossible-travel-2']);
    const others = new Set(s.incidents.filter((i) => i.kind !== 'impossible-travel').map((i) => i.user));
    const archetype = new Map(s.users.map((u) => [u.name, u.archetype]));
    expect(new Set(travel.map((i) => i.user)).size).toBe(2);
    for (const i of travel) {
      expect(others.has(i.user), i.id).toBe(false);
      expect(['office', 'home']).toContain(archetype.get(i.user));
      expect(i.start).toBeGreaterThanOrEqual(s.meta.learningEnd + HOUR);
      expect(i.failedAttempts).toBe(0);
      const attack = s.events.filter(
        (e) => e.user === i.user && e.sourceIp === i.sourceIp && e.timestamp >= i.start && e.timestamp <= i.end,
      );
      expect(attack).toHaveLength(i.logons);
      expect(attack.every((e) => e.outcome === 'success')).toBe(true);
      expect(i.logons).toBeGreaterThanOrEqual(2);
      expect(i.logons).toBeLessThanOrEqual(5);
      // No one else, and the victim at no other time, ever logs on from the attacker's address.
      expect(s.events.filter((e) => e.sourceIp === i.sourceIp)).toHaveLength(i.logons);
    }
  });

  it.each(SEEDS)('seed %i: from a consumer network abroad, not a hosting provider', (seed) => {
    const travelAsns = new Set(TRAVEL_NETS.map((n) => n.owner.asn));
    for (const i of travelIncidents(scenario(seed))) {
      const owner = ownerOf(i.sourceIp);
      expect(owner, i.id).toBeDefined();
      expect(travelAsns.has(owner!.asn), i.id).toBe(true);
      expect(isHostingOwner(owner!), i.id).toBe(false);
      expect(HOME_COUNTRIES).not.toContain(owner!.country);
      expect(countryPlace(owner!.country), i.id).toBeDefined();
    }
  });

  it.each(SEEDS)(
    'seed %i: 10–90 minutes after the victim’s own logon at home from their usual address, ≥ 2,000 km away',
    (seed) => {
      const s = scenario(seed);
      const [minGap, maxGap] = TRAVEL_ATTACK_GAP_MINUTES;
      for (const i of travelIncidents(s)) {
        const own = s.events.filter((e) => e.user === i.user && e.outcome === 'success' && !isAttackEvent(s, e));
        const atHome = own.filter(
          (e) =>
            homeIspOwner(e.sourceIp) && e.timestamp >= i.start - maxGap * MIN && e.timestamp <= i.start - minGap * MIN,
        );
        expect(atHome.length, i.id).toBeGreaterThan(0);
        const before = atHome[0]!;
        // Their usual address: the one they used most in the week before, on at least three days of it.
        const week = own.filter((e) => e.timestamp < before.timestamp && e.timestamp >= before.timestamp - 7 * DAY_MS);
        const counts = new Map<string, number>();
        for (const e of week) counts.set(e.sourceIp, (counts.get(e.sourceIp) ?? 0) + 1);
        expect(counts.get(before.sourceIp), i.id).toBe(Math.max(...counts.values()));
        const days = new Set(
          week.filter((e) => e.sourceIp === before.sourceIp).map((e) => Math.floor(e.timestamp / DAY_MS)),
        );
        expect(days.size, i.id).toBeGreaterThanOrEqual(3);
        // The network data places that address in the victim's country, far from the attacker's.
        const home = countryPlace(ownerOf(before.sourceIp)?.country);
        const abroad = countryPlace(ownerOf(i.sourceIp)?.country);
        expect(HOME_COUNTRIES).toContain(home?.code);
        expect(minDistanceKm(home!, abroad!), i.id).toBeGreaterThanOrEqual(TRAVEL_ATTACK_MIN_KM);
      }
    },
  );

  it.each(SEEDS)('seed %i: the victims never log on from abroad themselves (no trip of theirs)', (seed) => {
    const s = scenario(seed);
    for (const i of travelIncidents(s)) {
      const own = s.events.filter((e) => e.user === i.user && e.outcome === 'success' && !isAttackEvent(s, e));
      for (const e of own) {
        const country = ownerOf(e.sourceIp)?.country;
        if (country !== undefined) expect(HOME_COUNTRIES, `${i.id} ${e.sourceIp}`).toContain(country);
      }
      expect(s.expectedNovelty.some((l) => l.user === i.user && l.kind.startsWith('travel'))).toBe(false);
    }
  });
});
