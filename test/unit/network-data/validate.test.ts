import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../shared/core/model';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';
import {
  DEFAULT_EXPECTATIONS,
  networkDataAgeDays,
  validateNetworkData,
  type NetworkDataExpectations,
} from '../../../shared/core/network-data/validate';
import { build, BUILT_AT, fixtureLines, row } from './support';

/** Bounds that fit the extract: the real file's bounds are for ~650,000 ranges. */
const FIXTURE_EXPECTATIONS: NetworkDataExpectations = {
  ...DEFAULT_EXPECTATIONS,
  minIpv4Ranges: 5,
  maxIpv4Ranges: 20,
  minIpv6Ranges: 3,
  maxIpv6Ranges: 20,
};

function candidate(lines: string[] = fixtureLines()) {
  const built = build(lines);
  const db = NetworkDatabase.fromBytes(built.bytes);
  return { meta: db.meta, stats: built.stats, db };
}

describe('validating a new database', () => {
  it('accepts the extract', () => {
    expect(validateNetworkData(candidate(), FIXTURE_EXPECTATIONS)).toEqual([]);
  });

  it('rejects row counts outside the bounds, naming each', () => {
    expect(validateNetworkData(candidate(), DEFAULT_EXPECTATIONS)).toEqual([
      '8 IPv4 ranges, expected 200000–2000000',
      '6 IPv6 ranges, expected 50000–1000000',
    ]);
    expect(validateNetworkData(candidate(), { ...FIXTURE_EXPECTATIONS, maxIpv4Ranges: 7 })).toEqual([
      '8 IPv4 ranges, expected 5–7',
    ]);
  });

  it('rejects a database much smaller than the one in use', () => {
    expect(validateNetworkData(candidate(), FIXTURE_EXPECTATIONS, { ipv4Ranges: 11, ipv6Ranges: 6 })).toEqual([
      '8 IPv4 ranges, down from 11 in the database in use (below 80% of it)',
    ]);
    expect(validateNetworkData(candidate(), FIXTURE_EXPECTATIONS, { ipv4Ranges: 10, ipv6Ranges: 7 })).toEqual([]);
  });

  it('rejects a file where the well-known addresses resolve elsewhere or not at all', () => {
    const lines = fixtureLines()
      .map((l) => (l.startsWith('8.8.8.0\t') ? row('8.8.8.0', '8.8.8.255', 64512, 'US', 'SOMEONE') : l))
      .filter((l) => !l.startsWith('2606:4700::'));
    expect(validateNetworkData(candidate(lines), { ...FIXTURE_EXPECTATIONS, minIpv6Ranges: 0 })).toEqual([
      '8.8.8.8 resolves to AS64512, expected AS15169',
      '2606:4700:4700::1111 does not resolve (not-routed), expected AS13335',
    ]);
    expect(
      validateNetworkData(candidate(), {
        ...FIXTURE_EXPECTATIONS,
        wellKnown: [{ ip: '1.1.1.1', asn: 13335, country: 'AU' }],
      }),
    ).toEqual(['1.1.1.1 is in US, expected AU']);
  });

  it('rejects a file with too many unreadable lines, quoting the first', () => {
    const lines = [...fixtureLines(), 'garbage'];
    const [problem] = validateNetworkData(candidate(lines), FIXTURE_EXPECTATIONS);
    expect(problem).toMatch(/^1 of 22 lines malformed \(more than 0.1%\): line 23: 1 tab-separated fields/);
    expect(validateNetworkData(candidate(lines), { ...FIXTURE_EXPECTATIONS, maxMalformedShare: 0.05 })).toEqual([]);
  });
});

describe('networkDataAgeDays', () => {
  it('is the days since the build', () => {
    expect(networkDataAgeDays({ builtAt: BUILT_AT }, BUILT_AT + 3.5 * DAY_MS)).toBe(3.5);
  });
});
