/**
 * The `internet-facing` shape: its campaigns of failed logons are in the events as labelled (which real users, from
 * which addresses, the successes), its benign failures too, and it is deterministic per seed.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LogonEvent } from '../../../shared/core/model';
import {
  CAMPAIGN_KINDS,
  generateScenario,
  scenarioLabels,
  type Incident,
  type IncidentKind,
  type Scenario,
} from '../../../cli/scenario/generate';
import {
  BRUTE_FORCE_FAILURES,
  LOW_SLOW_HOURS,
  LOW_SLOW_USERS_PER_HOUR,
  SPRAY_SUCCESSES,
  SPRAY_TARGETS,
} from '../../../cli/scenario/campaigns';
import { naiveFailureAlerts } from '../../../cli/scenario/naive';
import { homeIspOwner } from '../../../cli/scenario/network';
import { SCANNER_NAMES } from '../../../cli/scenario/shapes';

const HOUR = 3_600_000;
const MIN = 60_000;
const SEEDS = [1, 2] as const;
const cache = new Map<number, Scenario>();
function scenario(seed: number): Scenario {
  let s = cache.get(seed);
  if (!s) cache.set(seed, (s = generateScenario({ seed, shape: 'internet-facing' })));
  return s;
}

function sha256(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

function ofKind(s: Scenario, kind: IncidentKind): Incident[] {
  return s.incidents.filter((i) => i.kind === kind);
}

/** The events of a campaign: from its addresses, as the users it tried, inside its span. */
function campaignEvents(s: Scenario, i: Incident): LogonEvent[] {
  const pairs = new Set((i.targets ?? []).map((t) => `${t.user}\u0000${t.sourceIp}`));
  return s.events.filter(
    (e) => pairs.has(`${e.user}\u0000${e.sourceIp}`) && e.timestamp >= i.start && e.timestamp <= i.end,
  );
}

function humans(s: Scenario): Set<string> {
  return new Set(s.users.filter((u) => u.archetype !== 'service').map((u) => u.name));
}

describe('internet-facing: determinism', () => {
  it('gives byte-identical events and labels for the same seed, and other ones for another seed', () => {
    // Prepare / Act
    const again = generateScenario({ seed: 1, shape: 'internet-facing' });

    // Assert
    expect(sha256(again.events)).toBe(sha256(scenario(1).events));
    expect(sha256(scenarioLabels(again))).toBe(sha256(scenarioLabels(scenario(1))));
    expect(sha256(scenario(2).events)).not.toBe(sha256(scenario(1).events));
  });
});

