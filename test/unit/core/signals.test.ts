import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import { buildAlert } from '../../../shared/core/alerts';
import { rareUser } from '../../../shared/core/detectors';
import type { Finding, LogonEvent, LogonObservation } from '../../../shared/core/model';
import { getProfile, PROFILE_IDS } from '../../../shared/core/profiles';
import { mergeSignals, SIGNAL_VALUES, signalsText, toSignals, type Signals } from '../../../shared/core/signals';
import { fixtureLines } from '../profiles/support';

const T = Date.UTC(2026, 10, 2, 8);
const WINDOW = { start: T - 30 * 60_000, end: T + 30 * 60_000 };

describe('identity-provider signals', () => {
  it('keeps known keys with known values only, in their canonical spelling', () => {
    expect(toSignals({ riskLevelDuringSignIn: 'HIGH', riskState: 'atrisk', is_suspicious: 'True' })).toEqual({
      riskLevelDuringSignIn: 'high',
      riskState: 'atRisk',
      is_suspicious: 'true',
    });
    expect(toSignals({ riskLevelDuringSignIn: 'none', riskState: 'none', is_suspicious: 'false' })).toBeUndefined();
    expect(toSignals({ riskLevelDuringSignIn: 'hidden', other: 'high', constructor: 'high' })).toBeUndefined();
    expect(toSignals({})).toBeUndefined();
  });

  it('merges to the worst value of each key', () => {
    expect(
      mergeSignals({ riskLevelDuringSignIn: 'low', riskState: 'atRisk' }, { riskLevelDuringSignIn: 'high' }),
    ).toEqual({ riskLevelDuringSignIn: 'high', riskState: 'atRisk' });
    expect(mergeSignals({ riskState: 'confirmedCompromised' }, { riskState: 'dismissed' })).toEqual({
      riskState: 'confirmedCompromised',
    });
    expect(mergeSignals(undefined, undefined)).toBeUndefined();
    expect(mergeSignals(undefined, { is_suspicious: 'true' })).toEqual({ is_suspicious: 'true' });
    // A document from elsewhere may hold anything: what is not a signal is dropped, not kept.
    expect(mergeSignals({ riskState: 'pwned' } as Signals, undefined)).toBeUndefined();
  });

  it('stays bounded and order-independent whatever the input (property)', () => {
    const key = fc.constantFrom(...Object.keys(SIGNAL_VALUES), 'other', '__proto__');
    const value = fc.oneof(fc.constantFrom(...Object.values(SIGNAL_VALUES).flat(), 'none', 'hidden'), fc.string());
    const signals = fc.dictionary(key, value).map((d) => d as Signals);
    fc.assert(
      fc.property(signals, signals, signals, (a, b, c) => {
        const ab = mergeSignals(mergeSignals(a, b), c);
        expect(ab).toEqual(mergeSignals(a, mergeSignals(c, b)));
        for (const [k, v] of Object.entries(ab ?? {})) {
          expect(Object.keys(SIGNAL_VALUES)).toContain(k);
          expect(SIGNAL_VALUES[k as keyof typeof SIGNAL_VALUES] as readonly string[]).toContain(v);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reads as text in a fixed order', () => {
    expect(signalsText({ riskState: 'atRisk', riskLevelDuringSignIn: 'high' })).toBe(
      'riskLevelDuringSignIn high, riskState atRisk',
    );
  });

  it('aggregate locally and merge from rows to the worst value; observations without any stay as they were', () => {
    const e: LogonEvent = {
      timestamp: T,
      user: 'alice',
      sourceIp: '203.0.113.5',
      outcome: 'success',
      logSource: 'entra',
    };
    const [plain] = aggregateEvents([e, { ...e, timestamp: T + 1 }], WINDOW);
    expect(plain).not.toHaveProperty('signals');
    const [flagged] = aggregateEvents(
      [e, { ...e, signals: { riskLevelDuringSignIn: 'medium' } }, { ...e, signals: { riskLevelDuringSignIn: 'low' } }],
      WINDOW,
    );
    expect(flagged!.signals).toEqual({ riskLevelDuringSignIn: 'medium' });
    const o = plain!;
    expect(mergeObservations([o, o])[0]).not.toHaveProperty('signals');
    expect(mergeObservations([o, { ...o, signals: { is_suspicious: 'true' } }, o])[0]!.signals).toEqual({
      is_suspicious: 'true',
    });
  });

  it('never appear for the profiles that have no such verdict', () => {
    const without = PROFILE_IDS.filter((id) => id !== 'entra' && id !== 'google-workspace');
    for (const id of without) {
      const profile = getProfile(id, { year: 2026 });
      for (const l of fixtureLines(id)) {
        const r = profile.parseLine(l.line);
        if (r.kind === 'event') expect(r.event, `${id} ${l.file}:${l.lineNo}`).not.toHaveProperty('signals');
      }
    }
  });
});

describe('an alert on logons the identity provider flagged', () => {
  const observation: LogonObservation = {
    user: 'alice@corp.com',
    sourceIp: '198.51.100.50',
    outcome: 'success',
    count: 1,
    firstSeen: T,
    lastSeen: T,
    hosts: [],
    methods: ['Browser'],
    logSource: 'entra',
  };
  const alertOf = (o: LogonObservation) => {
    const finding: Finding = {
      detectorId: rareUser.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: 90,
      probability: 0.0004,
      explanation: 'alice@corp.com logged on for the first time ever seen.',
      evidence: { kind: 'new' },
    };
    return buildAlert(finding, rareUser, WINDOW, 75, { failedAttemptsFromIp: 0, otherIpsInWindow: [] });
  };

  it('says the verdict in the explanation and carries it in the document’s context', () => {
    const a = alertOf({ ...observation, signals: { riskLevelDuringSignIn: 'high', riskState: 'atRisk' } });
    expect(a.explanation).toBe(
      "alice@corp.com logged on for the first time ever seen. The identity provider's risk verdict on these logons: riskLevelDuringSignIn high, riskState atRisk.",
    );
    expect(a.context.signals).toEqual({ riskLevelDuringSignIn: 'high', riskState: 'atRisk' });
  });

  it('is exactly the alert it always was without signals', () => {
    const a = alertOf(observation);
    expect(a.explanation).toBe('alice@corp.com logged on for the first time ever seen.');
    expect(a.context).toEqual({ failed_attempts_from_ip: 0, other_ips_in_window: [], methods: ['Browser'] });
    expect(JSON.stringify(a)).not.toContain('signals');
  });

  it('drops values that are not signals even if an observation somehow carries them', () => {
    const a = alertOf({ ...observation, signals: { riskState: '<b>pwned</b>' } as Signals });
    expect(a.explanation).toBe('alice@corp.com logged on for the first time ever seen.');
    expect(a.context).not.toHaveProperty('signals');
  });
});
