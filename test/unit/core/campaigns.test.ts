import { describe, expect, it } from 'vitest';
import { alertId, rankAlerts } from '../../../shared/core/alerts';
import { foldSameLogon, isCampaign, linkCampaigns } from '../../../shared/core/campaigns';
import { DETECTORS } from '../../../shared/core/detectors';
import { DAY_MS, type Alert, type LogonObservation } from '../../../shared/core/model';
import { failureTargets } from '../../../shared/core/failures';
import { makeAlert } from '../../support/alerts';

const T = Date.UTC(2026, 2, 20, 10, 0);

function obs(user: string, ip: string, outcome: 'success' | 'failure', count = 1, t = T): LogonObservation {
  return { user, sourceIp: ip, outcome, count, firstSeen: t, lastSeen: t, hosts: [], methods: [], logSource: 'ecs' };
}

/** A campaign alert about `source` naming `users`, as a window detector's finding becomes one. */
function campaign(source: string, users: string[], id = `camp-${source}`): Alert {
  const base = makeAlert({ detector: 'ip', user: '', ip: source.startsWith('AS') ? '198.51.100.1' : source });
  return {
    ...base,
    id,
    user: { name: '' },
    related: { user: users },
    campaign: { source, users: users.map((name) => ({ name, failures: 3, successes: 0, known: true })) },
  };
}

function withSeverity(a: Alert, severity: Alert['rule']['severity']): Alert {
  return { ...a, rule: { ...a.rule, severity } };
}

describe('failure targets', () => {
  it('are the users failures named who did not log on, most failed first, bounded, with the rest counted', () => {
    const o = [
      obs('alice', '203.0.113.9', 'failure', 2),
      obs('bob', '203.0.113.9', 'failure', 5),
      obs('carol', '203.0.113.9', 'failure', 1),
      obs('carol', '203.0.113.10', 'failure', 6),
      obs('dave', '203.0.113.9', 'failure', 9),
      obs('dave', '203.0.113.9', 'success', 1),
    ];
    expect(failureTargets(o, new Set(['dave']), 10)).toEqual({ names: ['carol', 'bob', 'alice'], notRead: 0 });
    expect(failureTargets(o, new Set(['dave']), 2)).toEqual({ names: ['carol', 'bob'], notRead: 1 });
    expect(
      failureTargets([obs('x', '1.2.3.4', 'failure'), obs('a', '1.2.3.4', 'failure')], new Set(), 5).names,
    ).toEqual(['a', 'x']);
  });
});

describe('alert ids of sources', () => {
  const source = { id: DETECTORS[0].id, groupBy: 'source' } as const;
  const f = (ip: string, t: number, sourceKey?: string) => ({
    user: '',
    sourceIp: ip,
    observation: obs('', ip, 'failure', 1, t),
    ...(sourceKey ? { sourceKey } : {}),
  });

  it('are one per source per UTC day, whatever the window', () => {
    expect(alertId(source, f('203.0.113.9', T))).toBe(alertId(source, f('203.0.113.9', T + 6 * 3_600_000)));
    expect(alertId(source, f('203.0.113.9', T))).not.toBe(alertId(source, f('203.0.113.9', T + DAY_MS)));
    expect(alertId(source, f('203.0.113.9', T))).not.toBe(alertId(source, f('203.0.113.10', T)));
  });

  it('follow the source key when the source is a network owner, and never equal a user-keyed id', () => {
    expect(alertId(source, f('203.0.113.9', T, 'AS64500'))).toBe(alertId(source, f('198.51.100.4', T, 'AS64500')));
    const byUser = { id: DETECTORS[0].id, groupBy: 'user' } as const;
    expect(alertId(byUser, { ...f('203.0.113.9', T), user: 'source:203.0.113.9' })).not.toBe(
      alertId(source, f('203.0.113.9', T)),
    );
  });
});

