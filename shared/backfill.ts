/**
 * Backfill: prime the baselines from history without raising alerts, so the learning period counts as served
 * for the days covered. A use case beside `runDetection`, over ports only (a `LogSource` for the historical
 * windows, the `DetectionStore`, a `CheckpointStore` for progress) and the detector's own learning code
 * (`computeBaselineUpdate`); `authwatch backfill` (cli/backfill.ts) composes it with CloudWatch Logs or a file,
 * DynamoDB or a local store, a checkpoint file and a progress bar, and anything else (a Lambda, a Step
 * Functions task) could compose it the same way.
 *
 * How history is walked, and why:
 * - The live detector learns one 15-minute bucket per run (`computeBaselineUpdate` touches each value at
 *   most once per bucket, and the counts decay per bucket). Logs Insights aggregates a query's rows over
 *   the whole query range (`stats ... by user, ip`: one first/last/count per pair), so a 6-hour query would
 *   collapse up to 24 active buckets into one touch and under-count every regular user by that factor.
 *   Changing the profiles' queries to `bin(15m)` is not ours to do, and approximating would make the
 *   primed baselines disagree with what the detector would have learned. So: **one source fetch per
 *   15-minute bucket** ("query window"), run with bounded concurrency (default 4). Bytes scanned, which is
 *   what Insights bills, are the same as with larger queries: every minute of history is scanned exactly
 *   once; only the number of queries grows (96 per day).
 * - The buckets are grouped into **commit windows** (default 6 hours): a window's buckets are fetched in
 *   parallel, applied strictly in time order in memory (baselines read once per window), and the users and
 *   population that changed are written once per window. A user active in 20 buckets of a window costs one
 *   write, not 20. The checkpoint advances per commit window.
 * - Learning mirrors the live pipeline: a bucket is applied with `learning` true while it lies inside the
 *   learning period (core/learning-period.ts) counted from the start of the backfill (new users are not
 *   counted as "new" then, as everyone is new), false after it, so the population's new-user and
 *   dormant-return rates the rare-user detector reads are those the detector would have learned had it run
 *   over the same history.
 * - Never alerts, never touches the alert ledger.
 *
 * Run state: on completion `backfilledFrom` = the earliest time covered (the learning period counts from
 * there); an existing state keeps its `firstWindowEnd` and watermark, and a fresh store gets
 * `firstWindowEnd = lastWindowEnd = end of the backfill` (so the detector's first runs catch up from there,
 * in bounded chunks: see shared/run-scheduled.ts). The watermark only ever moves by `max`.
 *
 * Order matters for decayed counts: a count is valid at its last bucket and can only be extended forward
 * (`touch` ignores older buckets apart from first/last times). So when the store already learned from a
 * later time (a detector run or an earlier backfill, i.e. a run state exists), the backfill stops at that
 * state's `firstWindowEnd` and warns that, for users already known, older history adds first-seen times and
 * places not yet known, but no counts. Backfill into a fresh table before the first run for full effect.
 *
 * Under the run lease: a commit window's read, learning and write happen while it holds the lease, as a run's do
 * (shared/lease-guard.ts): a run writes baselines without a version check, so no one may change them between its read
 * and its write. The fetches happen outside it, so the detector's runs go on between the windows; a window waits up to
 * a whole lease of a run (`BACKFILL_LEASE_WAIT_MS`) for a run to finish, then fails with `LeaseBusyError` (the
 * checkpoint holds the windows done: rerun to resume). Its baselines are written like a run's (`writeUsersLeased`).
 *
 * Resumable: the checkpoint holds the planned span (so a resume an hour later covers the same span) and the
 * end of the last completed commit window. An aborted signal finishes the current commit window and saves the
 * checkpoint. Re-applying an already-applied window is harmless: `touch` is idempotent per bucket, so
 * re-learning the same buckets changes nothing.
 */
import { computeBaselineUpdate } from './core/baseline-update';
import { isLearning, learningPeriod, type LearningPeriod } from './core/learning-period';
import {
  BUCKET_MS,
  emptyPopulation,
  type LogonObservation,
  type PopulationStats,
  type RunState,
  type TimeWindow,
  type UserBaseline,
} from './core/model';
import type { DetectionSettings } from './core/settings';
import { ConfigError } from './errors';
import { CLOCK_SKEW_MARGIN_MS, type LeaseWaitOptions, withLease } from './lease-guard';
import { BACKFILL_CHECKPOINT_FORMAT, type CheckpointStore, type DetectionStore, type LogSource } from './ports';
import { RUN_LEASE_MS } from './run-detection';
import { retryOnConflict, updateRunState } from './versioned-update';

