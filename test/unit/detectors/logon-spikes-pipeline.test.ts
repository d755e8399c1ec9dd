/**
 * The logon-volume detectors through the whole pipeline (runDetection every 15 minutes, 30-minute windows): two
 * weeks of an ordinary small organisation are learned; then a burst of failed logons raises one alert, with the
 * expected count beside the actual, and one address logging on as 40 accounts raises one alert about the source,
 * listing them; retried and overlapping windows raise nothing again.
 */
import { describe, expect, it } from 'vitest';
import { failedLogonSpike } from '../../../shared/core/detectors/failed-logon-spike';
import { logonSpike } from '../../../shared/core/detectors/logon-spike';
import { sourceLogonSpike } from '../../../shared/core/detectors/source-logon-spike';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../../shared/core/model';
import { runDetection } from '../../../shared/run-detection';
import { deps, ev, runSchedule } from '../../support/pipeline';

/** Monday 2026-01-05 00:00 in Lisbon (UTC in winter). */
const T0 = Date.parse('2026-01-05T00:00:00Z');
const USERS = Array.from({ length: 40 }, (_, i) => `user${i}`);

/** Two weeks and a day of an ordinary organisation: office hours through the NAT, a few failures now and then. */
function ordinaryDays(days: number): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let b = 0; b < days * 96; b++) {
    const t = T0 + b * BUCKET_MS;
    const d = new Date(t);
    const weekday = d.getUTCDay() >= 1 && d.getUTCDay() <= 5;
    const hour = d.getUTCHours();
    const n = weekday && hour >= 9 && hour < 18 ? 6 : 1;
    for (let i = 0; i < n; i++) out.push(ev(USERS[(b + i) % USERS.length]!, '192.0.2.10', t + 60_000 + i * 90_000));
    if (b % 7 === 0) out.push(ev(USERS[b % 5]!, '198.51.100.4', t + 200_000, 'failure'));
    // The jump host logs on twice a day.
    if (weekday && (hour === 11 || hour === 15) && d.getUTCMinutes() === 0)
      out.push(ev('ops1', '198.51.100.200', t + 300_000));
  }
  return out;
}

describe('logon-volume detectors in the pipeline', () => {
  it('alert once on a burst of failures and once on one address logging on as 40 accounts, never on an ordinary fortnight', async () => {
    const events = ordinaryDays(16);
    // Tuesday of the third week, 14:16–14:28: 140 failed logons, 120 of them from one address.
    const burst = T0 + 15 * DAY_MS + 14 * 3_600_000 + 16 * 60_000;
    for (let i = 0; i < 120; i++) events.push(ev(USERS[i % 30]!, '203.0.113.9', burst + i * 6_000, 'failure'));
    for (let i = 0; i < 20; i++) events.push(ev('admin', '203.0.113.77', burst + i * 30_000, 'failure'));
    // The same day, 16:01–16:13: the jump host logs on 300 times as 40 accounts.
    const spree = T0 + 15 * DAY_MS + 16 * 3_600_000 + 60_000;
    for (let i = 0; i < 300; i++) events.push(ev(USERS[i % 40]!, '198.51.100.200', spree + i * 2_400));
    const { d, sink } = deps(events, {
      settings: { timeZone: 'Europe/Lisbon' },
      detectors: [failedLogonSpike, logonSpike, sourceLogonSpike],
    });
    await runSchedule(d, T0 + BUCKET_MS, T0 + 15 * DAY_MS);
    expect(sink.delivered).toEqual([]);

    await runSchedule(d, T0 + 15 * DAY_MS + BUCKET_MS, T0 + 16 * DAY_MS);
    const alerts = sink.delivered;
    const fails = alerts.filter((a) => a.rule.id === failedLogonSpike.id);
    expect(fails).toHaveLength(1);
    expect(fails[0]!.event.outcome).toBe('failure');
    expect(fails[0]!.rule.threat.tactic.name).toBe('Credential Access');
    expect(fails[0]!.explanation).toMatch(
      /^Usually 0–\d failed logons in this period of a Tuesday \(14:15–14:30 Europe\/Lisbon\); this period: 14\d, from \d addresses \(203\.0\.113\.9: 120, 203\.0\.113\.77: 20/,
    );
    expect(fails[0]!.source.ip).toBe('203.0.113.9');

    const sources = alerts.filter((a) => a.rule.id === sourceLogonSpike.id);
    expect(sources).toHaveLength(1);
    expect(sources[0]!.source.ip).toBe('198.51.100.200');
    expect(sources[0]!.campaign?.users).toHaveLength(40);
    expect(sources[0]!.related?.user).toHaveLength(40);
    expect(sources[0]!.user.name).toBe('');
    // The organisation saw the spree too (300 logons where ~6 are usual): its alert about the period, whose busiest
    // address is the jump host's, is that campaign seen as volume, so it is folded into it (named, not sent alone).
    expect(alerts.filter((a) => a.rule.id === logonSpike.id)).toEqual([]);
    expect(sources[0]!.campaign?.folded).toEqual([expect.stringMatching(/^logonspike-/)]);
    expect(alerts).toHaveLength(2);
    expect(alerts.every((a) => a.score >= 75)).toBe(true);

    // A retried window, and the windows overlapping the spikes, deliver nothing again.
    const delivered = sink.delivered.length;
    await runDetection(d, { windowEnd: burst - 16 * 60_000 + 2 * BUCKET_MS });
    await runDetection(d, { windowEnd: spree - 60_000 + BUCKET_MS });
    expect(sink.delivered).toHaveLength(delivered);
  }, 120_000);
});
