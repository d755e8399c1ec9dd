/** The README and NOTICE say what the code does: the validation rules, the staleness limit, every row of the extract. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../lambdas/bundle';
import { DEFAULT_MAX_AGE_DAYS, NETWORK_DATA_METRICS } from '../../../shared/adapters/network-data-loader';
import { DEFAULT_KEEP_DATABASES } from '../../../shared/refresh-network-data';
import { DEFAULT_EXPECTATIONS, WELL_KNOWN_ADDRESSES } from '../../../shared/core/network-data/validate';
import { fixtureLines } from './support';

const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Network owner and country data'), readme.indexOf('## Project layout'));
const notice = readFileSync(join(PROJECT_ROOT, 'NOTICE'), 'utf8');
const words = ['zero', 'one', 'two', 'three', 'four', 'five'];

describe('README "Network owner and country data"', () => {
  it('lists the well-known addresses a refresh checks, and their owners', () => {
    for (const w of WELL_KNOWN_ADDRESSES) expect(section).toContain(w.ip);
    for (const asn of new Set(WELL_KNOWN_ADDRESSES.map((w) => w.asn))) expect(section).toContain(`AS${asn}`);
  });

  it('states the validation limits, the staleness limit, the databases kept and the metrics as the code has them', () => {
    expect(section).toContain(`at least ${DEFAULT_EXPECTATIONS.minShareOfCurrent * 100}% of the database in use`);
    expect(section).toContain(`at most ${DEFAULT_EXPECTATIONS.maxMalformedShare * 100}% unreadable lines`);
    expect(section).toContain(`older than ${DEFAULT_MAX_AGE_DAYS} days`);
    expect(section).toContain(`The last ${words[DEFAULT_KEEP_DATABASES]} databases are`);
    expect(section).toContain(NETWORK_DATA_METRICS.unavailable);
    expect(section).toContain(NETWORK_DATA_METRICS.stale);
  });
});

describe('NOTICE', () => {
  it('names every owner in the test extract, as a fact or as invented', () => {
    for (const line of fixtureLines().filter((l) => l.trim() !== '')) {
      const [, , asn, , org] = line.split('\t');
      if (asn === '0') continue;
      expect(notice, line).toMatch(new RegExp(`AS${asn}\\s+${org}\\s`));
    }
  });
});
