/**
 * What every log-source profile shares: canonical users, IPs and times, the JSON-document line parser, and
 * the one row mapper for the row schema all profile queries end in. Pure: no clock, no env, no SDK.
 *
 * Canonical user names (one rule for every profile, so one person's spellings meet in one baseline):
 * - trimmed and lower-cased (Windows, Okta, IAM and most directories compare names case-insensitively;
 *   sshd's names are lower-case by convention, and `Root`/`root` in one baseline would only split history);
 * - a qualified name is always written `user@domain`: Windows' down-level form `DOMAIN\user` becomes
 *   `user@domain`, and a profile that carries the domain in a separate field (Windows `TargetDomainName`,
 *   ECS `user.domain`) joins it the same way. A UPN or e-mail (`alice@corp.com`) is kept as written.
 *   A local account on `WS01` (`administrator@ws01`) thus stays distinct from the domain's
 *   (`administrator@corp`). Domain values that mean "none" (`-`, `.`, empty) are ignored.
 * The NetBIOS domain (`corp`) and the DNS/UPN suffix (`corp.com`) are not equated: nothing in a log says
 * they are the same directory.
 */
import { createHash } from 'node:crypto';
import type { LogonEvent, LogonObservation, Outcome } from '../model';
import { canonicalIp, isLocalSource } from '../net';
import { toSignals, type SignalKey, type Signals } from '../signals';
import type { AnyProfileId, LineResult, RowResult } from './profile';

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

export const SKIP = Object.freeze({ kind: 'skip' } as const);

export function malformed(reason: string): { readonly kind: 'malformed'; readonly reason: string } {
  return { kind: 'malformed', reason };
}

/** Longest excerpt of untrusted text quoted in a malformed reason: enough to recognise it, bounded for logs. */
const MAX_QUOTED = 80;

/** Quote untrusted text for a reason string: JSON-escaped (so control characters are visible) and bounded. */
export function quote(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  } catch {
    s = String(value);
  }
  if (s.length > MAX_QUOTED) s = `${s.slice(0, MAX_QUOTED)}…`;
  return JSON.stringify(s);
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Run a parser body so that it never throws (the Profile contract): anything unexpected becomes a
 * malformed result naming the error, and is counted like any other bad line instead of sinking the batch.
 */
