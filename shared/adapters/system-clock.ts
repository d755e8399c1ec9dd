import type { Clock } from '../ports';

/** The real clock, for durations. Windows never come from here. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }
}
