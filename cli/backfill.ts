/**
 * `authwatch backfill`: prime the baselines from history (CloudWatch Logs or a local file) without raising
 * alerts, so the learning period counts as served for the days covered.
 *
 * How history is walked, and why:
 * - The live detector learns one 15-minute bucket per run (`computeBaselineUpdate` touches each value at
 *   most once per bucket, and the counts decay per bucket). Logs Insights aggregates a query's rows over
 *   the whole query range (`stats ... by user, ip`: one first/last/count per pair), so a 6-hour query would
 *   collapse up to 24 active buckets into one touch and under-count every regular user by that factor.
 *   Changing the profiles' queries to `bin(15m)` is not ours to do, and approximating would make the
 *   primed baselines disagree with what the detector would have learned. So: **one source fetch per
 *   15-minute bucket** ("query window"), run with bounded concurrency (default 4, `--concurrency`). Bytes
 *   scanned, which is what Insights bills, are the same as with larger queries: every minute of history is
 *   scanned exactly once; only the number of queries grows (96 per day).
 * - The buckets are grouped into **commit windows** (default 6 hours, `--window-hours`): a window's buckets
 *   are fetched in parallel, applied strictly in time order in memory (baselines read once per window), and
 *   the users and population that changed are written once per window. A user active in 20 buckets of a
 *   window costs one write, not 20. The checkpoint advances per commit window.
 * - Learning mirrors the live pipeline: a bucket is applied with `learning` true while it lies inside the
 *   learning period counted from the start of the backfill (new users are not counted as "new" then, as
 *   everyone is new), false after it, so the population's new-user and dormant-return rates the rare-user
 *   detector reads are those the detector would have learned had it run over the same history.
 * - Never alerts, never touches the alert ledger.
 *
 * Run state: on completion `backfilledFrom` = the earliest time covered (the learning period counts from
 * there, see `runDetection`); an existing state keeps its `firstWindowEnd` and watermark, and a fresh
 * store gets `firstWindowEnd = lastWindowEnd = end of the backfill` (so the detector's first runs catch up
 * from there, in bounded chunks: see shared/run-scheduled.ts). The watermark only ever moves by `max`.
 *
 * `--alerts` is a different mode: it analyses a past range *with* alerts through the detector's own catch-up
 * (`analyseRange`), by default the ranges the detector skipped after an outage longer than `maxBacklogDays`.
 *
 * Order matters for decayed counts: a count is valid at its last bucket and can only be extended forward
 * (`touch` ignores older buckets apart from first/last times). So when the store already learned from a
 * later time (a detector run or an earlier backfill, i.e. a run state exists), the backfill stops at that
 * state's `firstWindowEnd` and warns that, for users already known, older history adds first-seen times and
 * places not yet known, but no counts. Backfill into a fresh table before the first run for full effect.
 *
 * Resumable: progress is kept in a small local checkpoint file (the store and its port are not ours to
 * extend): `--checkpoint <path>`, default `.authwatch/backfill-<hash of the arguments>.json` in the current
 * directory. It holds the planned span (so a resume an hour later covers the same span) and the end of the
 * last completed commit window. Ctrl-C finishes the current commit window and saves the checkpoint; a second
 * Ctrl-C stops at once (the checkpoint then holds the last completed window). Re-applying an already-applied
 * window is harmless: `touch` is idempotent per bucket, so re-learning the same buckets changes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoDbClient, createLogsClient, createSnsClient } from '../shared/adapters/aws-clients';
import { InMemoryAlertSink } from '../shared/adapters/in-memory-alert-sink';
import { SnsAlertSink } from '../shared/adapters/sns-alert-sink';
import { analyseRange } from '../shared/run-scheduled';
import { DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import {
  LogsInsightsLogSource,
  MAX_LOG_GROUPS_PER_QUERY,
  type LogsInsightsLogSourceProps,
} from '../shared/adapters/logs-insights-log-source';
import { computeBaselineUpdate } from '../shared/core/baseline-update';
import {
  BUCKET_MS,
  DAY_MS,
  emptyPopulation,
  type LogonObservation,
  type PopulationStats,
  type RunState,
  type TimeWindow,
  type UserBaseline,
} from '../shared/core/model';
import { getProfile } from '../shared/core/profiles';
import { detectionSettingsSchema, formatIssues, type DetectionSettings } from '../shared/core/settings';
import { ConcurrentUpdateError, ConfigError } from '../shared/errors';
import type { AlertSink, DetectionStore, LogSource } from '../shared/ports';
import { readingCounts, safeText } from './format';
import { fileLogSource, zeroLogonHintForFile } from './input';
import { openLocalStore } from './local';

// ---------------------------------------------------------------------------------------------
// Limits and defaults
// ---------------------------------------------------------------------------------------------

/** One source fetch per bucket: the live detector learns per 15-minute bucket (see the file comment). */
export const QUERY_WINDOW_MS = BUCKET_MS;
/** Default commit window: 24 buckets between checkpoints and store writes. */
export const DEFAULT_COMMIT_WINDOW_HOURS = 6;
/**
 * Default parallel Insights queries. Concurrent Insights queries are limited per account (tens, shared with
 * the console, dashboards and the detector itself): a backfill must leave most of them to others.
 * `LimitExceededException` is retried by the SDK client with backoff anyway (aws-clients.ts).
 */
