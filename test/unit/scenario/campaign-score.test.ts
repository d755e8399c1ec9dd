/**
 * Scoring campaigns of failed logons (score.ts): what detects a spray, credential stuffing and brute force, how a
 * campaign alert's folded per-user alerts count, which label a campaign alert's noise falls on; and the naive
 * failure rule ("N failed logons from one address in a window") on a small hand-made log.
 */
import { describe, expect, it } from 'vitest';
import { DAY_MS, type Alert, type LedgerEntry, type LogonEvent } from '../../../shared/core/model';
import type { Incident, NoveltyLabel, ScenarioMeta } from '../../../cli/scenario/generate';
import { withFoldedAlerts } from '../../../cli/scenario/evaluate';
import { naiveFailureAlerts, naiveFailureRuleId } from '../../../cli/scenario/naive';
import {
  detectsIncident,
  isOnIncident,
  scoreAlerts,
  scoredAlert,
  type ScoredAlert,
  type ScoringLabels,
} from '../../../cli/scenario/score';

const START = Date.UTC(2026, 2, 2);
const LEARN_END = START + 14 * DAY_MS;
const HOUR = 3_600_000;
const MIN = 60_000;
const T0 = LEARN_END + 3 * DAY_MS + 10 * HOUR;
const SPRAY_IP = '198.18.7.7';

