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
 * item at sketch capacity (2 × 800 counters, IPv6 keys) ~81 KB; its country sketch, full (250 counters), adds
 * ~13 KB. Not compressed: most items are below 1 KB, where compression saves no capacity unit and costs CPU on
 * every one of them.
 *
 * Reading: every item kind is parsed with a zod schema (`BodyFormat`), never checked and then cast. A body
 * carries its format version under `$v`; a body of an older format is upgraded step by step before it is
 * parsed (`upgrades`), one of a newer format (a newer authwatch wrote it) is refused, naming the key. All
 * bodies so far are format 1: what changed since the first store (commit f7024b2) are fields added as optional
 * (a population without `sharedNetworks`, `placeNovelty`, `placeNovelty.networkOrgNovel` or the learned-window
 * marker is read as such; so is a user without the owner maps and leaves `owners`, `countries`, `ownerActivity`,
 * `hostingActivity`, the novelty counters `ownerPeriods`, `country`, `ownerNetwork` or the suspect places `suspect`, and a
 * population without `sharedCountries` or the owner-level `placeNovelty` counters, and a feedback item without the AS,
 * country or hostile lists) and leaves with more fields than the tuple (written
 * as objects, read as objects, their extra fields kept). Fields this code does not know are kept as they were read and written back, so an
 * older authwatch reading a newer item, and writing it back, loses nothing (`$v` stays 1 for that reason: an
 * older reader refuses any other format). Detectors' own slices (`detectorState`) are versioned each on its
 * own (core/detectors/state.ts): a slice that cannot be read is left out and reported to `onSliceDefect`, never
 * thrown. An error names the item's key and the field.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import type {
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
import {
  decodeDetectorStates,
  encodeDetectorStates,
  type SliceDefect,
  type SliceOwner,
  type StateScope,
} from '../../core/detectors/state';
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

const SEEN_FIELDS = ['first', 'last', 'buckets', 'lastBucket', 'days', 'lastDay'] as const;
const COUNTER_FIELDS = ['count', 'error', 'last'] as const;
const USER_MAPS = ['ips', 'prefixes', 'networks'] as const;
/** Maps and leaves a user item has only once network owners were learned for the user (absent stays absent). */
const USER_OWNER_MAPS = ['owners', 'countries'] as const;
const USER_OWNER_LEAVES = ['ownerActivity', 'hostingActivity'] as const;
const SKETCHES = ['sharedIps', 'sharedPrefixes'] as const;
const OPTIONAL_SKETCHES = ['sharedNetworks', 'sharedCountries'] as const;

/** Detectors that own slices of user and population items (the registry's). */
const STATE_OWNERS: readonly SliceOwner[] = DETECTORS.flatMap((d) => (d.state ? [d.state] : []));

/**
 * How detectors' slices are read and written. Defaults to the registry's detectors; tests pass their own owners.
 * `onSliceDefect` hears of every slice left out as unreadable (the store counts them).
 */
export interface SliceOptions {
  readonly owners?: readonly SliceOwner[];
  readonly onSliceDefect?: (item: string, defect: SliceDefect) => void;
}

class CorruptItem extends Error {}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A value as an error message quotes it: short, and never raw control characters. */
function show(x: unknown): string {
  if (x === undefined) return 'missing';
  if (typeof x === 'number') return String(x);
  const s = JSON.stringify(x) ?? String(x);
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}

/** Assign an own property even for `__proto__` (a key is data here, never a prototype). */
function setOwn<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

/** The message of a value of the wrong type: `is missing`, or what it is and what it should have been. */
const expected = (what: string) => (iss: { input?: unknown }) =>
  iss.input === undefined ? 'is missing' : `is ${show(iss.input)}, not ${what}`;
const finite = z.number({ error: expected('a finite number') });
const text = z.string({ error: expected('a string') });
/** A map of fields; fields this version does not know are kept (a newer authwatch may have added them). */
const record = <S extends z.core.$ZodLooseShape>(shape: S) => z.looseObject(shape, { error: expected('a map') });
const list = <T extends z.ZodType>(item: T) => z.array(item, { error: expected('a list') });

/** A fixed-shape leaf: its fields in tuple order, and the object of a checked tuple (built as a literal, one shape). */
interface LeafShape<T> {
  readonly fields: readonly string[];
  readonly fromTuple: (x: readonly number[]) => T;
}