export const DEFAULT_CONCURRENCY = 4;
/** Upper bound of `--concurrency`: well below the account's concurrent-query quota. */
export const MAX_CONCURRENCY = 16;
/** Longest history asked of CloudWatch Logs in one backfill (Insights can query up to the retention anyway). */
export const MAX_BACKFILL_DAYS = 400;
/** Attempts of a commit window whose conditional writes lost to a concurrent writer (the live detector). */
const MAX_COMMIT_ATTEMPTS = 5;
/** Without a terminal, one progress line every this many commit windows (a day at the default 6 h). */
export const DEFAULT_PROGRESS_EVERY = 4;

const CHECKPOINT_FORMAT = 1;

// ---------------------------------------------------------------------------------------------
// Checkpoint
// ---------------------------------------------------------------------------------------------

/** What a checkpoint file holds. */
export interface BackfillCheckpoint {
  readonly format: typeof CHECKPOINT_FORMAT;
  /** Identifies the backfill (a hash of its arguments); a checkpoint of another backfill is refused. */
  readonly key: string;
  /** The planned span [from, to), bucket-aligned, fixed at the first run so a resume covers the same history. */
  readonly from: number;
  readonly to: number;
  /** End of the last completed commit window: a resume starts here. */
  readonly doneUntil: number;
  readonly completed: boolean;
  readonly updatedAt: string;
}

/** Where the checkpoint lives; a file in the CLI, anything in tests. */
export interface CheckpointStore {
  load(): Promise<BackfillCheckpoint | undefined>;
  save(checkpoint: BackfillCheckpoint): Promise<void>;
  /** For messages. */
  readonly where: string;
}

/** A JSON checkpoint file, written atomically (temporary file + rename) so an interrupt never leaves half a file. */
export function fileCheckpoint(path: string): CheckpointStore {
  return {
    where: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw e;
      }
      const c = JSON.parse(text) as Partial<BackfillCheckpoint>;
      const ok =
        c.format === CHECKPOINT_FORMAT &&
        typeof c.key === 'string' &&
        [c.from, c.to, c.doneUntil].every((n) => typeof n === 'number' && Number.isFinite(n)) &&
        typeof c.completed === 'boolean';
      if (!ok)
        throw new ConfigError([
          `checkpoint ${path} is not a backfill checkpoint this version understands; remove it to start over`,
        ]);
      return c as BackfillCheckpoint;
    },
    async save(checkpoint) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(checkpoint, null, 2) + '\n', 'utf8');
      await rename(tmp, path);
    },
  };
}

