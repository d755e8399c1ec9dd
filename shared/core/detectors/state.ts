/**
 * Learned state a detector owns: a slice of each user's baseline and/or of the population statistics, stored
 * inside those items under the detector's own key, with its own schema and version.
 *
 * In a stored item the slices sit under `detectorState`, each as `{ v: <version>, s: <state> }`. Reading one:
 * - the stored version is upgraded step by step (`upgrades[v]` turns version v into v + 1) and the result parsed
 *   by the current schema, so an item written by an older authwatch is read as today's;
 * - a slice of a newer version than this code knows (written by a newer authwatch, then rolled back), or one that
 *   fails its schema, is not trusted: the detector sees no state for that user (it learns it again, and a
 *   detector judges nobody on state it has not learned), and the defect is reported to the caller to count;
 * - a slice under a key no registered detector owns (a detector removed, or added by a newer version) is kept
 *   as it was and written back untouched, so a rollback or a disabled detector loses nothing.
 * Adding a field to one detector's state therefore bumps that detector's version and adds one upgrade step; no
 * other detector and no stored item of another kind changes.
 */
import type * as z from 'zod';

/** One slice of learned state: the current stored form and how to read older ones. */
export interface StateSlice<T> {
  /** Version of the form this code writes; bump it whenever the shape or meaning changes. */
  readonly version: number;
  /** The current version's form. Parsing must not depend on anything outside the slice. */
  readonly schema: z.ZodType<T>;
  /** `upgrades[v]` turns a stored slice of version v into version v + 1. Versions start at 1. */
  readonly upgrades?: Readonly<Record<number, (old: unknown) => unknown>>;
}

/** A slice as stored: its version and its state. */
export interface StoredSlice {
  readonly v: number;
  readonly s: unknown;
}

/** The slices of one item, by detector state key: parsed states for known keys, stored slices for unknown ones. */
export type DetectorStates = Readonly<Record<string, unknown>>;

/** Something that owns slices: a detector's `state` (its key and the slices per scope). */
export interface SliceOwner {
  readonly key: string;
  readonly user?: StateSlice<unknown>;
  readonly population?: StateSlice<unknown>;
}

export type StateScope = 'user' | 'population';

/** A slice that could not be read; the detector sees no state for it. */
export interface SliceDefect {
  readonly key: string;
  readonly reason: string;
}

function isStoredSlice(x: unknown): x is StoredSlice {
  return (
    typeof x === 'object' &&
    x !== null &&
    !Array.isArray(x) &&
    Number.isInteger((x as StoredSlice).v) &&
    Object.hasOwn(x, 's')
  );
}

/** Read one stored slice as the current version, or explain why it cannot be. */
export function readSlice<T>(slice: StateSlice<T>, stored: unknown): { state: T } | { defect: string } {
  if (!isStoredSlice(stored)) return { defect: 'not a versioned slice ({ v, s })' };
  if (stored.v > slice.version)
    return { defect: `version ${stored.v} was written by a newer authwatch (this one reads up to ${slice.version})` };
  if (stored.v < 1) return { defect: `version ${stored.v} does not exist` };
  let s = stored.s;
  for (let v = stored.v; v < slice.version; v++) {
    const step = slice.upgrades?.[v];
    if (!step) return { defect: `no upgrade from version ${v}` };
    try {
      s = step(s);
    } catch (e) {
      return { defect: `upgrade from version ${v} failed: ${(e as Error).message}` };
    }
  }
  const parsed = slice.schema.safeParse(s);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      defect: `does not match version ${slice.version}: ${issue?.path.join('.') || '(root)'} ${issue?.message}`,
    };
  }
  return { state: parsed.data };
}

/**
 * Decode an item's `detectorState` for `scope`: known keys parsed (and upgraded), unknown keys kept as stored.
 * Defects are returned, not thrown: one detector's unreadable slice must not make the whole item unreadable.
 */
export function decodeDetectorStates(
  owners: readonly SliceOwner[],
  scope: StateScope,
  raw: unknown,
): { states: DetectorStates | undefined; defects: SliceDefect[] } {
  if (raw === undefined) return { states: undefined, defects: [] };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { states: undefined, defects: [{ key: '*', reason: 'detectorState is not a map' }] };
  const states: Record<string, unknown> = {};
  const defects: SliceDefect[] = [];
  for (const [key, stored] of Object.entries(raw)) {
    const slice = owners.find((o) => o.key === key)?.[scope];
    if (!slice) {
      setOwn(states, key, stored);
      continue;
    }
    const read = readSlice(slice, stored);
    if ('state' in read) setOwn(states, key, read.state);
    else defects.push({ key, reason: read.defect });
  }
  return { states, defects };
}

/** Encode an item's `detectorState`: known keys as `{ v, s }` at the current version, unknown keys as they were read. */
export function encodeDetectorStates(
  owners: readonly SliceOwner[],
  scope: StateScope,
  states: DetectorStates | undefined,
): Record<string, unknown> | undefined {
  if (!states) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, state] of Object.entries(states)) {
    const slice = owners.find((o) => o.key === key)?.[scope];
    setOwn(out, key, slice ? { v: slice.version, s: state } : state);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Assign an own property even for `__proto__` (a key is data, never a prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}
