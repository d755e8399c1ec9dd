/**
 * One contract, two stores: every `BaselineStore` behaviour the pipeline relies on, run against the
 * in-memory store and against `DynamoDbBaselineStore` on dynalite and on moto's DynamoDB server. DynamoDB-only
 * concerns (request counts, UnprocessedKeys, TTL attribute, corrupt items) are in baseline-store.dynamodb.test.ts;
 * the write scheme's calls on moto in write-scheme.moto.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { LEDGER_DOCUMENT_MAX_BYTES, USER_ITEM_TARGET_BYTES } from '../../shared/adapters/items/size';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { MAX_IPS_PER_USER, MAX_NETWORKS_PER_USER, MAX_PREFIXES_PER_USER } from '../../shared/core/baseline-update';
import {
  bucketOf,
  dayOf,
  type Feedback,
  type LedgerEntry,
  type PopulationStats,
  type SeenStats,
  type UserBaseline,
} from '../../shared/core/model';
import { BaselineStoreError, ConcurrentUpdateError, LeaseLostError } from '../../shared/errors';
import type { BaselineStore } from '../../shared/ports';
import { alertDocument } from '../../shared/core/alerts';
import { makeAlert } from '../support/alerts';
import { useDynalite } from '../support/dynalite';
import { useMoto } from '../support/moto';

const T = Date.UTC(2026, 2, 2, 9, 0);

function seen(first: number, last: number, buckets = 3.25, days = 2): SeenStats {
  return { first, last, buckets, lastBucket: bucketOf(last), days, lastDay: dayOf(last) };
}

function makeBaseline(user: string, overrides: Partial<UserBaseline> = {}): UserBaseline {
  const s = seen(T - 86_400_000, T, 41.998_765_432_1, 12);
  return {
    user,
    activity: s,
    ips: { '81.2.3.10': s, '2001:db8::1': seen(T - 3_600_000, T - 60_000, 1) },
    prefixes: { '81.2.3.0/24': s, '2001:db8::/48': seen(T - 3_600_000, T - 60_000, 1) },
    networks: { '81.2.0.0/16': s, '2001:db8::/32': seen(T - 3_600_000, T - 60_000, 1) },
    novelty: { periods: 20.5, ip: 1.25, prefix: 0.5, network: 0 },
    version: 0,
    ...overrides,
  };
}

/** A user at the core's bounds, with IPv6 addresses (the longest keys). */
function userAtBounds(user: string): UserBaseline {
  const map = (n: number, key: (i: number) => string) =>
    Object.fromEntries(
      Array.from({ length: n }, (_, i) => [
        key(i),
        seen(T - 40 * 86_400_000 + i * 1_234_567, T - i * 60_000, 123.456_789_012_345 + i, 37 + i),
      ]),
    );
  return makeBaseline(user, {
    ips: map(
      MAX_IPS_PER_USER,
      (i) => `2001:db8:${(0x1000 + i).toString(16)}:abcd:ef01:2345:6789:${(0xa000 + i).toString(16)}`,
    ),
    prefixes: map(MAX_PREFIXES_PER_USER, (i) => `2001:db8:${(0x1000 + i).toString(16)}::/48`),
    networks: map(MAX_NETWORKS_PER_USER, (i) => `2001:${(0xd000 + i).toString(16)}::/32`),
  });
}

function population(overrides: Partial<PopulationStats> = {}): PopulationStats {
  return {
    userBuckets: 1234.567_89,
    newUsers: 3.5,
    dormantReturns: 0.25,
    lastBucket: bucketOf(T),
    knownUsers: 250,
    sharedIps: { '198.51.100.7': { count: 40, error: 2, last: T }, '2001:db8::7': { count: 3, error: 0, last: T - 1 } },
    sharedPrefixes: { '198.51.100.0/24': { count: 41, error: 2, last: T } },
    version: 0,
    ...overrides,
  };
}

function ledgerEntry(id: string, overrides: Partial<LedgerEntry> = {}): LedgerEntry {
  return {
    id,
    detectorId: 'Auth.RareUser',
    user: 'alice',
    sourceIp: '203.0.113.9',
    raisedAtMs: T,
    expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
    ...overrides,
  };
}

/** Same data as stored, version as the store assigns it. */
function stored<T extends { version: number }>(x: T, version: number): T {
  return { ...x, version };
}

const HOSTILE_NAMES = [
  `o'brien "the admin"`,
  '#pk',
  ':v',
  'CORP\\alice',
  'alice@corp.example',
  'ünïcødé-用户-🔑',
  ' ',
  '',
  '__proto__',
  'USER#bob',
  '${jndi:ldap://x}',
  'a'.repeat(1024),
  'é'.repeat(1500), // 3,000 bytes: too long to be a key as it is
  'lone-\uD800-surrogate', // not valid UTF-8 as it is
];

