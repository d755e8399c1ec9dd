/**
 * A scheduled run: the newest window, and after missed runs the backlog before it, in bounded steps.
 *
 *   plan (planCatchUp) → record what is skipped → [behind: the newest bucket, alerts only]
 *   → backlog chunks oldest first, while the budget allows → [caught up: the newest window, learned]
 *
 * Every window is one `runDetection`: a chunk learns and advances the watermark before the next starts, so a
 * run that fails or runs out of time keeps everything it finished, and the next run resumes from there. The
 * work per run is bounded (`catchUpChunksPerRun`, and the invocation's remaining time before each chunk), so a
 * backlog never makes a run longer than a steady-state run can take, and failures cannot snowball into ever
 * larger windows. The newest bucket is looked at in every run (alerts only while behind), so logons happening
 * now never wait for the backlog. What lies beyond `maxBacklogDays` is skipped, recorded in run state and
 * reported; `analyseRange` (the same chunk loop, used by `authwatch backfill --alerts`) analyses it later.
 */
import {
  addSkipped,
  backlogMs,
  canStartChunk,
  chunksOf,
  fellBehind,
  planCatchUp,
  removeSkipped,
  type ChunkBudget,
} from './core/catch-up';
import { DAY_MS, type RunState, type TimeWindow } from './core/model';
import type { DetectionStore, LogSource, LogSourceResult } from './ports';
import { runDetection, type DetectionDeps, type RunSummary } from './run-detection';
import { QueryIncompleteError } from './errors';
import { updateRunState as updateStoredRunState } from './versioned-update';

/**
 * Time kept free after the last chunk: the newest window's learning pass (its logons are already fetched, see
 * `rememberWindow`), publishing, metrics. Chunks are estimated by the slowest so far, so this is only slack.
 */
export const CATCH_UP_RESERVE_MS = 20_000;

export interface ScheduledRunOptions {
  /** The schedule's time (bucket-aligned), never `Date.now()`: a retried invocation plans the same way. */
  readonly windowEnd: number;
  readonly runId?: string;
  /** Milliseconds left before the invocation is stopped (Lambda: `context.getRemainingTimeInMillis`). Absent: the chunk cap alone bounds the run. */
  readonly remainingMs?: () => number;
}

/** What a scheduled run did about its backlog. Times are ISO strings, spans in minutes. */
export interface CatchUpReport {
  /** Unanalysed minutes before the newest bucket when the run started (after any skip) and when it ended. */
  readonly backlogBeforeMinutes: number;
  readonly backlogAfterMinutes: number;
  /** Backlog chunks (15 minutes each) analysed by this run, and left for the next runs. */
  readonly chunksAnalysed: number;
  readonly chunksLeft: number;
  /** Where the watermark stands after the run (the end of the last window learned). */
  readonly analysedUntil: string | null;
  /** Whether the newest window was learned too: nothing is left behind. */
  readonly caughtUp: boolean;
  /** Whether the newest bucket was looked at for alerts only, because a backlog came before it. */
  readonly previewed: boolean;
  /** The run ended no closer to caught up than the previous one (see `fellBehind`). */
  readonly fellBehind: boolean;
  /**
   * What this run skipped, and how long in all: backlog older than `maxBacklogDays`, and any chunk that could never
   * be fetched whole (Logs Insights row limit).
   */
  readonly skipped: readonly { start: string; end: string }[];
  readonly skippedMinutes: number;
  /** Every skipped range run state records (this run's and earlier ones not yet analysed by `backfill --alerts`). */
  readonly skippedRanges: readonly { start: string; end: string }[];
}

/**
 * The run summary of a scheduled run: the counters summed over every window it ran (so the dashboard's
 * per-run figures stay per invocation), `window` the scheduled one, plus the catch-up report.
 */
