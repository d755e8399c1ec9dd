/**
 * The DynamoDB calls of the write scheme (README "How a run writes"), against moto's DynamoDB server: a run's bulk
 * save (`writeUsersLeased`: the lease confirmed by a conditional PutItem, then BatchWriteItem of at most 25 items),
 * what it does with unprocessed items and items DynamoDB refuses, a run cut mid-save converging on retry, and, to back
 * the comparison, what TransactWriteItems, BatchWriteItem and conditional PutItems each do when two writers meet.
 * moto never leaves items unprocessed: a client that plays it (holding items back and reporting them) stands in.
 * Transactions run one at a time (moto is not safe with concurrent writers during one) on small tables.
 */
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type Put,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BATCH_WRITE_MAX_ITEMS,
  DynamoDbBaselineStore,
  type DynamoDbBaselineStoreProps,
} from '../../shared/adapters/dynamodb-baseline-store';
import { DYNAMODB_MAX_ITEM_BYTES } from '../../shared/adapters/items/size';
import { PARTITION_KEY, userKey } from '../../shared/adapters/items/keys';
import { computeBaselineUpdate } from '../../shared/core/baseline-update';
import {
  bucketOf,
  dayOf,
  emptyPopulation,
  type LogonObservation,
  type SeenStats,
  type UserBaseline,
} from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { BaselineStoreError, LeaseLostError } from '../../shared/errors';
import { motoClient, useMoto } from '../support/moto';

const T = Date.UTC(2026, 2, 2, 9, 0);
const moto = useMoto();

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

/** A client of this file's moto that records the commands sent and can rewrite BatchWriteItem on its way. */
function recordingClient(
  playBatchWrite?: (input: BatchWriteItemCommandInput, call: number) => WriteRequest[] | Error | undefined,
) {
  const client = motoClient(moto.endpoint);
  const commands: { command: string; input: unknown }[] = [];
  let batchWrites = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName).replace(/Command$/, '');
      commands.push({ command, input: structuredClone(args.input) });
      if (command !== 'BatchWriteItem' || !playBatchWrite) return next(args);
      // Play DynamoDB leaving items unprocessed: hold them back from moto, and report them as unprocessed.
      const input = args.input as BatchWriteItemCommandInput;
      const held = playBatchWrite(input, ++batchWrites);
      if (held instanceof Error) throw held;
      if (!held || held.length === 0) return next(args);
      const [table, requests] = Object.entries(input.RequestItems!)[0]!;
      const keep = requests.filter((r) => !held.includes(r));
      const result =
        keep.length > 0
          ? await next({ ...args, input: { ...input, RequestItems: { [table]: keep } } })
          : ({ output: { $metadata: {} }, response: {} } as Awaited<ReturnType<typeof next>>);
      (result.output as BatchWriteItemCommandOutput).UnprocessedItems = { [table]: held };
      return result;
    },
    { step: 'initialize', name: 'playBatchWrite' },
  );
  const sizes = (command: string) =>
    commands
      .filter((c) => c.command === command)
      .map((c) => Object.values((c.input as BatchWriteItemCommandInput).RequestItems ?? {})[0]?.length ?? 1);
  return { client, commands, sizes };
}

async function openStore(props: Partial<DynamoDbBaselineStoreProps> & { client?: DynamoDBClient } = {}) {
  const tableName = await moto.freshTable();
  const sleeps: number[] = [];
  const store = new DynamoDbBaselineStore({
    client: moto.client,
    tableName,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...props,
  });
  return { store, tableName, sleeps };
}

async function rawVersion(tableName: string, pk: string): Promise<string | undefined> {
  const item = (
    await moto.client.send(
      new GetItemCommand({ TableName: tableName, Key: { [PARTITION_KEY]: { S: pk } }, ConsistentRead: true }),
    )
  ).Item;
  return item?.version?.N;
}

const lease = { owner: 'run-2026-03-02T09:00:00.000Z#1', expiresAtMs: T + 330_000 };

