/** An SQS dead-letter queue for failed detector invocations: encrypted, TLS-only, kept the SQS maximum of 14 days. */
import { Duration, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface DeadLetterQueueProps {
  /** What lands here, for the acknowledgement of AwsSolutions-SQS3 and the docs. */
  readonly purpose: string;
}

/** SQS keeps a message at most 14 days: the time a responder has to inspect and replay a failed window. */
export const DLQ_RETENTION = Duration.days(14);

export class DeadLetterQueue extends Construct {
  readonly queue: Queue;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      retentionPeriod: DLQ_RETENTION,
      // SSE-SQS: encrypted at rest with no key policy for Lambda or Scheduler to need.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(this.queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself a dead-letter queue (${props.purpose}); a DLQ of a DLQ would only move the same messages.`,
    });
  }
}
