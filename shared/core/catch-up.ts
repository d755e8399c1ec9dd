/**
 * Catch-up after missed runs: which windows a scheduled run analyses, and how much of that it may do now.
 * Pure: the times come in, the plan goes out; `runScheduled` (shared/run-scheduled.ts) carries it out.
 *
 * Why chunks of one 15-minute bucket: baselines count a place once per bucket (`touch`), and a Logs Insights
 * query aggregates its whole range into one row per (user, IP), so one query over hours would collapse many
 * active buckets into one and under-count every regular user (see shared/backfill.ts, which walks history the
 * same way). One bucket per chunk learns the backlog exactly as the live schedule would have, oldest first,
 * and scans every minute of it once.
 *
 * Why the newest bucket is previewed: working through a day of backlog can take several runs, and logons
 * happening now must not wait for it. So while behind, each run first evaluates the newest bucket for alerts
 * only (no learning, no watermark) against the baselines as they are, and learns it when the backlog reaches
 * it; the ledger keeps that second pass from alerting again on the same alert id.
 */
import { BUCKET_MS, windowEndingAt, type RunState, type TimeWindow } from './model';

/** Limits of the backlog a scheduled run works through. */
export interface CatchUpLimits {
  /** Unanalysed logons older than this, counted back from the scheduled window's end, are skipped and recorded. */
  readonly maxBacklogMs: number;
}

/** What a scheduled run should analyse, oldest first. */
export interface CatchUpPlan {
  /**
   * Backlog chunks (one bucket each, oldest first) between the watermark and `newest`; empty in the steady
   * state. Each is one `runDetection` window that learns and advances the watermark.
   */
  readonly chunks: readonly TimeWindow[];
  /**
   * The last window: the schedule's 30 minutes when there is no backlog; only the newest bucket when there is
   * one (the bucket before it is the last chunk, read long enough after its end to be complete).
   */
  readonly newest: TimeWindow;
  /** Unanalysed time beyond `maxBacklogMs`, never to be analysed by the schedule: to be recorded and reported. */
  readonly skipped?: TimeWindow;
}

function alignDown(t: number): number {
  return Math.floor(t / BUCKET_MS) * BUCKET_MS;
}

/**
 * Plan the windows of the run scheduled to end at `scheduledEnd` (bucket-aligned) from what the store knows.
 *
 * The backlog starts one bucket before the watermark (the last window's second half is read again, as the
 * schedule's overlapping windows do, for logs that arrived late), except where the watermark was left by a
 * catch-up chunk (`catchUpWatermark`): that chunk was read long after its end, so it is complete, and reading
 * it again would cost every catch-up run a chunk. Anything older than `maxBacklogMs` is skipped.
 */
export function planCatchUp(
  scheduledEnd: number,
  state: Pick<RunState, 'lastWindowEnd' | 'catchUpWatermark'> | undefined,
  limits: CatchUpLimits,
): CatchUpPlan {
  const scheduled = windowEndingAt(scheduledEnd);
  const watermark = state && state.lastWindowEnd > 0 ? alignDown(state.lastWindowEnd) : undefined;
  const newestStart = scheduledEnd - BUCKET_MS;
  // No run yet, the steady state (the last run ended one bucket ago), or a replay of an older window.
  if (watermark === undefined || watermark >= newestStart) return { chunks: [], newest: scheduled };

  const resume = state?.catchUpWatermark === watermark ? watermark : watermark - BUCKET_MS;
  const cut = alignDown(scheduledEnd - limits.maxBacklogMs);
  const skipped: TimeWindow | undefined = watermark < cut ? { start: watermark, end: cut } : undefined;
  const from = Math.max(resume, cut);
  const chunks: TimeWindow[] = [];
  for (let t = from; t < newestStart; t += BUCKET_MS) chunks.push({ start: t, end: t + BUCKET_MS });
  if (chunks.length === 0) return { chunks, newest: scheduled, ...(skipped ? { skipped } : {}) };
  return { chunks, newest: { start: newestStart, end: scheduledEnd }, ...(skipped ? { skipped } : {}) };
}

/** How much backlog one run may work through. */
export interface ChunkBudget {
  /** At most this many chunks per run (bounds queries and writes per run even without a deadline). */
  readonly maxChunks: number;
  /** Keep this much time for the newest window, the metrics and the summary. */
  readonly reserveMs: number;
}

/**
 * Whether another chunk fits: under the chunk cap, and, when the run has a deadline, the slowest window this
 * run has seen still fits in the time left minus the reserve. Estimating by the slowest rather than the mean
 * keeps one slow query from carrying the run past its deadline (a killed run loses its current chunk's work).
 */
export function canStartChunk(
  done: number,
  remainingMs: number | undefined,
  durationsMs: readonly number[],
  budget: ChunkBudget,
): boolean {
  if (done >= budget.maxChunks) return false;
  if (remainingMs === undefined) return true;
  const estimate = durationsMs.length > 0 ? Math.max(...durationsMs) : 0;
  return remainingMs - budget.reserveMs >= estimate;
}

/**
 * Unanalysed time before the newest bucket: zero when caught up. `analysedUntil` is the watermark (or where
 * the backlog starts after a skip).
 */
export function backlogMs(scheduledEnd: number, analysedUntil: number): number {
  return Math.max(0, scheduledEnd - BUCKET_MS - analysedUntil);
}

/**
 * A run fell behind when it left a backlog no smaller than the previous run left: each run adds one bucket of
 * new logons, so it must analyse more than one bucket of backlog to gain on it. (`before` is this run's backlog
 * at its start, one bucket more than the previous run left.)
 */
export function fellBehind(beforeMs: number, afterMs: number): boolean {
  return afterMs > 0 && afterMs >= beforeMs - BUCKET_MS;
}

/** Most skipped ranges run state keeps; older ones merge into the oldest kept (so nothing is dropped silently). */
export const MAX_SKIPPED_RANGES = 20;

/**
 * Add `range` to the recorded skipped ranges: sorted, overlapping and touching ranges merged, at most
 * `MAX_SKIPPED_RANGES` (the oldest merged together beyond that: the record then spans a little analysed time
 * too, which analysing it again costs queries, never alerts twice).
 */
export function addSkipped(ranges: readonly TimeWindow[] | undefined, range: TimeWindow): TimeWindow[] {
  const all = [...(ranges ?? []), range].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const merged: TimeWindow[] = [];
  for (const r of all) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else merged.push({ ...r });
  }
  while (merged.length > MAX_SKIPPED_RANGES) {
    const [a, b] = merged.splice(0, 2) as [TimeWindow, TimeWindow];
    merged.unshift({ start: a.start, end: b.end });
  }
  return merged;
}

/** Remove `done` from the recorded skipped ranges (a range analysed afterwards, e.g. by `authwatch backfill --alerts`). */
export function removeSkipped(ranges: readonly TimeWindow[] | undefined, done: TimeWindow): TimeWindow[] {
  const out: TimeWindow[] = [];
  for (const r of ranges ?? []) {
    if (done.end <= r.start || done.start >= r.end) {
      out.push(r);
      continue;
    }
    if (r.start < done.start) out.push({ start: r.start, end: done.start });
    if (done.end < r.end) out.push({ start: done.end, end: r.end });
  }
  return out;
}

/** One-bucket chunks covering `range` (widened to whole buckets), oldest first. */
export function chunksOf(range: TimeWindow): TimeWindow[] {
  const chunks: TimeWindow[] = [];
  for (let t = alignDown(range.start); t < range.end; t += BUCKET_MS) chunks.push({ start: t, end: t + BUCKET_MS });
  return chunks;
}
