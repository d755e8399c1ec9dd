/**
 * The steps of one detection window (contract.ts), over the ports: what `runDetection` runs in order in one process,
 * and what the Step Functions fan-out runs in parallel where it can (fetch per source group; evaluate, learn and
 * write per user shard).
 *
 *   plan      run state, window, the staging prefix; an earlier window's cut save comes first
 *   fetch     one group of log sources: logons aggregated, enriched with network owners, staged per user shard
 *   evaluate  one shard: its users' baselines read (under the run lease), per-user detectors, and the baselines'
 *             window digests (core/window-digest.ts), staged; the baselines themselves are let go
 *   deliver   window detectors over all observations and digests, thresholds, allowlists, ledger dedup, campaigns,
 *             cap, publish, mark raised; any undelivered alert fails the run here, before anything is learned
 *   learn     one shard: its users' baselines read again and learned against the population as it was before the
 *             window, the new baselines staged with what they add to the population (`PopulationDelta`)
 *   commit    the shards' deltas replayed in shard order, the detectors' population learning, the population saved
 *             and marked with the window: before any baseline, so a retry after a cut save never counts it twice
 *   write     one shard's new baselines written
 *   finish    the watermark; the lease given up; the staged data deleted
 *
 * A window of one shard (what a single process runs unless the window is large, `runDetection`) keeps its
 * baselines between evaluate and learn instead of reading them twice.
 */
import { randomUUID } from 'node:crypto';
import { alertDocument, alertCandidates, alertedPlaces, capAlerts, compileAllowlist, rankAlerts } from '../core/alerts';
import { learnPopulation, learnUsers, settleAllSuspects, type LearnOptions } from '../core/baseline-update';
import { foldSameLogon, isCampaign, linkCampaigns } from '../core/campaigns';
import { DETECTORS, type Detector } from '../core/detectors';
import { enrichObservations } from '../core/enrich';
import { failureTargets } from '../core/failures';
import { isUserMature } from '../core/habits';
import { compileHostile, type HostileMatcher } from '../core/hostile';
import { Interner } from '../core/intern';

type CompiledAllowlist = ReturnType<typeof compileAllowlist>;
type CompiledHostile = HostileMatcher;
import { isLearning, learningPeriod } from '../core/learning-period';
import {
  bucketOf,
  DAY_MS,
  emptyPopulation,
  windowEndingAt,
  type Alert,
  type Feedback,
  type Finding,
  type LedgerEntry,
  type LogonObservation,
  type PopulationStats,
  type RunState,
  type TimeWindow,
  type UserBaseline,
} from '../core/model';
import { applyPopulationDeltas, decayPopulationTo, emptyDelta } from '../core/population';
import type { AlertedPlace } from '../core/suspect';
import { DigestMap, windowDigest } from '../core/window-digest';
import { AlertSinkError, AuthwatchError, ConcurrentUpdateError } from '../errors';
import type { LogSource } from '../ports';
import type { Staging } from '../ports/staging';
import type { DetectionDeps, RunSummary, SourceSummary } from '../run-detection';
import {
  StepStaging,
  type DeliverStage,
  type EvaluateStage,
  type FetchStage,
  type LearnedStage,
  type LearnStage,
  type SharesStage,
  type ShardStages,
  type WriteStage,
  type CommitStage,
} from './stages';
import { perDetector, summariseRun } from './summary';
import type {
  DeliverReport,
  EvaluateReport,
  FetchReport,
  LearnReport,
  RunPlan,
  RunRef,
  RunSteps,
  WriteReport,
} from './contract';

/**
 * How long a run holds the lease unless it releases it first: a little longer than the detector Lambda's timeout
 * (5 minutes, infra/constructs/detector.ts), so a run cannot still be working when its lease lapses, and short
 * enough that after a timeout Lambda's first retry (a minute later) finds it free. A run that dies early (out of
 * memory) blocks the retries until then; the next scheduled run catches its window up. Every step that works
 * under the lease takes it again first, which extends it: a fan-out's steps each run far shorter than this.
 */
export const RUN_LEASE_MS = 5.5 * 60 * 1000;
/**
 * Most users whose baselines a run reads because failed logons named them (beyond the users who logged on): enough
 * for any spray against an organisation's real users (a read is 100 names per call), bounded against a scanner
 * trying millions of made-up names. The most failed names are read first; `targetsNotRead` counts the rest. A
 * window in shards reads at most its share of them per shard.
 */
