import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeBaselineUpdate } from '../../../shared/core/baseline-update';
import { DETECTORS, unusualSourceIp } from '../../../shared/core/detectors';
import { readSlice } from '../../../shared/core/detectors/state';
import { combinedProbability, unusualHour } from '../../../shared/core/detectors/unusual-hour';
import {
  isAroundTheClock,
  smooth,
  sum,
  tailProbability,
  usualHours,
} from '../../../shared/core/detectors/unusual-hour/hours';
import {
  learnUserHours,
  RECENT_BUCKETS,
  unusualHourState,
  type UserHours,
} from '../../../shared/core/detectors/unusual-hour/state';
import {
  BUCKET_MS,
  bucketOf,
  DAY_MS,
  emptyPopulation,
  type LogonObservation,
  type PopulationStats,
  type UserBaseline,
} from '../../../shared/core/model';
import {
  detectionSettingsSchema,
  type DetectionSettings,
  type DetectionSettingsInput,
} from '../../../shared/core/settings';
import { logon } from '../../support/history';

const NY = 'America/New_York';
const settingsOf = (s: DetectionSettingsInput = {}): DetectionSettings => detectionSettingsSchema.parse(s);
const NY_SETTINGS = settingsOf({ timeZone: NY });
const HOME = '198.51.100.7';

/** Epoch ms of a wall-clock time given with its UTC offset, e.g. at('2026-02-24T03:12-05:00'). */
const at = (iso: string) => Date.parse(iso);

interface World {
  users: Map<string, UserBaseline>;
  population: PopulationStats;
}

/** Learn logons as production does: one window per 15-minute bucket, in time order. */
function learn(logons: readonly LogonObservation[], settings: DetectionSettings, w?: World): World {
  const world: World = w ?? { users: new Map(), population: emptyPopulation() };
  const byBucket = new Map<number, LogonObservation[]>();
  for (const o of logons) {
    const b = bucketOf(o.lastSeen);
    byBucket.set(b, [...(byBucket.get(b) ?? []), o]);
  }
  for (const b of [...byBucket.keys()].sort((x, y) => x - y)) {
    const u = computeBaselineUpdate(byBucket.get(b)!, world.users, world.population, {
      windowEnd: (b + 1) * BUCKET_MS,
      learning: true,
      settings,
    });
    for (const x of u.users) world.users.set(x.user, { ...x, version: x.version + 1 });
    world.population = u.population;
  }
  return world;
}

/** Local wall-clock days from `first` (a YYYY-MM-DD in February 2026, EST) for `days` days. */
function febDays(days: number): string[] {
  return Array.from({ length: days }, (_, d) => new Date(Date.UTC(2026, 1, 2 + d)).toISOString().slice(0, 10));
}

function isWeekendDate(date: string): boolean {
  const wd = new Date(`${date}T12:00:00Z`).getUTCDay();
  return wd === 0 || wd === 6;
}

/** An office worker in New York: weekdays, six logons between 08:30 and 17:30 local time (EST in February). */
function officeWorker(user: string, ip = HOME, days = 21, offset = '-05:00'): LogonObservation[] {
  const times = ['08:30', '10:05', '12:40', '14:10', '16:20', '17:35'];
  return febDays(days)
    .filter((d) => !isWeekendDate(d))
    .flatMap((d) => times.map((t) => logon(user, ip, at(`${d}T${t}:00${offset}`))));
}

/** A small organisation of office workers, `alice` among them. */
function office(settings = NY_SETTINGS): World {
  const logons = ['alice', 'bob', 'carol', 'dave', 'erin'].flatMap((u, i) => officeWorker(u, `198.51.100.${10 + i}`));
  return learn(
    logons.map((o) => (o.user === 'alice' ? { ...o, sourceIp: HOME } : o)),
    settings,
  );
}

function judge(w: World, o: LogonObservation, settings = NY_SETTINGS) {
  return unusualHour.evaluate({
    observation: o,
    baseline: w.users.get(o.user),
    population: w.population,
    window: { start: o.firstSeen - 15 * 60_000, end: o.firstSeen + 15 * 60_000 },
    settings,
  });
}

