/**
 * OpenSSH `sshd` logons from syslog files (Debian/Ubuntu `auth.log`, RHEL `/var/log/secure`) as the
 * CloudWatch agent ships them: one log event per line, the line unchanged.
 *
 * Lines read (header, then message):
 * - classic BSD syslog `Nov  2 08:15:03 web-01 sshd[4211]: ...` (both distributions; day space-padded, or
 *   zero-padded `Nov 02` as journalctl prints it);
 * - rsyslog high-precision / journalctl short-iso `2026-11-02T08:15:03.123456+00:00 web-01 sshd[4211]: ...`
 *   (Ubuntu 24.04's default, and `+0000` offsets);
 * - program `sshd`, or `sshd-session` / `sshd-auth` (OpenSSH 9.8+ split the per-connection work out of
 *   the listener, and those binaries write the auth messages).
 * Messages: `Accepted <method> for U from IP port N ssh2[: <key type> SHA256:<fingerprint>]` (success),
 * `Failed <method> for [invalid user ]U from IP port N ssh2` and `Invalid user U from IP port N` (failure;
 * OpenSSH before 7.5 omits the port on the last one). A name may contain spaces (scanners send anything),
 * so the user is everything up to the LAST ` from <addr>`. rsyslog's `message repeated N times: [ ... ]`
 * counts once, as Insights would count it.
 *
 * One regular expression, `SSHD_LOGON_PATTERN`, is both the Insights `parse` and the local parser's
 * matcher, so the two agree by construction on which lines are logons and what user, IP and host they name.
 *
 * Year-less classic timestamps: syslog omits the year, so a time is placed in the latest year that does not
 * put it more than a day after the reference time (a December line read in January is last year's), the way
 * rsyslog and Logstash resolve it. The reference is `options.clock` (default: the system clock), or pass
 * `options.year` to pin it for a historical file. Classic timestamps carry no zone: they are read as UTC.
 * In Insights none of this applies: the query uses the event's `@timestamp`.
 */
import { DAY_MS } from '../model';
import {
  LIMIT_CLAUSE,
  malformed,
  neverThrow,
  parseTime,
  pipeline,
  rowMapper,
  SKIP,
  statsClause,
  toEvent,
  utcTime,
} from './common';
import type { LineResult, Profile } from './profile';

/**
 * The logon line, header included (anchored at the line start so a logon-looking text inside another
 * program's message never counts). Named groups: `stamp`, `host`, `outcome` (the verdict word),
 * `method`, `user`, `ip`. Written in the regex dialect JavaScript and Logs Insights share, without `/`.
 */
export const SSHD_LOGON_PATTERN =
  String.raw`^(?:<\d{1,3}>)?(?<stamp>[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+) (?<host>\S+) sshd(?:-session|-auth)?(?:\[\d+\])?: ` +
  String.raw`(?:message repeated \d+ times: \[ ?)?(?<outcome>Accepted|Failed|Invalid)(?: (?<method>\S+) for(?: invalid user)?| user) (?<user>.*) from (?<ip>\S+)(?: port \d+|\]?$)`;

const LOGON = new RegExp(SSHD_LOGON_PATTERN);

const MONTHS: Readonly<Record<string, number>> = {
  Jan: 1,
  Feb: 2,
  Mar: 3,
  Apr: 4,
  May: 5,
  Jun: 6,
  Jul: 7,
  Aug: 8,
  Sep: 9,
  Oct: 10,
  Nov: 11,
  Dec: 12,
};
const CLASSIC_STAMP = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

/** Sources of "now" for year inference: the `Clock` port's shape, so an injected clock fits. */
export interface SshdClock {
  now(): number;
}

export interface SshdOptions {
  /** Year of year-less (classic syslog) timestamps. When absent, inferred from `clock` (see the module comment). */
  readonly year?: number;
  /** Reference time for year inference. Default: the system clock (only local files use it). */
  readonly clock?: SshdClock;
}

/** How far a year-less time may lie after the reference before it is taken as last year's: host clock skew and zones. */
const FUTURE_TOLERANCE_MS = DAY_MS;
/** Feb 29 may need up to 8 years back to find a leap year (1900-style century gaps included). */
const MAX_YEARS_BACK = 8;

const SYSTEM_CLOCK: SshdClock = { now: () => Date.now() };

const OUTCOMES = { accepted: 'success', failed: 'failure', invalid: 'failure' } as const;

export const SSHD_QUERY = pipeline([
  'fields @timestamp, @message',
  `parse @message /${SSHD_LOGON_PATTERN}/`,
  'filter ispresent(user) and ispresent(ip)',
  statsClause(),
  LIMIT_CLAUSE,
]);

export function sshdProfile(options: SshdOptions = {}): Profile {
  const clock = options.clock ?? SYSTEM_CLOCK;
  const fixedYear = options.year;

  function classicTime(stamp: string): number | undefined {
    const m = CLASSIC_STAMP.exec(stamp);
    if (!m) return undefined;
    const month = MONTHS[m[1]!];
    if (month === undefined) return undefined;
    const [day, h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const ms = m[6] ? Number(m[6].slice(0, 3).padEnd(3, '0')) : 0;
    if (fixedYear !== undefined) {
      const t = utcTime(fixedYear, month, day, h, mi, s);
      return t === undefined ? undefined : t + ms;
    }
    const ref = clock.now();
    const refYear = new Date(ref).getUTCFullYear();
    for (let year = refYear; year >= refYear - MAX_YEARS_BACK; year--) {
      const t = utcTime(year, month, day, h, mi, s);
      if (t !== undefined && t + ms <= ref + FUTURE_TOLERANCE_MS) return t + ms;
    }
    return undefined;
  }

  function parse(line: string): LineResult {
    if (typeof line !== 'string' || !line.includes('sshd')) return SKIP;
    const m = LOGON.exec(line);
    const g = m?.groups;
    if (!g) return SKIP;
    const stamp = g.stamp!;
    const timestamp = /^\d/.test(stamp) ? parseTime(stamp) : classicTime(stamp);
    if (timestamp === undefined)
      return malformed(`sshd logon with an unreadable timestamp ${JSON.stringify(stamp.slice(0, 40))}`);
    const outcome = OUTCOMES[g.outcome!.toLowerCase() as keyof typeof OUTCOMES];
    return toEvent('sshd', { user: g.user, ip: g.ip, outcome, timestamp, host: g.host, method: g.method });
  }

  return {
    id: 'sshd',
    description: 'OpenSSH sshd logons from syslog (auth.log, /var/log/secure, rsyslog ISO timestamps, sshd-session)',
    query: SSHD_QUERY,
    parseLine: neverThrow(parse, 'sshd line parsing'),
    mapRow: rowMapper({ logSource: 'sshd', outcomes: OUTCOMES }),
  };
}
