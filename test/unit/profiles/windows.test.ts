import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

const profile = getProfile('windows');
const lines = fixtureLines('windows');
const at = (iso: string) => Date.parse(iso);

function flat(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    EventID: 4624,
    Computer: 'WS01',
    TimeCreated: '2026-11-02T08:15:03.000Z',
    TargetUserName: 'alice',
    TargetDomainName: 'CORP',
    LogonType: '10',
    IpAddress: '203.0.113.20',
    ...overrides,
  });
}

function winlogbeat(eventData: Record<string, unknown>, eventId: string | number = '4624'): string {
  return JSON.stringify({
    '@timestamp': '2026-11-02T08:40:00.512Z',
    winlog: { computer_name: 'DC01.corp.example.com', event_id: eventId, event_data: eventData },
  });
}

describe('windows profile', () => {
  describe('fixture lines (flat and Winlogbeat)', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed events', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(7);
      expect(c.skip).toBeGreaterThanOrEqual(8);
      expect(c.malformed).toBeGreaterThanOrEqual(3);
    });
  });

  describe('events', () => {
    it('reads 4624 as success and 4625 as failure, the logon type as method', () => {
      const ok = profile.parseLine(flat());
      const bad = profile.parseLine(flat({ EventID: 4625, LogonType: '3' }));
      expect(ok).toEqual({
        kind: 'event',
        event: {
          timestamp: at('2026-11-02T08:15:03Z'),
          user: 'alice@corp',
          sourceIp: '203.0.113.20',
          outcome: 'success',
          host: 'WS01',
          method: '10 RemoteInteractive',
          logSource: 'windows',
        },
      });
      expect(bad.kind === 'event' && [bad.event.outcome, bad.event.method]).toEqual(['failure', '3 Network']);
    });

    it('reads Winlogbeat’s event_id as a string (7+) or a number (6.x)', () => {
      for (const id of ['4624', 4624])
        expect(
          profile.parseLine(
            winlogbeat(
              { TargetUserName: 'grace', TargetDomainName: 'CORP', IpAddress: '203.0.113.21', LogonType: '3' },
              id,
            ),
          ).kind,
        ).toBe('event');
    });

    it('skips machine accounts, anonymous and NT AUTHORITY logons, and local sources', () => {
      expect(profile.parseLine(flat({ TargetUserName: 'WS01$' })).kind).toBe('skip');
      expect(
        profile.parseLine(flat({ TargetUserName: 'ANONYMOUS LOGON', TargetDomainName: 'NT AUTHORITY' })).kind,
      ).toBe('skip');
      expect(profile.parseLine(flat({ TargetUserName: 'ANONYMOUS LOGON', TargetDomainName: '' })).kind).toBe('skip');
      expect(profile.parseLine(flat({ TargetUserName: 'LOCAL SERVICE', TargetDomainName: 'NT AUTHORITY' })).kind).toBe(
        'skip',
      );
      for (const ip of ['-', '::1', '127.0.0.1', '', undefined])
        expect(profile.parseLine(flat({ IpAddress: ip })).kind, String(ip)).toBe('skip');
    });

    it('keeps DOMAIN\\user and user@domain consistent', () => {
      const down = profile.parseLine(flat({ TargetUserName: 'CORP\\Alice', TargetDomainName: '' }));
      const joined = profile.parseLine(flat({ TargetUserName: 'Alice', TargetDomainName: 'corp' }));
      const upn = profile.parseLine(flat({ TargetUserName: 'alice@corp.example.com', TargetDomainName: 'CORP' }));
      expect(down.kind === 'event' && down.event.user).toBe('alice@corp');
      expect(joined.kind === 'event' && joined.event.user).toBe('alice@corp');
      expect(upn.kind === 'event' && upn.event.user).toBe('alice@corp.example.com');
    });

    it('reads PowerShell 5’s /Date(ms)/ and NXLog’s zone-less EventTime', () => {
      const ps = profile.parseLine(flat({ TimeCreated: '/Date(1793610000123)/' }));
      const nx = profile.parseLine(flat({ TimeCreated: undefined, EventTime: '2026-11-02 08:20:00' }));
      expect(ps.kind === 'event' && ps.event.timestamp).toBe(1793610000123);
      expect(nx.kind === 'event' && nx.event.timestamp).toBe(at('2026-11-02T08:20:00Z'));
    });
  });

  describe('failed logons', () => {
    const winlogbeat = (eventId: string, data: Record<string, string>) =>
      JSON.stringify({
        '@timestamp': '2026-11-02T08:00:00.000Z',
        winlog: { event_id: eventId, computer_name: 'DC01.corp.example.com', event_data: data },
      });

    it('counts a 4625, not the domain controller’s 4771 or 4776 for the same attempt', () => {
      expect(
        profile.parseLine(
          winlogbeat('4625', { TargetUserName: 'bob', TargetDomainName: 'CORP', IpAddress: '192.0.2.50' }),
        ),
      ).toMatchObject({ kind: 'event', event: { outcome: 'failure', user: 'bob@corp', sourceIp: '192.0.2.50' } });
      const kerberos = winlogbeat('4771', { TargetUserName: 'bob', Status: '0x18', IpAddress: '::ffff:192.0.2.50' });
      const ntlm = winlogbeat('4776', { TargetUserName: 'bob', Workstation: 'KALI', Status: '0xc000006a' });
      expect(profile.parseLine(kerberos).kind).toBe('skip');
      expect(profile.parseLine(ntlm).kind).toBe('skip');
      // The query keeps the same two event ids and no other.
      expect(profile.query.match(/eventId = "?\d+"?/g)?.sort()).toEqual([
        'eventId = "4624"',
        'eventId = "4625"',
        'eventId = 4624',
        'eventId = 4625',
      ]);
    });
  });

  describe('Insights rows', () => {
    const base = {
      user: 'Alice',
      domain: 'CORP',
      ip: '203.0.113.20',
      outcome: '4624',
      host: 'WS01',
      logons: '5',
      first: '2026-11-02 08:15:03.123',
      last: '2026-11-02 08:25:00.000',
    };

    it('maps a row: event id as outcome, user qualified by the domain column', () => {
      expect(profile.mapRow(base)).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice@corp',
          sourceIp: '203.0.113.20',
          outcome: 'success',
          count: 5,
          firstSeen: at('2026-11-02T08:15:03.123Z'),
          lastSeen: at('2026-11-02T08:25:00Z'),
          hosts: ['WS01'],
          methods: [],
          logSource: 'windows',
        },
      });
      const r = profile.mapRow({ ...base, outcome: '4625' });
      expect(r.kind === 'observation' && r.observation.outcome).toBe('failure');
    });

    it('skips the rows the line parser skips', () => {
      expect(profile.mapRow({ ...base, user: 'WS01$' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, user: 'ANONYMOUS LOGON', domain: 'NT AUTHORITY' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, ip: '-' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, ip: '::1' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, outcome: '4634' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, [...ROW_COLUMNS, 'domain']);

    it('reads both shapes and drops machine accounts and local logons server-side', () => {
      for (const f of [
        'winlog.event_id',
        'EventID',
        'winlog.event_data.TargetUserName',
        'TargetUserName',
        'winlog.event_data.IpAddress',
        'IpAddress',
        'winlog.computer_name',
        'Computer',
      ]) {
        expect(profile.query).toContain(f);
      }
      expect(profile.query).toContain('user not like /\\$$/');
      expect(profile.query).toContain('ip != "-"');
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp
        | fields coalesce(winlog.event_id, EventID, EventId) as eventId
        | filter eventId = 4624 or eventId = 4625 or eventId = "4624" or eventId = "4625"
        | fields coalesce(winlog.event_data.TargetUserName, TargetUserName) as user, coalesce(winlog.event_data.TargetDomainName, TargetDomainName) as domain, coalesce(winlog.event_data.IpAddress, IpAddress) as ip, eventId as outcome, coalesce(winlog.computer_name, Computer, Hostname, ComputerName, host.name) as host
        | filter ispresent(user) and ispresent(ip) and ip != "-" and user not like /\\$$/ and user != "ANONYMOUS LOGON"
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
