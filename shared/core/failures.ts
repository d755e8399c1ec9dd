/**
 * What one window's logons say about each source: which users it failed as and logged on as, which of them are
 * real users here, and for which the source is their own usual place. Pure.
 *
 * Written once for the window detectors that judge sources and failures (password spraying, brute force that
 * succeeds, many accounts from one source), so "a real user", "the user's own place" and "spraying" mean the
 * same in each of them. Detectors never read each other's learned state: each keeps its own memory, and shares
 * only these definitions.
 */
import { createHash } from 'node:crypto';
import { placeOf } from './net';
import { ownerKey, type CampaignUser, type LogonObservation, type NetworkOwner, type UserBaseline } from './model';

/**
 * Distinct real users a source must fail as, for whom it is not their own place, before it counts as spraying:
 * one person mistypes, a family or a small office behind one address may fail for two or three; five real
 * accounts tried from one place new to them is what a spray looks like, never what a household does.
 */
export const SPRAY_MIN_USERS = 5;

/** Users a finding about a source lists (known ones first); the rest are counted, not named. */
export const MAX_USERS_LISTED = 50;

/** What a source did with one user in the window. */
export interface SourceUser {
  readonly name: string;
  failures: number;
  successes: number;
  /** The name has a baseline: a real user here (the run read the baselines of the users failures named). */
  readonly known: boolean;
  /** The source is the user's own usual place (a known address or subnet; for a network owner, a known AS). */
  readonly ownPlace: boolean;
  /** Earliest failure and latest success (epoch ms; NaN when none). */
  firstFailure: number;
  lastSuccess: number;
}

/** Everything one source (an address, or a network owner's addresses) did in the window. */
export interface SourceActivity {
  /** The address, or the owner's key (`AS64500`). */
  readonly key: string;
  readonly owner?: NetworkOwner;
  /** Addresses seen, with their failed logons (the busiest stands for the source in the alert). */
  readonly ips: Map<string, number>;
  readonly users: Map<string, SourceUser>;
  failures: number;
  successes: number;
  readonly observations: LogonObservation[];
}

/**
 * Whether `ip` is one of the user's own places: a known address or subnet (a home, an office NAT). For a source
 * that is a network owner (`asLevel`), the user's known network owners count too: a user's own carrier.
 */
export function isOwnPlace(
  b: UserBaseline | undefined,
  ip: string,
  owner: NetworkOwner | undefined,
  asLevel = false,
): boolean {
  if (!b) return false;
  if (b.ips[ip] || b.prefixes[placeOf(ip, 'prefix')]) return true;
  return asLevel && owner !== undefined && b.owners?.[ownerKey(owner)] !== undefined;
}

/** Where `ip` stands for a user: their known address, subnet, network (or AS), or new at the network level. */
export type PlaceKnowledge = 'address' | 'subnet' | 'network' | 'new';

export function placeKnowledge(
  b: UserBaseline | undefined,
  ip: string,
  owner: NetworkOwner | undefined,
): PlaceKnowledge {
  if (!b) return 'new';
  if (b.ips[ip]) return 'address';
  if (b.prefixes[placeOf(ip, 'prefix')]) return 'subnet';
  if (b.networks[placeOf(ip, 'network')] || (owner && b.owners?.[ownerKey(owner)])) return 'network';
  return 'new';
}

