/**
 * From findings to alerts: deterministic ids, the ECS-flavoured document, allowlists, ranking and the cap.
 */
import { createHash } from 'node:crypto';
import { cidrContains, parseCidr, type Cidr } from './net';
import {
  bucketOf,
  dayOf,
  type Alert,
  type Feedback,
  type Finding,
  type LogonObservation,
  type NetworkOwner,
  type TimeWindow,
} from './model';
import type { AlertedPlace } from './suspect';
import type { Detector, SilenceSubject } from './detectors/detector';
import { DETECTORS } from './detectors';
import { isCampaign } from './campaigns';
import { ownerText } from './enrich';
import { signalsText, toSignals } from './signals';
import type { DetectionSettings } from './settings';
import { allowSettingRules } from './allow-rules';
import { userPatternRegExp } from './user-pattern';

/**
 * Deterministic alert id, as Elastic's rules build theirs from (job, bucket time, entity): the same
 * detector, user, place and first-seen 15-minute bucket always give the same id, so the overlapping half
 * of the next window, or a retried run, can never raise it twice. A follow-up (`Finding.followUpOf`) is one per
 * original alert and UTC day of its latest logon: every window that sees the suspect place used again that day
 * finds the same id in the ledger.
 */
export function alertId(
  detector: Pick<Detector, 'id' | 'groupBy'>,
  finding: Pick<Finding, 'user' | 'sourceIp' | 'observation' | 'sourceKey' | 'followUpOf'>,
): string {
  // A source (a campaign) is one alert per UTC day, however many windows it spans: `source:` keeps its ids apart
  // from any user's. A follow-up is one per original alert: the ledger keeps any later one from being raised.
  const entity =
    detector.groupBy === 'source'
      ? `source:${finding.sourceKey ?? finding.sourceIp}`
      : detector.groupBy === 'user'
        ? finding.user
        : `${finding.user}\u0000${finding.sourceIp}`;
  const key =
    finding.followUpOf !== undefined
      ? `${detector.id}\u0000follow-up\u0000${finding.followUpOf}`
      : detector.groupBy === 'source'
        ? `${detector.id}\u0000${entity}\u0000day:${dayOf(finding.observation.firstSeen)}`
        : `${detector.id}\u0000${entity}\u0000${bucketOf(finding.observation.firstSeen)}`;
  const h = createHash('sha256').update(key).digest('hex');
  return `${detector.id.replace('Auth.', '').toLowerCase()}-${h.slice(0, 24)}`;
}

/**
 * The addresses a window's alerts make suspect for their users (see `AlertedPlace`): those of detectors whose alerts
 * say so (`Detector.marksPlaceSuspect`), whether delivered, already raised or cut by the cap.
 */
export function alertedPlaces(
  alerts: Iterable<Alert>,
  detectors: readonly Pick<Detector, 'id' | 'marksPlaceSuspect'>[],
): AlertedPlace[] {
  const marking = new Set(detectors.filter((d) => d.marksPlaceSuspect).map((d) => d.id as string));
  const out: AlertedPlace[] = [];
  for (const a of alerts) {
    if (!marking.has(a.rule.id)) continue;
    const owner = alertOwner(a);
    out.push({
      user: a.user.name,
      sourceIp: a.source.ip,
      alertId: a.id,
      detectorId: a.rule.id,
      at: Date.parse(a['@timestamp']),
      ...(owner ? { owner } : {}),
    });
  }
  return out;
}

/** Context from the same window that helps a person judge the alert. */
export interface AlertContext {
  readonly failedAttemptsFromIp: number;
  readonly otherIpsInWindow: readonly string[];
}

