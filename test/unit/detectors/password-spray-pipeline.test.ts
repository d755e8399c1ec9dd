/**
 * Password spraying, brute force that succeeds and success campaigns through the whole pipeline: a replayed log,
 * windows every 15 minutes overlapping by one bucket, the ledger, campaigns folding and linking per-user alerts.
 */
import { describe, expect, it } from 'vitest';
import { emailSubject, emailText } from '../../../shared/core/alert-text';
import { failuresThenSuccess } from '../../../shared/core/detectors/failures-then-success';
import { manyUsersFromSource } from '../../../shared/core/detectors/many-users-from-source';
import { passwordSpray } from '../../../shared/core/detectors/password-spray';
import { unusualSourceIp } from '../../../shared/core/detectors/unusual-source-ip';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../../shared/core/model';
import type { NetworkLookup, NetworkLookupService } from '../../../shared/core/network-data/lookup';
import { HOUR, T0 } from '../../support/history';
import { deps, ev, runSchedule } from '../../support/pipeline';

const MIN = 60_000;
/** Days of ordinary logons before the attack (past the 14-day learning period). */
const DAYS = 16;
/** The organisation: 10 people who log on twice a day, and 80 more who logged on once in the first days. */
const REGULARS = Array.from({ length: 10 }, (_, i) => `user${i}`);
const OTHERS = Array.from({ length: 80 }, (_, i) => `staff${i}`);

/** 203.0.113.x: a hosting provider in the Netherlands; 81.2.x.x: the staff's Portuguese ISP (invented owners). */
const network: NetworkLookupService = {
  lookup(ip: string): NetworkLookup {
    if (ip.startsWith('203.0.113.')) return { known: true, asn: 64500, org: 'EXAMPLE-HOSTING', country: 'NL' };
    if (ip.startsWith('81.2.')) return { known: true, asn: 64501, org: 'EXAMPLE-PT-ISP', country: 'PT' };
    return { known: false, reason: 'not-routed' };
  },
};

function history(days = DAYS): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    REGULARS.forEach((u, i) => {
      for (const h of [9, 15]) out.push(ev(u, `81.2.${i}.10`, T0 + d * DAY_MS + h * HOUR + i * 1000));
    });
  OTHERS.forEach((u, i) => {
    out.push(ev(u, `81.2.100.${i + 1}`, T0 + (i % 3) * DAY_MS + 10 * HOUR + i * 1000));
  });
  return out;
}

const ATTACK = T0 + DAYS * DAY_MS + 10 * HOUR + 5 * MIN;

async function run(events: LogonEvent[], to: number) {
  const { d, sink } = deps(
    events.sort((a, b) => a.timestamp - b.timestamp),
    { network },
  );
  await runSchedule(d, T0 + BUCKET_MS, to);
  return sink.delivered;
}

describe('a spray of 80 real users from one address, two of whom it then logs on as', () => {
  it('gives one campaign alert naming the address and both users, and the two success alerts linked to it', async () => {
    const events = history();
    const targets = [...REGULARS, ...OTHERS].slice(0, 80);
    // Two failures each within seven minutes, then user0 and user1 log on from it; the next windows overlap it.
    targets.forEach((u, i) => {
      for (let k = 0; k < 2; k++) events.push(ev(u, '203.0.113.9', ATTACK + i * 5_000 + k * 60_000, 'failure'));
    });
    events.push(ev('user0', '203.0.113.9', ATTACK + 7 * MIN), ev('user1', '203.0.113.9', ATTACK + 8 * MIN));
    const delivered = await run(events, ATTACK + 2 * HOUR);

    const sprays = delivered.filter((a) => a.rule.id === passwordSpray.id);
    expect(sprays).toHaveLength(1);
    const spray = sprays[0]!;
    expect(spray.user.name).toBe('');
    expect(spray.source.ip).toBe('203.0.113.9');
    expect(spray.campaign?.source).toBe('203.0.113.9');
    expect(spray.campaign?.users).toHaveLength(50);
    const loggedOn = spray.campaign!.users!.filter((u) => u.successes > 0).map((u) => u.name);
    expect(loggedOn.sort()).toEqual(['user0', 'user1']);
    expect(spray.event.outcome).toBe('success');
    expect(spray.explanation).toContain(
      '203.0.113.9 (AS64500 EXAMPLE-HOSTING, NL) failed to log on as 80 different users in 30 minutes, 80 of them real users here',
    );
    expect(spray.explanation).toContain('2 of the users then logged on from it: user0, user1.');

    const successes = delivered.filter((a) => a.rule.id === failuresThenSuccess.id);
    expect(successes.map((a) => a.user.name).sort()).toEqual(['user0', 'user1']);
    for (const a of successes) {
      expect(a.rule.severity).toBe('high');
      expect(a.campaign?.of).toBe(spray.id);
    }
    expect([...(spray.campaign?.linked ?? [])].sort()).toEqual(successes.map((a) => a.id).sort());
    // The unusual-source-IP alerts of the two users are folded into the campaign, not delivered one by one.
    expect(delivered.filter((a) => a.rule.id === unusualSourceIp.id)).toEqual([]);
    // So is the organisation's spike in failed logons (160 where none are usual), whose busiest address is the
    // spray's: the same event seen as volume.
    const folded = spray.campaign?.folded ?? [];
    expect(folded.filter((id) => id.startsWith('unusualsourceip-')).length).toBeLessThanOrEqual(2);
    expect(folded.filter((id) => id.startsWith('failedlogonspike-'))).toHaveLength(1);
    expect(delivered).toHaveLength(3);

    expect(emailSubject(spray)).toContain('203.0.113.9');
    expect(emailSubject(spray)).toContain('80 users, 2 logged on');
    expect(emailText(spray)).toContain('user0');
    expect(emailText(successes[0]!)).toContain(`Part of campaign ${spray.id}`);
  }, 120_000);

  it('delivers a success that comes after the campaign was raised on its own, saying it is part of it', async () => {
    const events = history();
    [...REGULARS, ...OTHERS].slice(0, 80).forEach((u, i) => {
      events.push(ev(u, '203.0.113.9', ATTACK + i * 5_000, 'failure'));
    });
    events.push(ev('user0', '203.0.113.9', ATTACK + 50 * MIN));
    const delivered = await run(events, ATTACK + 2 * HOUR);
    const sprays = delivered.filter((a) => a.rule.id === passwordSpray.id);
    expect(sprays).toHaveLength(1);
    expect(sprays[0]!.event.outcome).toBe('failure');
    expect(sprays[0]!.explanation).toContain('None of them logged on from it.');
    const later = delivered.filter((a) => a.rule.id === failuresThenSuccess.id);
    expect(later.map((a) => [a.user.name, a.campaign?.of])).toEqual([['user0', sprays[0]!.id]]);
    expect(later[0]!.explanation).toContain(
      'The source was spraying: it failed as 80 real users here in the past two days.',
    );
  }, 120_000);
});

