/**
 * Logs Insights queries for one profile's window, planned without I/O: the query text of a (sub-)query (exact
 * millisecond bounds, the profile's aggregation, a part's filters, the row limit), and how a capped result is split
 * into disjoint parts by user name, address and host prefixes, or a crowding value on its own. Only fixed
 * character classes reach a query, never log-controlled text. The Logs Insights adapter runs these queries.
 */
import type { TimeWindow } from './model';

/** StartQuery accepts at most 50 log groups in `logGroupNames` (StartQuery API reference). */
export const MAX_LOG_GROUPS_PER_QUERY = 50;
/**
 * Insights returns at most 10,000 rows per query (Logs Insights quotas; also the `limit` we request).
 * It does not flag truncation, so a result with exactly this many rows is treated as capped.
 */
export const MAX_ROWS_PER_QUERY = 10_000;
/**
 * StartQuery takes its time range in whole epoch seconds; below one second, halving the window again only
 * rescans the same seconds, so a capped slice this short is split by user name, address and host instead.
 */
export const MIN_TIME_SPLIT_MS = 1_000;
/**
 * The result columns a capped one-second slice is split on, in this order: every profile's rows carry them
 * (the row schema in profiles/profile.ts). User first (many users behind one address: a NAT, a spray of
 * names), then the address (many addresses behind one name: a distributed spray on `root`), then the host
 * (one account from one address onto many hosts: a fleet-wide automation run).
 */
export const SPLIT_FIELDS = ['user', 'ip', 'host'] as const;
/** A result column a sub-query can be filtered on. */
export type SplitField = (typeof SPLIT_FIELDS)[number];
/**
 * Deepest prefix tried per column, in character positions; a part that deep which is still capped counts as
 * split as far as that column goes, and the next column is split within it. 12 characters separate user names
 * in practice; 45 is the longest textual IP address (IPv4-mapped IPv6), so every address is reached exactly;
 * 64 is a DNS label, enough to tell hosts of one fleet apart. The query budget bounds the total anyway.
 */
export const MAX_PREFIX_LENGTH: Readonly<Record<SplitField, number>> = { user: 12, ip: 45, host: 64 };
/**
 * Which values of one column (user name, address or host) a (sub-)query covers. The parts produced by
 * `splitPart` and `splitCappedSlice` are complete and disjoint:
 * - `all`: every row (no filter).
 * - `absent`: rows without the column at all (Insights omits null fields; a regex never matches them).
 * - `exact`: the value is exactly the atoms (e.g. `^ab$`); with no atoms, the empty value.
 * - `prefix`: the value starts with the atoms (e.g. `^a[0-9]`), except values matching an `exclude` pattern:
 *   those are fetched by parts of their own (see `splitCappedSlice`).
 * Each atom matches exactly one character and is drawn from a fixed alphabet (`[0-9]`, `[A-Z]`, `[a-z]`,
 * sub-lists of them, single alphanumerics, and `[^0-9A-Za-z]` for everything else: symbols, spaces, the dots
 * and colons of addresses, non-ASCII), so no log-controlled text ever reaches the query. Insights regexes are
 * case-sensitive, so upper- and lower-case classes do not overlap. Two different sequences of atoms that are
 * each a single character or `[^0-9A-Za-z]` never match the same value, so `exact` parts are disjoint.
 */
export type FieldPart =
  | { readonly kind: 'all' }
  | { readonly kind: 'absent' }
  | { readonly kind: 'exact'; readonly atoms: readonly Atom[] }
  | { readonly kind: 'prefix'; readonly atoms: readonly Atom[]; readonly exclude?: readonly Excluded[] };

/** Values a prefix part leaves out: exactly these atoms (`exact`), or every value starting with them. */
export interface Excluded {
  readonly atoms: readonly Atom[];
  readonly exact: boolean;
}
/** Which rows a (sub-)query covers: one part per split column; the rows matching all three. */
export type Slice = Readonly<Record<SplitField, FieldPart>>;

/** The whole result: no filter on any column. */
export const WHOLE_SLICE: Slice = { user: { kind: 'all' }, ip: { kind: 'all' }, host: { kind: 'all' } };

/** One character position: an explicit list of alphanumerics, or `other` = any character that is not one. */
export type Atom = { readonly chars: string } | { readonly other: true };