const spray: Incident = {
  id: 'password-spray-1',
  kind: 'password-spray',
  user: 'carol',
  sourceIp: SPRAY_IP,
  start: T0,
  end: T0 + 45 * MIN,
  description: '',
  logons: 2,
  failedAttempts: 7,
  hosts: ['bastion-01'],
  targets: [
    { user: 'alice', sourceIp: SPRAY_IP, failures: 3, compromised: false },
    { user: 'bob', sourceIp: SPRAY_IP, failures: 3, compromised: false },
    { user: 'carol', sourceIp: SPRAY_IP, failures: 1, compromised: true },
    { user: 'dave', sourceIp: SPRAY_IP, failures: 0, compromised: true },
  ],
  sourceOwners: ['AS64511'],
};
const STUFF_T0 = T0 + 5 * DAY_MS;
const stuffing: Incident = {
  id: 'credential-stuffing-1',
  kind: 'credential-stuffing',
  user: 'erin',
  sourceIp: '198.19.1.1',
  start: STUFF_T0,
  end: STUFF_T0 + HOUR,
  description: '',
  logons: 1,
  failedAttempts: 4,
  hosts: ['web-01'],
  targets: [
    { user: 'erin', sourceIp: '198.19.1.1', failures: 2, compromised: true },
    { user: 'frank', sourceIp: '198.19.1.2', failures: 2, compromised: false },
  ],
  sourceOwners: ['AS64511'],
};
const stolen: Incident = {
  id: 'stolen-credentials-1',
  kind: 'stolen-credentials',
  user: 'alice',
  sourceIp: '203.0.113.5',
  start: T0 + 10 * DAY_MS,
  end: T0 + 10 * DAY_MS + 30 * MIN,
  description: '',
  logons: 2,
  failedAttempts: 0,
  hosts: ['web-01'],
};
const scan: NoveltyLabel = {
  kind: 'ssh-background-scan',
  user: '',
  start: LEARN_END + DAY_MS,
  end: LEARN_END + 2 * DAY_MS,
  sourceIps: ['45.1.2.3'],
};
const stale: NoveltyLabel = {
  kind: 'stale-service-password',
  user: 'svc-etl',
  start: LEARN_END + 2 * DAY_MS,
  end: LEARN_END + 3 * DAY_MS,
  sourceIps: ['10.20.0.23'],
};
const meta: ScenarioMeta = {
  seed: 1,
  shape: 'internet-facing',
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
const labels: ScoringLabels = {
  users: ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'].map((name) => ({ name, archetype: 'office' as const })),
  incidents: [spray, stuffing, stolen],
  expectedNovelty: [],
  benignChanges: [scan, stale],
  meta,
};

/** An alert about a source: its address or owner, its users. */
function source(sourceKey: string, users: readonly string[], timestamp: number, sourceIp = SPRAY_IP): ScoredAlert {
  return { user: '', sourceIp, timestamp, detectorId: 'Test.Campaign', users, campaignSource: sourceKey };
}

function perUser(user: string, sourceIp: string, timestamp: number, detectorId = 'Test.PerUser'): ScoredAlert {
  return { user, sourceIp, timestamp, detectorId };
}

describe('campaign matching', () => {
  it('an alert about the spray address detects the spray within its span, not hours after it', () => {
    expect(detectsIncident(source(SPRAY_IP, ['alice', 'bob'], T0 + 20 * MIN), spray)).toBe(true);
    expect(detectsIncident(source(SPRAY_IP, ['alice'], T0 + 45 * MIN + 2 * HOUR), spray)).toBe(true);
    expect(detectsIncident(source(SPRAY_IP, ['alice'], T0 + 45 * MIN + 3 * HOUR), spray)).toBe(false);
    expect(detectsIncident(source(SPRAY_IP, ['alice'], T0 - HOUR), spray)).toBe(false);
    expect(detectsIncident(source('198.18.9.9', ['alice'], T0 + 20 * MIN, '198.18.9.9'), spray)).toBe(false);
  });

  it('an alert about the owner detects the spray only when it names an account the spray tried', () => {
    expect(detectsIncident(source('AS64511', ['bob', 'zed'], T0 + 20 * MIN, '198.18.9.9'), spray)).toBe(true);
    expect(detectsIncident(source('AS64511', ['root', 'admin'], T0 + 20 * MIN, '198.18.9.9'), spray)).toBe(false);
    expect(detectsIncident(source('AS64498', ['bob'], T0 + 20 * MIN, '203.0.113.9'), spray)).toBe(false);
  });

  it('a per-user alert on a sprayed account from the spray address detects it; from elsewhere it does not', () => {
    expect(detectsIncident(perUser('carol', SPRAY_IP, T0 + 30 * MIN), spray)).toBe(true);
    expect(detectsIncident(perUser('bob', SPRAY_IP, T0 + 30 * MIN), spray)).toBe(true);
    expect(detectsIncident(perUser('carol', '192.0.2.10', T0 + 30 * MIN), spray)).toBe(false);
    expect(detectsIncident(perUser('zed', SPRAY_IP, T0 + 30 * MIN), spray)).toBe(false);
  });

  it('credential stuffing is detected by a per-user alert on an account it got into; one it only tried is on it', () => {
    const onErin = perUser('erin', '198.19.1.1', STUFF_T0 + 10 * MIN);
    const onFrank = perUser('frank', '198.19.1.2', STUFF_T0 + 10 * MIN);
    expect(detectsIncident(onErin, stuffing)).toBe(true);
    expect(detectsIncident(onFrank, stuffing)).toBe(false);
    expect(isOnIncident(onFrank, stuffing)).toBe(true);
    // Any of its addresses names it.
    expect(detectsIncident(source('198.19.1.2', ['frank'], STUFF_T0 + 10 * MIN, '198.19.1.2'), stuffing)).toBe(true);
  });

  it('leaves the other kinds to their own rule: a campaign alert from the thief address names no user', () => {
    const a = source('203.0.113.5', ['alice'], stolen.start + MIN, '203.0.113.5');
    expect(detectsIncident(a, stolen)).toBe(false);
    expect(detectsIncident(perUser('alice', '203.0.113.5', stolen.start + MIN), stolen)).toBe(true);
  });
});

describe('scoreAlerts with campaigns', () => {
  it('counts a campaign alert once, and credits the detectors of the per-user alerts folded into it', () => {
    // Prepare: a campaign alert about another address of the owner that names no sprayed user, with a folded
    // per-user alert on a sprayed account from the spray address.
    const campaign: ScoredAlert = {
      ...source('AS64511', ['zed'], T0 + 20 * MIN, '198.18.9.9'),
      folded: [perUser('dave', SPRAY_IP, T0 + 25 * MIN, 'Test.Folded')],
    };

    // Act
    const r = scoreAlerts([campaign], labels, { detectorIds: ['Test.Campaign', 'Test.Folded'] });

    // Assert
    const result = r.incidents.find((i) => i.id === spray.id)!;
    expect(result.detected).toBe(true);
    expect(result.detectors).toEqual(['Test.Campaign', 'Test.Folded']);
    expect(r.alerts).toBe(1);
    expect(r.onIncidents).toBe(1);
    expect(r.recall['password-spray']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.byDetector['Test.Folded']!.alerts).toBe(0);
    expect(r.byDetector['Test.Folded']!.recall['password-spray'].detected).toBe(1);
  });

  it('puts a campaign alert on scanners under the scan label, and one on a stale service under its label', () => {
    const alerts = [
      source('45.1.2.3', ['root', 'admin', 'oracle'], scan.start + HOUR, '45.1.2.3'),
      source('10.20.0.23', ['svc-etl'], stale.start + HOUR, '10.20.0.23'),
      source('45.9.9.9', ['root'], scan.start + HOUR, '45.9.9.9'),
    ];

    const r = scoreAlerts(alerts, labels, { listFalseAlerts: true });

    expect(r.falseAlerts.noiseByCause).toEqual({
      'ssh-background-scan': 1,
      'stale-service-password': 1,
      unexplained: 1,
    });
    expect(r.falseAlerts.noiseByArchetype).toEqual({ source: 3 });
    expect(r.falseAlerts.list!.map((a) => a.label)).toEqual([
      'ssh-background-scan',
      'stale-service-password',
      'unexplained',
    ]);
  });

  it("puts the failures of a mail client at home on the mail client, not on the home address's new lease", () => {
    // Prepare: the user's home address changed lease four days before the mail client's evening of failures.
    const home = '81.2.3.4';
    const mail: NoveltyLabel = {
      kind: 'mail-client-password-change',
      user: 'bob',
      start: LEARN_END + 8 * DAY_MS + 18 * HOUR,
      end: LEARN_END + 8 * DAY_MS + 23 * HOUR,
      sourceIps: [home],
    };
    const lease: NoveltyLabel = {
      kind: 'dhcp-churn',
      user: 'bob',
      start: LEARN_END + 4 * DAY_MS,
      end: LEARN_END + 11 * DAY_MS - 1,
      sourceIps: [home],
    };
    const withLease: ScoringLabels = { ...labels, benignChanges: [lease, mail] };

    // Act
    const r = scoreAlerts(
      [source(home, ['bob'], mail.start + HOUR, home), perUser('bob', home, LEARN_END + 5 * DAY_MS)],
      withLease,
    );

    // Assert
    expect(r.falseAlerts.noiseByCause).toEqual({ 'mail-client-password-change': 1, 'dhcp-churn': 1 });
  });

  it('reads a campaign alert: its users and the source it names', () => {
    const a = {
      id: 'x',
      '@timestamp': new Date(T0).toISOString(),
      rule: { id: 'Test.Campaign' },
      user: { name: '' },
      source: { ip: SPRAY_IP },
      campaign: { source: 'AS64511', users: [{ name: 'bob', failures: 3, successes: 0, known: true }] },
    } as unknown as Alert;
    expect(scoredAlert(a)).toEqual({
      user: '',
      sourceIp: SPRAY_IP,
      timestamp: T0,
      detectorId: 'Test.Campaign',
      users: ['bob'],
      campaignSource: 'AS64511',
    });
  });
});

describe('withFoldedAlerts', () => {
  const campaign = {
    id: 'c',
    '@timestamp': new Date(T0).toISOString(),
    rule: { id: 'Test.Campaign' },
    user: { name: '' },
    source: { ip: SPRAY_IP },
    campaign: {
      source: SPRAY_IP,
      users: [{ name: 'dave', failures: 0, successes: 1, known: true }],
      folded: ['f1', 'f2', 'f3'],
    },
  } as unknown as Alert;
  const entries: Record<string, LedgerEntry> = {
    f1: {
      id: 'f1',
      detectorId: 'Test.Folded',
      user: 'dave',
      sourceIp: SPRAY_IP,
      raisedAtMs: T0 + HOUR,
      expiresAtEpochSeconds: 0,
      document: JSON.stringify({ '@timestamp': new Date(T0 + 25 * MIN).toISOString() }),
    },
    // No document (or an unreadable one): the entry's raising time stands in for the logon's.
    f2: {
      id: 'f2',
      detectorId: 'Test.Folded',
      user: 'carol',
      raisedAtMs: T0 + HOUR,
      expiresAtEpochSeconds: 0,
      document: '{',
    },
  };

  it('reads the folded per-user alerts back from the ledger, and counts those not there', async () => {
    // Prepare
    const folded = { read: 0, missing: 0 };

    // Act
    const a = await withFoldedAlerts(campaign, { getLedgerEntry: async (id) => entries[id] }, folded);

    // Assert
    expect(a.folded).toEqual([
      { user: 'dave', sourceIp: SPRAY_IP, timestamp: T0 + 25 * MIN, detectorId: 'Test.Folded' },
      { user: 'carol', sourceIp: SPRAY_IP, timestamp: T0 + HOUR, detectorId: 'Test.Folded' },
    ]);
    expect(folded).toEqual({ read: 2, missing: 1 });
    expect(a.users).toEqual(['dave']);
  });
});

describe('naiveFailureAlerts', () => {
  function fail(ip: string, user: string, timestamp: number): LogonEvent {
    return { timestamp, user, sourceIp: ip, outcome: 'failure', host: 'web-01', method: 'password', logSource: 'ecs' };
  }
  const H = LEARN_END + 5 * DAY_MS;

  it('alerts once per (address, hour) with at least N failures, at the Nth, naming the users tried', () => {
    // Prepare: 12 failures from A in one hour (and 3 more the next hour), 9 from B, 10 from C split over two hours,
    // and successes, which do not count.
    const events: LogonEvent[] = [
      ...Array.from({ length: 12 }, (_, k) => fail('45.0.0.1', k % 2 ? 'root' : 'admin', H + k * MIN)),
      ...Array.from({ length: 3 }, (_, k) => fail('45.0.0.1', 'root', H + HOUR + k * MIN)),
      ...Array.from({ length: 9 }, (_, k) => fail('45.0.0.2', 'alice', H + k * MIN)),
      { ...fail('45.0.0.2', 'alice', H + 30 * MIN), outcome: 'success' as const },
      ...Array.from({ length: 5 }, (_, k) => fail('45.0.0.3', 'bob', H + 50 * MIN + k * MIN)),
      ...Array.from({ length: 5 }, (_, k) => fail('45.0.0.3', 'bob', H + HOUR + k * MIN)),
    ].reverse();

    // Act
    const at10 = naiveFailureAlerts(events, LEARN_END, 10);
    const at3 = naiveFailureAlerts(events, LEARN_END, 3);

    // Assert
    expect(at10).toEqual([
      { user: '', sourceIp: '45.0.0.1', timestamp: H + 9 * MIN, users: ['admin', 'root'], campaignSource: '45.0.0.1' },
    ]);
    expect(at3.map((a) => [a.sourceIp, a.timestamp])).toEqual([
      ['45.0.0.1', H + 2 * MIN],
      ['45.0.0.2', H + 2 * MIN],
      ['45.0.0.3', H + 52 * MIN],
      ['45.0.0.1', H + HOUR + 2 * MIN],
      ['45.0.0.3', H + HOUR + 2 * MIN],
    ]);
  });

  it('ignores windows that start before the end of learning', () => {
    const events = Array.from({ length: 20 }, (_, k) => fail('45.0.0.1', 'root', LEARN_END - 30 * MIN + k * MIN));
    expect(naiveFailureAlerts(events, LEARN_END, 10)).toEqual([]);
    expect(naiveFailureAlerts(events, LEARN_END, 5)).toHaveLength(0);
    expect(naiveFailureAlerts(events, LEARN_END - HOUR, 10)).toHaveLength(1);
  });

  it('detects the spray and brute force as an alert about their address, and counts scanners as noise', () => {
    const events = [
      ...Array.from({ length: 10 }, (_, k) => fail(SPRAY_IP, ['alice', 'bob'][k % 2]!, T0 + k * MIN)),
      ...Array.from({ length: 10 }, (_, k) => fail('45.1.2.3', 'root', scan.start + HOUR + k * MIN)),
    ];
    const id = naiveFailureRuleId(10);
    const r = scoreAlerts(
      naiveFailureAlerts(events, LEARN_END, 10).map((a) => ({ ...a, detectorId: id })),
      labels,
    );
    expect(id).toBe('naive-failures-10');
    expect(r.recall['password-spray']).toEqual({ total: 1, detected: 1, recall: 1 });
    expect(r.falseAlerts.noiseByCause).toEqual({ 'ssh-background-scan': 1 });
  });

  it('refuses a threshold that is not a positive integer', () => {
    expect(() => naiveFailureAlerts([], LEARN_END, 0)).toThrow(RangeError);
    expect(() => naiveFailureAlerts([], LEARN_END, 2.5)).toThrow(RangeError);
    expect(() => naiveFailureAlerts([], LEARN_END, 10, 0)).toThrow(RangeError);
  });
});
