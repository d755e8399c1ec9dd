/**
 * The network-data construct on its own test stack, synthesized as `cdk synth` does: cdk.json's feature flags and
 * the cdk-nag AWS Solutions checks. How AuthwatchStack wires it (the detector as its reader, the configuration, the
 * alarms) is tested in stack.test.ts and nag.test.ts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_RUNTIME } from '../../infra/constructs/detector';
import { NetworkData, REFRESH_INTERVAL } from '../../infra/constructs/network-data';
import { REFRESH_ENV } from '../../lambdas/refresh-network-data/config';
import { IPTOASN_COMBINED_URL } from '../../shared/adapters/network-data-source';
import { cdkJsonContext } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

interface Synthesized {
  template: Template;
  resources: Record<string, Resource>;
  violations: { rule: string; path: string }[];
  app: App;
}

const outdirs: string[] = [];
afterAll(() => {
  for (const d of outdirs) rmSync(d, { recursive: true, force: true });
});

function synthNetworkData(
  props: Partial<ConstructorParameters<typeof NetworkData>[2]> = {},
  opts: { acknowledge?: boolean; bundle?: boolean } = {},
): Synthesized & { outdir: string } {
  const outdir = mkdtempSync(join(tmpdir(), 'authwatch-netdata-'));
  outdirs.push(outdir);
  // Bundling off unless asked (CDK's own "bundle no stack" context): esbuild runs in one test only.
  const app = new App({
    context: { ...cdkJsonContext(), ...(opts.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }) },
    outdir,
  });
  const stack = new Stack(app, 'NetworkDataTest');
  const original = Validations.prototype.acknowledge;
  if (opts.acknowledge === false) Validations.prototype.acknowledge = () => {};
  try {
    const data = new NetworkData(stack, 'NetworkData', {
      logRetention: RetentionDays.THREE_MONTHS,
      serviceName: 'authwatch-test',
      ...props,
    });
    // A stand-in for the detector's role, granted as the stack grants the detector.
    data.grantRead(new Role(stack, 'ReaderRole', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') }));
  } finally {
    Validations.prototype.acknowledge = original;
  }
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (e) {
    if (!existsSync(join(outdir, 'validation-report.json'))) throw e;
  }
  const violations: { rule: string; path: string }[] = [];
  const reportPath = join(outdir, 'validation-report.json');
  if (existsSync(reportPath)) {
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
      pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
    };
    for (const p of report.pluginReports)
      for (const v of p.violations)
        for (const c of v.violatingConstructs) violations.push({ rule: v.ruleName, path: c.constructPath });
  }
  const template = Template.fromJSON(
    JSON.parse(readFileSync(join(outdir, 'NetworkDataTest.template.json'), 'utf8')) as Record<string, unknown>,
  );
  return { template, resources: template.toJSON().Resources as Record<string, Resource>, violations, app, outdir };
}

let s: Synthesized & { outdir: string };
beforeAll(() => {
  s = synthNetworkData();
});

const ofType = (type: string) => Object.entries(s.resources).filter(([, r]) => r.Type === type);
const idOf = (type: string) => {
  const all = ofType(type);
  expect(all, type).toHaveLength(1);
  return all[0]![0];
};
const actions = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
/** Policy statements attached to the role whose logical id starts with `prefix`, logs and X-Ray aside. */
function statementsOf(prefix: string): { actions: string[]; resource: string }[] {
  const [roleId] = ofType('AWS::IAM::Role').find(([id]) => id.startsWith(prefix))!;
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Properties.Roles).includes(roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((st) => !actions(st).some((a) => a.startsWith('logs:')))
    .map((st) => ({ actions: actions(st).sort(), resource: JSON.stringify(st.Resource) }));
}

describe('network-data bucket', () => {
  it('is encrypted, private, TLS-only, and kept when the stack goes by default', () => {
    const [, bucket] = ofType('AWS::S3::Bucket')[0]!;
    expect(bucket.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('can go with a test stack', () => {
    const [, bucket] = Object.entries(synthNetworkData({ retain: false }).resources).find(
      ([, r]) => r.Type === 'AWS::S3::Bucket',
    )!;
    expect(bucket.DeletionPolicy).toBe('Delete');
  });
});

describe('refresh function', () => {
  it("runs the detector's runtime on arm64, one at a time, pointed at the bucket and IPtoASN", () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: DETECTOR_RUNTIME.name,
      Architectures: ['arm64'],
      ReservedConcurrentExecutions: 1,
      MemorySize: 1024,
      Timeout: 300,
      Environment: {
        Variables: Match.objectLike({
          [REFRESH_ENV.bucket]: { Ref: idOf('AWS::S3::Bucket') },
          [REFRESH_ENV.url]: IPTOASN_COMBINED_URL,
          [REFRESH_ENV.prefix]: 'network-data/',
        }),
      },
    });
  });

  it('takes another publisher URL', () => {
    synthNetworkData({ sourceUrl: 'https://mirror.example.com/ip2asn-combined.tsv.gz' }).template.hasResourceProperties(
      'AWS::Lambda::Function',
      {
        Environment: {
          Variables: Match.objectLike({ [REFRESH_ENV.url]: 'https://mirror.example.com/ip2asn-combined.tsv.gz' }),
        },
      },
    );
  });

  it('runs weekly on EventBridge Scheduler; failed refreshes and undelivered invocations land in its DLQ', () => {
    const queue = idOf('AWS::SQS::Queue');
    const fn = idOf('AWS::Lambda::Function');
    s.template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: `rate(${REFRESH_INTERVAL.toDays()} days)`,
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
        RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 86400 },
      }),
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn },
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
    });
    const [, role] = ofType('AWS::IAM::Role').find(([, r]) =>
      JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    )!;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
  });
});

