import { describe, expect, it } from 'vitest';
import { DAY_MS, type LogonEvent } from '../../../shared/core/model';
import { canonicalIp, placeOf } from '../../../shared/core/net';
import {
  DEFAULT_START,
  DORMANCY_GAP_DAYS,
  IP_BASED_KINDS,
  generateScenario,
  scenarioLabels,
  type Incident,
  type Scenario,
  type ScenarioShape,
} from '../../../cli/scenario/generate';
import { CARRIERS, OFFICE_NAT, homeIspOwner, inPool } from '../../../cli/scenario/network';

/** Whether `ip` is in a mobile carrier's CGNAT pools. */
function isCarrierIp(ip: string): boolean {
  return CARRIERS.some((c) => c.pools.some((p) => inPool(p, ip)));
}

const cache = new Map<string, Scenario>();
function scenario(shape: ScenarioShape, seed = 7, days?: number): Scenario {
  const key = `${shape}|${seed}|${days ?? ''}`;
  let s = cache.get(key);
  if (!s) cache.set(key, (s = generateScenario({ seed, shape, ...(days !== undefined ? { days } : {}) })));
  return s;
}

const SHAPES: ScenarioShape[] = ['small-office', 'large-mobile'];

function incidentEvents(s: Scenario, i: Incident): { successes: LogonEvent[]; failures: LogonEvent[] } {
  const mine = s.events.filter((e) => e.user === i.user && e.sourceIp === i.sourceIp);
  return {
    successes: mine.filter((e) => e.outcome === 'success' && e.timestamp >= i.start && e.timestamp <= i.end),
    failures: mine.filter(
      (e) => e.outcome === 'failure' && e.timestamp < i.start && e.timestamp >= i.start - 31 * 60_000,
    ),
  };
}

function isIncidentEvent(s: Scenario, e: LogonEvent): boolean {
  return s.incidents.some(
    (i) =>
      i.user === e.user && i.sourceIp === e.sourceIp && e.timestamp >= i.start - 31 * 60_000 && e.timestamp <= i.end,
  );
}

function successDaysByUser(events: readonly LogonEvent[]): Map<string, Map<number, Set<string>>> {
  const m = new Map<string, Map<number, Set<string>>>();
  for (const e of events) {
    if (e.outcome !== 'success') continue;
    const day = Math.floor(e.timestamp / DAY_MS);
    let u = m.get(e.user);
    if (!u) m.set(e.user, (u = new Map()));
    let d = u.get(day);
    if (!d) u.set(day, (d = new Set()));
    d.add(e.sourceIp);
  }
  return m;
}

describe('generateScenario: determinism', () => {
  it('gives byte-identical events and labels for the same options', () => {
    // Prepare / Act
    const a = generateScenario({ seed: 42, shape: 'small-office' });
    const b = generateScenario({ seed: 42, shape: 'small-office' });
    // Assess
    expect(JSON.stringify(a.events)).toBe(JSON.stringify(b.events));
    expect(JSON.stringify(scenarioLabels(a))).toBe(JSON.stringify(scenarioLabels(b)));
  });

  it('gives different scenarios for different seeds and for different shapes of one seed', () => {
    const a = generateScenario({ seed: 1, shape: 'small-office' });
    const b = generateScenario({ seed: 2, shape: 'small-office' });
    expect(JSON.stringify(a.events)).not.toBe(JSON.stringify(b.events));
    expect(a.incidents.map((i) => i.start)).not.toEqual(b.incidents.map((i) => i.start));
    const large = scenario('large-mobile', 1);
    expect(large.incidents.map((i) => i.start).slice(0, 3)).not.toEqual(a.incidents.map((i) => i.start).slice(0, 3));
  });

  it('labels serialise to JSON and back unchanged', () => {
    const labels = scenarioLabels(scenario('small-office'));
    expect(JSON.parse(JSON.stringify(labels))).toEqual(labels);
  });
});

