/**
 * Deployed tables keep working: every committed stored-item fixture (test/fixtures/stored-items/<version>/, items
 * exactly as an earlier authwatch's PutItem sent them) is put into dynalite as it is and read through
 * `DynamoDbBaselineStore`, and its body decoded by the codec the in-memory store uses (items/codec.ts); both must
 * give the model values below. A fixture without expectations here fails the suite, so none is loaded unchecked.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import {
  decodeFeedback,
  decodeLeaseItem,
  decodeLedgerItem,
  decodePopulation,
  decodeRunState,
  decodeScannedUser,
  decodeUser,
  encodeUserBody,
} from '../../shared/adapters/items/codec';
import { BODY_ATTRIBUTE, PARTITION_KEY, userKey, VERSION_ATTRIBUTE } from '../../shared/adapters/items/keys';
import type { SliceDefect, SliceOwner } from '../../shared/core/detectors/state';
import type {
  Feedback,
  LedgerEntry,
  PopulationStats,
  RunState,
  SeenStats,
  UserBaseline,
} from '../../shared/core/model';
import { BaselineStoreError } from '../../shared/errors';
import { useDynalite } from '../support/dynalite';

const db = useDynalite();

type Item = Record<string, AttributeValue>;

const ROOT = join(__dirname, '../fixtures/stored-items');
const VERSIONS = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function fixture(version: string, name: string): Item {
  return JSON.parse(readFileSync(join(ROOT, version, `${name}.json`), 'utf8')) as Item;
}

/** A `SeenStats` from its stored tuple order. */
function seen(
  first: number,
  last: number,
  buckets: number,
  lastBucket: number,
  days: number,
  lastDay: number,
): SeenStats {
  return { first, last, buckets, lastBucket, days, lastDay };
}

/** The slice owner tests register: `Test.Sessions` reads up to version 1 (the fixture's slice is version 9). */
const SESSIONS: SliceOwner = {
  key: 'Test.Sessions',
  user: { version: 1, schema: z.object({ longest: z.number() }) },
};

const SMALL_SEEN = seen(1770681600000, 1772323200000, 42.5, 1969248, 12, 20513);
const LONG_NAME = `svc-${'x'.repeat(2100)}@corp.example`;
const smallUser: UserBaseline = {
  user: 'alice@corp.example',
  activity: SMALL_SEEN,
  ips: { '198.51.100.7': seen(1770681600000, 1772323200000, 40.25, 1969248, 11, 20513) },
  prefixes: { '198.51.100.0/24': seen(1770681600000, 1772323200000, 41, 1969248, 12, 20513) },
  networks: { '198.51.0.0/16': seen(1770681600000, 1772323200000, 41, 1969248, 12, 20513) },
  novelty: { periods: 30.5, ip: 1.25, prefix: 0.5, network: 0 },
  version: 1,
};

const population: PopulationStats = {
  userBuckets: 5120.5,
  newUsers: 3.25,
  dormantReturns: 0.75,
  lastBucket: 1969343,
  knownUsers: 58,
  sharedIps: {
    '198.51.100.7': { count: 12, error: 0, last: 1772408700000 },
    '2001:db8:1:2::/64': { count: 3, error: 1, last: 1772323200000 },
  },
  sharedPrefixes: { '198.51.100.0/24': { count: 14, error: 0, last: 1772408700000 } },
  sharedNetworks: {
    '198.51.0.0/16': { count: 20, error: 0, last: 1772408700000 },
    '2001:db8::/32': { count: 4, error: 2, last: 1772236800000 },
  },
  placeNovelty: { periods: 900.5, ip: 40.25, prefix: 12.5, network: 3.5, ipInKnownPrefix: 22, networkOrgNovel: 1.5 },
  learnedWindowEnd: 1772409600000,
  learnedWindowStart: 1772407800000,
  version: 1,
};

