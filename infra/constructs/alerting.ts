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
import { Effect, ManagedPolicy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
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

    this.key = new Key(this, 'TopicKey', {
      description: 'authwatch: encrypts the alerts, digest, chat and operations SNS topics',
      enableKeyRotation: true,
      // Nothing outlives the topics under this key (SNS keeps no messages), so it can go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // AWS-managed alias/aws/sns cannot be used by CloudWatch alarms (its policy cannot be edited), hence a customer
    // key that lets the CloudWatch service encrypt the messages it publishes to the operations topic. Only for this
    // account's alarms: the Amazon SNS Developer Guide ("Enable compatibility between event sources from AWS services
    // and encrypted topics", https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services)
    // has the service principal's key-policy statement carry aws:SourceAccount and aws:SourceArn against the confused
    // deputy, and the CloudWatch User Guide ("Setting up Amazon SNS notifications: Preventing confused deputy issues",
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/US_SetupSNS.html) gives CloudWatch's values:
    // the account, and the alarm ARN (arn:aws:cloudwatch:REGION:ACCOUNT:alarm:NAME). The same pair as the operations
    // topic's policy below.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchAlarmsToPublishToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: this.fromThisAccountsAlarms(),
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
        conditions: this.fromThisAccountsAlarms(),
      }),
    );

    // Alert emails: one email per run from the digest topic, or one per alert from the alerts topic; never both.
    let alertEmailTopic = this.alertsTopic;
    if (props.alertEmailMode === 'digest' && props.alertEmails.length > 0) {
      this.digestTopic = new Topic(this, 'DigestTopic', {
        displayName: 'authwatch digest',
        masterKey: this.key,
        enforceSSL: true,
      });
      alertEmailTopic = this.digestTopic;
    }
    for (const email of props.alertEmails) alertEmailTopic.addSubscription(new EmailSubscription(email));
    for (const email of props.opsEmails) this.opsTopic.addSubscription(new EmailSubscription(email));

    if (props.slack) {
      this.chatTopic = new Topic(this, 'ChatTopic', {
        displayName: 'authwatch chat',
        masterKey: this.key,
        enforceSSL: true,
      });
      this.slackChannel = this.addSlack(props.slack, props.namePrefix, this.chatTopic);
    }
  }

  /** `aws:SourceAccount` and `aws:SourceArn` of a request CloudWatch makes for one of this account's alarms in this region. */
  private fromThisAccountsAlarms(): Record<string, Record<string, string>> {
    const stack = Stack.of(this);
    return {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: '*',
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
  }

  private addSlack(slack: SlackChannel, namePrefix: string, chatTopic: Topic): SlackChannelConfiguration {
    // Chatbot's "notification permissions" template: enough to render CloudWatch alarm notifications (charts), nothing
    // else; the Chatbot guide calls it required for its core function (AWS Chatbot Administrator Guide, "IAM policies":
    // the Notification Permissions policy). Used both as the channel role's policy and as the guardrail, which caps
    // what anyone can do through the channel, whatever their own role allows.
    const notificationsOnly = new ManagedPolicy(this, 'ChatbotNotificationsOnly', {
      description:
        'authwatch Slack channel: read CloudWatch to render alarm notifications; no other AWS access from Slack',
      statements: [
        new PolicyStatement({
          actions: ['cloudwatch:Describe*', 'cloudwatch:Get*', 'cloudwatch:List*'],
          resources: ['*'],
        }),
      ],
    });
    const configurationName = `${namePrefix}-alerts`.slice(0, 128);
    const stack = Stack.of(this);
    // The channel role: what Chatbot itself uses to render the alarm cards. Its trust is limited to this account's
    // Chatbot. AWS documents no confused-deputy condition keys for Chatbot's AssumeRole (its administrator guide
    // names none; the IAM User Guide's "Cross-service confused deputy prevention",
    // https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html, recommends aws:SourceAccount and
    // aws:SourceArn where a service supplies them), and a plain condition on a key the service does not send fails
    // (IAM User Guide, "Condition operators": ...IfExists, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_IfExists),
    // which would silently cut the channel off. So the keys are checked whenever Chatbot sends them: another account's
    // configuration is refused, a request without them is not.
    const role = new Role(this, 'ChatbotChannelRole', {
      description:
        'authwatch Slack channel (AWS Chatbot): reads CloudWatch to draw alarm cards; runs no commands (user roles required)',
      assumedBy: new ServicePrincipal('chatbot.amazonaws.com').withConditions({
        StringEqualsIfExists: { 'aws:SourceAccount': stack.account },
        ArnLikeIfExists: { 'aws:SourceArn': `arn:${stack.partition}:chatbot:*:${stack.account}:*` },
      }),
    });
    notificationsOnly.attachToRole(role);
    const channel = new SlackChannelConfiguration(this, 'Slack', {
      slackChannelConfigurationName: configurationName,
      slackWorkspaceId: slack.workspaceId,
      slackChannelId: slack.channelId,
      role,
      // Not the alerts topic: its `https` message is the alert document, for webhooks; Chatbot gets cards on its own topic.
      notificationTopics: [chatTopic, this.opsTopic],
      guardrailPolicies: [notificationsOnly],
      // Commands from the channel need the member's own user role, never the channel role: a member without AWS access
      // of their own in this account can run nothing, and one with it no more than the guardrail (CloudWatch reads).
      // AWS Chatbot Administrator Guide, "Understanding permissions": user roles and the user role requirement,
      // https://docs.aws.amazon.com/chatbot/latest/adminguide/understanding-permissions.html#role-reqs
      userRoleRequired: true,
      loggingLevel: LoggingLevel.ERROR,
    });
    Validations.of(notificationsOnly).acknowledge(
      ...['Action::cloudwatch:Describe*', 'Action::cloudwatch:Get*', 'Action::cloudwatch:List*', 'Resource::*'].map(
        (f) => ({
          id: `AwsSolutions-IAM5[${f}]`,
          reason:
            "AWS Chatbot's documented notification-permissions template (CloudWatch read-only) that it needs to render alarm notifications in Slack; it is also the channel guardrail, so no Slack user can do more than read CloudWatch through the bot.",
        }),
      ),
    );
    return channel;
  }
}
