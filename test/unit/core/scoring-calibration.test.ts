/**
 * The arithmetic behind every score: the calibration knots, the novelty estimates and how a user's own
 * record is pooled with the organisation's. A change here silently moves every alert over or under its
 * threshold, so the figures an analyst reads in an explanation are pinned, not just their order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  POOLED_PRIOR_BUCKETS,
  PRIOR_NEW,
  PRIOR_OLD,
  SCORE_KNOTS,
  eitherProbability,
  noveltyProbability,
  pooledNoveltyProbability,
  scoreFromProbability,
} from '../../../shared/core/scoring';

const probability = fc.double({ min: 0, max: 1, noNaN: true });

describe('scoreFromProbability calibration', () => {
  it('gives each knot its documented score: 0.035 → 40, 0.01 → 75, 10^-2.5 → 87, 0.001 → 94, 0.0001 → 100', () => {
    expect(scoreFromProbability(0.035)).toBe(40);
    expect(scoreFromProbability(0.01)).toBe(75);
    expect(scoreFromProbability(10 ** -2.5)).toBe(87);
    expect(scoreFromProbability(0.001)).toBe(94);
    expect(scoreFromProbability(0.0001)).toBe(100);
    for (const [x, score] of SCORE_KNOTS) expect(scoreFromProbability(10 ** -x)).toBeCloseTo(score, 1);
  });

  it('interpolates linearly in −log10(p) between knots, to one decimal', () => {
    expect(scoreFromProbability(10 ** -2.25)).toBe(81); // half-way between 75 and 87
    expect(scoreFromProbability(10 ** -3.5)).toBe(97); // half-way between 94 and 100
    expect(scoreFromProbability(10 ** -2.75)).toBe(90.5);
    // p = 0.5: −log10 = 0.301, 0.301 / 1.456 of the way from 0 to 40.
    expect(scoreFromProbability(0.5)).toBe(Math.round((0.30103 / -Math.log10(0.035)) * 40 * 10) / 10);
    fc.assert(
      fc.property(probability, (p) => {
        const s = scoreFromProbability(p);
        expect(Math.round(s * 10) / 10).toBe(s);
      }),
    );
  });

  it('stays inside 0–100 for impossible inputs: certainty or more is 0, zero or less is 100', () => {
    expect(scoreFromProbability(1)).toBe(0);
    expect(scoreFromProbability(3)).toBe(0);
    expect(scoreFromProbability(0)).toBe(100);
    expect(scoreFromProbability(-0.5)).toBe(100);
    expect(scoreFromProbability(1e-5)).toBe(100);
  });

  it('alerts (≥ 75) exactly when p ≤ 0.01, the threshold the rules use', () => {
    expect(scoreFromProbability(0.0101)).toBeLessThan(75);
    expect(scoreFromProbability(0.0099)).toBeGreaterThan(75);
    fc.assert(
      fc.property(probability, (p) => {
        expect(scoreFromProbability(p) >= 75).toBe(p <= 0.01 || scoreFromProbability(p) === 75);
      }),
    );
  });
});

describe('noveltyProbability', () => {
  it('is the Beta–Bernoulli estimate (0.2 + k) / (1.2 + n)', () => {
    expect(PRIOR_NEW).toBe(0.2);
    expect(PRIOR_OLD).toBe(1);
    expect(noveltyProbability(0, 0)).toBeCloseTo(0.2 / 1.2, 12);
    expect(noveltyProbability(0, 40)).toBeCloseTo(0.2 / 41.2, 12);
    expect(noveltyProbability(3, 10)).toBeCloseTo(3.2 / 11.2, 12);
    expect(noveltyProbability(10, 10)).toBeCloseTo(10.2 / 11.2, 12);
  });

  it('never claims more than the record shows: negative counts are none, more novel periods than periods is all', () => {
    expect(noveltyProbability(-3, 10)).toBe(noveltyProbability(0, 10));
    expect(noveltyProbability(15, 10)).toBe(noveltyProbability(10, 10));
    expect(noveltyProbability(2, -5)).toBe(noveltyProbability(0, 0));
    fc.assert(
      fc.property(
        fc.double({ min: -100, max: 1e6, noNaN: true }),
        fc.double({ min: -100, max: 1e6, noNaN: true }),
        (k, n) => {
          const p = noveltyProbability(k, n);
          expect(p).toBeGreaterThan(0);
          expect(p).toBeLessThan(1);
        },
      ),
    );
  });
});

describe('pooledNoveltyProbability', () => {
  const popRate = noveltyProbability(30, 300); // the organisation brings something new in ~10% of periods

  it("judges a user with no history by the organisation's rate", () => {
    expect(pooledNoveltyProbability(0, 0, 30, 300)).toBeCloseTo(popRate, 12);
  });

  it("weighs the organisation as 20 periods against the user's own record", () => {
    expect(POOLED_PRIOR_BUCKETS).toBe(20);
    // 20 own periods, none novel: half the weight is the organisation's rate.
    expect(pooledNoveltyProbability(0, 20, 30, 300)).toBeCloseTo(popRate / 2, 12);
    expect(pooledNoveltyProbability(5, 20, 30, 300)).toBeCloseTo((20 * popRate + 5) / 40, 12);
    // After months of periods the user's own record dominates.
    expect(pooledNoveltyProbability(0, 2000, 30, 300)).toBeLessThan(0.001);
  });

  it("falls back to the user's own estimate while the organisation has no periods", () => {
    expect(pooledNoveltyProbability(2, 10, 5, 0)).toBe(noveltyProbability(2, 10));
    expect(pooledNoveltyProbability(2, 10, 5, -1)).toBe(noveltyProbability(2, 10));
  });

  it("clamps the user's counts as the plain estimate does", () => {
    expect(pooledNoveltyProbability(-2, 10, 30, 300)).toBe(pooledNoveltyProbability(0, 10, 30, 300));
    expect(pooledNoveltyProbability(50, 10, 30, 300)).toBe(pooledNoveltyProbability(10, 10, 30, 300));
    expect(pooledNoveltyProbability(0, -10, 30, 300)).toBeCloseTo(popRate, 12);
  });
});

describe('eitherProbability', () => {
  it('is the chance that at least one of two independent explanations holds', () => {
    expect(eitherProbability(0.5, 0.5)).toBe(0.75);
    expect(eitherProbability(0.01, 0)).toBeCloseTo(0.01, 12);
    expect(eitherProbability(0, 0)).toBe(0);
    expect(eitherProbability(1, 0.2)).toBe(1);
    fc.assert(
      fc.property(probability, probability, (a, b) => {
        const p = eitherProbability(a, b);
        expect(p).toBeCloseTo(eitherProbability(b, a), 12);
        expect(p).toBeGreaterThanOrEqual(Math.max(a, b) - 1e-12);
        expect(p).toBeLessThanOrEqual(Math.min(1, a + b) + 1e-12);
      }),
    );
  });
});
