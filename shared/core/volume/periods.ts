/**
 * "The period's count": what the volume detectors count, learn and judge.
 *
 * A period is one 15-minute bucket (`bucketOf`), the unit every other piece of learning already uses. A scheduled
 * window is 30 minutes (two buckets) and overlaps the previous one by 15; a catch-up chunk, and the alert-only look
 * at the newest bucket while behind, are one bucket. Observations are aggregated per (user, address, outcome) over
 * the whole window with their first and last time, so a bucket's count is rebuilt from them: an observation that
 * lies wholly inside one bucket counts there in full; one that spans both buckets of a window has (at least) one
 * event at each end, and the rest is split in proportion to the time it spent in each bucket.
 *
 * Each bucket is judged and learned once, by the first window that holds it whole after the last bucket learned
 * (normally the newest bucket of each scheduled window: the older one was the previous window's newest). The cost:
 * an aggregate spanning a bucket boundary is split by time, not by when its events really happened (a burst of 140
 * at 14:14–14:16 is counted about half in each bucket), and events that arrive in the logs after their bucket was
 * learned are never counted.
 */
import { BUCKET_MS, bucketOf, type LogonObservation, type TimeWindow } from '../model';

/** The buckets lying wholly inside the window, oldest first. */
export function bucketsOf(window: TimeWindow): number[] {
  const out: number[] = [];
  for (let b = Math.ceil(window.start / BUCKET_MS); (b + 1) * BUCKET_MS <= window.end; b++) out.push(b);
  return out;
}

/** The buckets of the window that are still to judge and learn: those after the last one learned. */
export function periodsToJudge(window: TimeWindow, lastLearned: number | undefined): number[] {
  return bucketsOf(window).filter((b) => lastLearned === undefined || b > lastLearned);
}

/** How many of the observation's events fall in bucket `b` (see the module comment); 0 outside its span. */
export function shareIn(o: Pick<LogonObservation, 'count' | 'firstSeen' | 'lastSeen'>, b: number): number {
  const first = bucketOf(o.firstSeen);
  const last = bucketOf(o.lastSeen);
  if (b < first || b > last) return 0;
  if (first === last) return o.count;
  const start = b * BUCKET_MS;
  const end = start + BUCKET_MS;
  const span = o.lastSeen - o.firstSeen;
  const inside = Math.min(end, o.lastSeen) - Math.max(start, o.firstSeen);
  const ends = (b === first ? 1 : 0) + (b === last ? 1 : 0);
  if (o.count < 2) return (o.count * Math.max(0, inside)) / span;
  return ends + ((o.count - 2) * Math.max(0, inside)) / span;
}

/** The observations' total in bucket `b`, with who and where it came from. */
export interface PeriodCount {
  readonly bucket: number;
  readonly count: number;
  /** Per source address and per user, their part of the count (for the explanation and the per-source detector). */
  readonly bySource: ReadonlyMap<string, number>;
  readonly byUser: ReadonlyMap<string, number>;
  /** The observations with a part in the bucket. */
  readonly observations: readonly LogonObservation[];
}

/** Count the observations that `keep` selects in bucket `b`. */
export function countIn(
  observations: readonly LogonObservation[],
  b: number,
  keep: (o: LogonObservation) => boolean,
): PeriodCount {
  let count = 0;
  const bySource = new Map<string, number>();
  const byUser = new Map<string, number>();
  const obs: LogonObservation[] = [];
  for (const o of observations) {
    if (!keep(o)) continue;
    const x = shareIn(o, b);
    if (x <= 0) continue;
    count += x;
    bySource.set(o.sourceIp, (bySource.get(o.sourceIp) ?? 0) + x);
    byUser.set(o.user, (byUser.get(o.user) ?? 0) + x);
    obs.push(o);
  }
  return { bucket: b, count, bySource, byUser, observations: obs };
}

/** The largest entries of a count map, largest first (ties by key), rounded to whole logons. */
export function topOf(m: ReadonlyMap<string, number>, n: number): { key: string; count: number }[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, n)
    .map(([key, count]) => ({ key, count: Math.round(count) }));
}
