/**
 * Auth.UnusualSourceIp with network owners (the enrichment's AS, organisation and country): a carrier's pool over
 * many /16s is one network, the country is a further level, a hosting provider's network nobody here uses is more
 * surprising for a user never seen on one, and none of it makes anyone look new before they have learned it.
 * Owners come from a table written for these tests (documentation AS numbers, fictitious organisations).
 */
import { describe, expect, it } from 'vitest';
import { noveltyLevel, unusualSourceIp } from '../../../shared/core/detectors/unusual-source-ip';
import { DAY_MS, windowEndingAt, type NetworkOwner } from '../../../shared/core/model';
import { hostingReason } from '../../../shared/core/network-data/hosting';
import { networkUsers, sharedUsers } from '../../../shared/core/population';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { pooledNoveltyProbability } from '../../../shared/core/scoring';
import { History, HOUR, T0, logon } from '../../support/history';

const settings = DEFAULT_SETTINGS;
const THRESHOLD = settings.thresholds['Auth.UnusualSourceIp'];

const MOBILE: NetworkOwner = { asn: 64500, org: 'EXAMPLE-MOBILE', country: 'NL' };
const BROADBAND: NetworkOwner = { asn: 64501, org: 'EXAMPLE-BROADBAND', country: 'NL' };
const HOSTING: NetworkOwner = { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'NL' };
/** The same network as `HOSTING` would be if its name did not say hosting: the control of the hosting tests. */
const NOT_HOSTING: NetworkOwner = { asn: 64498, org: 'EXAMPLE-FIBRE', country: 'NL' };
const ABROAD = ['DE', 'BE', 'ES', 'IT'];

/**
 * Who owns what in these tests: 100.x and 172.58.x a mobile carrier, 81.x one broadband ISP, 62.a.x a small Dutch
 * ISP per /16, 77.a.x a foreign ISP per /16 (77.150.x in FR, where nobody here goes), 52.x a cloud (AS16509, listed),
 * 185.x a VPN service on a hosting network, 203.0.113.x a hosting provider.
 */
function ownerOf(ip: string): NetworkOwner | undefined {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  if (a === 100 || (a === 172 && b === 58)) return MOBILE;
  if (a === 81) return BROADBAND;
  if (a === 62) return { asn: 65000 + b, org: `EXAMPLE-ISP-${b}`, country: 'NL' };
  if (a === 77) return { asn: 65300 + b, org: `EXAMPLE-TELCO-${b}`, country: b === 150 ? 'FR' : ABROAD[b % 4]! };
  if (a === 52) return { asn: 16509, org: 'AMAZON-02', country: 'US' };
  if (a === 185) return { asn: 64504, org: 'EXAMPLE-VPN-HOSTING', country: 'NL' };
  if (ip.startsWith('203.0.113.')) return HOSTING;
  return undefined;
}

function judge(h: History, user: string, ip: string, day: number, owner: NetworkOwner | undefined = ownerOf(ip)) {
  const t = T0 + day * DAY_MS + 10 * HOUR;
  return unusualSourceIp.evaluate({
    observation: logon(user, ip, t, owner ? { owner } : {}),
    baseline: h.users.get(user),
    population: h.population,
    window: windowEndingAt(t + 15 * 60_000),
    settings,
  });
}

/** A mobile user's day: a new carrier address every logon, from two carrier /16s (the existing carrier tests' pattern). */
const carrier = (d: number, i: number) =>
  i % 2 === 0 ? `100.64.${(d * 7) % 250}.${(d * 13 + i) % 250}` : `172.58.${(d * 11) % 250}.${(d * 3 + i) % 250}`;

/**
 * An organisation of 20 home users on the broadband ISP who now and then log on from another Dutch ISP (a café, a
 * friend's) and, more rarely, from abroad; one developer who also uses a cloud; and alice, at home every day.
 */
function organisation(h: History, days = 28): History {
  for (let k = 0; k < 20; k++)
    h.daily(
      `u${k}`,
      (d, i) =>
        i % 2 === 0
          ? `81.${10 + k}.1.1`
          : (d + k) % 19 === 0
            ? `77.${(k * 5 + d) % 140}.1.1`
            : (d + k) % 6 === 0
              ? `62.${(k * 7 + d) % 200}.1.1`
              : `81.${10 + k}.1.1`,
      { toDay: days },
    );
  h.daily('dev', (d, i) => (i % 2 === 0 ? '81.9.1.1' : d % 5 === 0 ? `52.${d}.1.1` : '81.9.1.1'), { toDay: days });
  return h.daily('alice', ['81.2.69.142'], { toDay: days });
}

