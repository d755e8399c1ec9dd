/**
 * Auth.UnusualSourceIp for users whose habits have not formed (immature.ts): a short-lived account returning after
 * weeks from a network no one in the organisation uses is judged by the organisation's rate of such networks; a
 * new hire's first week is not.
 */
import { describe, expect, it } from 'vitest';
import { rareUser, unusualSourceIp } from '../../../shared/core/detectors';
import { RETURN_MIN_DAYS } from '../../../shared/core/detectors/unusual-source-ip/immature';
import { dormancy, isUserMature } from '../../../shared/core/habits';
import { DAY_MS, windowEndingAt, type LogonObservation, type PopulationStats } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, T0, logon } from '../../support/history';

const settings = DEFAULT_SETTINGS;

/**
 * What the organisation knows: of 4,000 active periods of users with formed habits, 40 brought a new network and 4
 * a network no one else here used (0.1%).
 */
const NOVELTY = { periods: 4000, ip: 80, prefix: 40, network: 40, ipInKnownPrefix: 40, networkOrgNovel: 4 };

function withNovelty(p: PopulationStats): PopulationStats {
  return { ...p, placeNovelty: NOVELTY };
}

function judge(h: History, o: LogonObservation) {
  return unusualSourceIp.evaluate({
    observation: o,
    baseline: h.users.get(o.user),
    population: withNovelty(h.population),
    window: windowEndingAt(o.lastSeen + 15 * 60_000),
    settings,
  });
}

/** A contractor's account used on two days from one address, then silent. */
function shortLived(): History {
  return new History().daily('temp', ['81.2.69.142'], { toDay: 2 });
}

const at = (day: number, hour = 10) => T0 + day * DAY_MS + hour * HOUR;

describe('Auth.UnusualSourceIp, users with too little history', () => {
  it('flags a short-lived account returning after three weeks from a network no one here uses, and says why', () => {
    const h = shortLived();
    expect(isUserMature(h.get('temp'), settings)).toBe(false);
    const f = judge(h, logon('temp', '203.0.113.50', at(23)));
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.evidence).toMatchObject({
      novelty_level: 'network',
      judged_by: 'the organisation (too little history)',
      new_place: '203.0.0.0/16',
      silence_days: 21,
      known_networks: 1,
      users_sharing_network: 0,
    });
    expect(f!.explanation).toMatch(
      /^temp logged on from 203\.0\.113\.50, the network 203\.0\.0\.0\/16, which is new for this user and which no one else in the organisation uses, after 21 days of silence \(last seen 2026-03-03\)\. With 1 day of history before that/,
    );
    expect(f!.explanation).toContain('users here bring a network no one else uses in 0.1% of periods');
    expect(f!.explanation).toMatch(/a silence 1\d\.\d times as long as the history before it/);
  });

  it('is more surprised the longer the silence against the history before it', () => {
    const h = shortLived();
    const week = judge(h, logon('temp', '203.0.113.50', at(1 + RETURN_MIN_DAYS + 1)));
    const weeks = judge(h, logon('temp', '203.0.113.50', at(23)));
    expect(week).not.toBeNull();
    expect(weeks!.probability).toBeLessThan(week!.probability);
    expect(weeks!.evidence.return_weight as number).toBeLessThan(week!.evidence.return_weight as number);
  });

  it('names the owner where the network data knows it', () => {
    const h = shortLived();
    const owner = { asn: 64510, org: 'EXAMPLE-VPS', country: 'NL' };
    const f = judge(h, logon('temp', '203.0.113.50', at(23), { owner }));
    expect(f!.explanation).toContain('the network AS64510 EXAMPLE-VPS (NL), which is new for this user');
    expect(f!.evidence.new_place).toBe('AS64510');
  });

  it('does not judge a return within a week, to a known network, or to a network colleagues use', () => {
    const h = shortLived()
      .daily('c1', ['198.51.100.11'], { toDay: 3 })
      .daily('c2', ['198.51.100.12'], { toDay: 3 })
      .daily('c3', ['198.51.100.13'], { toDay: 3 });
    expect(judge(h, logon('temp', '203.0.113.50', at(1 + RETURN_MIN_DAYS - 1)))).toBeNull();
    expect(judge(h, logon('temp', '81.2.70.1', at(23)))).toBeNull();
    expect(judge(h, logon('temp', '198.51.100.99', at(23)))).toBeNull();
  });

  it('leaves a dormant return to the rare-user rule: one alert for it', () => {
    const h = shortLived();
    const o = logon('temp', '203.0.113.50', at(40));
    const b = h.get('temp');
    // Dormant in the rare-user rule's sense (its population decides how surprising that is), so not judged here.
    expect(
      dormancy(b.activity.last, b.activity.first, b.activity.days, o.firstSeen, settings.dormantDays).dormant,
    ).toBe(true);
    expect(judge(h, o)).toBeNull();
    expect(judge(h, { ...o, firstSeen: at(29), lastSeen: at(29) })).not.toBeNull();
  });

  it('a user who logs on weekly is not surprised by a return on their own rhythm', () => {
    const h = new History();
    for (const d of [0, 7, 14, 21]) h.apply([logon('weekly', '81.2.69.142', at(d))]);
    expect(isUserMature(h.get('weekly'), settings)).toBe(false);
    expect(judge(h, logon('weekly', '203.0.113.50', at(28)))).toBeNull();
    // Gone twice their usual gap, from a network no one uses: judged.
    expect(judge(h, logon('weekly', '203.0.113.50', at(36)))).not.toBeNull();
  });

  it("a new hire's first week from a home ISP nobody else uses raises the rare-user alert once and nothing else", () => {
    // The office NAT, which thirty colleagues use; the new hire works there by day and from home (an ISP no one
    // else here uses) in the evenings, a new phone network on day 3, for their first week.
    const h = new History().shared('198.51.100.10', 30, T0 - DAY_MS);
    const rare: string[] = [];
    const unusual: string[] = [];
    for (let d = 0; d < 7; d++) {
      const day: LogonObservation[] = [
        logon('newhire', '198.51.100.10', at(d, 9)),
        logon('newhire', '198.51.100.10', at(d, 14)),
        logon('newhire', d === 3 ? '100.64.7.9' : '203.0.113.77', at(d, 20)),
      ];
      for (const o of day) {
        const input = {
          observation: o,
          baseline: h.users.get('newhire'),
          population: withNovelty(h.population),
          window: windowEndingAt(o.lastSeen + 15 * 60_000),
          settings,
        };
        const r = rareUser.evaluate(input);
        const u = unusualSourceIp.evaluate(input);
        if (r && r.score >= 75) rare.push(`${d} ${o.sourceIp}`);
        if (u && u.score >= 75) unusual.push(`${d} ${o.sourceIp}`);
        h.apply([o]);
      }
    }
    expect(rare).toEqual(['0 198.51.100.10']);
    expect(unusual).toEqual([]);
  });
});