describe.each(SHAPES)('generateScenario(%s): events', (shape) => {
  const s = scenario(shape);

  it('are sorted, inside [start, end), from the ecs source, with canonical IPs and a host', () => {
    for (let k = 1; k < s.events.length; k++)
      expect(s.events[k]!.timestamp).toBeGreaterThanOrEqual(s.events[k - 1]!.timestamp);
    for (const e of s.events) {
      expect(e.timestamp >= s.meta.start && e.timestamp < s.meta.end).toBe(true);
      expect(e.logSource).toBe('ecs');
      expect(canonicalIp(e.sourceIp)).toBe(e.sourceIp);
      expect(e.host).toBeTruthy();
      expect(Number.isInteger(e.timestamp)).toBe(true);
    }
  });

  it('span the default 42 days from Monday 2026-03-02 with a 14-day learning period', () => {
    expect(s.meta.start).toBe(DEFAULT_START);
    expect(new Date(DEFAULT_START).getUTCDay()).toBe(1);
    expect(s.meta.end - s.meta.start).toBe(42 * DAY_MS);
    expect(s.meta.learningEnd - s.meta.start).toBe(14 * DAY_MS);
    expect(s.meta.events).toBe(s.events.length);
    expect(s.meta.successes + s.meta.failures).toBe(s.events.length);
  });

  it('count user-days as distinct (user, day) pairs with a success', () => {
    const pairs = new Set(
      s.events
        .filter((e) => e.outcome === 'success')
        .map((e) => `${e.user}|${Math.floor((e.timestamp - s.meta.start) / DAY_MS)}`),
    );
    expect(s.meta.userDays).toBe(pairs.size);
    expect(s.meta.detectionUserDays).toBeLessThan(s.meta.userDays);
    expect(s.meta.detectionUserDays).toBeGreaterThan(s.meta.userDays / 2);
  });
});

describe('generateScenario: sizes and shapes', () => {
  it('small office: about 60 users, 2–3 service accounts, 10k–20k events', () => {
    const s = scenario('small-office');
    expect(s.users.length).toBeGreaterThanOrEqual(50);
    expect(s.users.length).toBeLessThanOrEqual(70);
    const services = s.users.filter((u) => u.archetype === 'service').length;
    expect(services).toBeGreaterThanOrEqual(2);
    expect(services).toBeLessThanOrEqual(3);
    expect(s.events.length).toBeGreaterThanOrEqual(10_000);
    expect(s.events.length).toBeLessThanOrEqual(20_000);
  });

  it('large mobile: about 600 users, at least 35% mobile, at most 250k events', () => {
    for (const seed of [7, 8]) {
      const s = scenario('large-mobile', seed);
      expect(s.users.length).toBeGreaterThanOrEqual(550);
      expect(s.users.length).toBeLessThanOrEqual(650);
      expect(s.users.filter((u) => u.archetype === 'mobile').length / s.users.length).toBeGreaterThanOrEqual(0.35);
      expect(s.events.length).toBeGreaterThanOrEqual(50_000);
      expect(s.events.length).toBeLessThanOrEqual(250_000);
    }
  });

  it('has every archetype in both shapes', () => {
    for (const shape of SHAPES) {
      const kinds = new Set(scenario(shape).users.map((u) => u.archetype));
      expect([...kinds].sort()).toEqual(['admin', 'home', 'mobile', 'office', 'service']);
    }
  });
});

