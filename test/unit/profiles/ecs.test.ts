import { describe, expect, it } from 'vitest';
import type { LogonEvent } from '../../../shared/core/model';
import { getProfile } from '../../../shared/core/profiles';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

const profile = getProfile('ecs');
const lines = fixtureLines('ecs');
const at = (iso: string) => Date.parse(iso);

function doc(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    '@timestamp': '2026-11-02T08:15:03.123Z',
    event: { kind: 'event', category: ['authentication'], type: ['info'], outcome: 'success' },
    user: { name: 'alice' },
    source: { ip: '203.0.113.9' },
    host: { name: 'web-01' },
    ...overrides,
  });
}

describe('ecs profile', () => {
  describe('fixture lines', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed documents', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(6);
      expect(c.skip).toBeGreaterThanOrEqual(5);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('documents', () => {
    it('accepts event.category as a string or an array containing authentication', () => {
      for (const category of ['authentication', ['authentication'], ['session', 'authentication']]) {
        expect(profile.parseLine(doc({ event: { category, outcome: 'failure' } })).kind, JSON.stringify(category)).toBe(
          'event',
        );
      }
      expect(profile.parseLine(doc({ event: { category: ['iam'], outcome: 'success' } })).kind).toBe('skip');
    });

    it('qualifies user.name with user.domain as user@domain', () => {
      const r = profile.parseLine(doc({ user: { name: 'Alice', domain: 'CORP' } }));
      expect(r.kind === 'event' && r.event.user).toBe('alice@corp');
    });

    it('skips Filebeat’s copy of sshd’s "Invalid user" line: the "Failed" event after it is the attempt', () => {
      const doc = (event: string) =>
        JSON.stringify({
          '@timestamp': '2026-11-02T08:17:45.000Z',
          event: { category: ['authentication'], outcome: 'failure', action: 'ssh_login' },
          user: { name: 'oracle' },
          source: { ip: '192.0.2.200' },
          host: { name: 'web-01' },
          system: { auth: { ssh: { event } } },
        });
      expect(profile.parseLine(doc('Invalid')).kind).toBe('skip');
      expect(profile.parseLine(doc('Failed'))).toMatchObject({ kind: 'event', event: { outcome: 'failure' } });
    });

    it('skips unknown outcomes, local logons without a source and loopback sources', () => {
      expect(profile.parseLine(doc({ event: { category: 'authentication', outcome: 'unknown' } })).kind).toBe('skip');
      expect(profile.parseLine(doc({ source: {} })).kind).toBe('skip');
      expect(profile.parseLine(doc({ source: { ip: '127.0.0.1' } })).kind).toBe('skip');
    });

    it('parses back exactly what the scenario writer writes (ECS as Filebeat’s system module emits it)', () => {
      const e: LogonEvent = {
        timestamp: at('2026-03-02T09:14:07.123Z'),
        user: 'alice.smith',
        sourceIp: '2001:db8::9',
        outcome: 'success',
        host: 'web-01',
        method: 'publickey',
        logSource: 'ecs',
      };
      const line = JSON.stringify({
        '@timestamp': new Date(e.timestamp).toISOString(),
        event: {
          kind: 'event',
          category: ['authentication'],
          type: ['info'],
          action: 'ssh_login',
          outcome: e.outcome,
          module: 'system',
          dataset: 'system.auth',
        },
        user: { name: e.user },
        source: { ip: e.sourceIp },
        host: { name: e.host, hostname: e.host },
        process: { name: 'sshd', pid: 4211 },
        system: { auth: { ssh: { method: e.method, event: 'Accepted' } } },
      });
      expect(profile.parseLine(line)).toEqual({ kind: 'event', event: e });
    });
  });

  describe('Insights rows', () => {
    it('maps a row, qualifying the user with the domain column', () => {
      expect(
        profile.mapRow({
          user: 'Alice',
          domain: 'CORP',
          ip: '::ffff:203.0.113.20',
          outcome: 'success',
          host: 'ws01',
          logons: '4',
          first: '2026-11-02 08:21:00.000',
          last: '2026-11-02 08:29:00.000',
        }),
      ).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice@corp',
          sourceIp: '203.0.113.20',
          outcome: 'success',
          count: 4,
          firstSeen: at('2026-11-02T08:21:00Z'),
          lastSeen: at('2026-11-02T08:29:00Z'),
          hosts: ['ws01'],
          methods: [],
          logSource: 'ecs',
        },
      });
    });

    it('maps a row without host or domain', () => {
      const r = profile.mapRow({
        user: 'bob',
        ip: '198.51.100.23',
        outcome: 'failure',
        logons: '1',
        first: '1793607420000',
        last: '1793607420000',
      });
      expect(r.kind === 'observation' && [r.observation.user, r.observation.hosts]).toEqual(['bob', []]);
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, [...ROW_COLUMNS, 'domain']);

    it('matches array categories by index (Insights flattens arrays as event.category.0, ...)', () => {
      expect(profile.query).toContain('event.category.0 = "authentication"');
      expect(profile.query).toContain('event.category = "authentication"');
      // `@timestamp` of the document becomes `@@timestamp` in Insights; the query uses the log event's own.
      expect(profile.query).not.toContain('@@timestamp');
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, event.category, event.outcome, user.name, user.domain, source.ip, host.name
        | filter event.category = "authentication" or event.category.0 = "authentication" or event.category.1 = "authentication" or event.category.2 = "authentication" or event.category.3 = "authentication"
        | filter event.outcome = "success" or event.outcome = "failure"
        | filter not ispresent(system.auth.ssh.event) or system.auth.ssh.event != "Invalid"
        | fields user.name as user, user.domain as domain, source.ip as ip, event.outcome as outcome, coalesce(host.name, host.hostname) as host
        | filter ispresent(user) and ispresent(ip)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, domain, ip, outcome, host
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
    ['domain'],
  );
});
