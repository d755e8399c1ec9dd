import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Runtime } from 'aws-cdk-lib/aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_RUNTIME, DETECTOR_TIMEOUT, QUERY_BUDGET } from '../../infra/constructs/detector';
import { DETECTOR_TABLE_ACTIONS } from '../../infra/constructs/storage';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../../shared/adapters/items/keys';
import { DEFAULT_QUERY_TIMEOUT_MS, ENV, logSourceId, parseRuntimeConfig } from '../../shared/config';
import {
  DETECTOR_DIMENSION,
  LOG_SOURCE_DIMENSION,
  METRIC_NAMESPACE,
  METRICS,
  SERVICE_DIMENSION,
  SERVICE_NAME_ENV,
} from '../../shared/telemetry';
import { MALFORMED_RATE_THRESHOLD_PERCENT } from '../../infra/constructs/monitoring';
import {
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  type MessageAttributeValue,
  type PublishBatchCommandInput,
  type PublishCommandInput,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { NETWORK_DATA_LOCATION_ENV } from '../../lambdas/network-data-env';
import { parseNetworkDataLocation } from '../../lambdas/detector/network-data';
import { REFRESH_ENV } from '../../lambdas/refresh-network-data/config';
import { REFRESH_INTERVAL } from '../../infra/constructs/network-data';
import { NETWORK_DATA_UNAVAILABLE_HOURS } from '../../infra/constructs/monitoring';
import { DEFAULT_MAX_AGE_DAYS, NETWORK_DATA_METRICS } from '../../shared/adapters/network-data-loader';
import { DEFAULT_NETWORK_DATA_PREFIX } from '../../shared/adapters/network-data-s3';
import { IPTOASN_COMBINED_URL } from '../../shared/adapters/network-data-source';
import { compose } from '../../lambdas/detector/handler';
import { makeAlert } from '../support/alerts';
import { render, synth, TEST_CONFIG } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
  Principal?: unknown;
};

let template: Template;
let resources: Record<string, Resource>;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const only = (type: string): [string, Resource] => {
  const all = ofType(type);
  expect(all, type).toHaveLength(1);
  return all[0]!;
};
/** The one resource of `type` whose logical id starts with `prefix` (the stack has two functions, schedules, ...). */
const named = (type: string, prefix: string): [string, Resource] => {
  const all = ofType(type).filter(([id]) => id.startsWith(prefix));
  expect(all, `${type} ${prefix}*`).toHaveLength(1);
  return all[0]!;
};
const detectorFunction = () => named('AWS::Lambda::Function', 'DetectorFunction');
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
function detectorPolicyStatements(): Statement[] {
  const [roleId] = named('AWS::IAM::Role', 'DetectorRole');
  const policies = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId));
  return policies.flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

beforeAll(() => {
  ({ template } = synth({ config: TEST_CONFIG }));
  resources = template.toJSON().Resources as Record<string, Resource>;
});

describe('schedule', () => {
  it('runs every 15 minutes with the scheduled time as the window end', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Input: JSON.stringify({ time: '<aws.scheduler.scheduled-time>' }) }),
    });
  });

  it('bounds retries to the run interval and sends undeliverable invocations to a DLQ', () => {
    const [, schedule] = named('AWS::Scheduler::Schedule', 'Schedule');
    const target = schedule.Properties.Target as {
      RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
      DeadLetterConfig: { Arn: unknown };
    };
    expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBe(15 * 60);
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeLessThanOrEqual(5);
    const dlq = render(target.DeadLetterConfig.Arn);
    expect(resources[dlq.slice(2).split('.')[0]!]?.Type).toBe('AWS::SQS::Queue');
  });

  it("lets only this account's Scheduler assume the role that invokes the detector", () => {
    const [, role] = ofType('AWS::IAM::Role').find(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    )!;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
  });
});

