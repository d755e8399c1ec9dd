/**
 * `DynamoDbBaselineStore`: the detector's memory in one DynamoDB table (on-demand), in AWS and, on
 * dynalite, locally.
 *
 * Key layout: a single string partition key `pk`, no sort key (every access is by exact key):
 *   `USER#<name>`   one user's baseline            attributes: pk, version, body
 *   `POP#stats`     population statistics          attributes: pk, version, body
 *   `META#state`    run state (learning, watermark) attributes: pk, version, body
 *   `META#feedback` analyst allowlists (`allow`)    attributes: pk, version, body
 *   `META#lease`    the run lease (one run at a time) attributes: pk, owner, leaseUntil (epoch ms); leaseUntil 0 and
 *                                                   no owner once released (or no item before the first run)
 *   `ALERT#<id>`    alert ledger entry              attributes: pk, expiresAt (TTL), alertId, detectorId, user, sourceIp, raisedAt,
 *                                                   document (the alert JSON as delivered, at most 16 KiB)
 *                                                   (and userTruncated when the name was cut to fit)
 * A name that cannot be a key as it is (longer than DynamoDB's 2,048-byte partition key, or not well-formed
 * UTF-16 so it would not survive UTF-8) is keyed `USERH#<sha256>` instead; the body carries the real name,
 * and a read checks it.
 *
 * Serialization: the body of user, population and state items is one JSON string (`S`), not a native
 * DynamoDB map. IPs and user names are map keys in a baseline; as JSON they are plain data, never
 * attribute names, so nothing user-controlled can reach an expression or hit attribute-name rules, and
 * decoding is one `JSON.parse` plus a shape check. The body is the model object itself, so fields the core
 * adds later round-trip untouched; only the bulky fixed-shape leaves (`SeenStats`, sketch counters) are
 * positional tuples, which halves a user at the bounds. Measured: a user with one IP is ~0.5 KB (one write
 * unit); a user at the core's bounds (64 IPs, 48 prefixes, 32 networks) ~11.8 KB with IPv4 keys, ~13.9 KB
 * with IPv6 (~20 KB as plain objects); the population item at sketch capacity (2 × 800 counters, IPv6
 * keys) ~81 KB. Not compressed: most items are below 1 KB, where compression saves no capacity unit and
 * costs CPU on every one of them.
 *
 * Writes: every item carries `version`. A save is a conditional `PutItem`: `attribute_not_exists(pk)` for
 * version 0 (not stored yet), else `version = :read`, storing version + 1. BatchWriteItem cannot be
 * conditional; TransactWriteItems can, but costs twice the write capacity, takes 100 items at most, is
 * all-or-nothing (which we do not need: baseline updates are idempotent per bucket, so a retried run
 * re-applying a window to the users already written changes nothing) and dynalite does not implement it.
 * So saves are concurrent PutItems under a small concurrency limit; all are attempted, and every lost
 * condition is collected and reported in one `ConcurrentUpdateError`.
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
import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
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
  type GetItemCommandOutput,
  type PutItemCommandInput,
  type ScanCommandOutput,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { MAX_IPS_PER_USER, MAX_NETWORKS_PER_USER, MAX_PREFIXES_PER_USER } from '../core/baseline-update';
import type {
  AllowedCidr,
  AllowedUser,
  Feedback,
  LedgerEntry,
  PopulationStats,
  RunLease,
  RunState,
  SeenStats,
  SketchCounter,
  UserBaseline,
} from '../core/model';
import { boundAlertDocument } from '../core/alerts';
import { DETECTORS } from '../core/detectors';
import { decodeDetectorStates, encodeDetectorStates, type SliceOwner } from '../core/detectors/state';
import { boundSeen } from '../core/seen';
import { BaselineStoreError, ConcurrentUpdateError, ItemTooLargeError } from '../errors';
import type { BaselineStore, ItemNotStored, SaveUsersResult } from '../ports';
import { errorText } from './aws-retry';

// ---------------------------------------------------------------------------------------------
// Table layout (the CDK stack imports these, so table and adapter cannot drift)
// ---------------------------------------------------------------------------------------------

/** The table's only key: a string partition key. */
export const PARTITION_KEY = 'pk';
/** DynamoDB attribute type of `PARTITION_KEY` (CDK: `AttributeType.STRING`). */
export const PARTITION_KEY_TYPE = 'S' as const;
/** TTL attribute (epoch seconds) on alert-ledger items; DynamoDB deletes them some time after it passes. */
export const TTL_ATTRIBUTE = 'expiresAt';
/** Optimistic-concurrency version on user, population and state items. */
export const VERSION_ATTRIBUTE = 'version';
/** The JSON body of user, population and state items. */
export const BODY_ATTRIBUTE = 'body';