function addTo(
  map: Map<string, SourceActivity>,
  key: string,
  o: LogonObservation,
  baselines: ReadonlyMap<string, UserBaseline>,
  asLevel: boolean,
): void {
  let s = map.get(key);
  if (!s) {
    s = {
      key,
      ...(o.owner ? { owner: o.owner } : {}),
      ips: new Map(),
      users: new Map(),
      failures: 0,
      successes: 0,
      observations: [],
    };
    map.set(key, s);
  }
  s.observations.push(o);
  s.ips.set(o.sourceIp, (s.ips.get(o.sourceIp) ?? 0) + (o.outcome === 'failure' ? o.count : 0));
  let u = s.users.get(o.user);
  if (!u) {
    const b = baselines.get(o.user);
    u = {
      name: o.user,
      failures: 0,
      successes: 0,
      known: b !== undefined,
      ownPlace: isOwnPlace(b, o.sourceIp, o.owner, asLevel),
      firstFailure: Number.NaN,
      lastSuccess: Number.NaN,
    };
    s.users.set(o.user, u);
  } else if (!u.ownPlace && isOwnPlace(baselines.get(o.user), o.sourceIp, o.owner, asLevel)) {
    // One of the owner's addresses is the user's own: the owner is, for this user.
    s.users.set(o.user, (u = { ...u, ownPlace: true }));
  }
  if (o.outcome === 'failure') {
    u.failures += o.count;
    s.failures += o.count;
    u.firstFailure = Number.isNaN(u.firstFailure) ? o.firstSeen : Math.min(u.firstFailure, o.firstSeen);
  } else {
    u.successes += o.count;
    s.successes += o.count;
    u.lastSuccess = Number.isNaN(u.lastSuccess) ? o.lastSeen : Math.max(u.lastSuccess, o.lastSeen);
  }
}

/**
 * The window's sources: by address, and by network owner (its key `AS64500`) for addresses whose owner the
 * network data knows. Only sources with at least one failure or success, of course; each user once per source.
 */
export function sourcesOf(
  observations: readonly LogonObservation[],
  baselines: ReadonlyMap<string, UserBaseline>,
): { byAddress: Map<string, SourceActivity>; byOwner: Map<string, SourceActivity> } {
  const byAddress = new Map<string, SourceActivity>();
  const byOwner = new Map<string, SourceActivity>();
  for (const o of observations) {
    addTo(byAddress, o.sourceIp, o, baselines, false);
    if (o.owner) addTo(byOwner, ownerKey(o.owner), o, baselines, true);
  }
  return { byAddress, byOwner };
}

/**
 * The observations of the sources a judgement of failures can be about, for `sourcesOf`: every address and every
 * network owner that failed in the window, and every address one of whose observations `remembered` names (a
 * source or a user's pair with it that the detector remembers from earlier windows). Each such source keeps all
 * its observations, successes too, so `sourcesOf` builds exactly the entries it would from the whole window for
 * each of them (and for an owner, for each of its addresses); a source that neither failed nor is remembered is
 * one a failure judgement passes over, and is left out.
 *
 * Why: a window's sources are mostly addresses one user logged on from, and `sourcesOf` spends ~700 bytes on
 * each; judging failures over the sources that failed keeps what a large window holds to what its failures are.
 */
export function failingSourceObservations(
  observations: readonly LogonObservation[],
  remembered?: (o: LogonObservation) => boolean,
): readonly LogonObservation[] {
  const addresses = new Set<string>();
  const owners = new Set<string>();
  for (const o of observations) {
    if (o.outcome === 'failure') {
      addresses.add(o.sourceIp);
      if (o.owner) owners.add(ownerKey(o.owner));
    } else if (remembered?.(o)) addresses.add(o.sourceIp);
  }
  return keepSources(observations, addresses, owners);
}

/**
 * The observations of the addresses that logged on successfully as at least `minUsers` different users (all of
 * those addresses' observations, failures too), for a judgement of one source against many users.
 */
export function crowdedAddressObservations(
  observations: readonly LogonObservation[],
  minUsers: number,
): readonly LogonObservation[] {
  // Per address the first user, then the set of them once a second appears: most addresses have one user.
  const users = new Map<string, string | Set<string>>();
  const crowded = new Set<string>();
  for (const o of observations) {
    if (o.outcome !== 'success' || crowded.has(o.sourceIp)) continue;
    const seen = users.get(o.sourceIp);
    if (seen === undefined) users.set(o.sourceIp, o.user);
    else if (typeof seen === 'string') {
      if (seen !== o.user) users.set(o.sourceIp, new Set([seen, o.user]));
    } else seen.add(o.user);
    const now = users.get(o.sourceIp)!;
    if ((typeof now === 'string' ? 1 : now.size) >= minUsers) crowded.add(o.sourceIp);
  }
  return keepSources(observations, crowded, new Set());
}

