import { describe, expect, it } from 'vitest';
import type { LogonEvent } from '../../../shared/core/model';
import { getProfile } from '../../../shared/core/profiles';
import { generateScenario } from '../../../cli/scenario/generate';
import { scenarioLines, toEcsLine, toSshdLine } from '../../../cli/scenario/writers';

const T = Date.UTC(2026, 2, 2, 9, 14, 7, 123);

function makeEvent(overrides: Partial<LogonEvent> = {}): LogonEvent {
  return {
    timestamp: T,
    user: 'alice',
    sourceIp: '203.0.113.9',
    outcome: 'success',
    host: 'web-01',
    method: 'publickey',
    logSource: 'ecs',
    ...overrides,
  };
}

const SSHD_ACCEPTED =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (\S+) sshd\[(\d+)\]: Accepted (\S+) for (\S+) from ([0-9a-f:.]+) port (\d+) ssh2(: (ED25519|RSA) SHA256:[A-Za-z0-9+/]{43})?$/;
const SSHD_FAILED =
  /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00) (\S+) sshd\[(\d+)\]: Failed (\S+) for (invalid user )?(\S+) from ([0-9a-f:.]+) port (\d+) ssh2$/;

describe('toEcsLine', () => {
  it('writes one ECS authentication document', () => {
    // Act
    // biome-ignore lint/suspicious/noExplicitAny: an ECS document read back as plain JSON
    const doc = JSON.parse(toEcsLine(makeEvent())) as Record<string, any>;
    // Assess
    expect(doc['@timestamp']).toBe('2026-03-02T09:14:07.123Z');
    expect(doc.event.category).toEqual(['authentication']);
    expect(doc.event.outcome).toBe('success');
    expect(doc.event.action).toBe('ssh_login');
    expect(doc.user.name).toBe('alice');
    expect(doc.source.ip).toBe('203.0.113.9');
    expect(doc.host.name).toBe('web-01');
    expect(doc.system.auth.ssh.method).toBe('publickey');
  });

  it('writes failures, and is one line and deterministic', () => {
    const e = makeEvent({ outcome: 'failure', method: 'password', user: 'we"ird\nname' });
    const line = toEcsLine(e);
    expect(line).not.toContain('\n');
    expect(line).toBe(toEcsLine(e));
    // biome-ignore lint/suspicious/noExplicitAny: an ECS document read back as plain JSON
    const doc = JSON.parse(line) as Record<string, any>;
    expect(doc.event.outcome).toBe('failure');
    expect(doc.user.name).toBe('we"ird\nname');
  });
});

describe('toSshdLine', () => {
  it('writes an accepted publickey logon in rsyslog high-precision format with a key fingerprint', () => {
    const line = toSshdLine(makeEvent());
    const m = SSHD_ACCEPTED.exec(line);
    expect(m, line).not.toBeNull();
    expect(m![1]!.startsWith('2026-03-02T09:14:07.123')).toBe(true);
    expect(m![2]).toBe('web-01');
    expect(m![4]).toBe('publickey');
    expect(m![5]).toBe('alice');
    expect(m![6]).toBe('203.0.113.9');
    expect(m![8]).toBeDefined();
    // The sub-millisecond digits do not change the millisecond.
    expect(Date.parse(m![1]!)).toBe(T);
  });

  it('writes password and keyboard-interactive logons without a key', () => {
    expect(toSshdLine(makeEvent({ method: 'password' }))).toMatch(
      /Accepted password for alice from 203\.0\.113\.9 port \d+ ssh2$/,
    );
    expect(toSshdLine(makeEvent({ method: 'keyboard-interactive/pam' }))).toMatch(
      /Accepted keyboard-interactive\/pam for alice from /,
    );
  });

  it('writes failures, for invalid users when told', () => {
    const f = makeEvent({ outcome: 'failure', method: 'password', user: 'admin' });
    expect(toSshdLine(f, { invalidUser: true })).toMatch(SSHD_FAILED);
    expect(toSshdLine(f, { invalidUser: true })).toContain(
      'Failed password for invalid user admin from 203.0.113.9 port ',
    );
    expect(toSshdLine(f)).toContain('Failed password for admin from ');
  });

  it('writes IPv6 sources bare, as sshd does', () => {
    expect(toSshdLine(makeEvent({ sourceIp: '3fff:100:1a2b:301:1:2:3:4' }))).toContain(
      ' from 3fff:100:1a2b:301:1:2:3:4 port ',
    );
  });

  it('is deterministic and keeps a user’s key fingerprint', () => {
    const a = toSshdLine(makeEvent());
    expect(toSshdLine(makeEvent())).toBe(a);
    const fp = (l: string): string | undefined => /SHA256:\S+$/.exec(l)?.[0];
    expect(fp(toSshdLine(makeEvent({ timestamp: T + 3_600_000, sourceIp: '192.0.2.10' })))).toBe(fp(a));
    expect(fp(toSshdLine(makeEvent({ user: 'bob' })))).not.toBe(fp(a));
  });
});

describe('scenarioLines', () => {
  const s = generateScenario({ seed: 11, shape: 'small-office', days: 20, learningDays: 14 });

  it('writes every event, one line each, in both formats', () => {
    const sshd = scenarioLines(s, 'sshd');
    const ecs = scenarioLines(s, 'ecs');
    expect(sshd).toHaveLength(s.events.length);
    expect(ecs).toHaveLength(s.events.length);
    for (const l of sshd) expect(SSHD_ACCEPTED.test(l) || SSHD_FAILED.test(l), l).toBe(true);
    for (const l of ecs) expect(() => JSON.parse(l) as unknown).not.toThrow();
  });

  it('calls scanners’ names invalid users, never root or the organisation’s accounts', () => {
    const sshd = scenarioLines(s, 'sshd');
    const names = new Set(s.users.map((u) => u.name));
    let invalid = 0;
    for (const l of sshd) {
      const m = SSHD_FAILED.exec(l);
      if (!m) continue;
      if (m[5]) {
        invalid++;
        expect(names.has(m[6]!)).toBe(false);
        expect(m[6]).not.toBe('root');
      } else {
        expect(names.has(m[6]!) || m[6] === 'root').toBe(true);
      }
    }
    expect(invalid).toBeGreaterThan(0);
  });
});

// Round trip through the profile parsers: the demo and the evaluation rely on the writers and parsers agreeing.
describe.each(['sshd', 'ecs'] as const)('round trip through the %s profile parser', (format) => {
  it('parses every written line back to the same logon', () => {
    const parse = (line: string) => getProfile(format).parseLine(line);
    const s = generateScenario({ seed: 5, shape: 'small-office', days: 16, learningDays: 14 });
    const lines = scenarioLines(s, format);
    lines.forEach((line, k) => {
      const e = s.events[k]!;
      const r = parse(line);
      expect(r.kind, line).toBe('event');
      if (r.kind !== 'event') return;
      expect(r.event.timestamp, line).toBe(e.timestamp);
      expect(r.event.user, line).toBe(e.user);
      expect(r.event.sourceIp, line).toBe(e.sourceIp);
      expect(r.event.outcome, line).toBe(e.outcome);
      expect(r.event.host, line).toBe(e.host);
      if (r.event.method !== undefined) expect(r.event.method, line).toBe(e.method);
    });
  });
});