export const USER_KEY_PREFIX = 'USER#';
export const HASHED_USER_KEY_PREFIX = 'USERH#';
export const ALERT_KEY_PREFIX = 'ALERT#';
export const HASHED_ALERT_KEY_PREFIX = 'ALERTH#';
export const POPULATION_KEY = 'POP#stats';
export const RUN_STATE_KEY = 'META#state';
export const FEEDBACK_KEY = 'META#feedback';
export const LEASE_KEY = 'META#lease';
/** The single items (one per table), cached by version and skipped when saved unchanged. */
const SINGLE_KEYS: ReadonlySet<string> = new Set([POPULATION_KEY, RUN_STATE_KEY, FEEDBACK_KEY]);

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

/** BatchGetItem takes at most 100 keys per call (DynamoDB quota). */
export const BATCH_GET_MAX_KEYS = 100;
/** DynamoDB's item size limit: 400 KB, attribute names and values in UTF-8 (DynamoDB quota). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
/** A partition key value is at most 2,048 bytes (DynamoDB quota). */
export const MAX_PARTITION_KEY_BYTES = 2048;
/**
 * Target size of a user item, far below the 400 KB limit: every read and write of the item costs capacity
 * by its size (1 KB per write unit, 4 KB per read unit), and a batch of 100 must stay well under
 * BatchGetItem's 16 MB response. A user beyond it forgets their least recently seen places.
 */
export const USER_ITEM_TARGET_BYTES = 64 * 1024;
/** The ledger keeps at most this much of a user name (bounds the item; a longer name is flagged `userTruncated`). */
const LEDGER_USER_MAX_CHARS = 1024;
/**
 * The ledger keeps an alert's document (for `authwatch show`) up to 16 KiB (UTF-8), trimmed beyond that and
 * marked `"truncated": true` (`boundAlertDocument`). A real alert is 3–5 KB (measured: 3.7 KB for an unusual-IP
 * alert with every evidence field and two other addresses; 5.0 KB with 20 other IPv6 addresses and 10 hosts), so only
 * hostile or pathological values (a 10 KB user name, hundreds of hosts) are ever cut. Why not more: every run
 * reads the ledger items of its candidate alerts with strongly consistent reads (4 KB per read unit) to drop
 * repeats, and each write costs one unit per KB; 16 KiB caps that at 4 read and 16 write units per alert
 * (1,600 write units for a run at the 100-alert cap), far inside DynamoDB's 400 KB item. The document expires
 * with its entry (the ledger's TTL).
 */
export const LEDGER_DOCUMENT_MAX_BYTES = 16 * 1024;
/** DynamoDB counts a number as at most 21 bytes; we count every number at that bound. */
const NUMBER_BYTES = 21;

const DEFAULT_WRITE_CONCURRENCY = 16;
const DEFAULT_READ_CONCURRENCY = 8;
const DEFAULT_MAX_BATCH_GET_ATTEMPTS = 8;
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 2_000;

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Whether a string survives UTF-8 unchanged (no lone surrogates). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDFFF]/.test(s) || Buffer.from(s, 'utf8').toString('utf8') === s;
}

