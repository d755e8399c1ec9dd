import type { LedgerEntry, PopulationStats, RunState, UserBaseline } from '../core/model';

/**
 * Persistent detector memory: per-user baselines, population statistics, run state and the alert ledger.
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
  /** Which of these alert ids the ledger already holds. */
  getRaisedAlerts(ids: readonly string[]): Promise<Set<string>>;
  /** Mark alerts raised (idempotent: an id already present is left as it is). */
  recordRaisedAlerts(entries: readonly LedgerEntry[]): Promise<void>;
  /** Save changed baselines, each conditional on the version it was read with. */
  saveUsers(users: readonly UserBaseline[]): Promise<void>;
  savePopulation(population: PopulationStats): Promise<void>;
  saveRunState(state: RunState): Promise<void>;
}