export function neverThrow<A, R>(fn: (a: A) => R, what: string): (a: A) => R | { kind: 'malformed'; reason: string } {
  return (a: A) => {
    try {
      return fn(a);
    } catch (e) {
      return malformed(`${what} failed unexpectedly: ${errorText(e)}`);
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/** Domain values that mean "no domain": Windows writes `-` for none, `.` for the local machine in some tools. */
const NO_DOMAIN = new Set(['', '-', '.']);

/**
 * Canonical user name (see the module comment), or undefined if nothing usable is left.
 * `domain`, when given separately, qualifies a bare name as `user@domain`.
 */
export function canonicalUser(raw: string | undefined, domain?: string): string | undefined {
  if (raw === undefined) return undefined;
  let user = raw.trim().toLowerCase();
  if (user === '' || user === '-') return undefined;
  // Only a name not already qualified with `@` is read as `DOMAIN\user` (keeps the rule idempotent).
  // With no domain (`\x`, `.\x`), what follows is read again, so the result never itself reads as
  // `DOMAIN\user` or as `-`: `\\x` is `x`, and a name made only of separators (`\\`, `.\-`) is no name.
  // (`name` is part of `user`, so one `@` test serves the whole loop.)
  let slash = user.includes('@') ? -1 : user.indexOf('\\');
  for (; slash !== -1; slash = user.indexOf('\\')) {
    const dom = user.slice(0, slash).trim();
    const name = user.slice(slash + 1).trim();
    if (name === '') return undefined;
    if (!NO_DOMAIN.has(dom)) {
      user = `${name}@${dom}`;
      break;
    }
    if (name === '-') return undefined;
    user = name;
  }
  if (domain !== undefined && !user.includes('@')) {
    const dom = domain.trim().toLowerCase();
    if (!NO_DOMAIN.has(dom)) user = `${user}@${dom}`;
  }
  return user;
}

/**
 * Longest user name kept, in characters (code points). Names are partition keys (`USER#<name>`) and appear in
 * every alert, digest line and chat card: a real account name is a few dozen characters (Windows caps
 * sAMAccountName at 20, Linux `useradd` at 32, a UPN at 113), while a scanner can send megabytes as a name. 256
 * characters is at most 1,024 bytes of UTF-8, half of DynamoDB's 2,048-byte partition key limit, and still
 * readable in a table row; anything longer is garbage or an attack, and keeping it whole would let one logon line
 * blow up a baseline item (DynamoDB's 400 KB item) and every alert document.
 */
export const MAX_USER_CHARS = 256;
/** Hex digits of the SHA-256 of the whole name kept in a bounded name's marker: 64 bits, so distinct long names stay distinct. */
const USER_HASH_HEX = 16;
/** A qualified name keeps at most this much of its domain when cut, so the bounded name still says where it is from. */
const MAX_DOMAIN_CHARS_KEPT = 64;

/** UTF-16 index after the first `n` code points of `s`, or undefined if `s` has at most `n` (bounded work on huge input). */
function codePointIndex(s: string, n: number): number | undefined {
  let i = 0;
  for (let k = 0; k < n; k++) {
    if (i >= s.length) return undefined;
    const c = s.charCodeAt(i);
    i += c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00 ? 2 : 1;
  }
  return i < s.length ? i : undefined;
}

/** The first `n` code points of `s` (all of it when shorter). */
function codePointHead(s: string, n: number): string {
  const i = codePointIndex(s, n);
  return i === undefined ? s : s.slice(0, i);
}

/**
 * A canonical user name bounded to `MAX_USER_CHARS` characters. A longer name is cut and marked
 * `…#<16 hex digits of its SHA-256>`, so two long names that share their first 200-odd characters stay two
 * users, and the same long name always gets the same bounded form. A qualified name (`user@domain`) is cut in
 * its user part and keeps its `@domain` (up to 64 characters of it): the bounded name still reads as qualified,
 * and `canonicalUser` leaves it as it is (it never reads a name with `@` as `DOMAIN\user`), so bounding is
 * stable when a bounded name is canonicalised again. Apply to canonical names only (after `canonicalUser`).
 */
export function boundUserName(name: string): { readonly name: string; readonly truncated: boolean } {
  if (codePointIndex(name, MAX_USER_CHARS) === undefined) return { name, truncated: false };
  const marker = `…#${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, USER_HASH_HEX)}`;
  const at = name.lastIndexOf('@');
  const domain = at === -1 ? '' : `@${codePointHead(name.slice(at + 1), MAX_DOMAIN_CHARS_KEPT)}`;
  const local = at === -1 ? name : name.slice(0, at);
  // `marker` is ASCII but for `…`, and `domain` was cut by code points: budgets in code points.
  const budget = MAX_USER_CHARS - marker.length - [...domain].length;
  return { name: `${codePointHead(local, budget)}${marker}${domain}`, truncated: true };
}

/** Windows machine accounts end in `$` (`WS01$`); they log on constantly and are not people. */
export function isMachineAccount(user: string): boolean {
  const at = user.indexOf('@');
  return (at === -1 ? user : user.slice(0, at)).endsWith('$');
}

// ---------------------------------------------------------------------------------------------
// IPs
// ---------------------------------------------------------------------------------------------

export type IpCheck =
  | { readonly kind: 'ip'; readonly ip: string }
  | { readonly kind: 'local' }
  | { readonly kind: 'bad' };

/**
 * Canonical source IP. A loopback or unspecified source (`127.0.0.1`, `::1`, `0.0.0.0`) and Windows' `-`
 * (no network source) are `local`: not a remote logon, skipped by every profile, in lines and rows alike.
 */
export function checkIp(raw: string | undefined): IpCheck {
  if (raw === undefined) return { kind: 'bad' };
  const t = raw.trim();
  if (t === '-' || t === '') return { kind: 'local' };
  const ip = canonicalIp(t);
  if (!ip) return { kind: 'bad' };
  return isLocalSource(ip) ? { kind: 'local' } : { kind: 'ip', ip };
}

// ---------------------------------------------------------------------------------------------
// Times
// ---------------------------------------------------------------------------------------------

/**
 * `2026-11-02T08:15:03Z`, `2026-11-02T08:15:03.123456+00:00`, `2026-11-02T08:15:03+0000` (journalctl
 * short-iso), and Insights' own `2026-11-02 08:15:03.123` (space, no zone: Insights prints UTC).
 * Fraction digits below the millisecond are truncated, as `Date.parse` does, so a line parsed here and the
 * same event's `@timestamp` in Insights agree to the millisecond. No zone means UTC.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;

export function parseIsoTime(raw: string): number | undefined {
  const m = ISO_TIME.exec(raw.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const ms = frac ? Number(frac.slice(0, 3).padEnd(3, '0')) : 0;
  const base = utcTime(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s));
  if (base === undefined) return undefined;
  let offsetMin = 0;
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMin = sign * (oh * 60 + om);
  }
  return base + ms - offsetMin * 60_000;
}

/** Epoch ms of a UTC wall-clock time, or undefined if any part is out of range (Feb 30, 25:00, ...). */
export function utcTime(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second (:60) is folded onto the next second, as most log pipelines do.
  const t = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59)) + (second === 60 ? 1000 : 0);
  const back = new Date(t - (second === 60 ? 1000 : 0));
  if (back.getUTCFullYear() !== year || back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day) return undefined;
  return t;
}

/** Epoch ms plausibility bounds: 2000-01-01 to 2100-01-01. Anything outside is a unit mistake or garbage. */
const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_TIME = Date.UTC(2100, 0, 1);

function plausible(t: number | undefined): number | undefined {
  return t !== undefined && Number.isFinite(t) && t >= MIN_TIME && t < MAX_TIME ? t : undefined;
}

/**
 * A time as JSON logs and Insights rows carry it: an ISO-8601 / Insights timestamp string, epoch
 * milliseconds (number or digit string), or PowerShell 5's `/Date(1762071303123)/`.
 */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === 'number') return plausible(Number.isInteger(value) ? value : Math.floor(value));
  if (typeof value !== 'string') return undefined;
  const s = value.trim();
  if (/^\d{1,16}$/.test(s)) return plausible(Number(s));
  const ps = /^\/?Date\((\d{1,16})(?:[+-]\d{4})?\)\/?$/.exec(s);
  if (ps) return plausible(Number(ps[1]));
  return plausible(parseIsoTime(s));
}

