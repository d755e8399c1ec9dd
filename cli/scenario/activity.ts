/**
 * Legitimate activity: people's working days, admins behind bastions, service accounts' cron, local-time
 * habits (evenings, on-call), trips across zones, the look-alikes of off-hours misuse, and internet noise.
 */
import { DAY_MS, type LogonEvent } from '../../shared/core/model';
import { localTime } from '../../shared/core/local-time';
import { canonicalIp } from '../../shared/core/net';
import { BASTIONS, CARRIERS, OFFICE_NAT, TRAVEL_NETS, VPN_POOL, ipInPool, noiseIp } from './network';
import { Rng } from './random';
import type { Archetype, NoveltyLabel } from './types';
import { EXPOSED_HOSTS, HOUR, type LocalHabitsSpec, MINUTE, SCANNER_NAMES, SECOND, type ShapeSpec } from './shapes';
import { type EventLog, localAt, type SimUser, type Timeline, zonedInstant } from './world';
import { homeIp } from './population';

type Place = 'office' | 'home' | 'vpn' | 'mobile' | 'travel';

const WEEKDAY_ACTIVE: Record<Archetype, number> = {
  office: 0.93,
  home: 0.93,
  mobile: 0.9,
  admin: 0.95,
  service: 1,
};
const WEEKEND_ACTIVE: Record<Archetype, number> = {
  office: 0.05,
  home: 0.08,
  mobile: 0.25,
  admin: 0.3,
  service: 1,
};

function isActive(u: SimUser, day: number, t: Timeline, rng: Rng): boolean {
  if (day < u.firstDay || day > u.lastDay) return false;
  if (u.forceDaily || (u.joinedAt !== undefined && day === u.firstDay)) return true;
  if (u.vacation && day >= u.vacation[0] && day < u.vacation[1]) return false;
  if (u.trip && day >= u.trip.firstDay && day <= u.trip.lastDay) return rng.chance(0.9);
  return rng.chance(t.isWeekend(day) ? WEEKEND_ACTIVE[u.archetype] : WEEKDAY_ACTIVE[u.archetype]);
}

function dayPlace(u: SimUser, day: number, t: Timeline, rng: Rng): Place {
  if (u.trip && day >= u.trip.firstDay && day <= u.trip.lastDay) return 'travel';
  const weekend = t.isWeekend(day);
  const hasHome = u.home.length > 0;
  // A new hire's first day is at the office (or on their phone, for field staff).
  if (day === u.firstDay && u.joinedAt !== undefined)
    return u.archetype === 'mobile' ? 'mobile' : u.archetype === 'home' ? 'home' : 'office';
  switch (u.archetype) {
    case 'office':
    case 'admin': {
      if (weekend) return hasHome ? 'home' : 'vpn';
      const wfh = u.archetype === 'admin' ? 0.25 : u.wfhShare;
      const vpn = u.archetype === 'admin' ? 0.15 : u.vpnShare;
      const r = rng.next();
      if (r < wfh && hasHome) return 'home';
      if (r < wfh + vpn) return 'vpn';
      return 'office';
    }
    case 'home':
      return rng.chance(u.vpnShare) ? 'vpn' : hasHome ? 'home' : 'vpn';
    case 'mobile':
      return !weekend && rng.chance(u.officeVisitShare) ? 'office' : 'mobile';
    case 'service':
      return 'office';
  }
}

/** Local hours of `n` logons in a working day: spread over the day, thinner over lunch. */
function workHours(u: SimUser, n: number, weekend: boolean, rng: Rng): number[] {
  const hours: number[] = [];
  while (hours.length < n) {
    const h = weekend ? rng.range(9.5, 22) : rng.range(u.workStart, u.workEnd);
    if (h >= 12 && h < 13.2 && rng.chance(0.5)) continue;
    hours.push(h);
  }
  return hours.sort((a, b) => a - b);
}

/** The servers and bastions of the organisation. */
interface Estate {
  readonly servers: readonly string[];
  readonly bastions: readonly { readonly host: string; readonly ip: string }[];
}

export function estateOf(spec: ShapeSpec): Estate {
  return { servers: spec.hosts.filter((h) => !h.startsWith('bastion')), bastions: BASTIONS.slice(0, spec.bastions) };
}

