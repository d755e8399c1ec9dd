import { describe, expect, it } from 'vitest';
import { DAY_MS, type LogonEvent } from '../../../shared/core/model';
import type { Incident, NoveltyLabel, ScenarioMeta, UserProfileLabel } from '../../../cli/scenario/generate';
import { naiveFirstSeenAlerts } from '../../../cli/scenario/naive';
import {
  detectsIncident,
  isOnIncident,
  matchesNovelty,
  scoreAlerts,
  type ScoredAlert,
  type ScoringLabels,
} from '../../../cli/scenario/score';

const START = Date.UTC(2026, 2, 2);
const LEARN_END = START + 14 * DAY_MS;
const HOUR = 3_600_000;
const MIN = 60_000;

function ev(user: string, sourceIp: string, timestamp: number, outcome: LogonEvent['outcome'] = 'success'): LogonEvent {
  return { timestamp, user, sourceIp, outcome, host: 'web-01', method: 'publickey', logSource: 'ecs' };
}

function alert(user: string, sourceIp: string, timestamp: number, detectorId = 'Auth.UnusualSourceIp'): ScoredAlert {
  return { user, sourceIp, timestamp, detectorId };
}

function incident(overrides: Partial<Incident> & Pick<Incident, 'id' | 'kind' | 'user'>): Incident {
  const start = LEARN_END + 5 * DAY_MS;
  return {
    sourceIp: '198.18.1.2',
    start,
    end: start + 30 * MIN,
    description: '',
    logons: 2,
    failedAttempts: 0,
    hosts: ['web-01'],
    ...overrides,
  };
}

