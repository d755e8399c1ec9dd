/**
 * The scenario's address plan, and who owns each pool. The plan reproduces the structure of real logon sources
 * (the same IP, the same /24, the same /16, how many users share a place) inside REAL networks: every pool is a
 * range of the checked-in extract cli/scenario/network-extract.tsv (real ranges of the autonomous systems that
 * cli/scenario/real-networks.ts lists per role, built by `npm run scenario:network-extract`; NOTICE gives the
 * sources and their licences), and every owner is that range's real AS number, organisation and country:
 *
 * - corporate egress: the office NAT is two addresses in one /24 of the office's provider, the remote-access VPN
 *   a few addresses in one /24 of the VPN provider;
 * - mobile carriers' CGNAT egress: several pools per carrier, each inside one /16 of one of its ranges, all under
 *   the carrier's one AS;
 * - home broadband: two pools per ISP, each inside one /16 (a subscriber's DHCP lease moves inside one /24);
 *   IPv6 home users get a /48 inside their ISP's first /32;
 * - travel: one pool (inside one /16) of a consumer ISP abroad per country;
 * - attackers: pools of hosting and cloud providers (shared/core/network-data/hosting.ts lists every one), which
 *   no legitimate user in the scenario ever uses;
 * - internal sources (bastions, service hosts, workstation VLANs) are in 10.0.0.0/8, which no data gives an owner;
 * - internet brute-force noise comes from large access and cloud networks of their own, in Asia and Eastern Europe.
 *
 * The organisation lives in the Netherlands, with people across the borders in Germany and Belgium: its office,
 * VPN, home ISPs and carriers are in NL, DE and BE (`HOME_COUNTRIES`), and every travel network is in another
 * country. (The office-hours shape's people in New York and Singapore draw their home addresses from the same
 * pools, so the data places them at home in Europe: a simplification that keeps the shapes' structure.)
 *
 * Addresses are drawn by the caller's seeded `Rng`, so a scenario is the same on every run for its seed; the
 * extract is read once, when this module loads.
 */
import { readFileSync } from 'node:fs';
import type { NetworkOwner } from '../../shared/core/model';
import { parseIp } from '../../shared/core/net';
import { parseIp2AsnLine } from '../../shared/core/network-data/build';
import { SCENARIO_EXTRACT_PATH } from '../paths';
import type { Rng } from './random';
import { type NetworkRole, REAL_NETWORKS } from './real-networks';

/** Who announces a pool's addresses: its real AS number, organisation and country (from the extract). */
export type PoolOwner = Required<NetworkOwner>;

/** An IPv4 pool: an inclusive range (as unsigned 32-bit numbers) inside one /16, and its owner. */
export interface V4Pool {
  readonly start: number;
  readonly end: number;
  readonly owner: PoolOwner;
}

/** An extract row, as the network-data builder reads it. */
type ExtractRow = Exclude<ReturnType<typeof parseIp2AsnLine>, string | undefined>;

function readExtract(path: string): string[] {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
  } catch (e) {
    throw new Error(`the scenario's network extract ${path} is missing (npm run scenario:network-extract): ${e}`);
  }
}

/** The extract's lines, as written (IPtoASN rows): the scenario's network data (network-data.ts) is built from them. */
export const EXTRACT_LINES: readonly string[] = readExtract(SCENARIO_EXTRACT_PATH);

const EXTRACT_ROWS: readonly ExtractRow[] = EXTRACT_LINES.map((line, i) => {
  const row = parseIp2AsnLine(line);
  if (row === undefined || typeof row === 'string')
    throw new Error(`${SCENARIO_EXTRACT_PATH}:${i + 1}: ${row ?? 'blank line'}`);
  return row;
});

const V16 = 0x10000;

