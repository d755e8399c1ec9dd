/**
 * `npm run eval`: how well authwatch detects, against the naive "every new (user, IP) pair" rule.
 *
 * Replays several seeds of each population shape through the real pipeline (see scenario/evaluate.ts),
 * one child process per scenario, two at a time. Prints a readable table on stderr and one JSON object
 * on stdout, both with every registered detector's own figures beside authwatch's (all detectors) and the
 * naive rule's; each scenario's JSON lists authwatch's false alerts with the label that explains each
 * (`authwatch.falseAlerts.list`: user, address, time, detector), to see what a detector's noise falls on. Beside the
 * naive first-seen rule, the naive failure rule ("N failed logons from one address in a UTC hour", at each of
 * `NAIVE_FAILURE_THRESHOLDS`) gets the same figures (`naiveFailures`). Options: --seeds 1,2,3
 * --shapes small-office,large-mobile,office-hours,internet-facing  --format ecs|sshd
 * --days N  --jobs N  --no-network-data (the same events without the scenario's network data: no owners)
 * --json <file> (the JSON also written to a file, for `authwatch report --eval <file>`: npm's own banner on stdout
 * would make `npm run eval > file` invalid JSON).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DETECTORS } from '../shared/core/detectors';
import { quietSdkNodeVersionWarning } from './sdk-warning';
import {
  INCIDENT_KINDS,
  NOVELTY_KINDS,
  SCENARIO_SHAPES,
  type IncidentKind,
  type ScenarioShape,
} from './scenario/generate';
import { evaluateScenario, type EvaluateResult } from './scenario/evaluate';
import { NAIVE_FAILURE_THRESHOLDS, naiveFailureRuleId } from './scenario/naive';
import { SCENARIO_NETWORK_SOURCE } from './scenario/network-data';
import { DEFAULT_EXPECTED_KINDS, type EvalReport } from './scenario/score';

/** Scenarios are started largest first, so the two workers finish together. */
const SHAPE_SIZE: Readonly<Record<ScenarioShape, number>> = {
  'large-mobile': 3,
  'internet-facing': 2,
  'office-hours': 2,
  'small-office': 1,
};

/** The issue's targets for the default settings. */
export const TARGETS = { recall: 0.9, naiveFalseRatio: 30, noisePer1000UserDays: 5 } as const;

type KindCounts = Record<IncidentKind, { total: number; detected: number }>;

/** One detector's figures summed over scenarios. */
interface DetectorTotals {
  alerts: number;
  onIncidents: number;
  expectedNovelty: number;
  noise: number;
  byKind: KindCounts;
  /** False alerts by the label that explains them (`NOVELTY_KINDS`) or `unexplained`. */
  falseByKind: Record<string, number>;
}

interface Totals {
  incidents: number;
  detected: number;
  byKind: KindCounts;
  alerts: number;
  onIncidents: number;
  falseAlerts: number;
  expectedNovelty: number;
  noise: number;
  falseByKind: Record<string, number>;
  detectionUserDays: number;
  detectionDays: number;
  byDetector: Record<string, DetectorTotals>;
}

function kindCounts(): KindCounts {
  return Object.fromEntries(INCIDENT_KINDS.map((k) => [k, { total: 0, detected: 0 }])) as KindCounts;
}

function addTo(into: Record<string, number>, from: Readonly<Record<string, number>>): void {
  for (const [k, n] of Object.entries(from)) into[k] = (into[k] ?? 0) + n;
}

