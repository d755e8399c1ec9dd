/**
 * Counts per period against a learned baseline with time-of-day and weekday seasonality: the model behind the
 * three logon-volume detectors (failed logons, logons, logons from one address).
 *
 * A series keeps, per slot of the week in the deployment's time zone, the decayed number of periods learned (`n`)
 * and the decayed sum of their counts (`s`), with the same per-bucket decay, and so the same two-week half-life, as
 * every other learned number (seen.ts). Slots are the hours of the week (168: Monday 09:00 is not Sunday 09:00, nor
 * Tuesday 09:00).
 *
 * The expected count of a period is its slot's mean, blended towards a coarser level by how little the slot has
 * learned (empirical Bayes): an hour of the week towards the same hour of the same day type (weekday 09:00 across
 * Monday–Friday), that towards the series' overall level. The count's distribution is a negative binomial whose
 * overdispersion α (variance μ + αμ²) is learned per series by the method of moments from what each period's
 * count was against what was expected before it was learned, shrunk towards a prior and never below a floor: a
 * Poisson is far too sure of itself for logons.
 */
import * as z from 'zod';
import { BUCKET_MS } from '../model';
import { localTime } from '../local-time';
import { decayed } from '../seen';
import { quantile, upperTail } from './negbin';

/** Slots of a week: its hours. */
export const SLOTS = 168;

/** The slot of bucket `b` in `zone`: `weekday × 24 + hour` (0 = Sunday 00:00–00:59). */
export function slotOf(b: number, zone: string): number {
  const t = localTime(b * BUCKET_MS, zone);
  return t.weekday * 24 + t.hour;
}

/** Whether a slot of the week falls on a weekend day. */
function weekendSlot(slot: number): boolean {
  const day = Math.floor(slot / 24);
  return day === 0 || day === 6;
}

/** A series' learned counts. Mutated only on copies made by `cloneSeries` inside one learning step. */
export interface Series {
  /** Decayed periods learned per slot. */
  n: number[];
  /** Decayed sum of the periods' counts per slot. */
  s: number[];
  /** Method-of-moments sums for α: Σ((x − μ̂)² − μ̂) and Σ μ̂², decayed. */
  a: number;
  b: number;
  /**
   * How often the series had bursts, decayed: `t[i]` counts the learned periods of at least `MIN_SPIKE_COUNT` whose
   * count was at least 2^(i + 1) times what the model expected before the period was learned (see `TAIL_BINS`).
   */
  t: number[];
}

/** The burst sizes counted in `Series.t`: periods at 2, 4, … 1024 times the expected count. */
export const TAIL_BINS = 10;

/**
 * Fewest logons in a period that can be a spike, for every volume detector: a handful of failures or logons in an
 * hour that usually sees none never is ("0 usually, 3 now"); nor does such a period count as a burst.
 */
export const MIN_SPIKE_COUNT = 20;

export function emptySeries(): Series {
  return {
    n: new Array<number>(SLOTS).fill(0),
    s: new Array<number>(SLOTS).fill(0),
    a: 0,
    b: 0,
    t: new Array<number>(TAIL_BINS).fill(0),
  };
}

export function cloneSeries(x: Series): Series {
  return { n: [...x.n], s: [...x.s], a: x.a, b: x.b, t: [...x.t] };
}

/** The stored form of a series. */
export function seriesSchema() {
  const arr = z.array(z.number().finite().min(0)).length(SLOTS);
  return z.strictObject({
    n: arr,
    s: arr,
    a: z.number().finite(),
    b: z.number().finite().min(0),
    t: z.array(z.number().finite().min(0)).length(TAIL_BINS),
  });
}

/** Multiply every decayed number by `f` (in place). */
export function scaleSeries(x: Series, f: number): void {
  if (f === 1) return;
  for (let i = 0; i < x.n.length; i++) {
    x.n[i]! *= f;
    x.s[i]! *= f;
  }
  x.a *= f;
  x.b *= f;
  for (let i = 0; i < x.t.length; i++) x.t[i]! *= f;
}

/** The decay factor from bucket `from` to bucket `to`. */
export function decayFactor(from: number, to: number): number {
  return decayed(1, from, to);
}

/**
 * Weight, in periods, of the coarser level against a slot's own: an hour of the week has 4 periods a week, so after
 * about one week of learning the slot's own mean counts as much as the level it is blended towards.
 */
