/**
 * The scenario's address plan, and who owns each pool. The plan reproduces the structure of real logon sources
 * (the same IP, the same /24, the same /16, how many users share a place) while keeping every *attacker* address
 * in ranges that belong to no one:
 *
 * - corporate egress (office NAT, VPN) sits in the documentation ranges TEST-NET-1 and TEST-NET-2;
 * - attackers use TEST-NET-3 and the two benchmarking /16s (RFC 2544): "hosting-like" space that no
 *   legitimate user in the scenario ever uses, and that labels no real network as malicious;
 * - mobile carriers' CGNAT egress uses the shared address space 100.64.0.0/10 (RFC 6598, literally the
 *   carrier-NAT range), several /16 pools per carrier;
 * - home broadband, hotels and foreign networks use arbitrary public-looking /16s (legitimate roles only);
 * - IPv6 home users use the documentation prefix 3fff::/20 (RFC 9637), one /32 per ISP;
 * - internal sources (bastions, service hosts, workstation VLANs) are in 10.0.0.0/8;
 * - internet brute-force noise comes from random public IPv4 outside every range above.
 *
 * Owners. Every pool has an owner (AS number, organisation, country), so the evaluation can measure what owner-
 * and country-aware detection changes (network-data.ts turns them into the scenario's network data). The owners
 * are SYNTHETIC, like most of the ranges: documentation AS numbers (RFC 5398: 64496–64511, 65536–65551) for the
 * organisation's world (its office and VPN, the attackers' hosting, the home ISPs and carriers of its people) and
 * private-use ones (RFC 6996: 4200000000 and up) for networks abroad, all named `EXAMPLE-…`. Real AS numbers would
 * need their real ranges, and moving the pools there would change every event of the published figures; so the
 * pools stay where they were and the public /16s among them (home ISPs, travel) are labelled with owners that are
 * not their real ones. The organisation lives in the Netherlands, with people across the borders in Germany and
 * Belgium: its office, VPN, home ISPs and carriers are in NL, DE and BE (`HOME_COUNTRIES`), and every travel
 * network is in another country. (The office-hours shape's people in New York and Singapore draw their home
 * addresses from the same pools, so the data places them at home in Europe: a simplification that keeps every
 * shape's events as they were.)
 */
import type { NetworkOwner } from '../../shared/core/model';
import type { Rng } from './random';

/** Who announces a pool's addresses in the scenario's network data (synthetic: see the module comment). */
export type PoolOwner = Required<NetworkOwner>;

/** Office NAT egress (TEST-NET-1): most office workers on weekdays, a couple of addresses in one /24. */
export const OFFICE_NAT = ['192.0.2.10', '192.0.2.11'] as const;
/** The office's provider, owner of the office NAT's /24. */
export const OFFICE_OWNER: PoolOwner = { asn: 64496, org: 'EXAMPLE-CORP-OFFICE', country: 'NL' };

/** Remote-access VPN egress pool (TEST-NET-2): a few addresses in one /24, shared by many. */
export const VPN_POOL = ['198.51.100.20', '198.51.100.21', '198.51.100.22', '198.51.100.23', '198.51.100.24'] as const;
/** The organisation's VPN provider, owner of the VPN pool's /24. */
export const VPN_OWNER: PoolOwner = { asn: 64497, org: 'EXAMPLE-CORP-VPN', country: 'NL' };

/** Bastion hosts admins jump through; servers see the bastion's internal address. */
export const BASTIONS = [
  { host: 'bastion-01', ip: '10.0.0.5' },
  { host: 'bastion-02', ip: '10.0.0.6' },
] as const;

/** Service accounts run on fixed hosts in this /24 (first three octets). */
export const SERVICE_SUBNET = '10.20.0';

/** Workstation VLANs 10.50.0.0–10.59.255.255: never a source of SSH logons, so a foothold for lateral movement. */
export const WORKSTATION_VLAN_FIRST = 50;
export const WORKSTATION_VLAN_LAST = 59;

/** The internal network: private space (RFC 1918), which no network data gives an owner. */
export const INTERNAL_NET8 = '10';

/**
 * Mobile carriers: each has a handful of /16 CGNAT pools (first two octets) inside 100.64.0.0/10, all announced by
 * the carrier's one AS: a phone moving between pools changes its /16 but not its owner.
 */
