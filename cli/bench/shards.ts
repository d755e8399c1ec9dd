/**
 * `npm run bench -- --only shards`: a window of the fan-out's size, 10,000,000 logons by 1,000,000 users, run as the
 * Step Functions fan-out runs it (infra/constructs/fanout.ts), its map steps one after another here: every step in a
 * process of its own, sharing only the table (dynalite, in another process) and the staged data (a directory, as S3
 * under the fan-out). Each step's CPU, peak RSS and DynamoDB requests are its own process's.
 *
 *   plan → fetch × 10 source groups of 100,000 users → evaluate × 20 shards → deliver → learn × 20 → commit
 *   → write × 20 → finish
 *
 * The shard steps run with the heap of a 512 MB function, deliver and commit (which see the whole window's
 * observations) with that of a 3,008 MB one: what the fan-out's function would be given (infra/heap.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDynamoDbClient } from '../../shared/adapters/aws-clients';
import { DirectoryStaging } from '../../shared/adapters/directory-staging';
import { createBaselinesTable, DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { BUCKET_MS, bucketOf, DAY_MS, emptyPopulation } from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import type { LogSource } from '../../shared/ports';
import type { RunRef } from '../../shared/steps/contract';
import { createRunSteps } from '../../shared/steps/run-steps';
import { heapMbFor, v8FlagsFor } from '../../infra/heap';
import { NOW, primeUsers, startDynaliteChild, windowObservations } from '../bench';

const GROUPS = 10;
const SHARDS = 20;
const BENCH = fileURLToPath(new URL('../bench.ts', import.meta.url));
const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

/** What one step process is told. */
interface StepTask {
  readonly endpoint: string;
  readonly table: string;
  readonly staging: string;
  readonly users: number;
  readonly step: 'plan' | 'fetch' | 'evaluate' | 'deliver' | 'learn' | 'commit' | 'write' | 'finish';
  readonly run?: RunRef;
  readonly index?: number;
}

/** What one step process measured. */
interface StepResult {
  readonly step: string;
  readonly index?: number;
  readonly cpuS: number;
  readonly wallS: number;
  readonly peakRssMb: number;
  readonly requests: number;
  readonly result: unknown;
}

