/**
 * The run lease for the writers of baselines that are not a run: an operator's `benign` (shared/feedback.ts) and a
 * backfill's commit windows (shared/backfill.ts). A run's bulk write of baselines is not version-checked
 * (`DetectionStore.writeUsersLeased`: BatchWriteItem cannot be), so it is safe only if no one changes a baseline
 * between the run's read and its write; every writer of baselines therefore holds the lease while it reads and
 * writes them, and writes them through the same fenced call. Feedback (allowlists, hostile marks) is not a baseline:
 * its writes stay version-checked, and need no lease (a run never writes it).
 *
 * Two clocks meet on the lease item: the detector's (Lambda's, synchronised) and an operator's machine's, which may
 * be off. A lease another writer holds counts as lapsed here only `CLOCK_SKEW_MARGIN_MS` after its end by our
 * clock, so a clock up to that much ahead never takes a lease still in use; our own hold is long enough
 * (`OPERATOR_LEASE_MS`) that a clock as much behind still leaves it far longer than a read and a write take.
 * A lease that cannot be had within `waitMs` is a `LeaseBusyError` saying when to try again; nothing was written.
 */
import { randomUUID } from 'node:crypto';
import type { RunLease } from './core/model';
import { LeaseBusyError } from './errors';
import type { DetectionStore } from './ports';

/** How long an operator command holds the lease: its one read and one write take milliseconds; see the file comment. */
export const OPERATOR_LEASE_MS = 2 * 60 * 1000;
/** How far another writer's clock may be ahead of ours before we could take a lease it still uses. */
export const CLOCK_SKEW_MARGIN_MS = 60 * 1000;
/** How long an operator command waits for a run to give the lease up: a run usually holds it for seconds. */
export const OPERATOR_LEASE_WAIT_MS = 30 * 1000;
const DEFAULT_POLL_MS = 2_000;

/** How long to wait for the lease, and how (tests make the wait instant). */
export interface LeaseWaitOptions {
  /** Longest wait for the holder to give the lease up, ms. */
  readonly waitMs?: number;
  /** Between two attempts, ms (default 2 s). */
  readonly pollMs?: number;
  /** Defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Who takes the lease, for how long, and what time it is. */
export interface LeaseGuardOptions extends LeaseWaitOptions {
  /** What the writer is (`benign`, `backfill`): the owner's prefix, and what the error says. */
  readonly purpose: string;
  /** How long a lease taken here lasts unless given up first. */
  readonly holdMs: number;
  /**
   * Epoch ms now: a clock, or a fixed time (a command's) to which the guard adds the time it waited, so a caller with
   * a fixed `now` needs no clock.
   */
  readonly now: number | (() => number);
}

/** The lease a guarded writer holds, and the time, for its fenced write (`writeUsersLeased`). */
export interface HeldLease {
  readonly owner: string;
  /** Epoch ms now, by the guard's clock. */
  now(): number;
  /** The lease to pass to `writeUsersLeased` now: held for another `holdMs` from now. */
  renewed(): RunLease;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

/**
 * Run `fn` while holding the run lease: taken first (waiting up to `waitMs` for its holder), given up afterwards
 * however `fn` ends. `fn` must read what it changes after the lease was taken and write baselines with
 * `writeUsersLeased(users, held.renewed(), held.now())`, which refuses with `LeaseLostError` if the lease lapsed
 * and someone else took it meanwhile; callers retry that from a fresh read (`retryOnConflict` around this call).
 */
export async function withLease<T>(
  store: Pick<DetectionStore, 'acquireLease' | 'releaseLease'>,
  opts: LeaseGuardOptions,
  fn: (held: HeldLease) => Promise<T>,
): Promise<T> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const waitMs = opts.waitMs ?? OPERATOR_LEASE_WAIT_MS;
  let waited = 0;
  const clock = opts.now;
  const now = typeof clock === 'number' ? () => clock + waited : clock;
  const owner = `${opts.purpose}#${randomUUID()}`;
  const started = now();
  for (;;) {
    const t = now();
    const r = await store.acquireLease({ owner, expiresAtMs: t + opts.holdMs }, t - CLOCK_SKEW_MARGIN_MS);
    if (r.acquired) break;
    // The holder's lease lapses (for us) a margin after its end; it is usually given up long before.
    const lapses = r.holder ? r.holder.expiresAtMs + CLOCK_SKEW_MARGIN_MS : t + pollMs;
    const retryAfterMs = Math.max(pollMs, lapses - t);
    if (t - started + pollMs > waitMs) {
      const by = r.holder ? `${r.holder.owner} until ${iso(r.holder.expiresAtMs)}` : 'another writer';
      // Runs' owners are their attempt ids; the guarded writers' are `<purpose>#<uuid>`.
      const other = r.holder ? /^(benign|backfill)#/.exec(r.holder.owner)?.[1] : undefined;
      const what = other ? `another ${other} is changing baselines` : 'a detection run is in progress';
      throw new LeaseBusyError(
        `${opts.purpose}: ${what} (the run lease is held by ${by}); nothing was written. Try again in ${Math.ceil(retryAfterMs / 1000)} s at the latest (the lease is usually given up sooner)`,
        r.holder,
        retryAfterMs,
      );
    }
    await sleep(pollMs);
    waited += pollMs;
  }
  const held: HeldLease = {
    owner,
    now,
    renewed: () => ({ owner, expiresAtMs: now() + opts.holdMs }),
  };
  try {
    return await fn(held);
  } finally {
    // Best effort: a lease left behind lapses by itself within `holdMs`, and must not hide how `fn` ended.
    await store.releaseLease(owner).catch(() => undefined);
  }
}
