/**
 * The fan-out's state machine, as synthesized, executed by an implementation of the Amazon States Language
 * (aws-local-stepfunctions): its Choices, Maps, Retry and Catch, ResultSelectors and ResultPaths, intrinsic functions
 * and context object. Each Task runs the fan-out Lambda's own validation and dispatch (`parseStepEvent`, `bind`,
 * `dispatch`) over fresh steps, sharing only the table and the staged data with the others, as separate invocations
 * do. What the executions leave (alerts, baselines, watermark, lease, staging) is compared with the single Lambda's
 * scheduled runs over the same logons.
 *
 * Not covered by the interpreter: Distributed mode itself (its Maps run as inline Maps here, items side by side up to
 * MaxConcurrency), the Lambda service's own errors, and the execution's timeout.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { InMemoryStaging } from '../../shared/adapters/in-memory-staging';
import { BUCKET_MS, DAY_MS, type UserBaseline } from '../../shared/core/model';
import { runScheduled } from '../../shared/run-scheduled';
import type { RunPlan } from '../../shared/steps/contract';
import type { DetectionDeps } from '../../shared/run-detection';
import { parseStepEvent } from '../../lambdas/fanout/event';
import { bind, createSteps, dispatch, type Composed } from '../../lambdas/fanout/handler';
import { stateMachineDefinition, synth, TEST_CONFIG } from '../infra/synth';
import { HOUR, T0 } from '../support/history';
import { attackDays as events, deps } from '../support/pipeline';

// aws-local-stepfunctions uses Promise.withResolvers (Node 22) for its task timeouts, and nothing else beyond Node 20.
if (typeof (Promise as { withResolvers?: unknown }).withResolvers !== 'function')
  Object.assign(Promise, {
    withResolvers<T>() {
      let resolve!: (v: T) => void;
      let reject!: (e: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });

const SHARDS = 3;
const CHUNKS = 4;
/** Every Task state of the definition: all run the one fan-out function. */
const TASKS = [
  'Windows',
  'Plan',
  'FetchOne',
  'SkipChunk',
  'EvaluateOne',
  'Deliver',
  'LearnOne',
  'Commit',
  'WriteOne',
  'Finish',
  'Abandon',
];

let definition: Record<string, unknown>;
beforeAll(() => {
  const s = synth({
    config: { ...TEST_CONFIG, fanout: { enabled: true, userShards: SHARDS, catchUpChunksPerExecution: CHUNKS } },
  });
  definition = stateMachineDefinition(s, 'FanoutStateMachine');
});

interface Execution {
  /** The steps invoked, in order (a Map's items in the order they ran). */
  readonly steps: string[];
  /** Each Plan: the window it was given (as JSON) and the run it planned. */
  readonly plans: { window: string; run: RunPlan }[];
  readonly failed?: Error;
}

/** One execution, as EventBridge Scheduler starts it at `time`, every Task a separate invocation of the function. */
async function execute(d: DetectionDeps, staging: InMemoryStaging, time: number): Promise<Execution> {
  const composed: Composed = { detection: d, staging, userShards: SHARDS, catchUpChunksPerExecution: CHUNKS };
  const steps: string[] = [];
  const plans: Execution['plans'] = [];
  // biome-ignore lint/suspicious/noExplicitAny: the interpreter's JSONValue, both ways
  const invoke = async (input: any): Promise<any> => {
    // What Step Functions hands the function, and back: JSON.
    const event = parseStepEvent(JSON.parse(JSON.stringify(input.Payload)));
    steps.push(event.step);
    const result = await dispatch(bind(composed, createSteps), event);
    if (event.step === 'plan') plans.push({ window: JSON.stringify(event.window), run: result as RunPlan });
    return { StatusCode: 200, Payload: JSON.parse(JSON.stringify(result ?? null)) };
  };
  const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
  const run = machine.run(
    { time: new Date(time).toISOString() },
    {
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(TASKS.map((t) => [t, invoke])),
        // The retriers' waits (2 s and up, with backoff) are the service's business, not what is tested here.
        retryIntervalOverrides: Object.fromEntries(TASKS.map((t) => [t, 0])),
      },
      context: {
        Execution: { Id: `exec-${time}`, Name: `exec-${time}`, StartTime: new Date(time + 5_000).toISOString() },
      },
    },
  );
  try {
    await run.result;
    return { steps, plans };
  } catch (e) {
    return { steps, plans, failed: e as Error };
  }
}

const alertIds = (s: ReturnType<typeof deps>['sink']) =>
  s.delivered.map((a) => `${a.rule.id} ${a.user.name} ${a.source.ip}`).sort();
const USERS = [...Array.from({ length: 30 }, (_, u) => `user${u}`), 'backdoor'];
const baselines = async (store: ReturnType<typeof deps>['store']) =>
  [...(await store.getUsers(USERS)).values()]
    .map(({ version: _v, ...b }: UserBaseline) => b)
    .sort((a, b) => a.user.localeCompare(b.user));

