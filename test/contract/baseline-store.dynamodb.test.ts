/**
 * What only the DynamoDB adapter has: request counts against the floor, BatchGetItem chunking and
 * UnprocessedKeys, the ledger's TTL attribute, constant expressions, defensive decoding, table creation,
 * and the embedded dynalite's persistence. Runs on dynalite (127.0.0.1, in process).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchGetItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type AttributeValue,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandInput,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBaselinesTable,
  DynamoDbBaselineStore,
  type DynamoDbBaselineStoreProps,
} from '../../shared/adapters/dynamodb-baseline-store';
import { encodeUserBody } from '../../shared/adapters/items/codec';
import { PARTITION_KEY, TTL_ATTRIBUTE, userKey } from '../../shared/adapters/items/keys';
import {
  bodyItemBytes,
  DYNAMODB_MAX_ITEM_BYTES,
  LEDGER_DOCUMENT_MAX_BYTES,
  USER_ITEM_TARGET_BYTES,
} from '../../shared/adapters/items/size';
import { createDynamoDbClient } from '../../shared/adapters/aws-clients';
import { EMBEDDED_REGION, startEmbeddedDynamo } from '../../shared/adapters/embedded-dynamo';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { MAX_IPS_PER_USER, MAX_NETWORKS_PER_USER, MAX_PREFIXES_PER_USER } from '../../shared/core/baseline-update';
import {
  bucketOf,
  dayOf,
  emptyPopulation,
  type LogonEvent,
  type SeenStats,
  type UserBaseline,
} from '../../shared/core/model';
import { requestFloor } from '../../shared/core/request-floor';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { BaselineStoreError, ConcurrentUpdateError } from '../../shared/errors';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';
import { useDynalite } from '../support/dynalite';
import { dynamoKeyOf, startFaultProxy, type FaultProxy } from '../support/fault-proxy';

const T = Date.UTC(2026, 2, 2, 9, 0);
const db = useDynalite();

function seen(first: number, last: number, buckets = 3.25, days = 2): SeenStats {
  return { first, last, buckets, lastBucket: bucketOf(last), days, lastDay: dayOf(last) };
}

function makeBaseline(user: string, overrides: Partial<UserBaseline> = {}): UserBaseline {
  const s = seen(T - 30 * 86_400_000, T, 41.998_765_432_1, 22);
  return {
    user,
    activity: s,
    ips: { '81.2.3.10': s },
    prefixes: { '81.2.3.0/24': s },
    networks: { '81.2.0.0/16': s },
    novelty: { periods: 60, ip: 1, prefix: 1, network: 1 },
    version: 0,
    ...overrides,
  };
}

interface Call {
  readonly command: string;
  readonly input: unknown;
}

/**
 * A client on this file's dynalite that records every command, and lets a test rewrite BatchGetItem
 * responses (to play DynamoDB leaving keys unprocessed).
 */
function recordingClient(
  rewriteBatchGet?: (input: BatchGetItemCommandInput, output: BatchGetItemCommandOutput, call: number) => void,
) {
  const client = new DynamoDBClient({
    endpoint: db.endpoint,
    region: EMBEDDED_REGION,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const calls: Call[] = [];
  let batchGets = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      calls.push({ command, input: structuredClone(args.input) });
      const result = await next(args);
      if (command === 'BatchGetItem' && rewriteBatchGet)
        rewriteBatchGet(
          args.input as BatchGetItemCommandInput,
          result.output as BatchGetItemCommandOutput,
          ++batchGets,
        );
      return result;
    },
    { step: 'initialize', name: 'recordCalls' },
  );
  const count = (command: string) => calls.filter((c) => c.command === command).length;
  return { client, calls, count };
}

async function openStore(props: Partial<DynamoDbBaselineStoreProps> & { client?: DynamoDBClient } = {}) {
  const tableName = await db.freshTable();
  const sleeps: number[] = [];
  const store = new DynamoDbBaselineStore({
    client: db.client,
    tableName,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...props,
  });
  return { store, tableName, sleeps };
}

