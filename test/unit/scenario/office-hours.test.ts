/**
 * The `office-hours` scenario: an organisation living in local time (Berlin, `amer-*` New York, `apac-*`
 * Singapore), its off-hours misuse and the benign look-alikes, checked against the events themselves in each
 * user's local time, computed with the detection settings the scenario carries (as the eval runs them).
 */
import { describe, expect, it } from 'vitest';
import {
  CAMPAIGN_KINDS,
  generateScenario,
  INCIDENT_KINDS,
  IP_BASED_KINDS,
  scenarioLabels,
  type Incident,
  type Scenario,
} from '../../../cli/scenario/generate';
import { compileUserTimeZones, isWeekend, localTime } from '../../../shared/core/local-time';
import { DAY_MS, type LogonEvent } from '../../../shared/core/model';
import { canonicalIp } from '../../../shared/core/net';
import { detectionSettingsSchema } from '../../../shared/core/settings';

const HOUR = 3_600_000;
const SEEDS = [1, 2, 3] as const;
const cache = new Map<number, Scenario>();
function scenario(seed: number): Scenario {
  let s = cache.get(seed);
  if (!s) cache.set(seed, (s = generateScenario({ seed, shape: 'office-hours' })));
  return s;
}

function zoneOf(s: Scenario): (user: string) => string {
  return compileUserTimeZones(s.meta.timeZone!, s.meta.userTimeZones!);
}

function isAttack(s: Scenario, e: LogonEvent): boolean {
  return s.incidents.some(
    (i) =>
      i.user === e.user && i.sourceIp === e.sourceIp && e.timestamp >= i.start - 31 * 60_000 && e.timestamp <= i.end,
  );
}

function legitSuccesses(s: Scenario, user: string): LogonEvent[] {
  return s.events.filter((e) => e.user === user && e.outcome === 'success' && !isAttack(s, e));
}

function attackSuccesses(s: Scenario, i: Incident): LogonEvent[] {
  return s.events.filter(
    (e) =>
      e.user === i.user &&
      e.sourceIp === i.sourceIp &&
      e.outcome === 'success' &&
      e.timestamp >= i.start &&
      e.timestamp <= i.end,
  );
}

/** Days since the epoch of the instant's local date in `zone`. */
function localDay(t: number, zone: string): number {
  return Math.floor((t + localTime(t, zone).offsetMinutes * 60_000) / DAY_MS);
}

describe('office-hours: the scenario', () => {
  it('is deterministic per seed, and different across seeds', () => {
    const again = generateScenario({ seed: 1, shape: 'office-hours' });
    expect(JSON.stringify(again.events)).toBe(JSON.stringify(scenario(1).events));
    expect(JSON.stringify(scenarioLabels(again))).toBe(JSON.stringify(scenarioLabels(scenario(1))));
    expect(JSON.stringify(scenario(2).events)).not.toBe(JSON.stringify(scenario(1).events));
  });

  it('carries the detection settings of its time zones, valid as configuration', () => {
    const { meta } = scenario(1);
    expect(meta.timeZone).toBe('Europe/Berlin');
    expect(meta.userTimeZones).toEqual([
      { pattern: 'amer-*', timeZone: 'America/New_York' },
      { pattern: 'apac-*', timeZone: 'Asia/Singapore' },
    ]);
    const settings = detectionSettingsSchema.parse({ timeZone: meta.timeZone, userTimeZones: meta.userTimeZones });
    expect(settings.userTimeZones).toHaveLength(2);
  });

  it('has events sorted, inside the scenario, with canonical addresses, and people in all three zones', () => {
    for (const seed of SEEDS) {
      const s = scenario(seed);
      for (let k = 1; k < s.events.length; k++)
        expect(s.events[k]!.timestamp).toBeGreaterThanOrEqual(s.events[k - 1]!.timestamp);
      for (const e of s.events) {
        expect(e.timestamp >= s.meta.start && e.timestamp < s.meta.end).toBe(true);
        expect(canonicalIp(e.sourceIp)).toBe(e.sourceIp);
      }
      const zone = zoneOf(s);
      const perZone = new Map<string, number>();
      for (const u of s.users) perZone.set(zone(u.name), (perZone.get(zone(u.name)) ?? 0) + 1);
      expect([...perZone.keys()].sort()).toEqual(['America/New_York', 'Asia/Singapore', 'Europe/Berlin']);
      expect(perZone.get('Europe/Berlin')!).toBeGreaterThan(s.users.length / 2);
      expect(s.meta.notes).toEqual([]);
    }
  });

  it('keeps office workers to local weekday office hours, in every zone, across daylight saving', () => {
    const s = scenario(1);
    const zone = zoneOf(s);
    const office = new Set(s.users.filter((u) => u.archetype === 'office').map((u) => u.name));
    const trips = s.expectedNovelty.filter((l) => l.kind === 'travel-timezone' || l.kind === 'travel');
    const mine = s.events.filter(
      (e) =>
        office.has(e.user) &&
        e.outcome === 'success' &&
        !isAttack(s, e) &&
        !trips.some((l) => l.user === e.user && e.timestamp >= l.start - DAY_MS && e.timestamp <= l.end + DAY_MS),
    );
    const local = mine.map((e) => localTime(e.timestamp, zone(e.user)));
    expect(local.filter((l) => !isWeekend(l.weekday)).length / local.length).toBeGreaterThan(0.9);
    expect(local.filter((l) => l.hour >= 6 && l.hour <= 23).length / local.length).toBeGreaterThan(0.98);
    // Berlin's clocks go forward on 2026-03-29: the wall-clock hours stay, the UTC hours move one earlier.
    const change = Date.UTC(2026, 2, 29, 1);
    const berlin = mine.filter(
      (e) => zone(e.user) === 'Europe/Berlin' && !isWeekend(localTime(e.timestamp, 'Europe/Berlin').weekday),
    );
    const before = berlin.filter((e) => e.timestamp < change && e.timestamp >= change - 14 * DAY_MS);
    const after = berlin.filter((e) => e.timestamp >= change && e.timestamp < change + 14 * DAY_MS);
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const localHour = (e: LogonEvent): number => {
      const l = localTime(e.timestamp, 'Europe/Berlin');
      return l.hour + l.minute / 60;
    };
    const utcHour = (e: LogonEvent): number => (e.timestamp % DAY_MS) / HOUR;
    expect(Math.abs(mean(after.map(localHour)) - mean(before.map(localHour)))).toBeLessThan(0.3);
    expect(mean(before.map(utcHour)) - mean(after.map(utcHour))).toBeGreaterThan(0.7);
  });

  it('has accounts active around the clock: service accounts and on-call admins', () => {
    const s = scenario(1);
    const zone = zoneOf(s);
    for (const u of s.users.filter((x) => x.archetype === 'service')) {
      const hours = new Set(legitSuccesses(s, u.name).map((e) => localTime(e.timestamp, zone(u.name)).hour));
      expect(hours.size).toBe(24);
    }
    const nightAdmins = s.users.filter(
      (u) =>
        u.archetype === 'admin' && legitSuccesses(s, u.name).some((e) => localTime(e.timestamp, zone(u.name)).hour < 5),
    );
    expect(nightAdmins.length).toBeGreaterThanOrEqual(2);
  });

  it('also holds incidents of the other kinds (but the campaigns of failed logons: internet-facing)', () => {
    for (const seed of SEEDS) {
      const kinds = new Set(scenario(seed).incidents.map((i) => i.kind));
      expect([...kinds].sort()).toEqual(INCIDENT_KINDS.filter((k) => !CAMPAIGN_KINDS.has(k)).sort());
    }
  });
});

