/**
 * The compact network-data format: IP ranges → (ASN, country) plus an ASN → organisation table, in one
 * little-endian binary blob that a Lambda loads at cold start and searches in place.
 *
 * Why binary and not JSON: ~650,000 ranges as JSON would parse into hundreds of thousands of objects on
 * every cold start; as typed-array sections they are ~16 MB, "parse" is a header check plus typed-array
 * views over the one buffer (and one pass checking the order), and a lookup is a binary search over a
 * `Uint32Array` with no allocation beyond its result.
 *
 * Layout (every section starts on an 8-byte boundary so typed arrays can view the buffer without copying):
 *
 * ```
 * header   64 bytes  magic "AWND", version u16, reserved u16, builtAt f64 (epoch ms),
 *                    ipv4 ranges u32, ipv6 ranges u32, countries u32, orgs u32,
 *                    org text bytes u32, source bytes u32, total bytes u32 (truncation check), 20 reserved
 * source   UTF-8     where the data came from (URL or file name)
 * country  2 B each  ISO 3166 alpha-2, ASCII; index 0 is "unknown" (two zero bytes)
 * asn      u32 each  every ASN the ranges name, ascending
 * nameEnd  u32 each  end offset of each ASN's organisation name in the name text (start = previous end)
 * names    UTF-8     the names, concatenated
 * v4start  u32 each  ascending, non-overlapping
 * v4end    u32 each  inclusive
 * v4asn    u32 each  index into the ASN table (not the ASN itself: the owner's number and name in one step)
 * v4cc     u16 each  index into the country table
 * v6start  4×u32     most significant word first, ascending, non-overlapping
 * v6end    4×u32     inclusive
 * v6asn    u32 each  index into the ASN table
 * v6cc     u16 each
 * ```
 *
 * Pure: no I/O, no clock; the caller passes `builtAt`. A buffer that is not a valid database (wrong magic, unknown
 * version, truncated, inconsistent) is a `NetworkDataError`.
 */
import { NetworkDataError } from '../../errors';

/** "AWND": authwatch network data. */
export const NETWORK_DATA_MAGIC = 0x444e5741; // 'A' 'W' 'N' 'D' read as a little-endian u32
/** Bumped on any layout change; a loader refuses a version it does not know rather than misreading it. */
export const NETWORK_DATA_VERSION = 1;
export const HEADER_BYTES = 64;

/** What a database says about itself: enough to judge its age and size without searching it. */
export interface NetworkDataMeta {
  readonly version: number;
  /** When it was built, epoch ms. Its age is what staleness is judged by. */
  readonly builtAt: number;
  /** Where the ranges came from (a URL or a file name). */
  readonly source: string;
  readonly ipv4Ranges: number;
  readonly ipv6Ranges: number;
  readonly countries: number;
  /** Distinct ASNs the ranges name. */
  readonly asns: number;
  /** Size of the encoded database. */
  readonly bytes: number;
}

/** The decoded tables: views into one buffer (see the layout above). */
export interface NetworkDataTables {
  readonly meta: NetworkDataMeta;
  /** Country codes by index; index 0 is the empty string (unknown). */
  readonly countries: readonly string[];
  readonly asnTable: Uint32Array;
  readonly asnNameEnd: Uint32Array;
  readonly asnNameText: Uint8Array;
  readonly v4Start: Uint32Array;
  readonly v4End: Uint32Array;
  readonly v4AsnIndex: Uint32Array;
  readonly v4Country: Uint16Array;
  /** 4 words per range, most significant first. */
  readonly v6Start: Uint32Array;
  readonly v6End: Uint32Array;
  readonly v6AsnIndex: Uint32Array;
  readonly v6Country: Uint16Array;
}

/** The encoder's input: the same tables, as plain arrays or typed arrays, already sorted and checked by the builder. */
export interface NetworkDataInput {
  readonly builtAt: number;
  readonly source: string;
  readonly countries: readonly string[];
  readonly asnTable: ArrayLike<number>;
  readonly orgNames: readonly string[];
  readonly v4Start: ArrayLike<number>;
  readonly v4End: ArrayLike<number>;
  readonly v4AsnIndex: ArrayLike<number>;
  readonly v4Country: ArrayLike<number>;
  readonly v6Start: ArrayLike<number>;
  readonly v6End: ArrayLike<number>;
  readonly v6AsnIndex: ArrayLike<number>;
  readonly v6Country: ArrayLike<number>;
}

const pad8 = (n: number) => (n + 7) & ~7;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Section {
  readonly offset: number;
  readonly bytes: number;
}

/** Section offsets for the given counts, in layout order; shared by encode and decode so they cannot disagree. */
function layout(c: {
  sourceBytes: number;
  countries: number;
  orgs: number;
  orgTextBytes: number;
  v4: number;
  v6: number;
}) {
  let at = HEADER_BYTES;
  const next = (bytes: number): Section => {
    const s = { offset: at, bytes };
    at = pad8(at + bytes);
    return s;
  };
  const sections = {
    source: next(c.sourceBytes),
    countries: next(c.countries * 2),
    asnTable: next(c.orgs * 4),
    asnNameEnd: next(c.orgs * 4),
    asnNameText: next(c.orgTextBytes),
    v4Start: next(c.v4 * 4),
    v4End: next(c.v4 * 4),
    v4AsnIndex: next(c.v4 * 4),
    v4Country: next(c.v4 * 2),
    v6Start: next(c.v6 * 16),
    v6End: next(c.v6 * 16),
    v6AsnIndex: next(c.v6 * 4),
    v6Country: next(c.v6 * 2),
  };
  return { sections, total: at };
}

