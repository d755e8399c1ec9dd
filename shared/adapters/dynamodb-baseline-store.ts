/**
 * `DynamoDbBaselineStore`: the detector's memory in one DynamoDB table (on-demand), in AWS and, on
 * dynalite, locally. This file holds the calls only; the table's key layout is in items/keys.ts, the items'
 * encoding (zod-checked bodies, ledger and lease attributes) in items/codec.ts, sizes and bounds in
 * items/size.ts, shared with the in-memory store.
 *
 * Writes: every item carries `version`. A save is a conditional `PutItem`: `attribute_not_exists(pk)` for
 * version 0 (not stored yet), else `version = :read`, storing version + 1. Saves are concurrent PutItems under a
 * small concurrency limit; all are attempted, and every lost condition is collected and reported in one
 * `ConcurrentUpdateError`. That is `saveUsers`, for operators and small writes.
 * A run's bulk save (`writeUsersLeased`) is `BatchWriteItem`, 25 items a request, not conditional (it cannot be):
 * a run writes only baselines it read under the run lease, and every other writer of baselines holds the lease
 * too (shared/lease-guard.ts), so nothing can change in between; the call first confirms with one conditional put
 * that the lease item still names its owner. TransactWriteItems could keep the per-item conditions, but costs
 * twice the write units, takes 100 items at most, is all-or-nothing only within those 100 (which we do not need:
 * baseline updates are idempotent per bucket, so a retried run re-applying a window to the users already written
 * changes nothing) and dynalite does not implement it. README "How a run writes" has the arithmetic.
 * One user that can never be stored must not block every other user's learning (a name of hundreds of KB
 * once failed every run, all attempts, with nothing saved): `saveUsers` skips such an item, whether our own
 * size check finds it over the limit with every place evicted or DynamoDB rejects it for its size
 * (`ValidationException` "Item size has exceeded..."), saves the others, and returns it in `notStored`
 * with the user JSON-escaped and truncated, for the run to count and log. Any other failure still throws.
 * The caller decides which users changed (`computeBaselineUpdate` returns only those); for the single
 * population and state items the store also skips a write whose body and version equal what this store
 * last read or wrote (a retried window leaves them identical): nothing would change, so nothing can be
 * overwritten either.
 *
 * The run lease is a conditional put on `META#lease` (free, expired, or already ours); releasing it is another
 * conditional put (still ours) of an expired, ownerless item, so the detector needs no DeleteItem permission and
 * every released lease is the same item. See `DetectionStore.acquireLease`.
 *
 * Reads: `BatchGetItem`, 100 keys per call, strongly consistent (a stale version would only make the
 * conditional write fail and the run retry); `UnprocessedKeys` are re-requested with jittered exponential
 * backoff a bounded number of times, then `BaselineStoreError`. A call that fails as a whole (throttled,
 * 5xx) is retried by the SDK client as configured in aws-clients.ts, never again here.
 */
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateTimeToLiveCommand,
  type AttributeValue,
  type DynamoDBClient,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandOutput,
  type GetItemCommandOutput,
  type PutItemCommandInput,
  type ScanCommandOutput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import type { SliceOwner } from '../core/detectors/state';
import type { Feedback, LedgerEntry, PopulationStats, RunLease, RunState, UserBaseline } from '../core/model';
import { DYNAMODB_BATCH_GET_MAX_KEYS, DYNAMODB_BATCH_WRITE_MAX_ITEMS } from '../core/request-floor';
import { BaselineStoreError, ConcurrentUpdateError, ItemTooLargeError, LeaseLostError } from '../errors';
import type { BaselineStore, DeliveryRecord, ItemNotStored, SaveUsersResult } from '../ports';
import { deliveryKey, encodeDeliveryItem } from './items/delivery';
import { backoffMs, errorText } from './aws-retry';
import {
  decodeFeedback,
  decodeLeaseItem,
  decodeLedgerItem,
  decodePopulation,
  decodeRunState,
  decodeScannedUser,
  decodeUser,
  encodeFeedbackBody,
  encodeLeaseItem,
  encodeLedgerItem,
  encodePopulationBody,
  encodeRunStateBody,
  type Item,
  releasedLeaseItem,
  type SliceOptions,
} from './items/codec';
import {
  ALERT_KEY_PREFIX,
  alertKey,
  BODY_ATTRIBUTE,
  FEEDBACK_KEY,
  HASHED_ALERT_KEY_PREFIX,
  HASHED_USER_KEY_PREFIX,
  LEASE_KEY,
  LEASE_OWNER_ATTRIBUTE,
  LEASE_UNTIL_ATTRIBUTE,
  PARTITION_KEY,
  PARTITION_KEY_TYPE,
  POPULATION_KEY,
  RUN_STATE_KEY,
  TTL_ATTRIBUTE,
  USER_KEY_PREFIX,
  userForLog,
  userKey,
  userLabel,
  VERSION_ATTRIBUTE,
} from './items/keys';
import { boundLedgerEntry, checkItemSize, type FittedUser, fitUser, USER_ITEM_TARGET_BYTES } from './items/size';