/** Index the window's observations so each alert can say what else happened around it. */
export function buildContextIndex(observations: readonly LogonObservation[]): (f: Finding) => AlertContext {
  const failuresByIp = new Map<string, number>();
  const ipsByUser = new Map<string, Set<string>>();
  for (const o of observations) {
    if (o.outcome === 'failure') failuresByIp.set(o.sourceIp, (failuresByIp.get(o.sourceIp) ?? 0) + o.count);
    else {
      let s = ipsByUser.get(o.user);
      if (!s) ipsByUser.set(o.user, (s = new Set()));
      s.add(o.sourceIp);
    }
  }
  return (f) => ({
    failedAttemptsFromIp: failuresByIp.get(f.sourceIp) ?? 0,
    otherIpsInWindow: [...(ipsByUser.get(f.user) ?? [])]
      .filter((ip) => ip !== f.sourceIp)
      .sort()
      .slice(0, 20),
  });
}

/** A word as one POSIX shell argument: bare when it is plainly safe, else single-quoted. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9@%+=:,./_][A-Za-z0-9@%+=:,./_-]*$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line every hint starts with. */
const CLI = 'npm run authwatch --';

/**
 * Where the silence commands act: the deployed baselines table and its region. The detector's composition root
 * knows both (its runtime config and `AWS_REGION`) and hands them to the sink, which fills them into each alert
 * before delivery; without them (a local replay) the hint keeps the `<table>` placeholder.
 */
export interface SilenceTarget {
  readonly tableName: string;
  readonly region?: string;
}

/** `--table <name>`, quoted for the shell; the placeholder when no target is known. */
function tableArgs(target: SilenceTarget | undefined): string {
  return target ? `--table ${shellQuote(target.tableName)}` : '--table <table>';
}

/**
 * The command prefix: the CLI takes its region from the AWS SDK's chain (it has no region option), so the
 * deployment's region is set for that one command, `AWS_REGION=eu-west-1 npm run authwatch -- …`.
 */
function cliPrefix(target: SilenceTarget | undefined): string {
  return target?.region ? `AWS_REGION=${shellQuote(target.region)} ${CLI}` : CLI;
}

/**
 * The `authwatch` commands a detector's silence hints are made of, with the table, the region and the quoting
 * filled in: each returns the whole command line for the shell.
 */
export interface SilenceCommands {
  /** `benign <alert-id>`: the analyst confirms this alert's logon was the user's. */
  benign(alertId: string): string;
  /** `allow cidr <cidr> [--user <name>]`: a range never alerted on, for everyone or one user. */
  allowCidr(cidr: string, user?: string): string;
  /** `allow asn <AS> [--user <name>] [--until <day>]`: a network never alerted on, for everyone or one user. */
  allowAsn(asn: number, user?: string, until?: string): string;
  /**
   * `allow country <CC> [--user <name>] [--until <day>]`: a country never alerted on, for everyone or one user,
   * until a day (`YYYY-MM-DD`): a trip.
   */
  allowCountry(country: string, user?: string, until?: string): string;
  /** `allow user <name>`: a user never alerted on. */
  allowUser(name: string): string;
  /** `unmark <alert-id|source>`: take back a source's hostile mark (`authwatch malicious`). */
  unmark(target: string): string;
  /** `malicious <alert-id>`: the analyst confirms the alert's source is hostile (every later logon from it alerts). */
  malicious(alertId: string): string;
  /** The sentence that sends the reader to the detector's threshold. */
  threshold(): string;
}

/** ` --user <name>`, or nothing for everyone. A name starting with `-` would be read as an option: `--user=<name>`. */
function userOption(user: string | undefined): string {
  if (user === undefined) return '';
  return user.startsWith('-') ? ` --user=${shellQuote(user)}` : ` --user ${shellQuote(user)}`;
}

/** ` --until <day>`, or nothing for good. */
function untilOption(until: string | undefined): string {
  return until === undefined ? '' : ` --until ${shellQuote(until)}`;
}

