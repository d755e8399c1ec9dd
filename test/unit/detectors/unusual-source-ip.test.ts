import { describe, expect, it } from 'vitest';
import { unusualSourceIp, noveltyLevel } from '../../../shared/core/detectors/unusual-source-ip';
import { DAY_MS, windowEndingAt } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { pooledNoveltyProbability, scoreFromProbability } from '../../../shared/core/scoring';
import { History, HOUR, T0, logon } from '../../support/history';

const settings = DEFAULT_SETTINGS;

function judge(h: History, user: string, ip: string, day: number) {
  const t = T0 + day * DAY_MS + 10 * HOUR;
  return unusualSourceIp.evaluate({
    observation: logon(user, ip, t),
    baseline: h.users.get(user),
    population: h.population,
    window: windowEndingAt(t + 15 * 60_000),
    settings,
  });
}

describe('Auth.UnusualSourceIp', () => {
  it('flags a stable user logging on from a never-seen network, and explains it with the numbers', () => {
    // Prepare: three weeks of one home address, twice a day.
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    // Act
    const f = judge(h, 'alice', '198.51.100.7', 22);
    // Assess
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.evidence.novelty_level).toBe('network');
    expect(f!.evidence.known_ips).toBe(1);
    expect(f!.explanation).toContain('alice logged on from 198.51.100.7');
    expect(f!.explanation).toContain('198.51.0.0/16');
    expect(f!.explanation).toMatch(/22 days of history/);
  });

  it('does not judge a known address', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    expect(judge(h, 'alice', '81.2.69.142', 22)).toBeNull();
  });

  it('scores a new address inside a known /24 lower than one in a never-seen range', () => {
    const h = new History().daily('alice', ['81.2.69.142', '81.2.69.143'], { toDay: 21 });
    const sameSubnet = judge(h, 'alice', '81.2.69.200', 22);
    const elsewhere = judge(h, 'alice', '203.0.113.50', 22);
    expect(elsewhere).not.toBeNull();
    const sameScore = sameSubnet?.score ?? 0;
    expect(sameScore).toBeLessThan(elsewhere!.score);
    expect(sameScore).toBeLessThan(75);
  });

  it('is not surprised by a mobile user whose address changes every day, within their carrier networks', () => {
    // A carrier-NAT user: a new address (and often a new /24) every day, always from two carrier /16s.
    const carrier = (d: number, i: number) =>
      i % 2 === 0 ? `100.64.${(d * 7) % 250}.${(d * 13 + i) % 250}` : `172.58.${(d * 11) % 250}.${(d * 3 + i) % 250}`;
    const h = new History().daily('mo', carrier, { toDay: 21, hours: [8, 12, 18] });
    const f = judge(h, 'mo', '100.64.251.9', 22);
    expect(f === null || f.score < 75).toBe(true);
  });

  it("still catches the mobile user's credentials used from a network they never use", () => {
    const carrier = (d: number, i: number) =>
      i % 2 === 0 ? `100.64.${(d * 7) % 250}.${(d * 13 + i) % 250}` : `172.58.${(d * 11) % 250}.${(d * 3 + i) % 250}`;
    const h = new History().daily('mo', carrier, { toDay: 21, hours: [8, 12, 18] });
    const f = judge(h, 'mo', '203.0.113.50', 22);
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(75);
  });

  it('treats an office NAT shared by hundreds of users as not unusual', () => {
    const h = new History()
      .daily('alice', ['81.2.69.142'], { toDay: 21 })
      .shared('198.51.100.10', 300, T0 + 3 * DAY_MS);
    expect(judge(h, 'alice', '198.51.100.10', 22)).toBeNull();
  });

  it('leaves users with too little history to learn', () => {
    const h = new History().daily('newbie', ['81.2.69.142'], { toDay: 2 });
    expect(judge(h, 'newbie', '203.0.113.50', 3)).toBeNull();
  });

  it('judges at the coarsest level at which the address is new', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 5 });
    const b = h.get('alice');
    expect(noveltyLevel(b, '81.2.69.142')).toBeNull();
    expect(noveltyLevel(b, '81.2.69.7')).toBe('ip');
    expect(noveltyLevel(b, '81.2.70.7')).toBe('prefix');
    expect(noveltyLevel(b, '9.9.9.9')).toBe('network');
  });

  it('handles IPv6 at /48 and /32', () => {
    const h = new History().daily('v6', ['2001:db8:aa:1::5'], { toDay: 21 });
    expect(noveltyLevel(h.get('v6'), '2001:db8:aa:2::5')).toBe('ip');
    expect(noveltyLevel(h.get('v6'), '2001:db8:bb::5')).toBe('prefix');
    expect(judge(h, 'v6', '2a00:1450::1', 22)!.score).toBeGreaterThanOrEqual(75);
  });

  it('never fires on failed logons', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    const t = T0 + 22 * DAY_MS;
    expect(
      unusualSourceIp.evaluate({
        observation: logon('alice', '203.0.113.5', t, { outcome: 'failure' }),
        baseline: h.get('alice'),
        population: h.population,
        window: windowEndingAt(t + 1),
        settings,
      }),
    ).toBeNull();
  });

  it("floors a new address inside a known subnet at the population's DHCP churn rate", () => {
    // Prepare: 30 home users whose ISP moves their lease inside the /24 every few days; alice's never moved.
    const h = new History();
    for (let u = 0; u < 30; u++) h.daily(`home${u}`, (d) => `81.3.${u}.${10 + Math.floor(d / 3)}`, { toDay: 21 });
    h.daily('alice', ['81.2.69.142'], { toDay: 21 });
    // Act
    const f = judge(h, 'alice', '81.2.69.200', 21);
    const elsewhere = judge(h, 'alice', '203.0.113.50', 21);
    // Assess: the lease change is no alert; a never-seen network still is.
    expect(f === null || f.score < settings.thresholds['Auth.UnusualSourceIp']).toBe(true);
    expect(elsewhere!.score).toBeGreaterThanOrEqual(settings.thresholds['Auth.UnusualSourceIp']);
  });

  it('keeps the DHCP churn floor for a user whose own long record makes any new address look rare', () => {
    // Why the test above cannot notice the floor: with three weeks of history, alice's own estimate is
    // still dominated by the population prior (the same users' churn), so it is high without the floor.
    // Here alice has months of busy, unchanging history: her own rate of new addresses is near zero, and
    // only the population's rate of new addresses inside an already-used subnet keeps a lease change quiet.
    const h = new History();
    for (let u = 0; u < 30; u++) h.daily(`home${u}`, (d) => `81.3.${u}.${10 + Math.floor(d / 6)}`, { toDay: 90 });
    h.daily('alice', ['81.2.69.142'], { toDay: 90, hours: [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] });
    const f = judge(h, 'alice', '81.2.69.200', 90);
    // The floor is what decides: alice's own probability alone would score above the alert threshold.
    const threshold = settings.thresholds['Auth.UnusualSourceIp'];
    expect(f === null || f.score < threshold).toBe(true);
    const pool = h.population.placeNovelty!;
    expect(pool.ipInKnownPrefix / pool.periods).toBeGreaterThan(settings.maxProbability);
    const b = h.get('alice');
    const own = pooledNoveltyProbability(b.novelty.ip, b.novelty.periods, pool.ip, pool.periods);
    expect(scoreFromProbability(own)).toBeGreaterThanOrEqual(threshold);
    // And the floor only covers the subnet: a never-seen network is still an alert.
    expect(judge(h, 'alice', '203.0.113.50', 90)!.score).toBeGreaterThanOrEqual(threshold);
  });

  it('does not let one other user of an address (a shared jump host) hide lateral movement', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    h.daily('svc-backup', ['10.20.0.20'], { toDay: 21, hours: [1, 2, 3, 4] });
    const f = judge(h, 'alice', '10.20.0.20', 22);
    expect(f!.score).toBeGreaterThanOrEqual(settings.thresholds['Auth.UnusualSourceIp']);
    expect(f!.explanation).toContain('1 other user logs on from this address');
  });

  it('for a user who changes carrier networks, flags a network no one in the organisation uses, not one colleagues use', () => {
    // Prepare: 20 mobile users hop between carrier pools 100.64–100.67 (a new address every logon,
    // now and then a pool they had not used); the pool 100.68 is used by colleagues only.
    const h = new History();
    for (let u = 0; u < 20; u++)
      h.daily(`m${u}`, (d, i) => `100.${64 + ((u + Math.floor(d / 5)) % 4)}.${u}.${(i % 200) + 1}`, {
        toDay: 21,
        hours: [8, 12, 17],
      });
    for (let u = 0; u < 5; u++) h.daily(`c${u}`, (_d, i) => `100.68.${u}.${(i % 200) + 1}`, { toDay: 21 });
    // Act
    const colleaguesNetwork = judge(h, 'm0', '100.68.77.1', 21);
    const nobodysNetwork = judge(h, 'm0', '203.0.113.50', 21);
    // Assess
    expect(nobodysNetwork).not.toBeNull();
    expect(nobodysNetwork!.evidence.users_sharing_network).toBe(0);
    expect(nobodysNetwork!.explanation).toContain('No other user has logged on from 203.0.0.0/16');
    expect(colleaguesNetwork?.score ?? 0).toBeLessThan(nobodysNetwork!.score);
  });
});
