/**
 * The outputs' runtime configuration: the detector's optional event bus and Security Hub product (shared/config.ts)
 * and the triage function's environment (lambdas/triage/config.ts), each refusing what would send elsewhere.
 */
import { describe, expect, it } from 'vitest';
import { parseTriageConfig, TRIAGE_ENV } from '../../lambdas/triage/config';
import { ENV, OUTPUT_ENV, parseRuntimeConfig, parseSecurityHubProductArn } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

const BASE = {
  [ENV.tableName]: 'authwatch-table',
  [ENV.topicArn]: 'arn:aws:sns:eu-west-1:111122223333:authwatch-alerts',
  [ENV.logSources]: JSON.stringify([{ profile: 'sshd', logGroups: ['/ec2/secure'] }]),
};
const PRODUCT = 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default';

function issues(f: () => unknown): readonly string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  return [];
}

describe('the detector output variables', () => {
  it('turn the outputs on only when set', () => {
    const none = parseRuntimeConfig(BASE);
    expect(none.eventBus).toBeUndefined();
    expect(none.securityHub).toBeUndefined();
    const both = parseRuntimeConfig({
      ...BASE,
      [OUTPUT_ENV.eventBus]: 'default',
      [OUTPUT_ENV.securityHubProductArn]: PRODUCT,
    });
    expect(both.eventBus).toBe('default');
    expect(both.securityHub).toEqual({
      productArn: PRODUCT,
      account: '111122223333',
      region: 'eu-west-1',
      partition: 'aws',
    });
  });

  it("accept only the account's own default product", () => {
    expect(
      parseSecurityHubProductArn('arn:aws-cn:securityhub:cn-north-1:111122223333:product/111122223333/default'),
    ).toMatchObject({
      partition: 'aws-cn',
    });
    for (const arn of [
      'arn:aws:securityhub:eu-west-1:111122223333:product/444455556666/default',
      'arn:aws:securityhub:eu-west-1::product/aws/guardduty',
      'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/*',
    ])
      expect(parseSecurityHubProductArn(arn)).toBeUndefined();
    expect(
      issues(() =>
        parseRuntimeConfig({
          ...BASE,
          [OUTPUT_ENV.securityHubProductArn]: 'arn:aws:securityhub:eu-west-1::product/aws/guardduty',
        }),
      ).join('\n'),
    ).toMatch(/AUTHWATCH_SECURITY_HUB_PRODUCT_ARN: .* is not the account's own product ARN/);
    expect(
      issues(() => parseRuntimeConfig({ ...BASE, [OUTPUT_ENV.eventBus]: 'no spaces allowed' })).join('\n'),
    ).toMatch(/AUTHWATCH_EVENT_BUS/);
  });
});

describe('the triage function variables', () => {
  it('need the table and the product, and take the record days', () => {
    expect(parseTriageConfig({ [TRIAGE_ENV.tableName]: 't', [TRIAGE_ENV.productArn]: PRODUCT })).toEqual({
      tableName: 't',
      productArn: PRODUCT,
      recordDays: 30,
    });
    expect(
      parseTriageConfig({
        [TRIAGE_ENV.tableName]: 't',
        [TRIAGE_ENV.productArn]: PRODUCT,
        [TRIAGE_ENV.recordDays]: '90',
      }).recordDays,
    ).toBe(90);
    const problems = issues(() => parseTriageConfig({ [TRIAGE_ENV.recordDays]: '0.5' }));
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/AUTHWATCH_TABLE_NAME: required/);
  });
});
