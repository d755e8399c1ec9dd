/**
 * The cisco-asa profile. The fixtures (test/fixtures/cisco-asa) were written for these tests from the message texts in
 * Cisco's "Cisco Secure Firewall ASA Series Syslog Messages" (113004, 113005, 113006, 113008, 113009, 113015, 113019,
 * 113039, 716001, 716039, 722022, 722037, 722051, 734001) and its syslog header formats (`logging timestamp`, RFC 5424
 * timestamps, `logging device-id`); no vendor log file was copied. Addresses are documentation ranges.
 */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import { CISCO_ASA_LOGON_PATTERN, ciscoAsaProfile } from '../../../shared/core/profiles/cisco-asa';
import { runInsightsQuery } from '../../support/insights-emulator';
import { itAgreesWithItsQuery } from './insights-agreement';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

// Year-less syslog times in the fixtures are read as 2026.
const profile = getProfile('cisco-asa', { year: 2026 });
const lines = fixtureLines('cisco-asa');
const at = (iso: string) => Date.parse(iso);
const HEAD = '<166>Nov 02 2026 08:15:03 asa-vpn-01 : ';

function eventOf(line: string) {
  const r = profile.parseLine(line);
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

const started = (user: string, ip: string) =>
  `${HEAD}%ASA-6-113039: Group <GP-Corp> User <${user}> IP <${ip}> AnyConnect parent session started.`;
const rejected = (user: string, ip: string) =>
  `${HEAD}%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.10.1.20 : user = ${user} : user IP = ${ip}`;

describe('cisco-asa profile', () => {
  describe('fixture lines (ASA and FTD syslog, ASA, ISO and year-less syslog timestamps)', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed lines', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(10);
      expect(c.skip).toBeGreaterThanOrEqual(10);
      expect(c.malformed).toBeGreaterThanOrEqual(4);
    });
  });

  describe('one logon counts once, one failed attempt once', () => {
    it('counts an AnyConnect or clientless session start as the logon, with the client’s address', () => {
      expect(eventOf(started('alice', '203.0.113.9'))).toEqual({
        timestamp: at('2026-11-02T08:15:03Z'),
        user: 'alice',
        sourceIp: '203.0.113.9',
        outcome: 'success',
        host: 'asa-vpn-01',
        method: 'AnyConnect',
        logSource: 'cisco-asa',
      });
      expect(
        eventOf(`${HEAD}%ASA-6-716001: Group <GP-Portal> User <carol> IP <198.51.100.23> WebVPN session started.`),
      ).toMatchObject({ outcome: 'success', user: 'carol', method: 'WebVPN' });
    });

    it('counts an AAA server’s or the local database’s rejection as the failed attempt', () => {
      expect(eventOf(rejected('bob', '192.0.2.51'))).toMatchObject({
        outcome: 'failure',
        user: 'bob',
        sourceIp: '192.0.2.51',
        method: 'AAA server',
      });
      expect(
        eventOf(
          `${HEAD}%ASA-6-113015: AAA user authentication Rejected : reason = Invalid password : local database : user = admin : user IP = 192.0.2.52`,
        ),
      ).toMatchObject({ outcome: 'failure', user: 'admin', method: 'local database' });
      // Cisco's own text of the message has no space before its colons.
      expect(
        eventOf(
          `${HEAD}%ASA-6-113005: AAA user authentication Rejected: reason = AAA failure: server = 10.10.1.20 : user = bob: user IP = 192.0.2.51`,
        ),
      ).toMatchObject({ outcome: 'failure', user: 'bob', sourceIp: '192.0.2.51' });
    });

    it('counts a masked name as the user *****, so the failure still counts from its address', () => {
      expect(eventOf(rejected('*****', '192.0.2.50'))).toMatchObject({ user: '*****', outcome: 'failure' });
    });

    it('does not count the other messages of the same logon or attempt, verdicts, or ends of sessions', () => {
      for (const msg of [
        '%ASA-6-113004: AAA user authentication Successful : server = 10.10.1.20 : user = alice',
        '%ASA-6-113012: AAA user authentication Successful : local database : user = admin',
        '%ASA-6-716039: Group <DfltGrpPolicy> User <bob> IP <192.0.2.51> Authentication: rejected, Session Type: WebVPN.',
        '%ASA-4-722051: Group <GP-Corp> User <alice> IP <203.0.113.9> IPv4 Address <10.8.0.21> IPv6 address <::> assigned to session',
        '%ASA-6-722022: Group <GP-Corp> User <alice> IP <203.0.113.9> UDP SVC connection established without compression',
        '%ASA-4-722037: Group <GP-Corp> User <alice> IP <203.0.113.9> SVC closing connection: DPD failure.',
        "%ASA-6-113006: User 'bob' locked out on exceeding '5' successive failed authentication attempts",
        '%ASA-6-716002: Group <GP-Portal> User <carol> IP <198.51.100.23> WebVPN session terminated: User Requested.',
      ])
        expect(profile.parseLine(`${HEAD}${msg}`).kind, msg).toBe('skip');
    });
  });

  describe('awkward lines', () => {
    it('takes the address the ASA wrote last, whatever the typed name holds', () => {
      expect(eventOf(rejected('x : user IP = 10.0.0.1', '192.0.2.54'))).toMatchObject({
        user: 'x : user ip = 10.0.0.1',
        sourceIp: '192.0.2.54',
      });
      expect(eventOf(started('x> IP <10.0.0.1', '198.51.100.9')).sourceIp).toBe('198.51.100.9');
    });

    it('canonicalises IPv6 client addresses and reads domain names like every profile', () => {
      expect(eventOf(started('dave', '2001:DB8:0:0:0:0:0:5')).sourceIp).toBe('2001:db8::5');
      expect(eventOf(started('CORP\\Erin', '198.51.100.60')).user).toBe('erin@corp');
    });

    it('reads FTD’s messages, ISO and ASA timestamps, with or without a device name', () => {
      expect(
        eventOf(
          '2026-11-02T10:20:00.250+02:00 ftd-01 : %FTD-6-113039: Group <G> User <erin> IP <198.51.100.60> AnyConnect parent session started.',
        ),
      ).toMatchObject({ host: 'ftd-01', timestamp: at('2026-11-02T08:20:00.250Z') });
      const bare = eventOf(
        'Nov 02 2026 08:22:00: %ASA-6-113005: AAA user authentication Rejected : reason = Invalid password : server = 10.10.1.20 : user = frank : user IP = 192.0.2.53',
      );
      expect(bare.host).toBeUndefined();
      expect(bare.timestamp).toBe(at('2026-11-02T08:22:00Z'));
      // A syslog server's header before the ASA's own: the ASA's time and device name are read.
      expect(
        eventOf(
          'Nov  2 08:15:04 10.0.0.1 Nov 02 2026 08:15:03 asa-vpn-01 : %ASA-6-113039: Group <G> User <alice> IP <203.0.113.9> AnyConnect parent session started.',
        ),
      ).toMatchObject({ host: 'asa-vpn-01', timestamp: at('2026-11-02T08:15:03Z') });
    });

    it('places a syslog server’s year-less time in a year as sshd does', () => {
      const line =
        'Dec 31 23:59:00 asa-vpn-01 %ASA-6-113039: Group <G> User <ivan> IP <198.51.100.62> AnyConnect parent session started.';
      const time = (p: ReturnType<typeof ciscoAsaProfile>) => {
        const r = p.parseLine(line);
        return r.kind === 'event' ? new Date(r.event.timestamp).toISOString() : r.kind;
      };
      expect(time(ciscoAsaProfile({ year: 2025 }))).toBe('2025-12-31T23:59:00.000Z');
      // Read in January: last year's December.
      expect(time(ciscoAsaProfile({ clock: { now: () => at('2027-01-05T00:00:00Z') } }))).toBe(
        '2026-12-31T23:59:00.000Z',
      );
      expect(getProfile('cisco-asa', { year: 2024 }).parseLine(line).kind).toBe('event');
    });

    it('says why a line it cannot place or source is malformed', () => {
      const badDay = profile.parseLine(
        '<166>Feb 30 2026 08:29:00 asa-vpn-01 : %ASA-6-113039: Group <G> User <kim> IP <198.51.100.64> AnyConnect parent session started.',
      );
      expect(badDay.kind === 'malformed' && badDay.reason).toMatch(/unreadable time/);
      const noSource = profile.parseLine(
        `${HEAD}%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.10.1.20 : user = henry`,
      );
      expect(noSource.kind === 'malformed' && noSource.reason).toMatch(/without a `user IP`/);
    });

    it('only reads the message at the line’s syslog header, never one quoted inside another', () => {
      expect(
        profile.parseLine(
          `${HEAD}%ASA-7-111009: User 'admin' executed cmd: show logging ${started('x', '198.51.100.1')}`,
        ).kind,
      ).toBe('skip');
    });
  });

  describe('Insights rows', () => {
    const row = {
      user: 'Alice',
      ip: '203.0.113.9',
      outcome: '113039',
      host: 'asa-vpn-01',
      logons: '2',
      first: '2026-11-02 08:10:01.000',
      last: '2026-11-02 08:40:00.000',
    };

    it('maps a row: the message id as the outcome', () => {
      expect(profile.mapRow(row)).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice',
          sourceIp: '203.0.113.9',
          outcome: 'success',
          count: 2,
          firstSeen: at('2026-11-02T08:10:01Z'),
          lastSeen: at('2026-11-02T08:40:00Z'),
          hosts: ['asa-vpn-01'],
          methods: [],
          logSource: 'cisco-asa',
        },
      });
      for (const [id, outcome] of [
        ['716001', 'success'],
        ['113005', 'failure'],
        ['113015', 'failure'],
      ] as const) {
        const r = profile.mapRow({ ...row, outcome: id });
        expect(r.kind === 'observation' && r.observation.outcome, id).toBe(outcome);
      }
      expect(profile.mapRow({ ...row, outcome: '716039' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ROW_COLUMNS);

    it('parses with the very pattern the line parser uses', () => {
      expect(profile.query).toContain(`parse @message /${CISCO_ASA_LOGON_PATTERN}/`);
      expect(CISCO_ASA_LOGON_PATTERN).not.toMatch(/(^|[^\\])\//);
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, @message
        | parse @message /^(?:<\\d{1,3}>)?(?:(?:[A-Z][a-z]{2} +\\d{1,2} \\d{2}:\\d{2}:\\d{2}|\\d{4}-\\d{2}-\\d{2}T\\S+) \\S+ )?(?<stamp>[A-Z][a-z]{2} +\\d{1,2}(?: \\d{4})? \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}T\\S+)(?: (?<host>[^\\s%:]+))?(?: ?:)? %(?:ASA|FTD)-\\d-(?:(?<sid>113039|716001): Group <[^<>]*> User <(?<suser>.*)> IP <(?<sip>[^\\s<>]+)> (?:AnyConnect parent|WebVPN) session started\\.?|(?<fid>113005|113015): AAA user authentication Rejected ?: reason = .* ?: (?:server = \\S+|local database) ?: user = (?<fuser>.*) ?: user IP = (?<fip>[^\\s<>]+))\\s*$/
        | fields coalesce(suser, fuser) as user, coalesce(sip, fip) as ip, coalesce(sid, fid) as outcome
        | filter ispresent(user) and ispresent(ip) and ispresent(outcome)
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome, host
        | limit 10000"
      `);
    });

    const unplaced = (l: (typeof lines)[number]) =>
      l.expected.kind === 'malformed' && l.expected.reason.includes('time');
    // The lines whose time the parser cannot read are counted by Insights at their `@timestamp`: only it counts them.
    itAgreesWithItsQuery(
      profile,
      lines.filter((l) => !unplaced(l)),
    );

    it('counts in Insights, by its @timestamp, a line whose time the parser cannot read', () => {
      const line = lines.find((l) => unplaced(l))!;
      const rows = runInsightsQuery(profile.query, [{ message: line.line, timestamp: at('2026-11-02T08:29:00Z') }]);
      expect(rows.map((r) => profile.mapRow(r).kind)).toEqual(['observation']);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
  );
});