const SEEN: LeafShape<SeenStats> = {
  fields: SEEN_FIELDS,
  fromTuple: (x) => ({ first: x[0]!, last: x[1]!, buckets: x[2]!, lastBucket: x[3]!, days: x[4]!, lastDay: x[5]! }),
};
const COUNTER: LeafShape<SketchCounter> = {
  fields: COUNTER_FIELDS,
  fromTuple: (x) => ({ count: x[0]!, error: x[1]!, last: x[2]! }),
};

/**
 * One fixed-shape leaf (`SeenStats`, `SketchCounter`): a tuple of its fields in order, or an object (a leaf with
 * a field beyond the tuple is written whole; its extra fields are kept). Checked by hand inside the schema rather
 * than by a zod schema per leaf: a user at the bounds has 145 of them and users are decoded on every run. Measured
 * (CPU time, 2,000 decodes of a user at the bounds with IPv6 keys): ~115 ms this way, ~295 ms with a zod union of
 * tuple and object per leaf in a `z.record` (which would also make a `__proto__` key a prototype, not data).
 * Returns the leaf, or why it is not one.
 */
function readLeaf<T>(x: unknown, shape: LeafShape<T>): T | string {
  const { fields } = shape;
  if (Array.isArray(x)) {
    if (x.length !== fields.length) return `is not a list of ${fields.length} numbers`;
    for (let i = 0; i < x.length; i++) {
      const v: unknown = x[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) return `is not a list of ${fields.length} numbers`;
    }
    return shape.fromTuple(x as number[]);
  }
  if (!isRecord(x)) return 'is neither a list nor a map';
  for (const f of fields) {
    const v = x[f];
    if (typeof v !== 'number' || !Number.isFinite(v))
      return v === undefined ? `.${f} is missing` : `.${f} is ${show(v)}, not a finite number`;
  }
  return { ...x } as T;
}

function leafIssue(ctx: z.core.$RefinementCtx, input: unknown, path: PropertyKey[], reason: string): void {
  ctx.issues.push({ code: 'custom', message: reason, input, path });
}

/** A leaf on its own (`activity`). */
function leaf<T>(shape: LeafShape<T>) {
  return z.unknown().transform((x, ctx): T => {
    const r = readLeaf(x, shape);
    if (typeof r === 'string') {
      leafIssue(ctx, x, [], r);
      return z.NEVER;
    }
    return r;
  });
}

/**
 * A map of leaves keyed by place (an IP, a prefix, a network): keys are data, so `__proto__` is an ordinary key here.
 * `perUser`: one of a user's place maps, of which a run decodes one per user: built without a prototype, which V8
 * keeps as a hash table (core/seen.ts `placeRecord`). The population's few sketches are ordinary objects.
 */
function leafMap<T>(shape: LeafShape<T>, perUser = false) {
  return z.unknown().transform((x, ctx): Record<string, T> => {
    if (!isRecord(x)) {
      leafIssue(ctx, x, [], x === undefined ? 'is missing' : `is ${show(x)}, not a map`);
      return z.NEVER;
    }
    const out = perUser ? (Object.create(null) as Record<string, T>) : ({} as Record<string, T>);
    for (const k of Object.keys(x)) {
      const r = readLeaf(x[k], shape);
      if (typeof r === 'string') {
        leafIssue(ctx, x[k], [k], r);
        return z.NEVER;
      }
      setOwn(out, k, r);
    }
    return out;
  });
}

const seenMap = leafMap(SEEN, true);
const counterMap = leafMap(COUNTER);

/** One suspect place (`SuspectPlace`); fields a newer authwatch adds are kept. */
const suspectPlace = record({
  alertId: text,
  detectorId: text,
  ip: text,
  since: finite,
  last: finite,
  logons: finite,
  owner: record({ asn: finite, org: text, country: text.optional() }).optional(),
});

/** Suspect places keyed by address: keys are data (`__proto__` an ordinary key), each value checked. */
const suspectMap = z.unknown().transform((x, ctx): Record<string, z.output<typeof suspectPlace>> => {
  if (!isRecord(x)) {
    leafIssue(ctx, x, [], `is ${show(x)}, not a map`);
    return z.NEVER;
  }
  const out: Record<string, z.output<typeof suspectPlace>> = {};
  for (const k of Object.keys(x)) {
    const r = suspectPlace.safeParse(x[k]);
    if (!r.success) {
      const issue = r.error.issues[0]!;
      leafIssue(ctx, x[k], [k, ...issue.path], issue.message);
      return z.NEVER;
    }
    // A parsed optional field that was absent must stay absent, not become an own `undefined`.
    if (r.data.owner === undefined) delete r.data.owner;
    else if (r.data.owner.country === undefined) delete r.data.owner.country;
    setOwn(out, k, r.data);
  }
  return out;
});

