/**
 * How a run's successful logons change what authwatch knows. Computed separately from the detectors
 * (which only read), and pure: the pipeline decides when to apply it (only after the run's alerts were
 * delivered, so a window whose alerts were lost is never learned as normal).
 */
import { placeOf, sharedAddressKey } from './net';
import {
  bucketOf,
  LOOKBACK_MS,
  ownerKey,
  PLACE_LEVELS,
  PLACE_MAP,
  suspectUntil,
  type LogonObservation,
  type NetworkOwner,
  type NoveltyCounts,
  type PlaceLevel,
  type PopulationStats,
  type SeenStats,
  type SketchCounter,
  type SuspectPlace,
  type UserBaseline,
} from './model';
import { boundSeen, decayed, placeRecord, touch } from './seen';
import {
  decayPopulationTo,
  SketchWriter,
  userShareTopUp,
  applyPopulationDeltas,
  emptyDelta,
  SKETCH_CAPACITY_OF,
  type PopulationDelta,
  type SketchName,
} from './population';
import { dormancy, isOwnerKnowledgeMature, isUserMature } from './habits';
import { hostingReason } from './network-data/hosting';
import type { DetectionSettings } from './settings';
import { DETECTORS } from './detectors';
import { learnSuspects, suspectAt, withoutSuspect, withSuspect, type AlertedPlace } from './suspect';
import type { Detector, PopulationLearnUser } from './detectors/detector';

/**
 * Bounds per user item. 64 IPs, 48 prefixes and 32 networks at ~80 bytes each is ~12 KB even with IPv6
 * keys and long names: far below DynamoDB's 400 KB item limit, and enough to remember a mobile user's
 * recent places (older ones are forgotten; their novelty counts are kept).
 */
export const MAX_IPS_PER_USER = 64;
export const MAX_PREFIXES_PER_USER = 48;
export const MAX_NETWORKS_PER_USER = 32;
/** Network owners (ASes) and countries per user: fewer than /16s (a carrier's pool is one AS), same ~80 bytes each. */
export const MAX_OWNERS_PER_USER = 32;
export const MAX_COUNTRIES_PER_USER = 16;

const MAX_OF: Record<PlaceLevel, number> = {
  ip: MAX_IPS_PER_USER,
  prefix: MAX_PREFIXES_PER_USER,
  network: MAX_NETWORKS_PER_USER,
};

export interface BaselineUpdate {
  /** Baselines that changed, carrying the version they were read with (0 = new). */
  readonly users: UserBaseline[];
  readonly population: PopulationStats;
  readonly populationChanged: boolean;
  readonly newUsers: number;
}

function touchSpan(stats: SeenStats | undefined, o: LogonObservation): SeenStats {
  const s = touch(stats, o.lastSeen);
  return o.firstSeen < s.first ? { ...s, first: o.firstSeen } : s;
}

function sameStats(a: SeenStats | undefined, b: SeenStats): boolean {
  return (
    !!a && a.first === b.first && a.lastBucket === b.lastBucket && a.lastDay === b.lastDay && a.buckets === b.buckets
  );
}

/** The latest bucket in which the user logged on from an address whose sketch key is `key` (an IPv6 /64). */
function lastBucketWithin(ips: Readonly<Record<string, SeenStats>>, key: string): number | undefined {
  let last: number | undefined;
  for (const [ip, s] of Object.entries(ips))
    if (sharedAddressKey(ip) === key && (last === undefined || s.lastBucket > last)) last = s.lastBucket;
  return last;
}

/** What learning one slice of a window's users gives: their changed baselines, and what they add to the population. */
export interface UsersLearned {
  /** Baselines that changed, carrying the version they were read with (0 = new). */
  readonly users: UserBaseline[];
  readonly delta: PopulationDelta;
  /** Per detector state key: the slice's users who shape the population, with their slice before and after. */
  readonly learners: ReadonlyMap<string, PopulationLearnUser<unknown>[]>;
  readonly newUsers: number;
}