describe.each(SHAPES)('generateScenario(%s): incidents', (shape) => {
  const s = scenario(shape);
  const users = new Map(s.users.map((u) => [u.name, u]));

  it('has several of each kind, and stolen credentials against office, home and mobile users', () => {
    const want =
      shape === 'small-office'
        ? { 'stolen-credentials': 3, 'dormant-return': 2, 'attacker-account': 2, 'lateral-movement': 2 }
        : { 'stolen-credentials': 5, 'dormant-return': 5, 'attacker-account': 5, 'lateral-movement': 5 };
    for (const [kind, n] of Object.entries(want)) expect(s.incidents.filter((i) => i.kind === kind)).toHaveLength(n);
    const victims = new Set(
      s.incidents.filter((i) => i.kind === 'stolen-credentials').map((i) => users.get(i.user)?.archetype),
    );
    for (const a of ['office', 'home', 'mobile'] as const) expect(victims.has(a)).toBe(true);
    expect(new Set(s.incidents.map((i) => i.id)).size).toBe(s.incidents.length);
    expect(s.meta.notes).toEqual([]);
  });

  it('happen only after the learning period, failed attempts included', () => {
    for (const i of s.incidents) {
      expect(i.start).toBeGreaterThanOrEqual(s.meta.learningEnd);
      expect(i.end).toBeGreaterThanOrEqual(i.start);
      expect(i.end).toBeLessThan(s.meta.end);
    }
    for (const e of s.events) if (isIncidentEvent(s, e)) expect(e.timestamp).toBeGreaterThanOrEqual(s.meta.learningEnd);
  });

  it('have their events in the log: 1–10 successes from start to end, failures just before', () => {
    for (const i of s.incidents) {
      const { successes, failures } = incidentEvents(s, i);
      expect(successes).toHaveLength(i.logons);
      expect(i.logons).toBeGreaterThanOrEqual(1);
      expect(i.logons).toBeLessThanOrEqual(10);
      expect(successes[0]!.timestamp).toBe(i.start);
      expect(successes[successes.length - 1]!.timestamp).toBe(i.end);
      expect(failures).toHaveLength(i.failedAttempts);
      expect(new Set(successes.map((e) => e.host))).toEqual(new Set(i.hosts));
    }
  });

  it('come from addresses no one uses legitimately (external kinds) or subnets the victim never used (lateral)', () => {
    const legit = s.events.filter((e) => !isIncidentEvent(s, e) && e.outcome === 'success');
    const legitIps = new Set(legit.map((e) => e.sourceIp));
    const legitNets = new Set(legit.map((e) => placeOf(e.sourceIp, 'network')));
    for (const i of s.incidents) {
      if (i.kind === 'stolen-credentials' || i.kind === 'dormant-return') {
        expect(legitIps.has(i.sourceIp)).toBe(false);
        expect(legitNets.has(placeOf(i.sourceIp, 'network'))).toBe(false);
      }
      if (i.kind === 'lateral-movement') {
        expect(i.sourceIp.startsWith('10.')).toBe(true);
        const own = legit.filter((e) => e.user === i.user);
        expect(own.length).toBeGreaterThan(0);
        expect(own.some((e) => placeOf(e.sourceIp, 'prefix') === placeOf(i.sourceIp, 'prefix'))).toBe(false);
        // ...to servers the user does not normally use.
        const usual = new Set(own.map((e) => e.host));
        if (users.get(i.user)?.archetype !== 'admin') for (const h of i.hosts) expect(usual.has(h)).toBe(false);
      }
      if (i.kind === 'attacker-account') {
        expect(users.has(i.user)).toBe(false);
        expect(
          s.events.filter((e) => e.user === i.user && !isIncidentEvent(s, e) && e.outcome === 'success'),
        ).toHaveLength(0);
      }
      expect(IP_BASED_KINDS.has(i.kind)).toBe(i.kind === 'stolen-credentials' || i.kind === 'lateral-movement');
    }
  });

  it('dormant returns come after ≥ 30 days of silence from a departed user active in the first days', () => {
    for (const i of s.incidents.filter((x) => x.kind === 'dormant-return')) {
      const u = users.get(i.user);
      expect(u?.leftAt).toBeDefined();
      const before = s.events.filter((e) => e.user === i.user && e.timestamp < i.start && e.outcome === 'success');
      expect(before.length).toBeGreaterThan(0);
      const last = Math.max(...before.map((e) => e.timestamp));
      expect(last - s.meta.start).toBeLessThan(5 * DAY_MS);
      expect(i.start - last).toBeGreaterThanOrEqual(DORMANCY_GAP_DAYS * DAY_MS);
    }
  });
});