describe("Auth.UnusualSourceIp: the network is the owner's AS", () => {
  it("takes a carrier's pool spread over many /16s as one network: a new /16 of the carrier is no alert where it was", () => {
    // Before: the same mobile user, learned without owners, judged at the network level on a new carrier /16.
    const before = judge(
      new History().daily('mo', carrier, { toDay: 21, hours: [8, 12, 18] }),
      'mo',
      '100.66.5.9',
      22,
      undefined,
    );
    expect(before!.evidence.novelty_level).toBe('network');
    expect(before!.score).toBeGreaterThanOrEqual(THRESHOLD);
    // After: with owners learned, the carrier's AS is known, so the /16 is judged as the subnet it is.
    const h = new History({ ownerOf }).daily('mo', carrier, { toDay: 21, hours: [8, 12, 18] });
    expect(noveltyLevel(h.get('mo'), '100.66.5.9', MOBILE)).toBe('prefix');
    const after = judge(h, 'mo', '100.66.5.9', 22);
    expect(after === null || after.score < THRESHOLD).toBe(true);
    // A network outside the carrier is still one.
    expect(judge(h, 'mo', '62.40.1.1', 22)!.score).toBeGreaterThanOrEqual(THRESHOLD);
  });

  it('still judges an attacker on the victim’s own ISP at the subnet and address levels', () => {
    const h = new History({ ownerOf }).daily('alice', ['81.2.69.142'], { toDay: 21 });
    // Another /16 of alice's ISP: no new network, but a new subnet for a user who never brings one.
    const f = judge(h, 'alice', '81.7.10.20', 22)!;
    expect(f.evidence.novelty_level).toBe('prefix');
    expect(f.score).toBeGreaterThanOrEqual(THRESHOLD);
    expect(f.evidence.network_owner).toBe('AS64501 EXAMPLE-BROADBAND');
    expect(f.explanation).toContain(
      'the subnet 81.7.10.0/24, which is new for this user (in AS64501 EXAMPLE-BROADBAND, a network this user uses)',
    );
    const b = h.get('alice');
    const pool = h.population.placeNovelty!;
    expect(f.evidence.p_user).toBe(
      pooledNoveltyProbability(b.novelty.prefix, b.novelty.periods, pool.prefix, pool.periods),
    );
    // Less novel than the same address judged as a new network without owners, never more.
    const without = judge(
      new History().daily('alice', ['81.2.69.142'], { toDay: 21 }),
      'alice',
      '81.7.10.20',
      22,
      undefined,
    )!;
    expect(without.evidence.novelty_level).toBe('network');
    expect(f.probability).toBeGreaterThanOrEqual(without.probability);
  });

  it("counts a carrier's users once per AS in the organisation's sketch, however many /16s they use", () => {
    const h = new History({ ownerOf });
    for (let k = 0; k < 5; k++) h.daily(`m${k}`, [`100.${64 + k}.1.${k + 1}`], { toDay: 2 });
    const sketch = h.population.sharedNetworks!;
    expect(sharedUsers(sketch, 'AS64500')).toBeCloseTo(5, 1);
    expect(sharedUsers(sketch, '100.64.0.0/16')).toBe(0);
    // A /16 of the carrier no one used yet is the carrier's all the same; without an owner, only its /16 counts.
    expect(networkUsers(sketch, '100.90.1.1', MOBILE)).toBeCloseTo(5, 1);
    expect(networkUsers(sketch, '100.90.1.1', undefined)).toBe(0);
  });
});

