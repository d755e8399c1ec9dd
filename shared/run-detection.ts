/**
 * The detection pipeline, over ports only: the Lambda and the CLI both call this.
 *
 *   window → fetch logons → load baselines and feedback → detectors → thresholds/allowlists → ledger dedup → rank/cap
 *   → publish → mark raised → learn (population, baselines, watermark) → summary
 *
 * It runs the steps of shared/steps/ in order, in this process: the same steps the Step Functions fan-out runs in
 * parallel for organisations beyond one function. A window with more users than `sliceUsers` is split into slices
 * (user shards) so that only one slice's baselines are in memory at a time: each slice is judged and let go (its
 * baselines' window digests kept for the judgements about the whole window), then, once every alert was delivered,
 * read again, learned and written.
 *
 * Order matters for failure: alerts are marked raised only once the sink accepted them, and baselines are
 * learned only after every alert of the window was delivered. A run that fails anywhere leaves the table
 * so that the retry of the same window (Lambda async retry, same scheduled time) publishes what was not yet
 * recorded as delivered and learns the window once: the population is written first, marked with the window
 * (`learnedWindowEnd`), then the users, then the watermark, so a save cut at any write converges on retry.
 * One run at a time holds the run lease, so two overlapping runs never deliver the same alerts.
 */
import type { NetworkLookupService } from './core/network-data/lookup';
import type { Detector } from './core/detectors';
import type { Finding } from './core/model';
import type { DetectionSettings, DetectorId } from './core/settings';
import type { AlertSink, Clock, DetectionStore, LogSource } from './ports';
import type { Staging } from './ports/staging';
import type { RunRef } from './steps/contract';
import { InMemoryStaging } from './adapters/in-memory-staging';
import { createRunSteps } from './steps/run-steps';

export { MAX_FAILURE_USERS_READ, RUN_LEASE_MS, runWindow } from './steps/run-steps';

/** Minimal structured logger the pipeline reports contained failures to. */
export interface RunLogger {
  warn(message: string, data?: Record<string, unknown>): void;
}

export interface DetectionDeps {
  readonly logSources: readonly LogSource[];
  readonly store: DetectionStore;
  readonly sink: AlertSink;
  readonly clock: Clock;
  readonly settings: DetectionSettings;
  /** Defaults to the registry; tests may pass their own. */
  readonly detectors?: readonly Detector[];
  readonly logger?: RunLogger;
  /**
   * The offline network data (owner and country per address), loaded once per process; absent or without data,
   * observations carry no owner and detection works on addresses alone.
   */
  readonly network?: NetworkLookupService;
  /**
   * Where the run's steps hand their data over (default: this process's memory). A directory in the OS's temporary
   * space keeps a large window's memory bounded (the Lambda and the CLI pass one).
   */
  readonly staging?: Staging;
  /**
   * Told each finding judged against its threshold (after learning), below it as well as above: the report's score
   * distribution (cli/report). Only observes; the run neither waits for nor depends on it.
   */
  readonly onFinding?: (finding: Finding, threshold: number) => void;
}

export interface RunOptions {
  /** End of the window: the schedule's time, never `Date.now()`, so a retried run sees the same window. */
  readonly windowEnd: number;
  /**
   * Start of the window to query. Default: the schedule's 30 minutes before `windowEnd`. Catch-up after missed
   * runs passes its backlog chunks and the newest bucket here (`runScheduled`, shared/run-scheduled.ts): one
   * window never reaches back further on its own.
   */
  readonly windowStart?: number;
  /**
   * Evaluate and deliver alerts, but learn nothing and leave the watermark: how a run that is still working
   * through a backlog looks at the newest logons without learning them out of time order. The ledger keeps
   * the later learning pass of the same window from alerting twice.
   */
  readonly alertOnly?: boolean;
  readonly runId?: string;
  /**
   * Owner of the run lease: unique per attempt (default: the run id and a random UUID). Two attempts of the same
   * window (a duplicate invocation) must differ, or both would think they hold the lease.
   */
  readonly attemptId?: string;
  /** Most users per slice (default `DEFAULT_SLICE_USERS`). */
  readonly sliceUsers?: number;
}

/**
 * Most users whose baselines one slice of a run holds at once (~5 KB each in memory): a window with more is run
 * in slices of about this many users. One slice keeps its baselines from judging to learning (one read); several
 * read each slice's twice (once to judge, once, after delivery, to learn), so memory stays bounded.
 */
export const DEFAULT_SLICE_USERS = 10_000;

