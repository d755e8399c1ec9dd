/**
 * Build a network database from the publisher's file, line by line, so a caller can stream a gzip download
 * through it without holding the text. Pure: lines in, bytes out; the caller owns I/O and the clock.
 *
 * Input: IPtoASN's `ip2asn-combined.tsv` (public domain / PDDL), one range per line, tab-separated:
 *
 * ```
 * range_start  range_end  AS_number  country_code  AS_description
 * 8.8.8.0      8.8.8.255  15169      US            GOOGLE
 * 0.0.0.0      0.255.255.255  0      None          Not routed
 * ```
 *
 * IPv4 and IPv6 rows are mixed in one file. AS 0 ("Not routed") rows are left out, so those addresses look
 * up as not routed, like the gaps between ranges. A line that cannot be read is counted and skipped, with the
 * first few kept as examples; the caller decides whether that many bad lines make the build unusable.
 */
import { NetworkDataError } from '../../errors';
import { parseIp } from '../net';
import { encodeNetworkData } from './format';

/** What a build read and dropped, for the refresh's validation and its log. */
export interface BuildStats {
  /** Non-blank lines read. */
  lines: number;
  ipv4Ranges: number;
  ipv6Ranges: number;
  /** AS 0 rows: announced by no one, left out. */
  notRouted: number;
  /** Lines that were not a valid row; counted and skipped. */
  malformed: number;
  /** Rows overlapping an earlier range; the earlier one is kept. */
  overlapping: number;
  /** Adjacent rows of the same AS and country joined into one range. */
  merged: number;
  /** Rows naming an ASN differently from its first row; the first name is kept. */
  renamedAsns: number;
  /** The first few malformed or overlapping lines, with their line numbers, for the log. */
  examples: string[];
}

export interface BuiltNetworkData {
  readonly bytes: Uint8Array;
  readonly stats: BuildStats;
}

const MAX_EXAMPLES = 5;
const MAX_ASN = 0xffffffff;
/** How IPtoASN writes "no country". */
const NO_COUNTRY = new Set(['None', 'Unknown', 'ZZ', '']);

type Row =
  | { kind: 'v4'; start: number; end: number; asn: number; country: string; org: string }
  | { kind: 'v6'; start: bigint; end: bigint; asn: number; country: string; org: string };

/** One publisher line → a row, `undefined` for a blank line, or a reason it is malformed. */
export function parseIp2AsnLine(line: string): Row | undefined | string {
  const trimmed = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (trimmed.trim() === '') return undefined;
  const f = trimmed.split('\t');
  if (f.length < 5) return `${f.length} tab-separated fields, expected 5`;
  const [startText, endText, asnText, ccText] = f as [string, string, string, string];
  const org = f.slice(4).join('\t').trim();
  const start = parseIp(startText);
  const end = parseIp(endText);
  if (!start || !end) return `"${!start ? startText : endText}" is not an IP address`;
  // An IPv4-mapped IPv6 range would come back as IPv4 from parseIp; the file's families must agree as written.
  if (start.family !== end.family || startText.includes(':') !== endText.includes(':'))
    return 'range start and end are of different families';
  if (!/^\d{1,10}$/.test(asnText) || Number(asnText) > MAX_ASN) return `AS number "${asnText}" is not a 32-bit number`;
  const cc = ccText.trim();
  if (!NO_COUNTRY.has(cc) && !/^[A-Z]{2}$/.test(cc)) return `country "${cc}" is not an ISO 3166 alpha-2 code`;
  const country = NO_COUNTRY.has(cc) ? '' : cc;
  const asn = Number(asnText);
  if (start.family === 4) {
    const s = toUint32(start.bytes);
    const e = toUint32(end.bytes);
    if (s > e) return 'range ends before it starts';
    return { kind: 'v4', start: s, end: e, asn, country, org };
  }
  const s = toBigInt(start.bytes);
  const e = toBigInt(end.bytes);
  if (s > e) return 'range ends before it starts';
  return { kind: 'v6', start: s, end: e, asn, country, org };
}

function toUint32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function toBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** Accumulates publisher lines; `finish` sorts, checks, merges and encodes them. */
export class NetworkDataBuilder {
  private readonly stats: BuildStats = {
    lines: 0,
    ipv4Ranges: 0,
    ipv6Ranges: 0,
    notRouted: 0,
    malformed: 0,
    overlapping: 0,
    merged: 0,
    renamedAsns: 0,
    examples: [],
  };
  private lineNo = 0;
  private readonly countryIndex = new Map<string, number>([['', 0]]);
  private readonly orgs = new Map<number, string>();
  // Columns rather than row objects: 650,000 small objects cost several times the memory of these arrays.
  private readonly v4: { start: number[]; end: number[]; asn: number[]; cc: number[]; line: number[] } = {
    start: [],
    end: [],
    asn: [],
    cc: [],
    line: [],
  };
  private readonly v6: { start: bigint[]; end: bigint[]; asn: number[]; cc: number[]; line: number[] } = {
    start: [],
    end: [],
    asn: [],
    cc: [],
    line: [],
  };

