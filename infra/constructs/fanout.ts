/**
 * The Step Functions fan-out: the steps of each window (shared/steps/contract.ts) as a state machine, for
 * deployments too large for one Lambda invocation (`fanout.enabled`; the single Lambda is the default).
 *
 *   Windows → [ per window, one at a time:
 *     Plan → Fetch (Distributed Map × source group) → Evaluate (× user shard) → Deliver
 *     → Learn (× user shard) → Commit → Write (× user shard) → Finish ]
 *   any failure after Plan → Abandon → WindowFailed (the execution fails)
 *   a backlog chunk not fetched whole (row limit) → SkipChunk (recorded, watermark past it) → the next window
 *   a plan for an earlier window whose save was cut (finishesCutWindow) → its steps → Plan again, for this window
 *
 * Windows in order, one at a time: the list `windows` returns (shared/scheduled-windows.ts: the newest bucket for
 * alerts while behind, backlog chunks oldest first, the newest learned last) is walked by a Choice loop rather than a
 * Map of concurrency 1, so each window's Distributed Maps run at the top level of the execution, never inside
 * another Map's iterations, and the order is the loop's, not a setting's. A window learns and moves the watermark
 * before the next starts, as in the single Lambda.
 *
 * One Lambda runs every step (lambdas/fanout/handler.ts); each state sends it `{ step, run, group | shard }`.
 * Failure handling is the single run's: a step is retried (Lambda service errors with backoff; any other error
 * twice, as Lambda retries the single run's window twice), and a step that still fails runs `abandon` (the lease is
 * given up, the staged data deleted) and fails the execution, so nothing after it runs: no alert is marked raised
 * before it was delivered, nothing is learned before every alert of the window was delivered, no baseline is written
 * before the population was saved, and the watermark only moves at Finish. The next execution plans from the
 * watermark, so the failed window is analysed again, and the ledger keeps delivered alerts from going out twice.
 */
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Grant, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { StepFunctionsStartExecution } from 'aws-cdk-lib/aws-scheduler-targets';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import {
  Choice,
  Condition,
  DefinitionBody,
  DistributedMap,
  Errors,
  Fail,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FANOUT_ENTRY } from '../../lambdas/bundle';
import { FANOUT_ENV, STAGING_ROOT } from '../../lambdas/fanout/config';
import { DEFAULT_QUERY_TIMEOUT_MS, ENV, type LogSourceConfig } from '../../shared/config';
import { settingsForEnvironment, type DetectionSettings } from '../../shared/core/settings';
import { SERVICE_NAME_ENV } from '../../shared/telemetry';
import type { FanoutConfig } from '../config';
import { DETECTOR_TIMEOUT, functionProps, grantQueryLogGroups } from './detector';
import { DeadLetterQueue } from './dead-letter-queue';
import { RUN_INTERVAL, SCHEDULE_MAX_EVENT_AGE, SCHEDULE_RETRY_ATTEMPTS } from './schedule';

/**
 * An execution ends before the next is due, so two never work at once (the lease would make the second's windows
 * fail): the windows it plans are bounded to fit (`catchUpChunksPerExecution`), and one that still runs long is
 * stopped here; the next execution plans from the watermark the finished windows left.
 */
export const FANOUT_EXECUTION_TIMEOUT = RUN_INTERVAL.minus(Duration.minutes(1));

/** Staged data older than this is expired by the bucket: what a failed or stopped execution left behind. */
export const STAGING_EXPIRY = Duration.days(1);

/**
 * Lambda's own transient failures, retried with backoff: throttling (the account's concurrency taken by a wide
 * Map), service errors, a dropped connection. Not the step's own errors, which `STEP_RETRY` covers.
 */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
export const LAMBDA_SERVICE_RETRY = { interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2 } as const;
/**
 * Not transients: the event or the configuration is wrong, or a window cannot be fetched whole under the row limit
 * after every split; a retry would fail the same way.
 */