const DIGITS = '0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
/** The next character of a name is in exactly one of these. */
const NEXT_CHAR_CLASSES: readonly Atom[] = [{ chars: LOWER }, { chars: UPPER }, { chars: DIGITS }, { other: true }];

function atomRegex(a: Atom): string {
  if ('other' in a) return '[^0-9A-Za-z]';
  if (a.chars.length === 1) return a.chars;
  if (a.chars === DIGITS) return '[0-9]';
  if (a.chars === UPPER) return '[A-Z]';
  if (a.chars === LOWER) return '[a-z]';
  return `[${a.chars}]`;
}

/** The Insights filter clause for a part of a column, or undefined for `all`. */
export function fieldFilterClause(field: SplitField, part: FieldPart): string | undefined {
  switch (part.kind) {
    case 'all':
      return undefined;
    case 'absent':
      return `not ispresent(${field})`;
    case 'exact':
      return `${field} like /^${atomsRegex(part.atoms)}$/`;
    case 'prefix':
      // `not like` only beside a `like` that already requires the column: an absent value never gets here.
      return [
        `${field} like /^${atomsRegex(part.atoms)}/`,
        ...(part.exclude ?? []).map((x) => `${field} not like /^${atomsRegex(x.atoms)}${x.exact ? '$' : ''}/`),
      ].join(' and ');
  }
}

function atomsRegex(atoms: readonly Atom[]): string {
  return atoms.map(atomRegex).join('');
}

/**
 * Split a capped part into parts that together cover exactly the same values, each once:
 * - `all` → value absent, the empty value, and one prefix part per next-character class;
 * - a prefix ending in a multi-character list → the same prefix with that list halved (a-m, n-z, ...),
 *   so a crowded letter is found in a few queries rather than 26;
 * - any other prefix shorter than `maxLength` → the value ending here (`exact`), or continuing with each
 *   next-character class.
 * A prefix's exclusions go to the children they concern; a child wholly excluded is left out.
 * Returns undefined when the part cannot be split any further.
 */
export function splitPart(part: FieldPart, maxLength: number): FieldPart[] | undefined {
  if (part.kind === 'all')
    return [
      { kind: 'absent' },
      { kind: 'exact', atoms: [] },
      ...NEXT_CHAR_CLASSES.map((c) => ({ kind: 'prefix' as const, atoms: [c] })),
    ];
  if (part.kind !== 'prefix') return undefined;
  const exclude = part.exclude ?? [];
  const last = part.atoms[part.atoms.length - 1];
  const init = part.atoms.slice(0, -1);
  if (last && 'chars' in last && last.chars.length > 1) {
    const half = Math.ceil(last.chars.length / 2);
    return [last.chars.slice(0, half), last.chars.slice(half)].flatMap((chars) =>
      prefixPart([...init, { chars }], exclude),
    );
  }
  if (part.atoms.length >= maxLength) return undefined;
  const endsHere: FieldPart[] = exclude.some((x) => excludes(x, part.atoms, true))
    ? []
    : [{ kind: 'exact', atoms: part.atoms }];
  return [...endsHere, ...NEXT_CHAR_CLASSES.flatMap((c) => prefixPart([...part.atoms, c], exclude))];
}

/** A prefix part with the exclusions that concern it; none when it is wholly excluded. */
function prefixPart(atoms: readonly Atom[], exclude: readonly Excluded[]): FieldPart[] {
  if (exclude.some((x) => excludes(x, atoms, false))) return [];
  const kept = exclude.filter((x) => startsWith(x.atoms, atoms));
  return [kept.length > 0 ? { kind: 'prefix', atoms, exclude: kept } : { kind: 'prefix', atoms }];
}

/** Whether every character `inner` matches, `outer` matches too. */
function atomContains(outer: Atom, inner: Atom): boolean {
  if ('other' in outer) return 'other' in inner;
  return 'chars' in inner && [...inner.chars].every((c) => outer.chars.includes(c));
}

/** Whether every value matching `atoms` (and perhaps more after them) starts with `prefix`. */
function startsWith(atoms: readonly Atom[], prefix: readonly Atom[]): boolean {
  return atoms.length >= prefix.length && prefix.every((a, i) => atomContains(a, atoms[i]!));
}

function sameAtoms(a: readonly Atom[], b: readonly Atom[]): boolean {
  return a.length === b.length && a.every((x, i) => atomRegex(x) === atomRegex(b[i]!));
}