  addLine(line: string): void {
    this.lineNo++;
    const row = parseIp2AsnLine(line);
    if (row === undefined) return;
    this.stats.lines++;
    if (typeof row === 'string') {
      this.stats.malformed++;
      this.example(`line ${this.lineNo}: ${row}`);
      return;
    }
    if (row.asn === 0) {
      this.stats.notRouted++;
      return;
    }
    let cc = this.countryIndex.get(row.country);
    if (cc === undefined) {
      cc = this.countryIndex.size;
      this.countryIndex.set(row.country, cc);
    }
    const known = this.orgs.get(row.asn);
    if (known === undefined) this.orgs.set(row.asn, row.org);
    else if (known !== row.org) this.stats.renamedAsns++;
    const cols = row.kind === 'v4' ? this.v4 : this.v6;
    (cols.start as (number | bigint)[]).push(row.start);
    (cols.end as (number | bigint)[]).push(row.end);
    cols.asn.push(row.asn);
    cols.cc.push(cc);
    cols.line.push(this.lineNo);
  }

  /** Encode what was read. `builtAt` (epoch ms) and `source` go into the header. */
  finish(opts: { builtAt: number; source: string }): BuiltNetworkData {
    if (!Number.isFinite(opts.builtAt)) throw new NetworkDataError('builtAt must be a time');
    const v4 = this.ranges(this.v4, 'IPv4');
    const v6 = this.ranges(this.v6, 'IPv6');
    this.stats.ipv4Ranges = v4.asn.length;
    this.stats.ipv6Ranges = v6.asn.length;
    const v6Start = new Uint32Array(v6.asn.length * 4);
    const v6End = new Uint32Array(v6.asn.length * 4);
    for (let i = 0; i < v6.asn.length; i++) {
      words(v6.start[i]!, v6Start, i);
      words(v6.end[i]!, v6End, i);
    }
    const asnTable = [...this.orgs.keys()].sort((a, b) => a - b);
    const asnIndex = new Map(asnTable.map((a, i) => [a, i]));
    const toIndex = (asns: number[]) => asns.map((a) => asnIndex.get(a)!);
    const bytes = encodeNetworkData({
      builtAt: opts.builtAt,
      source: opts.source,
      countries: [...this.countryIndex.keys()],
      asnTable,
      orgNames: asnTable.map((a) => this.orgs.get(a)!),
      v4Start: v4.start,
      v4End: v4.end,
      v4AsnIndex: toIndex(v4.asn),
      v4Country: v4.cc,
      v6Start,
      v6End,
      v6AsnIndex: toIndex(v6.asn),
      v6Country: v6.cc,
    });
    return { bytes, stats: { ...this.stats, examples: [...this.stats.examples] } };
  }

  /** Sort by start, drop rows overlapping a kept one, join adjacent rows of the same AS and country. */
  private ranges<T extends number | bigint>(
    cols: { start: T[]; end: T[]; asn: number[]; cc: number[]; line: number[] },
    family: string,
  ) {
    const order = cols.start.map((_, i) => i);
    order.sort((a, b) =>
      cols.start[a]! < cols.start[b]! ? -1 : cols.start[a]! > cols.start[b]! ? 1 : cols.line[a]! - cols.line[b]!,
    );
    const out = { start: [] as T[], end: [] as T[], asn: [] as number[], cc: [] as number[] };
    const one = (typeof cols.start[0] === 'bigint' ? 1n : 1) as T;
    for (const i of order) {
      const n = out.asn.length;
      const s = cols.start[i]!;
      const e = cols.end[i]!;
      if (n > 0 && s <= out.end[n - 1]!) {
        this.stats.overlapping++;
        this.example(`line ${cols.line[i]}: ${family} range overlaps an earlier one; kept the earlier`);
        continue;
      }
      if (
        n > 0 &&
        out.asn[n - 1] === cols.asn[i] &&
        out.cc[n - 1] === cols.cc[i] &&
        (out.end[n - 1]! as number) + (one as number) === (s as number)
      ) {
        out.end[n - 1] = e;
        this.stats.merged++;
        continue;
      }
      out.start.push(s);
      out.end.push(e);
      out.asn.push(cols.asn[i]!);
      out.cc.push(cols.cc[i]!);
    }
    return out;
  }

  private example(text: string): void {
    if (this.stats.examples.length < MAX_EXAMPLES) this.stats.examples.push(text);
  }
}

function words(v: bigint, into: Uint32Array, row: number): void {
  for (let w = 3; w >= 0; w--) {
    into[row * 4 + w] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

/** Build from an array of lines (tests, small files). */
export function buildNetworkData(lines: Iterable<string>, opts: { builtAt: number; source: string }): BuiltNetworkData {
  const b = new NetworkDataBuilder();
  for (const l of lines) b.addLine(l);
  return b.finish(opts);
}
