/**
 * The metrics a Lambda writes as Embedded Metric Format documents on stdout, read back as CloudWatch would: every
 * metric value with the dimension set its document declares. The dashboard and the alarms read exact (name,
 * dimensions) pairs, so a value emitted under the wrong set is a value no graph or alarm ever sees.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, beforeEach, expect, vi } from 'vitest';
import { METRIC_NAMESPACE } from '../../shared/telemetry';

interface EmfDocument {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[];
  };
  [key: string]: unknown;
}

/** One CloudWatch data point: metric name, its unit, its dimensions (name → value), the value. */
export interface DataPoint {
  name: string;
  unit: string;
  dims: Record<string, string>;
  value: number;
}

/**
 * Capture stdout around each test of the calling file (registers its own hooks). `dataPoints(emitting)` runs
 * `emitting` on a fresh `Metrics` (service `authwatch-test`), publishes, and returns every data point written;
 * `warnings` collects what Powertools warned of in the current test.
 */
export function captureEmf(): {
  dataPoints: (emitting: (metrics: Metrics) => void) => DataPoint[];
  warnings: unknown[];
} {
  const written: string[] = [];
  const warnings: unknown[] = [];
  beforeEach(() => {
    written.length = 0;
    warnings.length = 0;
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  function dataPoints(emitting: (metrics: Metrics) => void): DataPoint[] {
    const metrics = new Metrics({
      namespace: METRIC_NAMESPACE,
      serviceName: 'authwatch-test',
      logger: {
        warn: (...a: unknown[]) => warnings.push(a),
        error: () => {},
        info: () => {},
        debug: () => {},
      } as never,
    });
    emitting(metrics);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    const points: DataPoint[] = [];
    for (const line of written
      .splice(0)
      .join('')
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))) {
      const doc = JSON.parse(line) as EmfDocument;
      for (const directive of doc._aws.CloudWatchMetrics) {
        expect(directive.Namespace).toBe(METRIC_NAMESPACE);
        for (const set of directive.Dimensions) {
          for (const m of directive.Metrics) {
            const raw = doc[m.Name];
            const values = Array.isArray(raw) ? (raw as number[]) : [raw as number];
            for (const value of values)
              points.push({
                name: m.Name,
                unit: m.Unit,
                dims: Object.fromEntries(set.map((d) => [d, String(doc[d])])),
                value,
              });
          }
        }
      }
    }
    return points;
  }

  return { dataPoints, warnings };
}
