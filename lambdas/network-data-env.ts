/**
 * The environment variables naming where the network data lives: set by infra/ on the refresh function (which
 * writes there) and on the detector (which reads there), and read by both composition roots. No imports, so
 * neither bundle pulls in the other's code for two names.
 */
export const NETWORK_DATA_LOCATION_ENV = {
  /** The stack's network-data bucket. Unset on the detector: network data is disabled (no owners, no S3 call). */
  bucket: 'AUTHWATCH_NETWORK_DATA_BUCKET',
  /** Key prefix in the bucket, ending in "/". */
  prefix: 'AUTHWATCH_NETWORK_DATA_PREFIX',
} as const;