function labels(
  over: {
    incidents?: Incident[];
    expectedNovelty?: NoveltyLabel[];
    benignChanges?: NoveltyLabel[];
    users?: UserProfileLabel[];
  } = {},
): ScoringLabels {
  const meta: ScenarioMeta = {
    seed: 1,
    shape: 'small-office',
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
  return {
    users: over.users ?? [
      { name: 'alice', archetype: 'office' },
      { name: 'bob', archetype: 'mobile' },
      { name: 'nora', archetype: 'office', joinedAt: LEARN_END + 2 * DAY_MS },
    ],
    incidents: over.incidents ?? [],
    expectedNovelty: over.expectedNovelty ?? [],
    benignChanges: over.benignChanges ?? [],
    meta,
  };
}

describe('naiveFirstSeenAlerts', () => {
  it('alerts once per (user, IP) pair first seen after learning', () => {
    // Prepare
    const events = [
      ev('alice', '192.0.2.10', START + HOUR),
      ev('alice', '192.0.2.10', LEARN_END + HOUR), // known from learning
      ev('alice', '81.2.3.4', LEARN_END + 2 * HOUR), // new
      ev('alice', '81.2.3.4', LEARN_END + 3 * HOUR), // already alerted
      ev('bob', '192.0.2.10', LEARN_END + 4 * HOUR), // new for bob, shared egress or not
    ];
    // Act
    const alerts = naiveFirstSeenAlerts(events, LEARN_END);
    // Assess
    expect(alerts).toEqual([
      { user: 'alice', sourceIp: '81.2.3.4', timestamp: LEARN_END + 2 * HOUR },
      { user: 'bob', sourceIp: '192.0.2.10', timestamp: LEARN_END + 4 * HOUR },
    ]);
  });

  it('ignores failures and unsorted input order', () => {
    const events = [
      ev('carol', '203.0.113.5', LEARN_END + 2 * HOUR),
      ev('carol', '203.0.113.5', LEARN_END + HOUR, 'failure'),
      ev('carol', '203.0.113.5', START + HOUR, 'failure'),
    ];
    expect(naiveFirstSeenAlerts(events, LEARN_END)).toEqual([
      { user: 'carol', sourceIp: '203.0.113.5', timestamp: LEARN_END + 2 * HOUR },
    ]);
  });

  it('says nothing during learning', () => {
    expect(naiveFirstSeenAlerts([ev('dave', '81.2.3.4', LEARN_END - 1)], LEARN_END)).toEqual([]);
  });
});

describe('matching rules', () => {
  const stolen = incident({
    id: 's1',
    kind: 'stolen-credentials',
    user: 'alice',
    sourceIp: '198.18.1.2',
    end: LEARN_END + 5 * DAY_MS + 4 * HOUR,
  });
  const dormant = incident({ id: 'd1', kind: 'dormant-return', user: 'zed', sourceIp: '203.0.113.7' });

  it('detects within [start − 15 min, start + 2 h] with the incident IP for IP-based kinds', () => {
    expect(detectsIncident(alert('alice', '198.18.1.2', stolen.start), stolen)).toBe(true);
    expect(detectsIncident(alert('alice', '198.18.1.2', stolen.start - 15 * MIN), stolen)).toBe(true);
    expect(detectsIncident(alert('alice', '198.18.1.2', stolen.start + 2 * HOUR), stolen)).toBe(true);
    expect(detectsIncident(alert('alice', '198.18.1.2', stolen.start - 16 * MIN), stolen)).toBe(false);
    expect(detectsIncident(alert('alice', '198.18.1.2', stolen.start + 2 * HOUR + 1), stolen)).toBe(false);
    expect(detectsIncident(alert('alice', '192.0.2.10', stolen.start), stolen)).toBe(false);
    expect(detectsIncident(alert('bob', '198.18.1.2', stolen.start), stolen)).toBe(false);
  });

  it('needs only the user for dormant returns and attacker accounts', () => {
    expect(detectsIncident(alert('zed', '10.9.9.9', dormant.start + HOUR, 'Auth.RareUser'), dormant)).toBe(true);
  });

  it('keeps later alerts during a long incident off the false-alert count without counting them as detection', () => {
    const late = alert('alice', '198.18.1.2', stolen.start + 3 * HOUR);
    expect(detectsIncident(late, stolen)).toBe(false);
    expect(isOnIncident(late, stolen)).toBe(true);
    expect(isOnIncident(alert('alice', '198.18.1.2', stolen.end + 1), stolen)).toBe(false);
  });

  it('matches novelty on user, span and listed IPs', () => {
    const trip: NoveltyLabel = {
      kind: 'travel',
      user: 'bob',
      start: LEARN_END,
      end: LEARN_END + 3 * DAY_MS,
      sourceIps: ['85.114.1.1'],
    };
    expect(matchesNovelty(alert('bob', '85.114.1.1', LEARN_END + DAY_MS), trip)).toBe(true);
    expect(matchesNovelty(alert('bob', '85.114.9.9', LEARN_END + DAY_MS), trip)).toBe(false);
    expect(matchesNovelty(alert('bob', '85.114.1.1', LEARN_END + 4 * DAY_MS), trip)).toBe(false);
    expect(matchesNovelty(alert('alice', '85.114.1.1', LEARN_END + DAY_MS), trip)).toBe(false);
    const hire: NoveltyLabel = {
      kind: 'new-hire',
      user: 'nora',
      start: LEARN_END + 2 * DAY_MS,
      end: LEARN_END + 9 * DAY_MS - 1,
    };
    expect(matchesNovelty(alert('nora', '1.2.3.4', LEARN_END + 3 * DAY_MS), hire)).toBe(true);
  });
});

describe('scoreAlerts', () => {
  const incidents = [
    incident({ id: 'stolen-credentials-1', kind: 'stolen-credentials', user: 'alice', sourceIp: '198.18.1.2' }),
    incident({
      id: 'stolen-credentials-2',
      kind: 'stolen-credentials',
      user: 'bob',
      sourceIp: '198.19.4.4',
      start: LEARN_END + 8 * DAY_MS,
      end: LEARN_END + 8 * DAY_MS + MIN,
    }),
    incident({ id: 'dormant-return-1', kind: 'dormant-return', user: 'zed', sourceIp: '203.0.113.7' }),
    incident({
      id: 'lateral-movement-1',
      kind: 'lateral-movement',
      user: 'alice',
      sourceIp: '10.55.1.2',
      start: LEARN_END + 10 * DAY_MS,
      end: LEARN_END + 10 * DAY_MS + HOUR,
    }),
  ];
  const expectedNovelty: NoveltyLabel[] = [
    { kind: 'travel', user: 'bob', start: LEARN_END, end: LEARN_END + 3 * DAY_MS, sourceIps: ['85.114.1.1'] },
    { kind: 'new-hire', user: 'nora', start: LEARN_END + 2 * DAY_MS, end: LEARN_END + 9 * DAY_MS - 1 },
  ];
  const benignChanges: NoveltyLabel[] = [
    {
      kind: 'isp-change',
      user: 'alice',
      start: LEARN_END + 20 * DAY_MS,
      end: LEARN_END + 27 * DAY_MS,
      sourceIps: ['86.14.2.3'],
    },
  ];
  const l = labels({ incidents, expectedNovelty, benignChanges });

  const alerts: ScoredAlert[] = [
    alert('alice', '198.18.1.2', incidents[0]!.start + 20 * MIN), // detects stolen-1
    alert('alice', '198.18.1.2', incidents[0]!.start + 25 * MIN, 'Auth.RareUser'), // on stolen-1 too
    alert('zed', '203.0.113.7', incidents[2]!.start + 5 * MIN, 'Auth.RareUser'), // detects dormant-1
    alert('alice', '10.55.9.9', incidents[3]!.start), // wrong IP for lateral: false, noise
    alert('bob', '85.114.1.1', LEARN_END + DAY_MS), // travel: expected
    alert('nora', '192.0.2.10', LEARN_END + 2 * DAY_MS + HOUR, 'Auth.RareUser'), // new hire: expected
    alert('alice', '86.14.2.3', LEARN_END + 20 * DAY_MS + HOUR), // ISP change: noise by cause
    alert('bob', '100.64.3.3', LEARN_END + 12 * DAY_MS), // mobile churn: unexplained noise
  ];

  it('computes recall per kind and overall', () => {
    const r = scoreAlerts(alerts, l);
    expect(r.recall['stolen-credentials']).toEqual({ total: 2, detected: 1, recall: 0.5 });
    expect(r.recall['dormant-return']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.recall['lateral-movement']).toEqual({ total: 1, detected: 0, recall: 0 });
    expect(r.recall['attacker-account']).toEqual({ total: 0, detected: 0, recall: null });
    expect(r.overall).toEqual({ total: 4, detected: 2, recall: 0.5 });
    const s1 = r.incidents.find((i) => i.id === 'stolen-credentials-1')!;
    expect(s1.delayMs).toBe(20 * MIN);
    expect(s1.detectors).toEqual(['Auth.RareUser', 'Auth.UnusualSourceIp']);
  });

  it('splits false alerts into expected novelty and noise, with causes and archetypes', () => {
    const r = scoreAlerts(alerts, l);
    expect(r.alerts).toBe(8);
    expect(r.onIncidents).toBe(3);
    expect(r.falseAlerts.total).toBe(5);
    expect(r.falseAlerts.expectedNovelty).toBe(2);
    expect(r.falseAlerts.expectedByKind).toEqual({ travel: 1, 'new-hire': 1 });
    expect(r.falseAlerts.noise).toBe(3);
    expect(r.falseAlerts.noiseByCause).toEqual({ unexplained: 2, 'isp-change': 1 });
    expect(r.falseAlerts.noiseByArchetype).toEqual({ office: 2, mobile: 1 });
  });

  it('normalises per 1,000 user-days and per day of the detection period', () => {
    const r = scoreAlerts(alerts, l);
    expect(r.detectionDays).toBe(28);
    expect(r.falsePer1000UserDays.total).toBeCloseTo((5 * 1000) / 2000);
    expect(r.falsePer1000UserDays.noise).toBeCloseTo((3 * 1000) / 2000);
    expect(r.alertsPerDay).toBeCloseTo(8 / 28);
  });

  it('breaks the figures down per detector', () => {
    const r = scoreAlerts(alerts, l);
    expect(r.byDetector['Auth.RareUser']).toMatchObject({
      alerts: 3,
      onIncidents: 2,
      expectedNovelty: 1,
      noise: 0,
      falseByKind: { 'new-hire': 1 },
    });
    expect(r.byDetector['Auth.UnusualSourceIp']).toMatchObject({
      alerts: 5,
      onIncidents: 1,
      expectedNovelty: 1,
      noise: 3,
      falseByKind: { travel: 1, 'isp-change': 1, unexplained: 2 },
    });
    // Each detector's recall counts only its own detections: both named alice's stolen credentials.
    expect(r.byDetector['Auth.RareUser']!.recall['stolen-credentials']).toEqual({ total: 2, detected: 1, recall: 0.5 });
    expect(r.byDetector['Auth.RareUser']!.recall['dormant-return']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.byDetector['Auth.UnusualSourceIp']!.recall['dormant-return']).toEqual({
      total: 1,
      detected: 0,
      recall: 0,
    });
  });

  it('lists the detectors asked for even when they raised nothing', () => {
    const r = scoreAlerts(alerts, l, { detectorIds: ['Auth.RareUser', 'Auth.Quiet'] });
    expect(r.byDetector['Auth.Quiet']).toMatchObject({ alerts: 0, onIncidents: 0, expectedNovelty: 0, noise: 0 });
    expect(r.byDetector['Auth.Quiet']!.recall['stolen-credentials']).toEqual({ total: 2, detected: 0, recall: 0 });
    expect(r.byDetector['Auth.Quiet']!.falseByKind).toEqual({});
    expect(r.byDetector['Auth.RareUser']!.alerts).toBe(3);
  });

  it('counts ISP changes as expected novelty when asked to', () => {
    const r = scoreAlerts(alerts, l, { expectedKinds: ['travel', 'new-hire', 'isp-change'] });
    expect(r.falseAlerts.expectedNovelty).toBe(3);
    expect(r.falseAlerts.noise).toBe(2);
  });

  it('gives zero recall and no false alerts for no alerts', () => {
    const r = scoreAlerts([], l);
    expect(r.overall.detected).toBe(0);
    expect(r.falseAlerts.total).toBe(0);
    expect(r.alertsPerDay).toBe(0);
  });
});

describe('scoreAlerts: impossible travel', () => {
  const TRAVEL_DETECTOR = 'Auth.ImpossibleTravel';
  const start = LEARN_END + 4 * DAY_MS + 14 * HOUR;
  const travel = incident({
    id: 'impossible-travel-1',
    kind: 'impossible-travel',
    user: 'alice',
    sourceIp: '133.106.4.5',
    start,
    end: start + 20 * MIN,
  });
  const l = labels({ incidents: [travel], users: [{ name: 'alice', archetype: 'home' }] });

  it('detects it on the victim and the address abroad, within two hours, and credits the detector', () => {
    const r = scoreAlerts([alert('alice', '133.106.4.5', start + MIN, TRAVEL_DETECTOR)], l, {
      detectorIds: [TRAVEL_DETECTOR, 'Auth.RareUser'],
    });
    expect(r.recall['impossible-travel']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.overall).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.onIncidents).toBe(1);
    expect(r.byDetector[TRAVEL_DETECTOR]!.recall['impossible-travel']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.byDetector['Auth.RareUser']!.recall['impossible-travel']).toEqual({ total: 1, detected: 0, recall: 0 });
  });

  it('does not count an alert on the victim’s home address as detecting it: that is a false alert', () => {
    const r = scoreAlerts([alert('alice', '81.2.3.4', start + MIN, TRAVEL_DETECTOR)], l);
    expect(r.recall['impossible-travel']).toEqual({ total: 1, detected: 0, recall: 0 });
    expect(r.falseAlerts.noise).toBe(1);
    expect(r.falseAlerts.list).toBeUndefined();
    // Listed on request, with the label that explains it (none here).
    const listed = scoreAlerts([alert('alice', '81.2.3.4', start + MIN, TRAVEL_DETECTOR)], l, {
      listFalseAlerts: true,
    });
    expect(listed.falseAlerts.list).toEqual([
      {
        user: 'alice',
        sourceIp: '81.2.3.4',
        timestamp: start + MIN,
        detectorId: TRAVEL_DETECTOR,
        label: 'unexplained',
        expected: false,
      },
    ]);
  });
});