describe('office-hours: off-hours misuse', () => {
  it('is IP-based: detected on the victim and their usual address', () => {
    expect(IP_BASED_KINDS.has('off-hours')).toBe(true);
  });

  it.each(SEEDS)(
    'seed %i: three incidents at night local time, from the victim’s usual address, at hours they never use',
    (seed) => {
      const s = scenario(seed);
      const zone = zoneOf(s);
      const users = new Map(s.users.map((u) => [u.name, u]));
      const incidents = s.incidents.filter((i) => i.kind === 'off-hours');
      expect(incidents).toHaveLength(3);
      for (const i of incidents) {
        expect(i.start).toBeGreaterThanOrEqual(s.meta.learningEnd);
        expect(i.failedAttempts).toBe(0);
        expect(['office', 'home']).toContain(users.get(i.user)?.archetype);
        const attack = attackSuccesses(s, i);
        expect(attack).toHaveLength(i.logons);
        expect(i.logons).toBeGreaterThanOrEqual(2);
        const first = localTime(i.start, zone(i.user));
        expect(first.hour + first.minute / 60).toBeGreaterThanOrEqual(1);
        expect(first.hour + first.minute / 60).toBeLessThan(4.55);
        // Every attack logon is at a local hour with no legitimate logon of the victim's, ever.
        const own = legitSuccesses(s, i.user);
        const usedHours = new Set(own.map((e) => localTime(e.timestamp, zone(i.user)).hour));
        for (const e of attack) expect(usedHours.has(localTime(e.timestamp, zone(i.user)).hour)).toBe(false);
        // The address is the one the victim used most in the week before, on several days.
        const week = own.filter((e) => e.timestamp < i.start && e.timestamp >= i.start - 7 * DAY_MS);
        const counts = new Map<string, number>();
        for (const e of week) counts.set(e.sourceIp, (counts.get(e.sourceIp) ?? 0) + 1);
        const most = Math.max(...counts.values());
        expect(counts.get(i.sourceIp)).toBe(most);
        const days = new Set(
          week.filter((e) => e.sourceIp === i.sourceIp).map((e) => Math.floor(e.timestamp / DAY_MS)),
        );
        expect(days.size).toBeGreaterThanOrEqual(3);
      }
    },
  );
});

