/**
 * What Impossible Travel learns per user (`UserTravel`, at most ~2 KB stored; no population slice):
 *
 * - `points`: the user's located logons of the last day, each the country its source range is registered in, the
 *   announcing AS, the time (an observation's first and last logon) and the address. A day is all it needs: no
 *   two places on Earth are far enough apart to need more than a day at airliner speed (20,000 km / 900 km/h is
 *   22 hours). The address is kept so evaluation can tell a previous logon from an address the organisation
 *   shares (a VPN egress, an office NAT) from one of the user's own, which learning cannot (it does not see the
 *   population).
 * - `pairs`: the pairs of countries the user went between (one located logon after the other, with none in the
 *   first country between them), with the UTC days on which that happened (the latest few, within 60 days): a
 *   user who alternates between two countries on several days (a phone on a carrier whose exit is abroad, a
 *   home VPN) is not travelling, however fast the switch.
 *
 * A located logon is a successful one whose owner has a country the table knows and is not a hosting provider.
 * Learning is a set union of points and of days, so re-learning a window (the overlapping half of the next, a
 * retry) changes nothing.
 */
import * as z from 'zod';
import { DAY_MS, dayOf, type LogonObservation } from '../../model';
import type { DetectorState } from '../detector';
import { countryPlace } from './geo';
import { isHostingOwner } from './hosting';

/** How long a located logon is remembered: longer than any journey at airliner speed. */
export const MEMORY_MS = DAY_MS;
/** Most located logons remembered (the most recent). */
export const MAX_POINTS = 24;
/** Pairs of countries remembered (those switched between most recently). */
export const MAX_PAIRS = 8;
/**
 * Earlier days on which a user switched between two countries before the pair is theirs (regular, not travel):
 * the first two days alert, a third is a habit.
 */
export const REGULAR_PAIR_DAYS = 2;
/** A pair's days count only this long. */
export const PAIR_MEMORY_DAYS = 60;

const country = z.string().regex(/^[A-Z]{2}$/);
const pointV1 = z.strictObject({
  c: country,
  a: z.number().int().min(0),
  t: z.number().int().min(0),
  ip: z.string().min(1).max(64),
});
const userTravelV1 = z.strictObject({
  points: z.array(pointV1).max(MAX_POINTS),
  pairs: z.record(
    z.string().regex(/^[A-Z]{2}-[A-Z]{2}$/),
    z
      .array(z.number().int().min(0))
      .min(1)
      .max(REGULAR_PAIR_DAYS + 1),
  ),
});
/** One located logon: country (ISO alpha-2), announcing AS, epoch ms, source address. */
export type TravelPoint = z.infer<typeof pointV1>;
export type UserTravel = z.infer<typeof userTravelV1>;

/** Where a successful logon is, for this detector; undefined when it cannot be placed. */
export function locatedCountry(o: LogonObservation): string | undefined {
  if (o.outcome !== 'success' || !o.owner || isHostingOwner(o.owner)) return undefined;
  return countryPlace(o.owner.country)?.code;
}

/** The key of a pair of countries, the same in both directions. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}-${b}` : `${b}-${a}`;
}

/**
 * The last located logon before time `t` in a country other than `here`, if the user has not been in `here`
 * since (a point of `here` at `t` itself is the logon being judged or learned, not an earlier one).
 */
export function lastElsewhere(points: readonly TravelPoint[], here: string, t: number): TravelPoint | undefined {
  let other: TravelPoint | undefined;
  let same = -Infinity;
  for (const p of points) {
    if (p.c === here) {
      if (p.t < t && p.t > same) same = p.t;
    } else if (p.t <= t && (!other || p.t > other.t)) other = p;
  }
  return other && other.t > same ? other : undefined;
}

function samePoint(a: TravelPoint, b: TravelPoint): boolean {
  return a.c === b.c && a.a === b.a && a.t === b.t && a.ip === b.ip;
}

/** A user's window learned into their travel state; the input itself when the window adds nothing. */
export function learnUserTravel(
  previous: UserTravel | undefined,
  observations: readonly LogonObservation[],
  windowEnd: number,
): UserTravel | undefined {
  const located = observations
    .map((o) => ({ o, c: locatedCountry(o) }))
    .filter((x): x is { o: LogonObservation; c: string } => x.c !== undefined)
    .sort((x, y) => x.o.firstSeen - y.o.firstSeen);
  const points = [...(previous?.points ?? [])];
  let added = false;
  for (const { o, c } of located) {
    for (const t of new Set([o.firstSeen, o.lastSeen])) {
      const p: TravelPoint = { c, a: o.owner!.asn, t, ip: o.sourceIp };
      if (points.some((q) => samePoint(p, q))) continue;
      points.push(p);
      added = true;
    }
  }
  const pairs: Record<string, number[]> = { ...(previous?.pairs ?? {}) };
  let pairsChanged = false;
  for (const { o, c } of located) {
    const from = lastElsewhere(points, c, o.firstSeen);
    if (!from || o.firstSeen - from.t > MEMORY_MS) continue;
    const key = pairKey(from.c, c);
    const day = dayOf(o.firstSeen);
    const days = pairs[key] ?? [];
    if (days.includes(day)) continue;
    // One more day than a habit needs: the day being judged, which does not count for itself.
    pairs[key] = [...days, day].sort((x, y) => x - y).slice(-(REGULAR_PAIR_DAYS + 1));
    pairsChanged = true;
  }
  if (!added && !pairsChanged) return previous;
  const since = windowEnd - MEMORY_MS;
  const kept = points
    .filter((p) => p.t >= since)
    .sort((x, y) => x.t - y.t || x.c.localeCompare(y.c) || x.ip.localeCompare(y.ip))
    .slice(-MAX_POINTS);
  const oldestDay = dayOf(windowEnd) - PAIR_MEMORY_DAYS;
  const keptPairs = Object.fromEntries(
    Object.entries(pairs)
      .filter(([, days]) => days[days.length - 1]! >= oldestDay)
      .sort(([ka, a], [kb, b]) => b[b.length - 1]! - a[a.length - 1]! || ka.localeCompare(kb))
      .slice(0, MAX_PAIRS),
  );
  return { points: kept, pairs: keptPairs };
}

/**
 * The days before `t`'s (within `PAIR_MEMORY_DAYS`) on which the user switched between the two countries: the
 * day of `t` itself is left out, so a switch learned earlier the same day (an earlier window) does not excuse it.
 */
export function earlierPairDays(state: UserTravel, a: string, b: string, t: number): number {
  const today = dayOf(t);
  return (state.pairs[pairKey(a, b)] ?? []).filter((d) => d < today && d >= today - PAIR_MEMORY_DAYS).length;
}

/** The detector's state: a per-user slice only. */
export const impossibleTravelState: DetectorState<UserTravel, never> = {
  key: 'travel',
  user: {
    version: 1,
    schema: userTravelV1,
    learn: (previous, { observations, windowEnd }) => learnUserTravel(previous, observations, windowEnd),
  },
};
