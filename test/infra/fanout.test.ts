/**
 * The Step Functions fan-out as synthesized (infra/constructs/fanout.ts): the states and their order, the Maps'
 * concurrency, the retries, the Catch → Abandon → Fail path, logging and tracing, the schedule, the staging bucket,
 * least-privilege IAM, cdk-nag, the bundle, and synth refusing a fan-out configuration it cannot deploy.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FANOUT_DEFAULTS } from '../../infra/config';
import {
  FANOUT_EXECUTION_TIMEOUT,
  FANOUT_MAPS,
  LAMBDA_SERVICE_ERRORS,
  STAGING_EXPIRY,
} from '../../infra/constructs/fanout';
import { ESM_REQUIRE_BANNER } from '../../lambdas/bundle';
import { FANOUT_ENV, STAGING_ROOT } from '../../lambdas/fanout/config';
import { ConfigError } from '../../shared/errors';
import { render, synth, TEST_CONFIG, type Synthesized } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
interface Retrier {
  ErrorEquals: string[];
  MaxAttempts?: number;
  IntervalSeconds?: number;
  BackoffRate?: number;
  JitterStrategy?: string;
}
interface State {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: Record<string, unknown>[];
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[]; ResultPath: string; Next: string }[];
  Parameters?: { Payload?: Record<string, unknown>; 'Payload.$'?: string };
  ItemsPath?: string;
  ItemSelector?: Record<string, string>;
  MaxConcurrency?: number;
  ItemProcessor?: { ProcessorConfig: { Mode: string }; StartAt: string; States: Record<string, State> };
  Result?: unknown;
  ResultPath?: string;
  Error?: string;
  CausePath?: string;
}
interface Definition {
  StartAt: string;
  TimeoutSeconds: number;
  States: Record<string, State>;
}

const REMOTE = 'arn:aws:logs:eu-west-1:444455556666:log-group:/org/member/secure';
const FANOUT_CONFIG = {
  ...TEST_CONFIG,
  logSources: [...TEST_CONFIG.logSources, { profile: 'sshd', logGroups: [REMOTE] }],
  fanout: { enabled: true, userShards: 64, queryConcurrency: 6, maxConcurrency: 25 },
};

const resourcesOf = (s: Synthesized) => s.template.toJSON().Resources as Record<string, Resource>;
const ofType = (s: Synthesized, type: string) => Object.entries(resourcesOf(s)).filter(([, r]) => r.Type === type);
const named = (s: Synthesized, type: string, prefix: string): Resource => {
  const all = ofType(s, type).filter(([id]) => id.startsWith(prefix));
  expect(all, `${type} ${prefix}*`).toHaveLength(1);
  return all[0]![1];
};
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
const resources = (st: Statement) => (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map(render);
function statementsOf(s: Synthesized, rolePrefix: string): Statement[] {
  return ofType(s, 'AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref.startsWith(rolePrefix)))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The states from `from` following `Next`, until a state without one or one already seen. */
function path(states: Record<string, State>, from: string): string[] {
  const out: string[] = [];
  for (let at: string | undefined = from; at !== undefined && !out.includes(at); at = states[at]?.Next) out.push(at);
  return out;
}

