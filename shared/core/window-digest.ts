/**
 * What the window detectors and the detectors' population learning need of a user's baseline, and no more: a
 * run in slices (shared/steps/) lets each slice's baselines go once the slice was judged, and keeps only these
 * digests for the judgements about the whole window (a source against many users, failures against real users).
 *
 * A digest is a `UserBaseline` holding, of the user's places, only those the window's observations of the user
 * name (the address, its subnet and network, its owner and country), with everything else of the baseline but the
 * detectors' own slices. Every question the window's readers ask (core/failures.ts `isOwnPlace`, `placeKnowledge`;
 * whether the user has a baseline at all) is about those places, so a digest answers them exactly as the whole
 * baseline would; a test checks that every window detector finds the same with digests as with baselines.
 */
import { ownerKey, type LogonObservation, type SeenStats, type UserBaseline } from './model';
import { placeOf } from './net';

function pick(
  from: Readonly<Record<string, SeenStats>> | undefined,
  keys: Iterable<string>,
): Record<string, SeenStats> {
  const out: Record<string, SeenStats> = {};
  if (!from) return out;
  for (const k of keys) {
    const v = Object.hasOwn(from, k) ? from[k] : undefined;
    if (v) out[k] = v;
  }
  return out;
}

/** The digest of `b` for the window's observations of its user (successes and failures). */
export function windowDigest(b: UserBaseline, observations: readonly LogonObservation[]): UserBaseline {
  const ips = new Set<string>();
  const prefixes = new Set<string>();
  const networks = new Set<string>();
  const owners = new Set<string>();
  const countries = new Set<string>();
  for (const o of observations) {
    ips.add(o.sourceIp);
    prefixes.add(placeOf(o.sourceIp, 'prefix'));
    networks.add(placeOf(o.sourceIp, 'network'));
    if (o.owner) {
      owners.add(ownerKey(o.owner));
      if (o.owner.country !== undefined) countries.add(o.owner.country);
    }
  }
  const { detectorState: _slices, ...rest } = b;
  return {
    ...rest,
    ips: pick(b.ips, ips),
    prefixes: pick(b.prefixes, prefixes),
    networks: pick(b.networks, networks),
    ...(b.owners ? { owners: pick(b.owners, owners) } : {}),
    ...(b.countries ? { countries: pick(b.countries, countries) } : {}),
  };
}