function keyOf(prefix: string, hashedPrefix: string, value: string): string {
  const key = prefix + value;
  if (utf8Bytes(key) <= MAX_PARTITION_KEY_BYTES && isWellFormed(value)) return key;
  return hashedPrefix + createHash('sha256').update(value, 'utf16le').digest('hex');
}

/** Partition key of a user's baseline. */
export function userKey(user: string): string {
  return keyOf(USER_KEY_PREFIX, HASHED_USER_KEY_PREFIX, user);
}

/** Partition key of an alert-ledger entry. */
export function alertKey(id: string): string {
  return keyOf(ALERT_KEY_PREFIX, HASHED_ALERT_KEY_PREFIX, id);
}

/** How a key is named in errors: the logical key, whatever the stored one. */
function userLabel(user: string): string {
  return USER_KEY_PREFIX + user;
}

/** Characters of a user name quoted in a log line or an error about its item. */
const USER_FOR_LOG_MAX_CHARS = 100;

/**
 * A user name for a log line or an error message: JSON-escaped (control characters and line breaks visible,
 * never written raw) and cut to `USER_FOR_LOG_MAX_CHARS` characters, with the full length when cut.
 */
export function userForLog(user: string): string {
  if (user.length <= USER_FOR_LOG_MAX_CHARS) return JSON.stringify(user);
  return `${JSON.stringify(user.slice(0, USER_FOR_LOG_MAX_CHARS))}… (${user.length} characters)`;
}

// ---------------------------------------------------------------------------------------------
// Codec: the JSON body (exported for the in-memory store, which stores the same bodies)
//
// The body is the model object itself (minus `version`, which is its own attribute), so a field the core
// adds later round-trips without a change here (`PopulationStats.placeNovelty` did). Only the bulky,
// fixed-shape leaves are written positionally: each `SeenStats` as [first, last, buckets, lastBucket,
// days, lastDay], each `SketchCounter` as [count, error, last]; a leaf that has grown a field is written
// as an object instead, and the decoder accepts both. Decoding checks every field the detectors rely on.
// ---------------------------------------------------------------------------------------------

/** Body format marker (a key no model field uses). */
const FORMAT_KEY = '$v';
const FORMAT = 1;

const SEEN_FIELDS = ['first', 'last', 'buckets', 'lastBucket', 'days', 'lastDay'] as const;
const COUNTER_FIELDS = ['count', 'error', 'last'] as const;
const USER_MAPS = ['ips', 'prefixes', 'networks'] as const;
const SKETCHES = ['sharedIps', 'sharedPrefixes'] as const;

class CorruptItem extends Error {}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function finite(x: unknown, what: string): number {
  if (typeof x !== 'number' || !Number.isFinite(x))
    throw new CorruptItem(`${what} is ${JSON.stringify(x) ?? String(x)}, not a finite number`);
  return x;
}

/** Assign an own property even for `__proto__` (a key is data here, never a prototype). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

function hasExactly(o: object, fields: readonly string[]): boolean {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n === fields.length;
}

/** A fixed-shape leaf as a tuple of its fields, or as itself when it has more fields than we know. */
function packLeaf(o: object, fields: readonly string[]): unknown {
  return hasExactly(o, fields) ? fields.map((f) => (o as Record<string, unknown>)[f]) : o;
}

function unpackLeaf<T>(x: unknown, fields: readonly string[], what: string): T {
  const out: Record<string, unknown> = {};
  if (Array.isArray(x)) {
    if (x.length !== fields.length) throw new CorruptItem(`${what} is not a list of ${fields.length} numbers`);
    for (const [i, f] of fields.entries()) out[f] = finite(x[i], what);
  } else if (isRecord(x)) {
    Object.assign(out, x);
    for (const f of fields) finite(x[f], `${what}.${f}`);
  } else {
    throw new CorruptItem(`${what} is neither a list nor a map`);
  }
  return out as T;
}

function packMap(m: unknown, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isRecord(m)) return out;
  for (const k of Object.keys(m)) setOwn(out, k, packLeaf(m[k] as object, fields));
  return out;
}

