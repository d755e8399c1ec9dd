import { describe, expect, it } from 'vitest';
import { manyUsersFromSource } from '../../../shared/core/detectors/many-users-from-source';
import {
  DAY_MS,
  emptyPopulation,
  type LogonObservation,
  type PopulationStats,
  type UserBaseline,
} from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { HOUR, History, logon, T0 } from '../../support/history';

const DAY = T0 + 20 * DAY_MS;
const WINDOW = { start: DAY + 10 * HOUR, end: DAY + 10 * HOUR + 30 * 60_000 };
const PEOPLE = Array.from({ length: 12 }, (_, i) => `p${i}`);
const history = (() => {
  const h = new History();
  PEOPLE.forEach((u, i) => {
    // Each at home; the first six also through the office NAT, which many colleagues share.
    h.daily(u, i < 6 ? [`81.2.${i}.10`, '192.0.2.1'] : [`81.2.${i}.10`], { toDay: 16 });
  });
  h.shared('192.0.2.1', 40, T0 + 15 * DAY_MS);
  return h;
})();
const baselines: Map<string, UserBaseline> = history.users;

function judge(observations: LogonObservation[], population: PopulationStats = emptyPopulation()) {
  return manyUsersFromSource.evaluateWindow({
    observations,
    baselines,
    allTargetsRead: true,
    population,
    window: WINDOW,
    settings: DEFAULT_SETTINGS,
  });
}

const at = (i: number) => WINDOW.start + i * 60_000;

describe('Auth.ManyUsersFromSource', () => {
  it('raises one finding naming the users a new address logged on as', () => {
    const obs = PEOPLE.slice(0, 7).map((u, i) => logon(u, '203.0.113.50', at(i)));
    const [f, ...rest] = judge(obs);
    expect(rest).toEqual([]);
    expect(f!.user).toBe('');
    expect(f!.sourceKey).toBe('203.0.113.50');
    expect(f!.users!.map((u) => u.name).sort()).toEqual(PEOPLE.slice(0, 7).sort());
    expect(f!.score).toBeGreaterThanOrEqual(85);
    expect(f!.explanation).toBe(
      '203.0.113.50 logged on successfully as 7 different users in 30 minutes, new to 7 of them: p0, p1, p2, p3, p4 and 2 more. No one in the organisation logged on from it before. Probability 0.00064.',
    );
  });

  it('does not raise the office NAT its users log on from, nor an address the organisation shares', () => {
    expect(judge(PEOPLE.slice(0, 6).map((u, i) => logon(u, '192.0.2.1', at(i))))).toEqual([]);
    // Newcomers at an address forty colleagues use are ordinary.
    expect(
      judge(
        PEOPLE.slice(6, 12).map((u, i) => logon(u, '192.0.2.1', at(i))),
        history.population,
      ),
    ).toEqual([]);
    // Nor at another address of the subnet they share (the same building, another NAT address).
    expect(
      judge(
        PEOPLE.slice(6, 12).map((u, i) => logon(u, '192.0.2.99', at(i))),
        history.population,
      ),
    ).toEqual([]);
    // The same newcomers at an address no one uses are not.
    const elsewhere = PEOPLE.slice(6, 12).map((u, i) => logon(u, '198.51.100.99', at(i)));
    expect(judge(elsewhere, history.population)).toHaveLength(1);
  });

  it('does not raise a few users (a shared desk, a family)', () => {
    expect(judge(PEOPLE.slice(0, 3).map((u, i) => logon(u, '203.0.113.50', at(i))))).toEqual([]);
  });

  it('weighs a new address on a network the users know at half: a new address in their subnet family is less', () => {
    // A new address of 81.2.x.x, the network of every user here: 7 users weigh 3.5, below the threshold.
    const found = judge(PEOPLE.slice(0, 7).map((u, i) => logon(u, '81.2.200.1', at(i))));
    expect(found.map((f) => f.evidence.weighted_new_users)).toEqual([3.5]);
    expect(found[0]!.score).toBeLessThan(manyUsersFromSource.defaultThreshold);
  });
});