describe('campaigns, not floods', () => {
  it('fold the low per-user alerts of the campaign source into it, and link those rated higher', () => {
    const c = campaign('203.0.113.9', ['alice', 'bob', 'carol']);
    const alice = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    const bob = withSeverity(makeAlert({ detector: 'ip', user: 'bob', ip: '203.0.113.9' }), 'high');
    const elsewhere = makeAlert({ detector: 'ip', user: 'carol', ip: '198.51.100.7' });
    const stranger = makeAlert({ detector: 'ip', user: 'zed', ip: '203.0.113.9' });
    const r = linkCampaigns([alice, bob, elsewhere, stranger, c], [c], new Set());
    expect(r.folded.map((a) => [a.id, a.campaign?.of])).toEqual([[alice.id, c.id]]);
    const delivered = new Map(r.deliver.map((a) => [a.id, a]));
    expect([...delivered.keys()].sort()).toEqual([bob.id, elsewhere.id, stranger.id, c.id].sort());
    expect(delivered.get(c.id)!.campaign).toMatchObject({ folded: [alice.id], linked: [bob.id] });
    expect(delivered.get(bob.id)!.campaign).toEqual({ of: c.id });
    // Another address, or a user the campaign does not name, is not part of it.
    expect(delivered.get(elsewhere.id)!.campaign).toBeUndefined();
    expect(delivered.get(stranger.id)!.campaign).toBeUndefined();
  });

  it("fold a spike in the organisation's logons whose busiest address is the campaign's", () => {
    const c = campaign('203.0.113.9', ['alice']);
    const spike: Alert = { ...makeAlert({ detector: 'ip', user: '', ip: '203.0.113.9' }), id: 'spike' };
    const elsewhere: Alert = { ...spike, id: 'spike-2', source: { ip: '198.51.100.7' } };
    const r = linkCampaigns([spike, elsewhere, c], [c], new Set());
    expect(r.folded.map((a) => [a.id, a.campaign?.of])).toEqual([['spike', c.id]]);
    expect(r.deliver.map((a) => a.id).sort()).toEqual([c.id, 'spike-2'].sort());
  });

  it('match any address of the owner for a campaign about a network owner', () => {
    const c = campaign('AS64500', ['alice']);
    const a = makeAlert({ detector: 'ip', user: 'alice', ip: '192.0.2.44' });
    const owned: Alert = { ...a, source: { ip: '192.0.2.44', as: { number: 64500 } } };
    const other: Alert = { ...a, id: 'other', source: { ip: '192.0.2.45', as: { number: 64501 } } };
    const r = linkCampaigns([owned, other, c], [c], new Set());
    expect(r.folded.map((x) => x.id)).toEqual([owned.id]);
    expect(r.deliver.map((x) => x.id).sort()).toEqual([c.id, 'other'].sort());
  });

  it('deliver the per-user alerts of a campaign raised in an earlier window, each saying it belongs to it', () => {
    const c = campaign('203.0.113.9', ['alice']);
    const alice = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    const r = linkCampaigns([alice], [c], new Set([c.id]));
    expect(r.folded).toEqual([]);
    expect(r.deliver).toEqual([{ ...alice, campaign: { of: c.id } }]);
  });

  it('leave everything as it is without a campaign', () => {
    const alice = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    expect(linkCampaigns([alice], [], new Set())).toEqual({ deliver: [alice], folded: [] });
  });

  it('rank before any per-user alert, so the cap counts them first and the digest leads with them', () => {
    const c = { ...campaign('203.0.113.9', ['alice']), score: 76 };
    const high = { ...makeAlert({ detector: 'ip', user: 'bob', ip: '198.51.100.7' }), score: 99 };
    expect(rankAlerts([high, c]).map((a) => a.id)).toEqual([c.id, high.id]);
    expect(isCampaign(c)).toBe(true);
    expect(isCampaign(high)).toBe(false);
  });
});

describe('one message per logon', () => {
  it('folds the low alerts on the same user and address into the strongest one, which lists them', () => {
    const ip = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    const hour: Alert = { ...ip, id: 'hour-1', score: 99 };
    const brute = withSeverity({ ...ip, id: 'brute-1', score: 80 }, 'high');
    const travel = withSeverity({ ...ip, id: 'travel-1', score: 95 }, 'medium');
    const other = { ...makeAlert({ detector: 'ip', user: 'alice', ip: '198.51.100.7' }), id: 'elsewhere' };
    const r = foldSameLogon([ip, hour, brute, travel, other]);
    // The high one is kept (severity before score); the low ones fold into it; medium stays, as does another address.
    expect(r.deliver.map((a) => a.id).sort()).toEqual(['brute-1', 'elsewhere', 'travel-1'].sort());
    expect([...(r.deliver.find((a) => a.id === 'brute-1')!.campaign?.folded ?? [])].sort()).toEqual(
      [ip.id, 'hour-1'].sort(),
    );
    expect(r.folded.map((f) => [f.alert.id, f.into]).sort()).toEqual(
      [
        [ip.id, 'brute-1'],
        ['hour-1', 'brute-1'],
      ].sort(),
    );
  });

  it('leaves two low alerts on one logon, and alerts about a source or a period, as they are', () => {
    const ip = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    const hour: Alert = { ...ip, id: 'hour-1' };
    const c = withSeverity(campaign('203.0.113.9', ['alice']), 'high');
    const period: Alert = withSeverity({ ...ip, id: 'period', user: { name: '' } }, 'high');
    expect(foldSameLogon([ip, hour, c, period])).toEqual({ deliver: [ip, hour, c, period], folded: [] });
  });
});