describe.each(SHAPES)('generateScenario(%s): population', (shape) => {
  const s = scenario(shape);
  const byName = new Map(s.users.map((u) => [u.name, u]));
  const legit = s.events.filter((e) => !isIncidentEvent(s, e));
  const legitOk = legit.filter((e) => e.outcome === 'success');
  const days = successDaysByUser(legitOk);

  it('shares the office NAT among at least 30% of users, inside one /24', () => {
    const users = new Set(
      legitOk.filter((e) => (OFFICE_NAT as readonly string[]).includes(e.sourceIp)).map((e) => e.user),
    );
    expect(users.size / s.users.length).toBeGreaterThanOrEqual(0.3);
    expect(new Set(OFFICE_NAT.map((ip) => placeOf(ip, 'prefix'))).size).toBe(1);
  });

  it('gives mobile users a new address at least daily, within a few carrier /16s', () => {
    let transitions = 0;
    let changes = 0;
    for (const u of s.users.filter((x) => x.archetype === 'mobile')) {
      const perDay = [...(days.get(u.name) ?? new Map<number, Set<string>>()).entries()].sort((a, b) => a[0] - b[0]);
      if (perDay.length < 10) continue; // too few days (an early leaver) to judge a habit
      let changed = 0;
      for (let k = 1; k < perDay.length; k++)
        if ([...perDay[k]![1]].some((ip) => !perDay[k - 1]![1].has(ip))) changed++;
      // Two office days in a row (same NAT address) are the exception.
      expect(changed / (perDay.length - 1)).toBeGreaterThanOrEqual(0.75);
      transitions += perDay.length - 1;
      changes += changed;
      const carrier = legitOk.filter((e) => e.user === u.name && isCarrierIp(e.sourceIp));
      const distinctPerDay = new Set(carrier.map((e) => e.sourceIp)).size / perDay.length;
      expect(distinctPerDay).toBeGreaterThanOrEqual(1.5);
      expect(new Set(carrier.map((e) => placeOf(e.sourceIp, 'network'))).size).toBeLessThanOrEqual(4);
    }
    expect(changes / transitions).toBeGreaterThanOrEqual(0.9);
  });

  it('runs service accounts from one fixed internal host, many times a day, every day', () => {
    for (const u of s.users.filter((x) => x.archetype === 'service')) {
      const mine = legitOk.filter((e) => e.user === u.name);
      expect(new Set(mine.map((e) => e.sourceIp)).size).toBe(1);
      expect(mine[0]!.sourceIp.startsWith('10.')).toBe(true);
      expect(mine.length / s.meta.days).toBeGreaterThanOrEqual(10);
      expect(days.get(u.name)?.size).toBe(s.meta.days);
      expect(new Set(mine.map((e) => e.host)).size).toBeLessThanOrEqual(4);
    }
  });

  it('sends admins to servers through a bastion', () => {
    const admins = s.users.filter((x) => x.archetype === 'admin');
    expect(admins.length).toBeGreaterThan(0);
    for (const u of admins) {
      const mine = legitOk.filter((e) => e.user === u.name);
      const toServers = mine.filter((e) => !e.host?.startsWith('bastion'));
      expect(toServers.length).toBeGreaterThan(0);
      for (const e of toServers) expect(['10.0.0.5', '10.0.0.6']).toContain(e.sourceIp);
    }
  });

  it('follows a weekday and office-hours rhythm for office workers', () => {
    const office = legitOk.filter((e) => byName.get(e.user)?.archetype === 'office');
    const weekday = office.filter((e) => ![0, 6].includes(new Date(e.timestamp).getUTCDay()));
    expect(weekday.length / office.length).toBeGreaterThan(0.9);
    // Local time is UTC+1 (small office) or UTC−5..+1: 05–24 UTC covers the working days.
    const daytime = office.filter((e) => {
      const h = new Date(e.timestamp).getUTCHours();
      return h >= 4 && h <= 23;
    });
    expect(daytime.length / office.length).toBeGreaterThan(0.95);
  });

  it('keeps new hires silent before joining and departed users silent after leaving', () => {
    const hires = s.users.filter((u) => u.joinedAt !== undefined);
    const leavers = s.users.filter((u) => u.leftAt !== undefined);
    expect(hires.length).toBeGreaterThanOrEqual(3);
    expect(leavers.length).toBeGreaterThanOrEqual(3);
    for (const u of hires) {
      const mine = legitOk.filter((e) => e.user === u.name);
      expect(mine.length).toBeGreaterThan(0);
      expect(Math.min(...mine.map((e) => e.timestamp))).toBeGreaterThanOrEqual(u.joinedAt!);
      expect(s.expectedNovelty.some((l) => l.kind === 'new-hire' && l.user === u.name && l.start === u.joinedAt)).toBe(
        true,
      );
    }
    for (const u of leavers) {
      const mine = legitOk.filter((e) => e.user === u.name);
      expect(mine.length).toBeGreaterThan(0);
      expect(Math.max(...mine.map((e) => e.timestamp))).toBeLessThan(u.leftAt!);
    }
  });

  it('labels trips with the hotel addresses the traveller actually used', () => {
    const trips = s.expectedNovelty.filter((l) => l.kind === 'travel');
    expect(trips.length).toBeGreaterThanOrEqual(2);
    for (const l of trips) {
      expect(l.end - l.start).toBeGreaterThanOrEqual(2 * DAY_MS - 1);
      expect(l.end - l.start).toBeLessThan(6 * DAY_MS);
      const used = legitOk.filter(
        (e) => e.user === l.user && e.timestamp >= l.start && e.timestamp <= l.end && l.sourceIps!.includes(e.sourceIp),
      );
      expect(used.length).toBeGreaterThan(0);
      // Hotel addresses are new to the traveller: not used before the trip.
      const before = legitOk.filter(
        (e) => e.user === l.user && e.timestamp < l.start && l.sourceIps!.includes(e.sourceIp),
      );
      expect(before).toHaveLength(0);
    }
  });

  it('moves home leases inside the /24 (DHCP churn) and to a new /16 on an ISP change', () => {
    const churn = s.benignChanges.filter((l) => l.kind === 'dhcp-churn');
    const isp = s.benignChanges.filter((l) => l.kind === 'isp-change');
    expect(churn.length).toBeGreaterThan(0);
    expect(isp.length).toBeGreaterThanOrEqual(2);
    for (const l of churn) {
      const ip = l.sourceIps![0]!;
      const earlier = legitOk.filter(
        (e) =>
          e.user === l.user &&
          e.timestamp < l.start &&
          e.sourceIp !== ip &&
          placeOf(e.sourceIp, 'prefix') === placeOf(ip, 'prefix'),
      );
      const any = legitOk.some((e) => e.user === l.user && e.timestamp < l.start);
      // Either the old lease in the same /24 was seen, or the user had not logged on from home yet.
      if (earlier.length === 0 && any) {
        const homes = legitOk.filter(
          (e) => e.user === l.user && e.timestamp < l.start && homeIspOwner(e.sourceIp) !== undefined,
        );
        expect(homes).toHaveLength(0);
      }
    }
    for (const l of isp) {
      const ip = l.sourceIps![0]!;
      const prior = legitOk.filter((e) => e.user === l.user && e.timestamp < l.start);
      expect(prior.some((e) => placeOf(e.sourceIp, 'network') === placeOf(ip, 'network'))).toBe(false);
    }
  });

  it('has internet brute-force noise: failures only, from many public IPs, root most tried', () => {
    const known = new Set([...s.users.map((u) => u.name), ...s.incidents.map((i) => i.user)]);
    const stranger = s.events.filter((e) => !known.has(e.user));
    expect(stranger.length).toBeGreaterThan(s.meta.days * 20);
    expect(stranger.every((e) => e.outcome === 'failure')).toBe(true);
    expect(stranger.some((e) => e.user === 'admin')).toBe(true);
    const root = s.events.filter((e) => e.user === 'root');
    expect(root.length).toBeGreaterThan(stranger.length / 10);
    expect(root.every((e) => e.outcome === 'failure')).toBe(true);
    expect(new Set(stranger.map((e) => e.sourceIp)).size).toBeGreaterThan(s.meta.days * 3);
  });
});