describe('detector function', () => {
  it('runs the newest Node.js runtime aws-cdk-lib knows, on arm64, one at a time', () => {
    const newestNode = Runtime.ALL.filter((r) => /^nodejs\d/.test(r.name))
      .sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
      .pop()!;
    expect(DETECTOR_RUNTIME.name).toBe(newestNode.name);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: newestNode.name,
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      Timeout: 300,
      MemorySize: 1024,
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: Match.anyValue() },
    });
  });

  it('retries async failures a bounded number of times, then sends them to an SQS DLQ', () => {
    const [detectorId] = detectorFunction();
    const [, config] = ofType('AWS::Lambda::EventInvokeConfig').find(
      ([, c]) => render(c.Properties.FunctionName) === `\${${detectorId}}`,
    )!;
    expect(config.Properties.MaximumRetryAttempts).toBe(2);
    expect(config.Properties.MaximumEventAgeInSeconds).toBe(3600);
    const destination = render(
      (config.Properties.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure.Destination,
    );
    expect(resources[destination.slice(2).split('.')[0]!]?.Type).toBe('AWS::SQS::Queue');
  });

  it('logs to its own log group with a retention', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it('gets its configuration through the env var names the handler reads, and the handler accepts it', () => {
    const [, fn] = detectorFunction();
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(vars).sort()).toEqual(
      [...Object.values(ENV), ...Object.values(NETWORK_DATA_LOCATION_ENV), SERVICE_NAME_ENV, 'NODE_OPTIONS'].sort(),
    );
    expect(vars[SERVICE_NAME_ENV]).toBe('authwatch-test');
    // Source maps, and a heap of three quarters of the function's 1,024 MB.
    expect(vars.NODE_OPTIONS).toBe('--enable-source-maps --max-old-space-size=768 --max-semi-space-size=32');
    expect(JSON.parse(vars[ENV.logSources] as string)).toEqual(TEST_CONFIG.logSources);

    // Stand-ins for the deploy-time tokens, then the handler's own parser: what synthesizes is what runs.
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    env[ENV.tableName] = 'Authwatch-StorageTable-ABC';
    env[ENV.topicArn] = 'arn:aws:sns:eu-west-1:123456789012:Authwatch-AlertsTopic-ABC';
    env[ENV.digestTopicArn] = 'arn:aws:sns:eu-west-1:123456789012:Authwatch-DigestTopic-ABC';
    env[ENV.chatTopicArn] = 'arn:aws:sns:eu-west-1:123456789012:Authwatch-ChatTopic-ABC';
    const runtime = parseRuntimeConfig(env);
    expect(runtime.digestTopicArn).toBe(env[ENV.digestTopicArn]);
    expect(runtime.chatTopicArn).toBe(env[ENV.chatTopicArn]);
    expect(runtime.settings.learningDays).toBe(7);
    expect(runtime.settings.thresholds).toEqual({ ...DEFAULT_SETTINGS.thresholds, 'Auth.RareUser': 80 });
    expect(runtime.settings.allowUsers).toEqual(['svc-*']);
    expect(runtime.settings.allowCidrs).toEqual(['10.0.0.0/8']);
    expect(runtime.queryTimeoutMs).toBe(240_000);
    // The one query budget (shared/config.ts) leaves the run at least a minute of the Lambda's timeout.
    expect(runtime.queryTimeoutMs).toBe(DEFAULT_QUERY_TIMEOUT_MS);
    expect(DETECTOR_TIMEOUT.toMilliseconds() - QUERY_BUDGET.toMilliseconds()).toBeGreaterThanOrEqual(60_000);
    expect(render(vars[ENV.tableName])).toMatch(/^\$\{Storage/);
    expect(render(vars[ENV.topicArn])).toMatch(/^\$\{AlertingAlertsTopic/);
    expect(render(vars[ENV.digestTopicArn])).toMatch(/^\$\{AlertingDigestTopic/);
    expect(render(vars[ENV.chatTopicArn])).toMatch(/^\$\{AlertingChatTopic/);
  });
});

describe('IAM', () => {
  it('allows logs:StartQuery on the configured log groups and nothing else', () => {
    const start = detectorPolicyStatements().filter((s) => actions(s).includes('logs:StartQuery'));
    expect(start).toHaveLength(1);
    const arns = (start[0]!.Resource as unknown[]).map(render).sort();
    const prefix = 'arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:';
    const groups = ['/ec2/bastion/secure', '/ec2/secure', 'aws-cloudtrail-logs-123456789012'];
    expect(arns).toEqual(groups.flatMap((g) => [`${prefix}${g}`, `${prefix}${g}:*`]).sort());
  });

  it('uses Resource "*" only for GetQueryResults and StopQuery', () => {
    const star = detectorPolicyStatements().filter((s) => s.Resource === '*');
    expect(star.flatMap(actions).sort()).toEqual(['logs:GetQueryResults', 'logs:StopQuery']);
  });

  it('grants the table exactly the calls the DynamoDB adapter makes', () => {
    const table = detectorPolicyStatements().filter((s) => actions(s).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap(actions).sort()).toEqual([...DETECTOR_TABLE_ACTIONS].sort());
    expect(table.every((s) => render(s.Resource).startsWith('${StorageTable'))).toBe(true);

    // Commands only the local CLI uses to create its embedded table, and Scan, which only the operator's
    // `status` makes (with the operator's own credentials): the Lambda never calls them, so it is not granted them.
    const localOnly = new Set(['CreateTable', 'DescribeTable', 'UpdateTimeToLive', 'Scan']);
    const source = readFileSync(join(PROJECT_ROOT, 'shared/adapters/dynamodb-baseline-store.ts'), 'utf8');
    const used = [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!).filter((c) => !localOnly.has(c));
    for (const command of used)
      expect(DETECTOR_TABLE_ACTIONS, `the adapter calls ${command}`).toContain(`dynamodb:${command}`);
  });

  it('lets the detector publish to the alerts, digest and chat topics (and use their key), not the operations topic', () => {
    const statements = detectorPolicyStatements();
    const publish = statements.filter((s) => actions(s).includes('sns:Publish'));
    const publishTo = publish
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]))
      .map((r) => render(r).replace(/[0-9A-F]{8}\}$/, '}'));
    expect(publishTo.sort()).toEqual(['${AlertingAlertsTopic}', '${AlertingChatTopic}', '${AlertingDigestTopic}']);
    const kms = statements.filter((s) => actions(s).some((a) => a.startsWith('kms:')));
    const keys = kms.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).map(render);
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).toMatch(/^\$\{AlertingTopicKey.*\.Arn\}$/);
  });
});

describe('baselines table', () => {
  it('is on-demand, recoverable, encrypted, with TTL on the ledger attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      SSESpecification: { SSEEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('is retained when the stack is deleted', () => {
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });
});