/** The single items (one per table), cached by version and skipped when saved unchanged. */
const SINGLE_KEYS: ReadonlySet<string> = new Set([POPULATION_KEY, RUN_STATE_KEY, FEEDBACK_KEY]);

/** BatchGetItem takes at most 100 keys per call (DynamoDB quota). */
export const BATCH_GET_MAX_KEYS = DYNAMODB_BATCH_GET_MAX_KEYS;
/** BatchWriteItem takes at most 25 put requests per call (DynamoDB quota; moto does not enforce it, so we do). */
export const BATCH_WRITE_MAX_ITEMS = DYNAMODB_BATCH_WRITE_MAX_ITEMS;

const DEFAULT_WRITE_CONCURRENCY = 16;
const DEFAULT_BATCH_WRITE_CONCURRENCY = 4;
const DEFAULT_MAX_BATCH_WRITE_ATTEMPTS = 8;
const DEFAULT_READ_CONCURRENCY = 8;
const DEFAULT_MAX_BATCH_GET_ATTEMPTS = 8;
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2_000;

/** Concurrent `fn` over `items`, at most `limit` at a time; settles every item (no early abort). */
async function mapSettledLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function isConditionalCheckFailed(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException || (e instanceof Error && e.name === 'ConditionalCheckFailedException')
  );
}

/**
 * DynamoDB refusing one item for its size ("Item size has exceeded the maximum allowed size"; "Item size to
 * update has exceeded..." for updates): that item can never be written, whatever the retry. Other validation
 * errors (a malformed request) would fail every item alike and stay failures.
 */
export function isItemSizeRejection(e: unknown): boolean {
  return e instanceof Error && e.name === 'ValidationException' && /\bitem size\b.*\bexceeded\b/i.test(e.message);
}

// ---------------------------------------------------------------------------------------------
// The store
// ---------------------------------------------------------------------------------------------

export interface DynamoDbBaselineStoreProps {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Concurrent PutItems (default 16): enough to keep a Lambda busy, few enough not to burst a cold on-demand table. */
  readonly writeConcurrency?: number;
  /** Concurrent BatchGetItems (default 8). */
  readonly readConcurrency?: number;
  /** Attempts of one BatchGetItem chunk while DynamoDB leaves keys unprocessed (default 8, ~5 s of backoff). */
  readonly maxBatchGetAttempts?: number;
  /** Concurrent BatchWriteItems of `writeUsersLeased` (default 4: 100 items in flight). */
  readonly batchWriteConcurrency?: number;
  /** Attempts of one BatchWriteItem chunk while DynamoDB leaves items unprocessed (default 8). */
  readonly maxBatchWriteAttempts?: number;
  /** Target size of a user item (default `USER_ITEM_TARGET_BYTES`). */
  readonly maxUserItemBytes?: number;
  /** Items a Scan page evaluates (`Limit`, before the filter); default: DynamoDB's 1 MB page. Tests set it small to exercise paging. */
  readonly scanPageLimit?: number;
  /** Injectable for tests; defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
  /** Owners of detectors' state slices (default: the registry's detectors); tests register their own. */
  readonly stateOwners?: readonly SliceOwner[];
}

/**
 * What the store asked of DynamoDB, to compare with the floor (shared/core/request-floor.ts): ceil(users / 100)
 * reads per read pass, ceil(changed / 25) bulk writes, a handful of single items.
 */
export interface DynamoDbStoreStats {
  batchGetItem: number;
  /** BatchWriteItem calls (`writeUsersLeased`), retries of unprocessed items included. */
  batchWriteItem: number;
  getItem: number;
  putItem: number;
  /** Scan pages read (operator views only). */
  scan: number;
  /** BatchGetItem calls that re-requested UnprocessedKeys (included in `batchGetItem`). */
  unprocessedRetries: number;
  /** BatchWriteItem calls that re-sent UnprocessedItems (included in `batchWriteItem`). */
  unprocessedWriteRetries: number;
  /** Conditional puts that lost: version conflicts on baselines (ledger duplicates are counted apart). */
  conflicts: number;
  /** Ledger puts that found the id already present (idempotent, not an error). */
  ledgerDuplicates: number;
  itemsRead: number;
  itemsWritten: number;
  bytesWritten: number;
  /** Population/state saves skipped as identical to what was last read or written. */
  writesSkipped: number;
  /** Single-item reads answered from this store's copy after a version-only read. */
  cacheHits: number;
  /** User items whose places were evicted to fit `maxUserItemBytes`. */
  usersBounded: number;
  /** User items skipped because they can never be stored (returned by `saveUsers` in `notStored`). */
  itemsNotStored: number;
  /**
   * Detectors' state slices read as unreadable (a newer version, a failed schema) and left out: those detectors
   * relearn the user or population from nothing. Not an error of the item, which is read all the same.
   */
  sliceDefects: number;
  /** Largest item written so far, in bytes. */
  largestItemBytes: number;
}

