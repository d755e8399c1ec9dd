/**
 * The operator's commands: `allow`, `benign`, `malicious`, `unmark`, `show`, `status`, `explain`. Each reads or
 * writes the baselines table, either the deployed one (`--table <name>`, region and credentials from the AWS SDK's
 * default chain) or a local store (`--store <dir>`, the embedded DynamoDB a `replay --store <dir> --keep` keeps), through the
 * `OperatorStore` port (shared/ports/baseline-store.ts): the same items the detector reads, none of its
 * run-only methods (alert dedup); `benign` holds the run lease while it changes a baseline (a run writes baselines
 * without a version check). No command needs the detector's port as well. What they write
 * (feedback, known places) is honoured by the detector's next run. What changes stored state (`allow`,
 * `benign`, `malicious`, `unmark`) is a use case in shared/feedback.ts; this file handles the arguments and words
 * the result.
 *
 * Each command is split in two: a function over an `OperatorStore` that returns plain data (tested
 * directly, printed with `--json`), and a renderer for people. User-controlled text (user names, patterns,
 * notes, addresses read from the table) goes through `safeText` in every human rendering.
 */
import { existsSync } from 'node:fs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import { compileAllowlist } from '../shared/core/alerts';
import { isUserMature } from '../shared/core/habits';
import { learningPeriod } from '../shared/core/learning-period';
import {
  bucketOf,
  DAY_MS,
  emptyFeedback,
  PLACE_LEVELS,
  suspectUntil,
  type Feedback,
  type PlaceLevel,
  type SeenStats,
} from '../shared/core/model';
import { decayed } from '../shared/core/seen';
import { DETECTOR_IDS, type DetectionSettings } from '../shared/core/settings';
import { allowSettingRules, allowUntilText, type AllowSettingRule } from '../shared/core/allow-rules';
import { AuthwatchError, ConfigError } from '../shared/errors';
import {
  allowAsn,
  allowCidr,
  allowCountry,
  allowUser,
  markBenign,
  markMalicious,
  removeAllowed,
  unmarkMalicious,
  type AllowEdit,
  type AllowlistEntry,
} from '../shared/feedback';
import type { OperatorStore } from '../shared/ports';
import { emailText } from '../shared/core/alert-text';
import type { Alert, HostileEntry } from '../shared/core/model';
import { fieldRow, safeText, wrapPreformatted } from './format';
import { displayWidth, padEnd, terminalWidth, wrapText } from './text-width';
import { openLocalStore } from './local';

export const OPERATOR_COMMANDS = ['allow', 'benign', 'malicious', 'unmark', 'show', 'status', 'explain'] as const;
export type OperatorCommand = (typeof OPERATOR_COMMANDS)[number];

/** Where output goes and what time it is: injected so tests capture one and fix the other. */
export interface OperatorIo {
  out(text: string): void;
  now(): number;
}

export interface OperatorOptions {
  /** The deployed baselines table (the stack's `BaselinesTableName` output). */
  readonly table?: string;
  /** A local store folder, as `replay --store <dir> --keep` leaves it. */
  readonly store?: string;
  readonly json: boolean;
  readonly note?: string;
  /** `allow cidr|asn|country --user`, `allow remove cidr|asn|country --user`. */
  readonly user?: string;
  /** `allow user|cidr|asn|country --until YYYY-MM-DD`: the last day the entry applies (UTC). */
  readonly until?: string;
  /** `malicious --subnet`: mark the alert's /24 (IPv6 /48), or the range `prefix` long around its address. */
  readonly subnet?: boolean;
  /** `malicious --subnet --prefix <bits>`. */
  readonly prefix?: string;
  /** `malicious --owner`: mark the alert's network owner (its AS). */
  readonly owner?: boolean;
  readonly settings: DetectionSettings;
  /** For tests: the client used with `--table` (default: `createDynamoDbClient()`, the SDK's default chain). */
  readonly client?: DynamoDBClient;
}

// ---------------------------------------------------------------------------------------------
// Opening the store
// ---------------------------------------------------------------------------------------------

export interface OpenedStore {
  readonly store: OperatorStore;
  /** Where, for messages: `table X` or `local store D`. */
  readonly where: string;
  close(): Promise<void>;
}

/**
 * Exactly one of `--table` / `--store`. A local store is always reused (never wiped); commands that only
 * read, or act on what a replay left, need it to exist already.
 */
export async function openOperatorStore(
  o: Pick<OperatorOptions, 'table' | 'store' | 'client'>,
  opts: { mustExist: boolean },
): Promise<OpenedStore> {
  if ((o.table === undefined) === (o.store === undefined)) {
    throw new ConfigError([
      o.table === undefined
        ? 'say which baselines to use: --table <name> (the deployed DynamoDB table, the stack output BaselinesTableName) or --store <dir> (a local store kept by replay --store <dir> --keep)'
        : '--table and --store are exclusive: give one',
    ]);
  }
  if (o.table !== undefined) {
    if (o.table === '') throw new ConfigError(['--table: empty table name']);
    const client = o.client ?? createDynamoDbClient();
    return {
      store: new DynamoDbBaselineStore({ client, tableName: o.table }),
      where: `table ${o.table}`,
      async close() {
        if (!o.client) client.destroy();
      },
    };
  }
  const dir = o.store!;
  if (dir === '') throw new ConfigError(['--store: empty folder name']);
  if (opts.mustExist && !existsSync(dir))
    throw new ConfigError([
      `--store: no local store at ${dir} (create one with: npm run authwatch -- replay --profile <id> --input <file> --store ${dir} --keep)`,
    ]);
  const local = await openLocalStore({ dir, keep: true });
  return { store: local.store, where: `local store ${local.dir}`, close: () => local.close() };
}

// ---------------------------------------------------------------------------------------------
// allow (the edits are use cases: shared/feedback.ts)
// ---------------------------------------------------------------------------------------------