function silenceCommands(detectorId: string, target: SilenceTarget | undefined): SilenceCommands {
  const TABLE = tableArgs(target);
  const CLI = cliPrefix(target);
  return {
    benign: (id) => `${CLI} benign ${shellQuote(id)} ${TABLE}`,
    allowCidr: (cidr, user) => `${CLI} allow cidr ${shellQuote(cidr)}${userOption(user)} ${TABLE}`,
    allowAsn: (asn, user, until) =>
      `${CLI} allow asn ${shellQuote(String(asn))}${userOption(user)}${untilOption(until)} ${TABLE}`,
    // The code comes from the alert document (`source.geo`), which a ledger copy may hold edited: quoted.
    allowCountry: (country, user, until) =>
      `${CLI} allow country ${shellQuote(country)}${userOption(user)}${untilOption(until)} ${TABLE}`,
    // A name starting with `-` would be read as an option: after `--`, which ends the options.
    allowUser: (name) =>
      name.startsWith('-')
        ? `${CLI} allow user ${TABLE} -- ${shellQuote(name)}`
        : `${CLI} allow user ${shellQuote(name)} ${TABLE}`,
    unmark: (target) => `${CLI} unmark ${shellQuote(target)} ${TABLE}`,
    malicious: (id) => `${CLI} malicious ${shellQuote(id)} ${TABLE}`,
    threshold: () => `Routinely benign: raise the ${detectorId} threshold.`,
  };
}

/**
 * How a person silences this alert if it is benign: `authwatch` commands against the baselines table,
 * honoured by the next run (see the README's "First week"), with this alert's id, user and address filled in.
 * Which commands fit is the detector's to say (`Detector.silence`); the commands themselves are built here.
 * Short: every hint is repeated in each protocol's copy of the SNS message, and ten alerts share 256 KiB.
 */
export function silenceHints(
  subject: SilenceSubject,
  detector: Pick<Detector, 'id' | 'silence'>,
  target?: SilenceTarget,
): string[] {
  return detector.silence(subject, silenceCommands(detector.id, target));
}

/**
 * The alert as delivered from a deployment: its silence hints name the real table and region. The hints are
 * rebuilt from the alert's own fields (never by replacing text, which a quoted user name could contain).
 */
export function withSilenceTarget(a: Alert, target: SilenceTarget | undefined): Alert {
  const detector = target && DETECTORS.find((d) => d.id === a.rule.id);
  if (!detector) return a;
  const owner = alertOwner(a);
  const subject = {
    user: a.user.name,
    sourceIp: a.source.ip,
    alertId: a.id,
    at: Date.parse(a['@timestamp']),
    ...(owner ? { owner } : {}),
    ...(typeof a.evidence === 'object' && a.evidence !== null ? { evidence: a.evidence } : {}),
  };
  return { ...a, silence: silenceHints(subject, detector, target) };
}

/** The alert document (ECS JSON) as machine subscribers receive it and the ledger keeps it. */
export function alertDocument(a: Alert): string {
  return JSON.stringify(a);
}

/** Fields a bounded document always keeps whole: what identifies the alert. */
const KEEP_WHOLE = new Set(['id', '@timestamp', 'rule.id']);
/** Strings are cut no shorter than this while trimming; lists keep at least one item. */
const MIN_TRIMMED_CHARS = 64;

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The largest trimmable value in `v` (a list of 2+ items, or a string over the minimum) with its parent and key. */
function largestTrimmable(
  v: Json,
  path: string,
  best: { bytes: number; parent?: Json[] | { [k: string]: Json }; key?: string | number },
): number {
  const consider = (child: Json, parent: Json[] | { [k: string]: Json }, key: string | number, childPath: string) => {
    const bytes = largestTrimmable(child, childPath, best);
    const trimmable =
      !KEEP_WHOLE.has(childPath) &&
      ((Array.isArray(child) && child.length > 1) || (typeof child === 'string' && child.length > MIN_TRIMMED_CHARS));
    if (trimmable && bytes > best.bytes) {
      best.bytes = bytes;
      best.parent = parent;
      best.key = key;
    }
    return bytes;
  };
  // Exactly JSON.stringify's length: brackets, and one separator per item (a comma, or the last item's bracket).
  if (Array.isArray(v)) return v.length === 0 ? 2 : v.reduce<number>((n, x, i) => n + consider(x, v, i, path) + 1, 1);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    return entries.length === 0
      ? 2
      : entries.reduce(
          (n, [k, x]) => n + utf8Bytes(JSON.stringify(k)) + 2 + consider(x, v, k, path ? `${path}.${k}` : k),
          1,
        );
  }
  return utf8Bytes(JSON.stringify(v));
}