/** Sum reports; `detectorIds` are listed in `byDetector` even when no report has them. */
function totalsOf(reports: readonly EvalReport[], detectorIds: readonly string[] = []): Totals {
  const byKind = kindCounts();
  const t: Totals = {
    incidents: 0,
    detected: 0,
    byKind,
    alerts: 0,
    onIncidents: 0,
    falseAlerts: 0,
    expectedNovelty: 0,
    noise: 0,
    falseByKind: {},
    detectionUserDays: 0,
    detectionDays: 0,
    byDetector: {},
  };
  const detector = (id: string): DetectorTotals =>
    (t.byDetector[id] ??= {
      alerts: 0,
      onIncidents: 0,
      expectedNovelty: 0,
      noise: 0,
      byKind: kindCounts(),
      falseByKind: {},
    });
  for (const id of detectorIds) detector(id);
  for (const r of reports) {
    t.incidents += r.overall.total;
    t.detected += r.overall.detected;
    for (const k of INCIDENT_KINDS) {
      byKind[k].total += r.recall[k].total;
      byKind[k].detected += r.recall[k].detected;
    }
    t.alerts += r.alerts;
    t.onIncidents += r.onIncidents;
    t.falseAlerts += r.falseAlerts.total;
    t.expectedNovelty += r.falseAlerts.expectedNovelty;
    t.noise += r.falseAlerts.noise;
    addTo(t.falseByKind, r.falseAlerts.expectedByKind);
    addTo(t.falseByKind, r.falseAlerts.noiseByCause);
    t.detectionUserDays += r.detectionUserDays;
    t.detectionDays += r.detectionDays;
    for (const [id, b] of Object.entries(r.byDetector)) {
      const d = detector(id);
      d.alerts += b.alerts;
      d.onIncidents += b.onIncidents;
      d.expectedNovelty += b.expectedNovelty;
      d.noise += b.noise;
      addTo(d.falseByKind, b.falseByKind);
      for (const k of INCIDENT_KINDS) {
        d.byKind[k].total += b.recall[k].total;
        d.byKind[k].detected += b.recall[k].detected;
      }
    }
  }
  return t;
}

function recallOf(c: { total: number; detected: number }): number | null {
  return c.total > 0 ? round(c.detected / c.total, 3) : null;
}

function recallByKind(byKind: KindCounts) {
  return Object.fromEntries(INCIDENT_KINDS.map((k) => [k, { ...byKind[k], recall: recallOf(byKind[k]) }])) as Record<
    IncidentKind,
    { total: number; detected: number; recall: number | null }
  >;
}

