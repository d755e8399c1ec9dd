import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main as cliMain } from '../../cli/authwatch';
import { allowAsn, allowCidr, allowCountry, allowUser } from '../../shared/feedback';
import {
  closestKey,
  CONFIG_KEYS,
  CONTEXT_KEY,
  DEFAULT_MAX_QUIET_HOURS,
  editDistance,
  loadDeployConfig,
  MAX_QUIET_HOURS,
  parseDeployConfig,
} from '../../infra/config';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { ENV, LOG_SOURCE_ID_MAX, logSourceId, parseRuntimeConfig } from '../../shared/config';
import { ISO_COUNTRY_CODES } from '../../shared/core/countries';
import { DAY_MS } from '../../shared/core/model';
import { DEFAULT_SETTINGS, detectionSettingsSchema, settingsForEnvironment } from '../../shared/core/settings';
import { IPTOASN_COMBINED_URL } from '../../shared/adapters/network-data-source';
import { ConfigError } from '../../shared/errors';
import type { OperatorStore } from '../../shared/ports';
import { cdkJsonContext, readmeDeployContext, synth } from './synth';

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

/** The issues loading a whole CDK context is rejected with. */
function contextIssuesOf(context: Record<string, unknown>): readonly string[] {
  try {
    loadDeployConfig(context);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected the context to be rejected');
}

/** Synthesize the app as `cdk synth` does; the ConfigError's issues if it refuses. */
function synthIssues(options: Parameters<typeof synth>[0]): readonly string[] {
  try {
    synth(options);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }
  throw new Error('expected synth to fail');
}

const SSHD_EXAMPLE = '### Worked example: sshd from EC2 instances';

describe('deployment configuration', () => {
  it('fills the defaults in one place', () => {
    const config = parseDeployConfig(valid);
    expect(config.opsEmails).toEqual(config.alertEmails);
    expect(config).toMatchObject({
      alertEmailMode: 'digest',
      serviceName: 'authwatch',
      stackName: 'Authwatch',
      retainData: true,
      logRetentionDays: 365,
    });
    expect(config.settings).toEqual(DEFAULT_SETTINGS);
    expect(config.networkData).toEqual({ sourceUrl: IPTOASN_COMBINED_URL });
  });

  it('deploys network data from IPtoASN by default, from another URL, or not at all', () => {
    const mirror = 'https://mirror.example.com/ip2asn-combined.tsv.gz';
    expect(parseDeployConfig({ ...valid, networkDataUrl: mirror }).networkData).toEqual({ sourceUrl: mirror });
    expect(parseDeployConfig({ ...valid, networkData: false }).networkData).toBeUndefined();
    // From the command line, as the CDK CLI passes them: strings.
    expect(
      loadDeployConfig({
        [CONTEXT_KEY]: JSON.stringify(valid),
        [`${CONTEXT_KEY}.networkData`]: 'false',
      }).networkData,
    ).toBeUndefined();
  });

  it('refuses a URL that is not http(s), a networkData that is not a boolean, and a URL nothing would download', () => {
    expect(issuesOf({ ...valid, networkDataUrl: 'ftp://example.com/x.tsv.gz' })).toEqual([
      `${CONTEXT_KEY}.networkDataUrl: an http(s) URL of a file in IPtoASN's format, e.g. ${IPTOASN_COMBINED_URL}`,
    ]);
    expect(issuesOf({ ...valid, networkData: 'no' })).toEqual([
      `${CONTEXT_KEY}.networkData: true (the default) or false (no network-owner data at all)`,
    ]);
    expect(issuesOf({ ...valid, networkData: false, networkDataUrl: 'https://example.com/x.tsv.gz' })).toEqual([
      `${CONTEXT_KEY}.networkDataUrl: set while ${CONTEXT_KEY}.networkData is false, so nothing would download it; remove one of the two`,
    ]);
  });

  it('says log sources are required, with an example', () => {
    expect(issuesOf({ alertEmails: ['a@example.com'] })).toEqual([
      `${CONTEXT_KEY}.logSources: required: the log groups holding logons and their format (one of "sshd", "cloudtrail", "ecs", "windows", "okta", "auditd", "cisco-asa", "identity-center", "entra", "google-workspace"), e.g. -c 'authwatch.logSources=[{"profile":"sshd","logGroups":["/ec2/var/log/secure"]}]'`,
    ]);
    expect(issuesOf({ ...valid, logSources: [] })).toEqual([
      expect.stringMatching(/^authwatch\.logSources: list at least one log source/),
    ]);
    expect(issuesOf({ ...valid, logSources: '/ec2/secure' })).toEqual([
      expect.stringMatching(
        /^authwatch\.logSources: must be a list of log sources \(one of "sshd", .*\), e\.g\. -c 'authwatch\.logSources=\[/,
      ),
    ]);
  });

  it('names the valid profiles when one is wrong', () => {
    expect(issuesOf({ ...valid, logSources: [{ profile: 'sshdd', logGroups: ['/ec2/secure'] }] })).toEqual([
      'authwatch.logSources.0.profile: unknown profile "sshdd": use one of "sshd", "cloudtrail", "ecs", "windows", "okta", "auditd", "cisco-asa", "identity-center", "entra", "google-workspace"',
    ]);
  });

  it('rejects log group patterns and ARNs that are not one group, which would widen or break the IAM policy', () => {
    const hint =
      'give the log group name (letters, digits, _ - . / #), or for a linked source account its ARN, arn:aws:logs:<region>:<account>:log-group:<name> (no pattern, no :* at the end)';
    const issues = issuesOf({
      ...valid,
      logSources: [
        {
          profile: 'sshd',
          logGroups: [
            '/ec2/*',
            'arn:aws:logs:eu-west-1:123456789012:log-group:/ec2/secure:*',
            'arn:aws:logs:eu-west-1:1234:log-group:/ec2/secure',
            'arn:aws:logs:eu-west-1:123456789012:log-group:*',
          ],
        },
      ],
    });
    expect(issues).toEqual([
      `authwatch.logSources.0.logGroups.0: not a log group name: ${hint}`,
      `authwatch.logSources.0.logGroups.1: not a log group ARN: ${hint}`,
      `authwatch.logSources.0.logGroups.2: not a log group ARN: ${hint}`,
      `authwatch.logSources.0.logGroups.3: not a log group ARN: ${hint}`,
    ]);
  });

  it("accepts log groups of linked source accounts by ARN, in the deployment's one region", () => {
    const remote = 'arn:aws:logs:eu-west-1:444455556666:log-group:/ec2/secure';
    const config = parseDeployConfig({
      ...valid,
      logSources: [{ profile: 'sshd', logGroups: [remote, '/ec2/local'] }],
    });
    expect(config.logSources[0]!.logGroups).toEqual([remote, '/ec2/local']);
    expect(
      issuesOf({
        ...valid,
        logSources: [
          { profile: 'sshd', logGroups: [remote] },
          { profile: 'cloudtrail', logGroups: ['arn:aws:logs:us-east-1:444455556666:log-group:trail'] },
        ],
      }),
    ).toEqual([
      "authwatch.logSources: log group ARNs name 2 regions (eu-west-1, us-east-1): a deployment queries the region it is deployed to (cross-account observability links accounts within one region); deploy once per region, each with that region's groups",
    ]);
  });

  it('points at each bad email address', () => {
    expect(
      issuesOf({ ...valid, alertEmails: ['secops@example.com', 'secops-at-example.com'], opsEmails: ['ops@'] }),
    ).toEqual([
      'authwatch.alertEmails.1: "secops-at-example.com" is not an email address',
      'authwatch.opsEmails.0: "ops@" is not an email address',
    ]);
  });

  it('checks allowlists with the schema the Lambda uses, and deploys them in canonical form', () => {
    expect(
      issuesOf({
        ...valid,
        allowCidrs: ['10.0.0.0/8', '10.0.0.0/33', 'office', '0.0.0.0/1'],
        allowUsers: ['svc-*', ' ** '],
      }),
    ).toEqual([
      'authwatch.allowUsers.1: "**" matches every user and would silence every alert; remove the detector instead',
      'authwatch.allowCidrs.1: "10.0.0.0/33" is not a CIDR like 203.0.113.0/24, 198.51.100.7 (one address) or 2001:db8::/48',
      'authwatch.allowCidrs.2: "office" is not a CIDR like 203.0.113.0/24, 198.51.100.7 (one address) or 2001:db8::/48',
      "authwatch.allowCidrs.3: 0.0.0.0/1 is too broad: shorter than /8 it spans networks of other organisations (attackers' too); list the ranges you run, each /8 or longer",
    ]);
    const config = parseDeployConfig({
      ...valid,
      allowCidrs: ['198.51.100.7', '10.1.2.3/8', '2001:DB8:0:0::/48', 'fd12:3456:789a::/48'],
      allowUsers: [' svc-** '],
    });
    expect(config.settings.allowCidrs).toEqual([
      '198.51.100.7/32',
      '10.0.0.0/8',
      '2001:db8::/48',
      'fd12:3456:789a::/48',
    ]);
    expect(config.settings.allowUsers).toEqual(['svc-*']);
    // The shortest prefixes allowed, per family; one bit shorter is refused.
    expect(parseDeployConfig({ ...valid, allowCidrs: ['17.0.0.0/8', '2001::/16'] }).settings.allowCidrs).toEqual([
      '17.0.0.0/8',
      '2001::/16',
    ]);
    expect(issuesOf({ ...valid, allowCidrs: ['16.0.0.0/7', '2000::/15'] })).toEqual([
      expect.stringMatching(/^authwatch\.allowCidrs\.0: 16\.0\.0\.0\/7 is too broad: shorter than \/8 /),
      expect.stringMatching(/^authwatch\.allowCidrs\.1: 2000::\/15 is too broad: shorter than \/16 /),
    ]);
  });

  it('takes networks (AS) and countries for everyone, from the object or from -c, in canonical form', () => {
    const config = loadDeployConfig({
      authwatch: { ...valid, allowCountries: ['jp', ' de '] },
      'authwatch.allowAsns': 'AS64496, as64511,65000',
    });
    expect(config.settings.allowAsns).toEqual([64496, 64511, 65000]);
    expect(config.settings.allowCountries).toEqual(['JP', 'DE']);
    // One AS on the command line is a list of one, not a number the schema refuses.
    expect(loadDeployConfig({ authwatch: valid, 'authwatch.allowAsns': '64496' }).settings.allowAsns).toEqual([64496]);
    expect(loadDeployConfig({ authwatch: valid, 'authwatch.allowCountries': 'NZ' }).settings.allowCountries).toEqual([
      'NZ',
    ]);
    expect(parseDeployConfig({ ...valid, allowAsns: [64496, 'AS64511'] }).settings.allowAsns).toEqual([64496, 64511]);
    expect(parseDeployConfig(valid).settings).toMatchObject({ allowAsns: [], allowCountries: [] });
  });

  it('refuses an AS or a country that names no one network or country, or all of them, saying why', () => {
    expect(
      issuesOf({
        ...valid,
        allowAsns: ['AS0', 'ASX', 23456, 4294967295, 1.5, '*', true],
        allowCountries: ['UK', 'EU', 'Japan', '*', 81],
      }),
    ).toEqual([
      'authwatch.allowAsns.0: AS0 is reserved (RFC 7607): no address is announced by it',
      'authwatch.allowAsns.1: "ASX" is not an AS number like AS64496 or 64496 (1 to 4294967294)',
      'authwatch.allowAsns.2: AS23456 stands for any 4-byte AS seen through an older router (RFC 6793), not one network',
      'authwatch.allowAsns.3: AS4294967295 is reserved (RFC 7300)',
      'authwatch.allowAsns.4: "1.5" is not an AS number like AS64496 or 64496 (1 to 4294967294)',
      'authwatch.allowAsns.5: "*" is every network and would silence every alert',
      'authwatch.allowAsns.6: give an AS number like AS64496 or 64496',
      'authwatch.allowCountries.0: "UK" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE (the United Kingdom is GB)',
      'authwatch.allowCountries.1: "EU" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE',
      'authwatch.allowCountries.2: "Japan" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE',
      'authwatch.allowCountries.3: "*" is every country and would silence every alert',
      'authwatch.allowCountries.4: give a country code like JP or DE',
    ]);
  });

  it('refuses every country at once (silence), and takes all but one', () => {
    const all = [...ISO_COUNTRY_CODES];
    expect(issuesOf({ ...valid, allowCountries: all })).toEqual([
      'authwatch.allowCountries: every country (all 249 codes) would silence every alert from an address the network data knows; remove the detector instead',
    ]);
    expect(
      parseDeployConfig({ ...valid, allowCountries: all.filter((c) => c !== 'RU') }).settings.allowCountries,
    ).toHaveLength(248);
  });

  it('takes entries for one user and until a day beside plain values, and deploys them without their notes', () => {
    const NOW = Date.UTC(2026, 11, 1);
    const config = parseDeployConfig(
      {
        ...valid,
        allowUsers: ['svc-*', { user: ' contractor-** ', until: '2027-01-31', note: 'contract ends' }, { user: 'ci' }],
        allowCidrs: ['198.51.100.7', { cidr: '10.1.2.3/8', user: ' alice ', note: 'her lab' }],
        allowAsns: ['AS64496', { asn: 'as64511', user: 'bob', until: '2026-12-31' }],
        allowCountries: [
          'jp',
          { country: 'jp', user: 'alice', until: '2026-12-18', note: 'trip to Tokyo' },
          { country: 'de', note: 'head office' },
        ],
      },
      [],
      NOW,
    );
    // A plain value means what it always meant; an object without user or until is that plain value.
    expect(config.settings).toMatchObject({
      allowUsers: ['svc-*', { user: 'contractor-*', until: '2027-01-31' }, 'ci'],
      allowCidrs: ['198.51.100.7/32', { cidr: '10.0.0.0/8', user: 'alice' }],
      allowAsns: [64496, { asn: 64511, user: 'bob', until: '2026-12-31' }],
      allowCountries: ['JP', { country: 'JP', user: 'alice', until: '2026-12-18' }, 'DE'],
    });
    expect(config.warnings).toEqual([]);
    // What synth deploys (what differs from the defaults) is what the Lambda reads back, unchanged.
    const runtime = parseRuntimeConfig({
      [ENV.tableName]: 't',
      [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      [ENV.logSources]: JSON.stringify(config.logSources),
      [ENV.settings]: JSON.stringify(settingsForEnvironment(config.settings)),
    });
    expect(runtime.settings).toEqual(config.settings);
    expect(Object.keys(settingsForEnvironment(config.settings))).not.toContain('learningDays');
    // On the command line, as JSON.
    expect(
      loadDeployConfig({
        authwatch: valid,
        'authwatch.allowCountries': '[{"country":"JP","user":"alice","until":"2026-12-18"}]',
      }).settings.allowCountries,
    ).toEqual([{ country: 'JP', user: 'alice', until: '2026-12-18' }]);
  });

  it('refuses a bad entry object with the key path and the message a plain value or `allow` gets', () => {
    expect(
      issuesOf({
        ...valid,
        allowUsers: [{ user: '*' }, { user: 'x', user2: 'y' }],
        allowCidrs: [{ cidr: '0.0.0.0/1', user: 'alice' }, { user: 'alice' }],
        allowAsns: [{ asn: 'AS0' }, { asn: 64496, until: 20261218 }],
        allowCountries: [
          { country: 'UK', user: 'alice' },
          { country: 'JP', user: '  ' },
          { country: 'JP', untill: '2026-12-18' },
          { country: 'JP', until: '2026-02-30' },
          { country: 'JP', user: 'alice', note: 'x'.repeat(201) },
          [],
        ],
      }),
    ).toEqual([
      'authwatch.allowUsers.0.user: "*" matches every user and would silence every alert; remove the detector instead',
      'authwatch.allowUsers.1: unknown key "user2": an entry takes "user", "until", "note" (only "user" is required)',
      "authwatch.allowCidrs.0.cidr: 0.0.0.0/1 is too broad: shorter than /8 it spans networks of other organisations (attackers' too); list the ranges you run, each /8 or longer",
      'authwatch.allowCidrs.1.cidr: give a CIDR like 203.0.113.0/24, 198.51.100.7 (one address) or 2001:db8::/48',
      'authwatch.allowAsns.0.asn: AS0 is reserved (RFC 7607): no address is announced by it',
      'authwatch.allowAsns.1.until: the last day the entry applies, like 2026-12-18 (YYYY-MM-DD, UTC)',
      'authwatch.allowCountries.0.country: "UK" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE (the United Kingdom is GB)',
      'authwatch.allowCountries.1.user: the user name is empty',
      'authwatch.allowCountries.2: unknown key "untill": an entry takes "country", "user", "until", "note" (only "country" is required)',
      'authwatch.allowCountries.3.until: "2026-02-30" is not a date like 2026-12-18 (YYYY-MM-DD, UTC)',
      'authwatch.allowCountries.4.note: at most 200 characters',
      'authwatch.allowCountries.5: give a country code like JP or DE',
    ]);
    // Every country for everyone is silence, entries with an end too; for one user each, it is that user's choice.
    const all = [...ISO_COUNTRY_CODES];
    expect(issuesOf({ ...valid, allowCountries: all.map((country) => ({ country, until: '2027-01-01' })) })).toEqual([
      expect.stringMatching(/^authwatch\.allowCountries: every country \(all 249 codes\) would silence every alert/),
    ]);
    // (Checked by the schema alone: 249 entries for one user are past the Lambda's environment budget.)
    expect(
      detectionSettingsSchema.parse({ allowCountries: all.map((country) => ({ country, user: 'alice' })) })
        .allowCountries,
    ).toHaveLength(249);
  });

  it("keeps docs/deploy.md's entries for one user honest: its example deploys, its warning is synth's", () => {
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    const section = docs.slice(docs.indexOf('### Entries for one user, until a day'));
    const example = JSON.parse(`{${/```json\n([\s\S]*?)```/.exec(section)![1]}}`) as Record<string, unknown>;
    const config = parseDeployConfig({ ...valid, ...example }, [], Date.UTC(2026, 11, 1));
    expect(config.settings.allowCountries).toEqual(['DE', { country: 'JP', user: 'alice', until: '2026-12-18' }]);
    expect(config.settings.allowAsns).toEqual([{ asn: 64496, user: 'bob' }]);
    const warned = parseDeployConfig(
      { ...valid, allowCountries: ['DE', { country: 'FR', user: 'bob', until: '2026-06-30' }] },
      [],
      Date.UTC(2026, 11, 1),
    ).warnings;
    expect(section.replace(/\s+/g, ' ')).toContain(`\`${warned[0]}\``);
  });

  it('deploys an entry whose day is over, and warns about it (it still applies to older logons)', () => {
    const NOW = Date.UTC(2026, 11, 1, 12);
    const config = parseDeployConfig(
      {
        ...valid,
        allowUsers: [{ user: 'temp-*', until: '2026-11-30' }],
        allowCountries: [
          'NZ',
          { country: 'JP', user: 'alice', until: '2026-12-01' },
          { country: 'FR', user: 'bob', until: '2026-06-30' },
        ],
      },
      [],
      NOW,
    );
    expect(config.settings.allowCountries).toHaveLength(3);
    expect(config.warnings).toEqual([
      'authwatch.allowUsers.0: until 2026-11-30 is over (it is 2026-12-01 UTC): the detector ignores this entry for logons after that day; remove it, or give a later day',
      'authwatch.allowCountries.2: until 2026-06-30 is over (it is 2026-12-01 UTC): the detector ignores this entry for logons after that day; remove it, or give a later day',
    ]);
    // The day after, today's entry is over too.
    expect(
      parseDeployConfig({ ...valid, allowCountries: [{ country: 'JP', until: '2026-12-01' }] }, [], NOW + DAY_MS)
        .warnings,
    ).toEqual([
      expect.stringMatching(/^authwatch\.allowCountries\.0: until 2026-12-01 is over \(it is 2026-12-02 UTC\)/),
    ]);
  });

  it('synth shows an entry whose day is over as a warning, and deploys it without its note', () => {
    const { stack, template } = synth({
      config: { ...valid, allowCountries: [{ country: 'JP', user: 'alice', until: '2020-01-31', note: 'old trip' }] },
    });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('authwatch\\.allowCountries\\.0: until 2020-01-31 is over'),
    );
    const env = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) =>
        (f as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment
          ?.Variables?.[ENV.settings],
    );
    const settings = env
      .filter((v): v is string => typeof v === 'string')
      .map((v) => JSON.parse(v) as { allowCountries: unknown });
    expect(settings.map((s) => s.allowCountries)).toContainEqual([
      { country: 'JP', user: 'alice', until: '2020-01-31' },
    ]);
  });

  it('takes the time zones people work in, from the object or from -c, and refuses unknown zones', () => {
    const config = loadDeployConfig({
      authwatch: { ...valid, userTimeZones: [{ pattern: 'apac-*', timeZone: 'Asia/Singapore' }] },
      'authwatch.timeZone': 'Europe/Berlin',
    });
    expect(config.settings.timeZone).toBe('Europe/Berlin');
    expect(config.settings.userTimeZones).toEqual([{ pattern: 'apac-*', timeZone: 'Asia/Singapore' }]);
    expect(parseDeployConfig(valid).settings.timeZone).toBe('UTC');
    expect(
      issuesOf({ ...valid, timeZone: 'Berlin', userTimeZones: [{ pattern: 'x', timeZone: 'UTC', tz: 'UTC' }] }),
    ).toEqual([
      'authwatch.timeZone: "Berlin" is not an IANA time zone name like Europe/Berlin, America/New_York or UTC',
      expect.stringMatching(/^authwatch\.userTimeZones\.0: .*tz/),
    ]);
  });

  it('takes suspectDays (7 by default) from the object or from -c, and refuses it outside 1–90 days', () => {
    expect(parseDeployConfig(valid).settings.suspectDays).toBe(7);
    expect(loadDeployConfig({ authwatch: valid, 'authwatch.suspectDays': '14' }).settings.suspectDays).toBe(14);
    expect(parseDeployConfig({ ...valid, suspectDays: 2.5 }).settings.suspectDays).toBe(2.5);
    for (const bad of [0, 91, '7'])
      expect(issuesOf({ ...valid, suspectDays: bad })).toEqual([expect.stringMatching(/^authwatch\.suspectDays: /)]);
    expect(issuesOf({ ...valid, suspectDay: 3 })).toEqual([
      'authwatch.suspectDay: unknown key; did you mean authwatch.suspectDays?',
    ]);
  });

  it('lists every problem at once, including unknown keys and out-of-range settings', () => {
    const issues = issuesOf({
      logSources: [{ profile: 'okta', logGroups: [] }],
      alertEmail: ['x@example.com'],
      learningDays: -1,
      thresholds: { 'Auth.RareUser': 120 },
    });
    expect(issues).toEqual(
      expect.arrayContaining([
        'authwatch.alertEmail: unknown key; did you mean authwatch.alertEmails?',
        'authwatch.logSources.0.logGroups: list at least one log group name',
        expect.stringMatching(/^authwatch\.learningDays: /),
        expect.stringMatching(/^authwatch\.thresholds\.Auth\.RareUser: /),
        expect.stringMatching(/^authwatch\.alertEmails: required: who receives alerts/),
      ]),
    );
    expect(issues).toHaveLength(5);
  });

  it('refuses unknown keys inside objects too, where zod would drop them and keep the default', () => {
    expect(
      issuesOf({
        ...valid,
        logSources: [{ profile: 'sshd', logGroups: ['/ec2/secure'], logGroup: '/ec2/other' }],
        slack: { workspaceId: 'T07ABCDEF', channelID: 'C07ABCDEF' },
        thresholds: { 'Auth.RareUsr': 90 },
      }),
    ).toEqual([
      'authwatch.logSources.0.logGroup: unknown key; did you mean authwatch.logSources.0.logGroups?',
      'authwatch.slack.channelID: unknown key; did you mean authwatch.slack.channelId?',
      'authwatch.thresholds.Auth.RareUsr: unknown key; did you mean authwatch.thresholds.Auth.RareUser?',
      'authwatch.slack.channelId: a Slack channel id like C07ABCDEF (Slack: channel details → bottom of the About tab)',
    ]);
  });

  it('requires somewhere for alerts to go', () => {
    expect(issuesOf({ logSources: valid.logSources })).toEqual([
      'authwatch.alertEmails: required: who receives alerts, e.g. -c authwatch.alertEmails=secops@your-company.com (or set authwatch.slack) — otherwise alerts reach nobody',
    ]);
    expect(issuesOf({ logSources: valid.logSources, alertEmails: [] })).toEqual([
      expect.stringMatching(/^authwatch\.alertEmails: required: /),
    ]);
    expect(
      parseDeployConfig({ logSources: valid.logSources, slack: { workspaceId: 'T07ABCDEF', channelId: 'C07ABCDEF' } })
        .alertEmails,
    ).toEqual([]);
  });

  it('explains where to find Slack ids', () => {
    expect(issuesOf({ ...valid, slack: { workspaceId: 'acme', channelId: '#secops' } })).toEqual([
      'authwatch.slack.workspaceId: a Slack workspace (team) id like T07ABCDEF (AWS Chatbot console → Slack workspace details)',
      'authwatch.slack.channelId: a Slack channel id like C07ABCDEF (Slack: channel details → bottom of the About tab)',
    ]);
  });

  it("refuses settings that would not fit in Lambda's 4 KB environment, and says what to shorten", () => {
    const allowUsers = Array.from({ length: 300 }, (_, i) => `contractor-${i}`);
    expect(issuesOf({ ...valid, allowUsers })).toEqual([
      expect.stringMatching(
        /^authwatch: log sources and settings take \d+ bytes, more than the 3072 left in Lambda's 4 KB environment: shorten allowUsers/,
      ),
    ]);
    // AS numbers count too: 400 of them are past the budget.
    const allowAsns = Array.from({ length: 400 }, (_, i) => 4_200_000_000 + i);
    expect(issuesOf({ ...valid, allowAsns })).toEqual([
      expect.stringMatching(/move allowAsns\/allowCountries entries to authwatch allow/),
    ]);
    // Entries for one user until a day cost more: 40 trips fit (notes are not deployed), 70 do not.
    const trips = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        country: 'JP',
        user: `traveller-${i}`,
        until: '2026-12-18',
        note: 'a long note that is never deployed',
      }));
    expect(parseDeployConfig({ ...valid, allowCountries: trips(40) }).settings.allowCountries).toHaveLength(40);
    expect(issuesOf({ ...valid, allowCountries: trips(70) })).toEqual([
      expect.stringMatching(
        /^authwatch: log sources and settings take \d+ bytes, more than the 3072 left .* so are entries for one user or until a day/,
      ),
    ]);
  });

  it('only accepts retention periods CloudWatch Logs offers', () => {
    expect(issuesOf({ ...valid, logRetentionDays: 100 })).toEqual([
      expect.stringMatching(
        /^authwatch\.logRetentionDays: one of CloudWatch Logs' retention values: 1, 3, 5, 7, 14, 30, 60, 90/,
      ),
    ]);
  });
});

