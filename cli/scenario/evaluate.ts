/**
 * One evaluation run: generate a labelled scenario, replay it through the real pipeline (the profile's
 * line parser, owner enrichment from the scenario's network data, `runDetection` on the 15-minute schedule,
 * the DynamoDB store on embedded dynalite), and score the alerts, the naive first-seen rule's alerts and the naive
 * failure rule's (at each of its thresholds) against the same labels. A delivered campaign alert is scored with the
 * per-user alerts folded into it, read back from the ledger.
 */
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { SystemClock } from '../../shared/adapters/system-clock';
import { DETECTORS } from '../../shared/core/detectors';
import type { Alert } from '../../shared/core/model';
import type { NetworkDatabase, NetworkLookup, NetworkLookupService } from '../../shared/core/network-data/lookup';
import { getProfile } from '../../shared/core/profiles';
import { DEFAULT_SETTINGS, type DetectionSettings } from '../../shared/core/settings';
import type { OperatorStore } from '../../shared/ports/baseline-store';
import { openLocalStore } from '../local';
import { replay } from '../replay';
import { generateScenario, scenarioLabels, type ScenarioShape } from './generate';
import {
  NAIVE_FAILURE_THRESHOLDS,
  NAIVE_FAILURE_WINDOW_MS,
  naiveFailureAlerts,
  naiveFailureRuleId,
  naiveFirstSeenAlerts,
} from './naive';
import { scenarioNetworkData } from './network-data';
import { scoreAlerts, scoredAlert, type EvalReport, type ScoredAlert } from './score';
import { scenarioLines } from './writers';

export interface EvaluateOptions {
  readonly seed: number;
  readonly shape: ScenarioShape;
  readonly days?: number;
  /** Log format the scenario is written in and parsed back with. */
  readonly format?: 'ecs' | 'sshd';
  /** Detection settings (default `DEFAULT_SETTINGS`); a scenario living in local time sets their time zones. */
  readonly settings?: DetectionSettings;
  /**
   * Whether the pipeline gets the scenario's network data (`DetectionDeps.network`, default true). Without it the
   * events are the same and carry no owner: the figure to compare owner-aware detection against.
   */
  readonly networkData?: boolean;
}

/** What the scenario's network data told the run. */
export interface NetworkDataUse {
  /** The database's source, from its header (`SCENARIO_NETWORK_SOURCE`). */
  readonly source: string;
  /** Distinct addresses the run looked up (every source address of the replay, failures included). */
  readonly addresses: number;
  /** Of those, with an owner (the others are private: the internal network). */
  readonly known: number;
}

export interface EvaluateResult {
  readonly seed: number;
  readonly shape: ScenarioShape;
  readonly format: 'ecs' | 'sshd';
  /** The settings' `timeZone` the scenario was replayed with (its users' other zones in `userTimeZones`). */
  readonly timeZone: string;
  readonly users: number;
  readonly events: number;
  readonly malformed: number;
  readonly windows: number;
  readonly cutByCap: number;
  readonly authwatch: EvalReport;
  /** Per-user alerts folded into delivered campaign alerts: read back from the ledger, and not found there. */
  readonly folded: { readonly read: number; readonly missing: number };
  readonly naive: EvalReport;
  /** The naive failure rule ("N failed logons from one address in a window"), at each of its thresholds. */
  readonly naiveFailures: readonly NaiveFailureReport[];
  /** The network data the replay was enriched from; absent when run without (`networkData: false`). */
  readonly network?: NetworkDataUse;
  /** Wall time of the replay, ms (informational; eval is not a benchmark). */
  readonly replayMs: number;
}

/** The naive failure rule at one threshold, scored. */
export interface NaiveFailureReport {
  /** `naive-failures-<threshold>`: the detector id its alerts carry. */
  readonly id: string;
  readonly threshold: number;
  readonly windowMinutes: number;
  readonly report: EvalReport;
}