export interface ScheduledRunSummary extends RunSummary {
  readonly catchUpReport: CatchUpReport;
  /** Each window's own summary, in the order run (the preview first, the newest last); for the log. */
  readonly windows: readonly Pick<
    RunSummary,
    'window' | 'alertOnly' | 'logonsScanned' | 'queries' | 'queryRows' | 'alertIds' | 'durationMs'
  >[];
}

const MINUTE_MS = 60_000;
const iso = (t: number) => new Date(t).toISOString();
const range = (w: TimeWindow) => ({ start: iso(w.start), end: iso(w.end) });

/**
 * Wrap sources so a second fetch of `window` in this invocation returns the first one's result without
 * querying again: the newest bucket is fetched for the alert-only preview and again for its learning pass.
 * The repeat reports no queries, rows or bytes, so the metrics count what was actually scanned. (Logs that
 * arrive in between are read by the next run's overlapping window.)
 */
export function rememberWindow(sources: readonly LogSource[], window: TimeWindow): LogSource[] {
  return sources.map((source) => {
    let kept: LogSourceResult | undefined;
    return {
      name: source.name,
      async fetch(w: TimeWindow): Promise<LogSourceResult> {
        const same = w.start === window.start && w.end === window.end;
        if (same && kept)
          return {
            observations: kept.observations,
            stats: { rows: 0, malformed: 0, queries: 0, queryMs: 0, bytesScanned: 0 },
          };
        const r = await source.fetch(w);
        if (same) kept = r;
        return r;
      },
    };
  });
}

/**
 * Read-modify-write of existing run state, retried when a concurrent writer (an operator's backfill) won; a store
 * without run state is left alone.
 */
function updateRunState(
  store: DetectionStore,
  change: (s: RunState) => RunState | undefined,
): Promise<RunState | undefined> {
  return updateStoredRunState(store, (s) => (s ? change(s) : undefined));
}

/**
 * One summary for the invocation. `repeat` is a window whose logons a later one counts again (the newest
 * bucket's alert-only pass, then its learning pass on the same fetch): its queries count, its logons once.
 */
function sum(
  summaries: readonly RunSummary[],
  window: RunSummary['window'],
  runId: string,
  durationMs: number,
  repeat?: RunSummary,
): RunSummary {
  const first = summaries[0]!;
  const last = summaries[summaries.length - 1]!;
  const total = (f: (s: RunSummary) => number) => summaries.reduce((n, s) => n + f(s), 0);
  const logons = (f: (s: RunSummary) => number) => summaries.reduce((n, s) => (s === repeat ? n : n + f(s)), 0);
  // Per source in the configured order; rows and malformed rows come from the queries, logons once per window.
  const sources = new Map<string, RunSummary['sources'][number]>();
  for (const s of summaries) {
    for (const src of s.sources) {
      const prev = sources.get(src.name) ?? { name: src.name, logons: 0, rows: 0, malformed: 0 };
      sources.set(src.name, {
        name: src.name,
        logons: prev.logons + (s === repeat ? 0 : src.logons),
        rows: prev.rows + src.rows,
        malformed: prev.malformed + src.malformed,
      });
    }
  }
  const perDetector = (f: (s: RunSummary) => Record<string, number>) => {
    const out = { ...f(first) };
    for (const s of summaries.slice(1)) for (const [k, v] of Object.entries(f(s))) out[k] = (out[k] ?? 0) + v;
    return out as RunSummary['findings'];
  };
  return {
    runId,
    window,
    catchUp: summaries.some((s) => s.catchUp),
    alertOnly: summaries.every((s) => s.alertOnly),
    learning: last.learning,
    learningEndsAt: last.learningEndsAt,
    logonsScanned: logons((s) => s.logonsScanned),
    observations: logons((s) => s.observations),
    addressesLooked: logons((s) => s.addressesLooked),
    addressesWithOwner: logons((s) => s.addressesWithOwner),
    malformed: total((s) => s.malformed),
    namesTruncated: logons((s) => s.namesTruncated),
    queries: total((s) => s.queries),
    queryRows: total((s) => s.queryRows),
    queryMs: total((s) => s.queryMs),
    bytesScanned: total((s) => s.bytesScanned),
    usersSeen: Math.max(...summaries.map((s) => s.usersSeen)),
    slices: Math.max(...summaries.map((s) => s.slices)),
    failureTargetsRead: Math.max(...summaries.map((s) => s.failureTargetsRead)),
    failureTargetsNotRead: Math.max(...summaries.map((s) => s.failureTargetsNotRead)),
    usersLearning: last.usersLearning,
    newUsers: total((s) => s.newUsers),
    findings: perDetector((s) => s.findings),
    alertsPublished: perDetector((s) => s.alertsPublished),
    alertsDeduplicated: total((s) => s.alertsDeduplicated),
    alertsFolded: total((s) => s.alertsFolded),
    alertsSuppressed: total((s) => s.alertsSuppressed),
    alertsCutByCap: total((s) => s.alertsCutByCap),
    detectorErrors: total((s) => s.detectorErrors),
    baselinesWritten: total((s) => s.baselinesWritten),
    itemsNotStored: total((s) => s.itemsNotStored),
    alertIds: summaries.flatMap((s) => s.alertIds),
    durationMs,
    sources: [...sources.values()],
  };
}