describe('per-source alarm settings (logSources[].maxQuietHours)', () => {
  const sources = [
    { profile: 'sshd', logGroups: ['/ec2/secure', '/ec2/bastion/secure'] },
    { profile: 'cloudtrail', logGroups: ['aws-cloudtrail-logs-123456789012'], maxQuietHours: 72 },
    { profile: 'okta', logGroups: ['/okta/system'], maxQuietHours: false },
  ];

  it('names each source by profile and first group, defaults the quiet hours, and keeps the setting out of the Lambda', () => {
    const config = parseDeployConfig({ ...valid, logSources: sources });
    expect(config.logSourceAlarms).toEqual([
      {
        id: 'sshd:/ec2/secure',
        profile: 'sshd',
        logGroups: ['/ec2/secure', '/ec2/bastion/secure'],
        maxQuietHours: DEFAULT_MAX_QUIET_HOURS,
      },
      {
        id: 'cloudtrail:aws-cloudtrail-logs-123456789012',
        profile: 'cloudtrail',
        logGroups: ['aws-cloudtrail-logs-123456789012'],
        maxQuietHours: 72,
      },
      { id: 'okta:/okta/system', profile: 'okta', logGroups: ['/okta/system'], maxQuietHours: false },
    ]);
    expect(DEFAULT_MAX_QUIET_HOURS).toBe(24);
    // The Lambda's environment holds what its parser reads: profile and groups.
    expect(config.logSources).toEqual(sources.map(({ profile, logGroups }) => ({ profile, logGroups })));
    const env = {
      [ENV.tableName]: 't',
      [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:a',
      [ENV.logSources]: JSON.stringify(config.logSources),
    };
    expect(parseRuntimeConfig(env).logSources).toEqual(config.logSources);
  });

  it('accepts the Linux audit and Cisco ASA profiles as sources, through to the Lambda', () => {
    const more = [
      { profile: 'auditd', logGroups: ['/ec2/var/log/audit/audit.log'] },
      { profile: 'cisco-asa', logGroups: ['/syslog/asa'] },
    ];
    const config = parseDeployConfig({ ...valid, logSources: more });
    expect(config.logSourceAlarms.map((a) => a.id)).toEqual([
      'auditd:/ec2/var/log/audit/audit.log',
      'cisco-asa:/syslog/asa',
    ]);
    const env = {
      [ENV.tableName]: 't',
      [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:a',
      [ENV.logSources]: JSON.stringify(config.logSources),
    };
    expect(parseRuntimeConfig(env).logSources).toEqual(more);
  });

  it('accepts whole hours up to a week, or false, and says so otherwise', () => {
    const hint = `whole hours from 1 to ${MAX_QUIET_HOURS} (an alarm looks back at most 7 days), or false for no quiet alarm on this source`;
    expect(MAX_QUIET_HOURS).toBe(168);
    expect(
      parseDeployConfig({ ...valid, logSources: [{ ...valid.logSources[0], maxQuietHours: 168 }] }).logSourceAlarms[0]!
        .maxQuietHours,
    ).toBe(168);
    expect(
      parseDeployConfig({ ...valid, logSources: [{ ...valid.logSources[0], maxQuietHours: 1 }] }).logSourceAlarms[0]!
        .maxQuietHours,
    ).toBe(1);
    for (const bad of [0, 169, 1.5, -24, '24', true, null]) {
      expect(
        issuesOf({ ...valid, logSources: [{ ...valid.logSources[0], maxQuietHours: bad }] }),
        JSON.stringify(bad),
      ).toEqual([`authwatch.logSources.0.maxQuietHours: ${hint}`]);
    }
  });

  it('refuses a misspelt setting inside a source, naming the right one', () => {
    expect(issuesOf({ ...valid, logSources: [{ ...valid.logSources[0], maxQuietHour: 48 }] })).toEqual([
      'authwatch.logSources.0.maxQuietHour: unknown key; did you mean authwatch.logSources.0.maxQuietHours?',
    ]);
  });

  it('keeps ids within the 255 characters an alarm dimension takes, distinct for groups that differ only at the end', () => {
    const a = `/${'a'.repeat(300)}/one`;
    const b = `/${'a'.repeat(300)}/two`;
    const ids = parseDeployConfig({
      ...valid,
      logSources: [
        { profile: 'sshd', logGroups: [a] },
        { profile: 'sshd', logGroups: [b] },
      ],
    }).logSourceAlarms.map((s) => s.id);
    for (const id of ids) expect(id.length).toBeLessThanOrEqual(LOG_SOURCE_ID_MAX);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids[0]!.startsWith('sshd:/aaaa')).toBe(true);
    expect(logSourceId({ profile: 'okta', logGroups: ['/okta/system', '/okta/other'] })).toBe('okta:/okta/system');
  });

  it('refuses two sources that would share an id (their metrics and alarms would merge)', () => {
    const twice = [sources[0]!, { profile: 'sshd', logGroups: ['/ec2/secure'] }];
    expect(issuesOf({ ...valid, logSources: twice })).toEqual([
      'authwatch.logSources.1: same profile and first log group as authwatch.logSources.0 (sshd:/ec2/secure): each source is named by these two for its metrics and alarms; merge the two sources, or list a different group first',
    ]);
    // The same group under another profile is another source.
    expect(
      parseDeployConfig({
        ...valid,
        logSources: [sources[0]!, { profile: 'ecs', logGroups: ['/ec2/secure'] }],
      }).logSourceAlarms.map((s) => s.id),
    ).toEqual(['sshd:/ec2/secure', 'ecs:/ec2/secure']);
  });
});

describe('reading the context', () => {
  it('takes single keys from -c authwatch.<key>=..., as strings the CLI passes, over the authwatch object', () => {
    const config = loadDeployConfig({
      authwatch: valid,
      'authwatch.alertEmails': 'a@example.com, b@example.com',
      'authwatch.learningDays': '3',
      'authwatch.logSources': '[{"profile":"windows","logGroups":["/windows/security"]}]',
      'authwatch.retainData': 'false',
    });
    expect(config.alertEmails).toEqual(['a@example.com', 'b@example.com']);
    expect(config.settings.learningDays).toBe(3);
    expect(config.logSources).toEqual([{ profile: 'windows', logGroups: ['/windows/security'] }]);
    expect(config.retainData).toBe(false);
  });

  it("accepts the whole object as a JSON string (-c authwatch='{...}')", () => {
    expect(loadDeployConfig({ authwatch: JSON.stringify(valid) }).logSources).toEqual(valid.logSources);
  });

  it('reports malformed JSON on the command line with the key it came from', () => {
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.logSources': '[{"profile":"sshd",' })[0]).toMatch(
      /^authwatch\.logSources: not valid JSON/,
    );
  });

  it('refuses a mistyped -c authwatch.<key>, naming it and the closest valid key, instead of keeping the old value', () => {
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.alertEmail': 'new@example.com' })).toEqual([
      'authwatch.alertEmail: unknown key; did you mean authwatch.alertEmails?',
    ]);
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.AllowCIDRs': '10.0.0.0/8' })).toEqual([
      'authwatch.AllowCIDRs: unknown key; did you mean authwatch.allowCidrs?',
    ]);
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.lerningDyas': '3' })).toEqual([
      'authwatch.lerningDyas: unknown key; did you mean authwatch.learningDays?',
    ]);
    // Nothing close: the known keys instead of a guess.
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.region': 'eu-west-1' })).toEqual([
      `authwatch.region: unknown key (known keys: ${CONFIG_KEYS.join(', ')})`,
    ]);
    // A nested key cannot be set alone (detector ids and log group names hold dots themselves).
    expect(contextIssuesOf({ authwatch: valid, 'authwatch.thresholds.Auth.RareUser': '80' })).toEqual([
      "authwatch.thresholds.Auth.RareUser: only top-level keys can be set one by one; give authwatch.thresholds whole, e.g. -c 'authwatch.thresholds=<JSON>'",
    ]);
  });

  it('says what is required, and how to give it, when there is no configuration at all', () => {
    expect(contextIssuesOf({})).toEqual([
      expect.stringMatching(/^authwatch\.logSources: required: .* e\.g\. -c 'authwatch\.logSources=\[/),
      expect.stringMatching(/^authwatch\.alertEmails: required: .* e\.g\. -c authwatch\.alertEmails=/),
    ]);
  });
});

