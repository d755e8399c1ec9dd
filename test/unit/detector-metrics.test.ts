/**
 * The run summary → Embedded Metric Format documents the handler writes, read back as CloudWatch would: every
 * metric value with the dimension set its document declares. The dashboard and the alarms read these exact
 * (name, dimensions) pairs, so a value emitted under the wrong set is a value no graph or alarm ever sees.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emitRunMetrics } from '../../lambdas/detector/metrics';
import type { RunSummary } from '../../shared/run-detection';
import { DETECTOR_DIMENSION, LOG_SOURCE_DIMENSION, METRIC_NAMESPACE, METRICS, SERVICE_DIMENSION } from '../../shared/telemetry';

interface EmfDocument {
  _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

/** One CloudWatch data point: metric name, its dimensions (name → value), the value. */
interface DataPoint {
  name: string;
  dims: Record<string, string>;
  value: number;
}

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'run-1',
    window: { start: '2026-04-08T14:00:00.000Z', end: '2026-04-08T14:30:00.000Z' },
    catchUp: false,
    learning: false,
    learningEndsAt: '2026-03-01T00:00:00.000Z',
    logonsScanned: 130,
    observations: 12,
    malformed: 3,
    queries: 2,
    queryRows: 40,
    queryMs: 900,
    bytesScanned: 1000,
    usersSeen: 9,
    usersLearning: 1,
    newUsers: 0,
    findings: { 'Auth.RareUser': 2, 'Auth.UnusualSourceIp': 5 },
    alertsPublished: { 'Auth.RareUser': 1, 'Auth.UnusualSourceIp': 4 },
    alertsDeduplicated: 0,
    alertsSuppressed: 0,
    alertsCutByCap: 0,
    detectorErrors: 0,
    namesTruncated: 0,
    itemsNotStored: 0,
    baselinesWritten: 9,
    alertIds: [],
    durationMs: 1500,
    sources: [
      { name: 'sshd:/ec2/secure', logons: 130, rows: 37, malformed: 3 },
      { name: 'cloudtrail:aws-cloudtrail-logs-123456789012', logons: 0, rows: 3, malformed: 0 },
    ],
    ...overrides,
  };
}

let written: string[];
let warnings: unknown[];
beforeEach(() => {
  written = [];
  warnings = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

/** Emit one run's metrics and return every data point the EMF documents declare. */
function emit(s: RunSummary): DataPoint[] {
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'authwatch-test', logger: { warn: (...a: unknown[]) => warnings.push(a), error: () => {}, info: () => {}, debug: () => {} } as never });
  emitRunMetrics(metrics, s);
  metrics.publishStoredMetrics();
  const points: DataPoint[] = [];
  for (const line of written.join('').split('\n').filter((l) => l.trim().startsWith('{'))) {
    const doc = JSON.parse(line) as EmfDocument;
    for (const directive of doc._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe(METRIC_NAMESPACE);
      for (const set of directive.Dimensions) {
        for (const m of directive.Metrics) {
          const raw = doc[m.Name];
          const values = Array.isArray(raw) ? (raw as number[]) : [raw as number];
          for (const value of values) points.push({ name: m.Name, dims: Object.fromEntries(set.map((d) => [d, String(doc[d])])), value });
        }
      }
    }
  }
  return points;
}

const key = (p: { name: string; dims: Record<string, string> }) => `${p.name} ${JSON.stringify(Object.entries(p.dims).sort())}`;

describe('emitRunMetrics', () => {
  it('emits every per-detector figure under its Detector dimension, none under the service alone', () => {
    const points = emit(summary());
    const perDetector = points.filter((p) => p.name === METRICS.findings || p.name === METRICS.alertsPublished);
    expect(perDetector.map((p) => [p.name, p.dims[DETECTOR_DIMENSION], p.value]).sort()).toEqual(
      [
        [METRICS.alertsPublished, 'Auth.RareUser', 1],
        [METRICS.alertsPublished, 'Auth.UnusualSourceIp', 4],
        [METRICS.findings, 'Auth.RareUser', 2],
        [METRICS.findings, 'Auth.UnusualSourceIp', 5],
      ].sort(),
    );
    for (const p of perDetector) expect(Object.keys(p.dims).sort(), key(p)).toEqual([DETECTOR_DIMENSION, SERVICE_DIMENSION].sort());
    expect(warnings).toEqual([]);
  });

  it('emits logons, rows and malformed rows per log source under [service, LogSource], once each', () => {
    const points = emit(summary()).filter((p) => LOG_SOURCE_DIMENSION in p.dims);
    const got = points.map((p) => [p.dims[LOG_SOURCE_DIMENSION], p.name, p.value]).sort();
    expect(got).toEqual(
      [
        ['sshd:/ec2/secure', METRICS.logonsScanned, 130],
        ['sshd:/ec2/secure', METRICS.queryRows, 37],
        ['sshd:/ec2/secure', METRICS.malformedRows, 3],
        ['cloudtrail:aws-cloudtrail-logs-123456789012', METRICS.logonsScanned, 0],
        ['cloudtrail:aws-cloudtrail-logs-123456789012', METRICS.queryRows, 3],
        ['cloudtrail:aws-cloudtrail-logs-123456789012', METRICS.malformedRows, 0],
      ].sort(),
    );
    for (const p of points) {
      expect(p.dims[SERVICE_DIMENSION]).toBe('authwatch-test');
      expect(Object.keys(p.dims).sort()).toEqual([LOG_SOURCE_DIMENSION, SERVICE_DIMENSION].sort());
    }
  });

  it('keeps the whole-run figures under the service dimension only, each data point once', () => {
    const points = emit(summary());
    const run = points.filter((p) => Object.keys(p.dims).length === 1);
    expect(run.every((p) => p.dims[SERVICE_DIMENSION] === 'authwatch-test')).toBe(true);
    const byName = Object.fromEntries(run.map((p) => [p.name, p.value]));
    expect(byName).toMatchObject({ [METRICS.logonsScanned]: 130, [METRICS.malformedRows]: 3, [METRICS.queryRows]: 40, [METRICS.runSucceeded]: 1 });
    const keys = points.map(key);
    expect(new Set(keys).size, 'no (metric, dimensions) emitted twice in one run').toBe(keys.length);
  });

  it('a source with zero logons still reports its zero: the quiet alarm needs the data point', () => {
    const points = emit(summary({ sources: [{ name: 'okta:/okta/system', logons: 0, rows: 0, malformed: 0 }] }));
    expect(points.filter((p) => p.dims[LOG_SOURCE_DIMENSION] === 'okta:/okta/system').map((p) => [p.name, p.value]).sort()).toEqual(
      [
        [METRICS.logonsScanned, 0],
        [METRICS.malformedRows, 0],
        [METRICS.queryRows, 0],
      ].sort(),
    );
  });
});