/** Options of a window's learning. */
export interface LearnOptions {
  windowEnd: number;
  /** Start of the window (default: the schedule's 30 minutes before its end): for window detectors' learning. */
  windowStart?: number;
  learning: boolean;
  settings: DetectionSettings;
  /**
   * Users who learn their own baseline but do not shape the population (allowlisted accounts: whatever
   * they do is never alerted on, so it must not become what everyone else is judged against).
   */
  excludeFromPopulation?: (user: string) => boolean;
  /** Detectors whose own state learns the window (default: the registry). */
  detectors?: readonly Detector[];
  /**
   * The window's alerts that make their address suspect for their user (see `AlertedPlace`): an address not
   * already known to the user becomes a suspect place, and is not learned (see `UserBaseline.suspect`).
   */
  suspects?: readonly AlertedPlace[];
}

/**
 * The detectors' own population learning of a window (after every user was learned): each stateful detector's
 * population slice learns from the window's observations (allowlisted users' left out), the users' slices before
 * and after, and what was known of the users before the window (`baselines`: whole baselines, or their window
 * digests, which hold every place the window's observations name: core/window-digest.ts).
 */
export function learnPopulation(
  pop: PopulationStats,
  input: {
    readonly observations: readonly LogonObservation[];
    readonly baselines: ReadonlyMap<string, UserBaseline>;
    readonly learners: ReadonlyMap<string, readonly PopulationLearnUser<unknown>[]>;
    /**
     * Only the learners that learn from users alone (`learnsFromUsersOnly`: true), called once per slice of users,
     * or only the others (false), called once per window; absent: all of them (the window at once).
     */
    readonly usersOnly?: boolean;
  },
  opts: LearnOptions,
): PopulationStats {
  const stateful = (opts.detectors ?? DETECTORS).flatMap((d) => (d.state ? [d.state] : []));
  const exclude = opts.excludeFromPopulation;
  const observations = exclude ? input.observations.filter((o) => !exclude(o.user)) : input.observations;
  let out = pop;
  for (const st of stateful) {
    if (!st.population) continue;
    if (input.usersOnly !== undefined && (st.population.learnsFromUsersOnly === true) !== input.usersOnly) continue;
    const before = out.detectorState?.[st.key];
    const after = st.population.learn(before, {
      windowEnd: opts.windowEnd,
      windowStart: opts.windowStart ?? opts.windowEnd - LOOKBACK_MS,
      learning: opts.learning,
      settings: opts.settings,
      users: input.learners.get(st.key) ?? [],
      observations,
      baselines: input.baselines,
    });
    if (after !== before) out = { ...out, detectorState: { ...out.detectorState, [st.key]: after } };
  }
  return out;
}

/**
 * Apply a window's observations to the baselines read before the run: successes teach the users' baselines and
 * the population; every observation (failures too) reaches the detectors' population learning.
 * Idempotent per 15-minute bucket: re-applying the overlapping half of the previous window, or a whole
 * retried window, changes nothing that matters (only `last` times), and such users are not rewritten.
 * The window at once: `learnUsers` over all its users, their delta applied, then `learnPopulation`.
 */
export function computeBaselineUpdate(
  observations: readonly LogonObservation[],
  before: ReadonlyMap<string, UserBaseline>,
  population: PopulationStats,
  opts: LearnOptions,
): BaselineUpdate {
  const decayedPop = decayPopulationTo(population, bucketOf(opts.windowEnd));
  const learned = learnUsers(observations, before, decayedPop, opts);
  const withUsers = applyPopulationDeltas(decayedPop, [learned.delta]);
  const pop = learnPopulation(withUsers, { observations, baselines: before, learners: learned.learners }, opts);
  return { users: learned.users, population: pop, populationChanged: pop !== population, newUsers: learned.newUsers };
}

/**
 * Learn one slice of a window's users (their successful logons among `observations`; the others are ignored)
 * against the population decayed to the window (`decayPopulationTo`), without changing it: their new baselines,
 * and what they add to the population (`PopulationDelta`, replayed by `applyPopulationDeltas`).
 */
