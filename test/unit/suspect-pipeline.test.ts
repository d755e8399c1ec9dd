/**
 * An attacker must not teach the detector, through the whole pipeline (`runDetection` window by window): an address
 * an alert named is a suspect place of its user until answered (`benign`) or `suspectDays` pass, so the attacker's
 * later logons from it are followed up and it never becomes "shared by many users" for everyone else.
 */
import { describe, expect, it } from 'vitest';
import type { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import type { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { emailSubject } from '../../shared/core/alert-text';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../shared/core/model';
import { sharedUsers } from '../../shared/core/population';
import { markBenign } from '../../shared/feedback';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';
import { HOUR, T0 } from '../support/history';
import { deps, ev, runSchedule } from '../support/pipeline';

const ATTACKER = '203.0.113.9';
/** A 15-minute slot of a day, one minute in. */
const slot = (day: number, hour: number, k = 0) => T0 + day * DAY_MS + hour * HOUR + k * BUCKET_MS + 60_000;

/** 30 users, each from their own address, twice a day, for `days` days (learning ends after day 14). */
function office(days: number): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 30; u++)
      for (const h of [9, 15]) out.push(ev(`user${u}`, `192.0.2.${u + 10}`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  return out;
}

async function sharers(store: InMemoryBaselineStore): Promise<number> {
  return sharedUsers((await store.getPopulation())!.sharedIps, ATTACKER);
}

function onAttacker(sink: InMemoryAlertSink) {
  return sink.delivered.filter((a) => a.source.ip === ATTACKER);
}

/** The follow-ups among delivered alerts: those whose explanation names the alert they follow. */
function followUps(sink: InMemoryAlertSink) {
  return onAttacker(sink).filter((a) => a.explanation.startsWith('Follow-up to alert '));
}

describe('an attacker address used for 25 accounts', () => {
  it('keeps alerting: fresh alerts for new accounts, follow-ups for repeat ones, and is never shared', async () => {
    const events = office(18);
    // Day 15 from 01:00, one account per window: user0..12; day 16: user13..24, then user0..5 again from 06:00,
    // user0 three times that day.
    for (let i = 0; i < 13; i++) events.push(ev(`user${i}`, ATTACKER, slot(15, 1, i)));
    for (let i = 13; i < 25; i++) events.push(ev(`user${i}`, ATTACKER, slot(16, 1, i - 13)));
    for (let i = 0; i < 6; i++) events.push(ev(`user${i}`, ATTACKER, slot(16, 6, i)));
    events.push(ev('user0', ATTACKER, slot(16, 8)), ev('user0', ATTACKER, slot(16, 11)));
    // user13 again on the day of its alert: that day's alert is the alert itself.
    events.push(ev('user13', ATTACKER, slot(16, 12)));
    // Day 17: user0 once more: its alert was followed up already, so nothing more (counted, not raised).
    events.push(ev('user0', ATTACKER, slot(17, 2)));
    const { d, store, sink } = deps(events);

    await runSchedule(d, T0 + BUCKET_MS, T0 + 16 * DAY_MS);
    expect(await sharers(store)).toBe(0);
    await runSchedule(d, T0 + 16 * DAY_MS + BUCKET_MS, T0 + 18 * DAY_MS);

    const all = onAttacker(sink);
    const fresh = all.filter((a) => !followUps(sink).includes(a));
    // Every one of the 25 accounts alerted once, fresh (before: only the first did; the address then looked shared).
    expect(fresh.map((a) => a.user.name).sort()).toEqual(Array.from({ length: 25 }, (_, i) => `user${i}`).sort());
    expect(new Set(fresh.map((a) => a.rule.id))).toEqual(new Set(['Auth.UnusualSourceIp']));
    for (const a of fresh) expect(a).not.toHaveProperty('follow_up_of');
    // Repeat accounts are followed up once each: user0..5 on day 16 (user0's three logons that day, and its logon
    // of day 17, are that one follow-up).
    const ups = followUps(sink);
    expect(ups.map((a) => a.user.name).sort()).toEqual(['user0', 'user1', 'user2', 'user3', 'user4', 'user5']);
    const user0 = fresh.find((a) => a.user.name === 'user0')!;
    for (const a of ups.filter((x) => x.user.name === 'user0')) {
      expect(a.explanation).toContain(`Follow-up to alert ${user0.id} (raised 2026-03-17 01:01 UTC, not answered)`);
      expect(a.evidence.follow_up_of).toBe(user0.id);
      expect(a.follow_up_of).toBe(user0.id);
      expect(emailSubject(a)).toBe(
        `authwatch: Unusual source IP follow-up (score ${a.score.toFixed(0)}): user0 from ${ATTACKER}`,
      );
      expect(a.score).toBeGreaterThanOrEqual(75);
    }
    // Logons since the alert's: day 16's first (06:01) when it was raised; the later ones are counted in the place.
    expect(ups.filter((a) => a.user.name === 'user0').map((a) => a.evidence.logons_since)).toEqual([1]);
    expect((await store.getUsers(['user0'])).get('user0')!.suspect![ATTACKER]!.logons).toBe(4);
    // No delivered alert repeats an id.
    expect(new Set(all.map((a) => a.id)).size).toBe(all.length);

    // The organisation never counts it as shared; no account learned it as its own place.
    expect(await sharers(store)).toBe(0);
    expect((await store.getPopulation())!.sharedPrefixes['203.0.113.0/24']).toBeUndefined();
    const users = await store.getUsers(Array.from({ length: 25 }, (_, i) => `user${i}`));
    for (const [, b] of users) {
      expect(b.ips[ATTACKER]).toBeUndefined();
      expect(b.suspect?.[ATTACKER]).toBeDefined();
    }
  });
});

describe('answering, or waiting', () => {
  /** user3's credentials used from ATTACKER on day 15 at 10:00, then again on days 16, 18 and 24. */
  function attack(settings: Partial<DetectionDeps['settings']> = {}) {
    const events = office(25);
    for (const day of [15, 16, 18, 24]) events.push(ev('user3', ATTACKER, slot(day, 10)));
    return deps(events, { settings });
  }

  it('after benign, the place is known and nothing more is raised; it counts as shared from its next logon', async () => {
    const { d, store, sink } = attack();
    await runSchedule(d, T0 + BUCKET_MS, T0 + 16 * DAY_MS);
    const [alert] = onAttacker(sink);
    expect(alert).toBeDefined();
    expect(followUps(sink)).toEqual([]);

    const r = await markBenign(store, alert!.id, { now: T0 + 16 * DAY_MS });
    expect(r.outcome).toBe('places-marked');
    const b = (await store.getUsers(['user3'])).get('user3')!;
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips[ATTACKER]).toBeDefined();

    await runSchedule(d, T0 + 16 * DAY_MS + BUCKET_MS, T0 + 17 * DAY_MS);
    expect(onAttacker(sink)).toHaveLength(1);
    // One user (a count that has begun to fade since that logon).
    expect(await sharers(store)).toBeCloseTo(1, 1);
  });

  it('unanswered: followed up while suspect, learned after suspectDays, then silent', async () => {
    const { d, store, sink } = attack({ suspectDays: 3 });
    await runSchedule(d, T0 + BUCKET_MS, T0 + 25 * DAY_MS);
    const [alert, ...rest] = onAttacker(sink);
    // Day 15: the alert; day 16: its follow-up; day 18, three days after the alert's logon, the place is learned:
    // nothing then, nor on day 24.
    expect(rest.map((a) => [a.evidence.follow_up_of, a['@timestamp'].slice(0, 10)])).toEqual([
      [alert!.id, '2026-03-18'],
    ]);
    const b = (await store.getUsers(['user3'])).get('user3')!;
    expect(b).not.toHaveProperty('suspect');
    expect(b.ips[ATTACKER]!.last).toBe(slot(24, 10));
    expect(await sharers(store)).toBeGreaterThan(0);
  });

  it('the default suspectDays (7) follows up once, the first day after the alert it is used', async () => {
    const { d, sink } = attack();
    await runSchedule(d, T0 + BUCKET_MS, T0 + 25 * DAY_MS);
    expect(followUps(sink).map((a) => a['@timestamp'].slice(0, 10))).toEqual(['2026-03-18']);
  });
});

describe('idempotence and the cap', () => {
  it('applies the same window twice with the same baselines', async () => {
    const events = office(17);
    events.push(ev('user3', ATTACKER, slot(15, 10)), ev('user3', ATTACKER, slot(16, 10)));
    const { d, store, sink } = deps(events);
    await runSchedule(d, T0 + BUCKET_MS, T0 + 16 * DAY_MS + 10 * HOUR);
    const end = T0 + 16 * DAY_MS + 10 * HOUR + BUCKET_MS;
    await runDetection(d, { windowEnd: end });
    const once = await store.getUsers(['user3']);
    expect(once.get('user3')!.suspect![ATTACKER]!.logons).toBe(1);
    await runDetection(d, { windowEnd: end });
    expect(await store.getUsers(['user3'])).toEqual(once);
    expect(followUps(sink)).toHaveLength(1);
  });

  it('makes the address suspect for an alert cut by the cap too', async () => {
    const events = office(17);
    events.push(ev('user3', ATTACKER, slot(15, 10)), ev('user4', ATTACKER, slot(15, 10)));
    const { d, store, sink } = deps(events, { settings: { maxAlertsPerRun: 1 } });
    const summaries = await runSchedule(d, T0 + BUCKET_MS, T0 + 16 * DAY_MS);
    expect(summaries.reduce((n, s) => n + s.alertsCutByCap, 0)).toBe(1);
    expect(onAttacker(sink)).toHaveLength(1);
    const users = await store.getUsers(['user3', 'user4']);
    for (const [, b] of users) expect(b.suspect?.[ATTACKER]).toBeDefined();
    expect(await sharers(store)).toBe(0);
  });
});
