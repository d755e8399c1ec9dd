/**
 * Builds the scenario's network extract (cli/scenario/network-extract.tsv) from a development snapshot of public
 * ASN and country data: the CSV files of the `@ip-location-db/asn` (range → AS number, organisation) and
 * `@ip-location-db/asn-country` (range → country) packages. For every network of `REAL_NETWORKS` it keeps a few
 * of the AS's ranges, each with the country the country data gives it, and writes them as IPtoASN rows
 * (`range_start  range_end  AS_number  country_code  AS_description`), the format cli/build-network-data.ts and the
 * refresh function convert, so the scenario's data goes through a deployment's own builder.
 *
 * Pure: lines in, rows out. The I/O is cli/build-scenario-network-extract.ts.
 */
import { formatIp, type IpFamily, parseIp } from '../../shared/core/net';
import type { RealNetwork } from './real-networks';

/** One inclusive range of one family, as 128-bit-safe numbers. */
interface Range {
  readonly family: IpFamily;
  readonly start: bigint;
  readonly end: bigint;
}

/** A range of an AS with its organisation name. */
interface AsnRange extends Range {
  readonly asn: number;
  readonly org: string;
}

/** A range with its country. */
interface CountryRange extends Range {
  readonly country: string;
}

/** What the extract kept, and what it could not find. */
export interface ExtractResult {
  /** IPtoASN rows, IPv4 first, each family by address. */
  readonly rows: string[];
  /** Networks that got fewer ranges than asked for, or none: the curated list needs a look. */
  readonly shortfalls: string[];
}

/** Split one CSV line: fields separated by commas, a field in double quotes may hold commas and `""`. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q === -1) throw new Error(`unterminated quote in CSV line: ${line}`);
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      out.push(value);
      if (line[i] === ',') i++;
      else break;
    } else {
      const c = line.indexOf(',', i);
      out.push(c === -1 ? line.slice(i) : line.slice(i, c));
      if (c === -1) break;
      i = c + 1;
    }
  }
  return out;
}

function toBig(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function fromBig(family: IpFamily, v: bigint): string {
  const n = family === 4 ? 4 : 16;
  const bytes = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--) {
    bytes[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return formatIp({ family, bytes });
}

function parseRange(startText: string, endText: string): Range | undefined {
  const s = parseIp(startText);
  const e = parseIp(endText);
  if (!s || !e || s.family !== e.family) return undefined;
  const start = toBig(s.bytes);
  const end = toBig(e.bytes);
  return start <= end ? { family: s.family, start, end } : undefined;
}

/** Rows of the asn package's CSV (`start,end,asn,organisation`) for the ASNs asked for; other lines are skipped. */
export function parseAsnCsv(lines: Iterable<string>, wanted: ReadonlySet<number>): AsnRange[] {
  const out: AsnRange[] = [];
  for (const line of lines) {
    const comma = line.indexOf(',', line.indexOf(',') + 1);
    if (comma === -1) continue;
    const asn = Number(line.slice(comma + 1, line.indexOf(',', comma + 1)));
    if (!wanted.has(asn)) continue;
    const [start, end, , org] = splitCsvLine(line) as [string, string, string, string | undefined];
    const r = parseRange(start, end);
    if (r && org !== undefined) out.push({ ...r, asn, org: org.trim() });
  }
  return out;
}

/** Rows of the asn-country package's CSV (`start,end,country`), sorted by family then start. */
export function parseCountryCsv(lines: Iterable<string>): CountryRange[] {
  const out: CountryRange[] = [];
  for (const line of lines) {
    const [start, end, country] = line.split(',');
    if (start === undefined || end === undefined || !country || !/^[A-Z]{2}$/.test(country.trim())) continue;
    const r = parseRange(start, end);
    if (r) out.push({ ...r, country: country.trim() });
  }
  return out.sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

/** Math.min and Math.max take no bigint. */
function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The pieces of `r` the country data covers, each with its country (the rest has none and is dropped). */
function withCountries(r: Range, countries: readonly CountryRange[]): CountryRange[] {
  // First country range that could overlap: binary search on the sorted list.
  let lo = 0;
  let hi = countries.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const c = countries[mid]!;
    if (c.family < r.family || (c.family === r.family && c.end < r.start)) lo = mid + 1;
    else hi = mid;
  }
  const out: CountryRange[] = [];
  for (let i = lo; i < countries.length; i++) {
    const c = countries[i]!;
    if (c.family !== r.family || c.start > r.end) break;
    const start = maxBig(c.start, r.start);
    const end = minBig(c.end, r.end);
    const last = out[out.length - 1];
    if (last && last.country === c.country && last.end + 1n === start) out[out.length - 1] = { ...last, end };
    else out.push({ family: r.family, start, end, country: c.country });
  }
  return out;
}

