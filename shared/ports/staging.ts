/**
 * Where the steps of one run keep what they hand to each other (a shard's observations, its evaluation, the
 * baselines it learned, waiting to be written): a temporary directory locally and in the single Lambda, an S3
 * prefix under the fan-out (every step is its own invocation there). Keys are relative paths (`<run>/obs/3`);
 * values are opaque bytes (the steps serialise them). Nothing staged outlives its run: the run's last step
 * deletes its prefix, and the S3 bucket expires what a failed run left behind.
 */
export interface Staging {
  /** Store `value` under `key`, replacing what was there (a retried step writes the same key again). */
  put(key: string, value: Uint8Array): Promise<void>;
  /** The value under `key`, or undefined if nothing was staged there. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Keys under `prefix` (relative, as they were put), in no particular order. */
  list(prefix: string): Promise<string[]>;
  /** Delete every key under `prefix`. */
  deletePrefix(prefix: string): Promise<void>;
}
