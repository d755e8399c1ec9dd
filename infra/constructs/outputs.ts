/**
 * The alert outputs beside SNS, each optional per deployment:
 * - EventBridge (`eventBridge: { enabled: true }`): the detector puts every alert on the account's default event bus
 *   (`events:PutEvents` on that bus only); operators route them with rules of their own (README: "Security Hub and
 *   EventBridge");
 * - Security Hub (`securityHub: { enabled: true }`): the detector imports every alert as a finding under the
 *   account's own product (`securityhub:BatchImportFindings` on `product/<account>/default` only), and an analyst's
 *   triage comes back: an EventBridge rule on "Security Hub Findings - Imported" events for authwatch's findings
 *   that are resolved or suppressed invokes the triage function (lambdas/triage/handler.ts), which writes the same
 *   feedback as `authwatch benign` / `authwatch malicious` to the table. Like the other functions: its own role and
 *   log group, one invocation at a time, failed invocations (and events the rule could not deliver) in a dead-letter
 *   queue whose alarm notifies the operations topic.
 */
import { join } from 'node:path';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { TRIAGE_ENV } from '../../lambdas/triage/config';
import { GENERATOR_PREFIX } from '../../shared/adapters/security-hub-alert-sink';
import { OUTPUT_ENV } from '../../shared/config';
import { SERVICE_NAME_ENV } from '../../shared/telemetry';
import { FINDINGS_IMPORTED } from '../../shared/triage';
import { DeadLetterQueue } from './dead-letter-queue';
import type { Detector } from './detector';
import { functionProps } from './detector';
import { DETECTOR_TABLE_ACTIONS } from './storage';

export const TRIAGE_ENTRY = join(PROJECT_ROOT, 'lambdas', 'triage', 'handler.ts');
/** A few reads and conditional writes per finding; a minute is ample, and bounds a stuck call. */
export const TRIAGE_TIMEOUT = Duration.minutes(1);
export const TRIAGE_MEMORY_MB = 256;
/** EventBridge's retries of an invocation it could not deliver, within `TRIAGE_MAX_EVENT_AGE`. */
export const TRIAGE_RULE_RETRY_ATTEMPTS = 8;
/** An analyst's decision is worth applying hours later; a day bounds EventBridge's delivery of it. */
export const TRIAGE_MAX_EVENT_AGE = Duration.hours(24);
/** Lambda's own async queue keeps an event at most 6 hours. */
const TRIAGE_MAX_INVOKE_AGE = Duration.hours(6);

export interface AlertOutputsProps {
  readonly detector: Detector;
  readonly table: ITable;
  readonly eventBridge: boolean;
  readonly securityHub: boolean;
  /** Days the ledger keeps an alert: how long a triage is remembered as applied. */
  readonly ledgerTtlDays: number;
  readonly logRetention: RetentionDays;
  readonly serviceName: string;
  /** Where the triage dead-letter alarm goes (the operations topic). */
  readonly alarmTopic: ITopic;
}

/** The triage side of the Security Hub output. */
export interface Triage {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly rule: Rule;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly alarm: Alarm;
}

/** The EventBridge pattern of authwatch's findings an analyst resolved or suppressed. */
export function triageEventPattern(productArn: string) {
  return {
    source: ['aws.securityhub'],
    detailType: [FINDINGS_IMPORTED],
    detail: {
      findings: {
        ProductArn: [productArn],
        GeneratorId: [{ prefix: GENERATOR_PREFIX }],
        Workflow: { Status: ['RESOLVED', 'SUPPRESSED'] },
      },
    },
  };
}

export class AlertOutputs extends Construct {
  /** The account's own Security Hub product, when Security Hub is on. */
  readonly productArn: string | undefined;
  readonly triage: Triage | undefined;

  constructor(scope: Construct, id: string, props: AlertOutputsProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const detector = props.detector;

    if (props.eventBridge) {
      const defaultBus = stack.formatArn({
        service: 'events',
        resource: 'event-bus',
        resourceName: 'default',
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
      detector.function.addEnvironment(OUTPUT_ENV.eventBus, 'default');
      detector.role.addToPrincipalPolicy(
        new PolicyStatement({
          sid: 'PutAlertEventsOnDefaultBus',
          actions: ['events:PutEvents'],
          resources: [defaultBus],
        }),
      );
    }

    if (!props.securityHub) return;
    // The account's default product: a custom integration imports under it, and nowhere else.
    this.productArn = stack.formatArn({
      service: 'securityhub',
      resource: 'product',
      resourceName: `${stack.account}/default`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    detector.function.addEnvironment(OUTPUT_ENV.securityHubProductArn, this.productArn);
    detector.role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ImportFindingsAsOwnProduct',
        actions: ['securityhub:BatchImportFindings'],
        resources: [this.productArn],
      }),
    );
    this.triage = this.addTriage(props, this.productArn);
  }

  private addTriage(props: AlertOutputsProps, productArn: string): Triage {
    const logGroup = new LogGroup(this, 'TriageLogGroup', {
      retention: props.logRetention,
      // What analysts' triage changed is part of the run history a responder reads: kept like the detector's.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const deadLetterQueue = new DeadLetterQueue(this, 'FailedTriage', {
      purpose:
        'triage invocations that failed after Lambda async retries, and Security Hub events the rule could not deliver',
    });
    const role = new Role(this, 'TriageRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'authwatch triage: read alerts from the ledger, write analyst feedback to the baselines table',
    });
    logGroup.grantWrite(role);
    // The feedback use cases' reads and conditional writes, the detector's own actions on the same table.
    props.table.grant(role, ...DETECTOR_TABLE_ACTIONS);

    const fn = new NodejsFunction(
      this,
      'TriageFunction',
      functionProps({
        entry: TRIAGE_ENTRY,
        description: 'authwatch: Security Hub triage of authwatch findings becomes benign/malicious feedback',
        timeout: TRIAGE_TIMEOUT,
        memorySize: TRIAGE_MEMORY_MB,
        async: { retryAttempts: 2, maxEventAge: TRIAGE_MAX_INVOKE_AGE, deadLetterQueue },
        logGroup,
        role,
        environment: {
          [TRIAGE_ENV.tableName]: props.table.tableName,
          [TRIAGE_ENV.productArn]: productArn,
          [TRIAGE_ENV.recordDays]: String(props.ledgerTtlDays),
          [SERVICE_NAME_ENV]: props.serviceName,
        },
      }),
    );

    const rule = new Rule(this, 'TriageRule', {
      description: "authwatch: Security Hub findings of authwatch's product an analyst resolved or suppressed",
      eventPattern: triageEventPattern(productArn),
      targets: [
        new LambdaFunction(fn, {
          deadLetterQueue: deadLetterQueue.queue,
          retryAttempts: TRIAGE_RULE_RETRY_ATTEMPTS,
          maxEventAge: TRIAGE_MAX_EVENT_AGE,
        }),
      ],
    });

    const alarm = new Alarm(this, 'FailedTriageNotEmpty', {
      alarmDescription:
        "authwatch: an analyst's Security Hub triage could not be applied (the triage function failed after its retries, or EventBridge could not invoke it). The event is in the FailedTriage dead-letter queue: read the triage function's log, fix the cause, then apply it with npm run authwatch -- benign|malicious <alert id> and delete the message.",
      metric: deadLetterQueue.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(props.alarmTopic));
    alarm.addOkAction(new SnsAction(props.alarmTopic));
    return { function: fn, role, rule, deadLetterQueue, alarm };
  }
}
