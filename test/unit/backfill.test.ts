/**
 * The backfill use case (shared/backfill.ts) over the in-memory store: what it learns and records, resuming from
 * a checkpoint, refusing what it cannot do, and commit windows that lose a race to another writer.
 */
import { describe, expect, it } from 'vitest';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { backfill } from '../../shared/backfill';
import { markPlacesKnown } from '../../shared/core/baseline-update';
import { DAY_MS, type LogonEvent, type RunLease, type TimeWindow, type UserBaseline } from '../../shared/core/model';
import { detectionSettingsSchema } from '../../shared/core/settings';
import { ConcurrentUpdateError, ConfigError, LeaseBusyError } from '../../shared/errors';
import type { BackfillCheckpoint, CheckpointStore, LogSource, SaveUsersResult } from '../../shared/ports';
import { MAX_CONFLICT_ATTEMPTS } from '../../shared/versioned-update';

const T0 = Date.UTC(2026, 2, 2);
const HOUR = 3_600_000;
const DAYS = 3;
const SPAN: TimeWindow = { start: T0, end: T0 + DAYS * DAY_MS };
/** 6-hour commit windows over three days. */
const WINDOWS = DAYS * 4;
const settings = detectionSettingsSchema.parse({ learningDays: 1 });

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

/** alice and bob from the first day on; carol only on the last day, after the one-day learning period. */
const EVENTS: LogonEvent[] = [];
for (let t = T0 + 30 * 60_000; t < SPAN.end; t += 2 * HOUR) EVENTS.push(ev('alice', '203.0.113.10', t));
for (let t = T0 + 50 * 60_000; t < SPAN.end; t += 3 * HOUR) EVENTS.push(ev('bob', '198.51.100.20', t));
EVENTS.push(ev('carol', '192.0.2.30', T0 + 2 * DAY_MS + 10 * HOUR));
EVENTS.push({ ...ev('mallory', '192.0.2.66', T0 + 5 * HOUR), outcome: 'failure' });

function source(): FileLogSource {
  return new FileLogSource({
    name: 'test',
    events: EVENTS,
    parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
  });
}

/** A source that records the windows asked of it. */
function counting(): LogSource & { fetched: TimeWindow[] } {
  const inner = source();
  const fetched: TimeWindow[] = [];
  return { name: inner.name, fetched, fetch: (w) => (fetched.push(w), inner.fetch(w)) };
}

function memoryCheckpoint(): CheckpointStore & { saved?: BackfillCheckpoint } {
  const c: CheckpointStore & { saved?: BackfillCheckpoint } = {
    where: '(memory)',
    load: async () => c.saved,
    save: async (x) => {
      c.saved = x;
    },
  };
  return c;
}

function withoutVersion({ version: _v, ...rest }: UserBaseline): Omit<UserBaseline, 'version'> {
  return rest;
}

/** What an uninterrupted backfill without any other writer learns: the reference for the other tests. */
async function reference(): Promise<InMemoryBaselineStore> {
  const store = new InMemoryBaselineStore();
  await backfill({ source: source(), store, settings, span: SPAN });
  return store;
}