/** `detectorState` is checked slice by slice by its owners (core/detectors/state.ts), not here. */
const detectorState = z.unknown().optional();

const userSchema = record({
  user: text,
  activity: leaf(SEEN),
  ips: seenMap,
  prefixes: seenMap,
  networks: seenMap,
  // The owner-level counters, maps and leaves: absent in items learned before network owners were.
  novelty: record({
    periods: finite,
    ip: finite,
    prefix: finite,
    network: finite,
    ownerPeriods: finite.optional(),
    country: finite.optional(),
    ownerNetwork: finite.optional(),
  }),
  owners: seenMap.optional(),
  countries: seenMap.optional(),
  ownerActivity: leaf(SEEN).optional(),
  hostingActivity: leaf(SEEN).optional(),
  // Absent in items written before suspect places existed, and whenever a user has none.
  suspect: suspectMap.optional(),
  detectorState,
});

const populationSchema = record({
  userBuckets: finite,
  newUsers: finite,
  dormantReturns: finite,
  lastBucket: finite,
  knownUsers: finite,
  sharedIps: counterMap,
  sharedPrefixes: counterMap,
  // Absent in items written before the network sketch existed (commit 6adc616).
  sharedNetworks: counterMap.optional(),
  // Absent in items written before network owners were learned.
  sharedCountries: counterMap.optional(),
  // Absent in items written before it existed; `networkOrgNovel` came later still, the owner-level counters later.
  placeNovelty: record({
    periods: finite,
    ip: finite,
    prefix: finite,
    network: finite,
    ipInKnownPrefix: finite,
    networkOrgNovel: finite.optional(),
    networkOwned: finite.optional(),
    networkHosting: finite.optional(),
    ownerPeriods: finite.optional(),
    country: finite.optional(),
    ownerNetwork: finite.optional(),
  }).optional(),
  // The learned-window marker (a save safe to cut): absent in items written before it.
  learnedWindowEnd: finite.optional(),
  learnedWindowStart: finite.optional(),
  detectorState,
});

const runStateSchema = record({
  firstWindowEnd: finite,
  lastWindowEnd: finite,
  backfilledFrom: finite.optional(),
  catchUpWatermark: finite.optional(),
  skipped: list(record({ start: finite, end: finite })).optional(),
});

// `expiresAt` and the AS and country lists came later (format 1 grew them as optional fields): older items read
// as entries for good and empty lists; an older authwatch keeps the new fields it does not know when it writes back.
const allowedEntry = { addedAt: finite, expiresAt: finite.optional(), note: text.optional() };
const feedbackSchema = record({
  allowUsers: list(record({ pattern: text, ...allowedEntry })),
  allowCidrs: list(record({ cidr: text, user: text.optional(), ...allowedEntry })),
  allowAsns: list(record({ asn: finite, user: text.optional(), ...allowedEntry })).optional(),
  allowCountries: list(record({ country: text, user: text.optional(), ...allowedEntry })).optional(),
  // The hostile marks (`authwatch malicious`) came later still: absent in older items, read as none.
  hostile: list(
    record({
      kind: z.enum(['ip', 'cidr', 'asn']),
      value: text,
      alertId: text,
      addedAt: finite,
      note: text.optional(),
    }),
  ).optional(),
});

/**
 * The body format of one item kind: the version this code writes under `$v`, the schema of that version, and
 * `upgrades[v]`, which turns a body of format v into v + 1 (none yet: every body so far is format 1, see the
 * module comment for what format 1 has grown).
 */
interface BodyFormat<S extends z.ZodType> {
  readonly version: number;
  readonly schema: S;
  readonly upgrades: Readonly<Record<number, (old: Record<string, unknown>) => Record<string, unknown>>>;
  /** Whether the decoded object keeps the stored field order (single items, whose unchanged saves are skipped). */
  readonly keepStoredOrder: boolean;
}

const USER_FORMAT: BodyFormat<typeof userSchema> = {
  version: 1,
  schema: userSchema,
  upgrades: {},
  keepStoredOrder: false,
};
const POPULATION_FORMAT: BodyFormat<typeof populationSchema> = {
  version: 1,
  schema: populationSchema,
  upgrades: {},
  keepStoredOrder: true,
};
const RUN_STATE_FORMAT: BodyFormat<typeof runStateSchema> = {
  version: 1,
  schema: runStateSchema,
  upgrades: {},
  keepStoredOrder: true,
};
const FEEDBACK_FORMAT: BodyFormat<typeof feedbackSchema> = {
  version: 1,
  schema: feedbackSchema,
  upgrades: {},
  keepStoredOrder: true,
};

