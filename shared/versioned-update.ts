/**
 * Read-modify-write of the store's version-checked items, retried when another writer won the race: the one
 * retry loop of the use cases (backfill, operator feedback, the scheduled run's run-state edits).
 *
 * Every save carries the version its item was read with, and fails with `ConcurrentUpdateError` when the item
 * changed in between (shared/ports/baseline-store.ts). The writers that can meet on one item are few and brief
 * (the detector's run, a backfill, an operator's command), so the whole read-modify-write is simply done again
 * from a fresh read, a few times. Only that error is retried: anything else is not a lost race, and the SDK has
 * already retried the AWS call itself (shared/adapters/aws-clients.ts).
 */
import type { RunState } from './core/model';
import { ConcurrentUpdateError } from './errors';
import type { DetectionStore } from './ports';

/** Attempts of one read-modify-write before the `ConcurrentUpdateError` is the caller's. */
export const MAX_CONFLICT_ATTEMPTS = 5;

/**
 * Run `attempt` (a read, a change, a version-checked save) until it does not lose a race, at most `attempts`
 * times. `attempt` must read afresh every time: a retry with the versions of the lost attempt loses again.
 */
export async function retryOnConflict<T>(
  attempt: () => Promise<T>,
  attempts: number = MAX_CONFLICT_ATTEMPTS,
): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (e) {
      if (!(e instanceof ConcurrentUpdateError) || i >= attempts) throw e;
    }
  }
}

/**
 * Read-modify-write of run state. `change` gets the stored state (undefined on a store no run or backfill has
 * written) and returns the state to save, or undefined to leave it. Returns the state as stored afterwards.
 */
export async function updateRunState(
  store: Pick<DetectionStore, 'getRunState' | 'saveRunState'>,
  change: (state: RunState | undefined) => RunState | undefined,
): Promise<RunState | undefined> {
  return retryOnConflict(async () => {
    const state = await store.getRunState();
    const next = change(state);
    if (!next) return state;
    await store.saveRunState(next);
    return { ...next, version: next.version + 1 };
  });
}
