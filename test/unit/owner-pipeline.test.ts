/**
 * Network owners through the whole pipeline: with the network data given to `runDetection` (the test extract), the
 * stored baselines learn their owners and countries, and an unusual-source-IP alert names the owner and country of
 * the address. Without it, the same runs store nothing about owners.
 */
import { describe, expect, it } from 'vitest';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../shared/core/model';
import type { DetectionDeps } from '../../shared/run-detection';
import { HOUR, T0 } from '../support/history';
import { deps, ev, runSchedule } from '../support/pipeline';
import { fixtureDb } from './network-data/support';

/** 17 days of 10 users, each from their own address of the office range (AS64496 EXAMPLE-CORP-OFFICE, NL); then an attack. */
function events(): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let d = 0; d < 17; d++)
    for (let u = 0; u < 10; u++)
      for (const h of [9, 15]) out.push(ev(`user${u}`, `192.0.2.${u + 10}`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  // user3's credentials from a hosting provider's address (AS64498 EXAMPLE-HOSTING, US).
  out.push(ev('user3', '203.0.113.9', T0 + 16 * DAY_MS + 10 * HOUR + 20 * 60_000));
  return out;
}

async function run(network: DetectionDeps['network']) {
  const { d, store, sink } = deps(events(), network ? { network } : {});
  await runSchedule(d, T0 + BUCKET_MS, T0 + 17 * DAY_MS);
  return { store, sink };
}

describe('network owners through runDetection', () => {
  it('learns owners and countries into the stored baselines, and names them in the alert', async () => {
    const { store, sink } = await run(fixtureDb());
    const b = (await store.getUsers(['user1'])).get('user1')!;
    expect(Object.keys(b.owners!)).toEqual(['AS64496']);
    expect(Object.keys(b.countries!)).toEqual(['NL']);
    expect(b.ownerActivity!.days).toBe(17);
    const alert = sink.delivered.find((a) => a.user.name === 'user3' && a.source.ip === '203.0.113.9')!;
    expect(alert.evidence).toMatchObject({
      network_owner: 'AS64498 EXAMPLE-HOSTING',
      network_country: 'US',
      hosting_provider: true,
    });
    expect(alert.explanation).toContain('AS64498 EXAMPLE-HOSTING');
  });

  it('stores nothing about owners without the data', async () => {
    const { store, sink } = await run(undefined);
    const b = (await store.getUsers(['user1'])).get('user1')!;
    expect(b).not.toHaveProperty('owners');
    expect(b).not.toHaveProperty('ownerActivity');
    const alert = sink.delivered.find((a) => a.user.name === 'user3')!;
    expect(alert.evidence).toMatchObject({ network_owner: '', network_country: '', hosting_provider: false });
  });
});