describe('writeUsersLeased on moto', () => {
  it('confirms the lease with one conditional PutItem, then writes 60 users in BatchWriteItems of at most 25', async () => {
    const rec = recordingClient();
    const { store, tableName } = await openStore({ client: rec.client });
    await store.acquireLease(lease, T);
    rec.commands.length = 0;
    store.resetStats();
    const users = Array.from({ length: 60 }, (_, i) => makeBaseline(`user${i}`));

    expect(await store.writeUsersLeased(users, lease, T + 1000)).toEqual({ notStored: [] });

    expect(rec.commands.map((c) => c.command)).toEqual([
      'PutItem',
      'BatchWriteItem',
      'BatchWriteItem',
      'BatchWriteItem',
    ]);
    expect(rec.commands[0]!.input).toMatchObject({
      Item: { pk: { S: 'META#lease' } },
      ConditionExpression: '#owner = :owner',
    });
    expect(rec.sizes('BatchWriteItem').sort((a, b) => a - b)).toEqual([10, 25, 25]);
    expect(store.stats).toMatchObject({ batchWriteItem: 3, putItem: 1, itemsWritten: 61, unprocessedWriteRetries: 0 });
    expect(store.requestCount).toBe(4);
    const back = await store.getUsers(users.map((u) => u.user));
    expect(back.size).toBe(60);
    expect(back.get('user59')).toEqual({ ...users[59]!, version: 1 });
    expect(await rawVersion(tableName, userKey('user0'))).toBe('1');
  });

  it('keeps to 25 items a request though moto would take more', async () => {
    // moto accepts 30 puts in one BatchWriteItem; DynamoDB refuses anything over 25 with a ValidationException.
    const tableName = await moto.freshTable();
    const puts = Array.from({ length: 30 }, (_, i) => ({
      PutRequest: { Item: { [PARTITION_KEY]: { S: `x${i}` }, version: { N: '1' }, body: { S: '{}' } } },
    }));
    const r = await moto.client.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: puts } }));
    expect(r.UnprocessedItems?.[tableName] ?? []).toEqual([]);
    expect(BATCH_WRITE_MAX_ITEMS).toBe(25);

    const rec = recordingClient();
    const { store } = await openStore({ client: rec.client });
    await store.acquireLease(lease, T);
    await store.writeUsersLeased(
      Array.from({ length: 51 }, (_, i) => makeBaseline(`u${i}`)),
      lease,
      T,
    );
    expect(Math.max(...rec.sizes('BatchWriteItem'))).toBe(25);
    expect(rec.sizes('BatchWriteItem').reduce((a, b) => a + b, 0)).toBe(51);
  });

  it('re-sends unprocessed items after a jittered backoff until all are written', async () => {
    // The first two requests of the first batch leave its last 10 items unprocessed.
    const rec = recordingClient((input, call) => {
      const requests = Object.values(input.RequestItems!)[0]!;
      return call <= 2 && requests.length > 10 ? requests.slice(-10) : undefined;
    });
    const { store, sleeps } = await openStore({ client: rec.client, batchWriteConcurrency: 1 });
    await store.acquireLease(lease, T);
    store.resetStats();
    const users = Array.from({ length: 40 }, (_, i) => makeBaseline(`user${i}`));

    expect(await store.writeUsersLeased(users, lease, T)).toEqual({ notStored: [] });

    // Batch 1: 25 sent, 10 back; those 10 again, all written (the play holds back only from batches over 10); batch 2: 15.
    expect(rec.sizes('BatchWriteItem')).toEqual([25, 10, 15]);
    expect(store.stats).toMatchObject({ batchWriteItem: 3, unprocessedWriteRetries: 1, itemsWritten: 41 });
    // Full jitter (`backoffMs`): half of min(2 s, 50 ms · 2^attempt) with random() = 0.5.
    expect(sleeps).toEqual([25]);
    expect((await store.getUsers(users.map((u) => u.user))).size).toBe(40);
  });

  it('gives up on items left unprocessed every time, after writing every other batch', async () => {
    const rec = recordingClient((input) => {
      const requests = Object.values(input.RequestItems!)[0]!;
      // Every request that carries user3 leaves it unprocessed.
      return requests.filter((r) => r.PutRequest?.Item?.[PARTITION_KEY]?.S === userKey('user3'));
    });
    const { store, sleeps } = await openStore({ client: rec.client, maxBatchWriteAttempts: 4 });
    await store.acquireLease(lease, T);
    const users = Array.from({ length: 30 }, (_, i) => makeBaseline(`user${i}`));

    const e = await store.writeUsersLeased(users, lease, T).catch((x: unknown) => x);

    expect(e).toBeInstanceOf(BaselineStoreError);
    expect((e as Error).message).toMatch(/BatchWriteItem left 1 of 25 items unprocessed after 4 attempts/);
    expect(sleeps).toEqual([25, 50, 100]);
    const back = await store.getUsers(users.map((u) => u.user));
    // What was written stays (a retry that reads again finds it, and re-applying the window changes nothing).
    expect(back.size).toBe(29);
    expect(back.has('user3')).toBe(false);
  });

  it('skips a user DynamoDB refuses for its size, writing the rest of its batch', async () => {
    // Our size estimate is an upper bound, so only DynamoDB disagreeing gets here: pad carol's put past 400 KB on its
    // way to moto, which refuses the whole request (ValidationException); the batch is then split item by item.
    const client = motoClient(moto.endpoint);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'BatchWriteItemCommand') return next(args);
        for (const r of Object.values((args.input as BatchWriteItemCommandInput).RequestItems ?? {})[0] ?? [])
          if (r.PutRequest?.Item?.[PARTITION_KEY]?.S === 'USER#carol')
            r.PutRequest.Item.pad = { S: 'x'.repeat(DYNAMODB_MAX_ITEM_BYTES) };
        return next(args);
      },
      { step: 'initialize', name: 'padCarol' },
    );
    const { store } = await openStore({ client });
    await store.acquireLease(lease, T);

    const r = await store.writeUsersLeased(
      ['alice', 'carol', 'dave'].map((u) => makeBaseline(u)),
      lease,
      T,
    );

    expect(r.notStored).toHaveLength(1);
    expect(r.notStored[0]!.user).toBe('"carol"');
    expect(r.notStored[0]!.reason).toMatch(/ValidationException: Item size has exceeded the maximum allowed size/);
    expect([...(await store.getUsers(['alice', 'carol', 'dave'])).keys()].sort()).toEqual(['alice', 'dave']);
    expect(store.stats.itemsNotStored).toBe(1);
  });

  it('writes nothing once another writer took the lapsed lease, and names it', async () => {
    const { store, tableName } = await openStore();
    const other = new DynamoDbBaselineStore({ client: moto.client, tableName });
    await store.acquireLease(lease, T);
    expect(await other.acquireLease({ owner: 'benign#1', expiresAtMs: T + 500_000 }, T + 330_000)).toEqual({
      acquired: true,
    });
    const e = await store
      .writeUsersLeased([makeBaseline('alice')], { ...lease, expiresAtMs: T + 700_000 }, T + 340_000)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LeaseLostError);
    expect((e as LeaseLostError).holder).toEqual({ owner: 'benign#1', expiresAtMs: T + 500_000 });
    expect(await rawVersion(tableName, userKey('alice'))).toBeUndefined();
  });
});

