/**
 * Run summary → CloudWatch metrics (Embedded Metric Format via Powertools) with the names the dashboard reads.
 * Counters are summed over every window the invocation ran (catch-up chunks included): one data point per run.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { QueryIncompleteError } from '../../shared/errors';
import { DETECTOR_DIMENSION, LOG_SOURCE_DIMENSION, METRICS } from '../../shared/telemetry';
import type { RunSummary } from '../../shared/run-detection';
import type { ScheduledRunSummary } from '../../shared/run-scheduled';
import type { DetectorId } from '../../shared/core/settings';

export function emitRunMetrics(metrics: Metrics, s: ScheduledRunSummary): void {
  emitSummaryMetrics(metrics, s);
  const c = s.catchUpReport;
  metrics.addMetric(METRICS.catchUpBacklogMinutes, MetricUnit.Count, c.backlogAfterMinutes);
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count(METRICS.catchUpChunks, c.chunksAnalysed);
  count(METRICS.catchUpFellBehind, c.fellBehind ? 1 : 0);
  count(METRICS.catchUpSkippedMinutes, c.skippedMinutes);
}

/**
 * What a run summary says, without the catch-up report: the single Lambda's run (through `emitRunMetrics`), or one
 * window of the fan-out (its Finish step). Sources are summed by name (a source split into several fetch groups
 * reports once per group) so each per-source metric has one value per document.
 */
export function emitSummaryMetrics(metrics: Metrics, s: RunSummary): void {
  const count = (name: string, value: number) => metrics.addMetric(name, MetricUnit.Count, value);
  count(METRICS.logonsScanned, s.logonsScanned);
  count(METRICS.observations, s.observations);
  count(METRICS.malformedRows, s.malformed);
  count(METRICS.queryRows, s.queryRows);
  count(METRICS.queryCount, s.queries);
  metrics.addMetric(METRICS.queryDurationMs, MetricUnit.Milliseconds, s.queryMs);
  count(METRICS.alertsDeduplicated, s.alertsDeduplicated);
  count(METRICS.alertsSuppressed, s.alertsSuppressed);
  count(METRICS.alertsCutByCap, s.alertsCutByCap);
  count(METRICS.alertsFolded, s.alertsFolded);
  count(METRICS.failureTargetsNotRead, s.failureTargetsNotRead);
  count(METRICS.usersLearning, s.usersLearning);
  count(METRICS.detectorErrors, s.detectorErrors);
  count(METRICS.itemsNotStored, s.itemsNotStored);
  metrics.addMetric(METRICS.runDurationMs, MetricUnit.Milliseconds, s.durationMs);
  count(METRICS.runSucceeded, 1);
  for (const id of Object.keys(s.findings) as DetectorId[]) {
    countWith(metrics, DETECTOR_DIMENSION, id, METRICS.findings, s.findings[id]);
    countWith(metrics, DETECTOR_DIMENSION, id, METRICS.alertsPublished, s.alertsPublished[id] ?? 0);
  }
  // Each (metric, source) pair is a custom metric billed per month, so only the three the per-source alarms read:
  // logons for the quiet alarm, rows and malformed rows for the malformed-row rate. A zero is emitted too: the quiet
  // alarm counts hours whose logons sum to zero, and an hour without a data point counts as not quiet.
  for (const src of sourcesByName(s.sources)) {
    countWith(metrics, LOG_SOURCE_DIMENSION, src.name, METRICS.logonsScanned, src.logons);
    countWith(metrics, LOG_SOURCE_DIMENSION, src.name, METRICS.queryRows, src.rows);
    countWith(metrics, LOG_SOURCE_DIMENSION, src.name, METRICS.malformedRows, src.malformed);
  }
}

/** The per-source figures summed by source name, in the order each name first appears. */
export function sourcesByName(sources: RunSummary['sources']): RunSummary['sources'] {
  const by = new Map<string, RunSummary['sources'][number]>();
  for (const s of sources) {
    const prev = by.get(s.name);
    by.set(
      s.name,
      prev
        ? { ...prev, logons: prev.logons + s.logons, rows: prev.rows + s.rows, malformed: prev.malformed + s.malformed }
        : s,
    );
  }
  return [...by.values()];
}

/**
 * The network-owner data's state for this run (`NETWORK_DATA_METRICS`: unavailable, stale, age in days), emitted
 * whether the run then succeeds or fails: the dashboard and the stale and unavailable alarms read them.
 */
export function emitNetworkDataMetrics(metrics: Metrics, values: Readonly<Record<string, number>>): void {
  for (const [name, value] of Object.entries(values)) metrics.addMetric(name, MetricUnit.Count, value);
}

/**
 * Metrics of a failed run, for the failures that have an alarm of their own (every failure also counts in the
 * function's Errors): `QueryIncomplete` when a log source could not return its window whole under the Logs
 * Insights row limit. Such a run fails again on every retry of the window, so it must be told apart from a
 * transient error.
 */
export function emitFailureMetrics(metrics: Metrics, error: unknown): void {
  if (error instanceof QueryIncompleteError) metrics.addMetric(METRICS.queryIncomplete, MetricUnit.Count, 1);
}

/**
 * One metric under [service, `dimension`]. EMF applies a document's dimension sets to every metric in it, so a
 * per-detector or per-source value needs its own document: a Powertools single metric, which publishes (and then
 * clears its dimensions) on every `addMetric`, hence a fresh one per value. Adding two metrics to one single
 * metric sent the second without the extra dimension, where no graph or alarm looks.
 */
function countWith(metrics: Metrics, dimension: string, value: string, name: string, n: number): void {
  metrics.singleMetric().addDimension(dimension, value).addMetric(name, MetricUnit.Count, n);
}
