/**
 * A run's summary (`RunSummary`, what the logs, the metrics and the CLI read) from what its steps staged: pure.
 */
import type { Detector } from '../core/detectors';
import type { DetectorId } from '../core/settings';
import type { RunSummary, SourceSummary } from '../run-detection';
import type { RunRef } from './contract';
import type { DeliverStage, FetchStage, ShardStages } from './stages';

/** A count of 0 for every detector. */
export function perDetector(detectors: readonly Detector[]): Record<DetectorId, number> {
  const r = {} as Record<DetectorId, number>;
  for (const d of detectors) r[d.id] = 0;
  return r;
}

export function summariseRun(input: {
  readonly run: RunRef;
  readonly detectors: readonly Detector[];
  readonly learning: boolean;
  readonly learningEndsAt: number;
  /** Per source group, those that fetched. */
  readonly fetches: readonly FetchStage[];
  /** Per user shard, in order. */
  readonly shards: readonly ShardStages[];
  readonly delivered: DeliverStage | undefined;
  readonly durationMs: number;
}): RunSummary {
  const { run, detectors, fetches, shards, delivered: d } = input;
  const sum = <T>(items: readonly T[], f: (x: T) => number) => items.reduce((n, x) => n + f(x), 0);
  const sources: SourceSummary[] = fetches.flatMap((f) => f.sources);
  const evaluated = shards.flatMap((s) => (s.evaluated ? [s.evaluated] : []));
  const written = shards.flatMap((s) => (s.written ? [s.written] : []));
  const findings = perDetector(detectors) as Record<string, number>;
  for (const e of evaluated) for (const f of e.findings) findings[f.detectorId] = (findings[f.detectorId] ?? 0) + 1;
  if (d) for (const [id, n] of Object.entries(d.windowFindings)) findings[id] = (findings[id] ?? 0) + n;
  return {
    runId: run.runId,
    window: { start: new Date(run.windowStart).toISOString(), end: new Date(run.windowEnd).toISOString() },
    catchUp: run.catchUp,
    alertOnly: run.alertOnly,
    learning: input.learning,
    learningEndsAt: new Date(input.learningEndsAt).toISOString(),
    logonsScanned: sum(fetches, (f) => f.logons),
    observations: sum(fetches, (f) => f.observations),
    addressesLooked: sum(fetches, (f) => f.addressesLooked),
    addressesWithOwner: sum(fetches, (f) => f.addressesWithOwner),
    malformed: sum(fetches, (f) => f.malformed),
    namesTruncated: sum(fetches, (f) => f.namesTruncated),
    queries: sum(fetches, (f) => f.queries),
    queryRows: sum(fetches, (f) => f.rows),
    queryMs: sum(fetches, (f) => f.queryMs),
    bytesScanned: sum(fetches, (f) => f.bytesScanned),
    slices: run.shardCount,
    usersSeen: sum(evaluated, (e) => e.users),
    failureTargetsRead: sum(evaluated, (e) => e.failureTargetsRead),
    failureTargetsNotRead: sum(evaluated, (e) => e.failureTargetsNotRead),
    usersLearning: sum(evaluated, (e) => e.usersLearning),
    newUsers: sum(shards, (s) => s.learned?.newUsers ?? 0),
    findings: findings as Record<DetectorId, number>,
    alertsPublished: (d?.alertsPublished ?? perDetector(detectors)) as Record<DetectorId, number>,
    alertsDeduplicated: d?.alertsDeduplicated ?? 0,
    alertsFolded: d?.alertsFolded ?? 0,
    alertsSuppressed: d?.alertsSuppressed ?? 0,
    alertsCutByCap: d?.alertsCutByCap ?? 0,
    detectorErrors: sum(evaluated, (e) => e.detectorErrors) + (d?.detectorErrors ?? 0),
    baselinesWritten: sum(written, (w) => w.written),
    itemsNotStored: sum(written, (w) => w.notStored.length),
    alertIds: d?.alertIds ?? [],
    durationMs: input.durationMs,
    sources,
  };
}
