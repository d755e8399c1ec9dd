import { describe, expect, it } from 'vitest';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { BUCKET_MS, bucketOf, DAY_MS, type LogonEvent } from '../../shared/core/model';
import { decayPopulationTo } from '../../shared/core/population';
import type { Detector } from '../../shared/core/detectors';
import { DETECTORS } from '../../shared/core/detectors';
import { AlertSinkError } from '../../shared/errors';
import type { DetectionStore, LogSource } from '../../shared/ports';
import { runDetection, runWindow } from '../../shared/run-detection';
import { runScheduled } from '../../shared/run-scheduled';
import { HOUR, T0 } from '../support/history';
import { deps, ev, runSchedule } from '../support/pipeline';
import { fixtureDb } from './network-data/support';

/** Two weeks of a small office: 20 users, each from their own home IP twice a workday. */
function officeHistory(days = 15): LogonEvent[] {
  const events: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 20; u++)
      for (const h of [9, 15]) events.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  return events;
}

describe('runDetection', () => {
  it('learns during the learning period and raises nothing', async () => {
    const { d, sink } = deps([...officeHistory(5), ev('stranger', '203.0.113.9', T0 + 4 * DAY_MS + 10 * HOUR)]);
    const s = await runSchedule(d, T0, T0 + 5 * DAY_MS);
    expect(sink.delivered).toHaveLength(0);
    expect(s.every((x) => x.learning)).toBe(true);
  });

  it('raises a logon once although consecutive windows overlap', async () => {
    const attack = T0 + 16 * DAY_MS + 10 * HOUR + 20 * 60_000; // 10:20, inside windows ending 10:30 and 10:45
    const { d, sink, store } = deps([...officeHistory(17), ev('user3', '203.0.113.9', attack)]);
    await runSchedule(d, T0, T0 + 17 * DAY_MS);
    const forUser3 = sink.delivered.filter((a) => a.user.name === 'user3');
    expect(forUser3).toHaveLength(1);
    expect(forUser3[0]!.rule.id).toBe('Auth.UnusualSourceIp');
    expect(forUser3[0]!.source.ip).toBe('203.0.113.9');
    // The ledger keeps the alert as delivered, for `authwatch show`.
    expect(JSON.parse((await store.getLedgerEntry(forUser3[0]!.id))!.document!)).toEqual(forUser3[0]);
  });

  it('never double-alerts when the same window is run twice (a retried invocation)', async () => {
    const attack = T0 + 16 * DAY_MS + 10 * HOUR;
    const { d, sink } = deps([...officeHistory(17), ev('svc-new', '10.9.9.9', attack)]);
    await runSchedule(d, T0, attack);
    const end = Math.ceil((attack + 1) / BUCKET_MS) * BUCKET_MS;
    await runDetection(d, { windowEnd: end });
    await runDetection(d, { windowEnd: end });
    expect(sink.delivered.filter((a) => a.user.name === 'svc-new')).toHaveLength(1);
  });

  it('leaves nothing marked raised and learns nothing when delivery fails; the retry delivers exactly once', async () => {
    const attack = T0 + 16 * DAY_MS + 10 * HOUR + 5 * 60_000;
    const { d, sink, store } = deps([...officeHistory(17), ev('user3', '203.0.113.9', attack)]);
    await runSchedule(d, T0, attack - BUCKET_MS);
    const end = Math.ceil(attack / BUCKET_MS) * BUCKET_MS;
    const before = await store.getUsers(['user3']);

    sink.failNext = new Set(['*']);
    await expect(runDetection(d, { windowEnd: end })).rejects.toBeInstanceOf(AlertSinkError);
    expect(sink.delivered).toHaveLength(0);
    const after = await store.getUsers(['user3']);
    expect(after.get('user3')).toEqual(before.get('user3'));
    expect(after.get('user3')!.ips['203.0.113.9']).toBeUndefined();

    await runDetection(d, { windowEnd: end }); // the retry: same window
    await runDetection(d, { windowEnd: end + BUCKET_MS }); // the next, overlapping window
    const raised = sink.delivered.filter((a) => a.user.name === 'user3');
    expect(raised).toHaveLength(1);
    // Learned once delivered: the user's activity, and the alerted address as a suspect place, not a known one.
    const learned = (await store.getUsers(['user3'])).get('user3')!;
    expect(learned.activity.last).toBe(attack);
    expect(learned.ips['203.0.113.9']).toBeUndefined();
    expect(learned.suspect?.['203.0.113.9']?.alertId).toBe(raised[0]!.id);
  });

  it('on partial delivery marks only what was delivered, and the retry sends only the rest', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const { d, sink } = deps([...officeHistory(17), ev('new-a', '10.9.9.1', t), ev('new-b', '10.9.9.2', t)]);
    await runSchedule(d, T0, t - BUCKET_MS);
    const end = Math.ceil((t + 1) / BUCKET_MS) * BUCKET_MS;
    // The first delivery attempt fails for new-b's alert only.
    const publish = sink.publish.bind(sink);
    let calls = 0;
    sink.publish = async (batch) => {
      if (++calls === 1) sink.failNext = new Set(batch.alerts.filter((a) => a.user.name === 'new-b').map((a) => a.id));
      return publish(batch);
    };
    await expect(runDetection(d, { windowEnd: end })).rejects.toBeInstanceOf(AlertSinkError);
    expect(sink.delivered.map((a) => a.user.name)).toEqual(['new-a']);
    await runDetection(d, { windowEnd: end });
    expect(sink.delivered.map((a) => a.user.name).sort()).toEqual(['new-a', 'new-b']);
    expect(sink.batches[1]!.alerts.map((a) => a.user.name)).toEqual(['new-b']);
  });

  it('raises one rare-user alert per new user however many addresses and buckets the window holds, the earliest', async () => {
    // Prepare: a new name logs on at 10:02 and 10:20 from two addresses, in different 15-minute buckets
    // (so different alert ids), and the 10:15 run was missed: the 10:30 run sees both. An existing user
    // comes from two unusual addresses in the same window: two places, which stay two alerts.
    const day = T0 + 16 * DAY_MS;
    const end = day + 10 * HOUR + 2 * BUCKET_MS;
    const { d, sink } = deps([
      ...officeHistory(17),
      ev('intruder', '198.51.100.20', day + 10 * HOUR + 2 * 60_000),
      ev('intruder', '203.0.113.77', day + 10 * HOUR + 20 * 60_000),
      ev('user3', '192.0.2.44', day + 10 * HOUR + 5 * 60_000),
      ev('user3', '100.100.7.7', day + 10 * HOUR + 6 * 60_000),
    ]);
    await runSchedule(d, T0, end - 2 * BUCKET_MS);
    expect(sink.delivered).toHaveLength(0);
    // Act
    const s = await runDetection(d, { windowEnd: end });
    // Assess
    const rare = sink.delivered.filter((a) => a.rule.id === 'Auth.RareUser');
    expect(rare.map((a) => [a.user.name, a.source.ip])).toEqual([['intruder', '198.51.100.20']]);
    const unusual = sink.delivered.filter((a) => a.rule.id === 'Auth.UnusualSourceIp');
    expect(unusual.map((a) => `${a.user.name} ${a.source.ip}`).sort()).toEqual([
      'user3 100.100.7.7',
      'user3 192.0.2.44',
    ]);
    // Every registered detector is counted; the others found nothing here.
    expect(s.alertsPublished).toEqual({
      ...Object.fromEntries(DETECTORS.map((d) => [d.id, 0])),
      'Auth.RareUser': 1,
      'Auth.UnusualSourceIp': 2,
    });
  });

  it('caps alerts per run, ranks by score and reports the cut', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const newcomers = Array.from({ length: 130 }, (_, k) => ev(`intruder${k}`, `203.0.113.${k % 250}`, t + k));
    const { d, sink } = deps([...officeHistory(17), ...newcomers]);
    const summaries = await runSchedule(d, T0, t + BUCKET_MS);
    const s = summaries.find((x) => x.alertsCutByCap > 0)!;
    // 130 newcomers in one period are also a spike in the organisation's logons: one more alert in the cap.
    const published = Object.values(s.alertsPublished).reduce((n, x) => n + x, 0);
    expect(published).toBe(100);
    expect(s.alertsPublished['Auth.RareUser']).toBe(99);
    expect(s.alertsCutByCap).toBe(31);
    const batch = sink.batches.find((b) => b.cut.length > 0)!;
    expect(batch.alerts).toHaveLength(100);
    expect(batch.cut).toHaveLength(31);
    const scores = batch.alerts.map((a) => a.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
  });

  it('honours allowlists of users and CIDRs, and counts what they silenced', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const { d, sink } = deps([...officeHistory(17), ev('svc-scanner', '10.9.9.9', t), ev('user3', '198.51.100.7', t)], {
      settings: { allowUsers: ['svc-*'], allowCidrs: ['198.51.100.0/24'] },
    });
    const s = await runSchedule(d, T0, t + BUCKET_MS);
    expect(sink.delivered).toHaveLength(0);
    expect(s.reduce((n, x) => n + x.alertsSuppressed, 0)).toBe(2);
  });

  it('honours analyst feedback from the store: user patterns, ranges for everyone, ranges for one user only', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const store = new InMemoryBaselineStore();
    await store.saveFeedback({
      allowUsers: [{ pattern: 'SVC-*', addedAt: T0 }],
      allowCidrs: [
        { cidr: '198.51.100.0/24', addedAt: T0 },
        { cidr: '203.0.113.0/24', user: 'user3', addedAt: T0, note: 'hotel' },
      ],
      version: 0,
    });
    const { d, sink } = deps(
      [
        ...officeHistory(17),
        ev('svc-scanner', '10.9.9.9', t),
        ev('user1', '198.51.100.7', t),
        ev('user3', '203.0.113.9', t),
        ev('user4', '203.0.113.10', t),
      ],
      { store },
    );
    const s = await runSchedule(d, T0, t + BUCKET_MS);
    // The per-user range silences user3 only: user4 from the same subnet still alerts.
    expect(sink.delivered.map((a) => `${a.user.name} ${a.source.ip}`)).toEqual(['user4 203.0.113.10']);
    expect(s.reduce((n, x) => n + x.alertsSuppressed, 0)).toBe(3);
  });

  it('applies feedback together with the settings allowlists', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const store = new InMemoryBaselineStore();
    await store.saveFeedback({
      allowUsers: [],
      allowCidrs: [{ cidr: '203.0.113.0/24', user: 'user3', addedAt: T0 }],
      version: 0,
    });
    const { d, sink } = deps([...officeHistory(17), ev('svc-new', '10.9.9.9', t), ev('user3', '203.0.113.9', t)], {
      store,
      settings: { allowUsers: ['svc-*'] },
    });
    const s = await runSchedule(d, T0, t + BUCKET_MS);
    expect(sink.delivered).toHaveLength(0);
    expect(s.reduce((n, x) => n + x.alertsSuppressed, 0)).toBe(2);
  });

  it('reads feedback once in each run with any logon (failures judge and learn too), never in a run with none', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const store = new InMemoryBaselineStore();
    let feedbackReads = 0;
    const getFeedback = store.getFeedback.bind(store);
    store.getFeedback = () => {
      feedbackReads++;
      return getFeedback();
    };
    const failure: LogonEvent = { ...ev('user3', '203.0.113.50', t + 3 * HOUR), outcome: 'failure' };
    const { d, sink } = deps([...officeHistory(17), ev('user3', '203.0.113.9', t), failure], { store });
    const s = await runSchedule(d, T0, t + 4 * HOUR);
    expect(sink.delivered).toHaveLength(1);
    expect(feedbackReads).toBe(s.filter((x) => x.observations > 0).length);
    expect(s.some((x) => x.usersSeen === 0 && x.observations > 0)).toBe(true);
    expect(s.some((x) => x.observations === 0)).toBe(true);
  });

  it('keeps users allowlisted by feedback out of the population, as it does those allowlisted in settings', async () => {
    // One account bringing a new network every day would teach everyone that new networks are ordinary.
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const flood = Array.from({ length: 16 * 4 }, (_, i) =>
      ev('ci-runner', `${20 + Math.floor(i / 4)}.7.1.1`, T0 + Math.floor(i / 4) * DAY_MS + (9 + (i % 4)) * HOUR),
    );
    const population = async (store: InMemoryBaselineStore) => {
      const { d } = deps([...officeHistory(17), ...flood], { store });
      await runSchedule(d, T0, t);
      return (await store.getPopulation())!;
    };
    const plain = await population(new InMemoryBaselineStore());
    const allowed = new InMemoryBaselineStore();
    await allowed.saveFeedback({ allowUsers: [{ pattern: 'ci-*', addedAt: T0 }], allowCidrs: [], version: 0 });
    const withFeedback = await population(allowed);
    const viaSettings = new InMemoryBaselineStore();
    const { d } = deps([...officeHistory(17), ...flood], { store: viaSettings, settings: { allowUsers: ['ci-*'] } });
    await runSchedule(d, T0, t);
    // The runner's new networks taught the organisation's novelty rate; allowlisted, they do not (its name stays known).
    expect(withFeedback.placeNovelty).not.toEqual(plain.placeNovelty);
    expect(withFeedback.knownUsers).toBe(plain.knownUsers);
    expect(withFeedback).toEqual((await viaSettings.getPopulation())!);
    // An entry with an expiry counts while it is in force (here: all along), and no longer once it is over (here:
    // from the start), as it silences alerts.
    const until = async (expiresAt: number) => {
      const store = new InMemoryBaselineStore();
      await store.saveFeedback({
        allowUsers: [{ pattern: 'ci-*', addedAt: T0, expiresAt }],
        allowCidrs: [],
        version: 0,
      });
      return population(store);
    };
    expect(await until(t + DAY_MS)).toEqual(withFeedback);
    expect(await until(T0)).toEqual(plain);
  });

  it('contains a detector that throws: counted, and the other detector still alerts', async () => {
    const broken: Detector = {
      ...DETECTORS[1]!,
      id: 'Auth.UnusualSourceIp',
      evaluate: () => {
        throw new Error('boom');
      },
    };
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const warnings: string[] = [];
    const { d, sink } = deps([...officeHistory(17), ev('svc-new', '10.9.9.9', t)], {
      detectors: [DETECTORS[0]!, broken],
    });
    const s = await runSchedule({ ...d, logger: { warn: (m) => warnings.push(m) } }, T0, t + BUCKET_MS);
    expect(s.reduce((n, x) => n + x.detectorErrors, 0)).toBeGreaterThan(0);
    expect(warnings.length).toBeGreaterThan(0);
    expect(sink.delivered.map((a) => a.user.name)).toContain('svc-new');
  });

  it("queries the schedule's 30 minutes, or exactly the window a catch-up gives; never reaches back on its own", () => {
    const end = T0 + 10 * HOUR;
    expect(runWindow({ windowEnd: end })).toEqual({ start: end - 2 * BUCKET_MS, end });
    expect(runWindow({ windowEnd: end, windowStart: end - BUCKET_MS })).toEqual({ start: end - BUCKET_MS, end });
    expect(() => runWindow({ windowEnd: end, windowStart: end })).toThrow(/not before its end/);
  });

  it("after missed runs analyses only its own window (catch-up is runScheduled's), and an alert-only pass learns nothing", async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const { d, store, sink } = deps([...officeHistory(17), ev('user3', '203.0.113.9', t - 3 * HOUR)]);
    await runSchedule(d, T0, t - 4 * HOUR);
    const late = await runDetection(d, { windowEnd: t });
    expect(late.window.start).toBe(new Date(t - 2 * BUCKET_MS).toISOString());
    expect(sink.delivered.filter((a) => a.user.name === 'user3')).toHaveLength(0);
    const before = await store.getUsers(['user3']);
    const stateBefore = await store.getRunState();
    const preview = await runDetection(d, { windowEnd: t - 2 * HOUR, windowStart: t - 4 * HOUR, alertOnly: true });
    expect(preview.alertOnly).toBe(true);
    expect(preview.catchUp).toBe(true);
    expect(sink.delivered.filter((a) => a.user.name === 'user3')).toHaveLength(1);
    expect(await store.getUsers(['user3'])).toEqual(before);
    expect(await store.getRunState()).toEqual(stateBefore);
  });

  it('summarises the run with the figures the dashboard shows', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const { d } = deps([
      ...officeHistory(17),
      ev('user1', '203.0.113.1', t - 60_000, 'failure'),
      ev('user1', '81.2.1.10', t),
    ]);
    await runSchedule(d, T0, t - BUCKET_MS);
    const s = await runDetection(d, { windowEnd: Math.ceil((t + 1) / BUCKET_MS) * BUCKET_MS });
    expect(s.learning).toBe(false);
    expect(s.logonsScanned).toBeGreaterThanOrEqual(2);
    expect(s.usersSeen).toBeGreaterThanOrEqual(1);
    expect(s.findings).toHaveProperty('Auth.RareUser');
    expect(s.findings).toHaveProperty('Auth.UnusualSourceIp');
  });

  it('names the network owner and country in the alert it delivers and records, and counts the addresses it looked up', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const events = [
      ...officeHistory(17),
      ev('user1', '203.0.113.1', t - 60_000, 'failure'), // EXAMPLE-HOSTING in the test extract
      ev('user1', '81.2.1.10', t), // in no range of the extract
      ev('user3', '8.8.8.8', t),
    ];
    const { d, sink, store } = deps(events, { network: fixtureDb() });
    await runSchedule(d, T0, t - BUCKET_MS);
    const s = await runDetection(d, { windowEnd: Math.ceil((t + 1) / BUCKET_MS) * BUCKET_MS });
    expect(s).toMatchObject({ addressesLooked: 3, addressesWithOwner: 2 });
    const [a] = sink.delivered.filter((x) => x.user.name === 'user3');
    expect(a!.source).toEqual({
      ip: '8.8.8.8',
      as: { number: 15169, organization: { name: 'GOOGLE' } },
      geo: { country_iso_code: 'US' },
    });
    // The sentence names the owner and country: the detector's own words (it judges networks by owner), or the
    // alert's added "Network owner of the address" sentence for a detector that does not.
    expect(a!.explanation).toMatch(/AS15169 GOOGLE(, US| \(US\))/);
    expect(JSON.parse((await store.getLedgerEntry(a!.id))!.document!)).toEqual(a);

    // Without the data: the same alert, its address bare, and nothing looked up.
    const bare = deps(events);
    await runSchedule(bare.d, T0, t - BUCKET_MS);
    const s0 = await runDetection(bare.d, { windowEnd: Math.ceil((t + 1) / BUCKET_MS) * BUCKET_MS });
    expect(s0).toMatchObject({ addressesLooked: 0, addressesWithOwner: 0 });
    const [b] = bare.sink.delivered.filter((x) => x.user.name === 'user3');
    expect(b!.id).toBe(a!.id);
    expect(b!.source).toEqual({ ip: '8.8.8.8' });
  });

  it('reports logons, rows and malformed rows per source, so a silent or unparseable source shows beside busy ones', async () => {
    const t = T0 + 16 * DAY_MS + 10 * HOUR;
    const busy = new FileLogSource({
      name: 'sshd:/ec2/secure',
      events: [
        ev('user1', '81.2.1.10', t - 60_000),
        ev('user1', '81.2.1.10', t - 30_000),
        ev('user2', '203.0.113.2', t - 20_000, 'failure'),
      ],
      parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
    });
    // A misconfigured group (nothing arrives) and a changed format (rows come back, none maps).
    const silent: LogSource = {
      name: 'okta:/okta/system',
      fetch: async () => ({
        observations: [],
        stats: { rows: 0, malformed: 0, queries: 1, queryMs: 0, bytesScanned: 0 },
      }),
    };
    const broken: LogSource = {
      name: 'windows:/win/security',
      fetch: async () => ({
        observations: [],
        stats: { rows: 7, malformed: 7, queries: 1, queryMs: 0, bytesScanned: 0 },
      }),
    };
    const { d } = deps([]);
    const s = await runDetection(
      { ...d, logSources: [busy, silent, broken] },
      { windowEnd: Math.ceil((t + 1) / BUCKET_MS) * BUCKET_MS },
    );
    expect(s.sources).toEqual([
      { name: 'sshd:/ec2/secure', logons: 3, rows: 3, malformed: 0 },
      { name: 'okta:/okta/system', logons: 0, rows: 0, malformed: 0 },
      { name: 'windows:/win/security', logons: 0, rows: 7, malformed: 7 },
    ]);
    // The run totals are the sums of the sources.
    expect(s.logonsScanned).toBe(3);
    expect(s.malformed).toBe(7);
    expect(s.queryRows).toBe(10);
  });

  it('keeps the population statistics through a window with failed logons only (decayed, nothing counted)', async () => {
    const t = T0 + 16 * DAY_MS + 3 * HOUR;
    const { d, store } = deps([...officeHistory(16), ev('admin', '203.0.113.9', t, 'failure')]);
    await runSchedule(d, T0, T0 + 16 * DAY_MS);
    const before = await store.getPopulation();
    await runSchedule(d, t, t + 2 * BUCKET_MS);
    const after = await store.getPopulation();
    expect(before!.knownUsers).toBe(20);
    expect(after!.knownUsers).toBe(20);
    // The window of failures is learned (its population is written, decayed to the window) but counts no user.
    expect(after!.userBuckets).toBeCloseTo(decayPopulationTo(before!, bucketOf(t + 2 * BUCKET_MS)).userBuckets, 6);
    expect(after!.userBuckets).toBeLessThan(before!.userBuckets);
  });
});