async function rawGet(tableName: string, pk: string): Promise<Record<string, AttributeValue> | undefined> {
  return (await db.client.send(new GetItemCommand({ TableName: tableName, Key: { [PARTITION_KEY]: { S: pk } } }))).Item;
}

describe('DynamoDbBaselineStore requests', () => {
  it('reads 250 users in 3 BatchGetItem calls of at most 100 keys, strongly consistent, and writes one PutItem per user', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    const users = Array.from({ length: 250 }, (_, i) => makeBaseline(`user${i}`));
    await store.saveUsers(users);
    expect(rec.count('PutItem')).toBe(250);
    expect(store.stats.putItem).toBe(250);

    store.resetStats();
    rec.calls.length = 0;
    const got = await store.getUsers([...users.map((u) => u.user), ...users.slice(0, 10).map((u) => u.user)]); // duplicates asked twice
    expect(got.size).toBe(250);
    expect(rec.count('BatchGetItem')).toBe(3);
    expect(store.requestCount).toBe(3); // the floor: ceil(250 / 100)
    const sizes = rec.calls.map((c) => Object.values((c.input as BatchGetItemCommandInput).RequestItems!)[0]!);
    expect(sizes.map((r) => r.Keys!.length).sort()).toEqual([100, 100, 50]);
    expect(sizes.every((r) => r.ConsistentRead === true)).toBe(true);
  });

  it('writes the 250 users of a run in 10 BatchWriteItem calls of 25 after one lease confirmation: the floor', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    const lease = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
    await store.acquireLease(lease, T);
    store.resetStats();
    rec.calls.length = 0;
    const users = Array.from({ length: 250 }, (_, i) => makeBaseline(`user${i}`));
    await store.writeUsersLeased(users, lease, T);
    expect(rec.count('PutItem')).toBe(1);
    expect(rec.count('BatchWriteItem')).toBe(10);
    expect(store.requestCount).toBe(requestFloor({ usersRead: 0, usersWritten: 250, singleItems: 0 }).total);
    const sizes = rec.calls
      .filter((c) => c.command === 'BatchWriteItem')
      .map((c) => Object.values((c.input as BatchWriteItemCommandInput).RequestItems!)[0]!.length);
    expect(sizes).toEqual(Array.from({ length: 10 }, () => 25));
    expect(store.stats).toMatchObject({ batchWriteItem: 10, itemsWritten: 251 });
  });

  it('makes no request for nothing', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    await store.getUsers([]);
    await store.saveUsers([]);
    await store.writeUsersLeased([], { owner: 'run-a#1', expiresAtMs: T + 1 }, T);
    await store.recordRaisedAlerts([]);
    await store.getRaisedAlerts([]);
    expect(rec.calls).toHaveLength(0);
  });

  it('re-requests UnprocessedKeys after a backoff until all are read', async () => {
    const rec = recordingClient((input, output, call) => {
      if (call !== 1) return;
      // DynamoDB served only the first 40 keys of the first call.
      const [table, req] = Object.entries(input.RequestItems!)[0]!;
      const served = new Set(req.Keys!.slice(0, 40).map((k) => k[PARTITION_KEY]!.S));
      output.Responses![table] = output.Responses![table]!.filter((item) => served.has(item[PARTITION_KEY]!.S));
      output.UnprocessedKeys = { [table]: { ...req, Keys: req.Keys!.slice(40) } };
    });
    const { store, sleeps } = await openStore({ client: rec.client });
    const users = Array.from({ length: 100 }, (_, i) => makeBaseline(`u${i}`));
    await store.saveUsers(users);
    store.resetStats();

    const got = await store.getUsers(users.map((u) => u.user));
    expect(got.size).toBe(100);
    const batches = rec.calls
      .filter((c) => c.command === 'BatchGetItem')
      .map((c) => Object.values((c.input as BatchGetItemCommandInput).RequestItems!)[0]!.Keys!.length);
    expect(batches).toEqual([100, 60]);
    expect(store.stats).toMatchObject({ batchGetItem: 2, unprocessedRetries: 1, itemsRead: 100 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
  });

  it('gives up with a BaselineStoreError when keys stay unprocessed', async () => {
    const rec = recordingClient((input, output) => {
      const [table, req] = Object.entries(input.RequestItems!)[0]!;
      output.Responses![table] = [];
      output.UnprocessedKeys = { [table]: req };
    });
    const { store, sleeps } = await openStore({ client: rec.client, maxBatchGetAttempts: 4 });
    await store.saveUsers([makeBaseline('alice')]);
    const err = await store.getUsers(['alice']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaselineStoreError);
    expect((err as Error).message).toMatch(/unprocessed after 4 attempts/);
    // Jittered exponential backoff: ceiling 50, 100, 200 ms; with random() = 0.5, 3/4 of each.
    expect(sleeps).toEqual([37.5, 75, 150]);
  });

  it('does not rewrite population or state saved unchanged, and re-reads only what it must', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T, version: 0 });
    const state = (await store.getRunState())!;
    rec.calls.length = 0;
    await store.saveRunState(state);
    expect(rec.calls).toHaveLength(0);
    expect(store.stats.writesSkipped).toBe(1);
    await store.saveRunState({ ...state, lastWindowEnd: T + 900_000 });
    expect(rec.count('PutItem')).toBe(1);
  });

  it('keeps user names and IPs out of every expression', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    const evil = `x" OR attribute_exists(pk) OR "#v = :v`;
    await store.saveUsers([makeBaseline(evil, { ips: { '::ffff:1.2.3.4': seen(T, T) } })]);
    await store.saveUsers([{ ...(await store.getUsers([evil])).get(evil)! }]);
    await store.recordRaisedAlerts([
      {
        id: 'rareuser-abc',
        detectorId: 'Auth.RareUser',
        user: evil,
        sourceIp: '::ffff:1.2.3.4',
        raisedAtMs: T,
        expiresAtEpochSeconds: 1,
      },
    ]);
    await store.getRaisedAlerts(['rareuser-abc']);
    const expressions = rec.calls.flatMap((c) => {
      const i = c.input as PutItemCommandInput & BatchGetItemCommandInput;
      const req: {
        ConditionExpression?: string;
        ProjectionExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
      } = i.RequestItems ? Object.values(i.RequestItems)[0]! : i;
      return [
        req.ConditionExpression,
        req.ProjectionExpression,
        ...Object.values(req.ExpressionAttributeNames ?? {}),
      ].filter((x): x is string => x !== undefined);
    });
    expect(new Set(expressions)).toEqual(new Set(['attribute_not_exists(#pk)', '#v = :v', '#pk', 'pk', 'version']));
  });
});