export const NOT_RETRIED_ERRORS = ['InvalidEventError', 'ConfigError', 'QueryIncompleteError'];
/**
 * A step's own failure (a query, DynamoDB, SNS error left after the SDK's retries): retried twice, as Lambda retries
 * the single run's window twice (DETECTOR_RETRY_ATTEMPTS); every step is idempotent, so a retry repeats nothing.
 */
export const STEP_RETRY = { interval: Duration.seconds(30), maxAttempts: 2, backoffRate: 2 } as const;

/** The Distributed Maps, by label: one per fanned-out step of the contract. */
export const FANOUT_MAPS = ['Fetch', 'Evaluate', 'Learn', 'Write'] as const;

export interface FanoutProps {
  readonly config: FanoutConfig;
  readonly tableName: string;
  readonly topicArn: string;
  readonly logSources: readonly LogSourceConfig[];
  readonly settings: DetectionSettings;
  readonly serviceName: string;
  readonly logRetention: RetentionDays;
  /** Where the failed-execution alarm goes (the operations topic). */
  readonly alarmTopic: ITopic;
}

export class Fanout extends Construct {
  readonly bucket: Bucket;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  readonly stateMachine: StateMachine;
  readonly stateMachineLogGroup: LogGroup;
  readonly schedule: Schedule;
  /** Executions Scheduler could not start after its retries. */
  readonly deadLetterQueue: DeadLetterQueue;
  readonly failedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: FanoutProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.bucket = new Bucket(this, 'Staging', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [{ expiration: STAGING_EXPIRY, abortIncompleteMultipartUploadAfter: STAGING_EXPIRY }],
      // Nothing in it outlives a day; a bucket CloudFormation cannot empty would only make stack deletion fail.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        "Holds only a run's intermediate data for the minutes a window takes (expired after a day), written and read by the fan-out function's role alone; access logs would record that one role's calls on every step. CloudTrail data events can be enabled for the bucket if an audit needs them.",
    });

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      // The steps' log is part of the run history, like the detector's.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description:
        "authwatch fan-out steps: query the configured log groups, read/write baselines, publish alerts, stage a run's data",
    });
    this.logGroup.grantWrite(this.role);
    grantQueryLogGroups(this.role, props.logSources);
    this.grantStaging();

    this.function = new NodejsFunction(
      this,
      'Function',
      functionProps({
        entry: FANOUT_ENTRY,
        description: 'authwatch: one step of a window (plan, fetch, evaluate, deliver, learn, commit, write, finish)',
        // Each step is bounded by what bounds the single run (a fetch by the query budget), on a share of the users.
        timeout: DETECTOR_TIMEOUT,
        // Deliver and commit hold the whole window's logons and digests (infra/config.ts FANOUT_DEFAULTS.memoryMb).
        memorySize: props.config.memoryMb,
        logGroup: this.logGroup,
        role: this.role,
        concurrency: 'unreserved',
        environment: {
          [ENV.tableName]: props.tableName,
          [ENV.topicArn]: props.topicArn,
          [ENV.logSources]: JSON.stringify(props.logSources),
          [ENV.settings]: JSON.stringify(settingsForEnvironment(props.settings)),
          [ENV.queryTimeoutMs]: String(DEFAULT_QUERY_TIMEOUT_MS),
          [SERVICE_NAME_ENV]: props.serviceName,
          [FANOUT_ENV.stagingBucket]: this.bucket.bucketName,
          [FANOUT_ENV.fanout]: JSON.stringify({
            userShards: props.config.userShards,
            logGroupsPerQuery: props.config.logGroupsPerQuery,
            catchUpChunksPerExecution: props.config.catchUpChunksPerExecution,
          }),
        },
      }),
    );

    this.stateMachineLogGroup = new LogGroup(this, 'StateMachineLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(this.definition(props.config)),
      timeout: FANOUT_EXECUTION_TIMEOUT,
      tracingEnabled: true,
      // Every state's events, without their data: the steps log what they did, and a run's data stays in staging.
      logs: { destination: this.stateMachineLogGroup, level: LogLevel.ALL, includeExecutionData: false },
      comment: 'authwatch: the windows of one scheduled time, each fanned out over log-source groups and user shards',
    });
    this.acknowledgeStateMachineRole(stack);

    this.deadLetterQueue = new DeadLetterQueue(this, 'Undelivered', {
      purpose:
        'EventBridge Scheduler dead-letter queue: executions of the fan-out state machine Scheduler could not start after its retries',
    });
    const schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'authwatch: EventBridge Scheduler starts the fan-out state machine',
    });
    this.schedule = new Schedule(this, 'Schedule', {
      schedule: ScheduleExpression.rate(RUN_INTERVAL),
      description: 'authwatch: run the fan-out over the last 30 minutes of logons (and any backlog)',
      target: new StepFunctionsStartExecution(this.stateMachine, {
        // The execution's input; the windows step floors `time` to the 15-minute bucket, as the detector does.
        input: ScheduleTargetInput.fromObject({ time: ContextAttribute.scheduledTime }),
        retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
        maxEventAge: SCHEDULE_MAX_EVENT_AGE,
        deadLetterQueue: this.deadLetterQueue.queue,
        role: schedulerRole,
      }),
    });

    this.failedAlarm = new Alarm(this, 'ExecutionsFailed', {
      alarmDescription:
        'authwatch: a fan-out execution failed, timed out or was stopped: a step failed after its retries (the execution history names it; Abandon gave the lease up), or the windows took longer than 14 minutes. The next execution analyses the window again from the watermark. Read the "step failed" lines in the fan-out function log.',
      metric: new MathExpression({
        expression: 'failed + timedOut + aborted',
        usingMetrics: {
          failed: this.stateMachine.metricFailed({ statistic: 'Sum' }),
          timedOut: this.stateMachine.metricTimedOut({ statistic: 'Sum' }),
          aborted: this.stateMachine.metricAborted({ statistic: 'Sum' }),
        },
        period: RUN_INTERVAL,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.failedAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }

  /** The states, in the order of the contract (shared/steps/contract.ts). */
  private definition(config: FanoutConfig) {
    const run = '$.current.run';
    const invoke = (
      id: string,
      payload: Record<string, unknown>,
      resultPath: string,
      resultSelector: Record<string, unknown> = { 'report.$': '$.Payload' },
    ) =>
      withRetries(
        new LambdaInvoke(this, id, {
          lambdaFunction: this.function,
          payload: TaskInput.fromObject(payload),
          // Our own retriers, below: which errors, how often.
          retryOnServiceExceptions: false,
          resultSelector,
          resultPath,
        }),
      );
    /** A Distributed Map sending each item's event, as is, to the function. */
    const fanOut = (
      id: string,
      step: string,
      itemsPath: string,
      key: 'group' | 'shard',
      maxConcurrency: number,
      resultPath: string | typeof JsonPath.DISCARD = JsonPath.DISCARD,
    ) => {
      const map = new DistributedMap(this, id, {
        itemsPath,
        itemSelector: { step, 'run.$': run, [`${key}.$`]: '$$.Map.Item.Value' },
        maxConcurrency,
        label: id,
        // The reports are in the function's log; the window's figures come from Finish.
        resultPath,
      });
      const one = withRetries(
        new LambdaInvoke(this, `${id}One`, {
          lambdaFunction: this.function,
          payload: TaskInput.fromJsonPathAt('$'),
          retryOnServiceExceptions: false,
          outputPath: '$.Payload',
        }),
      );
      return { map, one };
    };

    const windows = invoke('Windows', { step: 'windows', 'time.$': '$.time' }, '$.schedule', {
      'windows.$': '$.Payload.windows',
      'count.$': 'States.ArrayLength($.Payload.windows)',
    });
    const first = new Pass(this, 'FirstWindow', { result: Result.fromObject({ index: 0 }), resultPath: '$.next' });
    const more = new Choice(this, 'MoreWindows');
    const window = new Pass(this, 'Window', {
      parameters: { 'planned.$': 'States.ArrayGetItem($.schedule.windows, $.next.index)' },
      resultPath: '$.window',
    });
    // The plan (a RunPlan) is the run every later step of the window gets.
    const plan = invoke('Plan', { step: 'plan', 'window.$': '$.window.planned' }, '$.current', {
      'run.$': '$.Payload',
    });

    // Each fetch answers whether its group could be fetched whole: a QueryIncompleteError (a slice over the row
    // limit after every split) is caught in the item, so the window, not the Map, decides what it means.
    const fetch = fanOut(
      'Fetch',
      'fetch',
      `${run}.sourceGroups`,
      'group',
      Math.min(config.queryConcurrency, config.maxConcurrency),
      '$.current.incomplete',
    );
    // 1 for a group not fetched whole, 0 for one fetched: numbers, which intrinsic functions surely take as literals.
    fetch.one.addCatch(new Pass(this, 'FetchIncomplete', { result: Result.fromNumber(1) }), {
      errors: ['QueryIncompleteError'],
    });
    fetch.map.itemProcessor(fetch.one.next(new Pass(this, 'FetchWhole', { result: Result.fromNumber(0) })));
    const checked = new Pass(this, 'CheckFetch', {
      parameters: { 'any.$': 'States.ArrayContains($.current.incomplete, 1)' },
      resultPath: '$.current.incomplete',
    });
    // As in the single run: a backlog chunk that can never be fetched whole is skipped and recorded, and the
    // catch-up goes on; any other window fails (Abandon) and is analysed again by the next execution.
    const skip = invoke('SkipChunk', { step: 'skip', 'run.$': run, 'window.$': '$.window.planned' }, JsonPath.DISCARD);
    const incomplete = new Pass(this, 'Incomplete', {
      result: Result.fromObject({
        Error: 'QueryIncompleteError',
        Cause:
          "A log-source group could not be fetched whole under the Logs Insights row limit (the fetch step's log names the slice).",
      }),
      resultPath: '$.error',
    });
    const whole = new Choice(this, 'FetchedWhole');

    const evaluate = fanOut('Evaluate', 'evaluate', `${run}.shards`, 'shard', config.maxConcurrency);
    const deliver = invoke('Deliver', { step: 'deliver', 'run.$': run }, '$.current.deliver');
    const learn = fanOut('Learn', 'learn', `${run}.shards`, 'shard', config.maxConcurrency);
    const commit = invoke('Commit', { step: 'commit', 'run.$': run }, '$.current.commit');
    const write = fanOut('Write', 'write', `${run}.shards`, 'shard', config.maxConcurrency);
    for (const m of [evaluate, learn, write]) m.map.itemProcessor(m.one);
    // The planned window (a chunk counts in CatchUpChunks) and the execution's start (the run's duration) ride along.
    const finish = invoke(
      'Finish',
      {
        step: 'finish',
        'run.$': run,
        'window.$': '$.window.planned',
        'executionStartedAt.$': '$$.Execution.StartTime',
      },
      '$.current.finish',
    );
    const next = new Pass(this, 'NextWindow', {
      parameters: { 'index.$': 'States.MathAdd($.next.index, 1)' },
      resultPath: '$.next',
    });
    // A plan may be for an earlier window whose save was cut (`finishesCutWindow`): once Finish has finished that
    // save, the same window is planned again, as the single run loops back, rather than left to the next execution.
    const cutFinished = new Choice(this, 'CutWindowFinished')
      .when(
        Condition.and(
          Condition.isPresent('$.current.run.finishesCutWindow'),
          Condition.booleanEquals('$.current.run.finishesCutWindow', true),
        ),
        plan,
      )
      .otherwise(next);

    const abandon = new LambdaInvoke(this, 'Abandon', {
      lambdaFunction: this.function,
      payload: TaskInput.fromObject({ step: 'abandon', 'run.$': run, 'error.$': '$.error' }),
      retryOnServiceExceptions: false,
      resultPath: JsonPath.DISCARD,
    }).addRetry({ errors: LAMBDA_SERVICE_ERRORS, ...LAMBDA_SERVICE_RETRY, jitterStrategy: JitterType.FULL });
    abandon.next(new Fail(this, 'WindowFailed', { error: 'WindowFailed', causePath: '$.error.Cause' }));
    // Everything after Plan holds the lease: a failure there gives it up before the execution fails.
    for (const state of [fetch.map, skip, evaluate.map, deliver, learn.map, commit, write.map, finish])
      state.addCatch(abandon, { errors: [Errors.ALL], resultPath: '$.error' });
    incomplete.next(abandon);

    const learned = evaluate.map
      .next(deliver)
      .next(learn.map)
      .next(commit)
      .next(write.map)
      .next(finish)
      .next(cutFinished);
    next.next(more);
    skip.next(next);
    const fetchedWhole = whole
      .when(
        Condition.and(
          Condition.booleanEquals('$.current.incomplete.any', true),
          Condition.booleanEquals('$.window.planned.chunk', true),
        ),
        skip,
      )
      .when(Condition.booleanEquals('$.current.incomplete.any', true), incomplete)
      .otherwise(learned);

    return windows
      .next(first)
      .next(
        more
          .when(
            Condition.numberLessThanJsonPath('$.next.index', '$.schedule.count'),
            window.next(plan).next(fetch.map).next(checked).next(fetchedWhole),
          )
          .otherwise(new Succeed(this, 'Done')),
      );
  }

  /** Read, write and delete under the staging root of this one bucket; list it (the steps list a run's keys). */
  private grantStaging(): void {
    Grant.addToPrincipal({
      grantee: this.role,
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resourceArns: [this.bucket.arnForObjects(`${STAGING_ROOT}*`)],
    });
    Grant.addToPrincipal({ grantee: this.role, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${STAGING_ROOT}*]`,
      reason: `The steps stage a run's data under keys chosen at run time (the run's id, the shard), all under "${STAGING_ROOT}" of this one bucket, which holds nothing else.`,
    });
  }

  /** The findings of the grants CDK adds for the tasks, the Distributed Maps, X-Ray and log delivery. */
  private acknowledgeStateMachineRole(stack: Stack): void {
    const fn = stack.getLogicalId(this.function.node.defaultChild as CfnElement);
    // A Distributed Map runs its items as child executions of this state machine, which it must describe and stop:
    // CDK grants that on this state machine's executions and on its Map Runs (named by each Map's label).
    const sm = stack.getLogicalId(this.stateMachine.node.defaultChild as CfnElement);
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${sm}"}]}]}`;
    Validations.of(this.stateMachine.node.findChild('DistributedMapPolicy')).acknowledge(
      ...['', ...FANOUT_MAPS.map((m) => `/${m}`)].map((run) => ({
        id: `AwsSolutions-IAM5[Resource::${executions}${run}:*]`,
        reason: `Added by DistributedMap: the child executions${run ? ` of the ${run.slice(1)} Map Run` : ''} of this one state machine, whose ids are chosen by Step Functions at run time; the state machine describes and stops only its own.`,
      })),
    );
    const policy = this.stateMachine.role.node.findChild('DefaultPolicy');
    Validations.of(policy).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${fn}.Arn>:*]`,
        reason:
          'Added by LambdaInvoke for the fan-out function alone: "<function ARN>:*" matches only its versions and aliases, which the state machine may invoke as the same function.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and CloudWatch Logs log delivery (CreateLogDelivery and its Get/Update/Delete/List, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) support no resource-level permissions, so the tracing and logging the state machine needs (AwsSolutions-SF1, SF2) require Resource "*".',
      },
    );
  }
}

/** The retriers every step gets: Lambda's transient errors with backoff, mistakes never, anything else twice. */
function withRetries(task: LambdaInvoke): LambdaInvoke {
  task
    .addRetry({ errors: LAMBDA_SERVICE_ERRORS, ...LAMBDA_SERVICE_RETRY, jitterStrategy: JitterType.FULL })
    .addRetry({ errors: NOT_RETRIED_ERRORS, maxAttempts: 0 })
    .addRetry({ errors: [Errors.ALL], ...STEP_RETRY });
  return task;
}
