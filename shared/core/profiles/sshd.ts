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
 * Messages: `Accepted <method> for U from IP port N ssh2[: <key type> SHA256:<fingerprint>]` (success) and
 * `Failed <method> for [invalid user ]U from IP port N ssh2` (failure). A name may contain spaces (scanners
 * send anything), so the user is everything up to the LAST ` from <addr>`.
 *
 * What counts as one failed attempt (README "What counts as one failed logon"): each `Failed` line is one
 * credential sshd rejected (one password, one key, one keyboard-interactive round), the unit sshd itself counts
 * towards MaxAuthTries. Not counted, because they describe the same attempt again or no credential at all:
 * - `Invalid user U from IP port N`: sshd writes it when it first looks the name up, before any credential,
 *   and then writes the `Failed ... for invalid user U` line of the attempt itself; counting both doubled
 *   every attempt on a name that does not exist. Alone (the client disconnects before sending a credential,
 *   `Connection closed by invalid user U ... [preauth]`) it is a probe of the name, not a logon attempt, just
 *   as `Connection closed by authenticating user root ... [preauth]` is for a name that exists; counting one
 *   and not the other would make the count depend on whether the account exists.
 * - PAM's `pam_unix(sshd:auth): authentication failure; ... rhost=... user=...` and `PAM N more authentication
 *   failures`: PAM's view of the same password sshd reports on its `Failed password` line.
 * - `error: maximum authentication attempts exceeded ...` and `Disconnecting ...: Too many authentication
 *   failures`: sshd's verdict on failures already logged one by one.
 * rsyslog's repeated-message reduction folds identical consecutive messages of one process (one connection) into
 * `message repeated N times: [ <message> ]`, written after the first one: that line stands for N more
 * attempts, so its event carries `count: N` and the query sums the same N (`SSHD_REPEAT_PATTERN`). An
 * `Accepted` line cannot repeat that way (sshd stops authenticating a connection once it succeeds), but would
 * be summed the same.
 *
 * Two regular expressions, `SSHD_LOGON_PATTERN` (which lines are logons and what user, IP and host they name)
 * and `SSHD_REPEAT_PATTERN` (how many attempts a line stands for), are both the Insights `parse`s and the local
 * parser's matchers, so the two agree by construction.
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

/** The syslog header up to the sshd message: `stamp` and `host` captured (named) or only matched. */
function header(named: boolean): string {
  const stamp = String.raw`[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+`;
  return (
    String.raw`^(?:<\d{1,3}>)?` +
    (named ? String.raw`(?<stamp>${stamp}) (?<host>\S+)` : String.raw`(?:${stamp}) \S+`) +
    String.raw` sshd(?:-session|-auth)?(?:\[\d+\])?: `
  );
}

/**
 * The logon line, header included (anchored at the line start so a logon-looking text inside another
 * program's message never counts). Named groups: `stamp`, `host`, `outcome` (the verdict word),
 * `method`, `user`, `ip`. Written in the regex dialect JavaScript and Logs Insights share, without `/`.
 */
export const SSHD_LOGON_PATTERN =
  header(true) +
  String.raw`(?:message repeated \d+ times: \[ ?)?(?<outcome>Accepted|Failed) (?<method>\S+) for(?: invalid user)? (?<user>.*) from (?<ip>\S+)(?: port \d+|\]?$)`;

/**
 * rsyslog's repeat line: group `repeats` is how many more times the message was logged. Anchored right after the
 * header, so the text of a user name (`Failed password for invalid user x: message repeated 99 times: [ from ...`)
 * can never pass for a repeat count. At most nine digits (rsyslog counts in an int); `0` never comes from rsyslog
 * and is not read as a count, so such a line counts once, here and in Insights alike.
 */
export const SSHD_REPEAT_PATTERN = header(false) + String.raw`message repeated (?<repeats>[1-9]\d{0,8}) times: \[`;

const LOGON = new RegExp(SSHD_LOGON_PATTERN);
const REPEAT = new RegExp(SSHD_REPEAT_PATTERN);

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

const OUTCOMES = { accepted: 'success', failed: 'failure' } as const;

export const SSHD_QUERY = pipeline([
  'fields @timestamp, @message',
  `parse @message /${SSHD_LOGON_PATTERN}/`,
  'filter ispresent(user) and ispresent(ip)',
  // A second parse: a log event it does not match keeps its other fields and simply lacks `repeats` (Insights'
  // documented `parse` behaviour), so `coalesce` makes every other logon line count 1.
  `parse @message /${SSHD_REPEAT_PATTERN}/`,
  'fields coalesce(repeats, 1) as attempts',
  statsClause([], { logons: 'sum(attempts)' }),
  LIMIT_CLAUSE,
]);

/** Attempts a logon line stands for: rsyslog's repeat count, else 1 (what the query's `attempts` holds). */
function attemptsOf(line: string): number {
  const repeats = REPEAT.exec(line)?.groups?.repeats;
  return repeats === undefined ? 1 : Number(repeats);
}

/**
 * Epoch ms of a classic syslog time without a year (`Nov  2 08:15:03`, `Nov 02 08:15:03.123`), placed in a year as
 * the module comment says (`options.year`, else the latest year not more than a day after `options.clock`'s now);
 * undefined if it is not such a time or names no real day. Other syslog profiles (cisco-asa) read the same headers.
 */
export function classicSyslogTime(stamp: string, options: SshdOptions = {}): number | undefined {
  const m = CLASSIC_STAMP.exec(stamp);
  if (!m) return undefined;
  const month = MONTHS[m[1]!];
  if (month === undefined) return undefined;
  const [day, h, mi, s] = [Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
  const ms = m[6] ? Number(m[6].slice(0, 3).padEnd(3, '0')) : 0;
  if (options.year !== undefined) {
    const t = utcTime(options.year, month, day, h, mi, s);
    return t === undefined ? undefined : t + ms;
  }
  const ref = (options.clock ?? SYSTEM_CLOCK).now();
  const refYear = new Date(ref).getUTCFullYear();
  for (let year = refYear; year >= refYear - MAX_YEARS_BACK; year--) {
    const t = utcTime(year, month, day, h, mi, s);
    if (t !== undefined && t + ms <= ref + FUTURE_TOLERANCE_MS) return t + ms;
  }
  return undefined;
}

export function sshdProfile(options: SshdOptions = {}): Profile {
  const classicTime = (stamp: string) => classicSyslogTime(stamp, options);

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
    return toEvent('sshd', {
      user: g.user,
      ip: g.ip,
      outcome,
      timestamp,
      host: g.host,
      method: g.method,
      count: attemptsOf(line),
    });
  }

  return {
    id: 'sshd',
    description: 'OpenSSH sshd logons from syslog (auth.log, /var/log/secure, rsyslog ISO timestamps, sshd-session)',
    query: SSHD_QUERY,
    parseLine: neverThrow(parse, 'sshd line parsing'),
    mapRow: rowMapper({ logSource: 'sshd', outcomes: OUTCOMES }),
  };
}
