/**
 * From findings to alerts: deterministic ids, the ECS-flavoured document, allowlists, ranking and the cap.
 */
import { createHash } from 'node:crypto';
import { cidrContains, parseCidr, type Cidr } from './net';
import { bucketOf, type Alert, type Finding, type LogonObservation, type TimeWindow } from './model';
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

/** How a person silences this alert if it is benign (configuration keys today; see the README's tuning section). */
export function silenceHints(f: Finding, detector: Pick<Detector, 'id'>): string[] {
  const hints = [`Allow the user: add ${JSON.stringify(f.user)} to the allowUsers setting.`];
  if (detector.id === 'Auth.UnusualSourceIp') hints.push(`Allow the address: add ${JSON.stringify(`${f.sourceIp}/${f.sourceIp.includes(':') ? 128 : 32}`)} to the allowCidrs setting.`);
  hints.push(`Raise the ${detector.id} threshold (now applied at the alert's rule.threshold) if alerts like this are routinely benign.`);
  return hints;
}

export function buildAlert(f: Finding, detector: Detector, window: TimeWindow, threshold: number, context: AlertContext): Alert {
  const o = f.observation;
  const failedNote = context.failedAttemptsFromIp > 0 ? ` ${context.failedAttemptsFromIp} failed logon(s) came from the same address in this window.` : '';
  return {
    id: alertId(detector, f),
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
    silence: silenceHints(f, detector),
  };
}

/** Compiled allowlists: user globs (case-insensitive, `*` wildcard) and CIDRs. */
export interface Allowlist {
  allowsUser(user: string): boolean;
  allowsIp(ip: string): boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

export function compileAllowlist(settings: Pick<DetectionSettings, 'allowUsers' | 'allowCidrs'>): Allowlist {
  const users = settings.allowUsers.map(globToRegExp);
  const cidrs = settings.allowCidrs.map(parseCidr).filter((c): c is Cidr => c !== undefined);
  return {
    allowsUser: (u) => users.some((r) => r.test(u)),
    allowsIp: (ip) => cidrs.some((c) => cidrContains(c, ip)),
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