export const CARRIERS: readonly {
  readonly name: string;
  readonly pools: readonly string[];
  readonly owner: PoolOwner;
}[] = [
  {
    name: 'carrier-a',
    pools: ['100.64', '100.65', '100.66'],
    owner: { asn: 64500, org: 'EXAMPLE-MOBILE-NL-A', country: 'NL' },
  },
  {
    name: 'carrier-b',
    pools: ['100.72', '100.73', '100.74', '100.75'],
    owner: { asn: 64501, org: 'EXAMPLE-MOBILE-NL-B', country: 'NL' },
  },
  { name: 'carrier-c', pools: ['100.88', '100.89'], owner: { asn: 64502, org: 'EXAMPLE-MOBILE-DE', country: 'DE' } },
  {
    name: 'carrier-d',
    pools: ['100.100', '100.101', '100.102'],
    owner: { asn: 64503, org: 'EXAMPLE-MOBILE-NL-C', country: 'NL' },
  },
];

/** Home broadband ISPs (IPv4): two /16s each under the ISP's AS; a subscriber's DHCP lease moves inside one /24. */
export const HOME_ISPS: readonly {
  readonly name: string;
  readonly nets: readonly string[];
  readonly owner: PoolOwner;
}[] = [
  { name: 'isp-a', nets: ['81.2', '81.3'], owner: { asn: 65539, org: 'EXAMPLE-ISP-NL-A', country: 'NL' } },
  { name: 'isp-b', nets: ['86.14', '86.15'], owner: { asn: 65540, org: 'EXAMPLE-ISP-NL-B', country: 'NL' } },
  { name: 'isp-c', nets: ['90.201', '90.202'], owner: { asn: 65541, org: 'EXAMPLE-ISP-DE-A', country: 'DE' } },
  { name: 'isp-d', nets: ['109.150', '109.151'], owner: { asn: 65542, org: 'EXAMPLE-ISP-NL-C', country: 'NL' } },
  { name: 'isp-e', nets: ['82.64', '82.65'], owner: { asn: 65543, org: 'EXAMPLE-ISP-BE', country: 'BE' } },
  { name: 'isp-f', nets: ['77.99', '77.100'], owner: { asn: 65544, org: 'EXAMPLE-ISP-DE-B', country: 'DE' } },
  { name: 'isp-g', nets: ['94.173', '94.174'], owner: { asn: 65545, org: 'EXAMPLE-ISP-NL-D', country: 'NL' } },
  { name: 'isp-h', nets: ['31.48', '31.49'], owner: { asn: 65546, org: 'EXAMPLE-ISP-DE-C', country: 'DE' } },
];

/**
 * IPv6 home ISPs: one /32 (`prefix`, two groups) each inside 3fff::/20; a subscriber keeps a /48 (delegated /56)
 * and rotates privacy addresses daily. Owners as in the test extract test/fixtures/network-data/ip2asn-combined.tsv.
 */
export const IPV6_ISPS: readonly { readonly prefix: string; readonly owner: PoolOwner }[] = [
  { prefix: '3fff:100', owner: { asn: 65536, org: 'EXAMPLE-ISP-V6-A', country: 'NL' } },
  { prefix: '3fff:240', owner: { asn: 65537, org: 'EXAMPLE-ISP-V6-B', country: 'NL' } },
  { prefix: '3fff:a10', owner: { asn: 65538, org: 'EXAMPLE-ISP-V6-C', country: 'DE' } },
];

/** Where the organisation's people live and work: every country of the pools above, and of no travel network. */
export const HOME_COUNTRIES: readonly string[] = ['NL', 'DE', 'BE'];

/** Hotels, conference venues, foreign ISPs: travellers' networks, one /16 (`net`) each, all abroad. */
export const TRAVEL_NETS: readonly { readonly net: string; readonly owner: PoolOwner }[] = [
  { net: '85.114', owner: { asn: 4200000001, org: 'EXAMPLE-HOTEL-WIFI-GB', country: 'GB' } },
  { net: '37.120', owner: { asn: 4200000002, org: 'EXAMPLE-ISP-FR', country: 'FR' } },
  { net: '151.64', owner: { asn: 4200000003, org: 'EXAMPLE-ISP-IT', country: 'IT' } },
  { net: '88.202', owner: { asn: 4200000004, org: 'EXAMPLE-CONGRESS-ES', country: 'ES' } },
  { net: '201.17', owner: { asn: 4200000005, org: 'EXAMPLE-ISP-MX', country: 'MX' } },
  { net: '133.106', owner: { asn: 4200000006, org: 'EXAMPLE-HOTEL-JP', country: 'JP' } },
  { net: '41.76', owner: { asn: 4200000007, org: 'EXAMPLE-ISP-ZA', country: 'ZA' } },
  { net: '177.33', owner: { asn: 4200000008, org: 'EXAMPLE-ISP-BR', country: 'BR' } },
  { net: '58.136', owner: { asn: 4200000009, org: 'EXAMPLE-HOTEL-CN', country: 'CN' } },
  { net: '122.162', owner: { asn: 4200000010, org: 'EXAMPLE-ISP-IN', country: 'IN' } },
  { net: '195.154', owner: { asn: 4200000011, org: 'EXAMPLE-HOTEL-WIFI-CH', country: 'CH' } },
  { net: '212.47', owner: { asn: 4200000012, org: 'EXAMPLE-ISP-PL', country: 'PL' } },
];

