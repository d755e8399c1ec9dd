/**
 * Local time for people: which IANA time zone a user works in, and what a UTC instant is there (day of week,
 * hour, minute), daylight-saving aware. Pure: `Intl` is part of the language, not I/O.
 *
 * Converting an instant is the hot path (once per observation), and `Intl.DateTimeFormat#formatToParts` costs
 * microseconds. Every offset in use today is a multiple of 15 minutes (Nepal +05:45, Chatham +12:45 included) and
 * transitions happen at a local wall-clock minute that is a multiple of 15, so a zone's offset is constant within
 * each 15-minute UTC bucket: offsets are cached per zone and bucket, one `Intl` call per zone and bucket.
 */
import * as z from 'zod';
import { userPatternRegExp } from './user-pattern';

/** Mon…Sun as JavaScript numbers them: 0 = Sunday. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export interface LocalTime {
  readonly weekday: Weekday;
  /** 0–23. */
  readonly hour: number;
  /** 0–59. */
  readonly minute: number;
  /** Minutes east of UTC in effect at the instant (−720…+840). */
  readonly offsetMinutes: number;
}

const QUARTER_MS = 15 * 60_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();
/** Bound on cached (zone, bucket) offsets per zone: a year of buckets is ~35,000; cleared beyond that. */
const MAX_CACHED_OFFSETS = 50_000;

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Whether `zone` is an IANA time zone name this runtime knows (`Europe/Berlin`, `UTC`). */
export function isTimeZone(zone: string): boolean {
  if (zone.trim() === '' || zone !== zone.trim()) return false;
  try {
    formatter(zone);
    return true;
  } catch {
    return false;
  }
}

/** The zone's offset from UTC at instant `t`, in minutes east. */
function offsetAt(zone: string, t: number): number {
  const bucket = Math.floor(t / QUARTER_MS);
  let byBucket = offsets.get(zone);
  if (!byBucket) offsets.set(zone, (byBucket = new Map()));
  const cached = byBucket.get(bucket);
  if (cached !== undefined) return cached;
  const at = bucket * QUARTER_MS;
  const parts: Record<string, number> = {};
  for (const p of formatter(zone).formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
  const offset = Math.round((asUtc - at) / 60_000);
  if (byBucket.size >= MAX_CACHED_OFFSETS) byBucket.clear();
  byBucket.set(bucket, offset);
  return offset;
}

/** What instant `t` is on a wall clock in `zone`. */
export function localTime(t: number, zone: string): LocalTime {
  const offsetMinutes = zone === 'UTC' ? 0 : offsetAt(zone, t);
  const local = new Date(t + offsetMinutes * 60_000);
  return {
    weekday: local.getUTCDay() as Weekday,
    hour: local.getUTCHours(),
    minute: local.getUTCMinutes(),
    offsetMinutes,
  };
}

/** Saturday and Sunday. */
export function isWeekend(weekday: Weekday): boolean {
  return weekday === 0 || weekday === 6;
}

const WEEKDAY_NAMES = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export function weekdayName(weekday: Weekday): string {
  return WEEKDAY_NAMES[weekday];
}

/** `03:12` */
export function clockText(hour: number, minute = 0): string {
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

/** An IANA time zone name, refused with a message naming an example when unknown. */
export const timeZoneSchema = z.string().superRefine((zone, ctx) => {
  if (!isTimeZone(zone))
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(zone.slice(0, 60))} is not an IANA time zone name like Europe/Berlin, America/New_York or UTC`,
    });
});

/** A user name or `*` glob (case-insensitive, like the allowlist's) whose users work in `timeZone`. */
export const userTimeZoneSchema = z.strictObject({
  pattern: z.string().trim().min(1, 'give a user name or a glob such as ops-*'),
  timeZone: timeZoneSchema,
});
export type UserTimeZone = z.infer<typeof userTimeZoneSchema>;

/**
 * The time zone each user works in: the first `userTimeZones` entry whose pattern matches the name, else the
 * deployment's `timeZone`. Compiled once per run; answers cached per user.
 */
export function compileUserTimeZones(
  timeZone: string,
  userTimeZones: readonly UserTimeZone[],
): (user: string) => string {
  if (userTimeZones.length === 0) return () => timeZone;
  const rules = userTimeZones.map((r) => ({ re: userPatternRegExp(r.pattern), zone: r.timeZone }));
  const cache = new Map<string, string>();
  return (user) => {
    let zone = cache.get(user);
    if (zone === undefined) {
      zone = rules.find((r) => r.re.test(user))?.zone ?? timeZone;
      if (cache.size < 100_000) cache.set(user, zone);
    }
    return zone;
  };
}
