/**
 * The detection pipeline, over ports only: the Lambda and the CLI both call this.
 *
 *   window → fetch logons → load baselines and feedback → detectors → thresholds/allowlists → ledger dedup → rank/cap
 *   → publish → mark raised → learn (population, baselines, watermark) → summary
 *
 * Order matters for failure: alerts are marked raised only once the sink accepted them, and baselines are
 * learned only after every alert of the window was delivered. A run that fails anywhere leaves the table
 * so that the retry of the same window (Lambda async retry, same scheduled time) publishes what was not yet
 * recorded as delivered and learns the window once: the population is written first, marked with the window
 * (`learnedWindowEnd`), then the users, then the watermark, so a save cut at any write converges on retry.
 * One run at a time holds the run lease, so two overlapping runs never deliver the same alerts.
 */
import { randomUUID } from 'node:crypto';
import {
  alertDocument,
  alertedPlaces,
  buildAlert,
  buildContextIndex,
  capAlerts,
  compileAllowlist,
  rankAlerts,
} from './core/alerts';
import { foldSameLogon, isCampaign, linkCampaigns } from './core/campaigns';
import { failureTargets } from './core/failures';
import { computeBaselineUpdate, settleAllSuspects } from './core/baseline-update';
import { enrichObservations } from './core/enrich';
import { compileHostile } from './core/hostile';
import type { NetworkLookupService } from './core/network-data/lookup';
import { DETECTORS, type Detector } from './core/detectors';
import { isUserMature } from './core/habits';
import { isLearning, learningPeriod } from './core/learning-period';
import {
  DAY_MS,
  emptyPopulation,
  windowEndingAt,
  type Alert,
  type Finding,
  type LedgerEntry,
  type LogonObservation,
  type TimeWindow,
  type UserBaseline,
} from './core/model';
import type { DetectionSettings, DetectorId } from './core/settings';
import { AlertSinkError, AuthwatchError, ConcurrentUpdateError } from './errors';
import type { AlertSink, Clock, DetectionStore, LogSource } from './ports';

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
}

/**
 * How long a run holds the lease unless it releases it first: a little longer than the detector Lambda's timeout
 * (5 minutes, infra/constructs/detector.ts), so a run cannot still be working when its lease lapses, and short
 * enough that after a timeout Lambda's first retry (a minute later) finds it free. A run that dies early (out of
 * memory) blocks the retries until then; the next scheduled run catches its window up.
 */
export const RUN_LEASE_MS = 5.5 * 60 * 1000;
/**
 * Most users whose baselines a run reads because failed logons named them (beyond the users who logged on): enough
 * for any spray against an organisation's real users (a read is 100 names per call), bounded against a scanner
 * trying millions of made-up names. The most failed names are read first; `targetsNotRead` counts the rest.
 */
export const MAX_FAILURE_USERS_READ = 5000;

/** How the lease item is named in errors. */
const LEASE_LABEL = 'META#lease';

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

function perDetector(detectors: readonly Detector[]): Record<DetectorId, number> {
  const r = {} as Record<DetectorId, number>;
  for (const d of detectors) r[d.id] = 0;
  return r;
}

/** The window queried: the caller's when given (catch-up), else the schedule's 30 minutes ending at `windowEnd`. */
export function runWindow(opts: Pick<RunOptions, 'windowEnd' | 'windowStart'>): TimeWindow {
  if (opts.windowStart === undefined) return windowEndingAt(opts.windowEnd);
  if (!(opts.windowStart < opts.windowEnd)) {
    throw new AuthwatchError(
      `window start ${new Date(opts.windowStart).toISOString()} is not before its end ${new Date(opts.windowEnd).toISOString()}`,
    );
  }
  return { start: opts.windowStart, end: opts.windowEnd };
}

/**
 * The run lease of one run: taken (once) before anything is delivered or learned, given up however the run ends.
 * A run that finds it held by another live attempt fails with `ConcurrentUpdateError` before delivering anything;
 * its retry finds the window done.
 */
class RunLeaseHolder {
  private held = false;
  constructor(
    private readonly deps: DetectionDeps,
    private readonly owner: string,
  ) {}

  async take(): Promise<void> {
    if (this.held) return;
    const now = this.deps.clock.now();
    const r = await this.deps.store.acquireLease({ owner: this.owner, expiresAtMs: now + RUN_LEASE_MS }, now);
    if (!r.acquired) {
      const by = r.holder ? `${r.holder.owner} until ${new Date(r.holder.expiresAtMs).toISOString()}` : 'another run';
      throw new ConcurrentUpdateError([`${LEASE_LABEL} (held by ${by})`]);
    }
    this.held = true;
  }

