/**
 * The attacks, after the learning period, each emitted into the log and labelled as an incident.
 */
import { DAY_MS, type LogonEvent } from '../../shared/core/model';
import { clockText, localTime } from '../../shared/core/local-time';
import { canonicalIp } from '../../shared/core/net';
import { countryPlace, minDistanceKm } from '../../shared/core/detectors/impossible-travel/geo';
import {
  TRAVEL_NETS,
  WORKSTATION_VLAN_FIRST,
  WORKSTATION_VLAN_LAST,
  attackerIp,
  homeIspOwner,
  ipInPool,
} from './network';
import { Rng } from './random';
import type { Incident, IncidentKind } from './types';
import { ATTACKER_ACCOUNT_NAMES, DORMANCY_GAP_DAYS, HOUR, MINUTE, type ShapeSpec, STOLEN_VICTIMS } from './shapes';
import { type EventLog, localAt, type SimUser, type Timeline } from './world';

interface AttackPlan {
  readonly user: string;
  readonly ip: string;
  readonly start: number;
  readonly hosts: readonly string[];
  readonly method: string;
  /** Successful logons (≥ 1). */
  readonly logons: number;
  readonly failures: number;
  /** The logons fall within this long of the first (default: drawn, minutes to hours). */
  readonly durationMs?: number;
}

/** Emit an attack's events; returns the time of its last success and the hosts it actually reached. */
function emitAttack(p: AttackPlan, rng: Rng, log: EventLog): { end: number; hosts: string[] } {
  // Failed attempts (guessing, or trying which of several stolen passwords works) in the minutes before.
  if (p.failures > 0) {
    const span = rng.range(1, 30) * MINUTE;
    const times = Array.from({ length: p.failures }, () => p.start - 1 - rng.next() * span).sort((a, b) => a - b);
    for (const ft of times) log.add(ft, p.user, p.ip, 'failure', p.hosts[0]!, 'password');
  }
  const duration = p.durationMs ?? (rng.chance(0.6) ? rng.range(2, 30) * MINUTE : rng.range(30, 300) * MINUTE);
  const times = [
    p.start,
    ...Array.from({ length: p.logons - 1 }, () => p.start + 1 + Math.floor(rng.next() * duration)),
  ].sort((a, b) => a - b);
  const reached: string[] = [];
  for (const st of times) {
    const host = rng.chance(0.6) ? p.hosts[0]! : rng.pick(p.hosts);
    if (!reached.includes(host)) reached.push(host);
    log.add(st, p.user, p.ip, 'success', host, p.method);
  }
  return { end: times[times.length - 1]!, hosts: reached };
}

/** An attack start in [lo, hi]: 60% in the victim's business hours (blending in), 40% at night. */
function attackTime(rng: Rng, t: Timeline, tz: number, lo: number, hi: number): number | undefined {
  if (hi < lo) return undefined;
  for (let i = 0; i < 50; i++) {
    const day = Math.floor((lo - t.start) / DAY_MS) + rng.int(0, Math.floor((hi - lo) / DAY_MS));
    const hour = rng.chance(0.6) ? rng.range(9, 17.5) : rng.range(0, 6);
    const ts = Math.floor(t.local(day, hour, tz) + rng.int(0, 59_999));
    if (ts >= lo && ts <= hi) return ts;
  }
  return Math.floor(lo + rng.next() * (hi - lo));
}

function attackLogons(rng: Rng): number {
  return Math.min(10, 1 + rng.poisson(2.5));
}

