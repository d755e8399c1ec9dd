import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { emitRunMetrics } from '../../../lambdas/detector/metrics';
import { FileLogSource } from '../../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../../shared/adapters/in-memory-baseline-store';
import { DETECTORS, type Detector } from '../../../shared/core/detectors';
import type { LogonEvent } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { runDetection, type RunSummary } from '../../../shared/run-detection';
import { HOUR, T0 } from '../../support/history';

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** Emit a summary's metrics and return the EMF documents Powertools writes to stdout (what CloudWatch ingests). */
function emf(summary: RunSummary): EmfDocument[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const metrics = new Metrics({ namespace: 'Authwatch', serviceName: 'authwatch-test' });
  emitRunMetrics(metrics, summary);
  metrics.publishStoredMetrics();
  vi.restoreAllMocks();
  return lines.flatMap((l) => l.split('\n')).filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as EmfDocument);
}

/** The value of a metric, found only where a document also declares it (an undeclared key is not a metric). */
function metricValue(docs: EmfDocument[], name: string): unknown[] {
  return docs.filter((d) => d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name))).map((d) => d[name]);
}

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

afterEach(() => vi.restoreAllMocks());

describe('emitRunMetrics', () => {
  it('reports a detector that throws on one observation as DetectorErrors, which the alarm reads', async () => {
    // Prepare: a detector that fails on mallory's logon only, beside a healthy one.
    const base = DETECTORS[0]!;
    const fragile: Detector = {
      ...base,
      evaluate(input) {
        if (input.observation.user === 'mallory') throw new Error('unexpected baseline shape');
        return base.evaluate.call(base, input);
      },
    };
    const t = T0 + 10 * HOUR;
    const events = [ev('alice', '81.2.69.142', t), ev('mallory', '203.0.113.9', t + 1000), ev('bob', '81.2.69.143', t + 2000)];
    const summary = await runDetection(
      {
        logSources: [new FileLogSource({ name: 'test', events, parseStats: { lines: 3, events: 3, skipped: 0, malformed: 0, malformedSamples: [] } })],
        store: new InMemoryBaselineStore(),
        sink: new InMemoryAlertSink(),
        clock: { now: () => 0 },
        settings: DEFAULT_SETTINGS,
        detectors: [fragile, DETECTORS[1]!],
      },
      { windowEnd: t + 15 * 60_000 },
    );
    expect(summary.detectorErrors).toBe(1);
    // Act
    const docs = emf(summary);
    // Assess: declared as a Count metric in the Authwatch namespace, with the value 1.
    expect(metricValue(docs, 'DetectorErrors')).toEqual([1]);
    const declared = docs.flatMap((d) => d._aws.CloudWatchMetrics).find((m) => m.Metrics.some((x) => x.Name === 'DetectorErrors'))!;
    expect(declared.Namespace).toBe('Authwatch');
    expect(declared.Metrics.find((x) => x.Name === 'DetectorErrors')!.Unit).toBe('Count');
  });

  it('emits the heartbeat, the run figures and the findings per detector with the Detector dimension', () => {
    const docs = emf(summaryOf({ malformed: 2, usersLearning: 3, findings: { 'Auth.RareUser': 2, 'Auth.UnusualSourceIp': 5 } }));
    expect(metricValue(docs, 'RunSucceeded')).toEqual([1]);
    expect(metricValue(docs, 'DetectorErrors')).toEqual([0]);
    expect(metricValue(docs, 'MalformedRows')).toEqual([2]);
    expect(metricValue(docs, 'UsersLearning')).toEqual([3]);
    expect(perDetector(docs, 'Findings')).toEqual({ 'Auth.RareUser': 2, 'Auth.UnusualSourceIp': 5 });
  });

  // Powertools' single-metric mode flushes on every addMetric and clears the dimensions: each per-detector value
  // needs a single metric of its own, or AlertsPublished goes out without the Detector dimension (it once did).
  it('emits the alerts published per detector with the Detector dimension', () => {
    const docs = emf(summaryOf({ alertsPublished: { 'Auth.RareUser': 1, 'Auth.UnusualSourceIp': 0 } }));
    expect(perDetector(docs, 'AlertsPublished')).toEqual({ 'Auth.RareUser': 1, 'Auth.UnusualSourceIp': 0 });
  });
});

function summaryOf(over: Partial<RunSummary>): RunSummary {
  const zero = { 'Auth.RareUser': 0, 'Auth.UnusualSourceIp': 0 };
  return {
    runId: 'run-test', window: { start: '2026-03-02T09:30:00.000Z', end: '2026-03-02T10:00:00.000Z' }, catchUp: false, learning: false,
    learningEndsAt: '2026-03-16T00:00:00.000Z', logonsScanned: 40, observations: 12, malformed: 0, queries: 1, queryRows: 12, queryMs: 800,
    bytesScanned: 0, usersSeen: 10, usersLearning: 0, newUsers: 0, findings: zero, alertsPublished: zero, alertsDeduplicated: 0,
    alertsSuppressed: 0, alertsCutByCap: 0, detectorErrors: 0, namesTruncated: 0, itemsNotStored: 0, baselinesWritten: 0, alertIds: [], durationMs: 1200, sources: [],
    ...over,
  };
}

/** A metric's values by detector, from the documents that carry the Detector dimension. */
function perDetector(docs: EmfDocument[], name: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of docs) {
    const declares = d._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name) && m.Dimensions.some((dims) => dims.includes('Detector')));
    if (declares) out[String(d.Detector)] = d[name];
  }
  return out;
}
