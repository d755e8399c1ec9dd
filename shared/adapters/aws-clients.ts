/**
 * The one place AWS SDK clients are configured: how many attempts each service gets, in which retry
 * mode, and the factories every entry point (the detector Lambda, the CLI) builds its clients with.
 *
 * Retrying a failed *call* (throttling, 5xx, a reset socket) is the SDK's job: its retry middleware
 * classifies the error, backs off with full jitter (throttling errors from a larger base than transient
 * ones), honours `Retry-After`, and draws from a per-client retry quota so a struggling service is not
 * hammered by every caller at once. The adapters therefore never retry a call the SDK gave up on; that
 * multiplied attempts (9 adapter tries × 3 SDK attempts = 27 requests for one throttled `StartQuery`).
 * They keep only what the SDK cannot see: entries of a successful `PublishBatch` reported as failed,
 * `UnprocessedKeys` of a successful `BatchGetItem`, polling `GetQueryResults` until the query is done,
 * and the fetch deadline.
 */
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
// The SDK clients' own retry package (a dependency of every @aws-sdk/client-*): its strategy with a
// caller-chosen backoff, for tests that must not wait the real one.
import { ConfiguredRetryStrategy } from '@smithy/core/retry';

/** The AWS services authwatch calls. */
export type AwsService = 'logs' | 'sns' | 'dynamodb' | 's3' | 'events' | 'securityhub';

/**
 * Attempts per call (the first one included), pinned here so neither an SDK upgrade nor `AWS_MAX_ATTEMPTS`
 * changes how long a run may spend on one call. Every throttled retry waits a full-jitter
 * backoff of up to 1 s · 2^(retry−1) (the SDK's throttling base; 20 s cap).
 */
export const AWS_MAX_ATTEMPTS: Readonly<Record<AwsService, number>> = {
  // CloudWatch Logs: `LimitExceededException` on StartQuery (the account's concurrent Insights queries
  // are all taken) is throttling to the SDK, and a slot frees only when another query finishes, which
  // takes seconds; GetQueryResults has a small per-account TPS quota that polling can touch. Six attempts
  // allow up to 1+2+4+8+16 = 31 s of backoff, well inside the fetch deadline, which also caps it.
  logs: 6,
  // SNS: the per-account Publish quotas are high and a run sends a handful of calls, so a throttled call
  // is rare and clears fast; four attempts (≤ 7 s of backoff) do. Entries SNS reports as failed inside a
  // successful PublishBatch are retried by the sink itself, which the SDK cannot do.
  sns: 4,
  // DynamoDB throttles whole calls more often than the others, and briefly (an on-demand table above
  // twice its previous peak, a hot partition while it splits), which is why the SDKs have always given
  // it more attempts than other services: SDK v2 allowed 10 retries, this SDK v3 defaults DynamoDB to 4
  // attempts (25 ms transient base) where every other service gets 3. One more than that default rides
  // out a split for the few hundred reads and writes of a run (≤ 15 s of throttled backoff). Keys a
  // BatchGetItem leaves unprocessed are the store's to re-request, not the SDK's.
  dynamodb: 5,
  // S3: the network-data refresh (weekly) and the detector's load of it (once per cold start) make a few calls to
  // one bucket, far below S3's per-prefix rates; the SDK's default of three attempts covers a 503 SlowDown or a
  // reset connection.
  s3: 3,
  // EventBridge and Security Hub: like SNS, a run makes a handful of calls (10 events, 100 findings per call) far
  // below their per-account rates; a throttled call clears fast. Entries they report as failed inside a successful
  // call are the sinks' to send again. (Security Hub's call is signed and sent by its sink, not an SDK client, which
  // attempts it this many times: see security-hub-alert-sink.ts.)
  events: 4,
  securityhub: 4,
};

/**
 * `standard`, not `adaptive`: adaptive mode also rate-limits this client's *later* calls after a throttle
 * (a client-side token bucket). That pays off for a long loop hammering one resource; the detector makes a
 * few calls per run to different log groups and items, where a throttle on one must not slow the others.
 * Standard mode's retry quota already stops retry storms.
 */
export const AWS_RETRY_MODE = 'standard';

/** Credentials as the SDK takes them (static ones: local endpoints and tests). */
export interface StaticCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Where and how to reach a service; everything omitted comes from the SDK's default chains (env, profile, Lambda role). */
export interface AwsClientOptions {
  readonly region?: string;
  /** Another endpoint than AWS's, e.g. `http://127.0.0.1:<port>` for an embedded DynamoDB or a test server. */
  readonly endpoint?: string;
  readonly credentials?: StaticCredentials;
  /**
   * Tests only: the wait in ms before retry `n` (1-based), instead of the SDK's jittered exponential
   * backoff. Attempts and which errors are retried stay as configured here.
   */
  readonly retryDelayMs?: (retry: number) => number;
}

/** The client configuration for `service`: its attempts and retry mode, plus `opts`. */
export function awsClientConfig(service: AwsService, opts: AwsClientOptions = {}) {
  const maxAttempts = AWS_MAX_ATTEMPTS[service];
  return {
    maxAttempts,
    retryMode: AWS_RETRY_MODE,
    ...(opts.retryDelayMs ? { retryStrategy: new ConfiguredRetryStrategy(maxAttempts, opts.retryDelayMs) } : {}),
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials !== undefined ? { credentials: { ...opts.credentials } } : {}),
  };
}

export function createLogsClient(opts: AwsClientOptions = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient(awsClientConfig('logs', opts));
}

export function createSnsClient(opts: AwsClientOptions = {}): SNSClient {
  return new SNSClient(awsClientConfig('sns', opts));
}

export function createS3Client(opts: AwsClientOptions = {}): S3Client {
  return new S3Client(awsClientConfig('s3', opts));
}

export function createEventBridgeClient(opts: AwsClientOptions = {}): EventBridgeClient {
  return new EventBridgeClient(awsClientConfig('events', opts));
}

export function createDynamoDbClient(opts: AwsClientOptions = {}): DynamoDBClient {
  return new DynamoDBClient(awsClientConfig('dynamodb', opts));
}