/** The chunk budget from the settings. */
export function chunkBudget(settings: DetectionDeps['settings']): ChunkBudget {
  return { maxChunks: settings.catchUpChunksPerRun, reserveMs: CATCH_UP_RESERVE_MS };
}

/**
 * Run the windows `planCatchUp` gives for the schedule's time, within the budget. Throws what a window throws,
 * after the windows before it were learned (their progress is kept).
 */
export async function runScheduled(deps: DetectionDeps, opts: ScheduledRunOptions): Promise<ScheduledRunSummary> {
  const started = deps.clock.now();
  const { store, settings } = deps;
  const T = opts.windowEnd;
  const runId = opts.runId ?? `run-${iso(T)}`;
  const state = await store.getRunState();
  const plan = planCatchUp(T, state, { maxBacklogMs: settings.maxBacklogDays * DAY_MS });

  // A skip is recorded before any work, so a run that fails afterwards cannot lose the record of it.
  let recorded = state;
  if (plan.skipped) {
    const skipped = plan.skipped;
    recorded = await updateRunState(store, (s) => ({ ...s, skipped: addSkipped(s.skipped, skipped) }));
    deps.logger?.warn(
      'backlog beyond maxBacklogDays skipped: these logons will not be analysed by the schedule; run `authwatch backfill --alerts` to analyse them',
      {
        skipped: range(skipped),
        maxBacklogDays: settings.maxBacklogDays,
      },
    );
  }
  // Analysed up to the watermark (or the skip), not only up to the re-read bucket before it.
  const startedAt = plan.chunks.length > 0 ? Math.max(plan.chunks[0]!.start, state?.lastWindowEnd ?? 0) : T;
  const before = backlogMs(T, startedAt);

  const done: RunSummary[] = [];
  let chunksAnalysed = 0;
  let newest: RunSummary | undefined;
  let preview: RunSummary | undefined;
  let unfetchable: TimeWindow[] = [];
  if (plan.chunks.length === 0) {
    newest = await runDetection(deps, { windowEnd: T, runId });
    done.push(newest);
  } else {
    const d: DetectionDeps = { ...deps, logSources: rememberWindow(deps.logSources, plan.newest) };
    preview = await runDetection(d, {
      windowEnd: T,
      windowStart: plan.newest.start,
      alertOnly: true,
      runId: `${runId}/newest`,
    });
    done.push(preview);
    const r = await runChunks(d, plan.chunks, {
      budget: chunkBudget(settings),
      durationsMs: [preview.durationMs],
      runId,
      skipUnfetchable: true,
      ...(opts.remainingMs ? { remainingMs: opts.remainingMs } : {}),
    });
    done.push(...r.summaries);
    unfetchable = r.unfetchable;
    chunksAnalysed = r.summaries.length;
    const chunksDone = chunksAnalysed + unfetchable.length;
    if (chunksDone === plan.chunks.length) {
      newest = await runDetection(d, { windowEnd: T, windowStart: plan.newest.start, runId });
      done.push(newest);
    } else if (chunksDone > 0) {
      // The next run resumes right after the last chunk, without re-reading it (see `planCatchUp`).
      const until = plan.chunks[chunksDone - 1]!.end;
      await updateRunState(store, (s) => (s.lastWindowEnd === until ? { ...s, catchUpWatermark: until } : undefined));
    }
  }

  const chunksDone = chunksAnalysed + unfetchable.length;
  const analysedUntil = newest ? T : chunksDone > 0 ? plan.chunks[chunksDone - 1]!.end : startedAt;
  const after = newest ? 0 : backlogMs(T, analysedUntil);
  const skippedNow = [...(plan.skipped ? [plan.skipped] : []), ...unfetchable];
  const skippedRanges = skippedNow.reduce<TimeWindow[]>(
    (all, w) => addSkipped(all, w),
    [...((plan.skipped ? recorded?.skipped : state?.skipped) ?? [])],
  );
  return {
    ...sum(
      done,
      newest ? newest.window : range(plan.newest),
      runId,
      deps.clock.now() - started,
      newest ? preview : undefined,
    ),
    catchUpReport: {
      backlogBeforeMinutes: before / MINUTE_MS,
      backlogAfterMinutes: after / MINUTE_MS,
      chunksAnalysed,
      chunksLeft: plan.chunks.length - chunksDone,
      analysedUntil: iso(analysedUntil),
      caughtUp: newest !== undefined,
      previewed: plan.chunks.length > 0,
      fellBehind: fellBehind(before, after),
      skipped: skippedNow.map(range),
      skippedMinutes: skippedNow.reduce((n, w) => n + (w.end - w.start), 0) / MINUTE_MS,
      skippedRanges: skippedRanges.map(range),
    },
    windows: done.map((s) => ({
      window: s.window,
      alertOnly: s.alertOnly,
      logonsScanned: s.logonsScanned,
      queries: s.queries,
      queryRows: s.queryRows,
      alertIds: s.alertIds,
      durationMs: s.durationMs,
    })),
  };
}

