/**
 * `SketchWriter` replays many additions to one sketch in O(log K) each: it must give exactly what the same
 * additions one by one through `sketchAddInPlace` (the O(K) scan) give, counters and key order alike (the order
 * breaks the scan's ties, and is the order the item is stored in).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SketchCounter } from '../../../shared/core/model';
import { sketchAddInPlace, SketchWriter } from '../../../shared/core/population';

const keyArb = fc.constantFrom(
  '10.0.0.1',
  '10.0.0.2',
  '10.0.0.3',
  '198.51.100.0/24',
  'AS64500',
  'NL',
  'a',
  'b',
  'c',
  'd',
);
const counterArb = fc.record({
  count: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.double({ min: 0, max: 6, noNaN: true })),
  error: fc.integer({ min: 0, max: 3 }),
  last: fc.integer({ min: 0, max: 4 }),
});
const addArb = fc.record({
  key: keyArb,
  // Few distinct times, so ties on (guaranteed count, last) are common and the key order has to break them.
  t: fc.integer({ min: 0, max: 4 }),
  weight: fc.oneof(fc.constant(1), fc.constantFrom(0.25, 0.5, 2), fc.double({ min: 0.01, max: 3, noNaN: true })),
});

describe('a sketch written by a SketchWriter', () => {
  it('is exactly the sketch of the same additions one by one, in the same key order', () => {
    fc.assert(
      fc.property(
        fc.dictionary(keyArb, counterArb, { maxKeys: 8 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(addArb, { maxLength: 60 }),
        (initial, capacity, adds) => {
          const byScan: Record<string, SketchCounter> = { ...initial };
          const byHeap: Record<string, SketchCounter> = { ...initial };
          const writer = new SketchWriter(byHeap, capacity);
          for (const a of adds) {
            sketchAddInPlace(byScan, a.key, a.t, capacity, a.weight);
            writer.add(a.key, a.t, a.weight);
            expect(Object.entries(byHeap)).toEqual(Object.entries(byScan));
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('keeps a place many users share when a flood of one-user places arrives, as the scan does', () => {
    const sketch: Record<string, SketchCounter> = {};
    const writer = new SketchWriter(sketch, 800);
    for (let u = 0; u < 30; u++) writer.add('192.0.2.1', 1);
    for (let i = 0; i < 100_000; i++) writer.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 2 + i);
    expect(Object.keys(sketch)).toHaveLength(800);
    expect(sketch['192.0.2.1']).toEqual({ count: 30, error: 0, last: 1 });
  });
});