export async function evaluateScenario(o: EvaluateOptions): Promise<EvaluateResult> {
  const format = o.format ?? 'ecs';
  const base = o.settings ?? DEFAULT_SETTINGS;
  const scenario = generateScenario({
    seed: o.seed,
    shape: o.shape,
    ...(o.days !== undefined ? { days: o.days } : {}),
    learningDays: base.learningDays,
  });
  // The organisation's time zones are part of its configuration, as a deployment would set them.
  const { timeZone, userTimeZones } = scenario.meta;
  const settings: DetectionSettings =
    timeZone !== undefined ? { ...base, timeZone, userTimeZones: [...(userTimeZones ?? [])] } : base;
  const labels = scenarioLabels(scenario);
  const source = FileLogSource.fromLines(
    `${format}:scenario-${o.shape}-${o.seed}`,
    getProfile(format),
    scenarioLines(scenario, format),
  );
  const span = source.timeSpan();
  const sink = new InMemoryAlertSink();
  const network = o.networkData === false ? undefined : new CountingLookup(scenarioNetworkData());
  const local = await openLocalStore({ memory: true });
  const started = Date.now();
  let windows = 0;
  let cutByCap = 0;
  let scored: ScoredAlert[] = [];
  const folded = { read: 0, missing: 0 };
  try {
    if (span) {
      const r = await replay(
        {
          logSources: [source],
          store: local.store,
          sink,
          clock: new SystemClock(),
          settings,
          ...(network ? { network } : {}),
        },
        span,
      );
      windows = r.windows;
      cutByCap = r.cutByCap;
    }
    scored = await Promise.all(sink.delivered.map((a) => withFoldedAlerts(a, local.store, folded)));
  } finally {
    await local.close();
  }
  const replayMs = Date.now() - started;
  const naive = naiveFirstSeenAlerts(scenario.events, scenario.meta.learningEnd).map((a) => ({
    ...a,
    detectorId: 'naive',
  }));
  return {
    seed: o.seed,
    shape: o.shape,
    format,
    timeZone: settings.timeZone,
    users: scenario.users.length,
    events: scenario.events.length,
    malformed: source.parseStats.malformed,
    windows,
    cutByCap,
    authwatch: scoreAlerts(scored, labels, {
      detectorIds: DETECTORS.map((d) => d.id),
      listFalseAlerts: true,
    }),
    folded,
    naive: scoreAlerts(naive, labels),
    naiveFailures: NAIVE_FAILURE_THRESHOLDS.map((threshold) => {
      const id = naiveFailureRuleId(threshold);
      const alerts = naiveFailureAlerts(scenario.events, scenario.meta.learningEnd, threshold).map((a) => ({
        ...a,
        detectorId: id,
      }));
      return { id, threshold, windowMinutes: NAIVE_FAILURE_WINDOW_MS / 60_000, report: scoreAlerts(alerts, labels) };
    }),
    ...(network ? { network: network.use() } : {}),
    replayMs,
  };
}

/**
 * A delivered alert as scored, with the per-user alerts folded into it when it is a campaign (`campaign.folded`):
 * they were recorded in the ledger, not delivered. A folded alert is read from its ledger entry's document (its
 * logon time), or from the entry alone (its raising time) when the document is gone; one not in the ledger is
 * counted in `folded.missing` and left out.
 */
export async function withFoldedAlerts(
  a: Alert,
  store: Pick<OperatorStore, 'getLedgerEntry'>,
  folded: { read: number; missing: number },
): Promise<ScoredAlert> {
  const ids = a.campaign?.folded ?? [];
  if (ids.length === 0) return scoredAlert(a);
  const inner: ScoredAlert[] = [];
  for (const id of ids) {
    const e = await store.getLedgerEntry(id);
    if (!e) {
      folded.missing++;
      continue;
    }
    folded.read++;
    inner.push({
      user: e.user,
      sourceIp: e.sourceIp ?? a.source.ip,
      timestamp: documentTime(e.document) ?? e.raisedAtMs,
      detectorId: e.detectorId,
    });
  }
  return { ...scoredAlert(a), folded: inner };
}

/** The `@timestamp` of a stored alert document, if it has a readable one. */
function documentTime(document: string | undefined): number | undefined {
  if (document === undefined) return undefined;
  try {
    const t = Date.parse((JSON.parse(document) as { '@timestamp'?: unknown })['@timestamp'] as string);
    return Number.isFinite(t) ? t : undefined;
  } catch {
    return undefined;
  }
}

/** The lookup service with a record of the distinct addresses it was asked about, for the eval's report. */
class CountingLookup implements NetworkLookupService {
  private readonly seen = new Map<string, boolean>();

  constructor(private readonly db: NetworkDatabase) {}

  lookup(ip: string): NetworkLookup {
    const r = this.db.lookup(ip);
    this.seen.set(ip, r.known);
    return r;
  }

  use(): NetworkDataUse {
    let known = 0;
    for (const k of this.seen.values()) if (k) known++;
    return { source: this.db.meta.source, addresses: this.seen.size, known };
  }
}
