/**
 * The `identity-center` profile, and the `cloudtrail` profile beside it on one trail.
 *
 * Fixture shapes (test/fixtures/identity-center/, test/fixtures/failures/identity-center.jsonl) are written for these
 * tests after AWS's documentation: "Understanding IAM Identity Center sign-in events" (the CredentialChallenge,
 * CredentialVerification and UserAuthentication events, `serviceEventDetails`, `additionalEventData.CredentialType`
 * and `AuthWorkflowID`), "Username in sign-in CloudTrail events" (`additionalEventData.UserName`,
 * `HIDDEN_DUE_TO_SECURITY_REASONS`), and "CloudTrail userIdentity element" (`onBehalfOf.userId` of
 * `IdentityCenterUser`). Addresses are documentation ranges; account ids and ids are made up.
 */
import { describe, expect, it } from 'vitest';
import { aggregateEvents } from '../../../shared/core/aggregate';
import type { LogonEvent } from '../../../shared/core/model';
import { getProfile, PROFILES, profilesBeside } from '../../../shared/core/profiles';
import {
  CLOUDTRAIL_QUERY,
  cloudtrailBesideIdentityCenter,
  cloudtrailProfile,
} from '../../../shared/core/profiles/cloudtrail';
import { itAgreesWithItsQuery } from './agreement';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

const profile = getProfile('identity-center');
const lines = fixtureLines('identity-center');
const at = (iso: string) => Date.parse(iso);

function signin(eventName: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventVersion: '1.08',
    userIdentity: { type: 'Unknown', accountId: '111122223333', userName: 'alice' },
    eventTime: '2026-11-02T08:15:03Z',
    eventSource: 'signin.amazonaws.com',
    eventName,
    sourceIPAddress: '203.0.113.40',
    recipientAccountId: '111122223333',
    ...overrides,
  });
}
const success = (o: Record<string, unknown> = {}) =>
  signin('UserAuthentication', {
    serviceEventDetails: { UserAuthentication: 'Success' },
    additionalEventData: { CredentialType: 'PASSWORD' },
    ...o,
  });
const verification = (verdict: string, type: string, o: Record<string, unknown> = {}) =>
  signin('CredentialVerification', {
    serviceEventDetails: { CredentialVerification: verdict },
    additionalEventData: { CredentialType: type },
    ...o,
  });

function events(docs: readonly string[], p = profile): LogonEvent[] {
  return docs.flatMap((d) => {
    const r = p.parseLine(d);
    return r.kind === 'event' ? [r.event] : [];
  });
}