export function learnUsers(
  observations: readonly LogonObservation[],
  before: ReadonlyMap<string, UserBaseline>,
  pop: PopulationStats,
  opts: LearnOptions,
): UsersLearned {
  const stateful = (opts.detectors ?? DETECTORS).flatMap((d) => (d.state ? [d.state] : []));
  const settings = opts.settings;
  const delta = emptyDelta();
  /** Per detector state key: the window's users who shape the population, with their slice before and after. */
  const popLearners = new Map<string, PopulationLearnUser<unknown>[]>(stateful.map((s) => [s.key, []]));
  const alertedByUser = new Map<string, Map<string, AlertedPlace>>();
  // One alert per (user, place) when several name it (two detectors, one window): the smallest id, which depends on
  // nothing the window learns, so that any retry of the window picks the same one.
  for (const a of opts.suspects ?? []) {
    let m = alertedByUser.get(a.user);
    if (!m) alertedByUser.set(a.user, (m = new Map()));
    const key = sharedAddressKey(a.sourceIp);
    const had = m.get(key);
    if (!had || a.alertId < had.alertId) m.set(key, a);
  }
  const byUser = new Map<string, LogonObservation[]>();
  for (const o of observations) {
    if (o.outcome !== 'success') continue;
    const list = byUser.get(o.user);
    if (list) list.push(o);
    else byUser.set(o.user, [o]);
  }

  const changedUsers: UserBaseline[] = [];
  // The slice's view of the population's sketches (what it read, plus its own additions), copied once on the
  // slice's first new place and updated in place after: whether a user's share is a whole one or a top-up.
  let sketches: Record<SketchName, { counters: Record<string, SketchCounter>; writer: SketchWriter }> | undefined;
  const sketch = () => {
    if (sketches) return sketches;
    const of = (name: SketchName, from: Readonly<Record<string, SketchCounter>> | undefined) => {
      const counters = { ...from };
      return { counters, writer: new SketchWriter(counters, SKETCH_CAPACITY_OF[name]) };
    };
    return (sketches = {
      ip: of('ip', pop.sharedIps),
      prefix: of('prefix', pop.sharedPrefixes),
      network: of('network', pop.sharedNetworks),
      country: of('country', pop.sharedCountries),
    });
  };
  /** Add one user's share of `key` to a sketch, topped up from the bucket of the user's previous logon from it. */
  const share = (name: SketchName, key: string, previous: number | undefined, o: LogonObservation) => {
    const { counters, writer } = sketch()[name];
    const weight = counters[key] ? userShareTopUp(previous, bucketOf(o.lastSeen)) : 1;
    if (weight > 0) {
      writer.add(key, o.lastSeen, weight);
      delta.sketchAdds.push([name, key, o.lastSeen, weight]);
    }
  };
  /** Networks new to this user that no one had used before this window (read before this window's additions). */
  const orgNovel = new Set<string>();
  let newUsers = 0;

  for (const [user, obs] of byUser) {
    const stored = before.get(user);
    // Suspect places whose time ran out are learned first, like the places of any earlier window.
    const prev = stored && settleSuspects(stored, opts.windowEnd, settings);
    const shapesPopulation = !opts.excludeFromPopulation?.(user);
    const last = Math.max(...obs.map((o) => o.lastSeen));
    const first = Math.min(...obs.map((o) => o.firstSeen));
    let changed = prev !== stored;

    let activity: SeenStats;
    if (!prev) {
      activity = { ...touch(undefined, last), first };
      changed = true;
    } else {
      activity = touch(prev.activity, last);
      if (first < activity.first) activity = { ...activity, first };
      if (!sameStats(prev.activity, activity)) changed = true;
    }
    // The user's activity counts whatever the place; the places of suspect addresses are not learned.
    const suspects = learnSuspects(prev, obs, alertedByUser.get(user));
    if (suspects.changed) changed = true;
    const placed = suspects.placed;
    const newBucket = !prev || activity.lastBucket > prev.activity.lastBucket;

    const maps = {
      ips: placeRecord(prev?.ips),
      prefixes: placeRecord(prev?.prefixes),
      networks: placeRecord(prev?.networks),
    };
    // Owner knowledge, kept apart from the places above and created only with the user's first known owner, so a
    // baseline learned without network data stays exactly as it was.
    const owned = placed.filter((o) => o.owner);
    const ownerMaps =
      owned.length > 0 || prev?.owners
        ? { owners: placeRecord(prev?.owners), countries: placeRecord(prev?.countries) }
        : undefined;
    // `newAt` counts new places as it always has (the network by its /16), the rates of everyone judged without
    // owner knowledge; the owner-level network (the AS where known) and the country are counted apart.
    const newAt: Record<PlaceLevel, boolean> = { ip: false, prefix: false, network: false };
    let newOwnerNetwork = false;
    let newCountry = false;
    /** The bucket's owner-level new network with a known owner, if any (hosting if any such was a hosting provider's). */
    let newNetworkOwner: { hosting: boolean } | undefined;
    for (const o of placed) {
      const owner = o.owner;
      const asKey = owner ? ownerKey(owner) : undefined;
      for (const level of PLACE_LEVELS) {
        const key = placeOf(o.sourceIp, level);
        const map = maps[PLACE_MAP[level]];
        const old = map[key];
        if (!old) {
          newAt[level] = true;
          if (level === 'network') {
            if (!pop.sharedNetworks?.[key] && !(asKey && pop.sharedNetworks?.[asKey])) orgNovel.add(key);
            // The owner-level network is the owner's AS where known: a new /16 of an AS the user already uses (a
            // carrier's pool) is no new network. Without an owner, the /16.
            if (!(asKey !== undefined && ownerMaps?.owners[asKey])) {
              newOwnerNetwork = true;
              if (owner) newNetworkOwner = { hosting: newNetworkOwner?.hosting || !!hostingReason(owner) };
            }
          }
        }
        if (shapesPopulation) {
          // The user's share of the place in the population sketch: 1 on their first logon from it, topped
          // back up to 1 in a later bucket, nothing more in the same one (a place absent from the sketch,
          // evicted meanwhile, gets the user's whole share back). Networks go by their owner's AS where known.
          if (level === 'network' && asKey !== undefined)
            share('network', asKey, ownerMaps?.owners[asKey]?.lastBucket, o);
          else {
            const skKey = level === 'ip' ? sharedAddressKey(o.sourceIp) : key;
            const previous = skKey === key ? old?.lastBucket : lastBucketWithin(map, skKey);
            share(level, skKey, previous, o);
          }
        }
        const next = touchSpan(old, o);
        if (!sameStats(old, next)) changed = true;
        map[key] = next;
      }
      if (owner && asKey && ownerMaps) {
        const country = owner.country;
        if (country !== undefined && !ownerMaps.countries[country]) newCountry = true;
        if (shapesPopulation && country !== undefined)
          share('country', country, ownerMaps.countries[country]?.lastBucket, o);
        const learned: [Record<string, SeenStats>, string][] = [[ownerMaps.owners, asKey]];
        if (country !== undefined) learned.push([ownerMaps.countries, country]);
        for (const [map, key] of learned) {
          const next = touchSpan(map[key], o);
          if (!sameStats(map[key], next)) changed = true;
          map[key] = next;
        }
      }
    }
    // How long owners have been learned for this user (their buckets and days with a known owner), and whether
    // they were ever on a hosting provider's network.
    let ownerActivity = prev?.ownerActivity;
    let hostingActivity = prev?.hostingActivity;
    for (const o of owned) {
      ownerActivity = touchSpan(ownerActivity, o);
      if (hostingReason(o.owner!)) hostingActivity = touchSpan(hostingActivity, o);
    }
    if (ownerActivity && !sameStats(prev?.ownerActivity, ownerActivity)) changed = true;
    if (hostingActivity && !sameStats(prev?.hostingActivity, hostingActivity)) changed = true;
    const newOwnerBucket =
      ownerActivity !== undefined && (!prev?.ownerActivity || ownerActivity.lastBucket > prev.ownerActivity.lastBucket);

    // The user's own novelty rate, decayed like their activity, counted only once they were mature before
    // this bucket (their first places are discovery, not a habit of novelty).
    const novelty: NoveltyCounts = prev ? { ...prev.novelty } : { periods: 0, ip: 0, prefix: 0, network: 0 };
    if (prev && isUserMature(prev, opts.settings)) {
      const carry = (x: number) => decayed(x, prev.activity.lastBucket, activity.lastBucket);
      novelty.periods = carry(prev.novelty.periods) + (newBucket ? 1 : 0);
      for (const level of PLACE_LEVELS)
        novelty[level] = Math.min(carry(prev.novelty[level]) + (newAt[level] ? 1 : 0), novelty.periods);
      if (PLACE_LEVELS.some((l) => novelty[l] !== prev.novelty[l]) || novelty.periods !== prev.novelty.periods)
        changed = true;
      // The country level's own rate, over buckets with a known owner since the user's owner knowledge matured.
      const ownerMature = isOwnerKnowledgeMature(prev, opts.settings);
      if (ownerMature) {
        novelty.ownerPeriods = carry(prev.novelty.ownerPeriods ?? 0) + (newOwnerBucket ? 1 : 0);
        const counted = (before: number | undefined, isNew: boolean) =>
          Math.min(carry(before ?? 0) + (newOwnerBucket && isNew ? 1 : 0), novelty.ownerPeriods!);
        novelty.country = counted(prev.novelty.country, newCountry);
        novelty.ownerNetwork = counted(prev.novelty.ownerNetwork, newOwnerNetwork);
        if (
          novelty.ownerPeriods !== prev.novelty.ownerPeriods ||
          novelty.country !== prev.novelty.country ||
          novelty.ownerNetwork !== prev.novelty.ownerNetwork
        )
          changed = true;
      }
      if (newBucket && shapesPopulation) {
        const carried: NoveltyCounts = {
          periods: carry(prev.novelty.periods),
          ip: carry(prev.novelty.ip),
          prefix: carry(prev.novelty.prefix),
          network: carry(prev.novelty.network),
          ...(ownerMature
            ? {
                ownerPeriods: carry(prev.novelty.ownerPeriods ?? 0),
                country: carry(prev.novelty.country ?? 0),
                ownerNetwork: carry(prev.novelty.ownerNetwork ?? 0),
              }
            : {}),
        };
        const orgNovelNetwork = newAt.network && placed.some((o) => orgNovel.has(placeOf(o.sourceIp, 'network')));
        delta.pool.push({
          carried,
          period: {
            newAt,
            orgNovelNetwork,
            ...(ownerMature && newOwnerBucket
              ? {
                  owned: {
                    newNetwork: newOwnerNetwork,
                    newCountry,
                    ...(newNetworkOwner ? { newNetworkOwner } : {}),
                  },
                }
              : {}),
          },
        });
      }
    }

    // Detectors' own slices: each learns the user's window into its state; an unchanged slice is the same object.
    let detectorState = prev?.detectorState;
    for (const st of stateful) {
      const before = prev?.detectorState?.[st.key];
      const after = st.user
        ? st.user.learn(before, { user, observations: obs, baseline: prev, windowEnd: opts.windowEnd, settings })
        : undefined;
      if (after !== before) {
        detectorState = { ...detectorState, [st.key]: after };
        changed = true;
      }
      if (shapesPopulation) popLearners.get(st.key)!.push({ user, before, after });
    }

    if (!changed) continue;

    if (newBucket && shapesPopulation) delta.userBuckets++;
    if (!prev) {
      newUsers++;
      delta.knownUsers++;
      if (!opts.learning && shapesPopulation) delta.newUsers++;
    } else if (
      !opts.learning &&
      shapesPopulation &&
      dormancy(prev.activity.last, prev.activity.first, prev.activity.days, first, opts.settings.dormantDays).dormant
    ) {
      delta.dormantReturns++;
    }

    changedUsers.push({
      user,
      activity,
      ips: boundSeen(maps.ips, MAX_OF.ip),
      prefixes: boundSeen(maps.prefixes, MAX_OF.prefix),
      networks: boundSeen(maps.networks, MAX_OF.network),
      novelty,
      ...(ownerMaps
        ? {
            owners: boundSeen(ownerMaps.owners, MAX_OWNERS_PER_USER),
            countries: boundSeen(ownerMaps.countries, MAX_COUNTRIES_PER_USER),
          }
        : {}),
      ...(ownerActivity ? { ownerActivity } : {}),
      ...(hostingActivity ? { hostingActivity } : {}),
      ...(detectorState ? { detectorState } : {}),
      ...(suspects.suspect ? { suspect: suspects.suspect } : {}),
      version: prev?.version ?? 0,
    });
  }

  return { users: changedUsers, delta, learners: popLearners, newUsers };
}