/** As the first store wrote it: the parts added since are absent, not invented; an unknown leaf field is kept. */
const olderPopulation = {
  userBuckets: 1200.25,
  newUsers: 2,
  dormantReturns: 0.5,
  lastBucket: 1966464,
  knownUsers: 21,
  sharedIps: {
    '198.51.100.7': { count: 9, error: 0, last: 1769817600000 },
    '198.51.100.8': { count: 2, error: 1, last: 1769731200000, note: 'a field from elsewhere' },
  },
  sharedPrefixes: { '198.51.100.0/24': { count: 10, error: 0, last: 1769817600000 } },
  placeNovelty: { periods: 300, ip: 12, prefix: 4, network: 1, ipInKnownPrefix: 7 },
  version: 17,
};

const runState: RunState = {
  firstWindowEnd: 1768953600000,
  lastWindowEnd: 1772150400000,
  backfilledFrom: 1766361600000,
  catchUpWatermark: 1772150400000,
  skipped: [
    { start: 1771372800000, end: 1771459200000 },
    { start: 1771545600000, end: 1771549200000 },
  ],
  version: 1,
};

const feedback: Feedback = {
  allowUsers: [
    { pattern: 'svc-backup', addedAt: 1771977600000, note: 'nightly backups from the DR site' },
    { pattern: 'scanner-*', addedAt: 1772064000000 },
  ],
  allowCidrs: [
    { cidr: '203.0.113.0/24', addedAt: 1772150400000, note: 'office NAT' },
    { cidr: '2001:db8:7::/48', user: 'alice@corp.example', addedAt: 1772236800000 },
  ],
  version: 1,
};

const ledgerWithDocument: LedgerEntry = {
  id: 'a1b2c3d4e5f60718',
  detectorId: 'Auth.UnusualSourceIp',
  user: 'alice@corp.example',
  sourceIp: '203.0.113.72',
  raisedAtMs: 1772409600000,
  expiresAtEpochSeconds: 1780185600,
  document:
    '{"id":"a1b2c3d4e5f60718","@timestamp":"2026-03-01T23:45:00.000Z","user":{"name":"alice@corp.example"},"source":{"ip":"203.0.113.72"},"score":87}',
};

const ledgerUserTruncated: LedgerEntry = {
  id: '0f1e2d3c4b5a6978',
  detectorId: 'Auth.RareUser',
  user: `intruder-${'y'.repeat(1015)}`,
  raisedAtMs: 1772409600000,
  expiresAtEpochSeconds: 1780185600,
  userTruncated: true,
};

/** Put a fixture item into a fresh table, as it is. */
async function tableWith(...items: Item[]): Promise<{ store: DynamoDbBaselineStore; tableName: string }> {
  const tableName = await db.freshTable();
  for (const Item of items) await db.client.send(new PutItemCommand({ TableName: tableName, Item }));
  return { store: new DynamoDbBaselineStore({ client: db.client, tableName, stateOwners: [SESSIONS] }), tableName };
}

async function rawGet(tableName: string, pk: string): Promise<Item | undefined> {
  return (await db.client.send(new GetItemCommand({ TableName: tableName, Key: { [PARTITION_KEY]: { S: pk } } }))).Item;
}