describe('scoreAlerts: off-hours misuse and its look-alikes', () => {
  const HOUR_DETECTOR = 'Auth.UnusualHour';
  const night = LEARN_END + 6 * DAY_MS + 2 * HOUR;
  const offHours = incident({
    id: 'off-hours-1',
    kind: 'off-hours',
    user: 'alice',
    sourceIp: '192.0.2.10',
    start: night,
    end: night + 40 * MIN,
  });
  const lateWork: NoveltyLabel = {
    kind: 'late-work',
    user: 'carol',
    start: LEARN_END + 3 * DAY_MS + 20 * HOUR,
    end: LEARN_END + 3 * DAY_MS + 22 * HOUR,
    sourceIps: ['192.0.2.11'],
  };
  const deploy: NoveltyLabel = {
    kind: 'weekend-deploy',
    user: 'dan',
    start: LEARN_END + 5 * DAY_MS + 11 * HOUR,
    end: LEARN_END + 5 * DAY_MS + 15 * HOUR,
    sourceIps: ['81.2.3.4'],
  };
  const trip: NoveltyLabel = {
    kind: 'travel-timezone',
    user: 'erin',
    start: LEARN_END + 8 * DAY_MS,
    end: LEARN_END + 12 * DAY_MS,
    sourceIps: ['133.106.1.2'],
  };
  // A whole week of frank's logons after the change, any address; a new home lease inside it.
  const dst: NoveltyLabel = { kind: 'dst-change', user: 'frank', start: LEARN_END, end: LEARN_END + 7 * DAY_MS };
  const lease: NoveltyLabel = {
    kind: 'dhcp-churn',
    user: 'frank',
    start: LEARN_END + 2 * DAY_MS,
    end: LEARN_END + 9 * DAY_MS,
    sourceIps: ['86.14.2.9'],
  };
  const l = labels({
    incidents: [offHours],
    expectedNovelty: [trip],
    // The blanket DST label comes first, as it would by start time: the lease still explains its address.
    benignChanges: [dst, lease, lateWork, deploy],
    users: ['alice', 'carol', 'dan', 'erin', 'frank'].map((name) => ({ name, archetype: 'office' as const })),
  });

  it('detects off-hours misuse on the user and the usual address, within two hours', () => {
    const hit = alert('alice', '192.0.2.10', night + 5 * MIN, HOUR_DETECTOR);
    const r = scoreAlerts([hit], l, { detectorIds: [HOUR_DETECTOR, 'Auth.RareUser'] });
    expect(r.recall['off-hours']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.byDetector[HOUR_DETECTOR]!.recall['off-hours']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.byDetector['Auth.RareUser']!.recall['off-hours']).toEqual({ total: 1, detected: 0, recall: 0 });
    // Another address of alice's that night is not the attack: no detection, and a false alert.
    const elsewhere = scoreAlerts([alert('alice', '86.14.7.7', night + 5 * MIN, HOUR_DETECTOR)], l);
    expect(elsewhere.recall['off-hours'].detected).toBe(0);
    expect(elsewhere.falseAlerts.noise).toBe(1);
    // Too late: three hours after the start.
    expect(scoreAlerts([alert('alice', '192.0.2.10', night + 3 * HOUR)], l).recall['off-hours'].detected).toBe(0);
  });

  it('counts alerts on late work, weekend deploys and DST changes as noise, by look-alike', () => {
    const r = scoreAlerts(
      [
        alert('carol', '192.0.2.11', lateWork.start + 10 * MIN, HOUR_DETECTOR),
        alert('dan', '81.2.3.4', deploy.start, HOUR_DETECTOR),
        alert('frank', '192.0.2.10', LEARN_END + DAY_MS, HOUR_DETECTOR),
        alert('frank', '86.14.2.9', LEARN_END + 3 * DAY_MS),
      ],
      l,
    );
    expect(r.falseAlerts.noise).toBe(4);
    expect(r.falseAlerts.noiseByCause).toEqual({
      'late-work': 1,
      'weekend-deploy': 1,
      'dst-change': 1,
      'dhcp-churn': 1,
    });
    expect(r.byDetector[HOUR_DETECTOR]!.falseByKind).toEqual({ 'late-work': 1, 'weekend-deploy': 1, 'dst-change': 1 });
  });

  it('counts an alert on travel across time zones as expected novelty', () => {
    const r = scoreAlerts([alert('erin', '133.106.1.2', trip.start + 9 * HOUR, HOUR_DETECTOR)], l);
    expect(r.falseAlerts.expectedNovelty).toBe(1);
    expect(r.falseAlerts.expectedByKind).toEqual({ 'travel-timezone': 1 });
    expect(r.falseAlerts.noise).toBe(0);
  });
});