function unpackMap<T>(x: unknown, fields: readonly string[], what: string): Record<string, T> {
  if (!isRecord(x)) throw new CorruptItem(`${what} is not a map`);
  const out: Record<string, T> = {};
  for (const k of Object.keys(x)) setOwn(out, k, unpackLeaf<T>(x[k], fields, `${what}[${k}]`));
  return out;
}

/** JSON that refuses non-finite numbers (JSON would store them as null and the item could not be read back). */
function stringify(body: Record<string, unknown>, label: string): string {
  try {
    return JSON.stringify(body, (k, v: unknown) => {
      if (typeof v === 'number' && !Number.isFinite(v)) throw new CorruptItem(`${k} is ${v}, not a finite number`);
      return v;
    });
  } catch (e) {
    if (e instanceof CorruptItem)
      throw new BaselineStoreError(`Refusing to store ${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

function parseBody(body: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new CorruptItem(`body is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed)) throw new CorruptItem('body is not a JSON object');
  if (parsed[FORMAT_KEY] !== FORMAT) throw new CorruptItem(`unknown body format ${JSON.stringify(parsed[FORMAT_KEY])}`);
  delete parsed[FORMAT_KEY];
  return parsed;
}

/** The model object without `version` (stored as its own attribute), under the format marker. */
function bodyOfModel(x: object): Record<string, unknown> {
  const { version: _version, ...rest } = x as Record<string, unknown>;
  return { [FORMAT_KEY]: FORMAT, ...rest };
}

/** Detectors that own slices of user and population items. */
const STATE_OWNERS: readonly SliceOwner[] = DETECTORS.flatMap((d) => (d.state ? [d.state] : []));

/** `detectorState` as stored (`{ v, s }` per slice), or the field left out when there is none. */
function encodeStates(body: Record<string, unknown>, scope: 'user' | 'population', states: unknown): void {
  const encoded = encodeDetectorStates(STATE_OWNERS, scope, states as Record<string, unknown> | undefined);
  if (encoded) body.detectorState = encoded;
  else delete body.detectorState;
}

/** `detectorState` as read: each slice upgraded and parsed; a slice that cannot be read is left out (relearned). */
function decodeStates(out: Record<string, unknown>, scope: 'user' | 'population', raw: unknown): void {
  const { states } = decodeDetectorStates(STATE_OWNERS, scope, raw);
  if (states && Object.keys(states).length > 0) out.detectorState = states;
  else delete out.detectorState;
}

/** The JSON body of a user item (throws `BaselineStoreError` on a non-finite number). */
export function encodeUserBody(u: UserBaseline): string {
  const body = bodyOfModel(u);
  encodeStates(body, 'user', u.detectorState);
  body.activity = packLeaf(u.activity, SEEN_FIELDS);
  for (const m of USER_MAPS) body[m] = packMap(u[m], SEEN_FIELDS);
  return stringify(body, userLabel(u.user));
}

/** Decode a user body stored at `version`; throws `CorruptItem` (wrapped by callers with the key). */
function decodeUserBody(body: string, version: number): UserBaseline {
  const b = parseBody(body);
  if (typeof b.user !== 'string') throw new CorruptItem('user name missing');
  if (!isRecord(b.novelty)) throw new CorruptItem('novelty missing');
  for (const f of ['periods', 'ip', 'prefix', 'network'] as const) finite(b.novelty[f], `novelty.${f}`);
  const out = { ...b, activity: unpackLeaf<SeenStats>(b.activity, SEEN_FIELDS, 'activity'), version } as Record<
    string,
    unknown
  >;
  for (const m of USER_MAPS) out[m] = unpackMap<SeenStats>(b[m], SEEN_FIELDS, m);
  decodeStates(out, 'user', b.detectorState);
  return out as unknown as UserBaseline;
}