/** The IPv4 rows of the extract for each network of `role`, in the curated list's order, as pools. */
function poolsOf(role: NetworkRole): { readonly asn: number; readonly pools: V4Pool[] }[] {
  return REAL_NETWORKS.filter((n) => n.role === role).map((n) => {
    const pools = EXTRACT_ROWS.flatMap((r) =>
      r.kind === 'v4' && r.asn === n.asn && (n.country === undefined || r.country === n.country)
        ? [
            {
              start: r.start,
              // The first /16 of the range (or all of it, if smaller): a pool is one network to the detector.
              end: Math.min(r.end, r.start - (r.start % V16) + V16 - 1),
              owner: { asn: r.asn, org: r.org, country: r.country },
            },
          ]
        : [],
    );
    if (pools.length === 0)
      throw new Error(
        `the network extract has no IPv4 range of AS${n.asn} (${role}): npm run scenario:network-extract`,
      );
    // Addresses are drawn a /24 at a time (ipInPool): a pool is whole /24s.
    for (const p of pools)
      if (p.start % 256 !== 0 || (p.end + 1) % 256 !== 0)
        throw new Error(`the network extract's range of AS${n.asn} at ${v4Text(p.start)} is not whole /24s`);
    return { asn: n.asn, pools };
  });
}

function v4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** `count` addresses from host `.first` on, in the first whole /24 of `pool`. */
function addressesIn24(pool: V4Pool, first: number, count: number): string[] {
  const base = Math.ceil(pool.start / 256) * 256;
  if (base + 255 > pool.end) throw new Error(`no whole /24 in the pool of AS${pool.owner.asn}`);
  return Array.from({ length: count }, (_, i) => v4Text(base + first + i));
}

const officePool = poolsOf('office')[0]!.pools[0]!;
const vpnPool = poolsOf('vpn')[0]!.pools[0]!;

/** Office NAT egress: most office workers on weekdays, a couple of addresses in one /24. */
export const OFFICE_NAT: readonly string[] = addressesIn24(officePool, 10, 2);
/** The office's provider, owner of the office NAT's /24. */
export const OFFICE_OWNER: PoolOwner = officePool.owner;

/** Remote-access VPN egress pool: a few addresses in one /24, shared by many. */
export const VPN_POOL: readonly string[] = addressesIn24(vpnPool, 20, 5);
/** The organisation's VPN provider, owner of the VPN pool's /24. */
export const VPN_OWNER: PoolOwner = vpnPool.owner;

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
 * Mobile carriers: each has a handful of CGNAT pools, each inside a /16 of its own, all announced by the
 * carrier's one AS: a phone moving between pools changes its /16 but not its owner.
 */
export const CARRIERS: readonly { readonly pools: readonly V4Pool[]; readonly owner: PoolOwner }[] = poolsOf(
  'carrier',
).map((c) => ({ pools: c.pools, owner: c.pools[0]!.owner }));

/** Home broadband ISPs (IPv4): two pools each under the ISP's AS; a subscriber's DHCP lease moves inside one /24. */
export const HOME_ISPS: readonly { readonly pools: readonly V4Pool[]; readonly owner: PoolOwner }[] = poolsOf(
  'home',
).map((i) => ({ pools: i.pools, owner: i.pools[0]!.owner }));

const V6_32 = 1n << 96n;

/**
 * IPv6 home ISPs: the first /32 (`prefix`, two groups) of each ISP's range; a subscriber keeps a /48 (delegated
 * /56) in it and rotates privacy addresses daily.
 */
export const IPV6_ISPS: readonly { readonly prefix: string; readonly owner: PoolOwner }[] = REAL_NETWORKS.filter(
  (n) => n.role === 'home-v6',
).map((n) => {
  const r = EXTRACT_ROWS.find((x) => x.kind === 'v6' && x.asn === n.asn && x.country === n.country);
  if (r?.kind !== 'v6' || r.start % V6_32 !== 0n || r.end - r.start + 1n < V6_32)
    throw new Error(`the network extract has no whole IPv6 /32 of AS${n.asn}: npm run scenario:network-extract`);
  const top = r.start >> 96n;
  return {
    prefix: `${(top >> 16n).toString(16)}:${(top & 0xffffn).toString(16)}`,
    owner: { asn: r.asn, org: r.org, country: r.country },
  };
});

/** Where the organisation's people live and work: every country of the pools above, and of no travel network. */
export const HOME_COUNTRIES: readonly string[] = ['NL', 'DE', 'BE'];

/** Foreign consumer ISPs (hotels, conference venues, travellers' networks): one pool each, all abroad. */
export const TRAVEL_NETS: readonly { readonly pool: V4Pool; readonly owner: PoolOwner }[] = poolsOf('travel').map(
  (t) => ({ pool: t.pools[0]!, owner: t.pools[0]!.owner }),
);

