import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { windowEndFromEvent } from '../../../lambdas/detector/event';
import { BUCKET_MS } from '../../../shared/core/model';
import { InvalidEventError } from '../../../shared/errors';

const at = (hh: number, mm: number, ss = 0, ms = 0) => Date.UTC(2026, 10, 23, hh, mm, ss, ms);

describe('windowEndFromEvent', () => {
  it('floors a scheduled time to the 15-minute grid, so a schedule at 10:07 runs the window ending 10:00', () => {
    expect(windowEndFromEvent({ time: '2026-11-23T10:07:00Z' })).toBe(at(10, 0));
    expect(windowEndFromEvent({ time: '2026-11-23T10:14:59.999Z' })).toBe(at(10, 0));
    expect(windowEndFromEvent({ time: '2026-11-23T10:15:00Z' })).toBe(at(10, 15));
  });

  it('reads all three accepted shapes, a manual windowEnd taking precedence', () => {
    expect(
      windowEndFromEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events', time: '2026-11-23T10:31:02Z' }),
    ).toBe(at(10, 30));
    expect(windowEndFromEvent({ windowEnd: '2026-11-23T10:00:00Z' })).toBe(at(10, 0));
    expect(windowEndFromEvent({ windowEnd: at(9, 50), time: '2026-11-23T10:07:00Z' })).toBe(at(9, 45));
  });

  it('gives the same grid-aligned end for every retry of an invocation, never later than the scheduled time', () => {
    // A retry carries the same scheduled time; the end must also land on a bucket boundary that
    // baselines count in, at most one bucket before the time given.
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2040, 0, 1) }), (t) => {
        const end = windowEndFromEvent({ time: new Date(t).toISOString() });
        expect(end % BUCKET_MS).toBe(0);
        expect(end).toBeLessThanOrEqual(t);
        expect(t - end).toBeLessThan(BUCKET_MS);
        expect(windowEndFromEvent({ time: new Date(t).toISOString() })).toBe(end);
      }),
    );
  });

  it('rejects an event that does not say which window to run', () => {
    for (const e of [undefined, null, {}, { time: 'yesterday' }, { windowEnd: true }, { time: Number.NaN }]) {
      expect(() => windowEndFromEvent(e)).toThrow(InvalidEventError);
    }
  });
});
