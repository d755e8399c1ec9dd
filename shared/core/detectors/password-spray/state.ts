/**
 * What Password Spray learns, in its own population slice (`spray`):
 *
 * - `h`: how many distinct real users the organisation's failing sources try, per window: a decayed histogram
 *   (bins 1, 2, 3, 4, 5–7, 8–15, 16–31, 32+) over every source that failed as at least one real user for whom
 *   it is not their own place. The baseline a spray is judged against: here failing sources usually try one.
 *   Sources reported (their finding reached the threshold), or remembered trying ten real users or more, are left
 *   out: what alerts is not what is usual, and a slow spray must not teach it.
 * - `s`: a rolling memory of recent failing sources (addresses, and network owners whose several addresses
 *   failed), for the low-and-slow spray that tries a few users per window for hours: per source, a bounded set
 *   of short hashes of the real users it tried (no names are stored), when it was first and last seen, in how
 *   many windows, and whether it was already reported (the UTC day and the users it had then). Bounded
 *   Space-Saving style: at most `MAX_SOURCES` sources, the one with the fewest users (the oldest on ties) gives
 *   way to a newcomer with at least as many; a source unseen for `MEMORY_BUCKETS` is forgotten.
 * - `we`: the end of the last window learned. The histogram counts a window once (a retried or replayed window
 *   adds nothing); user sets are unions, so the overlapping half of the next window adds nothing either.
 *
 * Size: at its bounds (48 sources × 40 hashes, owner keys, every field at its widest) the slice is about 22 KB
 * of the population item (see the state test), next to the ~150 KB of the shared-egress sketches.
 */
import * as z from 'zod';
import { bucketOf, dayOf } from '../../model';
import { decayed } from '../../seen';

/** Lower edges of the histogram's bins of distinct real users per failing source per window. */
export const BIN_EDGES = [1, 2, 3, 4, 5, 8, 16, 32] as const;
/** Sources remembered. */
export const MAX_SOURCES = 48;
/** User hashes remembered per source: enough to tell a spray (5+) from a household, and to see it grow. */
export const MAX_HASHES = 40;
/** How long a failing source is remembered after its last failure: two days of 15-minute buckets. */
export const MEMORY_BUCKETS = 192;

const bucket = z.number().int().min(0);
const entryV1 = z.strictObject({
  /** Short hashes of the real users tried (`userHash`), for whom the source is not their own place. */
  k: z.array(z.string().regex(/^[0-9a-f]{6}$/)).max(MAX_HASHES),
  /** Most distinct names (real or not) tried in one window. */
  n: z.number().int().min(0),
  /** First and last bucket with a failure. */
  f: bucket,
  l: bucket,
  /** Windows in which it failed (over which its users were gathered). */
  w: z.number().int().min(1),
  /** UTC day on which it was last reported, and how many real users it had then. */
  r: z.number().int().min(0).optional(),
  rk: z.number().int().min(0).optional(),
});
export type SprayEntry = z.infer<typeof entryV1>;

const sprayStateV1 = z.strictObject({
  h: z.array(z.number().finite().min(0)).length(BIN_EDGES.length),
  /** Bucket at which `h` is valid (decays with the population's half-life). */
  at: bucket,
  we: z.number().int().min(0),
  s: z.record(z.string().min(1).max(64), entryV1),
});
export type SprayState = z.infer<typeof sprayStateV1>;

export const SPRAY_STATE_VERSION = 1;
export const spraySchema = sprayStateV1;

export function emptySprayState(): SprayState {
  return { h: BIN_EDGES.map(() => 0), at: 0, we: 0, s: {} };
}

/** The bin holding `x` distinct real users (x ≥ 1). */
export function binOf(x: number): number {
  let i = 0;
  while (i + 1 < BIN_EDGES.length && x >= BIN_EDGES[i + 1]!) i++;
  return i;
}

/** The histogram decayed to bucket `b`. */
export function histogramAt(st: SprayState | undefined, b: number): number[] {
  if (!st) return BIN_EDGES.map(() => 0);
  return st.h.map((c) => decayed(c, st.at, b));
}

/** A remembered source, if it failed within the memory before bucket `b`. */
export function remembered(st: SprayState | undefined, key: string, b: number): SprayEntry | undefined {
  const e = st?.s[key];
  return e && e.l >= b - MEMORY_BUCKETS ? e : undefined;
}

/** What one window teaches about one failing source. */
export interface SourceLesson {
  readonly key: string;
  /** Hashes of the real users it tried, for whom it is not their own place (≥ 1 to be remembered). */
  readonly hashes: readonly string[];
  /** Distinct names it tried in the window. */
  readonly names: number;
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Whether the window's finding about it reached the threshold (it is reported today). */
  readonly reported: boolean;
  /** Whether the source counts in the histogram (addresses do; an owner's aggregate is not one source). */
  readonly inHistogram: boolean;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The window learned into the slice; `previous` itself when nothing changed. */
export function learnSpray(
  previous: SprayState | undefined,
  taught: readonly SourceLesson[],
  windowEnd: number,
): SprayState | undefined {
  let lessons = taught;
  const freshWindow = windowEnd > (previous?.we ?? 0);
  const b = bucketOf(windowEnd);
  const live = Object.entries(previous?.s ?? {}).filter(([, e]) => e.l >= b - MEMORY_BUCKETS);
  // Only sources that tried a real user teach anything: a window of background scanning (or of nothing) leaves
  // the slice, and so the population item, unwritten.
  lessons = lessons.filter((l) => l.hashes.length > 0);
  if (lessons.length === 0 && live.length === Object.keys(previous?.s ?? {}).length) return previous;
  const st = previous ?? emptySprayState();
  const h = histogramAt(st, b);
  const s = new Map<string, SprayEntry>(live);
  for (const l of lessons) {
    // A reported source is not learned as ordinary: an attacker must not teach the detector that sprays are usual.
    if (l.inHistogram && !l.reported && freshWindow && l.hashes.length > 0) h[binOf(l.hashes.length)]! += 1;
    if (l.hashes.length === 0) continue;
    const prev = s.get(l.key);
    const k = prev ? [...new Set([...prev.k, ...l.hashes])] : [...new Set(l.hashes)];
    const entry: SprayEntry = {
      k: k.slice(0, MAX_HASHES),
      n: Math.max(prev?.n ?? 0, l.names),
      f: Math.min(prev?.f ?? Number.MAX_SAFE_INTEGER, bucketOf(l.firstSeen)),
      l: Math.max(prev?.l ?? 0, bucketOf(l.lastSeen)),
      w: (prev?.w ?? 0) + (freshWindow ? 1 : 0) || 1,
      ...(l.reported
        ? { r: dayOf(l.firstSeen), rk: k.length }
        : prev?.r !== undefined
          ? { r: prev.r, rk: prev.rk ?? 0 }
          : {}),
    };
    if (prev || s.size < MAX_SOURCES) {
      s.set(l.key, entry);
      continue;
    }
    // Full: the source with the fewest users (the least recent on ties) gives way to one with at least as many.
    let min: [string, SprayEntry] | undefined;
    for (const e of s)
      if (!min || e[1].k.length < min[1].k.length || (e[1].k.length === min[1].k.length && e[1].l < min[1].l)) min = e;
    if (min && min[1].k.length <= entry.k.length) {
      s.delete(min[0]);
      s.set(l.key, entry);
    }
  }
  return {
    h: h.map(round),
    at: b,
    we: Math.max(st.we, windowEnd),
    s: Object.fromEntries([...s.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))),
  };
}
