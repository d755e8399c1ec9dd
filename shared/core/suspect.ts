/**
 * Suspect places (`UserBaseline.suspect`): the addresses an alert was raised on for a user and nobody has answered,
 * which the window's learning leaves unlearned (see baseline-update.ts, which learns them once answered or expired)
 * and whose later logons the unusual-source-IP detector follows up. The map's own bookkeeping: what an alert makes
 * suspect, lookups, and one user's window against it. Pure.
 */
import { sharedAddressKey } from './net';
import { logonsAfter, type LogonObservation, type NetworkOwner, type SuspectPlace, type UserBaseline } from './model';

/**
 * Suspect places per user (`UserBaseline.suspect`): an account alerted on from more addresses than this at once is
 * plainly compromised already; the oldest entry gives way (its address is judged afresh, never learned for it).
 */
export const MAX_SUSPECT_PER_USER = 8;

/**
 * An address an alert of this window was raised on for a user, by a detector whose alerts make their address
 * suspect (`Detector.marksPlaceSuspect`): delivered, found already raised in the ledger, or cut by the cap alike.
 */
export interface AlertedPlace {
  readonly user: string;
  /** Canonical, as the observation's. */
  readonly sourceIp: string;
  readonly alertId: string;
  readonly detectorId: string;
  /** Epoch ms of the alert's logon (its `@timestamp`). */
  readonly at: number;
  readonly owner?: NetworkOwner;
}

/** The user's suspect place under `key` (a `sharedAddressKey`), if any: keys are data, never a prototype's. */
export function suspectAt(b: UserBaseline, key: string): SuspectPlace | undefined {
  return b.suspect && Object.hasOwn(b.suspect, key) ? b.suspect[key] : undefined;
}

export function withoutSuspect(
  suspect: Readonly<Record<string, SuspectPlace>>,
  key: string,
): Record<string, SuspectPlace> {
  const { [key]: _gone, ...rest } = suspect;
  return rest;
}

/** `b` with these suspect places; without the field when there is none, as a baseline that never had one. */
export function withSuspect(b: UserBaseline, suspect: Record<string, SuspectPlace>): UserBaseline {
  const { suspect: _old, ...rest } = b;
  return Object.keys(suspect).length > 0 ? { ...rest, suspect } : rest;
}

/**
 * One user's window against their suspect places (keyed by `sharedAddressKey`): an observation from a suspect place
 * counts its later logons into the entry (`logonsAfter`, idempotent: a window re-applied adds nothing); one from an
 * address an alert of this window named, not yet a known address of the user, makes it suspect (an alert on an
 * address the user already has, a travel alert from their usual place abroad, cannot unteach it). Both are left
 * out of `placed`, the observations whose places are learned. Over `MAX_SUSPECT_PER_USER`, the oldest entries go.
 */
export function learnSuspects(
  prev: UserBaseline | undefined,
  obs: readonly LogonObservation[],
  alerted: ReadonlyMap<string, AlertedPlace> | undefined,
): { placed: LogonObservation[]; suspect: Record<string, SuspectPlace> | undefined; changed: boolean } {
  if (!prev?.suspect && !alerted) return { placed: [...obs], suspect: undefined, changed: false };
  const suspect: Record<string, SuspectPlace> = { ...prev?.suspect };
  const byKey = new Map<string, LogonObservation[]>();
  const placed: LogonObservation[] = [];
  for (const o of obs) {
    const key = sharedAddressKey(o.sourceIp);
    if (!Object.hasOwn(suspect, key) && !(alerted?.get(key)?.sourceIp === o.sourceIp && !prev?.ips[o.sourceIp])) {
      placed.push(o);
      continue;
    }
    const list = byKey.get(key);
    if (list) list.push(o);
    else byKey.set(key, [o]);
  }
  let changed = false;
  for (const [key, list] of byKey) {
    const latest = list.reduce((x, o) => (o.lastSeen > x.lastSeen ? o : x));
    const entry = Object.hasOwn(suspect, key) ? suspect[key] : undefined;
    if (entry) {
      const more = list.reduce((n, o) => n + logonsAfter(o, entry.last), 0);
      if (more === 0) continue;
      suspect[key] = { ...entry, ip: latest.sourceIp, last: latest.lastSeen, logons: entry.logons + more };
    } else {
      const a = alerted!.get(key)!;
      const owner = a.owner ?? list.find((o) => o.owner)?.owner;
      suspect[key] = {
        alertId: a.alertId,
        detectorId: a.detectorId,
        ip: latest.sourceIp,
        since: a.at,
        last: latest.lastSeen,
        logons: 0,
        ...(owner ? { owner } : {}),
      };
    }
    changed = true;
  }
  const ips = Object.keys(suspect);
  if (ips.length > MAX_SUSPECT_PER_USER) {
    ips.sort((x, y) => suspect[x]!.since - suspect[y]!.since || (x < y ? -1 : 1));
    for (const ip of ips.slice(0, ips.length - MAX_SUSPECT_PER_USER)) delete suspect[ip];
    changed = true;
  }
  return { placed, suspect: Object.keys(suspect).length > 0 ? suspect : undefined, changed };
}
