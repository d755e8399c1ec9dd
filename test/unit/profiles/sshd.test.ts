import { describe, expect, it } from 'vitest';
import { getProfile, sshdProfile } from '../../../shared/core/profiles';
import { SSHD_LOGON_PATTERN, SSHD_REPEAT_PATTERN } from '../../../shared/core/profiles/sshd';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

// Classic syslog lines carry no year: the fixtures are read as 2026.
const profile = getProfile('sshd', { year: 2026 });
const lines = fixtureLines('sshd');

const at = (iso: string) => Date.parse(iso);
const clockAt = (iso: string) => ({ now: () => at(iso) });

describe('sshd profile', () => {
  describe('fixture lines (Ubuntu auth.log, RHEL secure, rsyslog ISO, journald sshd-session)', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed lines', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(25);
      expect(c.skip).toBeGreaterThanOrEqual(15);
      expect(c.malformed).toBeGreaterThanOrEqual(4);
    });
  });

  describe('awkward lines', () => {
    it('reads publickey logons with a key fingerprint, keeping the method', () => {
      const r = profile.parseLine(
        'Nov  2 08:15:03 web-01 sshd[4211]: Accepted publickey for alice from 203.0.113.9 port 52114 ssh2: RSA SHA256:2Vd3mJ0u0Y8xq1Hc0bS6b8tXh0m8Y1z0kTn9uQe4wLs',
      );
      expect(r).toEqual({
        kind: 'event',
        event: {
          timestamp: at('2026-11-02T08:15:03Z'),
          user: 'alice',
          sourceIp: '203.0.113.9',
          outcome: 'success',
          host: 'web-01',
          method: 'publickey',
          logSource: 'sshd',
        },
      });
    });

    it('counts "Failed ... for invalid user" as one failure of that name, and not the "Invalid user" line before it', () => {
      const r = profile.parseLine(
        'Nov  2 08:17:49 web-01 sshd[4251]: Failed password for invalid user oracle from 192.0.2.200 port 33410 ssh2',
      );
      expect(r).toMatchObject({
        kind: 'event',
        event: { outcome: 'failure', user: 'oracle', sourceIp: '192.0.2.200' },
      });
      expect(r.kind === 'event' && r.event.count).toBe(undefined);
      for (const msg of [
        'Invalid user oracle from 192.0.2.200 port 33410',
        'Invalid user guest from 192.0.2.80',
        'Connection closed by invalid user oracle 192.0.2.200 port 33410 [preauth]',
        'pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.200  user=root',
        'PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.79  user=root',
        'error: maximum authentication attempts exceeded for root from 192.0.2.200 port 33500 ssh2 [preauth]',
        'Disconnecting authenticating user root 192.0.2.200 port 33500: Too many authentication failures [preauth]',
      ])
        expect(profile.parseLine(`Nov  2 08:17:49 web-01 sshd[4251]: ${msg}`).kind, msg).toBe('skip');
    });

    it("counts rsyslog's `message repeated N times` as N attempts, successes alike", () => {
      const failed = profile.parseLine(
        'Nov  2 08:18:09 web-01 sshd[4260]: message repeated 5 times: [ Failed password for root from 192.0.2.200 port 33500 ssh2]',
      );
      expect(failed).toMatchObject({ kind: 'event', event: { outcome: 'failure', user: 'root', count: 5 } });
      const accepted = profile.parseLine(
        '2026-11-02T08:18:09Z web-01 sshd[4260]: message repeated 2 times: [ Accepted password for bob from 198.51.100.23 port 40022 ssh2]',
      );
      expect(accepted).toMatchObject({ kind: 'event', event: { outcome: 'success', user: 'bob', count: 2 } });
      // rsyslog never writes 0 repeats: such a line is not read as a count, and counts once (as in Insights).
      const zero = profile.parseLine(
        'Nov  2 08:18:09 web-01 sshd[4260]: message repeated 0 times: [ Failed password for root from 192.0.2.200 port 33500 ssh2]',
      );
      expect(zero.kind === 'event' && zero.event.count).toBe(undefined);
    });

    it('never reads a repeat count out of a user name', () => {
      const r = profile.parseLine(
        'Nov  2 08:18:09 web-01 sshd[4260]: Failed password for invalid user x: message repeated 99 times: [ from 192.0.2.206 port 40300 ssh2',
      );
      expect(r).toMatchObject({
        kind: 'event',
        event: { user: 'x: message repeated 99 times: [', sourceIp: '192.0.2.206' },
      });
      expect(r.kind === 'event' && r.event.count).toBe(undefined);
    });

    it('takes the user up to the LAST " from <addr> port", so a name cannot smuggle in a source', () => {
      const r = profile.parseLine(
        'Nov  2 08:30:30 web-01 sshd[4420]: Failed password for invalid user x from 10.0.0.1 port 1 from 203.0.113.250 port 40200 ssh2',
      );
      expect(r.kind === 'event' && r.event.sourceIp).toBe('203.0.113.250');
    });

    it('only reads the sshd program, never a logon-looking text inside another program’s message', () => {
      expect(
        profile.parseLine(
          'Nov  2 08:30:00 web-01 sudo:    alice : COMMAND=/usr/bin/echo sshd[1]: Accepted password for x from 192.0.2.66 port 1 ssh2',
        ).kind,
      ).toBe('skip');
    });

    it('canonicalises IPv6 sources and unwraps IPv4-mapped ones', () => {
      const v6 = profile.parseLine(
        '2026-11-02T08:16:00Z h sshd-session[1]: Accepted password for bob from 2001:DB8:0:0:0:0:0:1 port 22 ssh2',
      );
      const mapped = profile.parseLine(
        '2026-11-02T08:16:00Z h sshd[1]: Accepted password for bob from ::ffff:198.51.100.7 port 22 ssh2',
      );
      expect(v6.kind === 'event' && v6.event.sourceIp).toBe('2001:db8::1');
      expect(mapped.kind === 'event' && mapped.event.sourceIp).toBe('198.51.100.7');
    });

    it('skips loopback sources and marks unusable ones malformed', () => {
      expect(
        profile.parseLine('Nov  3 09:11:00 h sshd[2290]: Accepted password for bob from ::1 port 50022 ssh2').kind,
      ).toBe('skip');
      expect(
        profile.parseLine('Nov  3 09:12:00 h sshd[2300]: Accepted password for bob from 999.1.2.3 port 50022 ssh2')
          .kind,
      ).toBe('malformed');
      expect(
        profile.parseLine(
          'Nov  2 08:23:00 h sshd[4330]: Failed password for invalid user  from 192.0.2.201 port 1 ssh2',
        ).kind,
      ).toBe('malformed');
    });

    it('truncates sub-millisecond digits and applies the offset of ISO timestamps', () => {
      const r = profile.parseLine(
        '2026-11-02T10:15:03.500999+02:00 h sshd[1]: Accepted password for bob from 198.51.100.23 port 40022 ssh2',
      );
      expect(r.kind === 'event' && r.event.timestamp).toBe(at('2026-11-02T08:15:03.500Z'));
    });
  });

  describe('year of classic (year-less) timestamps', () => {
    const line = (stamp: string) =>
      `${stamp} web-01 sshd[1]: Accepted password for bob from 198.51.100.23 port 40022 ssh2`;
    const time = (p: ReturnType<typeof sshdProfile>, stamp: string) => {
      const r = p.parseLine(line(stamp));
      return r.kind === 'event' ? new Date(r.event.timestamp).toISOString() : r.kind;
    };

    it('uses the pinned year when given', () => {
      expect(time(sshdProfile({ year: 2024 }), 'Feb 29 12:00:00')).toBe('2024-02-29T12:00:00.000Z');
      expect(time(sshdProfile({ year: 2026 }), 'Feb 29 12:00:00')).toBe('malformed');
    });

    it('puts a December line read in January into last year', () => {
      const p = sshdProfile({ clock: clockAt('2027-01-10T00:00:00Z') });
      expect(time(p, 'Dec 31 23:59:59')).toBe('2026-12-31T23:59:59.000Z');
      expect(time(p, 'Jan  9 08:00:00')).toBe('2027-01-09T08:00:00.000Z');
    });

    it('allows a day of clock skew into the future, no more', () => {
      const p = sshdProfile({ clock: clockAt('2026-11-02T00:00:00Z') });
      expect(time(p, 'Nov  2 20:00:00')).toBe('2026-11-02T20:00:00.000Z');
      expect(time(p, 'Nov  4 08:00:00')).toBe('2025-11-04T08:00:00.000Z');
    });

    it('finds the latest leap year for Feb 29', () => {
      expect(time(sshdProfile({ clock: clockAt('2026-03-01T00:00:00Z') }), 'Feb 29 10:00:00')).toBe(
        '2024-02-29T10:00:00.000Z',
      );
    });

    it('reads journalctl’s zero-padded day', () => {
      expect(time(sshdProfile({ year: 2026 }), 'Nov 02 08:30:00')).toBe('2026-11-02T08:30:00.000Z');
    });
  });

  describe('Insights rows', () => {
    it('maps a row with Insights timestamp strings and the verdict word as outcome', () => {
      const r = profile.mapRow({
        user: 'Alice',
        ip: '::ffff:203.0.113.9',
        outcome: 'Accepted',
        host: 'web-01',
        logons: '3',
        first: '2026-11-02 08:15:03.123',
        last: '2026-11-02 08:29:59.999',
      });
      expect(r).toEqual({
        kind: 'observation',
        observation: {
          user: 'alice',
          sourceIp: '203.0.113.9',
          outcome: 'success',
          count: 3,
          firstSeen: at('2026-11-02T08:15:03.123Z'),
          lastSeen: at('2026-11-02T08:29:59.999Z'),
          hosts: ['web-01'],
          methods: [],
          logSource: 'sshd',
        },
      });
    });

    it('maps Failed to failure, and accepts epoch-ms times and canonical outcomes', () => {
      for (const outcome of ['Failed', 'failure']) {
        const r = profile.mapRow({
          user: 'root',
          ip: '192.0.2.200',
          outcome,
          host: 'web-01',
          logons: '12',
          first: '1793607482000',
          last: '1793607489000',
        });
        expect(r.kind === 'observation' && r.observation.outcome, outcome).toBe('failure');
      }
    });

    it('skips loopback rows and reports unusable ones as malformed', () => {
      const base = {
        user: 'bob',
        ip: '198.51.100.23',
        outcome: 'Accepted',
        host: 'h',
        logons: '1',
        first: '2026-11-02 08:15:03.000',
        last: '2026-11-02 08:15:03.000',
      };
      expect(profile.mapRow({ ...base, ip: '127.0.0.1' }).kind).toBe('skip');
      expect(profile.mapRow({ ...base, ip: 'scanner.example.net' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...base, user: '' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...base, outcome: 'Maybe' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...base, logons: '0' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...base, first: 'yesterday' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...base, first: '2026-11-02 09:00:00.000' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, ROW_COLUMNS);

    it('parses with the very pattern the line parser uses, so both find the same logons', () => {
      expect(profile.query).toContain(`parse @message /${SSHD_LOGON_PATTERN}/`);
      expect(profile.query).toContain(`parse @message /${SSHD_REPEAT_PATTERN}/`);
      // Insights delimits the regex with `/`: the patterns must not contain one.
      expect(SSHD_LOGON_PATTERN).not.toMatch(/(^|[^\\])\//);
      expect(SSHD_REPEAT_PATTERN).not.toMatch(/(^|[^\\])\//);
      const re = new RegExp(SSHD_LOGON_PATTERN);
      const repeat = new RegExp(SSHD_REPEAT_PATTERN);
      for (const l of lines) {
        const g = re.exec(l.line)?.groups;
        if (l.expected.kind === 'event') {
          expect(g, `${l.file}:${l.lineNo}`).toBeDefined();
          expect(g!.user!.toLowerCase()).toBe(l.expected.event.user);
          expect(g!.host).toBe(l.expected.event.host);
          // The query's `attempts`: coalesce(repeats, 1).
          const repeats = repeat.exec(l.line)?.groups?.repeats;
          expect(Number(repeats ?? 1), `${l.file}:${l.lineNo}`).toBe(l.expected.event.count ?? 1);
        } else if (l.expected.kind === 'skip') {
          // Skipped lines either do not match at all, or match with a local source (dropped by mapRow too).
          if (g)
            expect(
              profile.mapRow({
                user: g.user!,
                ip: g.ip!,
                outcome: g.outcome!,
                host: g.host!,
                logons: '1',
                first: '1793607303000',
                last: '1793607303000',
              }).kind,
            ).not.toBe('observation');
        }
      }
    });

    it('sums the attempts each line stands for instead of counting lines', () => {
      const q = profile.query.split('\n');
      const at = (prefix: string) => q.findIndex((c) => c.startsWith(prefix));
      expect(q).toContain('| fields coalesce(repeats, 1) as attempts');
      expect(q.find((c) => c.startsWith('| stats '))).toMatch(/^\| stats sum\(attempts\) as logons, /);
      expect(profile.query).not.toContain('count(*)');
      // The repeat count is parsed after the logon filter and before the aggregation that sums it.
      expect(at(`| parse @message /${SSHD_REPEAT_PATTERN}/`)).toBeGreaterThan(at('| filter ispresent(user)'));
      expect(at('| fields coalesce(repeats, 1)')).toBeLessThan(at('| stats '));
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, @message
        | parse @message /^(?:<\\d{1,3}>)?(?<stamp>[A-Z][a-z]{2} +\\d{1,2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}T\\S+) (?<host>\\S+) sshd(?:-session|-auth)?(?:\\[\\d+\\])?: (?:message repeated \\d+ times: \\[ ?)?(?<outcome>Accepted|Failed) (?<method>\\S+) for(?: invalid user)? (?<user>.*) from (?<ip>\\S+)(?: port \\d+|\\]?$)/
        | filter ispresent(user) and ispresent(ip)
        | parse @message /^(?:<\\d{1,3}>)?(?:[A-Z][a-z]{2} +\\d{1,2} \\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}T\\S+) \\S+ sshd(?:-session|-auth)?(?:\\[\\d+\\])?: message repeated (?<repeats>[1-9]\\d{0,8}) times: \\[/
        | fields coalesce(repeats, 1) as attempts
        | stats sum(attempts) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome, host
        | limit 10000"
      `);
    });
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
  );
});