describe('a run cut in the middle of its bulk save, on moto', () => {
  /** One window: 60 users, each from a new address; what the run reads, learns and writes. */
  const windowEnd = T + 15 * 60_000;
  const observations: LogonObservation[] = Array.from({ length: 60 }, (_, i) => ({
    user: `user${i}`,
    sourceIp: `198.51.100.${i + 1}`,
    outcome: 'success',
    count: 2,
    firstSeen: windowEnd - 10 * 60_000,
    lastSeen: windowEnd - 60_000,
    hosts: ['web-01'],
    methods: ['publickey'],
    logSource: 'sshd',
  }));

  /** A run's learning of the window: lease, read, learn, bulk write, release (a run that dies releases nothing). */
  async function learnAndWrite(store: DynamoDbBaselineStore, owner: string, now: number) {
    const l = { owner, expiresAtMs: now + 330_000 };
    expect((await store.acquireLease(l, now)).acquired).toBe(true);
    const stored = await store.getUsers(observations.map((o) => o.user));
    const update = computeBaselineUpdate(observations, stored, emptyPopulation(), {
      windowEnd,
      learning: false,
      settings: DEFAULT_SETTINGS,
    });
    const result = await store.writeUsersLeased(update.users, l, now);
    await store.releaseLease(owner);
    return { written: update.users.length, result };
  }

  it('converges: the retry reads again, rewrites only what the cut run had not written, and ends where an uncut run does', async () => {
    // Half the users known before the window.
    const seed = async (tableName: string) => {
      const s = new DynamoDbBaselineStore({ client: moto.client, tableName });
      await s.saveUsers(Array.from({ length: 30 }, (_, i) => makeBaseline(`user${i * 2}`)));
    };
    const uncutTable = await moto.freshTable();
    await seed(uncutTable);
    await learnAndWrite(new DynamoDbBaselineStore({ client: moto.client, tableName: uncutTable }), 'run#a', T);

    // The cut run: its process dies after its first batch of 25 was written.
    const { store: cut, tableName } = await openStore({
      client: recordingClient((_input, call) => (call >= 2 ? new Error('process killed') : undefined)).client,
      batchWriteConcurrency: 1,
    });
    await seed(tableName);
    await expect(learnAndWrite(cut, 'run#b', T)).rejects.toThrow(/process killed/);
    // Its retry, once the dead run's lease has lapsed.
    const retry = await learnAndWrite(
      new DynamoDbBaselineStore({ client: moto.client, tableName }),
      'run#c',
      T + 330_000,
    );
    expect(retry.written).toBe(60 - 25);

    const names = observations.map((o) => o.user);
    const want = await new DynamoDbBaselineStore({ client: moto.client, tableName: uncutTable }).getUsers(names);
    const got = await new DynamoDbBaselineStore({ client: moto.client, tableName }).getUsers(names);
    // Item for item, versions included: no user was written twice.
    expect(got).toEqual(want);
  });
});

