/**
 * The fan-out Lambda in-process: its events are validated before anything runs, each step goes to the `RunSteps`
 * method of its name with what the state machine passed, the windows are the single Lambda's, and the composition
 * binds the detector's adapters, the staging bucket and the fan-out's sizes. The steps here are an in-process
 * `RunSteps` over `InMemoryStaging` that hands its data from step to step through staging, as the real ones must
 * across invocations, so a window driven through `dispatch` in the state machine's order ends with nothing staged.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryBaselineStore } from '../../../shared/adapters/in-memory-baseline-store';
import { InMemoryStaging } from '../../../shared/adapters/in-memory-staging';
import { LogsInsightsLogSource } from '../../../shared/adapters/logs-insights-log-source';
import { S3Staging } from '../../../shared/adapters/s3-staging';
import { ENV } from '../../../shared/config';
import { BUCKET_MS, DAY_MS } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { ConfigError, InvalidEventError } from '../../../shared/errors';
import type { Staging } from '../../../shared/ports/staging';
import type { DetectionDeps } from '../../../shared/run-detection';
import type { RunPlan, RunRef, RunSteps } from '../../../shared/steps/contract';
import { FANOUT_ENV, parseFanoutConfig } from '../../../lambdas/fanout/config';
import { FAILURE_TEXT_MAX, parseStepEvent } from '../../../lambdas/fanout/event';
import {
  bind,
  compose,
  dispatch,
  handler,
  sourceGroups,
  type Composed,
  type RunStepsFactory,
} from '../../../lambdas/fanout/handler';
import { skippedMinutesOf } from '../../../lambdas/fanout/metrics';

const T = Date.UTC(2026, 2, 20, 10, 0);
const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
const dec = <V>(b: Uint8Array | undefined): V => JSON.parse(new TextDecoder().decode(b)) as V;

/**
 * An in-process `RunSteps`: each step reads what the earlier ones staged under the run's prefix and stages its own
 * output, so the order and the hand-over through staging are what is tested, not a recording of calls alone.
 */
function inProcessSteps(deps: DetectionDeps, staging: Staging, options: { userShards: number }): RunSteps {
  const key = (run: RunRef, ...parts: (string | number)[]) => `${run.stagingPrefix}${parts.join('/')}`;
  return {
    async plan(o) {
      const windowStart = o.windowStart ?? o.windowEnd - 2 * BUCKET_MS;
      const runId = o.runId ?? `run-${o.windowEnd}`;
      return {
        runId,
        attemptId: `${runId}#1`,
        stagingPrefix: `${runId}/`,
        windowStart,
        windowEnd: o.windowEnd,
        catchUp: o.windowStart !== undefined,
        alertOnly: o.alertOnly ?? false,
        shardCount: options.userShards,
        sourceGroups: deps.logSources.map((_, i) => i),
        shards: Array.from({ length: options.userShards }, (_, i) => i),
      };
    },
    async fetch(run, group) {
      // Users of the group's logons go to shard (user number mod shards).
      const users = [`u${group}`, `u${group + 10}`];
      for (const u of users)
        await staging.put(key(run, 'obs', Number(u.slice(1)) % options.userShards, group), enc([u]));
      return {
        group,
        users: users.length,
        logons: users.length,
        observations: users.length,
        rows: users.length,
        malformed: 0,
        queries: 1,
      };
    },
    async evaluate(run, shard) {
      const users = (await staging.list(key(run, 'obs', shard, ''))).length;
      await staging.put(key(run, 'eval', shard), enc({ users }));
      return { shard, users, findings: 0, detectorErrors: 0 };
    },
    async deliver(run) {
      const evals = await staging.list(key(run, 'eval', ''));
      return { alertsPublished: 0, alertsCutByCap: 0, alertsDeduplicated: 0, alertIds: [`${evals.length} shards`] };
    },
    async learn(run, shard) {
      const { users } = dec<{ users: number }>(await staging.get(key(run, 'eval', shard)));
      await staging.put(key(run, 'learned', shard), enc({ users }));
      return { shard, usersChanged: users };
    },
    async commit(run) {
      await staging.put(key(run, 'committed'), enc(true));
    },
    async write(run, shard) {
      if ((await staging.get(key(run, 'committed'))) === undefined) throw new Error('write before commit');
      const { users } = dec<{ users: number }>(await staging.get(key(run, 'learned', shard)));
      return { shard, written: users, notStored: 0 };
    },
    async finish(run) {
      const staged = (await staging.list(run.stagingPrefix)).length;
      await staging.deletePrefix(run.stagingPrefix);
      return { runId: run.runId, staged };
    },
    async abandon(run, error) {
      await staging.put(key(run, 'abandoned'), enc(error));
    },
  };
}