/**
 * The alert document cut to at most `maxBytes` (UTF-8) for keeping: while it is too large, the largest list
 * (evidence lists, other addresses, hosts) loses its second half, or the largest string (a 10 KB user name, a
 * long explanation) is cut to half with `…`, and the document is marked `"truncated": true`. The alert's id,
 * time and rule id are never cut. Undefined when `document` is not a JSON object, or when not even its
 * identifying fields fit.
 */
export function boundAlertDocument(document: string, maxBytes: number): string | undefined {
  if (utf8Bytes(document) <= maxBytes) return document;
  let doc: Json;
  try {
    doc = JSON.parse(document) as Json;
  } catch {
    return undefined;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  doc.truncated = true;
  for (;;) {
    const best: { bytes: number; parent?: Json[] | { [k: string]: Json }; key?: string | number } = { bytes: 0 };
    const total = largestTrimmable(doc, '', best);
    if (total <= maxBytes) return JSON.stringify(doc);
    if (best.parent === undefined || best.key === undefined) return undefined;
    const target = (best.parent as Record<string | number, Json>)[best.key]!;
    const cut = Array.isArray(target)
      ? target.slice(0, Math.ceil(target.length / 2))
      : truncateText(target as string, Math.max(MIN_TRIMMED_CHARS, Math.floor((target as string).length / 2)));
    (best.parent as Record<string | number, Json>)[best.key] = cut;
  }
}

/** Cut to `max` UTF-16 units, never inside a surrogate pair, ending in `…`. */
function truncateText(s: string, max: number): string {
  let head = s.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(head)) head = head.slice(0, -1);
  return `${head}…`;
}

/**
 * Longest organisation name an alert carries. The names come from the publisher's file, unchecked: one broken or
 * hostile line must not put kilobytes into every alert from that AS (real names are under 100 characters).
 */
export const ORG_NAME_MAX_CHARS = 256;

/** `source` of the alert document: the address, and its owner and country (ECS `source.as`, `source.geo`) when known. */
export function alertSource(ip: string, owner: NetworkOwner | undefined): Alert['source'] {
  if (!owner) return { ip };
  const org = owner.org.length > ORG_NAME_MAX_CHARS ? truncateText(owner.org, ORG_NAME_MAX_CHARS) : owner.org;
  return {
    ip,
    as: { number: owner.asn, ...(org !== '' ? { organization: { name: org } } : {}) },
    ...(owner.country ? { geo: { country_iso_code: owner.country } } : {}),
  };
}

/**
 * The owner an alert document names, read back from `source.as`/`source.geo` (undefined when it names none). Checked
 * field by field: a document read back from the ledger may come from another version, or have been edited.
 */
export function alertOwner(a: Pick<Alert, 'source'>): NetworkOwner | undefined {
  const as = a.source.as as { number?: unknown; organization?: { name?: unknown } } | undefined;
  if (!as || typeof as.number !== 'number' || !Number.isSafeInteger(as.number)) return undefined;
  const org = as.organization?.name;
  const country = (a.source.geo as { country_iso_code?: unknown } | undefined)?.country_iso_code;
  return {
    asn: as.number,
    org: typeof org === 'string' ? org : '',
    ...(typeof country === 'string' && country !== '' ? { country } : {}),
  };
}