describe('key suggestions', () => {
  it('counts a missing, extra, swapped or wrong letter as one edit, ignoring case', () => {
    expect(editDistance('alertEmail', 'alertEmails')).toBe(1);
    expect(editDistance('alretEmails', 'alertEmails')).toBe(1);
    expect(editDistance('alertemails', 'alertEmails')).toBe(0);
    expect(editDistance('opsEmails', 'alertEmails')).toBe(5);
    expect(editDistance('', 'slack')).toBe(5);
  });

  it('suggests the closest key only when it is close enough to be a typo', () => {
    expect(closestKey('stackname', CONFIG_KEYS)).toBe('stackName');
    expect(closestKey('retain', CONFIG_KEYS)).toBeUndefined();
    expect(closestKey('zzzzzzzzzzzz', CONFIG_KEYS)).toBeUndefined();
  });
});

describe('only what the operator set is deployed', () => {
  it('ships no authwatch configuration in cdk.json: nothing there is silently active', () => {
    const context = cdkJsonContext();
    expect(Object.keys(context).filter((k) => k === CONTEXT_KEY || k.startsWith(`${CONTEXT_KEY}.`))).toEqual([]);
  });

  it("synthesizes the README's sshd example into exactly what it gives: its log group, its address, no allowlist", () => {
    const given = readmeDeployContext(SSHD_EXAMPLE);
    expect(Object.keys(given).sort()).toEqual(['authwatch.alertEmails', 'authwatch.logSources']);
    const { template } = synth({ context: given });
    const resources = Object.values(
      template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>,
    );
    // The detector and the network-data refresh (network data is on by default).
    const fn = resources.filter(
      (r) => r.Type === 'AWS::Lambda::Function' && String(r.Properties.Description).includes('logon logs'),
    );
    expect(fn).toHaveLength(1);
    expect(resources.filter((r) => r.Type === 'AWS::Lambda::Function')).toHaveLength(2);
    const vars = (fn[0]!.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const settings = JSON.parse(vars[ENV.settings] as string) as Record<string, unknown>;
    // Only what differs from the defaults travels (nothing here), and the function's parse gives the defaults back.
    expect(settings).toEqual({});
    expect(detectionSettingsSchema.parse(settings)).toEqual(DEFAULT_SETTINGS);
    expect(JSON.parse(vars[ENV.logSources] as string)).toEqual(JSON.parse(given['authwatch.logSources']!));
    const subscriptions = resources
      .filter((r) => r.Type === 'AWS::SNS::Subscription')
      .map((r) => `${String(r.Properties.Protocol)}:${String(r.Properties.Endpoint)}`);
    // Alerts and operational alarms (opsEmails defaults to alertEmails): the one address given, nothing else.
    expect(subscriptions.length).toBeGreaterThan(0);
    expect(new Set(subscriptions)).toEqual(new Set([`email:${given['authwatch.alertEmails']}`]));
    expect(resources.filter((r) => r.Type === 'AWS::Chatbot::SlackChannelConfiguration')).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toMatch(/192\.0\.2\.|svc-\*|management-events/);
  });

  it('keeps the worked example file valid: what it holds is what deploys', () => {
    const example = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'examples', 'deploy', 'authwatch.json'), 'utf8'),
    ) as Record<string, unknown>;
    const config = loadDeployConfig({ ...cdkJsonContext(), authwatch: JSON.stringify(example) });
    expect(config.logSources).toEqual(example.logSources);
    expect(config.alertEmails).toEqual(example.alertEmails);
    expect(config.settings).toEqual(DEFAULT_SETTINGS);
  });

  it("keeps docs/deploy.md honest: its worked example deploys, its 'nothing set' output is what synth prints", () => {
    const docs = readFileSync(join(PROJECT_ROOT, 'docs', 'deploy.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(docs.slice(docs.indexOf('## Configure')))![1]!;
    const config = loadDeployConfig({ authwatch: example });
    expect(config.logSources.map((s) => s.profile)).toEqual(['sshd', 'cloudtrail']);
    for (const issue of contextIssuesOf({})) expect(docs).toContain(`  - ${issue}\n`);
  });

  it('fails synth on a mistyped key, naming it and the closest valid key', () => {
    const context = { ...readmeDeployContext(SSHD_EXAMPLE), 'authwatch.alertEmail': 'oncall@example.com' };
    expect(synthIssues({ context })).toEqual([
      'authwatch.alertEmail: unknown key; did you mean authwatch.alertEmails?',
    ]);
  });

  it('fails synth with nothing set, listing everything required, each with what to do', () => {
    expect(synthIssues({})).toEqual([
      expect.stringMatching(/^authwatch\.logSources: required: the log groups holding logons .* e\.g\. /),
      expect.stringMatching(/^authwatch\.alertEmails: required: who receives alerts, e\.g\. /),
    ]);
  });

  it('a bare `cdk synth` (the app with only cdk.json context) exits 1 and prints what to set and where', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'authwatch-bare-'));
    try {
      const r = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), [join(PROJECT_ROOT, 'infra', 'app.ts')], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        // How the CDK CLI hands the app its context and output folder.
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(cdkJsonContext()), CDK_OUTDIR: outdir },
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /^Invalid authwatch configuration:\n {2}- authwatch\.logSources: required: [^\n]*\n {2}- authwatch\.alertEmails: required: [^\n]*\n\n/,
      );
      expect(r.stderr).toContain('examples/deploy/authwatch.json');
      expect(r.stderr).toContain('docs/deploy.md');
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('one allowlist rule: synth, the Lambda, --allow-cidr and `allow cidr` refuse alike', () => {
  afterEach(() => vi.restoreAllMocks());

  /** A store the refused commands must never reach. */
  const untouchable = new Proxy({} as OperatorStore, {
    get: () => {
      throw new Error('the store was used for an entry that should have been refused');
    },
  });

  async function cliErrors(argv: string[]): Promise<string> {
    let err = '';
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
      err += String(s);
      return true;
    });
    try {
      expect(await cliMain(argv)).not.toBe(0);
    } finally {
      vi.restoreAllMocks();
    }
    return err;
  }

  async function operatorIssues(run: () => Promise<unknown>): Promise<readonly string[]> {
    const e = await run().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).issues;
  }

  it.each([
    ['0.0.0.0/0', '0.0.0.0/0 is every address and would silence every alert'],
    ['::/0', '::/0 is every address and would silence every alert'],
    ['0::0/0', '::/0 is every address and would silence every alert'],
  ])('%s fails at synth with the message the CLI gives', async (cidr, message) => {
    expect(synthIssues({ context: { ...readmeDeployContext(SSHD_EXAMPLE), 'authwatch.allowCidrs': cidr } })).toEqual([
      `authwatch.allowCidrs.0: ${message}`,
    ]);

    // The Lambda refuses it in its environment too (a template edited by hand, an older deployment).
    expect(() =>
      parseRuntimeConfig({
        [ENV.tableName]: 't',
        [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        [ENV.logSources]: '[{"profile":"sshd","logGroups":["/ec2/secure"]}]',
        [ENV.settings]: JSON.stringify({ allowCidrs: [cidr] }),
      }),
    ).toThrow(`${ENV.settings}.allowCidrs.0: ${message}`);

    expect(await cliErrors(['replay', '--profile', 'sshd', '--input', 'none.log', '--allow-cidr', cidr])).toContain(
      `allowCidrs.0: ${message}`,
    );
    expect(await operatorIssues(() => allowCidr(untouchable, cidr, { now: 0 }))).toEqual([`allow cidr: ${message}`]);
    // Per user as well: a user from everywhere is `allow user`, not a range.
    expect(await operatorIssues(() => allowCidr(untouchable, cidr, { user: 'alice', now: 0 }))).toEqual([
      `allow cidr: ${message}`,
    ]);
  });

  it.each([
    ['asn', 'AS0', 'AS0 is reserved (RFC 7607): no address is announced by it'],
    ['asn', 'all', '"all" is every network and would silence every alert'],
    [
      'country',
      'UK',
      '"UK" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE (the United Kingdom is GB)',
    ],
    ['country', '*', '"*" is every country and would silence every alert'],
  ])(
    'allow %s %s: refused at synth, by the Lambda and by `authwatch allow` with one message',
    async (kind, value, message) => {
      const key = kind === 'asn' ? 'allowAsns' : 'allowCountries';
      expect(contextIssuesOf({ authwatch: valid, [`authwatch.${key}`]: value })).toEqual([
        `authwatch.${key}.0: ${message}`,
      ]);
      expect(() =>
        parseRuntimeConfig({
          [ENV.tableName]: 't',
          [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
          [ENV.logSources]: '[{"profile":"sshd","logGroups":["/ec2/secure"]}]',
          [ENV.settings]: JSON.stringify({ [key]: [value] }),
        }),
      ).toThrow(`${ENV.settings}.${key}.0: ${message}`);
      expect(
        await cliErrors(['replay', '--profile', 'sshd', '--input', 'none.log', `--allow-${kind}`, value]),
      ).toContain(`${key}.0: ${message}`);
      const add = kind === 'asn' ? allowAsn : allowCountry;
      expect(await operatorIssues(() => add(untouchable, value, { now: 0 }))).toEqual([`allow ${kind}: ${message}`]);
      expect(await operatorIssues(() => add(untouchable, value, { user: 'alice', now: 0 }))).toEqual([
        `allow ${kind}: ${message}`,
      ]);
    },
  );

  it('refuses a too-broad range and an everyone pattern in `authwatch allow` as in the settings', async () => {
    const [synthIssue] = issuesOf({ ...valid, allowCidrs: ['10.0.0.0/7'], allowUsers: ['*'] }).map((i) =>
      i.replace(/^authwatch\.allow\w+\.0: /, ''),
    );
    expect(await operatorIssues(() => allowUser(untouchable, '*', { now: 0 }))).toEqual([`allow user: ${synthIssue}`]);
    expect(await operatorIssues(() => allowCidr(untouchable, '10.0.0.0/7', { now: 0 }))).toEqual([
      expect.stringMatching(/^allow cidr: 10\.0\.0\.0\/7 is too broad: shorter than \/8 /),
    ]);
  });
});