export const SLOT_PRIOR_PERIODS = 4;
/** Weight, in periods, of the overall level against an hour of a day type (20 periods a week on weekdays). */
export const LEVEL_PRIOR_PERIODS = 8;

function total(xs: readonly number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t;
}

/** The series' overall mean count per period (0 before anything was learned). */
export function overallMean(x: Series): number {
  const n = total(x.n);
  return n > 0 ? total(x.s) / n : 0;
}

/** The expected count in `slot` (empirical Bayes: the hour of the week → the same hour of its day type → overall). */
export function expectedCount(x: Series, slot: number): number {
  const overall = overallMean(x);
  const hour = slot % 24;
  const weekend = weekendSlot(slot);
  let gn = 0;
  let gs = 0;
  for (let d = 0; d < 7; d++) {
    const j = d * 24 + hour;
    if (weekendSlot(j) !== weekend) continue;
    gn += x.n[j]!;
    gs += x.s[j]!;
  }
  const level = (gs + LEVEL_PRIOR_PERIODS * overall) / (gn + LEVEL_PRIOR_PERIODS);
  return (x.s[slot]! + SLOT_PRIOR_PERIODS * level) / (x.n[slot]! + SLOT_PRIOR_PERIODS);
}

/**
 * Overdispersion prior and floor: α = 0.25 means a period expected at 100 varies by ±50 (one standard deviation)
 * before the series has shown otherwise; never below 0.05 (±22% at 100), which a month of very regular counts may
 * learn but no luck of a quiet month goes beyond. `DISPERSION_PRIOR_WEIGHT` is in units of μ² (one period
 * expected at 20, or 400 periods expected at 1).
 */
export const DISPERSION_PRIOR = 0.25;
export const DISPERSION_FLOOR = 0.05;
export const DISPERSION_PRIOR_WEIGHT = 400;

export function dispersion(x: Series): number {
  return Math.max(
    DISPERSION_FLOOR,
    (x.a + DISPERSION_PRIOR * DISPERSION_PRIOR_WEIGHT) / (x.b + DISPERSION_PRIOR_WEIGHT),
  );
}

/**
 * Periods a series must have learned before its residuals teach α: before that the expected count is mostly the
 * prior's, and a first Monday morning would look like a burst of noise (one day).
 */
export const DISPERSION_AFTER_PERIODS = 96;

/**
 * Learn one period's count `x` in `slot` (in place; the series was decayed to the period first). `judged`: the
 * series is old enough to judge (its detector's minimum history), so how surprised its model is counts towards the
 * calibration; the surprises of a model still learning (every first burst is "impossible" to it) would hide real
 * ones for weeks.
 */
export function learnPeriod(x: Series, slot: number, count: number, judged: boolean): void {
  if (total(x.n) >= DISPERSION_AFTER_PERIODS) {
    const mu = expectedCount(x, slot);
    // How large a burst it was against what was expected, as `judge` would see it.
    const ratio = count / Math.max(MIN_EXPECTED, mu);
    if (judged && count >= MIN_SPIKE_COUNT) for (let i = 0; i < TAIL_BINS && ratio >= 2 ** (i + 1); i++) x.t[i]! += 1;
    x.a += (count - mu) ** 2 - mu;
    x.b += mu * mu;
  }
  x.n[slot]! += 1;
  x.s[slot]! += count;
}

/**
 * A stored number: four significant digits are far below what any decision looks at and keep the item small;
 * what has decayed below 1e-4 is gone.
 */
export function compact(v: number): number {
  if (Math.abs(v) < 1e-4) return 0;
  return Number(v.toPrecision(4));
}

export function compactSeries(x: Series): Series {
  return { n: x.n.map(compact), s: x.s.map(compact), a: compact(x.a), b: compact(x.b), t: x.t.map(compact) };
}

/**
 * The series as seen from another time zone: the deployment's `timeZone` changed since it was learned, so the
 * organisation's habits move with the clock (whole hours; a week's slots turn around the week).
 */
export function rotateSeries(x: Series, shiftHours: number): Series {
  const k = Math.round(shiftHours);
  if (k === 0) return x;
  const rot = (xs: readonly number[]): number[] => xs.map((_, j) => xs[(((j - k) % SLOTS) + SLOTS) % SLOTS]!);
  return { n: rot(x.n), s: rot(x.s), a: x.a, b: x.b, t: x.t };
}