/**
 * The sentence naming the address's owner, appended to the detector's explanation unless the detector already
 * names the AS itself (the unusual-source-IP detector may reason about owners); empty when the owner is unknown.
 */
function ownerNote(explanation: string, source: Alert['source']): string {
  const owner = alertOwner({ source });
  if (!owner || new RegExp(`\\bAS${owner.asn}\\b`).test(explanation)) return '';
  return ` Network owner of the address: ${ownerText(owner)}.`;
}

/**
 * The name a per-user alert's logons were logged under, when the identity rules joined it to the alert's user
 * (`related.user` is then `[user.name, that name]`); undefined for every other alert.
 */
export function loggedAsOf(a: Pick<Alert, 'user' | 'related' | 'campaign'>): string | undefined {
  if (a.campaign?.users !== undefined || a.user.name === '' || a.related?.user.length !== 2) return undefined;
  return a.related.user[0] === a.user.name ? a.related.user[1] : undefined;
}

/** The alert document for one finding; its silence hints keep the table placeholder until `withSilenceTarget`. */
export function buildAlert(
  f: Finding,
  detector: Detector,
  window: TimeWindow,
  threshold: number,
  context: AlertContext,
): Alert {
  const o = f.observation;
  // An alert about a source says what it did with each user itself; the window's failures are part of it.
  const failedNote =
    f.users === undefined && context.failedAttemptsFromIp > 0
      ? ` ${context.failedAttemptsFromIp} failed logon(s) came from the same address in this window.`
      : '';
  const id = alertId(detector, f);
  const source = alertSource(f.sourceIp, o.owner);
  // The identity provider's own verdict, for the reader; re-checked so only known keys and values reach the document.
  const signals = o.signals === undefined ? undefined : toSignals(o.signals);
  const signalsNote = signals ? ` The identity provider's risk verdict on these logons: ${signalsText(signals)}.` : '';
  return {
    id,
    '@timestamp': new Date(o.firstSeen).toISOString(),
    rule: {
      id: detector.id,
      name: detector.name,
      description: detector.description,
      severity: detector.severity,
      risk_score: detector.riskScore,
      threshold,
      references: detector.references,
      threat: { framework: 'MITRE ATT&CK', tactic: detector.mitre.tactic, technique: detector.mitre.techniques },
    },
    event: { kind: 'alert', category: ['authentication'], outcome: f.outcome ?? 'success', count: o.count },
    user: { name: f.user },
    // The name the logon was logged under, when identity rules joined it to another (ECS: every name seen).
    ...(f.users === undefined && o.loggedAs !== undefined && o.user === f.user && o.loggedAs !== f.user
      ? { related: { user: [f.user, o.loggedAs] } }
      : {}),
    ...(f.users
      ? {
          related: { user: f.users.map((u) => u.name) },
          campaign: {
            source: f.sourceKey ?? f.sourceIp,
            users: f.users,
            ...(f.usersTotal !== undefined && f.usersTotal > f.users.length ? { total: f.usersTotal } : {}),
          },
        }
      : {}),
    source,
    host: { ...(o.hosts[0] !== undefined ? { name: o.hosts[0] } : {}), names: o.hosts },
    score: f.score,
    probability: f.probability,
    explanation: f.explanation + ownerNote(f.explanation, source) + failedNote + signalsNote,
    evidence: f.evidence,
    ...(f.followUpOf !== undefined ? { follow_up_of: f.followUpOf } : {}),
    context: {
      failed_attempts_from_ip: context.failedAttemptsFromIp,
      other_ips_in_window: context.otherIpsInWindow,
      methods: o.methods,
      ...(signals ? { signals } : {}),
    },
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    log_source: o.logSource,
    investigation: detector.investigation,
    false_positives: detector.falsePositives,
    silence: silenceHints(
      {
        user: f.user,
        sourceIp: f.sourceIp,
        alertId: id,
        at: o.firstSeen,
        ...(o.owner ? { owner: o.owner } : {}),
        evidence: f.evidence,
      },
      detector,
    ),
  };
}

