/**
 * Enrichment: each observation's source address with its network owner (ASN, organisation) and country, from
 * the offline network data. One lookup per distinct address of the window; pure over the lookup service (a
 * binary search over tables in memory, never a network call).
 */
import type { LogonObservation, NetworkOwner } from './model';
import type { NetworkLookupService } from './network-data/lookup';

export interface EnrichStats {
  /** Distinct source addresses looked up. */
  readonly addresses: number;
  /** Of those, with a known owner. */
  readonly known: number;
}

/** The observations with `owner` set where the data knows the address (others unchanged); and what was found. */
export function enrichObservations(
  observations: readonly LogonObservation[],
  network: NetworkLookupService | undefined,
): { observations: LogonObservation[]; stats: EnrichStats } {
  if (!network) return { observations: [...observations], stats: { addresses: 0, known: 0 } };
  const owners = new Map<string, NetworkOwner | undefined>();
  for (const o of observations) {
    if (owners.has(o.sourceIp)) continue;
    const r = network.lookup(o.sourceIp);
    owners.set(
      o.sourceIp,
      r.known ? { asn: r.asn, org: r.org, ...(r.country !== undefined ? { country: r.country } : {}) } : undefined,
    );
  }
  let known = 0;
  for (const v of owners.values()) if (v) known++;
  return {
    observations: observations.map((o) => {
      const owner = owners.get(o.sourceIp);
      return owner ? { ...o, owner } : o;
    }),
    stats: { addresses: owners.size, known },
  };
}

/** `AS15169 GOOGLE, US`: how a person reads an owner. */
export function ownerText(owner: NetworkOwner): string {
  const org = owner.org ? ` ${owner.org}` : '';
  return `AS${owner.asn}${org}${owner.country ? `, ${owner.country}` : ''}`;
}
