/**
 * Is a freshly built database fit to replace the one in use? And is the one in use too old? Pure: the
 * caller passes the time.
 *
 * A publisher's bad day (an empty or half-written file, a format change, a mirror serving an error page)
 * must not become our bad week: row counts within bounds, not much smaller than the database it replaces,
 * few unreadable lines, and a handful of addresses whose owners are not going to change resolve as expected.
 */
import { DAY_MS } from '../model';
import type { BuildStats } from './build';
import type { NetworkDataMeta } from './format';
import type { NetworkLookupService } from './lookup';

/** An address whose owner is stable enough to check every build against. */
export interface WellKnownAddress {
  readonly ip: string;
  readonly asn: number;
  readonly country?: string;
}

/** What a build must satisfy before it is swapped in. */
export interface NetworkDataExpectations {
  readonly minIpv4Ranges: number;
  readonly maxIpv4Ranges: number;
  readonly minIpv6Ranges: number;
  readonly maxIpv6Ranges: number;
  /** Largest share of non-blank lines that may be malformed (0.001 = 0.1%). */
  readonly maxMalformedShare: number;
  /** Smallest size relative to the database in use, per family (0.8: at most 20% fewer ranges). */
  readonly minShareOfCurrent: number;
  readonly wellKnown: readonly WellKnownAddress[];
}

/**
 * Addresses run by their owners for a decade as public resolvers, announced from their own AS: if one of them
 * resolves elsewhere, the file is broken, not the Internet.
 */
export const WELL_KNOWN_ADDRESSES: readonly WellKnownAddress[] = [
  { ip: '8.8.8.8', asn: 15169 },
  { ip: '8.8.4.4', asn: 15169 },
  { ip: '1.1.1.1', asn: 13335 },
  { ip: '2001:4860:4860::8888', asn: 15169 },
  { ip: '2606:4700:4700::1111', asn: 13335 },
];

/**
 * For IPtoASN's combined file, which had ~500,000 IPv4 and ~150,000 IPv6 ranges when this was written: the
 * lower bounds catch a truncated or filtered file, the upper ones a format change that splits every range.
 */
export const DEFAULT_EXPECTATIONS: NetworkDataExpectations = {
  minIpv4Ranges: 200_000,
  maxIpv4Ranges: 2_000_000,
  minIpv6Ranges: 50_000,
  maxIpv6Ranges: 1_000_000,
  maxMalformedShare: 0.001,
  minShareOfCurrent: 0.8,
  wellKnown: WELL_KNOWN_ADDRESSES,
};

/** Every reason `candidate` should not replace `current` (empty: fit). */
export function validateNetworkData(
  candidate: { readonly meta: NetworkDataMeta; readonly stats: BuildStats; readonly db: NetworkLookupService },
  expectations: NetworkDataExpectations,
  current?: Pick<NetworkDataMeta, 'ipv4Ranges' | 'ipv6Ranges'>,
): string[] {
  const problems: string[] = [];
  const { meta, stats, db } = candidate;
  const within = (what: string, n: number, min: number, max: number) => {
    if (n < min || n > max) problems.push(`${n} ${what} ranges, expected ${min}–${max}`);
  };
  within('IPv4', meta.ipv4Ranges, expectations.minIpv4Ranges, expectations.maxIpv4Ranges);
  within('IPv6', meta.ipv6Ranges, expectations.minIpv6Ranges, expectations.maxIpv6Ranges);
  if (stats.lines > 0 && stats.malformed / stats.lines > expectations.maxMalformedShare) {
    problems.push(
      `${stats.malformed} of ${stats.lines} lines malformed (more than ${expectations.maxMalformedShare * 100}%)${stats.examples.length ? `: ${stats.examples.join('; ')}` : ''}`,
    );
  }
  if (current) {
    const shrunk = (what: string, n: number, was: number) => {
      if (n < was * expectations.minShareOfCurrent)
        problems.push(
          `${n} ${what} ranges, down from ${was} in the database in use (below ${expectations.minShareOfCurrent * 100}% of it)`,
        );
    };
    shrunk('IPv4', meta.ipv4Ranges, current.ipv4Ranges);
    shrunk('IPv6', meta.ipv6Ranges, current.ipv6Ranges);
  }
  for (const w of expectations.wellKnown) {
    const r = db.lookup(w.ip);
    if (!r.known) problems.push(`${w.ip} does not resolve (${r.reason}), expected AS${w.asn}`);
    else if (r.asn !== w.asn) problems.push(`${w.ip} resolves to AS${r.asn}, expected AS${w.asn}`);
    else if (w.country !== undefined && r.country !== w.country)
      problems.push(`${w.ip} is in ${r.country ?? 'no country'}, expected ${w.country}`);
  }
  return problems;
}

/** How old a database is, in days (fractional), at `now` (epoch ms). */
export function networkDataAgeDays(meta: Pick<NetworkDataMeta, 'builtAt'>, now: number): number {
  return (now - meta.builtAt) / DAY_MS;
}