/** `store`, whose bulk baseline writes fail (every attempt) while `failing.on` is set: a save cut after the population. */
function failingWrites(store: InMemoryBaselineStore) {
  const failing = { on: false };
  const wrapped = new Proxy(store, {
    get(target, prop) {
      if (prop === 'writeUsersLeased' && failing.on)
        return async () => {
          throw new Error('injected: the table refused the batch');
        };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store: wrapped, failing };
}

describe('the fan-out state machine, executed', () => {
  it("runs each scheduled window through the contract's steps and ends where the single Lambda's runs end", async () => {
    const all = events(17);
    const single = deps(all);
    const fanned = deps(all);
    const staging = new InMemoryStaging();
    const end = T0 + 17 * DAY_MS;
    const from = end - 14 * HOUR;
    let traced: string[] = [];
    for (let t = T0 + BUCKET_MS; t <= end; t += BUCKET_MS) {
      await runScheduled(single.d, { windowEnd: t });
      if (t < from) await runScheduled(fanned.d, { windowEnd: t });
      else {
        const x = await execute(fanned.d, staging, t + 7 * 60_000);
        expect(x.failed, `execution at ${new Date(t).toISOString()}`).toBeUndefined();
        traced = x.steps;
      }
    }
    // A caught-up execution: one window, every step once per group or shard, in the contract's order.
    const at = (step: string) => traced.indexOf(step);
    expect(traced.filter((s) => s === 'evaluate')).toHaveLength(SHARDS);
    expect(traced.filter((s) => s === 'write')).toHaveLength(SHARDS);
    expect([at('windows'), at('plan'), at('fetch'), at('evaluate'), at('deliver')]).toEqual(
      [...[at('windows'), at('plan'), at('fetch'), at('evaluate'), at('deliver')]].sort((a, b) => a - b),
    );
    expect(at('learn')).toBeGreaterThan(at('deliver'));
    expect(at('commit')).toBeGreaterThan(traced.lastIndexOf('learn'));
    expect(at('write')).toBeGreaterThan(at('commit'));
    expect(traced.at(-1)).toBe('finish');
    expect(traced).not.toContain('abandon');

    expect(alertIds(fanned.sink)).toEqual(alertIds(single.sink));
    expect(alertIds(single.sink)).toEqual(
      expect.arrayContaining([
        'Auth.UnusualSourceIp user7 203.0.113.9',
        expect.stringMatching(/^Auth\.RareUser backdoor /),
      ]),
    );
    expect(await baselines(fanned.store)).toEqual(await baselines(single.store));
    expect((await fanned.store.getRunState())!.lastWindowEnd).toBe(end);
    expect(staging.size).toBe(0);
    expect((await fanned.store.acquireLease({ owner: 'next', expiresAtMs: end + 1 }, end)).acquired).toBe(true);
  }, 120_000);

  it('a window whose save was cut: the execution fails; the next finishes that save, then its own window, alerting nothing twice', async () => {
    const all = events(17);
    const { InMemoryBaselineStore } = await import('../../shared/adapters/in-memory-baseline-store');
    const a = failingWrites(new InMemoryBaselineStore());
    const b = failingWrites(new InMemoryBaselineStore());
    const single = deps(all, { store: a.store });
    const fanned = deps(all, { store: b.store });
    const staging = new InMemoryStaging();
    const end = T0 + 17 * DAY_MS;
    const from = end - 14 * HOUR;
    // The window with the attacks (11:00–11:02 on the last day): its alerts go out, then its baselines cannot be saved.
    const cut = T0 + 16 * DAY_MS + 11 * HOUR + BUCKET_MS;
    const traces = new Map<number, Execution>();
    for (let t = T0 + BUCKET_MS; t <= end; t += BUCKET_MS) {
      a.failing.on = b.failing.on = t === cut;
      await runScheduled(single.d, { windowEnd: t }).catch((e: unknown) => {
        if (t !== cut) throw e;
      });
      if (t < from) await runScheduled(fanned.d, { windowEnd: t });
      else traces.set(t, await execute(fanned.d, staging, t + 7 * 60_000));
    }
    const failed = traces.get(cut)!;
    expect(failed.failed?.message).toMatch(/WindowFailed|injected/);
    expect(failed.steps).toContain('abandon');
    expect(failed.steps).not.toContain('finish');
    // The next execution (behind by the failed window: the newest for alerts, then the backlog). The first window
    // whose plan is learned finishes the cut save instead (it delivers nothing), then that window is planned again.
    const next = traces.get(cut + BUCKET_MS)!;
    expect(next.failed).toBeUndefined();
    const finishing = next.plans.findIndex((p) => p.run.finishesCutWindow === true);
    expect(finishing, 'one plan finishes the cut save').toBeGreaterThan(0);
    expect(next.plans.filter((p) => p.run.finishesCutWindow)).toHaveLength(1);
    expect(next.plans[finishing]!.run.windowEnd).toBe(cut);
    expect(next.plans[finishing + 1]?.window, 'the window is planned again').toBe(next.plans[finishing]!.window);
    expect(next.plans[finishing + 1]!.run.finishesCutWindow).toBeUndefined();
    // Every plan carried through to its Finish: one Finish per plan.
    expect(next.steps.filter((s) => s === 'finish')).toHaveLength(next.plans.length);
    for (const [t, x] of traces) if (t !== cut) expect(x.failed, new Date(t).toISOString()).toBeUndefined();

    expect(alertIds(fanned.sink)).toEqual(alertIds(single.sink));
    const stolen = alertIds(fanned.sink).filter((id) => id === 'Auth.UnusualSourceIp user7 203.0.113.9');
    expect(stolen, 'the stolen password alerted once, not again when the cut window was finished').toHaveLength(1);
    expect(await baselines(fanned.store as InMemoryBaselineStore)).toEqual(
      await baselines(single.store as InMemoryBaselineStore),
    );
    expect((await fanned.store.getRunState())!.lastWindowEnd).toBe(end);
    expect(staging.size).toBe(0);
  }, 120_000);
});
