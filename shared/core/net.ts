/**
 * IP addresses: parse, canonicalise, take prefixes, match CIDRs. Pure and dependency-free so the core
 * runs the same in Lambda, the CLI and tests.
 *
 * Canonical forms: IPv4 dotted decimal; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) becomes plain IPv4;
 * other IPv6 in RFC 5952 form (lower case, longest zero run compressed). The same address written two
 * ways must be one place in a baseline.
 */
import type { PlaceLevel } from './model';

export type IpFamily = 4 | 6;

export interface ParsedIp {
  readonly family: IpFamily;
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  readonly bytes: Uint8Array;
}

const IPV4_OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseIpv4Bytes(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!IPV4_OCTET.test(p)) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6Bytes(input: string): Uint8Array | undefined {
  let s = input;
  if (s.length > 64 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  let tail: Uint8Array | undefined;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.', lastColon) !== -1) {
    tail = parseIpv4Bytes(s.slice(lastColon + 1));
    if (!tail) return undefined;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const nums: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      nums.push(parseInt(g, 16));
    }
    return nums;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return undefined;
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  if (tail) out.set(tail, 12);
  return out;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** Parse an address as written in logs: optional brackets, optional IPv6 zone (`%eth0`), IPv4-mapped IPv6 unwrapped. */
export function parseIp(raw: string): ParsedIp | undefined {
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1) s = s.slice(0, zone);
  if (s.length === 0) return undefined;
  if (s.includes(':')) {
    const b = parseIpv6Bytes(s);
    if (!b) return undefined;
    if (isV4Mapped(b)) return { family: 4, bytes: b.slice(12) };
    return { family: 6, bytes: b };
  }
  const b4 = parseIpv4Bytes(s);
  return b4 ? { family: 4, bytes: b4 } : undefined;
}

function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the first if tied.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

export function formatIp(ip: ParsedIp): string {
  return ip.family === 4 ? Array.from(ip.bytes).join('.') : formatIpv6(ip.bytes);
}

/** Canonical text form of an address, or undefined if `raw` is not an IP address. */
export function canonicalIp(raw: string): string | undefined {
  const p = parseIp(raw);
  return p ? formatIp(p) : undefined;
}

/** Loopback or unspecified: not a remote source (Windows logs `-`, `::1`, `127.0.0.1` for local logons). */
export function isLocalSource(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return true;
  if (p.family === 4) return p.bytes[0] === 127 || p.bytes.every((x) => x === 0);
  const allZeroButLast = p.bytes.slice(0, 15).every((x) => x === 0);
  return allZeroButLast && (p.bytes[15] === 1 || p.bytes[15] === 0);
}

/**
 * Prefix lengths per place level. /24 and /48 are the usual customer allocations (a home or office
 * DHCP pool); /16 and /32 approximate an ISP's or mobile carrier's pool, so a carrier-NAT user who
 * changes address constantly still rarely changes network.
 */
export const PREFIX_BITS: Record<Exclude<PlaceLevel, 'ip'>, Record<IpFamily, number>> = {
  prefix: { 4: 24, 6: 48 },
  network: { 4: 16, 6: 32 },
};

function maskBytes(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = keep === 0 ? 0 : bytes[i]! & (0xff << (8 - keep));
  }
  return out;
}

/** `10.1.2.0/24`-style key of the place containing `ip` at `level`; the canonical IP itself for level `ip`. */
export function placeOf(ip: string, level: PlaceLevel): string {
  const p = parseIp(ip);
  if (!p) return ip;
  if (level === 'ip') return formatIp(p);
  const bits = PREFIX_BITS[level][p.family];
  return `${formatIp({ family: p.family, bytes: maskBytes(p.bytes, bits) })}/${bits}`;
}

/**
 * IPv6 interface identifiers change daily under privacy addressing (RFC 8981), while the /64 stays one
 * device's (or one household's) link: for "how many users share this egress", an IPv6 source is its /64.
 */
export const IPV6_HOST_BITS = 64;

/**
 * Key of a source address in the population's shared-egress sketch: the canonical IPv4 address, or the
 * IPv6 address's /64 (`2001:db8:1:2::/64`), so that privacy addresses neither look like new places to
 * the organisation nor flood the sketch. `ip` itself if it is not an address.
 */
export function sharedAddressKey(ip: string): string {
  const p = parseIp(ip);
  if (!p) return ip;
  if (p.family === 4) return formatIp(p);
  return `${formatIp({ family: 6, bytes: maskBytes(p.bytes, IPV6_HOST_BITS) })}/${IPV6_HOST_BITS}`;
}

export interface Cidr {
  readonly family: IpFamily;
  readonly bits: number;
  readonly network: Uint8Array;
  readonly text: string;
}

/** Parse `a.b.c.d/n` or `x::/n` (a bare address means a single host). Undefined if invalid. */
export function parseCidr(raw: string): Cidr | undefined {
  const [addr, len, extra] = raw.trim().split('/');
  if (extra !== undefined || addr === undefined) return undefined;
  const p = parseIp(addr);
  if (!p) return undefined;
  const max = p.family === 4 ? 32 : 128;
  // An IPv4-mapped IPv6 CIDR like ::ffff:10.0.0.0/104 is unwrapped with its length.
  const mappedOffset = p.family === 4 && addr.includes(':') ? 96 : 0;
  let bits = max;
  if (len !== undefined) {
    if (!/^\d{1,3}$/.test(len)) return undefined;
    bits = Number(len) - mappedOffset;
    if (bits < 0 || bits > max) return undefined;
  }
  const network = maskBytes(p.bytes, bits);
  return { family: p.family, bits, network, text: `${formatIp({ family: p.family, bytes: network })}/${bits}` };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const p = parseIp(ip);
  if (!p || p.family !== cidr.family) return false;
  const masked = maskBytes(p.bytes, cidr.bits);
  for (let i = 0; i < masked.length; i++) if (masked[i] !== cidr.network[i]) return false;
  return true;
}

/** `203.0.113.9/32`, `2001:db8::1/128`: one address as a range, for `allow cidr`. */
export function hostCidr(ip: string): string {
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}