export function encodePopulationBody(p: PopulationStats): string {
  const body = bodyOfModel(p);
  encodeStates(body, 'population', p.detectorState);
  for (const s of SKETCHES) body[s] = packMap(p[s], COUNTER_FIELDS);
  if (p.sharedNetworks) body.sharedNetworks = packMap(p.sharedNetworks, COUNTER_FIELDS);
  return stringify(body, POPULATION_KEY);
}

function decodePopulationBody(body: string, version: number): PopulationStats {
  const b = parseBody(body);
  for (const f of ['userBuckets', 'newUsers', 'dormantReturns', 'lastBucket', 'knownUsers'] as const) finite(b[f], f);
  if (b.learnedWindowEnd !== undefined) finite(b.learnedWindowEnd, 'learnedWindowEnd');
  if (b.learnedWindowStart !== undefined) finite(b.learnedWindowStart, 'learnedWindowStart');
  const out = { ...b, version } as Record<string, unknown>;
  for (const s of SKETCHES) out[s] = unpackMap<SketchCounter>(b[s], COUNTER_FIELDS, s);
  // Optional: items written before the network sketch existed have none.
  if (b.sharedNetworks !== undefined)
    out.sharedNetworks = unpackMap<SketchCounter>(b.sharedNetworks, COUNTER_FIELDS, 'sharedNetworks');
  decodeStates(out, 'population', b.detectorState);
  return out as unknown as PopulationStats;
}

export function encodeRunStateBody(s: RunState): string {
  return stringify(bodyOfModel(s), RUN_STATE_KEY);
}

function decodeRunStateBody(body: string, version: number): RunState {
  const b = parseBody(body);
  finite(b.firstWindowEnd, 'firstWindowEnd');
  finite(b.lastWindowEnd, 'lastWindowEnd');
  if (b.backfilledFrom !== undefined) finite(b.backfilledFrom, 'backfilledFrom');
  if (b.catchUpWatermark !== undefined) finite(b.catchUpWatermark, 'catchUpWatermark');
  if (b.skipped !== undefined) {
    if (!Array.isArray(b.skipped)) throw new CorruptItem('skipped is not a list');
    b.skipped.forEach((r: unknown, i) => {
      if (!isRecord(r)) throw new CorruptItem(`skipped[${i}] is not a range`);
      finite(r.start, `skipped[${i}].start`);
      finite(r.end, `skipped[${i}].end`);
    });
  }
  return { ...b, version } as unknown as RunState;
}

export function encodeFeedbackBody(f: Feedback): string {
  return stringify(bodyOfModel(f), FEEDBACK_KEY);
}

function optionalText(x: unknown, what: string): void {
  if (x !== undefined && typeof x !== 'string') throw new CorruptItem(`${what} is not a string`);
}

function decodeFeedbackBody(body: string, version: number): Feedback {
  const b = parseBody(body);
  if (!Array.isArray(b.allowUsers)) throw new CorruptItem('allowUsers is not a list');
  if (!Array.isArray(b.allowCidrs)) throw new CorruptItem('allowCidrs is not a list');
  b.allowUsers.forEach((e: unknown, i) => {
    if (!isRecord(e) || typeof e.pattern !== 'string')
      throw new CorruptItem(`allowUsers[${i}].pattern is not a string`);
    finite(e.addedAt, `allowUsers[${i}].addedAt`);
    optionalText(e.note, `allowUsers[${i}].note`);
  });
  b.allowCidrs.forEach((e: unknown, i) => {
    if (!isRecord(e) || typeof e.cidr !== 'string') throw new CorruptItem(`allowCidrs[${i}].cidr is not a string`);
    finite(e.addedAt, `allowCidrs[${i}].addedAt`);
    optionalText(e.user, `allowCidrs[${i}].user`);
    optionalText(e.note, `allowCidrs[${i}].note`);
  });
  return {
    ...b,
    allowUsers: b.allowUsers as AllowedUser[],
    allowCidrs: b.allowCidrs as AllowedCidr[],
    version,
  } as Feedback;
}

