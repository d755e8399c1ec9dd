import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_DIR } from '../../../cli/paths';
import { demoSample, labelsJson } from '../../../cli/scenario/demo';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import { hostingReason } from '../../../shared/core/network-data/hosting';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';

describe('the bundled demo sample', () => {
  const sample = demoSample();

  it('is exactly what the generator gives for the demo seed (run `npm run demo:regen` after changing the generator)', () => {
    expect(readFileSync(join(DEMO_DIR, 'labels.json'), 'utf8')).toBe(labelsJson(sample.labels));
    // Compare the log without printing 2 MB on a mismatch.
    const log = readFileSync(join(DEMO_DIR, 'auth.log'), 'utf8');
    expect(log.length).toBe(sample.log.length);
    expect(log === sample.log).toBe(true);
    expect(readFileSync(join(DEMO_DIR, 'network-data.tsv'), 'utf8')).toBe(sample.networkData);
  });

  it("network-data.tsv builds cleanly and names the real owner and country of every attack's address from outside: a hosting provider", () => {
    const text = readFileSync(join(DEMO_DIR, 'network-data.tsv'), 'utf8');
    const built = buildNetworkData(text.split('\n'), { builtAt: 0, source: 'network-data.tsv' });
    expect(built.stats.malformed).toBe(0);
    const db = NetworkDatabase.fromBytes(built.bytes);
    const external = sample.labels.incidents.filter((i) => !i.sourceIp.startsWith('10.'));
    expect(external.length).toBeGreaterThan(0);
    for (const i of external) {
      const r = db.lookup(i.sourceIp);
      expect(r.known && r.country !== undefined, `${i.id} ${i.sourceIp}`).toBe(true);
      // Real owners: the attackers' servers are rented from a listed hosting provider.
      expect(r.known && hostingReason(r), `${i.id} ${i.sourceIp}`).toBe('listed');
    }
  });

  it('has what the README promises: several weeks, every archetype, new hires and travellers, and attacks of every kind', () => {
    const { meta, users, incidents, expectedNovelty } = sample.labels;
    expect(meta.days).toBeGreaterThanOrEqual(28);
    expect(new Set(users.map((u) => u.archetype))).toEqual(new Set(['office', 'home', 'mobile', 'admin', 'service']));
    expect(expectedNovelty.some((n) => n.kind === 'travel')).toBe(true);
    expect(expectedNovelty.some((n) => n.kind === 'new-hire')).toBe(true);
    expect(new Set(incidents.map((i) => i.kind))).toEqual(
      new Set(['stolen-credentials', 'dormant-return', 'attacker-account', 'lateral-movement']),
    );
    expect(incidents.every((i) => i.start >= meta.learningEnd)).toBe(true);
  });
});
