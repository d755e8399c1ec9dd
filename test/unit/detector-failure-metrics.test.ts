/** The detector's metrics: the run summary's counters, and the metric a failed run emits for its own alarm. */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { emitFailureMetrics, emitRunMetrics } from '../../lambdas/detector/metrics';
import { QueryError, QueryIncompleteError } from '../../shared/errors';
import type { RunSummary } from '../../shared/run-detection';
import { METRIC_NAMESPACE, METRICS } from '../../shared/telemetry';

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'run-1',
    window: { start: '2026-03-20T09:30:00.000Z', end: '2026-03-20T10:00:00.000Z' },
    catchUp: false,
    learning: false,
    learningEndsAt: '2026-03-14T00:00:00.000Z',
    logonsScanned: 10,
    observations: 3,
    malformed: 0,
    queries: 1,
    queryRows: 3,
    queryMs: 1_000,
    bytesScanned: 100,
    usersSeen: 3,
    usersLearning: 0,
    newUsers: 0,
    findings: { 'Auth.RareUser': 0, 'Auth.UnusualSourceIp': 0 },
    alertsPublished: { 'Auth.RareUser': 0, 'Auth.UnusualSourceIp': 0 },
    alertsDeduplicated: 0,
    alertsSuppressed: 0,
    alertsCutByCap: 0,
    detectorErrors: 0,
    namesTruncated: 0,
    sources: [],
    baselinesWritten: 2,
    itemsNotStored: 1,
    alertIds: [],
    durationMs: 2_000,
    ...overrides,
  };
}

/** The metric values a Metrics instance would publish (Embedded Metric Format), by name. */
function emitted(metrics: Metrics): Record<string, unknown> {
  if (!metrics.hasStoredMetrics()) return {};
  const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: { Metrics: { Name: string }[] }[] } };
  return Object.fromEntries(emf._aws.CloudWatchMetrics.flatMap((m) => m.Metrics).map((m) => [m.Name, emf[m.Name]]));
}

describe('detector metrics', () => {
  it('emits the items the store could not hold from the run summary', () => {
    const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'test' });
    emitRunMetrics(metrics, summary({ itemsNotStored: 1 }));
    expect(emitted(metrics)).toMatchObject({ [METRICS.itemsNotStored]: 1, [METRICS.runSucceeded]: 1 });
  });

  it('emits QueryIncomplete for a run that failed because a window could not be fetched whole, and nothing for other failures', () => {
    const incomplete = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'test' });
    emitFailureMetrics(incomplete, new QueryIncompleteError('sshd:/g: the 10000-row Insights limit is still reached for ...', 57));
    expect(emitted(incomplete)).toEqual({ [METRICS.queryIncomplete]: 1 });

    const other = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'test' });
    emitFailureMetrics(other, new QueryError('Insights query q1 ended with status Failed'));
    emitFailureMetrics(other, new Error('boom'));
    expect(emitted(other)).toEqual({});
  });
});
