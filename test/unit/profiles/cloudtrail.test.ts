import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import { CLOUDTRAIL_SESSION_PATTERN } from '../../../shared/core/profiles/cloudtrail';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

const profile = getProfile('cloudtrail');
const lines = fixtureLines('cloudtrail');
const at = (iso: string) => Date.parse(iso);

function consoleLogin(identity: Record<string, unknown>, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime: '2026-11-02T08:15:03Z',
    eventSource: 'signin.amazonaws.com',
    eventName: 'ConsoleLogin',
    sourceIPAddress: '203.0.113.10',
    responseElements: { ConsoleLogin: 'Success' },
    additionalEventData: { MobileVersion: 'No', MFAUsed: 'Yes' },
    recipientAccountId: '123456789012',
    ...overrides,
  });
}

describe('cloudtrail profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed events', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(9);
      expect(c.skip).toBeGreaterThanOrEqual(5);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('principals', () => {
    const userOf = (line: string) => {
      const r = profile.parseLine(line);
      return r.kind === 'event' ? r.event.user : r.kind;
    };

    it('names an IAM user by userName', () => {
      expect(
        userOf(consoleLogin({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/Alice', userName: 'Alice' })),
      ).toBe('alice');
    });

    it('names an assumed role by its session name and keeps the role in the method', () => {
      const r = profile.parseLine(
        consoleLogin(
          { type: 'AssumedRole', arn: 'arn:aws:sts::123456789012:assumed-role/Role/alice@corp.com' },
          { additionalEventData: { MFAUsed: 'No' } },
        ),
      );
      expect(r.kind === 'event' && [r.event.user, r.event.method]).toEqual([
        'alice@corp.com',
        'assumed-role/Role MFAUsed=No',
      ]);
    });

    it('qualifies root with the account, so two accounts’ roots are two users', () => {
      const root = { type: 'Root', arn: 'arn:aws:iam::123456789012:root', accountId: '123456789012' };
      expect(userOf(consoleLogin(root))).toBe('root@123456789012');
      expect(userOf(consoleLogin({ ...root, accountId: '210987654321' }, { recipientAccountId: '210987654321' }))).toBe(
        'root@210987654321',
      );
    });

    it('skips AWS service sources and non-console events, and marks garbage sources malformed', () => {
      const iam = { type: 'IAMUser', userName: 'alice' };
      expect(profile.parseLine(consoleLogin(iam, { sourceIPAddress: 'signin.amazonaws.com' })).kind).toBe('skip');
      expect(profile.parseLine(consoleLogin(iam, { sourceIPAddress: 'AWS Internal' })).kind).toBe('skip');
      expect(profile.parseLine(consoleLogin(iam, { eventName: 'GetSigninToken' })).kind).toBe('skip');
      expect(profile.parseLine(consoleLogin(iam, { responseElements: null })).kind).toBe('skip');
      expect(profile.parseLine(consoleLogin(iam, { sourceIPAddress: '203.0.113' })).kind).toBe('malformed');
    });
  });

  describe('failed logons', () => {
    it('counts a failed ConsoleLogin, not an API call refused with an error code', () => {
      const denied = JSON.stringify({
        eventVersion: '1.09',
        userIdentity: { type: 'IAMUser', accountId: '123456789012', userName: 'alice' },
        eventTime: '2026-11-02T08:00:40Z',
        eventSource: 's3.amazonaws.com',
        eventName: 'ListBuckets',
        sourceIPAddress: '192.0.2.46',
        errorCode: 'AccessDenied',
        errorMessage: 'Access Denied',
        recipientAccountId: '123456789012',
      });
      expect(profile.parseLine(denied).kind).toBe('skip');
      expect(profile.query).toContain('filter eventName = "ConsoleLogin"');
      expect(
        lines.filter((l) => l.expected.kind === 'event' && l.expected.event.outcome === 'failure').length,
      ).toBeGreaterThan(0);
    });
  });

  describe('Insights rows', () => {
    const base = {
      user: 'alice',
      type: 'IAMUser',
      ip: '203.0.113.10',
      outcome: 'Success',
      host: '123456789012',
      logons: '2',
      first: '2026-11-02 08:15:03.000',
      last: '2026-11-02 08:20:00.000',
    };

    it('maps a ConsoleLogin row', () => {
      expect(profile.mapRow(base)).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice',
          sourceIp: '203.0.113.10',
          outcome: 'success',
          count: 2,
          firstSeen: at('2026-11-02T08:15:03Z'),
          lastSeen: at('2026-11-02T08:20:00Z'),
          hosts: ['123456789012'],
          methods: [],
          logSource: 'cloudtrail',
        },
      });
    });

    it('builds root@<account> from the type column, like the line parser', () => {
      const r = profile.mapRow({ ...base, user: 'Root', type: 'Root', outcome: 'Failure' });
      expect(r.kind === 'observation' && [r.observation.user, r.observation.outcome]).toEqual([
        'root@123456789012',
        'failure',
      ]);
    });

    it('lower-cases assumed-role session names, like the line parser', () => {
      const r = profile.mapRow({ ...base, user: 'Bob.Smith@Corp.com', type: 'AssumedRole' });
      expect(r.kind === 'observation' && r.observation.user).toBe('bob.smith@corp.com');
    });

    it('skips service sources and reports unknown outcomes as malformed', () => {
      expect(profile.mapRow({ ...base, ip: 'AWS Internal' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, outcome: 'Pending' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, [...ROW_COLUMNS, 'type']);

    it('takes the session name with the same pattern as the line parser', () => {
      expect(profile.query).toContain(`parse userIdentity.arn /${CLOUDTRAIL_SESSION_PATTERN}/`);
      expect(profile.query).toContain('eventName = "ConsoleLogin"');
      expect(profile.query).toContain('responseElements.ConsoleLogin');
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, userIdentity.type, userIdentity.userName, userIdentity.arn, sourceIPAddress, responseElements.ConsoleLogin, recipientAccountId
        | filter eventName = "ConsoleLogin" and responseElements.ConsoleLogin like /^(Success|Failure)$/
        | filter sourceIPAddress != "AWS Internal" and sourceIPAddress not like /amazonaws\\.com$/
        | parse userIdentity.arn /:(?:assumed-role\\/(?<role>[^\\/]+)|federated-user)\\/(?<session>[^\\/]+)$/
        | fields coalesce(session, userIdentity.userName, userIdentity.type) as user, userIdentity.type as type, sourceIPAddress as ip, responseElements.ConsoleLogin as outcome, coalesce(recipientAccountId, userIdentity.accountId) as host
        | filter ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, type, ip, outcome, host
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
    ['type'],
  );
});