describe('identity-center profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed events', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(5);
      expect(c.skip).toBeGreaterThanOrEqual(8);
      expect(c.malformed).toBeGreaterThanOrEqual(4);
    });
  });

  describe('one sign-in, one logon', () => {
    it('counts a whole sign-in (password, second factor, authentication, portal session) once, as a success', () => {
      const flow = [
        signin('CredentialChallenge', { additionalEventData: { CredentialType: 'PASSWORD', UserName: 'alice' } }),
        verification('Success', 'PASSWORD'),
        signin('CredentialChallenge', { additionalEventData: { CredentialType: 'TOTP' } }),
        verification('Success', 'TOTP'),
        success(),
        signin('Authenticate', { eventSource: 'sso.amazonaws.com' }),
        signin('Federate', { eventSource: 'sso.amazonaws.com' }),
      ];
      const [o, ...rest] = aggregateEvents(events(flow), { start: 0, end: at('2027-01-01T00:00:00Z') });
      expect(rest).toEqual([]);
      expect(o).toMatchObject({ user: 'alice', sourceIp: '203.0.113.40', outcome: 'success', count: 1 });
    });

    it('counts a rejected password as a failure, not a rejected second factor or a failed UserAuthentication', () => {
      expect(profile.parseLine(verification('Failure', 'PASSWORD'))).toMatchObject({
        kind: 'event',
        event: { outcome: 'failure', user: 'alice', method: 'PASSWORD' },
      });
      for (const type of ['TOTP', 'WEBAUTHN', 'EMAIL_OTP', 'SMARTCARD'])
        expect(profile.parseLine(verification('Failure', type)).kind, type).toBe('skip');
      expect(profile.parseLine(success({ serviceEventDetails: { UserAuthentication: 'Failure' } })).kind).toBe('skip');
    });

    it('reads signin.amazonaws.com only', () => {
      expect(profile.parseLine(success({ eventSource: 'sso.amazonaws.com' })).kind).toBe('skip');
      expect(profile.query).toContain('filter eventSource = "signin.amazonaws.com"');
    });
  });

  describe('users', () => {
    const userOf = (line: string) => {
      const r = profile.parseLine(line);
      return r.kind === 'event' ? r.event.user : r.kind;
    };

    it('prefers additionalEventData.UserName, then userIdentity.userName, then the identity-store user id', () => {
      const onBehalfOf = { userId: 'AB12CD34-0000-4000-8000-000000000001', identityStoreArn: 'arn:x' };
      expect(
        userOf(
          success({
            additionalEventData: { UserName: 'Carol@Corp.com', CredentialType: 'EXTERNAL_IDP' },
            userIdentity: { type: 'IdentityCenterUser', userName: 'c', onBehalfOf },
          }),
        ),
      ).toBe('carol@corp.com');
      expect(userOf(success({ userIdentity: { type: 'Unknown', userName: 'Bob', onBehalfOf } }))).toBe('bob');
      expect(userOf(success({ userIdentity: { type: 'IdentityCenterUser', onBehalfOf } }))).toBe(
        'ab12cd34-0000-4000-8000-000000000001',
      );
      expect(userOf(success({ userIdentity: { type: 'IdentityCenterUser' } }))).toBe('malformed');
    });

    it('skips AWS service sources like the cloudtrail profile', () => {
      expect(profile.parseLine(success({ sourceIPAddress: 'AWS Internal' })).kind).toBe('skip');
      expect(profile.mapRow({ ...row(), ip: 'signin.amazonaws.com' }).kind).toBe('skip');
    });
  });

  function row(): Record<string, string> {
    return {
      user: 'Alice',
      ip: '2001:DB8:0:0:0:0:0:40',
      outcome: 'Success',
      host: '111122223333',
      logons: '2',
      first: '2026-11-02 08:15:03.000',
      last: '2026-11-02 08:20:00.000',
    };
  }

  describe('Insights rows', () => {
    it('maps a row, with the account as host', () => {
      expect(profile.mapRow(row())).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice',
          sourceIp: '2001:db8::40',
          outcome: 'success',
          count: 2,
          firstSeen: at('2026-11-02T08:15:03Z'),
          lastSeen: at('2026-11-02T08:20:00Z'),
          hosts: ['111122223333'],
          methods: [],
          logSource: 'identity-center',
        },
      });
      expect(profile.mapRow({ ...row(), outcome: 'Failure' })).toMatchObject({ observation: { outcome: 'failure' } });
      expect(profile.mapRow({ ...row(), outcome: 'Pending' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ROW_COLUMNS);
    itAgreesWithItsQuery(
      profile,
      lines.map((l) => l.line),
    );

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, eventSource, eventName, serviceEventDetails.UserAuthentication, serviceEventDetails.CredentialVerification, additionalEventData.CredentialType
        | filter eventSource = "signin.amazonaws.com"
        | filter (eventName = "UserAuthentication" and serviceEventDetails.UserAuthentication = "Success") or (eventName = "CredentialVerification" and serviceEventDetails.CredentialVerification = "Failure" and additionalEventData.CredentialType = "PASSWORD")
        | filter sourceIPAddress != "AWS Internal" and sourceIPAddress not like /amazonaws\\.com$/
        | fields coalesce(additionalEventData.UserName, userIdentity.userName, userIdentity.onBehalfOf.userId) as user, sourceIPAddress as ip, coalesce(serviceEventDetails.UserAuthentication, serviceEventDetails.CredentialVerification) as outcome, coalesce(recipientAccountId, userIdentity.accountId) as host
        | filter ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome, host
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
  );
});

