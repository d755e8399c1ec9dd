/**
 * What the README's "Never lost, rarely twice" promises, counted per alert id in the failures that used to deliver alerts
 * twice: an SNS answer lost in transit, a ledger write throttled right after delivery, two overlapping runs
 * on one table, and a run that died holding the lease. Real SDK clients throughout: DynamoDB on dynalite, SNS on
 * the fake endpoint (test/support/fake-aws.ts), each behind the fault-injecting proxy where a fault is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_TIMEOUT } from '../../infra/constructs/detector';
import { AWS_MAX_ATTEMPTS, createDynamoDbClient, createSnsClient } from '../../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { LEASE_KEY } from '../../shared/adapters/items/keys';
import { EMBEDDED_REGION } from '../../shared/adapters/embedded-dynamo';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { ALERT_ID_ATTRIBUTE, SnsAlertSink } from '../../shared/adapters/sns-alert-sink';
import type { AlertBatch, PublishReport } from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { BaselineStoreError, ConcurrentUpdateError } from '../../shared/errors';
import type { AlertSink } from '../../shared/ports';
import { RUN_LEASE_MS, runDetection, type RunSummary } from '../../shared/run-detection';
import { useDynalite } from '../support/dynalite';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { dynamoKeyOf, startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { primeTable, readTable, scenarioDeps, TestClock, WINDOW_END } from '../support/window-scenario';

const db = useDynalite();
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
const TOPIC = 'arn:aws:sns:us-east-1:111122223333:authwatch-alerts';
let dynamoProxy: FaultProxy;
let aws: FakeAws;
let snsProxy: FaultProxy;

beforeAll(async () => {
  dynamoProxy = await startFaultProxy(db.endpoint);
  aws = await startFakeAws();
  snsProxy = await startFaultProxy(aws.url);
});
afterAll(async () => {
  await snsProxy.close();
  await aws.close();
  await dynamoProxy.close();
});

/** Clients as production configures them (aws-clients.ts: attempts, retry mode), without the real backoff. */
const clientOptions = (endpoint: string) => ({
  endpoint,
  region: EMBEDDED_REGION,
  credentials: CREDENTIALS,
  retryDelayMs: () => 0,
});

/** A fresh process on the table: its own client and store, straight to dynalite. */
function directStore(tableName: string): DynamoDbBaselineStore {
  return new DynamoDbBaselineStore({ client: createDynamoDbClient(clientOptions(db.endpoint)), tableName });
}

/** Throttle every attempt of each ledger write up to `attempts` (all of them when omitted). */
function throttleLedgerWrites(attempts = Infinity): () => number {
  const seen = new Map<string, number>();
  let throttled = 0;
  dynamoProxy.rule = (c) => {
    const key = dynamoKeyOf(c);
    if (!c.target.endsWith('.PutItem') || !key?.startsWith('ALERT#')) return undefined;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    if (n > attempts) return undefined;
    throttled++;
    return 'throttle';
  };
  return () => throttled;
}

async function primed(): Promise<string> {
  const tableName = await db.freshTable();
  await primeTable(db.client, tableName);
  return tableName;
}