function emptyStats(): DynamoDbStoreStats {
  return {
    batchGetItem: 0,
    batchWriteItem: 0,
    getItem: 0,
    putItem: 0,
    scan: 0,
    unprocessedRetries: 0,
    unprocessedWriteRetries: 0,
    conflicts: 0,
    ledgerDuplicates: 0,
    itemsRead: 0,
    itemsWritten: 0,
    bytesWritten: 0,
    writesSkipped: 0,
    cacheHits: 0,
    usersBounded: 0,
    itemsNotStored: 0,
    sliceDefects: 0,
    largestItemBytes: 0,
  };
}

interface PendingPut {
  readonly label: string;
  readonly pk: string;
  readonly body: string;
  readonly bytes: number;
  readonly version: number;
  /** Singles (population, run state): the model object saved, kept as the cache of the item once written. */
  readonly value?: object;
  /** User items: the name, so an item DynamoDB rejects for its size is skipped and reported instead of failing the others. */
  readonly user?: string;
}

/** A single item as last read or written by this store: its version, body and decoded value. */
interface KnownItem {
  readonly version: number;
  readonly body: string;
  readonly value?: object;
}

/** The item of a versioned write: stored at the version it was read with + 1. */
function versionedItem(p: PendingPut): Item {
  return {
    [PARTITION_KEY]: { S: p.pk },
    [VERSION_ATTRIBUTE]: { N: String(p.version + 1) },
    [BODY_ATTRIBUTE]: { S: p.body },
  };
}

/** Freeze an object and its direct children: cached values are shared with callers, who must not mutate them. */
function freezeShallowTree<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) Object.freeze(v);
  return Object.freeze(o);
}

export class DynamoDbBaselineStore implements BaselineStore {
  readonly stats: DynamoDbStoreStats = emptyStats();
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly writeConcurrency: number;
  private readonly readConcurrency: number;
  private readonly maxBatchGetAttempts: number;
  private readonly batchWriteConcurrency: number;
  private readonly maxBatchWriteAttempts: number;
  private readonly maxUserItemBytes: number;
  /** How detectors' slices are read (and defects counted) and written. */
  private readonly slices: SliceOptions;
  private readonly scanPageLimit: number | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Last known (version, body) of the population and state items, to skip identical rewrites. */
  private readonly known = new Map<string, KnownItem>();

  constructor(props: DynamoDbBaselineStoreProps) {
    this.client = props.client;
    this.tableName = props.tableName;
    this.writeConcurrency = props.writeConcurrency ?? DEFAULT_WRITE_CONCURRENCY;
    this.readConcurrency = props.readConcurrency ?? DEFAULT_READ_CONCURRENCY;
    this.maxBatchGetAttempts = props.maxBatchGetAttempts ?? DEFAULT_MAX_BATCH_GET_ATTEMPTS;
    this.batchWriteConcurrency = props.batchWriteConcurrency ?? DEFAULT_BATCH_WRITE_CONCURRENCY;
    this.maxBatchWriteAttempts = props.maxBatchWriteAttempts ?? DEFAULT_MAX_BATCH_WRITE_ATTEMPTS;
    this.maxUserItemBytes = props.maxUserItemBytes ?? USER_ITEM_TARGET_BYTES;
    this.slices = {
      ...(props.stateOwners ? { owners: props.stateOwners } : {}),
      onSliceDefect: () => {
        this.stats.sliceDefects++;
      },
    };
    this.scanPageLimit = props.scanPageLimit;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = props.random ?? Math.random;
  }

  /** DynamoDB requests made (BatchGetItem, BatchWriteItem, GetItem, PutItem, Scan), retries included. */
  get requestCount(): number {
    return (
      this.stats.batchGetItem + this.stats.batchWriteItem + this.stats.getItem + this.stats.putItem + this.stats.scan
    );
  }

  resetStats(): void {
    Object.assign(this.stats, emptyStats());
  }

  async getUsers(users: readonly string[]): Promise<Map<string, UserBaseline>> {
    const byKey = new Map<string, string>();
    for (const u of users) byKey.set(userKey(u), u);
    const items = await this.batchGet([...byKey.keys()]);
    const out = new Map<string, UserBaseline>();
    for (const [pk, item] of items) {
      const user = byKey.get(pk);
      if (user === undefined) continue;
      const { version, body } = this.bodyOf(userLabel(user), item);
      out.set(user, decodeUser(user, body, version, this.slices));
    }
    return out;
  }

  async getPopulation(): Promise<PopulationStats | undefined> {
    return this.getSingle(POPULATION_KEY, (body, version) => decodePopulation(body, version, this.slices));
  }

  async getRunState(): Promise<RunState | undefined> {
    return this.getSingle(RUN_STATE_KEY, decodeRunState);
  }

  async getFeedback(): Promise<Feedback | undefined> {
    return this.getSingle(FEEDBACK_KEY, decodeFeedback);
  }

