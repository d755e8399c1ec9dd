import { Validations } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { readmeDeployContext, synth, TEST_CONFIG, type Synthesized } from './synth';

interface Acknowledgement {
  path: string;
  id: string;
  reason: string;
}

/** Every `Validations.of(x).acknowledge(...)` in the app, read back from construct metadata. */
function acknowledgements(s: Synthesized): Acknowledgement[] {
  const out: Acknowledgement[] = [];
  for (const c of s.app.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(m.data as Record<string, string>))
        out.push({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason });
    }
  }
  return out;
}

/** Synthesize with `acknowledge` switched off: what cdk-nag would report without the acknowledgements. */
function synthUnacknowledged(config: Record<string, unknown>): Synthesized {
  const original = Validations.prototype.acknowledge;
  Validations.prototype.acknowledge = () => {};
  try {
    return synth({ config });
  } finally {
    Validations.prototype.acknowledge = original;
  }
}

const withoutLogGroup = (id: string) => id.replace(/log-group:.*:\*\]$/, 'log-group:<NAME>:*]');

describe('cdk-nag AwsSolutions checks', () => {
  let withSlack: Synthesized;
  let example: Synthesized;
  beforeAll(() => {
    withSlack = synth({ config: TEST_CONFIG });
    example = synth({ context: readmeDeployContext('### Worked example: sshd from EC2 instances') }); // the README's first deployment
  });

  it('report no unacknowledged finding, for the README example and for a config with Slack', () => {
    expect(withSlack.violations).toEqual([]);
    expect(example.violations).toEqual([]);
  });

  it('acknowledge only these findings, each with a specific reason', () => {
    const acks = acknowledgements(withSlack);
    expect(
      [
        ...new Set(acks.map((a) => withoutLogGroup(a.id).replace(/<NetworkDataBucket[0-9A-F]{8}\.Arn>/, '<BUCKET>'))),
      ].sort(),
    ).toEqual(
      [
        // The network data: the detector and the refresh on the bucket's prefixes, Scheduler on the refresh
        // function, and the bucket's access logs.
        'AwsSolutions-IAM5[Resource::<BUCKET>/network-data/*]',
        'AwsSolutions-IAM5[Resource::<BUCKET>/network-data/databases/*]',
        'AwsSolutions-IAM5[Resource::<NetworkDataFunctionF037B242.Arn>:*]',
        'AwsSolutions-S1',
        'AwsSolutions-IAM5[Action::cloudwatch:Describe*]',
        'AwsSolutions-IAM5[Action::cloudwatch:Get*]',
        'AwsSolutions-IAM5[Action::cloudwatch:List*]',
        'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        'AwsSolutions-IAM5[Resource::*]',
        'AwsSolutions-IAM5[Resource::<DetectorFunctionDD6A428A.Arn>:*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:<NAME>:*]',
        'AwsSolutions-SQS3',
      ].sort(),
    );
    for (const a of acks) {
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(60);
      expect(a.reason, `${a.path} ${a.id}`).not.toMatch(/^(ok|fine|n\/a|todo|not needed|suppress)/i);
    }
    // One per configured log group, not a pattern.
    const logGroupAcks = acks.filter((a) => a.id.includes(':log-group:')).map((a) => a.id);
    expect(logGroupAcks.sort()).toEqual(
      ['/ec2/bastion/secure', '/ec2/secure', 'aws-cloudtrail-logs-123456789012'].map(
        (g) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${g}:*]`,
      ),
    );
  });

  it('has no stale acknowledgement: each one silences a finding that cdk-nag reports without it', () => {
    expectNoStaleAcknowledgement(TEST_CONFIG, withSlack);
  });
});

/** Each acknowledgement of `acknowledged` silences a finding cdk-nag reports on `config` without acknowledgements. */
function expectNoStaleAcknowledgement(config: Record<string, unknown>, acknowledged: Synthesized): void {
  const bare = synthUnacknowledged(config);
  const found = new Set(
    bare.violations.flatMap((v) => v.paths.map((p) => `${p.replace(/\/Resource$/, '')} ${v.ruleName}`)),
  );
  for (const a of acknowledgements(acknowledged)) {
    const onResource = found.has(`${a.path} ${a.id}`) || found.has(`${a.path.replace(/\/Resource$/, '')} ${a.id}`);
    expect(onResource, `${a.path} ${a.id}`).toBe(true);
  }
}

describe('cdk-nag AwsSolutions checks with the Step Functions fan-out and a linked source account', () => {
  const config = {
    ...TEST_CONFIG,
    logSources: [
      ...TEST_CONFIG.logSources,
      { profile: 'sshd', logGroups: ['arn:aws:logs:eu-west-1:444455556666:log-group:/org/member/secure'] },
    ],
    fanout: { enabled: true },
  };
  let fanout: Synthesized;
  beforeAll(() => {
    fanout = synth({ config });
  });

  it('report no unacknowledged finding', () => {
    expect(fanout.violations).toEqual([]);
  });

  it('acknowledge each finding with a specific reason, and none that is stale', () => {
    const acks = acknowledgements(fanout).filter((a) => a.path.includes('/Fanout/'));
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(60);
    // The source account's group is acknowledged by its own ARN, on both roles that query it.
    const remote = acknowledgements(fanout).filter((a) => a.id.includes('444455556666'));
    expect(new Set(remote.map((a) => a.path.split('/')[1]))).toEqual(new Set(['Detector', 'Fanout']));
    expectNoStaleAcknowledgement(config, fanout);
  });
});