describe('DynamoDbBaselineStore single-item cache', () => {
  it('answers a repeated population read with a version-only read, and rereads in full after another writer', async () => {
    const rec = recordingClient();
    const { store, tableName } = await openStore({ client: rec.client });
    const other = new DynamoDbBaselineStore({ client: db.client, tableName });
    await store.savePopulation({ ...emptyPopulation(), knownUsers: 7 });
    rec.calls.length = 0;
    const first = (await store.getPopulation())!;
    expect(first.knownUsers).toBe(7);
    const get = rec.calls.find((c) => c.command === 'GetItem')!.input as { ProjectionExpression?: string };
    expect(get.ProjectionExpression).toBe('#v');
    expect(store.stats.cacheHits).toBe(1);

    // Another run writes a new version: the next read must see it.
    const theirs = (await other.getPopulation())!;
    await other.savePopulation({ ...theirs, knownUsers: 8 });
    const after = (await store.getPopulation())!;
    expect(after.knownUsers).toBe(8);
    expect(after.version).toBe(2);
    expect(store.stats.cacheHits).toBe(1);
  });
});

describe('DynamoDbBaselineStore ledger', () => {
  it('stores a TTL attribute in epoch seconds and keeps the first entry of an id', async () => {
    const { store, tableName } = await openStore();
    const expiresAtEpochSeconds = Math.floor(T / 1000) + 30 * 86_400;
    await store.recordRaisedAlerts([
      {
        id: 'rareuser-1',
        detectorId: 'Auth.RareUser',
        user: 'alice',
        sourceIp: '203.0.113.9',
        raisedAtMs: T,
        expiresAtEpochSeconds,
      },
    ]);
    await store.recordRaisedAlerts([
      {
        id: 'rareuser-1',
        detectorId: 'Auth.RareUser',
        user: 'alice',
        sourceIp: '203.0.113.9',
        raisedAtMs: T + 900_000,
        expiresAtEpochSeconds: expiresAtEpochSeconds + 900,
      },
    ]);
    const item = (await rawGet(tableName, 'ALERT#rareuser-1'))!;
    expect(item[TTL_ATTRIBUTE]).toEqual({ N: String(expiresAtEpochSeconds) });
    expect(item.raisedAt).toEqual({ N: String(T) });
    expect(item.user).toEqual({ S: 'alice' });
    expect(store.stats.ledgerDuplicates).toBe(1);
  });

  it('stores the bounded document as its own string attribute of the ledger item, gone with the item at its TTL', async () => {
    const { store, tableName } = await openStore();
    const document = JSON.stringify({
      id: 'rareuser-9',
      evidence: { blob: 'z'.repeat(LEDGER_DOCUMENT_MAX_BYTES * 2) },
    });
    await store.recordRaisedAlerts([
      {
        id: 'rareuser-9',
        detectorId: 'Auth.RareUser',
        user: 'alice',
        raisedAtMs: T,
        expiresAtEpochSeconds: Math.floor(T / 1000),
        document,
      },
    ]);
    const item = (await rawGet(tableName, 'ALERT#rareuser-9'))!;
    expect(Buffer.byteLength(item.document!.S!)).toBeLessThanOrEqual(LEDGER_DOCUMENT_MAX_BYTES);
    expect(JSON.parse(item.document!.S!)).toMatchObject({ id: 'rareuser-9', truncated: true });
    expect(item[TTL_ATTRIBUTE]).toEqual({ N: String(Math.floor(T / 1000)) });
  });

  it('flags a user name cut to fit, so reading the entry back never names another user', async () => {
    const { store } = await openStore();
    const long = 'x'.repeat(5000);
    await store.recordRaisedAlerts([
      {
        id: 'unusualsourceip-1',
        detectorId: 'Auth.UnusualSourceIp',
        user: long,
        sourceIp: '203.0.113.9',
        raisedAtMs: T,
        expiresAtEpochSeconds: Math.floor(T / 1000),
      },
    ]);
    const e = (await store.getLedgerEntry('unusualsourceip-1'))!;
    expect(e.userTruncated).toBe(true);
    expect(e.user.length).toBeLessThan(long.length);
  });
});