  async getLedgerEntry(id: string): Promise<LedgerEntry | undefined> {
    const pk = alertKey(id);
    this.stats.getItem++;
    let item: Item | undefined;
    try {
      item = (
        await this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: { S: pk } }, ConsistentRead: true }),
        )
      ).Item;
    } catch (e) {
      throw new BaselineStoreError(`Reading ${pk} from ${this.tableName} failed: ${errorText(e)}`, { cause: e });
    }
    if (!item) return undefined;
    this.stats.itemsRead++;
    const entry = decodeLedgerItem(item);
    if (entry.id !== id)
      throw new BaselineStoreError(
        `Corrupt ledger item ${pk.slice(0, 200)}: it holds alert ${JSON.stringify(entry.id)}`,
      );
    return entry;
  }

  async *scanUsers(): AsyncIterable<UserBaseline> {
    for await (const item of this.scanPrefixes([USER_KEY_PREFIX, HASHED_USER_KEY_PREFIX])) {
      const pk = item[PARTITION_KEY]!.S!;
      const { version, body } = this.bodyOf(pk, item);
      yield decodeScannedUser(pk, body, version, this.slices);
    }
  }

  async *scanLedger(): AsyncIterable<LedgerEntry> {
    for await (const item of this.scanPrefixes([ALERT_KEY_PREFIX, HASHED_ALERT_KEY_PREFIX])) {
      yield decodeLedgerItem(item, false);
    }
  }

  async getRaisedAlerts(ids: readonly string[]): Promise<Set<string>> {
    const byKey = new Map<string, string>();
    for (const id of ids) byKey.set(alertKey(id), id);
    const items = await this.batchGet([...byKey.keys()], true);
    const out = new Set<string>();
    for (const pk of items.keys()) {
      const id = byKey.get(pk);
      if (id !== undefined) out.add(id);
    }
    return out;
  }

  async recordRaisedAlerts(entries: readonly LedgerEntry[]): Promise<void> {
    const unique = [...new Map(entries.map((e) => [e.id, e])).values()];
    const results = await mapSettledLimit(unique, this.writeConcurrency, async (e) => {
      const item = encodeLedgerItem(boundLedgerEntry(e));
      try {
        await this.put(
          {
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          },
          0,
        );
      } catch (err) {
        // Already recorded (an overlapping window, a retried run): exactly what idempotent means here.
        if (isConditionalCheckFailed(err)) this.stats.ledgerDuplicates++;
        else throw err;
      }
    });
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ id: unique[i]!.id, reason: r.reason as unknown }] : [],
    );
    if (failed.length > 0) {
      throw new BaselineStoreError(
        `Recording ${failed.length} of ${unique.length} alerts in the ledger failed (first: ${failed[0]!.id}: ${errorText(failed[0]!.reason)})`,
        { cause: failed[0]!.reason },
      );
    }
  }

  /** Key-only, strongly consistent reads of `output`'s records (see items/delivery.ts for the items). */
  async getDeliveredTo(output: string, ids: readonly string[]): Promise<Set<string>> {
    const byKey = new Map<string, string>();
    for (const id of ids) byKey.set(deliveryKey(output, id), id);
    const items = await this.batchGet([...byKey.keys()], true);
    const out = new Set<string>();
    for (const pk of items.keys()) {
      const id = byKey.get(pk);
      if (id !== undefined) out.add(id);
    }
    return out;
  }

  /** Conditional puts (`attribute_not_exists`), like the ledger's: a record already there is left as it is. */
  async recordDeliveredTo(output: string, records: readonly DeliveryRecord[]): Promise<void> {
    const unique = [...new Map(records.map((r) => [r.id, r])).values()];
    const items = unique.map((r) => encodeDeliveryItem(output, r));
    const results = await mapSettledLimit(items, this.writeConcurrency, async (item) => {
      try {
        await this.put(
          {
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
          },
          0,
        );
      } catch (err) {
        // Already recorded (a retried run, two outputs' records written by one sink twice): nothing to do.
        if (!isConditionalCheckFailed(err)) throw err;
      }
    });
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected' ? [{ id: unique[i]!.id, reason: r.reason as unknown }] : [],
    );
    if (failed.length > 0) {
      throw new BaselineStoreError(
        `Recording ${failed.length} of ${unique.length} deliveries to ${output} failed (first: ${failed[0]!.id}: ${errorText(failed[0]!.reason)})`,
        { cause: failed[0]!.reason },
      );
    }
  }

  async saveUsers(users: readonly UserBaseline[]): Promise<SaveUsersResult> {
    const { puts, notStored } = this.fitUsers(users);
    notStored.push(...(await this.putVersioned(puts)));
    this.stats.itemsNotStored += notStored.length;
    return { notStored };
  }

  async writeUsersLeased(users: readonly UserBaseline[], lease: RunLease, now: number): Promise<SaveUsersResult> {
    if (!(lease.expiresAtMs > now))
      throw new BaselineStoreError(
        `The lease of ${lease.owner} would end at ${new Date(lease.expiresAtMs).toISOString()}, not after now (${new Date(now).toISOString()}): a leased write must end before its lease does`,
      );
    const { puts, notStored } = this.fitUsers(users);
    // One BatchWriteItem may not name an item twice (DynamoDB refuses the whole request); two baselines of one user
    // in a save are a caller's bug, refused before anything is written.
    const seen = new Set<string>();
    for (const p of puts) {
      if (seen.has(p.pk))
        throw new BaselineStoreError(`writeUsersLeased was given ${p.label} twice; nothing was written`);
      seen.add(p.pk);
    }
    if (puts.length > 0) {
      await this.confirmLease(lease);
      const chunks: PendingPut[][] = [];
      for (let i = 0; i < puts.length; i += BATCH_WRITE_MAX_ITEMS)
        chunks.push(puts.slice(i, i + BATCH_WRITE_MAX_ITEMS));
      const results = await mapSettledLimit(chunks, this.batchWriteConcurrency, (chunk) => this.batchWriteChunk(chunk));
      const failures: unknown[] = [];
      for (const r of results) {
        if (r.status === 'fulfilled') notStored.push(...r.value);
        else failures.push(r.reason);
      }
      if (failures.length > 0) {
        this.stats.itemsNotStored += notStored.length;
        const first = failures[0];
        throw first instanceof BaselineStoreError && failures.length === 1
          ? first
          : new BaselineStoreError(
              `${failures.length} of ${chunks.length} batch writes to ${this.tableName} failed (first: ${errorText(first)}); the other ${chunks.length - failures.length} were written`,
              { cause: first },
            );
      }
    }
    this.stats.itemsNotStored += notStored.length;
    return { notStored };
  }

  /** Each user's item, bounded to fit; the users that can never fit are returned in `notStored` instead. */
  private fitUsers(users: readonly UserBaseline[]): { puts: PendingPut[]; notStored: ItemNotStored[] } {
    const notStored: ItemNotStored[] = [];
    const puts: PendingPut[] = [];
    for (const u of users) {
      let fitted: FittedUser;
      try {
        fitted = fitUser(u, this.maxUserItemBytes, this.slices);
      } catch (e) {
        if (!(e instanceof ItemTooLargeError)) throw e;
        notStored.push({ user: userForLog(u.user), reason: e.message });
        continue;
      }
      if (fitted.bounded) this.stats.usersBounded++;
      puts.push({
        label: userLabel(u.user),
        pk: userKey(u.user),
        body: fitted.body,
        bytes: fitted.bytes,
        version: u.version,
        user: u.user,
      });
    }
    return { puts, notStored };
  }

  async savePopulation(population: PopulationStats): Promise<void> {
    const body = encodePopulationBody(population, this.slices);
    await this.saveSingle(POPULATION_KEY, body, population.version, population);
  }

  async saveRunState(state: RunState): Promise<void> {
    const body = encodeRunStateBody(state);
    await this.saveSingle(RUN_STATE_KEY, body, state.version, state);
  }

  async saveFeedback(feedback: Feedback): Promise<void> {
    const body = encodeFeedbackBody(feedback);
    await this.saveSingle(FEEDBACK_KEY, body, feedback.version, feedback);
  }

  async acquireLease(
    lease: RunLease,
    now: number,
  ): Promise<{ readonly acquired: true } | { readonly acquired: false; readonly holder: RunLease | undefined }> {
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: encodeLeaseItem(lease),
          ConditionExpression: 'attribute_not_exists(#pk) OR #until <= :now OR #owner = :owner',
          ExpressionAttributeNames: {
            '#pk': PARTITION_KEY,
            '#until': LEASE_UNTIL_ATTRIBUTE,
            '#owner': LEASE_OWNER_ATTRIBUTE,
          },
          ExpressionAttributeValues: { ':now': { N: String(now) }, ':owner': { S: lease.owner } },
        },
        0,
      );
      return { acquired: true };
    } catch (e) {
      if (!isConditionalCheckFailed(e))
        throw new BaselineStoreError(`Taking the run lease in ${this.tableName} failed: ${errorText(e)}`, { cause: e });
    }
    // Refused: say who holds it (the item may have expired or gone since; then there is no one to name).
    return { acquired: false, holder: await this.leaseHolder() };
  }

  async releaseLease(owner: string): Promise<void> {
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: releasedLeaseItem(),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': LEASE_OWNER_ATTRIBUTE },
          ExpressionAttributeValues: { ':owner': { S: owner } },
        },
        0,
      );
    } catch (e) {
      // Not ours any more (it expired and another run took it, or a lost answer to this very release): nothing to give up.
      if (isConditionalCheckFailed(e)) return;
      throw new BaselineStoreError(`Releasing the run lease in ${this.tableName} failed: ${errorText(e)}`, {
        cause: e,
      });
    }
  }

  // -------------------------------------------------------------------------------------------

  /** Who holds the lease according to its item (undefined when released, missing or unreadable). */
  private async leaseHolder(): Promise<RunLease | undefined> {
    this.stats.getItem++;
    let item: Item | undefined;
    try {
      item = (
        await this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { [PARTITION_KEY]: { S: LEASE_KEY } },
            ConsistentRead: true,
          }),
        )
      ).Item;
    } catch (e) {
      throw new BaselineStoreError(`Reading ${LEASE_KEY} from ${this.tableName} failed: ${errorText(e)}`, { cause: e });
    }
    return decodeLeaseItem(item);
  }

  /**
   * The lease still names `lease.owner` (whether or not its time ran out: anyone who took it since replaced the
   * owner), now until `lease.expiresAtMs`. Otherwise `LeaseLostError`, naming who holds it.
   */
  private async confirmLease(lease: RunLease): Promise<void> {
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: encodeLeaseItem(lease),
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': LEASE_OWNER_ATTRIBUTE },
          ExpressionAttributeValues: { ':owner': { S: lease.owner } },
        },
        0,
      );
    } catch (e) {
      if (!isConditionalCheckFailed(e))
        throw new BaselineStoreError(`Confirming the run lease in ${this.tableName} failed: ${errorText(e)}`, {
          cause: e,
        });
      throw new LeaseLostError(lease.owner, await this.leaseHolder());
    }
  }

  /**
   * One BatchWriteItem of at most 25 items, re-sending what DynamoDB leaves unprocessed after a jittered backoff,
   * a bounded number of times. A request DynamoDB refuses for an item's size is split into single items, so only
   * that item is skipped (returned) and the others are written.
   */
  private async batchWriteChunk(chunk: readonly PendingPut[]): Promise<ItemNotStored[]> {
    let pending: readonly PendingPut[] = chunk;
    for (let attempt = 0; ; attempt++) {
      this.stats.batchWriteItem++;
      if (attempt > 0) this.stats.unprocessedWriteRetries++;
      let res: BatchWriteItemCommandOutput;
      try {
        res = await this.client.send(
          new BatchWriteItemCommand({
            RequestItems: { [this.tableName]: pending.map((p) => ({ PutRequest: { Item: versionedItem(p) } })) },
          }),
        );
      } catch (e) {
        if (isItemSizeRejection(e)) {
          if (pending.length === 1) {
            const p = pending[0]!;
            return [
              {
                user: userForLog(p.user ?? p.label),
                reason: `DynamoDB refused the ${p.bytes}-byte item: ${errorText(e)}`,
              },
            ];
          }
          const out: ItemNotStored[] = [];
          for (const p of pending) out.push(...(await this.batchWriteChunk([p])));
          return out;
        }
        throw new BaselineStoreError(
          `BatchWriteItem of ${pending.length} items to ${this.tableName} failed: ${errorText(e)}`,
          { cause: e },
        );
      }
      const left = new Set(
        (res.UnprocessedItems?.[this.tableName] ?? []).map((r) => r.PutRequest?.Item?.[PARTITION_KEY]?.S),
      );
      for (const p of pending) {
        if (left.has(p.pk)) continue;
        this.stats.itemsWritten++;
        this.stats.bytesWritten += p.bytes;
        this.stats.largestItemBytes = Math.max(this.stats.largestItemBytes, p.bytes);
      }
      pending = pending.filter((p) => left.has(p.pk));
      if (pending.length === 0) return [];
      if (attempt + 1 >= this.maxBatchWriteAttempts)
        throw new BaselineStoreError(
          `BatchWriteItem left ${pending.length} of ${chunk.length} items unprocessed after ${attempt + 1} attempts (throttled?) on ${this.tableName}`,
        );
      // Full-jitter exponential backoff, as AWS advises for UnprocessedItems.
      await this.sleep(backoffMs(attempt, RETRY_BASE_MS, RETRY_CAP_MS, this.random));
    }
  }

  private async saveSingle(pk: string, body: string, version: number, value: object): Promise<void> {
    const known = this.known.get(pk);
    if (known && known.version === version && known.body === body) {
      this.stats.writesSkipped++;
      return;
    }
    await this.putVersioned([{ label: pk, pk, body, bytes: checkItemSize(pk, body), version, value }]);
  }

  /**
   * Conditional puts of versioned items; all are attempted, then lost conditions and other failures are reported
   * together. A user item DynamoDB rejects for its size is not a failure of the save: it is returned, not thrown.
   */
  private async putVersioned(puts: readonly PendingPut[]): Promise<ItemNotStored[]> {
    const results = await mapSettledLimit(puts, this.writeConcurrency, (p) => {
      const input: PutItemCommandInput = {
        TableName: this.tableName,
        Item: versionedItem(p),
        ...(p.version === 0
          ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
          : {
              ConditionExpression: '#v = :v',
              ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
              ExpressionAttributeValues: { ':v': { N: String(p.version) } },
            }),
      };
      return this.put(input, p.bytes);
    });
    const conflicts: string[] = [];
    const failures: { label: string; reason: unknown }[] = [];
    const notStored: ItemNotStored[] = [];
    results.forEach((r, i) => {
      const p = puts[i]!;
      const single = SINGLE_KEYS.has(p.pk);
      if (r.status === 'fulfilled') {
        if (single)
          this.known.set(p.pk, {
            version: p.version + 1,
            body: p.body,
            ...(p.value ? { value: freezeShallowTree({ ...p.value, version: p.version + 1 }) } : {}),
          });
      } else if (isConditionalCheckFailed(r.reason)) {
        if (single) this.known.delete(p.pk);
        conflicts.push(p.label);
      } else if (p.user !== undefined && isItemSizeRejection(r.reason)) {
        notStored.push({
          user: userForLog(p.user),
          reason: `DynamoDB refused the ${p.bytes}-byte item: ${errorText(r.reason)}`,
        });
      } else {
        failures.push({ label: p.label, reason: r.reason });
      }
    });
    this.stats.conflicts += conflicts.length;
    if (failures.length > 0) {
      const first = failures[0]!;
      throw new BaselineStoreError(
        `Writing ${failures.length} of ${puts.length} items to ${this.tableName} failed (first: ${first.label}: ${errorText(first.reason)})${conflicts.length > 0 ? `; ${conflicts.length} more changed since they were read` : ''}`,
        { cause: first.reason },
      );
    }
    if (conflicts.length > 0) throw new ConcurrentUpdateError(conflicts);
    return notStored;
  }

  private async put(input: PutItemCommandInput, bytes: number): Promise<void> {
    this.stats.putItem++;
    await this.client.send(new PutItemCommand(input));
    this.stats.itemsWritten++;
    this.stats.bytesWritten += bytes;
    this.stats.largestItemBytes = Math.max(this.stats.largestItemBytes, bytes);
  }

  /**
   * Read a single item. When this store already holds a decoded copy, only the item's version is read (a
   * projection) and the copy is returned if the version still matches; any other writer's change bumps the
   * version and forces a full read. DynamoDB bills a read by the item's size whether or not it is projected
   * (the population item, up to ~150 KB, is up to 38 read units), so this saves the transfer and the decoding
   * of a large item on every warm run, not read units.
   */
  private async getSingle<T>(pk: string, decode: (body: string, version: number) => T): Promise<T | undefined> {
    const cached = this.known.get(pk);
    if (cached?.value) {
      this.stats.getItem++;
      let res: GetItemCommandOutput;
      try {
        res = await this.client.send(
          new GetItemCommand({
            TableName: this.tableName,
            Key: { [PARTITION_KEY]: { S: pk } },
            ConsistentRead: true,
            ProjectionExpression: '#v',
            ExpressionAttributeNames: { '#v': VERSION_ATTRIBUTE },
          }),
        );
      } catch (e) {
        throw new BaselineStoreError(`Reading ${pk} from ${this.tableName} failed: ${errorText(e)}`, { cause: e });
      }
      if (res.Item && res.Item[VERSION_ATTRIBUTE]?.N === String(cached.version)) {
        this.stats.cacheHits++;
        return cached.value as T;
      }
    }
    this.stats.getItem++;
    let item: Item | undefined;
    try {
      const res = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { [PARTITION_KEY]: { S: pk } }, ConsistentRead: true }),
      );
      item = res.Item;
    } catch (e) {
      throw new BaselineStoreError(`Reading ${pk} from ${this.tableName} failed: ${errorText(e)}`, { cause: e });
    }
    if (!item) {
      this.known.delete(pk);
      return undefined;
    }
    this.stats.itemsRead++;
    const { version, body } = this.bodyOf(pk, item);
    const value = decode(body, version);
    const frozen = typeof value === 'object' && value !== null ? freezeShallowTree(value) : value;
    this.known.set(pk, { version, body, ...(typeof frozen === 'object' && frozen !== null ? { value: frozen } : {}) });
    return frozen;
  }

  private bodyOf(label: string, item: Item): { version: number; body: string } {
    const v = item[VERSION_ATTRIBUTE]?.N;
    const body = item[BODY_ATTRIBUTE]?.S;
    const version = v === undefined ? NaN : Number(v);
    if (!Number.isSafeInteger(version) || version < 1)
      throw new BaselineStoreError(
        `Corrupt item ${label}: ${VERSION_ATTRIBUTE} is ${v === undefined ? 'missing' : JSON.stringify(v)}`,
      );
    if (body === undefined)
      throw new BaselineStoreError(`Corrupt item ${label}: ${BODY_ATTRIBUTE} is missing or not a string`);
    return { version, body };
  }

  /**
   * Every item whose key starts with one of `prefixes`: a paginated Scan (1 MB of items read per page, before
   * the filter) with the prefixes as expression values, never in the expression text. Eventually consistent
   * (half the read cost): operator views tolerate a write from the last second being missing.
   */
  private async *scanPrefixes(prefixes: readonly string[]): AsyncIterable<Item> {
    const values: Record<string, AttributeValue> = {};
    for (const [i, p] of prefixes.entries()) values[`:p${i}`] = { S: p };
    const filter = prefixes.map((_, i) => `begins_with(#pk, :p${i})`).join(' OR ');
    let start: Item | undefined;
    do {
      this.stats.scan++;
      let res: ScanCommandOutput;
      try {
        res = await this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: filter,
            ExpressionAttributeNames: { '#pk': PARTITION_KEY },
            ExpressionAttributeValues: values,
            ...(this.scanPageLimit !== undefined ? { Limit: this.scanPageLimit } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
      } catch (e) {
        throw new BaselineStoreError(`Scanning ${this.tableName} failed: ${errorText(e)}`, { cause: e });
      }
      for (const item of res.Items ?? []) {
        this.stats.itemsRead++;
        yield item;
      }
      start = res.LastEvaluatedKey;
    } while (start);
  }

  /** Items by partition key, in chunks of 100 keys, `readConcurrency` chunks at a time. */
  private async batchGet(keys: readonly string[], keyOnly = false): Promise<Map<string, Item>> {
    const chunks: string[][] = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX_KEYS) chunks.push(keys.slice(i, i + BATCH_GET_MAX_KEYS));
    const out = new Map<string, Item>();
    const results = await mapSettledLimit(chunks, this.readConcurrency, async (chunk) => {
      for (const item of await this.batchGetChunk(chunk, keyOnly)) {
        const pk = item[PARTITION_KEY]?.S;
        if (pk !== undefined) out.set(pk, item);
      }
    });
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    this.stats.itemsRead += out.size;
    return out;
  }

  private async batchGetChunk(keys: readonly string[], keyOnly: boolean): Promise<Item[]> {
    const found: Item[] = [];
    let pending: Item[] = keys.map((k) => ({ [PARTITION_KEY]: { S: k } }));
    for (let attempt = 1; ; attempt++) {
      this.stats.batchGetItem++;
      if (attempt > 1) this.stats.unprocessedRetries++;
      let res: BatchGetItemCommandOutput;
      try {
        res = await this.client.send(
          new BatchGetItemCommand({
            RequestItems: {
              [this.tableName]: {
                Keys: pending,
                ConsistentRead: true,
                ...(keyOnly ? { ProjectionExpression: '#pk', ExpressionAttributeNames: { '#pk': PARTITION_KEY } } : {}),
              },
            },
          }),
        );
      } catch (e) {
        throw new BaselineStoreError(
          `BatchGetItem of ${pending.length} keys from ${this.tableName} failed: ${errorText(e)}`,
          { cause: e },
        );
      }
      found.push(...(res.Responses?.[this.tableName] ?? []));
      pending = res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      if (pending.length === 0) return found;
      if (attempt >= this.maxBatchGetAttempts) {
        throw new BaselineStoreError(
          `BatchGetItem left ${pending.length} of ${keys.length} keys unprocessed after ${attempt} attempts (throttled?) on ${this.tableName}`,
        );
      }
      // Exponential backoff with jitter, as AWS advises for UnprocessedKeys.
      const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (attempt - 1));
      await this.sleep(ceiling / 2 + this.random() * (ceiling / 2));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Table creation (local use; in AWS the CDK stack owns the table)
// ---------------------------------------------------------------------------------------------

/**
 * Create the baselines table if it does not exist (same key schema as the CDK stack), wait until ACTIVE,
 * and enable TTL on `expiresAtMs`. dynalite does not implement `UpdateTimeToLive` (it answers
 * `UnknownOperationException`), which is tolerated: locally nothing needs expiring.
 * An existing table with another key schema is a `BaselineStoreError`.
 */
export async function createBaselinesTable(
  client: DynamoDBClient,
  tableName: string,
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: PARTITION_KEY, AttributeType: PARTITION_KEY_TYPE }],
        KeySchema: [{ AttributeName: PARTITION_KEY, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (e) {
    if (!(e instanceof Error && e.name === 'ResourceInUseException'))
      throw new BaselineStoreError(`Creating table ${tableName} failed: ${errorText(e)}`, { cause: e });
  }

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    let table: TableDescription | undefined;
    try {
      table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    } catch (e) {
      throw new BaselineStoreError(`Describing table ${tableName} failed: ${errorText(e)}`, { cause: e });
    }
    const keys = table?.KeySchema ?? [];
    if (keys.length !== 1 || keys[0]?.AttributeName !== PARTITION_KEY || keys[0]?.KeyType !== 'HASH') {
      throw new BaselineStoreError(
        `Table ${tableName} exists with another key schema (${JSON.stringify(keys)}); authwatch needs a single string partition key "${PARTITION_KEY}"`,
      );
    }
    if (table?.TableStatus === 'ACTIVE') break;
    if (Date.now() > deadline)
      throw new BaselineStoreError(
        `Table ${tableName} did not become ACTIVE (status ${table?.TableStatus ?? 'unknown'})`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  } catch (e) {
    const name = e instanceof Error ? e.name : '';
    const already = name === 'ValidationException' && /already enabled/i.test((e as Error).message);
    if (name !== 'UnknownOperationException' && !already)
      throw new BaselineStoreError(`Enabling TTL on ${tableName} failed: ${errorText(e)}`, { cause: e });
  }
}
