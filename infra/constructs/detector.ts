/**
 * The detector Lambda: bundled by esbuild from lambdas/detector/handler.ts with the same options as
 * `npm run build` (lambdas/bundle.ts), invoked asynchronously by the schedule, never two runs at once.
 */
import { v8FlagsFor } from '../heap';
import { Arn, ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat, SourceMapMode, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  DETECTOR_ENTRY,
  DETECTOR_EXTERNALS,
  DETECTOR_MAIN_FIELDS,
  DETECTOR_OUTPUT,
  DETECTOR_TARGET,
  ESM_REQUIRE_BANNER,
  PROJECT_ROOT,
} from '../../lambdas/bundle';
import { DEFAULT_QUERY_TIMEOUT_MS, ENV, type LogSourceConfig } from '../../shared/config';
import { looksLikeArn } from '../../shared/core/log-group-arn';
import { settingsForEnvironment, type DetectionSettings } from '../../shared/core/settings';
import { SERVICE_NAME_ENV } from '../../shared/telemetry';
import { DeadLetterQueue } from './dead-letter-queue';

/**
 * The newest Node.js runtime this aws-cdk-lib knows (cdk-nag's AwsSolutions-L1 checks exactly that; a test fails
 * when a CDK upgrade brings a newer one, so the bump is a deliberate change).
 */
export const DETECTOR_RUNTIME = Runtime.NODEJS_24_X;

/**
 * 5 minutes: a run is bounded by its Logs Insights queries (asynchronous, seconds to minutes on large groups, and
 * subject to the account's concurrent-query quota); the rest (baselines, scoring, publishing) took well under a
 * minute for 100,000 users in `npm run bench`. Runs start every 15 minutes, so 5 minutes can never overlap the next.
 */
export const DETECTOR_TIMEOUT = Duration.minutes(5);
/**
 * The queries get the timeout minus one minute, leaving time to write baselines and publish alerts before Lambda kills
 * the run: the one query budget of shared/config.ts (a test keeps it a minute under `DETECTOR_TIMEOUT`).
 */
export const QUERY_BUDGET = Duration.millis(DEFAULT_QUERY_TIMEOUT_MS);
/**
 * 1024 MB: `npm run bench` targets a peak RSS under 512 MB for a 100,000-user window, so this is 2x headroom; Lambda
 * also gives CPU in proportion to memory (1,769 MB = 1 vCPU), and scoring is CPU-bound. At ~96 short runs a day the
 * cost difference from 512 MB is cents a month.
 */
export const DETECTOR_MEMORY_MB = 1024;
/**
 * Lambda's own async retries of a failed run. Each retry re-runs the same window (the window comes from the event),
 * and the alert ledger makes a repeat harmless; two retries ride out a throttle or a transient AWS error.
 */
export const DETECTOR_RETRY_ATTEMPTS = 2;
/**
 * An event older than this is sent to the DLQ instead of run: by then later runs (30-minute look-back every 15
 * minutes) have covered most of its window, and a stale run only competes with them for the single slot.
 */
export const DETECTOR_MAX_EVENT_AGE = Duration.hours(1);

export interface DetectorProps {
  readonly tableName: string;
  readonly topicArn: string;
  readonly logSources: readonly LogSourceConfig[];
  readonly settings: DetectionSettings;
  /** Powertools service name: the `service` dimension of every metric. */
  readonly serviceName: string;
  readonly logRetention: RetentionDays;
}

/**
 * IAM resource ARNs for `logs:StartQuery` on one log group: the group itself, and the `:*` form IAM evaluates. A
 * group given by name is this account's, in the stack's region; one given by ARN (a linked source account's, under
 * CloudWatch cross-account observability) is granted as that ARN: the monitoring account's role needs StartQuery on
 * the source account's group, which the link, not a policy in the source account, makes reachable.
 */
export function logGroupQueryArns(stack: Stack, logGroup: string): string[] {
  const bare = looksLikeArn(logGroup)
    ? logGroup
    : Arn.format(
        { service: 'logs', resource: 'log-group', resourceName: logGroup, arnFormat: ArnFormat.COLON_RESOURCE_NAME },
        stack,
      );
  return [bare, `${bare}:*`];
}

/** The cdk-nag finding id of the `:*` resource {@link logGroupQueryArns} grants for `logGroup`. */
export function logGroupQueryFinding(logGroup: string): string {
  const arn = looksLikeArn(logGroup)
    ? logGroup
    : `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${logGroup}`;
  return `AwsSolutions-IAM5[Resource::${arn}:*]`;
}

/** What differs between authwatch's functions; everything else is {@link functionProps}'s, the same for all. */
export interface FunctionSettings {
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /**
   * How Lambda handles asynchronous invocations: its own retries of a failed one, the age after which an event goes
   * to the dead-letter queue instead of running, and that queue (Lambda's on-failure destination). Absent for a
   * function only ever invoked synchronously (the fan-out's, by Step Functions, which retries and catches itself).
   */
  readonly async?: {
    readonly retryAttempts: number;
    readonly maxEventAge: Duration;
    readonly deadLetterQueue: DeadLetterQueue;
  };
  /**
   * `1` (the default): one invocation at a time. `'unreserved'`: as many as the caller starts (the fan-out's steps
   * run in parallel, bounded by the state machine's Map concurrency).
   */
  readonly concurrency?: 1 | 'unreserved';
  readonly logGroup: ILogGroup;
  readonly role: IRole;
  /** The function's own variables; `NODE_OPTIONS` is added. */
  readonly environment: Record<string, string>;
}