/** Attacker infrastructure: the pools of the hosting and cloud providers, per provider. */
export const ATTACKER_NETS: readonly { readonly pools: readonly V4Pool[]; readonly owner: PoolOwner }[] = poolsOf(
  'attacker',
).map((a) => ({ pools: a.pools, owner: a.pools[0]!.owner }));

/** Where the internet's password guessing comes from: whole ranges of large access and cloud networks. */
const INTERNET_RANGES: readonly V4Pool[] = EXTRACT_ROWS.flatMap((r) =>
  r.kind === 'v4' && REAL_NETWORKS.some((n) => n.role === 'internet' && n.asn === r.asn)
    ? [{ start: r.start, end: r.end, owner: { asn: r.asn, org: r.org, country: r.country } }]
    : [],
);

/** Whether `ip` (IPv4) is in `pool`. */
export function inPool(pool: V4Pool, ip: string): boolean {
  const p = parseIp(ip);
  if (p?.family !== 4) return false;
  const n = ((p.bytes[0]! << 24) | (p.bytes[1]! << 16) | (p.bytes[2]! << 8) | p.bytes[3]!) >>> 0;
  return n >= pool.start && n <= pool.end;
}

/**
 * The owner of a home broadband address (IPv4 from `HOME_ISPS`, IPv6 from `IPV6_ISPS`), or undefined for any other
 * address: a subscriber's own connection, which no one else in the organisation shares (unlike the office NAT, the
 * VPN pool or a carrier's NAT), so it says where its user is.
 */
export function homeIspOwner(ip: string): PoolOwner | undefined {
  const p = parseIp(ip);
  if (p?.family === 6) {
    const groups = `${((p.bytes[0]! << 8) | p.bytes[1]!).toString(16)}:${((p.bytes[2]! << 8) | p.bytes[3]!).toString(16)}`;
    return IPV6_ISPS.find((i) => i.prefix === groups)?.owner;
  }
  return HOME_ISPS.find((i) => i.pools.some((pool) => inPool(pool, ip)))?.owner;
}

/** A random /24 of `pool`, as its first address (a multiple of 256). */
export function net24In(rng: Rng, pool: V4Pool): number {
  return rng.int(Math.floor(pool.start / 256), Math.floor(pool.end / 256)) * 256;
}

/** A random address of `pool`: a random /24 of it, host 1–254. */
export function ipInPool(rng: Rng, pool: V4Pool): string {
  return v4Text(net24In(rng, pool) + rng.int(1, 254));
}

/** The address of host `host` in the /24 starting at `net24` (from `net24In`). */
export function hostIn24(net24: number, host: number): string {
  return v4Text(net24 + host);
}

/** The /24s of an attacker's pools, in order, as their first addresses. */
const ATTACKER_24S: readonly (readonly number[])[] = ATTACKER_NETS.map((n) =>
  n.pools.flatMap((p) => Array.from({ length: (p.end + 1 - p.start) / 256 }, (_, i) => p.start + i * 256)),
);

/**
 * An attacker address: a hosting or cloud provider, then an address in one of its pools' /24s (host 1–254).
 * It takes as many random draws as the generator's attackers took before the addresses moved into real networks
 * (a third of the time one address draw, else a /24 draw and a host draw), so every attack after it (victim, time,
 * hosts) is the one the same seed always gave, and only the attackers' addresses changed.
 */
export function attackerIp(rng: Rng): string {
  const one = rng.chance(1 / 3);
  const nets = ATTACKER_24S[rng.int(0, ATTACKER_24S.length - 1)]!;
  if (one) {
    const k = rng.int(0, nets.length * 254 - 1);
    return v4Text(nets[Math.floor(k / 254)]! + (k % 254) + 1);
  }
  return v4Text(nets[rng.int(0, nets.length - 1)]! + rng.int(1, 254));
}

/** Random hex group of 1–4 digits for IPv6 interface identifiers. */
function hexGroup(rng: Rng): string {
  return rng.int(0, 0xffff).toString(16);
}

/** A privacy (temporary) IPv6 address in the subscriber's LAN /64 `prefix64` (four groups). */
export function ipv6PrivacyAddress(rng: Rng, prefix64: string): string {
  return `${prefix64}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}`;
}

/** A random address of the internet's password guessers, for internet brute-force noise. */
export function noiseIp(rng: Rng): string {
  return ipInPool(rng, rng.pick(INTERNET_RANGES));
}