describe('Auth.UnusualHour', () => {
  it('is registered, with Elastic’s job, severity and risk score, and a threshold above the seed rules’ 75', () => {
    expect(DETECTORS).toContain(unusualHour);
    expect(unusualHour).toMatchObject({
      elasticJob: 'auth_rare_hour_for_a_user',
      severity: 'low',
      riskScore: 21,
      defaultThreshold: 85,
    });
    expect(unusualHour.mitre.tactic.id).toBe('TA0001');
  });

  it('alerts on a stolen credential used at 03:12 from the user’s own usual address, which the IP rule misses', () => {
    const w = office();
    const o = logon('alice', HOME, at('2026-02-24T03:12:00-05:00'));
    const f = judge(w, o);
    expect(f).not.toBeNull();
    expect(f!.score).toBeGreaterThanOrEqual(unusualHour.defaultThreshold);
    expect(f!.explanation).toContain('03:12 on a Tuesday, America/New_York time');
    expect(f!.explanation).toMatch(/an hour with no activity in \d+ days of learned pattern/);
    expect(f!.explanation).toMatch(/On weekdays alice logs on 08:00–18:00 \(\d+% of \d+ active periods\)/);
    expect(f!.evidence).toMatchObject({
      local_time: '03:12',
      local_day: 'Tuesday',
      time_zone: NY,
      usual_hours: '08:00–18:00',
    });
    // The address is the user's own: the unusual-IP detector has nothing to say.
    expect(
      unusualSourceIp.evaluate({
        observation: o,
        baseline: w.users.get('alice'),
        population: w.population,
        window: { start: o.firstSeen - 15 * 60_000, end: o.firstSeen + 15 * 60_000 },
        settings: NY_SETTINGS,
      }),
    ).toBeNull();
  });

  it('stays quiet in usual hours, and for an evening next to the usual end of the day', () => {
    const w = office();
    expect(judge(w, logon('alice', HOME, at('2026-02-24T10:30:00-05:00')))).toBeNull();
    expect(judge(w, logon('alice', HOME, at('2026-02-24T07:40:00-05:00')))).toBeNull();
    const evening = judge(w, logon('alice', HOME, at('2026-02-24T19:20:00-05:00')));
    expect(evening === null || evening.score < unusualHour.defaultThreshold).toBe(true);
    // Deep night is judged more unusual than the evening next to the working day.
    const night = judge(w, logon('alice', HOME, at('2026-02-24T02:50:00-05:00')));
    expect(night!.probability).toBeLessThan(evening?.probability ?? 1);
  });

  it('judges in local time across a daylight-saving change: 09:00 after the clocks moved is still 09:00', () => {
    const w = office();
    // 2026-03-09 is the first Monday of EDT (UTC−4): 09:00 local is 13:00 UTC, an hour earlier in UTC than in February.
    expect(judge(w, logon('alice', HOME, at('2026-03-09T09:00:00-04:00')))).toBeNull();
    expect(judge(w, logon('alice', HOME, at('2026-03-09T03:10:00-04:00')))).not.toBeNull();
  });

  it('learns weekends apart: a weekday worker’s Saturday morning is fine, Saturday 03:00 is not', () => {
    const w = office();
    expect(judge(w, logon('alice', HOME, at('2026-02-28T11:00:00-05:00')))).toBeNull();
    const f = judge(w, logon('alice', HOME, at('2026-02-28T03:05:00-05:00')));
    expect(f).not.toBeNull();
    expect(f!.explanation).toContain('seldom at weekends');
  });

  it('never alerts on an account active around the clock', () => {
    const hourly = febDays(21).flatMap((d) =>
      Array.from({ length: 24 }, (_, h) =>
        logon('svc-backup', '10.0.0.5', at(`${d}T${String(h).padStart(2, '0')}:20:00-05:00`)),
      ),
    );
    const w = learn(hourly, NY_SETTINGS, office());
    const u = w.users.get('svc-backup')!;
    expect(isAroundTheClock(unusualHourState.user!.schema.parse(u.detectorState!.hour))).toBe(true);
    expect(judge(w, logon('svc-backup', '10.0.0.5', at('2026-02-24T03:40:00-05:00')))).toBeNull();
    // Nor does it teach the organisation that 03:00 is an ordinary hour for people: only its first day, before
    // its pattern showed it works around the clock, was counted (once an hour; 21 days of it would be 15).
    const pop = w.population.detectorState?.hour as { weekday: number[] };
    expect(pop.weekday[3]).toBeLessThanOrEqual(1);
    expect(judge(w, logon('alice', HOME, at('2026-02-24T03:12:00-05:00')))).not.toBeNull();
  });

  it('needs a mature user with a week of learned pattern', () => {
    const young = learn(officeWorker('newbie', HOME, 4), NY_SETTINGS, office());
    expect(judge(young, logon('newbie', HOME, at('2026-02-06T03:10:00-05:00')))).toBeNull();
    expect(judge(office(), logon('nobody', HOME, at('2026-02-24T03:10:00-05:00')))).toBeNull();
  });

  it('raises one alert per session: a logon right after activity already judged continues that session', () => {
    const w = office();
    const first = logon('alice', HOME, at('2026-02-24T03:12:00-05:00'));
    expect(judge(w, first)).not.toBeNull();
    // The run after the alert learned the 03:12 logon; 20 minutes later the same session goes on.
    const later = learn([first], NY_SETTINGS, w);
    expect(judge(later, logon('alice', HOME, at('2026-02-24T03:32:00-05:00')))).toBeNull();
    // The next night is a new session.
    expect(judge(later, logon('alice', HOME, at('2026-02-25T03:12:00-05:00')))).not.toBeNull();
  });

  it('judges each user in their own zone (userTimeZones), and moves learned hours when the zone changes', () => {
    const berlin = settingsOf({ timeZone: NY, userTimeZones: [{ pattern: 'emea-*', timeZone: 'Europe/Berlin' }] });
    // emea-jo works 08:30–17:35 in Berlin (CET, UTC+1): 02:30–11:35 in New York.
    const w = learn(officeWorker('emea-jo', '203.0.113.20', 21, '+01:00'), berlin, office(berlin));
    expect(judge(w, logon('emea-jo', '203.0.113.20', at('2026-02-24T09:00:00+01:00')), berlin)).toBeNull();
    expect(judge(w, logon('emea-jo', '203.0.113.20', at('2026-02-24T03:00:00+01:00')), berlin)).not.toBeNull();
    // The same history judged as if the user were in New York: the stored counts move with the clock, so
    // 09:00 Berlin (03:00 New York) is still their usual morning, not a night logon.
    expect(judge(w, logon('emea-jo', '203.0.113.20', at('2026-02-24T09:00:00+01:00')), NY_SETTINGS)).toBeNull();
  });

  it('learns idempotently per bucket: the overlapping half of the next window or a retried window counts nothing twice', () => {
    const o = logon('alice', HOME, at('2026-02-24T10:05:00-05:00'));
    const once = learnUserHours(undefined, 'alice', [o], NY_SETTINGS, o.lastSeen + 1)!;
    expect(sum(once.weekday)).toBeCloseTo(1, 3);
    expect(learnUserHours(once, 'alice', [o], NY_SETTINGS, o.lastSeen + BUCKET_MS)).toBe(once);
    // A logon spanning two buckets counts both, once.
    const span = { ...o, firstSeen: o.firstSeen, lastSeen: o.firstSeen + BUCKET_MS };
    const two = learnUserHours(undefined, 'alice', [span], NY_SETTINGS, span.lastSeen + 1)!;
    expect(sum(two.weekday)).toBeCloseTo(2, 2);
    expect(learnUserHours(two, 'alice', [span, o], NY_SETTINGS, span.lastSeen + 1)).toBe(two);
    // The memory of counted buckets is bounded; a bucket older than all of it is not counted again.
    let s: UserHours | undefined;
    for (let k = 0; k < RECENT_BUCKETS + 4; k++) {
      const x = logon('alice', HOME, o.firstSeen + k * BUCKET_MS);
      s = learnUserHours(s, 'alice', [x], NY_SETTINGS, x.lastSeen + 1);
    }
    expect(s!.recent).toHaveLength(RECENT_BUCKETS);
    expect(learnUserHours(s, 'alice', [o], NY_SETTINGS, o.lastSeen + 1)).toBe(s);
  });

  it('learns the population’s hours from every user in their own zone, the prior of users with little history', () => {
    const w = office();
    const pop = w.population.detectorState?.hour as { weekday: number[]; weekend: number[] };
    expect(usualHours(pop.weekday)).toMatchObject({ from: 8, to: 18 });
    expect(sum(pop.weekend)).toBe(0);
    // Re-learning the same windows (a retried run) leaves the population as it was.
    const again = learn(officeWorker('alice', HOME), NY_SETTINGS, w);
    expect(again.population.detectorState?.hour).toEqual(w.population.detectorState?.hour);
  });

  it('weighs an hour by how unusual it is for the user and for colleagues: evening mail is weaker evidence than 03:00', () => {
    expect(combinedProbability(0.004, 1)).toBeCloseTo(0.063, 3);
    expect(combinedProbability(0.004, 0.03)).toBeGreaterThan(combinedProbability(0.004, 0.004));
    // With colleagues often on at 21:00, alice's first 21:00 logon scores below her first 03:00 one.
    const logons = ['bob', 'carol', 'dave'].flatMap((u) =>
      febDays(21)
        .filter((d) => !isWeekendDate(d))
        .map((d) => logon(u, '198.51.100.30', at(`${d}T21:10:00-05:00`))),
    );
    const w = learn(logons, NY_SETTINGS, office());
    const evening = judge(w, logon('alice', HOME, at('2026-02-24T21:05:00-05:00')));
    const night = judge(w, logon('alice', HOME, at('2026-02-24T03:05:00-05:00')))!;
    expect(evening === null || evening.score < night.score).toBe(true);
    expect(night.evidence.organisation_probability).toBeLessThan(0.05);
  });

  it('ranks hours by how likely they are: the tail of an hour next to the usual ones holds more than deep night', () => {
    const counts = new Array(24).fill(0);
    for (let h = 8; h < 18; h++) counts[h] = 20;
    const probs = smooth(counts).map((x) => (x + 0.01) / (sum(counts) + 0.24));
    expect(tailProbability(probs, 12)).toBeCloseTo(1, 5);
    expect(tailProbability(probs, 3)).toBeLessThan(tailProbability(probs, 20));
  });

  it('reads the stored slice of today’s version, and refuses one from a newer version', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../../fixtures/detectors/unusual-hour-user-v1.json', import.meta.url), 'utf8'),
    ) as unknown;
    const read = readSlice(unusualHourState.user!, fixture);
    expect('state' in read && read.state.zone).toBe(NY);
    expect('state' in read && usualHours(read.state.weekday)).toMatchObject({ from: 8, to: 18 });
    expect(readSlice(unusualHourState.user!, { v: 2, s: {} })).toEqual({
      defect: 'version 2 was written by a newer authwatch (this one reads up to 1)',
    });
    expect(readSlice(unusualHourState.user!, { v: 1, s: { zone: NY } })).toHaveProperty('defect');
  });

  it('keeps a user’s slice small', () => {
    const u = office().users.get('alice')!;
    expect(JSON.stringify({ v: 1, s: u.detectorState!.hour }).length).toBeLessThan(700);
    expect((u.detectorState!.hour as UserHours).first).toBeLessThan(bucketOf(at('2026-02-03T00:00:00Z')));
    expect(DAY_MS).toBe(96 * BUCKET_MS);
  });
});
