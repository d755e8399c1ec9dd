import { describe, expect, it } from 'vitest';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { computeBaselineUpdate, learnUsers } from '../../shared/core/baseline-update';
import { DETECTORS } from '../../shared/core/detectors';
import { BUCKET_MS, bucketOf, DAY_MS, type LogonEvent, type UserBaseline } from '../../shared/core/model';
import { applyPopulationDeltas, decayPopulationTo } from '../../shared/core/population';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { DigestMap, windowDigest } from '../../shared/core/window-digest';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';
import { InMemoryStaging } from '../../shared/adapters/in-memory-staging';
import { shardOf } from '../../shared/steps/run-steps';
import { HOUR, T0 } from '../support/history';
import { deps, ev } from '../support/pipeline';

/** 40 users over `days` days, two logons a workday from home; users 0–9 share an office NAT in the mornings. */
function office(days: number): LogonEvent[] {
  const events: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 40; u++) {
      events.push(ev(`user${u}`, u < 10 ? '81.2.200.1' : `81.2.${u}.10`, T0 + d * DAY_MS + 9 * HOUR + u * 1000));
      events.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + 15 * HOUR + u * 1000));
    }
  return events;
}

/** The attacks of the last day: a stolen password, a new account, a spray of real names from one address. */
function attacks(day: number): LogonEvent[] {
  const t = T0 + day * DAY_MS + 11 * HOUR;
  const out = [ev('user7', '203.0.113.9', t), ev('backdoor', '198.51.100.77', t + 60_000)];
  for (let u = 0; u < 40; u++) out.push(ev(`user${u}`, '192.0.2.66', t + 120_000 + u * 1000, 'failure'));
  return out;
}

/** The store's `getUsers` calls, to see how many baselines a slice held at once. */
class CountingStore extends InMemoryBaselineStore {
  readonly userReads: number[] = [];
  override async getUsers(users: readonly string[]): Promise<Map<string, UserBaseline>> {
    this.userReads.push(users.length);
    return super.getUsers(users);
  }
}

async function schedule(d: DetectionDeps, from: number, to: number, sliceUsers: number) {
  for (let t = Math.ceil(from / BUCKET_MS) * BUCKET_MS; t <= to; t += BUCKET_MS)
    await runDetection(d, { windowEnd: t, sliceUsers });
}

describe('a window run in slices', () => {
  it('raises the same alerts and learns the same baselines as the window at once', async () => {
    const events = [...office(17), ...attacks(16)];
    const whole = deps(events);
    const sliced = deps(events, { store: new CountingStore() });
    await schedule(whole.d, T0, T0 + 17 * DAY_MS, 1000);
    await schedule(sliced.d, T0, T0 + 17 * DAY_MS, 7);

    const ids = (s: typeof whole.sink) => s.delivered.map((a) => `${a.rule.id} ${a.user.name} ${a.source.ip}`).sort();
    expect(ids(sliced.sink)).toEqual(ids(whole.sink));
    // The attacks are found either way (the sliced run is not vacuously equal).
    expect(ids(whole.sink)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Auth\.UnusualSourceIp user7 203\.0\.113\.9$/),
        expect.stringMatching(/^Auth\.RareUser backdoor /),
      ]),
    );
    expect(whole.sink.delivered.some((a) => a.rule.id === 'Auth.PasswordSpray')).toBe(true);

    const users = [...Array.from({ length: 40 }, (_, u) => `user${u}`), 'backdoor'];
    const strip = (m: Map<string, UserBaseline>) =>
      [...m.values()].map(({ version: _v, ...b }) => b).sort((a, b) => a.user.localeCompare(b.user));
    expect(strip(await sliced.store.getUsers(users))).toEqual(strip(await whole.store.getUsers(users)));
    const [p, q] = [await whole.store.getPopulation(), await sliced.store.getPopulation()];
    expect(q!.knownUsers).toBe(p!.knownUsers);
    expect(q!.userBuckets).toBeCloseTo(p!.userBuckets, 6);
    expect(Object.keys(q!.sharedIps).sort()).toEqual(Object.keys(p!.sharedIps).sort());
  });

  it('holds one slice of baselines at a time, reading each slice twice (to judge, then to learn)', async () => {
    const store = new CountingStore();
    const { d } = deps(office(3), { store });
    const windowEnd = T0 + 2 * DAY_MS + 9 * HOUR + 15 * 60_000; // the 09:00 logons of all 40 users
    store.userReads.length = 0;
    await runDetection(d, { windowEnd, sliceUsers: 8 });
    // 40 users in ⌈40/8⌉ = 5 slices by a hash of the name: each slice read to judge and again to learn.
    const slices = new Set(Array.from({ length: 40 }, (_, u) => shardOf(`user${u}`, 5))).size;
    expect(store.userReads).toHaveLength(2 * slices);
    expect(store.userReads.reduce((n, x) => n + x, 0)).toBe(80);
    expect(Math.max(...store.userReads)).toBeLessThan(40);

    // One slice: read once, kept from judging to learning.
    store.userReads.length = 0;
    await runDetection(d, { windowEnd: windowEnd + 6 * HOUR, sliceUsers: 1000 });
    expect(store.userReads).toEqual([40]);
  });

  it('leaves nothing staged, whether the run succeeds or fails', async () => {
    const staging = new InMemoryStaging();
    const events = [...office(17), ...attacks(16)];
    const ok = deps(events);
    await schedule({ ...ok.d, staging }, T0, T0 + 15 * DAY_MS, 7);
    expect(staging.size).toBe(0);
    const failing = { ...ok.d, staging, sink: { publish: async () => Promise.reject(new Error('SNS is down')) } };
    await expect(schedule(failing, T0 + 15 * DAY_MS + BUCKET_MS, T0 + 17 * DAY_MS, 7)).rejects.toThrow('SNS is down');
    expect(staging.size).toBe(0);
    // And the lease was given up: the next run proceeds.
    await expect(runDetection(ok.d, { windowEnd: T0 + 17 * DAY_MS, sliceUsers: 7 })).resolves.toBeDefined();
  });
});

