/**
 * One error hierarchy for authwatch. Callers use `instanceof`, never string compares.
 * Adapters wrap SDK errors with `{ cause }` so the original stays inspectable.
 */
export class AuthwatchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuthwatchError';
  }
}

/** Configuration is invalid; `issues` lists every problem at once, each with the path to fix. */
export class ConfigError extends AuthwatchError {
  readonly issues: readonly string[];
  constructor(issues: readonly string[], options?: { cause?: unknown }) {
    super(`Invalid authwatch configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`, options);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** The invocation event does not say which window to run (neither a schedule time nor `windowEnd`). */
export class InvalidEventError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidEventError';
  }
}

/** A log line or query row could not be understood. Usually counted and skipped, not thrown to the top. */
export class ParseError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ParseError';
  }
}

/** A log query failed, timed out, or could not be made complete (e.g. the row cap could not be split away). */
export class QueryError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryError';
  }
}

/**
 * A log window could not be fetched whole under the query service's row limit: a slice stayed capped after every
 * split (time, user name, source address, host), or the splits needed more queries than one fetch may start.
 * Nothing is returned rather than part of the window; the run fails and the `QueryIncomplete` metric says why.
 */
export class QueryIncompleteError extends QueryError {
  /** Queries the fetch had started when it gave up. */
  readonly queries: number;
  constructor(message: string, queries: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QueryIncompleteError';
    this.queries = queries;
  }
}

/** Reading or writing baselines, run state or the alert ledger failed. */
export class BaselineStoreError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BaselineStoreError';
  }
}

/**
 * An item can never be stored: over DynamoDB's item size limit even after everything the store may evict was
 * evicted. `saveUsers` skips and counts such a user instead of failing every other user's save with it.
 */
export class ItemTooLargeError extends BaselineStoreError {
  /** Size the item would have, in bytes as DynamoDB counts them. */
  readonly bytes: number;
  constructor(message: string, bytes: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ItemTooLargeError';
    this.bytes = bytes;
  }
}

/** A conditional write lost: another run changed the item since we read it. The run must fail and be retried. */
export class ConcurrentUpdateError extends BaselineStoreError {
  readonly keys: readonly string[];
  constructor(keys: readonly string[], options?: { cause?: unknown }) {
    super(
      `Baseline items changed since they were read (another run?): ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`,
      options,
    );
    this.name = 'ConcurrentUpdateError';
    this.keys = keys;
  }
}

/**
 * A leased bulk write (`writeUsersLeased`) found the run lease no longer its own: another writer took it after it
 * lapsed (or it was released), so what the caller read under it may have been changed since. Nothing of that call
 * was written. A `ConcurrentUpdateError`: the caller retries from a fresh read under a lease taken again.
 */
export class LeaseLostError extends ConcurrentUpdateError {
  /** Who holds the lease now, when anyone does. */
  readonly holder: { readonly owner: string; readonly expiresAtMs: number } | undefined;
  constructor(
    owner: string,
    holder: { readonly owner: string; readonly expiresAtMs: number } | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      [
        `META#lease (held by ${holder ? `${holder.owner} until ${new Date(holder.expiresAtMs).toISOString()}` : 'no one'})`,
      ],
      options,
    );
    this.message = `The run lease is no longer held by ${owner} (${holder ? `${holder.owner} holds it until ${new Date(holder.expiresAtMs).toISOString()}` : 'it was released or lapsed'}); nothing was written`;
    this.name = 'LeaseLostError';
    this.holder = holder;
  }
}

/**
 * A writer that must hold the run lease to change baselines (an operator's `benign`, a backfill's commit window)
 * waited as long as it may and the lease is still held by another (a detection run). Nothing was written; the
 * message says when to try again.
 */
export class LeaseBusyError extends AuthwatchError {
  /** The lease as held when the writer gave up. */
  readonly holder: { readonly owner: string; readonly expiresAtMs: number } | undefined;
  /** Milliseconds until the holder's lease lapses at the latest (it is usually released sooner). */
  readonly retryAfterMs: number;
  constructor(
    message: string,
    holder: { readonly owner: string; readonly expiresAtMs: number } | undefined,
    retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'LeaseBusyError';
    this.holder = holder;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Delivering alerts failed; nothing in the failed set may be marked as raised. */
export class AlertSinkError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AlertSinkError';
  }
}

/**
 * Network-owner data (IP → ASN, organisation, country) could not be downloaded, parsed, built, validated, read or
 * stored. A refresh that throws it has not replaced the database in use.
 */
export class NetworkDataError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NetworkDataError';
  }
}

/**
 * A run's staged data (shared/ports/staging.ts) could not be written, read, listed or deleted, or a key was refused
 * (absolute, `..`, empty segment). The step fails; its retry writes the same keys again.
 */
export class StagingError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StagingError';
  }
}
