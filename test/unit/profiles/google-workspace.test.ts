/**
 * The `google-workspace` profile.
 *
 * Fixture shapes (test/fixtures/google-workspace/, test/fixtures/failures/google-workspace.jsonl) are written for
 * these tests after Google's Admin SDK documentation: "Reports API: Login activity report", the `activities` resource
 * reference (`kind`, `id.time`, `id.applicationName`, `actor.email`, `ipAddress`, `events[].name`,
 * `events[].parameters[]` with `value` / `boolValue` / `multiValue`) and the Login audit activity events reference
 * (`login_success`, `login_failure`, `login_challenge`, `login_verification`, `logout`; `login_type`,
 * `login_failure_type`, `is_suspicious`). Addresses are documentation ranges; ids are made up.
 */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import { GOOGLE_FAILURE_TYPE_PATTERN, GOOGLE_SUSPICIOUS_PATTERN } from '../../../shared/core/profiles/google-workspace';
import { itAgreesWithItsQuery } from './agreement';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows } from './support';

const profile = getProfile('google-workspace');
const lines = fixtureLines('google-workspace');
const at = (iso: string) => Date.parse(iso);

type Parameter = { name: string; value?: string; boolValue?: boolean; multiValue?: string[] };

function activity(name: string, parameters: Parameter[], overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    kind: 'admin#reports#activity',
    id: { time: '2026-11-02T08:15:03.123Z', uniqueQualifier: '-42', applicationName: 'login', customerId: 'C0abc' },
    actor: { email: 'alice@corp.com', profileId: '1122' },
    ipAddress: '203.0.113.60',
    events: [{ type: 'login', name, parameters }],
    ...overrides,
  });
}
const params = (extra: Parameter[] = [], suspicious = false): Parameter[] => [
  { name: 'login_type', value: 'google_password' },
  { name: 'login_challenge_method', multiValue: ['password'] },
  ...extra,
  { name: 'is_suspicious', boolValue: suspicious },
];

describe('google-workspace profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed activities', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(5);
      expect(c.skip).toBeGreaterThanOrEqual(6);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('logons', () => {
    it('reads a login_success with its login type as the method', () => {
      expect(profile.parseLine(activity('login_success', params()))).toEqual({
        kind: 'event',
        event: {
          timestamp: at('2026-11-02T08:15:03.123Z'),
          user: 'alice@corp.com',
          sourceIp: '203.0.113.60',
          outcome: 'success',
          method: 'google_password',
          logSource: 'google-workspace',
        },
      });
    });

    it('counts a failed password, not a failed or missing second factor, a challenge, a verification or a logout', () => {
      const failure = (type: string) =>
        profile.parseLine(activity('login_failure', params([{ name: 'login_failure_type', value: type }]))).kind;
      for (const type of ['login_failure_invalid_password', 'login_failure_account_disabled', 'login_failure_unknown'])
        expect(failure(type), type).toBe('event');
      for (const type of ['login_failure_invalid_second_factor', 'login_failure_missing_second_factor'])
        expect(failure(type), type).toBe('skip');
      for (const name of ['login_challenge', 'login_verification', 'logout', 'password_edit'])
        expect(profile.parseLine(activity(name, params())).kind, name).toBe('skip');
      expect(
        profile.parseLine(
          activity('login_success', params(), { id: { time: '2026-11-02T08:15:03Z', applicationName: 'drive' } }),
        ).kind,
      ).toBe('skip');
    });

    it('finds parameters with the same expressions as the query, whitespace and position notwithstanding', () => {
      const spaced = JSON.stringify(JSON.parse(activity('login_success', params([], true))), null, 2).replace(
        /\n\s*/g,
        ' ',
      );
      expect(profile.parseLine(spaced)).toMatchObject({ kind: 'event', event: { signals: { is_suspicious: 'true' } } });
      expect(profile.query).toContain(`parse @message /${GOOGLE_SUSPICIOUS_PATTERN}/`);
      expect(profile.query).toContain(`parse @message /${GOOGLE_FAILURE_TYPE_PATTERN}/`);
    });
  });

  describe('is_suspicious', () => {
    it('is a signal when true, and nothing when false or absent', () => {
      expect(profile.parseLine(activity('login_success', params([], true)))).toMatchObject({
        event: { signals: { is_suspicious: 'true' } },
      });
      expect(profile.parseLine(activity('login_success', params([], false)))).not.toHaveProperty('event.signals');
      expect(profile.parseLine(activity('login_success', [{ name: 'login_type', value: 'saml' }]))).not.toHaveProperty(
        'event.signals',
      );
    });

    it('comes through the rows’ suspicious column', () => {
      const row = {
        user: 'Alice@Corp.com',
        ip: '198.51.100.60',
        outcome: 'login_success',
        suspicious: 'true',
        logons: '1',
        first: '2026-11-02 08:17:00.000',
        last: '2026-11-02 08:17:00.000',
      };
      expect(profile.mapRow(row)).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice@corp.com',
          sourceIp: '198.51.100.60',
          outcome: 'success',
          count: 1,
          firstSeen: at('2026-11-02T08:17:00Z'),
          lastSeen: at('2026-11-02T08:17:00Z'),
          hosts: [],
          methods: [],
          logSource: 'google-workspace',
          signals: { is_suspicious: 'true' },
        },
      });
      expect(profile.mapRow({ ...row, suspicious: 'false' })).not.toHaveProperty('observation.signals');
      expect(profile.mapRow({ ...row, outcome: 'login_failure' })).toMatchObject({
        observation: { outcome: 'failure' },
      });
      expect(profile.mapRow({ ...row, outcome: 'logout' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ['user', 'ip', 'outcome', 'suspicious', 'logons', 'first', 'last']);
    itAgreesWithItsQuery(
      profile,
      lines.map((l) => l.line),
    );

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, id.applicationName, events.0.name, actor.email, ipAddress
        | filter id.applicationName = "login" and (events.0.name = "login_success" or events.0.name = "login_failure")
        | parse @message /"name"\\s*:\\s*"login_failure_type"\\s*,\\s*"value"\\s*:\\s*"(?<failureType>[a-z_]+)"/
        | filter not ispresent(failureType) or failureType not like /second_factor$/
        | parse @message /"name"\\s*:\\s*"is_suspicious"\\s*,\\s*"boolValue"\\s*:\\s*(?<suspicious>true|false)/
        | fields actor.email as user, ipAddress as ip, events.0.name as outcome
        | filter ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, suspicious, ip, outcome
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
    ['suspicious'],
  );
});