/** One source fetch per bucket: the live detector learns per 15-minute bucket (see the file comment). */
export const QUERY_WINDOW_MS = BUCKET_MS;
/** Default commit window: 24 buckets between checkpoints and store writes. */
export const DEFAULT_COMMIT_WINDOW_HOURS = 6;
/**
 * Default parallel source fetches. Concurrent Insights queries are limited per account (tens, shared with
 * the console, dashboards and the detector itself): a backfill must leave most of them to others.
 * `LimitExceededException` is retried by the SDK client with backoff anyway (aws-clients.ts).
 */
export const DEFAULT_CONCURRENCY = 4;
/**
 * How long a commit window holds the run lease: as long as a run's. Its reads and write of a window's users take
 * seconds to a minute; a backfill that dies holding it blocks the detector's runs until then.
 */
export const BACKFILL_LEASE_MS = RUN_LEASE_MS;
/** How long a commit window waits for a run to give the lease up: a whole lease of a run that died, and the margin. */
export const BACKFILL_LEASE_WAIT_MS = RUN_LEASE_MS + CLOCK_SKEW_MARGIN_MS;

/** Where a backfill stands, for a progress display. */
export interface BackfillProgress {
  /** Commit windows done, in this run and earlier runs of the same checkpoint, and in the whole plan. */
  readonly windowsDone: number;
  readonly windowsTotal: number;
  /** 15-minute query windows fetched so far in this run. */
  readonly bucketsFetched: number;
  /** Query windows this run has to fetch in all. */
  readonly bucketsToFetch: number;
  /** Successful and failed logons seen in this run. */
  readonly logons: number;
  /** Distinct users with a successful logon seen in this run. */
  readonly users: number;
  /** End of the last completed commit window. */
  readonly doneUntil: number;
  /** Milliseconds since this run started. */
  readonly elapsedMs: number;
}

/** What to backfill, from where, into what; and where to report. */
export interface BackfillOptions {
  readonly source: LogSource;
  /** The detection run's port: a backfill learns (baselines, population, run state) as a run does, without alerting. */
  readonly store: DetectionStore;
  readonly settings: DetectionSettings;
  /** History to cover, [from, to); widened to whole 15-minute buckets. Ignored when resuming a checkpoint. */
  readonly span: TimeWindow;
  /** Commit window length (a multiple of 15 minutes). Default 6 hours. */
  readonly commitWindowMs?: number;
  /** Parallel source fetches. Default 4. */
  readonly concurrency?: number;
  /** Where progress is kept; without one, an interrupted backfill starts over. */
  readonly checkpoint?: CheckpointStore;
  /** Identifies this backfill in the checkpoint. Default: derived from the span. */
  readonly checkpointKey?: string;
  /** Ignore (and overwrite) an existing checkpoint. */
  readonly fresh?: boolean;
  /** Stop after the current commit window (the checkpoint is saved). */
  readonly signal?: AbortSignal;
  /** Called after every query window fetched and every commit window applied. */
  readonly onProgress?: (p: BackfillProgress, event: 'fetched' | 'committed') => void;
  /** Warnings a person should read (clipped span, a baseline that cannot be stored, ...). */
  readonly onWarning?: (message: string) => void;
  /**
   * Millisecond clock for progress (`elapsedMs`), the checkpoint's time stamp and the run lease; never for what is
   * learned, which depends on the span alone. Default `Date.now`.
   */
  readonly now?: () => number;
  /** Waiting for the run lease (default: up to `BACKFILL_LEASE_WAIT_MS`, polling every 5 s). */
  readonly lease?: LeaseWaitOptions;
}

/** How a backfill ended: every window applied, stopped by the signal, done by an earlier run, or an empty span. */
export type BackfillStatus = 'completed' | 'interrupted' | 'already-complete' | 'nothing-to-do';

/** What a backfill did. */
export interface BackfillResult {
  readonly status: BackfillStatus;
  /** The planned span. */
  readonly from: number;
  readonly to: number;
  /** Where this run started (after a checkpoint's completed windows). */
  readonly startedAt: number;
  readonly doneUntil: number;
  readonly windowsTotal: number;
  readonly windowsDone: number;
  /** Windows completed by this run. */
  readonly windowsThisRun: number;
  readonly bucketsFetched: number;
  readonly queries: number;
  readonly bytesScanned: number;
  readonly logons: number;
  readonly observations: number;
  readonly malformed: number;
  readonly users: number;
  readonly newUsers: number;
  readonly baselinesWritten: number;
  /** Set when the plan was clipped at an existing run state's `firstWindowEnd`. */
  readonly clippedAt?: number;
  /** The run state written on completion. */
  readonly runState?: RunState;
}

function alignDown(t: number): number {
  return Math.floor(t / BUCKET_MS) * BUCKET_MS;
}

