/**
 * `InMemoryBaselineStore`: the `BaselineStore` contract (both ports, `DetectionStore` and `OperatorStore`) in
 * a `Map`, for tests and anything that needs no persistence. Same semantics as `DynamoDbBaselineStore`,
 * checked by one shared contract suite (test/contract/baseline-store.test.ts):
 * - items are stored as the very JSON bodies the DynamoDB adapter writes (same codec, items/codec.ts, and size
 *   bound, items/size.ts; never the DynamoDB adapter itself),
 *   so what a caller gets back is always a fresh copy and mutating it never changes the stored state;
 * - every save is version-checked: a baseline changed since it was read is not written, and all such
 *   items are reported together in one `ConcurrentUpdateError` after the others were written;
 * - population and state saves identical to the stored item at the same version are no-ops;
 * - the ledger is idempotent: recording an id already present leaves the first entry as it was; it keeps
 *   each alert's document and user name bounded exactly as DynamoDB does (`boundLedgerEntry`), and scans leave
 *   the document out.
 * - a user whose item could never be stored (over DynamoDB's item limit with every place evicted) is skipped
 *   and returned in `notStored`, the others saved, as `DynamoDbBaselineStore` does.
 * - the run lease is held by one owner at a time until it expires or is released;
 * - a run's bulk save (`writeUsersLeased`) is not version-checked: it confirms that the lease still names its owner
 *   (else `LeaseLostError`, nothing written) and stores each user at the version it was read with + 1, whatever is
 *   stored, as `BatchWriteItem` does.;
 * - per-output delivery records (`getDeliveredTo`, `recordDeliveredTo`) are keyed as DynamoDB keys them
 *   (`deliveryKey`, items/delivery.ts) and idempotent like the ledger.
 *
 * - scans (`scanUsers`, `scanLedger`) yield copies, like everything else.
 *
 * Test hooks: `failNextWrite` (the next write call throws it, writing nothing; the lease calls are not
 * write calls here, so a test aiming a failure at a save is not disarmed by the run taking its lease),
 * `reads`/`writes` counters (items, as DynamoDB would bill them), `ledger()`, `lease()`.
 */
import type { SliceOwner } from '../core/detectors/state';
import type { Feedback, LedgerEntry, PopulationStats, RunLease, RunState, UserBaseline } from '../core/model';
import { BaselineStoreError, ConcurrentUpdateError, ItemTooLargeError, LeaseLostError } from '../errors';
import type { BaselineStore, DeliveryRecord, ItemNotStored, SaveUsersResult } from '../ports';
import { deliveryKey } from './items/delivery';
import {
  decodeFeedback,
  decodePopulation,
  decodeRunState,
  decodeScannedUser,
  decodeUser,
  encodeFeedbackBody,
  encodePopulationBody,
  encodeRunStateBody,
  type SliceOptions,
} from './items/codec';
import {
  FEEDBACK_KEY,
  HASHED_USER_KEY_PREFIX,
  POPULATION_KEY,
  RUN_STATE_KEY,
  USER_KEY_PREFIX,
  userForLog,
  userKey,
} from './items/keys';
import { boundLedgerEntry, checkItemSize, fitUser, USER_ITEM_TARGET_BYTES } from './items/size';

interface Stored {
  readonly version: number;
  readonly body: string;
}

interface Write {
  readonly key: string;
  readonly label: string;
  readonly version: number;
  readonly body: string;
}

export class InMemoryBaselineStore implements BaselineStore {
  /** Items read (users, population, state, ledger ids found). */
  reads = 0;
  /** Items written (a skipped identical save or a lost condition writes nothing). */
  writes = 0;
  /** Thrown by the next write call (`saveUsers`, `writeUsersLeased`, `savePopulation`, `saveRunState`, `saveFeedback`, `recordRaisedAlerts`, `recordDeliveredTo`), which then writes nothing; cleared once thrown. */
  failNextWrite: Error | undefined;

