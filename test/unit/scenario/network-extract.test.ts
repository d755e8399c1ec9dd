import { describe, expect, it } from 'vitest';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import { extractNetworks, splitCsvLine } from '../../../cli/scenario/network-extract';
import type { RealNetwork } from '../../../cli/scenario/real-networks';

// Lines in the packages' own formats: `start,end,asn,organisation` (quoted when it has a comma) and `start,end,cc`.
const ASN_LINES = [
  '1.1.1.0,1.1.1.255,13335,"Cloudflare, Inc."',
  '5.0.0.0,5.0.255.255,64500,Small Net',
  '5.1.0.0,5.1.3.255,64500,Small Net',
  '5.2.0.0,5.3.255.255,64500,Small Net',
  '5.2.0.0,5.2.0.255,64999,Not Curated', // another AS: never read
  '6.0.0.0,6.0.255.255,64501,Two Names',
  '6.1.0.0,6.1.255.255,64501,Two Names',
  '6.2.0.0,6.2.255.255,64501,"Two ""Names"" Ltd"',
  '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64500,Small Net',
];
const COUNTRY_LINES = [
  '1.1.1.0,1.1.1.255,AU',
  '5.0.0.0,5.0.127.255,NL',
  '5.0.128.0,5.1.3.255,DE', // splits the first range, covers the second
  '5.2.0.0,5.3.255.255,NL',
  '6.0.0.0,6.2.255.255,FR',
  '2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,NL',
];

const net = (n: Partial<RealNetwork> & Pick<RealNetwork, 'asn'>): RealNetwork => ({ role: 'home', v4: 1, ...n });

describe('splitCsvLine', () => {
  it('splits at commas outside quotes and unescapes doubled quotes', () => {
    expect(splitCsvLine('1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."')).toEqual([
      '1.0.0.0',
      '1.0.0.255',
      '13335',
      'Cloudflare, Inc.',
    ]);
    expect(splitCsvLine('a,"say ""hi""",c')).toEqual(['a', 'say "hi"', 'c']);
    expect(splitCsvLine('a,,c')).toEqual(['a', '', 'c']);
    expect(() => splitCsvLine('a,"open')).toThrow(/unterminated quote/);
  });
});

describe('extractNetworks', () => {
  it("keeps the largest ranges in the network's country, each in a /16 of its own, with the country joined", () => {
    const { rows, shortfalls } = extractNetworks([net({ asn: 64500, country: 'NL', v4: 2 })], ASN_LINES, COUNTRY_LINES);
    expect(rows).toEqual(['5.0.0.0\t5.0.127.255\t64500\tNL\tSmall Net', '5.2.0.0\t5.3.255.255\t64500\tNL\tSmall Net']);
    expect(shortfalls).toEqual([]);
  });

  it('keeps IPv6 ranges when asked, after the IPv4 ones, and names a shortfall when the data has too few', () => {
    const { rows, shortfalls } = extractNetworks(
      [net({ asn: 64500, country: 'DE', v4: 3, v6: 1 })],
      ASN_LINES,
      COUNTRY_LINES,
    );
    // In DE: the second half of 5.0.0.0/16 and 5.1.0.0/22; no IPv6 range is in DE.
    expect(rows).toEqual(['5.0.128.0\t5.0.255.255\t64500\tDE\tSmall Net', '5.1.0.0\t5.1.3.255\t64500\tDE\tSmall Net']);
    expect(shortfalls).toEqual(['AS64500 home: 2 of 3 IPv4 ranges', 'AS64500 home: 0 of 1 IPv6 ranges']);
  });

  it('keeps the ranges of the addresses it must include, and gives one AS one name (its most common)', () => {
    const { rows } = extractNetworks(
      [
        net({ role: 'resolver', asn: 13335, v4: 0, include: ['1.1.1.1'] }),
        net({ asn: 64501, v4: 3 }),
        net({ role: 'home-v6', asn: 64500, v4: 0, v6: 1 }),
      ],
      ASN_LINES,
      COUNTRY_LINES,
    );
    expect(rows).toEqual([
      '1.1.1.0\t1.1.1.255\t13335\tAU\tCloudflare, Inc.',
      '6.0.0.0\t6.0.255.255\t64501\tFR\tTwo Names',
      '6.1.0.0\t6.1.255.255\t64501\tFR\tTwo Names',
      '6.2.0.0\t6.2.255.255\t64501\tFR\tTwo Names',
      '2001:db8::\t2001:db8:ffff:ffff:ffff:ffff:ffff:ffff\t64500\tNL\tSmall Net',
    ]);
    // The rows are what the network-data builder reads, without a malformed line or a renamed AS (it merges the
    // three adjacent ranges of one owner into one).
    const { stats } = buildNetworkData(rows, { builtAt: 0, source: 'test' });
    expect(stats).toMatchObject({
      malformed: 0,
      overlapping: 0,
      renamedAsns: 0,
      merged: 2,
      ipv4Ranges: 2,
      ipv6Ranges: 1,
    });
  });

  it('reports an AS that is not in the data, or an address it must include that no range of it holds', () => {
    const { rows, shortfalls } = extractNetworks(
      [net({ asn: 65000 }), net({ role: 'resolver', asn: 13335, v4: 0, include: ['8.8.8.8'] })],
      ASN_LINES,
      COUNTRY_LINES,
    );
    expect(rows).toEqual([]);
    expect(shortfalls).toEqual(['AS65000: no ranges in the ASN data', 'AS13335: no range holds 8.8.8.8']);
  });
});
