/**
 * `authwatch backfill` from a file into the DynamoDB adapter on dynalite: baselines primed without alerts,
 * the learning period served, an interrupted run resumed to the same baselines, idempotent re-application.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { BUCKET_MS, type LogonEvent, type UserBaseline } from '../../shared/core/model';
import { getProfile } from '../../shared/core/profiles';
import { detectionSettingsSchema } from '../../shared/core/settings';
import { runDetection } from '../../shared/run-detection';
import { fileCheckpoint } from '../../shared/adapters/file-checkpoint';
import { backfill } from '../../shared/backfill';
import type { BackfillCheckpoint, CheckpointStore } from '../../shared/ports';
import { cmdBackfill, progressReporter } from '../../cli/backfill';
import { openLocalStore } from '../../cli/local';
import { generateScenario } from '../../cli/scenario/generate';
import { scenarioLines, toEcsLine } from '../../cli/scenario/writers';
import { useDynalite } from '../support/dynalite';

const dynamo = useDynalite();
const settings = detectionSettingsSchema.parse({ learningDays: 3 });
const profile = getProfile('ecs');
// Five days of a small office: with a 3-day learning period, a backfill of it serves the whole period.
const scenario = generateScenario({ seed: 11, shape: 'small-office', days: 5, learningDays: 3 });
const lines = scenarioLines(scenario, 'ecs');
const source = FileLogSource.fromLines('scenario', profile, lines);
const span = source.timeSpan()!;
const users = source.successUsers();
const spanEnd = Math.floor(span.last / BUCKET_MS) * BUCKET_MS + BUCKET_MS;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'authwatch-backfill-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function freshStore(): Promise<DynamoDbBaselineStore> {
  return new DynamoDbBaselineStore({ client: dynamo.client, tableName: await dynamo.freshTable() });
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

/** Baselines without their storage version (a resumed run may write an item a different number of times). */
function withoutVersions(m: Map<string, UserBaseline>): Record<string, Omit<UserBaseline, 'version'>> {
  const out: Record<string, Omit<UserBaseline, 'version'>> = {};
  for (const [k, { version: _v, ...rest }] of [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) out[k] = rest;
  return out;
}

async function ledgerSize(store: DynamoDbBaselineStore): Promise<number> {
  let n = 0;
  for await (const _ of store.scanLedger()) n++;
  return n;
}

/** A window right after the backfilled span: a never-seen account, and a known user from a never-seen network. */
function attackAfter(end: number): FileLogSource {
  const known = users.find((u) => !u.startsWith('svc-')) ?? users[0]!;
  const events: LogonEvent[] = [
    {
      timestamp: end + 2 * 60_000,
      user: 'zz.intruder',
      sourceIp: '185.220.101.7',
      outcome: 'success',
      host: 'web-01',
      logSource: 'ecs',
    },
    {
      timestamp: end + 3 * 60_000,
      user: known,
      sourceIp: '45.155.205.99',
      outcome: 'success',
      host: 'web-01',
      logSource: 'ecs',
    },
  ];
  return FileLogSource.fromLines('attack', profile, events.map(toEcsLine));
}

describe('backfill from a file into DynamoDB (dynalite)', () => {
  it('primes every user, serves the learning period, and raises no alert', async () => {
    const store = await freshStore();

    const r = await backfill({
      source,
      store,
      settings,
      span: { start: span.first, end: span.last + 1 },
      checkpoint: memoryCheckpoint(),
    });

    expect(r.status).toBe('completed');
    expect(r.windowsDone).toBe(r.windowsTotal);
    const baselines = await store.getUsers(users);
    expect([...baselines.keys()].sort()).toEqual([...users].sort());
    expect((await store.getPopulation())?.knownUsers).toBe(users.length);
    const from = Math.floor(span.first / BUCKET_MS) * BUCKET_MS;
    expect(await store.getRunState()).toMatchObject({
      backfilledFrom: from,
      firstWindowEnd: spanEnd,
      lastWindowEnd: spanEnd,
    });
    expect(await ledgerSize(store)).toBe(0);

    // The detector's next run: no new learning period, and the novelties alert.
    const sink = new InMemoryAlertSink({});
    const run = await runDetection(
      { logSources: [attackAfter(spanEnd)], store, sink, clock: { now: () => spanEnd }, settings },
      { windowEnd: spanEnd + BUCKET_MS },
    );
    expect(run.learning).toBe(false);
    expect(run.catchUp).toBe(false);
    expect(run.alertsPublished['Auth.RareUser']).toBeGreaterThanOrEqual(1);
    expect(sink.delivered.map((a) => a.user.name)).toContain('zz.intruder');

    // Without the backfill the same run is still learning, and silent.
    const cold = await freshStore();
    const coldRun = await runDetection(
      {
        logSources: [attackAfter(spanEnd)],
        store: cold,
        sink: new InMemoryAlertSink({}),
        clock: { now: () => spanEnd },
        settings,
      },
      { windowEnd: spanEnd + BUCKET_MS },
    );
    expect(coldRun.learning).toBe(true);
    expect(coldRun.alertIds).toEqual([]);
  });

  it('resumes an interrupted run from its checkpoint to the same baselines as an uninterrupted one', async () => {
    const whole = await freshStore();
    await backfill({
      source,
      store: whole,
      settings,
      span: { start: span.first, end: span.last + 1 },
      checkpoint: memoryCheckpoint(),
    });

    const resumed = await freshStore();
    const checkpoint = memoryCheckpoint();
    const stop = new AbortController();
    const first = await backfill({
      source,
      store: resumed,
      settings,
      span: { start: span.first, end: span.last + 1 },
      checkpoint,
      signal: stop.signal,
      onProgress: (p, event) => {
        if (event === 'committed' && p.windowsDone === 3) stop.abort();
      },
    });
    expect(first.status).toBe('interrupted');
    expect(first.windowsDone).toBe(3);
    expect(checkpoint.saved).toMatchObject({ doneUntil: first.doneUntil, completed: false });
    expect(await resumed.getRunState()).toBeUndefined();

    const fetched: number[] = [];
    const counting = {
      name: source.name,
      fetch: (w: { start: number; end: number }) => (fetched.push(w.start), source.fetch(w)),
    };
    const second = await backfill({
      source: counting,
      store: resumed,
      settings,
      span: { start: span.first, end: span.last + 1 },
      checkpoint,
    });

    expect(second.status).toBe('completed');
    expect(second.windowsThisRun).toBe(first.windowsTotal - 3);
    expect(Math.min(...fetched)).toBe(first.doneUntil);
    expect(withoutVersions(await resumed.getUsers(users))).toEqual(withoutVersions(await whole.getUsers(users)));
    const { version: _a, ...popResumed } = (await resumed.getPopulation())!;
    const { version: _b, ...popWhole } = (await whole.getPopulation())!;
    expect(popResumed).toEqual(popWhole);
    expect(await resumed.getRunState()).toMatchObject({ backfilledFrom: first.from, lastWindowEnd: spanEnd });
  });

  it('re-applying already-applied windows changes nothing (touch is idempotent per bucket)', async () => {
    const store = await freshStore();
    await backfill({ source, store, settings, span: { start: span.first, end: span.last + 1 } });
    const before = {
      users: await store.getUsers(users),
      population: await store.getPopulation(),
      state: await store.getRunState(),
    };
    const warnings: string[] = [];

    const again = await backfill({
      source,
      store,
      settings,
      span: { start: span.first, end: span.last + 1 },
      fresh: true,
      onWarning: (m) => warnings.push(m),
    });

    expect(again.status).toBe('completed');
    expect(again.baselinesWritten).toBe(0);
    expect(await store.getUsers(users)).toEqual(before.users);
    expect(await store.getPopulation()).toEqual(before.population);
    expect(await store.getRunState()).toEqual(before.state);
    expect(warnings.join()).toMatch(/already learned/);
  });

  it('stops at what a running detector already learned and keeps its watermark', async () => {
    const store = await freshStore();
    const detectorStart = spanEnd - 24 * 3_600_000;
    const watermark = spanEnd + 8 * BUCKET_MS;
    await store.saveRunState({ firstWindowEnd: detectorStart, lastWindowEnd: watermark, version: 0 });

    const r = await backfill({ source, store, settings, span: { start: span.first, end: span.last + 1 } });

    expect(r.clippedAt).toBe(detectorStart);
    expect(r.to).toBe(detectorStart);
    expect(await store.getRunState()).toMatchObject({
      firstWindowEnd: detectorStart,
      lastWindowEnd: watermark,
      backfilledFrom: r.from,
    });
  });

  it('the command line primes a local store and resumes nothing once complete', async () => {
    const input = join(tmp, 'auth.jsonl');
    await writeFile(input, lines.join('\n') + '\n');
    const storeDir = join(tmp, 'store');
    let out = '';
    const err = { write: (s: string) => ((out += s), true), isTTY: false };
    const flags = { profile: 'ecs', input, store: storeDir, 'learning-days': '3' };

    expect(await cmdBackfill(flags, [], { err, cwd: tmp, handleSigint: false })).toBe(0);
    expect(out).toMatch(/Backfilled .* logons: [\d,]+, users: \d+/s);
    expect(out).toMatch(/learning period: counted from .*already served/);
    expect(await cmdBackfill(flags, [], { err, cwd: tmp, handleSigint: false })).toBe(0);
    expect(out).toMatch(/Already backfilled/);

    const local = await openLocalStore({ dir: storeDir, keep: true });
    try {
      expect((await local.store.getUsers(users)).size).toBe(users.length);
      expect((await local.store.getRunState())?.backfilledFrom).toBe(Math.floor(span.first / BUCKET_MS) * BUCKET_MS);
    } finally {
      await local.close();
    }
    const [file] = await readdir(join(tmp, '.authwatch'));
    expect(file).toMatch(/^backfill-[0-9a-f]{16}\.json$/);
    const cp = await fileCheckpoint(join(tmp, '.authwatch', file!)).load();
    expect(cp).toMatchObject({ completed: true });
  });

  it('refuses a --checkpoint of another backfill in terms of the flags, before opening the store', async () => {
    const input = join(tmp, 'other.jsonl');
    await writeFile(input, lines.join('\n') + '\n');
    const checkpoint = join(tmp, 'other-checkpoint.json');
    await fileCheckpoint(checkpoint).save({
      format: 1,
      key: 'another backfill',
      from: 0,
      to: BUCKET_MS,
      doneUntil: 0,
      completed: false,
      updatedAt: '',
    });
    const storeDir = join(tmp, 'never-opened');
    const err = { write: () => true, isTTY: false };

    await expect(
      cmdBackfill({ profile: 'ecs', input, store: storeDir, checkpoint }, [], { err, cwd: tmp, handleSigint: false }),
    ).rejects.toThrow(/belongs to another backfill; remove it, pass --fresh, or choose another --checkpoint/);
    await expect(readdir(storeDir)).rejects.toThrow(/ENOENT/);
  });

  it('refuses a checkpoint file cut short or of another kind, saying how to start over', async () => {
    for (const [name, text] of [
      ['cut.json', '{"format": 1, "key": "k", "fr'],
      ['null.json', 'null'],
      ['other.json', '{"format": 2, "key": "k", "from": 0, "to": 1, "doneUntil": 0, "completed": false}'],
    ] as const) {
      await writeFile(join(tmp, name), text);
      await expect(fileCheckpoint(join(tmp, name)).load()).rejects.toThrow(/not a backfill checkpoint .*remove it/);
    }
    expect(await fileCheckpoint(join(tmp, 'absent.json')).load()).toBeUndefined();
  });

  it('lists every flag problem at once', async () => {
    await expect(
      cmdBackfill({ 'log-group': ['/a'], concurrency: '99' }, ['extra'], { handleSigint: false }),
    ).rejects.toThrow(
      /positional[\s\S]*--profile is required[\s\S]*--days <n> is required[\s\S]*--table <name>[\s\S]*--concurrency/,
    );
  });

  it('draws a bar on a terminal and a line every few windows otherwise', () => {
    const p = {
      windowsDone: 4,
      windowsTotal: 8,
      bucketsFetched: 96,
      bucketsToFetch: 192,
      logons: 12345,
      users: 42,
      doneUntil: Date.UTC(2026, 2, 3),
      elapsedMs: 60_000,
    };
    let tty = '';
    const bar = progressReporter({ write: (s: string) => (tty += s), isTTY: true });
    bar.update(p, 'fetched');
    bar.done();
    expect(tty).toBe(
      '\r\x1b[2K[############............] windows 4/8 · 12,345 logons · 42 users · done until 2026-03-03T00:00Z · ETA 1m00s\n',
    );
    let plain = '';
    const lines = progressReporter({ write: (s: string) => (plain += s), isTTY: false }, { every: 4 });
    lines.update(p, 'fetched');
    lines.update({ ...p, windowsDone: 3 }, 'committed');
    lines.update(p, 'committed');
    expect(plain.split('\n').filter(Boolean)).toEqual([
      'backfill: windows 4/8 · 12,345 logons · 42 users · done until 2026-03-03T00:00Z · ETA 1m00s',
    ]);
  });
});
