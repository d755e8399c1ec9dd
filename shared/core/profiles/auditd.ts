/**
 * Linux audit logons: the user-space records PAM and sshd send to the kernel's audit subsystem, as auditd writes
 * them to /var/log/audit/audit.log and the CloudWatch agent ships them (one log event per line, unchanged):
 *
 *     [node=<name> ]type=USER_LOGIN msg=audit(1793606400.123:456): pid=4290 uid=0 auid=1001 ses=7 subj=…
 *       msg='op=login id=1001 exe="/usr/sbin/sshd" hostname=? addr=203.0.113.9 terminal=/dev/pts/0 res=success'
 *       [<0x1D>UID="root" AUID="alice" ID="alice"]
 *
 * The record text inside `msg='…'` is libaudit's `audit_log_acct_message` (audit-userspace lib/audit_logging.c):
 * always `op=<op> acct=<name>|id=<uid> exe=<path> hostname=<h> addr=<a> terminal=<t> res=success|failed`, in that
 * order. `acct` is quoted (`acct="alice"`), or hex-encoded without quotes when the name holds a space, a `"`, a
 * control or a non-ASCII byte (`acct=6A6F686E20736D697468` is `john smith`), and cut at 32 bytes (`UT_NAMESIZE`).
 * `id=<uid>` replaces it when the writer knows only the uid. `addr=?` means no network address (a console, `su`,
 * `sudo`, cron): not a remote logon, skipped like sshd's loopback. auditd's default `log_format = ENRICHED`
 * (auditd.conf(5)) appends, after a 0x1D separator, the names of the record's uid fields: `ID="alice"` names the
 * `id=` uid. Time: the record's own `msg=audit(<epoch seconds>.<ms>:<serial>)` (records of one event share the
 * serial). Host: the `node=` prefix, written when auditd.conf's `name_format` is not `NONE` (its default), else
 * none. Method: the program that wrote the record (`exe` without its directory: `sshd`).
 *
 * What counts (README "What counts as one failed logon"). One sshd logon writes a whole sequence of records (as
 * RHEL, Fedora and Amazon Linux build sshd: Red Hat's audit patch, with `UsePAM yes`):
 * - success: PAM's `USER_AUTH` `op=PAM:authentication … res=success` (password logons only), `USER_ACCT`
 *   (`PAM:accounting`), `CRED_ACQ` (`PAM:setcred`, once or twice), `USER_START` (`PAM:session_open`), sshd's own
 *   `USER_LOGIN op=login id=<uid> … res=success` and `USER_START op=login id=<uid>`, later `USER_END`, `CRED_DISP`,
 *   `USER_LOGOUT`;
 * - a rejected password: PAM's `USER_AUTH op=PAM:authentication grantors=? acct="<name>" … res=failed`, one per
 *   password PAM checked (`acct="?"` when PAM reports the name unknown); a refused key: sshd's
 *   `USER_AUTH op=pubkey acct="<name>" … res=failed`, one per `Failed publickey` (likewise `hostbased`, `gssapi`,
 *   and `password` when sshd checks passwords itself, `UsePAM no`); when the connection ends without a logon, sshd's
 *   `USER_LOGIN op=login acct="<name>" … res=failed`, and for a name that does not exist an earlier
 *   `USER_LOGIN … acct=28696E76616C6964207573657229 … res=failed` (`(invalid user)`).
 * So a logon counts once as its `USER_LOGIN` with `res=success` (every method writes exactly one per connection:
 * sshd writes it at the first session only), and a failed attempt once as its `USER_AUTH` with `res=failed` and op
 * `PAM:authentication`, `password`, `pubkey`, `hostbased` or `gssapi` (the credential checked and rejected).
 * Not counted, because they describe the same logon or attempt again, a verdict, or no credential at all:
 * - `USER_AUTH … res=success`, `USER_ACCT`, `CRED_ACQ`, `CRED_REFR`, `USER_START`: the same logon as its
 *   `USER_LOGIN` (PAM authentication does not even run for a key logon, so counting it would count only some);
 * - `USER_LOGIN … res=failed`: sshd's verdict on a connection that ended without a logon (or on a name that does
 *   not exist), written after the attempts it ended with, which its `USER_AUTH` records already count;
 * - `USER_AUTH op=challenge-response`: sshd's copy of a keyboard-interactive round that PAM (the only
 *   keyboard-interactive backend on Linux) already recorded as `PAM:authentication`; `op=maxtries exceeded`,
 *   `op=root denied`, `op=nologin`: sshd's verdicts; `op=pubkey_auth`: the signature check of a key already accepted;
 * - `USER_ERR` (`PAM:bad_ident`): PAM ended without checking anything, e.g. a client that named a user that does
 *   not exist and left before sending a credential: a probe of the name, as sshd's `Connection closed by invalid
 *   user` is;
 * - every record with `addr=?` (no network source), and every other record type (`LOGIN`, `SYSCALL`, …).
 * A name the record does not give (`acct="?"`, `"(unknown)"`, `(invalid user)`, `(unknown user)`) is counted as
 * the user `(unknown)`, so the attempt still counts as a failure from its address (as CloudTrail's
 * `HIDDEN_DUE_TO_SECURITY_REASONS` does). A uid without its name (`log_format = RAW`) is the user `uid:<n>`
 * (a `:` is in no Linux user name). What this leaves out: an sshd built without Red Hat's patch records a refused
 * key only as a `USER_LOGIN … res=failed` (one per failure, `none` probes included), which is not counted; a PAM
 * service that writes no `USER_LOGIN` (FTP, mail) has its failures counted and its successes not.
 *
 * One regular expression, `AUDITD_LOGON_PATTERN`, is both the Insights `parse` and the local parser's matcher, and
 * one table, `COUNTED`, gives both the query's `filter` and the local test, so the two agree by construction. The
 * `user` column holds the field as written (`acct="alice"`, `acct=616C696365`, `id=1001`) and the row mapper
 * decodes it exactly as the line parser does: Logs Insights has no hex decoding.
 */
