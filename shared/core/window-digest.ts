/**
 * What the window detectors and the detectors' population learning need of a user's baseline, and no more: a
 * run in slices (shared/steps/) lets each slice's baselines go once the slice was judged, and keeps only these
 * digests for the judgements about the whole window (a source against many users, failures against real users).
 *
 * A digest is the list of the user's known places that the window's observations of the user name (the address,
 * its subnet and network, its owner's AS): a few short strings per user. Every question the window's readers ask
 * is whether the user has a baseline at all, and whether one of these places is known to them (core/failures.ts
 * `isOwnPlace`, `placeKnowledge`); `DigestMap` answers them from the digests as the whole baselines would, handing
 * out for each user a baseline that holds exactly those places (their counts are not kept: no window reader
 * uses them). A test checks that every window detector finds the same with digests as with baselines.
 */
import { ownerKey, type LogonObservation, type SeenStats, type UserBaseline } from './model';
import { placeOf } from './net';
import { placeRecord } from './seen';

/** A known place of a digest: its level's letter and its key (`i203.0.113.7`, `p203.0.113.0/24`, `nAS64500`). */
type DigestKey = string;

const LEVELS = [
  ['i', 'ips'],
  ['p', 'prefixes'],
  ['n', 'networks'],
  ['o', 'owners'],
] as const;

/** The digest of `b` for the window's observations of its user (successes and failures). */
export function windowDigest(b: UserBaseline, observations: readonly LogonObservation[]): DigestKey[] {
  const out = new Set<DigestKey>();
  const has = (m: Readonly<Record<string, SeenStats>> | undefined, k: string) => !!m && Object.hasOwn(m, k) && !!m[k];
  for (const o of observations) {
    const ip = o.sourceIp;
    if (has(b.ips, ip)) out.add(`i${ip}`);
    const prefix = placeOf(ip, 'prefix');
    if (has(b.prefixes, prefix)) out.add(`p${prefix}`);
    const network = placeOf(ip, 'network');
    if (has(b.networks, network)) out.add(`n${network}`);
    if (o.owner) {
      const k = ownerKey(o.owner);
      if (has(b.owners, k)) out.add(`o${k}`);
    }
  }
  return [...out];
}

/** The count a digest's place is given: present, and nothing more known (see the module's comment). */
const KNOWN: SeenStats = Object.freeze({ first: 0, last: 0, buckets: 0, lastBucket: 0, days: 0, lastDay: 0 });
const NO_NOVELTY = Object.freeze({ periods: 0, ip: 0, prefix: 0, network: 0 });

/**
 * The window's users with a baseline, each seen through their digest: what the window detectors and the
 * population's window learning read (`WindowDetectorInput.baselines`). Holds a few strings per user; a user's
 * baseline is built when asked for and not kept.
 */
export class DigestMap implements ReadonlyMap<string, UserBaseline> {
  readonly #digests: Map<string, readonly DigestKey[]>;

  constructor(digests: Iterable<readonly [string, readonly DigestKey[]]> = []) {
    this.#digests = new Map(digests);
  }

  /** Add (or replace) one user's digest. */
  set(user: string, digest: readonly DigestKey[]): this {
    this.#digests.set(user, digest);
    return this;
  }

  get size(): number {
    return this.#digests.size;
  }

  has(user: string): boolean {
    return this.#digests.has(user);
  }

  get(user: string): UserBaseline | undefined {
    const digest = this.#digests.get(user);
    return digest === undefined ? undefined : expand(user, digest);
  }

  forEach(fn: (value: UserBaseline, key: string, map: ReadonlyMap<string, UserBaseline>) => void): void {
    for (const [k, v] of this) fn(v, k, this);
  }

  *entries(): MapIterator<[string, UserBaseline]> {
    for (const [user, digest] of this.#digests) yield [user, expand(user, digest)];
  }

  keys(): MapIterator<string> {
    return this.#digests.keys();
  }

  *values(): MapIterator<UserBaseline> {
    for (const [, b] of this.entries()) yield b;
  }

  [Symbol.iterator](): MapIterator<[string, UserBaseline]> {
    return this.entries();
  }
}

function expand(user: string, digest: readonly DigestKey[]): UserBaseline {
  const maps = {
    ips: placeRecord<SeenStats>(),
    prefixes: placeRecord<SeenStats>(),
    networks: placeRecord<SeenStats>(),
  };
  let owners: Record<string, SeenStats> | undefined;
  for (const key of digest) {
    const level = LEVELS.find(([letter]) => letter === key[0])?.[1];
    const place = key.slice(1);
    if (level === 'owners') (owners ??= placeRecord<SeenStats>())[place] = KNOWN;
    else if (level) maps[level][place] = KNOWN;
  }
  return { user, activity: KNOWN, novelty: NO_NOVELTY, ...maps, ...(owners ? { owners } : {}), version: 0 };
}
