/**
 * The three logon-volume detectors (Elastic's auth_high_count_* jobs), driven as production drives them: 30-minute
 * windows every 15 minutes, overlapping by one bucket, each window's logons aggregated per (user, address,
 * outcome) with their first and last time; each window judged, then learned.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../shared/core/detectors';
import type { Detector, WindowDetector } from '../../../shared/core/detectors/detector';
import { failedLogonSpike, MIN_FAILURES } from '../../../shared/core/detectors/failed-logon-spike';
import { failedLogonSpikeState } from '../../../shared/core/detectors/failed-logon-spike/state';
import { logonSpike } from '../../../shared/core/detectors/logon-spike';
import { logonSpikeState } from '../../../shared/core/detectors/logon-spike/state';
import { sourceLogonSpike } from '../../../shared/core/detectors/source-logon-spike';
import {
  MAX_CANDIDATES,
  MAX_TRACKED_SOURCES,
  sourceLogonSpikeState,
  type SourceVolume,
} from '../../../shared/core/detectors/source-logon-spike/state';
import { readSlice, type StateSlice } from '../../../shared/core/detectors/state';
import { quantile, upperTail } from '../../../shared/core/volume/negbin';
import type { OrgVolume } from '../../../shared/core/volume/org';
import { bucketsOf, shareIn } from '../../../shared/core/volume/periods';
import { slotOf } from '../../../shared/core/volume/seasonal';
import {
  BUCKET_MS,
  bucketOf,
  emptyPopulation,
  type Finding,
  type LogonObservation,
  type Outcome,
  type PopulationStats,
} from '../../../shared/core/model';
import { scoreFromProbability } from '../../../shared/core/scoring';
import { detectionSettingsSchema } from '../../../shared/core/settings';

const ZONE = 'Europe/Lisbon';
const SETTINGS = detectionSettingsSchema.parse({ timeZone: ZONE });
/** Monday 2026-01-05 00:00 in Lisbon (UTC+0 in winter). */
const MONDAY = Date.parse('2026-01-05T00:00:00Z');
const B0 = bucketOf(MONDAY);
const WEEK = 7 * 96;

interface Ev {
  readonly user: string;
  readonly ip: string;
  readonly outcome: Outcome;
  readonly t: number;
}

/** A deterministic pseudo-random stream (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Events by bucket. */
class Log {
  readonly byBucket = new Map<number, Ev[]>();
  /** `n` events in bucket `b`, evenly spread, cycling through users and addresses. */
  add(b: number, n: number, users: readonly string[], ips: readonly string[], outcome: Outcome = 'success'): void {
    const list = this.byBucket.get(b) ?? [];
    for (let i = 0; i < n; i++)
      list.push({
        user: users[i % users.length]!,
        ip: ips[i % ips.length]!,
        outcome,
        t: b * BUCKET_MS + Math.floor(((i + 0.5) * BUCKET_MS) / n),
      });
    this.byBucket.set(b, list);
  }
  /** The window's observations, aggregated per (user, address, outcome) as the log sources return them. */
  window(start: number, end: number): LogonObservation[] {
    const agg = new Map<
      string,
      { user: string; ip: string; outcome: Outcome; count: number; first: number; last: number }
    >();
    for (let b = bucketOf(start); b < bucketOf(end); b++)
      for (const e of this.byBucket.get(b) ?? []) {
        if (e.t < start || e.t >= end) continue;
        const k = `${e.user}\u0000${e.ip}\u0000${e.outcome}`;
        const a = agg.get(k);
        if (a) {
          a.count++;
          a.first = Math.min(a.first, e.t);
          a.last = Math.max(a.last, e.t);
        } else agg.set(k, { user: e.user, ip: e.ip, outcome: e.outcome, count: 1, first: e.t, last: e.t });
      }
    return [...agg.values()].map((a) => ({
      user: a.user,
      sourceIp: a.ip,
      outcome: a.outcome,
      count: a.count,
      firstSeen: a.first,
      lastSeen: a.last,
      hosts: ['web-01'],
      methods: ['password'],
      logSource: 'sshd',
    }));
  }
}

