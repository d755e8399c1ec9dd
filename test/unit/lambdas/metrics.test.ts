/**
 * The detector's metrics (lambdas/detector/metrics.ts) and the fan-out's (lambdas/fanout/metrics.ts): the run
 * summary, a fan-out step's result and a failed run's error → the Embedded Metric Format documents the handlers
 * write, read back as CloudWatch would (test/support/emf.ts). The dashboard and the alarms read exact (name,
 * dimensions) pairs, so a value emitted under the wrong set is a value no graph or alarm ever sees.
 */
import { describe, expect, it } from 'vitest';
import { emitFailureMetrics, emitRunMetrics } from '../../../lambdas/detector/metrics';
import { parseStepEvent } from '../../../lambdas/fanout/event';
import { emitStepMetrics } from '../../../lambdas/fanout/metrics';
import { FileLogSource } from '../../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../../shared/adapters/in-memory-baseline-store';
import { DETECTORS, type Detector } from '../../../shared/core/detectors';
import type { LogonEvent } from '../../../shared/core/model';
import { DEFAULT_SETTINGS, type DetectorId } from '../../../shared/core/settings';
import { QueryError, QueryIncompleteError } from '../../../shared/errors';
import { runDetection, type RunSummary } from '../../../shared/run-detection';
import type { CatchUpReport } from '../../../shared/run-scheduled';
import type { RunRef } from '../../../shared/steps/contract';
import type { ScheduledWindows } from '../../../shared/scheduled-windows';
import {
  DETECTOR_DIMENSION,
  LOG_SOURCE_DIMENSION,
  METRIC_NAMESPACE,
  METRICS,
  SERVICE_DIMENSION,
} from '../../../shared/telemetry';
import { captureEmf, type DataPoint } from '../../support/emf';
import { HOUR, T0 } from '../../support/history';

const { dataPoints, warnings } = captureEmf();

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    runId: 'run-1',
    window: { start: '2026-04-08T14:00:00.000Z', end: '2026-04-08T14:30:00.000Z' },
    catchUp: false,
    alertOnly: false,
    learning: false,
    learningEndsAt: '2026-03-01T00:00:00.000Z',
    logonsScanned: 130,
    observations: 12,
    addressesLooked: 0,
    addressesWithOwner: 0,
    malformed: 3,
    queries: 2,
    queryRows: 40,
    queryMs: 900,
    bytesScanned: 1000,
    usersSeen: 9,
    slices: 1,
    failureTargetsRead: 0,
    failureTargetsNotRead: 0,
    usersLearning: 1,
    newUsers: 0,
    findings: byDetector(2, 5),
    alertsPublished: byDetector(1, 4),
    alertsDeduplicated: 0,
    alertsFolded: 0,
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

/** What a run in the steady state reports about catch-up. */
const CAUGHT_UP: CatchUpReport = {
  backlogBeforeMinutes: 0,
  backlogAfterMinutes: 0,
  chunksAnalysed: 0,
  chunksLeft: 0,
  analysedUntil: '2026-04-08T14:30:00.000Z',
  caughtUp: true,
  previewed: false,
  fellBehind: false,
  skipped: [],
  skippedMinutes: 0,
  skippedRanges: [],
};

/** Emit one run's metrics (with its catch-up report) and return every data point. */
const emit = (s: RunSummary, catchUp: Partial<CatchUpReport> = {}) =>
  dataPoints((metrics) => emitRunMetrics(metrics, { ...s, catchUpReport: { ...CAUGHT_UP, ...catchUp }, windows: [] }));

const key = (p: { name: string; dims: Record<string, string> }) =>
  `${p.name} ${JSON.stringify(Object.entries(p.dims).sort())}`;

/** A metric's values under the service dimension alone (the whole-run figures). */
function runValues(points: DataPoint[], name: string): number[] {
  return points.filter((p) => p.name === name && Object.keys(p.dims).length === 1).map((p) => p.value);
}

/** A metric's values by detector, from the data points that carry the Detector dimension. */
function perDetector(points: DataPoint[], name: string): Record<string, number> {
  return Object.fromEntries(
    points
      .filter((p) => p.name === name && DETECTOR_DIMENSION in p.dims)
      .map((p) => [p.dims[DETECTOR_DIMENSION], p.value]),
  );
}

/** One figure per registered detector, in registry order; detectors not given count 0. */
function byDetector(...values: number[]): Record<DetectorId, number> {
  return Object.fromEntries(DETECTORS.map((d, i) => [d.id, values[i] ?? 0])) as Record<DetectorId, number>;
}

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