describe('backfill', () => {
  it('learns every user without alerting, counts new users only after the learning period, and records it', async () => {
    const store = new InMemoryBaselineStore();

    const r = await backfill({ source: source(), store, settings, span: SPAN, checkpoint: memoryCheckpoint() });

    expect(r).toMatchObject({ status: 'completed', windowsTotal: WINDOWS, windowsDone: WINDOWS, users: 3 });
    expect(r.bucketsFetched).toBe(DAYS * 96);
    expect([...(await store.getUsers(['alice', 'bob', 'carol', 'mallory'])).keys()].sort()).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
    expect(store.ledger()).toEqual([]);
    // Only carol arrived after the first day (one new user, the count decayed a little since): alice and bob were new
    // while everyone was.
    const population = (await store.getPopulation())!;
    expect(population.knownUsers).toBe(3);
    expect(population.newUsers).toBeCloseTo(1, 0);
    expect(await store.getRunState()).toMatchObject({
      firstWindowEnd: SPAN.end,
      lastWindowEnd: SPAN.end,
      backfilledFrom: SPAN.start,
    });
  });

  it('with a learning period longer than the history, counts no user as new', async () => {
    const store = new InMemoryBaselineStore();
    await backfill({ source: source(), store, settings: { ...settings, learningDays: DAYS + 1 }, span: SPAN });
    expect(await store.getPopulation()).toMatchObject({ knownUsers: 3, newUsers: 0 });
  });

  it('resumes from its checkpoint: fetches only what was not done, and ends where an uninterrupted run does', async () => {
    const store = new InMemoryBaselineStore();
    const checkpoint = memoryCheckpoint();
    const stop = new AbortController();
    const first = await backfill({
      source: source(),
      store,
      settings,
      span: SPAN,
      checkpoint,
      signal: stop.signal,
      onProgress: (p, event) => {
        if (event === 'committed' && p.windowsDone === 5) stop.abort();
      },
    });
    expect(first).toMatchObject({ status: 'interrupted', windowsDone: 5, doneUntil: T0 + 30 * HOUR });
    expect(checkpoint.saved).toMatchObject({
      from: SPAN.start,
      to: SPAN.end,
      doneUntil: first.doneUntil,
      completed: false,
    });
    expect(await store.getRunState()).toBeUndefined();

    // The resume is asked for another span: the checkpoint's plan wins, so the same history is covered.
    const rest = counting();
    const second = await backfill({
      source: rest,
      store,
      settings,
      span: { start: SPAN.start, end: SPAN.end + DAY_MS },
      checkpoint,
      checkpointKey: `span:${SPAN.start}-${SPAN.end}`,
    });
    expect(second).toMatchObject({ status: 'completed', windowsThisRun: WINDOWS - 5, to: SPAN.end });
    expect(Math.min(...rest.fetched.map((w) => w.start))).toBe(first.doneUntil);
    expect(rest.fetched).toHaveLength((WINDOWS - 5) * 24);
    expect(checkpoint.saved).toMatchObject({ doneUntil: SPAN.end, completed: true });

    const whole = await reference();
    const users = ['alice', 'bob', 'carol'];
    expect([...(await store.getUsers(users)).values()].map(withoutVersion)).toEqual(
      [...(await whole.getUsers(users)).values()].map(withoutVersion),
    );
    const { version: _a, ...population } = (await store.getPopulation())!;
    const { version: _b, ...wholePopulation } = (await whole.getPopulation())!;
    expect(population).toEqual(wholePopulation);

    // Once complete, the same backfill does nothing.
    const again = counting();
    expect(
      await backfill({ source: again, store, settings, span: SPAN, checkpoint, checkpointKey: checkpoint.saved!.key }),
    ).toMatchObject({ status: 'already-complete' });
    expect(again.fetched).toEqual([]);
  });

  it('refuses the checkpoint of another backfill, and a commit window of partial buckets, writing nothing', async () => {
    const store = new InMemoryBaselineStore();
    const checkpoint = memoryCheckpoint();
    await checkpoint.save({
      format: 1,
      key: 'another',
      from: SPAN.start,
      to: SPAN.end,
      doneUntil: SPAN.start,
      completed: false,
      updatedAt: '',
    });

    await expect(backfill({ source: source(), store, settings, span: SPAN, checkpoint })).rejects.toThrow(
      /belongs to another backfill/,
    );
    await expect(
      backfill({ source: source(), store, settings, span: SPAN, commitWindowMs: 20 * 60_000 }),
    ).rejects.toBeInstanceOf(ConfigError);
    expect(store.writes).toBe(0);
    // With `fresh`, the other checkpoint is overwritten instead.
    expect(await backfill({ source: source(), store, settings, span: SPAN, checkpoint, fresh: true })).toMatchObject({
      status: 'completed',
    });
  });

  it('an empty span is nothing to do', async () => {
    const store = new InMemoryBaselineStore();
    const r = await backfill({ source: source(), store, settings, span: { start: T0, end: T0 } });
    expect(r.status).toBe('nothing-to-do');
    expect(store.writes).toBe(0);
  });

  it('a commit window whose lease was taken by another writer before its write is re-read and re-applied, keeping both', async () => {
    // The 3rd window's lease lapses and another writer (an analyst's `benign`) takes it, saves alice and gives it up,
    // between the backfill's read and its write.
    class RacingStore extends InMemoryBaselineStore {
      saves = 0;
      override async writeUsersLeased(
        users: readonly UserBaseline[],
        lease: RunLease,
        now: number,
      ): Promise<SaveUsersResult> {
        if (++this.saves === 3) {
          const other = { owner: 'benign#1', expiresAtMs: lease.expiresAtMs + 120_000 };
          expect((await this.acquireLease(other, lease.expiresAtMs + 1)).acquired).toBe(true);
          const alice = (await this.getUsers(['alice'])).get('alice')!;
          await super.writeUsersLeased(
            [markPlacesKnown(alice, '192.0.2.99', T0 + 13 * HOUR)],
            other,
            lease.expiresAtMs + 1,
          );
          await this.releaseLease(other.owner);
        }
        return super.writeUsersLeased(users, lease, now);
      }
    }
    const racing = new RacingStore();
    const store = racing;

    const r = await backfill({ source: source(), store: racing, settings, span: SPAN });

    expect(r.status).toBe('completed');
    expect(racing.saves).toBe(WINDOWS + 1);
    const whole = await reference();
    const got = await store.getUsers(['alice', 'bob']);
    const want = await whole.getUsers(['alice', 'bob']);
    // The other writer's place is kept, and the backfill's learning is whole: re-applied, never counted twice.
    expect(Object.keys(got.get('alice')!.ips).sort()).toEqual(['192.0.2.99', '203.0.113.10']);
    expect(got.get('alice')!.activity).toEqual(want.get('alice')!.activity);
    expect(got.get('alice')!.ips['203.0.113.10']).toEqual(want.get('alice')!.ips['203.0.113.10']);
    // bob was saved by the attempt that lost on alice; applying the window again changed nothing of his.
    expect(withoutVersion(got.get('bob')!)).toEqual(withoutVersion(want.get('bob')!));
  });

  it('gives up after losing every attempt: the error is the caller’s, and the checkpoint keeps the last window done', async () => {
    // Every save after the first window loses to another writer.
    let saves = 0;
    class LosingStore extends InMemoryBaselineStore {
      override async writeUsersLeased(
        users: readonly UserBaseline[],
        lease: RunLease,
        now: number,
      ): Promise<SaveUsersResult> {
        if (++saves === 1) return super.writeUsersLeased(users, lease, now);
        throw new ConcurrentUpdateError(['USER#alice']);
      }
    }
    const losing = new LosingStore();
    const store = losing;
    const checkpoint = memoryCheckpoint();

    await expect(
      backfill({ source: source(), store: losing, settings, span: SPAN, checkpoint }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(saves).toBe(1 + MAX_CONFLICT_ATTEMPTS);
    expect(checkpoint.saved).toMatchObject({ doneUntil: T0 + 6 * HOUR, completed: false });
    expect(await store.getRunState()).toBeUndefined();
  });
});

describe('backfill under the run lease', () => {
  it('holds the lease while it reads and writes a commit window, and leaves it free while it fetches', async () => {
    const atFetch: unknown[] = [];
    const atWrite: (RunLease | undefined)[] = [];
    const store = new (class extends InMemoryBaselineStore {
      override async writeUsersLeased(users: readonly UserBaseline[], lease: RunLease, now: number) {
        atWrite.push(this.lease());
        return super.writeUsersLeased(users, lease, now);
      }
    })();
    const inner = source();
    const watched: LogSource = { name: inner.name, fetch: (w) => (atFetch.push(store.lease()), inner.fetch(w)) };
    const clock = T0 + 10 * DAY_MS;
    await backfill({ source: watched, store, settings, span: SPAN, now: () => clock });
    expect(atFetch.every((l) => l === undefined)).toBe(true);
    expect(atWrite).toHaveLength(WINDOWS);
    for (const l of atWrite) {
      expect(l!.owner).toMatch(/^backfill#/);
      expect(l!.expiresAtMs).toBe(clock + 330_000);
    }
    expect(store.lease()).toBeUndefined();
    // Learned exactly what an unguarded, uninterrupted backfill learns.
    const want = await (await reference()).getUsers(['alice', 'bob', 'carol']);
    expect(await store.getUsers(['alice', 'bob', 'carol'])).toEqual(want);
  });

  it('waits for a run holding the lease; gives up after waiting a whole lease of a run, with LeaseBusyError, keeping its checkpoint', async () => {
    const store = new InMemoryBaselineStore();
    let clock = T0 + 10 * DAY_MS;
    const sleep = async (ms: number) => {
      clock += ms;
    };
    // A run holds the lease for the first window, and gives it up after 12 s of waiting.
    const run = { owner: 'run-x#1', expiresAtMs: clock + 330_000 };
    await store.acquireLease(run, clock);
    const releaseAt = clock + 12_000;
    const releasing = async (ms: number) => {
      await sleep(ms);
      if (clock >= releaseAt) await store.releaseLease(run.owner);
    };
    const checkpoint = memoryCheckpoint();
    const stop = new AbortController();
    const first = await backfill({
      source: source(),
      store,
      settings,
      span: SPAN,
      checkpoint,
      signal: stop.signal,
      now: () => clock,
      lease: { sleep: releasing },
      onProgress: (p, event) => {
        if (event === 'committed' && p.windowsDone === 2) stop.abort();
      },
    });
    expect(first).toMatchObject({ status: 'interrupted', windowsDone: 2 });
    expect(clock).toBe(releaseAt + 3_000);

    // A run that holds the lease longer than a backfill waits (a lease extended for a long write): it gives up.
    const dead = { owner: 'run-y#1', expiresAtMs: clock + 600_000 };
    await store.acquireLease(dead, clock);
    const before = await store.getUsers(['alice', 'bob']);
    const started = clock;
    const e = await backfill({
      source: source(),
      store,
      settings,
      span: SPAN,
      checkpoint,
      now: () => clock,
      lease: { sleep },
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LeaseBusyError);
    expect((e as Error).message).toMatch(
      /^backfill: a detection run is in progress \(the run lease is held by run-y#1/,
    );
    expect(clock - started).toBeGreaterThanOrEqual(330_000 + 60_000 - 5_000);
    expect(clock - started).toBeLessThanOrEqual(330_000 + 60_000);
    expect(checkpoint.saved).toMatchObject({ doneUntil: first.doneUntil, completed: false });
    expect(await store.getUsers(['alice', 'bob'])).toEqual(before);
  });
});