function composed(over: Partial<Composed> = {}): Composed {
  const store = new InMemoryBaselineStore();
  return {
    detection: {
      logSources: [0, 1, 2].map((i) => ({
        name: `src${i}`,
        fetch: async () => ({
          observations: [],
          stats: { rows: 0, malformed: 0, queries: 0, queryMs: 0, bytesScanned: 0 },
        }),
      })),
      store,
      sink: { publish: async () => undefined } as unknown as DetectionDeps['sink'],
      clock: { now: () => T },
      settings: DEFAULT_SETTINGS,
    },
    staging: new InMemoryStaging(),
    userShards: 4,
    catchUpChunksPerExecution: 3,
    ...over,
  };
}

describe('the fan-out step event', () => {
  const run: RunRef = {
    runId: 'run-1',
    attemptId: 'a-1',
    stagingPrefix: 'run-1/a-1/',
    windowStart: T - 2 * BUCKET_MS,
    windowEnd: T,
    catchUp: false,
    shardCount: 4,
    alertOnly: false,
  };

  it('accepts every step the state machine sends, and drops the plan lists riding along with the run', () => {
    const plan: RunPlan = { ...run, sourceGroups: [0, 1], shards: [0, 1, 2] };
    expect(parseStepEvent({ step: 'fetch', run: plan, group: 1 })).toEqual({ step: 'fetch', run, group: 1 });
    for (const e of [
      { step: 'windows', time: '2026-03-20T10:07:00Z' },
      { step: 'plan', window: { windowStart: T - BUCKET_MS, windowEnd: T, alertOnly: true, chunk: false, runId: 'r' } },
      { step: 'evaluate', run, shard: 0 },
      { step: 'deliver', run },
      { step: 'learn', run, shard: 999 },
      { step: 'commit', run },
      { step: 'write', run, shard: 3 },
      { step: 'finish', run },
      // As the state machine sends it: with the planned window and the execution's start (`$$.Execution.StartTime`).
      { step: 'finish', run, window: { ...windowOf(T), chunk: false }, executionStartedAt: '2026-03-20T10:07:00.123Z' },
      { step: 'abandon', run, error: { Error: 'States.TaskFailed', Cause: 'boom' } },
      { step: 'skip', run, window: { ...windowOf(T), chunk: true } },
    ])
      expect(parseStepEvent(e).step).toBe(e.step);
  });

  it('refuses a malformed event with every problem and its path, before anything runs', () => {
    const message = (e: unknown) => {
      try {
        parseStepEvent(e);
      } catch (err) {
        expect(err).toBeInstanceOf(InvalidEventError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message({ step: 'fetchh', run })).toMatch(/"step" must be one of windows, plan, fetch, .*; got "fetchh"/);
    expect(message({})).toMatch(/"step" must be one of .*; got none/);
    expect(message({ step: 'evaluate', run, shard: -1 })).toMatch(/shard: /);
    expect(message({ step: 'write', run })).toMatch(/shard: /);
    expect(message({ step: 'deliver', run: { ...run, attemptId: '' } })).toMatch(/run\.attemptId: /);
    expect(message({ step: 'finish', run: { ...run, windowEnd: run.windowStart } })).toMatch(
      /run\.windowEnd: windowEnd must be after windowStart/,
    );
    expect(message({ step: 'finish', run, executionStartedAt: 'yesterday' })).toMatch(/executionStartedAt: /);
    expect(message({ step: 'windows' })).toMatch(/time: /);
    expect(message({ step: 'plan', window: { windowStart: 0, windowEnd: T, alertOnly: false, runId: 'r' } })).toMatch(
      /window\.chunk: /,
    );
  });
});

describe('dispatch', () => {
  afterEach(() => vi.restoreAllMocks());

  it("runs one window's steps in the state machine's order, handing data over through staging only", async () => {
    const staging = new InMemoryStaging();
    const app = bind(composed({ staging }), inProcessSteps);
    const plan = (await dispatch(app, parseStepEvent({ step: 'plan', window: windowOf(T) }))) as RunPlan;
    expect(plan.sourceGroups).toEqual([0, 1, 2]);
    expect(plan.shards).toEqual([0, 1, 2, 3]);
    // Each step's event as the state machine builds it: the plan as `run`, one group or shard per Map item.
    const fetched = await Promise.all(
      plan.sourceGroups.map((group) => dispatch(app, parseStepEvent({ step: 'fetch', run: plan, group }))),
    );
    expect(fetched).toHaveLength(3);
    const evaluated = (await Promise.all(
      plan.shards.map((shard) => dispatch(app, parseStepEvent({ step: 'evaluate', run: plan, shard }))),
    )) as { users: number }[];
    expect(evaluated.reduce((n, e) => n + e.users, 0)).toBe(6);
    expect(await dispatch(app, parseStepEvent({ step: 'deliver', run: plan }))).toMatchObject({
      alertIds: ['4 shards'],
    });
    for (const shard of plan.shards) await dispatch(app, parseStepEvent({ step: 'learn', run: plan, shard }));
    expect(await dispatch(app, parseStepEvent({ step: 'commit', run: plan }))).toEqual({});
    const written = (await Promise.all(
      plan.shards.map((shard) => dispatch(app, parseStepEvent({ step: 'write', run: plan, shard }))),
    )) as { written: number }[];
    expect(written.reduce((n, w) => n + w.written, 0)).toBe(6);
    expect(await dispatch(app, parseStepEvent({ step: 'finish', run: plan }))).toEqual({
      runId: 'run-x',
      staged: 6 + 4 + 4 + 1,
    });
    expect(staging.size).toBe(0);
  });

  it('gives abandon the caught error as one line, Error then Cause, cut to a bounded length', async () => {
    const staging = new InMemoryStaging();
    const app = bind(composed({ staging }), inProcessSteps);
    const plan = (await dispatch(app, parseStepEvent({ step: 'plan', window: windowOf(T) }))) as RunPlan;
    const abandon = vi.spyOn(app.steps, 'abandon');
    await dispatch(app, parseStepEvent({ step: 'abandon', run: plan, error: { Error: 'QueryError', Cause: 'x' } }));
    await dispatch(app, parseStepEvent({ step: 'abandon', run: plan, error: { Cause: 'y'.repeat(10_000) } }));
    await dispatch(app, parseStepEvent({ step: 'abandon', run: plan, error: {} }));
    expect(abandon.mock.calls.map(([, e]) => e.slice(0, 20))).toEqual([
      'QueryError: x',
      'y'.repeat(20),
      'unknown error',
    ]);
    expect(abandon.mock.calls[1]![1]).toHaveLength(FAILURE_TEXT_MAX);
    // The run passed on is the plan's RunRef, without its lists.
    expect(abandon.mock.calls[0]![0]).not.toHaveProperty('shards');
  });

  it('passes the steps the detector adapters, the staging and the shard count it was composed with', () => {
    const c = composed({ userShards: 7 });
    const factory = vi.fn<RunStepsFactory>(inProcessSteps);
    const network = { lookup: () => undefined } as unknown as DetectionDeps['network'];
    bind(c, factory, network);
    const [deps, staging, options] = factory.mock.calls[0]!;
    expect(deps.store).toBe(c.detection.store);
    expect(deps.network).toBe(network);
    expect(staging).toBe(c.staging);
    expect(options).toEqual({ userShards: 7 });
  });
});

describe('the skip step', () => {
  const chunkEnd = T - 4 * BUCKET_MS;
  const chunk = {
    windowStart: chunkEnd - BUCKET_MS,
    windowEnd: chunkEnd,
    alertOnly: false,
    chunk: true,
    runId: 'run-x/chunk',
  };

  it('records a catch-up chunk as skipped, moves the watermark past it, then abandons the run', async () => {
    const staging = new InMemoryStaging();
    const c = composed({ staging });
    await c.detection.store.saveRunState({
      firstWindowEnd: T - 30 * DAY_MS,
      lastWindowEnd: chunk.windowStart,
      version: 0,
    });
    const app = bind(c, inProcessSteps);
    const plan = (await dispatch(app, parseStepEvent({ step: 'plan', window: chunk }))) as RunPlan;
    await dispatch(app, parseStepEvent({ step: 'fetch', run: plan, group: 0 }));
    expect(staging.size).toBeGreaterThan(0);
    const abandon = vi.spyOn(app.steps, 'abandon');
    expect(await dispatch(app, parseStepEvent({ step: 'skip', run: plan, window: chunk }))).toEqual({
      skipped: { start: chunk.windowStart, end: chunk.windowEnd },
    });
    const state = await c.detection.store.getRunState();
    expect(state?.skipped).toEqual([{ start: chunk.windowStart, end: chunk.windowEnd }]);
    expect(state?.lastWindowEnd).toBe(chunk.windowEnd);
    // The CatchUpSkipped alarm's metric counts the chunk's 15 minutes, as the single run's summary would.
    expect(skippedMinutesOf(parseStepEvent({ step: 'skip', run: plan, window: chunk }), {})).toBe(15);
    expect(skippedMinutesOf(parseStepEvent({ step: 'finish', run: plan }), {})).toBe(0);
    expect(abandon).toHaveBeenCalledWith(
      expect.objectContaining({ runId: 'run-x/chunk' }),
      expect.stringMatching(/^skipped: QueryIncompleteError/),
    );
  });

  it("refuses to skip a window that is not a catch-up chunk, or not the run's own", async () => {
    const c = composed();
    await c.detection.store.saveRunState({ firstWindowEnd: T - 30 * DAY_MS, lastWindowEnd: T - BUCKET_MS, version: 0 });
    const app = bind(c, inProcessSteps);
    const newest = windowOf(T);
    const plan = (await dispatch(app, parseStepEvent({ step: 'plan', window: newest }))) as RunPlan;
    await expect(dispatch(app, parseStepEvent({ step: 'skip', run: plan, window: newest }))).rejects.toThrow(
      InvalidEventError,
    );
    await expect(dispatch(app, parseStepEvent({ step: 'skip', run: plan, window: chunk }))).rejects.toThrow(
      /only the run's own catch-up chunk/,
    );
    expect((await c.detection.store.getRunState())?.lastWindowEnd).toBe(T - BUCKET_MS);
  });
});

/** A plan event's window: the schedule's 30 minutes ending at `end`. */
function windowOf(end: number) {
  return { windowStart: end - 2 * BUCKET_MS, windowEnd: end, alertOnly: false, chunk: false, runId: 'run-x' };
}

describe('the windows step', () => {
  const state = (lastWindowEnd: number) => ({ firstWindowEnd: T - 30 * DAY_MS, lastWindowEnd, version: 0 });

  it("caught up: the schedule's 30 minutes, ending at the schedule's time floored to the bucket", async () => {
    const c = composed();
    await c.detection.store.saveRunState(state(T - BUCKET_MS));
    const app = bind(c, inProcessSteps);
    expect(
      await dispatch(app, parseStepEvent({ step: 'windows', time: new Date(T + 7 * 60_000).toISOString() })),
    ).toEqual({
      windows: [
        {
          windowStart: T - 2 * BUCKET_MS,
          windowEnd: T,
          alertOnly: false,
          chunk: false,
          runId: `run-${new Date(T).toISOString()}`,
        },
      ],
      chunksLeft: 0,
      skippedMinutes: 0,
    });
  });

  it('behind: the newest bucket for alerts only, then backlog chunks oldest first, at most the configured number', async () => {
    const c = composed({ catchUpChunksPerExecution: 3 });
    await c.detection.store.saveRunState(state(T - 6 * BUCKET_MS));
    const r = (await dispatch(bind(c, inProcessSteps), parseStepEvent({ step: 'windows', time: T }))) as {
      windows: { windowStart: number; windowEnd: number; alertOnly: boolean }[];
      chunksLeft: number;
    };
    expect(r.windows.map((w) => [(T - w.windowStart) / BUCKET_MS, (T - w.windowEnd) / BUCKET_MS, w.alertOnly])).toEqual(
      [
        [1, 0, true],
        [7, 6, false],
        [6, 5, false],
        [5, 4, false],
      ],
    );
    expect(r.chunksLeft).toBe(3);
  });

  it('behind by less than the bound: every chunk, then the newest bucket learned last', async () => {
    const c = composed({ catchUpChunksPerExecution: 8 });
    await c.detection.store.saveRunState(state(T - 3 * BUCKET_MS));
    const r = (await dispatch(bind(c, inProcessSteps), parseStepEvent({ step: 'windows', time: T }))) as {
      windows: { windowStart: number; alertOnly: boolean; chunk: boolean; runId: string }[];
    };
    expect(r.windows.map((w) => [(T - w.windowStart) / BUCKET_MS, w.alertOnly])).toEqual([
      [1, true],
      [4, false],
      [3, false],
      [2, false],
      [1, false],
    ]);
    // Only the backlog chunks may be skipped when they cannot be fetched whole.
    expect(r.windows.map((w) => w.chunk)).toEqual([false, true, true, true, false]);
    // The single Lambda's run ids: the preview `/newest`, each chunk by its end, the newest window the run's own.
    const id = `run-${new Date(T).toISOString()}`;
    expect(r.windows[0]!.runId).toBe(`${id}/newest`);
    expect(r.windows[1]!.runId).toBe(`${id}/${new Date(T - 3 * BUCKET_MS).toISOString()}`);
    expect(r.windows[4]!.runId).toBe(id);
  });

  it('records backlog beyond maxBacklogDays as skipped before any window runs', async () => {
    const c = composed();
    await c.detection.store.saveRunState(state(T - 9 * DAY_MS));
    const r = (await dispatch(bind(c, inProcessSteps), parseStepEvent({ step: 'windows', time: T }))) as {
      skippedMinutes: number;
    };
    expect(r.skippedMinutes).toBe(2 * 24 * 60);
    expect(skippedMinutesOf(parseStepEvent({ step: 'windows', time: T }), r)).toBe(2 * 24 * 60);
    expect((await c.detection.store.getRunState())?.skipped).toEqual([{ start: T - 9 * DAY_MS, end: T - 7 * DAY_MS }]);
  });
});

describe('the composition', () => {
  const env = {
    [ENV.tableName]: 'AuthwatchTable',
    [ENV.topicArn]: 'arn:aws:sns:eu-west-1:111122223333:alerts',
    [ENV.logSources]: JSON.stringify([
      { profile: 'sshd', logGroups: Array.from({ length: 45 }, (_, i) => `/ec2/g${i}`) },
      { profile: 'cloudtrail', logGroups: ['arn:aws:logs:eu-west-1:444455556666:log-group:trail'] },
    ]),
    [FANOUT_ENV.stagingBucket]: 'authwatch-staging',
    [FANOUT_ENV.fanout]: JSON.stringify({ userShards: 32, logGroupsPerQuery: 20, catchUpChunksPerExecution: 4 }),
    AWS_REGION: 'eu-west-1',
  };

  it('splits each source into fetch groups of at most logGroupsPerQuery, each named by its configured source', () => {
    const c = compose(env, new Logger());
    expect(c.detection.logSources.map((s) => s.name)).toEqual([
      'sshd:/ec2/g0',
      'sshd:/ec2/g0',
      'sshd:/ec2/g0',
      'cloudtrail:arn:aws:logs:eu-west-1:444455556666:log-group:trail',
    ]);
    expect(c.detection.logSources.every((s) => s instanceof LogsInsightsLogSource)).toBe(true);
    expect(sourceGroups(JSON.parse(env[ENV.logSources]!), 20).map((g) => g.logGroups.length)).toEqual([20, 20, 5, 1]);
    expect(c.staging).toBeInstanceOf(S3Staging);
    expect([c.userShards, c.catchUpChunksPerExecution]).toEqual([32, 4]);
  });

  it('refuses a missing bucket or out-of-range sizes, listing each', () => {
    expect(() =>
      parseFanoutConfig({ [FANOUT_ENV.fanout]: JSON.stringify({ userShards: 0, logGroupsPerQuery: 51 }) }),
    ).toThrow(ConfigError);
    try {
      parseFanoutConfig({ [FANOUT_ENV.fanout]: JSON.stringify({ userShards: 0, logGroupsPerQuery: 51 }) });
    } catch (e) {
      expect((e as ConfigError).issues).toEqual([
        `${FANOUT_ENV.stagingBucket}: required (the S3 bucket the steps stage data in)`,
        expect.stringMatching(/^AUTHWATCH_FANOUT\.userShards: /),
        expect.stringMatching(/^AUTHWATCH_FANOUT\.logGroupsPerQuery: /),
        expect.stringMatching(/^AUTHWATCH_FANOUT\.catchUpChunksPerExecution: /),
      ]);
    }
  });

  it('the handler refuses a malformed event before composing anything', async () => {
    await expect(handler({ step: 'nope' })).rejects.toThrow(InvalidEventError);
  });
});
