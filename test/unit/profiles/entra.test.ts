/**
 * The `entra` profile.
 *
 * Fixture shapes (test/fixtures/entra/, test/fixtures/failures/entra.jsonl) are written for these tests after
 * Microsoft's "Interpret the Microsoft Entra sign-in logs schema in Azure Monitor" (the record a diagnostic setting
 * exports: `time`, `category`, `resultType`, `callerIpAddress`, `properties.*` with `status.errorCode`,
 * `isInteractive`, `riskLevelDuringSignIn`, `riskState`) and its error-code reference for the codes used. Addresses
 * are documentation ranges; tenant, user and app ids are made up.
 */
import { describe, expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import type { LogonEvent, LogonObservation } from '../../../shared/core/model';
import { getProfile } from '../../../shared/core/profiles';
import { ENTRA_FAILURE_CODES } from '../../../shared/core/profiles/entra';
import { itAgreesWithItsQuery } from './agreement';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows } from './support';

const profile = getProfile('entra');
const lines = fixtureLines('entra');
const at = (iso: string) => Date.parse(iso);

function record(overrides: Record<string, unknown> = {}, properties: Record<string, unknown> = {}): string {
  return JSON.stringify({
    time: '2026-11-02T08:15:03.1234567Z',
    operationName: 'Sign-in activity',
    category: 'SignInLogs',
    resultType: '0',
    callerIpAddress: '203.0.113.50',
    properties: {
      createdDateTime: '2026-11-02T08:15:03.1234567+00:00',
      userPrincipalName: 'alice@corp.com',
      ipAddress: '203.0.113.50',
      status: { errorCode: 0 },
      clientAppUsed: 'Browser',
      isInteractive: true,
      riskLevelDuringSignIn: 'none',
      riskState: 'none',
      ...properties,
    },
    ...overrides,
  });
}

function eventOf(line: string): LogonEvent | string {
  const r = profile.parseLine(line);
  return r.kind === 'event' ? r.event : r.kind;
}

