/**
 * Build baselines the way production does: by applying logons through `computeBaselineUpdate`, bucket by
 * bucket. Tests then describe a user's habits ("home IP twice a day for three weeks") rather than
 * hand-writing counters that might not be reachable.
 */
import { computeBaselineUpdate } from '../../shared/core/baseline-update';
import { DAY_MS, emptyPopulation, type LogonObservation, type PopulationStats, type UserBaseline } from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';

/** Monday 2026-03-02 00:00 UTC: a fixed origin for test timelines. */
export const T0 = Date.UTC(2026, 2, 2);
export const HOUR = 3_600_000;

export function logon(user: string, sourceIp: string, t: number, overrides: Partial<LogonObservation> = {}): LogonObservation {
  return { user, sourceIp, outcome: 'success', count: 1, firstSeen: t, lastSeen: t, hosts: ['web-01'], methods: ['publickey'], logSource: 'sshd', ...overrides };
}

export class History {
  readonly users = new Map<string, UserBaseline>();
  population: PopulationStats = emptyPopulation();

  /** Apply logons (each is its own window end), in time order. */
  apply(observations: LogonObservation[], learning = true): this {
    const sorted = [...observations].sort((a, b) => a.lastSeen - b.lastSeen);
    for (const o of sorted) {
      const u = computeBaselineUpdate([o], this.users, this.population, { windowEnd: o.lastSeen + 1, learning, settings: DEFAULT_SETTINGS });
      for (const b of u.users) this.users.set(b.user, { ...b, version: b.version + 1 });
      this.population = u.population;
    }
    return this;
  }

  /** `user` logs on from `ips` (cycled) at the given hours of every day in [fromDay, toDay). */
  daily(user: string, ips: readonly string[] | ((day: number, i: number) => string), opts: { fromDay?: number; toDay: number; hours?: number[]; learning?: boolean }): this {
    const obs: LogonObservation[] = [];
    const hours = opts.hours ?? [9, 14];
    let i = 0;
    for (let d = opts.fromDay ?? 0; d < opts.toDay; d++) {
      for (const h of hours) {
        const ip = typeof ips === 'function' ? ips(d, i) : ips[i % ips.length]!;
        obs.push(logon(user, ip, T0 + d * DAY_MS + h * HOUR));
        i++;
      }
    }
    return this.apply(obs, opts.learning ?? true);
  }

  /** `count` distinct users each log on once from `ip` (shared egress). */
  shared(ip: string, count: number, t: number, prefix = 'staff'): this {
    return this.apply(Array.from({ length: count }, (_, k) => logon(`${prefix}${k}`, ip, t + k)));
  }

  get(user: string): UserBaseline {
    const b = this.users.get(user);
    if (!b) throw new Error(`no baseline for ${user}`);
    return b;
  }
}