describe('two writers meet: what each write scheme does (README "How a run writes")', () => {
  // moto copies its tables for every item of a transaction: start these from an empty server.
  beforeAll(() => moto.reset());
  const v = (n: number) => ({ N: String(n) });
  const item = (pk: string, version: number, body: string) => ({
    [PARTITION_KEY]: { S: pk },
    version: v(version),
    body: { S: body },
  });
  const read = async (tableName: string, pk: string) =>
    (await moto.client.send(new GetItemCommand({ TableName: tableName, Key: { [PARTITION_KEY]: { S: pk } } }))).Item;

  /** A table with a and b at version 1; then another writer changes b (version 2) after the run read both. */
  async function raced(): Promise<string> {
    const tableName = await moto.freshTable();
    await moto.client.send(new PutItemCommand({ TableName: tableName, Item: item('USER#a', 1, 'a0') }));
    await moto.client.send(new PutItemCommand({ TableName: tableName, Item: item('USER#b', 1, 'b0') }));
    await moto.client.send(new PutItemCommand({ TableName: tableName, Item: item('USER#b', 2, 'b-other') }));
    return tableName;
  }
  const conditional = (tableName: string, pk: string, readVersion: number, body: string): Put => ({
    TableName: tableName,
    Item: item(pk, readVersion + 1, body),
    ...(readVersion === 0
      ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PARTITION_KEY } }
      : {
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': v(readVersion) },
        }),
  });

  it('TransactWriteItems: the whole transaction is cancelled, naming the item, and nothing of it is written', async () => {
    const tableName = await raced();
    const e = await moto.client
      .send(
        new TransactWriteItemsCommand({
          TransactItems: [
            { Put: conditional(tableName, 'USER#a', 1, 'a-run') },
            { Put: conditional(tableName, 'USER#b', 1, 'b-run') },
            { Put: conditional(tableName, 'USER#c', 0, 'c-run') },
          ],
        }),
      )
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(TransactionCanceledException);
    expect((e as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual([
      'None',
      'ConditionalCheckFailed',
      'None',
    ]);
    expect((await read(tableName, 'USER#a'))?.body?.S).toBe('a0');
    expect((await read(tableName, 'USER#b'))?.body?.S).toBe('b-other');
    expect(await read(tableName, 'USER#c')).toBeUndefined();
  });

  it('conditional PutItem per item: the changed item is refused, the others are written', async () => {
    const tableName = await raced();
    const outcomes: string[] = [];
    for (const [pk, version, body] of [
      ['USER#a', 1, 'a-run'],
      ['USER#b', 1, 'b-run'],
      ['USER#c', 0, 'c-run'],
    ] as const) {
      try {
        await moto.client.send(new PutItemCommand(conditional(tableName, pk, version, body)));
        outcomes.push('written');
      } catch (x) {
        expect(x).toBeInstanceOf(ConditionalCheckFailedException);
        outcomes.push('refused');
      }
    }
    expect(outcomes).toEqual(['written', 'refused', 'written']);
    expect((await read(tableName, 'USER#b'))?.body?.S).toBe('b-other');
  });

  it('BatchWriteItem: no condition can be given, so the other writer’s change is overwritten (hence the lease)', async () => {
    const tableName = await raced();
    const r = await moto.client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [tableName]: [
            { PutRequest: { Item: item('USER#a', 2, 'a-run') } },
            { PutRequest: { Item: item('USER#b', 2, 'b-run') } },
            { PutRequest: { Item: item('USER#c', 1, 'c-run') } },
          ],
        },
      }),
    );
    expect(r.UnprocessedItems?.[tableName] ?? []).toEqual([]);
    expect(await read(tableName, 'USER#b')).toEqual(item('USER#b', 2, 'b-run'));
  });
});
