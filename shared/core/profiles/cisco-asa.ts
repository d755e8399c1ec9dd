/**
 * Cisco ASA (and Firepower Threat Defense, which writes the same messages as `%FTD-`) remote-access VPN logons
 * from the firewall's syslog, as a syslog server writes it to a file and the CloudWatch agent ships it: one log
 * event per line. The messages and their text are Cisco's "Cisco Secure Firewall ASA Series Syslog Messages".
 *
 * Lines read: an optional `<PRI>`, then a time, an optional device name, an optional `:`, then
 * `%ASA-<severity>-<id>: <text>`; a syslog server's own header (time and sender) before the ASA's is passed over.
 * The time is the ASA's own (`logging timestamp`: `Nov 02 2026 08:15:03`), an ISO-8601 one (`logging timestamp
 * rfc5424` since ASA 9.10, or the syslog server's: `2026-11-02T08:15:03Z`), or the syslog server's classic year-less
 * one (`Nov  2 08:15:03`), placed in a year as sshd's are (`options.year`, else the latest year not more than a day
 * after `options.clock`'s now: sshd.ts). Logs Insights uses the event's own `@timestamp`. Host: the name right
 * before `%ASA-` (the ASA's `logging device-id`, or the sender a syslog server wrote in its header).
 *
 * What counts (README "What counts as one failed logon"): the messages that name both the user and the address the
 * user connected FROM, one per logon or per rejected credential.
 * - success: `113039` `Group <g> User <u> IP <client> AnyConnect parent session started.` (the AnyConnect client's
 *   session) and `716001` `Group <g> User <u> IP <client> WebVPN session started.` (the clientless portal's): one
 *   per logon, whichever kind it is;
 * - failure: `113005` `AAA user authentication Rejected : reason = … : server = … : user = u : user IP = client`
 *   (an AAA server, RADIUS/LDAP/…, rejected the credential) and `113015` `… Rejected : reason = … : local database :
 *   user = u : user IP = client` (the ASA's own user database did): one per credential checked.
 * Not counted, because they describe the same logon or attempt again, or carry no client address:
 * - `113004` `AAA user authentication Successful : server = … : user = u`: the credential check of the logon its
 *   `113039`/`716001` counts, and it names no client address; `113012` (local database success) likewise;
 * - `716039` `Group <g> User <u> IP <client> Authentication: rejected, Session Type: WebVPN.`: the WebVPN layer's
 *   copy of the rejection its `113005`/`113015` already counts;
 * - `722051` (an address assigned to the session), `722022` (a tunnel of the session established), `734001` (DAP
 *   records selected), `113008`/`113009` (AAA transaction status, group policy): the same logon again; `113019`,
 *   `722037`, `716002` (session ended, connection closed) and `113006`/`113021` (account locked: a verdict on
 *   failures already logged) are no logon at all.
 * The ASA masks the name of a rejected user by default (`user = *****`, as Cisco's 113005 text shows): such
 * failures count under the user `*****`, so they still count as failures from their address (a spray across
 * names then shows as many failures of one name). A `113005` without `user IP` (older software) names no
 * source and is malformed. What this leaves out: IPsec (IKEv1/IKEv2) clients whose sessions write none of
 * `113039`/`716001`, and management logons (SSH, ASDM) whose successes name no address.
 *
 * One regular expression, `CISCO_ASA_LOGON_PATTERN`, is both the Insights `parse` and the local parser's matcher;
 * a success and a failure fill different groups (JavaScript has no repeated group names), which the query and the
 * parser join the same way (`coalesce`).
 */
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
import { classicSyslogTime, type SshdOptions } from './sshd';

/** Message id → outcome, for the messages that count (see the module comment). */
const OUTCOMES = { '113039': 'success', '716001': 'success', '113005': 'failure', '113015': 'failure' } as const;
type CountedId = keyof typeof OUTCOMES;

/** What each counted message says the session or credential was (the event's method). */
const METHODS: Readonly<Record<CountedId, string>> = {
  '113039': 'AnyConnect',
  '716001': 'WebVPN',
  '113005': 'AAA server',
  '113015': 'local database',
};

/** An address as the messages write it (IPv4 or IPv6, no brackets). */
const ADDRESS = String.raw`[^\s<>]+`;

