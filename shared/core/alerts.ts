/**
 * From findings to alerts: deterministic ids, the ECS-flavoured document, allowlists, ranking and the cap.
 */
import { createHash } from 'node:crypto';
import { cidrContains, parseCidr, placeOf, type Cidr } from './net';
import { bucketOf, type Alert, type Feedback, type Finding, type LogonObservation, type TimeWindow } from './model';
import type { Detector } from './detectors/detector';
import type { DetectionSettings } from './settings';

/**
 * Deterministic alert id, as Elastic's rules build theirs from (job, bucket time, entity): the same
 * detector, user, place and first-seen 15-minute bucket always give the same id, so the overlapping half
 * of the next window, or a retried run, can never raise it twice.
 */
export function alertId(detector: Pick<Detector, 'id' | 'groupBy'>, finding: Pick<Finding, 'user' | 'sourceIp' | 'observation'>): string {
  const entity = detector.groupBy === 'user' ? finding.user : `${finding.user}\u0000${finding.sourceIp}`;
  const h = createHash('sha256').update(`${detector.id}\u0000${entity}\u0000${bucketOf(finding.observation.firstSeen)}`).digest('hex');
  return `${detector.id.replace('Auth.', '').toLowerCase()}-${h.slice(0, 24)}`;
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
    otherIpsInWindow: [...(ipsByUser.get(f.user) ?? [])].filter((ip) => ip !== f.sourceIp).sort().slice(0, 20),
  });
}

/** A word as one POSIX shell argument: bare when it is plainly safe, else single-quoted. */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9@%+=:,./_][A-Za-z0-9@%+=:,./_-]*$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The command line every hint starts with; `<table>` is the baselines table (the stack's `BaselinesTableName` output). */
const CLI = 'npm run authwatch --';
const TABLE = '--table <table>';

/**
 * How a person silences this alert if it is benign: `authwatch` commands against the baselines table,
 * honoured by the next run (see the README's "First week"). `<alert-id>` is left for the alert's own id,
 * which is not known until the alert is built.
 */
export function silenceHints(f: Finding, detector: Pick<Detector, 'id'>): string[] {
  // Short: every hint is repeated in each protocol's copy of the SNS message, and ten alerts share 256 KiB.
  const threshold = `Routinely benign: raise the ${detector.id} threshold.`;
  if (detector.id === 'Auth.UnusualSourceIp') {
    const prefix = placeOf(f.sourceIp, 'prefix');
    const user = f.user.startsWith('-') ? `--user=${shellQuote(f.user)}` : `--user ${shellQuote(f.user)}`;
    return [
      `The user confirms it: ${CLI} benign <alert-id> ${TABLE}`,
      `Subnet always fine for this user: ${CLI} allow cidr ${prefix} ${user} ${TABLE}`,
      `Fine for everyone (scanner, bastion): ${CLI} allow cidr ${f.sourceIp}/${f.sourceIp.includes(':') ? 128 : 32} ${TABLE}`,
      threshold,
    ];
  }
  // A name starting with `-` would be read as an option: after `--`, which ends the options.
  const allowUser = f.user.startsWith('-') ? `allow user ${TABLE} -- ${shellQuote(f.user)}` : `allow user ${shellQuote(f.user)} ${TABLE}`;
  return [`A legitimate account (new hire, returning user): nothing to do, it is now known.`, `Never alert on it (service account): ${CLI} ${allowUser}`, threshold];
}

export function buildAlert(f: Finding, detector: Detector, window: TimeWindow, threshold: number, context: AlertContext): Alert {
  const o = f.observation;
  const failedNote = context.failedAttemptsFromIp > 0 ? ` ${context.failedAttemptsFromIp} failed logon(s) came from the same address in this window.` : '';
  const id = alertId(detector, f);
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
    event: { kind: 'alert', category: ['authentication'], outcome: 'success', count: o.count },
    user: { name: f.user },
    source: { ip: f.sourceIp },
    host: { ...(o.hosts[0] !== undefined ? { name: o.hosts[0] } : {}), names: o.hosts },
    score: f.score,
    probability: f.probability,
    explanation: f.explanation + failedNote,
    evidence: f.evidence,
    context: { failed_attempts_from_ip: context.failedAttemptsFromIp, other_ips_in_window: context.otherIpsInWindow, methods: o.methods },
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    log_source: o.logSource,
    investigation: detector.investigation,
    false_positives: detector.falsePositives,
    silence: silenceHints(f, detector).map((h) => h.replace('<alert-id>', id)),
  };
}

/** Compiled allowlists: user globs (case-insensitive, `*` wildcard) and CIDRs, some for one user only. */
export interface Allowlist {
  /** The user is allowed whatever the source. */
  allowsUser(user: string): boolean;
  /** The source is allowed for every user. */
  allowsIp(ip: string): boolean;
  /** This user's logon from this source is allowed (by any of the above, or a CIDR allowed for this user only). */
  allows(user: string, ip: string): boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

/**
 * One allowlist from the settings' `allowUsers`/`allowCidrs` and the analysts' feedback (`authwatch allow`):
 * feedback user patterns match like the setting's; a feedback CIDR with a `user` applies to that exact user
 * name only. A CIDR that does not parse (validated when written, so only a hand-edited item) is ignored.
 */
export function compileAllowlist(settings: Pick<DetectionSettings, 'allowUsers' | 'allowCidrs'>, feedback?: Pick<Feedback, 'allowUsers' | 'allowCidrs'>): Allowlist {
  const users = [...settings.allowUsers, ...(feedback?.allowUsers.map((e) => e.pattern) ?? [])].map(globToRegExp);
  const cidrs = [...settings.allowCidrs, ...(feedback?.allowCidrs.filter((e) => e.user === undefined).map((e) => e.cidr) ?? [])]
    .map(parseCidr)
    .filter((c): c is Cidr => c !== undefined);
  const perUser = new Map<string, Cidr[]>();
  for (const e of feedback?.allowCidrs ?? []) {
    if (e.user === undefined) continue;
    const c = parseCidr(e.cidr);
    if (!c) continue;
    const list = perUser.get(e.user);
    if (list) list.push(c);
    else perUser.set(e.user, [c]);
  }
  const allowsUser = (u: string) => users.some((r) => r.test(u));
  const allowsIp = (ip: string) => cidrs.some((c) => cidrContains(c, ip));
  return {
    allowsUser,
    allowsIp,
    allows: (u, ip) => allowsUser(u) || allowsIp(ip) || (perUser.get(u)?.some((c) => cidrContains(c, ip)) ?? false),
  };
}

/** Highest score first; ties broken by earliest logon, then id, so the cut is deterministic. */
export function rankAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort((a, b) => b.score - a.score || a['@timestamp'].localeCompare(b['@timestamp']) || a.id.localeCompare(b.id));
}

/** Keep the `max` best; the rest are reported as cut (Elastic's rules raise at most 100 alerts per run). */
export function capAlerts(ranked: readonly Alert[], max: number): { kept: Alert[]; cut: Alert[] } {
  return { kept: ranked.slice(0, max), cut: ranked.slice(max) };
}
