/**
 * Population statistics: what the organisation as a whole looks like, in one bounded item.
 *
 * Shared egress (an office NAT, a VPN pool, a carrier's NAT) is not a new place for a user when many
 * other users already log on from it. Counting distinct users per address exactly would need an item per
 * address and a read per address per run; instead we keep Space-Saving top-K sketches of how many users
 * log on from each place. Shared egress are by nature the heavy hitters, which is exactly what
 * Space-Saving finds with bounded memory (a place's count is over-estimated by at most `error`).
 *
 * The counts decay with the same two-week half-life as everything else, and each user weighs at most one
 * per place (`userShareTopUp`), so a sketch says how many users *recently* log on from a place, and no
 * account can inflate a place or, by bringing endless new places, push a widely used one out. IPv6 sources
 * are counted per /64 (`sharedAddressKey`): privacy addresses change daily, the /64 does not.
 *
 * The pooled novelty rates (`placeNovelty`), the prior every user is judged against, bound what one user
 * can add (`addBucketToPool`), so a few extreme accounts cannot move them for everyone.
 */
import {
  ownerKey,
  type NetworkOwner,
  type NoveltyCounts,
  type PlaceLevel,
  type PopulationNovelty,
  type PopulationStats,
  type SketchCounter,
} from './model';
import { placeOf } from './net';
import { decayed } from './seen';

/** Counters kept per sketch: ~60 bytes each, so two sketches stay near 100 KB, far below DynamoDB's 400 KB item limit. */
export const SKETCH_CAPACITY = 800;
/** Networks (/16, /32) are far fewer than addresses; a smaller sketch holds the ones that matter. */
export const NETWORK_SKETCH_CAPACITY = 400;
/** ISO 3166-1 has 249 countries: the country sketch holds them all, so its counts are exact. */
export const COUNTRY_SKETCH_CAPACITY = 250;

/**
 * Add `weight` users' worth of `key` to a Space-Saving sketch (returns a new sketch object; entries are
 * replaced, not mutated).
 */
export function sketchAdd(
  sketch: Record<string, SketchCounter>,
  key: string,
  t: number,
  capacity = SKETCH_CAPACITY,
  weight = 1,
): Record<string, SketchCounter> {
  return sketchAddInPlace({ ...sketch }, key, t, capacity, weight);
}

/**
 * `sketchAdd` on a sketch the caller owns (a copy made once per window): replacing the minimum is O(K), but
 * copying a full sketch for every new place would make a busy window quadratic.
 *
 * Counters decay with the population (`decayPopulationTo`), so a full sketch gives way to the place least
 * recently-and-widely used: the lowest guaranteed count (`count − error`), the least recent on ties. A
 * newcomer never displaces a place at least as widely used as itself: one account bringing thousands of
 * addresses (a CI runner on ephemeral cloud addresses, an attacker) churns only the one-user places, never
 * an office NAT several people use.
 */
export function sketchAddInPlace(
  out: Record<string, SketchCounter>,
  key: string,
  t: number,
  capacity = SKETCH_CAPACITY,
  weight = 1,
): Record<string, SketchCounter> {
  const hit = out[key];
  if (hit) {
    out[key] = { count: hit.count + weight, error: hit.error, last: Math.max(hit.last, t) };
    return out;
  }
  const keys = Object.keys(out);
  if (keys.length < capacity) {
    out[key] = { count: weight, error: 0, last: t };
    return out;
  }
  let minKey = keys[0]!;
  let minLow = guaranteed(out[minKey]!);
  for (const k of keys) {
    const a = out[k]!;
    const low = guaranteed(a);
    if (low < minLow || (low === minLow && a.last < out[minKey]!.last)) {
      minKey = k;
      minLow = low;
    }
  }
  if (minLow > weight) return out;
  // The newcomer inherits the evicted count as possible over-estimate (the Space-Saving rule), so `count`
  // stays an upper bound and `count − error` the lower bound the detectors use.
  const min = out[minKey]!;
  delete out[minKey];
  out[key] = { count: min.count + weight, error: min.count, last: t };
  return out;
}