describe('emitRunMetrics', () => {
  it('emits every per-detector figure under its Detector dimension, none under the service alone', () => {
    const points = emit(summary());
    const detectorPoints = points.filter((p) => p.name === METRICS.findings || p.name === METRICS.alertsPublished);
    const [rare, ip, ...others] = DETECTORS.map((d) => d.id);
    expect(detectorPoints.map((p) => [p.name, p.dims[DETECTOR_DIMENSION], p.value]).sort()).toEqual(
      [
        [METRICS.alertsPublished, rare, 1],
        [METRICS.alertsPublished, ip, 4],
        [METRICS.findings, rare, 2],
        [METRICS.findings, ip, 5],
        // Every registered detector reports, zero included.
        ...others.flatMap((id) => [
          [METRICS.alertsPublished, id, 0],
          [METRICS.findings, id, 0],
        ]),
      ].sort(),
    );
    for (const p of detectorPoints)
      expect(Object.keys(p.dims).sort(), key(p)).toEqual([DETECTOR_DIMENSION, SERVICE_DIMENSION].sort());
    expect(warnings).toEqual([]);
  });

  // Powertools' single-metric mode flushes on every addMetric and clears the dimensions: each per-detector value
  // needs a single metric of its own, or AlertsPublished goes out without the Detector dimension (it once did).
  it('emits the alerts published per detector with the Detector dimension', () => {
    const points = emit(summary({ alertsPublished: byDetector(1, 0) }));
    expect(perDetector(points, 'AlertsPublished')).toEqual(byDetector(1, 0));
  });

  it('emits the heartbeat, the run figures and the findings per detector with the Detector dimension', () => {
    const points = emit(summary({ malformed: 2, usersLearning: 3, findings: byDetector(2, 5) }));
    expect(runValues(points, 'RunSucceeded')).toEqual([1]);
    expect(runValues(points, 'DetectorErrors')).toEqual([0]);
    expect(runValues(points, 'MalformedRows')).toEqual([2]);
    expect(runValues(points, 'UsersLearning')).toEqual([3]);
    expect(perDetector(points, 'Findings')).toEqual(byDetector(2, 5));
  });

  it('emits the catch-up figures the catch-up alarms read, under the service dimension', () => {
    const points = emit(summary(), {
      backlogAfterMinutes: 1455,
      chunksAnalysed: 96,
      fellBehind: true,
      skippedMinutes: 1440,
    });
    expect(runValues(points, METRICS.catchUpBacklogMinutes)).toEqual([1455]);
    expect(runValues(points, METRICS.catchUpChunks)).toEqual([96]);
    expect(runValues(points, METRICS.catchUpFellBehind)).toEqual([1]);
    expect(runValues(points, METRICS.catchUpSkippedMinutes)).toEqual([1440]);
    const steady = emit(summary());
    expect(
      [
        METRICS.catchUpBacklogMinutes,
        METRICS.catchUpChunks,
        METRICS.catchUpFellBehind,
        METRICS.catchUpSkippedMinutes,
      ].map((m) => runValues(steady, m)),
    ).toEqual([[0], [0], [0], [0]]);
  });

  it('emits the items the store could not hold from the run summary', () => {
    const points = emit(summary({ itemsNotStored: 1 }));
    expect(runValues(points, METRICS.itemsNotStored)).toEqual([1]);
    expect(runValues(points, METRICS.runSucceeded)).toEqual([1]);
  });

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
    const events = [
      ev('alice', '81.2.69.142', t),
      ev('mallory', '203.0.113.9', t + 1000),
      ev('bob', '81.2.69.143', t + 2000),
    ];
    const run = await runDetection(
      {
        logSources: [
          new FileLogSource({
            name: 'test',
            events,
            parseStats: { lines: 3, events: 3, skipped: 0, malformed: 0, malformedSamples: [] },
          }),
        ],
        store: new InMemoryBaselineStore(),
        sink: new InMemoryAlertSink(),
        clock: { now: () => 0 },
        settings: DEFAULT_SETTINGS,
        detectors: [fragile, DETECTORS[1]!],
      },
      { windowEnd: t + 15 * 60_000 },
    );
    expect(run.detectorErrors).toBe(1);
    // Act
    const points = emit(run).filter((p) => p.name === 'DetectorErrors');
    // Assess: declared as a Count metric in the Authwatch namespace (the reader checks every document's), with the value 1.
    expect(METRIC_NAMESPACE).toBe('Authwatch');
    expect(points.map((p) => [p.unit, p.value])).toEqual([['Count', 1]]);
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
    expect(byName).toMatchObject({
      [METRICS.logonsScanned]: 130,
      [METRICS.malformedRows]: 3,
      [METRICS.queryRows]: 40,
      [METRICS.runSucceeded]: 1,
    });
    const keys = points.map(key);
    expect(new Set(keys).size, 'no (metric, dimensions) emitted twice in one run').toBe(keys.length);
  });

  it('a source with zero logons still reports its zero: the quiet alarm needs the data point', () => {
    const points = emit(summary({ sources: [{ name: 'okta:/okta/system', logons: 0, rows: 0, malformed: 0 }] }));
    expect(
      points
        .filter((p) => p.dims[LOG_SOURCE_DIMENSION] === 'okta:/okta/system')
        .map((p) => [p.name, p.value])
        .sort(),
    ).toEqual(
      [
        [METRICS.logonsScanned, 0],
        [METRICS.malformedRows, 0],
        [METRICS.queryRows, 0],
      ].sort(),
    );
  });
});