/**
 * The baseline with `ip`, its prefix and its network seen at `at` (an analyst's `benign`: bounded like a window's
 * update). A suspect place at `ip` is answered: released, and its owner and country learned with it (the windows
 * that saw it learned neither).
 */
export function markPlacesKnown(b: UserBaseline, ip: string, at: number): UserBaseline {
  const key = sharedAddressKey(ip);
  const entry = suspectAt(b, key);
  const next = learnPlace(b, ip, at, entry?.owner);
  return entry ? withSuspect(next, withoutSuspect(b.suspect!, key)) : next;
}

/** `ip`'s places (and its owner's AS and country, when given) seen at `at`, bounded like a window's update. */
function learnPlace(b: UserBaseline, ip: string, at: number, owner: NetworkOwner | undefined): UserBaseline {
  const next: UserBaseline = {
    ...b,
    ips: placeRecord(b.ips),
    prefixes: placeRecord(b.prefixes),
    networks: placeRecord(b.networks),
  };
  for (const level of PLACE_LEVELS) {
    const map = next[PLACE_MAP[level]];
    const key = placeOf(ip, level);
    map[key] = touch(map[key], at);
    next[PLACE_MAP[level]] = boundSeen(map, MAX_OF[level]);
  }
  if (owner) {
    const owners = placeRecord(b.owners);
    owners[ownerKey(owner)] = touch(owners[ownerKey(owner)], at);
    next.owners = boundSeen(owners, MAX_OWNERS_PER_USER);
    const countries = placeRecord(b.countries);
    if (owner.country !== undefined) countries[owner.country] = touch(countries[owner.country], at);
    next.countries = boundSeen(countries, MAX_COUNTRIES_PER_USER);
  }
  return next;
}

