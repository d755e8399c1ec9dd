/**
 * The scenario's address plan. Detectors reason about structure only (the same IP, the same /24, the same
 * /16, how many users share a place), never about who owns a block, so the plan reproduces the structure
 * of real logon sources while keeping every *attacker* address in ranges that belong to no one:
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
 */
import type { Rng } from './random';

/** Office NAT egress (TEST-NET-1): most office workers on weekdays, a couple of addresses in one /24. */
export const OFFICE_NAT = ['192.0.2.10', '192.0.2.11'] as const;

/** Remote-access VPN egress pool (TEST-NET-2): a few addresses in one /24, shared by many. */
export const VPN_POOL = ['198.51.100.20', '198.51.100.21', '198.51.100.22', '198.51.100.23', '198.51.100.24'] as const;

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

/** Mobile carriers: each has a handful of /16 CGNAT pools (first two octets) inside 100.64.0.0/10. */
export const CARRIERS: readonly { readonly name: string; readonly pools: readonly string[] }[] = [
  { name: 'carrier-a', pools: ['100.64', '100.65', '100.66'] },
  { name: 'carrier-b', pools: ['100.72', '100.73', '100.74', '100.75'] },
  { name: 'carrier-c', pools: ['100.88', '100.89'] },
  { name: 'carrier-d', pools: ['100.100', '100.101', '100.102'] },
];

/** Home broadband ISPs (IPv4): two /16s each; a subscriber's DHCP lease moves inside one /24. */
export const HOME_ISPS: readonly { readonly name: string; readonly nets: readonly string[] }[] = [
  { name: 'isp-a', nets: ['81.2', '81.3'] },
  { name: 'isp-b', nets: ['86.14', '86.15'] },
  { name: 'isp-c', nets: ['90.201', '90.202'] },
  { name: 'isp-d', nets: ['109.150', '109.151'] },
  { name: 'isp-e', nets: ['82.64', '82.65'] },
  { name: 'isp-f', nets: ['77.99', '77.100'] },
  { name: 'isp-g', nets: ['94.173', '94.174'] },
  { name: 'isp-h', nets: ['31.48', '31.49'] },
];

/** IPv6 home ISPs: one /32 each inside 3fff::/20; a subscriber keeps a /48 (delegated /56) and rotates privacy addresses daily. */
export const IPV6_ISPS = ['3fff:100', '3fff:240', '3fff:a10'] as const;

/** Hotels, conference venues, foreign ISPs: travellers' networks. */
export const TRAVEL_NETS = [
  '85.114',
  '37.120',
  '151.64',
  '88.202',
  '201.17',
  '133.106',
  '41.76',
  '177.33',
  '58.136',
  '122.162',
  '195.154',
  '212.47',
] as const;

/** Attacker infrastructure: TEST-NET-3 (/24) and the benchmarking /16s. */
export const ATTACKER_NETS24 = ['203.0.113'] as const;
export const ATTACKER_NETS16 = ['198.18', '198.19'] as const;

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
  return rng.chance(1 / 3) ? ipIn24(rng, rng.pick(ATTACKER_NETS24)) : ipIn16(rng, rng.pick(ATTACKER_NETS16));
}

/** Random hex group of 1–4 digits for IPv6 interface identifiers. */
function hexGroup(rng: Rng): string {
  return rng.int(0, 0xffff).toString(16);
}

/** A privacy (temporary) IPv6 address in the subscriber's LAN /64 `prefix64` (four groups). */
export function ipv6PrivacyAddress(rng: Rng, prefix64: string): string {
  return `${prefix64}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}:${hexGroup(rng)}`;
}

const SCENARIO_16S = new Set<string>([...HOME_ISPS.flatMap((i) => i.nets), ...TRAVEL_NETS, ...ATTACKER_NETS16]);

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