describe('emitFailureMetrics', () => {
  it('emits QueryIncomplete for a run that failed because a window could not be fetched whole, and nothing for other failures', () => {
    const incomplete = dataPoints((metrics) =>
      emitFailureMetrics(
        metrics,
        new QueryIncompleteError('sshd:/g: the 10000-row Insights limit is still reached for ...', 57),
      ),
    );
    expect(incomplete.map((p) => [p.name, p.value])).toEqual([[METRICS.queryIncomplete, 1]]);

    const other = dataPoints((metrics) => {
      emitFailureMetrics(metrics, new QueryError('Insights query q1 ended with status Failed'));
      emitFailureMetrics(metrics, new Error('boom'));
    });
    expect(other).toEqual([]);
  });
});

describe("the fan-out's metrics", () => {
  const T = Date.parse('2026-04-08T14:30:00.000Z');
  const run: RunRef = {
    runId: 'run-1',
    attemptId: 'a-1',
    stagingPrefix: 'run-1/a-1',
    windowStart: T - 30 * 60_000,
    windowEnd: T,
    catchUp: false,
    alertOnly: false,
    shardCount: 4,
  };
  const planned = (over: { alertOnly?: boolean; chunk?: boolean } = {}) => ({
    windowStart: run.windowStart,
    windowEnd: run.windowEnd,
    alertOnly: false,
    chunk: false,
    runId: run.runId,
    ...over,
  });
  /** The points Finish emits for `result`, the execution having started `startedMsAgo` before `T`. */
  const finish = (result: RunSummary, r: RunRef = run, window = planned(), startedMsAgo?: number) =>
    dataPoints((metrics) =>
      emitStepMetrics(
        metrics,
        parseStepEvent({
          step: 'finish',
          run: r,
          window,
          ...(startedMsAgo === undefined ? {} : { executionStartedAt: new Date(T - startedMsAgo).toISOString() }),
        }),
        result,
        T,
      ),
    );
  const perSource = (points: DataPoint[], name: string) =>
    Object.fromEntries(
      points
        .filter((p) => p.name === name && LOG_SOURCE_DIMENSION in p.dims)
        .map((p) => [p.dims[LOG_SOURCE_DIMENSION], p.value]),
    );

  it("Finish emits the window's figures under the single run's names and dimensions, the heartbeat among them", () => {
    const single = emit(summary());
    const fanout = finish(summary(), run, planned(), 90_000);
    // The same (metric, dimensions) pairs as a caught-up single run, but the catch-up figures the plan emits.
    const catchUp = new Set<string>([
      METRICS.catchUpBacklogMinutes,
      METRICS.catchUpChunks,
      METRICS.catchUpFellBehind,
      METRICS.catchUpSkippedMinutes,
    ]);
    expect(fanout.map(key).sort()).toEqual(
      single
        .filter((p) => !catchUp.has(p.name))
        .map(key)
        .sort(),
    );
    expect(runValues(fanout, METRICS.runSucceeded)).toEqual([1]);
    expect(runValues(fanout, METRICS.logonsScanned)).toEqual([130]);
    expect(perDetector(fanout, METRICS.alertsPublished)).toEqual(byDetector(1, 4));
    // The run's duration is the execution's so far, not the Finish step's own.
    expect(runValues(fanout, METRICS.runDurationMs)).toEqual([90_000]);
    // A finish started by hand, without the execution's start: the step's own duration.
    expect(runValues(finish(summary({ durationMs: 1500 })), METRICS.runDurationMs)).toEqual([1500]);
    expect(warnings).toEqual([]);
  });

  it('sums a source split into several fetch groups into one data point per source metric', () => {
    const split = summary({
      sources: [
        { name: 'sshd:/ec2/secure', logons: 100, rows: 30, malformed: 2 },
        { name: 'okta:/okta/system', logons: 0, rows: 0, malformed: 0 },
        { name: 'sshd:/ec2/secure', logons: 30, rows: 7, malformed: 1 },
      ],
    });
    const points = finish(split);
    expect(perSource(points, METRICS.logonsScanned)).toEqual({ 'sshd:/ec2/secure': 130, 'okta:/okta/system': 0 });
    expect(perSource(points, METRICS.queryRows)).toEqual({ 'sshd:/ec2/secure': 37, 'okta:/okta/system': 0 });
    expect(perSource(points, METRICS.malformedRows)).toEqual({ 'sshd:/ec2/secure': 3, 'okta:/okta/system': 0 });
    const keys = points.map(key);
    expect(new Set(keys).size, 'no (metric, dimensions) emitted twice').toBe(keys.length);
    // The single run sums the same way.
    expect(perSource(emit(split), METRICS.logonsScanned)).toEqual({ 'sshd:/ec2/secure': 130, 'okta:/okta/system': 0 });
  });

  it('an alert-only window counts its queries but not its logons: the bucket is counted once, when learned', () => {
    const points = finish(summary(), { ...run, alertOnly: true, catchUp: true }, planned({ alertOnly: true }));
    expect(runValues(points, METRICS.logonsScanned)).toEqual([0]);
    expect(runValues(points, METRICS.observations)).toEqual([0]);
    expect(perSource(points, METRICS.logonsScanned)).toEqual({
      'sshd:/ec2/secure': 0,
      'cloudtrail:aws-cloudtrail-logs-123456789012': 0,
    });
    expect(runValues(points, METRICS.queryRows)).toEqual([40]);
    expect(perSource(points, METRICS.queryRows)).toEqual({
      'sshd:/ec2/secure': 37,
      'cloudtrail:aws-cloudtrail-logs-123456789012': 3,
    });
    expect(perDetector(points, METRICS.alertsPublished)).toEqual(byDetector(1, 4));
    expect(runValues(points, METRICS.runSucceeded)).toEqual([1]);
  });

  it('a backlog chunk counts one in CatchUpChunks; a scheduled window none', () => {
    const chunk = finish(summary(), { ...run, catchUp: true }, planned({ chunk: true }));
    expect(runValues(chunk, METRICS.catchUpChunks)).toEqual([1]);
    expect(runValues(finish(summary()), METRICS.catchUpChunks)).toEqual([]);
    // A run that finished an earlier window's cut save instead of the chunk planned: the chunk is yet to come.
    const cut = { ...run, windowStart: run.windowStart - 60 * 60_000, windowEnd: run.windowEnd - 60 * 60_000 };
    expect(runValues(finish(summary(), cut, planned({ chunk: true })), METRICS.catchUpChunks)).toEqual([]);
  });

  it("Windows emits the plan's backlog left and whether the execution gains on it, as the single run's report", () => {
    const windows = (chunks: number, chunksLeft: number, skippedMinutes = 0): ScheduledWindows => ({
      windows: [planned({ alertOnly: chunks > 0 }), ...Array.from({ length: chunks }, () => planned({ chunk: true }))],
      chunksLeft,
      skippedMinutes,
    });
    const at = (w: ScheduledWindows) =>
      dataPoints((metrics) => emitStepMetrics(metrics, parseStepEvent({ step: 'windows', time: T }), w, T));
    const figures = (w: ScheduledWindows) => {
      const p = at(w);
      return [METRICS.catchUpBacklogMinutes, METRICS.catchUpFellBehind, METRICS.catchUpSkippedMinutes].map((m) =>
        runValues(p, m),
      );
    };
    // Caught up: nothing left, not behind, nothing skipped (no data point for skipped minutes, as before).
    expect(figures(windows(0, 0))).toEqual([[0], [0], []]);
    // 8 chunks done of 12: 4 left (60 minutes), and gaining.
    expect(figures(windows(8, 4))).toEqual([[60], [0], []]);
    // One chunk an execution never gains: each execution adds a bucket as it does one.
    expect(figures(windows(1, 20))).toEqual([[300], [1], []]);
    // Backlog beyond maxBacklogDays skipped at planning.
    expect(figures(windows(8, 0, 1440))).toEqual([[0], [0], [1440]]);
  });

  it('the steps in between emit nothing', () => {
    for (const e of [
      { step: 'fetch', run, group: 0 },
      { step: 'evaluate', run, shard: 1 },
      { step: 'deliver', run },
      { step: 'learn', run, shard: 1 },
      { step: 'commit', run },
      { step: 'write', run, shard: 1 },
    ])
      expect(
        dataPoints((metrics) => emitStepMetrics(metrics, parseStepEvent(e), {}, T)),
        e.step,
      ).toEqual([]);
  });
});
