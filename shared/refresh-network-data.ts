/**
 * The network-data refresh use case: fetch the publisher's file, build a database from it, check it, store it
 * under a new key, and only then point the pointer at it. Anything that fails before the swap leaves the database
 * in use exactly as it was; the worst a bad publisher file can do is leave the data a week older.
 */
import { NetworkDataBuilder, type BuildStats } from './core/network-data/build';
import { NetworkDatabase } from './core/network-data/lookup';
import { validateNetworkData, type NetworkDataExpectations } from './core/network-data/validate';
import { AuthwatchError, NetworkDataError } from './errors';
import type { Clock } from './ports';
import type { NetworkDataPointer, NetworkDataSource, NetworkDataStore } from './ports/network-data';
import type { RunLogger } from './run-detection';

/** Stored databases to keep, the current one included: a bad swap can be rolled back by rewriting the pointer. */
export const DEFAULT_KEEP_DATABASES = 3;

export interface RefreshDeps {
  readonly source: NetworkDataSource;
  readonly store: NetworkDataStore;
  readonly clock: Clock;
  readonly expectations: NetworkDataExpectations;
  /** Databases to keep after a swap, the new current one included (at least 1). */
  readonly keep?: number;
  readonly logger?: RunLogger;
}

/** What a successful refresh did. */
export interface RefreshSummary {
  /** The database now in use. */
  readonly current: NetworkDataPointer;
  /** The key it replaced, if there was one. */
  readonly previousKey: string | undefined;
  readonly stats: BuildStats;
  /** Older databases deleted after the swap. */
  readonly removed: readonly string[];
  readonly durationMs: number;
}

export async function refreshNetworkData(deps: RefreshDeps): Promise<RefreshSummary> {
  const started = deps.clock.now();
  const keep = Math.max(1, deps.keep ?? DEFAULT_KEEP_DATABASES);

  let previous: NetworkDataPointer | undefined;
  try {
    previous = await deps.store.current();
  } catch (e) {
    // An unreadable pointer must not block the refresh that replaces it; only the shrink check is lost.
    if (!(e instanceof NetworkDataError)) throw e;
    deps.logger?.warn('current network-data pointer unreadable; refreshing without comparing to it', {
      error: e.message,
    });
  }

  const builder = new NetworkDataBuilder();
  try {
    for await (const line of deps.source.lines()) builder.addLine(line);
  } catch (e) {
    throw e instanceof AuthwatchError
      ? e
      : new NetworkDataError(`reading ${deps.source.name} failed: ${String(e)}`, { cause: e });
  }
  const built = builder.finish({ builtAt: deps.clock.now(), source: deps.source.name });
  const db = NetworkDatabase.fromBytes(built.bytes);

  const problems = validateNetworkData({ meta: db.meta, stats: built.stats, db }, deps.expectations, previous);
  if (problems.length > 0) {
    throw new NetworkDataError(
      `the new network data from ${deps.source.name} failed validation; the database in use is unchanged:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }

  const pointer = await deps.store.put(built.bytes, {
    builtAt: db.meta.builtAt,
    source: db.meta.source,
    ipv4Ranges: db.meta.ipv4Ranges,
    ipv6Ranges: db.meta.ipv6Ranges,
  });
  // Read back what was stored before pointing at it: the pointer never names an object a reader would reject.
  const stored = await deps.store.read(pointer);
  NetworkDatabase.fromBytes(stored);
  await deps.store.swap(pointer);

  let removed: string[] = [];
  try {
    const keys = await deps.store.list();
    removed = keys.filter((k) => k !== pointer.key).slice(0, Math.max(0, keys.length - keep));
    if (removed.length > 0) await deps.store.remove(removed);
  } catch (e) {
    // The swap is done; old objects cost cents and the next refresh prunes them.
    deps.logger?.warn('pruning old network databases failed', { error: String(e) });
    removed = [];
  }

  return {
    current: pointer,
    previousKey: previous?.key,
    stats: built.stats,
    removed,
    durationMs: deps.clock.now() - started,
  };
}