describe('DynamoDbBaselineStore run lease over a lossy network', () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy(db.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
  });
  /** The production client configuration (its attempts), without the real backoff. */
  const throughProxy = () =>
    createDynamoDbClient({
      endpoint: proxy.endpoint,
      region: EMBEDDED_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      retryDelayMs: () => 0,
    });

  it('takes the run lease when its own first attempt went through but the answer was lost', async () => {
    const { store, tableName } = await openStore({ client: throughProxy() });
    const from = proxy.calls.length;
    let dropped = false;
    proxy.rule = (c) => (!dropped && dynamoKeyOf(c) === 'META#lease' ? ((dropped = true), 'drop-response') : undefined);
    expect(await store.acquireLease({ owner: 'run-a#1', expiresAtMs: T + 360_000 }, T)).toEqual({ acquired: true });
    proxy.rule = undefined;
    expect(proxy.calls.slice(from).map((c) => `${c.target} ${c.fault ?? 'forwarded'}`)).toEqual([
      'DynamoDB_20120810.PutItem drop-response',
      'DynamoDB_20120810.PutItem forwarded',
    ]);
    expect(await rawGet(tableName, 'META#lease')).toMatchObject({
      owner: { S: 'run-a#1' },
      leaseUntil: { N: String(T + 360_000) },
    });
    await store.releaseLease('run-a#1');
    // Released by a put (the detector may not delete items): an expired lease without owner.
    expect(await rawGet(tableName, 'META#lease')).toEqual({ pk: { S: 'META#lease' }, leaseUntil: { N: '0' } });
  });
});