describe('entra profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed records', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(7);
      expect(c.skip).toBeGreaterThanOrEqual(7);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('which records are logons', () => {
    it('reads an interactive sign-in', () => {
      expect(profile.parseLine(record())).toEqual({
        kind: 'event',
        event: {
          timestamp: at('2026-11-02T08:15:03.123Z'),
          user: 'alice@corp.com',
          sourceIp: '203.0.113.50',
          outcome: 'success',
          method: 'Browser',
          logSource: 'entra',
        },
      });
    });

    it('skips non-interactive sign-ins (token refreshes), whichever way they are marked, and non-people', () => {
      expect(eventOf(record({ category: 'NonInteractiveUserSignInLogs' }, { isInteractive: false }))).toBe('skip');
      expect(eventOf(record({ category: 'NonInteractiveUserSignInLogs' }))).toBe('skip');
      expect(eventOf(record({}, { isInteractive: false }))).toBe('skip');
      expect(eventOf(record({}, { isInteractive: 'false' }))).toBe('skip');
      for (const category of ['ServicePrincipalSignInLogs', 'ManagedIdentitySignInLogs', 'AuditLogs'])
        expect(eventOf(record({ category })), category).toBe('skip');
      expect(profile.query).toContain('filter category = "SignInLogs"');
    });

    it('counts the credential errors as failures, and skips interrupts, second factors and policy refusals', () => {
      for (const code of ENTRA_FAILURE_CODES)
        expect(eventOf(record({ resultType: code })), code).toMatchObject({ outcome: 'failure' });
      for (const code of ['50074', '50076', '50140', '50125', '500121', '53003', '70044', '1'])
        expect(eventOf(record({ resultType: code })), code).toBe('skip');
    });

    it('falls back to properties.status.errorCode, and to callerIpAddress, like the query’s coalesce', () => {
      const r = eventOf(
        record(
          { resultType: undefined, callerIpAddress: '198.51.100.9' },
          { status: { errorCode: 50126 }, ipAddress: undefined },
        ),
      );
      expect(r).toMatchObject({ outcome: 'failure', sourceIp: '198.51.100.9' });
      // An empty resultType is present (Insights' coalesce skips absent fields only): not a known code.
      expect(eventOf(record({ resultType: '' }, { status: { errorCode: 0 } }))).toBe('skip');
    });
  });

  describe('risk signals', () => {
    it('keeps ID Protection’s verdict, and drops no-verdict and unknown values', () => {
      expect(eventOf(record({}, { riskLevelDuringSignIn: 'High', riskState: 'atRisk' }))).toMatchObject({
        signals: { riskLevelDuringSignIn: 'high', riskState: 'atRisk' },
      });
      for (const [level, state] of [
        ['none', 'none'],
        ['hidden', 'none'],
        ['unknownFutureValue', 'unknownFutureValue'],
        ['<script>', 'x'.repeat(10_000)],
      ])
        expect(eventOf(record({}, { riskLevelDuringSignIn: level, riskState: state })), level).not.toHaveProperty(
          'signals',
        );
    });

    it('aggregates to the worst value per (user, address, outcome), locally and from rows alike', () => {
      const docs = [
        record({}, { riskLevelDuringSignIn: 'low', riskState: 'atRisk' }),
        record({ time: '2026-11-02T08:16:00Z' }, { riskLevelDuringSignIn: 'high', riskState: 'dismissed' }),
        record({ time: '2026-11-02T08:17:00Z' }),
      ];
      const events = docs.flatMap((d) => {
        const r = profile.parseLine(d);
        return r.kind === 'event' ? [r.event] : [];
      });
      const [local] = aggregateEvents(events, { start: 0, end: at('2027-01-01T00:00:00Z') });
      expect(local).toMatchObject({ count: 3, signals: { riskLevelDuringSignIn: 'high', riskState: 'atRisk' } });

      const row = (riskLevel: string, riskState: string, logons: string) => {
        const r = profile.mapRow({
          user: 'alice@corp.com',
          ip: '203.0.113.50',
          outcome: '0',
          riskLevel,
          riskState,
          logons,
          first: '2026-11-02 08:15:03.123',
          last: '2026-11-02 08:17:00.000',
        });
        return r.kind === 'observation' ? [r.observation] : [];
      };
      const merged: LogonObservation[] = mergeObservations([
        ...row('low', 'atRisk', '1'),
        ...row('high', 'dismissed', '1'),
        ...row('none', 'none', '1'),
      ]);
      expect(merged).toHaveLength(1);
      expect(merged[0]).toMatchObject({ count: 3, signals: { riskLevelDuringSignIn: 'high', riskState: 'atRisk' } });
      expect(row('none', 'none', '1')[0]).not.toHaveProperty('signals');
    });
  });

  describe('Insights rows', () => {
    it('maps the result code to the outcome and reports an uncounted code as malformed', () => {
      const base = {
        user: 'Bob@Corp.com',
        ip: '2001:DB8:0:0:0:0:0:50',
        outcome: '50126',
        logons: '4',
        first: '2026-11-02 08:15:00.000',
        last: '2026-11-02 08:16:00.000',
      };
      expect(profile.mapRow(base)).toEqual({
        kind: 'observation',
        observation: {
          user: 'bob@corp.com',
          sourceIp: '2001:db8::50',
          outcome: 'failure',
          count: 4,
          firstSeen: at('2026-11-02T08:15:00Z'),
          lastSeen: at('2026-11-02T08:16:00Z'),
          hosts: [],
          methods: [],
          logSource: 'entra',
        },
      });
      expect(profile.mapRow({ ...base, outcome: '0' })).toMatchObject({ observation: { outcome: 'success' } });
      expect(profile.mapRow({ ...base, outcome: '50074' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ['user', 'ip', 'outcome', 'riskLevel', 'riskState', 'logons', 'first', 'last']);
    itAgreesWithItsQuery(
      profile,
      lines.map((l) => l.line),
    );

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, category, resultType, properties.userPrincipalName, properties.ipAddress, properties.isInteractive
        | filter category = "SignInLogs"
        | filter not ispresent(properties.isInteractive) or properties.isInteractive not like /^(false|False)$/
        | fields properties.userPrincipalName as user, coalesce(properties.ipAddress, callerIpAddress) as ip, coalesce(resultType, properties.status.errorCode) as outcome, properties.riskLevelDuringSignIn as riskLevel, properties.riskState as riskState
        | filter outcome like /^(0|50126|50034|50053|50055|50056|50057)$/
        | filter ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, riskLevel, riskState, ip, outcome
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
    ['riskLevel', 'riskState'],
  );
});