function alignUp(t: number): number {
  return Math.ceil(t / BUCKET_MS) * BUCKET_MS;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

/** Run `fn` over `items` with at most `limit` in flight; results in input order. Stops starting new ones after a failure. */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return out;
}

interface BucketResult {
  readonly window: TimeWindow;
  readonly successes: readonly LogonObservation[];
}

/**
 * Prime the store from `source` over `span`, window by window, without alerting. See the file comment for
 * the choices. Throws what the source or store throws (the checkpoint then holds the last completed window).
 */
export async function backfill(opts: BackfillOptions): Promise<BackfillResult> {
  const now = opts.now ?? Date.now;
  const started = now();
  const commitMs = opts.commitWindowMs ?? DEFAULT_COMMIT_WINDOW_HOURS * 60 * 60 * 1000;
  if (!Number.isInteger(commitMs / BUCKET_MS) || commitMs <= 0)
    throw new ConfigError([`commit window must be a positive multiple of 15 minutes, got ${commitMs} ms`]);
  const concurrency = opts.concurrency ?? DEFAULT_CONCURRENCY;
  const warn = opts.onWarning ?? (() => undefined);
  const state = await opts.store.getRunState();

  // 1. The plan: from the checkpoint when resuming, else the asked span, clipped at what the store already learned.
  const key = opts.checkpointKey ?? `span:${alignDown(opts.span.start)}-${alignUp(opts.span.end)}`;
  const saved = opts.fresh ? undefined : await opts.checkpoint?.load();
  if (saved && saved.key !== key) {
    throw new ConfigError([
      `checkpoint ${opts.checkpoint!.where} belongs to another backfill; remove it, start afresh, or keep this backfill's progress elsewhere`,
    ]);
  }
  let from: number;
  let to: number;
  let clippedAt: number | undefined;
  if (saved) {
    ({ from, to } = saved);
  } else {
    from = alignDown(opts.span.start);
    to = alignUp(opts.span.end);
    if (state && to > state.firstWindowEnd) {
      clippedAt = state.firstWindowEnd;
      to = Math.max(from, alignDown(state.firstWindowEnd));
    }
  }
  if (state) {
    warn(
      `the store already learned from ${iso(state.firstWindowEnd)} on (detector runs or an earlier backfill): history is primed only up to there, and for users it already knows ` +
        `older buckets add first-seen times and places not yet known, not counts (decayed counts only extend forward). Backfill into a fresh table before the first run for the full effect.`,
    );
  }
  const startAt = saved ? (saved.completed ? to : saved.doneUntil) : from;
  const windows: TimeWindow[] = [];
  for (let t = from; t < to; t += commitMs) windows.push({ start: t, end: Math.min(t + commitMs, to) });
  const windowsTotal = windows.length;
  const pending = windows.filter((w) => w.start >= startAt);
  let windowsDone = windowsTotal - pending.length;

  const totals = {
    bucketsFetched: 0,
    queries: 0,
    bytesScanned: 0,
    logons: 0,
    observations: 0,
    malformed: 0,
    newUsers: 0,
    baselinesWritten: 0,
    windowsThisRun: 0,
  };
  const users = new Set<string>();
  const bucketsToFetch = pending.reduce((n, w) => n + (w.end - w.start) / BUCKET_MS, 0);
  let doneUntil = startAt;
  const progress = (): BackfillProgress => ({
    windowsDone,
    windowsTotal,
    bucketsFetched: totals.bucketsFetched,
    bucketsToFetch,
    logons: totals.logons,
    users: users.size,
    doneUntil,
    elapsedMs: now() - started,
  });
  const result = (status: BackfillStatus, runState?: RunState): BackfillResult => ({
    status,
    from,
    to,
    startedAt: startAt,
    doneUntil,
    windowsTotal,
    windowsDone,
    ...totals,
    users: users.size,
    ...(clippedAt !== undefined ? { clippedAt } : {}),
    ...(runState ? { runState } : {}),
  });
  const checkpoint = async (completed: boolean) =>
    opts.checkpoint?.save({
      format: BACKFILL_CHECKPOINT_FORMAT,
      key,
      from,
      to,
      doneUntil,
      completed,
      updatedAt: iso(now()),
    });

  if (from >= to) return result('nothing-to-do');
  if (saved?.completed) return result('already-complete');
  if (!saved) await checkpoint(false);

  // Learning as the live pipeline would have it: counted from the earliest of what the store knows and the start
  // of this backfill (the run state records the latter only on completion).
  const period = learningPeriod(state, opts.settings.learningDays, from);

  // 2. Commit window by commit window: fetch its buckets in parallel, apply them in time order, write, checkpoint.
  for (const w of pending) {
    if (opts.signal?.aborted) {
      return result('interrupted');
    }
    const buckets: TimeWindow[] = [];
    for (let t = w.start; t < w.end; t += QUERY_WINDOW_MS) buckets.push({ start: t, end: t + QUERY_WINDOW_MS });
    const fetched = await mapBounded(buckets, concurrency, async (window): Promise<BucketResult> => {
      const r = await opts.source.fetch(window);
      totals.bucketsFetched++;
      totals.queries += r.stats.queries;
      totals.bytesScanned += r.stats.bytesScanned;
      totals.malformed += r.stats.malformed;
      totals.observations += r.observations.length;
      let logons = 0;
      const successes: LogonObservation[] = [];
      for (const o of r.observations) {
        logons += o.count;
        if (o.outcome === 'success') {
          successes.push(o);
          users.add(o.user);
        }
      }
      totals.logons += logons;
      opts.onProgress?.(progress(), 'fetched');
      return { window, successes };
    });

    const applied = await commitWindow(opts.store, fetched, {
      period,
      settings: opts.settings,
      warn,
      now,
      lease: opts.lease,
    });
    totals.newUsers += applied.newUsers;
    totals.baselinesWritten += applied.baselinesWritten;
    doneUntil = w.end;
    windowsDone++;
    totals.windowsThisRun++;
    await checkpoint(false);
    opts.onProgress?.(progress(), 'committed');
  }

  // 3. Learning counts as served from `from`; the watermark only moves forward.
  const runState = await saveRunState(opts.store, from, to);
  await checkpoint(true);
  return result('completed', runState);
}

