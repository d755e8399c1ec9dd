/**
 * `npm run eval`: how well authwatch detects, against the naive "every new (user, IP) pair" rule.
 *
 * Replays several seeds of two population shapes through the real pipeline (see scenario/evaluate.ts),
 * one child process per scenario, two at a time. Prints a readable table on stderr and one JSON object
 * on stdout. Options: --seeds 1,2,3  --shapes small-office,large-mobile  --format ecs|sshd  --days N
 * --jobs N.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quietSdkNodeVersionWarning } from './sdk-warning';
import { INCIDENT_KINDS, SCENARIO_SHAPES, type IncidentKind, type ScenarioShape } from './scenario/generate';
import { evaluateScenario, type EvaluateResult } from './scenario/evaluate';
import type { EvalReport } from './scenario/score';

/** The issue's targets for the default settings. */
export const TARGETS = { recall: 0.9, naiveFalseRatio: 30, noisePer1000UserDays: 5 } as const;

interface Totals {
  incidents: number;
  detected: number;
  byKind: Record<IncidentKind, { total: number; detected: number }>;
  alerts: number;
  falseAlerts: number;
  expectedNovelty: number;
  noise: number;
  detectionUserDays: number;
  detectionDays: number;
}

function totalsOf(reports: readonly EvalReport[]): Totals {
  const byKind = Object.fromEntries(INCIDENT_KINDS.map((k) => [k, { total: 0, detected: 0 }])) as Totals['byKind'];
  const t: Totals = {
    incidents: 0,
    detected: 0,
    byKind,
    alerts: 0,
    falseAlerts: 0,
    expectedNovelty: 0,
    noise: 0,
    detectionUserDays: 0,
    detectionDays: 0,
  };
  for (const r of reports) {
    t.incidents += r.overall.total;
    t.detected += r.overall.detected;
    for (const k of INCIDENT_KINDS) {
      byKind[k].total += r.recall[k].total;
      byKind[k].detected += r.recall[k].detected;
    }
    t.alerts += r.alerts;
    t.falseAlerts += r.falseAlerts.total;
    t.expectedNovelty += r.falseAlerts.expectedNovelty;
    t.noise += r.falseAlerts.noise;
    t.detectionUserDays += r.detectionUserDays;
    t.detectionDays += r.detectionDays;
  }
  return t;
}

