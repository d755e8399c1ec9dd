/**
 * Impossible travel through the whole pipeline: addresses enriched from a network lookup at the start of each
 * run, the travel slice learned and stored with the baselines, the alert delivered and readable.
 */
import { describe, expect, it } from 'vitest';
import { emailSubject, emailText } from '../../../shared/core/alert-text';
import { impossibleTravel } from '../../../shared/core/detectors/impossible-travel';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../../shared/core/model';
import type { NetworkLookup, NetworkLookupService } from '../../../shared/core/network-data/lookup';
import { HOUR, T0 } from '../../support/history';
import { deps, ev, runSchedule } from '../../support/pipeline';

const MIN = 60_000;

/** 81.2.x.x: a Portuguese ISP; 203.0.113.x: a Singaporean one (invented owners on documentation numbers). */
const network: NetworkLookupService = {
  lookup(ip: string): NetworkLookup {
    if (ip.startsWith('81.2.')) return { known: true, asn: 64500, org: 'EXAMPLE-PT-ISP', country: 'PT' };
    if (ip.startsWith('203.0.113.')) return { known: true, asn: 64501, org: 'EXAMPLE-SG-ISP', country: 'SG' };
    return { known: false, reason: 'not-routed' };
  },
};

/** Sixteen days of ten people logging on from home in Portugal, and one logon of user3's from Singapore. */
function events(): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let d = 0; d < 16; d++)
    for (let u = 0; u < 10; u++)
      for (const h of [9, 15]) out.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  out.push(ev('user3', '203.0.113.9', T0 + 15 * DAY_MS + 15 * HOUR + 40 * MIN));
  return out.sort((a, b) => a.timestamp - b.timestamp);
}

async function run(withNetwork: boolean) {
  const { d, sink } = deps(events(), withNetwork ? { network } : {});
  await runSchedule(d, T0 + BUCKET_MS, T0 + 16 * DAY_MS);
  return sink.delivered.filter((a) => a.rule.id === impossibleTravel.id);
}

describe('Auth.ImpossibleTravel in the pipeline', () => {
  it('alerts once on a logon from Singapore 40 minutes after one from Portugal, with network data loaded', async () => {
    const alerts = await run(true);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.user.name).toBe('user3');
    expect(a.source.ip).toBe('203.0.113.9');
    expect(a.rule.severity).toBe('medium');
    expect(a.explanation).toContain('from Portugal (81.2.3.10, AS64500), then 40 minutes later from Singapore');
    expect(a.silence.join('\n')).toContain('allow cidr 203.0.113.0/24');
    expect(emailSubject(a)).toContain('Impossible travel (score 100): user3');
    expect(emailText(a)).toMatch(/Least speed \(km\/h\): +17,\d{3}/);
  }, 60_000);

  it('raises nothing without network data', async () => {
    expect(await run(false)).toEqual([]);
  }, 60_000);
});