export function generateAttacks(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  earlyLeavers: SimUser[],
  t: Timeline,
  learningEnd: number,
  log: EventLog,
  notes: string[],
): Incident[] {
  const rng = Rng.derive(seed, 'attacks');
  const incidents: Incident[] = [];
  const taken = new Set<string>(earlyLeavers.map((u) => u.name));
  const servers = spec.hosts.filter((h) => !h.startsWith('bastion'));
  // Attacks start an hour after learning at the earliest and end well before the scenario does.
  const lo = learningEnd + HOUR;
  const hi = t.end - 6 * HOUR;
  const usedIps = new Set<string>(log.events.map((e) => e.sourceIp));
  const freshAttackerIp = (): string => {
    for (;;) {
      const ip = canonicalIp(attackerIp(rng))!;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
  };
  const presentAt = (u: SimUser, ts: number): boolean =>
    ts >= t.dayStart(u.firstDay) &&
    ts < (u.leftAt ?? t.end) &&
    !(u.trip && ts >= t.dayStart(u.trip.firstDay) && ts < t.dayStart(u.trip.lastDay + 1));
  /** Emit the attack and label it; `describe` gets the hosts actually reached. */
  const run = (kind: IncidentKind, p: AttackPlan, describe: (hosts: string) => string): void => {
    const { end, hosts } = emitAttack(p, rng, log);
    const n = incidents.filter((i) => i.kind === kind).length + 1;
    const logons = `${p.logons} logon${p.logons === 1 ? '' : 's'}`;
    incidents.push({
      id: `${kind}-${n}`,
      kind,
      user: p.user,
      sourceIp: canonicalIp(p.ip)!,
      start: p.start,
      end,
      description: describe(`${logons} to ${hosts.join(', ')}`),
      logons: p.logons,
      failedAttempts: p.failures,
      hosts,
    });
    taken.add(p.user);
  };

  // Stolen credentials, used from hosting providers' ranges no one in the organisation ever logs on from.
  for (let i = 0; i < spec.attacks['stolen-credentials']; i++) {
    const archetype = STOLEN_VICTIMS[i % STOLEN_VICTIMS.length]!;
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const pool = users.filter(
      (u) =>
        u.archetype === archetype &&
        !taken.has(u.name) &&
        presentAt(u, start) &&
        u.firstDay < t.days - 1 &&
        u.joinedAt === undefined,
    );
    if (pool.length === 0) {
      notes.push(`no ${archetype} user available for stolen-credentials #${i + 1}`);
      continue;
    }
    const u = rng.pick(pool);
    const method = u.method === 'publickey' && rng.chance(0.7) ? 'password' : u.method;
    const hosts =
      u.archetype === 'admin' ? ['bastion-01'] : rng.chance(0.7) ? u.hosts : [...u.hosts, rng.pick(servers)];
    const plan: AttackPlan = {
      user: u.name,
      ip: freshAttackerIp(),
      start,
      hosts,
      method,
      logons: attackLogons(rng),
      failures: rng.chance(0.5) ? rng.int(2, 15) : 0,
    };
    run(
      'stolen-credentials',
      plan,
      (what) =>
        `${u.name} (${u.archetype}) logs on from ${plan.ip} at a hosting provider with stolen credentials (${what}${plan.failures ? ` after ${plan.failures} failed attempts` : ''})`,
    );
  }

  // A departed user's account comes back after ≥ 30 days of silence.
  for (let i = 0; i < spec.attacks['dormant-return']; i++) {
    const u = earlyLeavers[i];
    if (!u || u.leftAt === undefined) {
      notes.push(`no departed user for dormant-return #${i + 1}`);
      continue;
    }
    const start = attackTime(rng, t, u.tz, Math.max(lo, u.leftAt + DORMANCY_GAP_DAYS * DAY_MS + HOUR), hi);
    if (start === undefined) {
      notes.push(
        `dormant-return #${i + 1} (${u.name}) does not fit: the scenario is too short for ${DORMANCY_GAP_DAYS} days of silence`,
      );
      continue;
    }
    const plan: AttackPlan = {
      user: u.name,
      ip: freshAttackerIp(),
      start,
      hosts: rng.chance(0.7) ? u.hosts : [rng.pick(servers)],
      method: 'password',
      logons: attackLogons(rng),
      failures: rng.chance(0.4) ? rng.int(1, 6) : 0,
    };
    const silent = Math.floor((start - u.leftAt) / DAY_MS);
    run(
      'dormant-return',
      plan,
      (what) => `${u.name}, gone for ${silent} days, logs on again from ${plan.ip} (${what})`,
    );
  }

  // Accounts the intruder created, used from a foothold inside or from their own infrastructure.
  const accountNames = rng.sample(
    ATTACKER_ACCOUNT_NAMES.filter((n) => !users.some((u) => u.name === n)),
    spec.attacks['attacker-account'],
  );
  const serviceHosts = users.flatMap((u) => (u.service ? [u.service.ip] : []));
  for (const name of accountNames) {
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const internal = rng.chance(0.5);
    const ip = internal
      ? serviceHosts.length > 0 && rng.chance(0.5)
        ? rng.pick(serviceHosts)
        : workstationIp(rng)
      : freshAttackerIp();
    const plan: AttackPlan = {
      user: name,
      ip,
      start,
      hosts: rng.sample(servers, rng.int(1, 3)),
      method: rng.chance(0.5) ? 'password' : 'publickey',
      logons: attackLogons(rng),
      failures: 0,
    };
    run(
      'attacker-account',
      plan,
      (what) =>
        `new account ${name} created by the intruder logs on from ${internal ? 'internal host ' : ''}${ip} (${what})`,
    );
  }

  // Lateral movement: a user's credentials from an internal host in a subnet they never used, to servers they do not use.
  const usedPrefixes = new Map<string, Set<string>>();
  for (const e of log.events) {
    if (e.outcome !== 'success') continue;
    const p = e.sourceIp.split('.').slice(0, 3).join('.');
    let s = usedPrefixes.get(e.user);
    if (!s) usedPrefixes.set(e.user, (s = new Set()));
    s.add(p);
  }
  for (let i = 0; i < spec.attacks['lateral-movement']; i++) {
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const wantService = rng.chance(0.2);
    const pool = users.filter(
      (u) =>
        (wantService ? u.archetype === 'service' : u.archetype !== 'service') &&
        !taken.has(u.name) &&
        presentAt(u, start) &&
        u.joinedAt === undefined,
    );
    if (pool.length === 0) {
      notes.push(`no user available for lateral-movement #${i + 1}`);
      continue;
    }
    const u = rng.pick(pool);
    const own = usedPrefixes.get(u.name) ?? new Set<string>();
    let ip = '';
    for (let k = 0; k < 100; k++) {
      const candidates = serviceHosts.filter((h) => h !== u.service?.ip);
      ip = !u.service && candidates.length > 0 && rng.chance(0.5) ? rng.pick(candidates) : workstationIp(rng);
      if (!own.has(ip.split('.').slice(0, 3).join('.'))) break;
    }
    const usual = new Set(u.archetype === 'admin' ? [] : u.hosts);
    const unusual = servers.filter((h) => !usual.has(h) && !(u.service?.targets.some((x) => x.host === h) ?? false));
    const hosts = rng.sample(unusual.length > 0 ? unusual : servers, rng.int(1, 3));
    const plan: AttackPlan = {
      user: u.name,
      ip,
      start,
      hosts,
      method: u.method,
      logons: attackLogons(rng),
      failures: rng.chance(0.3) ? rng.int(1, 5) : 0,
    };
    run(
      'lateral-movement',
      plan,
      (what) =>
        `${u.name} (${u.archetype}) logs on from internal host ${ip}, a subnet they never used, to servers they do not use (${what})`,
    );
  }
  // Off-hours misuse: the victim's credential used at night, local time, from the victim's own usual address
  // (their machine or connection taken over), at hours the victim has never logged on: only the hour is new.
  if (spec.attacks['off-hours'] > 0) {
    const successesOf = new Map<string, LogonEvent[]>();
    for (const e of log.events) {
      if (e.outcome !== 'success') continue;
      let list = successesOf.get(e.user);
      if (!list) successesOf.set(e.user, (list = []));
      list.push(e);
    }
    const dayLo = Math.floor((lo - t.start) / DAY_MS);
    const dayHi = Math.floor((hi - t.start) / DAY_MS);
    for (let i = 0; i < spec.attacks['off-hours']; i++) {
      let placed = false;
      for (let tries = 0; tries < 100 && !placed; tries++) {
        const pool = users.filter(
          (u) =>
            u.zone !== undefined &&
            (u.archetype === 'office' || u.archetype === 'home') &&
            !taken.has(u.name) &&
            u.joinedAt === undefined &&
            !u.forceDaily,
        );
        if (pool.length === 0) break;
        const u = rng.pick(pool);
        const zone = u.zone!;
        const start = Math.floor(localAt(t, rng.int(dayLo, dayHi), rng.range(1, 4.5), u) + rng.int(0, 59_999));
        if (start < lo || start + HOUR > hi || !presentAt(u, start)) continue;
        // The logons fall within the hour after `start`: both local hours must be ones the user never used.
        const mine = successesOf.get(u.name) ?? [];
        const first = localTime(start, zone);
        const hours = new Set(mine.map((e) => localTime(e.timestamp, zone).hour));
        if (hours.has(first.hour) || hours.has(localTime(start + HOUR, zone).hour)) continue;
        const ip = usualAddress(mine, start);
        if (ip === undefined) continue;
        const plan: AttackPlan = {
          user: u.name,
          ip,
          start,
          hosts: u.hosts,
          method: u.method,
          logons: rng.int(2, 6),
          failures: 0,
          durationMs: rng.range(10, 59) * MINUTE,
        };
        run(
          'off-hours',
          plan,
          (what) =>
            `${u.name} (${u.archetype}, ${zone}) logs on at ${clockText(first.hour, first.minute)} local time, an hour they never use, from their own usual address ${ip} (${what})`,
        );
        placed = true;
      }
      if (!placed) notes.push(`no victim and night found for off-hours #${i + 1}`);
    }
  }
  return incidents;
}

/** Least distance (km) from the victim's country to the attacker's, between the countries less their extents. */
export const TRAVEL_ATTACK_MIN_KM = 2000;
/** The attacker's first logon comes this long after the victim's own logon at home (minutes). */
export const TRAVEL_ATTACK_GAP_MINUTES = [10, 90] as const;

/**
 * Impossible travel: a victim's credential used from a consumer network abroad (a foreign ISP or hotel of
 * `TRAVEL_NETS`, never a hosting provider, whose country locates no one) at least `TRAVEL_ATTACK_MIN_KM` from
 * the victim's country, 10–90 minutes after the victim logged on at home from their own usual address (a home
 * broadband connection they used on several days that week): the victim is at home, the attacker is abroad.
 *
 * Victims are office and home workers with no trip (a traveller's own foreign logons would blur the attack) who
 * are not the victim of another incident (`taken`). Its own random stream, drawn after every other attack, so
 * adding it leaves the other incidents and their events as they were.
 */
export function generateTravelAttacks(
  seed: number,
  spec: ShapeSpec,
  users: readonly SimUser[],
  t: Timeline,
  learningEnd: number,
  log: EventLog,
  taken: ReadonlySet<string>,
  notes: string[],
): Incident[] {
  const count = spec.attacks['impossible-travel'];
  if (count === 0) return [];
  const rng = Rng.derive(seed, 'impossible-travel');
  const incidents: Incident[] = [];
  const victims = new Set(taken);
  const lo = learningEnd + HOUR;
  const hi = t.end - 6 * HOUR;
  const usedIps = new Set<string>(log.events.map((e) => e.sourceIp));
  const successesOf = new Map<string, LogonEvent[]>();
  for (const e of log.events) {
    if (e.outcome !== 'success') continue;
    let list = successesOf.get(e.user);
    if (!list) successesOf.set(e.user, (list = []));
    list.push(e);
  }
  for (let i = 0; i < count; i++) {
    let placed = false;
    for (let tries = 0; tries < 200 && !placed; tries++) {
      const pool = users.filter(
        (u) =>
          (u.archetype === 'office' || u.archetype === 'home') &&
          !victims.has(u.name) &&
          u.trip === undefined &&
          u.joinedAt === undefined &&
          !u.forceDaily,
      );
      if (pool.length === 0) break;
      const u = rng.pick(pool);
      const mine = successesOf.get(u.name) ?? [];
      const homeLogons = mine.filter((e) => e.timestamp >= lo && e.timestamp < hi && homeIspOwner(e.sourceIp));
      if (homeLogons.length === 0) continue;
      const before = rng.pick(homeLogons);
      if (usualAddress(mine, before.timestamp) !== before.sourceIp) continue;
      const home = countryPlace(homeIspOwner(before.sourceIp)!.country)!;
      const far = TRAVEL_NETS.filter(
        (n) => minDistanceKm(home, countryPlace(n.owner.country)!) >= TRAVEL_ATTACK_MIN_KM,
      );
      const net = rng.pick(far);
      const [minGap, maxGap] = TRAVEL_ATTACK_GAP_MINUTES;
      const start = before.timestamp + rng.int(minGap * MINUTE, maxGap * MINUTE);
      if (start + HOUR > hi || start >= (u.leftAt ?? t.end)) continue;
      let ip = '';
      do ip = canonicalIp(ipInPool(rng, net.pool))!;
      while (usedIps.has(ip));
      usedIps.add(ip);
      const plan: AttackPlan = {
        user: u.name,
        ip,
        start,
        hosts: u.hosts,
        method: u.method === 'publickey' && rng.chance(0.7) ? 'password' : u.method,
        logons: rng.int(2, 5),
        failures: 0,
        durationMs: rng.range(5, 40) * MINUTE,
      };
      const { end, hosts } = emitAttack(plan, rng, log);
      const minutes = Math.round((start - before.timestamp) / MINUTE);
      incidents.push({
        id: `impossible-travel-${incidents.length + 1}`,
        kind: 'impossible-travel',
        user: u.name,
        sourceIp: ip,
        start,
        end,
        description: `${u.name} (${u.archetype}) logs on from ${net.owner.org} in ${net.owner.country} (${ip}) ${minutes} minutes after their own logon at home in ${home.code} from ${before.sourceIp} (${plan.logons} logons to ${hosts.join(', ')})`,
        logons: plan.logons,
        failedAttempts: 0,
        hosts,
      });
      victims.add(u.name);
      placed = true;
    }
    if (!placed) notes.push(`no victim at home found for impossible-travel #${i + 1}`);
  }
  return incidents;
}

/**
 * The address a user logged on from most in the week before `before` (on a tie, the first counted), if they
 * used it on at least 3 days of it: a day's IPv6 privacy address is not a usual address.
 */
function usualAddress(successes: readonly LogonEvent[], before: number): string | undefined {
  const counts = new Map<string, number>();
  const days = new Map<string, Set<number>>();
  for (const e of successes) {
    if (e.outcome !== 'success' || e.timestamp >= before || e.timestamp < before - 7 * DAY_MS) continue;
    counts.set(e.sourceIp, (counts.get(e.sourceIp) ?? 0) + 1);
    let d = days.get(e.sourceIp);
    if (!d) days.set(e.sourceIp, (d = new Set()));
    d.add(Math.floor(e.timestamp / DAY_MS));
  }
  let best: string | undefined;
  let most = 0;
  for (const [ip, n] of counts)
    if (n > most) {
      best = ip;
      most = n;
    }
  return best !== undefined && (days.get(best)?.size ?? 0) >= USUAL_ADDRESS_MIN_DAYS ? best : undefined;
}

const USUAL_ADDRESS_MIN_DAYS = 3;

/** An address in the workstation VLANs, which never originate SSH logons. */
function workstationIp(rng: Rng): string {
  return `10.${rng.int(WORKSTATION_VLAN_FIRST, WORKSTATION_VLAN_LAST)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
}
