/**
 * The fan-out's run metrics: the names and dimensions the single Lambda emits (lambdas/detector/metrics.ts), so the
 * dashboard and the alarms read a fan-out deployment as they read a single one. A window's figures come from its
 * Finish step (the window's summary, from what every step staged); the catch-up's from the Windows step (what the
 * execution plans) and from Finish (a backlog chunk done); skipped minutes from Windows and SkipChunk. Every other
 * step emits nothing.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { BUCKET_MS } from '../../shared/core/model';
import { fellBehind } from '../../shared/core/catch-up';
import type { RunSummary } from '../../shared/run-detection';
import type { ScheduledWindows } from '../../shared/scheduled-windows';
import { METRICS } from '../../shared/telemetry';
import { emitSummaryMetrics } from '../detector/metrics';
import type { StepEvent } from './event';

type FinishEvent = Extract<StepEvent, { step: 'finish' }>;

/** Minutes a step's result says it skipped (as the single run's `catchUpReport.skippedMinutes`). */
export function skippedMinutesOf(step: StepEvent, result: unknown): number {
  if (step.step === 'windows') return (result as ScheduledWindows).skippedMinutes;
  if (step.step === 'skip') return (step.window.windowEnd - step.window.windowStart) / 60_000;
  return 0;
}

/**
 * A finished window's summary as the run metrics count it (pure):
 * - an alert-only window (the newest bucket looked at first while behind) counts its queries but not its logons:
 *   the same bucket is learned, and counted, later (in this execution or a later one's chunk), as the single run
 *   counts a re-read bucket once;
 * - the duration is the execution's so far (from `$$.Execution.StartTime`), the single run's "whole run"; without
 *   it (a finish started by hand), the Finish step's own.
 */
export function finishedWindowSummary(summary: RunSummary, event: FinishEvent, nowMs: number): RunSummary {
  const started = event.executionStartedAt === undefined ? Number.NaN : Date.parse(event.executionStartedAt);
  const durationMs = Number.isFinite(started) ? Math.max(0, nowMs - started) : summary.durationMs;
  if (!event.run.alertOnly) return { ...summary, durationMs };
  return {
    ...summary,
    durationMs,
    logonsScanned: 0,
    observations: 0,
    addressesLooked: 0,
    addressesWithOwner: 0,
    sources: summary.sources.map((s) => ({ ...s, logons: 0 })),
  };
}

/** What the execution plans, as the single run's catch-up report says it: backlog left, and whether it gains. */
export function plannedCatchUp(windows: ScheduledWindows): { backlogAfterMinutes: number; fellBehind: boolean } {
  const chunks = windows.windows.filter((w) => w.chunk).length;
  const after = windows.chunksLeft * BUCKET_MS;
  return {
    backlogAfterMinutes: after / 60_000,
    fellBehind: fellBehind((chunks + windows.chunksLeft) * BUCKET_MS, after),
  };
}

/** The metrics of one successful step (most emit none). */
export function emitStepMetrics(metrics: Metrics, step: StepEvent, result: unknown, nowMs: number): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  if (step.step === 'finish') {
    // The heartbeat (NoSuccessfulRun reads RunSucceeded) is among them: a window finished.
    emitSummaryMetrics(metrics, finishedWindowSummary(result as RunSummary, step, nowMs));
    // The planned window, unless this run finished an earlier window's cut save instead (the window is planned again).
    const w = step.window;
    if (w?.chunk && w.windowStart === step.run.windowStart && w.windowEnd === step.run.windowEnd)
      count(METRICS.catchUpChunks, 1);
  }
  if (step.step === 'windows') {
    const planned = plannedCatchUp(result as ScheduledWindows);
    count(METRICS.catchUpBacklogMinutes, planned.backlogAfterMinutes);
    count(METRICS.catchUpFellBehind, planned.fellBehind ? 1 : 0);
  }
  // CatchUpSkipped reads the minutes skipped: beyond maxBacklogDays (windows), or a chunk never fetched whole (skip).
  const skippedMinutes = skippedMinutesOf(step, result);
  if (skippedMinutes > 0) count(METRICS.catchUpSkippedMinutes, skippedMinutes);
}
