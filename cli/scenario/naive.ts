/**
 * The naive baselines the evaluation compares against:
 * - "alert on every new (user, IP) pair after the learning period". It knows no shared egress, no prefixes, no
 *   per-user churn — the floor any real detector must beat on noise without losing recall;
 * - "N failed logons from one address in a window" (fail2ban's rule, and many a SIEM's first one), for failures:
 *   it knows no real users from `root`, no usual addresses, no slow campaigns.
 */
import type { LogonEvent } from '../../shared/core/model';

export interface NaiveAlert {
  readonly user: string;
  readonly sourceIp: string;
  /** Epoch ms of the pair's first successful logon. */
  readonly timestamp: number;
}

/**
 * One alert per (user, IP) pair at its first successful logon at or after `learningEnd`, unless the pair
 * logged on successfully before `learningEnd` (pairs seen while learning are known). Failures are ignored.
 * Events need not be sorted; alerts come out in time order.
 */
export function naiveFirstSeenAlerts(events: readonly LogonEvent[], learningEnd: number): NaiveAlert[] {
  const sorted = [...events].filter((e) => e.outcome === 'success').sort((a, b) => a.timestamp - b.timestamp);
  const known = new Set<string>();
  const alerts: NaiveAlert[] = [];
  for (const e of sorted) {
    const key = `${e.user}\u0000${e.sourceIp}`;
    if (known.has(key)) continue;
    known.add(key);
    if (e.timestamp >= learningEnd) alerts.push({ user: e.user, sourceIp: e.sourceIp, timestamp: e.timestamp });
  }
  return alerts;
}

/**
 * The failure rule's thresholds the evaluation reports: 10 failures an hour catches a burst spray and brute force
 * but also every busy scanner; 20 is what one sets after a week of that, and lets more through.
 */
export const NAIVE_FAILURE_THRESHOLDS = [10, 20] as const;
/** The failure rule's window: fixed UTC hours. */
export const NAIVE_FAILURE_WINDOW_MS = 3_600_000;

/** The id the evaluation reports the failure rule under, by threshold: `naive-failures-10`. */
export function naiveFailureRuleId(threshold: number): string {
  return `naive-failures-${threshold}`;
}

/** An alert of the failure rule: about an address (`user` empty), naming the users its failures tried. */
export interface NaiveFailureAlert extends NaiveAlert {
  /** Empty: the alert is about an address. */
  readonly user: '';
  /** The users the address failed as in the window, sorted. */
  readonly users: readonly string[];
  /** The address, as an alert about a source names it. */
  readonly campaignSource: string;
}

/**
 * "`threshold` failed logons from one address in a window": one alert per (address, window) with at least
 * `threshold` failures, at the failure that reached it, for windows (fixed, `windowMs` long, from the epoch) that
 * start at or after `learningEnd`. Successes are ignored. Events need not be sorted; alerts come out in time order
 * (then by address).
 *
 * @throws RangeError when `threshold` is not a positive integer or `windowMs` not a positive duration.
 */
export function naiveFailureAlerts(
  events: readonly LogonEvent[],
  learningEnd: number,
  threshold: number,
  windowMs: number = NAIVE_FAILURE_WINDOW_MS,
): NaiveFailureAlert[] {
  if (!Number.isInteger(threshold) || threshold < 1)
    throw new RangeError(`threshold must be a positive integer, got ${threshold}`);
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  const byKey = new Map<string, { ip: string; times: number[]; users: Set<string> }>();
  for (const e of events) {
    if (e.outcome !== 'failure') continue;
    const window = Math.floor(e.timestamp / windowMs);
    if (window * windowMs < learningEnd) continue;
    const key = `${e.sourceIp}\u0000${window}`;
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { ip: e.sourceIp, times: [], users: new Set() }));
    g.times.push(e.timestamp);
    g.users.add(e.user);
  }
  const alerts: NaiveFailureAlert[] = [];
  for (const g of byKey.values()) {
    if (g.times.length < threshold) continue;
    const at = g.times.sort((a, b) => a - b)[threshold - 1]!;
    alerts.push({ user: '', sourceIp: g.ip, timestamp: at, users: [...g.users].sort(), campaignSource: g.ip });
  }
  return alerts.sort(
    (a, b) => a.timestamp - b.timestamp || (a.sourceIp < b.sourceIp ? -1 : a.sourceIp > b.sourceIp ? 1 : 0),
  );
}
