/**
 * Replay: walk a log file's time span on the real schedule (a run every 15 minutes, each looking back
 * 30 minutes) through the same `runDetection` the Lambda runs.
 */
import { BUCKET_MS } from '../shared/core/model';
import type { DetectorId } from '../shared/core/settings';
import { runDetection, type DetectionDeps, type RunSummary } from '../shared/run-detection';

export interface ReplayResult {
  windows: number;
  /** Sum over windows; each logon is scanned by two windows (they overlap by half). */
  logonsScannedWithOverlap: number;
  alerts: Record<DetectorId, number>;
  alertsTotal: number;
  alertsDeduplicated: number;
  alertsSuppressed: number;
  cutByCap: number;
  detectorErrors: number;
  /** Users whose baseline could never be stored (over DynamoDB's item limit): skipped, the others learned. */
  itemsNotStored: number;
  learningEndsAt: string | undefined;
  first: number;
  last: number;
}

/** Window ends covering [first, last]: the first window holds the first event, the last event is seen by two windows. */
export function scheduleFor(first: number, last: number): number[] {
  const ends: number[] = [];
  const start = Math.floor(first / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
  const stop = Math.floor(last / BUCKET_MS) * BUCKET_MS + 2 * BUCKET_MS;
  for (let t = start; t <= stop; t += BUCKET_MS) ends.push(t);
  return ends;
}

export async function replay(deps: DetectionDeps, span: { first: number; last: number }, onRun?: (s: RunSummary) => void): Promise<ReplayResult> {
  const result: ReplayResult = {
    windows: 0,
    logonsScannedWithOverlap: 0,
    alerts: { 'Auth.RareUser': 0, 'Auth.UnusualSourceIp': 0 },
    alertsTotal: 0,
    alertsDeduplicated: 0,
    alertsSuppressed: 0,
    cutByCap: 0,
    detectorErrors: 0,
    itemsNotStored: 0,
    learningEndsAt: undefined,
    first: span.first,
    last: span.last,
  };
  for (const windowEnd of scheduleFor(span.first, span.last)) {
    const s = await runDetection(deps, { windowEnd });
    result.windows++;
    result.logonsScannedWithOverlap += s.logonsScanned;
    for (const id of Object.keys(s.alertsPublished) as DetectorId[]) {
      result.alerts[id] += s.alertsPublished[id];
      result.alertsTotal += s.alertsPublished[id];
    }
    result.alertsDeduplicated += s.alertsDeduplicated;
    result.alertsSuppressed += s.alertsSuppressed;
    result.cutByCap += s.alertsCutByCap;
    result.detectorErrors += s.detectorErrors;
    result.itemsNotStored += s.itemsNotStored;
    result.learningEndsAt = s.learningEndsAt;
    onRun?.(s);
  }
  return result;
}
