import { describe, expect, it } from 'vitest';
import { DAY_MS, type Finding, type LogonEvent } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { HOUR, T0 } from '../../support/history';
import { deps, ev, runSchedule } from '../../support/pipeline';

/** 17 days of 20 users from their own home addresses, twice a workday. */
function history(days = 17): LogonEvent[] {
  const events: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 20; u++)
      for (const h of [9, 15]) events.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  return events;
}

describe('DetectionDeps.onFinding (the report’s score distribution)', () => {
  it('is told every finding judged after learning, below its threshold as well as above, with the threshold', async () => {
    const attack = T0 + 16 * DAY_MS + 10 * HOUR;
    const nearHome = T0 + 16 * DAY_MS + 11 * HOUR;
    const events = [...history(), ev('user3', '203.0.113.9', attack), ev('user4', '81.2.4.77', nearHome)];
    const seen: { finding: Finding; threshold: number }[] = [];
    // A threshold of 90 for unusual addresses: user4's new address in their own subnet scores 86.9 here.
    const thresholds = { ...DEFAULT_SETTINGS.thresholds, 'Auth.UnusualSourceIp': 90 };
    const { d, sink } = deps(events, { settings: { thresholds } });
    await runSchedule(
      { ...d, onFinding: (finding, threshold) => seen.push({ finding, threshold }) },
      T0,
      T0 + 17 * DAY_MS,
    );

    // Nothing while learning (14 days from the first window), though the detectors ran.
    expect(seen.every((s) => s.finding.observation.firstSeen >= T0 + 14 * DAY_MS)).toBe(true);
    const user3 = seen.filter((s) => s.finding.user === 'user3' && s.finding.sourceIp === '203.0.113.9');
    expect(user3.length).toBeGreaterThan(0);
    expect(user3.some((s) => s.finding.score >= s.threshold)).toBe(true);
    expect(sink.delivered.some((a) => a.user.name === 'user3')).toBe(true);
    // A new address in the user's own subnet is unusual, but below the threshold: reported all the same.
    const user4 = seen.filter((s) => s.finding.user === 'user4' && s.finding.sourceIp === '81.2.4.77');
    expect(user4.length).toBeGreaterThan(0);
    expect(user4.every((s) => s.finding.score < s.threshold)).toBe(true);
    expect(sink.delivered.some((a) => a.user.name === 'user4')).toBe(false);
    for (const s of seen) expect(s.threshold).toBe(thresholds[s.finding.detectorId as keyof typeof thresholds]);
    expect(user4[0]!.threshold).toBe(90);
  });
});
