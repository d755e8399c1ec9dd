/**
 * `npm run eval`'s totals: every registered detector gets its own figures (even when it raised nothing), each
 * incident kind its recall, and each label kind its false alerts, beside authwatch's and the naive rule's.
 */
import { describe, expect, it } from 'vitest';
import { aggregate } from '../../../cli/eval';
import type { EvaluateResult } from '../../../cli/scenario/evaluate';
import type { Incident, NoveltyLabel, ScenarioMeta } from '../../../cli/scenario/generate';
import { NAIVE_FAILURE_THRESHOLDS, naiveFailureRuleId } from '../../../cli/scenario/naive';
import { scoreAlerts, type ScoredAlert, type ScoringLabels } from '../../../cli/scenario/score';
import { DETECTORS } from '../../../shared/core/detectors';
import { DAY_MS } from '../../../shared/core/model';

const START = Date.UTC(2026, 2, 2);
const LEARN_END = START + 14 * DAY_MS;
const HOUR = 3_600_000;
const IDS = DETECTORS.map((d) => d.id);

const meta: ScenarioMeta = {
  seed: 1,
  shape: 'office-hours',
  start: START,
  end: START + 42 * DAY_MS,
  days: 42,
  learningDays: 14,
  learningEnd: LEARN_END,
  userDays: 3000,
  detectionUserDays: 2000,
  events: 0,
  successes: 0,
  failures: 0,
  notes: [],
};
const offHours: Incident = {
  id: 'off-hours-1',
  kind: 'off-hours',
  user: 'alice',
  sourceIp: '192.0.2.10',
  start: LEARN_END + 3 * DAY_MS + 2 * HOUR,
  end: LEARN_END + 3 * DAY_MS + 3 * HOUR,
  description: '',
  logons: 3,
  failedAttempts: 0,
  hosts: ['git-01'],
};
const lateWork: NoveltyLabel = {
  kind: 'late-work',
  user: 'bob',
  start: LEARN_END + DAY_MS + 20 * HOUR,
  end: LEARN_END + DAY_MS + 22 * HOUR,
  sourceIps: ['192.0.2.11'],
};
const labels: ScoringLabels = {
  users: [
    { name: 'alice', archetype: 'office' },
    { name: 'bob', archetype: 'office' },
  ],
  incidents: [offHours],
  expectedNovelty: [],
  benignChanges: [lateWork],
  meta,
};

function result(
  seed: number,
  alerts: readonly ScoredAlert[],
  naive: readonly ScoredAlert[],
  naiveFailures: readonly ScoredAlert[] = [],
): EvaluateResult {
  return {
    seed,
    shape: 'office-hours',
    format: 'ecs',
    timeZone: 'Europe/Berlin',
    users: 2,
    events: 10,
    malformed: 0,
    windows: 1,
    cutByCap: 0,
    authwatch: scoreAlerts(alerts, labels, { detectorIds: IDS }),
    folded: { read: 0, missing: 0 },
    naive: scoreAlerts(naive, labels),
    naiveFailures: [
      {
        id: naiveFailureRuleId(10),
        threshold: 10,
        windowMinutes: 60,
        report: scoreAlerts(naiveFailures, labels),
      },
    ],
    replayMs: 0,
  };
}

describe('eval aggregate', () => {
  const [first] = IDS;
  const agg = aggregate([
    // Seed 1: the first detector catches the off-hours misuse and also flags the late work.
    result(
      1,
      [
        { user: 'alice', sourceIp: '192.0.2.10', timestamp: offHours.start, detectorId: first! },
        { user: 'bob', sourceIp: '192.0.2.11', timestamp: lateWork.start, detectorId: first! },
      ],
      [],
    ),
    // Seed 2: nothing raised; the naive rule flags the late work, the failure rule an address on the attack.
    result(
      2,
      [],
      [{ user: 'bob', sourceIp: '192.0.2.11', timestamp: lateWork.start, detectorId: 'naive' }],
      [
        {
          user: '',
          sourceIp: '192.0.2.10',
          timestamp: offHours.start,
          detectorId: naiveFailureRuleId(10),
          users: ['alice'],
          campaignSource: '192.0.2.10',
        },
        {
          user: '',
          sourceIp: '45.1.2.3',
          timestamp: offHours.start,
          detectorId: naiveFailureRuleId(10),
          users: ['root'],
          campaignSource: '45.1.2.3',
        },
      ],
    ),
  ]);

  it('lists every registered detector, with its own recall and false alerts by label', () => {
    expect(Object.keys(agg.authwatch.byDetector).sort()).toEqual([...IDS].sort());
    const d = agg.authwatch.byDetector[first!]!;
    expect(d).toMatchObject({ alerts: 2, onIncidents: 1, expectedNovelty: 0, noise: 1, detected: 1, recall: 0.5 });
    expect(d.recallByKind['off-hours']).toEqual({ total: 2, detected: 1, recall: 0.5 });
    expect(d.falseAlertsByKind).toEqual({ 'late-work': 1 });
    for (const other of IDS.filter((id) => id !== first)) {
      expect(agg.authwatch.byDetector[other]).toMatchObject({ alerts: 0, noise: 0, detected: 0, recall: 0 });
    }
  });

  it('gives the off-hours kind its recall and the look-alikes their false alerts, for authwatch and the naive rule', () => {
    expect(agg.authwatch.recallByKind['off-hours']).toEqual({ total: 2, detected: 1, recall: 0.5 });
    expect(agg.authwatch.onIncidents).toBe(1);
    expect(agg.authwatch.falseAlertsByKind).toEqual({ 'late-work': 1 });
    expect(agg.naive.recallByKind['off-hours']).toEqual({ total: 2, detected: 0, recall: 0 });
    expect(agg.naive.falseAlertsByKind).toEqual({ 'late-work': 1 });
    // An alert about the victim's address names no user: the off-hours rule (user and address) is not met.
    expect(agg.naiveFailures[naiveFailureRuleId(10)]!.recallByKind['off-hours'].detected).toBe(0);
    expect(agg.naiveFailures[naiveFailureRuleId(10)]!.noise).toBe(2);
  });
});

describe('eval aggregate: the naive failure rule', () => {
  const agg = aggregate([
    result(1, [], [], []),
    result(
      2,
      [],
      [],
      [
        {
          user: '',
          sourceIp: '45.1.2.3',
          timestamp: offHours.start,
          detectorId: naiveFailureRuleId(10),
          users: ['root'],
          campaignSource: '45.1.2.3',
        },
      ],
    ),
  ]);

  it('is summed over scenarios under its id, with its recall and false alerts per 1,000 user-days', () => {
    // Prepare
    const f = agg.naiveFailures[naiveFailureRuleId(10)]!;

    // Assert: one unexplained alert over 2 × 2,000 user-days; the off-hours misuse is not about failures.
    expect(f).toMatchObject({ alerts: 1, noise: 1, falseAlerts: 1, recall: 0, falsePer1000UserDays: 0.25 });
    expect(f.recallByKind['off-hours']).toEqual({ total: 2, detected: 0, recall: 0 });
    expect(f.falseAlertsByKind).toEqual({ unexplained: 1 });
    expect(Object.keys(agg.naiveFailures)).toEqual(NAIVE_FAILURE_THRESHOLDS.map(naiveFailureRuleId));
    expect(agg.naiveFailures[naiveFailureRuleId(20)]).toMatchObject({ alerts: 0, incidents: 0 });
  });
});