import {
  canonicalUser,
  LIMIT_CLAUSE,
  malformed,
  neverThrow,
  parseTime,
  pipeline,
  quote,
  rowMapper,
  SKIP,
  statsClause,
  toEvent,
} from './common';
import type { LineResult, Profile } from './profile';

/** The records that count, by type and result, and the ops each may carry (see the module comment). */
export const COUNTED = [
  { type: 'USER_LOGIN', res: 'success', ops: ['login'] },
  { type: 'USER_AUTH', res: 'failed', ops: ['PAM:authentication', 'password', 'pubkey', 'hostbased', 'gssapi'] },
] as const;

/** Every op a counted record may carry; the pattern matches no other, so the rest are skipped before any filter. */
const OPS = [...new Set(COUNTED.flatMap((c) => c.ops))];

/** A value as libaudit writes it: quoted, or hex-encoded (upper case; either case is read). */
const VALUE = `"[^"]*"|[0-9A-Fa-f]+`;

/**
 * The record, anchored at the line start. Named groups: `host` (the `node=` prefix), `type`, `stamp`
 * (`<seconds>.<ms>`), `op`, `user` (`acct=<value>` or `id=<uid>`, as written), `exe`, `ip` (`addr`), `outcome`
 * (`res`), `idname` (ENRICHED's `ID=` for the `id=` uid). `hostname=` may hold a name its client chose (its reverse
 * DNS), so the address is the LAST ` addr=` before `terminal=… res=…'`, which libaudit writes last. Written in the
 * regex dialect JavaScript and Logs Insights share, without `/`.
 */
export const AUDITD_LOGON_PATTERN =
  String.raw`^(?:node=(?<host>\S+) )?type=(?<type>USER_LOGIN|USER_AUTH) msg=audit\((?<stamp>\d{1,12}(?:\.\d{1,6})?):\d+\): ` +
  String.raw`.*?msg='op=(?<op>${OPS.join('|')})(?: grantors=\S*)? (?<user>acct=(?:${VALUE})|id=\d{1,10}) ` +
  String.raw`exe=(?<exe>${VALUE}) hostname=.* addr=(?<ip>\S+) terminal=\S* res=(?<outcome>success|failed)'` +
  `(?:.* ID=(?<idname>${VALUE}))?`;

const LOGON = new RegExp(AUDITD_LOGON_PATTERN);

const OUTCOMES = { success: 'success', failed: 'failure' } as const;

/** Whether a record of this type, op and result counts (the `COUNTED` table; the query's filter says the same). */
export function counts(type: string, op: string, res: string): boolean {
  return COUNTED.some((c) => c.type === type && c.res === res && (c.ops as readonly string[]).includes(op));
}

const COUNTED_FILTER = COUNTED.map(
  (c) => `(type = "${c.type}" and outcome = "${c.res}" and (${c.ops.map((op) => `op = "${op}"`).join(' or ')}))`,
).join(' or ');