describe('topics and notifications', () => {
  /** `${AlertingAlertsTopic}` for the alerts topic's ARN: the logical id without CDK's hash suffix. */
  const topicName = (arn: unknown) => render(arn).replace(/[0-9A-F]{8}\}$/, '}');

  it('encrypts every topic with a rotating customer key that CloudWatch alarms may use', () => {
    const topics = ofType('AWS::SNS::Topic');
    expect(topics.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AlertingAlertsTopic',
      'AlertingChatTopic',
      'AlertingDigestTopic',
      'AlertingOpsTopic',
    ]);
    for (const [, t] of topics) expect(render(t.Properties.KmsMasterKeyId)).toMatch(/^\$\{AlertingTopicKey.*\.Arn\}$/);
    const [, key] = only('AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const cw = statements.find((s) => JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'))!;
    expect(actions(cw).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
  });

  it('lets CloudWatch use the key, and publish to the operations topic, only for alarms of this account and region', () => {
    const thisAccountsAlarms = {
      StringEquals: { 'aws:SourceAccount': '${AWS::AccountId}' },
      ArnLike: { 'aws:SourceArn': 'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*' },
    };
    const conditions = (s: Statement) => {
      const c = s.Condition as Record<string, Record<string, unknown>>;
      return Object.fromEntries(
        Object.entries(c).map(([op, kv]) => [
          op,
          Object.fromEntries(Object.entries(kv).map(([k, v]) => [k, render(v)])),
        ]),
      );
    };
    const [, key] = only('AWS::KMS::Key');
    const keyStatements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement.filter((s) =>
      JSON.stringify(s.Principal).includes('cloudwatch.amazonaws.com'),
    );
    expect(keyStatements).toHaveLength(1);
    expect(conditions(keyStatements[0]!)).toEqual(thisAccountsAlarms);
    // Every service principal the key or the topics trust is conditioned (the account root keeps the key's admin statement).
    const services = ofType('AWS::SNS::TopicPolicy')
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .concat((key.Properties.KeyPolicy as { Statement: Statement[] }).Statement)
      .filter((st) => st.Effect === 'Allow' && JSON.stringify(st.Principal).includes('"Service"'));
    expect(services.length).toBeGreaterThanOrEqual(2);
    for (const st of services) expect(conditions(st), JSON.stringify(st.Principal)).toEqual(thisAccountsAlarms);
  });

  it('denies every non-TLS publish on every topic', () => {
    const policies = ofType('AWS::SNS::TopicPolicy');
    expect(policies).toHaveLength(4);
    for (const [, p] of policies) {
      const deny = (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.find(
        (s) => s.Effect === 'Deny',
      );
      expect(deny).toMatchObject({ Principal: '*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } });
    }
  });

  it('subscribes alert emails to the digest topic (by default) and ops emails to the operations topic, with no filter policy', () => {
    const subs = ofType('AWS::SNS::Subscription').map(([, s]) => [
      topicName(s.Properties.TopicArn),
      s.Properties.Endpoint,
      s.Properties.Protocol,
      s.Properties.FilterPolicy,
    ]);
    expect(subs.sort()).toEqual(
      [
        ['${AlertingDigestTopic}', 'oncall@example.com', 'email', undefined],
        ['${AlertingDigestTopic}', 'secops@example.com', 'email', undefined],
        ['${AlertingOpsTopic}', 'platform@example.com', 'email', undefined],
      ].sort(),
    );
  });

  it('in "each" mode subscribes alert emails to the alerts topic and creates no digest topic; without Slack no chat topic', () => {
    const { template: each } = synth({ config: { ...TEST_CONFIG, alertEmailMode: 'each', slack: undefined } });
    const res = each.toJSON().Resources as Record<string, Resource>;
    const topics = Object.entries(res)
      .filter(([, r]) => r.Type === 'AWS::SNS::Topic')
      .map(([id]) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(topics.sort()).toEqual(['AlertingAlertsTopic', 'AlertingOpsTopic']);
    const subs = Object.values(res)
      .filter((r) => r.Type === 'AWS::SNS::Subscription')
      .map((s) => [topicName(s.Properties.TopicArn), s.Properties.Endpoint]);
    expect(subs.filter(([, e]) => e !== 'platform@example.com').sort()).toEqual([
      ['${AlertingAlertsTopic}', 'oncall@example.com'],
      ['${AlertingAlertsTopic}', 'secops@example.com'],
    ]);
    const [, fn] = Object.entries(res).find(
      ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('DetectorFunction'),
    )!;
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars[ENV.digestTopicArn]).toBeUndefined();
    expect(vars[ENV.chatTopicArn]).toBeUndefined();
  });

  it('connects the Slack channel to the chat and operations topics through AWS Chatbot (never the alerts topic), with a read-only guardrail', () => {
    const [, slack] = only('AWS::Chatbot::SlackChannelConfiguration');
    expect(slack.Properties).toMatchObject({ SlackWorkspaceId: 'T07ABCDEF', SlackChannelId: 'C07ABCDEF' });
    expect((slack.Properties.SnsTopicArns as unknown[]).map(topicName).sort()).toEqual([
      '${AlertingChatTopic}',
      '${AlertingOpsTopic}',
    ]);
    const guardrails = (slack.Properties.GuardrailPolicies as unknown[]).map(render);
    expect(guardrails).toHaveLength(1);
    const [, guardrail] = ofType('AWS::IAM::ManagedPolicy').find(([id]) => guardrails[0]!.includes(id))!;
    const allowed = (guardrail.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap(actions);
    expect(
      allowed.every(
        (a) => a.startsWith('cloudwatch:Describe') || a.startsWith('cloudwatch:Get') || a.startsWith('cloudwatch:List'),
      ),
    ).toBe(true);
  });

  describe('what the Slack channel can do in AWS', () => {
    const slack = () => only('AWS::Chatbot::SlackChannelConfiguration')[1];
    const channelRole = () => {
      const roleRef = render(slack().Properties.IamRoleArn);
      const found = ofType('AWS::IAM::Role').find(([id]) => roleRef === `\${${id}.Arn}`);
      expect(found, roleRef).toBeDefined();
      return found!;
    };
    /** Every statement of every policy attached to a role, inline or managed. */
    function roleStatements(roleId: string): Statement[] {
      const inline = ofType('AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId));
      const managed = ofType('AWS::IAM::ManagedPolicy').filter(([, p]) =>
        JSON.stringify(p.Properties.Roles ?? []).includes(roleId),
      );
      const [, role] = channelRole();
      expect(role.Properties.ManagedPolicyArns ?? [], 'no AWS managed policy on the channel role').toEqual([]);
      expect(role.Properties.Policies ?? []).toEqual([]);
      return [...inline, ...managed].flatMap(
        ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
      );
    }
    /** What a statement list allows, as "Effect action resource" lines. */
    const grants = (statements: Statement[]) =>
      statements.flatMap((st) => actions(st).map((a) => `${st.Effect} ${a} ${JSON.stringify(st.Resource)}`)).sort();
    const CLOUDWATCH_READ = [
      'Allow cloudwatch:Describe* "*"',
      'Allow cloudwatch:Get* "*"',
      'Allow cloudwatch:List* "*"',
    ];

    it('requires every member to apply their own user role before any command: the channel role runs none', () => {
      expect(slack().Properties.UserRoleRequired).toBe(true);
    });

    it('caps every command (any member, any user role) with a guardrail of CloudWatch reads only', () => {
      const guardrails = (slack().Properties.GuardrailPolicies as unknown[]).map(render);
      expect(guardrails, 'an unset guardrail defaults to AdministratorAccess').toHaveLength(1);
      const [, guardrail] = ofType('AWS::IAM::ManagedPolicy').find(([id]) => guardrails[0] === `\${${id}}`)!;
      expect(grants((guardrail.Properties.PolicyDocument as { Statement: Statement[] }).Statement)).toEqual(
        CLOUDWATCH_READ,
      );
    });

    it("gives Chatbot's own role CloudWatch reads only: what drawing the alarm cards needs", () => {
      const [roleId] = channelRole();
      expect(grants(roleStatements(roleId))).toEqual(CLOUDWATCH_READ);
    });

    it("lets only Chatbot assume the channel role, refusing another account's Chatbot whenever it says which account", () => {
      const [, role] = channelRole();
      const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
      expect(trust).toHaveLength(1);
      expect(trust[0]).toMatchObject({
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Service: 'chatbot.amazonaws.com' },
      });
      const c = trust[0]!.Condition as Record<string, Record<string, unknown>>;
      expect(Object.keys(c).sort()).toEqual(['ArnLikeIfExists', 'StringEqualsIfExists']);
      expect(render(c.StringEqualsIfExists!['aws:SourceAccount'])).toBe('${AWS::AccountId}');
      expect(render(c.ArnLikeIfExists!['aws:SourceArn'])).toBe('arn:${AWS::Partition}:chatbot:*:${AWS::AccountId}:*');
    });
  });

  it('outputs the alerts topic for more subscribers, and the digest and chat topics', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(topicName(outputs.AlertsTopicArn!.Value)).toBe('${AlertingAlertsTopic}');
    expect(topicName(outputs.DigestTopicArn!.Value)).toBe('${AlertingDigestTopic}');
    expect(topicName(outputs.ChatTopicArn!.Value)).toBe('${AlertingChatTopic}');
  });
});

describe('what each subscriber receives for one alert (default configuration, with Slack)', () => {
  /** A subscriber: the topic it is on (logical id, without CDK's hash), its protocol and filter policy. */
  interface Subscriber {
    readonly name: string;
    readonly topic: string;
    readonly protocol: string;
    readonly filterPolicy?: Record<string, string[]>;
  }
  const logicalId = (arn: unknown) =>
    render(arn)
      .replace(/^\$\{/, '')
      .replace(/(\.Arn)?\}$/, '')
      .replace(/[0-9A-F]{8}$/, '');
  const fakeArn = (id: string) => `arn:aws:sns:eu-west-1:123456789012:${id}`;

  /** What SNS hands a subscriber of `protocol` for one published message, or nothing when its filter policy drops it. */
  function deliver(
    s: Subscriber,
    m: {
      Message?: string | undefined;
      MessageStructure?: string | undefined;
      MessageAttributes?: Record<string, MessageAttributeValue> | undefined;
    },
  ): string | undefined {
    for (const [attr, allowed] of Object.entries(s.filterPolicy ?? {})) {
      const v = m.MessageAttributes?.[attr]?.StringValue;
      if (v === undefined || !allowed.includes(v)) return undefined;
    }
    if (m.MessageStructure !== 'json') return m.Message;
    const byProtocol = JSON.parse(m.Message!) as Record<string, string>;
    return byProtocol[s.protocol] ?? byProtocol.default;
  }

  it('delivers the alert exactly once to every protocol, in its own format, each carrying the explanation once', async () => {
    // The stack's own subscriptions, AWS Chatbot's (an HTTPS subscription to each topic the channel names), and what an
    // operator adds to the topic the stack outputs for more endpoints: PagerDuty over HTTPS, a SIEM queue, a function, email-json.
    const subscribers: Subscriber[] = ofType('AWS::SNS::Subscription').map(([, s]) => ({
      name: `${String(s.Properties.Protocol)}:${String(s.Properties.Endpoint)}`,
      topic: logicalId(s.Properties.TopicArn),
      protocol: String(s.Properties.Protocol),
      ...(s.Properties.FilterPolicy ? { filterPolicy: s.Properties.FilterPolicy as Record<string, string[]> } : {}),
    }));
    const [, slack] = only('AWS::Chatbot::SlackChannelConfiguration');
    for (const arn of slack.Properties.SnsTopicArns as unknown[])
      subscribers.push({ name: `chatbot:${logicalId(arn)}`, topic: logicalId(arn), protocol: 'https' });
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const forMore = logicalId(outputs.AlertsTopicArn!.Value);
    for (const protocol of ['https', 'sqs', 'lambda', 'email-json'])
      subscribers.push({ name: `operator-${protocol}`, topic: forMore, protocol });

    // The handler's own composition, from the environment the stack gives the function (deploy-time tokens as fake ARNs).
    const [, fn] = detectorFunction();
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    for (const key of [ENV.topicArn, ENV.digestTopicArn, ENV.chatTopicArn]) env[key] = fakeArn(logicalId(vars[key]));
    env[ENV.tableName] = 'Authwatch-StorageTable-ABC';
    env.AWS_REGION = 'eu-west-1';
    const sns = mockClient(SNSClient);
    const published: { topic: string; message: Parameters<typeof deliver>[1] }[] = [];
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      for (const e of entries) published.push({ topic: input.TopicArn!, message: e });
      return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: e.Id })), Failed: [] };
    });
    sns.on(PublishCommand).callsFake((input: PublishCommandInput) => {
      published.push({ topic: input.TopicArn!, message: input });
      return { MessageId: 'm' };
    });
    try {
      const a = makeAlert({
        detector: 'ip',
        user: 'alice',
        ip: '203.0.113.9',
        evidence: {
          novelty_level: 'network',
          p_user: 0.00035338379292050516,
          org_novel_network_share: 1,
          busiest_address_in_prefix: 0,
        },
      });
      const report = await compose(env).sink.publish({
        runId: 'run-1',
        window: { start: Date.parse(a.window.start), end: Date.parse(a.window.end) },
        alerts: [a],
        cut: [],
      });
      expect(report.delivered).toEqual([a.id]);

      const received = new Map<string, string[]>();
      for (const s of subscribers) {
        const got = published
          .filter((p) => logicalId(p.topic.split(':').pop()) === s.topic)
          .flatMap((p) => deliver(s, p.message) ?? []);
        received.set(s.name, got);
      }
      // Every subscriber, and how many messages it got for this one alert: one each, none to operations.
      expect(Object.fromEntries([...received].map(([k, v]) => [k, v.length]))).toEqual({
        'email:secops@example.com': 1,
        'email:oncall@example.com': 1,
        'email:platform@example.com': 0,
        'chatbot:AlertingChatTopic': 1,
        'chatbot:AlertingOpsTopic': 0,
        'operator-https': 1,
        'operator-sqs': 1,
        'operator-lambda': 1,
        'operator-email-json': 1,
      });
      const fragment = 'alice logged on for the first time ever seen';
      const once = (name: string) => {
        const got = received.get(name)!;
        expect(got, name).toHaveLength(1);
        expect(got[0]!.split(fragment), `${name}: the explanation exactly once`).toHaveLength(2);
        return got[0]!;
      };

      // Email (the default digest): the explanation, labelled figures, what to check, how to silence with the real table.
      for (const email of TEST_CONFIG.alertEmails) {
        const text = once(`email:${email}`);
        expect(text).toMatch(/Probability for this user:\s+0\.00035\n/);
        expect(text).toMatch(/Share of new networks no one else uses:\s+100%\n/);
        expect(text).not.toMatch(/p_user|org_novel_network_share|busiest_address_in_prefix/);
        for (const step of a.investigation) expect(text).toContain(step);
        expect(text).toContain(
          `AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-ABC`,
        );
        expect(text).not.toContain('also sent as its own message');
      }
      // Machines: the alert document, exactly as the ledger keeps it, with the real table and region.
      for (const protocol of ['https', 'sqs', 'lambda', 'email-json']) {
        const body = once(`operator-${protocol}`);
        const doc = JSON.parse(body) as typeof a;
        expect(doc.id).toBe(a.id);
        expect(doc.evidence.p_user).toBe(0.00035338379292050516);
        expect(doc.silence[0]).toBe(
          `The user confirms it: AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-ABC`,
        );
        expect(body).toBe(report.documents?.[a.id]);
      }
      // Slack: one Chatbot card, nothing from the alerts or digest topics.
      const card = JSON.parse(once('chatbot:AlertingChatTopic')) as {
        version: string;
        source: string;
        content: { description: string };
      };
      expect(card).toMatchObject({ version: '1.0', source: 'custom' });
      expect(received.get('chatbot:AlertingOpsTopic')).toEqual([]);
      // Operations email gets no alert.
      expect(received.get('email:platform@example.com')).toEqual([]);
    } finally {
      sns.restore();
    }
  });
});