function bodyOf(item: Item): [string, number] {
  return [item[BODY_ATTRIBUTE]!.S!, Number(item[VERSION_ATTRIBUTE]!.N)];
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** What every fixture must decode to, through the DynamoDB adapter and through the codec. */
const CHECKS: Record<string, (item: Item) => Promise<void>> = {
  async 'user-small'(item) {
    const { store } = await tableWith(item);
    expect((await store.getUsers(['alice@corp.example'])).get('alice@corp.example')).toEqual(smallUser);
    expect(await collect(store.scanUsers())).toEqual([smallUser]);
    expect(decodeUser('alice@corp.example', ...bodyOf(item))).toEqual(smallUser);
    // Today's encoder writes the very body the fixture holds: nothing about a user's item changed.
    expect(encodeUserBody(smallUser)).toBe(item.body!.S);
  },

  async 'user-bounds-ipv6'(item) {
    const name = 'mobile.user@corp.example';
    const { store } = await tableWith(item);
    const read = (await store.getUsers([name])).get(name)!;
    expect(decodeUser(name, ...bodyOf(item))).toEqual(read);
    expect(Object.keys(read.ips)).toHaveLength(64);
    expect(Object.keys(read.prefixes)).toHaveLength(48);
    expect(Object.keys(read.networks)).toHaveLength(32);
    expect(read.ips['2001:db8:0:0::0']).toEqual(seen(1771747200000, 1772006400000, 1, 1968896, 1, 20509));
    expect(read.networks['2001:db27::/32']).toEqual(seen(1771856100000, 1772201700000, 18.5, 1969113, 7, 20511));
    expect(read.activity).toEqual(seen(1768953600000, 1772408700000, 310.75, 1969343, 38, 20513));
    expect(read.novelty).toEqual({ periods: 250.5, ip: 61.125, prefix: 20.5, network: 4.25 });
    expect(read.version).toBe(1);
    expect(encodeUserBody(read)).toBe(item.body!.S);
  },

  async 'user-hashed-key'(item) {
    expect(item[PARTITION_KEY]!.S).toBe(userKey(LONG_NAME));
    expect(item[PARTITION_KEY]!.S).toMatch(/^USERH#[0-9a-f]{64}$/);
    const { store } = await tableWith(item);
    const read = (await store.getUsers([LONG_NAME])).get(LONG_NAME)!;
    expect(read.user).toBe(LONG_NAME);
    expect(read.ips).toEqual({ '203.0.113.9': seen(1772236800000, 1772323200000, 3, 1969248, 2, 20513) });
    expect((await collect(store.scanUsers())).map((u) => u.user)).toEqual([LONG_NAME]);
    expect(decodeScannedUser(item[PARTITION_KEY]!.S!, ...bodyOf(item))).toEqual(read);
  },

  async 'user-detector-state'(item) {
    const name = 'bob@corp.example';
    const { store, tableName } = await tableWith(item);
    const read = (await store.getUsers([name])).get(name)!;
    // Unknown key: kept as stored. Known key at a newer version than its owner reads: left out, counted.
    expect(read.detectorState).toEqual({ 'Auth.Future': { v: 3, s: { hours: [0, 2, 5, 9], note: 'kept untouched' } } });
    expect(store.stats.sliceDefects).toBe(1);
    expect({ ...read, detectorState: undefined, user: 'alice@corp.example' }).toEqual({
      ...smallUser,
      detectorState: undefined,
    });

    const defects: [string, SliceDefect][] = [];
    const decoded = decodeUser(name, ...bodyOf(item), {
      owners: [SESSIONS],
      onSliceDefect: (at, d) => defects.push([at, d]),
    });
    expect(decoded).toEqual(read);
    expect(defects).toEqual([
      [
        'USER#bob@corp.example',
        { key: 'Test.Sessions', reason: 'version 9 was written by a newer authwatch (this one reads up to 1)' },
      ],
    ]);

    // Written back: the unknown slice exactly as it was stored, the unreadable one gone (to be relearned).
    await store.saveUsers([read]);
    const stored = JSON.parse((await rawGet(tableName, 'USER#bob@corp.example'))!.body!.S!) as Record<string, unknown>;
    const original = JSON.parse(item.body!.S!) as { detectorState: Record<string, unknown> };
    expect(stored.detectorState).toEqual({ 'Auth.Future': original.detectorState['Auth.Future'] });

    // Without an owner of `Test.Sessions` (this version's registry), both slices are kept as they are.
    expect(decodeUser(name, ...bodyOf(item)).detectorState).toEqual(original.detectorState);
  },

  async population(item) {
    const { store } = await tableWith(item);
    expect(await store.getPopulation()).toEqual(population);
    expect(decodePopulation(...bodyOf(item))).toEqual(population);
  },

  async 'population-older'(item) {
    const { store, tableName } = await tableWith(item);
    const read = await store.getPopulation();
    expect(read).toEqual(olderPopulation);
    expect(read).not.toHaveProperty('sharedNetworks');
    expect(read).not.toHaveProperty('learnedWindowEnd');
    expect(read?.placeNovelty).not.toHaveProperty('networkOrgNovel');
    expect(decodePopulation(...bodyOf(item))).toEqual(olderPopulation);
    // Saved back unchanged: recognised as the very item that was read, so not written.
    await store.savePopulation(read!);
    expect(store.stats.writesSkipped).toBe(1);
    expect(await rawGet(tableName, 'POP#stats')).toEqual(item);
    // Saved with a change: the fields it never had stay absent, the unknown leaf field is kept.
    await store.savePopulation({ ...read!, knownUsers: 22 });
    const body = JSON.parse((await rawGet(tableName, 'POP#stats'))!.body!.S!) as Record<string, unknown>;
    expect(body).not.toHaveProperty('sharedNetworks');
    expect((body.sharedIps as Record<string, unknown>)['198.51.100.8']).toEqual({
      count: 2,
      error: 1,
      last: 1769731200000,
      note: 'a field from elsewhere',
    });
  },

  async 'run-state'(item) {
    const { store } = await tableWith(item);
    expect(await store.getRunState()).toEqual(runState);
    expect(decodeRunState(...bodyOf(item))).toEqual(runState);
  },

  async feedback(item) {
    const { store } = await tableWith(item);
    expect(await store.getFeedback()).toEqual(feedback);
    expect(decodeFeedback(...bodyOf(item))).toEqual(feedback);
  },

  async 'ledger-with-document'(item) {
    const { store } = await tableWith(item);
    expect(await store.getLedgerEntry('a1b2c3d4e5f60718')).toEqual(ledgerWithDocument);
    const { document: _document, ...withoutDocument } = ledgerWithDocument;
    expect(await collect(store.scanLedger())).toEqual([withoutDocument]);
    expect(await store.getRaisedAlerts(['a1b2c3d4e5f60718', 'other'])).toEqual(new Set(['a1b2c3d4e5f60718']));
    expect(decodeLedgerItem(item)).toEqual(ledgerWithDocument);
  },

  async 'ledger-user-truncated'(item) {
    const { store } = await tableWith(item);
    expect(await store.getLedgerEntry('0f1e2d3c4b5a6978')).toEqual(ledgerUserTruncated);
    expect(decodeLedgerItem(item)).toEqual(ledgerUserTruncated);
  },

  async 'lease-held'(item) {
    const holder = { owner: 'run-2026-03-02T00:00:00.000Z-4f2a', expiresAtMs: 1772409930000 };
    expect(decodeLeaseItem(item)).toEqual(holder);
    const { store } = await tableWith(item);
    expect(await store.acquireLease({ owner: 'another', expiresAtMs: 1772410000000 }, 1772409900000)).toEqual({
      acquired: false,
      holder,
    });
    // Expired by the time of a later run: free for anyone.
    expect(await store.acquireLease({ owner: 'later', expiresAtMs: 1772420000000 }, 1772409930000)).toEqual({
      acquired: true,
    });
  },

  async 'lease-released'(item) {
    expect(decodeLeaseItem(item)).toBeUndefined();
    const { store } = await tableWith(item);
    expect(await store.acquireLease({ owner: 'next', expiresAtMs: 1772410000000 }, 1772409700000)).toEqual({
      acquired: true,
    });
  },
};

describe('stored items written by earlier versions', () => {
  it('has fixtures of at least v1', () => {
    expect(VERSIONS).toContain('v1');
  });

  for (const version of VERSIONS) {
    const names = readdirSync(join(ROOT, version))
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();

    it(`${version}: every fixture has its expected values here`, () => {
      expect(names).toEqual(Object.keys(CHECKS).sort());
    });

    for (const name of names) {
      it(`${version}/${name}: read through the DynamoDB adapter and the codec, to the model values`, async () => {
        const check = CHECKS[name];
        if (!check) throw new Error(`no expectations for ${version}/${name}`);
        await check(fixture(version, name));
      });
    }
  }
});

describe('feedback items with the fields added since v1', () => {
  const body = (extra: Record<string, unknown>) => JSON.stringify({ $v: 1, allowUsers: [], allowCidrs: [], ...extra });

  it('reads AS and country lists and expiries, and an item without them as before', () => {
    const entries = {
      allowUsers: [{ pattern: 'contractor-*', addedAt: 1, expiresAt: 2 }],
      allowCidrs: [],
      allowAsns: [{ asn: 64496, user: 'bob', addedAt: 1, expiresAt: 2 }],
      allowCountries: [{ country: 'JP', user: 'alice', addedAt: 1, expiresAt: 2, note: 'trip' }],
    };
    expect(decodeFeedback(body(entries), 3)).toEqual({ ...entries, version: 3 });
    expect(decodeFeedback(body({}), 3)).toEqual({ allowUsers: [], allowCidrs: [], version: 3 });
  });

  it.each([
    ['allowAsns', { allowAsns: [{ asn: 'AS64496', addedAt: 1 }] }],
    ['allowCountries', { allowCountries: { JP: true } }],
    ['allowUsers[0].expiresAt', { allowUsers: [{ pattern: 'x', addedAt: 1, expiresAt: '2026-12-18' }] }],
  ])('refuses a malformed %s, naming the item and the field', (field, extra) => {
    expect(() => decodeFeedback(body(extra), 1)).toThrow(BaselineStoreError);
    expect(() => decodeFeedback(body(extra), 1)).toThrow(/META#feedback/);
    expect(() => decodeFeedback(body(extra), 1)).toThrow(field);
  });
});

describe('user items with the fields added since v1', () => {
  const place = {
    alertId: 'unusualsourceip-0123456789abcdef01234567',
    detectorId: 'Auth.UnusualSourceIp',
    ip: '203.0.113.9',
    since: 1772323200000,
    last: 1772409600000,
    logons: 4,
  };
  const withSuspect: UserBaseline = {
    ...smallUser,
    suspect: {
      '203.0.113.9': { ...place, owner: { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' } },
      '2001:db8:9::/64': { ...place, ip: '2001:db8:9::1' },
    },
  };

  it('round-trips suspect places, and a user without them has no such field (the v1 shape)', () => {
    const body = encodeUserBody(withSuspect);
    expect(decodeUser('alice@corp.example', body, 1)).toEqual(withSuspect);
    const decoded = decodeUser('alice@corp.example', encodeUserBody(smallUser), 1);
    expect(decoded).not.toHaveProperty('suspect');
    // Absent optional fields stay absent, not own `undefined`s (an unchanged save must encode the same body).
    const v6 = decodeUser('alice@corp.example', body, 1).suspect!['2001:db8:9::/64']!;
    expect(Object.keys(v6).sort()).toEqual(Object.keys(place).sort());
    expect(encodeUserBody(decodeUser('alice@corp.example', body, 1))).toBe(body);
  });

  it('keeps an address key that is a prototype name as data, and fields a newer authwatch added', () => {
    const body = JSON.stringify({
      ...JSON.parse(encodeUserBody(smallUser)),
      suspect: JSON.parse(`{"__proto__": ${JSON.stringify({ ...place, note: 'newer' })}}`),
    });
    const read = decodeUser('alice@corp.example', body, 1);
    expect(Object.keys(read.suspect!)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(read.suspect)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(read.suspect, '__proto__')?.value).toEqual({ ...place, note: 'newer' });
  });

  it.each([
    ['suspect[203.0.113.9].logons', { '203.0.113.9': { ...place, logons: 'four' } }],
    ['suspect[203.0.113.9].alertId', { '203.0.113.9': { ...place, alertId: undefined } }],
    ['suspect[203.0.113.9].owner.asn', { '203.0.113.9': { ...place, owner: { asn: 'AS1', org: '' } } }],
    ['suspect', ['203.0.113.9']],
  ])('refuses a malformed %s, naming the item and the field', (field, suspect) => {
    const body = JSON.stringify({ ...JSON.parse(encodeUserBody(smallUser)), suspect });
    expect(() => decodeUser('alice@corp.example', body, 1)).toThrow(BaselineStoreError);
    expect(() => decodeUser('alice@corp.example', body, 1)).toThrow('USER#alice@corp.example');
    expect(() => decodeUser('alice@corp.example', body, 1)).toThrow(field);
  });
});