export const AUDITD_QUERY = pipeline([
  'fields @timestamp, @message',
  `parse @message /${AUDITD_LOGON_PATTERN}/`,
  // `addr=?` is no network source: dropped here as the line parser skips it.
  `filter ispresent(user) and ispresent(ip) and ip != "?" and (${COUNTED_FILTER})`,
  // `idname` rides along so the row mapper names an `id=` uid exactly as the line parser does.
  statsClause(['idname']),
  LIMIT_CLAUSE,
]);

/**
 * A value as libaudit writes it, decoded: `"alice"` → `alice`, `616C696365` → `alice` (bytes read as UTF-8).
 * Undefined for anything else (an odd number of hex digits, a stray quote).
 */
export function decodeAuditValue(raw: string): string | undefined {
  if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) return raw.slice(1, -1);
  if (/^(?:[0-9A-Fa-f]{2})+$/.test(raw)) return Buffer.from(raw, 'hex').toString('utf8');
  return undefined;
}

/** Names that say the record does not know the name: PAM's `?` for an unknown user, sshd's placeholders. */
const NO_NAME = new Set(['?', '(unknown)', '(invalid user)', '(unknown user)']);
/** The user of a record whose name is not given: one name, in which no real Linux account can be written. */
export const UNKNOWN_USER = '(unknown)';

/**
 * The user name of a record from its `user` group (`acct=…` or `id=…`, as written) and ENRICHED's `ID=` name of an
 * `id=` uid, before canonicalisation; undefined when the field cannot be decoded.
 */
export function auditUser(field: string | undefined, idName: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  if (field.startsWith('acct=')) {
    const name = decodeAuditValue(field.slice('acct='.length));
    if (name === undefined) return undefined;
    return NO_NAME.has(name.trim()) ? UNKNOWN_USER : name;
  }
  if (!/^id=\d{1,10}$/.test(field)) return undefined;
  const uid = field.slice('id='.length);
  const named = idName === undefined ? undefined : decodeAuditValue(idName)?.trim();
  // auparse writes `unknown(<uid>)` for a uid with no account, and `?` when it cannot interpret it.
  if (named && !NO_NAME.has(named) && !/^unknown\(/.test(named)) return named;
  return `uid:${uid}`;
}

/** `exe="/usr/sbin/sshd"` → `sshd`: the program that wrote the record. */
function programOf(exe: string | undefined): string | undefined {
  const path = exe === undefined ? undefined : decodeAuditValue(exe);
  if (!path) return undefined;
  return path.slice(path.lastIndexOf('/') + 1) || undefined;
}

/** `1793606400.123` → epoch ms; digits after the millisecond are dropped, as everywhere else. */
function stampTime(stamp: string): number | undefined {
  const [s, frac = ''] = stamp.split('.');
  return parseTime(Number(s) * 1000 + Number(frac.slice(0, 3).padEnd(3, '0')));
}

/** `addr=?`: no network source (console, `su`, `sudo`, cron). */
const noAddress = (raw: string) => raw.trim() === '?';

function parse(line: string): LineResult {
  if (typeof line !== 'string' || !line.includes('msg=audit(')) return SKIP;
  const g = LOGON.exec(line)?.groups;
  if (!g) return SKIP;
  const outcome = OUTCOMES[g.outcome as keyof typeof OUTCOMES];
  if (!counts(g.type!, g.op!, g.outcome!)) return SKIP;
  // No network source: skipped whatever else the record holds, as the query's filter drops it.
  if (noAddress(g.ip!)) return SKIP;
  const user = auditUser(g.user, g.idname);
  if (user === undefined) return malformed(`auditd ${g.type} record with an undecodable ${quote(g.user!)}`);
  const timestamp = stampTime(g.stamp!);
  if (timestamp === undefined) return malformed(`auditd ${g.type} record with an implausible time audit(${g.stamp})`);
  return toEvent(
    'auditd',
    { user, ip: g.ip, outcome, timestamp, host: g.host, method: programOf(g.exe) },
    { skipSource: noAddress },
  );
}

export const auditdProfile: Profile = {
  id: 'auditd',
  description: 'Linux audit logons (USER_LOGIN successes, USER_AUTH failures) from /var/log/audit/audit.log',
  query: AUDITD_QUERY,
  parseLine: neverThrow(parse, 'auditd line parsing'),
  mapRow: rowMapper({
    logSource: 'auditd',
    outcomes: OUTCOMES,
    user: (row) => canonicalUser(auditUser(row.user, row.idname)),
    skipSource: noAddress,
  }),
};