describe('generateScenario: options', () => {
  it('fits dormant returns in 35 days with the 30-day gap kept', () => {
    const s = scenario('small-office', 3, 35);
    const dormant = s.incidents.filter((i) => i.kind === 'dormant-return');
    expect(dormant).toHaveLength(2);
    for (const i of dormant) {
      const last = Math.max(
        ...s.events
          .filter((e) => e.user === i.user && e.timestamp < i.start && e.outcome === 'success')
          .map((e) => e.timestamp),
      );
      expect(i.start - last).toBeGreaterThanOrEqual(DORMANCY_GAP_DAYS * DAY_MS);
    }
    expect(s.meta.end - s.meta.start).toBe(35 * DAY_MS);
  });

  it('leaves dormant returns out, with a note, when the scenario is too short', () => {
    const s = generateScenario({ seed: 3, shape: 'small-office', days: 28 });
    expect(s.incidents.filter((i) => i.kind === 'dormant-return')).toHaveLength(0);
    expect(s.incidents.filter((i) => i.kind === 'stolen-credentials')).toHaveLength(3);
    expect(s.meta.notes.join(' ')).toMatch(/dormant/);
  });

  it('honours start and learningDays', () => {
    const start = Date.UTC(2025, 0, 6);
    const s = generateScenario({ seed: 5, shape: 'small-office', start, days: 36, learningDays: 10 });
    expect(s.meta.learningEnd).toBe(start + 10 * DAY_MS);
    expect(s.events[0]!.timestamp).toBeGreaterThanOrEqual(start);
    for (const i of s.incidents) expect(i.start).toBeGreaterThanOrEqual(start + 10 * DAY_MS);
  });

  it('rejects impossible options', () => {
    expect(() => generateScenario({ seed: 1, shape: 'small-office', days: 10, learningDays: 10 })).toThrow(RangeError);
    expect(() => generateScenario({ seed: 1, shape: 'small-office', start: DEFAULT_START + 1 })).toThrow(RangeError);
    expect(() => generateScenario({ seed: 1, shape: 'huge' as ScenarioShape })).toThrow(RangeError);
  });
});
