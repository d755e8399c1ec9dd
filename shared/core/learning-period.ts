/**
 * The global learning period: no alert until the detector has learned `learningDays` of history. It counts from
 * the earliest history the store learned, whoever learned it: the first detector run (`firstWindowEnd`) or a
 * backfill (`backfilledFrom`, which primes older history so the period counts as served for the days covered).
 * Pure: the run state's marks come in; the detector run, the backfill and `authwatch status` all ask here, so
 * they cannot disagree on when alerts start.
 */
import { DAY_MS, type RunState } from './model';

/** The run state's marks the learning period counts from. */
export type LearningMarks = Pick<RunState, 'firstWindowEnd' | 'backfilledFrom'>;

/** When learning began and when alerting starts, epoch ms. */
export interface LearningPeriod {
  /** The earliest history learned: the learning period counts from here. */
  readonly start: number;
  /** `start` plus the learning days: windows ending from here on may alert. */
  readonly end: number;
}

/**
 * The learning period of a store whose run state is `marks`. `alsoFrom` is history about to be learned before
 * the marks (a backfill's start), counted as if already recorded. Undefined when nothing was learned yet and
 * nothing is about to be (no run state and no `alsoFrom`): the period has not begun.
 */
export function learningPeriod(marks: LearningMarks, learningDays: number, alsoFrom?: number): LearningPeriod;
export function learningPeriod(
  marks: LearningMarks | undefined,
  learningDays: number,
  alsoFrom: number,
): LearningPeriod;
export function learningPeriod(
  marks: LearningMarks | undefined,
  learningDays: number,
  alsoFrom?: number,
): LearningPeriod | undefined;
export function learningPeriod(
  marks: LearningMarks | undefined,
  learningDays: number,
  alsoFrom?: number,
): LearningPeriod | undefined {
  const start = Math.min(marks?.firstWindowEnd ?? Infinity, marks?.backfilledFrom ?? Infinity, alsoFrom ?? Infinity);
  if (start === Infinity) return undefined;
  return { start, end: start + learningDays * DAY_MS };
}

/**
 * Whether a window ending at `t` is still learning: nothing alerts, and new users are not counted as new (everyone
 * is new then). Everything before the period's end is learning, including history older than its start (a
 * backfill or `backfill --alerts` range before the first run): alerting needs a served period before it.
 */
export function isLearning(period: LearningPeriod, t: number): boolean {
  return t < period.end;
}