/** One step, in this (child) process. */
export async function shardStepChild(json: string): Promise<StepResult> {
  const task = JSON.parse(json) as StepTask;
  const client = createDynamoDbClient({
    endpoint: task.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  let requests = 0;
  client.middlewareStack.add(
    (next) => async (args) => {
      requests++;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  const perGroup = task.users / GROUPS;
  // The 10 source groups: each the aggregated result of one Logs Insights query over its share of the log groups.
  const sources: LogSource[] = Array.from({ length: GROUPS }, (_, g) => ({
    name: `group-${g}`,
    fetch: async () => {
      const observations = windowObservations(perGroup, perGroup * 10, NOW, g * perGroup);
      return {
        observations,
        stats: { rows: observations.length, malformed: 0, queries: 1, queryMs: 0, bytesScanned: 0 },
      };
    },
  }));
  const deps = {
    logSources: sources,
    store: new DynamoDbBaselineStore({ client, tableName: task.table }),
    sink: new InMemoryAlertSink(),
    clock: { now: () => Date.now() },
    settings: DEFAULT_SETTINGS,
  };
  const steps = createRunSteps(deps, new DirectoryStaging(task.staging), { shardCount: SHARDS });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = task.run!;
  const i = task.index ?? 0;
  const result =
    task.step === 'plan'
      ? await steps.plan({ windowEnd: NOW })
      : task.step === 'fetch'
        ? await steps.fetch(run, i)
        : task.step === 'evaluate'
          ? await steps.evaluate(run, i)
          : task.step === 'deliver'
            ? await steps.deliver(run)
            : task.step === 'learn'
              ? await steps.learn(run, i)
              : task.step === 'commit'
                ? await steps.commit(run)
                : task.step === 'write'
                  ? await steps.write(run, i)
                  : await steps.finish(run);
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  return {
    step: task.step,
    ...(task.index !== undefined ? { index: task.index } : {}),
    cpuS: round((cpu.user + cpu.system) / 1e6, 2),
    wallS: round((performance.now() - t0) / 1000, 2),
    peakRssMb: round(process.resourceUsage().maxRSS / 1024),
    requests,
    result,
  };
}

function runStep(task: StepTask, memoryMb: number): Promise<StepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...process.execArgv, ...v8FlagsFor(memoryMb), BENCH, '--child-step', JSON.stringify(task)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench step ${task.step} ${task.index ?? ''} exited with ${code}`));
      resolve(JSON.parse(out) as StepResult);
    });
  });
}

/** The whole simulated window: every step in its own process, map steps one after another. */
export async function benchShards(users = 1_000_000) {
  const db = await startDynaliteChild();
  const staging = mkdtempSync(join(tmpdir(), 'authwatch-bench-shards-'));
  try {
    const table = `bench-shards-${users}`;
    await createBaselinesTable(db.client, table);
    const primeStart = performance.now();
    await primeUsers(db.client, table, users);
    const store = new DynamoDbBaselineStore({ client: db.client, tableName: table });
    await store.savePopulation({
      ...emptyPopulation(),
      userBuckets: users * 40,
      newUsers: 20,
      knownUsers: users,
      lastBucket: bucketOf(NOW - DAY_MS),
    });
    await store.saveRunState({ firstWindowEnd: NOW - 30 * DAY_MS, lastWindowEnd: NOW - BUCKET_MS, version: 0 });
    const primeS = round((performance.now() - primeStart) / 1000, 1);
    process.stderr.write(`shards     primed ${users} users in ${primeS} s\n`);

    const base = { endpoint: db.endpoint, table, staging, users };
    const small = 512;
    const large = 3008;
    const steps: StepResult[] = [];
    const step = async (task: Omit<StepTask, keyof typeof base>, memoryMb: number) => {
      const r = await runStep({ ...base, ...task }, memoryMb);
      steps.push(r);
      process.stderr.write(
        `shards     ${r.step.padEnd(8)} ${String(r.index ?? '').padStart(2)}: CPU ${r.cpuS} s, wall ${r.wallS} s, peak RSS ${r.peakRssMb} MB, ${r.requests} requests\n`,
      );
      return r;
    };
    const run = (await step({ step: 'plan' }, small)).result as RunRef;
    for (let g = 0; g < GROUPS; g++) await step({ step: 'fetch', run, index: g }, small);
    for (let s = 0; s < SHARDS; s++) await step({ step: 'evaluate', run, index: s }, small);
    await step({ step: 'deliver', run }, large);
    for (let s = 0; s < SHARDS; s++) await step({ step: 'learn', run, index: s }, small);
    await step({ step: 'commit', run }, large);
    for (let s = 0; s < SHARDS; s++) await step({ step: 'write', run, index: s }, small);
    const finish = await step({ step: 'finish', run }, small);

    const of = (name: string) => steps.filter((r) => r.step === name);
    const summarise = (name: string) => {
      const rs = of(name);
      return {
        steps: rs.length,
        cpuS: {
          max: Math.max(...rs.map((r) => r.cpuS)),
          total: round(
            rs.reduce((n, r) => n + r.cpuS, 0),
            1,
          ),
        },
        wallS: {
          max: Math.max(...rs.map((r) => r.wallS)),
          total: round(
            rs.reduce((n, r) => n + r.wallS, 0),
            1,
          ),
        },
        peakRssMb: Math.max(...rs.map((r) => r.peakRssMb)),
        requests: rs.reduce((n, r) => n + r.requests, 0),
      };
    };
    const summary = finish.result as { logonsScanned: number; usersSeen: number; baselinesWritten: number };
    return {
      users,
      logons: summary.logonsScanned,
      usersSeen: summary.usersSeen,
      baselinesWritten: summary.baselinesWritten,
      groups: GROUPS,
      shards: SHARDS,
      heapMb: { shardSteps: heapMbFor(small), deliverAndCommit: heapMbFor(large) },
      v8Flags: { shardSteps: v8FlagsFor(small), deliverAndCommit: v8FlagsFor(large) },
      primeS,
      perKind: Object.fromEntries(
        ['plan', 'fetch', 'evaluate', 'deliver', 'learn', 'commit', 'write', 'finish'].map((k) => [k, summarise(k)]),
      ),
      totals: {
        cpuS: round(
          steps.reduce((n, r) => n + r.cpuS, 0),
          1,
        ),
        requests: steps.reduce((n, r) => n + r.requests, 0),
        invocations: steps.length,
      },
      steps: steps.map(({ result: _r, ...r }) => r),
    };
  } finally {
    db.stop();
    rmSync(staging, { recursive: true, force: true });
  }
}
