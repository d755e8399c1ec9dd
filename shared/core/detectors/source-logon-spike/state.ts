/**
 * What Spike in Successful Logon Events from a Source IP learns, in one bounded population slice (at most ~30 KB
 * stored, measured in its test):
 *
 * - `tracked`: the `MAX_TRACKED_SOURCES` busiest addresses by decayed logon count, each with its own series of
 *   successful logons per 15-minute period per hour of the week (168 slots: an office NAT busy on weekday mornings
 *   and busiest on Monday mornings), every learned period counted, zeros included, from when it was first tracked
 *   (`since`);
 * - `pool`: what addresses in general do: the counts of every other address in the periods it was active, pooled
 *   per slot (a never-seen address is judged against it);
 * - `candidates`: the next busiest addresses by decayed count only (no series), from which a busier one replaces
 *   the least busy tracked address (Space-Saving-like, with a margin so two similar addresses do not swap back
 *   and forth, each time losing their history).
 *
 * Learning is idempotent per bucket as for the organisation's counts (`last`); all decayed numbers are valid at
 * `at`, with the same half-life as the rest.
 */
import * as z from 'zod';
import type { LogonObservation, TimeWindow } from '../../model';
import type { DetectorState } from '../detector';
import { countIn, periodsToJudge } from '../../volume/periods';
import {
  cloneSeries,
  compact,
  compactSeries,
  decayFactor,
  emptySeries,
  learnPeriod,
  rotateSeries,
  scaleSeries,
  seriesSchema,
  silentBuckets,
  slotOf,
  zoneShiftHours,
  type Series,
} from '../../volume/seasonal';
import { BUCKET_MS } from '../../model';

/** Addresses with a series of their own: 12 × ~2 KB. */
export const MAX_TRACKED_SOURCES = 12;
/** Addresses remembered by count only, the next candidates. */
export const MAX_CANDIDATES = 48;
/** A candidate replaces the least busy tracked address only when this many times busier. */
export const PROMOTION_MARGIN = 1.5;
/** A decayed count an address needs before it is tracked at all (a free place goes to an address that matters). */
export const MIN_TRACKED_RATE = 20;
/**
 * Buckets of history before the judgements of a tracked address's series (7 days) and of the pool (14 days) are
 * trusted enough to calibrate them (see `learnPeriod`); the detector judges from the same ages.
 */
export const SOURCE_MIN_HISTORY_BUCKETS = 7 * 96;
export const POOL_MIN_HISTORY_BUCKETS = 14 * 96;
/** Longest address key kept (IPv6 with a zone is under 50). */
const MAX_IP_CHARS = 64;

const bucket = z.number().int().min(0);
const rate = z.number().finite().min(0);
const weekSeries = seriesSchema();

const trackedV1 = z.strictObject({ ip: z.string().min(1).max(MAX_IP_CHARS), since: bucket, rate, series: weekSeries });
const candidateV1 = z.strictObject({ ip: z.string().min(1).max(MAX_IP_CHARS), rate });

export const sourceVolumeV1 = z.strictObject({
  zone: z.string().min(1),
  at: bucket,
  first: bucket,
  last: bucket,
  tracked: z.array(trackedV1).max(MAX_TRACKED_SOURCES),
  pool: weekSeries,
  candidates: z.array(candidateV1).max(MAX_CANDIDATES),
});
export type SourceVolume = z.infer<typeof sourceVolumeV1>;
export type TrackedSource = z.infer<typeof trackedV1>;

/** Per address, its successful logons in bucket `b`. */
export function sourceCounts(observations: readonly LogonObservation[], b: number): Map<string, number> {
  return new Map(countIn(observations, b, (o) => o.outcome === 'success').bySource);
}

function rotated(x: Series, shift: number): Series {
  return shift === 0 ? x : rotateSeries(x, shift);
}

/** The state's series as seen from `zone`. */
export function sourceVolumeIn(v: SourceVolume, zone: string): SourceVolume {
  if (v.zone === zone) return v;
  const shift = zoneShiftHours(v.zone, zone, v.at * BUCKET_MS);
  return {
    ...v,
    zone,
    tracked: v.tracked.map((t) => ({ ...t, series: rotated(t.series, shift) })),
    pool: rotated(v.pool, shift),
  };
}

interface Working {
  at: number;
  first: number;
  last: number | undefined;
  tracked: { ip: string; since: number; rate: number; series: Series }[];
  pool: Series;
  candidates: Map<string, number>;
}

