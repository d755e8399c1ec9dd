/**
 * Auth.HostileSource: the marks compiled into a matcher (core/hostile.ts), the detector on single logons, and the
 * pipeline: an alert marked malicious, then other users' logons from its source raise the high-severity alert,
 * whatever the allowlists say; taken back, they do not.
 */
import { describe, expect, it } from 'vitest';
import { emailText } from '../../../shared/core/alert-text';
import { hostileSource } from '../../../shared/core/detectors/hostile-source';
import { unusualSourceIp } from '../../../shared/core/detectors';
import { compileHostile, hostileCidrProblem } from '../../../shared/core/hostile';
import {
  DAY_MS,
  emptyPopulation,
  windowEndingAt,
  type HostileEntry,
  type LogonEvent,
} from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { allowCidr, allowUser, markMalicious, unmarkMalicious } from '../../../shared/feedback';
import { HOUR, T0, logon } from '../../support/history';
import { deps, ev, runSchedule } from '../../support/pipeline';

const MIN = 60_000;
const mark = (kind: HostileEntry['kind'], value: string, addedAt = T0, alertId = `a-${value}`): HostileEntry => ({
  kind,
  value,
  alertId,
  addedAt,
});
const owner = { asn: 64500, org: 'EXAMPLE-HOSTING', country: 'NL' };

describe('compileHostile', () => {
  const m = compileHostile([
    mark('asn', '64500'),
    mark('cidr', '203.0.0.0/16'),
    mark('cidr', '203.0.113.0/24'),
    mark('ip', '203.0.113.7'),
    mark('ip', '2001:db8::7', T0 + DAY_MS),
  ]);

  it('finds the most specific mark: the address, then the longest range, then the AS', () => {
    expect(m.size).toBe(5);
    expect(m.match('203.0.113.7', owner, T0)?.value).toBe('203.0.113.7');
    expect(m.match('203.0.113.8', owner, T0)?.value).toBe('203.0.113.0/24');
    expect(m.match('203.0.9.8', owner, T0)?.value).toBe('203.0.0.0/16');
    expect(m.match('198.51.100.1', owner, T0)?.value).toBe('64500');
    expect(m.match('198.51.100.1', undefined, T0)).toBeUndefined();
    expect(m.match('198.51.100.1', { ...owner, asn: 64501 }, T0)).toBeUndefined();
  });

  it('judges only logons from the time of the mark on, and any spelling of an address', () => {
    expect(m.match('2001:db8:0:0::7', undefined, T0 + DAY_MS)?.value).toBe('2001:db8::7');
    expect(m.match('2001:db8::7', undefined, T0 + DAY_MS - 1)).toBeUndefined();
    // The address's own mark is not yet made; the range's is.
    const later = compileHostile([mark('ip', '203.0.113.7', T0 + HOUR), mark('cidr', '203.0.113.0/24', T0)]);
    expect(later.match('203.0.113.7', undefined, T0)?.kind).toBe('cidr');
  });

  it('names the first mark of a source when there are several', () => {
    const two = compileHostile([
      mark('ip', '203.0.113.7', T0 + HOUR, 'second'),
      mark('ip', '203.0.113.7', T0, 'first'),
    ]);
    expect(two.match('203.0.113.7', undefined, T0 + 2 * HOUR)?.alertId).toBe('first');
  });

  it('skips marks a hand edit broke or widened, never matching everyone', () => {
    const broken = compileHostile([
      mark('cidr', '0.0.0.0/0'),
      mark('cidr', '10.0.0.0/8'),
      mark('cidr', '2001:db8::/31'),
      mark('ip', 'office'),
      mark('asn', 'AS-1'),
    ]);
    expect(broken.size).toBe(0);
    expect(broken.match('10.1.2.3', owner, T0 + DAY_MS)).toBeUndefined();
  });

  it('refuses ranges shorter than /16 (IPv6 /32) with the allowlist rule first', () => {
    expect(hostileCidrProblem('203.0.113.0/24')).toBeUndefined();
    expect(hostileCidrProblem('203.0.0.0/16')).toBeUndefined();
    expect(hostileCidrProblem('203.0.0.0/15')).toMatch(/too broad to mark malicious: shorter than \/16/);
    expect(hostileCidrProblem('2001:db8::/32')).toBeUndefined();
    expect(hostileCidrProblem('0.0.0.0/0')).toMatch(/every address/);
    expect(hostileCidrProblem('office')).toMatch(/is not a CIDR/);
  });
});