describe('DynamoDbBaselineStore scans (operator views)', () => {
  it('pages through the table with the key prefixes as values, never in the expression', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client, scanPageLimit: 2 });
    await store.saveUsers([makeBaseline('alice'), makeBaseline(':p0) OR begins_with(#pk, :p1'), makeBaseline('carol')]);
    await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T, version: 0 });
    rec.calls.length = 0;
    const names: string[] = [];
    for await (const u of store.scanUsers()) names.push(u.user);
    expect(names.sort()).toEqual([':p0) OR begins_with(#pk, :p1', 'alice', 'carol']);
    const scans = rec.calls
      .filter((c) => c.command === 'Scan')
      .map((c) => c.input as { FilterExpression: string; ExclusiveStartKey?: unknown });
    expect(scans.length).toBeGreaterThan(1);
    expect(scans[1]!.ExclusiveStartKey).toBeDefined();
    for (const s of scans) expect(s.FilterExpression).toBe('begins_with(#pk, :p0) OR begins_with(#pk, :p1)');
    expect(store.stats.scan).toBe(scans.length);
  });

  it('reads feedback through the single-item cache: a repeat read is version-only', async () => {
    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    await store.saveFeedback({ allowUsers: [{ pattern: 'svc-*', addedAt: T }], allowCidrs: [], version: 0 });
    rec.calls.length = 0;
    expect((await store.getFeedback())!.allowUsers).toHaveLength(1);
    expect((rec.calls[0]!.input as { ProjectionExpression?: string }).ProjectionExpression).toBe('#v');
    expect(store.stats.cacheHits).toBe(1);
  });
});

describe('DynamoDbBaselineStore item size', () => {
  it('measures a user at the core bounds far below the target, and bounds one over it', async () => {
    const { store, tableName } = await openStore();
    const v6 = (i: number) => `2001:db8:${(0x1000 + i).toString(16)}:abcd:ef01:2345:6789:${(0xa000 + i).toString(16)}`;
    const map = (n: number, key: (i: number) => string) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          key(i),
          seen(T - 40 * 86_400_000 + i * 1_234_567, T - i * 60_000, 123.456_789_012_345 + i, 37 + i),
        ]),
      );
    const atBounds = makeBaseline('a'.repeat(64) + '@corp.example', {
      ips: map(MAX_IPS_PER_USER, v6),
      prefixes: map(MAX_PREFIXES_PER_USER, (i) => `2001:db8:${(0x1000 + i).toString(16)}::/48`),
      networks: map(MAX_NETWORKS_PER_USER, (i) => `2001:${(0xd000 + i).toString(16)}::/32`),
    });
    await store.saveUsers([atBounds]);
    const atBoundsBytes = store.stats.largestItemBytes;
    expect(store.stats.usersBounded).toBe(0);
    expect(atBoundsBytes).toBeLessThan(16 * 1024);
    const typical = bodyItemBytes(userKey('alice@corp.example'), encodeUserBody(makeBaseline('alice@corp.example')));
    expect(typical).toBeLessThan(1024); // one write unit

    // 3,000 IPv6 addresses: ~300 KB encoded, under DynamoDB's limit but far over the target.
    const roamer = makeBaseline('roamer', { ips: map(3000, v6), version: 0 });
    store.resetStats();
    await store.saveUsers([roamer]);
    expect(store.stats.usersBounded).toBe(1);
    expect(store.stats.largestItemBytes).toBeLessThanOrEqual(USER_ITEM_TARGET_BYTES);
    const raw = (await rawGet(tableName, 'USER#roamer'))!;
    expect(bodyItemBytes('USER#roamer', raw.body!.S!)).toBe(store.stats.largestItemBytes);
    console.info(
      `item sizes: typical user ${typical} B, user at the core bounds (IPv6, 77-char name) ${atBoundsBytes} B, bounded roamer ${store.stats.largestItemBytes} B`,
    );
  });
});