export function generateHuman(seed: number, u: SimUser, t: Timeline, log: EventLog, estate: Estate): void {
  const rng = Rng.derive(seed, 'activity', u.name);
  let mobileIp: string | undefined;
  const carrierIp = (fresh: number): string => {
    if (!mobileIp || rng.chance(fresh)) {
      const pools = u.carrierPools ?? [];
      const pool =
        pools.length > 1 && rng.chance(0.25) ? rng.pick(pools) : (u.homePool ?? rng.pick(CARRIERS[0]!.pools));
      mobileIp = ipInPool(rng, pool);
    }
    return mobileIp;
  };

  for (let day = 0; day < t.days; day++) {
    if (!isActive(u, day, t, rng)) continue;
    const weekend = t.isWeekend(day);
    const place = dayPlace(u, day, t, rng);
    const officeIp = rng.chance(0.6) ? OFFICE_NAT[0]! : OFFICE_NAT[1]!;
    const vpnIp = rng.pick(VPN_POOL);
    const home = homeIp(seed, u, day);
    // A phone gets a new carrier-NAT address overnight, and several times a day (cell changes, idle timeouts).
    if (u.archetype === 'mobile') mobileIp = undefined;

    const ipFor = (p: Place, hour: number): string => {
      switch (p) {
        case 'office':
          return officeIp;
        case 'vpn':
          return vpnIp;
        case 'home':
          return home ?? vpnIp;
        case 'mobile':
          // In the evening a field worker is often on home Wi-Fi.
          if (hour >= 19 && home && rng.chance(0.5)) return home;
          return carrierIp(0.75);
        case 'travel': {
          if (u.archetype === 'mobile' && rng.chance(0.5)) return carrierIp(0.75); // roaming data hairpins home
          const ips = u.trip?.ips ?? [];
          return ips.length > 1 && rng.chance(0.3) ? ips[1]! : (ips[0] ?? vpnIp);
        }
      }
    };

    if (u.archetype === 'admin') {
      generateAdminDay(u, day, place, weekend, t, log, rng, ipFor, estate);
      continue;
    }

    const n = Math.min(12, 1 + rng.poisson(Math.max(0.5, (weekend ? 0.4 : 1) * u.logonsPerDay - 1)));
    const hours = workHours(u, n, weekend, rng);
    // Now and then an evening check from home after an office day.
    if (!weekend && place === 'office' && home && rng.chance(0.1)) hours.push(rng.range(19, 23));
    for (const h of hours) {
      const p = h >= 19 && place === 'office' ? 'home' : place;
      const ip = ipFor(p, h);
      const ts = localAt(t, day, h, u) + rng.int(0, 59_999);
      const host = rng.chance(0.7) ? u.hosts[0]! : rng.pick(u.hosts);
      // Password users mistype now and then: one failure seconds before the success, same place.
      if (u.method !== 'publickey' && rng.chance(0.04))
        log.add(ts - rng.int(3, 40) * SECOND, u.name, ip, 'failure', host, u.method);
      log.add(ts, u.name, ip, 'success', host, u.method);
    }
  }
}

function generateAdminDay(
  u: SimUser,
  day: number,
  place: Place,
  weekend: boolean,
  t: Timeline,
  log: EventLog,
  rng: Rng,
  ipFor: (p: Place, hour: number) => string,
  estate: Estate,
): void {
  const bastion = rng.pick(estate.bastions);
  // An admin opens one or two sessions on the bastion, then hops from it to the servers they work on.
  const sessions = weekend ? 1 : rng.int(1, 2);
  const hours = workHours(u, sessions, weekend, rng);
  const servers = estate.servers;
  for (const h of hours) {
    const ts = localAt(t, day, h, u) + rng.int(0, 59_999);
    log.add(ts, u.name, ipFor(place, h), 'success', bastion.host, u.method);
    const hops = weekend ? rng.int(1, 4) : rng.int(2, 7);
    let tt = ts;
    for (let i = 0; i < hops; i++) {
      tt += rng.int(1, 40) * MINUTE + rng.int(0, 59_999);
      log.add(tt, u.name, bastion.ip, 'success', rng.pick(servers), u.method);
    }
  }
}

