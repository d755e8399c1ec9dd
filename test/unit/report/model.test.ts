import { describe, expect, it } from 'vitest';
import { DAY_MS, type LogonEvent, type SeenStats, type UserBaseline } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import {
  alertReport,
  alertViews,
  FindingTally,
  MAX_ADDRESS_ROWS,
  MAX_USER_PANELS,
  scoreHistograms,
  userPanels,
  type ReportDetector,
} from '../../../cli/report/model';
import { ALERT_T, makeAlert } from '../../support/alerts';

const XSS = '</script><img src=x onerror=alert(1)>';

function seen(first: number, last: number, days = 3): SeenStats {
  return { first, last, buckets: 4, lastBucket: 0, days, lastDay: 0 };
}

function baseline(user: string, over: Partial<UserBaseline> = {}): UserBaseline {
  const T = ALERT_T - 10 * DAY_MS;
  return {
    user,
    activity: seen(T, ALERT_T),
    ips: { '192.0.2.10': seen(T, ALERT_T - DAY_MS, 9) },
    prefixes: {},
    networks: { '192.0.0.0/16': seen(T, ALERT_T - DAY_MS) },
    novelty: { periods: 10, ip: 1, prefix: 0, network: 0 },
    owners: { AS64496: seen(T, ALERT_T - DAY_MS) },
    countries: { NL: seen(T, ALERT_T - DAY_MS) },
    version: 1,
    ...over,
  };
}

const logon = (user: string, ip: string, t: number, outcome: 'success' | 'failure' = 'success'): LogonEvent => ({
  timestamp: t,
  user,
  sourceIp: ip,
  outcome,
  logSource: 'sshd',
});

describe('alertViews', () => {
  it('orders alerts by logon time and makes every logged value single-line and bounded', () => {
    const late = makeAlert({ user: 'bob', ip: '198.51.100.7' });
    const early = {
      ...makeAlert({ user: `eve\u202e\nx${'y'.repeat(500)}` }),
      '@timestamp': '2026-03-01T00:00:00.000Z',
    };
    const v = alertViews([late, early], (a) => (a.user.name === 'bob' ? 'on an attack' : undefined));
    expect(v.map((a) => a.user.slice(0, 3))).toEqual(['eve', 'bob']);
    expect(v[0]!.user).not.toMatch(/[\n\u202e]/);
    expect(v[0]!.user.length).toBeLessThanOrEqual(80);
    expect(v[1]!.note).toBe('on an attack');
    expect(v[0]!.note).toBe('');
  });

  it('names an alert about a source by its source, and the owner from the document', () => {
    const a = makeAlert({ owner: { asn: 64496, org: 'EXAMPLE-CORP', country: 'NL' } });
    const campaign = { ...a, user: { name: '' }, campaign: { source: 'AS64511', users: [] } };
    const [v] = alertViews([campaign]);
    expect(v!.subject).toBe('source AS64511');
    expect(v!.owner).toBe('AS64496 EXAMPLE-CORP');
    expect(v!.country).toBe('NL');
  });
});

describe('FindingTally and scoreHistograms', () => {
  const f = (score: number, firstSeen: number, user = 'alice') => ({
    detectorId: 'Auth.RareUser',
    score,
    user,
    sourceIp: '192.0.2.1',
    observation: { firstSeen },
  });

  it('counts a logon judged by two overlapping windows once, with its higher score', () => {
    const t = new FindingTally();
    t.add(f(40, ALERT_T));
    t.add(f(60, ALERT_T + 60_000)); // same 15-minute period: the same logon seen again
    t.add(f(90, ALERT_T + 3_600_000)); // a later logon
    expect(t.scores().get('Auth.RareUser')!.sort()).toEqual([60, 90]);
  });

  it('splits each detector’s scores into bins below and at-or-above its own threshold', () => {
    const detectors: ReportDetector[] = [
      { id: 'Auth.RareUser', label: 'Rare user', threshold: 72 },
      { id: 'Auth.UnusualHour', label: 'Unusual hour', threshold: 75 },
    ];
    const [h, ...rest] = scoreHistograms(detectors, new Map([['Auth.RareUser', [0, 71.9, 72, 74, 100]]]), 'findings');
    expect(rest).toEqual([]); // no scores: no chart
    expect(h!.bins).toHaveLength(20);
    expect(h!.below[0]).toBe(1);
    expect(h!.below[14]).toBe(1); // 71.9 in 70–74, below 72
    expect(h!.atOrAbove[14]).toBe(2); // 72 and 74
    expect(h!.atOrAbove[19]).toBe(1); // 100 in the last bin
    expect(h!.below.reduce((a, b) => a + b) + h!.atOrAbove.reduce((a, b) => a + b)).toBe(5);
  });
});

