/**
 * Which window an invocation runs. The window end comes from the event, never from `Date.now()`, so a
 * retried invocation (Lambda async retry, Scheduler retry) runs exactly the same window.
 */
import { BUCKET_MS } from '../../shared/core/model';
import { InvalidEventError } from '../../shared/errors';

/**
 * Accepted shapes:
 * - EventBridge Scheduler with input `{"time":"<aws.scheduler.scheduled-time>"}` (what the stack sends);
 * - an EventBridge scheduled-rule event (`{"detail-type":"Scheduled Event","time":"..."}`);
 * - a manual invoke for replay: `{"windowEnd":"2026-11-23T10:00:00Z"}`.
 *
 * The end is floored to the 15-minute bucket boundary: windows then line up with the buckets baselines
 * count in, and a schedule firing at 10:07 gives late-arriving logs seven extra minutes to be ingested.
 */
export function windowEndFromEvent(event: unknown): number {
  const e = (event ?? {}) as Record<string, unknown>;
  const raw = e.windowEnd ?? e.time;
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    throw new InvalidEventError(
      'The event has no "time" (scheduled invocation) or "windowEnd" (manual replay, ISO 8601): cannot tell which window to run',
    );
  }
  const t = typeof raw === 'number' ? raw : Date.parse(raw);
  if (!Number.isFinite(t))
    throw new InvalidEventError(`The event's time ${JSON.stringify(raw).slice(0, 80)} is not an ISO 8601 date`);
  return Math.floor(t / BUCKET_MS) * BUCKET_MS;
}
