import { describe, expect, it } from 'vitest';
import { CONTEXT_KEY, loadDeployConfig, parseDeployConfig } from '../../infra/config';
import { ConfigError } from '../../shared/errors';
import { cdkJsonContext } from './synth';

const valid = { logSources: [{ profile: 'sshd', logGroups: ['/ec2/secure'] }], alertEmails: ['secops@example.com'] };

/** The issues a configuration is rejected with (fails the test if it is accepted). */
function issuesOf(raw: Record<string, unknown>): readonly string[] {
  try {
    parseDeployConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the configuration to be rejected');
}

const context = (map: Record<string, unknown>) => (key: string) => map[key];

describe('deployment configuration', () => {
  it('accepts the cdk.json example and fills the defaults in one place', () => {
    const config = loadDeployConfig(context(cdkJsonContext()));
    expect(config.logSources.map((s) => s.profile)).toEqual(['sshd', 'cloudtrail']);
    expect(config.opsEmails).toEqual(config.alertEmails);
    expect(config).toMatchObject({ alertEmailMode: 'digest', serviceName: 'authwatch', stackName: 'Authwatch', retainData: true, logRetentionDays: 365 });
    expect(config.settings).toMatchObject({ learningDays: 14, maxAlertsPerRun: 100, thresholds: { 'Auth.RareUser': 75, 'Auth.UnusualSourceIp': 75 } });
  });

  it('says log sources are required, with an example', () => {
    expect(issuesOf({ alertEmails: ['a@example.com'] })).toEqual([`${CONTEXT_KEY}.logSources: required: a list like [{"profile":"sshd","logGroups":["/ec2/secure"]}]`]);
    expect(issuesOf({ ...valid, logSources: [] })).toEqual([expect.stringMatching(/^authwatch\.logSources: list at least one log source/)]);
  });

  it('names the valid profiles when one is wrong', () => {
    expect(issuesOf({ ...valid, logSources: [{ profile: 'sshdd', logGroups: ['/ec2/secure'] }] })).toEqual([
      'authwatch.logSources.0.profile: unknown profile "sshdd": use one of "sshd", "cloudtrail", "ecs", "windows", "okta"',
    ]);
  });

  it('rejects log group patterns and ARNs, which would widen or break the IAM policy', () => {
    const issues = issuesOf({ ...valid, logSources: [{ profile: 'sshd', logGroups: ['/ec2/*', 'arn:aws:logs:eu-west-1:123456789012:log-group:/ec2/secure'] }] });
    expect(issues).toEqual([
      'authwatch.logSources.0.logGroups.0: not a log group name: give the name (letters, digits, _ - . / #), not an ARN or a pattern',
      'authwatch.logSources.0.logGroups.1: not a log group name: give the name (letters, digits, _ - . / #), not an ARN or a pattern',
    ]);
  });

  it('points at each bad email address', () => {
    expect(issuesOf({ ...valid, alertEmails: ['secops@example.com', 'secops-at-example.com'], opsEmails: ['ops@'] })).toEqual([
      'authwatch.alertEmails.1: "secops-at-example.com" is not an email address',
      'authwatch.opsEmails.0: "ops@" is not an email address',
    ]);
  });

  it('checks CIDRs with the same schema the Lambda uses', () => {
    expect(issuesOf({ ...valid, allowCidrs: ['10.0.0.0/8', '10.0.0.0/33', 'office'] })).toEqual([
      'authwatch.allowCidrs.1: "10.0.0.0/33" is not a CIDR like 10.0.0.0/8 or 2001:db8::/32',
      'authwatch.allowCidrs.2: "office" is not a CIDR like 10.0.0.0/8 or 2001:db8::/32',
    ]);
  });

  it('lists every problem at once, including unknown keys and out-of-range settings', () => {
    const issues = issuesOf({ logSources: [{ profile: 'okta', logGroups: [] }], alertEmail: ['x@example.com'], learningDays: -1, thresholds: { 'Auth.RareUser': 120 } });
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^authwatch\.alertEmail: unknown key \(known keys: logSources, alertEmails, /),
        'authwatch.logSources.0.logGroups: list at least one log group name',
        expect.stringMatching(/^authwatch\.learningDays: /),
        expect.stringMatching(/^authwatch\.thresholds\.Auth\.RareUser: /),
      ]),
    );
    expect(issues).toHaveLength(4);
  });

  it('requires somewhere for alerts to go', () => {
    expect(issuesOf({ logSources: valid.logSources })).toEqual([
      'authwatch.alertEmails: give at least one email address, or configure authwatch.slack — otherwise alerts reach nobody',
    ]);
    expect(parseDeployConfig({ logSources: valid.logSources, slack: { workspaceId: 'T07ABCDEF', channelId: 'C07ABCDEF' } }).alertEmails).toEqual([]);
  });

  it('explains where to find Slack ids', () => {
    expect(issuesOf({ ...valid, slack: { workspaceId: 'acme', channelId: '#secops' } })).toEqual([
      'authwatch.slack.workspaceId: a Slack workspace (team) id like T07ABCDEF (AWS Chatbot console → Slack workspace details)',
      'authwatch.slack.channelId: a Slack channel id like C07ABCDEF (Slack: channel details → bottom of the About tab)',
    ]);
  });

  it("refuses settings that would not fit in Lambda's 4 KB environment, and says what to shorten", () => {
    const allowUsers = Array.from({ length: 300 }, (_, i) => `contractor-${i}`);
    expect(issuesOf({ ...valid, allowUsers })).toEqual([expect.stringMatching(/^authwatch: log sources and settings take \d+ bytes, more than the 3072 left in Lambda's 4 KB environment: shorten allowUsers/)]);
  });

  it('only accepts retention periods CloudWatch Logs offers', () => {
    expect(issuesOf({ ...valid, logRetentionDays: 100 })).toEqual([expect.stringMatching(/^authwatch\.logRetentionDays: one of CloudWatch Logs' retention values: 1, 3, 5, 7, 14, 30, 60, 90/)]);
  });
});

describe('reading the context', () => {
  it('takes single keys from -c authwatch.<key>=..., as strings the CLI passes, over the cdk.json object', () => {
    const config = loadDeployConfig(
      context({
        authwatch: valid,
        'authwatch.alertEmails': 'a@example.com, b@example.com',
        'authwatch.learningDays': '3',
        'authwatch.logSources': '[{"profile":"windows","logGroups":["/windows/security"]}]',
        'authwatch.retainData': 'false',
      }),
    );
    expect(config.alertEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(config.settings.learningDays).toBe(3);
    expect(config.logSources).toEqual([{ profile: 'windows', logGroups: ['/windows/security'] }]);
    expect(config.retainData).toBe(false);
  });

  it('accepts the whole object as a JSON string (-c authwatch=\'{...}\')', () => {
    expect(loadDeployConfig(context({ authwatch: JSON.stringify(valid) })).logSources).toEqual(valid.logSources);
  });

  it('reports malformed JSON on the command line with the key it came from', () => {
    const run = () => loadDeployConfig(context({ authwatch: valid, 'authwatch.logSources': '[{"profile":"sshd",' }));
    expect(run).toThrow(ConfigError);
    try {
      run();
    } catch (e) {
      expect((e as ConfigError).issues[0]).toMatch(/^authwatch\.logSources: not valid JSON/);
    }
  });

  it('says what is missing when there is no configuration at all', () => {
    expect(() => loadDeployConfig(context({}))).toThrow(/authwatch\.logSources: required/);
  });
});