describe('the Step Functions fan-out', () => {
  let s: Synthesized;
  let def: Definition;
  beforeAll(() => {
    s = synth({ config: FANOUT_CONFIG });
    const sm = named(s, 'AWS::StepFunctions::StateMachine', 'FanoutStateMachine');
    def = JSON.parse(render(sm.Properties.DefinitionString)) as Definition;
  });

  it('plans the windows, then runs each one, in order, through the steps of the contract', () => {
    const st = def.States;
    expect(def.StartAt).toBe('Windows');
    expect(path(st, 'Windows')).toEqual(['Windows', 'FirstWindow', 'MoreWindows']);
    // The loop: another window while the index is below the count, else done.
    expect(st.MoreWindows).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.next.index', NumericLessThanPath: '$.schedule.count', Next: 'Window' }],
      Default: 'Done',
    });
    expect(path(st, 'Window')).toEqual(['Window', 'Plan', 'Fetch', 'CheckFetch', 'FetchedWhole']);
    // Fetched whole: the rest of the contract's steps, then the next window.
    expect(st.FetchedWhole!.Default).toBe('Evaluate');
    expect(path(st, 'Evaluate')).toEqual([
      'Evaluate',
      'Deliver',
      'Learn',
      'Commit',
      'Write',
      'Finish',
      'CutWindowFinished',
    ]);
    // After Finish: the same window planned again if the plan was for an earlier window's cut save, else the next.
    expect(st.CutWindowFinished).toMatchObject({
      Type: 'Choice',
      Choices: [
        {
          And: [
            { Variable: '$.current.run.finishesCutWindow', IsPresent: true },
            { Variable: '$.current.run.finishesCutWindow', BooleanEquals: true },
          ],
          Next: 'Plan',
        },
      ],
      Default: 'NextWindow',
    });
    expect(path(st, 'NextWindow')).toEqual(['NextWindow', 'MoreWindows']);
    expect(st.Done!.Type).toBe('Succeed');
    // Each task names its step; the window comes from the list by index, the run from the plan.
    expect(st.Windows!.Parameters!.Payload).toEqual({ step: 'windows', 'time.$': '$.time' });
    expect(st.Window).toMatchObject({
      Type: 'Pass',
      Parameters: { 'planned.$': 'States.ArrayGetItem($.schedule.windows, $.next.index)' },
      ResultPath: '$.window',
    });
    expect(st.Plan!.Parameters!.Payload).toEqual({ step: 'plan', 'window.$': '$.window.planned' });
    for (const step of ['deliver', 'commit'])
      expect(st[step[0]!.toUpperCase() + step.slice(1)]!.Parameters!.Payload).toEqual({
        step,
        'run.$': '$.current.run',
      });
    // Finish also gets the planned window (a backlog chunk counts in CatchUpChunks) and the execution's start (the
    // run's duration on the dashboard), from the context object.
    expect(st.Finish!.Parameters!.Payload).toEqual({
      step: 'finish',
      'run.$': '$.current.run',
      'window.$': '$.window.planned',
      'executionStartedAt.$': '$$.Execution.StartTime',
    });
    expect(def.TimeoutSeconds).toBe(FANOUT_EXECUTION_TIMEOUT.toSeconds());
  });

  it('fans fetch out over source groups within the query budget, and the shard steps over user shards', () => {
    const expected: Record<string, [string, string, number]> = {
      Fetch: ['$.current.run.sourceGroups', 'group', 6],
      Evaluate: ['$.current.run.shards', 'shard', 25],
      Learn: ['$.current.run.shards', 'shard', 25],
      Write: ['$.current.run.shards', 'shard', 25],
    };
    expect(Object.keys(expected)).toEqual([...FANOUT_MAPS]);
    for (const [id, [items, key, concurrency]] of Object.entries(expected)) {
      const map = def.States[id]!;
      expect(map.Type, id).toBe('Map');
      expect(map.ItemProcessor!.ProcessorConfig.Mode, id).toBe('DISTRIBUTED');
      expect(map.ItemsPath, id).toBe(items);
      expect(map.MaxConcurrency, id).toBe(concurrency);
      expect(map.ItemSelector, id).toEqual({
        step: id.toLowerCase(),
        'run.$': '$.current.run',
        [`${key}.$`]: '$$.Map.Item.Value',
      });
      // Each item is the step's event, sent as is.
      const one = map.ItemProcessor!.States[map.ItemProcessor!.StartAt]!;
      expect(one.Parameters!['Payload.$'], id).toBe('$');
    }
  });

  it('retries every step: Lambda errors with backoff, mistakes never, anything else twice', () => {
    const tasks = Object.entries(def.States).flatMap(([id, st]) =>
      st.Type === 'Map'
        ? Object.entries(st.ItemProcessor!.States)
            .filter(([, s2]) => s2.Type === 'Task')
            .map(([inner, s2]) => [`${id}/${inner}`, s2] as const)
        : st.Type === 'Task'
          ? [[id, st] as const]
          : [],
    );
    expect(tasks.map(([id]) => id).sort()).toEqual(
      [
        'Abandon',
        'Commit',
        'Deliver',
        'Evaluate/EvaluateOne',
        'Fetch/FetchOne',
        'Finish',
        'Learn/LearnOne',
        'Plan',
        'SkipChunk',
        'Windows',
        'Write/WriteOne',
      ].sort(),
    );
    for (const [id, task] of tasks) {
      const [service, ...rest] = task.Retry!;
      expect(service, id).toEqual({
        ErrorEquals: LAMBDA_SERVICE_ERRORS,
        IntervalSeconds: 2,
        MaxAttempts: 6,
        BackoffRate: 2,
        JitterStrategy: 'FULL',
      });
      expect(service!.ErrorEquals, id).toContain('Lambda.TooManyRequestsException');
      // Abandon never throws; what could fail it is Lambda's, retried above. The steps' own errors: twice, last.
      if (id === 'Abandon') expect(rest, id).toEqual([]);
      else
        expect(rest, id).toEqual([
          { ErrorEquals: ['InvalidEventError', 'ConfigError', 'QueryIncompleteError'], MaxAttempts: 0 },
          { ErrorEquals: ['States.ALL'], IntervalSeconds: 30, MaxAttempts: 2, BackoffRate: 2 },
        ]);
    }
  });

  it('catches any failure after Plan into Abandon, which fails the execution; before Plan there is no lease to give up', () => {
    const st = def.States;
    for (const id of ['Fetch', 'SkipChunk', 'Evaluate', 'Deliver', 'Learn', 'Commit', 'Write', 'Finish'])
      expect(st[id]!.Catch, id).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Abandon' }]);
    for (const id of ['Windows', 'Plan']) expect(st[id]!.Catch, id).toBeUndefined();
    expect(st.Abandon!.Parameters!.Payload).toEqual({
      step: 'abandon',
      'run.$': '$.current.run',
      'error.$': '$.error',
    });
    expect(st.Abandon!.Next).toBe('WindowFailed');
    expect(st.WindowFailed).toEqual({ Type: 'Fail', Error: 'WindowFailed', CausePath: '$.error.Cause' });
  });

  it('skips a backlog chunk that can never be fetched whole, as the single run does; any other window fails', () => {
    const st = def.States;
    // Each fetch item answers whether its group was fetched whole; only QueryIncompleteError is caught there.
    const items = st.Fetch!.ItemProcessor!.States;
    expect(st.Fetch!.ItemProcessor!.StartAt).toBe('FetchOne');
    expect(items.FetchOne!.Next).toBe('FetchWhole');
    expect(items.FetchOne!.Catch).toEqual([{ ErrorEquals: ['QueryIncompleteError'], Next: 'FetchIncomplete' }]);
    expect(items.FetchWhole).toMatchObject({ Type: 'Pass', Result: 0, End: true });
    expect(items.FetchIncomplete).toMatchObject({ Type: 'Pass', Result: 1, End: true });
    expect(st.Fetch).toMatchObject({ ResultPath: '$.current.incomplete' });
    expect(st.CheckFetch).toMatchObject({
      Parameters: { 'any.$': 'States.ArrayContains($.current.incomplete, 1)' },
      ResultPath: '$.current.incomplete',
    });
    expect(st.FetchedWhole!.Choices).toEqual([
      {
        And: [
          { Variable: '$.current.incomplete.any', BooleanEquals: true },
          { Variable: '$.window.planned.chunk', BooleanEquals: true },
        ],
        Next: 'SkipChunk',
      },
      { Variable: '$.current.incomplete.any', BooleanEquals: true, Next: 'Incomplete' },
    ]);
    expect(st.SkipChunk!.Parameters!.Payload).toEqual({
      step: 'skip',
      'run.$': '$.current.run',
      'window.$': '$.window.planned',
    });
    expect(st.SkipChunk!.Next).toBe('NextWindow');
    expect(st.Incomplete).toMatchObject({ ResultPath: '$.error', Next: 'Abandon' });
  });

  it('logs every event and traces with X-Ray', () => {
    const sm = named(s, 'AWS::StepFunctions::StateMachine', 'FanoutStateMachine');
    expect(sm.Properties.TracingConfiguration).toEqual({ Enabled: true });
    expect(sm.Properties.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
  });

  it('is what the schedule starts, every 15 minutes with its time, instead of the detector function', () => {
    const schedules = ofType(s, 'AWS::Scheduler::Schedule').map(([, r]) => r.Properties);
    const targets = schedules.map((p) => render((p.Target as { Arn: unknown }).Arn));
    expect(targets.some((t) => t.startsWith('${FanoutStateMachine'))).toBe(true);
    expect(targets.some((t) => t.startsWith('${DetectorFunction'))).toBe(false);
    const fanout = schedules.find((p) =>
      render((p.Target as { Arn: unknown }).Arn).startsWith('${FanoutStateMachine'),
    )!;
    expect(fanout.ScheduleExpression).toBe('rate(15 minutes)');
    expect(JSON.parse((fanout.Target as { Input: string }).Input)).toEqual({ time: '<aws.scheduler.scheduled-time>' });
  });

  it('stages in an encrypted, private, SSL-only bucket that expires what a failed run left after a day', () => {
    const bucket = named(s, 'AWS::S3::Bucket', 'FanoutStaging');
    expect(bucket.Properties.BucketEncryption).toBeDefined();
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect((bucket.Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual([
      expect.objectContaining({ ExpirationInDays: STAGING_EXPIRY.toDays(), Status: 'Enabled' }),
    ]);
    const policy = named(s, 'AWS::S3::BucketPolicy', 'FanoutStaging');
    expect(JSON.stringify(policy.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it('gives the steps one function, unreserved (the Maps bound it), with the sizes and the bucket', () => {
    const fn = named(s, 'AWS::Lambda::Function', 'FanoutFunction');
    expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    // Deliver and commit hold the whole window: 3,008 MB by default, and a heap of three quarters of it.
    expect(fn.Properties.MemorySize).toBe(FANOUT_DEFAULTS.memoryMb);
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps --max-old-space-size=2256 --max-semi-space-size=32');
    expect(JSON.parse(env[FANOUT_ENV.fanout] as string)).toEqual({
      userShards: 64,
      logGroupsPerQuery: FANOUT_DEFAULTS.logGroupsPerQuery,
      catchUpChunksPerExecution: FANOUT_DEFAULTS.catchUpChunksPerExecution,
    });
    expect(render(env[FANOUT_ENV.stagingBucket])).toMatch(/^\$\{FanoutStaging/);
    // Step Functions invokes it synchronously: no async retries or on-failure queue of Lambda's own.
    const invokeConfigs = ofType(s, 'AWS::Lambda::EventInvokeConfig').map(([, r]) => render(r.Properties.FunctionName));
    expect(invokeConfigs.some((f) => f.startsWith('${FanoutFunction'))).toBe(false);
  });

  it('grants least privilege: staging under its root, queries on the configured groups (the source account by ARN), invoke on the one function', () => {
    const fnStatements = statementsOf(s, 'FanoutRole');
    // Every (action, resource) pair on S3: the staging bucket's, and the network data's (read like the detector).
    const s3 = fnStatements
      .filter((st) => actions(st).some((a) => a.startsWith('s3:')))
      .flatMap((st) => actions(st).flatMap((a) => resources(st).map((r) => `${a} ${r}`)))
      .map((p) => p.replace(/FanoutStaging[0-9A-F]{8}/, 'STAGING').replace(/NetworkDataBucket[0-9A-F]{8}/, 'NETWORK'))
      .sort();
    expect(s3).toEqual(
      [
        's3:DeleteObject ${STAGING.Arn}/runs/*',
        's3:GetObject ${STAGING.Arn}/runs/*',
        's3:PutObject ${STAGING.Arn}/runs/*',
        's3:ListBucket ${STAGING.Arn}',
        's3:GetObject ${NETWORK.Arn}/network-data/*',
        's3:ListBucket ${NETWORK.Arn}',
      ].sort(),
    );
    expect(STAGING_ROOT).toBe('runs/');
    const startQuery = fnStatements.find((st) => actions(st).includes('logs:StartQuery'))!;
    expect(resources(startQuery)).toEqual(expect.arrayContaining([REMOTE, `${REMOTE}:*`]));
    expect(resources(startQuery).every((r) => !r.includes('*') || r.endsWith(':*'))).toBe(true);
    // The detector's role gets the same StartQuery grant: both may run a window.
    const detector = statementsOf(s, 'DetectorRole').find((st) => actions(st).includes('logs:StartQuery'))!;
    expect(resources(detector).sort()).toEqual(resources(startQuery).sort());

    const smStatements = statementsOf(s, 'FanoutStateMachineRole');
    const invoke = smStatements.filter((st) => actions(st).includes('lambda:InvokeFunction'));
    expect(invoke.flatMap(resources).every((r) => r.startsWith('${FanoutFunction'))).toBe(true);
  });

  it('passes cdk-nag with every acknowledgement specific', () => {
    expect(s.violations).toEqual([]);
  });

  it('alarms the operations topic when an execution fails, times out or is stopped', () => {
    const alarm = named(s, 'AWS::CloudWatch::Alarm', 'FanoutExecutionsFailed');
    expect(render((alarm.Properties.AlarmActions as unknown[])[0])).toMatch(/^\$\{AlertingOps/);
    expect(JSON.stringify(alarm.Properties.Metrics)).toContain('failed + timedOut + aborted');
  });
});

describe('without fan-out (the default)', () => {
  it('deploys no state machine and no staging bucket; the schedule invokes the detector', () => {
    const s = synth({ config: TEST_CONFIG });
    expect(ofType(s, 'AWS::StepFunctions::StateMachine')).toEqual([]);
    expect(ofType(s, 'AWS::S3::Bucket').filter(([id]) => id.startsWith('Fanout'))).toEqual([]);
    const targets = ofType(s, 'AWS::Scheduler::Schedule').map(([, r]) =>
      render((r.Properties.Target as { Arn: unknown }).Arn),
    );
    expect(targets.some((t) => t.startsWith('${DetectorFunction'))).toBe(true);
  });
});

describe('fan-out configuration at synth', () => {
  function synthIssues(config: Record<string, unknown>): readonly string[] {
    try {
      synth({ config });
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).issues;
    }
    throw new Error('expected synth to fail');
  }

  it('refuses out-of-range sizes, a missing switch and unknown keys, saying what to give', () => {
    expect(
      synthIssues({
        ...TEST_CONFIG,
        fanout: { enabled: true, userShards: 0, logGroupsPerQuery: 51, queryConcurrency: 31, userShard: 4 },
      }),
    ).toEqual([
      'authwatch.fanout.userShard: unknown key; did you mean authwatch.fanout.userShards?',
      'authwatch.fanout.userShards: a whole number from 1 to 1000: how many shards users are split into',
      'authwatch.fanout.logGroupsPerQuery: a whole number from 1 to 50: log groups per fetch step (one Logs Insights query takes at most 50)',
      'authwatch.fanout.queryConcurrency: a whole number from 1 to 30: fetch steps at once, each one Logs Insights query at a time (the account runs at most 30 queries at once, dashboards and people included)',
    ]);
    expect(synthIssues({ ...TEST_CONFIG, fanout: { userShards: 8 } })).toEqual([
      'authwatch.fanout.enabled: true (Step Functions fan-out) or false (the single Lambda, the default)',
    ]);
    expect(synthIssues({ ...TEST_CONFIG, fanout: true })).toEqual([
      'authwatch.fanout: an object like {"enabled":true,"userShards":16}',
    ]);
  });

  it('takes the fan-out from the command line like any key', () => {
    const s = synth({ config: TEST_CONFIG, context: { 'authwatch.fanout': '{"enabled":true}' } });
    expect(s.stack.fanout).toBeDefined();
    expect(s.stack.schedule).toBeUndefined();
  });
});

describe('fan-out bundling', () => {
  it('bundles the steps function like the detector: ESM, the SDK inside, offline', () => {
    const { outdir, template } = synth({ config: FANOUT_CONFIG, bundle: true });
    const assets = JSON.parse(readFileSync(join(outdir, 'Authwatch.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const fn = Object.values(template.toJSON().Resources as Record<string, Resource>).find(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify(r.Properties.Environment ?? {}).includes(FANOUT_ENV.fanout),
    )!;
    const hash = (fn.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const dir = join(outdir, assets.files[hash]!.source.path);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(bundle.startsWith(ESM_REQUIRE_BANNER.slice(0, 40))).toBe(true);
    expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
  });
});
