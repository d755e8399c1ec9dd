/**
 * The population and its life events: accounts, new hires and departures, home broadband (DHCP churn,
 * ISP changes), trips and vacations.
 */
import { DAY_MS } from '../../shared/core/model';
import { canonicalIp } from '../../shared/core/net';
import {
  CARRIERS,
  HOME_ISPS,
  IPV6_ISPS,
  SERVICE_SUBNET,
  TRAVEL_NETS,
  hostIn24,
  ipInPool,
  ipv6PrivacyAddress,
  net24In,
} from './network';
import { Rng } from './random';
import type { Archetype, NoveltyLabel } from './types';
import {
  CHANGE_LABEL_DAYS,
  DORMANCY_GAP_DAYS,
  FIRST_NAMES,
  LAST_NAMES,
  MIN_DAYS_FOR_DORMANT_RETURN,
  NEW_HIRE_NOVELTY_DAYS,
  SERVICE_NAMES,
  type ShapeSpec,
  type Team,
  TEAM_HOSTS,
} from './shapes';
import type { HomeSegment, ServiceSpec, SimUser, Timeline } from './world';

const TEAMS_BY_ARCHETYPE: Record<Archetype, readonly (readonly [Team, number])[]> = {
  office: [
    ['web', 3],
    ['dev', 3],
    ['data', 2],
    ['support', 2],
  ],
  home: [
    ['dev', 5],
    ['data', 2.5],
    ['web', 2.5],
  ],
  mobile: [
    ['sales', 7],
    ['support', 3],
  ],
  admin: [['ops', 1]],
  service: [['ops', 1]],
};