/** One log source's share of a run: what the per-source quiet and malformed-row alarms read. */
export interface SourceSummary {
  /** The source's name (`LogSource.name`; the detector names its sources by `logSourceId`). */
  name: string;
  /** Logons (successes and failures) the source returned for the window. */
  logons: number;
  /** Rows (or lines) read, malformed ones included. */
  rows: number;
  /** Rows that looked like logons but could not be mapped. */
  malformed: number;
}

export interface RunSummary {
  runId: string;
  window: { start: string; end: string };
  /** The window was given by the caller (a catch-up chunk or the newest bucket while behind), not the schedule's 30 minutes. */
  catchUp: boolean;
  /** Alerts only: nothing was learned and the watermark did not move (see `RunOptions.alertOnly`). */
  alertOnly: boolean;
  learning: boolean;
  learningEndsAt: string;
  logonsScanned: number;
  observations: number;
  /** Distinct source addresses of the window looked up in the network data (0 when none is loaded). */
  addressesLooked: number;
  /** Of those, with a known network owner. */
  addressesWithOwner: number;
  malformed: number;
  /** Logons whose user name was longer than `MAX_USER_CHARS` and was bounded (kept distinct by a hash suffix). */
  namesTruncated: number;
  queries: number;
  queryRows: number;
  queryMs: number;
  bytesScanned: number;
  usersSeen: number;
  /** User shards the window was run in (1 unless it had more than `sliceUsers` users). */
  slices: number;
  /** Users named only by failed logons whose baselines were read (to tell real users from made-up names). */
  failureTargetsRead: number;
  /** Users named only by failed logons beyond `MAX_FAILURE_USERS_READ`: not looked up, judged as unknown names. */
  failureTargetsNotRead: number;
  usersLearning: number;
  newUsers: number;
  findings: Record<DetectorId, number>;
  alertsPublished: Record<DetectorId, number>;
  alertsDeduplicated: number;
  /** Per-user alerts folded into a campaign alert of the run (recorded as raised with it, not delivered alone). */
  alertsFolded: number;
  /** Findings above threshold silenced by an allowlist. */
  alertsSuppressed: number;
  alertsCutByCap: number;
  detectorErrors: number;
  baselinesWritten: number;
  /** Baselines the store could not hold (over DynamoDB's item limit): skipped and logged, the others saved. */
  itemsNotStored: number;
  alertIds: string[];
  durationMs: number;
  /** Per log source, in the order configured. */
  sources: SourceSummary[];
}

/**
 * Run one window: its steps in order, in this process (shared/steps/run-steps.ts). Windows with any logon, failed
 * ones included, deliver and learn under the run lease; windows without any only advance the watermark, which is
 * version-checked, and cost no lease writes.
 */
export async function runDetection(deps: DetectionDeps, opts: RunOptions): Promise<RunSummary> {
  const staging = deps.staging ?? new InMemoryStaging();
  const sliceUsers = Math.max(1, opts.sliceUsers ?? DEFAULT_SLICE_USERS);
  const started = deps.clock.now();
  // At most twice: an earlier window whose save was cut is finished first (`finishesCutWindow`), then this one.
  for (;;) {
    const steps = createRunSteps(deps, staging, { retainBaselines: true });
    const plan = await steps.plan({
      windowEnd: opts.windowEnd,
      ...(opts.windowStart !== undefined ? { windowStart: opts.windowStart } : {}),
      ...(opts.alertOnly ? { alertOnly: true } : {}),
      ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
      ...(opts.attemptId !== undefined ? { attemptId: opts.attemptId } : {}),
    });
    let run: RunRef = plan;
    try {
      let users = 0;
      for (const g of plan.sourceGroups) users += (await steps.fetch(run, g)).users;
      // Slices of at most `sliceUsers` users (by a hash of the name, so about that many each).
      const slices = Math.ceil(users / sliceUsers);
      if (slices > 1) run = await steps.reshard(run, slices);
      const shards = Array.from({ length: run.shardCount }, (_, i) => i);
      for (const s of shards) await steps.evaluate(run, s);
      await steps.deliver(run);
      for (const s of shards) await steps.learn(run, s);
      await steps.commit(run);
      for (const s of shards) await steps.write(run, s);
      const summary = await steps.finishRun(run);
      // The whole run's time (what a scheduled run's catch-up budgets chunks by), not the last step's.
      if (!plan.finishesCutWindow) return { ...summary, durationMs: deps.clock.now() - started };
    } catch (e) {
      await steps.abandon(run, String(e));
      throw e;
    }
  }
}
