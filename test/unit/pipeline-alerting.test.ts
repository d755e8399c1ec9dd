/**
 * The alerting half of runDetection (thresholds → allowlists → one alert per entity → ledger dedup →
 * rank/cap → deliver → mark raised), driven by scripted detectors so that each finding's score is known
 * exactly: what crosses the line, which duplicate wins, and what the ledger remembers and for how long.
 */
import { describe, expect, it } from 'vitest';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { DETECTORS, type Detector } from '../../shared/core/detectors';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../shared/core/model';
import { DEFAULT_SETTINGS, type DetectionSettings, type DetectorId } from '../../shared/core/settings';
import { AlertSinkError } from '../../shared/errors';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';
import { HOUR, T0 } from '../support/history';

const END = T0 + 20 * DAY_MS + 10 * HOUR;
const THRESHOLD = DEFAULT_SETTINGS.thresholds['Auth.UnusualSourceIp'];

function ev(user: string, sourceIp: string, t: number, host = 'web-01'): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host, method: 'publickey', logSource: 'sshd' };
}

/** A registry detector whose score for each `user ip` (or `user ip host`) is given; no entry, no finding. */
function scripted(id: DetectorId, scores: Record<string, number>): Detector {
  const real = DETECTORS.find((d) => d.id === id)!;
  return {
    ...real,
    evaluate: ({ observation: o }) => {
      const score = scores[`${o.user} ${o.sourceIp} ${o.hosts[0]}`] ?? scores[`${o.user} ${o.sourceIp}`];
      if (score === undefined) return null;
      return {
        detectorId: id,
        user: o.user,
        sourceIp: o.sourceIp,
        observation: o,
        score,
        probability: 0.001,
        explanation: `scripted ${score}`,
        evidence: {},
      };
    },
  };
}

function source(events: LogonEvent[]) {
  return new FileLogSource({
    name: 'test',
    events,
    parseStats: { lines: events.length, events: events.length, skipped: 0, malformed: 0, malformedSamples: [] },
  });
}

/** Past learning from the first run (learningDays 0), so every run judges. */
function setup(sources: LogonEvent[][], detectors: Detector[], settings: Partial<DetectionSettings> = {}) {
  const store = new InMemoryBaselineStore();
  const sink = new InMemoryAlertSink();
  const d: DetectionDeps = {
    logSources: sources.map(source),
    store,
    sink,
    clock: { now: () => 0 },
    settings: { ...DEFAULT_SETTINGS, learningDays: 0, ...settings },
    detectors,
  };
  return { d, store, sink };
}

