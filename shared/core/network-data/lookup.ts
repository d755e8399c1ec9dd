/**
 * IP → network owner (ASN, organisation) and country, searched in place over the decoded tables: a binary
 * search per lookup, no network call, no allocation beyond the result. Pure.
 */
import { parseIp } from '../net';
import { compare128, decodeNetworkData, type NetworkDataMeta, type NetworkDataTables } from './format';

/** Why an address has no owner: not an IP, in no announced range (private, reserved, unrouted), or no data loaded. */
export type UnknownReason = 'invalid-ip' | 'not-routed' | 'no-data';

/** What the data says about one address. */
export type NetworkLookup =
  | {
      readonly known: true;
      /** Autonomous system number announcing the range. */
      readonly asn: number;
      /** The AS's organisation as the source names it (e.g. "GOOGLE"); empty when the source gives none. */
      readonly org: string;
      /** ISO 3166 alpha-2 of the range, when the source gives one. */
      readonly country: string | undefined;
    }
  | { readonly known: false; readonly reason: UnknownReason };

const INVALID: NetworkLookup = Object.freeze({ known: false, reason: 'invalid-ip' });
const NOT_ROUTED: NetworkLookup = Object.freeze({ known: false, reason: 'not-routed' });
/** The answer for every address when no database could be loaded. */
export const NO_DATA: NetworkLookup = Object.freeze({ known: false, reason: 'no-data' });

/** Anything that answers lookups: a loaded database, or the loader's stand-in when none is available. */
export interface NetworkLookupService {
  lookup(ip: string): NetworkLookup;
}

/**
 * Dotted-quad IPv4 → u32 without allocating, or -1. The common case in logs, so it skips the general parser
 * (which also handles brackets, zones and IPv4-mapped IPv6, and is the fallback for anything this rejects).
 */
export function ipv4ToUint32(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      // No leading zeros, as parseIp: "010" is ambiguous (octal in some tools).
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else return -1;
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + octet;
}

/** Scratch for `ipv6ToWords`: JavaScript runs one lookup at a time, so one buffer serves every call. */
const groups = new Uint16Array(8);

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20; // ASCII lower case
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/**
 * Plain IPv6 text (hex groups and at most one "::") → 4 words, most significant first, without allocating; false for
 * anything else (embedded IPv4, brackets, zones, invalid), which the general parser then handles.
 */
export function ipv6ToWords(s: string, out: Uint32Array): boolean {
  const n = s.length;
  if (n < 2 || n > 39) return false;
  let i = 0;
  let count = 0;
  let gap = -1;
  if (s.charCodeAt(0) === 58) {
    if (s.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    let v = 0;
    let d = 0;
    for (; i < n; i++) {
      const h = hexValue(s.charCodeAt(i));
      if (h < 0) break;
      v = v * 16 + h;
      if (++d > 4) return false;
    }
    if (d === 0 || count === 8) return false;
    groups[count++] = v;
    if (i === n) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i === n) return false; // a trailing single ":"
    if (s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = count;
      i++;
    }
  }
  if (gap < 0 ? count !== 8 : count > 7) return false;
  if (gap >= 0) {
    // Move the groups after "::" to the end and zero the run between, in place (from the right: no overlap issue).
    const zeros = 8 - count;
    for (let k = 7; k >= gap; k--) groups[k] = k - zeros >= gap ? groups[k - zeros]! : 0;
  }
  for (let w = 0; w < 4; w++) out[w] = ((groups[2 * w]! << 16) | groups[2 * w + 1]!) >>> 0;
  return true;
}

/** IPv6 rows per sample in the search index: the samples (~150 KB for 150,000 ranges) mostly stay in cache. */
const V6_SAMPLE = 16;

/** A loaded network database. */
export class NetworkDatabase implements NetworkLookupService {
  readonly meta: NetworkDataMeta;
  private readonly t: NetworkDataTables;
  /** Organisation names by ASN index, decoded on first use: most of ~80,000 are never asked for in a run. */
  private readonly orgNames: (string | undefined)[];
  private readonly decoder = new TextDecoder();
  private readonly key = new Uint32Array(4);
  /**
   * `v4First[p]`: the first IPv4 range starting at or after p.0.0 (p = the top 16 bits). A lookup then searches only
   * the few ranges inside its /16 instead of all ~500,000: one or two cache misses instead of ten. 256 KB, built in
   * about a millisecond at load.
   */
  private readonly v4First: Uint32Array;
  /** Every `V6_SAMPLE`th IPv6 range start: the first search level, a small cache-resident table. */
  private readonly v6Sample: Uint32Array;