export function generateService(seed: number, u: SimUser, t: Timeline, log: EventLog): void {
  const spec = u.service;
  if (!spec) return;
  const rng = Rng.derive(seed, 'cron', u.name);
  for (const target of spec.targets) {
    const period = target.periodMin * MINUTE;
    for (let ts = t.start + target.phaseMin * MINUTE; ts < t.end; ts += period) {
      // Cron fires on the minute; the SSH handshake lands a few seconds later.
      log.add(ts + rng.int(500, 8_000), u.name, spec.ip, 'success', target.host, 'publickey');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Local time (office-hours): evening habits, on-call, trips across zones, look-alikes of misuse
// ---------------------------------------------------------------------------------------------

/** Where people fly to: a trip goes to one 6–9 hours from home, where working hours are the home zone's night. */
const TRAVEL_ZONES = [
  'America/Los_Angeles',
  'America/Chicago',
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Helsinki',
  'Asia/Dubai',
  'Asia/Singapore',
  'Asia/Tokyo',
] as const;

/** A trip across zones shifts the home-zone hours by 6 to 9 hours, daylight saving included. */
const ZONE_TRIP_MIN_SHIFT_MIN = 6 * 60;
const ZONE_TRIP_MAX_SHIFT_MIN = 9 * 60;
/** How long after a daylight-saving change everyone's logons are labelled `dst-change`. */
const DST_LABEL_DAYS = 7;

/** Whether the user is away or absent on scenario day `day` (not yet joined, left, on vacation, travelling). */
function awayOn(u: SimUser, day: number): boolean {
  return (
    day < u.firstDay ||
    day > u.lastDay ||
    (u.vacation !== undefined && day >= u.vacation[0] && day < u.vacation[1]) ||
    (u.trip !== undefined && day >= u.trip.firstDay && day <= u.trip.lastDay)
  );
}

export function planLocalHabits(seed: number, h: LocalHabitsSpec, users: SimUser[]): void {
  const rng = Rng.derive(seed, 'local-habits');
  for (const u of users) {
    if ((u.archetype === 'office' || u.archetype === 'home') && rng.chance(h.eveningShare))
      u.evening = { from: rng.range(19.5, 21), share: rng.range(0.3, 0.6) };
  }
  for (const u of rng.sample(
    users.filter((u) => u.archetype === 'admin'),
    h.onCallAdmins,
  ))
    u.onCall = true;
}

/** Trips to a zone 6–9 hours away in the detection period, working that zone's hours (`travel-timezone`). */
export function planZoneTrips(
  seed: number,
  h: LocalHabitsSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  earlyLeavers: readonly SimUser[],
  expected: NoveltyLabel[],
  notes: string[],
): void {
  const rng = Rng.derive(seed, 'zone-trips');
  const candidates = users.filter(
    (u) =>
      u.zone !== undefined &&
      (u.archetype === 'office' || u.archetype === 'home') &&
      !u.trip &&
      !u.evening &&
      !earlyLeavers.includes(u) &&
      u.joinedAt === undefined &&
      u.lastDay === t.days - 1,
  );
  for (const u of rng.sample(candidates, h.zoneTrips)) {
    const length = rng.int(3, 6);
    const firstDay = rng.int(learningDays, Math.max(learningDays, t.days - 2 - length));
    if (firstDay + length > t.days - 1) {
      notes.push(`no room for a trip across time zones of ${length} days`);
      continue;
    }
    const at = t.dayStart(firstDay) + 12 * HOUR;
    const home = localTime(at, u.zone!).offsetMinutes;
    const far = TRAVEL_ZONES.filter((z) => {
      const shift = Math.abs(localTime(at, z).offsetMinutes - home);
      return shift >= ZONE_TRIP_MIN_SHIFT_MIN && shift <= ZONE_TRIP_MAX_SHIFT_MIN;
    });
    if (far.length === 0) {
      notes.push(`no destination 6–9 hours from ${u.zone} for ${u.name}'s trip`);
      continue;
    }
    const zone = rng.pick(far);
    const hotel = ipInPool(rng, rng.pick(TRAVEL_NETS).pool);
    const ips = rng.chance(0.5) ? [hotel, ipInPool(rng, rng.pick(TRAVEL_NETS).pool)] : [hotel];
    const canonical = ips.map((ip) => canonicalIp(ip) ?? ip);
    const lastDay = firstDay + length - 1;
    u.trip = { firstDay, lastDay, ips: canonical, zone };
    // The trip replaces a vacation it would overlap.
    if (u.vacation && firstDay < u.vacation[1] && lastDay >= u.vacation[0]) delete u.vacation;
    expected.push({
      kind: 'travel-timezone',
      user: u.name,
      start: zonedInstant(t.dayStart(firstDay), zone),
      end: zonedInstant(t.dayStart(lastDay + 1), zone) - 1,
      sourceIps: canonical,
    });
  }
}

/** Regular evening sessions from home, and on-call admins paged at any hour in alternate weeks. */
export function generateLocalHabits(seed: number, u: SimUser, t: Timeline, log: EventLog, estate: Estate): void {
  const rng = Rng.derive(seed, 'habits', u.name);
  const onCallParity = rng.int(0, 1);
  for (let day = 0; day < t.days; day++) {
    if (awayOn(u, day)) continue;
    const ip = homeIp(seed, u, day) ?? rng.pick(VPN_POOL);
    if (u.evening && !t.isWeekend(day) && rng.chance(u.evening.share)) {
      const n = rng.int(1, 2);
      for (let k = 0; k < n; k++) {
        const ts = localAt(t, day, u.evening.from + rng.range(0, 1.5), u) + rng.int(0, 59_999);
        log.add(ts, u.name, ip, 'success', u.hosts[0]!, u.method);
      }
    }
    if (u.onCall && Math.floor(day / 7) % 2 === onCallParity) {
      const pages = rng.poisson(1.5);
      for (let k = 0; k < pages; k++) {
        const bastion = rng.pick(estate.bastions);
        let ts = localAt(t, day, rng.range(0, 24), u) + rng.int(0, 59_999);
        log.add(ts, u.name, ip, 'success', bastion.host, u.method);
        for (let hop = rng.int(1, 3); hop > 0; hop--) {
          ts += rng.int(1, 20) * MINUTE + rng.int(0, 59_999);
          log.add(ts, u.name, bastion.ip, 'success', rng.pick(estate.servers), u.method);
        }
      }
    }
  }
}

/** Successes of `u` logged so far on local day `day` (in their zone). */
function successesOn(log: EventLog, t: Timeline, u: SimUser, day: number): LogonEvent[] {
  const from = localAt(t, day, 0, u);
  const to = localAt(t, day + 1, 0, u);
  return log.events.filter(
    (e) => e.user === u.name && e.outcome === 'success' && e.timestamp >= from && e.timestamp < to,
  );
}

/** Emit a session of logons from `first` on, minutes apart; returns their times. */
function session(
  log: EventLog,
  rng: Rng,
  u: SimUser,
  ip: string,
  first: number,
  n: number,
  gapMin: readonly [number, number],
): number[] {
  const times: number[] = [];
  let ts = first;
  for (let k = 0; k < n; k++) {
    if (k > 0) ts += rng.int(gapMin[0], gapMin[1]) * MINUTE + rng.int(0, 59_999);
    if (log.add(ts, u.name, ip, 'success', rng.pick(u.hosts), u.method)) times.push(Math.floor(ts));
  }
  return times;
}

/** Benign logons that look like off-hours misuse, in the detection period: late work and weekend deploys. */
export function generateLookAlikes(
  seed: number,
  h: LocalHabitsSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  log: EventLog,
  benign: NoveltyLabel[],
  notes: string[],
): void {
  const rng = Rng.derive(seed, 'look-alikes');
  const lastDay = t.days - 2;
  const people = users.filter(
    (u) => u.zone !== undefined && !u.forceDaily && (u.archetype === 'office' || u.archetype === 'home'),
  );

  // Late work: a couple of hours past the person's usual end, from where they worked that day.
  for (const u of rng.sample(
    people.filter((u) => !u.evening),
    h.lateWork,
  )) {
    let placed = false;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const day = rng.int(learningDays, lastDay);
      if (t.isWeekend(day) || awayOn(u, day)) continue;
      const hour = Math.min(23, u.workEnd + rng.range(1.5, 3));
      const first = localAt(t, day, hour, u) + rng.int(0, 59_999);
      // From where they worked that day: the address of their last logon before the session.
      const earlier = successesOn(log, t, u, day).filter((e) => e.timestamp < first);
      if (earlier.length === 0) continue;
      const ip = earlier.reduce((a, b) => (b.timestamp > a.timestamp ? b : a)).sourceIp;
      const times = session(log, rng, u, ip, first, rng.int(1, 3), [5, 40]);
      if (times.length === 0) continue;
      benign.push({
        kind: 'late-work',
        user: u.name,
        start: times[0]!,
        end: times[times.length - 1]! + HOUR,
        sourceIps: [ip],
      });
      placed = true;
    }
    if (!placed) notes.push(`no working weekday found for ${u.name}'s late work`);
  }

  // Weekend deploys: an engineer working a Saturday or Sunday daytime from home.
  for (const u of rng.sample(
    people.filter((u) => u.team === 'dev'),
    h.weekendDeploys,
  )) {
    let placed = false;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const day = rng.int(learningDays, lastDay);
      if (!t.isWeekend(day) || awayOn(u, day)) continue;
      const ip = homeIp(seed, u, day) ?? rng.pick(VPN_POOL);
      const first = localAt(t, day, rng.range(10, 15), u) + rng.int(0, 59_999);
      const times = session(log, rng, u, ip, first, rng.int(3, 8), [5, 30]);
      if (times.length === 0) continue;
      benign.push({
        kind: 'weekend-deploy',
        user: u.name,
        start: times[0]!,
        end: times[times.length - 1]! + HOUR,
        sourceIps: [ip],
      });
      placed = true;
    }
    if (!placed) notes.push(`no weekend found for ${u.name}'s deploy`);
  }
}

/**
 * Label the days after each daylight-saving change for the people in that zone: their logons keep their wall
 * clock, so in UTC they move by an hour. Labelled from a day before the change (the night of the change) to a
 * week after it, on the addresses the person already used before the change: an alert on such a logon can only
 * be about *when* it happened, while one on a new address in that week is about the address (a lease, a trip).
 */
export function labelDstChanges(users: readonly SimUser[], t: Timeline, log: EventLog, benign: NoveltyLabel[]): void {
  const zones = [...new Set(users.flatMap((u) => (u.zone !== undefined && !u.service ? [u.zone] : [])))];
  for (const zone of zones) {
    let previous = localTime(t.start, zone).offsetMinutes;
    for (let at = t.start + HOUR; at < t.end; at += HOUR) {
      const offset = localTime(at, zone).offsetMinutes;
      if (offset === previous) continue;
      previous = offset;
      const start = at - DAY_MS;
      const end = at + DST_LABEL_DAYS * DAY_MS - 1;
      const people = new Set(users.filter((u) => u.zone === zone && !u.service).map((u) => u.name));
      const before = new Map<string, Set<string>>();
      const during = new Map<string, Set<string>>();
      for (const e of log.events) {
        if (e.outcome !== 'success' || !people.has(e.user) || e.timestamp > end) continue;
        const into = e.timestamp < start ? before : during;
        let ips = into.get(e.user);
        if (!ips) into.set(e.user, (ips = new Set()));
        ips.add(e.sourceIp);
      }
      for (const u of users) {
        if (!people.has(u.name)) continue;
        const known = before.get(u.name);
        const ips = [...(during.get(u.name) ?? [])].filter((ip) => known?.has(ip)).sort();
        if (ips.length > 0) benign.push({ kind: 'dst-change', user: u.name, start, end, sourceIps: ips });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Internet noise: brute-force campaigns, failures only
// ---------------------------------------------------------------------------------------------

function randomLogin(rng: Rng): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  const n = rng.int(3, 8);
  for (let i = 0; i < n; i++) s += letters[rng.int(0, 25)];
  return rng.chance(0.3) ? `${s}${rng.int(1, 99)}` : s;
}

/**
 * The internet's guessing at exposed hosts, failures only. A campaign that tries the organisation's real names
 * (`targeted`) is a password spray that did not get in: labelled `failed-spray` (expected) in `expected`.
 */
export function generateNoise(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  log: EventLog,
  expected: NoveltyLabel[],
): void {
  const orgNames = users.filter((u) => u.archetype !== 'service').map((u) => u.name);
  for (let day = 0; day < t.days; day++) {
    const rng = Rng.derive(seed, 'noise', day);
    const campaigns = rng.poisson(spec.noiseCampaignsPerDay);
    for (let c = 0; c < campaigns; c++) {
      const ip = noiseIp(rng);
      const host = rng.pick(EXPOSED_HOSTS);
      const style = rng.weighted([
        ['dictionary', 70],
        ['root', 15],
        ['random', 10],
        ['targeted', 5],
      ] as const);
      const attempts = rng.chance(0.25) ? rng.int(10, 40) : rng.int(2, 8);
      let ts = t.dayStart(day) + rng.range(0, DAY_MS);
      const first = ts;
      for (let i = 0; i < attempts; i++) {
        const user =
          style === 'root' || (style === 'dictionary' && rng.chance(0.35))
            ? 'root'
            : style === 'dictionary'
              ? rng.pick(SCANNER_NAMES)
              : style === 'random'
                ? randomLogin(rng)
                : rng.pick(orgNames); // credential stuffing with leaked names: still failures
        log.add(ts, user, ip, 'failure', rng.chance(0.8) ? host : rng.pick(EXPOSED_HOSTS), 'password');
        ts += rng.range(1.5, 15) * SECOND;
      }
      // Labelled without drawing from `rng`: the events stay exactly as they were.
      if (style === 'targeted')
        expected.push({
          kind: 'failed-spray',
          user: '',
          start: first - 15 * 60_000,
          end: ts + 2 * 3_600_000,
          sourceIps: [canonicalIp(ip) ?? ip],
        });
    }
  }
}