/** Whether `x` excludes every value of the part `atoms` (`exact`: the value is exactly them; else: starts with them). */
function excludes(x: Excluded, atoms: readonly Atom[], exact: boolean): boolean {
  return x.exact ? exact && sameAtoms(x.atoms, atoms) : startsWith(atoms, x.atoms);
}

/**
 * Split a capped one-second slice on the first column, in `SPLIT_FIELDS` order, that can still be split: the
 * user name until it is exact (or as deep as `MAX_PREFIX_LENGTH` goes), then the address within that user
 * part, then the host within that address part. Earlier columns are then leaves, so the order is stable and
 * each child differs from its parent in one column only. Returns undefined when no column can be split: the
 * slice's rows then differ only in outcome (and a profile's extra grouping columns), or share prefixes
 * longer than the depth limits.
 */
export function splitSlice(slice: Slice): Slice[] | undefined {
  for (const field of SPLIT_FIELDS) {
    const children = splitPart(slice[field], MAX_PREFIX_LENGTH[field]);
    if (children) return children.map((part) => ({ ...slice, [field]: part }));
  }
  return undefined;
}

export function isWhole(slice: Slice): boolean {
  return SPLIT_FIELDS.every((field) => slice[field].kind === 'all');
}

/**
 * A capped page whose rows are mostly one value of the column about to be split (one user name from thousands
 * of addresses, one address onto thousands of hosts) names that value: more than half of the page's rows.
 */
const DOMINANT_SHARE = 0.5;
/** A common prefix is worth a part of its own when it is at least this many characters deeper than the part. */
const MIN_PREFIX_JUMP = 2;
/**
 * Patterns one prefix part may exclude: each guided split adds one, so this bounds the guided splits of a part;
 * beyond it the part is split character by character as usual (which goes deeper, so splitting still ends).
 */
export const MAX_EXCLUDED_VALUES = 4;
/** Longest value fetched on its own as an exact part (characters); longer ones are found by prefix. */
const MAX_EXACT_VALUE_CHARS = 256;

/**
 * The atoms matching exactly this text: each alphanumeric as itself, anything else (code point by code
 * point) as `[^0-9A-Za-z]`. Undefined for a text too long to be worth a query of its own.
 */
export function exactAtoms(text: string): Atom[] | undefined {
  const chars = [...text];
  if (chars.length > MAX_EXACT_VALUE_CHARS) return undefined;
  return chars.map((c) => (/^[0-9A-Za-z]$/.test(c) ? { chars: c } : { other: true as const }));
}

/**
 * Split a capped slice (see `splitSlice`), guided by its capped page when the column about to be split is a
 * prefix part, so a crowded value is reached in two queries instead of a character-by-character search
 * (about thirty for a four-letter user name, a hundred for hosts sharing `ip-10-1-`):
 * - more than half of the page's rows share one value → that value on its own (`exact`), and the prefix
 *   without it;
 * - else all of the page's values share a prefix at least `MIN_PREFIX_JUMP` characters deeper → that prefix
 *   as a part, and the prefix without it.
 * The page only orders the work: each pair is a pattern and its complement within the part, complete and
 * disjoint whatever the page held; a pattern already excluded is never chosen again, and each guided split
 * adds an exclusion (at most `MAX_EXCLUDED_VALUES`), so splitting still ends.
 */
export function splitCappedSlice(slice: Slice, page: readonly Readonly<Record<string, string>>[]): Slice[] | undefined {
  const field = SPLIT_FIELDS.find((f) => splitPart(slice[f], MAX_PREFIX_LENGTH[f]) !== undefined);
  if (field === undefined) return undefined;
  const part = slice[field];
  if (part.kind === 'prefix' && (part.exclude?.length ?? 0) < MAX_EXCLUDED_VALUES) {
    const exclude = part.exclude ?? [];
    const fresh = (atoms: readonly Atom[] | undefined, exact: boolean): atoms is readonly Atom[] =>
      atoms !== undefined && startsWith(atoms, part.atoms) && !exclude.some((x) => excludes(x, atoms, exact));
    const rest = (x: Excluded): Slice => ({
      ...slice,
      [field]: { kind: 'prefix', atoms: part.atoms, exclude: [...exclude, x] },
    });

    const value = dominantValue(page, field);
    const valueAtoms = value === undefined ? undefined : exactAtoms(value);
    if (fresh(valueAtoms, true))
      return [{ ...slice, [field]: { kind: 'exact', atoms: valueAtoms } }, rest({ atoms: valueAtoms, exact: true })];

    const common = commonPrefix(page, field);
    const commonAtoms = common === undefined ? undefined : exactAtoms(common)?.slice(0, MAX_PREFIX_LENGTH[field]);
    if (commonAtoms && commonAtoms.length >= part.atoms.length + MIN_PREFIX_JUMP && fresh(commonAtoms, false)) {
      return [
        ...prefixPart(commonAtoms, exclude).map((p) => ({ ...slice, [field]: p })),
        rest({ atoms: commonAtoms, exact: false }),
      ];
    }
  }
  return splitSlice(slice);
}

