/**
 * The naive baseline the evaluation compares against: "alert on every new (user, IP) pair after the
 * learning period". It knows no shared egress, no prefixes, no per-user churn — the floor any real
 * detector must beat on noise without losing recall.
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