/** Encode tables into the binary format. Throws on inconsistent input (lengths that do not match). */
export function encodeNetworkData(input: NetworkDataInput): Uint8Array {
  const v4 = input.v4Start.length;
  const v6 = input.v6AsnIndex.length;
  const orgs = input.asnTable.length;
  if (input.v4End.length !== v4 || input.v4AsnIndex.length !== v4 || input.v4Country.length !== v4)
    throw new NetworkDataError('IPv4 columns differ in length');
  if (input.v6Start.length !== v6 * 4 || input.v6End.length !== v6 * 4 || input.v6Country.length !== v6)
    throw new NetworkDataError('IPv6 columns differ in length');
  if (input.orgNames.length !== orgs) throw new NetworkDataError('organisation names and ASNs differ in length');
  if (input.countries[0] !== '') throw new NetworkDataError('country index 0 must be the empty (unknown) country');
  if (input.countries.length > 0xffff) throw new NetworkDataError('too many countries for a u16 index');

  const enc = new TextEncoder();
  const source = enc.encode(input.source);
  const names = input.orgNames.map((n) => enc.encode(n));
  const orgTextBytes = names.reduce((a, n) => a + n.length, 0);
  const { sections: s, total } = layout({
    sourceBytes: source.length,
    countries: input.countries.length,
    orgs,
    orgTextBytes,
    v4,
    v6,
  });
  if (total > 0xffffffff) throw new NetworkDataError('database larger than 4 GiB');

  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  view.setUint32(0, NETWORK_DATA_MAGIC, true);
  view.setUint16(4, NETWORK_DATA_VERSION, true);
  view.setFloat64(8, input.builtAt, true);
  view.setUint32(16, v4, true);
  view.setUint32(20, v6, true);
  view.setUint32(24, input.countries.length, true);
  view.setUint32(28, orgs, true);
  view.setUint32(32, orgTextBytes, true);
  view.setUint32(36, source.length, true);
  view.setUint32(40, total, true);
  out.set(source, s.source.offset);

  input.countries.forEach((cc, i) => {
    if (i === 0) return;
    if (!/^[A-Z]{2}$/.test(cc)) throw new NetworkDataError(`country code "${cc}" is not two upper-case letters`);
    out[s.countries.offset + i * 2] = cc.charCodeAt(0);
    out[s.countries.offset + i * 2 + 1] = cc.charCodeAt(1);
  });
  const u32 = (section: Section, values: ArrayLike<number>) => {
    for (let i = 0; i < values.length; i++) view.setUint32(section.offset + i * 4, values[i]!, true);
  };
  const u16 = (section: Section, values: ArrayLike<number>) => {
    for (let i = 0; i < values.length; i++) view.setUint16(section.offset + i * 2, values[i]!, true);
  };
  u32(s.asnTable, input.asnTable);
  let end = 0;
  names.forEach((n, i) => {
    out.set(n, s.asnNameText.offset + end);
    end += n.length;
    view.setUint32(s.asnNameEnd.offset + i * 4, end, true);
  });
  u32(s.v4Start, input.v4Start);
  u32(s.v4End, input.v4End);
  u32(s.v4AsnIndex, input.v4AsnIndex);
  u16(s.v4Country, input.v4Country);
  u32(s.v6Start, input.v6Start);
  u32(s.v6End, input.v6End);
  u32(s.v6AsnIndex, input.v6AsnIndex);
  u16(s.v6Country, input.v6Country);
  return out;
}

