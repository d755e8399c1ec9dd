import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { noveltyProbability, scoreFromProbability } from '../../../shared/core/scoring';
import { decayed, touch, boundSeen } from '../../../shared/core/seen';
import { BUCKET_MS, DAY_MS } from '../../../shared/core/model';

describe('scoreFromProbability', () => {
  it("maps Elastic's cut-off to 40 and p = 0.01 to the alert threshold 75", () => {
    expect(scoreFromProbability(0.035)).toBeCloseTo(40, 0);
    expect(scoreFromProbability(0.01)).toBe(75);
    expect(scoreFromProbability(1)).toBe(0);
    expect(scoreFromProbability(1e-9)).toBe(100);
  });
  it('is monotonically decreasing in p and bounded to 0..100', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-15, max: 1, noNaN: true }),
        fc.double({ min: 1e-15, max: 1, noNaN: true }),
        (a, b) => {
          const [lo, hi] = a < b ? [a, b] : [b, a];
          const sl = scoreFromProbability(lo);
          const sh = scoreFromProbability(hi);
          return sl >= sh && sl <= 100 && sh >= 0;
        },
      ),
    );
  });
});

describe('noveltyProbability', () => {
  it('falls as stable history grows and stays high for a user who is often somewhere new', () => {
    expect(noveltyProbability(0, 40)).toBeLessThan(noveltyProbability(0, 10));
    expect(noveltyProbability(20, 40)).toBeGreaterThan(0.4);
  });
});

describe('decayed bucket counts', () => {
  it("halve in about two weeks, as Elastic's rare counts do", () => {
    const halfLifeBuckets = Math.round((14.44 * DAY_MS) / BUCKET_MS);
    expect(decayed(100, 0, halfLifeBuckets)).toBeCloseTo(50, 0);
  });
  it('count buckets, not events: the same bucket twice is one', () => {
    const t = Date.UTC(2026, 0, 1, 10, 0);
    const once = touch(undefined, t);
    const twice = touch(once, t + 60_000);
    expect(twice.buckets).toBe(1);
    expect(touch(twice, t + BUCKET_MS).buckets).toBeCloseTo(2, 3);
  });
  it('evict the least recently seen entries beyond the bound', () => {
    const t = Date.UTC(2026, 0, 1);
    const map = { a: touch(undefined, t), b: touch(undefined, t + 3), c: touch(undefined, t + 2) };
    expect(Object.keys(boundSeen(map, 2)).sort()).toEqual(['b', 'c']);
  });
});