/** Decode a stored body, turning any defect into a `BaselineStoreError` that names the key. */
function decodeStored<T>(
  label: string,
  decode: (body: string, version: number) => T,
  body: string,
  version: number,
): T {
  try {
    return decode(body, version);
  } catch (e) {
    if (e instanceof CorruptItem) throw new BaselineStoreError(`Corrupt item ${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Decode a user body, checking it is the user asked for (the body carries the name; keys may be hashed). */
export function decodeUser(user: string, body: string, version: number): UserBaseline {
  const b = decodeStored(userLabel(user), decodeUserBody, body, version);
  if (b.user !== user)
    throw new BaselineStoreError(
      `Corrupt item ${userLabel(user)}: it holds the baseline of ${JSON.stringify(b.user.slice(0, 200))}`,
    );
  return b;
}
export const decodePopulation = (body: string, version: number) =>
  decodeStored(POPULATION_KEY, decodePopulationBody, body, version);
export const decodeRunState = (body: string, version: number) =>
  decodeStored(RUN_STATE_KEY, decodeRunStateBody, body, version);
export const decodeFeedback = (body: string, version: number) =>
  decodeStored(FEEDBACK_KEY, decodeFeedbackBody, body, version);

/**
 * Decode a user body found by a scan (the name comes from the body, since hashed keys do not carry it),
 * checking that it belongs under the key it was found at.
 */
export function decodeScannedUser(pk: string, body: string, version: number): UserBaseline {
  const b = decodeStored(pk, decodeUserBody, body, version);
  if (userKey(b.user) !== pk)
    throw new BaselineStoreError(
      `Corrupt item ${pk}: it holds the baseline of ${JSON.stringify(b.user.slice(0, 200))}`,
    );
  return b;
}

/** Size DynamoDB bills and limits for an item with key `pk` and a JSON body (names + values, numbers at their maximum). */
export function bodyItemBytes(pk: string, body: string): number {
  return (
    utf8Bytes(PARTITION_KEY) +
    utf8Bytes(pk) +
    utf8Bytes(VERSION_ATTRIBUTE) +
    NUMBER_BYTES +
    utf8Bytes(BODY_ATTRIBUTE) +
    utf8Bytes(body)
  );
}

export interface FittedUser {
  /** The baseline as stored (the input itself when it fit). */
  readonly user: UserBaseline;
  readonly body: string;
  readonly bytes: number;
  /** Whether places were evicted to fit. */
  readonly bounded: boolean;
}

/**
 * Encode a user's baseline within `targetBytes`: when over, evict the least recently seen IPs, prefixes and
 * networks (first down to the core's bounds, then halving) until it fits. Novelty counts are kept, so
 * forgetting places never makes a user look more stable. Over DynamoDB's hard limit even with no places
 * left (only a user name of hundreds of KB could do that) is an `ItemTooLargeError`.
 */
export function fitUser(user: UserBaseline, targetBytes = USER_ITEM_TARGET_BYTES): FittedUser {
  const pk = userKey(user.user);
  let body = encodeUserBody(user);
  let bytes = bodyItemBytes(pk, body);
  if (bytes <= targetBytes) return { user, body, bytes, bounded: false };

  let limits = {
    ips: Math.min(MAX_IPS_PER_USER, Object.keys(user.ips).length),
    prefixes: Math.min(MAX_PREFIXES_PER_USER, Object.keys(user.prefixes).length),
    networks: Math.min(MAX_NETWORKS_PER_USER, Object.keys(user.networks).length),
  };
  let fitted = user;
  for (;;) {
    fitted = {
      ...user,
      ips: boundSeen(user.ips, limits.ips),
      prefixes: boundSeen(user.prefixes, limits.prefixes),
      networks: boundSeen(user.networks, limits.networks),
    };
    body = encodeUserBody(fitted);
    bytes = bodyItemBytes(pk, body);
    if (bytes <= targetBytes || limits.ips + limits.prefixes + limits.networks === 0) break;
    limits = {
      ips: Math.floor(limits.ips / 2),
      prefixes: Math.floor(limits.prefixes / 2),
      networks: Math.floor(limits.networks / 2),
    };
  }
  if (bytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new ItemTooLargeError(
      `Baseline item of ${userForLog(user.user)} would be ${bytes} bytes even with no places kept, over DynamoDB's ${DYNAMODB_MAX_ITEM_BYTES}-byte item limit`,
      bytes,
    );
  }
  return { user: fitted, body, bytes, bounded: true };
}

