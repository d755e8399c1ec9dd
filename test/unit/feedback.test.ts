/**
 * The feedback use cases (shared/feedback.ts) over the in-memory store: allowlist edits and `benign`, what they
 * refuse, and their version-checked writes when another writer gets there first.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { markPlacesKnown } from '../../shared/core/baseline-update';
import { ISO_COUNTRY_CODES } from '../../shared/core/countries';
import {
  bucketOf,
  DAY_MS,
  dayOf,
  emptyFeedback,
  emptyPopulation,
  type Feedback,
  type RunLease,
  type SeenStats,
  type UserBaseline,
} from '../../shared/core/model';
import {
  AuthwatchError,
  BaselineStoreError,
  ConcurrentUpdateError,
  ConfigError,
  LeaseBusyError,
} from '../../shared/errors';
import { allowAsn, allowCidr, allowCountry, allowUser, markBenign, removeAllowed } from '../../shared/feedback';
import type { SaveUsersResult } from '../../shared/ports';
import { MAX_CONFLICT_ATTEMPTS } from '../../shared/versioned-update';

const T = Date.UTC(2026, 2, 2, 9);
const HOUR_MS = 3_600_000;

function seen(first: number, last: number, buckets: number, days: number): SeenStats {
  return { first, last, buckets, lastBucket: bucketOf(last), days, lastDay: dayOf(last) };
}

/** A user at home on 81.2.3.10 for 30 days. */
function alice(): UserBaseline {
  const s = seen(T - 30 * DAY_MS, T - DAY_MS, 80, 30);
  return {
    user: 'alice',
    activity: s,
    ips: { '81.2.3.10': s },
    prefixes: { '81.2.3.0/24': s },
    networks: { '81.2.0.0/16': s },
    novelty: { periods: 70, ip: 0, prefix: 0, network: 0 },
    version: 0,
  };
}

