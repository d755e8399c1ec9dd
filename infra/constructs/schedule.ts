/**
 * EventBridge Scheduler schedules that invoke a Lambda. The detector's: every 15 minutes, with the schedule's own
 * time as the window end, so a retried or replayed invocation runs exactly the same window.
 */
import { type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { BUCKET_MS } from '../../shared/core/model';
import { DeadLetterQueue } from './dead-letter-queue';

/** One run per 15-minute bucket, the unit baselines count in (Elastic's jobs use 15-minute buckets too). */
export const RUN_INTERVAL = Duration.millis(BUCKET_MS);
/**
 * Scheduler's retries of a failed *delivery* (throttling, Lambda unavailable): after 15 minutes the next run is due,
 * and its 30-minute look-back covers the missed window, so retrying longer would only duplicate work.
 */
export const SCHEDULE_MAX_EVENT_AGE = RUN_INTERVAL;
export const SCHEDULE_RETRY_ATTEMPTS = 4;

/**
 * One Lambda invoked on a fixed rate by EventBridge Scheduler, with its own role and a dead-letter queue for
 * invocations Scheduler could not deliver after its retries. Every authwatch schedule is one of these.
 */
export interface LambdaScheduleProps {
  readonly target: IFunction;
  readonly interval: Duration;
  readonly description: string;
  /** What the role Scheduler assumes is for, as IAM shows it. */
  readonly roleDescription: string;
  /** The event the target receives. */
  readonly input: ScheduleTargetInput;
  /** Scheduler's retries of a failed *delivery* (throttling, Lambda unavailable), within `maxEventAge`. */
  readonly retryAttempts: number;
  readonly maxEventAge: Duration;
  /**
   * Where undelivered invocations go: a queue the caller already has (e.g. the function's own on-failure queue),
   * or the purpose of a queue of the schedule's own, created as `Undelivered`.
   */
  readonly deadLetterQueue: DeadLetterQueue | { readonly purpose: string };
  /** @default true */
  readonly enabled?: boolean;
}

export class LambdaSchedule extends Construct {
  readonly schedule: Schedule;
  /** Invocations Scheduler could not deliver after its retries. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** The role Scheduler assumes to invoke the target (and to send to the DLQ). */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: LambdaScheduleProps) {
    super(scope, id);
    this.deadLetterQueue =
      props.deadLetterQueue instanceof DeadLetterQueue
        ? props.deadLetterQueue
        : new DeadLetterQueue(this, 'Undelivered', { purpose: props.deadLetterQueue.purpose });
    // Our own role rather than the target's shared default, so the trust is limited to this account's schedules and
    // the policy's one finding can be acknowledged right here.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: props.roleDescription,
    });
    this.schedule = new Schedule(this, 'Schedule', {
      schedule: ScheduleExpression.rate(props.interval),
      description: props.description,
      enabled: props.enabled ?? true,
      target: new LambdaInvoke(props.target, {
        input: props.input,
        retryAttempts: props.retryAttempts,
        maxEventAge: props.maxEventAge,
        deadLetterQueue: this.deadLetterQueue.queue,
        role: this.role,
      }),
    });
    Validations.of(this.role.node.findChild('DefaultPolicy')).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(props.target.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        'Added by grantInvoke for this one function: "<function ARN>:*" matches only its versions and aliases, which Scheduler may invoke as the same function.',
    });
  }
}

export interface DetectorScheduleProps {
  readonly target: IFunction;
  /** Off leaves everything deployed but nothing running (e.g. while priming baselines with `backfill`). */
  readonly enabled?: boolean;
}

export class DetectorSchedule extends LambdaSchedule {
  constructor(scope: Construct, id: string, props: DetectorScheduleProps) {
    super(scope, id, {
      target: props.target,
      interval: RUN_INTERVAL,
      description: 'authwatch: run the detector over the last 30 minutes of logons',
      roleDescription: 'authwatch: EventBridge Scheduler invokes the detector',
      // The handler reads `time` (lambdas/detector/event.ts) and floors it to the 15-minute bucket.
      input: ScheduleTargetInput.fromObject({ time: ContextAttribute.scheduledTime }),
      retryAttempts: SCHEDULE_RETRY_ATTEMPTS,
      maxEventAge: SCHEDULE_MAX_EVENT_AGE,
      deadLetterQueue: {
        purpose:
          'EventBridge Scheduler dead-letter queue: invocations Scheduler could not deliver to the detector after its retries',
      },
      enabled: props.enabled,
    });
  }
}
