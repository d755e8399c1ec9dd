/**
 * The authwatch stack: one construct per subsystem, wired here, with each grant written next to the resources it
 * joins. Everything configurable arrives validated in `DeployConfig` (infra/config.ts).
 */
import { CfnOutput, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import type { Role } from 'aws-cdk-lib/aws-iam';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { ENV } from '../shared/config';
import { detectorExtraEnvironment, type DeployConfig } from './config';
import { Alerting } from './constructs/alerting';
import { Detector, DETECTOR_TIMEOUT } from './constructs/detector';
import { Fanout } from './constructs/fanout';
import { Monitoring } from './constructs/monitoring';
import { NetworkData } from './constructs/network-data';
import { AlertOutputs } from './constructs/outputs';
import { DetectorSchedule } from './constructs/schedule';
import { BaselineStorage } from './constructs/storage';

export interface AuthwatchStackProps extends StackProps {
  readonly config: DeployConfig;
}

export class AuthwatchStack extends Stack {
  readonly storage: BaselineStorage;
  readonly alerting: Alerting;
  readonly detector: Detector;
  /** The detector's schedule; absent with `fanout.enabled`, where the state machine has the schedule. */
  readonly schedule: DetectorSchedule | undefined;
  /** The Step Functions fan-out; absent for the single Lambda (the default). */
  readonly fanout: Fanout | undefined;
  readonly monitoring: Monitoring;
  /** Absent when the deployment has `networkData: false`. */
  readonly networkData: NetworkData | undefined;
  /** EventBridge and Security Hub outputs; absent when neither is enabled. */
  readonly outputs: AlertOutputs | undefined;

  constructor(scope: Construct, id: string, props: AuthwatchStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.storage = new BaselineStorage(this, 'Storage', { retain: config.retainData });
    this.alerting = new Alerting(this, 'Alerting', {
      alertEmails: config.alertEmails,
      alertEmailMode: config.alertEmailMode,
      opsEmails: config.opsEmails,
      ...(config.slack ? { slack: config.slack } : {}),
      namePrefix: this.stackName,
    });
    this.detector = new Detector(this, 'Detector', {
      tableName: this.storage.table.tableName,
      topicArn: this.alerting.alertsTopic.topicArn,
      logSources: config.logSources,
      settings: config.settings,
      serviceName: config.serviceName,
      logRetention: config.logRetentionDays,
    });
    // The formats and identity rules the deployment defines (validated again by the function).
    for (const [name, value] of Object.entries(detectorExtraEnvironment(config)))
      this.detector.function.addEnvironment(name, value);
    this.grantDetection(this.detector.function, this.detector.role);

    // Outputs beside SNS (each opt-in): the detector's grants and variables for them, and Security Hub's triage.
    this.outputs =
      config.eventBridge || config.securityHub
        ? new AlertOutputs(this, 'Outputs', {
            detector: this.detector,
            table: this.storage.table,
            eventBridge: config.eventBridge,
            securityHub: config.securityHub,
            ledgerTtlDays: config.settings.ledgerTtlDays,
            logRetention: config.logRetentionDays,
            serviceName: config.serviceName,
            alarmTopic: this.alerting.opsTopic,
          })
        : undefined;

    // One schedule: the detector's, or with fan-out the state machine's. The detector stays deployed either way, for
    // a manual replay of one window (`DetectorFunctionName`).
    this.fanout = config.fanout
      ? new Fanout(this, 'Fanout', {
          config: config.fanout,
          tableName: this.storage.table.tableName,
          topicArn: this.alerting.alertsTopic.topicArn,
          logSources: config.logSources,
          settings: config.settings,
          serviceName: config.serviceName,
          logRetention: config.logRetentionDays,
          alarmTopic: this.alerting.opsTopic,
        })
      : undefined;
    if (this.fanout) {
      this.grantDetection(this.fanout.function, this.fanout.role);
      for (const [name, value] of Object.entries(detectorExtraEnvironment(config)))
        this.fanout.function.addEnvironment(name, value);
    }
    this.schedule = this.fanout
      ? undefined
      : new DetectorSchedule(this, 'Schedule', { target: this.detector.function });

    // The network-owner database: refreshed weekly into its own bucket, read by the detector at cold start.
    this.networkData = config.networkData
      ? new NetworkData(this, 'NetworkData', {
          sourceUrl: config.networkData.sourceUrl,
          logRetention: config.logRetentionDays,
          serviceName: config.serviceName,
          // Public data rebuilt weekly, but kept like the table so that `retainData` means one thing.
          retain: config.retainData,
        })
      : undefined;
    this.networkData?.addReader(this.detector.function);
    if (this.fanout) this.networkData?.addReader(this.fanout.function);

    this.monitoring = new Monitoring(this, 'Monitoring', {
      detector: this.detector.function,
      serviceName: config.serviceName,
      alarmTopic: this.alerting.opsTopic,
      deadLetterQueues: {
        FailedRuns: this.detector.deadLetterQueue.queue,
        UndeliveredInvocations: (this.schedule ?? this.fanout!).deadLetterQueue.queue,
      },
      // One dashboard per deployment; the stack name is unique in the account and region.
      dashboardName: this.stackName,
      timeout: DETECTOR_TIMEOUT,
      logSources: config.logSourceAlarms,
      ...(this.networkData
        ? {
            networkData: {
              refreshFunction: this.networkData.function,
              deadLetterQueue: this.networkData.deadLetterQueue.queue,
            },
          }
        : {}),
    });

    if (this.fanout)
      new CfnOutput(this, 'FanoutStateMachineArn', {
        value: this.fanout.stateMachine.stateMachineArn,
        description: 'Start an execution with {"time":"<ISO time>"} to run that scheduled time\'s windows',
      });
    new CfnOutput(this, 'DetectorFunctionName', {
      value: this.detector.function.functionName,
      description: 'Invoke with {"windowEnd":"<ISO time>"} to replay a window',
    });
    new CfnOutput(this, 'BaselinesTableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'AlertsTopicArn', {
      value: this.alerting.alertsTopic.topicArn,
      description:
        'Subscribe more endpoints here (SIEM, PagerDuty, queues): one message per alert, the alert JSON for every protocol but email',
    });
    if (this.alerting.digestTopic)
      new CfnOutput(this, 'DigestTopicArn', {
        value: this.alerting.digestTopic.topicArn,
        description: 'One email per run with every alert explained',
      });
    if (this.alerting.chatTopic)
      new CfnOutput(this, 'ChatTopicArn', {
        value: this.alerting.chatTopic.topicArn,
        description: 'AWS Chatbot (Slack) cards',
      });
    new CfnOutput(this, 'OpsTopicArn', { value: this.alerting.opsTopic.topicArn });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
    if (this.networkData) {
      new CfnOutput(this, 'NetworkDataBucketName', {
        value: this.networkData.bucket.bucketName,
        description: `The network-owner database in use: ${this.networkData.prefix}current.json names it`,
      });
      new CfnOutput(this, 'NetworkDataRefreshFunctionName', {
        value: this.networkData.function.functionName,
        description: 'Invoke (no payload) to refresh the network-owner database now',
      });
    }
  }

  /**
   * What a function running the detection needs besides its queries: the table (the adapter's own calls only) and
   * the topics. Publishing to the encrypted topics also needs the key (grantPublish adds kms:GenerateDataKey* and Decrypt
   * on it); the digest and chat topics exist only when configured, and the handler publishes to those whose ARN it
   * is given.
   */
  private grantDetection(fn: NodejsFunction, role: Role): void {
    this.storage.grantDetector(fn);
    this.alerting.alertsTopic.grantPublish(fn);
    if (this.alerting.digestTopic) {
      this.alerting.digestTopic.grantPublish(fn);
      fn.addEnvironment(ENV.digestTopicArn, this.alerting.digestTopic.topicArn);
    }
    if (this.alerting.chatTopic) {
      this.alerting.chatTopic.grantPublish(fn);
      fn.addEnvironment(ENV.chatTopicArn, this.alerting.chatTopic.topicArn);
    }
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason:
        "Added by Topic.grantPublish for the topics' key only (resource is that key's ARN): SNS needs GenerateDataKey with and without plaintext to encrypt published messages.",
    });
  }
}