  /** Best effort: a lease left behind expires by itself, and must not hide how the run ended. */
  async release(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    await this.deps.store.releaseLease(this.owner).catch((e: unknown) =>
      this.deps.logger?.warn('could not release the run lease; it expires by itself', {
        owner: this.owner,
        error: String(e),
      }),
    );
  }
}

/**
 * Run one window. Windows with any logon, failed ones included, deliver and learn under the run lease (taken
 * after the detectors ran, before the ledger is read); windows without any only advance the watermark, which is
 * version-checked, and cost no lease writes.
 */
export async function runDetection(deps: DetectionDeps, opts: RunOptions): Promise<RunSummary> {
  const lease = new RunLeaseHolder(
    deps,
    opts.attemptId ?? `${opts.runId ?? `run-${new Date(opts.windowEnd).toISOString()}`}#${randomUUID()}`,
  );
  try {
    return await detectWindow(deps, opts, lease);
  } finally {
    await lease.release();
  }
}

async function detectWindow(deps: DetectionDeps, opts: RunOptions, lease: RunLeaseHolder): Promise<RunSummary> {
  const started = deps.clock.now();
  const detectors = deps.detectors ?? DETECTORS;
  const { settings, store } = deps;
  const runId = opts.runId ?? `run-${new Date(opts.windowEnd).toISOString()}`;

  const storedState = await store.getRunState();
  const state = storedState ?? { firstWindowEnd: opts.windowEnd, lastWindowEnd: 0, version: 0 };
  const window = runWindow(opts);
  const catchUp = opts.windowStart !== undefined;
  const alertOnly = opts.alertOnly === true;
  const period = learningPeriod(state, settings.learningDays);
  const learningEndsAt = period.end;
  const learning = isLearning(period, opts.windowEnd);

  // 1. Logons, aggregated per (user, ip, outcome). A source that cannot return its whole window fails the run.
  const observations: LogonObservation[] = [];
  const src = { malformed: 0, namesTruncated: 0, queries: 0, rows: 0, queryMs: 0, bytesScanned: 0 };
  const sources: SourceSummary[] = [];
  for (const source of deps.logSources) {
    const r = await source.fetch(window);
    observations.push(...r.observations);
    // Per source, so a source gone quiet or unparseable shows even while the others keep the totals up.
    sources.push({
      name: source.name,
      logons: r.observations.reduce((n, o) => n + o.count, 0),
      rows: r.stats.rows,
      malformed: r.stats.malformed,
    });
    src.malformed += r.stats.malformed;
    src.namesTruncated += r.stats.namesTruncated ?? 0;
    src.queries += r.stats.queries;
    src.rows += r.stats.rows;
    src.queryMs += r.stats.queryMs;
    src.bytesScanned += r.stats.bytesScanned;
  }
  // Each address with its network owner and country (one lookup per distinct address), before anyone reads them.
  const enriched = enrichObservations(observations, deps.network);
  for (let i = 0; i < observations.length; i++) observations[i] = enriched.observations[i]!;
  const successes = observations.filter((o) => o.outcome === 'success');
  const users = [...new Set(successes.map((o) => o.user))];
  // Whether anything happened: failures alone are judged (spraying, spikes) and learned (the population) too.
  const active = observations.length > 0;

  // 2. What we knew before this window: the baselines of who logged on, and of who failures named (a name with a
  // baseline is a real user here: spraying real names is the signal, the internet's `root`/`admin` is not). Suspect
  // places whose `suspectDays` ran out are known places from now on, to the detectors as to the learning (which
  // settles the stored baselines itself, and saves the change).
  const targets = failureTargets(observations, new Set(users), MAX_FAILURE_USERS_READ);
  const toRead = targets.names.length > 0 ? [...users, ...targets.names] : users;
  const stored: Map<string, UserBaseline> = toRead.length > 0 ? await store.getUsers(toRead) : new Map();
  const baselines = settleAllSuspects(stored, opts.windowEnd, settings);
  // The population is also read by a learning pass that saw no logon: its marker tells whether an earlier
  // window's save was cut (step 5), which the next window must finish even if it has nothing to learn.
  const population = active || !alertOnly ? ((await store.getPopulation()) ?? emptyPopulation()) : emptyPopulation();

  // Analyst feedback (`authwatch allow`, `authwatch malicious`) is read once in every run with any logon (failed
  // ones included), before the detectors: its hostile marks are compiled once for them, its allowlists silence alerts in
  // step 4, and in step 7 its allowlisted users are kept out of the population's statistics. (On DynamoDB a repeat
  // read in a warm Lambda is a version-only read of a small item, the decoded item cached.)
  const feedback = active ? await store.getFeedback() : undefined;
  const allow = compileAllowlist(settings, feedback);
  const hostile = feedback?.hostile?.length ? compileHostile(feedback.hostile) : undefined;

  // 3. Detectors: pure; one that throws is contained, counted and logged, never sinks the run.
  const findings: { finding: Finding; detector: Detector }[] = [];
  const findingCounts = perDetector(detectors);
  let detectorErrors = 0;
  for (const o of successes) {
    // One input per logon, read by every detector (detectors only read it).
    const input = {
      observation: o,
      baseline: baselines.get(o.user),
      population,
      window,
      settings,
      ...(hostile ? { hostile } : {}),
    };
    for (const detector of detectors) {
      if (!detector.evaluate) continue;
      try {
        const f = detector.evaluate(input);
        if (f) {
          findings.push({ finding: f, detector });
          findingCounts[detector.id]++;
        }
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
  // Window detectors judge the whole window at once (failures, sources against many users, volume).
  if (active) {
    const windowInput = {
      observations,
      baselines,
      allTargetsRead: targets.notRead === 0,
      population,
      window,
      settings,
    };
    for (const detector of detectors) {
      if (!detector.evaluateWindow) continue;
      try {
        for (const f of detector.evaluateWindow(windowInput)) {
          findings.push({ finding: f, detector });
          findingCounts[detector.id]++;
        }
      } catch (e) {
        detectorErrors++;
        deps.logger?.warn('detector failed on the window; skipped', { detector: detector.id, error: String(e) });
      }
    }
  }
  const usersLearning = users.filter((u) => {
    const b = baselines.get(u);
    return !b || !isUserMature(b, settings);
  }).length;

  // 4. Thresholds and allowlists, then one alert per entity (a new user seen from two IPs is one alert). A
  // detector whose findings carry an analyst's explicit word (a hostile mark) is not silenced by the allowlists.
  const context = buildContextIndex(observations);
  let alertsSuppressed = 0;
  const candidates = new Map<string, Alert>();
  if (!learning) {
    for (const { finding, detector } of findings) {
      const threshold = settings.thresholds[detector.id];
      deps.onFinding?.(finding, threshold);
      if (finding.score < threshold) continue;
      if (
        !detector.overridesAllowlists &&
        allow.allows(finding.user, finding.sourceIp, finding.observation.owner, finding.observation.firstSeen)
      ) {
        alertsSuppressed++;
        continue;
      }
      const alert = buildAlert(finding, detector, window, threshold, context(finding));
      const prev = candidates.get(alert.id);
      if (!prev || alert.score > prev.score || (alert.score === prev.score && alert['@timestamp'] < prev['@timestamp']))
        candidates.set(alert.id, alert);
    }
    // One alert per user (rare user): keep the earliest logon per user and detector (ids differ by first-seen
    // bucket when a user spans buckets).
    const onePerUser = new Set<string>(detectors.filter((d) => d.oneAlertPerUser).map((d) => d.id));
    const seenUser = new Set<string>();
    for (const a of [...candidates.values()].sort((x, y) => x['@timestamp'].localeCompare(y['@timestamp']))) {
      if (!onePerUser.has(a.rule.id)) continue;
      const key = `${a.rule.id}\u0000${a.user.name}`;
      if (seenUser.has(key)) candidates.delete(a.id);
      else seenUser.add(key);
    }
  }

  // 5. One run at a time delivers and learns. Then drop what the ledger already raised (overlapping windows,
  // retries), rank, cap. A window whose population was already written is the retry of a run cut while saving:
  // learning starts only after every alert was delivered and recorded, so it delivers nothing (what is not in the
  // ledger was cut by the cap, or is a finding of the half-learned baselines) and only finishes the save.
  if (active) await lease.take();
  const cutSave = population.learnedWindowEnd;
  if (
    !alertOnly &&
    cutSave !== undefined &&
    cutSave !== opts.windowEnd &&
    cutSave > (storedState?.lastWindowEnd ?? -Infinity)
  ) {
    // An earlier window's save was cut after its population was written, and its retries all failed: finish it
    // (it delivers nothing), then run this window afresh. Catching it up instead would add the contributions of
    // the users it had not saved to the population a second time.
    deps.logger?.warn('finishing the save of an earlier window that was cut', {
      windowEnd: new Date(cutSave).toISOString(),
    });
    // The same window it was: a catch-up chunk is shorter than the scheduled 30 minutes.
    const cutStart = population.learnedWindowStart;
    await detectWindow(
      deps,
      cutStart !== undefined && cutStart < cutSave
        ? { windowEnd: cutSave, windowStart: cutStart }
        : { windowEnd: cutSave },
      lease,
    );
    return detectWindow(deps, opts, lease);
  }
  const learnedBefore = !alertOnly && cutSave === opts.windowEnd;
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

  // 6. Deliver, then mark exactly what was delivered. Any undelivered alert fails the run before learning.
  const alertsPublished = perDetector(detectors);
  if (kept.length > 0) {
    const report = await deps.sink.publish({ runId, window, alerts: kept, cut });
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
      raisedAtMs: opts.windowEnd,
      expiresAtEpochSeconds: Math.floor((opts.windowEnd + settings.ledgerTtlDays * DAY_MS) / 1000),
      // What `authwatch show <id>` prints: the document as the sink delivered it (the store bounds its size).
      document: report.documents?.[a.id] ?? alertDocument(a),
    }));
    if (entries.length > 0) await store.recordRaisedAlerts(entries);
    for (const a of kept) if (delivered.has(a.id)) alertsPublished[a.rule.id as DetectorId]++;
    if (report.failed.length > 0) {
      throw new AlertSinkError(
        `${report.failed.length} of ${kept.length} alerts could not be delivered (first: ${report.failed[0]!.id}: ${report.failed[0]!.reason}); baselines were not updated, the retry will deliver them`,
      );
    }
  }

  // 7. Learn the window (not in an alert-only pass: the catch-up learns it in order later): population, users,
  // watermark, in this order, so a save cut at any write converges when the window is retried. The users' update
  // does not depend on the population, and is idempotent per bucket (a user already saved is not rewritten); the
  // population's is not (a user already saved contributes nothing when the window is re-applied), so it goes
  // first, marked with the window, and a retry that finds the mark leaves it.
  // Allowlisted accounts (the `allowUsers` setting and `authwatch allow user`) learn their own baselines but not
  // the population's: never alerted on, whatever they do (a CI runner on ephemeral addresses) must not become
  // what everyone else is judged against. An entry with an expiry counts while it is in force at the window's last instant.
  const update = alertOnly
    ? undefined
    : computeBaselineUpdate(observations, stored, population, {
        windowEnd: opts.windowEnd,
        windowStart: window.start,
        learning,
        settings,
        excludeFromPopulation: (u) => allow.allowsUser(u, opts.windowEnd - 1),
        // Every address an alert of this window named, delivered, already raised or cut: until answered, not learned.
        suspects: alertedPlaces(candidates.values(), detectors),
      });
  let notStored: readonly { user: string; reason: string }[] = [];
  if (update) {
    // A window with no logon at all changes nothing (its population was not necessarily read). A window
    // that changes no statistic leaves the item (up to ~150 KB) alone: its retry re-derives nothing either.
    if (active && !learnedBefore && update.populationChanged) {
      await store.savePopulation({
        ...update.population,
        learnedWindowEnd: opts.windowEnd,
        learnedWindowStart: window.start,
      });
    }
    // One user that can never be stored must not block everyone's learning: the store skips it and says which.
    if (update.users.length > 0) ({ notStored } = await store.saveUsers(update.users));
    for (const item of notStored)
      deps.logger?.warn('baseline could not be stored; skipped, the other users were saved', {
        user: item.user,
        reason: item.reason,
      });
    await store.saveRunState({ ...state, lastWindowEnd: Math.max(state.lastWindowEnd, opts.windowEnd) });
  }

  return {
    runId,
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    catchUp,
    alertOnly,
    learning,
    learningEndsAt: new Date(learningEndsAt).toISOString(),
    logonsScanned: observations.reduce((n, o) => n + o.count, 0),
    observations: observations.length,
    addressesLooked: enriched.stats.addresses,
    addressesWithOwner: enriched.stats.known,
    malformed: src.malformed,
    namesTruncated: src.namesTruncated,
    queries: src.queries,
    queryRows: src.rows,
    queryMs: src.queryMs,
    bytesScanned: src.bytesScanned,
    usersSeen: users.length,
    failureTargetsRead: targets.names.length,
    failureTargetsNotRead: targets.notRead,
    usersLearning,
    newUsers: update?.newUsers ?? 0,
    findings: findingCounts,
    alertsPublished,
    alertsDeduplicated: raised.size,
    alertsFolded,
    alertsSuppressed,
    alertsCutByCap: cut.length,
    detectorErrors,
    baselinesWritten: (update?.users.length ?? 0) - notStored.length,
    itemsNotStored: notStored.length,
    alertIds: kept.map((a) => a.id),
    durationMs: deps.clock.now() - started,
    sources,
  };
}
