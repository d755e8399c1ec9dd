/**
 * The detector's network-owner data: where it is (from the environment), loading it once per container, and what
 * each run reports about it. Owners and countries are context for detection, never a condition for it: a missing
 * database, an S3 error or a database that fails its checks leaves every lookup "unknown", logs a warning, counts
 * `NetworkDataUnavailable`, and the run goes on.
 */
import { createS3Client } from '../../shared/adapters/aws-clients';
import {
  DEFAULT_MAX_AGE_DAYS,
  type LoadedNetworkData,
  loadNetworkData,
  networkDataRunMetrics,
} from '../../shared/adapters/network-data-loader';
import { DEFAULT_NETWORK_DATA_PREFIX, S3NetworkDataStore } from '../../shared/adapters/network-data-s3';
import { NO_DATA } from '../../shared/core/network-data/lookup';
import { ConfigError } from '../../shared/errors';
import type { NetworkDataReader } from '../../shared/ports/network-data';
import type { RunLogger } from '../../shared/run-detection';
import { NETWORK_DATA_LOCATION_ENV } from '../network-data-env';

/** Where the detector reads the database in use; absent when the deployment has no network data. */
export interface NetworkDataLocation {
  readonly bucket: string;
  readonly prefix: string;
}

/**
 * The location from the environment, or undefined when no bucket is set (the stack deployed without network data).
 * A prefix the S3 layout cannot have is a deployment mistake, reported like every other configuration problem.
 */
export function parseNetworkDataLocation(
  env: Readonly<Record<string, string | undefined>>,
): NetworkDataLocation | undefined {
  const bucket = env[NETWORK_DATA_LOCATION_ENV.bucket];
  if (!bucket) return undefined;
  const prefix = env[NETWORK_DATA_LOCATION_ENV.prefix] || DEFAULT_NETWORK_DATA_PREFIX;
  if (!prefix.endsWith('/'))
    throw new ConfigError([`${NETWORK_DATA_LOCATION_ENV.prefix}: must end in "/", got "${prefix}"`]);
  return { bucket, prefix };
}

/**
 * After a load that found no database, the next invocation at least this much later tries again: on a first
 * deployment the refresh fills the bucket minutes after the detector's first cold start, and a warm container
 * would otherwise run without owners for as long as Lambda keeps it (hours). A loaded database is kept for the
 * container's life; a newer one arrives with the next cold start.
 */
export const RETRY_UNAVAILABLE_MS = 60 * 60 * 1000;

/** A load that failed outright (not a data problem the loader absorbs): every lookup "unknown". */
const FAILED_LOAD: LoadedNetworkData = {
  status: 'unreadable',
  meta: undefined,
  ageDays: undefined,
  problem: 'the load failed unexpectedly',
  lookup: () => NO_DATA,
};

/** The network data of one container: loaded on first use, reloaded only after a load that found none. */
export class DetectorNetworkData {
  private loaded: LoadedNetworkData | undefined;
  private loadedAt = 0;

  constructor(
    private readonly reader: NetworkDataReader,
    private readonly logger: RunLogger & { error(message: string, data: Record<string, unknown>): void },
    private readonly maxAgeDays = DEFAULT_MAX_AGE_DAYS,
  ) {}

  /** The data to run with at `now` (epoch ms). Never throws. */
  async get(now: number): Promise<LoadedNetworkData> {
    const usable = this.loaded?.meta !== undefined;
    if (this.loaded && (usable || now - this.loadedAt < RETRY_UNAVAILABLE_MS)) return this.loaded;
    this.loadedAt = now;
    try {
      this.loaded = await loadNetworkData({
        reader: this.reader,
        now,
        maxAgeDays: this.maxAgeDays,
        logger: this.logger,
      });
    } catch (e) {
      // The loader lets a bug through (it absorbs only data problems); here it must not cost the run its detection.
      this.logger.error('network-owner data could not be loaded: owner and country lookups answer "unknown"', {
        error: e as Error,
      });
      this.loaded = FAILED_LOAD;
    }
    return this.loaded;
  }

  /** The run's network-data metrics (age, stale, unavailable), judged at `now`. */
  metrics(loaded: LoadedNetworkData, now: number): Record<string, number> {
    return networkDataRunMetrics(loaded, now, this.maxAgeDays);
  }
}

/** The composition root's part: the container's network data, or undefined when the deployment has none. */
export function composeNetworkData(
  env: Readonly<Record<string, string | undefined>>,
  logger: ConstructorParameters<typeof DetectorNetworkData>[1],
): DetectorNetworkData | undefined {
  const location = parseNetworkDataLocation(env);
  if (!location) return undefined;
  return new DetectorNetworkData(
    new S3NetworkDataStore({ client: createS3Client(), bucket: location.bucket, prefix: location.prefix }),
    logger,
  );
}
