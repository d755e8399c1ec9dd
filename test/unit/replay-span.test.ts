/** The span a replay walks: the bulk of a file's logons; outlying groups reported and left out. */
import { describe, expect, it } from 'vitest';
import { OUTLIER_GAP_MS, replaySpan, scheduleFor } from '../../cli/replay';
import { DAY_MS } from '../../shared/core/model';

const T0 = Date.UTC(2026, 2, 1);
/** `n` logons every 10 minutes from `start`. */
const steady = (start: number, n: number) => Array.from({ length: n }, (_, i) => start + i * 600_000);

describe('replaySpan', () => {
  it('is the whole file when its logons hang together, with the windows the schedule runs', () => {
    const times = steady(T0, 5000); // ~35 days
    const s = replaySpan(times)!;
    expect(s).toMatchObject({ first: times[0], last: times.at(-1), logons: 5000, outliers: [] });
    expect(s.windows).toBe(scheduleFor(s.first, s.last).length);
    expect(replaySpan([])).toBeUndefined();
  });

  it('leaves out a stray logon decades away (the 2099 line) and a few boot-time lines dated 1 January', () => {
    const bulk = steady(T0, 5000);
    const boot = [Date.UTC(2026, 0, 1, 0, 0, 5), Date.UTC(2026, 0, 1, 0, 0, 9)];
    const future = Date.UTC(2099, 5, 1);
    const s = replaySpan([...boot, ...bulk, future])!;
    expect(s).toMatchObject({ first: bulk[0], last: bulk.at(-1), logons: 5000 });
    expect(s.outliers).toEqual([
      { first: boot[0], last: boot[1], logons: 2 },
      { first: future, last: future, logons: 1 },
    ]);
    expect(s.windows).toBeLessThan(3500);
  });

  it('keeps a separated group that holds more than 1% of the logons, and everything between bulk groups', () => {
    const a = steady(T0, 1000);
    const small = [a.at(-1)! + OUTLIER_GAP_MS + DAY_MS]; // between the two bulk groups: kept
    const b = steady(small[0]! + OUTLIER_GAP_MS + DAY_MS, 50); // 5% of the logons, far away: kept
    const s = replaySpan([...a, ...small, ...b])!;
    expect(s).toMatchObject({ first: a[0], last: b.at(-1), logons: 1051, outliers: [] });
  });

  it('a gap of up to 30 days is no split; two lone logons far apart are both kept (each is half the file)', () => {
    const times = [T0, T0 + OUTLIER_GAP_MS, T0 + 2 * OUTLIER_GAP_MS];
    expect(replaySpan(times)).toMatchObject({ first: T0, last: times[2], outliers: [] });
    expect(replaySpan([T0, T0 + 400 * DAY_MS])).toMatchObject({ first: T0, last: T0 + 400 * DAY_MS, outliers: [] });
  });
});
