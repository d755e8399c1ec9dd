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

/** Reading or writing baselines, run state or the alert ledger failed. */
export class BaselineStoreError extends AuthwatchError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BaselineStoreError';
  }
}

/** A conditional write lost: another run changed the item since we read it. The run must fail and be retried. */
export class ConcurrentUpdateError extends BaselineStoreError {
  readonly keys: readonly string[];
  constructor(keys: readonly string[], options?: { cause?: unknown }) {
    super(`Baseline items changed since they were read (another run?): ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`, options);
    this.name = 'ConcurrentUpdateError';
    this.keys = keys;
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