describe('cloudtrail beside identity-center on one log group', () => {
  const federation = JSON.stringify({
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::444455556666:assumed-role/AWSReservedSSO_ReadOnly_0123456789abcdef/alice',
      accountId: '444455556666',
    },
    eventTime: '2026-11-02T08:15:20Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    sourceIPAddress: '203.0.113.40',
    responseElements: { ConsoleLogin: 'Success' },
    recipientAccountId: '444455556666',
  });
  const samlRole = federation.replace('AWSReservedSSO_ReadOnly_0123456789abcdef', 'OktaAdmins');
  const iamUser = JSON.stringify({
    userIdentity: { type: 'IAMUser', accountId: '444455556666', userName: 'dave' },
    eventTime: '2026-11-02T08:16:00Z',
    eventName: 'ConsoleLogin',
    sourceIPAddress: '203.0.113.41',
    responseElements: { ConsoleLogin: 'Failure' },
    recipientAccountId: '444455556666',
  });

  it('is chosen only when identity-center reads one of the same log groups', () => {
    const sources = [
      { profile: 'cloudtrail', logGroups: ['org-trail', 'other'] },
      { profile: 'identity-center', logGroups: ['org-trail'] },
      { profile: 'okta', logGroups: ['okta'] },
    ];
    const beside = profilesBeside(sources);
    expect(beside).toEqual([['identity-center'], ['cloudtrail'], []]);
    expect(getProfile('cloudtrail', { beside: beside[0]! })).toBe(cloudtrailBesideIdentityCenter);
    expect(getProfile('cloudtrail', { beside: ['okta'] })).toBe(PROFILES.cloudtrail);
    expect(getProfile('cloudtrail')).toBe(cloudtrailProfile);
    expect(getProfile('identity-center', { beside: beside[1]! })).toBe(PROFILES['identity-center']);
  });

  it('leaves Identity Center’s console federations to the portal sign-in, and counts every other ConsoleLogin', () => {
    expect(cloudtrailBesideIdentityCenter.parseLine(federation).kind).toBe('skip');
    expect(cloudtrailProfile.parseLine(federation)).toMatchObject({ kind: 'event', event: { user: 'alice' } });
    for (const line of [samlRole, iamUser])
      expect(cloudtrailBesideIdentityCenter.parseLine(line)).toEqual(cloudtrailProfile.parseLine(line));
  });

  it('so one person’s sign-in and console visit on one trail count once between the two profiles', () => {
    const trail = [success(), federation];
    const counted = (p: typeof profile) => events(trail, p).length;
    expect(counted(profile) + counted(cloudtrailBesideIdentityCenter)).toBe(1);
    expect(counted(profile) + counted(cloudtrailProfile)).toBe(2);
  });

  it('leaves the cloudtrail profile alone unchanged', () => {
    expect(cloudtrailProfile.query).toBe(CLOUDTRAIL_QUERY);
    expect(cloudtrailProfile.query).not.toContain('AWSReservedSSO_');
    expect(cloudtrailBesideIdentityCenter.query).toContain(
      'filter not ispresent(role) or role not like /^AWSReservedSSO_/',
    );
  });

  itHasQueryShape(cloudtrailBesideIdentityCenter, [...ROW_COLUMNS, 'type']);
  // The cloudtrail fixtures' malformed lines are left out: on one of them (an IAMUser ConsoleLogin without a userName)
  // the cloudtrail query, alone or beside, names the user by its type (`iamuser`) where the parser says malformed.
  itAgreesWithItsQuery(cloudtrailBesideIdentityCenter, [
    ...fixtureLines('cloudtrail')
      .filter((l) => l.expected.kind !== 'malformed')
      .map((l) => l.line),
    federation,
    samlRole,
    iamUser,
  ]);
});
