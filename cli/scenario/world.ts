/**
 * The simulated world's model: the people as the generator sees them, the timeline (local time by UTC
 * offset or IANA zone, daylight saving included) and the event log being written.
 */
import { DAY_MS, type LogonEvent, type Outcome } from '../../shared/core/model';
import { localTime } from '../../shared/core/local-time';
import { canonicalIp } from '../../shared/core/net';
import type { V4Pool } from './network';
import type { Archetype } from './types';
import { HOUR, MINUTE, type Team } from './shapes';

/** A home connection from a scenario day on (a lease, or an IPv6 prefix). */
export interface HomeSegment {
  readonly fromDay: number;
  /** IPv4 lease, or the LAN /64 of an IPv6 subscriber (four groups). */
  readonly ipv4?: string;
  readonly prefix64?: string;
}

/** A service account's fixed host and the servers it logs on to on a schedule. */
export interface ServiceSpec {
  readonly ip: string;
  readonly targets: readonly { readonly host: string; readonly periodMin: number; readonly phaseMin: number }[];
}

interface Trip {
  readonly firstDay: number;
  readonly lastDay: number;
  readonly ips: readonly string[];
  /** The IANA zone of the destination, whose hours the traveller keeps (trips across time zones only). */
  readonly zone?: string;
}

/** A person or service account as the generator simulates it. */
export interface SimUser {
  readonly name: string;
  readonly archetype: Archetype;
  readonly team: Team;
  /** Local time = UTC + tz hours (unless `zone` is set). */
  readonly tz: number;
  /** The IANA zone the user lives in, daylight saving included (shapes with `zones`). */
  zone?: string;
  /** A regular evening session on this share of weekdays, starting at local hour `from`. */
  evening?: { readonly from: number; readonly share: number };
  /** On call: sessions at any hour in alternate weeks. */
  onCall?: boolean;
  /** Usual servers, most used first. */
  readonly hosts: readonly string[];
  readonly method: string;
  readonly workStart: number;
  readonly workEnd: number;
  readonly logonsPerDay: number;
  readonly wfhShare: number;
  readonly vpnShare: number;
  readonly officeVisitShare: number;
  readonly carrierPools?: readonly V4Pool[];
  readonly homePool?: V4Pool;
  firstDay: number;
  lastDay: number;
  joinedAt?: number;
  leftAt?: number;
  /** Active every day until leaving (early leavers, so they surely have history to go dormant from). */
  forceDaily: boolean;
  home: HomeSegment[];
  vacation?: readonly [number, number];
  trip?: Trip;
  service?: ServiceSpec;
}

/** The scenario's days, and local time by fixed UTC offset. */
export class Timeline {
  constructor(
    readonly start: number,
    readonly days: number,
  ) {}

  get end(): number {
    return this.start + this.days * DAY_MS;
  }

  dayStart(day: number): number {
    return this.start + day * DAY_MS;
  }

  /** UTC epoch ms of local hour `hour` (fractional) on scenario day `day` for a user at UTC+tz. */
  local(day: number, hour: number, tz: number): number {
    return this.dayStart(day) + (hour - tz) * HOUR;
  }

  isWeekend(day: number): boolean {
    const dow = new Date(this.dayStart(day)).getUTCDay();
    return dow === 0 || dow === 6;
  }
}

/**
 * The UTC instant at which a wall clock in `zone` shows `wall` (epoch ms of that wall-clock time read as if
 * it were UTC). Two steps settle on the offset in effect at the result; a wall time inside a spring-forward
 * gap (which no clock shows) lands an hour off, like a person's alarm set for 02:30 that night.
 */
export function zonedInstant(wall: number, zone: string): number {
  const first = wall - localTime(wall, zone).offsetMinutes * MINUTE;
  return wall - localTime(first, zone).offsetMinutes * MINUTE;
}

/** The zone whose hours a user keeps on scenario day `day`: the destination's while on a trip across zones. */
function zoneOn(u: SimUser, day: number): string | undefined {
  return u.trip?.zone !== undefined && day >= u.trip.firstDay && day <= u.trip.lastDay ? u.trip.zone : u.zone;
}

/** UTC epoch ms of local hour `hour` (fractional) on scenario day `day` for user `u`, in their zone or offset. */
export function localAt(t: Timeline, day: number, hour: number, u: SimUser): number {
  const zone = zoneOn(u, day);
  return zone === undefined ? t.local(day, hour, u.tz) : zonedInstant(t.dayStart(day) + hour * HOUR, zone);
}

/** The log being written: events inside the scenario, canonical addresses. */
export class EventLog {
  readonly events: LogonEvent[] = [];

  constructor(private readonly t: Timeline) {}

  /** Add an event if it falls inside the scenario; returns whether it did. */
  add(timestamp: number, user: string, ip: string, outcome: Outcome, host: string, method: string): boolean {
    const ts = Math.floor(timestamp);
    if (ts < this.t.start || ts >= this.t.end) return false;
    const sourceIp = canonicalIp(ip);
    if (!sourceIp) throw new Error(`scenario generator produced an invalid address: ${ip}`);
    this.events.push({ timestamp: ts, user, sourceIp, outcome, host, method, logSource: 'ecs' });
    return true;
  }
}