export const MAX_FAILURE_USERS_READ = 5000;

/** How the lease item is named in errors. */
const LEASE_LABEL = 'META#lease';

/** The shard of a user: FNV-1a of the name, modulo the shard count. Stable across runs, processes and versions. */
export function shardOf(user: string, shardCount: number): number {
  if (shardCount <= 1) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < user.length; i++) {
    h ^= user.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % shardCount;
}

/** The window queried: the caller's when given (catch-up), else the schedule's 30 minutes ending at `windowEnd`. */
export function runWindow(opts: { readonly windowEnd: number; readonly windowStart?: number }): TimeWindow {
  if (opts.windowStart === undefined) return windowEndingAt(opts.windowEnd);
  if (!(opts.windowStart < opts.windowEnd)) {
    throw new AuthwatchError(
      `window start ${new Date(opts.windowStart).toISOString()} is not before its end ${new Date(opts.windowEnd).toISOString()}`,
    );
  }
  return { start: opts.windowStart, end: opts.windowEnd };
}

/** What every step of a run reads once per process: the run state, the population, analyst feedback. */
interface RunContext {
  readonly storedState: RunState | undefined;
  readonly state: RunState;
  readonly learning: boolean;
  readonly learningEndsAt: number;
  readonly population: PopulationStats;
  /** The analyst's feedback compiled: read on first use (a window without logons never needs it). */
  analyst(): Promise<{ readonly allow: CompiledAllowlist; readonly hostile: CompiledHostile | undefined }>;
}

/** Options of `createRunSteps`. */
export interface RunStepsOptions {
  /**
   * Keep each shard's baselines in this process from `evaluate` to `learn` instead of reading them again: for a
   * process that runs every step of a small window itself (`runDetection` with one shard). Never under a fan-out,
   * whose steps are separate invocations.
   */
  readonly retainBaselines?: boolean;
  /** How many user shards `plan` splits a window into (default 1). */
  readonly shardCount?: number;
  /**
   * The log sources in groups, one `fetch` step each (default: each of `deps.logSources` its own group). Under the
   * fan-out a group is one Logs Insights source over at most 50 log groups.
   */
  readonly sourceGroups?: readonly (readonly LogSource[])[];
}

/** The steps as one process runs them: `RunSteps`, plus what only a process running them all needs. */
export interface LocalRunSteps extends RunSteps {
  /** Split the fetched window into `shardCount` shards (a window found larger than one slice). */
  reshard(run: RunRef, shardCount: number): Promise<RunRef>;
  /** `finish`, typed. */
  finishRun(run: RunRef): Promise<RunSummary>;
}

