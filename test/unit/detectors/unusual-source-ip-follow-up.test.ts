/**
 * Follow-ups (Auth.UnusualSourceIp): a later logon from a suspect place of the user (an address an unanswered alert
 * named, see core/baseline-update.ts) is reported as a follow-up of that alert, one per alert, never as a fresh
 * alert; the alert's own logons seen again by the overlapping window are nothing.
 */
import { describe, expect, it } from 'vitest';
import { alertId } from '../../../shared/core/alerts';
import { unusualSourceIp } from '../../../shared/core/detectors/unusual-source-ip';
import { DAY_MS, type SuspectPlace, type UserBaseline, windowEndingAt } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, logon, T0 } from '../../support/history';

const ATTACKER = '203.0.113.9';
const HOSTING = { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' };
/** The alert's logon: day 21, 10:05 UTC. */
const SINCE = T0 + 21 * DAY_MS + 10 * HOUR + 5 * 60_000;

const entry: SuspectPlace = {
  alertId: 'unusualsourceip-0123456789abcdef01234567',
  detectorId: 'Auth.UnusualSourceIp',
  ip: ATTACKER,
  since: SINCE,
  last: SINCE + 60_000,
  logons: 2,
  owner: HOSTING,
};

/** Three weeks of alice at home, and the organisation that makes (alice alone). */
const HOME = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });

function alice(suspect?: Record<string, SuspectPlace>): UserBaseline {
  const b = HOME.get('alice');
  return suspect ? { ...b, suspect } : b;
}

function judge(b: UserBaseline, t: number, overrides: Parameters<typeof logon>[3] = {}) {
  const o = logon('alice', ATTACKER, t, { owner: HOSTING, ...overrides });
  return unusualSourceIp.evaluate({
    observation: o,
    baseline: b,
    population: HOME.population,
    window: windowEndingAt(o.lastSeen + 60_000),
    settings: DEFAULT_SETTINGS,
  });
}

describe('Auth.UnusualSourceIp follow-ups', () => {
  it('reports a later logon from a suspect place as a follow-up of its alert, judged as usual, saying how to answer', () => {
    const t = SINCE + DAY_MS + 2 * HOUR;
    const f = judge(alice({ [ATTACKER]: entry }), t, { count: 3, lastSeen: t + 60_000 })!;
    expect(f).not.toBeNull();
    expect(f.followUpOf).toBe(entry.alertId);
    // The place was not learned: it is judged as the new place it still is, with that score.
    const usual = judge(alice(), t, { count: 3, lastSeen: t + 60_000 })!;
    expect(f.score).toBe(usual.score);
    expect(f.score).toBeGreaterThanOrEqual(75);
    expect(f.probability).toBe(usual.probability);
    expect(f.explanation).toContain(
      `Follow-up to alert ${entry.alertId} (raised 2026-03-23 10:05 UTC, not answered): alice logged on again from ` +
        '203.0.113.9 (AS64498 EXAMPLE-HOSTING, US) — at least 5 logons since.',
    );
    expect(f.explanation).toContain('benign');
    expect(f.explanation).toContain('from 2026-03-30 it is learned like any place');
    expect(f.evidence).toMatchObject({
      follow_up_of: entry.alertId,
      original_rule: 'Auth.UnusualSourceIp',
      original_logon: new Date(SINCE).toISOString(),
      logons_since: 5,
      learned_from: '2026-03-30',
      network_owner: 'AS64498 EXAMPLE-HOSTING',
    });
  });

  it('says nothing for the alert’s own logons seen again by the overlapping window (not a fresh alert either)', () => {
    expect(judge(alice({ [ATTACKER]: entry }), SINCE, { lastSeen: SINCE + 60_000, count: 2 })).toBeNull();
    // Without the entry the very same logon is a fresh, ordinary finding: the negative.
    const fresh = judge(alice(), SINCE, { lastSeen: SINCE + 60_000, count: 2 })!;
    expect(fresh).not.toBeNull();
    expect(fresh.followUpOf).toBeUndefined();
  });

  it('has one alert id per original alert, whatever the window or the day, other than the original’s', () => {
    const b = alice({ [ATTACKER]: entry });
    const at = (t: number) => {
      const f = judge(b, t)!;
      return alertId(unusualSourceIp, f);
    };
    const morning = at(SINCE + DAY_MS - 9 * HOUR);
    expect(at(SINCE + DAY_MS + 3 * HOUR)).toBe(morning);
    expect(at(SINCE + 2 * DAY_MS)).toBe(morning);
    expect(morning).not.toBe(entry.alertId);
    expect(morning).toMatch(/^unusualsourceip-[0-9a-f]{24}$/);
    // The follow-up of another alert the same day is another alert.
    const other = judge(b, SINCE + DAY_MS)!;
    expect(alertId(unusualSourceIp, { ...other, followUpOf: 'unusualsourceip-other' })).not.toBe(at(SINCE + DAY_MS));
  });

  it('raises none on the alert’s own day: that day’s alert is the alert itself', () => {
    const b = alice({ [ATTACKER]: entry });
    expect(judge(b, SINCE + 5 * HOUR)).toBeNull();
    expect(judge(b, SINCE - 10 * HOUR + DAY_MS)).not.toBeNull();
  });

  it('takes an IPv6 address’s /64 as the place: a device’s next privacy address is followed up, not judged afresh', () => {
    const v6: SuspectPlace = { ...entry, ip: '2001:db8:7:1:aaaa::1' };
    const b = alice({ '2001:db8:7:1::/64': v6 });
    const o = logon('alice', '2001:db8:7:1:bbbb::2', SINCE + DAY_MS);
    const input = {
      observation: o,
      baseline: b,
      population: HOME.population,
      window: windowEndingAt(o.lastSeen + 60_000),
      settings: DEFAULT_SETTINGS,
    };
    expect(unusualSourceIp.evaluate(input)!.followUpOf).toBe(entry.alertId);
    // Another /64 of the same /48 is another place: judged as usual.
    const other = { ...input, observation: logon('alice', '2001:db8:7:2::9', SINCE + DAY_MS) };
    expect(unusualSourceIp.evaluate(other)!.followUpOf).toBeUndefined();
  });

  it('judges the user’s other new addresses as usual while one is suspect', () => {
    const b = alice({ [ATTACKER]: entry });
    const o = logon('alice', '198.51.100.7', SINCE + DAY_MS);
    const f = unusualSourceIp.evaluate({
      observation: o,
      baseline: b,
      population: HOME.population,
      window: windowEndingAt(o.lastSeen + 60_000),
      settings: DEFAULT_SETTINGS,
    })!;
    expect(f).not.toBeNull();
    expect(f.followUpOf).toBeUndefined();
    expect(f.evidence.novelty_level).toBe('network');
  });
});