describe('the port a detection run depends on', () => {
  /** Exactly the `DetectionStore` methods of a full store: an operator method (scan, ledger document, feedback save) is absent. */
  function detectionOnly(full: InMemoryBaselineStore): DetectionStore {
    return {
      getUsers: (users) => full.getUsers(users),
      getPopulation: () => full.getPopulation(),
      getRunState: () => full.getRunState(),
      getFeedback: () => full.getFeedback(),
      getRaisedAlerts: (ids) => full.getRaisedAlerts(ids),
      recordRaisedAlerts: (entries) => full.recordRaisedAlerts(entries),
      saveUsers: (users) => full.saveUsers(users),
      writeUsersLeased: (users, lease, now) => full.writeUsersLeased(users, lease, now),
      savePopulation: (population) => full.savePopulation(population),
      saveRunState: (state) => full.saveRunState(state),
      acquireLease: (lease, now) => full.acquireLease(lease, now),
      releaseLease: (owner) => full.releaseLease(owner),
    };
  }

  it('learns, honours feedback, alerts once and records it over a DetectionStore alone (runDetection and runScheduled)', async () => {
    const full = new InMemoryBaselineStore();
    await full.saveFeedback({ allowUsers: [{ pattern: 'user5', addedAt: T0 }], allowCidrs: [], version: 0 });
    const attack = T0 + 16 * DAY_MS + 10 * HOUR + 20 * 60_000;
    const { d, sink } = deps(
      [...officeHistory(17), ev('user3', '203.0.113.9', attack), ev('user5', '203.0.113.10', attack)],
      { store: detectionOnly(full) },
    );
    await runSchedule(d, T0, attack);
    const last = Math.ceil(attack / BUCKET_MS) * BUCKET_MS + BUCKET_MS;
    await runScheduled(d, { windowEnd: last, remainingMs: () => 60_000 });
    expect(sink.delivered.map((a) => a.user.name)).toEqual(['user3']);
    expect((await full.getLedgerEntry(sink.delivered[0]!.id))?.user).toBe('user3');
    expect((await full.getRunState())!.lastWindowEnd).toBe(last);
  });
});
