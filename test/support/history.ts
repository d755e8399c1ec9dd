/**
 * Build baselines the way production does: by applying logons through `computeBaselineUpdate`, bucket by
 * bucket. Tests then describe a user's habits ("home IP twice a day for three weeks") rather than
 * hand-writing counters that might not be reachable.
 */
import { computeBaselineUpdate } from '../../shared/core/baseline-update';
import {
  BUCKET_MS,
  DAY_MS,
  emptyPopulation,
  type LogonObservation,
  type NetworkOwner,
  type PopulationStats,
  type UserBaseline,
} from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';

/** Monday 2026-03-02 00:00 UTC: a fixed origin for test timelines. */
export const T0 = Date.UTC(2026, 2, 2);
export const HOUR = 3_600_000;

export function logon(
  user: string,
  sourceIp: string,
  t: number,
  overrides: Partial<LogonObservation> = {},
): LogonObservation {
  return {
    user,
    sourceIp,
    outcome: 'success',
    count: 1,
    firstSeen: t,
    lastSeen: t,
    hosts: ['web-01'],
    methods: ['publickey'],
    logSource: 'sshd',
    ...overrides,
  };
}

/**
 * A history under construction. Logons given to `apply`, `daily` and `shared` are queued and applied in
 * time order, across calls, when the baselines or the population are first read: production learns
 * windows in time order, and the population's decayed counters (and each user's decaying share of a
 * shared place) assume it.
 */
export class History {
  readonly #users = new Map<string, UserBaseline>();
  #population: PopulationStats = emptyPopulation();
  #pending: { obs: LogonObservation[]; end: number; learning: boolean }[] = [];

  /**
   * `excludeFromPopulation`: users who learn only their own baseline (allowlisted accounts). `ownerOf`: the network
   * owner of an address, set on every logon learned (as the enrichment does in production); without it, logons
   * carry no owner, as before network data existed.
   */
  constructor(
    readonly opts: {
      excludeFromPopulation?: (user: string) => boolean;
      ownerOf?: (ip: string, at: number) => NetworkOwner | undefined;
    } = {},
  ) {}

  get users(): Map<string, UserBaseline> {
    this.flush();
    return this.#users;
  }

  get population(): PopulationStats {
    this.flush();
    return this.#population;
  }

  /** Queue logons (each is its own window end). */
  apply(observations: LogonObservation[], learning = true): this {
    for (const o of observations) this.#pending.push({ obs: [o], end: o.lastSeen + 1, learning });
    return this;
  }

  /** Queue logons learned together as one window ending just after the last of them (a busy run). */
  window(observations: LogonObservation[], learning = true): this {
    if (observations.length > 0)
      this.#pending.push({ obs: observations, end: Math.max(...observations.map((o) => o.lastSeen)) + 1, learning });
    return this;
  }

  /** Apply the queued windows in time order (stable for equal times). */
  flush(): this {
    const queued = this.#pending.map((p, i) => ({ ...p, i })).sort((a, b) => a.end - b.end || a.i - b.i);
    this.#pending = [];
    const ownerOf = this.opts.ownerOf;
    for (const { obs: raw, end, learning } of queued) {
      const obs = ownerOf
        ? raw.map((o) => {
            const owner = o.owner ?? ownerOf(o.sourceIp, o.lastSeen);
            return owner ? { ...o, owner } : o;
          })
        : raw;
      const u = computeBaselineUpdate(obs, this.#users, this.#population, {
        windowEnd: end,
        learning,
        settings: DEFAULT_SETTINGS,
        ...(this.opts.excludeFromPopulation ? { excludeFromPopulation: this.opts.excludeFromPopulation } : {}),
      });
      for (const b of u.users) this.#users.set(b.user, { ...b, version: b.version + 1 });
      this.#population = u.population;
    }
    return this;
  }

  /** `user` logs on from `ips` (cycled) at the given hours of every day in [fromDay, toDay). */
  daily(
    user: string,
    ips: readonly string[] | ((day: number, i: number) => string),
    opts: { fromDay?: number; toDay: number; hours?: number[]; learning?: boolean },
  ): this {
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

/** A user of `organisation`: where they log on from on a given day (undefined: not that day). */
export type Habit = (day: number) => string[] | undefined;

/**
 * An organisation's logons, one day at a time, learned in 15-minute windows as production does (every
 * user's logons of a bucket in one window). `habits` gives each user's addresses for the day, logged on
 * from 08:00, 40 minutes apart (closer when there are many, to stay within the working day), offset by a few seconds per user.
 */
export function organisationDay(h: History, habits: ReadonlyMap<string, Habit>, day: number, learning = true): History {
  const byBucket = new Map<number, LogonObservation[]>();
  let u = 0;
  for (const [user, habit] of habits) {
    const ips = habit(day) ?? [];
    const spacing = Math.min(40 * 60_000, Math.floor((12 * HOUR) / Math.max(1, ips.length)));
    ips.forEach((ip, i) => {
      const t = T0 + day * DAY_MS + 8 * HOUR + i * spacing + (u % 600) * 1000;
      const b = Math.floor(t / BUCKET_MS);
      const list = byBucket.get(b);
      if (list) list.push(logon(user, ip, t));
      else byBucket.set(b, [logon(user, ip, t)]);
    });
    u++;
  }
  for (const b of [...byBucket.keys()].sort((x, y) => x - y)) h.window(byBucket.get(b)!, learning);
  return h;
}
