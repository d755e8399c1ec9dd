/**
 * Configuration of the network-data refresh function, from its environment, parsed once per cold start. The
 * variable names are exported for infra/constructs/network-data.ts, so the two cannot drift.
 */
import * as z from 'zod';
import { DEFAULT_NETWORK_DATA_PREFIX } from '../../shared/adapters/network-data-s3';
import { DEFAULT_DOWNLOAD_TIMEOUT_MS, IPTOASN_COMBINED_URL } from '../../shared/adapters/network-data-source';
import { parseJson, parseMillis } from '../../shared/config';
import { DEFAULT_EXPECTATIONS, type NetworkDataExpectations } from '../../shared/core/network-data/validate';
import { formatIssues } from '../../shared/core/settings';
import { ConfigError } from '../../shared/errors';
import { DEFAULT_KEEP_DATABASES } from '../../shared/refresh-network-data';
import { NETWORK_DATA_LOCATION_ENV } from '../network-data-env';

export const REFRESH_ENV = {
  /** The stack's network-data bucket, and the key prefix in it (ending in "/"): the detector reads the same two. */
  ...NETWORK_DATA_LOCATION_ENV,
  /** The publisher's file: IPtoASN's ip2asn-combined.tsv.gz unless set (a mirror, or another file in its format). */
  url: 'AUTHWATCH_NETWORK_DATA_URL',
  /** JSON: overrides of the validation bounds (`minIpv4Ranges`, ..., see NetworkDataExpectations). */
  expectations: 'AUTHWATCH_NETWORK_DATA_EXPECTATIONS',
  /** Milliseconds the download may take. */
  downloadTimeoutMs: 'AUTHWATCH_NETWORK_DATA_DOWNLOAD_TIMEOUT_MS',
} as const;

export interface RefreshConfig {
  readonly bucket: string;
  readonly prefix: string;
  readonly url: string;
  readonly expectations: NetworkDataExpectations;
  readonly downloadTimeoutMs: number;
  readonly keep: number;
}

const count = z.number().int().nonnegative();
const expectationsSchema = z
  .object({
    minIpv4Ranges: count,
    maxIpv4Ranges: count,
    minIpv6Ranges: count,
    maxIpv6Ranges: count,
    maxMalformedShare: z.number().min(0).max(1),
    minShareOfCurrent: z.number().min(0).max(1),
    wellKnown: z.array(
      z.object({
        ip: z.string(),
        asn: count,
        country: z
          .string()
          .regex(/^[A-Z]{2}$/)
          .optional(),
      }),
    ),
  })
  .partial()
  .strict();

/** Parse the refresh function's environment. Throws `ConfigError` listing every problem at once. */
export function parseRefreshConfig(env: Readonly<Record<string, string | undefined>>): RefreshConfig {
  const issues: string[] = [];
  const bucket = env[REFRESH_ENV.bucket];
  if (!bucket) issues.push(`${REFRESH_ENV.bucket}: required (the network-data bucket)`);
  const prefix = env[REFRESH_ENV.prefix] || DEFAULT_NETWORK_DATA_PREFIX;
  if (!prefix.endsWith('/')) issues.push(`${REFRESH_ENV.prefix}: must end in "/", got "${prefix}"`);
  const url = env[REFRESH_ENV.url] || IPTOASN_COMBINED_URL;
  if (!/^https?:\/\/[^/]/.test(url)) issues.push(`${REFRESH_ENV.url}: must be an http(s) URL, got "${url}"`);

  let expectations = DEFAULT_EXPECTATIONS;
  const json = parseJson(REFRESH_ENV.expectations, env[REFRESH_ENV.expectations], issues);
  if (json !== undefined) {
    const r = expectationsSchema.safeParse(json);
    if (r.success) expectations = { ...DEFAULT_EXPECTATIONS, ...r.data } as NetworkDataExpectations;
    else issues.push(...formatIssues(r.error.issues, REFRESH_ENV.expectations));
  }

  const downloadTimeoutMs = parseMillis(
    REFRESH_ENV.downloadTimeoutMs,
    env[REFRESH_ENV.downloadTimeoutMs],
    DEFAULT_DOWNLOAD_TIMEOUT_MS,
    issues,
  );

  if (issues.length > 0) throw new ConfigError(issues);
  return { bucket: bucket!, prefix, url, expectations, downloadTimeoutMs, keep: DEFAULT_KEEP_DATABASES };
}