const STATEFUL = [failedLogonSpike, sourceLogonSpike, logonSpike] as const;

/** Scheduled runs (30-minute windows every 15 minutes) over buckets [from, to): judged, then learned. */
function schedule(
  log: Log,
  pop: PopulationStats,
  from: number,
  to: number,
  detectors: readonly WindowDetector<string>[] = STATEFUL as unknown as WindowDetector<string>[],
): { population: PopulationStats; findings: Finding[] } {
  const findings: Finding[] = [];
  let population = pop;
  for (let e = from + 1; e <= to; e++) {
    const window = { start: (e - 2) * BUCKET_MS, end: e * BUCKET_MS };
    const observations = log.window(window.start, window.end);
    if (observations.length === 0) continue;
    for (const d of detectors)
      findings.push(
        ...d.evaluateWindow({
          observations,
          baselines: new Map(),
          allTargetsRead: true,
          population,
          window,
          settings: SETTINGS,
        }),
      );
    population = learnWindow(population, observations, window, detectors);
  }
  return { population, findings };
}

function learnWindow(
  population: PopulationStats,
  observations: readonly LogonObservation[],
  window: { start: number; end: number },
  detectors: readonly Pick<Detector<string>, 'state'>[],
): PopulationStats {
  let states = population.detectorState ?? {};
  for (const d of detectors) {
    const st = d.state!;
    const before = states[st.key];
    const after = st.population!.learn(before, {
      windowEnd: window.end,
      windowStart: window.start,
      learning: false,
      settings: SETTINGS,
      users: [],
      observations,
      baselines: new Map(),
    });
    if (after !== before) states = { ...states, [st.key]: after };
  }
  return { ...population, detectorState: states };
}

const USERS = Array.from({ length: 60 }, (_, i) => `user${i}`);
const OFFICE_NAT = '192.0.2.10';
const HOME_IPS = Array.from({ length: 30 }, (_, i) => `198.51.100.${i + 1}`);

/** Local (Lisbon, UTC in winter) weekday 0 = Sunday and hour of bucket `b`. */
function when(b: number): { day: number; hour: number } {
  const d = new Date(b * BUCKET_MS);
  return { day: d.getUTCDay(), hour: d.getUTCHours() };
}

/**
 * An organisation's ordinary week: a Monday-morning peak (08:00–10:00, ~200 logons a period through the office NAT),
 * weekday office hours (~40), evenings and nights (0–3 from home addresses), weekends quiet; 0–3 failed logons a
 * period.
 */
function ordinary(log: Log, from: number, to: number, seed = 1): void {
  const r = rng(seed);
  for (let b = from; b < to; b++) {
    const { day, hour } = when(b);
    const weekday = day >= 1 && day <= 5;
    let office = 0;
    if (weekday && hour >= 9 && hour < 18) office = 35 + Math.floor(r() * 11);
    if (day === 1 && hour >= 8 && hour < 10) office = 190 + Math.floor(r() * 21);
    if (office > 0) log.add(b, office, USERS, [OFFICE_NAT]);
    const home = Math.floor(r() * 4);
    if (home > 0) log.add(b, home, USERS.slice(b % 50, (b % 50) + 3), [HOME_IPS[b % HOME_IPS.length]!]);
    const fails = Math.floor(r() * 4);
    if (fails > 0)
      log.add(b, fails, USERS.slice(b % 40, (b % 40) + 2), [HOME_IPS[(b + 7) % HOME_IPS.length]!], 'failure');
  }
}

/** Bucket of a local (Lisbon winter = UTC) time in the week `w` after MONDAY: day 0 = Monday. */
function bucketAt(w: number, day: number, hour: number, minute = 0): number {
  return B0 + w * WEEK + day * 96 + hour * 4 + Math.floor(minute / 15);
}