describe('Auth.UnusualSourceIp: the country level', () => {
  it("judges a new country by the user's own rate of new countries with the population's as the prior", () => {
    const h = organisation(new History({ ownerOf }));
    const b = h.get('alice');
    const pool = h.population.placeNovelty!;
    expect(b.novelty.ownerPeriods).toBeGreaterThan(0);
    expect(pool.country).toBeGreaterThan(0);
    expect(pool.ownerPeriods).toBeGreaterThan(0);
    // Act: alice from an ISP in France, where nobody here logs on from.
    const f = judge(h, 'alice', '77.150.3.4', 28)!;
    // Assess
    const pCountry = pooledNoveltyProbability(
      b.novelty.country!,
      b.novelty.ownerPeriods!,
      pool.country!,
      pool.ownerPeriods!,
    );
    expect(f.evidence).toMatchObject({
      novelty_level: 'country',
      new_place: 'FR',
      network_country: 'FR',
      users_sharing_country: 0,
      p_user: pCountry,
    });
    // Either a new country or joining one colleagues use: nobody here does, so the country's own rate decides.
    expect(f.evidence.p_country).toBeCloseTo(pCountry, 12);
    expect(f.probability).toBeCloseTo(pCountry, 12);
    expect(f.explanation).toContain('the country FR (network AS65450 EXAMPLE-TELCO-150), which is new for this user');
    expect(f.explanation).toMatch(
      /brought a new country in 0% of \d+ periods since their countries were learned \(all users: [\d.]+%\)/,
    );
    expect(f.explanation).toContain('No other user logs on from FR.');
    // The same network at home is judged at the network level, and is less surprising than a new country.
    const home = judge(h, 'alice', '77.150.3.4', 28, { asn: 65450, org: 'EXAMPLE-TELCO-150', country: 'NL' })!;
    expect(home.evidence.novelty_level).toBe('network');
    expect(home.evidence.p_country).toBe(1);
    expect(f.probability).toBeLessThan(home.probability);
  });

  it('does not take a new country for a new address of a subnet the user already uses (the data changed)', () => {
    const h = organisation(new History({ ownerOf }));
    const f = judge(h, 'alice', '81.2.69.77', 28, { ...BROADBAND, country: 'DE' });
    expect(f?.evidence.p_country ?? 1).toBe(1);
    expect(f?.evidence.novelty_level ?? 'ip').toBe('ip');
    // Its subnet's neighbour, new, in the same data: judged at the country level.
    expect(judge(h, 'alice', '81.2.70.77', 28, { ...BROADBAND, country: 'DE' })!.evidence.novelty_level).toBe(
      'country',
    );
  });

  it("judges neither countries nor hosting until the user's owner knowledge has matured", () => {
    // Carol's address had no owner data until day 26 (say, her ISP was missing from it); everyone else's had.
    const carolHome = '81.2.70.10';
    const h = organisation(
      new History({ ownerOf: (ip, at) => (ip === carolHome && at < T0 + 26 * DAY_MS ? undefined : ownerOf(ip)) }),
    ).daily('carol', [carolHome], { toDay: 28 });
    expect(h.get('carol').ownerActivity!.days).toBe(2);
    expect(h.population.placeNovelty!.networkOwned).toBeGreaterThanOrEqual(10);
    // A new country and a hosting network nobody uses: judged as the new networks they are, nothing more ...
    for (const ip of ['77.150.3.4', '203.0.113.50']) {
      const f = judge(h, 'carol', ip, 28)!;
      expect(f.evidence.novelty_level, ip).toBe('network');
      expect(f.evidence.p_country, ip).toBe(1);
      expect(f.evidence.hosting_network_share, ip).toBe(1);
      // ... exactly as without any owner.
      expect(f.probability, ip).toBe(judge(h, 'carol', ip, 28, undefined)!.probability);
    }
    // Alice, whose owners were learned all along, meets both.
    expect(judge(h, 'alice', '77.150.3.4', 28)!.evidence.novelty_level).toBe('country');
    expect(judge(h, 'alice', '203.0.113.50', 28)!.evidence.hosting_network_share).toBeLessThan(1);
  });
});

