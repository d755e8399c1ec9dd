/**
 * `markMalicious` and `unmarkMalicious` (shared/feedback.ts) over the in-memory store: what each scope marks, what
 * is refused with nothing written, taking marks back, and the version-checked write when another writer gets there
 * first. The codec keeps the marks, and reads an item written before them.
 */
import { describe, expect, it } from 'vitest';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { decodeFeedback, encodeFeedbackBody } from '../../shared/adapters/items/codec';
import { emptyFeedback, type Feedback, type LedgerEntry } from '../../shared/core/model';
import { AuthwatchError, ConfigError } from '../../shared/errors';
import { allowCidr, markMalicious, unmarkMalicious } from '../../shared/feedback';

const T = Date.UTC(2026, 10, 30, 9);

/** An alert document as the ledger keeps it: only `source` matters here. */
function document(source: Record<string, unknown>): string {
  return JSON.stringify({ id: 'x', source });
}

async function withLedger(): Promise<InMemoryBaselineStore> {
  const store = new InMemoryBaselineStore();
  const entry = (id: string, sourceIp: string | undefined, doc?: string): LedgerEntry => ({
    id,
    detectorId: 'Auth.UnusualSourceIp',
    user: 'alice',
    ...(sourceIp !== undefined ? { sourceIp } : {}),
    raisedAtMs: T,
    expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
    ...(doc !== undefined ? { document: doc } : {}),
  });
  await store.recordRaisedAlerts([
    entry(
      'ip-owned',
      '203.0.113.7',
      document({ ip: '203.0.113.7', as: { number: 64500, organization: { name: 'EXAMPLE-HOSTING' } } }),
    ),
    entry('ip-plain', '198.51.100.9', document({ ip: '198.51.100.9' })),
    entry('ip-old', '198.51.100.10'),
    entry('ip-v6', '2001:db8:aa:bb::7', document({ ip: '2001:db8:aa:bb::7' })),
    entry('ip-none', 'not-an-ip'),
    entry('ip-as0', '192.0.2.1', document({ ip: '192.0.2.1', as: { number: 0 } })),
  ]);
  return store;
}