describe('refresh bundle', () => {
  it('bundles the handler with the local esbuild, the AWS SDK inside, under 1 MiB, with no network data in it', () => {
    const { outdir } = synthNetworkData({}, { bundle: true });
    const assets = JSON.parse(readFileSync(join(outdir, 'NetworkDataTest.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const code = Object.values(assets.files).filter((f) => f.source.packaging === 'zip');
    expect(code).toHaveLength(1);
    const bundle = join(outdir, code[0]!.source.path, 'index.mjs');
    expect(statSync(bundle).size).toBeLessThan(1024 * 1024);
    const text = readFileSync(bundle, 'utf8');
    expect(text).not.toMatch(/from\s*["']@aws-sdk\//);
    // The database travels as data: nothing of the extract or a built table is compiled in.
    expect(text).not.toContain('EXAMPLE-CORP-OFFICE');
    expect(text).not.toContain('CLOUDFLARENET');
  });
});

describe('least privilege', () => {
  const bucketArn = () => JSON.stringify({ 'Fn::GetAtt': [idOf('AWS::S3::Bucket'), 'Arn'] });
  const objects = (prefix: string) =>
    JSON.stringify({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf('AWS::S3::Bucket'), 'Arn'] }, `/${prefix}`]] });

  it('the refresh reads and writes only under its prefix, deletes only old databases, and may list its bucket', () => {
    const lambdaRole = ofType('AWS::IAM::Role').find(
      ([id, r]) =>
        id.startsWith('NetworkDataRole') && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('lambda'),
    )![0];
    expect(statementsOf(lambdaRole).filter((st) => st.actions.some((a) => a.startsWith('s3:')))).toEqual([
      { actions: ['s3:GetObject', 's3:PutObject'], resource: objects('network-data/*') },
      { actions: ['s3:DeleteObject'], resource: objects('network-data/databases/*') },
      { actions: ['s3:ListBucket'], resource: bucketArn() },
    ]);
  });

  it('a reader (the detector) may only get objects under the prefix and list the bucket', () => {
    expect(statementsOf('ReaderRole')).toEqual([
      { actions: ['s3:GetObject'], resource: objects('network-data/*') },
      { actions: ['s3:ListBucket'], resource: bucketArn() },
    ]);
  });
});

describe('cdk-nag', () => {
  it('reports nothing unacknowledged', () => {
    expect(s.violations).toEqual([]);
  });

  it('every acknowledgement silences a finding cdk-nag reports without it, and says why', () => {
    const bare = synthNetworkData({}, { acknowledge: false });
    const found = new Set(bare.violations.map((v) => `${v.path.replace(/\/Resource$/, '')} ${v.rule}`));
    const acks: { path: string; id: string; reason: string }[] = [];
    for (const c of s.app.node.findAll()) {
      for (const m of c.node.metadata) {
        if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(m.data as Record<string, string>))
          acks.push({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason });
      }
    }
    expect(acks.map((a) => a.id.replace(/<[A-Za-z0-9]+\.Arn>/, '<ARN>')).sort()).toEqual(
      [
        'AwsSolutions-IAM5[Resource::<ARN>/network-data/*]',
        'AwsSolutions-IAM5[Resource::<ARN>/network-data/*]',
        'AwsSolutions-IAM5[Resource::<ARN>/network-data/databases/*]',
        'AwsSolutions-IAM5[Resource::<ARN>:*]',
        'AwsSolutions-S1',
        'AwsSolutions-SQS3',
      ].sort(),
    );
    for (const a of acks) {
      expect(found.has(`${a.path.replace(/\/Resource$/, '')} ${a.id}`), `${a.path} ${a.id}`).toBe(true);
      expect(a.reason.length, a.id).toBeGreaterThan(60);
    }
  });
});