/** What `allow user|cidr|asn|country|remove` prints (`--json`: all three fields). */
export type AllowOutcome = { readonly changed: boolean; readonly message: string; readonly feedback: Feedback };

/** The kinds of allowlist entry, as `allow <kind>` and `allow remove <kind>` name them. */
export const ALLOW_KINDS = ['user', 'cidr', 'asn', 'country'] as const;
export type AllowKind = (typeof ALLOW_KINDS)[number];

/** ` until 2026-12-18`, or nothing for an entry for good. */
function untilWords(expiresAt: number | undefined): string {
  return expiresAt === undefined ? '' : ` until ${allowUntilText(expiresAt)}`;
}

/** `for every user` / `for user alice`. */
function forWhom(user: string | undefined): string {
  return user === undefined ? 'every user' : `user ${safeText(user)}`;
}

/** One edit worded: added, updated (another expiry, or none now), or already there. */
function allowOutcome(r: AllowEdit, what: string, written = ''): AllowOutcome {
  const until = untilWords(r.expiresAt);
  return {
    changed: r.changed,
    message: !r.changed
      ? `already allowed: ${what}${until}`
      : r.updated
        ? `updated: ${what} now${until || ' for good'}`
        : `allowed ${what}${until}${written}`,
    feedback: r.feedback,
  };
}

/** The options every `allow <kind>` passes on. */
type AllowCommandOptions = { user?: string; note?: string; until?: string; now: number };

/** `allow user <name|glob> [--until <day>]`, worded for people. */
export async function allowUserCommand(
  store: OperatorStore,
  raw: string,
  opts: Omit<AllowCommandOptions, 'user'>,
): Promise<AllowOutcome> {
  const r = await allowUser(store, raw, opts);
  return allowOutcome(r, `user ${safeText(r.pattern)}`);
}

/** `--user` given empty: refused by each command with its name. */
function checkUserFlag(command: string, user: string | undefined): void {
  if (user === '') throw new ConfigError([`${command}: --user needs a user name`]);
}

/** `allow cidr <cidr> [--user <name>] [--until <day>]`, worded for people. */
export async function allowCidrCommand(
  store: OperatorStore,
  raw: string,
  opts: AllowCommandOptions,
): Promise<AllowOutcome> {
  checkUserFlag('allow cidr', opts.user);
  const r = await allowCidr(store, raw, opts);
  const written = r.cidr !== raw.trim() ? ` (written as ${safeText(raw)})` : '';
  return allowOutcome(r, `${r.cidr} for ${forWhom(r.user)}`, written);
}

/** `allow asn <AS> [--user <name>] [--until <day>]`, worded for people. */
export async function allowAsnCommand(
  store: OperatorStore,
  raw: string,
  opts: AllowCommandOptions,
): Promise<AllowOutcome> {
  checkUserFlag('allow asn', opts.user);
  const r = await allowAsn(store, raw, opts);
  return allowOutcome(r, `AS${r.asn} for ${forWhom(r.user)}`);
}

/** `allow country <CC> [--user <name>] [--until <day>]`, worded for people. */
export async function allowCountryCommand(
  store: OperatorStore,
  raw: string,
  opts: AllowCommandOptions,
): Promise<AllowOutcome> {
  checkUserFlag('allow country', opts.user);
  const r = await allowCountry(store, raw, opts);
  return allowOutcome(r, `country ${r.country} for ${forWhom(r.user)}`);
}

const REMOVE_USAGE =
  'usage: allow remove user <name|glob> | allow remove cidr <cidr> | allow remove asn <AS> | allow remove country <CC> [--user <name>]';