const of = (findings: readonly Finding[], d: Pick<Detector<string>, 'id'>) =>
  findings.filter((f) => f.detectorId === d.id);
/** What would alert: findings at or above the default threshold (a finding below it is a number in a log). */
const alerting = (findings: readonly Finding[]) => findings.filter((f) => f.score >= 75);

describe('logon-volume detectors (Elastic auth_high_count_*)', () => {
  it('are registered with Elastic’s jobs, MITRE, severity low, risk 21 and threshold 75', () => {
    const byJob = Object.fromEntries(
      DETECTORS.filter((d) => d.elasticJob?.startsWith('auth_high_count')).map((d) => [d.elasticJob, d]),
    );
    expect(byJob.auth_high_count_logon_fails?.id).toBe(failedLogonSpike.id);
    expect(byJob.auth_high_count_logon_events_for_a_source_ip?.id).toBe(sourceLogonSpike.id);
    expect(byJob.auth_high_count_logon_events?.id).toBe(logonSpike.id);
    expect(failedLogonSpike.mitre.techniques[0]!.id).toBe('T1110');
    expect(failedLogonSpike.mitre.tactic.name).toBe('Credential Access');
    expect(logonSpike.mitre.techniques[0]!.id).toBe('T1078');
    expect(sourceLogonSpike.mitre.tactic.name).toBe('Initial Access');
    expect(sourceLogonSpike.groupBy).toBe('source');
    for (const d of STATEFUL) {
      expect([d.severity, d.riskScore, d.defaultThreshold]).toEqual(['low', 21, 75]);
      expect(d.references.every((r) => r.startsWith('https://www.elastic.co/'))).toBe(true);
      expect(d.evaluate).toBeUndefined();
    }
    expect(new Set(STATEFUL.map((d) => d.state!.key)).size).toBe(3);
  });

  it('counts a period from window aggregates: whole inside one bucket, or split with one event at each end', () => {
    const b = B0 + 40;
    const inside = { count: 10, firstSeen: b * BUCKET_MS + 60_000, lastSeen: b * BUCKET_MS + 120_000 };
    expect(shareIn(inside, b)).toBe(10);
    expect(shareIn(inside, b + 1)).toBe(0);
    // 5 minutes in bucket b, 10 in b + 1: 1 + 98/3 and 1 + 2·98/3.
    const spanning = {
      count: 100,
      firstSeen: (b + 1) * BUCKET_MS - 5 * 60_000,
      lastSeen: (b + 1) * BUCKET_MS + 10 * 60_000,
    };
    expect(shareIn(spanning, b)).toBeCloseTo(1 + 98 / 3, 9);
    expect(shareIn(spanning, b) + shareIn(spanning, b + 1)).toBeCloseTo(100, 9);
    expect(bucketsOf({ start: b * BUCKET_MS, end: (b + 2) * BUCKET_MS })).toEqual([b, b + 1]);
    expect(slotOf(bucketAt(0, 0, 9), ZONE)).toBe(24 + 9);
    expect(slotOf(bucketAt(0, 6, 3), ZONE)).toBe(3);
    // In summer Lisbon is UTC+1: 02:00 UTC is 03:00 there.
    expect(slotOf(bucketOf(Date.parse('2026-07-05T02:00:00Z')), ZONE)).toBe(3);
  });

  it('uses a negative binomial, wider than a Poisson, with the project’s probability-to-score mapping', () => {
    expect(upperTail(0, 5, 0.3)).toBe(1);
    // Poisson(1): P(X ≥ 3) = 1 − e^-1 (1 + 1 + 1/2).
    expect(upperTail(3, 1, 0)).toBeCloseTo(1 - Math.exp(-1) * 2.5, 9);
    expect(upperTail(30, 10, 0.3)).toBeGreaterThan(upperTail(30, 10, 0));
    expect(quantile(0.95, 2, 0.25)).toBeGreaterThanOrEqual(4);
    expect(scoreFromProbability(0.01)).toBe(75);
  });

  const WEEKS = 4;
  const trained = (() => {
    const log = new Log();
    ordinary(log, B0, B0 + WEEKS * WEEK);
    return { log, ...schedule(log, emptyPopulation(), B0, B0 + WEEKS * WEEK) };
  })();

  it('learns an ordinary month without an alert', () => {
    expect(alerting(trained.findings)).toEqual([]);
  });

  it('does not alert on the Monday-morning peak that happens every week, but on the same count at 03:00 on a Sunday', () => {
    const log = new Log();
    const monday = bucketAt(WEEKS, 0, 9);
    log.add(monday, 205, USERS, [OFFICE_NAT]);
    const quiet = schedule(log, trained.population, monday - 1, monday + 1);
    expect(alerting(quiet.findings)).toEqual([]);

    const sunday = bucketAt(WEEKS, 6, 3);
    const night = new Log();
    night.add(sunday, 205, USERS, [OFFICE_NAT]);
    const loud = schedule(night, trained.population, sunday - 1, sunday + 1);
    const [f] = of(loud.findings, logonSpike);
    expect(f).toBeDefined();
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.user).toBe('');
    expect(f!.evidence.period).toBe(`Sunday 03:00–03:15 ${ZONE}`);
    expect(f!.evidence.actual_count).toBe(205);
    expect(f!.explanation).toMatch(
      /^Usually \d+(–\d+)? successful logons in this period of a Sunday \(03:00–03:15 Europe\/Lisbon\); this period: 205, from 1 address \(192\.0\.2\.10: 205\)/,
    );
    // The office NAT is tracked: it is judged against its own weekends.
    const [s] = of(loud.findings, sourceLogonSpike);
    expect(s?.sourceKey).toBe(OFFICE_NAT);
    expect(s?.evidence.baseline).toBe('this address');
  });

  it('alerts once on a burst of 140 failed logons in one period against a usual 0–3, saying expected against actual', () => {
    const log = new Log();
    const b = bucketAt(WEEKS, 1, 14, 15);
    ordinary(log, b - 4, b + 4, 7);
    // 140 failures at 14:16–14:29: 120 from one address, 20 from another.
    for (let i = 0; i < 120; i++)
      log.byBucket
        .get(b)!
        .push({ user: USERS[i % 40]!, ip: '203.0.113.9', outcome: 'failure', t: b * BUCKET_MS + 60_000 + i * 6_000 });
    for (let i = 0; i < 20; i++)
      log.byBucket
        .get(b)!
        .push({ user: 'admin', ip: '203.0.113.77', outcome: 'failure', t: b * BUCKET_MS + 90_000 + i * 30_000 });
    const before = log
      .window(b * BUCKET_MS, (b + 1) * BUCKET_MS)
      .filter((o) => o.outcome === 'failure')
      .reduce((n, o) => n + o.count, 0);
    const run = schedule(log, trained.population, b - 4, b + 4);
    const found = of(run.findings, failedLogonSpike);
    expect(found).toHaveLength(1);
    const [f] = found;
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.outcome).toBe('failure');
    expect(f!.evidence.actual_count).toBe(before);
    expect(f!.evidence.top_sources).toEqual(expect.arrayContaining(['203.0.113.9: 120', '203.0.113.77: 20']));
    expect(f!.explanation).toMatch(
      /^Usually 0–\d failed logons in this period of a Tuesday \(14:15–14:30 Europe\/Lisbon\); this period: 14\d, from \d addresses \(203\.0\.113\.9: 120, 203\.0\.113\.77: 20/,
    );
    expect(bucketOf(f!.observation.firstSeen)).toBe(b);
    expect(f!.sourceIp).toBe('203.0.113.9');
  });

  it('calibrates against its own history: an internet scanner’s daily burst of ~35 failures is no news, 500 is', () => {
    const log = new Log();
    ordinary(log, B0, B0 + 5 * WEEK, 21);
    const r = rng(22);
    // Most days a scanner tries 25–40 passwords on root in a few minutes, at a random time.
    for (let day = 0; day < 35; day++)
      if (r() < 0.8)
        log.add(
          B0 + day * 96 + Math.floor(r() * 96),
          25 + Math.floor(r() * 16),
          ['root'],
          [`203.0.113.${day}`],
          'failure',
        );
    const run = schedule(log, emptyPopulation(), B0, B0 + 5 * WEEK, [failedLogonSpike]);
    // The first weeks' bursts may alert while the baseline learns what they are; the last two weeks' do not.
    expect(alerting(run.findings).filter((f) => f.observation.firstSeen >= (B0 + 3 * WEEK) * BUCKET_MS)).toEqual([]);
    const b = bucketAt(5, 2, 10);
    const big = new Log();
    big.add(b, 500, USERS.slice(0, 40), ['198.51.100.99'], 'failure');
    const [f] = alerting(schedule(big, run.population, b - 1, b + 1, [failedLogonSpike]).findings);
    expect(f?.evidence.actual_count).toBe(500);
  });

  it('does not alert on a few failures in a period that usually has none (the floor)', () => {
    const b = bucketAt(WEEKS, 6, 4);
    const log = new Log();
    log.add(b, MIN_FAILURES - 1, ['root'], ['203.0.113.50'], 'failure');
    expect(of(schedule(log, trained.population, b - 1, b + 1).findings, failedLogonSpike)).toEqual([]);
    const more = new Log();
    more.add(b, 60, ['root'], ['203.0.113.50'], 'failure');
    expect(of(schedule(more, trained.population, b - 1, b + 1).findings, failedLogonSpike)).toHaveLength(1);
  });

  it('a quiet organisation with little history does not alert on its first weeks’ noise', () => {
    const log = new Log();
    const r = rng(3);
    for (let b = B0; b < B0 + 3 * WEEK; b++) {
      const n = Math.floor(r() * 6);
      if (n > 0) log.add(b, n, USERS.slice(0, 5), HOME_IPS.slice(0, 3));
      if (r() < 0.05) log.add(b, 1 + Math.floor(r() * 3), USERS.slice(0, 2), HOME_IPS.slice(0, 1), 'failure');
    }
    // Early noise that would be a spike for a mature baseline: a script retrying stale credentials on day 3 and 9,
    // a batch of logons on day 5, while the baseline is still learning.
    log.add(B0 + 3 * 96 + 40, 80, ['svc-backup'], ['10.0.0.5'], 'failure');
    log.add(B0 + 9 * 96 + 50, 80, ['svc-backup'], ['10.0.0.5'], 'failure');
    log.add(B0 + 5 * 96 + 20, 90, USERS.slice(0, 30), ['10.0.0.6']);
    const run = schedule(log, emptyPopulation(), B0, B0 + 3 * WEEK);
    expect(run.findings).toEqual([]);
    const st = run.population.detectorState!.failspike as OrgVolume;
    // The first window, ending at B0 + 1, starts a bucket before B0.
    expect(st.first).toBe(B0 - 1);
    expect(st.last).toBe(B0 + 3 * WEEK - 1);
  });

  it('alerts on one address logging on 300 times as 40 users when it usually does 2; not on the office NAT’s usual 300', () => {
    const JUMP = '198.51.100.200';
    const NAT = '192.0.2.20';
    const log = new Log();
    ordinary(log, B0, B0 + WEEKS * WEEK, 11);
    for (let w = 0; w < WEEKS; w++)
      for (let day = 0; day < 5; day++) {
        // The office NAT: ~300 a period every weekday morning, 08:00–10:00.
        for (let q = 0; q < 8; q++) log.add(bucketAt(w, day, 8, q * 15), 290 + ((w + day + q) % 3) * 10, USERS, [NAT]);
        // The jump host: two logons a day.
        log.add(bucketAt(w, day, 11), 1, ['ops1'], [JUMP]);
        log.add(bucketAt(w, day, 15), 1, ['ops2'], [JUMP]);
      }
    const base = schedule(log, emptyPopulation(), B0, B0 + WEEKS * WEEK);
    expect(alerting(of(base.findings, sourceLogonSpike))).toEqual([]);

    const next = new Log();
    const nat = bucketAt(WEEKS, 2, 9);
    next.add(nat, 300, USERS, [NAT]);
    const attack = bucketAt(WEEKS, 2, 15);
    next.add(attack, 300, USERS.slice(0, 40), [JUMP]);
    const run = schedule(next, base.population, nat - 1, attack + 2);
    const found = alerting(of(run.findings, sourceLogonSpike));
    expect(found).toHaveLength(1);
    const [f] = found;
    expect(f!.sourceKey).toBe(JUMP);
    expect(f!.user).toBe('');
    expect(f!.score).toBeGreaterThanOrEqual(75);
    expect(f!.users).toHaveLength(40);
    expect(f!.users!.reduce((n, u) => n + u.successes, 0)).toBe(300);
    expect(f!.users![0]).toMatchObject({ successes: 8, failures: 0, known: false });
    expect(f!.explanation).toMatch(/^198\.51\.100\.200 logged on successfully 300 times in 15 minutes as 40 accounts/);
    expect(f!.evidence.period).toBe(`Wednesday 15:00–15:15 ${ZONE}`);

    // A never-seen address doing the same (instead) is judged against addresses in general.
    const stranger = new Log();
    stranger.add(attack, 300, USERS.slice(0, 40), ['203.0.113.66']);
    const [g] = of(schedule(stranger, base.population, attack - 1, attack + 1).findings, sourceLogonSpike);
    expect(g?.evidence.baseline).toBe('addresses in general');
    expect(g!.explanation).toContain('this one has no baseline of its own');
  });

  it('learns idempotently per bucket: a retried window or the overlapping half of the next one counts nothing twice', () => {
    const log = new Log();
    ordinary(log, B0, B0 + 8, 5);
    const w1 = { start: B0 * BUCKET_MS, end: (B0 + 2) * BUCKET_MS };
    const p1 = learnWindow(emptyPopulation(), log.window(w1.start, w1.end), w1, STATEFUL);
    // A retried window changes nothing, down to the object.
    const retried = learnWindow(p1, log.window(w1.start, w1.end), w1, STATEFUL);
    for (const d of STATEFUL) expect(retried.detectorState![d.state!.key]).toBe(p1.detectorState![d.state!.key]);
    // A window whose only logons were allowlisted accounts' (left out of what the population learns) is learned as
    // a window without logons: not at all, so the next one learns its buckets as silent.
    const w2 = { start: (B0 + 1) * BUCKET_MS, end: (B0 + 3) * BUCKET_MS };
    const allowlistedOnly = learnWindow(p1, [], w2, STATEFUL);
    for (const d of STATEFUL)
      expect(allowlistedOnly.detectorState![d.state!.key]).toBe(p1.detectorState![d.state!.key]);
    // The next window overlaps by a bucket: only its newest bucket is learned, as a 15-minute chunk would.
    const p2 = learnWindow(p1, log.window(w2.start, w2.end), w2, STATEFUL);
    const chunk = { start: (B0 + 2) * BUCKET_MS, end: (B0 + 3) * BUCKET_MS };
    const c2 = learnWindow(p1, log.window(chunk.start, chunk.end), chunk, STATEFUL);
    for (const d of STATEFUL) expect(p2.detectorState![d.state!.key]).toEqual(c2.detectorState![d.state!.key]);
    const org = p2.detectorState!.logonspike as OrgVolume;
    expect(org.last).toBe(B0 + 2);
    // Three buckets learned: the series holds three periods, whatever the overlap.
    expect(org.series.n.reduce((a, b) => a + b, 0)).toBeCloseTo(3, 2);
  });

  it('learns a bucket without any logon as a zero count, and a long unanalysed gap as nothing', () => {
    const log = new Log();
    log.add(B0, 5, ['a'], ['198.51.100.1']);
    log.add(B0 + 10, 5, ['a'], ['198.51.100.1']);
    log.add(B0 + 10 + 500, 5, ['a'], ['198.51.100.1']);
    const periods = (p: PopulationStats) =>
      (p.detectorState!.logonspike as OrgVolume).series.n.reduce((a, b) => a + b, 0);
    // Windows from B0 − 1 to B0 + 12: 13 buckets learned, 9 of them between two logons and silent.
    const first = schedule(log, emptyPopulation(), B0, B0 + 12, [logonSpike]);
    expect(periods(first.population)).toBeCloseTo(13, 0);
    expect((first.population.detectorState!.logonspike as OrgVolume).series.s.reduce((a, b) => a + b, 0)).toBeCloseTo(
      10,
      1,
    );
    // Then nothing for 5 days (not analysed): not taught as silence; three more buckets are.
    const later = schedule(log, first.population, B0 + 12, B0 + 512, [logonSpike]);
    expect(periods(later.population)).toBeLessThan(14);
    expect(periods(later.population)).toBeGreaterThan(12);
  });

  it('bounds the per-source state: a top-K of busy addresses, the rest pooled', () => {
    const log = new Log();
    const r = rng(9);
    for (let b = B0; b < B0 + 2 * WEEK; b++)
      for (let k = 0; k < 6; k++) {
        const ip = `203.0.${Math.floor(r() * 4)}.${Math.floor(r() * 250)}`;
        log.add(b, 1 + Math.floor(r() * 30), USERS.slice(0, 5), [ip]);
      }
    const run = schedule(log, emptyPopulation(), B0, B0 + 2 * WEEK, [sourceLogonSpike]);
    const st = run.population.detectorState!.srcspike as SourceVolume;
    expect(st.tracked).toHaveLength(MAX_TRACKED_SOURCES);
    expect(st.candidates.length).toBeLessThanOrEqual(MAX_CANDIDATES);
    const size = JSON.stringify({ v: 1, s: st }).length;
    // Measured: ~17 KB here, ~22 KB for the month of `ordinary` (12 addresses tracked, 48 candidates); the bound is
    // what 12 dense series, the pool and the candidates can reach.
    expect(size).toBeLessThan(30_000);
  });

  it('keeps the organisation slices small', () => {
    for (const key of ['failspike', 'logonspike'])
      expect(JSON.stringify({ v: 1, s: trained.population.detectorState![key] }).length).toBeLessThan(4_000);
  });

  it('reads the stored slices of today’s version, and refuses one from a newer version', () => {
    const read = (file: string) =>
      JSON.parse(readFileSync(new URL(`../../fixtures/detectors/${file}`, import.meta.url), 'utf8')) as unknown;
    const fails = readSlice(failedLogonSpikeState.population!, read('failed-logon-spike-population-v1.json'));
    expect('state' in fails && fails.state.zone).toBe(ZONE);
    const logons = readSlice(logonSpikeState.population!, read('logon-spike-population-v1.json'));
    expect('state' in logons && logons.state.series.n.length).toBe(168);
    const sources = readSlice(sourceLogonSpikeState.population!, read('source-logon-spike-population-v1.json'));
    expect('state' in sources && sources.state.tracked.map((t) => t.ip)).toContain(OFFICE_NAT);
    for (const slice of [
      failedLogonSpikeState.population!,
      logonSpikeState.population!,
      sourceLogonSpikeState.population!,
    ] as StateSlice<unknown>[]) {
      expect(readSlice(slice, { v: 2, s: {} })).toEqual({
        defect: 'version 2 was written by a newer authwatch (this one reads up to 1)',
      });
      expect(readSlice(slice, { v: 1, s: { zone: ZONE } })).toHaveProperty('defect');
    }
  });
});
