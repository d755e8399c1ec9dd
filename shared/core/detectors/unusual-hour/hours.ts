/**
 * The arithmetic of "when does this user log on": decayed counts of active 15-minute buckets per local hour of
 * the day, weekdays and weekends apart, smoothed across neighbouring hours, judged against the population's
 * pattern as a prior. Pure functions over plain arrays of 24 numbers.
 */
import { decayed } from '../../seen';

export const HOURS = 24;
export type DayType = 'weekday' | 'weekend';
export const DAY_TYPES: readonly DayType[] = ['weekday', 'weekend'];

/** Decayed bucket counts per local hour (index 0 = 00:00–00:59), weekdays and weekends apart, valid at bucket `at`. */
export interface HourCounts {
  readonly weekday: readonly number[];
  readonly weekend: readonly number[];
  readonly at: number;
}

export function emptyHours(): number[] {
  return new Array<number>(HOURS).fill(0);
}

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** Counts as stored: four decimals are far below what any decision looks at, and keep items small. */
export function rounded(xs: readonly number[]): number[] {
  return xs.map((x) => Math.round(x * 1e4) / 1e4);
}

/** Both day types decayed from `c.at` to bucket `to` (no growth backwards). */
export function decayTo(c: HourCounts, to: number): HourCounts {
  if (to <= c.at) return c;
  const f = decayed(1, c.at, to);
  return { weekday: c.weekday.map((x) => x * f), weekend: c.weekend.map((x) => x * f), at: to };
}

/** One active bucket added at `hour` of `day`: counts decayed to the bucket first (a late bucket adds undecayed). */
export function addBucket(c: HourCounts, bucket: number, day: DayType, hour: number): HourCounts {
  const d = decayTo(c, bucket);
  const next = { weekday: [...d.weekday], weekend: [...d.weekend], at: d.at };
  next[day][hour]! += 1;
  return next;
}

/** The histogram moved by `shift` hours (a user whose time zone changed: their habits move with the clock). */
export function rotate(xs: readonly number[], shift: number): number[] {
  const k = ((Math.round(shift) % HOURS) + HOURS) % HOURS;
  if (k === 0) return [...xs];
  return xs.map((_, h) => xs[(h - k + HOURS) % HOURS]!);
}

/**
 * Smoothing kernel across neighbouring hours: a Gaussian of σ = 1.5 hours, cut at ±4, normalised. Someone
 * who works until 18:00 now and then stays until 19:30; an hour next to their usual ones is not surprising,
 * an hour five away is. Circular: 23:00 neighbours 00:00.
 */
export const SMOOTHING_SIGMA_HOURS = 1.5;
const KERNEL: readonly number[] = (() => {
  const raw = [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((d) => Math.exp(-(d * d) / (2 * SMOOTHING_SIGMA_HOURS ** 2)));
  const total = sum(raw);
  return raw.map((w) => w / total);
})();

/** Counts spread over neighbouring hours; the total is unchanged. */
export function smooth(xs: readonly number[]): number[] {
  const out = emptyHours();
  for (let h = 0; h < HOURS; h++) {
    const x = xs[h]!;
    if (x === 0) continue;
    for (let k = 0; k < KERNEL.length; k++) out[(h + k - 4 + HOURS) % HOURS]! += x * KERNEL[k]!;
  }
  return out;
}

/** The share of each hour in `xs` (uniform when empty). */
export function shares(xs: readonly number[]): number[] {
  const total = sum(xs);
  return total > 0 ? xs.map((x) => x / total) : emptyHours().map(() => 1 / HOURS);
}

/** Nobody is ever certain an hour is impossible: this much of every prior is spread evenly over the day. */
export const PRIOR_FLOOR = 0.02;

/**
 * The population's pattern for one day type as a prior over hours: its smoothed shares, with `PRIOR_FLOOR`
 * spread evenly (uniform while the population has learned nothing).
 */
export function populationPrior(popCounts: readonly number[]): number[] {
  const s = shares(smooth(popCounts));
  return s.map((x) => (1 - PRIOR_FLOOR) * x + PRIOR_FLOOR / HOURS);
}

/** A mix of two distributions over hours. */
export function mix(a: readonly number[], b: readonly number[], weightA: number): number[] {
  return a.map((x, h) => weightA * x + (1 - weightA) * b[h]!);
}

/** Weight, in active buckets, of the prior against the user's own smoothed counts. */
export const PRIOR_WEIGHT = 20;

/**
 * Predictive probability that the user's next active bucket (of this day type) falls in each hour: a Dirichlet
 * with the prior worth `PRIOR_WEIGHT` buckets, updated with the user's smoothed counts.
 */
export function hourProbabilities(smoothed: readonly number[], prior: readonly number[]): number[] {
  const n = sum(smoothed);
  return smoothed.map((x, h) => (x + PRIOR_WEIGHT * prior[h]!) / (n + PRIOR_WEIGHT));
}

/**
 * How unusual an hour is, as `rare` judges a value: the probability of an active bucket falling in an hour at
 * most as likely as this one. An hour in the middle of the user's day is ~1; an hour at night when they are
 * never active is the small mass of all such hours together, so one late evening next to their usual end is less
 * surprising than 03:00.
 */
export function tailProbability(probs: readonly number[], hour: number): number {
  const p = probs[hour]!;
  let tail = 0;
  // A relative tolerance so hours equal in all but rounding count as equally likely.
  for (const q of probs) if (q <= p * (1 + 1e-9)) tail += q;
  return Math.min(1, tail);
}

/**
 * The smallest run of consecutive hours (circular) holding at least `share` of the counts: the "usual hours".
 * `to` is exclusive (08:00–18:00 is from 8 to 18). Undefined when there are no counts.
 */
export function usualHours(
  xs: readonly number[],
  share = 0.9,
): { from: number; to: number; share: number } | undefined {
  const total = sum(xs);
  if (total <= 0) return undefined;
  for (let len = 1; len <= HOURS; len++) {
    let best: { from: number; mass: number } | undefined;
    for (let from = 0; from < HOURS; from++) {
      let mass = 0;
      for (let k = 0; k < len; k++) mass += xs[(from + k) % HOURS]!;
      if (!best || mass > best.mass) best = { from, mass };
    }
    if (best && best.mass >= share * total - 1e-9)
      return { from: best.from, to: (best.from + len) % HOURS, share: best.mass / total };
  }
  return { from: 0, to: 0, share: 1 };
}

/**
 * Accounts that log on around the clock (services, on-call rotations, teams spread over the world) never raise
 * this alert: an hour is "theirs" when it holds at least a third of an even share of their smoothed activity,
 * and such an account has at least `AROUND_THE_CLOCK_HOURS` of them.
 */
export const AROUND_THE_CLOCK_HOURS = 20;

export function activeHourCount(xs: readonly number[]): number {
  const s = shares(smooth(xs));
  return s.filter((x) => x >= 1 / (3 * HOURS)).length;
}

export function isAroundTheClock(c: HourCounts): boolean {
  const all = c.weekday.map((x, h) => x + c.weekend[h]!);
  return sum(all) > 0 && activeHourCount(all) >= AROUND_THE_CLOCK_HOURS;
}