/** Read just the header: what a database is, without checking or viewing its tables. */
export function readNetworkDataMeta(bytes: Uint8Array): NetworkDataMeta {
  if (bytes.length < HEADER_BYTES)
    throw new NetworkDataError(`${bytes.length} bytes is shorter than the ${HEADER_BYTES}-byte header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== NETWORK_DATA_MAGIC)
    throw new NetworkDataError('not an authwatch network database (bad magic)');
  const version = view.getUint16(4, true);
  if (version !== NETWORK_DATA_VERSION)
    throw new NetworkDataError(`format version ${version}; this build reads version ${NETWORK_DATA_VERSION}`);
  const total = view.getUint32(40, true);
  if (total !== bytes.length)
    throw new NetworkDataError(`header says ${total} bytes, got ${bytes.length} (truncated or padded)`);
  const sourceBytes = view.getUint32(36, true);
  if (HEADER_BYTES + sourceBytes > bytes.length) throw new NetworkDataError('source name runs past the end');
  return {
    version,
    builtAt: view.getFloat64(8, true),
    source: new TextDecoder().decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + sourceBytes)),
    ipv4Ranges: view.getUint32(16, true),
    ipv6Ranges: view.getUint32(20, true),
    countries: view.getUint32(24, true),
    asns: view.getUint32(28, true),
    bytes: total,
  };
}

/**
 * View a database's tables in place. Checks the header, that the sections fit exactly, and that the ranges
 * are sorted and disjoint (a binary search over unsorted ranges would silently answer wrongly).
 */
export function decodeNetworkData(bytes: Uint8Array): NetworkDataTables {
  const meta = readNetworkDataMeta(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const orgTextBytes = view.getUint32(32, true);
  const { sections: s, total } = layout({
    sourceBytes: view.getUint32(36, true),
    countries: meta.countries,
    orgs: meta.asns,
    orgTextBytes,
    v4: meta.ipv4Ranges,
    v6: meta.ipv6Ranges,
  });
  if (total !== bytes.length)
    throw new NetworkDataError(`sections need ${total} bytes, the database has ${bytes.length}`);
  if (meta.countries < 1) throw new NetworkDataError('no country table');

  // Typed arrays need aligned offsets and the host's byte order; the format is little-endian, like every
  // machine Lambda runs on. Otherwise copy once into aligned, host-ordered arrays.
  const aligned = LITTLE_ENDIAN && bytes.byteOffset % 8 === 0;
  const u32 = (sec: Section): Uint32Array => {
    if (aligned) return new Uint32Array(bytes.buffer, bytes.byteOffset + sec.offset, sec.bytes / 4);
    const a = new Uint32Array(sec.bytes / 4);
    for (let i = 0; i < a.length; i++) a[i] = view.getUint32(sec.offset + i * 4, true);
    return a;
  };
  const u16 = (sec: Section): Uint16Array => {
    if (aligned) return new Uint16Array(bytes.buffer, bytes.byteOffset + sec.offset, sec.bytes / 2);
    const a = new Uint16Array(sec.bytes / 2);
    for (let i = 0; i < a.length; i++) a[i] = view.getUint16(sec.offset + i * 2, true);
    return a;
  };

  const countries = [''];
  for (let i = 1; i < meta.countries; i++)
    countries.push(String.fromCharCode(bytes[s.countries.offset + i * 2]!, bytes[s.countries.offset + i * 2 + 1]!));
  const tables: NetworkDataTables = {
    meta,
    countries,
    asnTable: u32(s.asnTable),
    asnNameEnd: u32(s.asnNameEnd),
    asnNameText: bytes.subarray(s.asnNameText.offset, s.asnNameText.offset + orgTextBytes),
    v4Start: u32(s.v4Start),
    v4End: u32(s.v4End),
    v4AsnIndex: u32(s.v4AsnIndex),
    v4Country: u16(s.v4Country),
    v6Start: u32(s.v6Start),
    v6End: u32(s.v6End),
    v6AsnIndex: u32(s.v6AsnIndex),
    v6Country: u16(s.v6Country),
  };
  checkTables(tables, orgTextBytes);
  return tables;
}

/** One pass over each table: O(n), a few ms for a full-size database, and it turns a corrupt file into an error at load. */
function checkTables(t: NetworkDataTables, orgTextBytes: number): void {
  const bad = (what: string, i: number) => new NetworkDataError(`${what} at row ${i}`);
  for (let i = 0; i < t.asnTable.length; i++) {
    if (i > 0 && t.asnTable[i]! <= t.asnTable[i - 1]!) throw bad('ASNs not ascending', i);
    if (t.asnNameEnd[i]! > orgTextBytes || (i > 0 && t.asnNameEnd[i]! < t.asnNameEnd[i - 1]!))
      throw bad('organisation name offsets out of order', i);
  }
  const nc = t.countries.length;
  for (let i = 0; i < t.v4Start.length; i++) {
    if (t.v4Start[i]! > t.v4End[i]!) throw bad('IPv4 range ends before it starts', i);
    if (i > 0 && t.v4Start[i]! <= t.v4End[i - 1]!) throw bad('IPv4 ranges not ascending and disjoint', i);
    if (t.v4Country[i]! >= nc) throw bad('IPv4 country index out of range', i);
    if (t.v4AsnIndex[i]! >= t.asnTable.length) throw bad('IPv4 ASN index out of range', i);
  }
  for (let i = 0; i < t.v6AsnIndex.length; i++) {
    if (compare128(t.v6Start, i, t.v6End, i) > 0) throw bad('IPv6 range ends before it starts', i);
    if (i > 0 && compare128(t.v6Start, i, t.v6End, i - 1) <= 0) throw bad('IPv6 ranges not ascending and disjoint', i);
    if (t.v6Country[i]! >= nc) throw bad('IPv6 country index out of range', i);
    if (t.v6AsnIndex[i]! >= t.asnTable.length) throw bad('IPv6 ASN index out of range', i);
  }
}

/** Compare the 128-bit values at rows `i` of `a` and `j` of `b` (4 words each, most significant first). */
export function compare128(a: Uint32Array, i: number, b: Uint32Array, j: number): number {
  for (let w = 0; w < 4; w++) {
    const x = a[i * 4 + w]!;
    const y = b[j * 4 + w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