describe('alarms', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const opsTopic = (a: Record<string, unknown>) =>
    (a.AlarmActions as unknown[]).map(render).every((s) => s.startsWith('${AlertingOpsTopic'));

  it('raises "no successful run for 45 minutes" from the RunSucceeded heartbeat, missing data breaching', () => {
    const heartbeat = alarms().filter((a) => a.MetricName === METRICS.runSucceeded);
    expect(heartbeat).toHaveLength(1);
    expect(heartbeat[0]).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Dimensions: [{ Name: SERVICE_DIMENSION, Value: 'authwatch-test' }],
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(opsTopic(heartbeat[0]!)).toBe(true);
  });

  it('raises function errors, alert cap hit and each DLQ not empty, to the operations topic', () => {
    const byMetric = (name: string) => alarms().filter((a) => a.MetricName === name);
    expect(byMetric('Errors')).toHaveLength(1);
    expect(byMetric('Errors')[0]).toMatchObject({
      Namespace: 'AWS/Lambda',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(byMetric(METRICS.alertsCutByCap)[0]).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    const dlq = byMetric('ApproximateNumberOfMessagesVisible');
    expect(dlq).toHaveLength(3);
    const queues = dlq.map((a) => render((a.Dimensions as { Value: unknown }[])[0]!.Value)).sort();
    expect(queues).toEqual([
      expect.stringMatching(/^\$\{DetectorFailedRuns.*\.QueueName\}$/),
      expect.stringMatching(/^\$\{NetworkDataFailedRefreshes.*\.QueueName\}$/),
      expect.stringMatching(/^\$\{ScheduleUndelivered.*\.QueueName\}$/),
    ]);
    // The nine above (two of them catch-up), two more for network data (stale, unavailable; its DLQ is counted
    // above), and two per configured log source (below).
    expect(alarms()).toHaveLength(9 + 3 + 2 * TEST_CONFIG.logSources.length);
    for (const a of alarms()) {
      expect(opsTopic(a)).toBe(true);
      expect(String(a.AlarmDescription)).toMatch(/^authwatch: /);
    }
  });

  it('raises skipped backlog at once, and a catch-up that does not converge after an hour of runs, missing data not breaching', () => {
    const byMetric = (name: string) => alarms().filter((a) => a.MetricName === name);
    const base = {
      Namespace: METRIC_NAMESPACE,
      Dimensions: [{ Name: SERVICE_DIMENSION, Value: 'authwatch-test' }],
      Statistic: 'Sum',
      Period: 900,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    };
    expect(byMetric(METRICS.catchUpSkippedMinutes)).toHaveLength(1);
    expect(byMetric(METRICS.catchUpSkippedMinutes)[0]).toMatchObject({ ...base, EvaluationPeriods: 1 });
    expect(byMetric(METRICS.catchUpFellBehind)).toHaveLength(1);
    expect(byMetric(METRICS.catchUpFellBehind)[0]).toMatchObject({
      ...base,
      EvaluationPeriods: 4,
      DatapointsToAlarm: 4,
    });
    for (const a of [...byMetric(METRICS.catchUpSkippedMinutes), ...byMetric(METRICS.catchUpFellBehind)]) {
      expect(opsTopic(a)).toBe(true);
      expect((a.OKActions as unknown[]).map(render).every((x) => x.startsWith('${AlertingOpsTopic'))).toBe(true);
    }
  });
});

describe('alarms on incomplete data', () => {
  const alarms = () => ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const opsTopic = (a: Record<string, unknown>) =>
    [...(a.AlarmActions as unknown[]), ...(a.OKActions as unknown[])]
      .map(render)
      .every((s) => s.startsWith('${AlertingOpsTopic'));

  it.each([
    [METRICS.queryIncomplete, /10,000-row Logs Insights limit.*names the slice/],
    [METRICS.itemsNotStored, /400 KB item limit.*every other user was saved/],
  ])(
    'raises %s on the first data point of a run, for this deployment, to the operations topic',
    (metricName, description) => {
      const found = alarms().filter((a) => a.MetricName === metricName);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({
        Namespace: METRIC_NAMESPACE,
        Dimensions: [{ Name: SERVICE_DIMENSION, Value: 'authwatch-test' }],
        Statistic: 'Sum',
        Period: 900,
        EvaluationPeriods: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Threshold: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(String(found[0]!.AlarmDescription)).toMatch(description);
      expect(opsTopic(found[0]!)).toBe(true);
    },
  );
});

describe('per-log-source alarms', () => {
  type Dim = { Name: string; Value: unknown };
  type MetricStat = {
    Metric: { Namespace: string; MetricName: string; Dimensions: Dim[] };
    Period: number;
    Stat: string;
  };
  type Query = { Id: string; Expression?: string; MetricStat?: MetricStat; ReturnData?: boolean };
  const alarmsOf = (t: Template) =>
    Object.values(t.toJSON().Resources as Record<string, Resource>)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties);
  const dims = (d: Dim[]) => Object.fromEntries(d.map((x) => [x.Name, x.Value]));
  const quiet = (t: Template) => alarmsOf(t).filter((a) => a.MetricName === METRICS.logonsScanned);
  const malformed = (t: Template) =>
    alarmsOf(t).filter((a) => JSON.stringify(a.Metrics ?? '').includes(METRICS.malformedRows));
  /** The LogSource dimension each alarm watches: exactly the ids the handler names its sources with. */
  const handlerSourceIds = () => {
    const [, fn] = detectorFunction();
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const env = {
      ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : ''])),
      [ENV.tableName]: 't',
      [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:a',
      [ENV.digestTopicArn]: '',
      [ENV.chatTopicArn]: '',
    };
    return compose(env).logSources.map((s) => s.name);
  };

  it('alarms when a source returns no logon for its maxQuietHours (24 by default), in hourly periods, per source', () => {
    const ids = handlerSourceIds();
    expect(ids).toEqual(['sshd:/ec2/secure', 'cloudtrail:aws-cloudtrail-logs-123456789012']);
    const q = quiet(template);
    expect(q.map((a) => dims(a.Dimensions as Dim[])[LOG_SOURCE_DIMENSION]).sort()).toEqual([...ids].sort());
    for (const a of q) {
      expect(a).toMatchObject({
        Namespace: METRIC_NAMESPACE,
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 24,
        DatapointsToAlarm: 24,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'missing',
      });
      expect(dims(a.Dimensions as Dim[])[SERVICE_DIMENSION]).toBe('authwatch-test');
      expect(String(a.AlarmDescription)).toMatch(
        /^authwatch: log source \S+ returned no logon \(successful or failed\) for 24 hours/,
      );
      expect((a.AlarmActions as unknown[]).map(render)).toEqual([expect.stringMatching(/^\$\{AlertingOpsTopic/)]);
      expect((a.OKActions as unknown[]).map(render)).toEqual([expect.stringMatching(/^\$\{AlertingOpsTopic/)]);
    }
    const sshd = q.find((a) => dims(a.Dimensions as Dim[])[LOG_SOURCE_DIMENSION] === 'sshd:/ec2/secure')!;
    expect(String(sshd.AlarmDescription)).toContain('(/ec2/secure, /ec2/bastion/secure)');
  });

  it("alarms when more than 10% of a source's rows in an hour are malformed: malformed / (malformed + parsed) rows", () => {
    const m = malformed(template);
    expect(m).toHaveLength(TEST_CONFIG.logSources.length);
    for (const a of m) {
      expect(a).toMatchObject({
        Threshold: MALFORMED_RATE_THRESHOLD_PERCENT,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(MALFORMED_RATE_THRESHOLD_PERCENT).toBe(10);
      const queries = a.Metrics as Query[];
      const shown = queries.filter((q) => q.ReturnData !== false);
      expect(shown).toHaveLength(1);
      const inputs = queries.filter((q) => q.MetricStat);
      const byId = Object.fromEntries(inputs.map((q) => [q.Id, q.MetricStat!]));
      // rows: every row read; malformed: those that could not be mapped; both of the same source, hourly sums.
      const [rows, bad] = [...shown[0]!.Expression!.matchAll(/\b(rows\d+|malformed\d+)\b/g)]
        .map((x) => x[1]!)
        .filter((v, i, all) => all.indexOf(v) === i)
        .sort((x) => (x.startsWith('rows') ? -1 : 1));
      expect(shown[0]!.Expression).toBe(`IF(${rows} > 0, 100 * ${bad} / ${rows}, 0)`);
      expect(byId[rows!]!.Metric.MetricName).toBe(METRICS.queryRows);
      expect(byId[bad!]!.Metric.MetricName).toBe(METRICS.malformedRows);
      for (const stat of Object.values(byId)) {
        expect(stat).toMatchObject({ Period: 3600, Stat: 'Sum' });
        expect(stat.Metric.Namespace).toBe(METRIC_NAMESPACE);
      }
      expect(dims(byId[rows!]!.Metric.Dimensions)).toEqual(dims(byId[bad!]!.Metric.Dimensions));
      expect(String(a.AlarmDescription)).toMatch(/^authwatch: more than 10% of the rows log source /);
    }
    expect(
      m
        .map(
          (a) =>
            dims((a.Metrics as Query[]).find((q) => q.MetricStat)!.MetricStat!.Metric.Dimensions)[LOG_SOURCE_DIMENSION],
        )
        .sort(),
    ).toEqual(handlerSourceIds().sort());
  });

  it("takes each source's maxQuietHours, and makes no quiet alarm for a source set to false", () => {
    const { template: t } = synth({
      config: {
        ...TEST_CONFIG,
        logSources: [
          { profile: 'sshd', logGroups: ['/ec2/secure'], maxQuietHours: 72 },
          { profile: 'okta', logGroups: ['/okta/system'], maxQuietHours: false },
          { profile: 'windows', logGroups: ['/win/security'], maxQuietHours: 168 },
        ],
      },
    });
    expect(
      quiet(t)
        .map((a) => [dims(a.Dimensions as Dim[])[LOG_SOURCE_DIMENSION], a.EvaluationPeriods, a.DatapointsToAlarm])
        .sort(),
    ).toEqual([
      ['sshd:/ec2/secure', 72, 72],
      ['windows:/win/security', 168, 168],
    ]);
    // Every source keeps its malformed-row alarm.
    expect(malformed(t)).toHaveLength(3);
  });

  it("keeps descriptions within CloudWatch's 1,024 characters, naming as many log groups as fit", () => {
    // As long as Lambda's environment allows: 50 groups of 40 characters, and a 512-character first group.
    const many = Array.from(
      { length: 50 },
      (_, k) => `/ec2/fleet-${String(k).padStart(2, '0')}/${'x'.repeat(25)}/secure`,
    );
    const long = ['/'.padEnd(512, 'a'), ...Array.from({ length: 3 }, (_, k) => `/g${k}/`.padEnd(480, 'b'))];
    const { template: a } = synth({ config: { ...TEST_CONFIG, logSources: [{ profile: 'sshd', logGroups: many }] } });
    const { template: b } = synth({
      config: { ...TEST_CONFIG, logSources: [{ profile: 'windows', logGroups: long }] },
    });
    for (const alarm of [...alarmsOf(a), ...alarmsOf(b)])
      expect(String(alarm.AlarmDescription).length).toBeLessThanOrEqual(1024);
    expect(String(quiet(a)[0]!.AlarmDescription)).toMatch(
      new RegExp(`\\(${many[0]}, ${many[1]}, .* and \\d\\d more\\) still receive`),
    );
    // A 512-character group: the id keeps its start and a digest, within the 255 characters an alarm dimension takes.
    const id = logSourceId({ profile: 'windows', logGroups: long });
    expect(id).toMatch(/^windows:\/a{200,}~[0-9a-f]{12}$/);
    expect(id).toHaveLength(255);
    expect(dims(quiet(b)[0]!.Dimensions as Dim[])[LOG_SOURCE_DIMENSION]).toBe(id);
    expect(String(quiet(b)[0]!.AlarmDescription)).toContain(`log source ${id} returned no logon`);
  });

  it("draws each source's logons and malformed share on the dashboard, with its alarms", () => {
    const [, dashboard] = only('AWS::CloudWatch::Dashboard');
    const body = render(dashboard.Properties.DashboardBody);
    for (const id of handlerSourceIds()) expect(body).toContain(`"LogSource","${id}"`);
    expect(body).toContain('Malformed rows per log source');
  });
});

describe('dashboard', () => {
  type Line = { namespace: string; name: string; dims: Record<string, string> };
  function graphedMetrics(): Line[] {
    const [, dashboard] = only('AWS::CloudWatch::Dashboard');
    const body = JSON.parse(render(dashboard.Properties.DashboardBody)) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    return body.widgets.flatMap((w) =>
      (w.properties.metrics ?? []).map((m) => {
        const parts = m.filter((p): p is string => typeof p === 'string');
        const dims: Record<string, string> = {};
        for (let i = 2; i + 1 < parts.length; i += 2) dims[parts[i]!] = parts[i + 1]!;
        return { namespace: parts[0]!, name: parts[1]!, dims };
      }),
    );
  }

  it('graphs every run metric the handler emits, for this deployment, and per detector where it is per detector', () => {
    const lines = graphedMetrics();
    const service = { [SERVICE_DIMENSION]: 'authwatch-test' };
    const graphed = (name: string, dims: Record<string, string>) =>
      lines.some(
        (l) =>
          l.namespace === METRIC_NAMESPACE &&
          l.name === name &&
          JSON.stringify(Object.entries(l.dims).sort()) === JSON.stringify(Object.entries(dims).sort()),
      );
    for (const name of [
      METRICS.logonsScanned,
      METRICS.observations,
      METRICS.alertsDeduplicated,
      METRICS.alertsCutByCap,
      METRICS.alertsFolded,
      METRICS.failureTargetsNotRead,
      METRICS.alertsSuppressed,
      METRICS.usersLearning,
      METRICS.queryDurationMs,
      METRICS.runDurationMs,
      METRICS.runSucceeded,
      METRICS.queryIncomplete,
      METRICS.itemsNotStored,
      METRICS.catchUpBacklogMinutes,
      METRICS.catchUpChunks,
      METRICS.catchUpSkippedMinutes,
    ]) {
      expect(graphed(name, service), name).toBe(true);
    }
    for (const id of ['Auth.RareUser', 'Auth.UnusualSourceIp']) {
      for (const name of [METRICS.findings, METRICS.alertsPublished])
        expect(graphed(name, { ...service, [DETECTOR_DIMENSION]: id }), `${name} ${id}`).toBe(true);
    }
    expect(lines.some((l) => l.namespace === 'AWS/Lambda' && l.name === 'Errors')).toBe(true);
    expect(lines.filter((l) => l.namespace === 'AWS/SQS')).toHaveLength(2);
  });
});

describe('network-owner data', () => {
  const s3Statements = (statements: Statement[]) =>
    statements
      .filter((st) => actions(st).some((a) => a.startsWith('s3:')))
      .map((st) => ({ actions: actions(st).sort(), resource: render(st.Resource) }));
  const bucketId = () => named('AWS::S3::Bucket', 'NetworkDataBucket')[0];

  it('refreshes weekly on a schedule that targets the refresh function, from IPtoASN by default', () => {
    const [fnId, fn] = named('AWS::Lambda::Function', 'NetworkDataFunction');
    const [, schedule] = named('AWS::Scheduler::Schedule', 'NetworkDataSchedule');
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: `rate(${REFRESH_INTERVAL.toDays()} days)`,
      State: 'ENABLED',
      // No start date: Scheduler invokes a rate schedule as soon as it is created, which is the first refresh.
      Target: { Arn: { 'Fn::GetAtt': [fnId, 'Arn'] } },
    });
    expect(schedule.Properties.StartDate).toBeUndefined();
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars[REFRESH_ENV.url]).toBe(IPTOASN_COMBINED_URL);
    expect(vars[REFRESH_ENV.bucket]).toEqual({ Ref: bucketId() });
    expect(vars[REFRESH_ENV.prefix]).toBe(DEFAULT_NETWORK_DATA_PREFIX);
  });

  it('lets the detector read exactly the data prefix, and names bucket and prefix in its environment', () => {
    const bucket = bucketId();
    expect(s3Statements(detectorPolicyStatements())).toEqual([
      { actions: ['s3:GetObject'], resource: `\${${bucket}.Arn}/${DEFAULT_NETWORK_DATA_PREFIX}*` },
      { actions: ['s3:ListBucket'], resource: `\${${bucket}.Arn}` },
    ]);
    const [, fn] = detectorFunction();
    const vars = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(vars[NETWORK_DATA_LOCATION_ENV.bucket]).toEqual({ Ref: bucket });
    expect(vars[NETWORK_DATA_LOCATION_ENV.prefix]).toBe(DEFAULT_NETWORK_DATA_PREFIX);
    // The handler reads the location the stack gives it (the bucket's name as a deploy-time stand-in).
    expect(
      parseNetworkDataLocation({
        [NETWORK_DATA_LOCATION_ENV.bucket]: 'authwatch-networkdatabucket-abc',
        [NETWORK_DATA_LOCATION_ENV.prefix]: vars[NETWORK_DATA_LOCATION_ENV.prefix] as string,
      }),
    ).toEqual({ bucket: 'authwatch-networkdatabucket-abc', prefix: DEFAULT_NETWORK_DATA_PREFIX });
  });

  it('keeps the data in an encrypted, private, TLS-only bucket, retained like the table', () => {
    const [, bucket] = named('AWS::S3::Bucket', 'NetworkDataBucket');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId() },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('takes another source URL, and lets a test deployment (retainData false) delete the bucket', () => {
    const mirror = 'https://mirror.example.com/ip2asn-combined.tsv.gz';
    const { template: t } = synth({ config: { ...TEST_CONFIG, networkDataUrl: mirror, retainData: false } });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [REFRESH_ENV.url]: mirror }) },
    });
    t.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
  });

  it('raises a stale alarm (age over the limit), an unavailable alarm (hours of runs without data) and a failed-refresh alarm, to the operations topic', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    const base = { Namespace: METRIC_NAMESPACE, Dimensions: [{ Name: SERVICE_DIMENSION, Value: 'authwatch-test' }] };
    const stale = alarms.filter((a) => a.MetricName === NETWORK_DATA_METRICS.ageDays);
    expect(stale).toHaveLength(1);
    expect(stale[0]).toMatchObject({
      ...base,
      Statistic: 'Maximum',
      Period: 3600,
      Threshold: DEFAULT_MAX_AGE_DAYS,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    const unavailable = alarms.filter((a) => a.MetricName === NETWORK_DATA_METRICS.unavailable);
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]).toMatchObject({
      ...base,
      Statistic: 'Minimum',
      Period: 3600,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: NETWORK_DATA_UNAVAILABLE_HOURS,
      DatapointsToAlarm: NETWORK_DATA_UNAVAILABLE_HOURS,
      TreatMissingData: 'notBreaching',
    });
    const refresh = alarms.filter(
      (a) =>
        a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
        render((a.Dimensions as { Value: unknown }[])[0]!.Value).startsWith('${NetworkDataFailedRefreshes'),
    );
    expect(refresh).toHaveLength(1);
    for (const a of [...stale, ...unavailable, ...refresh]) {
      expect(String(a.AlarmDescription)).toMatch(/^authwatch: .*network-data refresh|^authwatch: .*network-owner data/);
      for (const action of [...(a.AlarmActions as unknown[]), ...(a.OKActions as unknown[])])
        expect(render(action)).toMatch(/^\$\{AlertingOpsTopic/);
    }
  });

  it('draws the data the detector runs with and the refreshes on the dashboard', () => {
    const [, dashboard] = only('AWS::CloudWatch::Dashboard');
    const body = render(dashboard.Properties.DashboardBody);
    for (const name of [
      NETWORK_DATA_METRICS.ageDays,
      NETWORK_DATA_METRICS.unavailable,
      NETWORK_DATA_METRICS.refreshSucceeded,
      NETWORK_DATA_METRICS.ipv4Ranges,
      NETWORK_DATA_METRICS.ipv6Ranges,
    ])
      expect(body, name).toContain(`"${METRIC_NAMESPACE}","${name}","${SERVICE_DIMENSION}","authwatch-test"`);
    expect(body).toContain('Network-owner data');
  });

  it('deploys none of it with networkData false: no bucket, no refresh, no S3 access, no variables, no alarms', () => {
    const { template: t } = synth({ config: { ...TEST_CONFIG, networkData: false } });
    const res = Object.entries(t.toJSON().Resources as Record<string, Resource>);
    expect(res.filter(([, r]) => r.Type === 'AWS::S3::Bucket')).toEqual([]);
    expect(res.filter(([, r]) => r.Type === 'AWS::Lambda::Function').map(([id]) => id)).toEqual([
      expect.stringMatching(/^DetectorFunction/),
    ]);
    expect(res.filter(([, r]) => r.Type === 'AWS::Scheduler::Schedule')).toHaveLength(1);
    const text = JSON.stringify(t.toJSON());
    expect(text).not.toContain('s3:');
    expect(text).not.toContain(NETWORK_DATA_LOCATION_ENV.bucket);
    expect(text).not.toContain(NETWORK_DATA_METRICS.unavailable);
  });
});