/** One counter of a sketch in a `SketchWriter`'s heap: its eviction order, and where it stands in the heap. */
interface HeapEntry {
  readonly key: string;
  low: number;
  last: number;
  /** Its place in the sketch's key order, which breaks ties as `sketchAddInPlace`'s scan does (first wins). */
  readonly seq: number;
  at: number;
}

/**
 * Many `sketchAddInPlace` calls on one sketch the caller owns, with exactly their result, in O(log K) each
 * instead of O(K): a replay of a window's additions (a million users' newcomers against full 800-counter sketches
 * scanned 800 counters each). The counter a full sketch gives up is kept at the top of a min-heap ordered as the
 * scan chooses it: lowest guaranteed count, then least recent, then first in the sketch's key order.
 *
 * The heap is built when the sketch is first full; the writer must be the only one changing the sketch meanwhile.
 */
export class SketchWriter {
  readonly #out: Record<string, SketchCounter>;
  readonly #capacity: number;
  #size: number;
  #heap: HeapEntry[] | undefined;
  #entries: Map<string, HeapEntry> | undefined;
  #seq = 0;

  constructor(out: Record<string, SketchCounter>, capacity = SKETCH_CAPACITY) {
    this.#out = out;
    this.#capacity = capacity;
    this.#size = Object.keys(out).length;
  }

