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

/** A loaded network database. */
export class NetworkDatabase implements NetworkLookupService {
  readonly meta: NetworkDataMeta;
  private readonly t: NetworkDataTables;
  /** Organisation names decoded on first use: most of ~80,000 are never asked for in a run. */
  private readonly orgNames: (string | undefined)[];
  private readonly decoder = new TextDecoder();
  private readonly key = new Uint32Array(4);

  private constructor(tables: NetworkDataTables) {
    this.t = tables;
    this.meta = tables.meta;
    this.orgNames = new Array<string | undefined>(tables.orgAsn.length);
  }

  /** Decode (and check) an encoded database; throws `NetworkDataError` if it is not one. */
  static fromBytes(bytes: Uint8Array): NetworkDatabase {
    return new NetworkDatabase(decodeNetworkData(bytes));
  }

  lookup(ip: string): NetworkLookup {
    const v4 = ipv4ToUint32(ip);
    if (v4 >= 0) return this.lookupV4(v4);
    const p = parseIp(ip);
    if (!p) return INVALID;
    const b = p.bytes;
    if (p.family === 4) return this.lookupV4(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0);
    const k = this.key;
    for (let w = 0; w < 4; w++) k[w] = ((b[w * 4]! << 24) | (b[w * 4 + 1]! << 16) | (b[w * 4 + 2]! << 8) | b[w * 4 + 3]!) >>> 0;
    return this.lookupV6(k);
  }

  /** IPv4 as an unsigned 32-bit number. */
  lookupV4(ip: number): NetworkLookup {
    const { v4Start: starts, v4End: ends } = this.t;
    // The last range starting at or before ip; it contains ip if it also ends at or after it.
    let lo = 0;
    let hi = starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= ip) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || ends[found]! < ip) return NOT_ROUTED;
    return this.result(this.t.v4Asn[found]!, this.t.v4Country[found]!);
  }

  /** IPv6 as 4 words, most significant first. */
  lookupV6(ip: Uint32Array): NetworkLookup {
    const { v6Start: starts, v6End: ends } = this.t;
    let lo = 0;
    let hi = this.t.v6Asn.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare128(starts, mid, ip, 0) <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || compare128(ends, found, ip, 0) < 0) return NOT_ROUTED;
    return this.result(this.t.v6Asn[found]!, this.t.v6Country[found]!);
  }

  /** The organisation name of an ASN, or undefined if the data names none. */
  orgOf(asn: number): string | undefined {
    const asns = this.t.orgAsn;
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
      const start = i === 0 ? 0 : this.t.orgEnd[i - 1]!;
      name = this.decoder.decode(this.t.orgText.subarray(start, this.t.orgEnd[i]!));
      this.orgNames[i] = name;
    }
    return name;
  }

  private result(asn: number, country: number): NetworkLookup {
    return { known: true, asn, org: this.orgOf(asn) ?? '', country: country === 0 ? undefined : this.t.countries[country] };
  }
}