interface Subject {
  readonly store: BaselineStore;
  /** A second store on the same data: another run. */
  readonly other: BaselineStore;
}

function contract(name: string, open: () => Promise<Subject>) {
  describe(`BaselineStore contract: ${name}`, () => {
    it('is empty at first', async () => {
      const { store } = await open();
      expect(await store.getUsers(['alice', 'bob'])).toEqual(new Map());
      expect(await store.getPopulation()).toBeUndefined();
      expect(await store.getRunState()).toBeUndefined();
      expect(await store.getRaisedAlerts(['x'])).toEqual(new Set());
    });

    it('round-trips users, population and run state exactly, and counts versions from 1', async () => {
      const { store } = await open();
      const alice = makeBaseline('alice');
      const bounds = userAtBounds('bob');
      await store.saveUsers([alice, bounds]);
      await store.savePopulation(population());
      await store.saveRunState({ firstWindowEnd: T - 86_400_000, lastWindowEnd: T, version: 0 });

      const got = await store.getUsers(['alice', 'bob', 'carol', 'alice']);
      expect([...got.keys()].sort()).toEqual(['alice', 'bob']);
      expect(got.get('alice')).toEqual(stored(alice, 1));
      expect(got.get('bob')).toEqual(stored(bounds, 1));
      expect(await store.getPopulation()).toEqual(stored(population(), 1));
      expect(await store.getRunState()).toEqual({ firstWindowEnd: T - 86_400_000, lastWindowEnd: T, version: 1 });

      await store.saveRunState({
        firstWindowEnd: T - 86_400_000,
        lastWindowEnd: T + 900_000,
        backfilledFrom: T - 9e8,
        version: 1,
      });
      expect(await store.getRunState()).toEqual({
        firstWindowEnd: T - 86_400_000,
        lastWindowEnd: T + 900_000,
        backfilledFrom: T - 9e8,
        version: 2,
      });
    });

    it('round-trips fields the core adds later, in the item and in its fixed-shape leaves', async () => {
      const { store } = await open();
      const grown = { ...makeBaseline('alice'), habit: { weekdays: [1, 2, 3] } } as UserBaseline;
      grown.ips['10.0.0.1'] = { ...seen(T, T), weight: 0.5 } as SeenStats;
      const pop = {
        ...population(),
        placeNovelty: { periods: 10.5, ip: 1, prefix: 0.5, network: 0, ipInKnownPrefix: 0.25 },
      } as PopulationStats;
      pop.sharedIps['10.0.0.1'] = { count: 2, error: 0, last: T, users: ['a'] } as PopulationStats['sharedIps'][string];
      await store.saveUsers([grown]);
      await store.savePopulation(pop);
      expect((await store.getUsers(['alice'])).get('alice')).toEqual(stored(grown, 1));
      expect(await store.getPopulation()).toEqual(stored(pop, 1));
    });

    it('hands out copies: mutating what was saved or read never changes the stored state', async () => {
      const { store } = await open();
      const alice = makeBaseline('alice');
      await store.saveUsers([alice]);
      alice.ips['6.6.6.6'] = seen(T, T);
      alice.activity.days = 999;
      const read = (await store.getUsers(['alice'])).get('alice')!;
      expect(read.ips['6.6.6.6']).toBeUndefined();
      expect(read.activity.days).toBe(12);
      read.ips['7.7.7.7'] = seen(T, T);
      read.version = 42;
      const again = (await store.getUsers(['alice'])).get('alice')!;
      expect(again.ips['7.7.7.7']).toBeUndefined();
      expect(again.version).toBe(1);

      const pop = population();
      await store.savePopulation(pop);
      const p1 = (await store.getPopulation())!;
      // A store may hand out a copy or a frozen cached object (DynamoDB caches single items by version):
      // either way a caller's mutation never reaches the stored state.
      try {
        p1.sharedIps['1.1.1.1'] = { count: 1, error: 0, last: T };
      } catch (e) {
        expect(e).toBeInstanceOf(TypeError);
      }
      expect((await store.getPopulation())!.sharedIps['1.1.1.1']).toBeUndefined();
    });

    it('rejects a save of a user changed since it was read, naming the user, and still writes the others', async () => {
      const { store, other } = await open();
      await store.saveUsers([makeBaseline('alice'), makeBaseline('bob')]);
      const runA = await store.getUsers(['alice', 'bob']);
      const runB = await other.getUsers(['alice', 'bob']);
      expect(runA.get('alice')!.version).toBe(1);
      expect(runB.get('alice')!.version).toBe(1);

      await store.saveUsers([{ ...runA.get('alice')!, novelty: { periods: 21, ip: 1, prefix: 0, network: 0 } }]);
      const err = await other
        .saveUsers([
          { ...runB.get('bob')!, novelty: { periods: 9, ip: 0, prefix: 0, network: 0 } },
          { ...runB.get('alice')!, novelty: { periods: 99, ip: 9, prefix: 9, network: 9 } },
        ])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConcurrentUpdateError);
      expect(err).toBeInstanceOf(BaselineStoreError);
      expect((err as ConcurrentUpdateError).keys).toEqual(['USER#alice']);
      expect((err as Error).message).toContain('USER#alice');

      const after = await store.getUsers(['alice', 'bob']);
      expect(after.get('alice')).toMatchObject({ version: 2, novelty: { periods: 21 } }); // the first run's write survives
      expect(after.get('bob')).toMatchObject({ version: 2, novelty: { periods: 9 } });
    });

    it('rejects a second creation of the same user (two runs both saw a new user)', async () => {
      const { store, other } = await open();
      await store.saveUsers([makeBaseline('newbie')]);
      await expect(
        other.saveUsers([makeBaseline('newbie', { novelty: { periods: 1, ip: 0, prefix: 0, network: 0 } })]),
      ).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect((await store.getUsers(['newbie'])).get('newbie')!.novelty.periods).toBe(20.5);
    });

    it('rejects a save at a version that was never stored', async () => {
      const { store } = await open();
      await expect(store.saveUsers([makeBaseline('ghost', { version: 3 })])).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      expect(await store.getUsers(['ghost'])).toEqual(new Map());
    });

    it('version-checks population and run state too', async () => {
      const { store, other } = await open();
      await store.savePopulation(population());
      await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T, version: 0 });
      const popA = (await store.getPopulation())!;
      const popB = (await other.getPopulation())!;
      const stateB = (await other.getRunState())!;
      await store.savePopulation({ ...popA, knownUsers: 251 });
      await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T + 900_000, version: 1 });
      await expect(other.savePopulation({ ...popB, knownUsers: 252 })).rejects.toMatchObject({
        name: 'ConcurrentUpdateError',
        keys: ['POP#stats'],
      });
      await expect(other.saveRunState({ ...stateB, lastWindowEnd: T + 1_800_000 })).rejects.toMatchObject({
        name: 'ConcurrentUpdateError',
        keys: ['META#state'],
      });
      expect((await store.getPopulation())!.knownUsers).toBe(251);
    });

    it('does not rewrite population or run state saved unchanged (a retried window)', async () => {
      const { store } = await open();
      await store.savePopulation(population());
      await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T, version: 0 });
      const pop = (await store.getPopulation())!;
      const state = (await store.getRunState())!;
      await store.savePopulation(pop);
      await store.saveRunState(state);
      expect((await store.getPopulation())!.version).toBe(1);
      expect((await store.getRunState())!.version).toBe(1);
      await store.saveRunState({ ...state, lastWindowEnd: T + 900_000 });
      expect((await store.getRunState())!.version).toBe(2);
    });

    it('keeps an idempotent alert ledger', async () => {
      const { store, other } = await open();
      await store.recordRaisedAlerts([
        ledgerEntry('rareuser-1'),
        ledgerEntry('unusualsourceip-2', { detectorId: 'Auth.UnusualSourceIp' }),
      ]);
      // Recording again (the overlapping window, a retry, another run) is fine, as is a duplicate in one call.
      await other.recordRaisedAlerts([
        ledgerEntry('rareuser-1', { raisedAtMs: T + 900_000 }),
        ledgerEntry('rareuser-3'),
        ledgerEntry('rareuser-3'),
      ]);
      await store.recordRaisedAlerts([]);
      expect(
        await store.getRaisedAlerts(['rareuser-1', 'unusualsourceip-2', 'rareuser-3', 'never', 'rareuser-1']),
      ).toEqual(new Set(['rareuser-1', 'unusualsourceip-2', 'rareuser-3']));
      expect(await store.getRaisedAlerts([])).toEqual(new Set());
    });

    it('keeps the ledger entry of an alert about a source, which has no user name', async () => {
      const { store } = await open();
      await store.recordRaisedAlerts([ledgerEntry('passwordspray-1', { detectorId: 'Auth.PasswordSpray', user: '' })]);
      expect(await store.getRaisedAlerts(['passwordspray-1'])).toEqual(new Set(['passwordspray-1']));
      expect(await store.getLedgerEntry('passwordspray-1')).toMatchObject({ user: '', sourceIp: '203.0.113.9' });
    });

    it('round-trips hostile user names, none of which reaches an expression', async () => {
      const { store } = await open();
      const users = HOSTILE_NAMES.map((n) => makeBaseline(n, { ips: { [`203.0.113.${n.length % 250}`]: seen(T, T) } }));
      await store.saveUsers(users);
      const got = await store.getUsers(HOSTILE_NAMES);
      expect(got.size).toBe(HOSTILE_NAMES.length);
      for (const u of users) expect(got.get(u.user), JSON.stringify(u.user.slice(0, 40))).toEqual(stored(u, 1));
      // Names that look like another user's key do not alias it.
      expect(await store.getUsers(['bob'])).toEqual(new Map());
      await store.recordRaisedAlerts(
        HOSTILE_NAMES.slice(0, 4).map((n, i) => ledgerEntry(`rareuser-${i}`, { user: n })),
      );
      expect((await store.getRaisedAlerts(['rareuser-0', 'rareuser-3'])).size).toBe(2);
    });

    it('skips a user whose item can never be stored, saves the others, and says which', async () => {
      const { store } = await open();
      // Escaped, each control character takes 6 bytes: ~420 KB of name alone, over the 400 KB limit.
      const poison = '\u0007'.repeat(70_000);
      const result = await store.saveUsers([makeBaseline('alice'), makeBaseline(poison), makeBaseline('bob')]);
      expect(result.notStored).toHaveLength(1);
      expect(result.notStored[0]!.user).toMatch(/^"(\\u0007){100}"… \(70000 characters\)$/);
      expect(result.notStored[0]!.reason).toMatch(/would be \d+ bytes even with no places kept/);
      expect([...(await store.getUsers(['alice', poison, 'bob'])).keys()].sort()).toEqual(['alice', 'bob']);
      expect(await store.saveUsers([makeBaseline('carol')])).toEqual({ notStored: [] });
    });

    it('keeps a user at the core bounds intact', async () => {
      const { store } = await open();
      const u = userAtBounds('mobile-user');
      await store.saveUsers([u]);
      expect((await store.getUsers(['mobile-user'])).get('mobile-user')).toEqual(stored(u, 1));
    });

    it('bounds a user with thousands of IPs, keeping the most recent, and still saves', async () => {
      const { store } = await open();
      const ips: Record<string, SeenStats> = {};
      for (let i = 0; i < 5000; i++)
        ips[`2001:db8:${(i >> 8).toString(16)}:${(i & 0xff).toString(16)}::${i.toString(16)}`] = seen(
          T - 86_400_000,
          T - (5000 - i) * 1000,
          2.5 + i / 7,
        );
      const huge = makeBaseline('roamer', { ips });
      await store.saveUsers([huge]);
      const got = (await store.getUsers(['roamer'])).get('roamer')!;
      const kept = Object.keys(got.ips);
      expect(kept.length).toBeGreaterThan(0);
      expect(kept.length).toBeLessThanOrEqual(MAX_IPS_PER_USER);
      // The most recent ones survive, with their counts intact.
      const newest = Object.keys(ips).slice(-kept.length);
      expect(kept.sort()).toEqual(newest.sort());
      for (const k of kept) expect(got.ips[k]).toEqual(ips[k]);
      expect(got.novelty).toEqual(huge.novelty);
      expect(Buffer.byteLength(JSON.stringify(got))).toBeLessThan(USER_ITEM_TARGET_BYTES);
    });

    it('round-trips analyst feedback, version-checked like run state', async () => {
      const { store, other } = await open();
      expect(await store.getFeedback()).toBeUndefined();
      const f: Feedback = {
        allowUsers: [
          { pattern: 'svc-*', addedAt: T, note: 'service accounts' },
          { pattern: HOSTILE_NAMES[0]!, addedAt: T + 1 },
        ],
        allowCidrs: [
          { cidr: '203.0.113.0/24', user: 'ünïcødé-用户-🔑', addedAt: T, note: 'hotel' },
          { cidr: '2001:db8::/48', addedAt: T + 2, expiresAt: T + 86_400_000 },
        ],
        allowAsns: [
          { asn: 64496, addedAt: T },
          { asn: 4200000000, user: 'bob', addedAt: T + 1, expiresAt: T + 86_400_000, note: 'carrier' },
        ],
        allowCountries: [{ country: 'JP', user: 'alice', addedAt: T, expiresAt: T + 7 * 86_400_000, note: 'trip' }],
        version: 0,
      };
      await store.saveFeedback(f);
      expect(await store.getFeedback()).toEqual(stored(f, 1));
      expect(await other.getFeedback()).toEqual(stored(f, 1));

      const a = (await store.getFeedback())!;
      const b = (await other.getFeedback())!;
      await store.saveFeedback({ ...a, allowUsers: [...a.allowUsers, { pattern: 'ops-*', addedAt: T + 3 }] });
      await expect(other.saveFeedback({ ...b, allowUsers: [] })).rejects.toMatchObject({
        name: 'ConcurrentUpdateError',
        keys: ['META#feedback'],
      });
      const after = (await other.getFeedback())!;
      expect(after.version).toBe(2);
      expect(after.allowUsers.map((e) => e.pattern)).toEqual(['svc-*', HOSTILE_NAMES[0], 'ops-*']);
      // Saving it unchanged writes nothing; a second creation loses.
      await other.saveFeedback(after);
      expect((await store.getFeedback())!.version).toBe(2);
      await expect(other.saveFeedback({ ...f, version: 0 })).rejects.toBeInstanceOf(ConcurrentUpdateError);
    });

    it('reads one ledger entry back by id, as recorded', async () => {
      const { store } = await open();
      await store.recordRaisedAlerts([
        ledgerEntry('unusualsourceip-1', { detectorId: 'Auth.UnusualSourceIp', user: HOSTILE_NAMES[0]! }),
        ledgerEntry('rareuser-2', { sourceIp: undefined }),
      ]);
      expect(await store.getLedgerEntry('unusualsourceip-1')).toEqual(
        ledgerEntry('unusualsourceip-1', { detectorId: 'Auth.UnusualSourceIp', user: HOSTILE_NAMES[0]! }),
      );
      const rare = await store.getLedgerEntry('rareuser-2');
      expect(rare).toMatchObject({ id: 'rareuser-2', user: 'alice', raisedAtMs: T });
      expect(rare!.sourceIp).toBeUndefined();
      expect(await store.getLedgerEntry('never')).toBeUndefined();
    });

    it('keeps the alert document as delivered and reads it back by id, byte for byte', async () => {
      const { store, other } = await open();
      const a = makeAlert({ detector: 'ip', user: HOSTILE_NAMES[5]!, otherIps: ['198.51.100.7', '2001:db8::9'] });
      const document = alertDocument(a);
      await store.recordRaisedAlerts([ledgerEntry(a.id, { document }), ledgerEntry('rareuser-2')]);
      expect((await other.getLedgerEntry(a.id))!.document).toBe(document);
      expect(JSON.parse((await store.getLedgerEntry(a.id))!.document!)).toEqual(a);
      // An entry recorded without one (before documents were kept) reads back without one.
      expect((await store.getLedgerEntry('rareuser-2'))!.document).toBeUndefined();
      // Idempotent: a repeat record of the id keeps the first document.
      await other.recordRaisedAlerts([ledgerEntry(a.id, { document: '{"id":"other"}' })]);
      expect((await store.getLedgerEntry(a.id))!.document).toBe(document);
      // Scans for operator views leave documents out.
      for await (const e of store.scanLedger()) expect(e.document).toBeUndefined();
    });

    it('bounds a huge document: trims its largest lists and strings, marks it truncated, keeps what identifies it', async () => {
      const { store } = await open();
      const a = makeAlert({
        user: 'u'.repeat(20_000),
        hosts: Array.from({ length: 500 }, (_, i) => `host-${i}.example.internal`),
        otherIps: Array.from({ length: 20 }, (_, i) => `198.51.100.${i}`),
        evidence: {
          kind: 'new',
          known_users: 40,
          blob: 'y'.repeat(60_000),
          list: Array.from({ length: 2_000 }, (_, i) => `item-${i}`),
        },
      });
      const document = alertDocument(a);
      expect(Buffer.byteLength(document)).toBeGreaterThan(100_000);
      await store.recordRaisedAlerts([ledgerEntry(a.id, { document })]);
      const kept = (await store.getLedgerEntry(a.id))!.document!;
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(LEDGER_DOCUMENT_MAX_BYTES);
      const doc = JSON.parse(kept) as typeof a & { truncated?: boolean };
      expect(doc.truncated).toBe(true);
      expect(doc.id).toBe(a.id);
      expect(doc['@timestamp']).toBe(a['@timestamp']);
      expect(doc.rule.id).toBe(a.rule.id);
      expect(doc.score).toBe(a.score);
      expect(doc.host.names.length).toBeLessThan(a.host.names.length);
      expect(doc.host.names[0]).toBe(a.host.names[0]);
      expect((doc.evidence.list as string[]).length).toBeLessThan(2_000);
      expect(doc.user.name.startsWith('uuuu')).toBe(true);
      // Small values are untouched: the trim goes to the largest first.
      expect(doc.evidence.known_users).toBe(40);
      expect(doc.source.ip).toBe(a.source.ip);
    });

    it('scans every stored user, hashed keys included, and nothing else', async () => {
      const { store } = await open();
      const users = [
        makeBaseline('alice'),
        makeBaseline('é'.repeat(1500)),
        makeBaseline('lone-\uD800-surrogate'),
        makeBaseline('USER#bob'),
      ];
      await store.saveUsers(users);
      await store.savePopulation(population());
      await store.saveRunState({ firstWindowEnd: T, lastWindowEnd: T, version: 0 });
      await store.saveFeedback({ allowUsers: [], allowCidrs: [], version: 0 });
      await store.recordRaisedAlerts([ledgerEntry('rareuser-1')]);
      const scanned: UserBaseline[] = [];
      for await (const u of store.scanUsers()) scanned.push(u);
      expect(scanned.map((u) => u.user).sort()).toEqual(users.map((u) => u.user).sort());
      for (const u of users) expect(scanned.find((x) => x.user === u.user)).toEqual(stored(u, 1));
    });

    it('scans the alert ledger', async () => {
      const { store } = await open();
      for await (const _ of store.scanLedger()) expect.unreachable('empty ledger');
      const entries = Array.from({ length: 30 }, (_, i) =>
        ledgerEntry(`unusualsourceip-${i}`, { user: `user${i % 4}`, raisedAtMs: T + i }),
      );
      await store.recordRaisedAlerts(entries);
      await store.saveUsers([makeBaseline('alice')]);
      const scanned: LedgerEntry[] = [];
      for await (const e of store.scanLedger()) scanned.push(e);
      expect(scanned.sort((a, b) => a.raisedAtMs - b.raisedAtMs)).toEqual(entries);
    });

    it('round-trips the window the population has learned through', async () => {
      const { store, other } = await open();
      await store.savePopulation(population({ learnedWindowEnd: T + 900_000 }));
      expect((await other.getPopulation())?.learnedWindowEnd).toBe(T + 900_000);
    });

    it('lets one owner hold the run lease at a time, until it is released or expires', async () => {
      const { store, other } = await open();
      const a = { owner: 'run-a#1', expiresAtMs: T + 360_000 };
      expect(await store.acquireLease(a, T)).toEqual({ acquired: true });
      // Another attempt (another process, its own store) is refused and told who holds it.
      expect(await other.acquireLease({ owner: 'run-a#2', expiresAtMs: T + 400_000 }, T + 60_000)).toEqual({
        acquired: false,
        holder: a,
      });
      // The holder may take it again (a retried write whose answer was lost), and extend it.
      expect(await store.acquireLease({ ...a, expiresAtMs: T + 420_000 }, T + 60_000)).toEqual({ acquired: true });
      expect(await other.acquireLease({ owner: 'run-b#1', expiresAtMs: T + 800_000 }, T + 400_000)).toEqual({
        acquired: false,
        holder: { ...a, expiresAtMs: T + 420_000 },
      });
      // Releasing someone else's lease does nothing; the holder's release frees it at once.
      await other.releaseLease('run-b#1');
      expect((await other.acquireLease({ owner: 'run-b#1', expiresAtMs: T + 800_000 }, T + 100_000)).acquired).toBe(
        false,
      );
      await store.releaseLease(a.owner);
      expect(await other.acquireLease({ owner: 'run-b#1', expiresAtMs: T + 800_000 }, T + 100_000)).toEqual({
        acquired: true,
      });
      // A holder that died: its lease lapses at `expiresAtMs`, not before.
      expect((await store.acquireLease({ owner: 'run-c#1', expiresAtMs: T + 1_200_000 }, T + 799_999)).acquired).toBe(
        false,
      );
      expect(await store.acquireLease({ owner: 'run-c#1', expiresAtMs: T + 1_200_000 }, T + 800_000)).toEqual({
        acquired: true,
      });
      // The lapsed holder's late release leaves the new holder's lease alone.
      await other.releaseLease('run-b#1');
      expect(await other.acquireLease({ owner: 'run-d#1', expiresAtMs: T + 1_300_000 }, T + 900_000)).toEqual({
        acquired: false,
        holder: { owner: 'run-c#1', expiresAtMs: T + 1_200_000 },
      });
    });

    it('keeps the run lease apart from everything else stored', async () => {
      const { store } = await open();
      await store.acquireLease({ owner: 'run-a#1', expiresAtMs: T + 360_000 }, T);
      await store.saveUsers([makeBaseline('alice')]);
      const users: string[] = [];
      for await (const u of store.scanUsers()) users.push(u.user);
      const ledger: LedgerEntry[] = [];
      for await (const e of store.scanLedger()) ledger.push(e);
      expect(users).toEqual(['alice']);
      expect(ledger).toEqual([]);
      expect(await store.getRunState()).toBeUndefined();
    });

    it('writes the users of a run in bulk under the lease, each at the version it was read with + 1', async () => {
      const { store, other } = await open();
      const lease = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      expect(await store.acquireLease(lease, T)).toEqual({ acquired: true });
      await store.saveUsers(Array.from({ length: 30 }, (_, i) => makeBaseline(`old${i}`)));
      const read = await store.getUsers(Array.from({ length: 30 }, (_, i) => `old${i}`));
      // 30 users known (version 1, changed) and 31 new ones (version 0): more than two batches of 25.
      const changed = [
        ...[...read.values()].map((u) => ({ ...u, novelty: { ...u.novelty, periods: 77 } })),
        ...Array.from({ length: 31 }, (_, i) => makeBaseline(`new${i}`)),
      ];
      expect(await store.writeUsersLeased(changed, lease, T + 1000)).toEqual({ notStored: [] });
      const after = await other.getUsers(changed.map((u) => u.user));
      expect(after.size).toBe(61);
      expect(after.get('old7')).toEqual({ ...changed.find((u) => u.user === 'old7')!, version: 2 });
      expect(after.get('new30')).toEqual(stored(changed[60]!, 1));
      // Operators' version-checked saves go on working on what the bulk write stored.
      await other.saveUsers([{ ...after.get('old7')!, novelty: { periods: 1, ip: 0, prefix: 0, network: 0 } }]);
      expect((await store.getUsers(['old7'])).get('old7')).toMatchObject({ version: 3, novelty: { periods: 1 } });
      await expect(other.saveUsers([after.get('new30')!, after.get('old8')!])).resolves.toEqual({ notStored: [] });
    });

    it('refuses a leased write, writing nothing, once the lease names another owner or was released', async () => {
      const { store, other } = await open();
      await store.saveUsers([makeBaseline('alice')]);
      const alice = (await store.getUsers(['alice'])).get('alice')!;
      const changed = { ...alice, novelty: { ...alice.novelty, periods: 99 } };
      // Never taken.
      await expect(
        store.writeUsersLeased([changed], { owner: 'run-a#1', expiresAtMs: T + 330_000 }, T),
      ).rejects.toBeInstanceOf(LeaseLostError);
      // Taken, lapsed, and taken by another writer: the first run's write would overwrite what the other read.
      const a = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      await store.acquireLease(a, T);
      const b = { owner: 'operator#1', expiresAtMs: T + 500_000 };
      expect(await other.acquireLease(b, T + 330_000)).toEqual({ acquired: true });
      const err = await store
        .writeUsersLeased([changed], { ...a, expiresAtMs: T + 660_000 }, T + 340_000)
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LeaseLostError);
      expect(err).toBeInstanceOf(ConcurrentUpdateError);
      expect((err as LeaseLostError).holder).toEqual(b);
      expect((err as Error).message).toContain('operator#1');
      // Released by its holder: no one's.
      await other.releaseLease(b.owner);
      await expect(
        store.writeUsersLeased([changed], { ...a, expiresAtMs: T + 660_000 }, T + 340_000),
      ).rejects.toMatchObject({
        name: 'LeaseLostError',
        holder: undefined,
      });
      expect((await other.getUsers(['alice'])).get('alice')).toEqual(alice);
      // And the refused writes did not take the lease either.
      expect((await other.acquireLease({ owner: 'run-c#1', expiresAtMs: T + 900_000 }, T + 340_000)).acquired).toBe(
        true,
      );
    });

    it('confirms the lease and sets its expiry: a lapsed lease no one took still belongs to its owner', async () => {
      const { store, other } = await open();
      const a = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      await store.acquireLease(a, T);
      // Its time ran out, but no one else took it: no one else can have written since it was taken.
      const extended = { ...a, expiresAtMs: T + 800_000 };
      expect(await store.writeUsersLeased([makeBaseline('bob')], extended, T + 400_000)).toEqual({ notStored: [] });
      expect(await other.acquireLease({ owner: 'operator#1', expiresAtMs: T + 900_000 }, T + 500_000)).toEqual({
        acquired: false,
        holder: extended,
      });
      expect((await other.getUsers(['bob'])).get('bob')!.version).toBe(1);
    });

    it('does not check versions in a leased write: a change made between the read of a run and its write is overwritten', async () => {
      // Why every writer of baselines takes the lease before it reads (shared/lease-guard.ts).
      const { store, other } = await open();
      await store.saveUsers([makeBaseline('carol')]);
      const a = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      await store.acquireLease(a, T);
      const runRead = (await store.getUsers(['carol'])).get('carol')!;
      // A writer that ignores the lease, version-checked all the same.
      await other.saveUsers([{ ...runRead, novelty: { periods: 5, ip: 5, prefix: 5, network: 5 } }]);
      await store.writeUsersLeased(
        [{ ...runRead, novelty: { periods: 6, ip: 0, prefix: 0, network: 0 } }],
        a,
        T + 1000,
      );
      expect((await other.getUsers(['carol'])).get('carol')).toMatchObject({
        version: 2,
        novelty: { periods: 6, ip: 0 },
      });
    });

    it('skips a user that can never be stored in a leased write, writes the others, and says which', async () => {
      const { store } = await open();
      const a = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      await store.acquireLease(a, T);
      const poison = '\u0007'.repeat(70_000);
      const r = await store.writeUsersLeased([makeBaseline('alice'), makeBaseline(poison), makeBaseline('bob')], a, T);
      expect(r.notStored).toHaveLength(1);
      expect(r.notStored[0]!.reason).toMatch(/would be \d+ bytes even with no places kept/);
      expect([...(await store.getUsers(['alice', poison, 'bob'])).keys()].sort()).toEqual(['alice', 'bob']);
    });

    it('refuses a user given twice and a lease ending before now, writing nothing; writes nothing for nothing', async () => {
      const { store } = await open();
      const a = { owner: 'run-a#1', expiresAtMs: T + 330_000 };
      await store.acquireLease(a, T);
      await expect(store.writeUsersLeased([makeBaseline('dup'), makeBaseline('dup')], a, T)).rejects.toThrow(/twice/);
      await expect(store.writeUsersLeased([makeBaseline('late')], a, T + 330_000)).rejects.toThrow(/not after now/);
      expect(await store.getUsers(['dup', 'late'])).toEqual(new Map());
      // Nothing to write needs no lease.
      await store.releaseLease(a.owner);
      expect(await store.writeUsersLeased([], a, T)).toEqual({ notStored: [] });
    });

    it('keeps per-output delivery records apart per output, idempotent, and out of the ledger and its scans', async () => {
      const { store, other } = await open();
      const record = (id: string, deliveredAtMs = T) => ({
        id,
        deliveredAtMs,
        expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
      });
      expect(await store.getDeliveredTo('sns', ['rareuser-1'])).toEqual(new Set());
      await store.recordDeliveredTo('sns', [record('rareuser-1'), record('rareuser-2')]);
      // Again (a retried run), with a duplicate in one call, from another process: fine.
      await other.recordDeliveredTo('sns', [record('rareuser-1', T + 1), record('rareuser-3'), record('rareuser-3')]);
      await store.recordDeliveredTo('eventbridge', [record('rareuser-2')]);
      await store.recordDeliveredTo('securityhub', []);
      expect(await store.getDeliveredTo('sns', ['rareuser-1', 'rareuser-2', 'rareuser-3', 'never'])).toEqual(
        new Set(['rareuser-1', 'rareuser-2', 'rareuser-3']),
      );
      expect(await other.getDeliveredTo('eventbridge', ['rareuser-1', 'rareuser-2', 'rareuser-3'])).toEqual(
        new Set(['rareuser-2']),
      );
      expect(await store.getDeliveredTo('securityhub', ['rareuser-1'])).toEqual(new Set());
      expect(await store.getDeliveredTo('sns', [])).toEqual(new Set());
      // Delivered to an output is not raised: the ledger, its scan and the users are untouched.
      expect(await store.getRaisedAlerts(['rareuser-1', 'rareuser-2'])).toEqual(new Set());
      const ledger: LedgerEntry[] = [];
      for await (const e of store.scanLedger()) ledger.push(e);
      expect(ledger).toEqual([]);
      // Hostile ids are keys like any other (hashed when they cannot be one as they are).
      await store.recordDeliveredTo(
        'sns',
        HOSTILE_NAMES.map((n) => record(n)),
      );
      expect(await store.getDeliveredTo('sns', HOSTILE_NAMES)).toEqual(new Set(HOSTILE_NAMES));
      expect(await store.getDeliveredTo('eventbridge', HOSTILE_NAMES)).toEqual(new Set());
      await expect(store.recordDeliveredTo('Not An Output', [record('x')])).rejects.toBeInstanceOf(BaselineStoreError);
    });

    it('reads and writes a few hundred users at once', async () => {
      const { store } = await open();
      const users = Array.from({ length: 250 }, (_, i) =>
        makeBaseline(`user${String(i).padStart(4, '0')}@corp.example`),
      );
      await store.saveUsers(users);
      const got = await store.getUsers([...users.map((u) => u.user), 'nobody']);
      expect(got.size).toBe(250);
      expect(got.get('user0249@corp.example')).toEqual(stored(users[249]!, 1));
    });
  });
}

contract('InMemoryBaselineStore', async () => {
  const store = new InMemoryBaselineStore();
  return { store, other: store };
});

// moto's DynamoDB server, a second implementation of the API: what passes on both is less likely a quirk of either.
describe('on moto', () => {
  const moto = useMoto();
  contract('DynamoDbBaselineStore on moto', async () => {
    const tableName = await moto.freshTable();
    return {
      store: new DynamoDbBaselineStore({ client: moto.client, tableName, scanPageLimit: 3 }),
      other: new DynamoDbBaselineStore({ client: moto.client, tableName }),
    };
  });
});

const db = useDynalite();
contract('DynamoDbBaselineStore on dynalite', async () => {
  const tableName = await db.freshTable();
  // Small scan pages: every scan crosses pages, some of them empty after the filter.
  return {
    store: new DynamoDbBaselineStore({ client: db.client, tableName, scanPageLimit: 3 }),
    other: new DynamoDbBaselineStore({ client: db.client, tableName }),
  };
});