function summary(t: Totals) {
  const per1000 = (n: number) => round((n * 1000) / Math.max(1, t.detectionUserDays), 2);
  return {
    recall: t.incidents > 0 ? round(t.detected / t.incidents, 3) : null,
    incidents: t.incidents,
    detected: t.detected,
    recallByKind: Object.fromEntries(
      INCIDENT_KINDS.map((k) => [
        k,
        { ...t.byKind[k], recall: t.byKind[k].total > 0 ? round(t.byKind[k].detected / t.byKind[k].total, 3) : null },
      ]),
    ),
    alerts: t.alerts,
    alertsPerDay: round(t.alerts / Math.max(1, t.detectionDays), 2),
    falseAlerts: t.falseAlerts,
    expectedNovelty: t.expectedNovelty,
    noise: t.noise,
    falsePer1000UserDays: per1000(t.falseAlerts),
    noisePer1000UserDays: per1000(t.noise),
    detectionUserDays: t.detectionUserDays,
  };
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function aggregate(results: readonly EvaluateResult[]) {
  const ours = summary(totalsOf(results.map((r) => r.authwatch)));
  const naive = summary(totalsOf(results.map((r) => r.naive)));
  const ratio =
    ours.falseAlerts > 0 ? round(naive.falseAlerts / ours.falseAlerts, 1) : naive.falseAlerts > 0 ? Infinity : null;
  return {
    authwatch: ours,
    naive,
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
  lines.push('', 'Recall by attack kind (authwatch / naive):');
  for (const k of INCIDENT_KINDS) {
    const a = o.recallByKind[k]!;
    const b = n.recallByKind[k]!;
    lines.push(
      `  ${k.padEnd(20)} ${a.detected}/${a.total} ${pct(a.recall)}   /   ${b.detected}/${b.total} ${pct(b.recall)}`,
    );
  }
  lines.push(
    '',
    `False alerts: authwatch ${o.falseAlerts} (${o.falsePer1000UserDays} per 1,000 user-days; ${o.noisePer1000UserDays} excluding expected novelty), naive ${n.falseAlerts} (${n.falsePer1000UserDays} per 1,000 user-days): ${agg.naiveFalseAlertsPerOurs}× fewer.`,
    'Targets:',
    ...Object.entries(agg.targets).map(
      ([k, t]) => `  ${t.met ? 'met    ' : 'NOT MET'} ${k}: ${t.value} (target ${t.target})`,
    ),
  );
  return lines.join('\n') + '\n';
}

/** Run one scenario in a child process (dynalite and the replay are single-threaded; two children use two cores). */
function runChild(
  seed: number,
  shape: ScenarioShape,
  format: string,
  days: string | undefined,
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
    },
  });
  const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
  const shapes = values.shapes.split(',').map((s) => s.trim()) as ScenarioShape[];
  const format = values.format;
  if (seeds.some((s) => !Number.isInteger(s))) throw new Error(`--seeds: expected integers, got "${values.seeds}"`);
  if (shapes.some((s) => !SCENARIO_SHAPES.includes(s)))
    throw new Error(`--shapes: one of ${SCENARIO_SHAPES.join(', ')}`);
  if (format !== 'ecs' && format !== 'sshd') throw new Error('--format: ecs or sshd');
  if (values.child) {
    const r = await evaluateScenario({
      seed: seeds[0]!,
      shape: shapes[0]!,
      format,
      ...(values.days ? { days: Number(values.days) } : {}),
    });
    process.stdout.write(JSON.stringify(r));
    return;
  }
  const jobs = shapes.flatMap((shape) => seeds.map((seed) => ({ seed, shape })));
  // Largest first, so the two workers finish together.
  jobs.sort((a, b) => (a.shape === b.shape ? a.seed - b.seed : a.shape === 'large-mobile' ? -1 : 1));
  const results: EvaluateResult[] = [];
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const j = jobs[next++]!;
      const r = await runChild(j.seed, j.shape, format, values.days);
      process.stderr.write(
        `  ${j.shape} #${j.seed}: ${r.events} logons, ${r.windows} windows, replayed in ${(r.replayMs / 1000).toFixed(1)} s\n`,
      );
      results.push(r);
    }
  };
  process.stderr.write(
    `authwatch eval: ${jobs.length} scenarios (${shapes.join(', ')} × seeds ${seeds.join(', ')}), ${format} format, default settings\n`,
  );
  await Promise.all(Array.from({ length: Math.max(1, Number(values.jobs)) }, worker));
  results.sort((a, b) => (a.shape === b.shape ? a.seed - b.seed : a.shape < b.shape ? 1 : -1));
  const agg = aggregate(results);
  process.stderr.write('\n' + table(results, agg) + `\n(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  const compact = results.map((r) => ({
    seed: r.seed,
    shape: r.shape,
    users: r.users,
    events: r.events,
    windows: r.windows,
    cutByCap: r.cutByCap,
    authwatch: {
      recall: r.authwatch.overall,
      alerts: r.authwatch.alerts,
      falseAlerts: r.authwatch.falseAlerts,
      falsePer1000UserDays: r.authwatch.falsePer1000UserDays,
      missed: r.authwatch.incidents.filter((i) => !i.detected),
    },
    naive: {
      recall: r.naive.overall,
      alerts: r.naive.alerts,
      falseAlerts: r.naive.falseAlerts.total,
      falsePer1000UserDays: r.naive.falsePer1000UserDays,
    },
  }));
  process.stdout.write(JSON.stringify({ format, seeds, shapes, ...agg, scenarios: compact }, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`eval: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  });
}
