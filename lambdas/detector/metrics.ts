/** Run summary → CloudWatch metrics (Embedded Metric Format via Powertools) with the names the dashboard reads. */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { QueryIncompleteError } from '../../shared/errors';
import { DETECTOR_DIMENSION, METRICS } from '../../shared/telemetry';
import type { RunSummary } from '../../shared/run-detection';
import type { DetectorId } from '../../shared/core/settings';

export function emitRunMetrics(metrics: Metrics, s: RunSummary): void {
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
  count(METRICS.usersLearning, s.usersLearning);
  count(METRICS.detectorErrors, s.detectorErrors);
  count(METRICS.itemsNotStored, s.itemsNotStored);
  metrics.addMetric(METRICS.runDurationMs, MetricUnit.Milliseconds, s.durationMs);
  count(METRICS.runSucceeded, 1);
  for (const id of Object.keys(s.findings) as DetectorId[]) {
    const single = metrics.singleMetric();
    single.addDimension(DETECTOR_DIMENSION, id);
    single.addMetric(METRICS.findings, MetricUnit.Count, s.findings[id]);
    single.addMetric(METRICS.alertsPublished, MetricUnit.Count, s.alertsPublished[id] ?? 0);
    single.publishStoredMetrics();
  }
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