describe('office-hours: benign look-alikes', () => {
  it.each(SEEDS)('seed %i: late work, a weekday evening past the usual end, from that day’s address', (seed) => {
    const s = scenario(seed);
    const zone = zoneOf(s);
    const labels = s.benignChanges.filter((l) => l.kind === 'late-work');
    expect(labels).toHaveLength(4);
    for (const l of labels) {
      expect(l.start).toBeGreaterThanOrEqual(s.meta.learningEnd);
      const z = zone(l.user);
      const start = localTime(l.start, z);
      expect(isWeekend(start.weekday)).toBe(false);
      expect(start.hour).toBeGreaterThanOrEqual(17);
      const own = legitSuccesses(s, l.user);
      const session = own.filter((e) => e.timestamp >= l.start && e.timestamp <= l.end);
      expect(session.length).toBeGreaterThan(0);
      for (const e of session) expect(l.sourceIps).toContain(e.sourceIp);
      // Earlier the same day, the person worked from that address.
      const day = localDay(l.start, z);
      expect(
        own.some((e) => e.timestamp < l.start && localDay(e.timestamp, z) === day && e.sourceIp === l.sourceIps![0]),
      ).toBe(true);
      // ...and their usual working day ended well before: most of their weekday logons are earlier in the day.
      const weekdayHours = own
        .filter((e) => !isWeekend(localTime(e.timestamp, z).weekday))
        .map((e) => localTime(e.timestamp, z).hour);
      expect(weekdayHours.filter((h) => h < start.hour).length / weekdayHours.length).toBeGreaterThan(0.8);
    }
  });

  it.each(SEEDS)('seed %i: weekend deploys, a Saturday or Sunday daytime', (seed) => {
    const s = scenario(seed);
    const zone = zoneOf(s);
    const labels = s.benignChanges.filter((l) => l.kind === 'weekend-deploy');
    expect(labels).toHaveLength(3);
    for (const l of labels) {
      const session = legitSuccesses(s, l.user).filter((e) => e.timestamp >= l.start && e.timestamp <= l.end);
      expect(session.length).toBeGreaterThanOrEqual(3);
      for (const e of session) {
        const t = localTime(e.timestamp, zone(l.user));
        expect(isWeekend(t.weekday)).toBe(true);
        expect(t.hour).toBeGreaterThanOrEqual(10);
        expect(t.hour).toBeLessThan(20);
        expect(l.sourceIps).toContain(e.sourceIp);
      }
    }
  });

  it.each(SEEDS)('seed %i: trips across time zones, logging on at night home time from new addresses', (seed) => {
    const s = scenario(seed);
    const zone = zoneOf(s);
    const trips = s.expectedNovelty.filter((l) => l.kind === 'travel-timezone');
    expect(trips.length).toBeGreaterThanOrEqual(1);
    for (const l of trips) {
      expect(l.start).toBeGreaterThanOrEqual(s.meta.learningEnd - DAY_MS);
      const own = legitSuccesses(s, l.user);
      const away = own.filter(
        (e) => e.timestamp >= l.start && e.timestamp <= l.end && l.sourceIps!.includes(e.sourceIp),
      );
      expect(away.length).toBeGreaterThan(0);
      expect(own.filter((e) => e.timestamp < l.start && l.sourceIps!.includes(e.sourceIp))).toHaveLength(0);
      // Working hours 6–9 hours away are the home zone's night or late evening.
      const home = away.map((e) => localTime(e.timestamp, zone(l.user)).hour);
      expect(home.some((h) => h >= 21 || h < 6)).toBe(true);
    }
  });

  it.each(SEEDS)(
    'seed %i: DST changes labelled for the people of the zones that change, inside the scenario',
    (seed) => {
      const s = scenario(seed);
      const zone = zoneOf(s);
      const dst = s.benignChanges.filter((l) => l.kind === 'dst-change');
      const eu = Date.UTC(2026, 2, 29, 1);
      const us = Date.UTC(2026, 2, 8, 7);
      expect(eu).toBeGreaterThan(s.meta.learningEnd);
      for (const l of dst) {
        const z = zone(l.user);
        expect(z).not.toBe('Asia/Singapore');
        const at = z === 'Europe/Berlin' ? eu : us;
        expect(l.start).toBe(at - DAY_MS);
        expect(l.end).toBe(at + 7 * DAY_MS - 1);
      }
      // Every Berlin logon in the week after the change from an address its user used before is labelled.
      const humans = new Set(s.users.filter((u) => u.archetype !== 'service').map((u) => u.name));
      const week = s.events.filter(
        (e) =>
          e.outcome === 'success' &&
          !isAttack(s, e) &&
          e.timestamp >= eu &&
          e.timestamp < eu + 7 * DAY_MS &&
          zone(e.user) === 'Europe/Berlin' &&
          humans.has(e.user),
      );
      let known = 0;
      for (const e of week) {
        const usedBefore = s.events.some(
          (x) => x.user === e.user && x.sourceIp === e.sourceIp && x.outcome === 'success' && x.timestamp < eu - DAY_MS,
        );
        const label = dst.find((l) => l.user === e.user && l.start === eu - DAY_MS);
        expect(label?.sourceIps?.includes(e.sourceIp) ?? false).toBe(usedBefore);
        if (usedBefore) known++;
      }
      expect(known).toBeGreaterThan(100);
      expect(dst.some((l) => l.start === us - DAY_MS)).toBe(true);
    },
  );
});
