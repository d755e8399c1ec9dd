/**
 * Population statistics: what the organisation as a whole looks like, in one bounded item.
 *
 * Shared egress (an office NAT, a VPN pool, a carrier's NAT) is not a new place for a user when many
 * other users already log on from it. Counting distinct users per address exactly would need an item per
 * address and a read per address per run; instead we keep a Space-Saving top-K sketch over the stream
 * of "a user's first logon from this place". Shared egress are by nature the heavy hitters of that stream,
 * which is exactly what Space-Saving finds with bounded memory (any place with more than total/K first
 * logons is guaranteed to be present, its count over-estimated by at most `error`).
 */
import type { PopulationNovelty, PopulationStats, SketchCounter } from './model';
import { decayed } from './seen';

/** Counters kept per sketch: ~60 bytes each, so two sketches stay near 100 KB, far below DynamoDB's 400 KB item limit. */
export const SKETCH_CAPACITY = 800;
/** Networks (/16, /32) are far fewer than addresses; a smaller sketch holds the ones that matter. */
export const NETWORK_SKETCH_CAPACITY = 400;

/** Add one occurrence of `key` to a Space-Saving sketch (returns a new sketch object; entries are replaced, not mutated). */
export function sketchAdd(sketch: Record<string, SketchCounter>, key: string, t: number, capacity = SKETCH_CAPACITY): Record<string, SketchCounter> {
  return sketchAddInPlace({ ...sketch }, key, t, capacity);
}

/**
 * `sketchAdd` on a sketch the caller owns (a copy made once per window): replacing the minimum is O(K), but
 * copying a full sketch for every new place would make a busy window quadratic.
 */
export function sketchAddInPlace(out: Record<string, SketchCounter>, key: string, t: number, capacity = SKETCH_CAPACITY): Record<string, SketchCounter> {
  const hit = out[key];
  if (hit) {
    out[key] = { count: hit.count + 1, error: hit.error, last: Math.max(hit.last, t) };
    return out;
  }
  const keys = Object.keys(out);
  if (keys.length < capacity) {
    out[key] = { count: 1, error: 0, last: t };
    return out;
  }
  // Replace the minimum; the newcomer inherits its count as possible over-estimate (the Space-Saving rule).
  let minKey = keys[0]!;
  for (const k of keys) {
    const a = out[k]!;
    const m = out[minKey]!;
    if (a.count < m.count || (a.count === m.count && a.last < m.last)) minKey = k;
  }
  const min = out[minKey]!;
  delete out[minKey];
  out[key] = { count: min.count + 1, error: min.count, last: t };
  return out;
}

/** Guaranteed lower bound of the number of users who have used `key` (count − error), 0 if absent. */
export function sharedUsers(sketch: Readonly<Record<string, SketchCounter>>, key: string): number {
  const c = sketch[key];
  return c ? Math.max(0, c.count - c.error) : 0;
}

/** Population counters decayed to bucket `b`, so rates compare like with like. */
export function decayPopulationTo(p: PopulationStats, b: number): PopulationStats {
  if (b <= p.lastBucket) return p;
  return {
    ...p,
    userBuckets: decayed(p.userBuckets, p.lastBucket, b),
    newUsers: decayed(p.newUsers, p.lastBucket, b),
    dormantReturns: decayed(p.dormantReturns, p.lastBucket, b),
    ...(p.placeNovelty ? { placeNovelty: decayNovelty(p.placeNovelty, p.lastBucket, b) } : {}),
    lastBucket: b,
  };
}

function decayNovelty(n: PopulationNovelty, from: number, to: number): PopulationNovelty {
  const d = (x: number) => decayed(x, from, to);
  return { periods: d(n.periods), ip: d(n.ip), prefix: d(n.prefix), network: d(n.network), ipInKnownPrefix: d(n.ipInKnownPrefix), networkOrgNovel: d(n.networkOrgNovel ?? 0) };
}