describe('runDetection alerting', () => {
  it('alerts at the threshold and not a tenth below it', async () => {
    const t = END - 10 * 60_000;
    const { d, sink } = setup(
      [[ev('at', '203.0.113.1', t), ev('below', '203.0.113.2', t)]],
      [scripted('Auth.UnusualSourceIp', { 'at 203.0.113.1': THRESHOLD, 'below 203.0.113.2': THRESHOLD - 0.1 })],
    );
    const s = await runDetection(d, { windowEnd: END });
    expect(sink.delivered.map((a) => a.user.name)).toEqual(['at']);
    expect(s.findings['Auth.UnusualSourceIp']).toBe(2);
    expect(s.alertsPublished['Auth.UnusualSourceIp']).toBe(1);
  });

  it('sends no message at all when nothing crosses the threshold, and reads feedback once (for learning)', async () => {
    const { d, store, sink } = setup(
      [[ev('below', '203.0.113.2', END - 60_000)]],
      [scripted('Auth.UnusualSourceIp', { 'below 203.0.113.2': THRESHOLD - 0.1 })],
    );
    let feedbackReads = 0;
    const getFeedback = store.getFeedback.bind(store);
    store.getFeedback = () => {
      feedbackReads++;
      return getFeedback();
    };
    const s = await runDetection(d, { windowEnd: END });
    expect(s.findings['Auth.UnusualSourceIp']).toBe(1);
    expect(sink.batches).toHaveLength(0);
    expect(s.alertIds).toEqual([]);
    expect(feedbackReads).toBe(1);
  });

  it("keeps a new user's earliest logon as the one rare-user alert, whichever source reported it first", async () => {
    // The 10:20 logon comes from the first source, the 10:02 one from the second: a missed 10:15 run
    // lets the 10:30 window see both buckets.
    const day = END - 10 * HOUR;
    const end = day + 10 * HOUR + 2 * BUCKET_MS;
    const rare = scripted('Auth.RareUser', { 'intruder 203.0.113.77': 90, 'intruder 198.51.100.20': 90 });
    const { d, sink } = setup(
      [
        [ev('intruder', '203.0.113.77', day + 10 * HOUR + 20 * 60_000)],
        [ev('intruder', '198.51.100.20', day + 10 * HOUR + 2 * 60_000)],
      ],
      [rare],
    );
    await runDetection(d, { windowEnd: end });
    expect(sink.delivered.map((a) => a.source.ip)).toEqual(['198.51.100.20']);
  });

  it('applies analyst feedback to a finding exactly at the threshold', async () => {
    const { d, store, sink } = setup(
      [[ev('scanner', '203.0.113.5', END - 60_000)]],
      [scripted('Auth.UnusualSourceIp', { 'scanner 203.0.113.5': THRESHOLD })],
    );
    await store.saveFeedback({ allowUsers: [{ pattern: 'scanner', addedAt: T0 }], allowCidrs: [], version: 0 });
    const s = await runDetection(d, { windowEnd: END });
    expect(sink.delivered).toHaveLength(0);
    expect(s.alertsSuppressed).toBe(1);
  });

  it('raises nothing while learning, however high the score', async () => {
    const { d, sink } = setup(
      [[ev('mallory', '203.0.113.1', END - 60_000)]],
      [scripted('Auth.UnusualSourceIp', { 'mallory 203.0.113.1': 100 })],
      { learningDays: 1 },
    );
    const s = await runDetection(d, { windowEnd: END });
    expect(s.learning).toBe(true);
    expect(s.findings['Auth.UnusualSourceIp']).toBe(1);
    expect(sink.delivered).toHaveLength(0);
  });

  it('when two sources report the same logon place, sends one alert with the higher score', async () => {
    // Two log sources (say sshd and the bastion's audit log) each see mallory from the same address in
    // the same bucket: one entity, one alert id; the more alarming reading is the one delivered.
    const t = END - 20 * 60_000;
    const { d, sink } = setup(
      [[ev('mallory', '203.0.113.9', t, 'web-01')], [ev('mallory', '203.0.113.9', t + 1000, 'bastion')]],
      [scripted('Auth.UnusualSourceIp', { 'mallory 203.0.113.9 web-01': 80, 'mallory 203.0.113.9 bastion': 92 })],
    );
    await runDetection(d, { windowEnd: END });
    expect(sink.delivered).toHaveLength(1);
    expect(sink.delivered[0]!.score).toBe(92);
    // In the other order too: the first seen does not win by being first.
    const swapped = setup(
      [[ev('mallory', '203.0.113.9', t + 1000, 'bastion')], [ev('mallory', '203.0.113.9', t, 'web-01')]],
      [scripted('Auth.UnusualSourceIp', { 'mallory 203.0.113.9 web-01': 80, 'mallory 203.0.113.9 bastion': 92 })],
    );
    await runDetection(swapped.d, { windowEnd: END });
    expect(swapped.sink.delivered.map((a) => a.score)).toEqual([92]);
  });

  it('on equal scores for one entity keeps the earliest logon', async () => {
    const t = END - 20 * 60_000;
    const scores = { 'mallory 203.0.113.9 web-01': 85, 'mallory 203.0.113.9 bastion': 85 };
    for (const order of [0, 1]) {
      const sources = [
        [ev('mallory', '203.0.113.9', t + 60_000, 'web-01')],
        [ev('mallory', '203.0.113.9', t, 'bastion')],
      ];
      const { d, sink } = setup(order === 0 ? sources : [...sources].reverse(), [
        scripted('Auth.UnusualSourceIp', scores),
      ]);
      await runDetection(d, { windowEnd: END });
      expect(sink.delivered.map((a) => a['@timestamp'])).toEqual([new Date(t).toISOString()]);
    }
  });

  it('records each delivered alert in the ledger for ledgerTtlDays, and the next overlapping window skips it', async () => {
    const t = END - 5 * 60_000;
    const { d, store, sink } = setup(
      [[ev('mallory', '203.0.113.9', t)]],
      [scripted('Auth.UnusualSourceIp', { 'mallory 203.0.113.9': 90 })],
      { ledgerTtlDays: 7 },
    );
    await runDetection(d, { windowEnd: END });
    const [alert] = sink.delivered;
    expect(store.ledger()).toEqual([
      {
        id: alert!.id,
        detectorId: 'Auth.UnusualSourceIp',
        user: 'mallory',
        sourceIp: '203.0.113.9',
        raisedAtMs: END,
        expiresAtEpochSeconds: Math.floor((END + 7 * DAY_MS) / 1000),
        document: expect.stringContaining(`"id":"${alert!.id}"`),
      },
    ]);
    const next = await runDetection(d, { windowEnd: END + BUCKET_MS });
    expect(next.alertsDeduplicated).toBe(1);
    expect(next.alertIds).toEqual([]);
    expect(sink.delivered).toHaveLength(1);
  });

  it('keeps the best-ranked alerts under the cap and ledgers only those', async () => {
    const t = END - 5 * 60_000;
    const scores: Record<string, number> = {};
    const events: LogonEvent[] = [];
    for (let k = 0; k < 5; k++) {
      events.push(ev(`u${k}`, `203.0.113.${k}`, t));
      scores[`u${k} 203.0.113.${k}`] = 80 + k;
    }
    const { d, store, sink } = setup([events], [scripted('Auth.UnusualSourceIp', scores)], { maxAlertsPerRun: 2 });
    const s = await runDetection(d, { windowEnd: END });
    expect(sink.delivered.map((a) => a.user.name)).toEqual(['u4', 'u3']);
    expect(sink.batches[0]!.cut.map((a) => a.user.name)).toEqual(['u2', 'u1', 'u0']);
    expect(s.alertsCutByCap).toBe(3);
    expect(
      store
        .ledger()
        .map((e) => e.user)
        .sort(),
    ).toEqual(['u3', 'u4']);
  });

  it('names how many alerts failed and which, and counts only delivered ones as published', async () => {
    const t = END - 5 * 60_000;
    const { d, sink, store } = setup(
      [[ev('a', '203.0.113.1', t), ev('b', '203.0.113.2', t)]],
      [scripted('Auth.UnusualSourceIp', { 'a 203.0.113.1': 90, 'b 203.0.113.2': 80 })],
    );
    const publish = sink.publish.bind(sink);
    sink.publish = async (batch) => {
      sink.failNext = new Set(batch.alerts.filter((a) => a.user.name === 'b').map((a) => a.id));
      return publish(batch);
    };
    const err = await runDetection(d, { windowEnd: END }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AlertSinkError);
    expect((err as Error).message).toMatch(
      /^1 of 2 alerts could not be delivered \(first: unusualsourceip-[0-9a-f]+: simulated delivery failure\)/,
    );
    expect(store.ledger().map((e) => e.user)).toEqual(['a']);
  });
});
