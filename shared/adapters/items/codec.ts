/**
 * The stored items' encoding: the JSON body of user, population, run-state and feedback items, and the ledger
 * and lease items' attributes. Shared by both store adapters (the in-memory store keeps the very bodies the
 * DynamoDB adapter writes), so what one writes the other reads. Pure: no SDK calls, no I/O, no clock.
 *
 * The body of user, population, state and feedback items is one JSON string (`S`), not a native DynamoDB map.
 * IPs and user names are map keys in a baseline; as JSON they are plain data, never attribute names, so nothing
 * user-controlled can reach an expression or hit attribute-name rules, and decoding is one `JSON.parse` plus a
 * shape check. The body is the model object itself, so fields the core adds later round-trip untouched; only the
 * bulky fixed-shape leaves (`SeenStats`, sketch counters) are positional tuples, which halves a user at the
 * bounds. Measured: a user with one IP is ~0.5 KB (one write unit); a user at the core's bounds (64 IPs, 48
 * prefixes, 32 networks) ~11.8 KB with IPv4 keys, ~13.9 KB with IPv6 (~20 KB as plain objects); the population
 * item at sketch capacity (2 × 800 counters, IPv6 keys) ~81 KB. Not compressed: most items are below 1 KB, where
 * compression saves no capacity unit and costs CPU on every one of them.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
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
} from '../../core/model';
import { DETECTORS } from '../../core/detectors';
import { decodeDetectorStates, encodeDetectorStates, type SliceOwner } from '../../core/detectors/state';
import { BaselineStoreError } from '../../errors';
import {
  LEASE_KEY,
  LEASE_OWNER_ATTRIBUTE,
  LEASE_UNTIL_ATTRIBUTE,
  PARTITION_KEY,
  POPULATION_KEY,
  FEEDBACK_KEY,
  RUN_STATE_KEY,
  TTL_ATTRIBUTE,
  userKey,
  userLabel,
  alertKey,
} from './keys';

/** An item as DynamoDB sends and returns it. */
export type Item = Record<string, AttributeValue>;

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

/**
 * A ledger item as a `LedgerEntry`; undefined if it lacks what every entry has. `withDocument: false` leaves
 * the stored document out (scans for operator views need the entries, not up to 16 KiB of JSON each).
 */
export function decodeLedgerItem(item: Item, withDocument = true): LedgerEntry | undefined {
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

/**
 * A ledger entry as its item. The entry must already be bounded (`boundLedgerEntry` in size.ts): this writes what
 * it is given. `expiresAt` is written as whole epoch seconds, as DynamoDB's TTL requires.
 */
export function encodeLedgerItem(e: LedgerEntry): Item {
  const item: Item = {
    [PARTITION_KEY]: { S: alertKey(e.id) },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(e.expiresAt)) },
    alertId: { S: e.id },
    detectorId: { S: e.detectorId },
    user: { S: e.user },
    raisedAt: { N: String(e.raisedAt) },
  };
  if (e.userTruncated) item.userTruncated = { BOOL: true };
  if (e.sourceIp !== undefined) item.sourceIp = { S: e.sourceIp };
  if (e.document !== undefined) item.document = { S: e.document };
  return item;
}

/** The lease item held by `lease.owner` until `lease.expiresAt`. */
export function encodeLeaseItem(lease: RunLease): Item {
  return {
    [PARTITION_KEY]: { S: LEASE_KEY },
    [LEASE_OWNER_ATTRIBUTE]: { S: lease.owner },
    [LEASE_UNTIL_ATTRIBUTE]: { N: String(lease.expiresAt) },
  };
}

/** The lease item once released: expired and ownerless, the same item for every release. */
export function releasedLeaseItem(): Item {
  return { [PARTITION_KEY]: { S: LEASE_KEY }, [LEASE_UNTIL_ATTRIBUTE]: { N: '0' } };
}

/** Who holds the lease according to its item; undefined for a released, missing or unreadable one (no one to name). */
export function decodeLeaseItem(item: Item | undefined): RunLease | undefined {
  const owner = item?.[LEASE_OWNER_ATTRIBUTE]?.S;
  const until = Number(item?.[LEASE_UNTIL_ATTRIBUTE]?.N);
  return owner !== undefined && Number.isFinite(until) ? { owner, expiresAt: until } : undefined;
}
