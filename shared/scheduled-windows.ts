/**
 * Which windows one scheduled execution of the Step Functions fan-out runs: the windows `runScheduled`
 * (run-scheduled.ts) runs in one invocation, as a list a state machine walks in order, one window's steps at a time.
 *
 *   caught up:  [the schedule's 30 minutes]
 *   behind:     [the newest bucket, alerts only] → backlog chunks, oldest first (at most `maxChunks`)
 *               → [the newest bucket, learned: only when every chunk is in this execution]
 *
 * The same plan (`planCatchUp`), the same order and the same run ids as the single Lambda's, so alerts, the ledger
 * and the watermark behave alike; what lies beyond `maxBacklogDays` is recorded as skipped here, before any window
 * runs, as `runScheduled` does. Two things differ, both because the windows run as separate executions' states
 * rather than in one process: the chunk bound is a count (an execution has no remaining-time clock to consult), and
 * a partial catch-up does not mark `catchUpWatermark`, so the next execution reads its first chunk's bucket again
 * (learning a bucket twice changes nothing: baselines count a place once per bucket).
 *
 * A backlog chunk that can never be fetched whole (a slice over the Logs Insights row limit that no split fixes) is
 * skipped and recorded, and the watermark moves past it (`skipUnfetchableChunk`), as `runScheduled`'s chunk loop
 * does: otherwise every later execution would stop at it until it aged out.
 */
import { addSkipped, planCatchUp } from './core/catch-up';
import { DAY_MS } from './core/model';
import type { DetectionDeps } from './run-detection';
import { updateRunState } from './versioned-update';

/** One window to run: what `RunSteps.plan` takes. Times are epoch ms. */
export interface PlannedWindow {
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Deliver alerts, learn nothing: the newest bucket looked at while a backlog is worked through. */
  readonly alertOnly: boolean;
  /** A backlog chunk: skipped and recorded, not retried, if it can never be fetched whole. */
  readonly chunk: boolean;
  readonly runId: string;
}

/** The windows of one execution, and how much backlog the later ones will still have. */
export interface ScheduledWindows {
  readonly windows: readonly PlannedWindow[];
  /** Backlog chunks planned but left to later executions. */
  readonly chunksLeft: number;
  /** Minutes recorded as skipped by this plan (older than `maxBacklogDays`). */
  readonly skippedMinutes: number;
}

const iso = (t: number) => new Date(t).toISOString();

/** Plan the windows of the execution scheduled at `windowEnd` (bucket-aligned). */
export async function planScheduledWindows(
  deps: Pick<DetectionDeps, 'store' | 'settings' | 'logger'>,
  opts: { readonly windowEnd: number; readonly maxChunks: number; readonly runId?: string },
): Promise<ScheduledWindows> {
  const T = opts.windowEnd;
  const runId = opts.runId ?? `run-${iso(T)}`;
  const state = await deps.store.getRunState();
  const plan = planCatchUp(T, state, { maxBacklogMs: deps.settings.maxBacklogDays * DAY_MS });

  // Recorded before any window runs, so an execution that fails afterwards cannot lose the record of it.
  if (plan.skipped) {
    const skipped = plan.skipped;
    await updateRunState(deps.store, (s) => (s ? { ...s, skipped: addSkipped(s.skipped, skipped) } : undefined));
    deps.logger?.warn(
      'backlog beyond maxBacklogDays skipped: these logons will not be analysed by the schedule; run `authwatch backfill --alerts` to analyse them',
      { skipped: { start: iso(skipped.start), end: iso(skipped.end) }, maxBacklogDays: deps.settings.maxBacklogDays },
    );
  }
  const skippedMinutes = plan.skipped ? (plan.skipped.end - plan.skipped.start) / 60_000 : 0;

  if (plan.chunks.length === 0)
    return {
      windows: [{ windowStart: plan.newest.start, windowEnd: T, alertOnly: false, chunk: false, runId }],
      chunksLeft: 0,
      skippedMinutes,
    };

  const chunks = plan.chunks.slice(0, Math.max(0, opts.maxChunks));
  const newest = { windowStart: plan.newest.start, windowEnd: T };
  return {
    windows: [
      { ...newest, alertOnly: true, chunk: false, runId: `${runId}/newest` },
      ...chunks.map((c) => ({
        windowStart: c.start,
        windowEnd: c.end,
        alertOnly: false,
        chunk: true,
        runId: `${runId}/${iso(c.end)}`,
      })),
      ...(chunks.length === plan.chunks.length ? [{ ...newest, alertOnly: false, chunk: false, runId }] : []),
    ],
    chunksLeft: plan.chunks.length - chunks.length,
    skippedMinutes,
  };
}

/**
 * Record the chunk `window` as skipped and move the watermark past it: its logons could never be fetched whole, and
 * every later execution would otherwise stop at it. `authwatch backfill --alerts` analyses it later, like a backlog
 * beyond `maxBacklogDays`.
 */
export async function skipUnfetchableChunk(
  deps: Pick<DetectionDeps, 'store' | 'logger'>,
  window: { readonly windowStart: number; readonly windowEnd: number },
  error: string,
): Promise<void> {
  const chunk = { start: window.windowStart, end: window.windowEnd };
  await updateRunState(deps.store, (st) =>
    st
      ? { ...st, skipped: addSkipped(st.skipped, chunk), lastWindowEnd: Math.max(st.lastWindowEnd, chunk.end) }
      : undefined,
  );
  deps.logger?.warn(
    'a catch-up chunk could not be fetched whole (Logs Insights row limit): skipped and recorded, the catch-up goes on',
    { chunk: { start: iso(chunk.start), end: iso(chunk.end) }, error },
  );
}
