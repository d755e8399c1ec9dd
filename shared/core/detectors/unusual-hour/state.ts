/**
 * What Unusual Hour learns, per user and for the population, and how a window is learned into it.
 *
 * Per user (`UserHours`, ~0.5 KB stored): decayed counts of the user's active 15-minute buckets per local hour,
 * weekdays and weekends apart, in the user's time zone (`zone`, kept so a changed setting moves the counts with
 * the clock instead of making every habit look shifted); the first bucket counted (how long the pattern has
 * been learned); and the most recent buckets counted, which make learning idempotent: the overlapping half of
 * the next window, or a retried window, counts nothing twice.
 *
 * Population (`PopulationHours`): the same counts summed over every user who shapes the population, each in
 * their own zone, so "09:00" means the organisation's morning wherever its people are.
 */
import * as z from 'zod';
import { BUCKET_MS, bucketOf, type LogonObservation } from '../../model';
import { compileUserTimeZones, isWeekend, localTime } from '../../local-time';
import type { DetectionSettings } from '../../settings';
import type { DetectorState } from '../detector';
import {
  addBucket,
  emptyHours,
  HOURS,
  isAroundTheClock,
  rotate,
  rounded,
  type DayType,
  type HourCounts,
} from './hours';

/** How many of the most recent counted buckets are remembered: ample for 30-minute windows and 15-minute catch-up. */
export const RECENT_BUCKETS = 16;

const hours = z.array(z.number().finite().min(0)).length(HOURS);
const bucket = z.number().int().min(0);

const userHoursV1 = z.strictObject({
  zone: z.string().min(1),
  weekday: hours,
  weekend: hours,
  at: bucket,
  first: bucket,
  recent: z.array(bucket).max(RECENT_BUCKETS),
});
export type UserHours = z.infer<typeof userHoursV1>;

const populationHoursV1 = z.strictObject({ weekday: hours, weekend: hours, at: bucket });
export type PopulationHours = z.infer<typeof populationHoursV1>;

/** Zone lookups compiled once per settings object (a run's settings never change during the run). */
const zoneLookups = new WeakMap<object, (user: string) => string>();
export function zoneOf(settings: Pick<DetectionSettings, 'timeZone' | 'userTimeZones'>, user: string): string {
  let f = zoneLookups.get(settings);
  if (!f) zoneLookups.set(settings, (f = compileUserTimeZones(settings.timeZone, settings.userTimeZones)));
  return f(user);
}

/** Where a bucket falls on the user's wall clock: its day type and hour (the bucket's start; offsets are 15-minute multiples). */
export function slotOf(b: number, zone: string): { day: DayType; hour: number } {
  const t = localTime(b * BUCKET_MS, zone);
  return { day: isWeekend(t.weekday) ? 'weekend' : 'weekday', hour: t.hour };
}

/** Hours between two zones' clocks at instant `t` (positive: `to` is ahead), rounded to whole hours. */
export function zoneShiftHours(from: string, to: string, t: number): number {
  return Math.round((localTime(t, to).offsetMinutes - localTime(t, from).offsetMinutes) / 60);
}

/** The user's counts as seen from `zone`: moved with the clock when the user's zone setting changed since learning. */
export function countsIn(u: UserHours, zone: string, at: number): HourCounts {
  if (u.zone === zone) return u;
  const shift = zoneShiftHours(u.zone, zone, at);
  return { weekday: rotate(u.weekday, shift), weekend: rotate(u.weekend, shift), at: u.at };
}

/** The distinct buckets a window's observations show the user active in (each observation's first and last). */
export function activeBuckets(observations: readonly LogonObservation[]): number[] {
  const out = new Set<number>();
  for (const o of observations) {
    if (o.outcome !== 'success') continue;
    out.add(bucketOf(o.firstSeen));
    out.add(bucketOf(o.lastSeen));
  }
  return [...out].sort((a, b) => a - b);
}

/** Whether bucket `b` was already counted (or is too old to tell, and so is not counted again). */
export function alreadyCounted(recent: readonly number[], b: number): boolean {
  if (recent.includes(b)) return true;
  return recent.length >= RECENT_BUCKETS && b < recent[0]!;
}

/** A user's window learned into their hours; the input itself when no bucket was new. */
export function learnUserHours(
  previous: UserHours | undefined,
  user: string,
  observations: readonly LogonObservation[],
  settings: Pick<DetectionSettings, 'timeZone' | 'userTimeZones'>,
  windowEnd: number,
): UserHours | undefined {
  const zone = zoneOf(settings, user);
  let counts: HourCounts = previous
    ? countsIn(previous, zone, windowEnd)
    : { weekday: emptyHours(), weekend: emptyHours(), at: 0 };
  let recent = previous?.recent ?? [];
  let first = previous?.first;
  let added = false;
  for (const b of activeBuckets(observations)) {
    if (alreadyCounted(recent, b)) continue;
    const { day, hour } = slotOf(b, zone);
    counts = addBucket(counts, b, day, hour);
    recent = [...recent, b].sort((x, y) => x - y).slice(-RECENT_BUCKETS);
    first = first === undefined ? b : Math.min(first, b);
    added = true;
  }
  if (!added && previous?.zone === zone) return previous;
  if (!added && !previous) return undefined;
  return {
    zone,
    weekday: rounded(counts.weekday),
    weekend: rounded(counts.weekend),
    at: counts.at,
    first: first!,
    recent,
  };
}

/** The buckets a user's slice counted in this window: in `after.recent` and not in `before.recent`. */
export function newlyCounted(before: UserHours | undefined, after: UserHours | undefined): number[] {
  if (!after || after === before) return [];
  const old = new Set(before?.recent ?? []);
  return after.recent.filter((b) => !old.has(b));
}

/**
 * The population's hours with every bucket its users newly counted this window; the input itself when none.
 * Accounts active around the clock (services, rotas) are left out: they are not what a person's night looks like
 * in this organisation, and on weekends, when people are away, they would make every hour look ordinary.
 */
export function learnPopulationHours(
  previous: PopulationHours | undefined,
  users: readonly { user: string; before: UserHours | undefined; after: UserHours | undefined }[],
): PopulationHours | undefined {
  let counts: HourCounts = previous ?? { weekday: emptyHours(), weekend: emptyHours(), at: 0 };
  let added = false;
  for (const u of users) {
    if (u.after && isAroundTheClock(u.after)) continue;
    for (const b of newlyCounted(u.before, u.after)) {
      const { day, hour } = slotOf(b, u.after!.zone);
      counts = addBucket(counts, b, day, hour);
      added = true;
    }
  }
  if (!added) return previous;
  return { weekday: rounded(counts.weekday), weekend: rounded(counts.weekend), at: counts.at };
}

/** The detector's state: its slices, their schemas and versions, and how a window is learned into them. */
export const unusualHourState: DetectorState<UserHours, PopulationHours> = {
  key: 'hour',
  user: {
    version: 1,
    schema: userHoursV1,
    learn: (previous, { user, observations, settings, windowEnd }) =>
      learnUserHours(previous, user, observations, settings, windowEnd),
  },
  population: {
    version: 1,
    schema: populationHoursV1,
    learn: (previous, { users }) => learnPopulationHours(previous, users),
    learnsFromUsersOnly: true,
  },
};
