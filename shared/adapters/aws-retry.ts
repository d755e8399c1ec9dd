/**
 * What the AWS adapters share about failures: which errors are worth retrying, the jittered backoff
 * between attempts, and how an error reads in a message.
 */

/** Error names every AWS service uses for throttling and transient faults. */
const TRANSIENT_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalError',
  'InternalFailure',
  'InternalErrorException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'TimeoutError',
]);

/**
 * Whether a failed AWS call is worth retrying: a transient or throttling error by name (plus the
 * service's own `extraNames`), one the SDK marks `$retryable`, or HTTP 429/5xx.
 */
export function isRetryableAwsError(e: unknown, extraNames: ReadonlySet<string> = new Set()): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { name?: unknown; $retryable?: unknown; $metadata?: { httpStatusCode?: unknown } };
  if (typeof err.name === 'string' && (TRANSIENT_ERROR_NAMES.has(err.name) || extraNames.has(err.name))) return true;
  if (err.$retryable) return true;
  const status = err.$metadata?.httpStatusCode;
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}

/** "Full jitter" backoff: a uniform wait in [0, min(cap, base · 2^attempt)) ms. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** `Name: message` of an error, for messages that name what failed. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
