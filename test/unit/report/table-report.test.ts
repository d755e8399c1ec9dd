import { describe, expect, it } from 'vitest';
import { InMemoryBaselineStore } from '../../../shared/adapters/in-memory-baseline-store';
import { DAY_MS, type LedgerEntry, type SeenStats } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { ledgerAlert, reportDays, tableReportModel } from '../../../cli/report';
import { ConfigError } from '../../../shared/errors';
import { ALERT_T, makeAlert } from '../../support/alerts';

const seen = (first: number, last: number): SeenStats => ({
  first,
  last,
  buckets: 3,
  lastBucket: 0,
  days: 2,
  lastDay: 0,
});

function entry(id: string, user: string, raisedAtMs: number, document?: string): LedgerEntry {
  return {
    id,
    detectorId: 'Auth.RareUser',
    user,
    sourceIp: '203.0.113.9',
    raisedAtMs,
    expiresAtEpochSeconds: Math.floor((raisedAtMs + 30 * DAY_MS) / 1000),
    ...(document !== undefined ? { document } : {}),
  };
}

describe('tableReportModel', () => {
  it('reports the ledger’s recent alerts from their documents and their users’ baselines, counting what it cannot read', async () => {
    const store = new InMemoryBaselineStore();
    const end = ALERT_T + DAY_MS;
    await store.saveRunState({ firstWindowEnd: ALERT_T - 20 * DAY_MS, lastWindowEnd: end, version: 0 });
    const recent = { ...makeAlert({ user: 'alice', score: 91 }), rule: { ...makeAlert().rule, threshold: 80 } };
    const old = makeAlert({ user: 'bob' });
    await store.recordRaisedAlerts([
      entry(recent.id, 'alice', ALERT_T, JSON.stringify(recent)),
      entry('old', 'bob', end - 9 * DAY_MS, JSON.stringify({ ...old, id: 'old' })),
      entry('nodoc', 'carol', ALERT_T),
      entry('broken', 'dave', ALERT_T, '{"id":"broken"'),
    ]);
    await store.saveUsers(
      ['alice', 'erin'].map((user) => ({
        user,
        activity: seen(0, ALERT_T),
        ips: { '192.0.2.10': seen(ALERT_T - 5 * DAY_MS, ALERT_T - DAY_MS) },
        prefixes: {},
        networks: {},
        novelty: { periods: 1, ip: 0, prefix: 0, network: 0 },
        version: 0,
      })),
    );
    const m = await tableReportModel(store, { days: 7, settings: DEFAULT_SETTINGS, where: 'local store x', now: 0 });
    expect(m.alerts.map((a) => [a.user, a.score])).toEqual([['alice', 91]]); // bob's is 9 days old
    expect(m.summary).toContainEqual(['without a readable document', expect.stringMatching(/^2 /)]);
    expect(m.summary).toContainEqual(['users with a baseline', '2']);
    expect(m.detectors.find((d) => d.id === 'Auth.RareUser')!.threshold).toBe(80); // as the document says
    expect(m.scores.map((s) => s.counted)).toEqual(['alerts']);
    const alice = m.users[0]!;
    expect(alice.user).toBe('alice');
    expect(alice.places.map((r) => r.label)).toEqual(['203.0.113.9', '192.0.2.10']);
    expect(alice.logons).toEqual([]);
  });

  it('reads a ledger document as an alert only when it has the fields the page uses', () => {
    const a = makeAlert();
    expect(ledgerAlert(entry('a', 'alice', 0, JSON.stringify(a)))?.id).toBe(a.id);
    expect(ledgerAlert(entry('a', 'alice', 0, JSON.stringify({ ...a, score: 'high' })))).toBeUndefined();
    expect(ledgerAlert(entry('a', 'alice', 0, 'not json'))).toBeUndefined();
    expect(ledgerAlert(entry('a', 'alice', 0))).toBeUndefined();
  });

  it('takes --days as a positive number of days', () => {
    expect(reportDays(undefined)).toBe(7);
    expect(reportDays('1.5')).toBe(1.5);
    for (const bad of ['0', '-1', 'x', ' ']) expect(() => reportDays(bad)).toThrow(ConfigError);
  });
});
