import { describe, expect, it } from 'vitest';
import {
  addSkipped,
  backlogMs,
  canStartChunk,
  chunksOf,
  fellBehind,
  MAX_SKIPPED_RANGES,
  planCatchUp,
  removeSkipped,
} from '../../shared/core/catch-up';
import { BUCKET_MS, DAY_MS } from '../../shared/core/model';
import { HOUR, T0 } from '../support/history';

const T = T0 + 20 * DAY_MS; // a scheduled time on the 15-minute grid
const limits = { maxBacklogMs: 7 * DAY_MS };
const state = (lastWindowEnd: number, catchUpWatermark?: number) => ({
  lastWindowEnd,
  ...(catchUpWatermark !== undefined ? { catchUpWatermark } : {}),
});

describe('planCatchUp', () => {
  it("runs the schedule's 30 minutes in the steady state, on the first run, and for a replayed older window", () => {
    for (const s of [state(T - BUCKET_MS), undefined, state(0), state(T + HOUR)]) {
      expect(planCatchUp(T, s, limits)).toEqual({ chunks: [], newest: { start: T - 2 * BUCKET_MS, end: T } });
    }
  });

  it('after one missed run: the re-read bucket and the missed one as chunks, then the newest bucket', () => {
    const p = planCatchUp(T, state(T - 2 * BUCKET_MS), limits);
    expect(p.chunks).toEqual([
      { start: T - 3 * BUCKET_MS, end: T - 2 * BUCKET_MS },
      { start: T - 2 * BUCKET_MS, end: T - BUCKET_MS },
    ]);
    expect(p.newest).toEqual({ start: T - BUCKET_MS, end: T });
    expect(p.skipped).toBeUndefined();
  });

  it('cuts a 3-day gap into 15-minute chunks covering it exactly once, oldest first', () => {
    const p = planCatchUp(T, state(T - 3 * DAY_MS), limits);
    expect(p.chunks).toHaveLength(3 * 96);
    expect(p.chunks[0]!.start).toBe(T - 3 * DAY_MS - BUCKET_MS);
    expect(p.chunks.at(-1)!.end).toBe(T - BUCKET_MS);
    for (let i = 1; i < p.chunks.length; i++) expect(p.chunks[i]!.start).toBe(p.chunks[i - 1]!.end);
  });

  it('resumes exactly at a watermark a catch-up chunk left, without re-reading a bucket', () => {
    const w = T - 10 * HOUR;
    expect(planCatchUp(T, state(w, w), limits).chunks[0]!.start).toBe(w);
    expect(planCatchUp(T, state(w, w - BUCKET_MS), limits).chunks[0]!.start).toBe(w - BUCKET_MS);
  });

  it('skips what lies beyond the maximum backlog and starts the backlog there', () => {
    const p = planCatchUp(T, state(T - 10 * DAY_MS), limits);
    expect(p.skipped).toEqual({ start: T - 10 * DAY_MS, end: T - 7 * DAY_MS });
    expect(p.chunks[0]!.start).toBe(T - 7 * DAY_MS);
    expect(p.chunks).toHaveLength(7 * 96 - 1);
    expect(planCatchUp(T, state(T - 7 * DAY_MS), limits).skipped).toBeUndefined();
  });
});

describe('the chunk budget', () => {
  const budget = { maxChunks: 3, reserveMs: 20_000 };
  it('stops at the chunk cap', () => {
    expect(canStartChunk(2, undefined, [], budget)).toBe(true);
    expect(canStartChunk(3, undefined, [], budget)).toBe(false);
  });
  it('starts a chunk only if the slowest window so far fits in the time left minus the reserve', () => {
    expect(canStartChunk(0, 100_000, [], budget)).toBe(true);
    expect(canStartChunk(1, 100_000, [30_000, 80_000], budget)).toBe(true);
    expect(canStartChunk(1, 99_999, [30_000, 80_000], budget)).toBe(false);
    expect(canStartChunk(0, 19_999, [], budget)).toBe(false);
  });
});

describe('backlog figures', () => {
  it('counts unanalysed time before the newest bucket', () => {
    expect(backlogMs(T, T - BUCKET_MS)).toBe(0);
    expect(backlogMs(T, T)).toBe(0);
    expect(backlogMs(T, T - 2 * HOUR)).toBe(2 * HOUR - BUCKET_MS);
  });
  it('says a run fell behind when it gained no more than the bucket that arrived since the previous run', () => {
    expect(fellBehind(2 * HOUR, 2 * HOUR - BUCKET_MS)).toBe(true);
    expect(fellBehind(2 * HOUR, 2 * HOUR - 2 * BUCKET_MS)).toBe(false);
    expect(fellBehind(2 * HOUR, 0)).toBe(false);
  });
});

describe('skipped ranges', () => {
  const r = (a: number, b: number) => ({ start: T0 + a * HOUR, end: T0 + b * HOUR });
  it('merges overlapping and touching ranges, sorted', () => {
    expect(addSkipped([r(5, 6), r(1, 2)], r(2, 3))).toEqual([r(1, 3), r(5, 6)]);
    expect(addSkipped(undefined, r(1, 2))).toEqual([r(1, 2)]);
  });
  it('stays bounded by merging the oldest, never dropping a range', () => {
    let ranges = Array.from({ length: MAX_SKIPPED_RANGES }, (_, i) => r(2 * i, 2 * i + 1));
    ranges = addSkipped(ranges, r(100, 101));
    expect(ranges).toHaveLength(MAX_SKIPPED_RANGES);
    expect(ranges[0]).toEqual(r(0, 3));
    expect(ranges.at(-1)).toEqual(r(100, 101));
  });
  it('removes an analysed chunk, splitting a range around it', () => {
    expect(removeSkipped([r(1, 5)], r(2, 3))).toEqual([r(1, 2), r(3, 5)]);
    expect(removeSkipped([r(1, 2)], r(1, 2))).toEqual([]);
    expect(removeSkipped([r(1, 2)], r(3, 4))).toEqual([r(1, 2)]);
  });
  it('cuts a range into whole buckets', () => {
    expect(chunksOf({ start: T + 60_000, end: T + BUCKET_MS + 1 })).toEqual([
      { start: T, end: T + BUCKET_MS },
      { start: T + BUCKET_MS, end: T + 2 * BUCKET_MS },
    ]);
  });
});
