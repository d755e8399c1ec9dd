/**
 * The auditd profile. The fixtures (test/fixtures/auditd) were written for these tests, not copied from a host: each
 * record's text is what libaudit's `audit_log_acct_message` formats (audit-userspace lib/audit_logging.c: `op= acct=|id=
 * exe= hostname= addr= terminal= res=`, names quoted or hex-encoded), auditd's header and ENRICHED tail (src/auditd-event.c,
 * auditd.conf(5)), and the sequence one sshd logon writes is the one PAM's libpam/pam_audit.c and Red Hat's audit patch
 * of OpenSSH (audit-linux.c) emit for a logon, a rejected password, a refused key and a name that does not exist.
 */
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import {
  AUDITD_LOGON_PATTERN,
  auditUser,
  COUNTED,
  counts,
  decodeAuditValue,
} from '../../../shared/core/profiles/auditd';
import { itAgreesWithItsQuery } from './insights-agreement';
import { countKinds, fixtureLines, itHasQueryShape, itNeverThrows, ROW_COLUMNS } from './support';

const profile = getProfile('auditd');
const lines = fixtureLines('auditd');
const at = (iso: string) => Date.parse(iso);
const GS = '\x1d';

/** One record as libaudit writes it (`audit_log_acct_message`), ENRICHED tail optional. */
function record(
  type: string,
  body: { op: string; who: string; addr: string; res: 'success' | 'failed'; exe?: string; hostname?: string },
  tail = '',
  stamp = '1793607303.123:456',
): string {
  const exe = body.exe ?? '"/usr/sbin/sshd"';
  return (
    `type=${type} msg=audit(${stamp}): pid=4211 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:sshd_t:s0-s0:c0.c1023 ` +
    `msg='op=${body.op} ${body.who} exe=${exe} hostname=${body.hostname ?? '?'} addr=${body.addr} terminal=ssh res=${body.res}'${tail}`
  );
}

const failed = (who: string, addr = '192.0.2.200', op = 'PAM:authentication grantors=?') =>
  record('USER_AUTH', { op, who, addr, res: 'failed' });
const loggedOn = (who: string, addr = '203.0.113.9', tail = '') =>
  record('USER_LOGIN', { op: 'login', who, addr, res: 'success' }, tail);

const row = {
  user: 'acct="Root"',
  ip: '192.0.2.201',
  outcome: 'failed',
  host: 'web-01',
  logons: '3',
  first: '2026-11-02 08:21:00.412',
  last: '2026-11-02 08:21:06.530',
};