/**
 * Compiled allowlists: user globs (case-insensitive, `*` wildcard), CIDRs, AS numbers and countries, some for one
 * user only, some until a time. `at` is the logon's time (epoch ms): an entry with an expiry allows logons before
 * it only, and when `at` is not given such an entry allows nothing (an expiry that cannot be judged never silences).
 */
export interface Allowlist {
  /** The user is allowed whatever the source. */
  allowsUser(user: string, at?: number): boolean;
  /** The source address is allowed for every user (by a range; the owner is not looked at). */
  allowsIp(ip: string, at?: number): boolean;
  /**
   * This user's logon from this source is allowed: by the user, by a range, or by the owner of the address (its
   * AS or its country, from the logon's `owner`), each for every user or for this user only.
   */
  allows(user: string, ip: string, owner?: NetworkOwner, at?: number): boolean;
}

/** An entry that applies to logons before `expiresAt`, for every user or for `user` (exact name) only. */
interface AllowRule<T> {
  readonly value: T;
  readonly user?: string;
  readonly expiresAt?: number;
}

function inForce(r: AllowRule<unknown>, at: number | undefined): boolean {
  return r.expiresAt === undefined || (at !== undefined && at < r.expiresAt);
}

function forUser(r: AllowRule<unknown>, user: string): boolean {
  return r.user === undefined || r.user === user;
}

/**
 * One allowlist from the settings' `allowUsers`/`allowCidrs`/`allowAsns`/`allowCountries` and the analysts'
 * feedback (`authwatch allow`), judged alike: user patterns match the same way; a range, AS or country with a
 * `user` applies to that exact user name only; an entry with an end (the settings' `until`, the feedback's
 * `expiresAt`) applies to logons before the end of its day only. A plain settings value is for every user and for
 * good. A CIDR that does not parse (validated when written, so only a hand-edited item) is ignored.
 */
export function compileAllowlist(
  settings: Pick<DetectionSettings, 'allowUsers' | 'allowCidrs'> &
    Partial<Pick<DetectionSettings, 'allowAsns' | 'allowCountries'>>,
  feedback?: Pick<Feedback, 'allowUsers' | 'allowCidrs' | 'allowAsns' | 'allowCountries'>,
): Allowlist {
  const fromSettings = allowSettingRules(settings);
  const users: AllowRule<RegExp>[] = [
    ...fromSettings.users.map((r) => ({ value: userPatternRegExp(r.value), expiresAt: r.expiresAt })),
    ...(feedback?.allowUsers ?? []).map((e) => ({ value: userPatternRegExp(e.pattern), expiresAt: e.expiresAt })),
  ];
  const cidrs: AllowRule<Cidr>[] = [];
  for (const r of fromSettings.cidrs) {
    const parsed = parseCidr(r.value);
    if (parsed) cidrs.push({ value: parsed, user: r.user, expiresAt: r.expiresAt });
  }
  for (const e of feedback?.allowCidrs ?? []) {
    const parsed = parseCidr(e.cidr);
    if (parsed) cidrs.push({ value: parsed, user: e.user, expiresAt: e.expiresAt });
  }
  const asns: AllowRule<number>[] = [
    ...fromSettings.asns,
    ...(feedback?.allowAsns ?? []).map((e) => ({ value: e.asn, user: e.user, expiresAt: e.expiresAt })),
  ];
  const countries: AllowRule<string>[] = [
    ...fromSettings.countries,
    ...(feedback?.allowCountries ?? []).map((e) => ({ value: e.country, user: e.user, expiresAt: e.expiresAt })),
  ];
  const allowsUser = (u: string, at?: number) => users.some((r) => inForce(r, at) && r.value.test(u));
  const allowsIp = (ip: string, at?: number) =>
    cidrs.some((r) => r.user === undefined && inForce(r, at) && cidrContains(r.value, ip));
  return {
    allowsUser,
    allowsIp,
    allows: (u, ip, owner, at) =>
      allowsUser(u, at) ||
      cidrs.some((r) => forUser(r, u) && inForce(r, at) && cidrContains(r.value, ip)) ||
      (owner !== undefined &&
        (asns.some((r) => r.value === owner.asn && forUser(r, u) && inForce(r, at)) ||
          (owner.country !== undefined &&
            countries.some((r) => r.value === owner.country && forUser(r, u) && inForce(r, at))))),
  };
}

