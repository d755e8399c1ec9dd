/**
 * One evaluation run: generate a labelled scenario, replay it through the real pipeline (the profile's
 * line parser, `runDetection` on the 15-minute schedule, the DynamoDB store on embedded dynalite), and
 * score the alerts and the naive first-seen rule's alerts against the same labels.
 */
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { SystemClock } from '../../shared/adapters/system-clock';
import { DETECTORS } from '../../shared/core/detectors';
import { getProfile } from '../../shared/core/profiles';
import { DEFAULT_SETTINGS, type DetectionSettings } from '../../shared/core/settings';
import { openLocalStore } from '../local';
import { replay } from '../replay';
import { generateScenario, scenarioLabels, type ScenarioShape } from './generate';
import { naiveFirstSeenAlerts } from './naive';
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
  const local = await openLocalStore({ memory: true });
  const started = Date.now();
  let windows = 0;
  let cutByCap = 0;
  try {
    if (span) {
      const r = await replay(
        { logSources: [source], store: local.store, sink, clock: new SystemClock(), settings },
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
    authwatch: scoreAlerts(sink.delivered.map(scoredAlert), labels, { detectorIds: DETECTORS.map((d) => d.id) }),
    naive: scoreAlerts(naive, labels),
    replayMs,
  };
}