/** A stable key for a backfill's arguments (what it reads and where it writes), for the default checkpoint path. */
export function backfillKey(args: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(args)
      .sort()
      .map((k) => [k, args[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

// ---------------------------------------------------------------------------------------------
// The orchestration: ports only
// ---------------------------------------------------------------------------------------------

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
  readonly checkpoint?: CheckpointStore;
  /** Identifies this backfill in the checkpoint. Default: derived from the span. */
  readonly checkpointKey?: string;
  /** Ignore (and overwrite) an existing checkpoint. */
  readonly fresh?: boolean;
  /** Stop after the current commit window (the checkpoint is saved). */
  readonly signal?: AbortSignal;
  /** Called after every query window fetched and every commit window applied. */
  readonly onProgress?: (p: BackfillProgress, event: 'fetched' | 'committed') => void;
  /** Warnings a person should read (clipped span, ...). */
  readonly onWarning?: (message: string) => void;
  /** Millisecond clock for progress and the checkpoint's time stamp. Default `Date.now`. */
  readonly now?: () => number;
}

export type BackfillStatus = 'completed' | 'interrupted' | 'already-complete' | 'nothing-to-do';

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
      `checkpoint ${opts.checkpoint!.where} belongs to another backfill; remove it, pass --fresh, or choose another --checkpoint`,
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
    opts.checkpoint?.save({ format: CHECKPOINT_FORMAT, key, from, to, doneUntil, completed, updatedAt: iso(now()) });

  if (from >= to) return result('nothing-to-do');
  if (saved?.completed) return result('already-complete');
  if (!saved) await checkpoint(false);

  // Learning as the live pipeline would have it (see `runDetection`): counted from the earliest of what the
  // store knows and the start of this backfill.
  const learningStart = Math.min(state?.firstWindowEnd ?? Infinity, state?.backfilledFrom ?? Infinity, from);
  const learningEndsAt = learningStart + opts.settings.learningDays * DAY_MS;

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

    const applied = await commitWindow(opts.store, fetched, { learningEndsAt, settings: opts.settings, warn });
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
 * Apply one commit window's buckets in time order, in memory, then write what changed. The store's
 * conditional writes carry the versions read at the start of the window; if the live detector wrote one of
 * the same items in between, the window is re-read and re-applied (idempotent per bucket, so the users this
 * attempt did write are not counted twice).
 */
async function commitWindow(
  store: DetectionStore,
  buckets: readonly BucketResult[],
  o: { learningEndsAt: number; settings: BackfillOptions['settings']; warn: (message: string) => void },
): Promise<{ newUsers: number; baselinesWritten: number }> {
  const names = [...new Set(buckets.flatMap((b) => b.successes.map((s) => s.user)))];
  if (names.length === 0) return { newUsers: 0, baselinesWritten: 0 };
  for (let attempt = 1; ; attempt++) {
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
        learning: b.window.end < o.learningEndsAt,
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
    try {
      const { notStored } =
        dirty.size > 0 ? await store.saveUsers([...dirty].map((u) => known.get(u)!)) : { notStored: [] };
      // A user whose item can never be stored is skipped by the store (the others are saved); say so, never silently.
      for (const n of notStored) o.warn(`the baseline of ${n.user} could not be stored (${n.reason}); skipped`);
      if (populationChanged) await store.savePopulation(population);
      return { newUsers, baselinesWritten: dirty.size - notStored.length };
    } catch (e) {
      if (!(e instanceof ConcurrentUpdateError) || attempt >= MAX_COMMIT_ATTEMPTS) throw e;
    }
  }
}

async function saveRunState(store: DetectionStore, from: number, to: number): Promise<RunState> {
  for (let attempt = 1; ; attempt++) {
    const state = await store.getRunState();
    const next: RunState = state
      ? {
          ...state,
          lastWindowEnd: Math.max(state.lastWindowEnd, to),
          backfilledFrom: Math.min(state.backfilledFrom ?? Infinity, from),
        }
      : { firstWindowEnd: to, lastWindowEnd: to, backfilledFrom: from, version: 0 };
    try {
      await store.saveRunState(next);
      return { ...next, version: next.version + 1 };
    } catch (e) {
      if (!(e instanceof ConcurrentUpdateError) || attempt >= MAX_COMMIT_ATTEMPTS) throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scan estimate (CloudWatch Logs)
// ---------------------------------------------------------------------------------------------

export interface ScanEstimate {
  /** Estimated bytes the backfill's queries will scan. An estimate: see `estimateInsightsScan`. */
  readonly bytes: number;
  /** 15-minute query windows = Insights queries, before any split of a window that hits the row cap. */
  readonly queries: number;
  readonly groups: readonly { name: string; storedBytes: number; retainedDays: number; estimatedBytes: number }[];
  /** Log groups DescribeLogGroups did not return (a typo, another region or account). */
  readonly missing: readonly string[];
}

/**
 * Insights has no dry run that says what a query would scan. We estimate from `DescribeLogGroups`:
 * each group's `storedBytes` spread evenly over the time it holds (the shorter of its retention and its
 * age), pro-rated to the part of the span inside that time. Uneven traffic, and stored versus scanned size
 * (Insights bills the bytes it scans), make this an estimate, and it is labelled so.
 */
export async function estimateInsightsScan(
  client: CloudWatchLogsClient,
  logGroupNames: readonly string[],
  span: TimeWindow,
  now: number,
): Promise<ScanEstimate> {
  const found = new Map<string, { storedBytes: number; creationTime: number; retentionInDays?: number }>();
  let nextToken: string | undefined;
  do {
    const res = await client.send(
      new DescribeLogGroupsCommand({ logGroupIdentifiers: [...logGroupNames], ...(nextToken ? { nextToken } : {}) }),
    );
    for (const g of res.logGroups ?? []) {
      if (!g.logGroupName) continue;
      found.set(g.logGroupName, {
        storedBytes: g.storedBytes ?? 0,
        creationTime: g.creationTime ?? 0,
        ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
      });
    }
    nextToken = res.nextToken;
  } while (nextToken);

  const groups: ScanEstimate['groups'][number][] = [];
  const missing: string[] = [];
  for (const name of logGroupNames) {
    const g = found.get(name);
    if (!g) {
      missing.push(name);
      continue;
    }
    const heldSince = Math.max(
      g.creationTime,
      g.retentionInDays !== undefined ? now - g.retentionInDays * DAY_MS : -Infinity,
    );
    const heldMs = Math.max(now - heldSince, BUCKET_MS);
    const overlap = Math.max(0, Math.min(span.end, now) - Math.max(span.start, heldSince));
    groups.push({
      name,
      storedBytes: g.storedBytes,
      retainedDays: heldMs / DAY_MS,
      estimatedBytes: Math.round((g.storedBytes * Math.min(overlap, heldMs)) / heldMs),
    });
  }
  return {
    bytes: groups.reduce((n, g) => n + g.estimatedBytes, 0),
    queries: Math.max(0, Math.ceil((alignUp(span.end) - alignDown(span.start)) / QUERY_WINDOW_MS)),
    groups,
    missing,
  };
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr
// ---------------------------------------------------------------------------------------------

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/** A progress bar redrawn in place on a terminal; otherwise a plain line every `every` commit windows. */
export function progressReporter(stream: ProgressStream, opts: { every?: number; width?: number } = {}) {
  const tty = stream.isTTY === true;
  const every = opts.every ?? DEFAULT_PROGRESS_EVERY;
  const width = opts.width ?? 24;
  let drawn = false;
  const line = (p: BackfillProgress): string => {
    const eta =
      p.bucketsFetched > 0 ? ((p.bucketsToFetch - p.bucketsFetched) * p.elapsedMs) / p.bucketsFetched : undefined;
    return (
      `windows ${p.windowsDone}/${p.windowsTotal} · ${p.logons.toLocaleString('en-US')} logons · ${p.users.toLocaleString('en-US')} users` +
      ` · done until ${iso(p.doneUntil).slice(0, 16)}Z · ETA ${eta === undefined ? '…' : duration(eta)}`
    );
  };
  return {
    update(p: BackfillProgress, event: 'fetched' | 'committed'): void {
      if (tty) {
        const share = p.bucketsToFetch > 0 ? p.bucketsFetched / p.bucketsToFetch : 1;
        const filled = Math.round(share * width);
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(p)}`);
        drawn = true;
      } else if (event === 'committed' && (p.windowsDone % every === 0 || p.windowsDone === p.windowsTotal)) {
        stream.write(`backfill: ${line(p)}\n`);
      }
    },
    /** End the bar's line before anything else is written. */
    done(): void {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e9 ? 3 : 1)} GB`;
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** Injectable edges of `cmdBackfill`, for tests; the command line passes none. */
export interface BackfillIo {
  readonly err?: ProgressStream;
  /** Where `--alerts` without `--topic-arn` prints the alerts (default stdout). */
  readonly out?: { write(s: string): unknown };
  readonly snsClient?: SNSClient;
  readonly now?: () => number;
  readonly logsClient?: CloudWatchLogsClient;
  readonly dynamoClient?: DynamoDBClient;
  /** Overrides of the Insights source (tests: a fast sleep). */
  readonly sourceProps?: Partial<LogsInsightsLogSourceProps>;
  /** Stop after the current window (tests); Ctrl-C does the same on the command line. */
  readonly signal?: AbortSignal;
  /** Directory of the default checkpoint (default: the current directory). */
  readonly cwd?: string;
  /** Listen for SIGINT (default true). */
  readonly handleSigint?: boolean;
}

interface ParsedFlags {
  profileId: string;
  logGroups: string[];
  days?: number;
  input?: string;
  table?: string;
  store?: string;
  concurrency: number;
  windowHours: number;
  checkpoint?: string;
  fresh: boolean;
  estimateOnly: boolean;
  settings: DetectionSettings;
}

/** Every problem with the flags at once, as `ConfigError`. */
export function parseBackfillFlags(flags: Flags, positionals: readonly string[]): ParsedFlags {
  const issues: string[] = [];
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      issues.push(`--${name}: "${v}" is not a whole number from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };
  if (positionals.length > 0)
    issues.push(`backfill takes no positional arguments (got ${positionals.map((p) => JSON.stringify(p)).join(' ')})`);
  const profileId = str('profile');
  if (!profileId) issues.push('--profile is required');
  const rawGroups = flags['log-group'];
  const logGroups = Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [];
  const input = str('input');
  if (logGroups.length > 0 && input)
    issues.push('give either --log-group (CloudWatch Logs) or --input (a file), not both');
  if (logGroups.length === 0 && !input)
    issues.push('give --log-group <name> (repeatable) with --days <n>, or --input <file>');
  if (logGroups.length > MAX_LOG_GROUPS_PER_QUERY)
    issues.push(
      `--log-group: at most ${MAX_LOG_GROUPS_PER_QUERY} log groups (one Insights query takes at most that many)`,
    );
  if (logGroups.some((g) => g.trim() === '')) issues.push('--log-group: a log group name is empty');
  const days = int('days', 1, MAX_BACKFILL_DAYS);
  if (logGroups.length > 0 && days === undefined && str('days') === undefined)
    issues.push('--days <n> is required with --log-group');
  const table = str('table');
  const store = str('store');
  if ((table ? 1 : 0) + (store ? 1 : 0) !== 1)
    issues.push('give exactly one of --table <name> (the deployed table) or --store <dir> (a local store)');
  const concurrency = int('concurrency', 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY;
  const windowHours = int('window-hours', 1, 24 * 7) ?? DEFAULT_COMMIT_WINDOW_HOURS;
  const parsed = settingsFromLearningDays(str('learning-days'), issues);
  if (profileId) {
    try {
      getProfile(profileId);
    } catch (e) {
      issues.push(...(e instanceof ConfigError ? e.issues : [String(e)]));
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    profileId: profileId!,
    logGroups,
    ...(days !== undefined ? { days } : {}),
    ...(input ? { input } : {}),
    ...(table ? { table } : {}),
    ...(store ? { store } : {}),
    concurrency,
    windowHours,
    ...(str('checkpoint') ? { checkpoint: str('checkpoint')! } : {}),
    fresh: flags.fresh === true,
    estimateOnly: flags['estimate-only'] === true,
    settings: parsed.data!,
  };
}

/**
 * `authwatch backfill ...`: the composition root. Returns the exit code: 0 done (or nothing to do),
 * 130 interrupted (rerun the same command to resume).
 */
export async function cmdBackfill(flags: Flags, positionals: readonly string[], io: BackfillIo = {}): Promise<number> {
  if (flags.alerts === true) return cmdBackfillWithAlerts(flags, positionals, io);
  const f = parseBackfillFlags(flags, positionals);
  const err = io.err ?? process.stderr;
  const now = io.now ?? Date.now;
  const profile = getProfile(f.profileId);
  const cwd = io.cwd ?? process.cwd();

  // The source and the span.
  let source: LogSource;
  let span: TimeWindow;
  let logsClient: CloudWatchLogsClient | undefined;
  if (f.input) {
    const file = await fileLogSource(f.input, profile, '--input ');
    const ps = file.parseStats;
    err.write(
      `Parsed ${safeText(f.input, 200)}: ${ps.lines} lines, ${ps.events} logons, ${ps.skipped} other lines, ${ps.malformed} malformed${readingCounts(ps)}\n`,
    );
    const ts = file.timeSpan();
    if (!ts) {
      const hint = await zeroLogonHintForFile(f.input, profile.id, file);
      err.write(`${hint ? `authwatch backfill: ${hint}.\n` : ''}No logons in the input: nothing to backfill.\n`);
      return 0;
    }
    const end = alignDown(ts.last) + BUCKET_MS;
    span = { start: f.days !== undefined ? Math.max(ts.first, end - f.days * DAY_MS) : ts.first, end };
    source = file;
  } else {
    logsClient = io.logsClient ?? createLogsClient();
    const end = alignDown(now());
    span = { start: end - f.days! * DAY_MS, end };
    source = new LogsInsightsLogSource({ client: logsClient, profile, logGroupNames: f.logGroups, ...io.sourceProps });
  }

  const checkpointKey = backfillKey({
    source: f.input
      ? { input: resolve(cwd, f.input), days: f.days ?? null }
      : {
          logGroups: [...f.logGroups].sort(),
          days: f.days,
          region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null,
        },
    profile: f.profileId,
    target: f.table
      ? { table: f.table, region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null }
      : { store: resolve(cwd, f.store!) },
  });
  const checkpointPath = f.checkpoint
    ? resolve(cwd, f.checkpoint)
    : join(cwd, '.authwatch', `backfill-${checkpointKey}.json`);
  const checkpoint = fileCheckpoint(checkpointPath);

  // What it will cost, before anything is queried.
  if (logsClient) {
    const saved = f.fresh ? undefined : await checkpoint.load().catch(() => undefined);
    const todo: TimeWindow =
      saved && saved.key === checkpointKey
        ? { start: saved.completed ? saved.to : saved.doneUntil, end: saved.to }
        : span;
    try {
      const est = await estimateInsightsScan(logsClient, f.logGroups, todo, now());
      err.write(
        `Estimate (no dry run exists: stored size of the log groups pro-rated to the ${((todo.end - todo.start) / DAY_MS).toFixed(1)} days asked): ` +
          `about ${gigabytes(est.bytes)} scanned by ${est.queries} Insights queries (one per 15-minute window; capped windows are split into more)\n`,
      );
      for (const g of est.groups)
        err.write(
          `  ${g.name}: ${gigabytes(g.storedBytes)} stored over ${g.retainedDays.toFixed(0)} days → ~${gigabytes(g.estimatedBytes)}\n`,
        );
      if (est.missing.length > 0)
        err.write(`  not found by DescribeLogGroups (check the name and region): ${est.missing.join(', ')}\n`);
    } catch (e) {
      err.write(
        `Estimate unavailable (DescribeLogGroups failed: ${(e as Error).message}); ${Math.ceil((todo.end - todo.start) / QUERY_WINDOW_MS)} Insights queries.\n`,
      );
    }
    if (f.estimateOnly) return 0;
  } else if (f.estimateOnly) {
    err.write(
      `A local file: nothing is billed. ${Math.ceil((span.end - span.start) / QUERY_WINDOW_MS)} 15-minute windows.\n`,
    );
    return 0;
  }

  // The target.
  const { store, close } = await openTarget(f, io);

  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const onSigint = () => {
    if (controller.signal.aborted) {
      err.write(
        `\nStopped at once; ${checkpointPath} holds the last completed window. Rerun the same command to resume.\n`,
      );
      process.exit(130);
    }
    controller.abort();
    err.write(
      '\nInterrupted: finishing the current window, then saving the checkpoint (Ctrl-C again to stop at once).\n',
    );
  };
  const handleSigint = io.handleSigint ?? true;
  if (handleSigint) process.on('SIGINT', onSigint);
  const bar = progressReporter(err);
  try {
    const r = await backfill({
      source,
      store,
      settings: f.settings,
      span,
      commitWindowMs: f.windowHours * 60 * 60 * 1000,
      concurrency: f.concurrency,
      checkpoint,
      checkpointKey,
      fresh: f.fresh,
      signal: controller.signal,
      onProgress: (p, event) => bar.update(p, event),
      onWarning: (m) => err.write(`Note: ${m}\n`),
      now,
    });
    bar.done();
    err.write(summary(r, checkpointPath, f.settings));
    return r.status === 'interrupted' ? 130 : 0;
  } finally {
    bar.done();
    if (handleSigint) process.off('SIGINT', onSigint);
    await close();
  }
}

function summary(r: BackfillResult, checkpointPath: string, settings: Pick<DetectionSettings, 'learningDays'>): string {
  const span = `${iso(r.from)} → ${iso(r.to)}`;
  switch (r.status) {
    case 'nothing-to-do':
      return `Nothing to backfill: the span ${span} is empty${r.clippedAt !== undefined ? ` once clipped at what the store already learned (${iso(r.clippedAt)})` : ''}.\n`;
    case 'already-complete':
      return `Already backfilled ${span} (${checkpointPath}); pass --fresh to do it again.\n`;
    case 'interrupted':
      return `Interrupted after ${r.windowsDone}/${r.windowsTotal} windows (done until ${iso(r.doneUntil)}); rerun the same command to resume from ${checkpointPath}.\n`;
    case 'completed': {
      const learningEnds = r.runState
        ? Math.min(r.runState.firstWindowEnd, r.runState.backfilledFrom ?? Infinity) + settings.learningDays * DAY_MS
        : undefined;
      return [
        `Backfilled ${span}: ${r.windowsThisRun} windows this run (${r.windowsTotal} in all), ${r.bucketsFetched} queries of 15 minutes${r.queries > r.bucketsFetched ? ` (${r.queries} with splits)` : ''}`,
        `  logons: ${r.logons.toLocaleString('en-US')}, users: ${r.users.toLocaleString('en-US')} (${r.newUsers} new), baselines written: ${r.baselinesWritten}${r.bytesScanned > 0 ? `, scanned: ${gigabytes(r.bytesScanned)}` : ''}${r.malformed > 0 ? `, malformed rows: ${r.malformed}` : ''}`,
        learningEnds !== undefined
          ? `  learning period: counted from ${iso(r.runState!.backfilledFrom ?? r.from)}; ${learningEnds <= r.to ? 'already served' : `ends ${iso(learningEnds)}`}`
          : '',
        '',
      ]
        .filter((l, i, a) => l !== '' || i === a.length - 1)
        .join('\n');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --alerts: analyse past ranges with alerts, through the detector's own catch-up
// ---------------------------------------------------------------------------------------------

interface AlertsFlags {
  profileId: string;
  logGroups: string[];
  input?: string;
  table?: string;
  store?: string;
  span?: TimeWindow;
  topicArn?: string;
  settings: DetectionSettings;
}

/** Every problem with the `--alerts` flags at once, as `ConfigError`. */
export function parseBackfillAlertsFlags(flags: Flags, positionals: readonly string[], now: number): AlertsFlags {
  const issues: string[] = [];
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  if (positionals.length > 0)
    issues.push(`backfill takes no positional arguments (got ${positionals.map((p) => JSON.stringify(p)).join(' ')})`);
  const profileId = str('profile');
  if (!profileId) issues.push('--profile is required');
  else {
    try {
      getProfile(profileId);
    } catch (e) {
      issues.push(...(e instanceof ConfigError ? e.issues : [String(e)]));
    }
  }
  const rawGroups = flags['log-group'];
  const logGroups = Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [];
  const input = str('input');
  if ((logGroups.length > 0 ? 1 : 0) + (input ? 1 : 0) !== 1)
    issues.push('give either --log-group <name> (repeatable) or --input <file>');
  if (logGroups.length > MAX_LOG_GROUPS_PER_QUERY)
    issues.push(
      `--log-group: at most ${MAX_LOG_GROUPS_PER_QUERY} log groups (one Insights query takes at most that many)`,
    );
  const table = str('table');
  const store = str('store');
  if ((table ? 1 : 0) + (store ? 1 : 0) !== 1)
    issues.push('give exactly one of --table <name> (the deployed table) or --store <dir> (a local store)');
  for (const f of ['days', 'window-hours', 'concurrency', 'checkpoint', 'fresh', 'estimate-only']) {
    if (flags[f] !== undefined && flags[f] !== false)
      issues.push(`--${f} does not apply with --alerts (give --from and --to for a range other than the skipped ones)`);
  }
  const time = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) issues.push(`--${name}: "${v}" is not a date and time like 2026-11-20T08:00Z`);
    return Number.isFinite(t) ? t : undefined;
  };
  const from = time('from');
  const to = time('to');
  let span: TimeWindow | undefined;
  if ((str('from') === undefined) !== (str('to') === undefined))
    issues.push('give both --from and --to, or neither (the skipped ranges)');
  else if (from !== undefined && to !== undefined) {
    if (!(from < to)) issues.push('--from must be before --to');
    else if (to > now) issues.push('--to is in the future: the detector analyses what has not happened yet on its own');
    else span = { start: from, end: to };
  }
  const topicArn = str('topic-arn');
  if (topicArn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(topicArn))
    issues.push(`--topic-arn: "${topicArn}" is not an SNS topic ARN`);
  const parsed = settingsFromLearningDays(str('learning-days'), issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    profileId: profileId!,
    logGroups,
    ...(input ? { input } : {}),
    ...(table ? { table } : {}),
    ...(store ? { store } : {}),
    ...(span ? { span } : {}),
    ...(topicArn ? { topicArn } : {}),
    settings: parsed.data!,
  };
}

/**
 * `authwatch backfill --alerts ...`: the composition root of `analyseRange`, the detector's own chunk loop, over
 * the skipped ranges run state records (or `--from`/`--to`). Returns 0 done, 130 interrupted (rerun to resume).
 */
async function cmdBackfillWithAlerts(flags: Flags, positionals: readonly string[], io: BackfillIo): Promise<number> {
  const now = io.now ?? Date.now;
  const f = parseBackfillAlertsFlags(flags, positionals, now());
  const err = io.err ?? process.stderr;
  const out = io.out ?? process.stdout;
  const profile = getProfile(f.profileId);
  const source: LogSource = f.input
    ? await fileLogSource(f.input, profile, '--input ')
    : new LogsInsightsLogSource({
        client: io.logsClient ?? createLogsClient(),
        profile,
        logGroupNames: f.logGroups,
        ...io.sourceProps,
      });

  const { store, close } = await openTarget(f, io);
  const sink: AlertSink = f.topicArn
    ? new SnsAlertSink({ client: io.snsClient ?? createSnsClient(), topicArn: f.topicArn })
    : new InMemoryAlertSink({ onAlert: (a) => void out.write(JSON.stringify(a) + '\n') });

  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const onSigint = () => {
    controller.abort();
    err.write('\nInterrupted: finishing the current 15-minute window (what is done is kept; rerun to resume).\n');
  };
  const handleSigint = io.handleSigint ?? true;
  if (handleSigint) process.on('SIGINT', onSigint);
  try {
    const ranges = f.span ? [f.span] : ((await store.getRunState())?.skipped ?? []);
    if (ranges.length === 0) {
      err.write(
        'Nothing to analyse: the detector recorded no skipped ranges (give --from and --to for another range).\n',
      );
      return 0;
    }
    const deps = { logSources: [source], store, sink, clock: { now }, settings: f.settings };
    let chunks = 0;
    let alerts = 0;
    let skippedLeft: readonly TimeWindow[] = [];
    for (const range of ranges) {
      err.write(`Analysing ${iso(range.start)} → ${iso(range.end)} with alerts, 15 minutes at a time...\n`);
      const r = await analyseRange(deps, range, {
        signal: controller.signal,
        onChunk: (c, s, i, total) => {
          alerts += s.alertIds.length;
          if ((i + 1) % 96 === 0 || i + 1 === total)
            err.write(`  ${i + 1}/${total} windows, done until ${iso(c.end)}, ${alerts} alerts so far\n`);
        },
      });
      chunks += r.chunks.length;
      skippedLeft = r.skippedLeft;
      if (r.chunks.length < r.chunksTotal) {
        err.write(
          `Interrupted at ${iso(r.doneUntil)} after ${chunks} windows and ${alerts} alerts; rerun the same command to resume.\n`,
        );
        return 130;
      }
    }
    err.write(
      `Analysed ${chunks} windows of 15 minutes with alerts: ${alerts} alerts raised${f.topicArn ? ` to ${f.topicArn}` : ' (printed above)'}. ` +
        (skippedLeft.length > 0
          ? `Skipped ranges still recorded: ${skippedLeft.map((w) => `${iso(w.start)} → ${iso(w.end)}`).join(', ')}.\n`
          : 'No skipped range is left.\n'),
    );
    return 0;
  } finally {
    if (handleSigint) process.off('SIGINT', onSigint);
    await close();
  }
}

/** Detection settings from `--learning-days` (the one setting backfill takes); problems go to `issues`. */
function settingsFromLearningDays(learning: string | undefined, issues: string[]) {
  const settingsInput: Record<string, unknown> = {};
  if (learning !== undefined) {
    const n = Number(learning);
    if (!Number.isFinite(n)) issues.push(`--learning-days: "${learning}" is not a number`);
    else settingsInput.learningDays = n;
  }
  const parsed = detectionSettingsSchema.safeParse(settingsInput);
  if (!parsed.success) issues.push(...formatIssues(parsed.error.issues));
  return parsed;
}

/** The store a backfill writes to: the deployed table (`--table`) or a local store kept by replay (`--store`). */
async function openTarget(
  f: { table?: string; store?: string },
  io: BackfillIo,
): Promise<{ store: DetectionStore; close: () => Promise<void> }> {
  if (f.table) {
    const store = new DynamoDbBaselineStore({ client: io.dynamoClient ?? createDynamoDbClient(), tableName: f.table });
    return { store, close: async () => undefined };
  }
  const local = await openLocalStore({ dir: f.store!, keep: true });
  return { store: local.store, close: () => local.close() };
}
