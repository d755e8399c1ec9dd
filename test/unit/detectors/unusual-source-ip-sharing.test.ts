/**
 * Auth.UnusualSourceIp: when other users' presence makes a new address unsurprising, and when it must
 * not. Shared egress (an office NAT, a NAT pool) should hide a newcomer; a handful of accounts on one host
 * (a jump host, a server subnet) must not, or lateral movement would hide behind them.
 */
import { describe, expect, it } from 'vitest';
import { busiestAddressIn, sharedProbability, unusualSourceIp } from '../../../shared/core/detectors/unusual-source-ip';
import { DAY_MS, windowEndingAt, type SketchCounter } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, T0, logon } from '../../support/history';

const settings = DEFAULT_SETTINGS;
const THRESHOLD = settings.thresholds['Auth.UnusualSourceIp'];

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

const counter = (count: number, error = 0): SketchCounter => ({ count, error, last: T0 });

describe('sharedProbability', () => {
  it('barely moves for a handful of users and approaches certainty for a crowd, as documented', () => {
    expect(sharedProbability(0)).toBe(0);
    expect(sharedProbability(1)).toBeCloseTo(0.0023, 4);
    expect(sharedProbability(5)).toBeCloseTo(0.04, 4);
    expect(sharedProbability(20)).toBe(0.25);
    expect(sharedProbability(50)).toBeCloseTo(0.51, 2);
    expect(sharedProbability(300)).toBeCloseTo(0.88, 2);
  });
});

describe('busiestAddressIn', () => {
  it('is the most users of any other address of the same subnet, not counting the address itself', () => {
    const sharedIps = {
      '198.51.100.10': counter(40),
      '198.51.100.11': counter(25, 5), // the sketch's lower bound: 20
      '198.51.100.12': counter(90), // the address being judged
      '198.51.101.10': counter(300), // another /24
    };
    expect(busiestAddressIn(sharedIps, '198.51.100.0/24', '198.51.100.12')).toBe(40);
    expect(busiestAddressIn(sharedIps, '198.51.100.0/24', '198.51.100.10')).toBe(90);
    expect(busiestAddressIn(sharedIps, '198.51.102.0/24', '198.51.102.1')).toBe(0);
  });
});

describe('Auth.UnusualSourceIp and shared places', () => {
  it('treats a new address of a NAT pool whose other addresses serve dozens as the pool, not a new place', () => {
    // Prepare: alice's three weeks at home; 60 colleagues each log on from the office pool .10 and .11.
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    h.shared('198.51.100.10', 60, T0 + 3 * DAY_MS, 'a').shared('198.51.100.11', 60, T0 + 4 * DAY_MS, 'b');
    // Act: alice's first logon from the pool's address .12, which no one has used yet.
    const f = judge(h, 'alice', '198.51.100.12', 21);
    // Assess: not an alert, where the same new network without the pool is one.
    expect(f === null || f.score < THRESHOLD).toBe(true);
    const alone = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    expect(judge(alone, 'alice', '198.51.100.12', 21)!.score).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('does not let a server subnet whose addresses each serve one account hide a new logon there', () => {
    // Prepare: 40 service accounts, each on its own address of 10.20.30.0/24 (a crowd of accounts, no crowd per address).
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    for (let k = 0; k < 40; k++) h.daily(`svc${k}`, [`10.20.30.${k + 1}`], { toDay: 21, hours: [3] });
    // Act: alice logs on from another address of that subnet.
    const f = judge(h, 'alice', '10.20.30.200', 21);
    // Assess: still a finding, the crowd of accounts adding next to nothing (one user per address), and
    // the explanation says how few use any one address.
    expect(f).not.toBeNull();
    expect(f!.evidence.p_shared).toBeLessThan(0.002);
    expect(f!.probability).toBeLessThan(2 * (f!.evidence.p_user as number));
    // Counts of users sharing a place fade with the common half-life, so the 40 accounts last seen at 03:00 count
    // as a little under 40 by alice's logon, shown in whole users.
    expect(f!.evidence.users_sharing_prefix).toBeGreaterThanOrEqual(39);
    expect(f!.evidence.users_sharing_prefix).toBeLessThanOrEqual(40);
    expect(f!.evidence.busiest_address_in_prefix).toBe(1);
    expect(f!.explanation).toMatch(
      /(39|40) other users log on from its subnet 10\.20\.30\.0\/24 \(at most 1 from any one of its addresses\)/,
    );
  });

  it('explains a new network with the numbers an analyst checks', () => {
    const h = new History().daily('alice', ['81.2.69.142', '81.2.69.143'], { toDay: 21 });
    const f = judge(h, 'alice', '198.51.100.7', 21)!;
    expect(f.evidence).toMatchObject({
      novelty_level: 'network',
      new_place: '198.51.0.0/16',
      known_ips: 2,
      known_prefixes: 1,
      known_networks: 1,
      users_sharing_ip: 0,
      users_sharing_prefix: 0,
      users_sharing_network: 0,
      user_address_churn: expect.any(Number),
      most_recent_known_ip: '81.2.69.143',
    });
    expect(f.explanation).toContain('the network 198.51.0.0/16, which is new for this user');
    expect(f.explanation).toContain('2 known addresses in 1 network');
    expect(f.explanation).toContain('no other user is known to log on from it');
    expect(f.probability).toBeLessThanOrEqual(settings.maxProbability);
    expect(f.score).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('names the colleague sharing an address, in the singular', () => {
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 });
    h.daily('bob', ['203.0.113.40'], { toDay: 21 });
    const f = judge(h, 'alice', '203.0.113.40', 21)!;
    expect(f.evidence.users_sharing_ip).toBe(1);
    expect(f.explanation).toContain('1 other user logs on from this address');
  });

  it("says so when the organisation's lease churn, not the user's own record, set the probability", () => {
    // Prepare: 30 home users whose lease moves inside their /24 every 20 days or so; alice, three months
    // at one address and busy every hour: her own record alone would make any new address alarming.
    const h = new History();
    for (let u = 0; u < 30; u++)
      h.daily(`home${u}`, (d) => `81.3.${u}.${10 + Math.floor((d + u) / 20)}`, { toDay: 90 });
    h.daily('alice', ['81.2.69.142'], { toDay: 90, hours: [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] });
    // Act
    const f = judge(h, 'alice', '81.2.69.200', 90)!;
    // Assess: a finding below the alert threshold, at the population's churn rate, saying why.
    expect(f).not.toBeNull();
    expect(f.score).toBeLessThan(THRESHOLD);
    expect(f.evidence.p_churn).toBeGreaterThan(f.evidence.p_user as number);
    expect(f.probability).toBeGreaterThanOrEqual(f.evidence.p_churn as number);
    expect(f.explanation).toMatch(/a new address in the known subnet 81\.2\.69\.0\/24/);
    expect(f.explanation).toMatch(
      /Across all users, a new address inside an already-used subnet comes in [\d.]+% of periods, which is the floor used\./,
    );
  });
});
