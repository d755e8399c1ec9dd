/**
 * What Failures Then Success remembers, in its own population slice (`bfs`): recent failed logons per (real user,
 * address), so a success after failures in earlier windows is still seen as one; and the sources that were
 * recently spraying (failing as several real users), so a success from one of them counts even without failures
 * for that account. Its own memory, not the spray detector's: detectors never read each other's state; the
 * definition of spraying they share is core/failures.ts.
 *
 * Bounded: at most `MAX_PAIRS` pairs (the most recent kept) for `PAIR_MEMORY_BUCKETS` (a day), and
 * `MAX_SPRAYERS` spraying sources for `SPRAYER_MEMORY_BUCKETS` (two days). No user name is stored: a pair is a
 * short hash of the name and the address. About 17 KB at its bounds (see the state test).
 *
 * Idempotent per window: a window is learned once (`we`, the end of the last window learned); a pair's failures
 * that began before that end overlap what was already counted and are merged by maximum, later ones added; a
 * success from the pair forgets it (the success was judged in its window; a later one starts again).
 */
import * as z from 'zod';
import { bucketOf, type LogonObservation, type UserBaseline } from '../../model';
import { failingSourceObservations, isSpraying, sourcesOf, sprayTargets, userHash } from '../../failures';

export const MAX_PAIRS = 200;
export const PAIR_MEMORY_BUCKETS = 96;
export const MAX_SPRAYERS = 64;
export const SPRAYER_MEMORY_BUCKETS = 192;

const bucket = z.number().int().min(0);
const stateV1 = z.strictObject({
  /** `<user hash>|<address>` → failed logons remembered, and the last bucket with one. */
  p: z.record(z.string().min(8).max(80), z.strictObject({ n: z.number().int().min(1), l: bucket })),
  /** Address or owner key → most real users it sprayed in one window, and the last bucket it did. */
  s: z.record(z.string().min(1).max(64), z.strictObject({ u: z.number().int().min(1), l: bucket })),
  we: z.number().int().min(0),
});
export type FailureMemory = z.infer<typeof stateV1>;
export const FAILURE_MEMORY_VERSION = 1;
export const failureMemorySchema = stateV1;

export function pairKey(user: string, ip: string): string {
  return `${userHash(user)}|${ip}`;
}

/** The failures remembered for a user from an address, if within the memory before bucket `b`. */
export function rememberedPair(st: FailureMemory | undefined, user: string, ip: string, b: number) {
  const e = st?.p[pairKey(user, ip)];
  return e && e.l >= b - PAIR_MEMORY_BUCKETS ? e : undefined;
}

/** Whether a source (address or owner key) was spraying within the memory before bucket `b`. */
export function rememberedSprayer(st: FailureMemory | undefined, key: string, b: number) {
  const e = st?.s[key];
  return e && e.l >= b - SPRAYER_MEMORY_BUCKETS ? e : undefined;
}

function newestFirst<T extends { l: number }>(entries: [string, T][], max: number): Record<string, T> {
  return Object.fromEntries(
    entries
      .sort((a, b) => b[1].l - a[1].l || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .slice(0, max)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)),
  );
}

/** The window learned into the memory; `previous` itself for a window already learned. */
export function learnFailureMemory(
  previous: FailureMemory | undefined,
  observations: readonly LogonObservation[],
  baselines: ReadonlyMap<string, UserBaseline>,
  windowEnd: number,
): FailureMemory | undefined {
  const we = previous?.we ?? 0;
  if (windowEnd <= we) return previous;
  const b = bucketOf(windowEnd);
  const pairs = new Map(Object.entries(previous?.p ?? {}).filter(([, e]) => e.l >= b - PAIR_MEMORY_BUCKETS));
  const sprayers = new Map(Object.entries(previous?.s ?? {}).filter(([, e]) => e.l >= b - SPRAYER_MEMORY_BUCKETS));
  // Whether anything is learned or forgotten: a window that changes neither leaves the slice (and the population
  // item) unwritten, and `we` where it was, which is still right (nothing of this window was counted).
  let changed =
    pairs.size !== Object.keys(previous?.p ?? {}).length || sprayers.size !== Object.keys(previous?.s ?? {}).length;
  // What can change the memory: the sources that failed, and the addresses of remembered pairs (a success forgets
  // its pair); the window's other sources are not built.
  const { byAddress, byOwner } = sourcesOf(
    failingSourceObservations(observations, pairs.size > 0 ? (o) => pairs.has(pairKey(o.user, o.sourceIp)) : undefined),
    baselines,
  );
  for (const s of byAddress.values()) {
    for (const u of s.users.values()) {
      if (!u.known) continue;
      const key = pairKey(u.name, s.key);
      if (u.successes > 0) {
        if (pairs.delete(key)) changed = true;
        continue;
      }
      if (u.failures === 0) continue;
      const prev = pairs.get(key);
      const last = bucketOf(Math.max(...s.observations.filter((o) => o.user === u.name).map((o) => o.lastSeen)));
      const n = !prev ? u.failures : u.firstFailure >= we ? prev.n + u.failures : Math.max(prev.n, u.failures);
      pairs.set(key, { n, l: Math.max(prev?.l ?? 0, last) });
      changed = true;
    }
  }
  const spraying = [...byAddress.values(), ...[...byOwner.values()].filter((s) => s.ips.size >= 2)].filter(isSpraying);
  for (const s of spraying) {
    const prev = sprayers.get(s.key);
    sprayers.set(s.key, { u: Math.max(prev?.u ?? 0, sprayTargets(s).length), l: b });
    changed = true;
  }
  if (!changed) return previous;
  return {
    p: newestFirst([...pairs.entries()], MAX_PAIRS),
    s: newestFirst([...sprayers.entries()], MAX_SPRAYERS),
    we: windowEnd,
  };
}
