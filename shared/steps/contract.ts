/**
 * The steps of one detection window, as a state machine runs them (the Step Functions fan-out, infra/) and as one
 * process runs them in order (the single Lambda, the CLI): the same functions either way. What passes between
 * steps is small JSON (Step Functions carries at most 256 KB per state); the data itself is staged (ports/staging.ts)
 * under the run's prefix.
 *
 *   plan → fetch × source group → evaluate × user shard → deliver → learn × user shard → commit → write × user shard
 *   → finish          (any failure after plan: abandon, which gives the lease up)
 *
 * Failure semantics are the single run's: alerts are marked raised only once delivered; nothing is learned before
 * every alert of the window was delivered; the population is saved (marked with the window) before any baseline,
 * the watermark last; so a retried window converges, and delivers nothing twice.
 */

/** Identifies one window's run across its steps; every step gets it back as it was planned. */
export interface RunRef {
  /** The run's id (alerts and logs name it). */
  readonly runId: string;
  /** Owner of the run lease: unique per attempt. */
  readonly attemptId: string;
  /** Where the run's data is staged: a prefix unique to the attempt. */
  readonly stagingPrefix: string;
  /** The window, epoch ms: [windowStart, windowEnd). */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** The window was given by the caller (a catch-up chunk), not the schedule's 30 minutes. */
  readonly catchUp: boolean;
  /** Deliver alerts but learn nothing (see `RunOptions.alertOnly`). */
  readonly alertOnly: boolean;
  /** How many user shards the window's logons are split into (a user's shard: `shardOf`, a hash of the name). */
  readonly shardCount: number;
}

/** What `plan` decides: which groups of log sources to fetch and how many user shards to evaluate and learn. */
export interface RunPlan extends RunRef {
  /** Indices of the log-source groups, each fetched by one `fetch` step (0 … n−1). */
  readonly sourceGroups: readonly number[];
  /** Indices of the user shards (0 … shardCount−1): users go to a shard by a hash of their name. */
  readonly shards: readonly number[];
  /**
   * This plan is not for the window asked for but for an earlier one whose save was cut (its population saved, its
   * users or watermark not) and whose retries all failed: it delivers nothing and finishes that save. Run it, then
   * plan again (a state machine loops back to `plan`).
   */
  readonly finishesCutWindow?: boolean;
}

/** One fetch step: a group of log sources' logons of the window, staged per user shard. */
export interface FetchReport {
  readonly group: number;
  /** Distinct users with a successful logon in this group's logons. */
  readonly users: number;
  readonly logons: number;
  readonly observations: number;
  readonly rows: number;
  readonly malformed: number;
  readonly queries: number;
}

/** One evaluate step: one user shard's per-user findings and the digests the window detectors need, staged. */
export interface EvaluateReport {
  readonly shard: number;
  readonly users: number;
  readonly findings: number;
  readonly detectorErrors: number;
}

/** The deliver step: window detectors, thresholds, ledger, cap, publish, mark raised. */
export interface DeliverReport {
  readonly alertsPublished: number;
  readonly alertsCutByCap: number;
  readonly alertsDeduplicated: number;
  readonly alertIds: readonly string[];
}

/** One learn step: one shard's users learned against the population as it was before the window, staged. */
export interface LearnReport {
  readonly shard: number;
  readonly usersChanged: number;
}

/** One write step: one shard's learned baselines written. */
export interface WriteReport {
  readonly shard: number;
  readonly written: number;
  readonly notStored: number;
}

/**
 * The steps, each a function over the ports (`DetectionDeps` and a `Staging`), bound by the composition root that
 * builds them (`createRunSteps`). Every step may be retried on its own: it reads what earlier steps staged and
 * stages (or writes) what it produces under keys of its own, so repeating it changes nothing.
 */
export interface RunSteps {
  plan(opts: {
    readonly windowEnd: number;
    readonly windowStart?: number;
    readonly alertOnly?: boolean;
    readonly runId?: string;
  }): Promise<RunPlan>;
  fetch(run: RunRef, group: number): Promise<FetchReport>;
  evaluate(run: RunRef, shard: number): Promise<EvaluateReport>;
  deliver(run: RunRef): Promise<DeliverReport>;
  learn(run: RunRef, shard: number): Promise<LearnReport>;
  /** Merge the shards' population statistics and save them, marked with the window, before any baseline is written. */
  commit(run: RunRef): Promise<void>;
  write(run: RunRef, shard: number): Promise<WriteReport>;
  /** Advance the watermark, give up the lease, delete the staged data; returns the run's summary as JSON. */
  finish(run: RunRef): Promise<Record<string, unknown>>;
  /** After a failure: give the lease up (it would expire anyway) and delete the staged data. Never throws. */
  abandon(run: RunRef, error: string): Promise<void>;
}