/** The /16 an IPv4 range starts in (the unit the scenario's pools are laid out by). */
function net16(r: Range): bigint {
  return r.start >> 16n;
}

/**
 * The extract: for each network, the ranges its `include` addresses fall in, then its largest ranges in its
 * country (IPv4 each in a /16 no other kept range of the network starts in), up to `v4` and `v6`; the most
 * common organisation name of the AS names every row (one AS, one name, as the builder expects).
 */
export function extractNetworks(
  networks: readonly RealNetwork[],
  asnLines: Iterable<string>,
  countryLines: Iterable<string>,
): ExtractResult {
  const asns = new Set(networks.map((n) => n.asn));
  const byAsn = new Map<number, AsnRange[]>();
  for (const r of parseAsnCsv(asnLines, asns)) {
    let list = byAsn.get(r.asn);
    if (!list) byAsn.set(r.asn, (list = []));
    list.push(r);
  }
  const countries = parseCountryCsv(countryLines);
  const shortfalls: string[] = [];
  const kept = new Map<string, { range: CountryRange; asn: number; org: string }>();

  for (const n of networks) {
    const ranges = byAsn.get(n.asn) ?? [];
    const names = new Map<string, number>();
    for (const r of ranges) names.set(r.org, (names.get(r.org) ?? 0) + 1);
    const org = [...names].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
    if (org === undefined) {
      shortfalls.push(`AS${n.asn}: no ranges in the ASN data`);
      continue;
    }
    const pieces = ranges.flatMap((r) => withCountries(r, countries));
    const keep = (p: CountryRange) => kept.set(`${p.family}|${p.start}`, { range: p, asn: n.asn, org });
    for (const ip of n.include ?? []) {
      const parsed = parseIp(ip);
      const v = parsed && toBig(parsed.bytes);
      const p = pieces.find((x) => parsed && x.family === parsed.family && v! >= x.start && v! <= x.end);
      if (p) keep(p);
      else shortfalls.push(`AS${n.asn}: no range holds ${ip}`);
    }
    const inCountry = pieces
      .filter((p) => n.country === undefined || p.country === n.country)
      .sort((a, b) => {
        const size = b.end - b.start - (a.end - a.start);
        return size > 0n ? 1 : size < 0n ? -1 : a.start < b.start ? -1 : a.start > b.start ? 1 : 0;
      });
    const v4: CountryRange[] = [];
    const seen16 = new Set<bigint>();
    for (const p of inCountry) {
      if (v4.length >= n.v4) break;
      if (p.family !== 4 || seen16.has(net16(p))) continue;
      seen16.add(net16(p));
      v4.push(p);
    }
    const v6 = inCountry.filter((p) => p.family === 6).slice(0, n.v6 ?? 0);
    if (v4.length < n.v4) shortfalls.push(`AS${n.asn} ${n.role}: ${v4.length} of ${n.v4} IPv4 ranges`);
    if (v6.length < (n.v6 ?? 0)) shortfalls.push(`AS${n.asn} ${n.role}: ${v6.length} of ${n.v6} IPv6 ranges`);
    for (const p of [...v4, ...v6]) keep(p);
  }

  const rows = [...kept.values()]
    .sort(
      (a, b) =>
        a.range.family - b.range.family || (a.range.start < b.range.start ? -1 : a.range.start > b.range.start ? 1 : 0),
    )
    .map(({ range, asn, org }) =>
      [fromBig(range.family, range.start), fromBig(range.family, range.end), asn, range.country, org].join('\t'),
    );
  return { rows, shortfalls };
}