function summary(t: Totals) {
  const per1000 = (n: number) => round((n * 1000) / Math.max(1, t.detectionUserDays), 2);
  return {
    recall: t.incidents > 0 ? round(t.detected / t.incidents, 3) : null,
    incidents: t.incidents,
    detected: t.detected,
    recallByKind: recallByKind(t.byKind),
    alerts: t.alerts,
    onIncidents: t.onIncidents,
    alertsPerDay: round(t.alerts / Math.max(1, t.detectionDays), 2),
    falseAlerts: t.falseAlerts,
    expectedNovelty: t.expectedNovelty,
    noise: t.noise,
    /** False alerts by the label that explains them; expected kinds are those of `DEFAULT_EXPECTED_KINDS`. */
    falseAlertsByKind: t.falseByKind,
    falsePer1000UserDays: per1000(t.falseAlerts),
    noisePer1000UserDays: per1000(t.noise),
    detectionUserDays: t.detectionUserDays,
    byDetector: Object.fromEntries(
      Object.entries(t.byDetector).map(([id, d]) => {
        const all = INCIDENT_KINDS.reduce(
          (a, k) => ({ total: a.total + d.byKind[k].total, detected: a.detected + d.byKind[k].detected }),
          { total: 0, detected: 0 },
        );
        return [
          id,
          {
            alerts: d.alerts,
            onIncidents: d.onIncidents,
            expectedNovelty: d.expectedNovelty,
            noise: d.noise,
            recall: recallOf(all),
            detected: all.detected,
            recallByKind: recallByKind(d.byKind),
            falseAlertsByKind: d.falseByKind,
            noisePer1000UserDays: per1000(d.noise),
          },
        ];
      }),
    ),
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function aggregate(results: readonly EvaluateResult[]) {
  const ours = summary(
    totalsOf(
      results.map((r) => r.authwatch),
      DETECTORS.map((d) => d.id),
    ),
  );
  const naive = summary(totalsOf(results.map((r) => r.naive)));
  // The failure rule at each threshold, summed like the first-seen rule (a result without it adds nothing).
  const naiveFailures = Object.fromEntries(
    NAIVE_FAILURE_THRESHOLDS.map((n) => {
      const id = naiveFailureRuleId(n);
      return [
        id,
        summary(totalsOf(results.flatMap((r) => r.naiveFailures.filter((f) => f.id === id).map((f) => f.report)))),
      ];
    }),
  );
  const ratio =
    ours.falseAlerts > 0 ? round(naive.falseAlerts / ours.falseAlerts, 1) : naive.falseAlerts > 0 ? Infinity : null;
  return {
    authwatch: ours,
    naive,
    /** "N failed logons from one address in an hour", by rule id (`naive-failures-10`). */
    naiveFailures,
    naiveFalseAlertsPerOurs: ratio,
    targets: {
      recall: {
        target: `≥ ${TARGETS.recall}`,
        value: ours.recall,
        met:
          ours.recall !== null &&
          ours.recall >= TARGETS.recall &&
          (naive.recall === null || ours.recall >= naive.recall - 1e-9),
      },
      fewerFalseAlertsThanNaive: {
        target: `≥ ${TARGETS.naiveFalseRatio}×`,
        value: ratio,
        met: ratio !== null && ratio >= TARGETS.naiveFalseRatio,
      },
      noisePer1000UserDays: {
        target: `≤ ${TARGETS.noisePer1000UserDays}`,
        value: ours.noisePer1000UserDays,
        met: ours.noisePer1000UserDays <= TARGETS.noisePer1000UserDays,
      },
    },
  };
}

function pct(n: number | null): string {
  return n === null ? '   -' : `${(n * 100).toFixed(0).padStart(3)}%`;
}

function table(results: readonly EvaluateResult[], agg: ReturnType<typeof aggregate>): string {
  const lines: string[] = [];
  const head =
    'scenario              users  user-days  attacks  recall  alerts  expected  noise  noise/1k ud │ naive: recall  alerts  false';
  lines.push(head, '─'.repeat(head.length));
  for (const r of results) {
    const a = r.authwatch;
    const n = r.naive;
    lines.push(
      `${`${r.shape} #${r.seed}`.padEnd(21)} ${String(r.users).padStart(5)}  ${String(a.detectionUserDays).padStart(9)}  ${String(a.overall.total).padStart(7)}   ${pct(a.overall.recall)}  ${String(a.alerts).padStart(6)}  ${String(a.falseAlerts.expectedNovelty).padStart(8)}  ${String(a.falseAlerts.noise).padStart(5)}  ${a.falsePer1000UserDays.noise.toFixed(2).padStart(11)} │         ${pct(n.overall.recall)}  ${String(n.alerts).padStart(6)}  ${String(n.falseAlerts.total).padStart(5)}`,
    );
  }
  const o = agg.authwatch;
  const n = agg.naive;
  lines.push('─'.repeat(head.length));
  lines.push(
    `${'all'.padEnd(21)} ${''.padStart(5)}  ${String(o.detectionUserDays).padStart(9)}  ${String(o.incidents).padStart(7)}   ${pct(o.recall)}  ${String(o.alerts).padStart(6)}  ${String(o.expectedNovelty).padStart(8)}  ${String(o.noise).padStart(5)}  ${o.noisePer1000UserDays.toFixed(2).padStart(11)} │         ${pct(n.recall)}  ${String(n.alerts).padStart(6)}  ${String(n.falseAlerts).padStart(5)}`,
  );
  // One column per registered detector, between authwatch (all of them) and the naive rules: first-seen pairs, then
  // failures from one address in an hour at each threshold (`≥10 f/h`).
  const detectors = DETECTORS.map((d) => ({ label: d.columnLabel, figures: o.byDetector[d.id] }));
  const failureRules = NAIVE_FAILURE_THRESHOLDS.map((t) => ({
    label: `naive ≥${t} f/h`,
    figures: agg.naiveFailures[naiveFailureRuleId(t)],
  }));
  const cols = ['authwatch', ...detectors.map((d) => d.label), 'naive', ...failureRules.map((r) => r.label)];
  const header = (title: string): string => `  ${title.padEnd(28)}${cols.map((c) => c.padStart(14)).join('')}`;
  lines.push('', 'By detector:');
  lines.push(
    `  ${''.padEnd(14)}${['alerts', 'on attacks', 'expected', 'noise', 'recall', 'noise/1k ud'].map((c) => c.padStart(12)).join('')}`,
  );
  for (const [label, f] of [
    ['authwatch', o],
    ...detectors.map((d) => [d.label, d.figures] as const),
    ['naive', n],
    ...failureRules.map((r) => [r.label, r.figures] as const),
  ] as const) {
    const cells = f
      ? [f.alerts, f.onIncidents, f.expectedNovelty, f.noise].map((x) => String(x).padStart(12)).join('') +
        pct(f.recall).padStart(12) +
        f.noisePer1000UserDays.toFixed(2).padStart(12)
      : ' (none)';
    lines.push(`  ${label.padEnd(14)}${cells}`);
  }
  const recallCell = (r: { total: number; detected: number; recall: number | null } | undefined): string =>
    (r ? `${r.detected}/${r.total} ${pct(r.recall)}` : '-').padStart(14);
  lines.push('', header('Recall by attack kind'));
  for (const k of INCIDENT_KINDS) {
    lines.push(
      `  ${k.padEnd(28)}${recallCell(o.recallByKind[k])}${detectors.map((d) => recallCell(d.figures?.recallByKind[k])).join('')}${recallCell(n.recallByKind[k])}${failureRules.map((r) => recallCell(r.figures?.recallByKind[k])).join('')}`,
    );
  }
  const expectedKinds = new Set<string>(DEFAULT_EXPECTED_KINDS);
  const countCell = (m: Readonly<Record<string, number>> | undefined, k: string): string =>
    String(m?.[k] ?? 0).padStart(14);
  lines.push('', header('False alerts by label'));
  for (const k of [...NOVELTY_KINDS, 'unexplained']) {
    lines.push(
      `  ${`${k}${expectedKinds.has(k) ? ' (expected)' : ''}`.padEnd(28)}${countCell(o.falseAlertsByKind, k)}${detectors.map((d) => countCell(d.figures?.falseAlertsByKind, k)).join('')}${countCell(n.falseAlertsByKind, k)}${failureRules.map((r) => countCell(r.figures?.falseAlertsByKind, k)).join('')}`,
    );
  }
  lines.push(
    '',
    `False alerts: authwatch ${o.falseAlerts} (${o.falsePer1000UserDays} per 1,000 user-days; ${o.noisePer1000UserDays} excluding expected novelty), naive ${n.falseAlerts} (${n.falsePer1000UserDays} per 1,000 user-days): ${agg.naiveFalseAlertsPerOurs}× fewer.`,
    ...failureRules.map(
      (r) =>
        `Naive failure rule ${r.label} (failed logons from one address in a UTC hour): ${r.figures?.falseAlerts ?? 0} false alerts (${r.figures?.falsePer1000UserDays ?? 0} per 1,000 user-days), recall ${pct(r.figures?.recall ?? null).trim()}.`,
    ),
    'Targets:',
    ...Object.entries(agg.targets).map(
      ([k, t]) => `  ${t.met ? 'met    ' : 'NOT MET'} ${k}: ${t.value} (target ${t.target})`,
    ),
  );
  return lines.join('\n') + '\n';
}

/** Which network data the run used, as the output says it (the same line before the table as after it). */
function networkLine(networkData: boolean): string {
  return networkData
    ? `Network data: ${SCENARIO_NETWORK_SOURCE}`
    : 'Network data: none (--no-network-data): no address has an owner';
}

/** Run one scenario in a child process (dynalite and the replay are single-threaded; two children use two cores). */
function runChild(
  seed: number,
  shape: ScenarioShape,
  format: string,
  days: string | undefined,
  networkData: boolean,
): Promise<EvaluateResult> {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--child',
    '--seeds',
    String(seed),
    '--shapes',
    shape,
    '--format',
    format,
    ...(days ? ['--days', days] : []),
    ...(networkData ? [] : ['--no-network-data']),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`eval of ${shape} #${seed} exited with ${code}`));
      try {
        resolve(JSON.parse(out) as EvaluateResult);
      } catch (e) {
        reject(new Error(`eval of ${shape} #${seed} printed no result: ${(e as Error).message}`));
      }
    });
  });
}