describe('userPanels', () => {
  const settings = DEFAULT_SETTINGS;

  it('lists the alerted address first (not learned: the alert left it suspect), with the owner and country rows it marks', () => {
    const a = makeAlert({
      user: 'alice',
      ip: '203.0.113.9',
      owner: { asn: 64498, org: 'EXAMPLE-HOSTING', country: 'US' },
    });
    const b = baseline('alice', {
      owners: { AS64496: seen(0, 1), AS64498: seen(2, 3) },
      countries: { NL: seen(0, 1), US: seen(2, 3) },
    });
    const { panels } = userPanels({ alerts: [a], baselines: new Map([['alice', b]]), settings });
    const p = panels[0]!;
    const labels = p.places.map((r) => r.label);
    expect(labels).toContain('203.0.113.9 · AS64498 EXAMPLE-HOSTING · US');
    const alerted = p.places.find((r) => r.label.startsWith('203.0.113.9'))!;
    expect(alerted.note).toBe('not learned (alerted)');
    expect(alerted.days).toBeUndefined();
    const marked = p.alerts[0]!.rows.map((i) => p.places[i]!.label);
    expect(marked).toEqual(['203.0.113.9 · AS64498 EXAMPLE-HOSTING · US', 'AS64498 EXAMPLE-HOSTING', 'US']);
    expect(p.places.find((r) => r.label === '192.0.2.10')!.days).toBe(9);
  });

  it('draws replayed logons on their address rows and says how many it left out', () => {
    const a = makeAlert({ user: 'alice', ip: '203.0.113.9' });
    const logons = [
      logon('alice', '192.0.2.10', ALERT_T - DAY_MS),
      logon('alice', '203.0.113.9', ALERT_T - 60_000, 'failure'),
      logon('alice', '203.0.113.9', ALERT_T),
      logon('bob', '192.0.2.10', ALERT_T), // another user's
    ];
    const { panels } = userPanels({ alerts: [a], baselines: new Map(), logons, settings });
    const p = panels[0]!;
    expect(p.logons.map((l) => [l[0], l[2]])).toEqual([
      [ALERT_T - 60_000, 0],
      [ALERT_T, 1],
    ]);
    // Without a baseline, the alerted address's span comes from its logons.
    const row = p.places.find((r) => r.label === '203.0.113.9')!;
    expect([row.first, row.last]).toEqual([ALERT_T - 60_000, ALERT_T]);
    expect(p.logonsNotShown).toBe(1); // 192.0.2.10 has no row: no baseline holds it, no alert names it
  });

  it('bounds the addresses per panel and the panels per page, highest score first', () => {
    const ips = Object.fromEntries(
      Array.from({ length: MAX_ADDRESS_ROWS + 5 }, (_, i) => [`192.0.2.${i + 20}`, seen(i, ALERT_T - i)]),
    );
    const alerts = Array.from({ length: MAX_USER_PANELS + 2 }, (_, i) => makeAlert({ user: `u${i}`, score: 50 + i }));
    const { panels, notShown } = userPanels({
      alerts,
      baselines: new Map([['u0', baseline('u0', { ips })]]),
      settings,
    });
    expect(panels).toHaveLength(MAX_USER_PANELS);
    expect(notShown).toBe(2);
    expect(panels[0]!.user).toBe(`u${MAX_USER_PANELS + 1}`);
    expect(panels.some((p) => p.user === 'u0')).toBe(false); // the two lowest scores get no panel
    const { panels: one } = userPanels({
      alerts: [alerts[0]!],
      baselines: new Map([['u0', baseline('u0', { ips })]]),
      settings,
    });
    expect(one[0]!.places.filter((r) => r.kind === 'address')).toHaveLength(MAX_ADDRESS_ROWS);
    expect(one[0]!.addressesNotShown).toBe(6); // 17 learned + the alerted one, 12 shown
  });

  it('takes the hours the baseline learned and places each alerted logon at its local hour', () => {
    const weekday = Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 18 ? 5 : 0));
    const b = baseline('alice', {
      detectorState: {
        hour: { zone: 'Europe/Amsterdam', weekday, weekend: Array(24).fill(0), at: 1, first: 1, recent: [] },
      },
    });
    const { panels } = userPanels({ alerts: [makeAlert()], baselines: new Map([['alice', b]]), settings });
    expect(panels[0]!.hours?.weekday).toEqual(weekday);
    expect(panels[0]!.zone).toBe('Europe/Amsterdam');
    // 2026-03-20 09:40Z (the logon, 20 minutes before the window's end) is 10:40 in Amsterdam (CET).
    expect(panels[0]!.alertHours).toEqual([10]);
  });

  it('skips an alert about a source (its users were the targets) and a broken hours slice', () => {
    const campaign = { ...makeAlert(), user: { name: '' } };
    const b = baseline('bob', { detectorState: { hour: { zone: 'UTC', weekday: [1] } } });
    const { panels } = userPanels({
      alerts: [campaign, makeAlert({ user: 'bob' })],
      baselines: new Map([['bob', b]]),
      settings,
    });
    expect(panels.map((p) => p.user)).toEqual(['bob']);
    expect(panels[0]!.hours).toBeUndefined();
    expect(panels[0]!.zone).toBe('UTC');
  });
});