function humanNames(rng: Rng, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}`);
  return [...names];
}

function makeUser(seed: number, name: string, archetype: Archetype, spec: ShapeSpec): SimUser {
  const rng = Rng.derive(seed, 'profile', name);
  const team = rng.weighted(TEAMS_BY_ARCHETYPE[archetype]);
  const available = TEAM_HOSTS[team].filter((h) => spec.hosts.includes(h));
  const pool = available.length > 0 ? available : ['files-01'];
  const hosts = rng.sample(pool, rng.int(1, Math.min(3, pool.length)));
  const method =
    archetype === 'mobile'
      ? rng.weighted([
          ['password', 5],
          ['keyboard-interactive/pam', 2],
          ['publickey', 3],
        ] as const)
      : archetype === 'admin' || archetype === 'service'
        ? 'publickey'
        : rng.weighted([
            ['publickey', 75],
            ['password', 20],
            ['keyboard-interactive/pam', 5],
          ] as const);
  const workStart = Math.min(10.5, Math.max(6.5, rng.normal(8.6, 0.6)));
  const carrier = archetype === 'mobile' ? rng.pick(CARRIERS) : undefined;
  return {
    name,
    archetype,
    team,
    tz: rng.weighted(spec.timeZones),
    hosts,
    method,
    workStart,
    workEnd: workStart + Math.min(10.5, Math.max(7, rng.normal(8.8, 0.5))),
    logonsPerDay: archetype === 'mobile' ? rng.range(3, 7) : rng.range(2, 6),
    // Office workers work from home some days; remote workers use the VPN to a person-specific degree.
    wfhShare: archetype === 'office' ? rng.pick([0.05, 0.1, 0.2, 0.3]) : 0,
    vpnShare: archetype === 'office' ? 0.04 : archetype === 'home' ? rng.pick([0, 0, 0.3, 0.9]) : 0,
    officeVisitShare: archetype === 'mobile' ? 0.15 : 0,
    ...(carrier ? { carrierPools: carrier.pools, homePool: rng.pick(carrier.pools) } : {}),
    firstDay: 0,
    lastDay: Number.POSITIVE_INFINITY,
    forceDaily: false,
    home: [],
  };
}

export function buildPopulation(seed: number, spec: ShapeSpec): SimUser[] {
  const rng = Rng.derive(seed, 'population');
  const humans = spec.counts.office + spec.counts.home + spec.counts.mobile + spec.counts.admin + spec.newHires;
  const names = humanNames(rng, humans);
  const archetypes: Archetype[] = [];
  for (const a of ['office', 'home', 'mobile', 'admin'] as const)
    for (let i = 0; i < spec.counts[a]; i++) archetypes.push(a);
  for (let i = 0; i < spec.newHires; i++) archetypes.push(rng.weighted(spec.newHireArchetypes));
  const zones = spec.zones;
  const users = names.map((n, i) => {
    if (!zones) return makeUser(seed, n, archetypes[i]!, spec);
    // Each office's people carry its prefix (`amer-…`), the convention `userTimeZones` patterns match.
    const z = Rng.derive(seed, 'zone', n).weighted(zones.map((z) => [z, z.weight] as const));
    const u = makeUser(seed, `${z.prefix}${n}`, archetypes[i]!, spec);
    u.zone = z.zone;
    return u;
  });
  if (spec.counts.service > SERVICE_NAMES.length) throw new RangeError('not enough service account names');
  for (let i = 0; i < spec.counts.service; i++) {
    const u = makeUser(seed, SERVICE_NAMES[i]!, 'service', spec);
    u.service = makeServiceSpec(Rng.derive(seed, 'service', u.name), i, spec);
    if (zones) u.zone = zones[0]!.zone;
    users.push(u);
  }
  return users;
}

/** Fixed host, 1–4 target servers, a cron-like period each, chosen so a service logs on 12–60 times a day. */
function makeServiceSpec(rng: Rng, index: number, spec: ShapeSpec): ServiceSpec {
  const servers = spec.hosts.filter((h) => !h.startsWith('bastion'));
  const targets = rng.sample(servers, rng.int(1, 4)).map((host, _i, all) => {
    const periods = all.length === 1 ? [30, 60, 120] : all.length === 2 ? [60, 120, 240] : [120, 240];
    const periodMin = rng.pick(periods);
    return { host, periodMin, phaseMin: rng.int(0, periodMin - 1) };
  });
  return { ip: `${SERVICE_SUBNET}.${20 + index}`, targets };
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: new hires and departures
// ---------------------------------------------------------------------------------------------

export function planLifecycle(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  expectedNovelty: NoveltyLabel[],
  notes: string[],
): { earlyLeavers: SimUser[] } {
  const rng = Rng.derive(seed, 'lifecycle');
  const founders = users
    .filter((u) => u.archetype !== 'service')
    .slice(0, users.length - spec.counts.service - spec.newHires);
  const hires = users.filter((u) => u.archetype !== 'service').slice(founders.length);

  for (const u of hires) {
    let day = rng.int(Math.max(1, learningDays - 2), Math.max(1, t.days - 6));
    while (t.isWeekend(day) && day + 1 < t.days) day++;
    u.firstDay = day;
    u.joinedAt = t.dayStart(day);
    expectedNovelty.push({
      kind: 'new-hire',
      user: u.name,
      start: u.joinedAt,
      end: u.joinedAt + NEW_HIRE_NOVELTY_DAYS * DAY_MS - 1,
    });
  }

  // Early leavers: active every day from day 0 to `lastDay`, then gone. The latest last day keeps a
  // 30-day silence possible before the scenario ends (the dormant returns need it).
  const candidates = rng.sample(
    founders.filter((u) => u.archetype === 'office' || u.archetype === 'home' || u.archetype === 'mobile'),
    spec.departedEarly + spec.departedMid,
  );
  const earlyLeavers = candidates.slice(0, spec.departedEarly);
  const lastDayMax = Math.max(1, Math.min(4, t.days - DORMANCY_GAP_DAYS - 2));
  if (t.days < MIN_DAYS_FOR_DORMANT_RETURN)
    notes.push(`dormant returns need days ≥ ${MIN_DAYS_FOR_DORMANT_RETURN} (got ${t.days}): none generated`);
  for (const u of earlyLeavers) {
    u.lastDay = rng.int(1, lastDayMax);
    u.leftAt = t.dayStart(u.lastDay + 1);
    u.forceDaily = true;
  }
  for (const u of candidates.slice(spec.departedEarly)) {
    const leftDay = rng.int(Math.max(2, learningDays - 3), Math.max(2, t.days - 5));
    u.lastDay = leftDay - 1;
    u.leftAt = t.dayStart(leftDay);
  }
  for (const u of users) u.lastDay = Math.min(u.lastDay, t.days - 1);
  return { earlyLeavers };
}

// ---------------------------------------------------------------------------------------------
// Home broadband: DHCP churn inside a /24, occasional ISP change to a new /16
// ---------------------------------------------------------------------------------------------

function hasHomeNet(u: SimUser, rng: Rng): boolean {
  if (u.archetype === 'service') return false;
  // Six in ten mobile workers also log on from home Wi-Fi now and then.
  return u.archetype !== 'mobile' || rng.chance(0.6);
}

export function planHomeNetworks(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  benign: NoveltyLabel[],
): void {
  const changeRng = Rng.derive(seed, 'isp-changes');
  const v4Users: SimUser[] = [];
  for (const u of users) {
    const rng = Rng.derive(seed, 'home', u.name);
    if (!hasHomeNet(u, rng)) continue;
    if (rng.chance(spec.ipv6HomeShare)) {
      const isp = rng.pick(IPV6_ISPS).prefix;
      const site = rng.int(0, 0xffff).toString(16);
      const lan = (rng.int(0, 0xff) * 256 + 1).toString(16);
      u.home.push({ fromDay: 0, prefix64: `${isp}:${site}:${lan}` });
      continue;
    }
    v4Users.push(u);
  }
  // ISP changes: people present through the change, chosen before leases are laid out.
  const changers = new Map<string, number>();
  const eligible = v4Users.filter((u) => u.firstDay === 0 && u.lastDay >= learningDays + 4 && !u.forceDaily);
  for (const u of changeRng.sample(eligible, spec.ispChanges)) {
    changers.set(u.name, changeRng.int(learningDays, Math.max(learningDays, Math.min(u.lastDay, t.days - 1) - 3)));
  }

  for (const u of v4Users) {
    const rng = Rng.derive(seed, 'lease', u.name);
    let isp = rng.pick(HOME_ISPS);
    let net24 = net24In(rng, rng.pick(isp.pools));
    let host = rng.int(2, 254);
    u.home.push({ fromDay: 0, ipv4: hostIn24(net24, host) });
    const change = changers.get(u.name);
    // Leases change every two to five weeks; the first change may come early (the lease predates the scenario).
    const interval = rng.int(14, 35);
    let nextLease = rng.int(1, interval);
    for (let day = 1; day < t.days; day++) {
      if (day === change) {
        const old = isp;
        while (isp === old) isp = rng.pick(HOME_ISPS);
        net24 = net24In(rng, rng.pick(isp.pools));
        host = rng.int(2, 254);
        const ip = hostIn24(net24, host);
        u.home.push({ fromDay: day, ipv4: ip });
        benign.push({
          kind: 'isp-change',
          user: u.name,
          start: t.dayStart(day),
          end: t.dayStart(day) + CHANGE_LABEL_DAYS * DAY_MS - 1,
          sourceIps: [ip],
        });
        nextLease = day + rng.int(14, 35);
      } else if (day === nextLease) {
        const old = host;
        while (host === old) host = rng.int(2, 254);
        const ip = hostIn24(net24, host);
        u.home.push({ fromDay: day, ipv4: ip });
        if (day <= u.lastDay)
          benign.push({
            kind: 'dhcp-churn',
            user: u.name,
            start: t.dayStart(day),
            end: t.dayStart(day) + CHANGE_LABEL_DAYS * DAY_MS - 1,
            sourceIps: [ip],
          });
        nextLease = day + interval;
      }
    }
  }
}

export function homeIp(seed: number, u: SimUser, day: number): string | undefined {
  let seg: HomeSegment | undefined;
  for (const s of u.home) if (s.fromDay <= day) seg = s;
  if (!seg) return undefined;
  if (seg.ipv4) return seg.ipv4;
  // Privacy addresses rotate daily: a new address every day inside the same /64 (and /48).
  return seg.prefix64 ? ipv6PrivacyAddress(Rng.derive(seed, 'v6iid', u.name, day), seg.prefix64) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Trips and vacations
// ---------------------------------------------------------------------------------------------

export function planTripsAndVacations(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  earlyLeavers: SimUser[],
  expected: NoveltyLabel[],
): void {
  const rng = Rng.derive(seed, 'trips');
  const travellers = rng.sample(
    users.filter((u) => u.archetype !== 'service' && !earlyLeavers.includes(u)),
    spec.trips,
  );
  for (const u of travellers) {
    const length = rng.int(2, 6);
    const lo = Math.max(2, u.firstDay + 3);
    const hi = Math.min(t.days - 1, u.lastDay) - length;
    if (hi < lo) continue;
    const firstDay = rng.int(lo, hi);
    const hotel = ipInPool(rng, rng.pick(TRAVEL_NETS).pool);
    const ips = rng.chance(0.5) ? [hotel, ipInPool(rng, rng.pick(TRAVEL_NETS).pool)] : [hotel];
    const canonical = ips.map((ip) => canonicalIp(ip) ?? ip);
    u.trip = { firstDay, lastDay: firstDay + length - 1, ips: canonical };
    expected.push({
      kind: 'travel',
      user: u.name,
      start: t.dayStart(firstDay),
      end: t.dayStart(firstDay + length) - 1,
      sourceIps: canonical,
    });
  }
  for (const u of users) {
    if (u.archetype === 'service' || u.forceDaily) continue;
    const vr = Rng.derive(seed, 'vacation', u.name);
    if (!vr.chance(spec.vacationShare)) continue;
    const from = vr.int(0, Math.max(0, t.days - 3));
    const to = from + vr.int(3, 9);
    if (u.trip && from <= u.trip.lastDay && to > u.trip.firstDay) continue;
    u.vacation = [from, to];
  }
}
