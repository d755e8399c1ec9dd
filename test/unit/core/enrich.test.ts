import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { enrichObservations, ownerText } from '../../../shared/core/enrich';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import { NetworkDatabase, type NetworkLookupService } from '../../../shared/core/network-data/lookup';
import { logon } from '../../support/history';

const TSV = readFileSync(new URL('../../fixtures/network-data/ip2asn-combined.tsv', import.meta.url), 'utf8');
const db = NetworkDatabase.fromBytes(buildNetworkData(TSV.split('\n'), { builtAt: 0, source: 'test extract' }).bytes);

describe('enrichObservations', () => {
  it('gives each observation its address’s owner and country, once per distinct address', () => {
    let lookups = 0;
    const counting: NetworkLookupService = { lookup: (ip) => (lookups++, db.lookup(ip)) };
    const obs = [
      logon('alice', '8.8.8.8', 1),
      logon('bob', '8.8.8.8', 2),
      logon('carol', '10.1.2.3', 3),
      logon('dave', '2001:4860::1', 4),
    ];
    const { observations, stats } = enrichObservations(obs, counting);
    expect(lookups).toBe(3);
    expect(stats).toEqual({ addresses: 3, known: 2 });
    expect(observations[0]!.owner).toEqual({ asn: 15169, org: 'GOOGLE', country: 'US' });
    expect(observations[1]!.owner).toEqual(observations[0]!.owner);
    expect(observations[2]!.owner).toBeUndefined();
    expect(observations[3]!.owner?.asn).toBe(15169);
    expect(ownerText(observations[0]!.owner!)).toBe('AS15169 GOOGLE, US');
  });

  it('leaves observations as they are without network data', () => {
    const obs = [logon('alice', '8.8.8.8', 1)];
    expect(enrichObservations(obs, undefined)).toEqual({ observations: obs, stats: { addresses: 0, known: 0 } });
    expect(ownerText({ asn: 64496, org: '' })).toBe('AS64496');
  });
});