  private readonly items = new Map<string, Stored>();
  private readonly raised = new Map<string, LedgerEntry>();
  private readonly sent = new Map<string, DeliveryRecord>();
  private held: RunLease | undefined;
  /** Detectors' state slices read as unreadable and left out (see `DynamoDbStoreStats.sliceDefects`). */
  sliceDefects = 0;

  private readonly maxUserItemBytes: number;
  private readonly slices: SliceOptions;

  /** `stateOwners`: owners of detectors' state slices (default: the registry's detectors); tests register their own. */
  constructor(props: { maxUserItemBytes?: number; stateOwners?: readonly SliceOwner[] } = {}) {
    this.maxUserItemBytes = props.maxUserItemBytes ?? USER_ITEM_TARGET_BYTES;
    this.slices = {
      ...(props.stateOwners ? { owners: props.stateOwners } : {}),
      onSliceDefect: () => {
        this.sliceDefects++;
      },
    };
  }

  async getUsers(users: readonly string[]): Promise<Map<string, UserBaseline>> {
    const out = new Map<string, UserBaseline>();
    for (const user of new Set(users)) {
      const s = this.items.get(userKey(user));
      if (!s) continue;
      this.reads++;
      out.set(user, decodeUser(user, s.body, s.version, this.slices));
    }
    return out;
  }

  async getPopulation(): Promise<PopulationStats | undefined> {
    const s = this.items.get(POPULATION_KEY);
    if (!s) return undefined;
    this.reads++;
    return decodePopulation(s.body, s.version, this.slices);
  }

  async getRunState(): Promise<RunState | undefined> {
    const s = this.items.get(RUN_STATE_KEY);
    if (!s) return undefined;
    this.reads++;
    return decodeRunState(s.body, s.version);
  }

  async getFeedback(): Promise<Feedback | undefined> {
    const s = this.items.get(FEEDBACK_KEY);
    if (!s) return undefined;
    this.reads++;
    return decodeFeedback(s.body, s.version);
  }

  async getLedgerEntry(id: string): Promise<LedgerEntry | undefined> {
    const e = this.raised.get(id);
    if (!e) return undefined;
    this.reads++;
    return { ...e };
  }

  async *scanUsers(): AsyncIterable<UserBaseline> {
    for (const [key, s] of [...this.items]) {
      if (!key.startsWith(USER_KEY_PREFIX) && !key.startsWith(HASHED_USER_KEY_PREFIX)) continue;
      this.reads++;
      yield decodeScannedUser(key, s.body, s.version, this.slices);
    }
  }

  async *scanLedger(): AsyncIterable<LedgerEntry> {
    for (const { document: _document, ...e } of this.ledger()) {
      this.reads++;
      yield e;
    }
  }

  async getRaisedAlerts(ids: readonly string[]): Promise<Set<string>> {
    const out = new Set(ids.filter((id) => this.raised.has(id)));
    this.reads += out.size;
    return out;
  }

  async recordRaisedAlerts(entries: readonly LedgerEntry[]): Promise<void> {
    this.throwIfFailing();
    for (const e of entries) {
      if (this.raised.has(e.id)) continue;
      this.raised.set(e.id, boundLedgerEntry(e));
      this.writes++;
    }
  }

  async getDeliveredTo(output: string, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set(ids.filter((id) => this.sent.has(deliveryKey(output, id))));
    this.reads += out.size;
    return out;
  }

  async recordDeliveredTo(output: string, records: readonly DeliveryRecord[]): Promise<void> {
    const keyed = records.map((r) => [deliveryKey(output, r.id), r] as const);
    this.throwIfFailing();
    for (const [key, r] of keyed) {
      if (this.sent.has(key)) continue;
      this.sent.set(key, { ...r });
      this.writes++;
    }
  }

  async saveUsers(users: readonly UserBaseline[]): Promise<SaveUsersResult> {
    const { writes, notStored } = this.fitUsers(users);
    this.throwIfFailing();
    this.apply(writes);
    return { notStored };
  }