function eventOf(line: string) {
  const r = profile.parseLine(line);
  if (r.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(r)}`);
  return r.event;
}

describe('auditd profile', () => {
  describe('fixture lines (RHEL 9 sshd and PAM, ENRICHED and RAW audit.log)', () => {
    it.each(lines.map((l) => [`${l.file}:${l.lineNo}`, l] as const))('%s', (_, l) => {
      expect(profile.parseLine(l.line)).toEqual(l.expected);
    });

    it('covers successes, failures, skipped and malformed records', () => {
      const c = countKinds(lines);
      expect(c.event).toBeGreaterThanOrEqual(14);
      expect(c.skip).toBeGreaterThanOrEqual(25);
      expect(c.malformed).toBeGreaterThanOrEqual(4);
    });
  });

  describe('one logon counts once, one failed attempt once', () => {
    it('counts a logon as its USER_LOGIN success, named by ENRICHED’s ID=, timed by the record', () => {
      expect(eventOf(loggedOn('id=1001', '203.0.113.9', `${GS}UID="root" AUID="alice" ID="alice"`))).toEqual({
        timestamp: at('2026-11-02T08:15:03.123Z'),
        user: 'alice',
        sourceIp: '203.0.113.9',
        outcome: 'success',
        method: 'sshd',
        logSource: 'auditd',
      });
    });

    it('counts a rejected credential as its USER_AUTH failure: PAM’s, or sshd’s for a key, host key, GSSAPI or its own password check', () => {
      for (const op of ['PAM:authentication grantors=?', 'pubkey', 'hostbased', 'gssapi', 'password'])
        expect(eventOf(failed('acct="root"', '192.0.2.201', op)), op).toMatchObject({
          outcome: 'failure',
          user: 'root',
          sourceIp: '192.0.2.201',
        });
    });

    it('does not count the other records of the same logon or attempt, verdicts, or probes', () => {
      const same = [
        record('USER_AUTH', {
          op: 'PAM:authentication grantors=pam_unix',
          who: 'acct="alice"',
          addr: '203.0.113.9',
          res: 'success',
        }),
        record('USER_ACCT', {
          op: 'PAM:accounting grantors=pam_unix',
          who: 'acct="alice"',
          addr: '203.0.113.9',
          res: 'success',
        }),
        record('CRED_ACQ', {
          op: 'PAM:setcred grantors=pam_unix',
          who: 'acct="alice"',
          addr: '203.0.113.9',
          res: 'success',
        }),
        record('USER_START', {
          op: 'PAM:session_open grantors=pam_unix',
          who: 'acct="alice"',
          addr: '203.0.113.9',
          res: 'success',
        }),
        record('USER_START', { op: 'login', who: 'id=1001', addr: '203.0.113.9', res: 'success' }),
        record('USER_AUTH', {
          op: 'pubkey_auth grantors=auth-key',
          who: 'acct="bob"',
          addr: '203.0.113.9',
          res: 'success',
        }),
        // sshd's verdicts and copies
        record('USER_LOGIN', { op: 'login', who: 'acct="root"', addr: '192.0.2.201', res: 'failed' }),
        record('USER_LOGIN', {
          op: 'login',
          who: 'acct=28696E76616C6964207573657229',
          addr: '192.0.2.200',
          res: 'failed',
        }),
        failed('acct="root"', '192.0.2.201', 'maxtries exceeded'),
        failed('acct="root"', '192.0.2.201', 'root denied'),
        failed('acct="frank"', '192.0.2.201', 'challenge-response'),
        failed('acct="bob"', '192.0.2.201', 'pubkey_auth grantors=auth-key'),
        // PAM ended without checking anything: a name probe
        record('USER_ERR', { op: 'PAM:bad_ident grantors=?', who: 'acct="?"', addr: '192.0.2.203', res: 'failed' }),
      ];
      for (const line of same) expect(profile.parseLine(line).kind, line).toBe('skip');
    });

    it('skips records with no network source (addr=?): console, su, sudo, cron', () => {
      expect(profile.parseLine(failed('acct="carol"', '?')).kind).toBe('skip');
      expect(profile.parseLine(loggedOn('id=1003', '?')).kind).toBe('skip');
      expect(profile.parseLine(failed('acct=616C69636', '?')).kind).toBe('skip');
      expect(profile.mapRow({ ...row, ip: '?' }).kind).toBe('skip');
    });

    it('keeps the counted table and the query’s filter in step', () => {
      for (const c of COUNTED) for (const op of c.ops) expect(counts(c.type, op, c.res)).toBe(true);
      expect(counts('USER_LOGIN', 'login', 'failed')).toBe(false);
      expect(counts('USER_AUTH', 'PAM:authentication', 'success')).toBe(false);
      expect(counts('USER_AUTH', 'login', 'failed')).toBe(false);
      for (const c of COUNTED) {
        expect(profile.query).toContain(`type = "${c.type}" and outcome = "${c.res}"`);
        for (const op of c.ops) expect(profile.query).toContain(`op = "${op}"`);
      }
    });
  });

  describe('names', () => {
    it('decodes hex-encoded names, in acct= and in ENRICHED’s ID=', () => {
      expect(eventOf(failed('acct=6A6F686E20736D697468')).user).toBe('john smith');
      expect(eventOf(failed('acct=6a6f686e20736d697468')).user).toBe('john smith');
      expect(
        eventOf(loggedOn('id=1005', '203.0.113.9', `${GS}UID="root" AUID=6A6F686E20736D697468 ID=6A6F686E20736D697468`))
          .user,
      ).toBe('john smith');
      expect(decodeAuditValue('"alice"')).toBe('alice');
      expect(decodeAuditValue('C3A96C6F646965')).toBe('élodie');
      expect(decodeAuditValue('616C69636')).toBeUndefined();
      expect(decodeAuditValue('"alice')).toBeUndefined();
    });

    it('reads a domain user the way every profile does', () => {
      expect(eventOf(failed('acct="CORP\\Alice"')).user).toBe('alice@corp');
      expect(eventOf(failed('acct="alice@corp.example.com"')).user).toBe('alice@corp.example.com');
    });

    it('counts attempts on names the record does not give as the user (unknown)', () => {
      for (const who of [
        'acct="?"',
        'acct="(unknown)"',
        'acct=28696E76616C6964207573657229',
        'acct=28756E6B6E6F776E207573657229',
      ])
        expect(eventOf(failed(who, '192.0.2.200', 'pubkey')).user, who).toBe('(unknown)');
    });

    it('names a uid by ENRICHED’s ID=, else (RAW, or no such account) as uid:<n>', () => {
      expect(eventOf(loggedOn('id=1001')).user).toBe('uid:1001');
      expect(eventOf(loggedOn('id=1001', '203.0.113.9', `${GS}UID="root" AUID="unset" ID="unknown(1001)"`)).user).toBe(
        'uid:1001',
      );
      expect(auditUser('id=1001', '"alice"')).toBe('alice');
      expect(auditUser('id=x', undefined)).toBeUndefined();
      expect(auditUser(undefined, undefined)).toBeUndefined();
    });

    it('marks an undecodable or empty name malformed', () => {
      expect(profile.parseLine(failed('acct=616C69636')).kind).toBe('malformed');
      expect(profile.parseLine(failed('acct=""')).kind).toBe('malformed');
    });
  });

  describe('addresses, hosts and times', () => {
    it('canonicalises IPv6 and unwraps IPv4-mapped addresses; skips loopback', () => {
      expect(eventOf(failed('acct="bob"', '2001:DB8:0:0:0:0:0:7')).sourceIp).toBe('2001:db8::7');
      expect(eventOf(failed('acct="bob"', '::ffff:198.51.100.7')).sourceIp).toBe('198.51.100.7');
      expect(profile.parseLine(loggedOn('id=1001', '::1')).kind).toBe('skip');
      expect(profile.parseLine(loggedOn('id=1001', '127.0.0.1')).kind).toBe('skip');
      expect(profile.parseLine(failed('acct="bob"', 'not-an-address')).kind).toBe('malformed');
    });

    it('takes the address libaudit wrote last, whatever the client’s reverse DNS name says', () => {
      const line = record('USER_AUTH', {
        op: 'PAM:authentication grantors=?',
        who: 'acct="root"',
        hostname: 'evil addr=10.0.0.1 terminal=ssh res=success',
        addr: '192.0.2.250',
        res: 'failed',
      });
      expect(eventOf(line)).toMatchObject({ sourceIp: '192.0.2.250', outcome: 'failure' });
    });

    it('reads the host from the node= prefix, and the program from exe', () => {
      const e = eventOf(`node=web-01 ${failed('acct="root"')}`);
      expect(e.host).toBe('web-01');
      expect(
        eventOf(
          record('USER_AUTH', {
            op: 'PAM:authentication grantors=?',
            who: 'acct="root"',
            addr: '192.0.2.9',
            res: 'failed',
            exe: '"/usr/sbin/vsftpd"',
          }),
        ).method,
      ).toBe('vsftpd');
    });

    it('reads the time from msg=audit(<seconds>.<ms>:<serial>), and refuses an implausible one', () => {
      expect(
        eventOf(
          record(
            'USER_AUTH',
            { op: 'pubkey', who: 'acct="a"', addr: '192.0.2.9', res: 'failed' },
            '',
            '1793607303.5:1',
          ),
        ).timestamp,
      ).toBe(at('2026-11-02T08:15:03.500Z'));
      expect(
        profile.parseLine(
          record('USER_AUTH', { op: 'pubkey', who: 'acct="a"', addr: '192.0.2.9', res: 'failed' }, '', '99.000:1'),
        ).kind,
      ).toBe('malformed');
    });

    it('reads only audit records from the line start, never a record quoted inside another program’s message', () => {
      expect(profile.parseLine(`Nov  2 08:00:00 web-01 logger: ${failed('acct="root"')}`).kind).toBe('skip');
    });
  });

  describe('Insights rows', () => {
    it('maps a row: the user field decoded as the parser decodes it, res as the outcome', () => {
      expect(profile.mapRow(row)).toEqual({
        kind: 'observation',
        observation: {
          user: 'root',
          sourceIp: '192.0.2.201',
          outcome: 'failure',
          count: 3,
          firstSeen: at('2026-11-02T08:21:00.412Z'),
          lastSeen: at('2026-11-02T08:21:06.530Z'),
          hosts: ['web-01'],
          methods: [],
          logSource: 'auditd',
        },
      });
      const ok = profile.mapRow({ ...row, user: 'id=1005', idname: '6A6F686E20736D697468', outcome: 'success' });
      expect(ok.kind === 'observation' && [ok.observation.user, ok.observation.outcome]).toEqual([
        'john smith',
        'success',
      ]);
      const raw = profile.mapRow({ ...row, user: 'id=1001', outcome: 'success' });
      expect(raw.kind === 'observation' && raw.observation.user).toBe('uid:1001');
      const unknown = profile.mapRow({ ...row, user: 'acct="?"' });
      expect(unknown.kind === 'observation' && unknown.observation.user).toBe('(unknown)');
    });

    it('reports rows it cannot read as malformed', () => {
      expect(profile.mapRow({ ...row, user: 'acct=616C69636' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...row, user: 'alice' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...row, outcome: 'maybe' }).kind).toBe('malformed');
      expect(profile.mapRow({ ...row, ip: '999.1.2.3' }).kind).toBe('malformed');
    });
  });

  describe('query', () => {
    itHasQueryShape(profile, [...ROW_COLUMNS, 'idname']);

    it('parses with the very pattern the line parser uses', () => {
      expect(profile.query).toContain(`parse @message /${AUDITD_LOGON_PATTERN}/`);
      // Insights delimits the regex with `/`: the pattern must not contain one.
      expect(AUDITD_LOGON_PATTERN).not.toMatch(/(^|[^\\])\//);
    });

    it('is pinned', () => {
      expect(profile.query).toMatchInlineSnapshot(`
        "fields @timestamp, @message
        | parse @message /^(?:node=(?<host>\\S+) )?type=(?<type>USER_LOGIN|USER_AUTH) msg=audit\\((?<stamp>\\d{1,12}(?:\\.\\d{1,6})?):\\d+\\): .*?msg='op=(?<op>login|PAM:authentication|password|pubkey|hostbased|gssapi)(?: grantors=\\S*)? (?<user>acct=(?:"[^"]*"|[0-9A-Fa-f]+)|id=\\d{1,10}) exe=(?<exe>"[^"]*"|[0-9A-Fa-f]+) hostname=.* addr=(?<ip>\\S+) terminal=\\S* res=(?<outcome>success|failed)'(?:.* ID=(?<idname>"[^"]*"|[0-9A-Fa-f]+))?/
        | filter ispresent(user) and ispresent(ip) and ip != "?" and ((type = "USER_LOGIN" and outcome = "success" and (op = "login")) or (type = "USER_AUTH" and outcome = "failed" and (op = "PAM:authentication" or op = "password" or op = "pubkey" or op = "hostbased" or op = "gssapi")))
        | stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, idname, ip, outcome, host
        | limit 10000"
      `);
    });

    itAgreesWithItsQuery(
      profile,
      // The record with an implausible time is counted by Insights at its `@timestamp`; only the parser refuses it.
      lines.filter((l) => !(l.expected.kind === 'malformed' && l.expected.reason.includes('time'))),
    );
  });

  itNeverThrows(
    profile,
    lines.map((l) => l.line),
    ['idname'],
  );
});