  private constructor(tables: NetworkDataTables) {
    this.t = tables;
    this.meta = tables.meta;
    this.orgNames = new Array<string | undefined>(tables.asnTable.length);
    const starts = tables.v4Start;
    this.v4First = new Uint32Array(65537);
    for (let p = 0, i = 0; p <= 65536; p++) {
      const bound = p * 65536;
      while (i < starts.length && starts[i]! < bound) i++;
      this.v4First[p] = i;
    }
    const n6 = tables.v6AsnIndex.length;
    this.v6Sample = new Uint32Array(Math.ceil(n6 / V6_SAMPLE) * 4);
    for (let b = 0; b * V6_SAMPLE < n6; b++)
      this.v6Sample.set(tables.v6Start.subarray(b * V6_SAMPLE * 4, b * V6_SAMPLE * 4 + 4), b * 4);
  }

  /** Decode (and check) an encoded database; throws `NetworkDataError` if it is not one. */
  static fromBytes(bytes: Uint8Array): NetworkDatabase {
    return new NetworkDatabase(decodeNetworkData(bytes));
  }

  lookup(ip: string): NetworkLookup {
    const v4 = ipv4ToUint32(ip);
    if (v4 >= 0) return this.lookupV4(v4);
    if (ipv6ToWords(ip, this.key)) return this.lookupV6(this.key);
    const p = parseIp(ip);
    if (!p) return INVALID;
    const b = p.bytes;
    if (p.family === 4) return this.lookupV4(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    const k = this.key;
    for (let w = 0; w < 4; w++)
      k[w] = ((b[w * 4]! << 24) | (b[w * 4 + 1]! << 16) | (b[w * 4 + 2]! << 8) | b[w * 4 + 3]!) >>> 0;
    return this.lookupV6(k);
  }

  /** IPv4 as an unsigned 32-bit number. */
  lookupV4(ip: number): NetworkLookup {
    const { v4Start: starts, v4End: ends } = this.t;
    // The last range starting at or before ip; it contains ip if it also ends at or after it. Ranges before
    // v4First[p] start before ip's /16, those from v4First[p + 1] on after it: the answer is between.
    const p = ip >>> 16;
    let lo = this.v4First[p]!;
    let hi = this.v4First[p + 1]! - 1;
    let found = lo - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= ip) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || ends[found]! < ip) return NOT_ROUTED;
    return this.result(this.t.v4AsnIndex[found]!, this.t.v4Country[found]!);
  }

  /** IPv6 as 4 words, most significant first. */
  lookupV6(ip: Uint32Array): NetworkLookup {
    const { v6Start: starts, v6End: ends } = this.t;
    // First level: the last sample starting at or before ip; second: the rows of its block.
    const samples = this.v6Sample;
    let lo = 0;
    let hi = samples.length / 4 - 1;
    let block = -1;
    const top = ip[0]!;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      // Most steps are decided by the top 32 bits; the full comparison only when they tie.
      const s0 = samples[mid * 4]!;
      if (s0 < top || (s0 === top && compare128(samples, mid, ip, 0) <= 0)) {
        block = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (block < 0) return NOT_ROUTED;
    lo = block * V6_SAMPLE;
    hi = Math.min(this.t.v6AsnIndex.length, lo + V6_SAMPLE) - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare128(starts, mid, ip, 0) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || compare128(ends, found, ip, 0) < 0) return NOT_ROUTED;
    return this.result(this.t.v6AsnIndex[found]!, this.t.v6Country[found]!);
  }

  /** The organisation name of an ASN, or undefined if no range names the ASN. */
  orgOf(asn: number): string | undefined {
    const asns = this.t.asnTable;
    let lo = 0;
    let hi = asns.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const a = asns[mid]!;
      if (a === asn) return this.orgName(mid);
      if (a < asn) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private orgName(i: number): string {
    let name = this.orgNames[i];
    if (name === undefined) {
      const start = i === 0 ? 0 : this.t.asnNameEnd[i - 1]!;
      const end = this.t.asnNameEnd[i]!;
      const text = this.t.asnNameText;
      // Nearly every name is short ASCII, which char codes build several times faster than a TextDecoder call.
      let ascii = end - start <= 256;
      for (let k = start; ascii && k < end; k++) if (text[k]! >= 0x80) ascii = false;
      name = ascii
        ? String.fromCharCode.apply(null, text.subarray(start, end) as unknown as number[])
        : this.decoder.decode(text.subarray(start, end));
      this.orgNames[i] = name;
    }
    return name;
  }

  private result(asnIndex: number, country: number): NetworkLookup {
    return {
      known: true,
      asn: this.t.asnTable[asnIndex]!,
      org: this.orgName(asnIndex),
      country: country === 0 ? undefined : this.t.countries[country],
    };
  }
}