describe("Auth.UnusualSourceIp: hosting providers' networks", () => {
  it('names the hosting providers by data: listed AS numbers and words in the name', () => {
    expect(hostingReason({ asn: 16509, org: 'AMAZON-02' })).toBe('listed');
    expect(hostingReason(HOSTING)).toBe('named');
    expect(hostingReason({ asn: 1, org: 'HOSTINGER-LIKE-ISP' })).toBeUndefined();
    expect(hostingReason(NOT_HOSTING)).toBeUndefined();
  });

  it('makes a new hosting network nobody here uses more surprising for a user never seen on one', () => {
    const h = organisation(new History({ ownerOf }));
    const pool = h.population.placeNovelty!;
    expect(pool.networkOwned).toBeGreaterThanOrEqual(10);
    // Act: the same new network, once named as a hosting provider, once not.
    const hosting = judge(h, 'alice', '203.0.113.50', 28, HOSTING)!;
    const control = judge(h, 'alice', '203.0.113.50', 28, NOT_HOSTING)!;
    // Assess: only the hosting share of new networks is left of the probability.
    const share = (pool.networkHosting! + 0.5) / (pool.networkOwned! + 1);
    expect(hosting.evidence.hosting_network_share).toBe(share);
    expect(share).toBeLessThan(control.evidence.org_novel_network_share as number);
    expect(control.evidence.hosting_network_share).toBe(1);
    expect(hosting.evidence.p_user).toBe(control.evidence.p_user);
    expect(hosting.probability).toBeCloseTo((control.evidence.p_user as number) * share, 12);
    expect(hosting.probability).toBeLessThan(control.probability);
    expect(hosting.score).toBeGreaterThan(control.score);
    expect(hosting.evidence.hosting_provider).toBe(true);
    expect(hosting.explanation).toContain(
      'the network AS64498 EXAMPLE-HOSTING (NL), a hosting provider, which is new for this user',
    );
    expect(hosting.explanation).toContain("This user has never logged on from a hosting provider's network");
  });

  it('is no more surprising for a user who uses a cloud already', () => {
    const h = organisation(new History({ ownerOf }));
    expect(h.get('dev').hostingActivity).toBeDefined();
    const hosting = judge(h, 'dev', '203.0.113.50', 28, HOSTING);
    const control = judge(h, 'dev', '203.0.113.50', 28, NOT_HOSTING);
    expect(hosting?.probability).toBe(control?.probability);
    if (hosting) expect(hosting.evidence.hosting_network_share).toBe(1);
  });

  it('does not take a hosting network as the organisation’s after an attacker tried one other account from it', () => {
    const h = organisation(new History({ ownerOf }));
    const first = judge(h, 'alice', '203.0.113.50', 28)!;
    // Act: the day before, another account logged on from another address of the same hosting AS (the attacker's
    // previous try); then, for comparison, three colleagues who use it every day.
    h.apply([logon('u3', '203.0.113.77', T0 + 27 * DAY_MS + 9 * HOUR)]);
    const second = judge(h, 'alice', '203.0.113.50', 28)!;
    for (let k = 0; k < 3; k++) h.daily(`dev${k}`, [`203.0.113.${90 + k}`], { fromDay: 20, toDay: 28 });
    const used = judge(h, 'alice', '203.0.113.50', 28);
    // Assess: one other user on the AS keeps nearly all of the hosting discount; the organisation's own use of it
    // takes the discount away.
    expect(second.evidence.users_sharing_network).toBe(1);
    expect(second.evidence.hosting_network_share).toBeLessThan(2 * (first.evidence.hosting_network_share as number));
    expect(second.score).toBeGreaterThanOrEqual(THRESHOLD);
    expect(second.explanation).toContain('So few others use AS64498 EXAMPLE-HOSTING');
    expect(used === null || used.probability > 10 * second.probability).toBe(true);
  });

  it('takes a VPN provider the organisation uses as an ordinary network, whatever network it runs on', () => {
    // Prepare: 20 colleagues on the VPN service (a hosting network by its name), each through exits in several /16s.
    const h = organisation(new History({ ownerOf }));
    for (let k = 0; k < 20; k++) h.daily(`v${k}`, (d) => `185.${(k + d) % 6}.${k}.1`, { toDay: 28 });
    // Act: alice's first logon through it, from an exit in a /16 no one used; and the same network not named hosting.
    const vpn = judge(h, 'alice', '185.9.1.1', 28)!;
    const plain = judge(h, 'alice', '185.9.1.1', 28, { asn: 64504, org: 'EXAMPLE-VPN', country: 'NL' })!;
    // Assess: the colleagues count, by the provider's AS, across its /16s; no hosting surprise is added.
    expect(vpn.evidence.users_sharing_network).toBeGreaterThanOrEqual(19);
    expect(vpn.evidence.hosting_network_share).toBe(1);
    expect(vpn.evidence.org_novel_network_share).toBe(1);
    expect(vpn.probability).toBe(plain.probability);
    // The shares that no longer weigh are not put in words ("so few others use it… (100%)" read as a contradiction).
    expect(vpn.explanation).not.toContain('So few others use');
    expect(vpn.explanation).not.toContain('No other user has logged on from');
    expect(vpn.explanation).not.toContain("never logged on from a hosting provider's network");
    // ... where a hosting network nobody uses is judged with the hosting share.
    expect(judge(h, 'alice', '203.0.113.50', 28)!.probability).toBeLessThan(vpn.probability);
  });
});

describe('Auth.UnusualSourceIp: baselines stored before owners were learned', () => {
  it('judges a user without owners exactly as before, whatever the address’s owner', () => {
    // The organisation and alice learned without network data: stored baselines of a deployment before upgrading.
    const h = organisation(new History());
    expect(h.get('alice').owners).toBeUndefined();
    expect(h.population.sharedCountries).toBeUndefined();
    for (const [ip, owner] of [
      ['203.0.113.50', HOSTING],
      ['77.150.3.4', ownerOf('77.150.3.4')],
      ['81.7.10.20', BROADBAND],
    ] as const) {
      const now = judge(h, 'alice', ip, 28, owner);
      const then = judge(h, 'alice', ip, 28, undefined);
      expect(now!.probability, ip).toBe(then!.probability);
      expect(now!.evidence.novelty_level, ip).toBe(then!.evidence.novelty_level);
    }
  });
});