describe('Auth.HostileSource', () => {
  const t = T0 + 2 * DAY_MS + 8 * HOUR;
  const judge = (ip: string, hostile: HostileEntry[] | undefined, overrides = {}) =>
    hostileSource.evaluate({
      observation: logon('bob', ip, t, overrides),
      baseline: undefined,
      population: emptyPopulation(),
      window: windowEndingAt(t + 15 * MIN),
      settings: DEFAULT_SETTINGS,
      ...(hostile ? { hostile: compileHostile(hostile) } : {}),
    });

  it('raises a logon from a marked address, naming the mark, its alert and note, above any threshold', () => {
    const f = judge('203.0.113.7', [
      { ...mark('ip', '203.0.113.7', T0, 'unusualsourceip-abc'), note: 'credential stuffing' },
    ]);
    expect(f).not.toBeNull();
    expect(f!.score).toBe(100);
    expect(f!.explanation).toBe(
      "203.0.113.7 was marked malicious by an analyst on 2026-03-02 (alert unusualsourceip-abc: 'credential stuffing'); bob logged on from it at 2026-03-04 08:00 UTC. A mark outranks the allowlists.",
    );
    expect(f!.evidence).toMatchObject({
      marked_source: '203.0.113.7',
      marked_kind: 'address',
      marked_by_alert: 'unusualsourceip-abc',
      marked_note: 'credential stuffing',
      logon_at: new Date(t).toISOString(),
    });
  });

  it('names the range or the network the address is in', () => {
    expect(judge('203.0.113.9', [mark('cidr', '203.0.113.0/24')])!.explanation).toMatch(
      /^the range 203\.0\.113\.0\/24 \(which holds 203\.0\.113\.9\) was marked/,
    );
    const byOwner = judge('198.51.100.4', [mark('asn', '64500')], { owner });
    expect(byOwner!.explanation).toMatch(
      /^the network AS64500 EXAMPLE-HOSTING, NL \(which announces 198\.51\.100\.4\)/,
    );
    expect(byOwner!.evidence.marked_source).toBe('AS64500');
  });

  it('raises nothing without marks, for other sources, for failures, or for logons before the mark', () => {
    expect(judge('203.0.113.7', undefined)).toBeNull();
    expect(judge('203.0.113.8', [mark('ip', '203.0.113.7')])).toBeNull();
    expect(judge('203.0.113.7', [mark('ip', '203.0.113.7')], { outcome: 'failure' })).toBeNull();
    expect(judge('203.0.113.7', [mark('ip', '203.0.113.7', t + 1)])).toBeNull();
  });

  it('raises a window whose logons began before the mark and went on after it, naming the later logon', () => {
    const f = judge('203.0.113.7', [mark('ip', '203.0.113.7', t + 5 * MIN)], { lastSeen: t + 10 * MIN, count: 3 });
    expect(f!.evidence.logon_at).toBe(new Date(t + 10 * MIN).toISOString());
    expect(f!.explanation).toContain('at 2026-03-04 08:10 UTC (3 logons in this window)');
  });

  it('says how to take the mark back, and that the allowlists do not silence it', () => {
    const f = judge('203.0.113.7', [mark('ip', '203.0.113.7', T0, 'unusualsourceip-abc')])!;
    const hints = hostileSource.silence(
      { user: 'bob', sourceIp: '203.0.113.7', alertId: 'x', at: t, evidence: f.evidence },
      {
        benign: () => '',
        allowCidr: () => '',
        allowAsn: () => '',
        allowCountry: () => '',
        allowUser: () => '',
        unmark: (target) => `unmark ${target}`,
        malicious: () => '',
        threshold: () => 'threshold',
      },
    );
    expect(hints[0]).toContain('unmark unusualsourceip-abc');
  });
});