describe.each(SEEDS)('internet-facing #%i: the campaigns are in the events as labelled', (seed) => {
  const s = scenario(seed);

  it('has the campaign kinds only, every one after learning, with the owners of its addresses', () => {
    expect(s.incidents.map((i) => i.kind).sort()).toEqual(
      [
        'brute-force-success',
        'brute-force-success',
        'credential-stuffing',
        'low-slow-spray',
        'password-spray',
        'password-spray',
      ].sort(),
    );
    for (const i of s.incidents) {
      expect(CAMPAIGN_KINDS.has(i.kind)).toBe(true);
      expect(i.start).toBeGreaterThanOrEqual(s.meta.learningEnd);
      expect(i.sourceOwners?.length).toBeGreaterThan(0);
      for (const o of i.sourceOwners ?? []) expect(o).toMatch(/^AS\d+$/);
      // Its counts are the events': failures and successes of its accounts from their addresses.
      const events = campaignEvents(s, i);
      expect(events.filter((e) => e.outcome === 'failure')).toHaveLength(i.failedAttempts);
      expect(events.filter((e) => e.outcome === 'success')).toHaveLength(i.logons);
    }
  });

  it('password spray: one new address against ~80 distinct real users in 30–60 minutes, two of them taken', () => {
    for (const i of ofKind(s, 'password-spray')) {
      const fromIp = s.events.filter((e) => e.sourceIp === i.sourceIp);
      const tried = new Set(fromIp.map((e) => e.user));
      expect(tried.size).toBeGreaterThanOrEqual(SPRAY_TARGETS[0]);
      expect(tried.size).toBeLessThanOrEqual(SPRAY_TARGETS[1]);
      expect([...tried].every((u) => humans(s).has(u))).toBe(true);
      expect(i.targets!.map((t) => t.user).sort()).toEqual([...tried].sort());
      expect(fromIp[0]!.timestamp).toBe(i.start);
      expect(s.events.some((e) => e.sourceIp === i.sourceIp && e.timestamp < s.meta.learningEnd)).toBe(false);
      const span = fromIp[fromIp.length - 1]!.timestamp - fromIp[0]!.timestamp;
      expect(span).toBeGreaterThanOrEqual(25 * MIN);
      expect(span).toBeLessThanOrEqual(60 * MIN);
      // A few failures each.
      for (const u of tried) {
        const n = fromIp.filter((e) => e.user === u && e.outcome === 'failure').length;
        expect(n).toBeLessThanOrEqual(4);
      }
      // Exactly two successes, the labelled ones, each the last attempt on its account.
      const successes = fromIp.filter((e) => e.outcome === 'success');
      expect(successes).toHaveLength(SPRAY_SUCCESSES);
      expect(successes.map((e) => e.user).sort()).toEqual(
        i
          .targets!.filter((t) => t.compromised)
          .map((t) => t.user)
          .sort(),
      );
      expect(successes.map((e) => e.user)).toContain(i.user);
      for (const w of successes) {
        const last = fromIp.filter((e) => e.user === w.user).at(-1)!;
        expect(last).toBe(w);
      }
    }
  });

  it('low-and-slow spray: one address, a handful of real users an hour for two days, at most one success', () => {
    const [i] = ofKind(s, 'low-slow-spray');
    const fromIp = s.events.filter((e) => e.sourceIp === i!.sourceIp);
    expect(fromIp.at(-1)!.timestamp - fromIp[0]!.timestamp).toBeGreaterThan((LOW_SLOW_HOURS - 2) * HOUR);
    expect(fromIp.at(-1)!.timestamp - fromIp[0]!.timestamp).toBeLessThanOrEqual(LOW_SLOW_HOURS * HOUR);
    expect(fromIp.filter((e) => e.outcome === 'success').length).toBeLessThanOrEqual(1);
    expect(new Set(fromIp.map((e) => e.user)).size).toBeGreaterThan(60);
    // A handful an hour: any hour overlaps at most two of the campaign's, and one or two tries per user.
    for (let from = i!.start; from < i!.end; from += HOUR) {
      const hour = fromIp.filter((e) => e.timestamp >= from && e.timestamp < from + HOUR);
      expect(new Set(hour.map((e) => e.user)).size).toBeLessThanOrEqual(2 * LOW_SLOW_USERS_PER_HOUR[1]);
    }
    expect(fromIp.length).toBeGreaterThanOrEqual(LOW_SLOW_HOURS * LOW_SLOW_USERS_PER_HOUR[0]);
    expect(fromIp.length).toBeLessThanOrEqual(LOW_SLOW_HOURS * LOW_SLOW_USERS_PER_HOUR[1] * 2);
    // Under the naive rule's higher threshold in every UTC hour.
    expect(naiveFailureAlerts(fromIp, s.meta.learningEnd, 20)).toEqual([]);
  });

  it('credential stuffing: many addresses, one per user, 1–3 failures each, some then a success', () => {
    const [i] = ofKind(s, 'credential-stuffing');
    const targets = i!.targets!;
    expect(new Set(targets.map((t) => t.sourceIp)).size).toBe(targets.length);
    expect(targets.length).toBeGreaterThanOrEqual(30);
    for (const t of targets) {
      const fromIp = s.events.filter((e) => e.sourceIp === t.sourceIp);
      expect(new Set(fromIp.map((e) => e.user))).toEqual(new Set([t.user]));
      const failures = fromIp.filter((e) => e.outcome === 'failure');
      expect(failures.length).toBeGreaterThanOrEqual(1);
      expect(failures.length).toBeLessThanOrEqual(3);
      expect(fromIp.some((e) => e.outcome === 'success')).toBe(t.compromised);
      if (t.compromised) expect(fromIp.at(-1)!.outcome).toBe('success');
    }
    expect(targets.filter((t) => t.compromised).length).toBeGreaterThanOrEqual(2);
  });

  it('brute force that succeeds: dozens of failures for one user from one new address, then a success', () => {
    for (const i of ofKind(s, 'brute-force-success')) {
      const fromIp = s.events.filter((e) => e.sourceIp === i.sourceIp);
      expect(new Set(fromIp.map((e) => e.user))).toEqual(new Set([i.user]));
      const firstSuccess = fromIp.findIndex((e) => e.outcome === 'success');
      expect(firstSuccess).toBeGreaterThanOrEqual(BRUTE_FORCE_FAILURES[0]);
      expect(firstSuccess).toBeLessThanOrEqual(BRUTE_FORCE_FAILURES[1]);
      expect(fromIp.slice(0, firstSuccess).every((e) => e.outcome === 'failure')).toBe(true);
      expect(fromIp.slice(firstSuccess).every((e) => e.outcome === 'success')).toBe(true);
      expect(humans(s).has(i.user)).toBe(true);
    }
  });
});