function dominantValue(page: readonly Readonly<Record<string, string>>[], field: SplitField): string | undefined {
  const counts = new Map<string, number>();
  let best: string | undefined;
  let bestCount = 0;
  for (const row of page) {
    const v = row[field];
    if (v === undefined) continue;
    const n = (counts.get(v) ?? 0) + 1;
    counts.set(v, n);
    if (n > bestCount) {
      best = v;
      bestCount = n;
    }
  }
  return bestCount > page.length * DOMINANT_SHARE ? best : undefined;
}

/** The longest prefix (in code points) every row's value shares; undefined when a row lacks the column. */
function commonPrefix(page: readonly Readonly<Record<string, string>>[], field: SplitField): string | undefined {
  let common: string[] | undefined;
  for (const row of page) {
    const v = row[field];
    if (v === undefined) return undefined;
    if (common === undefined) {
      common = [...v];
      continue;
    }
    const chars = [...v];
    let i = 0;
    while (i < common.length && i < chars.length && common[i] === chars[i]) i++;
    common.length = i;
    if (i === 0) return undefined;
  }
  return common?.join('');
}

/** The slice's filter clauses, in `SPLIT_FIELDS` order (none for the whole result). */
function sliceClauses(slice: Slice): string[] {
  return SPLIT_FIELDS.flatMap((field) => fieldFilterClause(field, slice[field]) ?? []);
}

/** A slice as a person reads it in an error: its filters, or `all rows`. */
export function describeSlice(slice: Slice): string {
  const clauses = sliceClauses(slice);
  return clauses.length > 0 ? clauses.join(' and ') : 'all rows';
}

/**
 * The query text for one (sub-)query. The window is half-open [start, end) in ms, but StartQuery takes whole
 * epoch seconds with BOTH ends inclusive, so consecutive 30-minute windows (and our own time halves) would
 * overlap at their shared second. We therefore ask StartQuery for the covering seconds
 * [floor(start/1000), ceil(end/1000)] — a superset — and make the query itself exact with a leading
 * `filter toMillis(@timestamp) >= start and toMillis(@timestamp) < end`, before the profile's `stats`
 * aggregates anything. An event exactly at `end` is thus excluded, one at `start` included, and time halves
 * are disjoint at millisecond precision. (Filtering result rows by `first`/`last` would not work: a row is
 * already an aggregate and may straddle the boundary.)
 * The slice's filters go after the profile's query, on its `user`, `ip` and `host` output columns (after the
 * `stats`, so a part is a set of whole result rows), one `filter` command per column in `SPLIT_FIELDS`
 * order. Each is on its own line so a trailing comment in the profile query cannot swallow it.
 */
export function buildQueryString(profileQuery: string, range: TimeWindow, slice: Slice): string {
  // The profile's own trailing `| limit` must come after the slice's filters, or a split part would be
  // filtered from an already-truncated result and look complete when it is not.
  const body = profileQuery.trim().replace(TRAILING_LIMIT, '');
  const lines = [`filter toMillis(@timestamp) >= ${range.start} and toMillis(@timestamp) < ${range.end}`, `| ${body}`];
  for (const clause of sliceClauses(slice)) lines.push(`| filter ${clause}`);
  lines.push(`| limit ${MAX_ROWS_PER_QUERY}`);
  return lines.join('\n');
}

/** A final `| limit N` command of a query (profiles end with one so a pasted query shows everything). */
const TRAILING_LIMIT = /\s*\|\s*limit\s+\d+\s*$/i;

/** StartQuery's inclusive second range covering the half-open ms window (see `buildQueryString`). */
export function startQueryRange(range: TimeWindow): { startTime: number; endTime: number } {
  return { startTime: Math.floor(range.start / 1000), endTime: Math.ceil(range.end / 1000) };
}