describe('Auth.HostileSource in the pipeline', () => {
  const day5 = T0 + 5 * DAY_MS;
  const attacker = '203.0.113.7';

  /** Three people at home every working hour for six days; alice's credential used from 203.0.113.7 on day 5. */
  function events(): LogonEvent[] {
    const out: LogonEvent[] = [];
    const homes: Record<string, string> = { alice: '81.2.69.10', bob: '81.2.70.10', carol: '81.2.71.10' };
    for (let d = 0; d < 6; d++)
      for (const [u, ip] of Object.entries(homes))
        for (let h = 8; h <= 17; h++) out.push(ev(u, ip, T0 + d * DAY_MS + h * HOUR + 7 * MIN));
    out.push(ev('alice', attacker, day5 + 10 * HOUR));
    out.push(ev('bob', attacker, day5 + 14 * HOUR));
    out.push(ev('carol', attacker, day5 + 15 * HOUR + 20 * MIN));
    return out.sort((a, b) => a.timestamp - b.timestamp);
  }

  it('after an alert is marked malicious, a different user logging on from it raises a high-severity alert, allowlisted or not; unmarked, nothing', async () => {
    const { d, store, sink } = deps(events(), { settings: { learningDays: 2 } });
    await runSchedule(d, T0 + 15 * MIN, day5 + 10 * HOUR + 15 * MIN);
    const stolen = sink.delivered.find((a) => a.user.name === 'alice' && a.source.ip === attacker);
    expect(stolen?.rule.id).toBe(unusualSourceIp.id);

    // The analyst marks it at 10:20; bob's own logons from the range are allowlisted (a per-user entry), and bob is
    // on the user allowlist too: neither silences a mark.
    await markMalicious(store, stolen!.id, {
      scope: { kind: 'ip' },
      note: 'credential stuffing',
      now: day5 + 10 * HOUR + 20 * MIN,
    });
    await allowCidr(store, '203.0.113.0/24', { user: 'bob', now: day5 });
    await allowUser(store, 'bob', { now: day5 });
    const before = sink.delivered.length;
    await runSchedule(d, day5 + 10 * HOUR + 30 * MIN, day5 + 14 * HOUR + 30 * MIN);
    const raised = sink.delivered.slice(before);
    // alice's 10:00 logon, read again by the 10:30 window, was before the mark: not raised again.
    expect(raised.map((a) => `${a.rule.id} ${a.user.name}`)).toEqual([`${hostileSource.id} bob`]);
    const a = raised[0]!;
    expect(a.rule.severity).toBe('high');
    expect(a.rule.risk_score).toBe(73);
    expect(a.score).toBe(100);
    expect(a.source.ip).toBe(attacker);
    expect(a.explanation).toContain(
      `203.0.113.7 was marked malicious by an analyst on 2026-03-07 (alert ${stolen!.id}: 'credential stuffing'); bob logged on from it at 2026-03-07 14:00 UTC`,
    );
    expect(a.silence.join('\n')).toContain(`unmark ${stolen!.id}`);
    expect(emailText(a)).toContain('Marked from the alert');

    // Taken back: carol's logon from it is judged as any other (a new network for her), not as hostile.
    expect((await unmarkMalicious(store, stolen!.id)).changed).toBe(true);
    const later = sink.delivered.length;
    await runSchedule(d, day5 + 14 * HOUR + 45 * MIN, day5 + 16 * HOUR);
    expect(sink.delivered.slice(later).map((x) => `${x.rule.id} ${x.user.name}`)).toEqual([
      `${unusualSourceIp.id} carol`,
    ]);
  }, 60_000);
});