/**
 * The baseline with its expired suspect places (`suspectDays` after their alert, unanswered) learned as known
 * places, seen at their last logon, with their owner and country; `b` itself when none has expired. The
 * detectors judge the settled baseline, and a window's update learns from it, so an expired place is the user's
 * from the first window past its time, whether or not the user logs on from it then.
 */
export function settleSuspects(
  b: UserBaseline,
  at: number,
  settings: Pick<DetectionSettings, 'suspectDays'>,
): UserBaseline {
  const suspect = b.suspect;
  if (!suspect) return b;
  let next = b;
  let left: Record<string, SuspectPlace> | undefined;
  for (const [key, p] of Object.entries(suspect)) {
    if (at < suspectUntil(p, settings.suspectDays)) continue;
    next = learnPlace(next, p.ip, p.last, p.owner);
    left = withoutSuspect(left ?? suspect, key);
  }
  return left ? withSuspect(next, left) : b;
}

/** `settleSuspects` over a run's baselines: the same map when no suspect place expired. */
export function settleAllSuspects(
  baselines: ReadonlyMap<string, UserBaseline>,
  at: number,
  settings: Pick<DetectionSettings, 'suspectDays'>,
): ReadonlyMap<string, UserBaseline> {
  let out: Map<string, UserBaseline> | undefined;
  for (const [user, b] of baselines) {
    const settled = settleSuspects(b, at, settings);
    if (settled !== b) (out ??= new Map(baselines)).set(user, settled);
  }
  return out ?? baselines;
}
