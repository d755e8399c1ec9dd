/**
 * The network-data refresh Lambda: a composition root and nothing else. On its schedule (weekly) it downloads
 * the publisher's file, builds and validates a database, stores it and swaps the pointer
 * (shared/refresh-network-data.ts). A failure throws: the database in use stays, Lambda retries, and the
 * invocation ends in the dead-letter queue.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { createS3Client } from '../../shared/adapters/aws-clients';
import { NETWORK_DATA_METRICS } from '../../shared/adapters/network-data-loader';
import { S3NetworkDataStore } from '../../shared/adapters/network-data-s3';
import { HttpNetworkDataSource } from '../../shared/adapters/network-data-source';
import { SystemClock } from '../../shared/adapters/system-clock';
import { refreshNetworkData, type RefreshDeps, type RefreshSummary } from '../../shared/refresh-network-data';
import { METRIC_NAMESPACE } from '../../shared/telemetry';
import { parseRefreshConfig } from './config';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });

let deps: RefreshDeps | undefined;

/** Build everything from the environment once; a ConfigError here fails every invocation, listing each problem. */
export function compose(env: Readonly<Record<string, string | undefined>>): RefreshDeps {
  const config = parseRefreshConfig(env);
  return {
    source: new HttpNetworkDataSource({ url: config.url, timeoutMs: config.downloadTimeoutMs }),
    store: new S3NetworkDataStore({ client: createS3Client(), bucket: config.bucket, prefix: config.prefix }),
    clock: new SystemClock(),
    expectations: config.expectations,
    keep: config.keep,
    logger: { warn: (message, data) => logger.warn(message, data ?? {}) },
  };
}

export async function handler(): Promise<RefreshSummary> {
  deps ??= compose(process.env);
  try {
    const summary = await refreshNetworkData(deps);
    metrics.addMetric(NETWORK_DATA_METRICS.refreshSucceeded, MetricUnit.Count, 1);
    metrics.addMetric(NETWORK_DATA_METRICS.ipv4Ranges, MetricUnit.Count, summary.current.ipv4Ranges);
    metrics.addMetric(NETWORK_DATA_METRICS.ipv6Ranges, MetricUnit.Count, summary.current.ipv6Ranges);
    logger.info('network data refreshed', { summary });
    return summary;
  } catch (e) {
    logger.error('network-data refresh failed; the database in use is unchanged', { error: e as Error });
    throw e;
  } finally {
    metrics.publishStoredMetrics();
  }
}