/** Where in a body an issue is: `novelty.periods`, `ips[203.0.113.7]`, `skipped[0].start`. */
function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out ? `.${p}` : p;
    else out += `[${String(p)}]`;
  }
  return out;
}

/** Parse a stored body with its kind's format: upgraded to the current version, then checked by the schema. */
function parseBody<S extends z.ZodType>(format: BodyFormat<S>, body: string): z.output<S> & Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (e) {
    throw new CorruptItem(`body is not JSON (${(e as Error).message})`);
  }
  if (!isRecord(parsed)) throw new CorruptItem('body is not a JSON object');
  const v = parsed[FORMAT_KEY];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new CorruptItem(`unknown body format ${show(v)}`);
  if (v > format.version)
    throw new CorruptItem(
      `unknown body format ${v}, written by a newer authwatch (this one reads up to ${format.version})`,
    );
  let b: Record<string, unknown> = parsed;
  for (let from = v; from < format.version; from++) {
    const step = format.upgrades[from];
    if (!step) throw new CorruptItem(`no upgrade from body format ${from}`);
    b = step(b);
  }
  delete b[FORMAT_KEY];
  const result = format.schema.safeParse(b);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const where = pathText(issue.path);
    throw new CorruptItem(
      where ? `${where}${issue.message.startsWith('.') ? '' : ' '}${issue.message}` : issue.message,
    );
  }
  // The single items keep their stored field order (the schema puts its own fields first): re-encoding one unchanged
  // must give the very body that was read, so that saving it unchanged is recognised as such and skipped. Users are
  // never compared so, and are decoded by the thousand: they take the schema's order, saving a copy.
  return (format.keepStoredOrder ? Object.assign(b, result.data) : result.data) as z.output<S> &
    Record<string, unknown>;
}

/**
 * JSON that refuses non-finite numbers (JSON would store them as null and the item could not be read back).
 * JSON.stringify writes a non-finite number as `null`, so a body whose JSON holds no `null` anywhere has none and
 * is returned as it is; only one that does (a null field, or "null" in a string) is walked again with a replacer,
 * which is several times slower: the population item is written every run and is up to ~80 KB.
 */
