/**
 * The EventBridge and Security Hub outputs in the stack, synthesized as `cdk synth` does (cdk.json's flags, the
 * cdk-nag checks): the detector's import permission scoped to the account's own product, PutEvents on the default bus
 * only, the triage rule and function with their dead-letter queue and alarm; and the configuration keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDeployConfig } from '../../infra/config';
import { TRIAGE_RULE_RETRY_ATTEMPTS, triageEventPattern } from '../../infra/constructs/outputs';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { TRIAGE_ENV } from '../../lambdas/triage/config';
import { OUTPUT_ENV } from '../../shared/config';
import { ConfigError } from '../../shared/errors';
import { type Synthesized, synth, TEST_CONFIG } from './synth';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown };

/** `Fn::Join` of literal parts and pseudo parameters, written out with `<AWS::AccountId>`-style placeholders. */
function joined(v: unknown): string {
  if (typeof v === 'string') return v;
  const o = v as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
  if (o.Ref) return `<${o.Ref}>`;
  if (o['Fn::Join']) return o['Fn::Join'][1].map(joined).join(o['Fn::Join'][0]);
  return JSON.stringify(v);
}

function resourcesOf(s: Synthesized): Record<string, Resource> {
  return s.template.toJSON().Resources as Record<string, Resource>;
}

function detectorStatements(s: Synthesized): Statement[] {
  return Object.entries(resourcesOf(s))
    .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('DetectorRoleDefaultPolicy'))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

function fnStartingWith(s: Synthesized, prefix: string): Resource {
  const all = Object.entries(resourcesOf(s)).filter(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(prefix),
  );
  expect(all, prefix).toHaveLength(1);
  return all[0]![1];
}

const PRODUCT = 'arn:<AWS::Partition>:securityhub:<AWS::Region>:<AWS::AccountId>:product/<AWS::AccountId>/default';

