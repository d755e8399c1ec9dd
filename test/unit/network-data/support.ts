/** The checked-in extract of IPtoASN's file format, and databases built from it or from given lines. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../../lambdas/bundle';
import { buildNetworkData, type BuiltNetworkData } from '../../../shared/core/network-data/build';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';

export const FIXTURE_TSV = join(PROJECT_ROOT, 'test', 'fixtures', 'network-data', 'ip2asn-combined.tsv');
export const BUILT_AT = Date.UTC(2026, 10, 30, 3, 0);

export function fixtureLines(): string[] {
  return readFileSync(FIXTURE_TSV, 'utf8').split('\n');
}

export function build(lines: Iterable<string> = fixtureLines(), builtAt = BUILT_AT): BuiltNetworkData {
  return buildNetworkData(lines, { builtAt, source: 'test' });
}

export function fixtureDb(): NetworkDatabase {
  return NetworkDatabase.fromBytes(build().bytes);
}

/** A publisher line. */
export const row = (start: string, end: string, asn: number, cc = 'US', org = `AS${asn}-ORG`) =>
  [start, end, String(asn), cc, org].join('\t');