  /** `sketchAddInPlace(out, key, t, capacity, weight)`. */
  add(key: string, t: number, weight = 1): void {
    const out = this.#out;
    const hit = out[key];
    if (hit) {
      const c = { count: hit.count + weight, error: hit.error, last: Math.max(hit.last, t) };
      out[key] = c;
      const e = this.#entries?.get(key);
      if (e) {
        e.low = guaranteed(c);
        e.last = c.last;
        this.#down(e.at);
      }
      return;
    }
    if (this.#size < this.#capacity) {
      const c = { count: weight, error: 0, last: t };
      out[key] = c;
      this.#size++;
      if (this.#heap) this.#push(key, c);
      return;
    }
    const heap = this.#heap ?? this.#build();
    const min = heap[0];
    if (!min || min.low > weight) return;
    const evicted = out[min.key]!;
    delete out[min.key];
    this.#entries!.delete(min.key);
    const c = { count: evicted.count + weight, error: evicted.count, last: t };
    out[key] = c;
    // The newcomer takes the evicted counter's place at the top, then sinks to where it belongs.
    const e: HeapEntry = { key, low: guaranteed(c), last: c.last, seq: this.#seq++, at: 0 };
    heap[0] = e;
    this.#entries!.set(key, e);
    this.#down(0);
  }

  #build(): HeapEntry[] {
    this.#heap = [];
    this.#entries = new Map();
    for (const k of Object.keys(this.#out)) this.#push(k, this.#out[k]!);
    return this.#heap;
  }

  #push(key: string, c: SketchCounter): void {
    const e: HeapEntry = { key, low: guaranteed(c), last: c.last, seq: this.#seq++, at: this.#heap!.length };
    this.#heap!.push(e);
    this.#entries!.set(key, e);
    this.#up(e.at);
  }

  #before(a: HeapEntry, b: HeapEntry): boolean {
    return a.low < b.low || (a.low === b.low && (a.last < b.last || (a.last === b.last && a.seq < b.seq)));
  }

  #swap(i: number, j: number): void {
    const h = this.#heap!;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    b.at = i;
    a.at = j;
  }

  #up(i: number): void {
    const h = this.#heap!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#before(h[i]!, h[p]!)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const h = this.#heap!;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.#before(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.#before(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}

function guaranteed(c: SketchCounter): number {
  return Math.max(0, c.count - c.error);
}

/** Guaranteed lower bound of the number of users who have used `key` (count − error), 0 if absent. */
export function sharedUsers(sketch: Readonly<Record<string, SketchCounter>>, key: string): number {
  const c = sketch[key];
  return c ? guaranteed(c) : 0;
}

/**
 * How many users log on from the network of `ip` (owned by `owner` when the enrichment knows it): the larger of its
 * AS's count and its /16's. The sketch holds /16 keys from before owners were learned (and for addresses without
 * an owner), AS keys since; taking the larger means a network colleagues used before the upgrade is not suddenly
 * nobody's while its AS count fills in, and a carrier's pool over many /16s counts its users once, by its AS.
 */
export function networkUsers(
  sketch: Readonly<Record<string, SketchCounter>> | undefined,
  ip: string,
  owner: NetworkOwner | undefined,
): number {
  if (!sketch) return 0;
  const byRange = sharedUsers(sketch, placeOf(ip, 'network'));
  return owner ? Math.max(byRange, sharedUsers(sketch, ownerKey(owner))) : byRange;
}

/**
 * What one user's logon from a place adds to its sketch counter, given the bucket of the user's previous
 * logon from it (undefined: none remembered). Each user counts as one while they use the place, fading with
 * the population's half-life once they stop: the first logon adds 1, a later bucket tops the user's share
 * back up to 1 (what it decayed since), and another logon in the same bucket adds nothing. So one user is at
 * most one user of a place, however often they log on, and a retried or overlapping window changes nothing.
 */
export function userShareTopUp(previousBucket: number | undefined, bucket: number): number {
  if (previousBucket === undefined) return 1;
  return 1 - decayed(1, previousBucket, bucket);
}

/**
 * Bounds on what one user adds to the population's novelty rates (`placeNovelty`), in the user's own
 * decayed counts: past them, the user's buckets or novel places no longer move the rate everyone else is
 * judged against. A home user brings a new network a few times a month and a mobile user a new address most
 * buckets, all far below; one account bringing a new network every bucket (a CI runner on ephemeral cloud
 * addresses, a heavy traveller, an attacker holding one account) counts like a busy traveller, not like the
 * whole organisation.
 */
export const POOL_BUCKETS_CAP = 200;
export const POOL_NOVELTY_CAP: Readonly<Record<PlaceLevel, number>> = { ip: 48, prefix: 12, network: 4 };
/** The same bound for new countries (a traveller brings a few a month; an account hopping countries, no more). */
export const POOL_COUNTRY_CAP = 2;

/** What one user's active bucket brought, for the pooled rates. */
export interface PeriodNovelty {
  readonly newAt: Readonly<Record<PlaceLevel, boolean>>;
  /** The new network was one no one in the organisation had used. */
  readonly orgNovelNetwork: boolean;
  /**
   * Only for a user whose owner knowledge had matured, in a bucket with a known owner (with `carried.ownerPeriods`,
   * `carried.country` and `carried.ownerNetwork` their counts before it); absent otherwise.
   */
  readonly owned?: {
    /** It brought a network new at the owner level (an AS new to the user, or a new /16 without an owner). */
    readonly newNetwork: boolean;
    readonly newCountry: boolean;
    /** Such a new network had a known owner (`hosting`: a hosting provider's, see network-data/hosting.ts). */
    readonly newNetworkOwner?: { readonly hosting: boolean };
  };
}

/**
 * The pooled novelty counts after one mature user's active bucket, `carried` being the user's own novelty
 * counts before it (decayed to now). A user's bucket counts only while their decayed buckets are under
 * `POOL_BUCKETS_CAP`, and a novel place only while their decayed novelty at that level is under its cap.
 */
export function addBucketToPool(
  n: PopulationNovelty,
  carried: Readonly<NoveltyCounts>,
  period: PeriodNovelty,
): PopulationNovelty {
  if (carried.periods >= POOL_BUCKETS_CAP) return n;
  const counts = (level: PlaceLevel) => period.newAt[level] && carried[level] < POOL_NOVELTY_CAP[level];
  const add = (x: boolean) => (x ? 1 : 0);
  const out: PopulationNovelty = {
    ...n,
    periods: n.periods + 1,
    ip: n.ip + add(counts('ip')),
    prefix: n.prefix + add(counts('prefix')),
    network: n.network + add(counts('network')),
    ipInKnownPrefix: n.ipInKnownPrefix + add(counts('ip') && !period.newAt.prefix),
    networkOrgNovel: (n.networkOrgNovel ?? 0) + add(counts('network') && period.orgNovelNetwork),
  };
  // The owner-level counters appear with the first bucket that has something to say about them (an item learned
  // before owners were keeps its shape until then), and are bounded per user like the levels above.
  const owned = period.owned;
  if (owned) {
    const network = owned.newNetwork && (carried.ownerNetwork ?? 0) < POOL_NOVELTY_CAP.network;
    out.ownerPeriods = (n.ownerPeriods ?? 0) + 1;
    out.country = (n.country ?? 0) + add(owned.newCountry && (carried.country ?? 0) < POOL_COUNTRY_CAP);
    out.ownerNetwork = (n.ownerNetwork ?? 0) + add(network);
    if (network && owned.newNetworkOwner) {
      out.networkOwned = (n.networkOwned ?? 0) + 1;
      out.networkHosting = (n.networkHosting ?? 0) + add(owned.newNetworkOwner.hosting);
    } else if (n.networkOwned === undefined) {
      out.networkOwned = 0;
      out.networkHosting = 0;
    }
  }
  return out;
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
    sharedIps: decaySketch(p.sharedIps, p.lastBucket, b),
    sharedPrefixes: decaySketch(p.sharedPrefixes, p.lastBucket, b),
    ...(p.sharedNetworks ? { sharedNetworks: decaySketch(p.sharedNetworks, p.lastBucket, b) } : {}),
    ...(p.sharedCountries ? { sharedCountries: decaySketch(p.sharedCountries, p.lastBucket, b) } : {}),
    lastBucket: b,
  };
}

function decayNovelty(n: PopulationNovelty, from: number, to: number): PopulationNovelty {
  const d = (x: number) => decayed(x, from, to);
  const optional = (k: 'networkOwned' | 'networkHosting' | 'ownerPeriods' | 'country' | 'ownerNetwork') =>
    n[k] !== undefined ? { [k]: d(n[k]) } : {};
  return {
    ...optional('networkOwned'),
    ...optional('networkHosting'),
    ...optional('ownerPeriods'),
    ...optional('country'),
    ...optional('ownerNetwork'),
    periods: d(n.periods),
    ip: d(n.ip),
    prefix: d(n.prefix),
    network: d(n.network),
    ipInKnownPrefix: d(n.ipInKnownPrefix),
    networkOrgNovel: d(n.networkOrgNovel ?? 0),
  };
}

/** Sketch counters (count and error alike, so `count − error` decays too) decayed like every other counter. */
function decaySketch(
  s: Readonly<Record<string, SketchCounter>>,
  from: number,
  to: number,
): Record<string, SketchCounter> {
  const out: Record<string, SketchCounter> = {};
  for (const k of Object.keys(s)) {
    const c = s[k]!;
    setKey(out, k, { count: decayed(c.count, from, to), error: decayed(c.error, from, to), last: c.last });
  }
  return out;
}

/** Assign an own property even for `__proto__` (a key is data here, never a prototype). */
function setKey(o: Record<string, SketchCounter>, k: string, v: SketchCounter): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Which population sketch an addition goes to. */
export type SketchName = 'ip' | 'prefix' | 'network' | 'country';

/**
 * What one slice of a window's users adds to the population: counters, sketch additions in the order they were
 * made, and the pooled-novelty contributions. Learning a window's users in slices (shared/steps/), each against
 * the population as it was before the window, and replaying the slices' deltas onto it in order gives the same
 * population as learning them all at once: exactly for one slice; with several, a user's share of a place another
 * slice added in the same window is a whole share, not a top-up (the population's counts are approximate anyway).
 */
export interface PopulationDelta {
  userBuckets: number;
  knownUsers: number;
  newUsers: number;
  dormantReturns: number;
  /** `[sketch, key, time, weight]`, in order. */
  readonly sketchAdds: [SketchName, string, number, number][];
  /** One mature user's active bucket each: their novelty before it, and what it brought. */
  readonly pool: { readonly carried: NoveltyCounts; readonly period: PeriodNovelty }[];
}

/** A delta that adds nothing. */
export function emptyDelta(): PopulationDelta {
  return { userBuckets: 0, knownUsers: 0, newUsers: 0, dormantReturns: 0, sketchAdds: [], pool: [] };
}

function isEmptyDelta(d: PopulationDelta): boolean {
  return (
    d.userBuckets === 0 &&
    d.knownUsers === 0 &&
    d.newUsers === 0 &&
    d.dormantReturns === 0 &&
    d.sketchAdds.length === 0 &&
    d.pool.length === 0
  );
}

export const SKETCH_CAPACITY_OF: Readonly<Record<SketchName, number>> = {
  ip: SKETCH_CAPACITY,
  prefix: SKETCH_CAPACITY,
  network: NETWORK_SKETCH_CAPACITY,
  country: COUNTRY_SKETCH_CAPACITY,
};

/**
 * Replay slices' deltas, in order, onto the population decayed to the window (`decayPopulationTo`): the population
 * after the window's users, before the detectors' own population learning (`learnPopulation`). Pure: the sketches
 * are copied once, and only when a delta adds to them.
 */
export function applyPopulationDeltas(pop: PopulationStats, deltas: Iterable<PopulationDelta>): PopulationStats {
  let out = pop;
  let sketches: Record<SketchName, Record<string, PopulationStats['sharedIps'][string]>> | undefined;
  let writers: Record<SketchName, SketchWriter> | undefined;
  for (const d of deltas) {
    if (isEmptyDelta(d)) continue;
    if (out === pop) out = { ...pop };
    out.userBuckets += d.userBuckets;
    out.knownUsers += d.knownUsers;
    out.newUsers += d.newUsers;
    out.dormantReturns += d.dormantReturns;
    for (const { carried, period } of d.pool) {
      const n = out.placeNovelty ?? { periods: 0, ip: 0, prefix: 0, network: 0, ipInKnownPrefix: 0 };
      out.placeNovelty = addBucketToPool(n, carried, period);
    }
    if (d.sketchAdds.length === 0) continue;
    sketches ??= {
      ip: { ...pop.sharedIps },
      prefix: { ...pop.sharedPrefixes },
      network: { ...(pop.sharedNetworks ?? {}) },
      country: { ...(pop.sharedCountries ?? {}) },
    };
    writers ??= {
      ip: new SketchWriter(sketches.ip, SKETCH_CAPACITY_OF.ip),
      prefix: new SketchWriter(sketches.prefix, SKETCH_CAPACITY_OF.prefix),
      network: new SketchWriter(sketches.network, SKETCH_CAPACITY_OF.network),
      country: new SketchWriter(sketches.country, SKETCH_CAPACITY_OF.country),
    };
    for (const [name, key, t, weight] of d.sketchAdds) writers[name].add(key, t, weight);
  }
  if (sketches) {
    out.sharedIps = sketches.ip;
    out.sharedPrefixes = sketches.prefix;
    out.sharedNetworks = sketches.network;
    // Created only once a window has an owner's country to add (items learned before owners stay without).
    if (pop.sharedCountries || Object.keys(sketches.country).length > 0) out.sharedCountries = sketches.country;
  }
  return out;
}