describe('DynamoDbBaselineStore defensive decoding', () => {
  const cases: [string, Record<string, AttributeValue>][] = [
    ['a body that is not JSON', { version: { N: '1' }, body: { S: '{"f":1,' } }],
    ['no version', { body: { S: encodeUserBody(makeBaseline('mallory')) } }],
    ['a version that is not a count', { version: { N: '0' }, body: { S: encodeUserBody(makeBaseline('mallory')) } }],
    ['a body of another format', { version: { N: '1' }, body: { S: '{"$v":2}' } }],
    ['a body as a number', { version: { N: '1' }, body: { N: '7' } }],
    [
      'an IP tuple too short',
      {
        version: { N: '1' },
        body: {
          S: encodeUserBody(makeBaseline('mallory')).replace(
            /"ips":\{"81\.2\.3\.10":\[[^\]]*\]/,
            '"ips":{"81.2.3.10":[1,2]',
          ),
        },
      },
    ],
    ["another user's baseline", { version: { N: '1' }, body: { S: encodeUserBody(makeBaseline('eve')) } }],
  ];
  it('builds each corrupt case from a body that differs from a valid one', () => {
    const valid = encodeUserBody(makeBaseline('mallory'));
    for (const [what, attrs] of cases)
      if (what !== 'no version' && what !== 'a version that is not a count')
        expect(attrs.body?.S, what).not.toBe(valid);
  });

  it.each(cases)('fails with a BaselineStoreError naming the key for %s', async (_, attrs) => {
    const { store, tableName } = await openStore();
    await db.client.send(
      new PutItemCommand({ TableName: tableName, Item: { [PARTITION_KEY]: { S: 'USER#mallory' }, ...attrs } }),
    );
    const err = await store.getUsers(['mallory']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BaselineStoreError);
    expect((err as Error).message).toContain('USER#mallory');
  });

  it('fails on a corrupt population item, naming it', async () => {
    const { store, tableName } = await openStore();
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          [PARTITION_KEY]: { S: 'POP#stats' },
          version: { N: '3' },
          body: { S: '{"$v":1,"userBuckets":1,"lastBucket":2,"sharedIps":{},"sharedPrefixes":{}}' },
        },
      }),
    );
    await expect(store.getPopulation()).rejects.toThrow(/Corrupt item POP#stats/);
  });

  it('fails on a population item whose learned-through mark is not a time', async () => {
    const { store, tableName } = await openStore();
    await db.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          [PARTITION_KEY]: { S: 'POP#stats' },
          version: { N: '3' },
          body: {
            S: '{"$v":1,"userBuckets":1,"newUsers":0,"dormantReturns":0,"lastBucket":2,"knownUsers":1,"sharedIps":{},"sharedPrefixes":{},"learnedWindowEnd":"yesterday"}',
          },
        },
      }),
    );
    await expect(store.getPopulation()).rejects.toThrow(/Corrupt item POP#stats: learnedWindowEnd/);
  });

  it('recognises a population saved unchanged whatever the order of the fields it was stored with', async () => {
    const { store, tableName } = await openStore();
    // Fields in another order than the schema's (an older writer, or the core building the object differently).
    const item = {
      [PARTITION_KEY]: { S: 'POP#stats' },
      version: { N: '4' },
      body: {
        S: '{"$v":1,"learnedWindowEnd":9,"knownUsers":1,"sharedPrefixes":{},"sharedIps":{"a":[1,0,5]},"lastBucket":2,"dormantReturns":0,"newUsers":0,"userBuckets":1}',
      },
    };
    await db.client.send(new PutItemCommand({ TableName: tableName, Item: item }));
    const read = (await store.getPopulation())!;
    expect(Object.keys(read)).toEqual([
      'learnedWindowEnd',
      'knownUsers',
      'sharedPrefixes',
      'sharedIps',
      'lastBucket',
      'dormantReturns',
      'newUsers',
      'userBuckets',
      'version',
    ]);
    await store.savePopulation(read);
    expect(store.stats.writesSkipped).toBe(1);
  });

  it('refuses to store a non-finite number rather than store a value it could not read back', async () => {
    const { store } = await openStore();
    await expect(
      store.saveUsers([makeBaseline('nan', { novelty: { periods: NaN, ip: 0, prefix: 0, network: 0 } })]),
    ).rejects.toThrow(/USER#nan.*periods is NaN/);
    // The population too, for an infinity as for NaN; nothing is written.
    await expect(store.savePopulation({ ...emptyPopulation(), userBuckets: Infinity })).rejects.toThrow(
      /POP#stats.*userBuckets is Infinity/,
    );
    expect(await store.getPopulation()).toBeUndefined();
  });

  it('stores a body holding "null" as text, and one without, exactly as given', async () => {
    // A body whose JSON holds no `null` skips the walk for non-finite numbers; one that does is walked, and
    // neither is changed by it.
    const { store } = await openStore();
    const plain = makeBaseline('alice', { ips: { '192.0.2.1': seen(T, T) } });
    const nully = makeBaseline('null', { ips: { '192.0.2.1': seen(T, T) } });
    await store.saveUsers([plain, nully]);
    const got = await store.getUsers(['alice', 'null']);
    const { version: _a, ...alice } = got.get('alice')!;
    const { version: _n, ...named } = got.get('null')!;
    const { version: _pa, ...plainBody } = plain;
    const { version: _pn, ...nullyBody } = nully;
    expect(alice).toEqual(plainBody);
    expect(named).toEqual(nullyBody);
  });

  it('wraps SDK failures in BaselineStoreError with the cause, and never calls them conflicts', async () => {
    const store = new DynamoDbBaselineStore({ client: db.client, tableName: 'no-such-table' });
    const read = await store.getUsers(['alice']).catch((e: unknown) => e);
    expect(read).toBeInstanceOf(BaselineStoreError);
    expect((read as Error).cause).toMatchObject({ name: 'ResourceNotFoundException' });
    const write = await store.saveUsers([makeBaseline('alice')]).catch((e: unknown) => e);
    expect(write).toBeInstanceOf(BaselineStoreError);
    expect(write).not.toBeInstanceOf(ConcurrentUpdateError);
    await expect(store.getRunState()).rejects.toBeInstanceOf(BaselineStoreError);
    await expect(
      store.recordRaisedAlerts([
        { id: 'x', detectorId: 'Auth.RareUser', user: 'a', raisedAtMs: T, expiresAtEpochSeconds: 1 },
      ]),
    ).rejects.toBeInstanceOf(BaselineStoreError);
  });
});