/** Options of the chunk loop shared by the schedule and `analyseRange`. */
interface ChunkLoopOptions {
  readonly budget: ChunkBudget;
  readonly remainingMs?: () => number;
  /** Durations already seen in this invocation (the preview), for the first chunk's estimate. */
  readonly durationsMs?: readonly number[];
  readonly runId: string;
  /** After each chunk (e.g. trim it from the recorded skipped ranges, report progress). */
  readonly afterChunk?: (chunk: TimeWindow, summary: RunSummary) => Promise<void>;
  /** Stop before the next chunk. */
  readonly signal?: AbortSignal;
  /** Skip and record a chunk that can never be fetched whole instead of failing (the schedule; not an operator's command). */
  readonly skipUnfetchable?: boolean;
}

/**
 * Analyse `chunks` oldest first, each a learning `runDetection`, while the budget allows. A chunk whose logons can
 * never be fetched whole (`QueryIncompleteError`: a slice over the Logs Insights row limit that no split or retry
 * fixes) is skipped and recorded like a backlog beyond the limit, and the watermark moves past it: otherwise every
 * later run would stop at it until it aged out. Any other failure ends the run (the next one resumes there).
 */
async function runChunks(
  deps: DetectionDeps,
  chunks: readonly TimeWindow[],
  o: ChunkLoopOptions,
): Promise<{ summaries: RunSummary[]; unfetchable: TimeWindow[] }> {
  const durations = [...(o.durationsMs ?? [])];
  const summaries: RunSummary[] = [];
  const unfetchable: TimeWindow[] = [];
  for (const c of chunks) {
    if (o.signal?.aborted) break;
    if (!canStartChunk(summaries.length + unfetchable.length, o.remainingMs?.(), durations, o.budget)) break;
    let s: RunSummary;
    try {
      s = await runDetection(deps, { windowEnd: c.end, windowStart: c.start, runId: `${o.runId}/${iso(c.end)}` });
    } catch (e) {
      if (!(e instanceof QueryIncompleteError) || !o.skipUnfetchable) throw e;
      await updateRunState(deps.store, (st) => ({
        ...st,
        skipped: addSkipped(st.skipped, c),
        lastWindowEnd: Math.max(st.lastWindowEnd, c.end),
      }));
      deps.logger?.warn(
        'a catch-up chunk could not be fetched whole (Logs Insights row limit): skipped and recorded, the catch-up goes on',
        { chunk: range(c), error: e.message },
      );
      unfetchable.push(c);
      continue;
    }
    summaries.push(s);
    durations.push(s.durationMs);
    await o.afterChunk?.(c, s);
  }
  return { summaries, unfetchable };
}