/**
 * The props of an authwatch Lambda: bundled by esbuild like `npm run build`, on the detector's runtime and ARM,
 * asynchronous with an on-failure queue, one invocation at a time (each function read-modify-writes state of its
 * own: the detector its baselines, with conditional writes that would fail; the network-data refresh its pointer,
 * which two would race to swap), and an explicit role and log group. The fan-out's steps differ on the two points
 * the state machine takes over (`async`, `concurrency`).
 */
export function functionProps(settings: FunctionSettings): NodejsFunctionProps {
  return {
    entry: settings.entry,
    handler: 'handler',
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
    runtime: DETECTOR_RUNTIME,
    architecture: Architecture.ARM_64,
    timeout: settings.timeout,
    memorySize: settings.memorySize,
    ...(settings.concurrency === 'unreserved' ? {} : { reservedConcurrentExecutions: 1 }),
    ...(settings.async
      ? {
          retryAttempts: settings.async.retryAttempts,
          maxEventAge: settings.async.maxEventAge,
          onFailure: new SqsDestination(settings.async.deadLetterQueue.queue),
        }
      : {}),
    logGroup: settings.logGroup,
    role: settings.role,
    description: settings.description,
    environment: {
      ...settings.environment,
      // Stack traces in the log point into the TypeScript sources (the bundle ships a linked source map).
      // The heap a run may grow to (three quarters of the function's memory) and its young generation (infra/heap.ts).
      NODE_OPTIONS: ['--enable-source-maps', ...v8FlagsFor(settings.memorySize)].join(' '),
    },
    bundling: {
      // The same options as lambdas/build.ts, so the bundle the tests import is the bundle that is deployed.
      format: OutputFormat.ESM,
      target: DETECTOR_TARGET,
      banner: ESM_REQUIRE_BANNER,
      externalModules: DETECTOR_EXTERNALS,
      mainFields: DETECTOR_MAIN_FIELDS,
      minify: DETECTOR_OUTPUT.minify,
      sourceMap: DETECTOR_OUTPUT.linkedSourceMap,
      sourceMapMode: SourceMapMode.DEFAULT, // DEFAULT is a linked .map file
      esbuildArgs: { '--legal-comments': DETECTOR_OUTPUT.legalComments },
      // Bundle with the esbuild in node_modules (a devDependency), never in Docker: synth works offline.
      forceDockerBundling: false,
    },
  };
}

export class Detector extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;
  /** Where invocations that failed after all retries (or aged out) land: Lambda's on-failure destination. */
  readonly deadLetterQueue: DeadLetterQueue;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: DetectorProps) {
    super(scope, id);

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      // The log is the run history a responder reads when an alarm fires; it outlives the stack like the table.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.deadLetterQueue = new DeadLetterQueue(this, 'FailedRuns', {
      purpose: 'Lambda on-failure destination: detector invocations that failed after all async retries or aged out',
    });

    // An explicit role instead of the default AWSLambdaBasicExecutionRole, so it can write only its own log group.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'authwatch detector: query the configured log groups, read/write baselines, publish alerts',
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(
      this,
      'Function',
      functionProps({
        entry: DETECTOR_ENTRY,
        description: 'authwatch: rare users and unusual source IPs in logon logs, one 15-minute window per run',
        timeout: DETECTOR_TIMEOUT,
        memorySize: DETECTOR_MEMORY_MB,
        async: {
          retryAttempts: DETECTOR_RETRY_ATTEMPTS,
          maxEventAge: DETECTOR_MAX_EVENT_AGE,
          deadLetterQueue: this.deadLetterQueue,
        },
        logGroup: this.logGroup,
        role: this.role,
        environment: {
          [ENV.tableName]: props.tableName,
          [ENV.topicArn]: props.topicArn,
          [ENV.logSources]: JSON.stringify(props.logSources),
          [ENV.settings]: JSON.stringify(settingsForEnvironment(props.settings)),
          [ENV.queryTimeoutMs]: String(QUERY_BUDGET.toMilliseconds()),
          [SERVICE_NAME_ENV]: props.serviceName,
        },
      }),
    );

    grantQueryLogGroups(this.role, props.logSources);
  }
}

/**
 * `logs:StartQuery` only on the configured log groups, for the role of a function that queries them (the detector,
 * and the fan-out's steps). IAM authorizes StartQuery against the log group's ARN in
 * its `:*` form (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`, as AccessDenied messages show), while the
 * Service Authorization Reference lists the bare `log-group:NAME` ARN for the `log-group` resource type, so both
 * are granted: together they match that one group and nothing else. GetQueryResults and StopQuery take only a
 * query id and support no resource-level permissions, so they need `*`.
 */
export function grantQueryLogGroups(role: Role, logSources: readonly LogSourceConfig[]): void {
  const stack = Stack.of(role);
  const names = [...new Set(logSources.flatMap((s) => s.logGroups))].sort();
  const arns = names.flatMap((n) => logGroupQueryArns(stack, n));
  role.addToPrincipalPolicy(
    new PolicyStatement({ sid: 'StartQueryOnConfiguredLogGroups', actions: ['logs:StartQuery'], resources: arns }),
  );
  role.addToPrincipalPolicy(
    new PolicyStatement({
      sid: 'ReadOwnQueryResults',
      actions: ['logs:GetQueryResults', 'logs:StopQuery'],
      resources: ['*'],
    }),
  );

  const policy = role.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'logs:GetQueryResults and logs:StopQuery act on a query id and support no resource-level permissions (Service Authorization Reference: no resource types), so IAM requires Resource "*"; logs:StartQuery, which chooses the log groups, is limited to the configured ones.',
      },
      ...names.map((n) => ({
        id: logGroupQueryFinding(n),
        reason: `logs:StartQuery is authorized against the log group ARN in its ":*" form; this matches only the configured log group ${n}.`,
      })),
    );
  }
}
