import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows } from './support';

const profile = getProfile('okta');
const lines = fixtureLines('okta');
const at = (iso: string) => Date.parse(iso);

function event(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    actor: { id: '00u1', type: 'User', alternateId: 'alice@corp.com' },
    client: { ipAddress: '203.0.113.30' },
    eventType: 'user.session.start',
    outcome: { result: 'SUCCESS', reason: null },
    published: '2026-11-02T08:15:03.123Z',
    ...overrides,
  };
}

describe('okta profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed events', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(6);
      expect(c.skip).toBeGreaterThanOrEqual(4);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('events', () => {
    it('reads a bare System Log event and the EventBridge envelope alike', () => {
      const bare = profile.parseLine(JSON.stringify(event()));
      const wrapped = profile.parseLine(
        JSON.stringify({
          version: '0',
          'detail-type': 'SystemLog',
          source: 'aws.partner/okta.com/x/y',
          detail: event(),
        }),
      );
      expect(bare).toEqual({
        kind: 'event',
        event: {
          timestamp: at('2026-11-02T08:15:03.123Z'),
          user: 'alice@corp.com',
          sourceIp: '203.0.113.30',
          outcome: 'success',
          logSource: 'okta',
        },
      });
      expect(wrapped).toEqual(bare);
    });

    it('maps SUCCESS/FAILURE and skips other results and other event types', () => {
      const r = profile.parseLine(
        JSON.stringify(event({ outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' } })),
      );
      expect(r.kind === 'event' && r.event.outcome).toBe('failure');
      for (const result of ['SKIPPED', 'ALLOW', 'DENY', 'UNKNOWN'])
        expect(profile.parseLine(JSON.stringify(event({ outcome: { result } }))).kind, result).toBe('skip');
      expect(profile.parseLine(JSON.stringify(event({ eventType: 'user.session.end' }))).kind).toBe('skip');
    });

    it('falls back to the first hop of request.ipChain', () => {
      const r = profile.parseLine(
        JSON.stringify(
          event({ client: { ipAddress: null }, request: { ipChain: [{ ip: '198.51.100.9' }, { ip: '10.0.0.1' }] } }),
        ),
      );
      expect(r.kind === 'event' && r.event.sourceIp).toBe('198.51.100.9');
    });
  });

  describe('failed logons', () => {
    const event = (eventType: string, result: string) =>
      JSON.stringify({
        eventType,
        outcome: { result, reason: result === 'FAILURE' ? 'INVALID_CREDENTIALS' : null },
        actor: { alternateId: 'carol@corp.com' },
        client: { ipAddress: '192.0.2.60' },
        published: '2026-11-02T08:00:00.000Z',
      });

    it('counts a failed user.session.start, not a failed MFA factor or the lock that follows failures', () => {
      expect(profile.parseLine(event('user.session.start', 'FAILURE'))).toMatchObject({
        kind: 'event',
        event: { outcome: 'failure', user: 'carol@corp.com' },
      });
      expect(profile.parseLine(event('user.authentication.auth_via_mfa', 'FAILURE')).kind).toBe('skip');
      expect(profile.parseLine(event('user.account.lock', 'SUCCESS')).kind).toBe('skip');
      expect(profile.query).toContain('= "user.session.start"');
      expect(profile.query).not.toContain('auth_via_mfa');
    });
  });

  describe('Insights rows', () => {
    it('maps a row with Okta’s upper-case result and no host', () => {
      expect(
        profile.mapRow({
          user: 'Bob@Corp.COM',
          ip: '2001:DB8:AC10:FE01:0:0:0:1',
          outcome: 'FAILURE',
          logons: '7',
          first: '2026-11-02 08:15:00.000',
          last: '2026-11-02 08:16:00.000',
        }),
      ).toEqual({
        kind: 'observation',
        observation: {
          user: 'bob@corp.com',
          sourceIp: '2001:db8:ac10:fe01::1',
          outcome: 'failure',
          count: 7,
          firstSeen: at('2026-11-02T08:15:00Z'),
          lastSeen: at('2026-11-02T08:16:00Z'),
          hosts: [],
          methods: [],
          logSource: 'okta',
        },
      });
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ['user', 'ip', 'outcome', 'logons', 'first', 'last']);

    it('reads bare and enveloped events', () => {
      for (const f of [
        'actor.alternateId',
        'detail.actor.alternateId',
        'client.ipAddress',
        'outcome.result',
        'user.session.start',
      ])
        expect(profile.query).toContain(f);
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp
        | filter coalesce(detail.eventType, eventType) = "user.session.start"
        | fields coalesce(detail.actor.alternateId, actor.alternateId) as user, coalesce(detail.client.ipAddress, client.ipAddress, detail.request.ipChain.0.ip, request.ipChain.0.ip) as ip, coalesce(detail.outcome.result, outcome.result) as outcome
        | filter (outcome = "SUCCESS" or outcome = "FAILURE") and ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
  );
});