  async writeUsersLeased(users: readonly UserBaseline[], lease: RunLease, now: number): Promise<SaveUsersResult> {
    if (!(lease.expiresAtMs > now))
      throw new BaselineStoreError(
        `The lease of ${lease.owner} would end at ${new Date(lease.expiresAtMs).toISOString()}, not after now (${new Date(now).toISOString()}): a leased write must end before its lease does`,
      );
    const { writes, notStored } = this.fitUsers(users);
    const keys = new Set<string>();
    for (const w of writes) {
      if (keys.has(w.key))
        throw new BaselineStoreError(`writeUsersLeased was given ${w.label} twice; nothing was written`);
      keys.add(w.key);
    }
    if (writes.length === 0) return { notStored };
    this.throwIfFailing();
    if (this.held?.owner !== lease.owner)
      throw new LeaseLostError(lease.owner, this.held ? { ...this.held } : undefined);
    this.held = { owner: lease.owner, expiresAtMs: lease.expiresAtMs };
    this.writes++;
    for (const w of writes) {
      this.items.set(w.key, { version: w.version + 1, body: w.body });
      this.writes++;
    }
    return { notStored };
  }

  /** Each user's stored body, bounded to fit; the users that can never fit are returned in `notStored` instead. */
  private fitUsers(users: readonly UserBaseline[]): { writes: Write[]; notStored: ItemNotStored[] } {
    const notStored: ItemNotStored[] = [];
    const writes: Write[] = [];
    for (const u of users) {
      try {
        writes.push({
          key: userKey(u.user),
          label: USER_KEY_PREFIX + u.user,
          version: u.version,
          body: fitUser(u, this.maxUserItemBytes, this.slices).body,
        });
      } catch (e) {
        if (!(e instanceof ItemTooLargeError)) throw e;
        notStored.push({ user: userForLog(u.user), reason: e.message });
      }
    }
    return { writes, notStored };
  }

  async savePopulation(population: PopulationStats): Promise<void> {
    await this.saveSingle(POPULATION_KEY, encodePopulationBody(population, this.slices), population.version);
  }

  async saveRunState(state: RunState): Promise<void> {
    await this.saveSingle(RUN_STATE_KEY, encodeRunStateBody(state), state.version);
  }

  async saveFeedback(feedback: Feedback): Promise<void> {
    await this.saveSingle(FEEDBACK_KEY, encodeFeedbackBody(feedback), feedback.version);
  }

  async acquireLease(
    lease: RunLease,
    now: number,
  ): Promise<{ readonly acquired: true } | { readonly acquired: false; readonly holder: RunLease | undefined }> {
    const h = this.held;
    if (h && h.expiresAtMs > now && h.owner !== lease.owner) return { acquired: false, holder: { ...h } };
    this.held = { owner: lease.owner, expiresAtMs: lease.expiresAtMs };
    this.writes++;
    return { acquired: true };
  }

  async releaseLease(owner: string): Promise<void> {
    if (this.held?.owner !== owner) return;
    this.held = undefined;
    this.writes++;
  }

  /** The lease as stored (held or expired), or undefined when free. */
  lease(): RunLease | undefined {
    return this.held ? { ...this.held } : undefined;
  }

  /** Copies of the ledger's entries, in the order they were first recorded. */
  ledger(): LedgerEntry[] {
    return [...this.raised.values()].map((e) => ({ ...e }));
  }

  private async saveSingle(key: string, body: string, version: number): Promise<void> {
    checkItemSize(key, body);
    this.throwIfFailing();
    const s = this.items.get(key);
    if (s && s.version === version && s.body === body) return;
    this.apply([{ key, label: key, version, body }]);
  }

  private apply(writes: readonly Write[]): void {
    const conflicts: string[] = [];
    for (const w of writes) {
      const current = this.items.get(w.key)?.version ?? 0;
      if (current !== w.version) {
        conflicts.push(w.label);
        continue;
      }
      this.items.set(w.key, { version: w.version + 1, body: w.body });
      this.writes++;
    }
    if (conflicts.length > 0) throw new ConcurrentUpdateError(conflicts);
  }

  private throwIfFailing(): void {
    const e = this.failNextWrite;
    if (e) {
      this.failNextWrite = undefined;
      throw e;
    }
  }
}
