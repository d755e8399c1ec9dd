/**
 * The scenario's network data: the owners of network.ts's pools as rows of IPtoASN's file
 * (`range_start  range_end  AS_number  country_code  AS_description`, tab-separated), built by the same
 * builder the refresh function uses into the `NetworkDatabase` the evaluation passes as `DetectionDeps.network`.
 * The demo writes the same rows to examples/demo/network-data.tsv.
 *
 * Besides the pools, the rest of the public IPv4 space (where internet brute-force noise comes from) goes to a
 * few synthetic networks abroad, one per /8 in turn, so that every address the generator draws has an owner
 * unless it is private; only the public resolvers keep their real owners (`REAL_ROWS`), so that the sanity check
 * the refresh applies (shared/core/network-data/validate.ts) finds them where they are. Private and special-purpose space has none, as in the real data; the internal network
 * is written the way IPtoASN writes it (AS 0, "Not routed"), which the builder leaves out.
 *
 * Pure and deterministic: the rows depend on the pools only (no seed, no shape, no clock).
 */
import { buildNetworkData } from '../../shared/core/network-data/build';
import { NetworkDatabase } from '../../shared/core/network-data/lookup';
import {
  ATTACKER_NETS16,
  ATTACKER_NETS24,
  CARRIERS,
  HOME_ISPS,
  INTERNAL_NET8,
  IPV6_ISPS,
  OFFICE_NAT,
  OFFICE_OWNER,
  type PoolOwner,
  TRAVEL_NETS,
  VPN_OWNER,
  VPN_POOL,
} from './network';
import { DEFAULT_START } from './shapes';

/** The database header's source: says what the data is, wherever it is shown. */
export const SCENARIO_NETWORK_SOURCE =
  'authwatch scenario generator (synthetic owners and countries, cli/scenario/network.ts)';

/**
 * Networks abroad that the rest of the public IPv4 space is shared out to (private-use AS numbers, RFC 6996):
 * where the internet's password guessing comes from. Fictitious, like every owner of the scenario.
 */
const INTERNET_OWNERS: readonly PoolOwner[] = [
  { asn: 4200001001, org: 'EXAMPLE-CLOUD-US', country: 'US' },
  { asn: 4200001002, org: 'EXAMPLE-ISP-CN', country: 'CN' },
  { asn: 4200001003, org: 'EXAMPLE-HOSTING-RU', country: 'RU' },
  { asn: 4200001004, org: 'EXAMPLE-ISP-BR', country: 'BR' },
  { asn: 4200001005, org: 'EXAMPLE-TELECOM-IN', country: 'IN' },
  { asn: 4200001006, org: 'EXAMPLE-ISP-VN', country: 'VN' },
  { asn: 4200001007, org: 'EXAMPLE-HOSTING-SG', country: 'SG' },
  { asn: 4200001008, org: 'EXAMPLE-ISP-KR', country: 'KR' },
];

/**
 * Real owners of the public resolvers, as in the test extract test/fixtures/network-data/ip2asn-combined.tsv (NOTICE
 * gives the facts): IPv4 ranges as CIDRs, IPv6 rows as written.
 */
const REAL_V4: readonly { readonly cidr: string; readonly owner: PoolOwner }[] = [
  { cidr: '1.0.0.0/24', owner: { asn: 13335, org: 'CLOUDFLARENET', country: 'US' } },
  { cidr: '1.1.1.0/24', owner: { asn: 13335, org: 'CLOUDFLARENET', country: 'US' } },
  { cidr: '8.8.4.0/24', owner: { asn: 15169, org: 'GOOGLE', country: 'US' } },
  { cidr: '8.8.8.0/24', owner: { asn: 15169, org: 'GOOGLE', country: 'US' } },
];
const REAL_V6_ROWS: readonly string[] = [
  '2001:4860::\t2001:4860:ffff:ffff:ffff:ffff:ffff:ffff\t15169\tUS\tGOOGLE',
  '2606:4700::\t2606:4700:ffff:ffff:ffff:ffff:ffff:ffff\t13335\tUS\tCLOUDFLARENET',
];

/** An inclusive IPv4 range as unsigned 32-bit numbers. */
interface V4Range {
  readonly start: number;
  readonly end: number;
}

/** Special-purpose IPv4 ranges (RFC 6890) no owner is given: nothing in the scenario is drawn from their rest. */
const SPECIAL_V4: readonly string[] = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '224.0.0.0/3',
];