/**
 * Apply one commit window's buckets in time order, in memory, then write what changed, all under the run lease.
 * If the lease lapsed and another writer took it before the write (`LeaseLostError`), or another writer changed the
 * population, the window is re-read and re-applied under the lease taken again (idempotent per bucket, so the
 * users this attempt did write are not counted twice).
 */
async function commitWindow(
  store: DetectionStore,
  buckets: readonly BucketResult[],
  o: {
    period: LearningPeriod;
    settings: DetectionSettings;
    warn: (message: string) => void;
    now: () => number;
    lease: LeaseWaitOptions | undefined;
  },
): Promise<{ newUsers: number; baselinesWritten: number }> {
  const names = [...new Set(buckets.flatMap((b) => b.successes.map((s) => s.user)))];
  if (names.length === 0) return { newUsers: 0, baselinesWritten: 0 };
  const guard = {
    purpose: 'backfill',
    holdMs: BACKFILL_LEASE_MS,
    now: o.now,
    waitMs: o.lease?.waitMs ?? BACKFILL_LEASE_WAIT_MS,
    pollMs: o.lease?.pollMs ?? 5_000,
    ...(o.lease?.sleep ? { sleep: o.lease.sleep } : {}),
  };
  return retryOnConflict(() =>
    withLease(store, guard, async (held) => {
      const known: Map<string, UserBaseline> = await store.getUsers(names);
      let population: PopulationStats = (await store.getPopulation()) ?? emptyPopulation();
      let populationChanged = false;
      let newUsers = 0;
      const dirty = new Set<string>();
      for (const b of buckets) {
        // A bucket without successful logons is skipped, as the live run skips saving population for it.
        if (b.successes.length === 0) continue;
        const update = computeBaselineUpdate(b.successes, known, population, {
          windowEnd: b.window.end,
          learning: isLearning(o.period, b.window.end),
          settings: o.settings,
        });
        for (const u of update.users) {
          known.set(u.user, u);
          dirty.add(u.user);
        }
        newUsers += update.newUsers;
        if (update.populationChanged) {
          population = update.population;
          populationChanged = true;
        }
      }
      const { notStored } =
        dirty.size > 0
          ? await store.writeUsersLeased(
              [...dirty].map((u) => known.get(u)!),
              held.renewed(),
              held.now(),
            )
          : { notStored: [] };
      // A user whose item can never be stored is skipped by the store (the others are saved); say so, never silently.
      for (const n of notStored) o.warn(`the baseline of ${n.user} could not be stored (${n.reason}); skipped`);
      if (populationChanged) await store.savePopulation(population);
      return { newUsers, baselinesWritten: dirty.size - notStored.length };
    }),
  );
}

/** Record the backfill in run state: learning counted from `from`, a fresh store's watermark at `to`. */
async function saveRunState(store: DetectionStore, from: number, to: number): Promise<RunState> {
  const saved = await updateRunState(store, (state) =>
    state
      ? {
          ...state,
          lastWindowEnd: Math.max(state.lastWindowEnd, to),
          backfilledFrom: Math.min(state.backfilledFrom ?? Infinity, from),
        }
      : { firstWindowEnd: to, lastWindowEnd: to, backfilledFrom: from, version: 0 },
  );
  // The change above always returns a state to save, so one was saved.
  return saved!;
}