function countById(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

async function ledgerIds(tableName: string): Promise<string[]> {
  return Object.keys(await readTable(db.client, tableName))
    .filter((k) => k.startsWith('ALERT#'))
    .map((k) => k.slice('ALERT#'.length))
    .sort();
}

/** A sink that keeps every alert it accepts (each call is one delivery). */
class CountingSink implements AlertSink {
  readonly delivered: string[] = [];
  constructor(private readonly before: () => Promise<void> = async () => {}) {}
  async publish(batch: AlertBatch): Promise<PublishReport> {
    await this.before();
    this.delivered.push(...batch.alerts.map((a) => a.id));
    return { delivered: batch.alerts.map((a) => a.id), failed: [], digestDelivered: true };
  }
}

describe('delivery: at least once, and a second copy only in the cases the README names', () => {
  it('an SNS answer lost in transit: the SDK sends the batch again, and every copy carries the alert id to drop it by', async () => {
    const tableName = await primed();
    const from = aws.published.length;
    snsProxy.rule = (c) => (c.target === 'PublishBatch' && c.index === 1 ? 'drop-response' : undefined);
    const sink = new SnsAlertSink({
      client: createSnsClient(clientOptions(snsProxy.endpoint)),
      topicArn: TOPIC,
      sleep: async () => {},
    });
    let summary: RunSummary;
    try {
      summary = await runDetection(scenarioDeps(directStore(tableName), sink), { windowEnd: WINDOW_END });
    } finally {
      snsProxy.rule = undefined;
    }
    const copies = aws.published.slice(from);
    const perAlert = countById(copies.map((p) => p.attributes[ALERT_ID_ATTRIBUTE]!));
    expect([...perAlert.keys()].sort()).toEqual([...summary.alertIds].sort());
    // The lost answer's batch, sent again: two copies of its alerts, one of any other batch's.
    expect(Math.max(...perAlert.values())).toBe(2);
    expect(Math.min(...perAlert.values())).toBeGreaterThanOrEqual(1);
    // Copies of one alert are the same message: a receiver keeping the ids it has seen drops the second.
    for (const id of perAlert.keys())
      expect(new Set(copies.filter((p) => p.attributes[ALERT_ID_ATTRIBUTE] === id).map((p) => p.message)).size).toBe(1);
    expect(await ledgerIds(tableName)).toEqual([...summary.alertIds].sort());

    // The retry of the window (or a late duplicate) sends nothing more.
    await runDetection(scenarioDeps(directStore(tableName), sink, new TestClock(WINDOW_END + RUN_LEASE_MS * 2)), {
      windowEnd: WINDOW_END,
    });
    expect(aws.published.length - from).toBe(copies.length);
  });

  it('a ledger write throttled after delivery: the SDK client rides it out, and each alert is delivered once', async () => {
    const tableName = await primed();
    // Every ledger write throttled on all but its last attempt.
    const throttled = throttleLedgerWrites(AWS_MAX_ATTEMPTS.dynamodb - 1);
    const sink = new InMemoryAlertSink();
    let summary: RunSummary;
    try {
      summary = await runDetection(
        scenarioDeps(
          new DynamoDbBaselineStore({ client: createDynamoDbClient(clientOptions(dynamoProxy.endpoint)), tableName }),
          sink,
        ),
        { windowEnd: WINDOW_END },
      );
    } finally {
      dynamoProxy.rule = undefined;
    }
    expect(throttled()).toBe(summary.alertIds.length * (AWS_MAX_ATTEMPTS.dynamodb - 1));
    const perAlert = countById(sink.delivered.map((a) => a.id));
    expect(perAlert.size).toBe(summary.alertIds.length);
    expect([...perAlert.values()].every((n) => n === 1)).toBe(true);
    expect(await ledgerIds(tableName)).toEqual([...summary.alertIds].sort());
  }, 60_000);

  it('a ledger refused through all the SDK attempts: the run fails unlearned, and its retry delivers those alerts a second time', async () => {
    // The one failure after delivery that still duplicates (as does a process dying between delivery and the
    // ledger write): the README says so, and every copy carries the same alert id.
    const tableName = await primed();
    throttleLedgerWrites();
    const sink = new InMemoryAlertSink();
    const before = await readTable(db.client, tableName);
    try {
      const store = new DynamoDbBaselineStore({
        client: createDynamoDbClient(clientOptions(dynamoProxy.endpoint)),
        tableName,
      });
      await expect(runDetection(scenarioDeps(store, sink), { windowEnd: WINDOW_END })).rejects.toBeInstanceOf(
        BaselineStoreError,
      );
    } finally {
      dynamoProxy.rule = undefined;
    }
    // Nothing learned; the lease given up.
    expect(await readTable(db.client, tableName)).toEqual({ ...before, [LEASE_KEY]: { pk: LEASE_KEY, leaseUntil: 0 } });
    const first = sink.delivered.length;
    const summary = await runDetection(scenarioDeps(directStore(tableName), sink), { windowEnd: WINDOW_END });
    const perAlert = countById(sink.delivered.map((a) => a.id));
    expect(first).toBe(summary.alertIds.length);
    expect([...perAlert.values()].every((n) => n === 2)).toBe(true);
  });

  it('two overlapping runs of one window on one table: the second finds the lease held and delivers nothing', async () => {
    const tableName = await primed();
    let reachedPublish!: () => void;
    const reached = new Promise<void>((r) => (reachedPublish = r));
    let releaseFirst!: () => void;
    const held = new Promise<void>((r) => (releaseFirst = r));
    // The first run stops inside its delivery until the second has run as far as it can.
    const first = new CountingSink(async () => {
      reachedPublish();
      await held;
    });
    const second = new CountingSink();
    const a = runDetection(scenarioDeps(directStore(tableName), first), { windowEnd: WINDOW_END });
    await reached;
    const b = await runDetection(scenarioDeps(directStore(tableName), second), { windowEnd: WINDOW_END })
      .catch((e: unknown) => e)
      .finally(() => releaseFirst());
    const summary = await a;

    expect(b).toBeInstanceOf(ConcurrentUpdateError);
    expect((b as Error).message).toContain(LEASE_KEY);
    expect(second.delivered).toEqual([]);
    // The refused run is retried by Lambda: the window is done, nothing more goes out.
    await runDetection(scenarioDeps(directStore(tableName), second), { windowEnd: WINDOW_END });
    expect(second.delivered).toEqual([]);
    const perAlert = countById(first.delivered);
    expect(perAlert.size).toBe(summary.alertIds.length);
    expect([...perAlert.values()].every((n) => n === 1)).toBe(true);
  });

  it('a run that died holding the lease: another attempt waits until it lapses, then delivers what was not delivered', async () => {
    const tableName = await primed();
    const t = WINDOW_END + 60_000;
    await directStore(tableName).acquireLease({ owner: 'run-dead#1', expiresAtMs: t + RUN_LEASE_MS }, t);
    const sink = new CountingSink();
    const early = await runDetection(scenarioDeps(directStore(tableName), sink, new TestClock(t + 60_000)), {
      windowEnd: WINDOW_END,
    }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(ConcurrentUpdateError);
    expect((early as Error).message).toContain('run-dead#1');
    const summary = await runDetection(scenarioDeps(directStore(tableName), sink, new TestClock(t + RUN_LEASE_MS)), {
      windowEnd: WINDOW_END,
    });
    expect(summary.alertIds.length).toBeGreaterThan(0);
    expect(sink.delivered.sort()).toEqual([...summary.alertIds].sort());
    expect((await readTable(db.client, tableName))[LEASE_KEY]).toEqual({ pk: LEASE_KEY, leaseUntil: 0 });
  });

  it('judges and learns a window of failed logons alone under the lease, and gives made-up names no baseline', async () => {
    const tableName = await primed();
    const failures = [0, 1, 2].map((k) => ({
      user: `guess${k}`,
      sourceIp: '203.0.113.200',
      timestamp: WINDOW_END - 10 * 60_000 + k,
      outcome: 'failure' as const,
      logSource: 'sshd',
    }));
    const before = await readTable(db.client, tableName);
    await runDetection(
      {
        logSources: [
          new FileLogSource({
            name: 'failures',
            events: failures,
            parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
          }),
        ],
        store: directStore(tableName),
        sink: new CountingSink(),
        clock: new TestClock(),
        settings: DEFAULT_SETTINGS,
      },
      { windowEnd: WINDOW_END },
    );
    const after = await readTable(db.client, tableName);
    // Failures are what spraying and spikes are judged on, so the window is learned: the population (its
    // detectors' slices) and the watermark, under the lease (released after). No USER# item: only logons teach users.
    expect(after[LEASE_KEY]).toEqual({ pk: LEASE_KEY, leaseUntil: 0 });
    expect(
      Object.keys(after)
        .filter((k) => JSON.stringify(after[k]) !== JSON.stringify(before[k]))
        .sort(),
    ).toEqual([LEASE_KEY, 'META#state', 'POP#stats'].sort());
    expect(Object.keys(after).filter((k) => k.startsWith('USER#guess'))).toEqual([]);
  });

  it('holds the lease longer than the detector Lambda can run, so a live run never loses it', () => {
    expect(RUN_LEASE_MS).toBeGreaterThan(DETECTOR_TIMEOUT.toMilliseconds());
  });
});