describe('markMalicious', () => {
  it("marks the alert's address, with the alert, the time and the note; the same source again is no change", async () => {
    const store = await withLedger();
    const r = await markMalicious(store, 'ip-owned', {
      scope: { kind: 'ip' },
      note: 'credential stuffing',
      now: T,
    });
    expect(r).toMatchObject({ changed: true, user: 'alice', sourceIp: '203.0.113.7' });
    const mark = { kind: 'ip', value: '203.0.113.7', alertId: 'ip-owned', addedAt: T, note: 'credential stuffing' };
    expect(r.entry).toEqual(mark);
    expect((await store.getFeedback())?.hostile).toEqual([mark]);
    expect(r.feedback).toEqual(await store.getFeedback());

    const writes = store.writes;
    const again = await markMalicious(store, 'ip-owned', { scope: { kind: 'ip' }, now: T + 1 });
    expect(again.changed).toBe(false);
    expect(again.entry).toEqual(mark);
    expect(store.writes).toBe(writes);
  });

  it('--subnet marks the /24 (IPv6 /48), or the range of the length given', async () => {
    const store = await withLedger();
    expect((await markMalicious(store, 'ip-plain', { scope: { kind: 'subnet' }, now: T })).entry).toMatchObject({
      kind: 'cidr',
      value: '198.51.100.0/24',
    });
    expect((await markMalicious(store, 'ip-v6', { scope: { kind: 'subnet' }, now: T })).entry).toMatchObject({
      kind: 'cidr',
      value: '2001:db8:aa::/48',
    });
    expect(
      (await markMalicious(store, 'ip-owned', { scope: { kind: 'subnet', bits: 16 }, now: T })).entry,
    ).toMatchObject({ kind: 'cidr', value: '203.0.0.0/16' });
  });

  it("--owner marks the AS the alert's document names", async () => {
    const store = await withLedger();
    const r = await markMalicious(store, 'ip-owned', { scope: { kind: 'owner' }, now: T });
    expect(r.entry).toEqual({ kind: 'asn', value: '64500', alertId: 'ip-owned', addedAt: T });
  });

  it.each([
    ['no-such-alert', { kind: 'ip' }, AuthwatchError, /no alert no-such-alert in the ledger/],
    ['ip-none', { kind: 'ip' }, AuthwatchError, /carries no usable source address/],
    ['ip-plain', { kind: 'owner' }, AuthwatchError, /names no network owner/],
    ['ip-old', { kind: 'owner' }, AuthwatchError, /names no network owner/],
    ['ip-as0', { kind: 'owner' }, AuthwatchError, /AS0 is reserved/],
    ['ip-plain', { kind: 'subnet', bits: 15 }, ConfigError, /198\.50\.0\.0\/15 is too broad to mark malicious/],
    ['ip-plain', { kind: 'subnet', bits: 0 }, ConfigError, /every address/],
    ['ip-plain', { kind: 'subnet', bits: 33 }, ConfigError, /is not a CIDR/],
    ['ip-v6', { kind: 'subnet', bits: 31 }, ConfigError, /too broad to mark malicious: shorter than \/32/],
  ] as const)('refuses %s %j, writing nothing', async (id, scope, type, message) => {
    const store = await withLedger();
    const writes = store.writes;
    const p = markMalicious(store, id, { scope, now: T });
    await expect(p).rejects.toBeInstanceOf(type);
    await expect(p).rejects.toThrow(message);
    expect(store.writes).toBe(writes);
    expect(await store.getFeedback()).toBeUndefined();
  });

  it('refuses a note longer than an allowlist note', async () => {
    const store = await withLedger();
    await expect(
      markMalicious(store, 'ip-plain', { scope: { kind: 'ip' }, note: 'x'.repeat(201), now: T }),
    ).rejects.toThrow(/at most 200/);
  });

  it('keeps the allowlists, and a colleague’s edit made between the read and the save', async () => {
    // A colleague allows carol between this mark's read and its save.
    class RacingStore extends InMemoryBaselineStore {
      racing = false;
      saves = 0;
      override async saveFeedback(f: Feedback): Promise<void> {
        if (this.racing && ++this.saves === 1) {
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
    await store.recordRaisedAlerts([
      {
        id: 'a1',
        detectorId: 'Auth.RareUser',
        user: 'bob',
        sourceIp: '203.0.113.9',
        raisedAtMs: T,
        expiresAtEpochSeconds: 1e10,
      },
    ]);
    await allowCidr(store, '192.0.2.0/24', { now: T });
    store.racing = true;
    const r = await markMalicious(store, 'a1', { scope: { kind: 'subnet' }, now: T });
    expect(store.saves).toBe(2);
    expect(r.changed).toBe(true);
    expect(r.feedback.allowUsers.map((e) => e.pattern)).toEqual(['carol']);
    expect(r.feedback.allowCidrs.map((e) => e.cidr)).toEqual(['192.0.2.0/24']);
    expect(r.feedback.hostile?.map((e) => e.value)).toEqual(['203.0.113.0/24']);
    expect(await store.getFeedback()).toEqual(r.feedback);
  });
});

describe('unmarkMalicious', () => {
  async function marked() {
    const store = await withLedger();
    await markMalicious(store, 'ip-owned', { scope: { kind: 'ip' }, now: T });
    await markMalicious(store, 'ip-owned', { scope: { kind: 'owner' }, now: T });
    await markMalicious(store, 'ip-plain', { scope: { kind: 'subnet' }, now: T });
    await markMalicious(store, 'ip-v6', { scope: { kind: 'ip' }, now: T });
    return store;
  }

  it('by alert id: every mark made from that alert', async () => {
    const store = await marked();
    const r = await unmarkMalicious(store, 'ip-owned');
    expect(r.changed).toBe(true);
    expect(r.removed.map((e) => e.value)).toEqual(['203.0.113.7', '64500']);
    expect((await store.getFeedback())?.hostile?.map((e) => e.value)).toEqual(['198.51.100.0/24', '2001:db8:aa:bb::7']);
  });

  it('by source, in any spelling: an address, a range, an AS', async () => {
    const store = await marked();
    expect((await unmarkMalicious(store, 'as64500')).removed.map((e) => e.kind)).toEqual(['asn']);
    expect((await unmarkMalicious(store, '198.51.100.77/24')).removed.map((e) => e.value)).toEqual(['198.51.100.0/24']);
    expect((await unmarkMalicious(store, '2001:DB8:AA:BB:0:0:0:7')).removed.map((e) => e.value)).toEqual([
      '2001:db8:aa:bb::7',
    ]);
    expect((await store.getFeedback())?.hostile?.map((e) => e.value)).toEqual(['203.0.113.7']);
  });

  it('says when nothing matched, and writes nothing', async () => {
    const store = await marked();
    const writes = store.writes;
    expect(await unmarkMalicious(store, '203.0.113.8')).toMatchObject({ changed: false, removed: [] });
    expect(await unmarkMalicious(store, 'ip-old')).toMatchObject({ changed: false });
    expect(store.writes).toBe(writes);
    await expect(unmarkMalicious(store, ' ')).rejects.toBeInstanceOf(ConfigError);
  });
});

describe('the feedback item with marks', () => {
  it('round-trips the marks, and reads an item written before them as none', () => {
    const f: Feedback = {
      ...emptyFeedback(),
      hostile: [
        { kind: 'ip', value: '203.0.113.7', alertId: 'a', addedAt: T, note: 'stuffing' },
        { kind: 'asn', value: '64500', alertId: 'b', addedAt: T },
      ],
      version: 3,
    };
    expect(decodeFeedback(encodeFeedbackBody(f), 3)).toEqual(f);
    const old = decodeFeedback(encodeFeedbackBody(emptyFeedback()), 1);
    expect(old.hostile).toBeUndefined();
  });

  it('refuses a mark of an unknown kind, naming the field', () => {
    const body = encodeFeedbackBody(emptyFeedback()).replace(
      '"allowCidrs":[]',
      '"allowCidrs":[],"hostile":[{"kind":"everyone","value":"x","alertId":"a","addedAt":1}]',
    );
    expect(() => decodeFeedback(body, 1)).toThrow(/hostile\[0\]\.kind/);
  });
});