describe('with Security Hub and EventBridge on', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth({ config: { ...TEST_CONFIG, securityHub: { enabled: true }, eventBridge: { enabled: true } } });
  });

  it("lets the detector import findings only under the account's own product, and put events on the default bus only", () => {
    const statements = detectorStatements(s);
    const imports = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('securityhub:')));
    expect(imports).toHaveLength(1);
    expect(imports[0]).toMatchObject({ Effect: 'Allow', Action: 'securityhub:BatchImportFindings' });
    expect(joined(imports[0]!.Resource)).toBe(PRODUCT);
    const events = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('events:')));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ Effect: 'Allow', Action: 'events:PutEvents' });
    expect(joined(events[0]!.Resource)).toBe(
      'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default',
    );

    const vars = (
      fnStartingWith(s, 'DetectorFunction').Properties.Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(vars[OUTPUT_ENV.eventBus]).toBe('default');
    expect(joined(vars[OUTPUT_ENV.securityHubProductArn])).toBe(PRODUCT);
  });

  it("sends authwatch's resolved and suppressed findings to the triage function, with retries and a dead-letter queue", () => {
    const rules = Object.values(resourcesOf(s)).filter(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern,
    );
    expect(rules).toHaveLength(1);
    const rule = rules[0]!;
    const pattern = rule.Properties.EventPattern as {
      source: string[];
      'detail-type': string[];
      detail: { findings: { ProductArn: unknown[]; GeneratorId: unknown[]; Workflow: unknown } };
    };
    expect(pattern.source).toEqual(['aws.securityhub']);
    expect(pattern['detail-type']).toEqual(['Security Hub Findings - Imported']);
    expect(pattern.detail.findings.ProductArn.map(joined)).toEqual([PRODUCT]);
    expect(pattern.detail.findings.GeneratorId).toEqual([{ prefix: 'authwatch/' }]);
    expect(pattern.detail.findings.Workflow).toEqual({ Status: ['RESOLVED', 'SUPPRESSED'] });
    const [target] = rule.Properties.Targets as {
      Arn: unknown;
      DeadLetterConfig?: { Arn: unknown };
      RetryPolicy?: { MaximumRetryAttempts: number };
    }[];
    expect(JSON.stringify(target!.Arn)).toContain('OutputsTriageFunction');
    expect(target!.DeadLetterConfig?.Arn).toBeDefined();
    expect(target!.RetryPolicy?.MaximumRetryAttempts).toBe(TRIAGE_RULE_RETRY_ATTEMPTS);

    const triage = fnStartingWith(s, 'OutputsTriageFunction');
    const vars = (triage.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(joined(vars[TRIAGE_ENV.productArn])).toBe(PRODUCT);
    expect(vars[TRIAGE_ENV.recordDays]).toBe('30');
    expect(triage.Properties.ReservedConcurrentExecutions).toBe(1);
    // Failed invocations go to the same queue, and its alarm notifies the operations topic.
    const invokeConfigs = Object.values(resourcesOf(s)).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventInvokeConfig' && JSON.stringify(r.Properties).includes('OutputsTriageFunction'),
    );
    expect(invokeConfigs).toHaveLength(1);
    expect(JSON.stringify(invokeConfigs[0]!.Properties.DestinationConfig)).toContain('OutputsFailedTriageQueue');
    const alarms = Object.entries(resourcesOf(s)).filter(
      ([id, r]) => r.Type === 'AWS::CloudWatch::Alarm' && id.startsWith('OutputsFailedTriageNotEmpty'),
    );
    expect(alarms).toHaveLength(1);
    expect(JSON.stringify(alarms[0]![1].Properties.AlarmActions)).toContain('OpsTopic');
  });

  it('lets the triage function only read and write the table, write its own log and send to its dead-letter queue', () => {
    const statements = Object.entries(resourcesOf(s))
      .filter(([id, r]) => r.Type === 'AWS::IAM::Policy' && id.startsWith('OutputsTriageRoleDefaultPolicy'))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
    expect([...new Set(statements.flatMap((st) => [st.Action].flat()))].sort()).toEqual(
      [
        'dynamodb:BatchGetItem',
        // A benign answer writes the user's baseline as a run does, under the run lease (README "How a run writes").
        'dynamodb:BatchWriteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        // Lambda's on-failure destination.
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:SendMessage',
      ].sort(),
    );
    const sqs = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('sqs:')));
    expect(JSON.stringify(sqs.map((st) => st.Resource))).toContain('OutputsFailedTriageQueue');
  });

  it('is cdk-nag clean', () => {
    expect(s.violations).toEqual([]);
  });

  it('routes with exactly the pattern the README shows', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n### Security Hub and EventBridge\n'));
    const shown = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]!) as unknown;
    const rule = Object.values(resourcesOf(s)).find(
      (r) => r.Type === 'AWS::Events::Rule' && r.Properties.EventPattern,
    )!;
    const deployed = JSON.parse(
      JSON.stringify(rule.Properties.EventPattern, (_k, v: unknown) =>
        joined(v) === PRODUCT ? 'arn:aws:securityhub:<region>:<account>:product/<account>/default' : v,
      ),
    ) as unknown;
    expect(deployed).toEqual(shown);
    expect(triageEventPattern(PRODUCT).detail.findings.Workflow.Status).toEqual(['RESOLVED', 'SUPPRESSED']);
  });
});

describe('with neither on (the default)', () => {
  it('deploys no output beside SNS: no rule, no triage function, no grant', () => {
    const s = synth({ config: TEST_CONFIG });
    expect(Object.keys(resourcesOf(s)).filter((id) => id.startsWith('Outputs'))).toEqual([]);
    expect(
      detectorStatements(s)
        .flatMap((st) => [st.Action].flat())
        .filter((a) => /^(events|securityhub):/.test(a)),
    ).toEqual([]);
  });
});

describe('the output keys', () => {
  const base = { logSources: TEST_CONFIG.logSources, alertEmails: ['secops@example.com'] };
  it('default to off and take { enabled }', () => {
    expect(parseDeployConfig(base)).toMatchObject({ eventBridge: false, securityHub: false });
    expect(parseDeployConfig({ ...base, securityHub: { enabled: true } })).toMatchObject({ securityHub: true });
  });
  it('refuse anything else at synth, naming the key', () => {
    const issues = (raw: Record<string, unknown>) => {
      try {
        parseDeployConfig(raw);
      } catch (e) {
        if (e instanceof ConfigError) return e.issues;
        throw e;
      }
      return [];
    };
    expect(issues({ ...base, securityHub: true }).join('\n')).toMatch(
      /authwatch\.securityHub: an object \{ "enabled": true \}/,
    );
    expect(issues({ ...base, eventBridge: { enabled: 'yes' } }).join('\n')).toMatch(/authwatch\.eventBridge\.enabled/);
    expect(issues({ ...base, securityHub: { enable: true } }).join('\n')).toMatch(
      /authwatch\.securityHub\.enable: unknown key; did you mean authwatch\.securityHub\.enabled\?/,
    );
  });
});