/** Attacker infrastructure: TEST-NET-3 (/24) at one hosting provider, the benchmarking /16s at another. */
export const ATTACKER_NETS24: readonly { readonly net: string; readonly owner: PoolOwner }[] = [
  { net: '203.0.113', owner: { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' } },
];
export const ATTACKER_NETS16: readonly { readonly net: string; readonly owner: PoolOwner }[] = [
  { net: '198.18', owner: { asn: 64511, org: 'EXAMPLE-HOSTING-BENCH', country: 'US' } },
  { net: '198.19', owner: { asn: 64511, org: 'EXAMPLE-HOSTING-BENCH', country: 'US' } },
];

/**
 * The owner of a home broadband address (IPv4 from `HOME_ISPS`, IPv6 from `IPV6_ISPS`), or undefined for any other
 * address: a subscriber's own connection, which no one else in the organisation shares (unlike the office NAT, the
 * VPN pool or a carrier's NAT), so it says where its user is.
 */
export function homeIspOwner(ip: string): PoolOwner | undefined {
  if (ip.includes(':')) return IPV6_ISPS.find((i) => ip.startsWith(`${i.prefix}:`))?.owner;
  const net16 = ip.split('.').slice(0, 2).join('.');
  return HOME_ISPS.find((i) => i.nets.includes(net16))?.owner;
}

function octet(rng: Rng, lo = 1, hi = 254): number {
  return rng.int(lo, hi);
}

/** A random address in a /16 given as `a.b`. */
export function ipIn16(rng: Rng, net16: string): string {
  return `${net16}.${rng.int(0, 255)}.${octet(rng)}`;
}

/** A random address in a /24 given as `a.b.c`. */
export function ipIn24(rng: Rng, net24: string): string {
  return `${net24}.${octet(rng)}`;
}

/** An attacker address: a third from TEST-NET-3, the rest from the benchmarking /16s. */
export function attackerIp(rng: Rng): string {
  return rng.chance(1 / 3) ? ipIn24(rng, rng.pick(ATTACKER_NETS24).net) : ipIn16(rng, rng.pick(ATTACKER_NETS16).net);
}

/** Random hex group of 1–4 digits for IPv6 interface identifiers. */
function hexGroup(rng: Rng): string {
  return rng.int(0, 0xffff).toString(16);
}

/** A privacy (temporary) IPv6 address in the subscriber's LAN /64 `prefix64` (four groups). */
export function ipv6PrivacyAddress(rng: Rng, prefix64: string): string {
  return `${prefix64}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}`;
}

const SCENARIO_16S = new Set<string>([
  ...HOME_ISPS.flatMap((i) => i.nets),
  ...TRAVEL_NETS.map((n) => n.net),
  ...ATTACKER_NETS16.map((n) => n.net),
]);

/** True if `a.b.c.x` is private, reserved, documentation, shared, multicast, or any range the scenario uses. */
function isExcludedForNoise(a: number, b: number, c: number): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return true;
  if (a === 100 && b >= 64 && b < 128) return true; // RFC 6598 shared space (our carriers)
  if (a === 169 && b === 254) return true;
  if (a === 172 && b >= 16 && b <= 31) return true;
  if (a === 192 && b === 168) return true;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return true;
  if (a === 198 && (b === 18 || b === 19)) return true;
  if (a === 198 && b === 51 && c === 100) return true;
  if (a === 203 && b === 0 && c === 113) return true;
  return SCENARIO_16S.has(`${a}.${b}`);
}

/** A random public IPv4 for internet brute-force noise, outside every range the scenario gives a meaning. */
export function randomPublicIp(rng: Rng): string {
  for (;;) {
    const a = rng.int(1, 223);
    const b = rng.int(0, 255);
    const c = rng.int(0, 255);
    if (!isExcludedForNoise(a, b, c)) return `${a}.${b}.${c}.${octet(rng)}`;
  }
}