describe('internet-facing: the benign failures are in the events as labelled', () => {
  const s = scenario(1);
  const labelsOf = (kind: string) => s.benignChanges.filter((l) => l.kind === kind);

  it('scanners every day, learning included, trying generic names and never getting in', () => {
    const scans = labelsOf('ssh-background-scan');
    expect(scans).toHaveLength(s.meta.days);
    const names = new Set<string>(['root', ...SCANNER_NAMES]);
    for (const l of scans) {
      expect(l.user).toBe('');
      const ips = new Set(l.sourceIps);
      const events = s.events.filter((e) => ips.has(e.sourceIp) && e.timestamp >= l.start && e.timestamp <= l.end);
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.outcome === 'failure' && names.has(e.user))).toBe(true);
    }
  });

  it('a service failing every few minutes, all day, from its own host', () => {
    const stale = labelsOf('stale-service-password');
    expect(stale).toHaveLength(2);
    for (const l of stale) {
      const failures = s.events.filter(
        (e) => e.user === l.user && e.outcome === 'failure' && e.timestamp >= l.start && e.timestamp <= l.end,
      );
      expect(failures.length).toBeGreaterThan((14 * 60) / 7);
      expect(failures.every((e) => e.sourceIp === l.sourceIps![0])).toBe(true);
      // Its own host: the address its scheduled jobs log on from.
      expect(s.events.some((e) => e.user === l.user && e.outcome === 'success' && e.sourceIp === l.sourceIps![0])).toBe(
        true,
      );
      for (let k = 1; k < failures.length; k++)
        expect(failures[k]!.timestamp - failures[k - 1]!.timestamp).toBeLessThanOrEqual(7 * MIN);
      expect(l.start).toBeGreaterThanOrEqual(s.meta.learningEnd);
    }
  });

  it('a mail client retrying an old password dozens of times from home, then succeeding', () => {
    const mail = labelsOf('mail-client-password-change');
    expect(mail).toHaveLength(3);
    for (const l of mail) {
      const ip = l.sourceIps![0]!;
      const mine = s.events.filter(
        (e) => e.user === l.user && e.sourceIp === ip && e.timestamp >= l.start && e.timestamp <= l.end,
      );
      const firstSuccess = mine.findIndex((e) => e.outcome === 'success');
      expect(firstSuccess).toBeGreaterThanOrEqual(24);
      expect(mine.slice(0, firstSuccess).every((e) => e.outcome === 'failure')).toBe(true);
      // Home: the user's own broadband connection.
      expect(homeIspOwner(ip)).toBeDefined();
      expect(mine.length - firstSuccess).toBe(1);
    }
  });
});
