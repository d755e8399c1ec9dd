/** A real Alert built through the core (buildAlert on a Finding), for tests of what renders or delivers alerts. */
import { buildAlert } from '../../shared/core/alerts';
import { rareUser, unusualSourceIp } from '../../shared/core/detectors';
import type { Alert, EvidenceValue, Finding, NetworkOwner } from '../../shared/core/model';

export const ALERT_T = Date.UTC(2026, 2, 20, 10, 0);
export const ALERT_WINDOW = { start: ALERT_T - 30 * 60_000, end: ALERT_T };

export interface AlertOptions {
  user?: string;
  ip?: string;
  score?: number;
  hosts?: string[];
  detector?: 'rare' | 'ip';
  failed?: number;
  otherIps?: string[];
  evidence?: Record<string, EvidenceValue>;
  /** The detector's sentence (default: a rare-user one). */
  explanation?: string;
  /** The source address's network owner, as enrichment would have set it. */
  owner?: NetworkOwner;
  /** The name the logons were logged under, when identity rules made `user` another (`LogonObservation.loggedAs`). */
  loggedAs?: string;
}

export function makeAlert(o: AlertOptions = {}): Alert {
  const user = o.user ?? 'alice';
  const ip = o.ip ?? '203.0.113.9';
  const detector = o.detector === 'ip' ? unusualSourceIp : rareUser;
  const T = ALERT_T;
  const finding: Finding = {
    detectorId: detector.id,
    user,
    sourceIp: ip,
    observation: {
      user,
      sourceIp: ip,
      outcome: 'success',
      count: 3,
      firstSeen: T - 20 * 60_000,
      lastSeen: T - 5 * 60_000,
      hosts: o.hosts ?? ['web-01'],
      methods: ['publickey'],
      logSource: 'sshd',
      ...(o.owner ? { owner: o.owner } : {}),
      ...(o.loggedAs !== undefined ? { loggedAs: o.loggedAs } : {}),
    },
    score: o.score ?? 88,
    probability: 0.0004,
    explanation:
      o.explanation ??
      `${user} logged on for the first time ever seen (from ${ip}). Among 40 known users, new user names appear in 1 in 2,500 of active user-periods. Probability 0.00040.`,
    evidence: o.evidence ?? { kind: 'new', known_users: 40, population_new_user_rate: 0.0004 },
  };
  return buildAlert(finding, detector, ALERT_WINDOW, 75, {
    failedAttemptsFromIp: o.failed ?? 0,
    otherIpsInWindow: o.otherIps ?? [],
  });
}