/** Population or state body within DynamoDB's item limit (the core bounds both; this guards the limit). */
export function checkItemSize(pk: string, body: string): number {
  const bytes = bodyItemBytes(pk, body);
  if (bytes > DYNAMODB_MAX_ITEM_BYTES)
    throw new BaselineStoreError(
      `Item ${pk} would be ${bytes} bytes, over DynamoDB's ${DYNAMODB_MAX_ITEM_BYTES}-byte item limit`,
    );
  return bytes;
}

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

/**
 * A ledger item as a `LedgerEntry`; undefined if it lacks what every entry has. `withDocument: false` leaves
 * the stored document out (scans for operator views need the entries, not up to 16 KiB of JSON each).
 */
function ledgerEntryOf(item: Record<string, AttributeValue>, withDocument = true): LedgerEntry | undefined {
  const id = item.alertId?.S;
  const detectorId = item.detectorId?.S;
  const user = item.user?.S;
  const raisedAt = Number(item.raisedAt?.N);
  const expiresAt = Number(item[TTL_ATTRIBUTE]?.N);
  if (
    id === undefined ||
    detectorId === undefined ||
    user === undefined ||
    !Number.isFinite(raisedAt) ||
    !Number.isFinite(expiresAt)
  )
    return undefined;
  return {
    id,
    detectorId,
    user,
    ...(item.sourceIp?.S !== undefined ? { sourceIp: item.sourceIp.S } : {}),
    raisedAt,
    expiresAt,
    ...(item.userTruncated?.BOOL === true ? { userTruncated: true } : {}),
    ...(withDocument && item.document?.S !== undefined ? { document: item.document.S } : {}),
  };
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
  /** Target size of a user item (default `USER_ITEM_TARGET_BYTES`). */
  readonly maxUserItemBytes?: number;
  /** Items a Scan page evaluates (`Limit`, before the filter); default: DynamoDB's 1 MB page. Tests set it small to exercise paging. */
  readonly scanPageLimit?: number;
  /** Injectable for tests; defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
}

/** What the store asked of DynamoDB, to compare with the floor: ceil(users / 100) reads + one write per changed item. */
export interface DynamoDbStoreStats {
  batchGetItem: number;
  getItem: number;
  putItem: number;
  /** Scan pages read (operator views only). */
  scan: number;
  /** BatchGetItem calls that re-requested UnprocessedKeys (included in `batchGetItem`). */
  unprocessedRetries: number;
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
  /** Largest item written so far, in bytes. */
  largestItemBytes: number;
}

function emptyStats(): DynamoDbStoreStats {
  return {
    batchGetItem: 0,
    getItem: 0,
    putItem: 0,
    scan: 0,
    unprocessedRetries: 0,
    conflicts: 0,
    ledgerDuplicates: 0,
    itemsRead: 0,
    itemsWritten: 0,
    bytesWritten: 0,
    writesSkipped: 0,
    cacheHits: 0,
    usersBounded: 0,
    itemsNotStored: 0,
    largestItemBytes: 0,
  };
}

type Item = Record<string, AttributeValue>;

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
  private readonly maxUserItemBytes: number;
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
    this.maxUserItemBytes = props.maxUserItemBytes ?? USER_ITEM_TARGET_BYTES;
    this.scanPageLimit = props.scanPageLimit;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = props.random ?? Math.random;
  }

  /** DynamoDB requests made (BatchGetItem, GetItem, PutItem, Scan), retries included. */
  get requestCount(): number {
    return this.stats.batchGetItem + this.stats.getItem + this.stats.putItem + this.stats.scan;
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
      out.set(user, decodeUser(user, body, version));
    }
    return out;
  }

  async getPopulation(): Promise<PopulationStats | undefined> {
    return this.getSingle(POPULATION_KEY, decodePopulation);
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
    const entry = ledgerEntryOf(item);
    if (!entry || entry.id !== id) throw new BaselineStoreError(`Corrupt ledger item ${pk.slice(0, 200)}`);
    return entry;
  }

  async *scanUsers(): AsyncIterable<UserBaseline> {
    for await (const item of this.scanPrefixes([USER_KEY_PREFIX, HASHED_USER_KEY_PREFIX])) {
      const pk = item[PARTITION_KEY]!.S!;
      const { version, body } = this.bodyOf(pk, item);
      yield decodeScannedUser(pk, body, version);
    }
  }

  async *scanLedger(): AsyncIterable<LedgerEntry> {
    for await (const item of this.scanPrefixes([ALERT_KEY_PREFIX, HASHED_ALERT_KEY_PREFIX])) {
      const entry = ledgerEntryOf(item, false);
      if (!entry) throw new BaselineStoreError(`Corrupt ledger item ${String(item[PARTITION_KEY]?.S).slice(0, 200)}`);
      yield entry;
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
      const item: Item = {
        [PARTITION_KEY]: { S: alertKey(e.id) },
        [TTL_ATTRIBUTE]: { N: String(Math.floor(e.expiresAt)) },
        alertId: { S: e.id },
        detectorId: { S: e.detectorId },
        user: { S: e.user.slice(0, LEDGER_USER_MAX_CHARS) },
        raisedAt: { N: String(e.raisedAt) },
      };
      // `benign <id>` reads the user back: a cut name must not be mistaken for another user's.
      if (e.user.length > LEDGER_USER_MAX_CHARS) item.userTruncated = { BOOL: true };
      if (e.sourceIp !== undefined) item.sourceIp = { S: e.sourceIp };
      const document = e.document !== undefined ? boundAlertDocument(e.document, LEDGER_DOCUMENT_MAX_BYTES) : undefined;
      if (document !== undefined) item.document = { S: document };
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

  async saveUsers(users: readonly UserBaseline[]): Promise<SaveUsersResult> {
    const notStored: ItemNotStored[] = [];
    const puts: PendingPut[] = [];
    for (const u of users) {
      let fitted: FittedUser;
      try {
        fitted = fitUser(u, this.maxUserItemBytes);
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
    notStored.push(...(await this.putVersioned(puts)));
    this.stats.itemsNotStored += notStored.length;
    return { notStored };
  }

  async savePopulation(population: PopulationStats): Promise<void> {
    const body = encodePopulationBody(population);
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
          Item: {
            [PARTITION_KEY]: { S: LEASE_KEY },
            owner: { S: lease.owner },
            leaseUntil: { N: String(lease.expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(#pk) OR #until <= :now OR #owner = :owner',
          ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#until': 'leaseUntil', '#owner': 'owner' },
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
    const owner = item?.owner?.S;
    const until = Number(item?.leaseUntil?.N);
    return {
      acquired: false,
      holder: owner !== undefined && Number.isFinite(until) ? { owner, expiresAt: until } : undefined,
    };
  }

  async releaseLease(owner: string): Promise<void> {
    try {
      await this.put(
        {
          TableName: this.tableName,
          Item: { [PARTITION_KEY]: { S: LEASE_KEY }, leaseUntil: { N: '0' } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
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
        Item: {
          [PARTITION_KEY]: { S: p.pk },
          [VERSION_ATTRIBUTE]: { N: String(p.version + 1) },
          [BODY_ATTRIBUTE]: { S: p.body },
        },
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
 * and enable TTL on `expiresAt`. dynalite does not implement `UpdateTimeToLive` (it answers
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