// ---------------------------------------------------------------------------------------------
// JSON documents
// ---------------------------------------------------------------------------------------------

export type JsonObject = { readonly [key: string]: unknown };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON object on a line, or undefined if the line is not one. The whole line must be the document:
 * that is what CloudWatch Logs holds for every JSON profile (one event per log event), and Insights only
 * discovers fields of a log event that is JSON from its start, so accepting a prefixed document locally
 * would make the parser find logons the query cannot.
 */
export function parseJsonLine(line: string): JsonObject | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return isObject(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The value at a dotted path, arrays addressed by index as Insights does (`request.ipChain.0.ip`). A key
 * containing dots is tried whole too (`"event.outcome"` flattened by some shippers), so both
 * `{"event":{"outcome":..}}` and `{"event.outcome":..}` are read.
 */
export function getPath(doc: unknown, path: string): unknown {
  if (Array.isArray(doc)) {
    const dot = path.indexOf('.');
    const head = dot === -1 ? path : path.slice(0, dot);
    if (!/^\d{1,4}$/.test(head)) return undefined;
    const item: unknown = doc[Number(head)];
    return dot === -1 ? item : getPath(item, path.slice(dot + 1));
  }
  if (!isObject(doc)) return undefined;
  if (Object.hasOwn(doc, path)) return doc[path];
  for (let i = path.indexOf('.'); i !== -1; i = path.indexOf('.', i + 1)) {
    const head = path.slice(0, i);
    if (Object.hasOwn(doc, head)) {
      const found = getPath(doc[head], path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A scalar field as text (numbers too: `EventID: 4624`), or undefined for absent, null, objects and arrays. */
export function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** The first path whose value is a non-empty scalar, as text. */
export function firstText(doc: unknown, paths: readonly string[]): string | undefined {
  for (const p of paths) {
    const v = text(getPath(doc, p));
    if (v !== undefined && v.trim() !== '') return v;
  }
  return undefined;
}

/**
 * The first path whose value is a scalar, as text, empty or not: what Insights' `coalesce(a, b)` picks (it skips
 * absent fields only), for a line parser that must pick the same value as its query does.
 */
export function coalesceText(doc: unknown, paths: readonly string[]): string | undefined {
  for (const p of paths) {
    const v = text(getPath(doc, p));
    if (v !== undefined) return v;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Events from lines
// ---------------------------------------------------------------------------------------------

/** What a profile extracts from one line that is a logon of its format, before canonicalisation. */
export interface RawLogon {
  readonly user: string | undefined;
  /** Separate domain field, joined as `user@domain`. */
  readonly domain?: string | undefined;
  readonly ip: string | undefined;
  readonly outcome: Outcome;
  /** Epoch ms, or undefined if the time could not be read (→ malformed). */
  readonly timestamp: number | undefined;
  readonly host?: string | undefined;
  readonly method?: string | undefined;
  /** Already canonical user (the profile built it itself, e.g. CloudTrail's `root@<account>`). */
  readonly canonical?: boolean;
  /** Attempts the line stands for (a syslog repeat line); absent or 1 means one. A positive integer. */
  readonly count?: number;
  /** The identity provider's verdicts as the log wrote them, by signal key (`toSignals` keeps the known ones). */
  readonly signals?: Readonly<Partial<Record<SignalKey, string | undefined>>>;
}

export interface EventRules {
  /** Drop Windows machine accounts and the like (not malformed: legitimately not a person's logon). */
  readonly skipUser?: (user: string) => boolean;
  /** Drop sources that are legitimately not an address (CloudTrail's `signin.amazonaws.com`, `AWS Internal`). */
  readonly skipSource?: (raw: string) => boolean;
}

/** Validate and canonicalise a raw logon into a line result: the one place every profile's events are built. */
export function toEvent(logSource: AnyProfileId, raw: RawLogon, rules: EventRules = {}): LineResult {
  const name = raw.canonical ? raw.user : canonicalUser(raw.user, raw.domain);
  if (!name) return malformed(`${logSource} logon without a user name`);
  if (rules.skipUser?.(name)) return SKIP;
  const { name: user, truncated } = boundUserName(name);
  if (raw.ip !== undefined && rules.skipSource?.(raw.ip)) return SKIP;
  const ip = checkIp(raw.ip);
  if (ip.kind === 'local') return SKIP;
  if (ip.kind === 'bad') return malformed(`${logSource} logon with an invalid source IP ${quote(raw.ip ?? '(none)')}`);
  if (raw.timestamp === undefined) return malformed(`${logSource} logon without a valid time`);
  const host = raw.host?.trim();
  const method = raw.method?.trim();
  const signals = raw.signals === undefined ? undefined : toSignals(raw.signals);
  const event: LogonEvent = {
    timestamp: raw.timestamp,
    user,
    sourceIp: ip.ip,
    outcome: raw.outcome,
    ...(host ? { host } : {}),
    ...(method ? { method } : {}),
    logSource,
    // Only a line standing for several attempts carries a count, so one-attempt events stay as they always were.
    ...(raw.count !== undefined && raw.count !== 1 ? { count: raw.count } : {}),
    ...(signals ? { signals } : {}),
  };
  return truncated ? { kind: 'event', event, userTruncated: true } : { kind: 'event', event };
}

// ---------------------------------------------------------------------------------------------
// Insights rows
// ---------------------------------------------------------------------------------------------

/**
 * How one profile reads its query's rows. The columns are the shared schema
 * `user, ip, outcome, host, logons, first, last`, plus any the profile adds to its `by` clause
 * (e.g. Windows' `domain`), which `user` may combine.
 */
export interface RowSpec {
  readonly logSource: AnyProfileId;
  /**
   * The `outcome` column's vocabulary, lower-cased → outcome. Insights QL has no conditional expression to
   * turn a format's own verdict (`Accepted`, `4625`, `FAILURE`) into `success`/`failure` server-side, so
   * the query passes the verdict through and the profile maps it here. `success`/`failure` always map.
   */
  readonly outcomes: Readonly<Record<string, Outcome>>;
  /** The canonical user of a row; default: `canonicalUser(row.user)`. */
  readonly user?: (row: Readonly<Record<string, string>>) => string | undefined;
  readonly skipUser?: (user: string) => boolean;
  readonly skipSource?: (raw: string) => boolean;
  /**
   * Columns holding the identity provider's verdicts, column → signal key (Entra's `riskLevel` column is
   * `riskLevelDuringSignIn`). The query groups by them, so one (user, ip, outcome) may come as several rows, one per
   * verdict; `mergeObservations` keeps the worst. Values outside the signal's vocabulary are dropped, not malformed.
   */
  readonly signals?: Readonly<Record<string, SignalKey>>;
}

function rowSignals(spec: RowSpec, row: Readonly<Record<string, string>>): Signals | undefined {
  if (!spec.signals) return undefined;
  const raw: Partial<Record<SignalKey, string>> = {};
  for (const [column, key] of Object.entries(spec.signals)) if (row[column] !== undefined) raw[key] = row[column];
  return toSignals(raw);
}

/**
 * Map one Insights row. `first`/`last` come from `min(@timestamp)`/`max(@timestamp)`, which Insights
 * returns as UTC timestamp strings like `2026-11-02 08:15:03.123` (every result value is a string); epoch
 * milliseconds are accepted too (a query may aggregate `toMillis(@timestamp)`, and tests and fakes use them).
 */
export function mapRow(spec: RowSpec, row: Readonly<Record<string, string>>): RowResult {
  const src = spec.logSource;
  const name = spec.user ? spec.user(row) : canonicalUser(row.user);
  if (!name) return malformed(`${src} row without a user`);
  if (spec.skipUser?.(name)) return SKIP;
  const { name: user, truncated } = boundUserName(name);
  if (row.ip !== undefined && spec.skipSource?.(row.ip)) return SKIP;
  const ip = checkIp(row.ip);
  if (ip.kind === 'local') return SKIP;
  if (ip.kind === 'bad') return malformed(`${src} row with an invalid source IP ${quote(row.ip ?? '(none)')}`);
  const verdict = (row.outcome ?? '').trim().toLowerCase();
  const outcome: Outcome | undefined =
    verdict === 'success' || verdict === 'failure' ? verdict : spec.outcomes[verdict];
  if (!outcome) return malformed(`${src} row with an unknown outcome ${quote(row.outcome ?? '(none)')}`);
  const logons = (row.logons ?? '').trim();
  const count = /^\d{1,15}$/.test(logons) ? Number(logons) : NaN;
  if (!(count >= 1)) return malformed(`${src} row with an invalid logon count ${quote(row.logons ?? '(none)')}`);
  const first = parseTime(row.first);
  const last = parseTime(row.last);
  if (first === undefined || last === undefined)
    return malformed(`${src} row with an invalid first/last time ${quote(`${row.first ?? ''} / ${row.last ?? ''}`)}`);
  if (first > last) return malformed(`${src} row whose first time is after its last`);
  const host = row.host?.trim();
  const signals = rowSignals(spec, row);
  const observation: LogonObservation = {
    user,
    sourceIp: ip.ip,
    outcome,
    count,
    firstSeen: first,
    lastSeen: last,
    hosts: host ? [host] : [],
    methods: [],
    logSource: src,
    ...(signals ? { signals } : {}),
  };
  return truncated ? { kind: 'observation', observation, userTruncated: true } : { kind: 'observation', observation };
}

/** Build a never-throwing row mapper for a spec. */
export function rowMapper(spec: RowSpec): (row: Readonly<Record<string, string>>) => RowResult {
  return neverThrow(
    (row: Readonly<Record<string, string>>) => mapRow(spec, stringsOnly(row)),
    `${spec.logSource} row mapping`,
  );
}

/** Rows are string maps by contract; anything else a caller passes is dropped rather than trusted. */
function stringsOnly(row: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!isObject(row)) return out;
  for (const [k, v] of Object.entries(row)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * The aggregation every profile query ends with: one row per (user, ip, outcome, host), plus any extra
 * columns a profile's row mapper needs (`domain`, `type`). `host: false` for formats that name no host.
 * `logons` is what a row counts: by default every log event is one attempt (`count(*)`); a format whose single
 * log event can stand for several attempts (sshd's `message repeated N times`) passes `sum(<field>)` of a field
 * holding 1 or that N, so the query counts exactly what the line parser's `count` says.
 */
export function statsClause(
  extraBy: readonly string[] = [],
  options: { host?: boolean; outcome?: boolean; logons?: `sum(${string})` } = {},
): string {
  // `outcome: false`: a format whose every logon has one outcome (a custom format's fixed `outcome`) has no such
  // column to group by; its row mapper supplies the outcome.
  const by = [
    'user',
    ...extraBy,
    'ip',
    ...(options.outcome === false ? [] : ['outcome']),
    ...(options.host === false ? [] : ['host']),
  ].join(', ');
  return `stats ${options.logons ?? 'count(*)'} as logons, min(@timestamp) as first, max(@timestamp) as last by ${by}`;
}

/**
 * Insights returns at most 10,000 rows per query (Logs Insights quotas); asking for exactly that many
 * lets the log source recognise a capped result and split the window instead of losing rows.
 */
export const QUERY_ROW_LIMIT = 10_000;
export const LIMIT_CLAUSE = `limit ${QUERY_ROW_LIMIT}`;

/** Join query commands with Insights' pipe, one command per line (readable in `authwatch query`). */
export function pipeline(commands: readonly string[]): string {
  return commands.map((c, i) => (i === 0 ? c : `| ${c}`)).join('\n');
}

/**
 * The line parser of a JSON profile: a line that is not a JSON object is simply not this format (skip);
 * `fromDoc` decides for a document. Never throws.
 */
export function jsonLineParser(
  logSource: AnyProfileId,
  fromDoc: (doc: JsonObject) => LineResult,
): (line: string) => LineResult {
  return neverThrow((line: string) => {
    if (typeof line !== 'string') return SKIP;
    const doc = parseJsonLine(line);
    return doc ? fromDoc(doc) : SKIP;
  }, `${logSource} line parsing`);
}