describe('alertReport', () => {
  it('counts findings when a replay gave them, else the alerts, and keeps untrusted names bounded text', () => {
    const a = makeAlert({ user: XSS, score: 88 });
    const m = alertReport({
      title: 't',
      source: `replay of ${XSS}`,
      summary: [['alerts', '1']],
      thresholds: DEFAULT_SETTINGS.thresholds,
      alerts: [a],
      baselines: new Map(),
      settings: DEFAULT_SETTINGS,
    });
    expect(m.scores.map((s) => [s.detectorId, s.counted])).toEqual([['Auth.RareUser', 'alerts']]);
    expect(m.users[0]!.user).toBe(XSS); // text; html.ts escapes it
    const tally = new FindingTally();
    tally.add({
      detectorId: 'Auth.UnusualHour',
      score: 20,
      user: 'x',
      sourceIp: '192.0.2.1',
      observation: { firstSeen: 0 },
    });
    const r = alertReport({
      title: 't',
      source: 's',
      summary: [],
      thresholds: DEFAULT_SETTINGS.thresholds,
      findings: tally,
      alerts: [a],
      baselines: new Map(),
      settings: DEFAULT_SETTINGS,
    });
    expect(r.scores.map((s) => [s.detectorId, s.counted, s.below[4]])).toEqual([['Auth.UnusualHour', 'findings', 1]]);
  });
});

describe('userPanels without owners', () => {
  it('lists the /16 networks the baseline learned, and marks the one the alerted address is in', () => {
    const a = makeAlert({ user: 'alice', ip: '192.0.77.5' });
    const b = baseline('alice', { owners: {}, countries: {} });
    const { panels } = userPanels({ alerts: [a], baselines: new Map([['alice', b]]), settings: DEFAULT_SETTINGS });
    const p = panels[0]!;
    expect(p.places.map((r) => [r.kind, r.label])).toEqual([
      ['network', '192.0.0.0/16'],
      ['address', '192.0.77.5'],
      ['address', '192.0.2.10'],
    ]);
    expect(p.alerts[0]!.rows.map((i) => p.places[i]!.label)).toEqual(['192.0.77.5', '192.0.0.0/16']);
  });
});
