/**
 * Replay: walk a log file's time span on the real schedule (a run every 15 minutes, each looking back
 * 30 minutes) through the same `runDetection` the Lambda runs.
 */
import { DETECTORS } from '../shared/core/detectors';
import { BUCKET_MS, DAY_MS } from '../shared/core/model';
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
  /**
   * Source addresses looked up in the network data, and those with a known owner, summed over windows: an address
   * active in many windows counts in each (their ratio is the share of addresses a person sees named in alerts).
   */
  addressesLooked: number;
  addressesWithOwner: number;
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

/**
 * Logons separated from the rest of a file by more than this, with no logon in between, are a group of their
 * own. A month with no logon at all, from anyone, does not happen inside one log: such a gap means a clock
 * that was wrong (a device's first lines after boot, before NTP, dated 1 January), a mistyped year, or two
 * logs pasted together.
 */
export const OUTLIER_GAP_MS = 30 * DAY_MS;
/** A separated group holding at most this share of the file's logons is an outlier: left out and reported. */
export const OUTLIER_MAX_SHARE = 0.01;

/** Logons in [first, last]. */
export interface TimeGroup {
  readonly first: number;
  readonly last: number;
  readonly logons: number;
}

/** What a replay walks: the span holding the bulk of a file's logons, and the outlying groups it leaves out. */
export interface ReplaySpan extends TimeGroup {
  /** Windows the replay runs over [first, last] (`scheduleFor`). */
  readonly windows: number;
  /** Groups far from the rest (`OUTLIER_GAP_MS`) and small (`OUTLIER_MAX_SHARE`), in time order: not replayed. */
  readonly outliers: readonly TimeGroup[];
}

/**
 * The span a replay walks: the bulk of the logons. Sorted times are cut into groups wherever no logon falls
 * within `OUTLIER_GAP_MS`; the groups holding more than `OUTLIER_MAX_SHARE` of the logons (and always the
 * largest) are the bulk, and the span runs from the first of them to the last. Groups before or after it are
 * outliers: walking to them would replay months of empty windows (one stray line from 2099 made a replay walk
 * 2.5 million windows), so they are reported and left out. Groups between bulk groups stay in. Undefined for
 * no logons. `times` must be sorted ascending.
 */
export function replaySpan(times: readonly number[]): ReplaySpan | undefined {
  if (times.length === 0) return undefined;
  const groups: { first: number; last: number; logons: number }[] = [];
  let g = { first: times[0]!, last: times[0]!, logons: 0 };
  for (const t of times) {
    if (t - g.last > OUTLIER_GAP_MS) {
      groups.push(g);
      g = { first: t, last: t, logons: 0 };
    }
    g.last = t;
    g.logons++;
  }
  groups.push(g);
  const largest = groups.reduce((a, b) => (b.logons > a.logons ? b : a));
  const bulk = (x: TimeGroup) => x === largest || x.logons > OUTLIER_MAX_SHARE * times.length;
  const from = groups.findIndex(bulk);
  const to = groups.length - 1 - [...groups].reverse().findIndex(bulk);
  const kept = groups.slice(from, to + 1);
  const first = kept[0]!.first;
  const last = kept[kept.length - 1]!.last;
  return {
    first,
    last,
    logons: kept.reduce((n, x) => n + x.logons, 0),
    windows: scheduleFor(first, last).length,
    outliers: [...groups.slice(0, from), ...groups.slice(to + 1)],
  };
}

export async function replay(
  deps: DetectionDeps,
  span: { first: number; last: number },
  onRun?: (s: RunSummary) => void,
): Promise<ReplayResult> {
  const result: ReplayResult = {
    windows: 0,
    logonsScannedWithOverlap: 0,
    alerts: Object.fromEntries(DETECTORS.map((d) => [d.id, 0])) as Record<DetectorId, number>,
    alertsTotal: 0,
    alertsDeduplicated: 0,
    alertsSuppressed: 0,
    cutByCap: 0,
    detectorErrors: 0,
    itemsNotStored: 0,
    addressesLooked: 0,
    addressesWithOwner: 0,
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
    result.addressesLooked += s.addressesLooked;
    result.addressesWithOwner += s.addressesWithOwner;
    result.learningEndsAt = s.learningEndsAt;
    onRun?.(s);
  }
  return result;
}
