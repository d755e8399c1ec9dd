/**
 * Loading the network database in use, once per cold start. Owner and country are context for an alert, not a
 * condition for running: when the database is missing or unreadable every lookup answers "unknown" and the
 * run goes on, with a warning and a metric so an operator sees it; when it is stale it is still used (owners
 * of address ranges change slowly: a database a few weeks old is right for nearly every address, and far better
 * than none) and the warning and metric say how old it is.
 */
import { readFile } from 'node:fs/promises';
import type { NetworkDataMeta } from '../core/network-data/format';
import { NetworkDatabase, NO_DATA, type NetworkLookup, type NetworkLookupService } from '../core/network-data/lookup';
import { networkDataAgeDays } from '../core/network-data/validate';
import { NetworkDataError } from '../errors';
import type { NetworkDataReader } from '../ports/network-data';
import type { RunLogger } from '../run-detection';

/**
 * Metric names of the network data: what the detector emits with every run's metrics (`networkDataRunMetrics`) and
 * what the refresh function emits. The stack's dashboard and its stale and unavailable alarms read these names
 * (infra/constructs/monitoring.ts), so the two cannot drift.
 */
export const NETWORK_DATA_METRICS = {
  /** Age of the database in use, days. Absent when none is loaded. */
  ageDays: 'NetworkDataAgeDays',
  /** 1 when no database could be loaded (every lookup "unknown"), else 0. */
  unavailable: 'NetworkDataUnavailable',
  /** 1 when the database in use is older than the limit, else 0. */
  stale: 'NetworkDataStale',
  /** The refresh function: 1 per database swapped in (an alarm on its absence over two weeks catches a failing refresh). */
  refreshSucceeded: 'NetworkDataRefreshSucceeded',
  /** The refresh function: ranges in the database it swapped in. */
  ipv4Ranges: 'NetworkDataIpv4Ranges',
  ipv6Ranges: 'NetworkDataIpv6Ranges',
} as const;

/**
 * A weekly refresh keeps the data under 7 days old; 10 days means one refresh was missed, which an operator should
 * hear about before the next one is missed too.
 */
export const DEFAULT_MAX_AGE_DAYS = 10;

/** `current` and (unless refused) `stale` answer lookups from the database; `missing` and `unreadable` answer "unknown". */
export type NetworkDataStatus = 'current' | 'stale' | 'missing' | 'unreadable';

/** The loaded data, or its stand-in; either way it answers lookups. */
export interface LoadedNetworkData extends NetworkLookupService {
  readonly status: NetworkDataStatus;
  /** The database's header, when one is loaded. */
  readonly meta: NetworkDataMeta | undefined;
  readonly ageDays: number | undefined;
  /** Why no database (or a stale one) is in use, for the log. */
  readonly problem: string | undefined;
}

export interface NetworkDataLoaderDeps {
  readonly reader: NetworkDataReader;
  /** Epoch ms: the time staleness is judged at. */
  readonly now: number;
  readonly maxAgeDays?: number;
  /**
   * What a database older than `maxAgeDays` answers: `use` (the default: still its data, see the module comment) or
   * `unknown` (as if missing), for a caller that would rather have no owner than a possibly outdated one.
   */
  readonly whenStale?: 'use' | 'unknown';
  readonly logger?: RunLogger;
  /** Receives each of `NETWORK_DATA_METRICS` that applies. */
  readonly metric?: (name: string, value: number) => void;
}

class Unavailable implements LoadedNetworkData {
  readonly meta = undefined;
  readonly ageDays = undefined;
  constructor(
    readonly status: 'missing' | 'unreadable',
    readonly problem: string,
  ) {}
  lookup(): NetworkLookup {
    return NO_DATA;
  }
}

/** A stale database the caller chose not to use: its header for the log, "unknown" for every lookup. */
class Stale implements LoadedNetworkData {
  readonly status = 'stale';
  constructor(
    readonly meta: NetworkDataMeta,
    readonly ageDays: number,
    readonly problem: string,
  ) {}
  lookup(): NetworkLookup {
    return NO_DATA;
  }
}