/** The steps of a window over `deps` and `staging`. */
export function createRunSteps(deps: DetectionDeps, staging: Staging, options: RunStepsOptions = {}): LocalRunSteps {
  const detectors = deps.detectors ?? DETECTORS;
  const byId = new Map<string, Detector>(detectors.map((d) => [d.id, d]));
  const { settings, store } = deps;
  const groups = options.sourceGroups ?? deps.logSources.map((s) => [s]);
  const contexts = new Map<string, Promise<RunContext>>();
  const retained = new Map<string, Map<string, UserBaseline>>();
  /** Leases this process holds, by attempt: when each was taken (or last extended). */
  const leases = new Map<string, number>();

  const stages = new StepStaging(staging);
  const stage = (run: RunRef, value: unknown, ...parts: (string | number)[]) => stages.put(run, value, ...parts);
  const staged = <T>(run: RunRef, ...parts: (string | number)[]) => stages.get<T>(run, ...parts);
  const mustHave = <T>(run: RunRef, ...parts: (string | number)[]) => stages.must<T>(run, ...parts);
  const observationsOf = (run: RunRef, shard?: number, interner?: Interner) =>
    stages.observations(run, shard, interner);

  function context(run: RunRef): Promise<RunContext> {
    let c = contexts.get(run.attemptId);
    if (!c) {
      c = loadContext(run);
      contexts.set(run.attemptId, c);
      c.catch(() => contexts.delete(run.attemptId));
    }
    return c;
  }
  async function loadContext(run: RunRef): Promise<RunContext> {
    const storedState = await store.getRunState();
    const population = (await store.getPopulation()) ?? emptyPopulation();
    return contextOf(run, storedState, population);
  }
  /**
   * Analyst feedback (`authwatch allow`, `authwatch malicious`), read once per process in every run with any
   * logon (failed ones included): its hostile marks are compiled once for the detectors, its allowlists silence
   * alerts, and its allowlisted users are kept out of the population's statistics. (On DynamoDB a repeat read in a
   * warm Lambda is a version-only read of a small item, the decoded item cached.)
   */
  async function contextOf(
    run: RunRef,
    storedState: RunState | undefined,
    population: PopulationStats,
  ): Promise<RunContext> {
    const state = storedState ?? { firstWindowEnd: run.windowEnd, lastWindowEnd: 0, version: 0 };
    const period = learningPeriod(state, settings.learningDays);
    let feedback: Promise<Feedback | undefined> | undefined;
    let compiled: Promise<{ allow: CompiledAllowlist; hostile: CompiledHostile | undefined }> | undefined;
    const analyst = () =>
      (compiled ??= (feedback ??= store.getFeedback()).then((f) => ({
        allow: compileAllowlist(settings, f),
        hostile: f?.hostile?.length ? compileHostile(f.hostile) : undefined,
      })));
    return {
      storedState,
      state,
      learning: isLearning(period, run.windowEnd),
      learningEndsAt: period.end,
      population,
      analyst,
    };
  }

  /** Take (or extend) the run lease for this attempt: before any baseline is read for learning, and before delivery. */
  async function takeLease(run: RunRef): Promise<void> {
    const now = deps.clock.now();
    // Held by this process and far from lapsing: no write. A step in another process (the fan-out) extends it.
    const since = leases.get(run.attemptId);
    if (since !== undefined && now - since < RUN_LEASE_MS / 2) return;
    const r = await store.acquireLease({ owner: run.attemptId, expiresAtMs: now + RUN_LEASE_MS }, now);
    if (!r.acquired) {
      const by = r.holder ? `${r.holder.owner} until ${new Date(r.holder.expiresAtMs).toISOString()}` : 'another run';
      throw new ConcurrentUpdateError([`${LEASE_LABEL} (held by ${by})`]);
    }
    leases.set(run.attemptId, now);
  }
  /**
   * Give the lease up: if this process took it, or (`anyway`) whoever of this attempt did: under the fan-out the
   * step that gives it up is not the one that took it. A window without logons never took it, and writes nothing.
   */
  async function releaseLease(run: RunRef, anyway = false): Promise<void> {
    if (!leases.delete(run.attemptId) && !anyway) return;
    // Best effort: a lease left behind expires by itself, and must not hide how the run ended.
    await store.releaseLease(run.attemptId).catch((e: unknown) =>
      deps.logger?.warn('could not release the run lease; it expires by itself', {
        owner: run.attemptId,
        error: String(e),
      }),
    );
  }
  /** Whether the window has any logon at all (failed ones included): only then is there anything to judge or learn. */
  async function isActive(run: RunRef): Promise<boolean> {
    for (const g of groups.keys()) {
      const f = await staged<FetchStage>(run, 'fetch', g);
      if (f && f.observations > 0) return true;
    }
    return false;
  }
  async function learnOptions(run: RunRef, ctx: RunContext, suspects: readonly AlertedPlace[]): Promise<LearnOptions> {
    const { allow } = await ctx.analyst();
    return {
      windowEnd: run.windowEnd,
      windowStart: run.windowStart,
      learning: ctx.learning,
      settings,
      detectors,
      // Allowlisted accounts (the `allowUsers` setting and `authwatch allow user`) learn their own baselines but not
      // the population's: never alerted on, whatever they do must not become what everyone else is judged against.
      // An entry with an expiry counts while it is in force at the window's last instant.
      excludeFromPopulation: (u) => allow.allowsUser(u, run.windowEnd - 1),
      // Every address an alert of this window named, delivered, already raised or cut: until answered, not learned.
      suspects,
    };
  }

  const steps = {
    async plan(opts: {
      readonly windowEnd: number;
      readonly windowStart?: number;
      readonly alertOnly?: boolean;
      readonly runId?: string;
      /** Owner of the run lease (default: the run id and a random UUID); two attempts of one window must differ. */
      readonly attemptId?: string;
    }): Promise<RunPlan> {
      const window = runWindow(opts);
      const runId = opts.runId ?? `run-${new Date(opts.windowEnd).toISOString()}`;
      const shardCount = Math.max(1, Math.floor(options.shardCount ?? 1));
      const alertOnly = opts.alertOnly === true;
      const planned = (w: TimeWindow, id: string, extra: Partial<RunPlan> = {}): RunPlan => ({
        runId: id,
        attemptId: id === runId && opts.attemptId !== undefined ? opts.attemptId : `${id}#${randomUUID()}`,
        stagingPrefix: `runs/${id.replace(/[^A-Za-z0-9._-]/g, '_')}/${randomUUID()}`,
        windowStart: w.start,
        windowEnd: w.end,
        catchUp: opts.windowStart !== undefined,
        alertOnly,
        shardCount,
        sourceGroups: [...groups.keys()],
        shards: Array.from({ length: shardCount }, (_, i) => i),
        ...extra,
      });
      // The run state and the population are read here once: the cut-save check needs them, and every later step
      // of this process reuses them (`context`).
      const storedState = await store.getRunState();
      const population = (await store.getPopulation()) ?? emptyPopulation();
      const cutSave = population.learnedWindowEnd;
      if (
        !alertOnly &&
        cutSave !== undefined &&
        cutSave !== opts.windowEnd &&
        cutSave > (storedState?.lastWindowEnd ?? -Infinity)
      ) {
        // An earlier window's save was cut after its population was written, and its retries all failed: finish it
        // first (it delivers nothing), then this window afresh. Catching it up instead would add the contributions of
        // the users it had not saved to the population a second time.
        deps.logger?.warn('finishing the save of an earlier window that was cut', {
          windowEnd: new Date(cutSave).toISOString(),
        });
        // The same window it was: a catch-up chunk is shorter than the scheduled 30 minutes.
        const cutStart = population.learnedWindowStart;
        const chunk = cutStart !== undefined && cutStart < cutSave;
        const plan = planned(
          chunk ? { start: cutStart, end: cutSave } : windowEndingAt(cutSave),
          `run-${new Date(cutSave).toISOString()}`,
          {
            finishesCutWindow: true,
            catchUp: chunk,
          },
        );
        contexts.set(plan.attemptId, contextOf(plan, storedState, population));
        return plan;
      }
      const plan = planned(window, runId);
      contexts.set(plan.attemptId, contextOf(plan, storedState, population));
      return plan;
    },

    async fetch(run: RunRef, group: number): Promise<FetchReport> {
      const sources = groups[group];
      if (!sources) throw new AuthwatchError(`run ${run.runId}: no source group ${group} (there are ${groups.length})`);
      const window = { start: run.windowStart, end: run.windowEnd };
      const observations: LogonObservation[] = [];
      const summaries: SourceSummary[] = [];
      const c = { malformed: 0, namesTruncated: 0, queries: 0, rows: 0, queryMs: 0, bytesScanned: 0 };
      // A source that cannot return its whole window fails the run (the step), before anything was delivered.
      for (const source of sources) {
        const r = await source.fetch(window);
        for (const o of r.observations) observations.push(o);
        // Per source, so a source gone quiet or unparseable shows even while the others keep the totals up.
        summaries.push({
          name: source.name,
          logons: r.observations.reduce((n, o) => n + o.count, 0),
          rows: r.stats.rows,
          malformed: r.stats.malformed,
        });
        c.malformed += r.stats.malformed;
        c.namesTruncated += r.stats.namesTruncated ?? 0;
        c.queries += r.stats.queries;
        c.rows += r.stats.rows;
        c.queryMs += r.stats.queryMs;
        c.bytesScanned += r.stats.bytesScanned;
      }
      // Each address with its network owner and country (one lookup per distinct address), before anyone reads them.
      const enriched = enrichObservations(observations, deps.network);
      const byShard: LogonObservation[][] = Array.from({ length: run.shardCount }, () => []);
      const users = new Set<string>();
      for (const o of enriched.observations) {
        byShard[shardOf(o.user, run.shardCount)]!.push(o);
        if (o.outcome === 'success') users.add(o.user);
      }
      for (let s = 0; s < run.shardCount; s++)
        if (byShard[s]!.length > 0) await stage(run, byShard[s], 'obs', group, s);
      const logons = summaries.reduce((n, s) => n + s.logons, 0);
      const report: FetchStage = {
        sources: summaries,
        users: users.size,
        observations: observations.length,
        logons,
        ...c,
        addressesLooked: enriched.stats.addresses,
        addressesWithOwner: enriched.stats.known,
      };
      await stage(run, report, 'fetch', group);
      return {
        group,
        users: users.size,
        logons,
        observations: observations.length,
        rows: c.rows,
        malformed: c.malformed,
        queries: c.queries,
      };
    },

    async reshard(run: RunRef, shardCount: number): Promise<RunRef> {
      const n = Math.max(1, Math.floor(shardCount));
      if (n === run.shardCount) return run;
      const next: RunRef = { ...run, shardCount: n };
      for (const g of groups.keys()) {
        const all: LogonObservation[] = [];
        for (let s = 0; s < run.shardCount; s++) {
          const part = await staged<LogonObservation[]>(run, 'obs', g, s);
          if (part) for (const o of part) all.push(o);
        }
        await staging.deletePrefix(`${run.stagingPrefix}/obs/${g}/`);
        const byShard: LogonObservation[][] = Array.from({ length: n }, () => []);
        for (const o of all) byShard[shardOf(o.user, n)]!.push(o);
        for (let s = 0; s < n; s++) if (byShard[s]!.length > 0) await stage(next, byShard[s], 'obs', g, s);
      }
      return next;
    },

    async evaluate(run: RunRef, shard: number): Promise<EvaluateReport> {
      const observations = await observationsOf(run, shard);
      const successes = observations.filter((o) => o.outcome === 'success');
      const users = [...new Set(successes.map((o) => o.user))];
      const findings: EvaluateStage['findings'] = [];
      let detectorErrors = 0;
      let usersLearning = 0;
      const digests: [string, string[]][] = [];
      const targets = failureTargets(
        observations,
        new Set(users),
        Math.ceil(MAX_FAILURE_USERS_READ / Math.max(1, run.shardCount)),
      );
      if (observations.length > 0) {
        const ctx = await context(run);
        const { hostile } = await ctx.analyst();
        // The baselines a run learns from are read under its lease (the write scheme relies on it: README "How a
        // run writes"), so the lease is taken before the first read, not only before delivery.
        await takeLease(run);
        // What we knew before this window: the baselines of who logged on, and of who failures named (a name with
        // a baseline is a real user here: spraying real names is the signal, the internet's `root`/`admin` is not).
        // Suspect places whose `suspectDays` ran out are known places from now on, to the detectors as to the
        // learning (which settles the stored baselines itself, and saves the change).
        const toRead = targets.names.length > 0 ? [...users, ...targets.names] : users;
        const stored: Map<string, UserBaseline> = toRead.length > 0 ? await store.getUsers(toRead) : new Map();
        if (options.retainBaselines && run.shardCount === 1) retained.set(`${run.attemptId}/${shard}`, stored);
        const baselines = settleAllSuspects(stored, run.windowEnd, settings);
        // Detectors: pure; one that throws is contained, counted and logged, never sinks the run.
        for (const o of successes) {
          // One input per logon, read by every detector (detectors only read it).
          const input = {
            observation: o,
            baseline: baselines.get(o.user),
            population: ctx.population,
            window: { start: run.windowStart, end: run.windowEnd },
            settings,
            ...(hostile ? { hostile } : {}),
          };
          for (const detector of detectors) {
            if (!detector.evaluate) continue;
            try {
              const f = detector.evaluate(input);
              if (f) findings.push({ detectorId: detector.id, finding: f });
            } catch (e) {
              detectorErrors++;
              deps.logger?.warn('detector failed on an observation; skipped', {
                detector: detector.id,
                user: o.user,
                error: String(e),
              });
            }
          }
        }
        for (const u of users) {
          const b = baselines.get(u);
          if (!b || !isUserMature(b, settings)) usersLearning++;
        }
        // What the window's judgements need of these baselines: the places the window names, and no more.
        const byUser = new Map<string, LogonObservation[]>();
        for (const o of observations) {
          const list = byUser.get(o.user);
          if (list) list.push(o);
          else byUser.set(o.user, [o]);
        }
        for (const [u, b] of baselines) digests.push([u, windowDigest(b, byUser.get(u) ?? [])]);
      }
      const report: EvaluateStage = {
        findings,
        digests,
        users: users.length,
        usersLearning,
        failureTargetsRead: targets.names.length,
        failureTargetsNotRead: targets.notRead,
        detectorErrors,
      };
      await stage(run, report, 'eval', shard);
      return { shard, users: users.length, findings: findings.length, detectorErrors };
    },

    async deliver(run: RunRef): Promise<DeliverReport> {
      const window = { start: run.windowStart, end: run.windowEnd };
      // The whole window at once: its repeated values (names, addresses, lists) once, shared with the digests.
      const interner = new Interner();
      const observations = await observationsOf(run, undefined, interner);
      const active = observations.length > 0;
      const windowFindings: Record<string, number> = {};
      const all: { finding: Finding; detector: Detector }[] = [];
      const digests = new DigestMap();
      let allTargetsRead = true;
      let detectorErrors = 0;
      for (let s = 0; s < run.shardCount; s++) {
        const e = await staged<EvaluateStage>(run, 'eval', s);
        if (!e) continue;
        for (const f of e.findings) {
          const detector = byId.get(f.detectorId);
          if (detector) all.push({ finding: f.finding, detector });
        }
        for (const [u, b] of e.digests) digests.set(interner.string(u), interner.list(b));
        if (e.failureTargetsNotRead > 0) allTargetsRead = false;
      }
      const ctx = active ? await context(run) : undefined;
      const allow = ctx ? (await ctx.analyst()).allow : undefined;
      // Window detectors judge the whole window at once (failures, sources against many users, volume).
      if (ctx) {
        const windowInput = {
          observations,
          baselines: digests,
          allTargetsRead,
          population: ctx.population,
          window,
          settings,
        };
        for (const detector of detectors) {
          if (!detector.evaluateWindow) continue;
          try {
            for (const f of detector.evaluateWindow(windowInput)) {
              all.push({ finding: f, detector });
              windowFindings[detector.id] = (windowFindings[detector.id] ?? 0) + 1;
            }
          } catch (e) {
            detectorErrors++;
            deps.logger?.warn('detector failed on the window; skipped', { detector: detector.id, error: String(e) });
          }
        }
      }

      // Thresholds and allowlists, then one alert per entity; nothing alerts while the deployment is still learning.
      const { candidates, suppressed: alertsSuppressed } =
        ctx && allow && !ctx.learning
          ? alertCandidates(all, {
              observations,
              window,
              settings,
              allow,
              detectors,
              ...(deps.onFinding ? { onFinding: deps.onFinding } : {}),
            })
          : { candidates: new Map<string, Alert>(), suppressed: 0 };

      // One run at a time delivers and learns. Then drop what the ledger already raised (overlapping windows,
      // retries), rank, cap. A window whose population was already written is the retry of a run cut while saving:
      // learning starts only after every alert was delivered and recorded, so it delivers nothing (what is not in
      // the ledger was cut by the cap, or is a finding of the half-learned baselines) and only finishes the save.
      if (active) await takeLease(run);
      const learnedBefore = !run.alertOnly && ctx?.population.learnedWindowEnd === run.windowEnd;
      const ids = [...candidates.keys()];
      const raised = ids.length > 0 ? await store.getRaisedAlerts(ids) : new Set<string>();
      const fresh = learnedBefore ? [] : [...candidates.values()].filter((a) => !raised.has(a.id));
      // Campaigns, not floods: a source's per-user alerts are folded into (or linked to) its campaign alert, and the
      // cap counts the campaign once.
      const linked = linkCampaigns(
        fresh,
        [...candidates.values()].filter((a) => isCampaign(a)),
        raised,
      );
      // And one message per logon: a `low` alert on the same user and address as a stronger one is folded into it.
      const logons = foldSameLogon(linked.deliver);
      const { kept, cut } = capAlerts(rankAlerts(logons.deliver), settings.maxAlertsPerRun);
      const foldedInto = new Map<string, Alert[]>();
      const fold = (into: string, a: Alert) => foldedInto.set(into, [...(foldedInto.get(into) ?? []), a]);
      for (const a of linked.folded) fold(a.campaign!.of!, a);
      for (const f of logons.folded) fold(f.into, f.alert);
      let alertsFolded = 0;

      // Deliver, then mark exactly what was delivered. Any undelivered alert fails the run before learning.
      const alertsPublished = perDetector(detectors) as Record<string, number>;
      if (kept.length > 0) {
        const report = await deps.sink.publish({ runId: run.runId, window, alerts: kept, cut });
        const delivered = new Set(report.delivered);
        // A delivered campaign carries the alerts folded into it: they are raised with it.
        const raisedNow = kept.filter((a) => delivered.has(a.id));
        const foldedNow = raisedNow.flatMap((a) => foldedInto.get(a.id) ?? []);
        alertsFolded = foldedNow.length;
        const entries: LedgerEntry[] = [...raisedNow, ...foldedNow].map((a) => ({
          id: a.id,
          detectorId: a.rule.id,
          user: a.user.name,
          sourceIp: a.source.ip,
          raisedAtMs: run.windowEnd,
          expiresAtEpochSeconds: Math.floor((run.windowEnd + settings.ledgerTtlDays * DAY_MS) / 1000),
          // What `authwatch show <id>` prints: the document as the sink delivered it (the store bounds its size).
          document: report.documents?.[a.id] ?? alertDocument(a),
        }));
        if (entries.length > 0) await store.recordRaisedAlerts(entries);
        for (const a of kept)
          if (delivered.has(a.id)) alertsPublished[a.rule.id] = (alertsPublished[a.rule.id] ?? 0) + 1;
        if (report.failed.length > 0) {
          throw new AlertSinkError(
            `${report.failed.length} of ${kept.length} alerts could not be delivered (first: ${report.failed[0]!.id}: ${report.failed[0]!.reason}); baselines were not updated, the retry will deliver them`,
          );
        }
      }
      const stageOut: DeliverStage = {
        suspects: alertedPlaces(candidates.values(), detectors),
        learnedBefore,
        windowFindings,
        detectorErrors,
        alertsPublished,
        alertsDeduplicated: raised.size,
        alertsFolded,
        alertsSuppressed,
        alertsCutByCap: cut.length,
        alertIds: kept.map((a) => a.id),
      };
      await stage(run, stageOut, 'deliver');
      return {
        alertsPublished: Object.values(alertsPublished).reduce((n, x) => n + x, 0),
        alertsCutByCap: cut.length,
        alertsDeduplicated: raised.size,
        alertIds: stageOut.alertIds,
      };
    },

    async learn(run: RunRef, shard: number): Promise<LearnReport> {
      if (run.alertOnly) return { shard, usersChanged: 0 };
      const delivered = await mustHave<DeliverStage>(run, 'deliver');
      const observations = (await observationsOf(run, shard)).filter((o) => o.outcome === 'success');
      let out: LearnStage = { users: [], newUsers: 0 };
      let shares: SharesStage = { delta: emptyDelta(), learners: [] };
      if (observations.length > 0) {
        const ctx = await context(run);
        await takeLease(run);
        const users = [...new Set(observations.map((o) => o.user))];
        const kept = retained.get(`${run.attemptId}/${shard}`);
        retained.delete(`${run.attemptId}/${shard}`);
        // The baselines as stored (the learning settles expired suspect places itself, and saves the change).
        const stored = kept ?? (await store.getUsers(users));
        const pop = decayPopulationTo(ctx.population, bucketOf(run.windowEnd));
        const learned = learnUsers(observations, stored, pop, await learnOptions(run, ctx, delivered.suspects));
        out = { users: learned.users, newUsers: learned.newUsers };
        shares = { delta: learned.delta, learners: [...learned.learners] };
      }
      await stage(run, out, 'learn', shard);
      await stage(run, shares, 'shares', shard);
      // The counts alone, for the summary: `finish` need not read every learned baseline back.
      await stage(run, { newUsers: out.newUsers } satisfies LearnedStage, 'learned', shard);
      return { shard, usersChanged: out.users.length };
    },

    async commit(run: RunRef): Promise<void> {
      if (run.alertOnly) return;
      const delivered = await mustHave<DeliverStage>(run, 'deliver');
      let populationSaved = false;
      // A window with no logon at all changes nothing; the retry of a window already learned leaves the population.
      if ((await isActive(run)) && !delivered.learnedBefore) {
        const ctx = await context(run);
        const opts = await learnOptions(run, ctx, delivered.suspects);
        // The shards' shares one at a time, in shard order: their population deltas, then the detectors' population
        // slices that learn from users alone, slice by slice (never every user's slices at once).
        let population = decayPopulationTo(ctx.population, bucketOf(run.windowEnd));
        for (let s = 0; s < run.shardCount; s++) {
          const sh = await staged<SharesStage>(run, 'shares', s);
          if (!sh) continue;
          population = applyPopulationDeltas(population, [sh.delta]);
          population = learnPopulation(
            population,
            { observations: [], baselines: new Map(), learners: new Map(sh.learners), usersOnly: true },
            opts,
          );
        }
        // Then the slices that learn from the whole window's logons (failures, volume) and what was known of them:
        // read only now, so the shards' shares and the whole window are never in memory together.
        const interner = new Interner();
        const observations = await observationsOf(run, undefined, interner);
        const digests = new DigestMap();
        for (let s = 0; s < run.shardCount; s++) {
          const e = await staged<EvaluateStage>(run, 'eval', s);
          if (e) for (const [u, b] of e.digests) digests.set(interner.string(u), interner.list(b));
        }
        population = learnPopulation(
          population,
          { observations, baselines: digests, learners: new Map(), usersOnly: false },
          opts,
        );
        // A window that changes no statistic leaves the item (up to ~150 KB) alone: its retry re-derives nothing.
        if (population !== ctx.population) {
          await takeLease(run);
          await store.savePopulation({
            ...population,
            learnedWindowEnd: run.windowEnd,
            learnedWindowStart: run.windowStart,
          });
          populationSaved = true;
        }
      }
      const c: CommitStage = { populationSaved };
      await stage(run, c, 'commit');
    },

    async write(run: RunRef, shard: number): Promise<WriteReport> {
      if (run.alertOnly) return { shard, written: 0, notStored: 0 };
      const l = await staged<LearnStage>(run, 'learn', shard);
      let result: WriteStage = { written: 0, notStored: [] };
      if (l && l.users.length > 0) {
        await takeLease(run);
        // A bulk write, not checked item by item: safe because every writer of baselines holds the run lease while it
        // reads and writes (README "How a run writes"), which the store confirms before the first batch. One user
        // that can never be stored must not block everyone's learning: the store skips it and says which.
        const now = deps.clock.now();
        const { notStored } = await store.writeUsersLeased(
          l.users,
          { owner: run.attemptId, expiresAtMs: (leases.get(run.attemptId) ?? now) + RUN_LEASE_MS },
          now,
        );
        for (const item of notStored)
          deps.logger?.warn('baseline could not be stored; skipped, the other users were saved', {
            user: item.user,
            reason: item.reason,
          });
        result = { written: l.users.length - notStored.length, notStored: [...notStored] };
      }
      await stage(run, result, 'write', shard);
      return { shard, written: result.written, notStored: result.notStored.length };
    },

    async finish(run: RunRef): Promise<Record<string, unknown>> {
      return (await finishRun(run)) as unknown as Record<string, unknown>;
    },

    async abandon(run: RunRef, error: string): Promise<void> {
      deps.logger?.warn('run abandoned; the next attempt starts over', { runId: run.runId, error });
      for (const k of [...retained.keys()]) if (k.startsWith(`${run.attemptId}/`)) retained.delete(k);
      contexts.delete(run.attemptId);
      await releaseLease(run, true);
      await staging
        .deletePrefix(`${run.stagingPrefix}/`)
        .catch((e: unknown) =>
          deps.logger?.warn('could not delete the run’s staged data; it expires by itself', { error: String(e) }),
        );
    },
  };

  /** The watermark, the lease, the staged data; and the run's summary from what every step staged. */
  async function finishRun(run: RunRef): Promise<RunSummary> {
    const started = deps.clock.now();
    const ctx = await context(run);
    if (!run.alertOnly)
      await store.saveRunState({ ...ctx.state, lastWindowEnd: Math.max(ctx.state.lastWindowEnd, run.windowEnd) });
    const fetches: FetchStage[] = [];
    for (const g of groups.keys()) {
      const f = await staged<FetchStage>(run, 'fetch', g);
      if (f) fetches.push(f);
    }
    const shards: ShardStages[] = [];
    for (let s = 0; s < run.shardCount; s++)
      shards.push({
        evaluated: await staged<EvaluateStage>(run, 'eval', s),
        learned: await staged<LearnedStage>(run, 'learned', s),
        written: await staged<WriteStage>(run, 'write', s),
      });
    const delivered = await staged<DeliverStage>(run, 'deliver');
    await releaseLease(run, await isActive(run));
    contexts.delete(run.attemptId);
    await staging.deletePrefix(`${run.stagingPrefix}/`);
    return summariseRun({
      run,
      detectors,
      learning: ctx.learning,
      learningEndsAt: ctx.learningEndsAt,
      fetches,
      shards,
      delivered,
      durationMs: deps.clock.now() - started,
    });
  }

  return Object.assign(steps, { finishRun });
}