export interface AnalyseRangeOptions {
  /** Chunks per call; default unbounded (an operator's command runs until done or interrupted). */
  readonly maxChunks?: number;
  readonly remainingMs?: () => number;
  readonly signal?: AbortSignal;
  readonly runId?: string;
  readonly onChunk?: (chunk: TimeWindow, summary: RunSummary, index: number, total: number) => void;
}

export interface AnalyseRangeResult {
  readonly chunks: readonly RunSummary[];
  readonly chunksTotal: number;
  /** End of the last chunk analysed (the range's start if none). */
  readonly doneUntil: number;
  readonly alertIds: readonly string[];
  /** Skipped ranges run state still records afterwards. */
  readonly skippedLeft: readonly TimeWindow[];
}

/**
 * Analyse `span` with alerts, oldest first, in the schedule's one-bucket chunks: how a range the schedule
 * skipped (or any past range) is analysed afterwards. Each chunk learns (older buckets add first-seen times and
 * places not yet known, never counts: decayed counts only extend forward), the watermark never moves back,
 * and each chunk done is removed from the skipped ranges run state records, so an interrupted call resumes
 * where it stopped. The ledger keeps anything already raised from alerting again.
 */
export async function analyseRange(
  deps: DetectionDeps,
  span: TimeWindow,
  opts: AnalyseRangeOptions = {},
): Promise<AnalyseRangeResult> {
  const chunks = chunksOf(span);
  let index = 0;
  let skippedLeft: readonly TimeWindow[] = (await deps.store.getRunState())?.skipped ?? [];
  const r = await runChunks(deps, chunks, {
    budget: { maxChunks: opts.maxChunks ?? Infinity, reserveMs: CATCH_UP_RESERVE_MS },
    runId: opts.runId ?? `analyse-${iso(span.start)}`,
    ...(opts.remainingMs ? { remainingMs: opts.remainingMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    afterChunk: async (c, s) => {
      if (skippedLeft.some((w) => w.start < c.end && c.start < w.end)) {
        const st = await updateRunState(deps.store, (st) => ({ ...st, skipped: removeSkipped(st.skipped, c) }));
        skippedLeft = st?.skipped ?? [];
      }
      opts.onChunk?.(c, s, index++, chunks.length);
    },
  });
  return {
    chunks: r.summaries,
    chunksTotal: chunks.length,
    doneUntil: r.summaries.length > 0 ? chunks[r.summaries.length - 1]!.end : (chunks[0]?.start ?? span.start),
    alertIds: r.summaries.flatMap((s) => s.alertIds),
    skippedLeft,
  };
}
