/**
 * Where alerts and alarms go, each subscriber type on the topic that speaks its format, so every subscriber gets
 * each alert exactly once without a filter policy (shared/adapters/sns-alert-sink.ts publishes to match):
 * - the alerts topic: one message per alert; email gets readable text, every other protocol the alert document.
 *   Operators subscribe their SIEM, PagerDuty, queues and functions here; alert emails in `each` mode too;
 * - the digest topic (alert emails in `digest` mode, the default): one email per run, every alert explained in full;
 * - the chat topic (with Slack): AWS Chatbot's cards, one per alert and one when the per-run cap cut findings.
 *   Chatbot subscribes over HTTPS and reads its own schema only, so it cannot share the alerts topic's `https`
 *   message with webhooks that need the alert document;
 * - the operations topic: CloudWatch alarms (email and Slack).
 * All KMS-encrypted with one key and TLS-only.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { LoggingLevel, SlackChannelConfiguration } from 'aws-cdk-lib/aws-chatbot';
import { Effect, ManagedPolicy, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface SlackChannel {
  /** The Slack workspace (team) id, authorized beforehand in the AWS Chatbot console. */
  readonly workspaceId: string;
  readonly channelId: string;
}

export interface AlertingProps {
  /** Alert recipients by email; each must confirm the subscription SNS sends. */
  readonly alertEmails: readonly string[];
  /** `digest`: alert emails get one email per run (the digest topic); `each`: one email per alert (the alerts topic). */
  readonly alertEmailMode: 'digest' | 'each';
  /** Operational-alarm recipients by email. */
  readonly opsEmails: readonly string[];
  /** Optional Slack channel (AWS Chatbot) receiving both alerts and operational alarms. */
  readonly slack?: SlackChannel;
  /** Prefix for the Chatbot configuration name (unique per account). */
  readonly namePrefix: string;
}

export class Alerting extends Construct {
  /** Encrypts every topic; CloudWatch alarms may use it to publish to the operations topic. */
  readonly key: Key;
  /** The detector publishes each alert here (grantPublish next to the function in the stack). */
  readonly alertsTopic: Topic;
  /** The per-run digest for alert emails; only in `digest` mode with at least one alert email. */
  readonly digestTopic?: Topic;
  /** AWS Chatbot's alert cards; only with Slack. */
  readonly chatTopic?: Topic;
  /** CloudWatch alarms publish here. */
  readonly opsTopic: Topic;
  readonly slackChannel?: SlackChannelConfiguration;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new Key(this, 'TopicKey', {
      description: 'authwatch: encrypts the alerts, digest, chat and operations SNS topics',
      enableKeyRotation: true,
      // Nothing outlives the topics under this key (SNS keeps no messages), so it can go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // AWS-managed alias/aws/sns cannot be used by CloudWatch alarms (its policy cannot be edited), hence a customer
    // key that lets the CloudWatch service encrypt the messages it publishes to the operations topic.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );

    this.alertsTopic = new Topic(this, 'AlertsTopic', {
      displayName: 'authwatch alerts',
      masterKey: this.key,
      enforceSSL: true,
    });
    this.opsTopic = new Topic(this, 'OpsTopic', {
      displayName: 'authwatch operations',
      masterKey: this.key,
      enforceSSL: true,
    });
    // CloudWatch alarms of this account only (an explicit topic policy replaces SNS's default owner statement).
    this.opsTopic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsOfThisAccount',
        effect: Effect.ALLOW,
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.opsTopic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }) },
        },
      }),
    );

    // Alert emails: one email per run from the digest topic, or one per alert from the alerts topic; never both.
    let alertEmailTopic = this.alertsTopic;
    if (props.alertEmailMode === 'digest' && props.alertEmails.length > 0) {
      this.digestTopic = new Topic(this, 'DigestTopic', { displayName: 'authwatch digest', masterKey: this.key, enforceSSL: true });
      alertEmailTopic = this.digestTopic;
    }
    for (const email of props.alertEmails) alertEmailTopic.addSubscription(new EmailSubscription(email));
    for (const email of props.opsEmails) this.opsTopic.addSubscription(new EmailSubscription(email));

    if (props.slack) {
      this.chatTopic = new Topic(this, 'ChatTopic', { displayName: 'authwatch chat', masterKey: this.key, enforceSSL: true });
      this.slackChannel = this.addSlack(props.slack, props.namePrefix, this.chatTopic);
    }
  }

  private addSlack(slack: SlackChannel, namePrefix: string, chatTopic: Topic): SlackChannelConfiguration {
    // Chatbot's "notification permissions" template: enough to render CloudWatch alarm notifications (charts), nothing
    // else. Used both as the channel role's policy and as the guardrail, which caps what any channel member can do.
    const notificationsOnly = new ManagedPolicy(this, 'ChatbotNotificationsOnly', {
      description: 'authwatch Slack channel: read CloudWatch to render alarm notifications; no other AWS access from Slack',
      statements: [
        new PolicyStatement({
          actions: ['cloudwatch:Describe*', 'cloudwatch:Get*', 'cloudwatch:List*'],
          resources: ['*'],
        }),
      ],
    });
    const channel = new SlackChannelConfiguration(this, 'Slack', {
      slackChannelConfigurationName: `${namePrefix}-alerts`.slice(0, 128),
      slackWorkspaceId: slack.workspaceId,
      slackChannelId: slack.channelId,
      // Not the alerts topic: its `https` message is the alert document, for webhooks; Chatbot gets cards on its own topic.
      notificationTopics: [chatTopic, this.opsTopic],
      guardrailPolicies: [notificationsOnly],
      loggingLevel: LoggingLevel.ERROR,
    });
    if (channel.role) notificationsOnly.attachToRole(channel.role);
    Validations.of(notificationsOnly).acknowledge(
      ...['Action::cloudwatch:Describe*', 'Action::cloudwatch:Get*', 'Action::cloudwatch:List*', 'Resource::*'].map((f) => ({
        id: `AwsSolutions-IAM5[${f}]`,
        reason:
          "AWS Chatbot's documented notification-permissions template (CloudWatch read-only) that it needs to render alarm notifications in Slack; it is also the channel guardrail, so no Slack user can do more than read CloudWatch through the bot.",
      })),
    );
    return channel;
  }
}
