import type { Feedback, LedgerEntry, PopulationStats, RunLease, RunState, UserBaseline } from '../core/model';
import type { DeliveryRecordStore } from './delivery-record';

/*
 * The detector's memory (per-user baselines, population statistics, run state, analyst feedback, the alert
 * ledger, the run lease) seen through two ports, one per kind of user:
 * - `DetectionStore`: what a detection run needs (`runDetection`, `runScheduled`, and `backfill`, which
 *   learns like a run without alerting);
 * - `OperatorStore`: what the operator's views and commands need (`allow`, `benign`: the feedback use cases
 *   in shared/feedback.ts; `show`, `status`, `explain` in cli/operator.ts): whole-table scans and single ledger documents a run never reads, and
 *   feedback, which only an operator writes.
 * Both read the same items; `BaselineStore` is the two together, for the adapters that implement both.
 *
 * Writes are version-checked: each item carries the `version` it was read with (0 = not stored yet), and a
 * save whose item changed in between fails with `ConcurrentUpdateError`, so two writers (a run, a backfill,
 * an operator) can never silently overwrite each other. One exception, for cost: a run's bulk save of baselines
 * (`writeUsersLeased`) is not checked per item; it relies on the run lease, which every writer of baselines holds
 * while it reads and writes them (README "How a run writes").
 */

/**
 * The store as a detection run uses it: read the baselines of the users in a window, write what was learned,
 * dedup alerts through the ledger, advance the run state, and hold the run lease. Used by `runDetection` and
 * `runScheduled` (shared/, through `DetectionDeps.store`) and by `backfill` (shared/backfill.ts). No method
 * here reads more than the items asked for: a run never scans the table.
 */
export interface DetectionStore {
  /** Baselines of exactly these users; users never stored are absent from the map. */
  getUsers(users: readonly string[]): Promise<Map<string, UserBaseline>>;
  getPopulation(): Promise<PopulationStats | undefined>;
  getRunState(): Promise<RunState | undefined>;
  /** Analyst feedback (allowlists written by `authwatch allow`); undefined when none was ever saved. */
  getFeedback(): Promise<Feedback | undefined>;
  /** Which of these alert ids the ledger already holds. */
  getRaisedAlerts(ids: readonly string[]): Promise<Set<string>>;
  /** Mark alerts raised (idempotent: an id already present is left as it is). */
  recordRaisedAlerts(entries: readonly LedgerEntry[]): Promise<void>;
  /**
   * Save baselines, each conditional on the version it was read with (one request per item on DynamoDB: for small
   * writes; a run's bulk save is `writeUsersLeased`). An item that can never be stored (over
   * DynamoDB's 400 KB item limit even with every place evicted: only a pathological user name does that) is
   * skipped and returned in `notStored`; the others are saved. Any other failure still throws (after
   * attempting every item), so a run never learns half-silently.
   */
  saveUsers(users: readonly UserBaseline[]): Promise<SaveUsersResult>;
  /**
   * A run's bulk save of the baselines it read and changed under the run lease `lease.owner` holds: no per-item
   * condition (DynamoDB: `BatchWriteItem`, 25 items a request, retrying what it leaves unprocessed), each item stored
   * at the version it was read with + 1, like `saveUsers`, so version-checked writers that come later still work.
   *
   * First the lease is confirmed and set to expire at `lease.expiresAtMs` (which must be after `now`): refused with
   * `LeaseLostError`, nothing written, if the lease item no longer names `lease.owner` (it lapsed and another writer
   * took it, or it was released). The owner's name is the fence: anyone else who held the lease since it was taken
   * replaced it. Pass the expiry the lease was taken with to confirm it only, a later one to extend it; the
   * whole call must end before that expiry (every writer of baselines takes the lease before it reads, see
   * shared/lease-guard.ts, so until then no one else changes these items).
   *
   * Safe only for baselines read after the lease was taken: a change someone made between that read and this
   * write is overwritten. Sizes as in `saveUsers` (an item over the limit with every place evicted is skipped and
   * returned in `notStored`). A batch DynamoDB keeps leaving unprocessed, or any other failure, throws
   * `BaselineStoreError` after every batch was attempted; what was written stays, and a retry that reads and
   * recomputes converges (baseline updates are idempotent per bucket).
   */
  writeUsersLeased(users: readonly UserBaseline[], lease: RunLease, now: number): Promise<SaveUsersResult>;
  savePopulation(population: PopulationStats): Promise<void>;
  saveRunState(state: RunState): Promise<void>;
  /**
   * Take the run lease for `lease.owner` until `lease.expiresAtMs`, unless another owner holds it past `now`
   * (its holder is then returned, and nothing is written). Taking a lease one already holds extends it, so a
   * write whose response was lost can be repeated.
   */
  acquireLease(
    lease: RunLease,
    now: number,
  ): Promise<{ readonly acquired: true } | { readonly acquired: false; readonly holder: RunLease | undefined }>;
  /** Give the lease up if `owner` still holds it; a no-op otherwise (it expired and someone else took it). */
  releaseLease(owner: string): Promise<void>;
}

/**
 * The store as the operator's views and commands use it (shared/feedback.ts, cli/operator.ts): `status` (run state, population,
 * feedback, and full scans of baselines and ledger), `explain` (one baseline, run state, feedback), `show`
 * (one ledger entry with its document), `benign` (one ledger entry, then one baseline read and saved) and
 * `allow` (feedback read and saved). The reads, `saveUsers` and the lease it shares with a run are the same methods,
 * declared once in `DetectionStore`: `benign` changes a baseline, so it holds the lease while it reads and writes it,
 * and writes it as a run does (`writeUsersLeased`, shared/lease-guard.ts); it never touches the alert dedup or the
 * population and run state a run writes.
 */
export interface OperatorStore
  extends Pick<
    DetectionStore,
    | 'getUsers'
    | 'getPopulation'
    | 'getRunState'
    | 'getFeedback'
    | 'saveUsers'
    | 'writeUsersLeased'
    | 'acquireLease'
    | 'releaseLease'
  > {
  /** One ledger entry by alert id, with its document (`benign`, `show`); undefined if absent or already expired away. */
  getLedgerEntry(id: string): Promise<LedgerEntry | undefined>;
  /** Save feedback, conditional on the version it was read with (`ConcurrentUpdateError` if it changed). */
  saveFeedback(feedback: Feedback): Promise<void>;
  /** Every stored baseline, in no particular order (`status`). Never for a detection run: it reads the whole table. */
  scanUsers(): AsyncIterable<UserBaseline>;
  /** Every ledger entry still stored, without documents (DynamoDB TTL deletes lazily: callers filter on `expiresAtEpochSeconds`). `status` only. */
  scanLedger(): AsyncIterable<LedgerEntry>;
}

/**
 * Both ports, and the per-output delivery record (`DeliveryRecordStore`, ./delivery-record.ts): what a store adapter
 * implements. Implementations: `DynamoDbBaselineStore` (AWS and, on dynalite, local), `InMemoryBaselineStore`
 * (tests), both checked by one contract suite (test/contract/baseline-store.test.ts). Consumers depend on the
 * narrower port they use, never on this.
 */
export type BaselineStore = DetectionStore & OperatorStore & DeliveryRecordStore;

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
