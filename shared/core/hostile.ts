/**
 * Sources an analyst marked malicious (`authwatch malicious`, `Feedback.hostile`): what a mark may be, and the
 * marks compiled once per run into a matcher the hostile-source detector asks for each successful logon.
 *
 * A mark is the opposite of an allowlist entry and the same kind of thing: a source (an address, a range, an AS)
 * and who said so, when. So a range is checked by the allowlist's CIDR rule (allow-rules.ts: a CIDR at all, never
 * every address) and then by a stricter length: an allowed range silences only the organisation's own logons,
 * a hostile range alerts on everyone's, so a range wide enough to hold colleagues' ISPs would alert on them all.
 */
import { allowCidrProblem } from './allow-rules';
import type { HostileEntry, NetworkOwner } from './model';
import { canonicalIp, cidrContains, parseCidr, type Cidr, type IpFamily } from './net';

/**
 * The shortest prefix a range marked malicious may have: IPv4 /16 (at most 65,536 addresses, one provider's block;
 * a /8 would hold the office's own ISP), IPv6 /32 (one ISP's allocation). `--subnet` marks a /24 (/48).
 */
export const MIN_HOSTILE_PREFIX: Readonly<Record<IpFamily, number>> = { 4: 16, 6: 32 };

/** What `--subnet` marks: the address's /24 (IPv4) or /48 (IPv6), the subnet the detectors count in. */
export const HOSTILE_SUBNET_PREFIX: Readonly<Record<IpFamily, number>> = { 4: 24, 6: 48 };

/** Why a range may not be marked malicious, or undefined if it may (the allowlist's rule first, then /16, /32). */
export function hostileCidrProblem(raw: string, c: Cidr | undefined = parseCidr(raw)): string | undefined {
  const problem = allowCidrProblem(raw, c);
  if (problem !== undefined) return problem;
  const min = MIN_HOSTILE_PREFIX[c!.family];
  if (c!.bits < min)
    return `${c!.text} is too broad to mark malicious: shorter than /${min} it holds other organisations' addresses, your own users' ISPs among them; mark the address, its subnet, or its network owner (--owner)`;
  return undefined;
}

/** The mark a logon meets, if any: the most specific one (an address, then the longest range, then the AS). */
export interface HostileMatcher {
  /** Marks compiled (those that could be read). */
  readonly size: number;
  /**
   * The mark that covers this address (owned by `owner`, when the network data knows it) and was made at or before
   * `at` (epoch ms): a mark judges only logons after the analyst's word, never the logon that was judged.
   */
  match(ip: string, owner: NetworkOwner | undefined, at: number): HostileEntry | undefined;
}

/** The earlier of two marks (the first word on a source is the one its alerts name). */
function earlier(a: HostileEntry | undefined, b: HostileEntry): HostileEntry {
  return a === undefined || b.addedAt < a.addedAt ? b : a;
}

/**
 * The feedback's marks as one matcher, compiled once per run. A mark that cannot be read (a hand-edited item: an
 * address that does not parse, a range wider than `MIN_HOSTILE_PREFIX`, an AS that is not a number) is skipped,
 * never matched: no edit of the item can make a mark alert on everyone.
 */
export function compileHostile(entries: readonly HostileEntry[] | undefined): HostileMatcher {
  const ips = new Map<string, HostileEntry[]>();
  const cidrs: { cidr: Cidr; entry: HostileEntry }[] = [];
  const asns = new Map<number, HostileEntry[]>();
  const add = <K>(m: Map<K, HostileEntry[]>, k: K, e: HostileEntry) => {
    const list = m.get(k);
    if (list) list.push(e);
    else m.set(k, [e]);
  };
  let size = 0;
  for (const e of entries ?? []) {
    if (e.kind === 'ip') {
      const ip = canonicalIp(e.value);
      if (ip === undefined) continue;
      add(ips, ip, e);
    } else if (e.kind === 'cidr') {
      const c = parseCidr(e.value);
      if (!c || hostileCidrProblem(e.value, c) !== undefined) continue;
      cidrs.push({ cidr: c, entry: e });
    } else if (e.kind === 'asn') {
      const asn = Number(e.value);
      if (!Number.isSafeInteger(asn) || asn <= 0) continue;
      add(asns, asn, e);
    } else continue;
    size++;
  }
  // Longest prefix first: the narrowest range that holds the address is the one its alert names.
  cidrs.sort((a, b) => b.cidr.bits - a.cidr.bits);
  const firstOf = (list: readonly HostileEntry[] | undefined, at: number) => {
    let best: HostileEntry | undefined;
    for (const e of list ?? []) if (e.addedAt <= at) best = earlier(best, e);
    return best;
  };
  return {
    size,
    match(ip, owner, at) {
      if (size === 0) return undefined;
      const canonical = canonicalIp(ip) ?? ip;
      const byIp = firstOf(ips.get(canonical), at);
      if (byIp) return byIp;
      let byRange: HostileEntry | undefined;
      let bits = -1;
      for (const { cidr, entry } of cidrs) {
        if (cidr.bits < bits) break;
        if (entry.addedAt <= at && cidrContains(cidr, canonical)) {
          byRange = earlier(byRange, entry);
          bits = cidr.bits;
        }
      }
      if (byRange) return byRange;
      return owner ? firstOf(asns.get(owner.asn), at) : undefined;
    },
  };
}
