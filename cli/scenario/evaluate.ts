/**
 * One evaluation run: generate a labelled scenario, replay it through the real pipeline (the profile's
 * line parser, owner enrichment from the scenario's network data, `runDetection` on the 15-minute schedule,
 * the DynamoDB store on embedded dynalite), and score the alerts and the naive first-seen rule's alerts
 * against the same labels.
 */
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { SystemClock } from '../../shared/adapters/system-clock';
import { DETECTORS } from '../../shared/core/detectors';
import type { NetworkDatabase, NetworkLookup, NetworkLookupService } from '../../shared/core/network-data/lookup';
import { getProfile } from '../../shared/core/profiles';
import { DEFAULT_SETTINGS, type DetectionSettings } from '../../shared/core/settings';
import { openLocalStore } from '../local';
import { replay } from '../replay';
import { generateScenario, scenarioLabels, type ScenarioShape } from './generate';
import { naiveFirstSeenAlerts } from './naive';
import { scenarioNetworkData } from './network-data';
import { scoreAlerts, scoredAlert, type EvalReport } from './score';
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
  readonly naive: EvalReport;
  /** The network data the replay was enriched from; absent when run without (`networkData: false`). */
  readonly network?: NetworkDataUse;
  /** Wall time of the replay, ms (informational; eval is not a benchmark). */
  readonly replayMs: number;
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
    authwatch: scoreAlerts(sink.delivered.map(scoredAlert), labels, {
      detectorIds: DETECTORS.map((d) => d.id),
      listFalseAlerts: true,
    }),
    naive: scoreAlerts(naive, labels),
    ...(network ? { network: network.use() } : {}),
    replayMs,
  };
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
