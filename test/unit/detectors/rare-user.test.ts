import { describe, expect, it } from 'vitest';
import { rareUser } from '../../../shared/core/detectors/rare-user';
import { dormancy } from '../../../shared/core/habits';
import { DAY_MS, windowEndingAt } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, T0, logon } from '../../support/history';

const settings = DEFAULT_SETTINGS;

function judge(h: History, user: string, ip: string, day: number) {
  const t = T0 + day * DAY_MS + 10 * HOUR;
  return rareUser.evaluate({
    observation: logon(user, ip, t),
    baseline: h.users.get(user),
    population: h.population,
    window: windowEndingAt(t + 15 * 60_000),
    settings,
  });
}

function office(days: number): History {
  const h = new History();
  for (let u = 0; u < 40; u++) h.daily(`user${u}`, [`198.51.100.${u + 1}`], { toDay: days });
  return h;
}

describe('Auth.RareUser', () => {
  it('flags a never-seen user name in a stable population', () => {
    const f = judge(office(15), 'svc-backup2', '10.9.9.9', 16);
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.evidence.kind).toBe('new');
    expect(f!.explanation).toContain('svc-backup2 logged on for the first time');
  });

  it('is not surprised by a new name where new names are constant (sign-up churn)', () => {
    const h = office(10);
    // After learning, a steady stream of first-time users: one in every few user-periods is new.
    for (let k = 0; k < 400; k++)
      h.apply([logon(`signup${k}`, `203.0.113.${k % 250}`, T0 + 10 * DAY_MS + k * 15 * 60_000)], false);
    expect(judge(h, 'signup-next', '203.0.113.9', 15)).toBeNull();
  });

  it("flags a dormant account's return", () => {
    const h = office(60);
    h.daily('leaver', ['198.51.100.200'], { toDay: 10 });
    const f = judge(h, 'leaver', '203.0.113.66', 55);
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.evidence.kind).toBe('dormant');
    expect(f!.evidence.dormant_days).toBe(45);
    expect(f!.explanation).toMatch(/after 45 days of silence/);
  });

  it('does not flag an active user', () => {
    expect(judge(office(15), 'user3', '198.51.100.4', 15)).toBeNull();
  });

  it("does not call a return on the user's usual long rhythm dormancy", () => {
    // Logs on every 40 days: a 41-day gap is their habit.
    expect(dormancy(T0 + 120 * DAY_MS, T0, 4, T0 + 161 * DAY_MS, 30).dormant).toBe(false);
    expect(dormancy(T0 + 10 * DAY_MS, T0, 10, T0 + 50 * DAY_MS, 30).dormant).toBe(true);
    expect(dormancy(T0 + 10 * DAY_MS, T0, 10, T0 + 30 * DAY_MS, 30).dormant).toBe(false);
  });
});