function decayTo(w: Working, b: number): void {
  const f = decayFactor(w.at, b);
  if (f !== 1) {
    for (const t of w.tracked) {
      scaleSeries(t.series, f);
      t.rate *= f;
    }
    scaleSeries(w.pool, f);
    for (const [ip, r] of w.candidates) w.candidates.set(ip, r * f);
  }
  w.at = Math.max(w.at, b);
}

/** One bucket learned: tracked addresses (zeros too), the others into the pool and the candidates. */
function learnBucket(w: Working, b: number, counts: ReadonlyMap<string, number>, zone: string): void {
  decayTo(w, b);
  const slot = slotOf(b, zone);
  const tracked = new Set<string>();
  for (const t of w.tracked) {
    const x = counts.get(t.ip) ?? 0;
    learnPeriod(t.series, slot, x, b - t.since >= SOURCE_MIN_HISTORY_BUCKETS);
    t.rate += x;
    tracked.add(t.ip);
  }
  for (const [ip, x] of counts) {
    if (tracked.has(ip) || x <= 0 || ip.length > MAX_IP_CHARS) continue;
    learnPeriod(w.pool, slot, x, b - w.first >= POOL_MIN_HISTORY_BUCKETS);
    w.candidates.set(ip, (w.candidates.get(ip) ?? 0) + x);
  }
  promote(w, b);
  w.last = b;
}

/** The busiest candidates take free places, or replace a tracked address they clearly out-count. */
function promote(w: Working, b: number): void {
  const byRate = (a: [string, number], c: [string, number]) => c[1] - a[1] || (a[0] < c[0] ? -1 : 1);
  for (const [ip, r] of [...w.candidates.entries()].sort(byRate)) {
    if (w.tracked.length < MAX_TRACKED_SOURCES) {
      if (r < MIN_TRACKED_RATE) break;
      w.tracked.push({ ip, since: b, rate: r, series: emptySeries() });
      w.candidates.delete(ip);
      continue;
    }
    let min = 0;
    for (let i = 1; i < w.tracked.length; i++) if (w.tracked[i]!.rate < w.tracked[min]!.rate) min = i;
    const weakest = w.tracked[min]!;
    if (r <= PROMOTION_MARGIN * weakest.rate) break;
    w.candidates.delete(ip);
    w.candidates.set(weakest.ip, weakest.rate);
    w.tracked[min] = { ip, since: b, rate: r, series: emptySeries() };
  }
  if (w.candidates.size > MAX_CANDIDATES)
    w.candidates = new Map([...w.candidates.entries()].sort(byRate).slice(0, MAX_CANDIDATES));
}

/** The window's periods learned into the state; the input itself when every period was already learned. */
export function learnSourceVolume(
  previous: SourceVolume | undefined,
  observations: readonly LogonObservation[],
  window: TimeWindow,
  zone: string,
): SourceVolume | undefined {
  // A window with nothing to learn from (its only logons were allowlisted accounts') is left as a window without
  // logons is: the next window with some learns the buckets between as silent. So an allowlisted account shapes
  // nothing, not even which buckets were learned.
  if (observations.length === 0) return previous;
  const periods = periodsToJudge(window, previous?.last);
  if (periods.length === 0) return previous;
  const prev = previous ? sourceVolumeIn(previous, zone) : undefined;
  const w: Working = {
    at: prev?.at ?? periods[0]!,
    first: prev?.first ?? periods[0]!,
    last: prev?.last,
    tracked: (prev?.tracked ?? []).map((t) => ({ ...t, series: cloneSeries(t.series) })),
    pool: prev ? cloneSeries(prev.pool) : emptySeries(),
    candidates: new Map((prev?.candidates ?? []).map((c) => [c.ip, c.rate])),
  };
  for (const b of periods) {
    for (const g of silentBuckets(w.last, b)) learnBucket(w, g, new Map(), zone);
    learnBucket(w, b, sourceCounts(observations, b), zone);
  }
  return {
    zone,
    at: w.at,
    first: w.first,
    last: w.last!,
    tracked: w.tracked.map((t) => ({
      ip: t.ip,
      since: t.since,
      rate: compact(t.rate),
      series: compactSeries(t.series),
    })),
    pool: compactSeries(w.pool),
    candidates: [...w.candidates.entries()].map(([ip, r]) => ({ ip, rate: compact(r) })).filter((c) => c.rate > 0),
  };
}

export const sourceLogonSpikeState: DetectorState<never, SourceVolume> = {
  key: 'srcspike',
  population: {
    version: 1,
    schema: sourceVolumeV1,
    learn: (previous, { observations, windowStart, windowEnd, settings }) =>
      learnSourceVolume(previous, observations, { start: windowStart, end: windowEnd }, settings.timeZone),
  },
};
