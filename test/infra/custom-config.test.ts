/**
 * Custom formats and identity rules in the deployment configuration: validated at synth with messages that say
 * what to fix, handed to the detector function through its environment, and validated again (and accepted) there,
 * so the function builds the same profile as the command line does from the same cdk.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDeployConfig, parseDeployConfig } from '../../infra/config';
import { compose } from '../../lambdas/detector/handler';
import { ENV, parseRuntimeConfig } from '../../shared/config';
import { checkCustomProfiles, profileFromSpec } from '../../shared/core/profiles/custom';
import { ConfigError } from '../../shared/errors';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { synth } from './synth';

const FIXTURE = join(__dirname, '..', 'fixtures', 'custom', 'cdk.json');
const AUTHWATCH = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { context: { authwatch: Record<string, unknown> } })
  .context.authwatch;

function issuesOf(raw: Record<string, unknown>): readonly string[] {
  try {
    parseDeployConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the configuration to be rejected');
}

const spec = (over: Record<string, unknown>) => ({
  id: 'custom:fw',
  kind: 'text',
  pattern: '^(?<time>\\S+) (?<outcome>\\w+) (?<user>\\S+) from (?<ip>\\S+)$',
  outcome: { success: ['accept'], failure: ['deny'] },
  ...over,
});

describe('custom formats and identities in the deployment configuration', () => {
  it('a format defined only in cdk.json is accepted, and log sources may name it', () => {
    const config = loadDeployConfig({ authwatch: AUTHWATCH });
    expect(config.logSources.map((s) => s.profile)).toEqual(['custom:vpn', 'custom:idp']);
    expect(config.customProfiles.map((s) => s.id)).toEqual(['custom:vpn', 'custom:idp']);
    expect(config.identities?.domainAliases).toEqual({ corp: 'corp.example' });
    expect(config.logSourceAlarms[0]!.id).toBe('custom:vpn:/vpn/authd');
  });

  it('synth refuses an invalid format, saying what to fix', () => {
    const bad = { ...AUTHWATCH, customProfiles: [spec({ pattern: '(?<user>\\S+) (?<ip>[0-9.+' })] };
    expect(issuesOf(bad)).toContainEqual(
      expect.stringMatching(/^authwatch\.customProfiles\.0\.pattern: not a valid regular expression \(/),
    );
    expect(issuesOf({ ...AUTHWATCH, customProfiles: [spec({ pattern: '(?<user>\\S+) (?<ip>\\S+)' })] })).toContain(
      'authwatch.customProfiles.0.pattern: needs a named group (?<outcome>...) holding the verdict the outcome values name',
    );
    expect(issuesOf({ ...AUTHWATCH, customProfiles: [spec({ id: 'okta' })] }).join('\n')).toContain(
      'authwatch.customProfiles.0.id',
    );
  });

  it('synth refuses a log source naming a format that is not defined, or an unknown built-in', () => {
    const issues = issuesOf({
      ...AUTHWATCH,
      logSources: [
        { profile: 'custom:nope', logGroups: ['/a'] },
        { profile: 'sshdd', logGroups: ['/b'] },
      ],
    });
    expect(issues).toContain(
      'authwatch.logSources.0.profile: "custom:nope" is not defined in authwatch.customProfiles (defined: custom:vpn, custom:idp)',
    );
    expect(issues.join('\n')).toMatch(/logSources\.1\.profile: unknown profile "sshdd": use one of "sshd"/);
  });

  it('synth refuses identity rules that would not do what they say', () => {
    expect(issuesOf({ ...AUTHWATCH, identities: { aliases: { a: 'b', b: 'c' } } }).join('\n')).toContain(
      'authwatch.identities.aliases.a: maps to "b", which is itself mapped to "c"',
    );
  });

  it('the function gets both through its environment, validates them again and builds the same profiles', () => {
    const { template } = synth({ config: AUTHWATCH });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (r) =>
        (r.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables?.[
          ENV.logSources
        ] !== undefined,
    );
    const vars = (fn!.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    const env = Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : '']));
    env[ENV.tableName] = 'Authwatch-StorageTable-ABC';
    env[ENV.topicArn] = 'arn:aws:sns:eu-west-1:123456789012:Authwatch-AlertsTopic-ABC';
    const runtime = parseRuntimeConfig(env);
    const fromCdkJson = checkCustomProfiles(AUTHWATCH.customProfiles, 'x').specs.map(profileFromSpec);
    expect(runtime.customProfiles.map(profileFromSpec).map((p) => p.query)).toEqual(fromCdkJson.map((p) => p.query));
    expect(runtime.identities?.dropDomains).toEqual(['corp.example']);
    // The composition root builds a source per configured log source, custom formats included.
    const deps = compose({ ...env, AWS_REGION: 'eu-west-1' });
    expect(deps.logSources.map((s) => s.name)).toEqual(['custom:vpn:/vpn/authd', 'custom:idp:/idp/signins']);
  });

  it('the function refuses an environment whose sources name an undefined format, or whose format is invalid', () => {
    const base = {
      [ENV.tableName]: 't',
      [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      [ENV.logSources]: JSON.stringify([{ profile: 'custom:vpn', logGroups: ['/vpn'] }]),
    };
    expect(() => parseRuntimeConfig(base)).toThrow(/AUTHWATCH_LOG_SOURCES\.0\.profile: "custom:vpn" is not defined/);
    expect(() =>
      parseRuntimeConfig({
        ...base,
        [ENV.customProfiles]: JSON.stringify([
          spec({ id: 'custom:vpn', pattern: '(?<user>a)(?=b)(?<ip>c)(?<outcome>d)' }),
        ]),
      }),
    ).toThrow(/AUTHWATCH_CUSTOM_PROFILES\.0\.pattern: lookahead/);
    expect(() => parseRuntimeConfig({ ...base, [ENV.identities]: '{"aliases":{"a":1}}' })).toThrow(
      /AUTHWATCH_IDENTITIES\.aliases\.a/,
    );
  });

  it('keeps the README honest: its examples of both keys deploy as written', () => {
    const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
    const block = (heading: string) => {
      const at = readme.indexOf(`\n${heading}\n`);
      expect(at, heading).toBeGreaterThan(-1);
      return /```json\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
    };
    const raw = JSON.parse(
      `{${block('### Your own log format')}, ${block('### One baseline per person')}, "alertEmails": ["a@example.com"]}`,
    ) as Record<string, unknown>;
    const config = parseDeployConfig(raw);
    expect(config.customProfiles.map((p) => p.id)).toEqual(['custom:vpn', 'custom:idp']);
    expect(config.identities?.aliases).toEqual({ 'a.smith@corp.example': 'alice@corp.example' });
  });
});