describe('learning in slices', () => {
  it('replaying one slice’s delta gives exactly the population of the window learned at once', () => {
    const events = office(2).map((e) => ({
      user: e.user,
      sourceIp: e.sourceIp,
      outcome: e.outcome,
      count: 1,
      firstSeen: e.timestamp,
      lastSeen: e.timestamp,
      logSource: 'sshd',
      host: 'web-01',
    }));
    const windowEnd = T0 + 2 * DAY_MS;
    const opts = { windowEnd, learning: false, settings: DEFAULT_SETTINGS };
    const pop0 = {
      userBuckets: 0,
      newUsers: 0,
      dormantReturns: 0,
      lastBucket: 0,
      knownUsers: 0,
      sharedIps: {},
      sharedPrefixes: {},
      version: 0,
    };
    const once = computeBaselineUpdate(events as never, new Map(), pop0, opts);
    const base = decayPopulationTo(pop0, bucketOf(windowEnd));
    const learned = learnUsers(events as never, new Map(), base, opts);
    const replayed = applyPopulationDeltas(base, [learned.delta]);
    const { detectorState: _a, ...a } = once.population;
    const { detectorState: _b, ...b } = replayed;
    expect(b).toEqual(a);
    expect(learned.users).toEqual(once.users);
  });
});

describe('window digests', () => {
  it('every window detector finds the same with digests as with whole baselines', async () => {
    const events = [...office(17), ...attacks(16)];
    const { d, store } = deps(events);
    await schedule(d, T0, T0 + 16 * DAY_MS, 1000);
    const t = T0 + 16 * DAY_MS + 11 * HOUR;
    const window = { start: t - 30 * 60_000, end: t + 30 * 60_000 };
    const observations = attacks(16).map((e) => ({
      user: e.user,
      sourceIp: e.sourceIp,
      outcome: e.outcome,
      count: 1,
      firstSeen: e.timestamp,
      lastSeen: e.timestamp,
      logSource: 'sshd',
      host: 'web-01',
    }));
    const names = [...new Set(observations.map((o) => o.user))];
    const whole = await store.getUsers(names);
    const digested = [...whole].map(
      ([u, b]) => [u, windowDigest(b, observations.filter((o) => o.user === u) as never)] as const,
    );
    const digests = new DigestMap(digested);
    // The digests hold far less than the baselines: a few place names per user.
    expect(JSON.stringify(digested).length * 5).toBeLessThan(JSON.stringify([...whole.values()]).length);
    expect([...digests.keys()].sort()).toEqual([...whole.keys()].sort());
    const population = (await store.getPopulation())!;
    let found = 0;
    for (const detector of DETECTORS) {
      if (!detector.evaluateWindow) continue;
      const input = {
        observations: observations as never,
        allTargetsRead: true,
        population,
        window,
        settings: DEFAULT_SETTINGS,
      };
      const a = detector.evaluateWindow({ ...input, baselines: whole });
      const b = detector.evaluateWindow({ ...input, baselines: digests });
      expect(b).toEqual(a);
      found += a.length;
    }
    expect(found).toBeGreaterThan(0);
  });
});