describe('createBaselinesTable', () => {
  it('is idempotent and refuses a table with another key schema', async () => {
    const name = await db.freshTable();
    await createBaselinesTable(db.client, name);
    await db.client.send(
      new CreateTableCommand({
        TableName: 'wrong-schema',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await expect(createBaselinesTable(db.client, 'wrong-schema')).rejects.toThrow(/another key schema/);
  });
});

describe('startEmbeddedDynamo', () => {
  it('keeps data in a folder across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'authwatch-dyn-'));
    try {
      const first = await startEmbeddedDynamo({ dir });
      expect(first.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await createBaselinesTable(first.client, 'persisted');
      await new DynamoDbBaselineStore({ client: first.client, tableName: 'persisted' }).saveUsers([
        makeBaseline('alice'),
      ]);
      await first.close();

      const second = await startEmbeddedDynamo({ dir });
      await createBaselinesTable(second.client, 'persisted');
      const got = await new DynamoDbBaselineStore({ client: second.client, tableName: 'persisted' }).getUsers([
        'alice',
      ]);
      await second.close();
      expect(got.get('alice')).toMatchObject({ user: 'alice', version: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads through BatchGetItem directly too (the table is plain DynamoDB)', async () => {
    const { store, tableName } = await openStore();
    await store.saveUsers([makeBaseline('alice')]);
    const res = await db.client.send(
      new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: [{ [PARTITION_KEY]: { S: 'USER#alice' } }] } } }),
    );
    expect(res.Responses![tableName]![0]!.version).toEqual({ N: '1' });
  });
});

describe('DynamoDbBaselineStore items that cannot be stored', () => {
  // 70,000 control characters: JSON-escaped (`\u0001`, 6 bytes each) the name alone is ~420 KB, over DynamoDB's
  // 400 KB item limit whatever places are evicted (its key is hashed, so only the body carries it).
  const poison = '\u0001'.repeat(70_000);
  const windowEnd = T + 15 * 60_000;

  function logonEvent(user: string, sourceIp: string): LogonEvent {
    return {
      user,
      sourceIp,
      timestamp: windowEnd - 60_000,
      outcome: 'success',
      host: 'web-01',
      method: 'publickey',
      logSource: 'sshd',
    };
  }

  it('skips the oversized user, saves the others, completes the run and counts it once', async () => {
    const { store, tableName } = await openStore();
    const warnings: { message: string; data?: Record<string, unknown> }[] = [];
    const events = [logonEvent('alice', '81.2.3.10'), logonEvent(poison, '81.2.3.11'), logonEvent('bob', '81.2.3.12')];
    const deps: DetectionDeps = {
      logSources: [
        new FileLogSource({
          name: 'test',
          events,
          parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
        }),
      ],
      store,
      sink: new InMemoryAlertSink(),
      clock: { now: () => 0 },
      settings: DEFAULT_SETTINGS,
      logger: { warn: (message, data) => void warnings.push({ message, ...(data ? { data } : {}) }) },
    };

    const summary = await runDetection(deps, { windowEnd });

    expect(summary.itemsNotStored).toBe(1);
    expect(summary.baselinesWritten).toBe(2);
    const got = await store.getUsers(['alice', 'bob', poison]);
    expect([...got.keys()].sort()).toEqual(['alice', 'bob']);
    expect((await store.getRunState())?.lastWindowEnd).toBe(windowEnd);
    expect(store.stats.itemsNotStored).toBe(1);
    // Which user, escaped and bounded: a log line never carries the 70,000 raw control characters.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/could not be stored/);
    const user = String(warnings[0]!.data?.user);
    expect(user.startsWith('"\\u0001\\u0001')).toBe(true);
    expect(user.length).toBeLessThan(1_000);
    expect(user).toMatch(/70000 characters/);
    expect(String(warnings[0]!.data?.reason)).toMatch(/over DynamoDB's 409600-byte item limit/);
    // Nothing under the poison's key.
    expect(await rawGet(tableName, userKey(poison))).toBeUndefined();
  });

  it('isolates a put DynamoDB itself rejects for its item size, and fails on any other rejection', async () => {
    // Our size estimate is an upper bound, so only DynamoDB disagreeing could get here: play that by padding one
    // user's request past 400 KB on its way to dynalite, which answers with its real ValidationException.
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: EMBEDDED_REGION,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as PutItemCommandInput;
        if (input.Item?.[PARTITION_KEY]?.S === 'USER#carol')
          input.Item.pad = { S: 'x'.repeat(DYNAMODB_MAX_ITEM_BYTES) };
        return next(args);
      },
      { step: 'initialize', name: 'padCarol' },
    );
    const { store } = await openStore({ client });

    const result = await store.saveUsers([makeBaseline('alice'), makeBaseline('carol'), makeBaseline('dave')]);

    expect(result.notStored).toHaveLength(1);
    expect(result.notStored[0]!.user).toBe('"carol"');
    expect(result.notStored[0]!.reason).toMatch(/ValidationException: Item size has exceeded the maximum allowed size/);
    expect([...(await store.getUsers(['alice', 'carol', 'dave'])).keys()].sort()).toEqual(['alice', 'dave']);
    // Any other failure of one item still fails the save: only an item that can never fit is skipped.
    await expect(
      store.saveUsers([makeBaseline('nan', { novelty: { periods: NaN, ip: 0, prefix: 0, network: 0 } })]),
    ).rejects.toBeInstanceOf(BaselineStoreError);
  });
});