function stringify(body: Record<string, unknown>, label: string): string {
  const fast = JSON.stringify(body);
  if (!fast.includes('null')) return fast;
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

/** The model object without `version` (stored as its own attribute), under the format marker. */
function bodyOfModel(x: object, format: BodyFormat<z.ZodType>): Record<string, unknown> {
  const { version: _version, ...rest } = x as Record<string, unknown>;
  return { [FORMAT_KEY]: format.version, ...rest };
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

function packMap(m: unknown, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isRecord(m)) return out;
  for (const k of Object.keys(m)) setOwn(out, k, packLeaf(m[k] as object, fields));
  return out;
}

/** `detectorState` as stored (`{ v, s }` per slice), or the field left out when there is none. */
function encodeStates(body: Record<string, unknown>, scope: StateScope, states: unknown, opts: SliceOptions): void {
  const encoded = encodeDetectorStates(
    opts.owners ?? STATE_OWNERS,
    scope,
    states as Record<string, unknown> | undefined,
  );
  if (encoded) body.detectorState = encoded;
  else delete body.detectorState;
}

/** `detectorState` as read: each slice upgraded and parsed; a slice that cannot be read is left out (relearned) and reported. */
function decodeStates(
  out: Record<string, unknown>,
  scope: StateScope,
  raw: unknown,
  label: string,
  opts: SliceOptions,
): void {
  const { states, defects } = decodeDetectorStates(opts.owners ?? STATE_OWNERS, scope, raw);
  for (const d of defects) opts.onSliceDefect?.(label, d);
  if (states && Object.keys(states).length > 0) out.detectorState = states;
  else delete out.detectorState;
}

// ---------------------------------------------------------------------------------------------
// Bodies
// ---------------------------------------------------------------------------------------------

/** The JSON body of a user item (throws `BaselineStoreError` on a non-finite number). */
export function encodeUserBody(u: UserBaseline, opts: SliceOptions = {}): string {
  const body = bodyOfModel(u, USER_FORMAT);
  encodeStates(body, 'user', u.detectorState, opts);
  body.activity = packLeaf(u.activity, SEEN_FIELDS);
  for (const m of USER_MAPS) body[m] = packMap(u[m], SEEN_FIELDS);
  for (const m of USER_OWNER_MAPS) if (u[m]) body[m] = packMap(u[m], SEEN_FIELDS);
  for (const l of USER_OWNER_LEAVES) {
    const v = u[l];
    if (v) body[l] = packLeaf(v, SEEN_FIELDS);
  }
  return stringify(body, userLabel(u.user));
}

/** Decode a user body stored at `version`; throws `CorruptItem` (wrapped by callers with the key). */
function decodeUserBody(body: string, version: number, label: string, opts: SliceOptions): UserBaseline {
  const b = parseBody(USER_FORMAT, body);
  const out = b as Record<string, unknown>;
  // A parsed optional field that was absent must stay absent, not become an own `undefined`.
  for (const k of [...USER_OWNER_MAPS, ...USER_OWNER_LEAVES, 'suspect']) if (out[k] === undefined) delete out[k];
  out.version = version;
  decodeStates(out, 'user', b.detectorState, label, opts);
  return out as unknown as UserBaseline;
}

export function encodePopulationBody(p: PopulationStats, opts: SliceOptions = {}): string {
  const body = bodyOfModel(p, POPULATION_FORMAT);
  encodeStates(body, 'population', p.detectorState, opts);
  for (const s of SKETCHES) body[s] = packMap(p[s], COUNTER_FIELDS);
  for (const s of OPTIONAL_SKETCHES) {
    const sketch = p[s];
    if (sketch) body[s] = packMap(sketch, COUNTER_FIELDS);
  }
  return stringify(body, POPULATION_KEY);
}

function decodePopulationBody(body: string, version: number, label: string, opts: SliceOptions): PopulationStats {
  const out = parseBody(POPULATION_FORMAT, body) as Record<string, unknown>;
  // A parsed optional field that was absent must stay absent, not become an own `undefined`.
  for (const s of OPTIONAL_SKETCHES) if (out[s] === undefined) delete out[s];
  out.version = version;
  decodeStates(out, 'population', out.detectorState, label, opts);
  return out as unknown as PopulationStats;
}

export function encodeRunStateBody(s: RunState): string {
  return stringify(bodyOfModel(s, RUN_STATE_FORMAT), RUN_STATE_KEY);
}

function decodeRunStateBody(body: string, version: number): RunState {
  const out = parseBody(RUN_STATE_FORMAT, body) as Record<string, unknown>;
  out.version = version;
  return out as unknown as RunState;
}

export function encodeFeedbackBody(f: Feedback): string {
  return stringify(bodyOfModel(f, FEEDBACK_FORMAT), FEEDBACK_KEY);
}

function decodeFeedbackBody(body: string, version: number): Feedback {
  const out = parseBody(FEEDBACK_FORMAT, body) as Record<string, unknown>;
  out.version = version;
  return out as unknown as Feedback;
}

/** Decode a stored body, turning any defect into a `BaselineStoreError` that names the key. */
function decodeStored<T>(label: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof CorruptItem) throw new BaselineStoreError(`Corrupt item ${label}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Decode a user body, checking it is the user asked for (the body carries the name; keys may be hashed). */
export function decodeUser(user: string, body: string, version: number, opts: SliceOptions = {}): UserBaseline {
  const label = userLabel(user);
  const b = decodeStored(label, () => decodeUserBody(body, version, label, opts));
  if (b.user !== user)
    throw new BaselineStoreError(
      `Corrupt item ${label}: it holds the baseline of ${JSON.stringify(b.user.slice(0, 200))}`,
    );
  return b;
}

/**
 * Decode a user body found by a scan (the name comes from the body, since hashed keys do not carry it),
 * checking that it belongs under the key it was found at.
 */
export function decodeScannedUser(pk: string, body: string, version: number, opts: SliceOptions = {}): UserBaseline {
  const b = decodeStored(pk, () => decodeUserBody(body, version, pk, opts));
  if (userKey(b.user) !== pk)
    throw new BaselineStoreError(
      `Corrupt item ${pk}: it holds the baseline of ${JSON.stringify(b.user.slice(0, 200))}`,
    );
  return b;
}

export function decodePopulation(body: string, version: number, opts: SliceOptions = {}): PopulationStats {
  return decodeStored(POPULATION_KEY, () => decodePopulationBody(body, version, POPULATION_KEY, opts));
}

export function decodeRunState(body: string, version: number): RunState {
  return decodeStored(RUN_STATE_KEY, () => decodeRunStateBody(body, version));
}

export function decodeFeedback(body: string, version: number): Feedback {
  return decodeStored(FEEDBACK_KEY, () => decodeFeedbackBody(body, version));
}

// ---------------------------------------------------------------------------------------------
// Ledger and lease items (native attributes, no body)
// ---------------------------------------------------------------------------------------------

const stringAttr = z.object({ S: text }, { error: expected('a string attribute') });
const numberAttr = z
  .object({ N: text }, { error: expected('a number attribute') })
  .transform((a) => Number(a.N))
  .pipe(finite);

const ledgerItemSchema = z.object({
  alertId: stringAttr,
  detectorId: stringAttr,
  user: stringAttr,
  sourceIp: stringAttr.optional(),
  raisedAt: numberAttr,
  [TTL_ATTRIBUTE]: numberAttr,
  userTruncated: z.object({ BOOL: z.boolean() }).optional(),
  document: stringAttr.optional(),
});

/**
 * A ledger item as a `LedgerEntry`; a `BaselineStoreError` naming the key and the field if it lacks what every
 * entry has. `withDocument: false` leaves the stored document out (scans for operator views need the entries,
 * not up to 16 KiB of JSON each).
 */
export function decodeLedgerItem(item: Item, withDocument = true): LedgerEntry {
  const r = ledgerItemSchema.safeParse(item);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new BaselineStoreError(
      `Corrupt ledger item ${String(item[PARTITION_KEY]?.S).slice(0, 200)}: ${pathText(issue.path)} ${issue.message}`,
    );
  }
  const a = r.data;
  return {
    id: a.alertId.S,
    detectorId: a.detectorId.S,
    user: a.user.S,
    ...(a.sourceIp !== undefined ? { sourceIp: a.sourceIp.S } : {}),
    raisedAtMs: a.raisedAt,
    expiresAtEpochSeconds: a[TTL_ATTRIBUTE],
    ...(a.userTruncated?.BOOL === true ? { userTruncated: true } : {}),
    ...(withDocument && a.document !== undefined ? { document: a.document.S } : {}),
  };
}

/**
 * A ledger entry as its item. The entry must already be bounded (`boundLedgerEntry` in size.ts): this writes what
 * it is given. The attribute names are the stored layout and never change (`raisedAt`, epoch ms; `expiresAtMs`, the
 * table's TTL attribute, whole epoch seconds as DynamoDB's TTL requires), whatever the model's field names.
 */
export function encodeLedgerItem(e: LedgerEntry): Item {
  const item: Item = {
    [PARTITION_KEY]: { S: alertKey(e.id) },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(e.expiresAtEpochSeconds)) },
    alertId: { S: e.id },
    detectorId: { S: e.detectorId },
    user: { S: e.user },
    raisedAt: { N: String(e.raisedAtMs) },
  };
  if (e.userTruncated) item.userTruncated = { BOOL: true };
  if (e.sourceIp !== undefined) item.sourceIp = { S: e.sourceIp };
  if (e.document !== undefined) item.document = { S: e.document };
  return item;
}

/** The lease item held by `lease.owner` until `lease.expiresAtMs`. */
export function encodeLeaseItem(lease: RunLease): Item {
  return {
    [PARTITION_KEY]: { S: LEASE_KEY },
    [LEASE_OWNER_ATTRIBUTE]: { S: lease.owner },
    [LEASE_UNTIL_ATTRIBUTE]: { N: String(lease.expiresAtMs) },
  };
}

/** The lease item once released: expired and ownerless, the same item for every release. */
export function releasedLeaseItem(): Item {
  return { [PARTITION_KEY]: { S: LEASE_KEY }, [LEASE_UNTIL_ATTRIBUTE]: { N: '0' } };
}

const heldLeaseSchema = z.object({ [LEASE_OWNER_ATTRIBUTE]: stringAttr, [LEASE_UNTIL_ATTRIBUTE]: numberAttr });

/**
 * Who holds the lease according to its item; undefined for a released (no owner), missing or unreadable one: the
 * lease was refused all the same, there is only no one to name.
 */
export function decodeLeaseItem(item: Item | undefined): RunLease | undefined {
  const r = heldLeaseSchema.safeParse(item);
  return r.success ? { owner: r.data[LEASE_OWNER_ATTRIBUTE].S, expiresAtMs: r.data[LEASE_UNTIL_ATTRIBUTE] } : undefined;
}