async function main(): Promise<void> {
  // Each scenario runs in a child process that inherits this environment.
  quietSdkNodeVersionWarning();
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '1,2,3' },
      shapes: { type: 'string', default: SCENARIO_SHAPES.join(',') },
      format: { type: 'string', default: 'ecs' },
      days: { type: 'string' },
      jobs: { type: 'string', default: String(Math.min(2, availableParallelism())) },
      child: { type: 'boolean', default: false },
      'no-network-data': { type: 'boolean', default: false },
      json: { type: 'string' },
    },
  });
  const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
  const shapes = values.shapes.split(',').map((s) => s.trim()) as ScenarioShape[];
  const format = values.format;
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds: expected integers, got "${values.seeds}"`);
  if (shapes.some((s) => !SCENARIO_SHAPES.includes(s)))
    throw new Error(`--shapes: one of ${SCENARIO_SHAPES.join(', ')}`);
  if (format !== 'ecs' && format !== 'sshd') throw new Error('--format: ecs or sshd');
  const networkData = !values['no-network-data'];
  if (values.child) {
    const r = await evaluateScenario({
      seed: seeds[0]!,
      shape: shapes[0]!,
      format,
      ...(values.days ? { days: Number(values.days) } : {}),
      networkData,
    });
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const jobs = shapes.flatMap((shape) => seeds.map((seed) => ({ seed, shape })));
  jobs.sort((a, b) => SHAPE_SIZE[b.shape] - SHAPE_SIZE[a.shape] || a.seed - b.seed);
  const results: EvaluateResult[] = [];
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const r = await runChild(j.seed, j.shape, format, values.days, networkData);
      const owners = r.network ? `, owners for ${r.network.known} of ${r.network.addresses} addresses` : '';
      process.stderr.write(
        `  ${j.shape} #${j.seed}: ${r.events} logons${owners}, ${r.windows} windows, replayed in ${(r.replayMs / 1000).toFixed(1)} s\n`,
      );
      results.push(r);
    }
  };
  process.stderr.write(
    `authwatch eval: ${jobs.length} scenarios (${shapes.join(', ')} × seeds ${seeds.join(', ')}), ${format} format, default settings (and the organisation's time zones where its scenario has them)\n${networkLine(networkData)}\n`,
  );
  await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
  results.sort((a, b) => (a.shape === b.shape ? a.seed - b.seed : a.shape < b.shape ? 1 : -1));
  const agg = aggregate(results);
  process.stderr.write(
    `\n${networkLine(networkData)}\n` + table(results, agg) + `\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`,
  );
  const compact = results.map((r) => ({
    seed: r.seed,
    shape: r.shape,
    users: r.users,
    events: r.events,
    windows: r.windows,
    cutByCap: r.cutByCap,
    timeZone: r.timeZone,
    ...(r.network ? { network: { addresses: r.network.addresses, known: r.network.known } } : {}),
    authwatch: {
      recall: r.authwatch.overall,
      recallByKind: r.authwatch.recall,
      alerts: r.authwatch.alerts,
      falseAlerts: r.authwatch.falseAlerts,
      falsePer1000UserDays: r.authwatch.falsePer1000UserDays,
      byDetector: r.authwatch.byDetector,
      missed: r.authwatch.incidents.filter((i) => !i.detected),
    },
    naive: {
      recall: r.naive.overall,
      alerts: r.naive.alerts,
      falseAlerts: r.naive.falseAlerts.total,
      falsePer1000UserDays: r.naive.falsePer1000UserDays,
    },
    naiveFailures: Object.fromEntries(
      r.naiveFailures.map((f) => [
        f.id,
        {
          threshold: f.threshold,
          windowMinutes: f.windowMinutes,
          recall: f.report.overall,
          recallByKind: f.report.recall,
          alerts: f.report.alerts,
          falseAlerts: f.report.falseAlerts.total,
          noiseByCause: f.report.falseAlerts.noiseByCause,
          falsePer1000UserDays: f.report.falsePer1000UserDays,
        },
      ]),
    ),
    ...(r.folded.read + r.folded.missing > 0 ? { folded: r.folded } : {}),
  }));
  const networkDataSource = networkData ? SCENARIO_NETWORK_SOURCE : null;
  const json =
    JSON.stringify({ format, seeds, shapes, networkData: networkDataSource, ...agg, scenarios: compact }, null, 2) +
    '\n';
  process.stdout.write(json);
  if (values.json) {
    writeFileSync(values.json, json);
    process.stderr.write(`JSON written to ${values.json} (authwatch report --eval ${values.json} draws it)\n`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`eval: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
