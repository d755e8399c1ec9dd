import type { Feedback, LedgerEntry, PopulationStats, RunLease, RunState, UserBaseline } from '../core/model';

/**
 * Persistent detector memory: per-user baselines, population statistics, run state, analyst feedback and
 * the alert ledger.
 *
 * Writes are version-checked: each item carries the `version` it was read with (0 = not stored yet), and a
 * save whose item changed in between fails with `ConcurrentUpdateError`, so two runs can never silently
 * overwrite each other. Implementations: `DynamoDbBaselineStore` (AWS and, on dynalite, local), `InMemoryBaselineStore` (tests).
 */
export interface BaselineStore {
  /** Baselines of exactly these users; users never stored are absent from the map. */
  getUsers(users: readonly string[]): Promise<Map<string, UserBaseline>>;
  getPopulation(): Promise<PopulationStats | undefined>;
  getRunState(): Promise<RunState | undefined>;
  /** Analyst feedback (allowlists written by `authwatch allow`); undefined when none was ever saved. */
  getFeedback(): Promise<Feedback | undefined>;
  /** Which of these alert ids the ledger already holds. */
  getRaisedAlerts(ids: readonly string[]): Promise<Set<string>>;
  /** One ledger entry by alert id, with its document (`benign`, `show`); undefined if absent or already expired away. */
  getLedgerEntry(id: string): Promise<LedgerEntry | undefined>;
  /** Mark alerts raised (idempotent: an id already present is left as it is). */
  recordRaisedAlerts(entries: readonly LedgerEntry[]): Promise<void>;
  /** Save changed baselines, each conditional on the version it was read with. */
  /**
   * Save baselines. An item that can never be stored (over DynamoDB's 400 KB item limit even with every place
   * evicted: only a pathological user name does that) is skipped and returned in `notStored`; the others are
   * saved. Any other failure still throws (after attempting every item), so a run never learns half-silently.
   */
  saveUsers(users: readonly UserBaseline[]): Promise<SaveUsersResult>;
  savePopulation(population: PopulationStats): Promise<void>;
  saveRunState(state: RunState): Promise<void>;
  /** Save feedback, conditional on the version it was read with (`ConcurrentUpdateError` if it changed). */
  saveFeedback(feedback: Feedback): Promise<void>;
  /**
   * Take the run lease for `lease.owner` until `lease.expiresAt`, unless another owner holds it past `now`
   * (its holder is then returned, and nothing is written). Taking a lease one already holds extends it, so a
   * write whose response was lost can be repeated.
   */
  acquireLease(
    lease: RunLease,
    now: number,
  ): Promise<{ readonly acquired: true } | { readonly acquired: false; readonly holder: RunLease | undefined }>;
  /** Give the lease up if `owner` still holds it; a no-op otherwise (it expired and someone else took it). */
  releaseLease(owner: string): Promise<void>;
  /**
   * Every stored baseline, in no particular order. For operator views (`authwatch status`), never for the
   * detection run: it reads the whole table.
   */
  scanUsers(): AsyncIterable<UserBaseline>;
  /** Every ledger entry still stored, without documents (DynamoDB TTL deletes lazily: callers filter on `expiresAt`). Operator views only. */
  scanLedger(): AsyncIterable<LedgerEntry>;
}

/** A user baseline `saveUsers` skipped because it cannot be stored. */
export interface ItemNotStored {
  /** The user name JSON-escaped and truncated (with its length when cut): safe to put in a log line as it is. */
  readonly user: string;
  /** Why, e.g. the item's size against the limit, or DynamoDB's own error. */
  readonly reason: string;
}

/** What `saveUsers` could not store; every other given baseline was saved. */
export interface SaveUsersResult {
  readonly notStored: readonly ItemNotStored[];
}