class Loaded implements LoadedNetworkData {
  readonly meta: NetworkDataMeta;
  constructor(
    private readonly db: NetworkDatabase,
    readonly status: 'current' | 'stale',
    readonly ageDays: number,
    readonly problem: string | undefined,
  ) {
    this.meta = db.meta;
  }
  lookup(ip: string): NetworkLookup {
    return this.db.lookup(ip);
  }
}

/** Load the database in use. Never throws for missing, unreadable or stale data: see the module comment. */
export async function loadNetworkData(deps: NetworkDataLoaderDeps): Promise<LoadedNetworkData> {
  const maxAgeDays = deps.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
  const unavailable = (status: 'missing' | 'unreadable', problem: string): LoadedNetworkData => {
    deps.logger?.warn(`network-owner data ${status}: owner and country lookups answer "unknown"`, { problem });
    deps.metric?.(NETWORK_DATA_METRICS.unavailable, 1);
    deps.metric?.(NETWORK_DATA_METRICS.stale, 0);
    return new Unavailable(status, problem);
  };

  let db: NetworkDatabase;
  try {
    const pointer = await deps.reader.current();
    if (!pointer) return unavailable('missing', 'no database has been swapped in yet (has the refresh function run?)');
    db = NetworkDatabase.fromBytes(await deps.reader.read(pointer));
  } catch (e) {
    // Only data problems are absorbed; a bug (a TypeError) still fails loudly.
    if (!(e instanceof NetworkDataError)) throw e;
    return unavailable('unreadable', e.message);
  }

  const ageDays = networkDataAgeDays(db.meta, deps.now);
  deps.metric?.(NETWORK_DATA_METRICS.unavailable, 0);
  deps.metric?.(NETWORK_DATA_METRICS.ageDays, Math.round(ageDays * 10) / 10);
  const stale = ageDays > maxAgeDays;
  deps.metric?.(NETWORK_DATA_METRICS.stale, stale ? 1 : 0);
  if (!stale) return new Loaded(db, 'current', ageDays, undefined);
  const problem = `built ${new Date(db.meta.builtAt).toISOString()}, ${Math.floor(ageDays)} days ago (limit ${maxAgeDays}); is the refresh failing?`;
  if (deps.whenStale === 'unknown') {
    deps.logger?.warn('network-owner data stale: not used, owner and country lookups answer "unknown"', { problem });
    return new Stale(db.meta, ageDays, problem);
  }
  deps.logger?.warn('network-owner data stale: still used', { problem });
  return new Loaded(db, 'stale', ageDays, problem);
}

/**
 * The network-data metrics of one run, from data loaded earlier (a warm container keeps its database for many runs):
 * the age is judged at `now`, so a container that outlives its database's freshness turns stale on the dashboard
 * and the alarm, not only at its next cold start.
 */
export function networkDataRunMetrics(
  loaded: Pick<LoadedNetworkData, 'meta'>,
  now: number,
  maxAgeDays = DEFAULT_MAX_AGE_DAYS,
): Record<string, number> {
  if (!loaded.meta) return { [NETWORK_DATA_METRICS.unavailable]: 1, [NETWORK_DATA_METRICS.stale]: 0 };
  const ageDays = networkDataAgeDays(loaded.meta, now);
  return {
    [NETWORK_DATA_METRICS.unavailable]: 0,
    [NETWORK_DATA_METRICS.ageDays]: Math.round(ageDays * 10) / 10,
    [NETWORK_DATA_METRICS.stale]: ageDays > maxAgeDays ? 1 : 0,
  };
}

/** A database file on disk (the CLI, the bench). Throws `NetworkDataError` if it is not one. */
export async function loadNetworkDataFile(path: string): Promise<NetworkDatabase> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new NetworkDataError(`reading ${path} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return NetworkDatabase.fromBytes(bytes);
}