async function withLedger(): Promise<InMemoryBaselineStore> {
  const store = new InMemoryBaselineStore();
  await store.saveUsers([alice()]);
  await store.savePopulation(emptyPopulation());
  const expiresAt = Math.floor(T / 1000) + 30 * 86_400;
  await store.recordRaisedAlerts([
    {
      id: 'ip-1',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'alice',
      sourceIp: '203.0.113.50',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
    {
      id: 'rare-1',
      detectorId: 'Auth.RareUser',
      user: 'alice',
      sourceIp: '203.0.113.50',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
    {
      id: 'rare-2',
      detectorId: 'Auth.RareUser',
      user: 'dave',
      sourceIp: '203.0.113.51',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
    {
      id: 'ip-2',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'erin',
      sourceIp: '203.0.113.52',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
    {
      id: 'ip-3',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'alice',
      sourceIp: 'not-an-ip',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
    {
      id: 'long-1',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'a'.repeat(40),
      userTruncated: true,
      sourceIp: '203.0.113.53',
      raisedAtMs: T,
      expiresAtEpochSeconds: expiresAt,
    },
  ]);
  return store;
}

describe('allowlist edits', () => {
  it('allow user: adds the pattern once (case-insensitively), with its note and time', async () => {
    const store = new InMemoryBaselineStore();
    const r = await allowUser(store, ' svc-* ', { note: 'backups', now: T });
    expect(r).toMatchObject({ changed: true, pattern: 'svc-*' });
    expect(r.feedback).toEqual(await store.getFeedback());
    expect(r.feedback.allowUsers).toEqual([{ pattern: 'svc-*', addedAt: T, note: 'backups' }]);

    const writes = store.writes;
    const again = await allowUser(store, 'SVC-*', { now: T + 1 });
    expect(again).toMatchObject({ changed: false, pattern: 'SVC-*' });
    expect(again.feedback).toEqual(r.feedback);
    expect(store.writes).toBe(writes);
  });

  it('allow user: refuses a pattern that matches everyone, writing nothing', async () => {
    const store = new InMemoryBaselineStore();
    await expect(allowUser(store, '*', { now: T })).rejects.toBeInstanceOf(ConfigError);
    expect(store.writes).toBe(0);
  });

  it('allow cidr: stores the canonical range, for everyone or for one user, each once', async () => {
    const store = new InMemoryBaselineStore();
    expect(await allowCidr(store, '192.0.2.7', { now: T })).toMatchObject({ changed: true, cidr: '192.0.2.7/32' });
    const forBob = await allowCidr(store, '192.0.2.7/32', { user: 'bob', now: T });
    expect(forBob).toMatchObject({ changed: true, cidr: '192.0.2.7/32', user: 'bob' });
    expect(await allowCidr(store, '192.0.2.7/32', { now: T })).toMatchObject({ changed: false });
    expect((await store.getFeedback())?.allowCidrs).toEqual([
      { cidr: '192.0.2.7/32', addedAt: T },
      { cidr: '192.0.2.7/32', user: 'bob', addedAt: T },
    ]);
  });

  it.each([
    ['300.1.1.1/24', {}],
    ['0.0.0.0/0', {}],
    ['10.0.0.0/7', { user: 'alice' }],
    ['192.0.2.0/24', { user: '' }],
  ])('allow cidr: refuses %s %j, writing nothing', async (cidr, who) => {
    const store = new InMemoryBaselineStore();
    await expect(allowCidr(store, cidr, { ...who, now: T })).rejects.toBeInstanceOf(ConfigError);
    expect(store.writes).toBe(0);
  });

  it('remove: takes out exactly the entry named, and says when there was none', async () => {
    const store = new InMemoryBaselineStore();
    await allowUser(store, 'svc-*', { now: T });
    await allowCidr(store, '192.0.2.7', { user: 'bob', now: T });

    // A range allowed for bob is not one allowed for everyone.
    const everyone = await removeAllowed(store, { kind: 'cidr', cidr: '192.0.2.7' });
    expect(everyone).toMatchObject({ changed: false, entry: { kind: 'cidr', cidr: '192.0.2.7/32' } });
    expect(await removeAllowed(store, { kind: 'cidr', cidr: '192.0.2.7', user: 'bob' })).toMatchObject({
      changed: true,
    });
    expect(await removeAllowed(store, { kind: 'user', pattern: 'SVC-*' })).toMatchObject({ changed: true });
    expect(await removeAllowed(store, { kind: 'user', pattern: 'svc-*' })).toMatchObject({ changed: false });
    expect(await store.getFeedback()).toMatchObject({ allowUsers: [], allowCidrs: [] });
    await expect(removeAllowed(store, { kind: 'cidr', cidr: 'office' })).rejects.toThrow(/is not a CIDR/);
  });
});

describe('allowlist by AS and country, and entries that expire', () => {
  /** The start of the day after `day` (UTC): where an entry given `--until day` stops applying. */
  const endOf = (day: string) => Date.parse(`${day}T00:00:00Z`) + DAY_MS;

  it('allow asn: AS64496 and 64496 are one entry, stored as the number, for everyone or one user', async () => {
    const store = new InMemoryBaselineStore();
    expect(await allowAsn(store, 'AS64496', { note: 'office ISP', now: T })).toMatchObject({
      changed: true,
      updated: false,
      asn: 64496,
    });
    expect(await allowAsn(store, ' as64496 ', { now: T + 1 })).toMatchObject({ changed: false, asn: 64496 });
    expect(await allowAsn(store, 64496, { user: 'bob', now: T })).toMatchObject({ changed: true, user: 'bob' });
    expect((await store.getFeedback())?.allowAsns).toEqual([
      { asn: 64496, addedAt: T, note: 'office ISP' },
      { asn: 64496, user: 'bob', addedAt: T },
    ]);
  });

  it('allow country: stored upper case, checked against the assigned codes', async () => {
    const store = new InMemoryBaselineStore();
    expect(await allowCountry(store, 'jp', { user: 'alice', now: T })).toMatchObject({ changed: true, country: 'JP' });
    expect((await store.getFeedback())?.allowCountries).toEqual([{ country: 'JP', user: 'alice', addedAt: T }]);
  });

  it.each([
    ['asn', 'AS0', {}, 'allow asn: AS0 is reserved (RFC 7607): no address is announced by it'],
    ['asn', '*', {}, 'allow asn: "*" is every network and would silence every alert'],
    ['asn', 'AS-1', {}, 'allow asn: "AS-1" is not an AS number like AS64496 or 64496 (1 to 4294967294)'],
    ['asn', '4294967296', {}, 'allow asn: "4294967296" is not an AS number like AS64496 or 64496 (1 to 4294967294)'],
    ['asn', '64496', { user: '' }, 'allow asn: the user name is empty'],
    [
      'country',
      'UK',
      {},
      'allow country: "UK" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE (the United Kingdom is GB)',
    ],
    ['country', 'EU', {}, 'allow country: "EU" is not an assigned ISO 3166-1 alpha-2 country code like JP or DE'],
    ['country', 'all', {}, 'allow country: "all" is every country and would silence every alert'],
    [
      'country',
      'JP',
      { until: '2026-02-30' },
      'allow country: --until "2026-02-30" is not a date like 2026-12-18 (YYYY-MM-DD, UTC)',
    ],
    [
      'country',
      'JP',
      { until: '18.12.2026' },
      'allow country: --until "18.12.2026" is not a date like 2026-12-18 (YYYY-MM-DD, UTC)',
    ],
    [
      'country',
      'JP',
      { until: '2026-03-01' },
      'allow country: --until 2026-03-01 is over (it is 2026-03-02 UTC): give today or a later day',
    ],
  ])('allow %s %s %j: refused with a message, writing nothing', async (kind, value, opts, message) => {
    const store = new InMemoryBaselineStore();
    const run =
      kind === 'asn' ? allowAsn(store, value, { ...opts, now: T }) : allowCountry(store, value, { ...opts, now: T });
    const e = await run.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).issues).toEqual([message]);
    expect(store.writes).toBe(0);
  });

  it('allow country: refuses the one for everyone that would complete every country, writing nothing', async () => {
    const store = new InMemoryBaselineStore();
    const all = [...ISO_COUNTRY_CODES];
    await store.saveFeedback({
      ...emptyFeedback(),
      allowCountries: all.slice(1).map((country) => ({ country, addedAt: T })),
    });
    const writes = store.writes;
    await expect(allowCountry(store, all[0]!, { now: T })).rejects.toThrow(
      `allow country: ${all[0]} for every user: every country (all 249 codes) would silence every alert`,
    );
    expect(store.writes).toBe(writes);
    // For one user it is that user's business (a traveller): allowed.
    expect(await allowCountry(store, all[0]!, { user: 'alice', now: T })).toMatchObject({ changed: true });
  });

  it('--until: the entry applies through that day (UTC); today is accepted', async () => {
    const store = new InMemoryBaselineStore();
    const trip = await allowCountry(store, 'JP', { user: 'alice', until: '2026-12-18', now: T });
    expect(trip).toMatchObject({ changed: true, expiresAt: endOf('2026-12-18') });
    expect(trip.feedback.allowCountries).toEqual([
      { country: 'JP', user: 'alice', addedAt: T, expiresAt: Date.UTC(2026, 11, 19) },
    ]);
    // T is 2026-03-02 09:00 UTC: an entry for the rest of today.
    expect(await allowUser(store, 'contractor-1', { until: '2026-03-02', now: T })).toMatchObject({
      expiresAt: Date.UTC(2026, 2, 3),
    });
    expect(await allowCidr(store, '198.51.100.0/24', { until: '2026-03-09', now: T })).toMatchObject({
      expiresAt: Date.UTC(2026, 2, 10),
    });
    expect(await allowAsn(store, 'AS64511', { until: '2026-03-09', now: T })).toMatchObject({
      expiresAt: Date.UTC(2026, 2, 10),
    });
  });

  it('allowing the same entry again with another expiry updates it in place (extend, renew, make permanent)', async () => {
    const store = new InMemoryBaselineStore();
    await allowCountry(store, 'JP', { user: 'alice', until: '2026-03-10', note: 'conference', now: T });
    await allowCountry(store, 'KR', { user: 'alice', now: T });

    const same = await allowCountry(store, 'jp', { user: 'alice', until: '2026-03-10', now: T + 1 });
    expect(same).toMatchObject({ changed: false, updated: false });

    const longer = await allowCountry(store, 'JP', { user: 'alice', until: '2026-03-20', now: T + 2 });
    expect(longer).toMatchObject({ changed: true, updated: true, expiresAt: endOf('2026-03-20') });
    // Same place in the list, the note kept when none is given.
    expect(longer.feedback.allowCountries).toEqual([
      { country: 'JP', user: 'alice', addedAt: T + 2, expiresAt: endOf('2026-03-20'), note: 'conference' },
      { country: 'KR', user: 'alice', addedAt: T },
    ]);

    const forGood = await allowCountry(store, 'JP', { user: 'alice', note: 'moved to Tokyo', now: T + 3 });
    expect(forGood).toMatchObject({ changed: true, updated: true });
    expect(forGood).not.toHaveProperty('expiresAt');
    expect(forGood.feedback.allowCountries?.[0]).toEqual({
      country: 'JP',
      user: 'alice',
      addedAt: T + 3,
      note: 'moved to Tokyo',
    });
  });

  it('remove: an AS or a country in any spelling, per user or for everyone, expired or not', async () => {
    const store = new InMemoryBaselineStore();
    await allowAsn(store, '64496', { now: T });
    await allowCountry(store, 'JP', { user: 'alice', until: '2026-03-02', now: T });
    // Removing never looks at the expiry: an expired entry goes the same way.
    expect(await removeAllowed(store, { kind: 'country', country: 'jp' })).toMatchObject({
      changed: false,
      entry: { kind: 'country', country: 'JP' },
    });
    expect(await removeAllowed(store, { kind: 'country', country: ' jp', user: 'alice' })).toMatchObject({
      changed: true,
    });
    expect(await removeAllowed(store, { kind: 'asn', asn: 'as64496', user: 'bob' })).toMatchObject({ changed: false });
    expect(await removeAllowed(store, { kind: 'asn', asn: 'AS64496' })).toMatchObject({
      changed: true,
      entry: { kind: 'asn', asn: 64496 },
    });
    expect(await store.getFeedback()).toMatchObject({ allowAsns: [], allowCountries: [] });
    await expect(removeAllowed(store, { kind: 'asn', asn: 'office' })).rejects.toThrow(
      /allow remove asn: "office" is not an AS number/,
    );
  });

  it('an AS or country edit that loses to another writer is done again from a fresh read, keeping both', async () => {
    // A colleague allows bob in Germany between this edit's read and its save.
    class RacingStore extends InMemoryBaselineStore {
      saves = 0;
      override async saveFeedback(f: Feedback): Promise<void> {
        if (++this.saves === 1) {
          const current = (await this.getFeedback()) ?? emptyFeedback();
          await super.saveFeedback({
            ...current,
            allowCountries: [...(current.allowCountries ?? []), { country: 'DE', user: 'bob', addedAt: T }],
          });
        }
        return super.saveFeedback(f);
      }
    }
    const store = new RacingStore();
    const r = await allowCountry(store, 'JP', { user: 'alice', until: '2026-12-18', now: T });
    expect(store.saves).toBe(2);
    expect(r.feedback.allowCountries?.map((e) => `${e.country}:${e.user}`)).toEqual(['DE:bob', 'JP:alice']);
    expect(await store.getFeedback()).toEqual(r.feedback);
  });
});

describe('version-checked feedback writes', () => {
  it('an edit that loses to another writer is done again from a fresh read, keeping both', async () => {
    // A colleague allows carol between this edit's read and its save.
    class RacingStore extends InMemoryBaselineStore {
      saves = 0;
      override async saveFeedback(f: Feedback): Promise<void> {
        if (++this.saves === 1) {
          const current = (await this.getFeedback()) ?? emptyFeedback();
          await super.saveFeedback({
            ...current,
            allowUsers: [...current.allowUsers, { pattern: 'carol', addedAt: T }],
          });
        }
        return super.saveFeedback(f);
      }
    }
    const store = new RacingStore();

    const r = await allowUser(store, 'svc-*', { now: T });

    expect(store.saves).toBe(2);
    expect(r.changed).toBe(true);
    expect(r.feedback.allowUsers.map((e) => e.pattern)).toEqual(['carol', 'svc-*']);
    expect(await store.getFeedback()).toEqual(r.feedback);
  });

  it('gives up after losing every attempt, and never retries another failure', async () => {
    let saves = 0;
    const losing = Object.assign(new InMemoryBaselineStore(), {
      async saveFeedback(): Promise<void> {
        saves++;
        throw new ConcurrentUpdateError(['META#feedback']);
      },
    });
    await expect(allowUser(losing, 'svc-*', { now: T })).rejects.toBeInstanceOf(ConcurrentUpdateError);
    expect(saves).toBe(MAX_CONFLICT_ATTEMPTS);

    saves = 0;
    const failing = Object.assign(new InMemoryBaselineStore(), {
      async saveFeedback(): Promise<void> {
        saves++;
        throw new BaselineStoreError('PutItem failed: throttled');
      },
    });
    await expect(allowCidr(failing, '192.0.2.0/24', { now: T })).rejects.toThrow(/throttled/);
    expect(saves).toBe(1);
  });
});

describe('markBenign', () => {
  it('makes the address, subnet and network known places of the user, changing nothing else', async () => {
    const store = await withLedger();
    const before = (await store.getUsers(['alice'])).get('alice')!;

    const r = await markBenign(store, 'ip-1', { now: T + 60_000 });

    expect(r).toEqual({
      alertId: 'ip-1',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'alice',
      sourceIp: '203.0.113.50',
      outcome: 'places-marked',
      places: ['203.0.113.50', '203.0.113.0/24', '203.0.0.0/16'],
    });
    const after = (await store.getUsers(['alice'])).get('alice')!;
    expect(after.version).toBe(before.version + 1);
    expect(after.ips['203.0.113.50']).toMatchObject({ last: T + 60_000, buckets: 1 });
    expect(after.prefixes['203.0.113.0/24']).toBeDefined();
    expect(after.networks['203.0.0.0/16']).toBeDefined();
    expect(after.ips['81.2.3.10']).toEqual(before.ips['81.2.3.10']);
    expect(after.activity).toEqual(before.activity);
  });

  describe('an alert that left its address suspect (not learned, followed up)', () => {
    const HOSTING = { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' };
    const suspect = (alertId: string, detectorId: string, ip = '203.0.113.50') => ({
      alertId,
      detectorId,
      ip,
      since: T - HOUR_MS,
      last: T,
      logons: 3,
      owner: HOSTING,
    });
    /** alice with 203.0.113.50 suspect since alert `alertId`, and another suspect address. */
    async function withSuspect(alertId: string, detectorId: string, ledgerId: string, ledgerDetector: string) {
      const store = new InMemoryBaselineStore();
      await store.saveUsers([
        {
          ...alice(),
          suspect: {
            '203.0.113.50': suspect(alertId, detectorId),
            '198.51.100.4': suspect('other', 'Auth.UnusualSourceIp', '198.51.100.4'),
          },
        },
      ]);
      await store.recordRaisedAlerts([
        {
          id: ledgerId,
          detectorId: ledgerDetector,
          user: 'alice',
          sourceIp: '203.0.113.50',
          raisedAtMs: T,
          expiresAtEpochSeconds: Math.floor(T / 1000) + 86_400,
        },
      ]);
      return store;
    }

    it.each([
      ['the original alert', 'ip-1'],
      ['a follow-up of it', 'ip-follow-up'],
    ])('benign on %s releases the address and learns it, with its owner and country', async (_, id) => {
      const store = await withSuspect('ip-1', 'Auth.UnusualSourceIp', id, 'Auth.UnusualSourceIp');
      expect(await markBenign(store, id, { now: T + 60_000 })).toMatchObject({ outcome: 'places-marked' });
      const after = (await store.getUsers(['alice'])).get('alice')!;
      expect(Object.keys(after.suspect!)).toEqual(['198.51.100.4']);
      expect(after.ips['203.0.113.50']).toMatchObject({ last: T + 60_000 });
      expect(after.owners?.AS64498).toMatchObject({ last: T + 60_000 });
      expect(after.countries?.US).toBeDefined();
    });

    it('benign on an impossible-travel alert releases the address it made suspect', async () => {
      const store = await withSuspect('travel-1', 'Auth.ImpossibleTravel', 'travel-1', 'Auth.ImpossibleTravel');
      expect(await markBenign(store, 'travel-1', { now: T + 60_000 })).toMatchObject({
        outcome: 'places-marked',
        places: ['203.0.113.50', '203.0.113.0/24', '203.0.0.0/16'],
      });
      expect((await store.getUsers(['alice'])).get('alice')!.suspect!['203.0.113.50']).toBeUndefined();
    });

    it('benign on a rare-user alert from that address leaves it suspect (the negative)', async () => {
      const store = await withSuspect('ip-1', 'Auth.UnusualSourceIp', 'rare-3', 'Auth.RareUser');
      const writes = store.writes;
      expect(await markBenign(store, 'rare-3', { now: T + 60_000 })).toMatchObject({ outcome: 'user-known' });
      expect(store.writes).toBe(writes);
      expect((await store.getUsers(['alice'])).get('alice')!.suspect!['203.0.113.50']).toBeDefined();
    });
  });

  it('has nothing to add for an alert on the user alone (rare user), known or not', async () => {
    const store = await withLedger();
    const writes = store.writes;
    expect(await markBenign(store, 'rare-1', { now: T })).toMatchObject({ outcome: 'user-known', places: [] });
    expect(await markBenign(store, 'rare-2', { now: T })).toMatchObject({ outcome: 'no-baseline', places: [] });
    expect(store.writes).toBe(writes);
  });

  it.each([
    ['nope', /no alert nope in the ledger/],
    ['ip-2', /erin has no baseline in this store/],
    ['ip-3', /carries no usable source address/],
    ['long-1', /user name too long/],
  ])('refuses %s with a clear error, writing nothing', async (id, message) => {
    const store = await withLedger();
    const writes = store.writes;
    const e = await markBenign(store, id, { now: T }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AuthwatchError);
    expect(String((e as Error).message)).toMatch(message);
    // ip-2 got as far as reading the baseline, under the run lease: taken and given up, the only writes.
    expect(store.writes).toBe(writes + (id === 'ip-2' ? 2 : 0));
    expect(store.lease()).toBeUndefined();
  });

  it('when its lease lapsed and a run took it and saved the user before the write, marks the places on what the run saved', async () => {
    // The command stalled past its lease; the detector's run took the lease, learned alice from another address, and
    // gave the lease up, all between the command's read and its write.
    class RacingStore extends InMemoryBaselineStore {
      saves = 0;
      override async writeUsersLeased(
        users: readonly UserBaseline[],
        lease: RunLease,
        now: number,
      ): Promise<SaveUsersResult> {
        if (++this.saves === 1) {
          const run = { owner: 'run-x#1', expiresAtMs: lease.expiresAtMs + 400_000 };
          expect(await this.acquireLease(run, lease.expiresAtMs + 1)).toEqual({ acquired: true });
          const current = (await this.getUsers(['alice'])).get('alice')!;
          await super.writeUsersLeased([markPlacesKnown(current, '198.51.100.9', T)], run, lease.expiresAtMs + 1);
          await this.releaseLease(run.owner);
        }
        return super.writeUsersLeased(users, lease, now);
      }
    }
    const store = new RacingStore();
    await store.saveUsers([alice()]);
    await store.recordRaisedAlerts([
      {
        id: 'ip-1',
        detectorId: 'Auth.UnusualSourceIp',
        user: 'alice',
        sourceIp: '203.0.113.50',
        raisedAtMs: T,
        expiresAtEpochSeconds: Math.floor(T / 1000) + 86_400,
      },
    ]);

    await markBenign(store, 'ip-1', { now: T + 60_000 });

    // Refused once (the lease was no longer the command's), then read afresh and written under a new lease.
    expect(store.saves).toBe(2);
    expect(store.lease()).toBeUndefined();
    const after = (await store.getUsers(['alice'])).get('alice')!;
    expect(Object.keys(after.ips).sort()).toEqual(['198.51.100.9', '203.0.113.50', '81.2.3.10']);
  });

  describe('under the run lease', () => {
    const ipAlert = {
      id: 'ip-1',
      detectorId: 'Auth.UnusualSourceIp',
      user: 'alice',
      sourceIp: '203.0.113.50',
      raisedAtMs: T,
      expiresAtEpochSeconds: Math.floor(T / 1000) + 86_400,
    };

    it('reads and writes the baseline while holding the lease, then gives it up', async () => {
      const held: (RunLease | undefined)[] = [];
      class Watching extends InMemoryBaselineStore {
        override async getUsers(users: readonly string[]) {
          held.push(this.lease());
          return super.getUsers(users);
        }
      }
      const store = new Watching();
      await store.saveUsers([alice()]);
      await store.recordRaisedAlerts([ipAlert]);
      held.length = 0;
      await markBenign(store, 'ip-1', { now: T + 60_000 });
      expect(held).toHaveLength(1);
      expect(held[0]!.owner).toMatch(/^benign#/);
      expect(held[0]!.expiresAtMs).toBe(T + 60_000 + 120_000);
      expect(store.lease()).toBeUndefined();
      expect((await store.getUsers(['alice'])).get('alice')!.ips['203.0.113.50']).toBeDefined();
    });

    it('waits for a run that holds the lease, then marks the places', async () => {
      const store = new InMemoryBaselineStore();
      await store.saveUsers([alice()]);
      await store.recordRaisedAlerts([ipAlert]);
      await store.acquireLease({ owner: 'run-2026-03-02T09:00:00.000Z#1', expiresAtMs: T + 300_000 }, T);
      const sleeps: number[] = [];
      const sleep = async (ms: number) => {
        sleeps.push(ms);
        // The run finishes after the command's second wait.
        if (sleeps.length === 2) await store.releaseLease('run-2026-03-02T09:00:00.000Z#1');
      };
      const r = await markBenign(store, 'ip-1', { now: T + 60_000, lease: { sleep } });
      expect(r.outcome).toBe('places-marked');
      expect(sleeps).toEqual([2_000, 2_000]);
      expect(store.lease()).toBeUndefined();
    });

    it('fails saying a run is in progress and when to try again, writing nothing, when the run keeps the lease', async () => {
      const store = new InMemoryBaselineStore();
      await store.saveUsers([alice()]);
      await store.recordRaisedAlerts([ipAlert]);
      const run = { owner: 'run-2026-03-02T09:00:00.000Z#1', expiresAtMs: T + 300_000 };
      await store.acquireLease(run, T);
      const before = (await store.getUsers(['alice'])).get('alice');
      const sleeps: number[] = [];
      const e = await markBenign(store, 'ip-1', {
        now: T + 60_000,
        lease: { sleep: async (ms) => void sleeps.push(ms) },
      }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LeaseBusyError);
      // Waited 30 s in 2-s steps; the run's lease lapses (for this clock) a minute after its end.
      expect(sleeps.reduce((a, b) => a + b, 0)).toBe(30_000);
      expect((e as LeaseBusyError).retryAfterMs).toBe(T + 300_000 + 60_000 - (T + 60_000 + 30_000));
      expect((e as Error).message).toMatch(
        /^benign: a detection run is in progress \(the run lease is held by run-2026-03-02T09:00:00.000Z#1 until 2026-03-02T09:05:00.000Z\); nothing was written\. Try again in 270 s/,
      );
      expect(store.lease()).toEqual(run);
      expect((await store.getUsers(['alice'])).get('alice')).toEqual(before);
    });

    it('takes a lease that lapsed more than the clock margin ago, and not one that lapsed less', async () => {
      const store = new InMemoryBaselineStore();
      await store.saveUsers([alice()]);
      await store.recordRaisedAlerts([ipAlert]);
      // A run that died: its lease ended 59 s before the command's clock says it is.
      await store.acquireLease({ owner: 'run-dead#1', expiresAtMs: T + 1_000 }, T);
      const e = await markBenign(store, 'ip-1', { now: T + 60_000, lease: { waitMs: 0 } }).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(LeaseBusyError);
      expect((await markBenign(store, 'ip-1', { now: T + 61_000, lease: { waitMs: 0 } })).outcome).toBe(
        'places-marked',
      );
    });
  });
});