describe('a low-and-slow spray', () => {
  it('of five real users an hour over two days from one address alerts once, on the day it crosses', async () => {
    const events = history();
    const start = T0 + DAYS * DAY_MS;
    const names = [...REGULARS, ...OTHERS];
    let n = 0;
    for (let h = 0; h < 48; h++)
      for (let k = 0; k < 5; k++)
        events.push(ev(names[n++ % names.length]!, '203.0.113.77', start + h * HOUR + k * 11 * MIN, 'failure'));
    const delivered = await run(events, start + 49 * HOUR);
    const sprays = delivered.filter((a) => a.rule.id === passwordSpray.id);
    expect(sprays).toHaveLength(1);
    expect(sprays[0]!['@timestamp'].slice(0, 10)).toBe(new Date(start).toISOString().slice(0, 10));
    expect(sprays[0]!.explanation).toMatch(/over the past \d+ hours?/);
    expect(delivered.filter((a) => a.rule.id !== passwordSpray.id)).toEqual([]);
  }, 120_000);
});

describe('benign failures', () => {
  it('background scanning of root, admin and oracle from 200 addresses a day raises nothing', async () => {
    const events = history();
    const start = T0 + DAYS * DAY_MS;
    for (let d = 0; d < 2; d++)
      for (let a = 0; a < 200; a++)
        for (const [k, name] of ['root', 'admin', 'oracle', 'test', 'ubuntu'].entries())
          events.push(ev(name, `198.51.${100 + (a % 2)}.${a}`, start + d * DAY_MS + a * 7 * MIN + k * 1000, 'failure'));
    const delivered = await run(events, start + 2 * DAY_MS);
    expect(delivered).toEqual([]);
  }, 120_000);

  it('a stale service password failing every few minutes all day from its usual address raises no spray and no brute-force alert', async () => {
    const events = history();
    const start = T0 + DAYS * DAY_MS;
    for (let t = 0; t < 24 * 60; t += 4) events.push(ev('user3', '81.2.3.10', start + t * MIN, 'failure'));
    events.push(ev('user3', '81.2.3.10', start + 23 * HOUR + 59 * MIN));
    const delivered = await run(events, start + DAY_MS + HOUR);
    expect(delivered.filter((a) => a.rule.id === passwordSpray.id || a.rule.id === failuresThenSuccess.id)).toEqual([]);
  }, 120_000);
});

describe('a success campaign', () => {
  it('one new address logging on as eight users gives one alert naming them, their unusual-IP alerts folded into it', async () => {
    const events = history();
    REGULARS.slice(0, 8).forEach((u, i) => {
      events.push(ev(u, '203.0.113.50', ATTACK + i * MIN));
    });
    const delivered = await run(events, ATTACK + HOUR);
    const campaigns = delivered.filter((a) => a.rule.id === manyUsersFromSource.id);
    expect(campaigns).toHaveLength(1);
    const c = campaigns[0]!;
    expect(c.campaign?.users?.map((u) => u.name).sort()).toEqual(REGULARS.slice(0, 8).sort());
    expect(c.rule.severity).toBe('medium');
    expect(delivered.filter((a) => a.rule.id === unusualSourceIp.id)).toEqual([]);
    expect(c.campaign?.folded?.length).toBeGreaterThan(0);
  }, 120_000);
});