/**
 * Campaigns first (one alert stands for many users, and the digest leads with them), then highest score; ties
 * broken by earliest logon, then id, so the cut is deterministic.
 */
export function rankAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      Number(isCampaign(b)) - Number(isCampaign(a)) ||
      b.score - a.score ||
      a['@timestamp'].localeCompare(b['@timestamp']) ||
      a.id.localeCompare(b.id),
  );
}

/** Keep the `max` best; the rest are reported as cut (Elastic's rules raise at most 100 alerts per run). */
export function capAlerts(ranked: readonly Alert[], max: number): { kept: Alert[]; cut: Alert[] } {
  return { kept: ranked.slice(0, max), cut: ranked.slice(max) };
}

/**
 * A window's findings as alerts: each against its detector's threshold, then the allowlists (a detector whose
 * findings carry an analyst's explicit word, a hostile mark, is not silenced by them), then one alert per entity (a
 * new user seen from two IPs is one alert: the higher score, the earlier logon on a tie), and one per user and
 * detector for detectors that say so (the rare user: the earliest logon; ids differ by first-seen bucket when a user
 * spans buckets). `onFinding` is told every finding judged, below the threshold too. Returns the candidates by id and
 * how many findings above their threshold an allowlist silenced.
 */
export function alertCandidates(
  findings: readonly { readonly finding: Finding; readonly detector: Detector }[],
  opts: {
    readonly observations: readonly LogonObservation[];
    readonly window: TimeWindow;
    readonly settings: Pick<DetectionSettings, 'thresholds'>;
    readonly allow: ReturnType<typeof compileAllowlist>;
    readonly detectors: readonly Pick<Detector, 'id' | 'oneAlertPerUser'>[];
    readonly onFinding?: (finding: Finding, threshold: number) => void;
  },
): { candidates: Map<string, Alert>; suppressed: number } {
  const context = buildContextIndex(opts.observations);
  let suppressed = 0;
  const candidates = new Map<string, Alert>();
  for (const { finding, detector } of findings) {
    const threshold = opts.settings.thresholds[detector.id];
    opts.onFinding?.(finding, threshold);
    if (finding.score < threshold) continue;
    if (
      !detector.overridesAllowlists &&
      opts.allow.allows(finding.user, finding.sourceIp, finding.observation.owner, finding.observation.firstSeen)
    ) {
      suppressed++;
      continue;
    }
    const alert = buildAlert(finding, detector, opts.window, threshold, context(finding));
    const prev = candidates.get(alert.id);
    if (!prev || alert.score > prev.score || (alert.score === prev.score && alert['@timestamp'] < prev['@timestamp']))
      candidates.set(alert.id, alert);
  }
  const onePerUser = new Set<string>(opts.detectors.filter((d) => d.oneAlertPerUser).map((d) => d.id));
  const seenUser = new Set<string>();
  for (const a of [...candidates.values()].sort((x, y) => x['@timestamp'].localeCompare(y['@timestamp']))) {
    if (!onePerUser.has(a.rule.id)) continue;
    const key = `${a.rule.id}\u0000${a.user.name}`;
    if (seenUser.has(key)) candidates.delete(a.id);
    else seenUser.add(key);
  }
  return { candidates, suppressed };
}