/** `allow remove <kind> <value> [--user]`: an unknown entry is an error, so a typo is noticed. Expired ones too. */
export async function allowRemoveCommand(
  store: OperatorStore,
  kind: string | undefined,
  value: string | undefined,
  opts: { user?: string },
): Promise<AllowOutcome> {
  if (!ALLOW_KINDS.includes(kind as AllowKind) || value === undefined) throw new ConfigError([REMOVE_USAGE]);
  const user = opts.user !== undefined ? { user: opts.user } : {};
  const entry: AllowlistEntry =
    kind === 'user'
      ? { kind, pattern: value }
      : kind === 'cidr'
        ? { kind, cidr: value, ...user }
        : kind === 'asn'
          ? { kind, asn: value, ...user }
          : { kind: 'country', country: value, ...user };
  const r = await removeAllowed(store, entry);
  const forUser = opts.user !== undefined ? ` for user ${safeText(opts.user)}` : '';
  const e = r.entry;
  const what =
    e.kind === 'user'
      ? `user ${safeText(value)}`
      : e.kind === 'cidr'
        ? `${e.cidr}${forUser}`
        : e.kind === 'asn'
          ? `AS${e.asn}${forUser}`
          : `country ${safeText(e.country, 10)}${forUser}`;
  if (!r.changed) {
    const hint = e.kind !== 'user' && opts.user === undefined ? ' (for every user; per-user entries need --user)' : '';
    throw new AuthwatchError(`nothing to remove: ${what}${hint} is not on the allowlist (see: allow list)`);
  }
  return { changed: r.changed, message: `removed ${what}`, feedback: r.feedback };
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function minute(t: number): string {
  return iso(t).slice(0, 16).replace('T', ' ');
}

/** Padded to `n` terminal columns (wide characters count two). */
const pad = padEnd;

function table(header: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: readonly string[]) =>
    indent + r.map((c, i) => (i === r.length - 1 ? c : pad(c, widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** An entry's UNTIL cell: its last day, marked when it is over at `now`; empty for an entry for good. */
function untilCell(expiresAt: number | undefined, now: number): string {
  if (expiresAt === undefined) return '';
  return expiresAt <= now ? `${allowUntilText(expiresAt)} (expired)` : allowUntilText(expiresAt);
}

/** The allowlist as `allow list` prints it; entries over at `now` are marked expired (runs ignore them). */
export function renderAllowList(
  f: Feedback,
  settings: Pick<DetectionSettings, 'allowUsers' | 'allowCidrs'> &
    Partial<Pick<DetectionSettings, 'allowAsns' | 'allowCountries'>>,
  now: number,
): string {
  const out: string[] = [];
  const note = (n: string | undefined) => (n ? safeText(n, 60) : '');
  const who = (u: string | undefined) => (u === undefined ? 'every user' : safeText(u, 40));
  const section = (title: string, header: readonly string[], rows: readonly (readonly string[])[]) => {
    out.push(`${title} (${rows.length}):`);
    out.push(rows.length === 0 ? '  (none)\n' : table(header, rows));
  };
  section(
    'Users allowed',
    ['USER OR GLOB', 'UNTIL (UTC)', 'ADDED (UTC)', 'NOTE'],
    f.allowUsers.map((e) => [safeText(e.pattern, 40), untilCell(e.expiresAt, now), minute(e.addedAt), note(e.note)]),
  );
  section(
    'Source ranges allowed',
    ['CIDR', 'FOR', 'UNTIL (UTC)', 'ADDED (UTC)', 'NOTE'],
    f.allowCidrs.map((e) => [e.cidr, who(e.user), untilCell(e.expiresAt, now), minute(e.addedAt), note(e.note)]),
  );
  section(
    'Networks (AS) allowed',
    ['AS', 'FOR', 'UNTIL (UTC)', 'ADDED (UTC)', 'NOTE'],
    (f.allowAsns ?? []).map((e) => [
      `AS${e.asn}`,
      who(e.user),
      untilCell(e.expiresAt, now),
      minute(e.addedAt),
      note(e.note),
    ]),
  );
  section(
    'Countries allowed',
    ['COUNTRY', 'FOR', 'UNTIL (UTC)', 'ADDED (UTC)', 'NOTE'],
    (f.allowCountries ?? []).map((e) => [
      safeText(e.country, 10),
      who(e.user),
      untilCell(e.expiresAt, now),
      minute(e.addedAt),
      note(e.note),
    ]),
  );
  section(
    'Sources marked malicious (alert on every logon from them; take back with unmark)',
    ['SOURCE', 'MARKED FROM ALERT', 'ADDED (UTC)', 'NOTE'],
    (f.hostile ?? []).map((e) => [hostileText(e), safeText(e.alertId, 60), minute(e.addedAt), note(e.note)]),
  );
  const rules = allowSettingRules(settings);
  // An entry of the settings for one user or until a day says so, as the feedback's rows do.
  const text = (label: string, r: AllowSettingRule<unknown>) =>
    `${label}${r.user !== undefined ? ` for ${safeText(r.user, 40)}` : ''}${r.expiresAt !== undefined ? ` until ${untilCell(r.expiresAt, now)}` : ''}`;
  const list = <T>(rs: readonly AllowSettingRule<T>[], label: (v: T) => string) =>
    rs.map((r) => text(label(r.value), r)).join(', ') || '-';
  if (rules.users.length + rules.cidrs.length + rules.asns.length + rules.countries.length > 0) {
    out.push(
      `Also from the settings given here: users ${list(rules.users, (u) => safeText(u, 40))}; ranges ${list(rules.cidrs, (c) => c)}; networks ${list(rules.asns, (a) => `AS${a}`)}; countries ${list(rules.countries, (c) => c)}.`,
    );
  }
  return out.join('\n') + '\n';
}

/**
 * The feedback's entries over at `now`, as `allow remove` takes them (`country JP --user alice`), with their last
 * day: runs ignore them, and `status` lists them so someone removes or renews them.
 */
export function expiredEntries(f: Feedback | undefined, now: number): { entry: string; until: string }[] {
  if (!f) return [];
  const userFlag = (u: string | undefined) => (u === undefined ? '' : ` --user ${u}`);
  const over = (e: { readonly expiresAt?: number }) => e.expiresAt !== undefined && e.expiresAt <= now;
  const row = (entry: string, e: { readonly expiresAt?: number }) => ({ entry, until: allowUntilText(e.expiresAt!) });
  return [
    ...f.allowUsers.filter(over).map((e) => row(`user ${e.pattern}`, e)),
    ...f.allowCidrs.filter(over).map((e) => row(`cidr ${e.cidr}${userFlag(e.user)}`, e)),
    ...(f.allowAsns ?? []).filter(over).map((e) => row(`asn AS${e.asn}${userFlag(e.user)}`, e)),
    ...(f.allowCountries ?? []).filter(over).map((e) => row(`country ${e.country}${userFlag(e.user)}`, e)),
  ];
}

// ---------------------------------------------------------------------------------------------
// benign
// ---------------------------------------------------------------------------------------------

/** What `benign` prints (`--json`: these fields). */
export interface BenignOutput {
  readonly alertId: string;
  readonly detectorId: string;
  readonly user: string;
  readonly sourceIp?: string;
  /** Places now known for the user (IP, /24 or /48 prefix, /16 or /32 network). Empty for a rare-user alert. */
  readonly places: readonly string[];
  readonly message: string;
}

/** `benign <alert-id>`: the use case (`markBenign`, shared/feedback.ts), worded for people. */
export async function benignCommand(
  store: OperatorStore,
  alertId: string | undefined,
  opts: { now: number },
): Promise<BenignOutput> {
  if (!alertId) throw new ConfigError(['usage: benign <alert-id> (the id field of the alert)']);
  const { outcome, ...r } = await markBenign(store, alertId, opts);
  const user = safeText(r.user);
  const message =
    outcome === 'places-marked'
      ? `marked ${r.places.join(', ')} as known places of ${user}; the next run judges logons from them as usual for this user`
      : outcome === 'user-known'
        ? `${user} is a known user since the run that raised this alert; nothing to add (it alerts again only after a long silence).`
        : `${user} has no baseline yet (the run that raised the alert did not complete?); the next run that sees the user learns them.`;
  return { ...r, message };
}

// ---------------------------------------------------------------------------------------------
// malicious, unmark
// ---------------------------------------------------------------------------------------------

/** A mark's source as `unmark` takes it: `203.0.113.7`, `203.0.113.0/24`, `AS64496` (from the table: made safe). */
export function hostileText(e: Pick<HostileEntry, 'kind' | 'value'>): string {
  return safeText(e.kind === 'asn' ? `AS${e.value}` : e.value, 60);
}

/** What `malicious` and `unmark` print (`--json`: these fields). */
export interface MarkOutcome {
  readonly changed: boolean;
  readonly message: string;
  /** The marks as stored afterwards. */
  readonly hostile: readonly HostileEntry[];
}

/**
 * `malicious <alert-id> [--subnet [--prefix <bits>] | --owner] [--note <text>]`: the use case (`markMalicious`,
 * shared/feedback.ts), worded for people.
 */
export async function maliciousCommand(
  store: OperatorStore,
  alertId: string | undefined,
  opts: { subnet?: boolean; prefix?: string; owner?: boolean; note?: string; now: number },
): Promise<MarkOutcome> {
  if (!alertId) throw new ConfigError(['usage: malicious <alert-id> [--subnet | --owner] [--note <text>]']);
  if (opts.subnet && opts.owner) throw new ConfigError(['malicious: --subnet and --owner are exclusive: give one']);
  if (opts.prefix !== undefined && !opts.subnet)
    throw new ConfigError([
      'malicious: --prefix is the length of the range --subnet marks (malicious <id> --subnet --prefix 20)',
    ]);
  let bits: number | undefined;
  if (opts.prefix !== undefined) {
    bits = /^\/?\d{1,3}$/.test(opts.prefix.trim()) ? Number(opts.prefix.trim().replace('/', '')) : Number.NaN;
    if (!Number.isInteger(bits))
      throw new ConfigError([`malicious --prefix: "${safeText(opts.prefix, 20)}" is not a prefix length like 24`]);
  }
  const r = await markMalicious(store, alertId, {
    scope: opts.owner
      ? { kind: 'owner' }
      : opts.subnet
        ? { kind: 'subnet', ...(bits !== undefined ? { bits } : {}) }
        : { kind: 'ip' },
    ...(opts.note ? { note: opts.note } : {}),
    now: opts.now,
  });
  const what = hostileText(r.entry);
  const message = r.changed
    ? `marked ${what} malicious (from alert ${safeText(alertId, 80)}, ${safeText(r.user)} from ${r.sourceIp}); every later logon from it, by any user, raises a hostile-source alert, whatever the allowlists say`
    : `already marked malicious: ${what} (from alert ${safeText(r.entry.alertId, 80)} on ${minute(r.entry.addedAt)} UTC)`;
  return { changed: r.changed, message, hostile: r.feedback.hostile ?? [] };
}

/** `unmark <alert-id|source>`: nothing to take back is an error, so a typo is noticed. */
export async function unmarkCommand(store: OperatorStore, target: string | undefined): Promise<MarkOutcome> {
  if (target === undefined)
    throw new ConfigError([
      'usage: unmark <alert-id|address|range|AS> (the alert the mark was made from, or its source)',
    ]);
  const r = await unmarkMalicious(store, target);
  if (!r.changed)
    throw new AuthwatchError(
      `nothing to unmark: no mark was made from alert ${safeText(target, 80)}, nor is it a marked source (see: allow list)`,
    );
  return {
    changed: true,
    message: `no longer marked malicious: ${r.removed.map(hostileText).join(', ')}`,
    hostile: r.feedback.hostile ?? [],
  };
}

// ---------------------------------------------------------------------------------------------
// show
// ---------------------------------------------------------------------------------------------

export interface ShowResult {
  readonly alertId: string;
  readonly detectorId: string;
  readonly user: string;
  /** The stored user name was cut to bound the ledger item; the document, when kept, has the whole name. */
  readonly userTruncated: boolean;
  readonly sourceIp?: string;
  readonly raisedAt: string;
  /** The alert document (ECS JSON) exactly as delivered; undefined on entries written before it was kept. */
  readonly document?: string;
  /** The document read back as an alert; undefined when absent or not readable as one (cut to bound the item). */
  readonly alert?: Alert;
}

/** Whether a parsed document has what the human rendering reads (the alert as the detector builds it). */
function asAlert(x: unknown): Alert | undefined {
  const a = x as Partial<Alert> | null;
  if (!a || typeof a !== 'object') return undefined;
  const ok =
    typeof a.id === 'string' &&
    typeof a.explanation === 'string' &&
    typeof a.rule?.id === 'string' &&
    typeof a.rule.threat?.tactic?.id === 'string' &&
    Array.isArray(a.rule.threat.technique) &&
    Array.isArray(a.rule.references) &&
    typeof a.user?.name === 'string' &&
    typeof a.source?.ip === 'string' &&
    Array.isArray(a.host?.names) &&
    typeof a.event?.count === 'number' &&
    typeof a.window?.start === 'string' &&
    Array.isArray(a.context?.other_ips_in_window) &&
    Array.isArray(a.context.methods) &&
    typeof a.evidence === 'object' &&
    Array.isArray(a.investigation) &&
    Array.isArray(a.false_positives) &&
    Array.isArray(a.silence);
  return ok ? (a as Alert) : undefined;
}

/** `show <alert-id>`: the ledger entry of a past alert and, when the store kept it, the alert as it was sent. */
export async function show(store: OperatorStore, alertId: string | undefined): Promise<ShowResult> {
  if (!alertId) throw new ConfigError(['usage: show <alert-id> (the id field of the alert)']);
  const entry = await store.getLedgerEntry(alertId);
  if (!entry)
    throw new AuthwatchError(
      `no alert ${safeText(alertId, 80)} in the ledger (a typo, another table, or older than the ledger's retention); status lists recent alerts by user`,
    );
  let alert: Alert | undefined;
  if (entry.document !== undefined) {
    try {
      alert = asAlert(JSON.parse(entry.document));
    } catch {
      alert = undefined;
    }
  }
  return {
    alertId: entry.id,
    detectorId: entry.detectorId,
    user: entry.user,
    userTruncated: entry.userTruncated === true,
    ...(entry.sourceIp !== undefined ? { sourceIp: entry.sourceIp } : {}),
    raisedAt: iso(entry.raisedAtMs),
    ...(entry.document !== undefined ? { document: entry.document } : {}),
    ...(alert ? { alert } : {}),
  };
}

/**
 * The alert for people: the same text the email subscribers got (`emailText`, every log-controlled value made
 * single-line and printable), wrapped to the terminal. Without a document: what the ledger knows, and why.
 */
export function renderShow(r: ShowResult, width = terminalWidth()): string {
  if (r.alert)
    return emailText(r.alert)
      .split('\n')
      .flatMap((l) => wrapPreformatted(l, width))
      .join('\n');
  const out: string[] = [];
  out.push(...wrapText(`Alert ${safeText(r.alertId, 80)}`, width));
  const row = (k: string, v: string) => out.push(fieldRow(k, v, 14, width));
  row('Detector', r.detectorId);
  row('User', `${safeText(r.user, 128)}${r.userTruncated ? ' (the beginning of a longer name)' : ''}`);
  row('Source IP', r.sourceIp !== undefined ? safeText(r.sourceIp, 64) : '(none)');
  row('Raised at', `${r.raisedAt} (the end of the window that raised it)`);
  out.push('');
  const why =
    r.document === undefined
      ? 'The rest of the alert (score, explanation, evidence, what to check) is not in the ledger: this entry was written before the ledger kept the alert as sent. The email or chat message of the time has it.'
      : 'The alert as sent is in the ledger but cannot be read back as an alert (cut to bound the item?); --json prints it as stored.';
  out.push(...wrapText(why, width));
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// status
// ---------------------------------------------------------------------------------------------

export interface StatusReport {
  readonly table: string;
  readonly now: string;
  /** Times below are measured up to here: the last completed window (the detector's clock), else now. */
  readonly asOf: string;
  readonly learning: {
    readonly learningDays: number;
    readonly startedAt: string | null;
    readonly backfilledFrom: string | null;
    readonly endsAt: string | null;
    readonly daysLeft: number | null;
    readonly done: boolean;
  };
  readonly lastWindow: { readonly end: string; readonly minutesAgo: number } | null;
  /** Logons the detector skipped after an outage longer than `maxBacklogDays` (never analysed; `backfill --alerts`). */
  readonly skipped: readonly { readonly start: string; readonly end: string }[];
  readonly users: {
    readonly known: number;
    readonly stored: number;
    readonly learning: number;
    readonly mature: number;
  };
  readonly alertsLast24h: {
    readonly from: string;
    readonly to: string;
    readonly total: number;
    readonly byDetector: Record<string, number>;
  };
  readonly noisiestUsers: readonly { readonly user: string; readonly alerts: number }[];
  readonly ledger: { readonly entries: number; readonly retentionDays: number };
  readonly feedback: {
    readonly allowUsers: number;
    readonly allowCidrs: number;
    readonly allowAsns: number;
    readonly allowCountries: number;
    /** Sources marked malicious (`malicious`). */
    readonly hostile: number;
    /** Entries over at `now` (counted above too): ignored by runs until renewed, kept until removed. */
    readonly expired: readonly { readonly entry: string; readonly until: string }[];
  };
}

export const NOISIEST_USERS_SHOWN = 5;
/** Expired allowlist entries named by `status`; `allow list` shows them all. */
export const EXPIRED_SHOWN = 5;

/**
 * What the detector knows and has done. Reads the run state, population and feedback items, and scans the
 * user baselines (for how many still learn) and the alert ledger: a full read of the table, fine for a
 * person asking now and then, never done by the detector itself.
 *
 * "Last 24 h" is the 24 hours up to the last completed window: in AWS that is now (to within the 15-minute
 * schedule) while the detector runs, and the "last window" line says when it does not; on a local store
 * replayed from an old log, it is the end of the log rather than an empty today.
 */
export async function status(
  store: OperatorStore,
  opts: { now: number; settings: DetectionSettings; where: string },
): Promise<StatusReport> {
  const [state, population, feedback] = await Promise.all([
    store.getRunState(),
    store.getPopulation(),
    store.getFeedback(),
  ]);
  const asOf = state && state.lastWindowEnd > 0 ? state.lastWindowEnd : opts.now;
  const endsAt = learningPeriod(state, opts.settings.learningDays)?.end;

  let stored = 0;
  let learning = 0;
  for await (const u of store.scanUsers()) {
    stored++;
    if (!isUserMature(u, opts.settings)) learning++;
  }

  const from = asOf - DAY_MS;
  const byDetector: Record<string, number> = Object.fromEntries(DETECTOR_IDS.map((id) => [id, 0]));
  const perUser = new Map<string, number>();
  let entries = 0;
  for await (const e of store.scanLedger()) {
    if (e.expiresAtEpochSeconds * 1000 <= asOf) continue; // expired; DynamoDB's TTL deletes lazily
    entries++;
    perUser.set(e.user, (perUser.get(e.user) ?? 0) + 1);
    if (e.raisedAtMs > from && e.raisedAtMs <= asOf) byDetector[e.detectorId] = (byDetector[e.detectorId] ?? 0) + 1;
  }
  const noisiest = [...perUser]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, NOISIEST_USERS_SHOWN)
    .map(([user, alerts]) => ({ user, alerts }));

  return {
    table: opts.where,
    now: iso(opts.now),
    asOf: iso(asOf),
    learning: {
      learningDays: opts.settings.learningDays,
      startedAt: state ? iso(state.firstWindowEnd) : null,
      backfilledFrom: state?.backfilledFrom !== undefined ? iso(state.backfilledFrom) : null,
      endsAt: endsAt !== undefined ? iso(endsAt) : null,
      daysLeft: endsAt !== undefined ? Math.max(0, Math.round(((endsAt - asOf) / DAY_MS) * 10) / 10) : null,
      done: endsAt !== undefined && asOf >= endsAt,
    },
    lastWindow:
      state && state.lastWindowEnd > 0
        ? { end: iso(state.lastWindowEnd), minutesAgo: Math.round((opts.now - state.lastWindowEnd) / 60_000) }
        : null,
    skipped: (state?.skipped ?? []).map((w) => ({ start: iso(w.start), end: iso(w.end) })),
    users: { known: population?.knownUsers ?? 0, stored, learning, mature: stored - learning },
    alertsLast24h: {
      from: iso(from),
      to: iso(asOf),
      total: Object.values(byDetector).reduce((a, b) => a + b, 0),
      byDetector,
    },
    noisiestUsers: noisiest,
    ledger: { entries, retentionDays: opts.settings.ledgerTtlDays },
    feedback: {
      allowUsers: feedback?.allowUsers.length ?? 0,
      allowCidrs: feedback?.allowCidrs.length ?? 0,
      allowAsns: feedback?.allowAsns?.length ?? 0,
      allowCountries: feedback?.allowCountries?.length ?? 0,
      hostile: feedback?.hostile?.length ?? 0,
      expired: expiredEntries(feedback, opts.now),
    },
  };
}

function ago(minutes: number): string {
  if (minutes < 0) return `${-minutes} min in the future (a replayed log)`;
  if (minutes < 120) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h ago`;
  return `${(minutes / 1440).toFixed(1)} days ago`;
}

export function renderStatus(s: StatusReport): string {
  const out: string[] = [];
  const row = (k: string, v: string) => out.push(fieldRow(k, v, 24));
  out.push(`authwatch status (${safeText(s.table, 120)})`);
  const l = s.learning;
  if (l.startedAt === null)
    row('Learning', `not started: no run has completed yet (${l.learningDays}-day learning period)`);
  else if (l.done)
    row(
      'Learning',
      `done since ${minute(Date.parse(l.endsAt!))} UTC (${l.learningDays} days${l.backfilledFrom ? `, counted from the backfill at ${minute(Date.parse(l.backfilledFrom))}` : ''})`,
    );
  else
    row(
      'Learning',
      `${l.daysLeft} days left, alerts from ${minute(Date.parse(l.endsAt!))} UTC (${l.learningDays}-day period${l.backfilledFrom ? ', counted from the backfill' : ''})`,
    );
  row(
    'Last completed window',
    s.lastWindow ? `${minute(Date.parse(s.lastWindow.end))} UTC, ${ago(s.lastWindow.minutesAgo)}` : 'none yet',
  );
  if (s.skipped.length > 0) {
    row(
      'Skipped, never analysed',
      `${s.skipped.map((w) => `${minute(Date.parse(w.start))} → ${minute(Date.parse(w.end))} UTC`).join(', ')} (run: backfill --alerts)`,
    );
  }
  row('Users known', String(s.users.known));
  row(
    'Users still learning',
    `${s.users.learning} of ${s.users.stored} with a baseline (too little history for their addresses to be judged)`,
  );
  const fb = s.feedback;
  row(
    'Allowlist (feedback)',
    `${fb.allowUsers} users, ${fb.allowCidrs} ranges, ${fb.allowAsns} networks (AS), ${fb.allowCountries} countries (see: allow list)`,
  );
  if (fb.hostile > 0)
    row(
      'Marked malicious',
      `${fb.hostile} ${fb.hostile === 1 ? 'source' : 'sources'} (see: allow list; take back with unmark)`,
    );
  if (fb.expired.length > 0) {
    const shown = fb.expired.slice(0, EXPIRED_SHOWN).map((e) => `${safeText(e.entry, 80)} (until ${e.until})`);
    const more = fb.expired.length > EXPIRED_SHOWN ? `, and ${fb.expired.length - EXPIRED_SHOWN} more` : '';
    row(
      'Expired allow entries',
      `${shown.join(', ')}${more}: ignored by runs; renew with allow <entry> --until <day>, or take off with allow remove <entry>`,
    );
  }
  out.push('');
  out.push(`Alerts raised in the 24 h up to ${minute(Date.parse(s.alertsLast24h.to))} UTC: ${s.alertsLast24h.total}`);
  out.push(
    table(
      ['RULE', 'ALERTS'],
      Object.entries(s.alertsLast24h.byDetector).map(([k, v]) => [k, String(v)]),
    ),
  );
  out.push(`Noisiest users (alerts in the ledger, kept ${s.ledger.retentionDays} days; ${s.ledger.entries} in all):`);
  if (s.noisiestUsers.length === 0) out.push('  (none)\n');
  else
    out.push(
      table(
        ['USER', 'ALERTS'],
        s.noisiestUsers.map((u) => [safeText(u.user, 40), String(u.alerts)]),
      ),
    );
  return out.join('\n');
}

// ---------------------------------------------------------------------------------------------
// explain
// ---------------------------------------------------------------------------------------------

export interface ExplainedPlace {
  readonly place: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly days: number;
  /** Active 15-minute periods, decayed to `asOf` (half-life about two weeks). */
  readonly periods: number;
}

export interface ExplainReport {
  readonly user: string;
  readonly asOf: string;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly daysActive: number;
  readonly activePeriods: number;
  readonly mature: boolean;
  readonly maturity: { readonly minPeriods: number; readonly minDays: number };
  readonly novelty: {
    readonly periods: number;
    readonly counts: Record<PlaceLevel, number>;
    readonly rates: Record<PlaceLevel, number>;
  };
  readonly places: Record<'ips' | 'prefixes' | 'networks', ExplainedPlace[]>;
  /** Places alerts left suspect, not answered: not learned until `benign` or `learnedFrom` (`UserBaseline.suspect`). */
  readonly suspect: ExplainedSuspect[];
  readonly allowed: { readonly user: boolean; readonly cidrs: readonly string[] };
}

export interface ExplainedSuspect {
  /** The address, or an IPv6 address's /64. */
  readonly place: string;
  readonly alertId: string;
  readonly alertLogon: string;
  readonly lastSeen: string;
  /** Logons from it since the alert's (at least). */
  readonly logons: number;
  /** When it is learned like any place if nobody answers the alert (`suspectDays`). */
  readonly learnedFrom: string;
}

const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

function explainPlaces(m: Record<string, SeenStats>, asOfBucket: number): ExplainedPlace[] {
  return Object.entries(m)
    .sort((a, b) => b[1].last - a[1].last || (a[0] < b[0] ? -1 : 1))
    .map(([place, s]) => ({
      place,
      firstSeen: iso(s.first),
      lastSeen: iso(s.last),
      days: s.days,
      periods: round(decayed(s.buckets, s.lastBucket, asOfBucket), 2),
    }));
}

/** What the baseline knows about one user; undefined when the store has none. */
export async function explain(
  store: OperatorStore,
  user: string | undefined,
  opts: { now: number; settings: DetectionSettings },
): Promise<ExplainReport | undefined> {
  if (user === undefined) throw new ConfigError(['usage: explain <user>']);
  const [b, state, feedback] = await Promise.all([
    store.getUsers([user]).then((m) => m.get(user)),
    store.getRunState(),
    store.getFeedback(),
  ]);
  if (!b) return undefined;
  const asOf = Math.max(b.activity.last, state && state.lastWindowEnd > 0 ? state.lastWindowEnd : opts.now);
  const asOfBucket = bucketOf(asOf);
  const periods = decayed(b.novelty.periods, b.activity.lastBucket, asOfBucket);
  const counts = Object.fromEntries(
    PLACE_LEVELS.map((l) => [l, round(decayed(b.novelty[l], b.activity.lastBucket, asOfBucket), 2)]),
  ) as Record<PlaceLevel, number>;
  const rates = Object.fromEntries(
    PLACE_LEVELS.map((l) => [l, b.novelty.periods > 0 ? round(b.novelty[l] / b.novelty.periods, 3) : 0]),
  ) as Record<PlaceLevel, number>;
  const allowlist = compileAllowlist({ allowUsers: opts.settings.allowUsers, allowCidrs: [] }, feedback);
  return {
    user,
    asOf: iso(asOf),
    firstSeen: iso(b.activity.first),
    lastSeen: iso(b.activity.last),
    daysActive: b.activity.days,
    activePeriods: round(decayed(b.activity.buckets, b.activity.lastBucket, asOfBucket), 1),
    mature: isUserMature(b, opts.settings),
    maturity: { minPeriods: opts.settings.minUserBuckets, minDays: opts.settings.minUserDays },
    novelty: { periods: round(periods, 1), counts, rates },
    places: {
      ips: explainPlaces(b.ips, asOfBucket),
      prefixes: explainPlaces(b.prefixes, asOfBucket),
      networks: explainPlaces(b.networks, asOfBucket),
    },
    suspect: Object.entries(b.suspect ?? {})
      .sort((x, y) => x[1].since - y[1].since || (x[0] < y[0] ? -1 : 1))
      .map(([place, s]) => ({
        place,
        alertId: s.alertId,
        alertLogon: iso(s.since),
        lastSeen: iso(s.last),
        logons: s.logons,
        learnedFrom: iso(suspectUntil(s, opts.settings.suspectDays)),
      })),
    allowed: {
      user: allowlist.allowsUser(user, opts.now),
      cidrs: [
        ...allowSettingRules(opts.settings)
          .cidrs.filter((r) => (r.user === undefined || r.user === user) && (r.expiresAt ?? Infinity) > opts.now)
          .map((r) => r.value),
        ...(feedback?.allowCidrs
          .filter((e) => (e.user === undefined || e.user === user) && (e.expiresAt ?? Infinity) > opts.now)
          .map((e) => e.cidr) ?? []),
      ],
    },
  };
}

const LEVEL_TITLE: Record<'ips' | 'prefixes' | 'networks', string> = {
  ips: 'Known addresses',
  prefixes: 'Known subnets (/24, /48)',
  networks: 'Known networks (/16, /32)',
};

export function renderExplain(r: ExplainReport): string {
  const out: string[] = [];
  const row = (k: string, v: string) => out.push(fieldRow(k, v, 22));
  out.push(`What authwatch knows about ${safeText(r.user)} (as of ${minute(Date.parse(r.asOf))} UTC)`);
  row('First seen', `${minute(Date.parse(r.firstSeen))} UTC`);
  row('Last seen', `${minute(Date.parse(r.lastSeen))} UTC`);
  row('Days active', String(r.daysActive));
  row('Active periods', `${r.activePeriods} (15-minute periods, decayed: half-life ~2 weeks)`);
  row(
    'Habits formed',
    r.mature
      ? 'yes: unusual addresses are judged'
      : `no: still learning (needs ${r.maturity.minPeriods} periods over ${r.maturity.minDays} days)`,
  );
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  row(
    'Novelty',
    r.novelty.periods > 0
      ? `of ${r.novelty.periods} periods since habits formed: new address ${r.novelty.counts.ip} (${pct(r.novelty.rates.ip)}), new subnet ${r.novelty.counts.prefix} (${pct(r.novelty.rates.prefix)}), new network ${r.novelty.counts.network} (${pct(r.novelty.rates.network)})`
      : 'not counted yet (counted once habits formed)',
  );
  if (r.allowed.user || r.allowed.cidrs.length > 0)
    row(
      'Allowlisted',
      [r.allowed.user ? 'the user (never alerts)' : '', ...r.allowed.cidrs].filter(Boolean).join(', '),
    );
  if (r.suspect.length > 0) {
    out.push('');
    out.push(`Suspect places (alerted, not answered: not learned until benign or LEARNED FROM): ${r.suspect.length}`);
    out.push(
      table(
        ['PLACE', 'ALERT', 'ALERT LOGON', 'LAST SEEN', 'LOGONS SINCE', 'LEARNED FROM'],
        r.suspect.map((s) => [
          safeText(s.place, 45),
          safeText(s.alertId, 48),
          minute(Date.parse(s.alertLogon)),
          minute(Date.parse(s.lastSeen)),
          String(s.logons),
          minute(Date.parse(s.learnedFrom)),
        ]),
      ).trimEnd(),
    );
  }
  for (const k of ['ips', 'prefixes', 'networks'] as const) {
    const places = r.places[k];
    out.push('');
    out.push(`${LEVEL_TITLE[k]}: ${places.length}, most recent first`);
    if (places.length === 0) out.push('  (none)');
    else
      out.push(
        table(
          ['PLACE', 'FIRST SEEN', 'LAST SEEN', 'DAYS', 'PERIODS'],
          places.map((p) => [
            safeText(p.place, 45),
            minute(Date.parse(p.firstSeen)),
            minute(Date.parse(p.lastSeen)),
            String(p.days),
            p.periods.toFixed(1),
          ]),
        ).trimEnd(),
      );
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

/** What each `allow <kind>` takes, for the message when it is missing. */
const VALUE_ARG: Readonly<Record<string, string>> = {
  user: 'name|glob',
  cidr: 'cidr',
  asn: 'AS',
  country: 'CC',
  remove: 'user|cidr|asn|country',
};

/** Run one operator command from parsed arguments; output through `io`. */
export async function runOperatorCommand(
  command: OperatorCommand,
  positionals: readonly string[],
  o: OperatorOptions,
  io: OperatorIo,
): Promise<void> {
  const json = (x: unknown) => io.out(JSON.stringify(x, null, 2) + '\n');
  const [first, second, third] = positionals;
  if (command === 'allow' && !ALLOW_KINDS.includes(first as AllowKind) && first !== 'list' && first !== 'remove') {
    throw new ConfigError([
      'usage: allow user <name|glob> | allow cidr <cidr> | allow asn <AS> | allow country <CC> [--user <name>] [--until YYYY-MM-DD] [--note ..] | allow list | allow remove user|cidr|asn|country <value> [--user <name>]',
    ]);
  }
  if (command === 'allow' && o.until !== undefined && (first === 'list' || first === 'remove'))
    throw new ConfigError([`allow ${first}: --until is for adding an entry (allow user|cidr|asn|country ... --until)`]);
  // A user entry is already one user's (or a glob's): `--user` there would be ignored, so it is refused instead.
  if (
    command === 'allow' &&
    o.user !== undefined &&
    (first === 'user' || first === 'list' || (first === 'remove' && second === 'user'))
  )
    throw new ConfigError([
      `allow ${first === 'remove' ? 'remove user' : first}: --user is for a range, an AS or a country (allow cidr|asn|country ... --user <name>)`,
    ]);
  const writes = (command === 'allow' && first !== 'list') || command === 'malicious' || command === 'unmark';
  const opened = await openOperatorStore(o, { mustExist: !writes });
  try {
    const { store } = opened;
    const now = io.now();
    switch (command) {
      case 'allow': {
        if (first === 'list') {
          const f = (await store.getFeedback()) ?? emptyFeedback();
          if (o.json) json(f);
          else io.out(renderAllowList(f, o.settings, now));
          return;
        }
        if (second === undefined)
          throw new ConfigError([
            `allow ${first}: missing the value (allow ${first} <${VALUE_ARG[first!] ?? 'value'}>)`,
          ]);
        const user = o.user !== undefined ? { user: o.user } : {};
        const add = { ...(o.note ? { note: o.note } : {}), ...(o.until !== undefined ? { until: o.until } : {}), now };
        const r =
          first === 'user'
            ? await allowUserCommand(store, second, add)
            : first === 'cidr'
              ? await allowCidrCommand(store, second, { ...user, ...add })
              : first === 'asn'
                ? await allowAsnCommand(store, second, { ...user, ...add })
                : first === 'country'
                  ? await allowCountryCommand(store, second, { ...user, ...add })
                  : await allowRemoveCommand(store, second, third, user);
        if (o.json) json({ changed: r.changed, message: r.message, feedback: r.feedback });
        else io.out(`${r.message} (${opened.where}); the detector's next run honours it.\n`);
        return;
      }
      case 'benign': {
        const r = await benignCommand(store, first, { now });
        if (o.json) json(r);
        else io.out(r.message + '\n');
        return;
      }
      case 'malicious':
      case 'unmark': {
        const r =
          command === 'malicious'
            ? await maliciousCommand(store, first, {
                ...(o.subnet ? { subnet: true } : {}),
                ...(o.prefix !== undefined ? { prefix: o.prefix } : {}),
                ...(o.owner ? { owner: true } : {}),
                ...(o.note ? { note: o.note } : {}),
                now,
              })
            : await unmarkCommand(store, first);
        if (o.json) json(r);
        else io.out(`${r.message} (${opened.where}); the detector's next run honours it.\n`);
        return;
      }
      case 'show': {
        const r = await show(store, first);
        if (o.json)
          io.out(
            r.document !== undefined
              ? `${r.document}\n`
              : JSON.stringify(
                  { ...r, document: null, missing: 'written before the ledger kept the alert as sent' },
                  null,
                  2,
                ) + '\n',
          );
        else io.out(renderShow(r));
        return;
      }
      case 'status': {
        const r = await status(store, { now, settings: o.settings, where: opened.where });
        if (o.json) json(r);
        else io.out(renderStatus(r));
        return;
      }
      case 'explain': {
        const r = await explain(store, first, { now, settings: o.settings });
        if (!r)
          throw new AuthwatchError(
            `no baseline for user ${safeText(first ?? '')} in ${opened.where} (names are as the log profile canonicalises them)`,
          );
        if (o.json) json(r);
        else io.out(renderExplain(r));
        return;
      }
    }
  } finally {
    await opened.close();
  }
}