/** Hours between two zones' clocks at instant `t` (positive: `to` is ahead). */
export function zoneShiftHours(from: string, to: string, t: number): number {
  return Math.round((localTime(t, to).offsetMinutes - localTime(t, from).offsetMinutes) / 60);
}

/**
 * Empty buckets between two learned ones are learned as zero counts, since a window without any logon is never
 * judged or learned (nothing happened); up to four days of them (a long weekend of a quiet organisation). A longer
 * gap is a stretch authwatch did not analyse (a skipped backlog), and is not taught as silence.
 */
export const MAX_SILENT_GAP_BUCKETS = 4 * 96;

/** The zero buckets to learn before bucket `b`, after `last` (none when the gap is too long to be silence). */
export function silentBuckets(last: number | undefined, b: number): number[] {
  if (last === undefined || b - last - 1 <= 0 || b - last - 1 > MAX_SILENT_GAP_BUCKETS) return [];
  const out: number[] = [];
  for (let g = last + 1; g < b; g++) out.push(g);
  return out;
}

/** The judgement of one period's count against a series. */
export interface Expectation {
  /** Expected count (with the floor applied). */
  readonly mean: number;
  readonly alpha: number;
  /** P(count ≥ actual) in this period (calibrated: see `judge`). */
  readonly periodProbability: number;
  /** Learned periods (decayed) with a burst about this large or larger against their expectation: 0 when none. */
  readonly similarPeriods: number;
  /** The chance that a day brings a period this unusual: the finding's probability (see `dailyProbability`). */
  readonly probability: number;
  /** The typical range: the 5th and 95th percentiles of the count. */
  readonly low: number;
  readonly high: number;
}

/**
 * The floor of the expected count: an hour that usually sees nothing is judged as if it saw about one logon a
 * period, so a handful is never "infinitely" unusual (with the detectors' minimum counts, "0 usually, 3 now" is no
 * finding).
 */
export const MIN_EXPECTED = 1;

/** Periods in a day: how many chances a day has to bring one unusual period. */
export const PERIODS_PER_DAY = 96;

/**
 * The chance that a day brings at least one period this unusual, from one period's `p`: 1 − (1 − p)^96. A count is
 * judged 96 times a day (a logon once): at p = 0.01 a period that unusual would come every day or so, and an
 * organisation whose sshd sees an internet scanner's burst of 30 failures a few times a week would be alerted on
 * each. Judged per day, the detectors' scores mean what the others' do: p = 0.01 (score 75) is something that
 * happens once in a hundred days, not once in a hundred periods.
 */
export function dailyProbability(p: number): number {
  if (p >= 1) return 1;
  return -Math.expm1(PERIODS_PER_DAY * Math.log1p(-p));
}

/**
 * How unusual `count` is in `slot` of the series (`probability` per day, see `dailyProbability`).
 *
 * The negative binomial's tail, calibrated by the series' own history of bursts: when the series has had periods
 * at least about half as many times above what was expected of them (from the power of two below), the probability
 * is at least how often that happened. Bursts are not negative-binomial: an organisation whose sshd gets an
 * internet scanner's burst of 30–40 failures most days has a tail the model, fitted to every period, makes far too
 * thin; having seen such bursts often, the next is no news, while the first burst of 500, or 200 logons at 03:00
 * on a Sunday, keeps the model's own probability. Elastic normalises an anomaly against the job's history; this
 * does the same, explainably.
 */
export function judge(x: Series, slot: number, count: number): Expectation {
  const mean = Math.max(MIN_EXPECTED, expectedCount(x, slot));
  const alpha = dispersion(x);
  const model = upperTail(count, mean, alpha);
  let similarPeriods = 0;
  let periodProbability = model;
  // Bursts at least half as large against their expectation (the power of two below this one's, or more).
  const bin = Math.min(TAIL_BINS - 1, Math.floor(Math.log2(count / mean)) - 2);
  if (model <= 0.01 && bin >= 0) {
    similarPeriods = x.t[bin]!;
    const n = total(x.n);
    if (similarPeriods > 0 && n > 0) periodProbability = Math.max(model, similarPeriods / n);
  }
  return {
    mean,
    alpha,
    periodProbability,
    similarPeriods,
    probability: dailyProbability(periodProbability),
    low: quantile(0.05, mean, alpha),
    high: quantile(0.95, mean, alpha),
  };
}