/**
 * The message, header included, anchored at both ends. Named groups: `stamp`, `host`; for a success `sid`,
 * `suser`, `sip`; for a failure `fid`, `fuser`, `fip`. The user is everything up to the LAST `> IP <` or
 * ` : user IP = ` (a name is what the client typed, and may contain anything), the address what follows it to the
 * end of the line, which the ASA writes last. Written in the regex dialect JavaScript and Logs Insights share,
 * without `/`.
 */
export const CISCO_ASA_LOGON_PATTERN =
  String.raw`^(?:<\d{1,3}>)?(?:(?:[A-Z][a-z]{2} +\d{1,2} \d{2}:\d{2}:\d{2}|\d{4}-\d{2}-\d{2}T\S+) \S+ )?(?<stamp>[A-Z][a-z]{2} +\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}(?:\.\d+)?|\d{4}-\d{2}-\d{2}T\S+)` +
  String.raw`(?: (?<host>[^\s%:]+))?(?: ?:)? %(?:ASA|FTD)-\d-` +
  String.raw`(?:(?<sid>113039|716001): Group <[^<>]*> User <(?<suser>.*)> IP <(?<sip>${ADDRESS})> (?:AnyConnect parent|WebVPN) session started\.?` +
  String.raw`|(?<fid>113005|113015): AAA user authentication Rejected ?: reason = .* ?: (?:server = \S+|local database) ?: user = (?<fuser>.*) ?: user IP = (?<fip>${ADDRESS}))` +
  String.raw`\s*$`;

const LOGON = new RegExp(CISCO_ASA_LOGON_PATTERN);

export const CISCO_ASA_QUERY = pipeline([
  'fields @timestamp, @message',
  `parse @message /${CISCO_ASA_LOGON_PATTERN}/`,
  'fields coalesce(suser, fuser) as user, coalesce(sip, fip) as ip, coalesce(sid, fid) as outcome',
  'filter ispresent(user) and ispresent(ip) and ispresent(outcome)',
  statsClause(),
  LIMIT_CLAUSE,
]);

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** The ASA's own `logging timestamp` format: `Nov 02 2026 08:15:03` (no zone: UTC, as the ASA's clock should be). */
const ASA_STAMP = /^([A-Z][a-z]{2}) +(\d{1,2}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/;

function stampTime(stamp: string, options: SshdOptions): number | undefined {
  if (/^\d/.test(stamp)) return parseTime(stamp);
  const m = ASA_STAMP.exec(stamp);
  if (!m) return parseTime(classicSyslogTime(stamp, options));
  const month = MONTHS.indexOf(m[1]!) + 1;
  if (month === 0) return undefined;
  const t = utcTime(Number(m[3]), month, Number(m[2]), Number(m[4]), Number(m[5]), Number(m[6]));
  return t === undefined ? undefined : parseTime(t + (m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0));
}

/** A `113005`/`113015` the pattern cannot read because it names no source: said so rather than skipped silently. */
const REJECTED_WITHOUT_SOURCE = /%(?:ASA|FTD)-\d-1130(?:05|15): AAA user authentication Rejected(?!.* user IP = )/;

function parse(line: string, options: SshdOptions): LineResult {
  if (typeof line !== 'string' || !(line.includes('%ASA-') || line.includes('%FTD-'))) return SKIP;
  const g = LOGON.exec(line)?.groups;
  if (!g) {
    return REJECTED_WITHOUT_SOURCE.test(line)
      ? malformed('cisco-asa AAA rejection without a `user IP`: no source address to count it from')
      : SKIP;
  }
  const id = (g.sid ?? g.fid) as CountedId;
  const timestamp = stampTime(g.stamp!, options);
  if (timestamp === undefined)
    return malformed(`cisco-asa logon with an unreadable time ${JSON.stringify(g.stamp!.slice(0, 40))}`);
  return toEvent('cisco-asa', {
    user: g.suser ?? g.fuser,
    ip: g.sip ?? g.fip,
    outcome: OUTCOMES[id],
    timestamp,
    host: g.host,
    method: METHODS[id],
  });
}

/** The profile; `options` place year-less syslog times in a year, as for sshd (default: the system clock). */
export function ciscoAsaProfile(options: SshdOptions = {}): Profile {
  return {
    id: 'cisco-asa',
    description:
      'Cisco ASA / FTD remote-access VPN logons from syslog (113039, 716001 successes; 113005, 113015 failures)',
    query: CISCO_ASA_QUERY,
    parseLine: neverThrow((line: string) => parse(line, options), 'cisco-asa line parsing'),
    mapRow: rowMapper({ logSource: 'cisco-asa', outcomes: OUTCOMES }),
  };
}
