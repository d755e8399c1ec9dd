/**
 * What the AWS adapters share about failures: the jittered backoff between the retries only an adapter can
 * make (entries a successful batch call reports as failed or unprocessed), and how an error reads in a
 * message. Retrying a failed call is the SDK client's job, configured in aws-clients.ts.
 */

/** "Full jitter" backoff: a uniform wait in [0, min(cap, base · 2^attempt)) ms. */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

/** `Name: message` of an error, for messages that name what failed. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return String(e);
}