function v4ToNumber(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function numberToV4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function cidrRange(cidr: string): V4Range {
  const [ip, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = v4ToNumber(ip);
  return { start, end: start + size - 1 };
}

/** The range of a prefix given as its leading octets (`a.b` is a /16, `a.b.c` a /24). */
function prefixRange(octets: string): V4Range {
  const n = octets.split('.').length;
  return cidrRange(`${octets}${'.0'.repeat(4 - n)}/${n * 8}`);
}

/** The /24 an address is in, as its three leading octets. */
function net24Of(ip: string): string {
  return ip.split('.').slice(0, 3).join('.');
}

function v4Row(r: V4Range, owner: PoolOwner): string {
  return [numberToV4(r.start), numberToV4(r.end), owner.asn, owner.country, owner.org].join('\t');
}

/** The IPv4 pools with their owners, in network.ts's order, and the real rows. */
function ownedV4(): { range: V4Range; owner: PoolOwner }[] {
  const real = REAL_V4.map((r) => ({ range: cidrRange(r.cidr), owner: r.owner }));
  const pools: { prefix: string; owner: PoolOwner }[] = [
    ...[...new Set(OFFICE_NAT.map(net24Of))].map((prefix) => ({ prefix, owner: OFFICE_OWNER })),
    ...[...new Set(VPN_POOL.map(net24Of))].map((prefix) => ({ prefix, owner: VPN_OWNER })),
    ...CARRIERS.flatMap((c) => c.pools.map((prefix) => ({ prefix, owner: c.owner }))),
    ...HOME_ISPS.flatMap((i) => i.nets.map((prefix) => ({ prefix, owner: i.owner }))),
    ...TRAVEL_NETS.map((n) => ({ prefix: n.net, owner: n.owner })),
    ...ATTACKER_NETS24.map((n) => ({ prefix: n.net, owner: n.owner })),
    ...ATTACKER_NETS16.map((n) => ({ prefix: n.net, owner: n.owner })),
  ];
  return [...pools.map((p) => ({ range: prefixRange(p.prefix), owner: p.owner })), ...real];
}

/**
 * The public IPv4 space outside the pools and the special-purpose ranges, cut at /8 boundaries, each /8's pieces
 * going to `INTERNET_OWNERS[first octet mod their number]`.
 */
function internetRows(taken: readonly V4Range[]): string[] {
  const holes = [...taken, ...SPECIAL_V4.map(cidrRange)].sort((a, b) => a.start - b.start);
  const rows: string[] = [];
  for (let a = 1; a < 224; a++) {
    const block = cidrRange(`${a}.0.0.0/8`);
    const owner = INTERNET_OWNERS[a % INTERNET_OWNERS.length]!;
    let next = block.start;
    for (const h of holes) {
      if (h.end < next || h.start > block.end) continue;
      if (h.start > next) rows.push(v4Row({ start: next, end: h.start - 1 }, owner));
      next = Math.max(next, h.end + 1);
    }
    if (next <= block.end) rows.push(v4Row({ start: next, end: block.end }, owner));
  }
  return rows;
}

/** The scenario's network data as IPtoASN rows (no header: the format has none), sorted by family then address. */
export function scenarioNetworkRows(): string[] {
  const owned = ownedV4();
  const internal = cidrRange(`${INTERNAL_NET8}.0.0.0/8`);
  const v4 = [
    ...owned.map((o) => ({ start: o.range.start, row: v4Row(o.range, o.owner) })),
    {
      start: internal.start,
      row: [numberToV4(internal.start), numberToV4(internal.end), 0, 'None', 'Not routed'].join('\t'),
    },
    ...internetRows(owned.map((o) => o.range)).map((row) => ({ start: v4ToNumber(row.split('\t')[0]!), row })),
  ].sort((a, b) => a.start - b.start);
  const v6 = IPV6_ISPS.map((i) =>
    [`${i.prefix}::`, `${i.prefix}:ffff:ffff:ffff:ffff:ffff:ffff`, i.owner.asn, i.owner.country, i.owner.org].join(
      '\t',
    ),
  );
  return [...v4.map((r) => r.row), ...REAL_V6_ROWS, ...v6];
}

let cached: NetworkDatabase | undefined;

/**
 * The scenario's network data, built in memory once per process. Its build time is the scenarios' default start,
 * so the header is the same on every run (nothing judges this data's age).
 */
export function scenarioNetworkData(): NetworkDatabase {
  cached ??= NetworkDatabase.fromBytes(
    buildNetworkData(scenarioNetworkRows(), { builtAt: DEFAULT_START, source: SCENARIO_NETWORK_SOURCE }).bytes,
  );
  return cached;
}
