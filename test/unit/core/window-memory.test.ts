/**
 * What keeps a large window's memory small in the steps that hold all of it (deliver, commit): its repeated values
 * interned (core/intern.ts), and the source judgements built over the sources they can be about
 * (`failingSourceObservations`, `crowdedAddressObservations`), each of which must be exactly what the whole
 * window's `sourcesOf` would have built for it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Interner } from '../../../shared/core/intern';
import {
  crowdedAddressObservations,
  failingSourceObservations,
  sourcesOf,
  type SourceActivity,
} from '../../../shared/core/failures';
import { ownerKey, type LogonObservation, type NetworkOwner } from '../../../shared/core/model';
import { DigestMap } from '../../../shared/core/window-digest';

const OWNERS: NetworkOwner[] = [
  { asn: 64500, org: 'EXAMPLE-NET', country: 'NL' },
  { asn: 64501, org: 'OTHER' },
];

/** A window over a small world: few users, addresses and owners, so sources are shared and fail often. */
const windowArb = fc.array(
  fc.record({
    user: fc.constantFrom('ann', 'bob', 'cy', 'dee', 'eve', 'fay'),
    ip: fc.integer({ min: 1, max: 6 }),
    failure: fc.boolean(),
    count: fc.integer({ min: 1, max: 5 }),
    at: fc.integer({ min: 0, max: 1_800_000 }),
    host: fc.constantFrom('web-01', 'web-02'),
  }),
  { maxLength: 40 },
);

type Row = { user: string; ip: number; failure: boolean; count: number; at: number; host: string };

function observationsOf(rows: readonly Row[]): LogonObservation[] {
  return rows.map((r) => {
    const owner = r.ip <= 4 ? OWNERS[r.ip % 2] : undefined;
    return {
      user: r.user,
      sourceIp: `203.0.113.${r.ip}`,
      outcome: r.failure ? 'failure' : 'success',
      count: r.count,
      firstSeen: 1_790_000_000_000 + r.at,
      lastSeen: 1_790_000_000_000 + r.at + 1000,
      hosts: [r.host],
      methods: ['password'],
      logSource: 'sshd',
      ...(owner ? { owner } : {}),
    };
  });
}

const baselines = new DigestMap([
  ['ann', ['i203.0.113.1']],
  ['bob', []],
  ['cy', ['p203.0.113.0/24']],
]);

function expectSame(part: Map<string, SourceActivity>, whole: Map<string, SourceActivity>, keys: Iterable<string>) {
  for (const k of keys) expect(part.get(k)).toEqual(whole.get(k));
}

describe('the sources a judgement of failures is about', () => {
  it('are built exactly as from the whole window: every failing address and owner, every remembered address', () => {
    fc.assert(
      fc.property(windowArb, fc.integer({ min: 1, max: 6 }), (rows, rememberedIp) => {
        const all = observationsOf(rows);
        const isRemembered = (o: LogonObservation) => o.sourceIp === `203.0.113.${rememberedIp}`;
        const part = sourcesOf(failingSourceObservations(all, isRemembered), baselines);
        const whole = sourcesOf(all, baselines);
        const failing = all.filter((o) => o.outcome === 'failure');
        const addresses = new Set([
          ...failing.map((o) => o.sourceIp),
          ...all.filter(isRemembered).map((o) => o.sourceIp),
        ]);
        const owners = new Set(failing.flatMap((o) => (o.owner ? [ownerKey(o.owner)] : [])));
        expectSame(part.byAddress, whole.byAddress, addresses);
        expectSame(part.byOwner, whole.byOwner, owners);
        // A failing owner's addresses are whole too: spraying by owner reads each of them.
        for (const k of owners) expectSame(part.byAddress, whole.byAddress, whole.byOwner.get(k)!.ips.keys());
        // And nothing that neither failed nor is remembered is built.
        for (const [k, s] of part.byAddress)
          expect(addresses.has(k) || (s.owner !== undefined && owners.has(ownerKey(s.owner)))).toBe(true);
      }),
    );
  });

  it('of a window without failures or memories is nothing, and the whole window when every source failed', () => {
    const all = observationsOf([{ user: 'ann', ip: 5, failure: false, count: 1, at: 0, host: 'web-01' }]);
    expect(failingSourceObservations(all)).toEqual([]);
    const failed = observationsOf([{ user: 'ann', ip: 5, failure: true, count: 1, at: 0, host: 'web-01' }]);
    expect(failingSourceObservations(failed)).toBe(failed);
  });
});

describe('the addresses that logged on as many users', () => {
  it('are built exactly as from the whole window, and no other', () => {
    fc.assert(
      fc.property(windowArb, fc.integer({ min: 1, max: 5 }), (rows, minUsers) => {
        const all = observationsOf(rows);
        const part = sourcesOf(crowdedAddressObservations(all, minUsers), baselines);
        const whole = sourcesOf(all, baselines);
        const crowded = [...whole.byAddress.values()]
          .filter((s) => [...s.users.values()].filter((u) => u.successes > 0).length >= minUsers)
          .map((s) => s.key);
        expect([...part.byAddress.keys()].sort()).toEqual(crowded.sort());
        expectSame(part.byAddress, whole.byAddress, crowded);
      }),
    );
  });
});

describe('interned observations', () => {
  it('are equal to what was staged, field for field, sharing each repeated value once', () => {
    const interner = new Interner();
    const staged = (): LogonObservation[] =>
      structuredClone([
        ...observationsOf([
          { user: 'ann', ip: 1, failure: false, count: 2, at: 5, host: 'web-01' },
          { user: 'ann', ip: 5, failure: true, count: 1, at: 9, host: 'web-01' },
        ]),
        {
          ...observationsOf([{ user: 'bob', ip: 2, failure: false, count: 1, at: 0, host: 'web-02' }])[0]!,
          loggedAs: 'CORP\\bob',
          signals: { riskLevelDuringSignIn: 'high' },
        } as LogonObservation,
      ]);
    const a = staged().map((o) => interner.observation(o));
    const b = staged().map((o) => interner.observation(o));
    expect(a).toStrictEqual(staged());
    expect(b).toStrictEqual(staged());
    // One copy of each list and owner, across rows and across reads of the same step.
    expect(a[0]!.hosts).toBe(a[1]!.hosts);
    expect(a[0]!.methods).toBe(b[2]!.methods);
    expect(a[0]!.owner).toBe(b[0]!.owner);
    expect(a[0]!.user).toBe(b[1]!.user);
    // Shared values are frozen: nothing may change what every row holds.
    expect(Object.isFrozen(a[0]!.hosts)).toBe(true);
    expect(Object.isFrozen(a[0]!.owner)).toBe(true);
  });

  it('keep lists with the same items in another order apart, and an empty list empty', () => {
    const interner = new Interner();
    expect(interner.list(['a', 'b'])).toEqual(['a', 'b']);
    expect(interner.list(['b', 'a'])).toEqual(['b', 'a']);
    expect(interner.list([])).toEqual([]);
    expect(interner.list(['a\u0000b'])).toEqual(['a\u0000b']);
    expect(interner.list(['a', 'b'])).toEqual(['a', 'b']);
  });
});
