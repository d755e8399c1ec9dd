import { describe, expect, it } from 'vitest';
import { isLearning, learningPeriod } from '../../../shared/core/learning-period';
import { DAY_MS } from '../../../shared/core/model';

const T = Date.UTC(2026, 2, 2);

describe('learningPeriod', () => {
  it('has not begun on a store nothing learned, unless history is about to be', () => {
    expect(learningPeriod(undefined, 14)).toBeUndefined();
    expect(learningPeriod(undefined, 14, T)).toEqual({ start: T, end: T + 14 * DAY_MS });
  });

  it('counts from the first run, or from an earlier backfill, whichever came first', () => {
    expect(learningPeriod({ firstWindowEnd: T }, 14)).toEqual({ start: T, end: T + 14 * DAY_MS });
    expect(learningPeriod({ firstWindowEnd: T, backfilledFrom: T - 20 * DAY_MS }, 14)).toEqual({
      start: T - 20 * DAY_MS,
      end: T - 6 * DAY_MS,
    });
    // A backfill never moves the start later than the first run.
    expect(learningPeriod({ firstWindowEnd: T, backfilledFrom: T + DAY_MS }, 14)?.start).toBe(T);
  });

  it('counts history about to be learned as if recorded, but only when it is earlier', () => {
    expect(learningPeriod({ firstWindowEnd: T }, 7, T - 3 * DAY_MS).start).toBe(T - 3 * DAY_MS);
    expect(learningPeriod({ firstWindowEnd: T, backfilledFrom: T - 5 * DAY_MS }, 7, T - 3 * DAY_MS).start).toBe(
      T - 5 * DAY_MS,
    );
    expect(learningPeriod({ firstWindowEnd: T }, 7, T + DAY_MS).start).toBe(T);
  });

  it('is empty with no learning days: the first window already alerts', () => {
    const p = learningPeriod({ firstWindowEnd: T }, 0);
    expect(isLearning(p, T)).toBe(false);
  });
});

describe('isLearning', () => {
  const p = learningPeriod({ firstWindowEnd: T }, 14);

  it('is true up to the end, and false from the end on', () => {
    expect(isLearning(p, T)).toBe(true);
    expect(isLearning(p, p.end - 1)).toBe(true);
    expect(isLearning(p, p.end)).toBe(false);
    expect(isLearning(p, p.end + DAY_MS)).toBe(false);
  });

  it('treats history older than the start as learning: alerting needs a served period before it', () => {
    expect(isLearning(p, T - 30 * DAY_MS)).toBe(true);
  });
});