/** The observations from these addresses or owners, in order; the list itself when that is all of them. */
function keepSources(
  observations: readonly LogonObservation[],
  addresses: ReadonlySet<string>,
  owners: ReadonlySet<string>,
): readonly LogonObservation[] {
  if (addresses.size === 0 && owners.size === 0) return [];
  const kept = observations.filter(
    (o) => addresses.has(o.sourceIp) || (o.owner !== undefined && owners.has(ownerKey(o.owner))),
  );
  return kept.length === observations.length ? observations : kept;
}

/** The real users a source failed as, for whom it is not their own place: the evidence of a spray. */
export function sprayTargets(s: SourceActivity): SourceUser[] {
  return [...s.users.values()].filter((u) => u.failures > 0 && u.known && !u.ownPlace);
}

/** Whether the source failed as at least `SPRAY_MIN_USERS` real users for whom it is a new place. */
export function isSpraying(s: SourceActivity): boolean {
  return sprayTargets(s).length >= SPRAY_MIN_USERS;
}

/** The busiest address of a source (most failures, then most logons, then the smallest): the alert's `source.ip`. */
export function busiestIp(s: SourceActivity): string {
  return [...s.ips.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))[0]![0];
}

/**
 * The users a finding about the source lists: real users first, then those who logged on, then most failed, then
 * by name; at most `max`, with how many there were.
 */
export function campaignUsers(s: SourceActivity, max = MAX_USERS_LISTED): { users: CampaignUser[]; total: number } {
  const all = [...s.users.values()].sort(
    (a, b) =>
      Number(b.known) - Number(a.known) ||
      Number(b.successes > 0) - Number(a.successes > 0) ||
      b.failures - a.failures ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  return {
    users: all
      .slice(0, max)
      .map((u) => ({ name: u.name, failures: u.failures, successes: u.successes, known: u.known })),
    total: all.length,
  };
}

/** Most hosts or methods an aggregate observation carries. */
const MAX_LISTED = 10;

/**
 * One observation standing for the whole source (a finding's `observation`): its earliest and latest logon,
 * every logon counted, its hosts and methods (bounded), the outcome the finding is about.
 */
export function sourceObservation(s: SourceActivity, outcome: LogonObservation['outcome']): LogonObservation {
  const os = s.observations;
  const union = (f: (o: LogonObservation) => readonly string[]) =>
    [...new Set(os.flatMap(f))].sort().slice(0, MAX_LISTED);
  const ip = busiestIp(s);
  const owner = os.find((o) => o.sourceIp === ip)?.owner ?? s.owner;
  return {
    user: '',
    sourceIp: ip,
    outcome,
    // Reduced, not spread: a scanner's source can hold more observations than a call takes arguments.
    count: os.reduce((n, o) => n + o.count, 0),
    firstSeen: os.reduce((t, o) => Math.min(t, o.firstSeen), Number.POSITIVE_INFINITY),
    lastSeen: os.reduce((t, o) => Math.max(t, o.lastSeen), Number.NEGATIVE_INFINITY),
    hosts: union((o) => o.hosts),
    methods: union((o) => o.methods),
    logSource: os[0]!.logSource,
    ...(owner ? { owner } : {}),
  };
}

/**
 * A short hash of a user name, for the bounded memories of which users a source tried: 24 bits, so a set of a
 * few dozen names counts them right (a collision among 40 names is a 1-in-10,000 event), and no name is stored.
 */
export function userHash(name: string): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 6);
}

/** `alice, bob and 3 more`: names of a list, bounded. */
export function namesText(names: readonly string[], max = 5): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/**
 * The users the window's failures named who did not also log on, most failed first (then by name), at most
 * `max`; and how many more there were.
 */
export function failureTargets(
  observations: readonly LogonObservation[],
  successfulUsers: ReadonlySet<string>,
  max: number,
): { names: string[]; notRead: number } {
  const failures = new Map<string, number>();
  for (const o of observations)
    if (o.outcome === 'failure' && !successfulUsers.has(o.user))
      failures.set(o.user, (failures.get(o.user) ?? 0) + o.count);
  const names = [...failures.keys()].sort(
    (a, b) => failures.get(b)! - failures.get(a)! || (a < b ? -1 : a > b ? 1 : 0),
  );
  return { names: names.slice(0, max), notRead: Math.max(0, names.length - max) };
}
