import { describe, expect, it } from 'vitest';
import {
  CHATBOT_DESCRIPTION_MAX_CHARS,
  CHATBOT_TITLE_MAX_CHARS,
  SUBJECT_MAX_CHARS,
  chatbotNotification,
  cutNotification,
  digestSubject,
  digestText,
  digestTexts,
  emailSubject,
  emailText,
  evidenceRows,
  formatEvidence,
} from '../../../shared/core/alert-text';
import { escapeMarkdown, plainText, renderMixed, truncate } from '../../../shared/core/untrusted-text';
import { rareUser, unusualSourceIp } from '../../../shared/core/detectors';
import { hostileSource } from '../../../shared/core/detectors/hostile-source';
import { compileHostile } from '../../../shared/core/hostile';
import { DAY_MS, windowEndingAt, type Alert, type AlertBatch } from '../../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { History, HOUR, T0, logon } from '../../support/history';
import { ALERT_WINDOW as WINDOW, makeAlert as makeCoreAlert, type AlertOptions } from '../../support/alerts';

function makeAlert(o: AlertOptions = {}): Alert {
  return makeCoreAlert({ failed: 2, otherIps: ['198.51.100.7'], ...o });
}

const HOSTILE =
  'eve*bold*_it_~s~`code`>quote [link](http://evil.example) |t| <!channel> <@U123> &amp;\nFAKE LINE: all clear\r\u202eevil\u0007' +
  'A'.repeat(10_000);

describe('escaping helpers', () => {
  it('truncates by code points with an ellipsis, never splitting a surrogate pair', () => {
    expect(truncate('short', 10)).toBe('short');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
    const emoji = '😀'.repeat(10);
    const t = truncate(emoji, 4);
    expect(Array.from(t)).toEqual(['😀', '😀', '😀', '…']);
    expect(truncate('😀😀', 2)).toBe('😀😀');
  });

  it('plainText makes a value single-line, printable and bounded', () => {
    const s = plainText('a\nb\r\tc\u0000d\u202ee\u200bf\u2028g');
    expect(s).toBe('a?b??c?d?e?f?g');
    expect(plainText('x'.repeat(10_000)).length).toBeLessThanOrEqual(128);
    expect(plainText('x'.repeat(10_000)).endsWith('…')).toBe(true);
  });

  it('escapeMarkdown defuses emphasis, code, links, quotes, tables, tags and mentions', () => {
    const e = escapeMarkdown('*b* _i_ ~s~ `c` > [l](u) |t| <!here> & @channel');
    expect(e).toBe('\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` &gt; \\[l\\]\\(u\\) \\|t\\| &lt;!here&gt; &amp; @\u200bchannel');
    expect(e).not.toMatch(/(^|[^\\])[*_~`[\]()|]/);
    expect(e).not.toContain('<');
  });

  it('bounds the escaped result, not just the input', () => {
    const e = escapeMarkdown('<'.repeat(1000), 128);
    expect(e.length).toBeLessThanOrEqual(128);
    expect(e.endsWith('…')).toBe(true);
    expect(e).not.toMatch(/&[a-z]*…$/); // no half entity before the ellipsis
    expect(escapeMarkdown('*'.repeat(1000), 11)).toBe('\\*\\*\\*\\*\\*…');
  });

  it('renderMixed escapes the untrusted value inside a sentence and keeps the template readable', () => {
    const r = renderMixed('[x](y) logged on from 1.2.3.4 (new).', ['[x](y)'], { format: 'markdown', max: 500 });
    expect(r).toBe('\\[x\\]\\(y\\) logged on from 1.2.3.4 (new).');
    const long = renderMixed(`${'B'.repeat(5000)} logged on.`, ['B'.repeat(5000)], { format: 'plain', max: 500 });
    expect(long.length).toBeLessThanOrEqual(140);
    expect(long).toContain('… logged on.');
  });

  it('renderMixed also finds a value written as a JSON string literal (silence hints)', () => {
    const user = 'bad\nname';
    const hint = `Allow the user: add ${JSON.stringify(user)} to the allowUsers setting.`;
    const r = renderMixed(hint, [user], { format: 'markdown', max: 500 });
    expect(r).toBe('Allow the user: add "bad\\\\nname" to the allowUsers setting.');
  });
});

describe('emailText / emailSubject', () => {
  it('says what happened, the numbers, what to check, the false positives and how to silence', () => {
    const a = makeAlert({ hosts: ['web-01', 'web-02'] });
    const t = emailText(a);
    expect(t).toContain('Rare User Logon: alice from 203.0.113.9');
    expect(t).toContain('WHAT HAPPENED\nalice logged on for the first time');
    expect(t).toMatch(/User:\s+alice/);
    expect(t).toMatch(/Source IP:\s+203\.0\.113\.9/);
    expect(t).toMatch(/Hosts:\s+web-01, web-02/);
    expect(t).toMatch(/Successful logons:\s+3/);
    expect(t).toMatch(/First logon:\s+2026-03-20T09:40:00.000Z/);
    expect(t).toMatch(/Failed logons from the IP:\s+2/);
    expect(t).toMatch(/Known users:\s+40\n/);
    expect(t).toMatch(/New names among active user-periods:\s+<0\.1%\n/);
    expect(t).not.toContain('known_users');
    expect(t).toContain('WHAT TO CHECK\n  1. Is this a known person or service?');
    expect(t).toContain('OFTEN BENIGN WHEN\n  - New hires');
    expect(t).toContain(
      'TO SILENCE IT IF BENIGN\n  - A legitimate account (new hire, returning user): nothing to do, it is now known.',
    );
    expect(t).toContain(
      '  - Never alert on it (service account): npm run authwatch -- allow user alice --table <table>',
    );
    expect(t).toContain(`Alert id: ${a.id}`);
  });

  it("shows the numbers labelled and rounded, from the detector's own evidence fields, never raw keys", () => {
    const evidence = {
      novelty_level: 'network',
      new_place: '203.0.0.0/16',
      history_days: 37,
      known_ips: 3,
      user_novelty_rate: 0,
      population_novelty_rate: 0.006,
      busiest_address_in_prefix: 0,
      org_novel_network_share: 1,
      p_user: 0.00035338379292050516,
      p_shared: 0.0024999,
      users_sharing_prefix: 1234,
    };
    const t = emailText(makeAlert({ detector: 'ip', evidence }));
    expect(t).toMatch(/Probability for this user:\s+0\.00035\n/);
    expect(t).toMatch(/Share of new networks no one else uses:\s+100%\n/);
    expect(t).toMatch(/Most users on one address of its subnet:\s+0\n/);
    expect(t).toMatch(/All users bring one in:\s+0\.6%\n/);
    expect(t).toMatch(/Other users of its subnet:\s+1,234\n/);
    expect(t).toMatch(/New place:\s+203\.0\.0\.0\/16\n/);
    expect(t).toMatch(/Probability:\s+0\.00040\n/);
    for (const raw of Object.keys(evidence)) expect(t).not.toContain(`${raw}:`);
    expect(t).not.toContain('0.00035338379292050516');
    // The raw evidence stays in the alert document.
    expect(makeAlert({ detector: 'ip', evidence }).evidence.p_user).toBe(0.00035338379292050516);
  });

  it('labels every evidence key the detectors emit in real findings, and nothing they do not emit', () => {
    // Real findings: a stable user from a never-seen network; a never-seen user; a user back after 40 days.
    const h = new History().daily('alice', ['81.2.69.142'], { toDay: 21 }).daily('dora', ['81.2.70.1'], { toDay: 2 });
    const at = (day: number) => T0 + day * DAY_MS + 10 * HOUR;
    const input = (user: string, ip: string, day: number) => ({
      observation: logon(user, ip, at(day)),
      baseline: h.users.get(user),
      population: h.population,
      window: windowEndingAt(at(day) + 15 * 60_000),
      settings: DEFAULT_SETTINGS,
    });
    const findings = [
      unusualSourceIp.evaluate(input('alice', '198.51.100.7', 22)),
      rareUser.evaluate(input('mallory', '203.0.113.9', 22)),
      rareUser.evaluate(input('dora', '203.0.113.9', 45)),
      // dora, whose habits never formed, back after three weeks from a network no one here uses.
      unusualSourceIp.evaluate({
        ...input('dora', '198.51.100.7', 23),
        population: {
          ...h.population,
          placeNovelty: { periods: 4000, ip: 80, prefix: 40, network: 40, ipInKnownPrefix: 40, networkOrgNovel: 4 },
        },
      }),
      // alice, from an address an analyst marked malicious (with a note).
      hostileSource.evaluate({
        ...input('alice', '203.0.113.7', 22),
        hostile: compileHostile([{ kind: 'ip', value: '203.0.113.7', alertId: 'a', addedAt: T0, note: 'stuffing' }]),
      }),
      // A follow-up: a later logon from a place an unanswered alert left suspect.
      unusualSourceIp.evaluate({
        ...input('alice', '203.0.113.50', 22),
        baseline: {
          ...h.users.get('alice')!,
          suspect: {
            '203.0.113.50': {
              alertId: 'unusualsourceip-0123',
              detectorId: unusualSourceIp.id,
              ip: '203.0.113.50',
              since: at(21),
              last: at(21),
              logons: 0,
            },
          },
        },
      }),
    ];
    const emitted = new Map<string, Set<string>>();
    for (const f of findings) {
      expect(f).not.toBeNull();
      const keys = emitted.get(f!.detectorId) ?? new Set<string>();
      for (const k of Object.keys(f!.evidence)) keys.add(k);
      emitted.set(f!.detectorId, keys);
    }
    for (const d of [rareUser, unusualSourceIp, hostileSource])
      expect(Object.keys(d.evidenceFields).sort(), d.id).toEqual([...emitted.get(d.id)!].sort());
  });

  it('formats evidence by kind, and shows an unexpected type as it is', () => {
    expect(formatEvidence(0.00035338, 'probability')).toBe('0.00035');
    expect(formatEvidence(1, 'percent')).toBe('100%');
    expect(formatEvidence(0.0421, 'percent')).toBe('4.2%');
    expect(formatEvidence(0.00004, 'percent')).toBe('<0.1%');
    expect(formatEvidence(12345.6, 'count')).toBe('12,346');
    expect(formatEvidence(1.5, 'days')).toBe('1.5 days');
    expect(formatEvidence(1, 'days')).toBe('1 day');
    expect(formatEvidence('2026-03-02', 'date')).toBe('2026-03-02');
    expect(formatEvidence('n/a', 'percent')).toBe('n/a');
    // An alert of a rule no detector knows (a newer version) shows its raw keys rather than nothing.
    const foreign = { ...makeAlert(), rule: { ...makeAlert().rule, id: 'Auth.Future' } };
    expect(evidenceRows(foreign).map((r) => r.label)).toEqual(['kind', 'known_users', 'population_new_user_rate']);
  });

  it('subject is printable ASCII, one line, under 100 characters', () => {
    const s = emailSubject(makeAlert({ score: 91.6 }));
    expect(s).toBe('authwatch: Rare user (score 92): alice from 203.0.113.9');
    const hostile = emailSubject(makeAlert({ user: `ü${HOSTILE}` }));
    expect(hostile.length).toBeLessThanOrEqual(SUBJECT_MAX_CHARS);
    expect(hostile).toMatch(/^[A-Za-z0-9][\x20-\x7e]*$/);
    expect(hostile).toContain('from 203.0.113.9');
  });

  it('keeps a hostile user name on one line, bounded, without forged lines', () => {
    const a = makeAlert({ user: HOSTILE });
    const t = emailText(a);
    expect(t).not.toContain('\nFAKE LINE');
    expect(t).not.toContain('\r');
    expect(t).not.toContain('\u202e');
    expect(t).not.toContain('\u0007');
    expect(t).not.toMatch(/A{200}/);
    expect(t.length).toBeLessThan(12_000);
    const userLine = t.split('\n').find((l) => l.trimStart().startsWith('User:'))!;
    expect(userLine.replace(/^\s*User:\s+/, '').length).toBeLessThanOrEqual(128);
  });
});

describe('chatbotNotification', () => {
  it('follows the Chatbot custom-notification schema', () => {
    const a = makeAlert({ detector: 'ip' });
    const n = chatbotNotification(a);
    expect(n.version).toBe('1.0');
    expect(n.source).toBe('custom');
    expect(n.id).toBe(a.id);
    expect(n.content.textType).toBe('client-markdown');
    expect(n.content.title).toContain('Unusual Source IP for a User to Logon from: alice from 203.0.113.9 (score 88)');
    expect(n.content.description).toContain('*User:* alice');
    expect(n.content.description).toContain('*Logons:* 3 successful');
    expect(n.content.nextSteps).toHaveLength(6);
    expect(n.content.nextSteps[0]).toMatch(/^Contact the user/);
    expect(n.content.keywords).toContain('Auth.UnusualSourceIp');
    expect(n.metadata.threadId).toMatch(/^authwatch-user-[0-9a-f]{20}$/);
    expect(n.metadata.additionalContext?.alertId).toBe(a.id);
  });

  it('escapes a hostile user name in title, description and summary, and bounds every part', () => {
    const n = chatbotNotification(makeAlert({ user: HOSTILE, hosts: [HOSTILE] }));
    const parts = [n.content.title, n.content.description, n.metadata.summary!, ...n.content.nextSteps];
    for (const p of parts) {
      expect(p).not.toContain('<!channel>');
      expect(p).not.toContain('<@U123>');
      expect(p).not.toContain('](http');
      expect(p).not.toContain('*bold*');
      expect(p).not.toContain('\nFAKE LINE');
      expect(p).not.toContain('\u202e');
      expect(p).not.toMatch(/A{129}/);
    }
    expect(n.content.title.length).toBeLessThanOrEqual(CHATBOT_TITLE_MAX_CHARS);
    expect(n.content.description.length).toBeLessThanOrEqual(CHATBOT_DESCRIPTION_MAX_CHARS);
    expect(n.content.description).toContain('&lt;!channel&gt;');
    expect(n.content.description).toContain('\\[link\\]\\(http://evil.example\\)');
    // Nothing user-controlled in the thread id.
    expect(n.metadata.threadId).toMatch(/^authwatch-user-[0-9a-f]{20}$/);
  });
});

describe('digest', () => {
  const alerts = [makeAlert({ user: 'alice', score: 95 }), makeAlert({ user: 'bob', score: 90, detector: 'ip' })];
  const cut = Array.from({ length: 14 }, (_, i) => makeAlert({ user: `cut${i}`, score: 80 }));
  const batch: AlertBatch = { runId: 'run-2026-03-20T10:00:00.000Z', window: WINDOW, alerts, cut };

  it('lists the alerts in rank order, the cut count and the window', () => {
    const t = digestText(batch);
    expect(t).toContain('2 alerts, 14 more cut by the per-run cap');
    expect(t).toContain('Window: 2026-03-20T09:30:00.000Z to 2026-03-20T10:00:00.000Z');
    expect(t.indexOf('alice')).toBeLessThan(t.indexOf('bob'));
    expect(t).toContain('CUT BY THE CAP: 14 more findings');
    expect(t).toContain('... and 4 more');
    expect(digestSubject(batch)).toBe(
      'authwatch digest: 2 alerts, 14 more cut by the per-run cap (window ending 2026-03-20T10:00Z)',
    );
    expect(digestSubject(batch, { index: 1, of: 3 })).toBe(
      'authwatch digest 2/3: 2 alerts, 14 more cut by the per-run cap (window ending 2026-03-20T10:00Z)',
    );
  });

  it('explains every alert in full, once, and never claims another message was sent', () => {
    const t = digestText(batch);
    for (const a of alerts) {
      expect(t.split(a.explanation)).toHaveLength(2);
      for (const step of a.investigation) expect(t).toContain(step);
      for (const hint of a.silence) expect(t).toContain(hint);
    }
    expect(t).toMatch(/Known users:\s+40\n/);
    expect(t).not.toContain('known_users');
    expect(t).not.toMatch(/also sent|own message/);
    // Cut findings are listed, not explained: they were not sent.
    expect(t).not.toContain(cut[0]!.explanation);
  });

  it('splits into parts under the byte bound, each alert whole in exactly one part', () => {
    const many = Array.from({ length: 30 }, (_, i) => makeAlert({ user: `user${i}`, score: 99 - i / 10 }));
    const b = { runId: 'r', window: WINDOW, alerts: many, cut: [] };
    const one = digestText(b);
    const parts = digestTexts(b, { maxBytes: Math.ceil(Buffer.byteLength(one) / 3) });
    expect(parts.length).toBeGreaterThanOrEqual(3);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(Math.ceil(Buffer.byteLength(one) / 3));
    for (const a of many) expect(parts.filter((p) => p.includes(a.explanation))).toHaveLength(1);
    expect(parts[1]).toContain(`part 2 of ${parts.length}`);
  });

  it('marks alerts whose delivery failed', () => {
    const t = digestText(batch, { failed: [alerts[1]!.id] });
    expect(t).toMatch(/bob .*delivery failed/);
    expect(t).toContain('1 alert(s) could not be delivered');
  });

  it('gives chat a card for the cut findings only, and none when nothing was cut', () => {
    const n = cutNotification(batch)!;
    expect(n).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(n.content.title).toContain('14 more findings cut by the per-run cap (top score 80)');
    expect(n.content.description).toContain('cut0');
    expect(n.content.description).toContain('… and 4 more');
    expect(n.content.description).not.toContain('alice');
    expect(n.content.nextSteps.length).toBeGreaterThan(0);
    expect(cutNotification({ ...batch, cut: [] })).toBeUndefined();
  });

  it('stays within the description limit for a cut of 100 hostile names', () => {
    const many = Array.from({ length: 100 }, (_, i) => makeAlert({ user: `${HOSTILE}${i}`, score: 99 - i / 10 }));
    const n = cutNotification({ runId: 'r', window: WINDOW, alerts: [], cut: many })!;
    expect(n.content.description.length).toBeLessThanOrEqual(CHATBOT_DESCRIPTION_MAX_CHARS);
    expect(n.content.description).not.toContain('<!channel>');
    const t = digestText({ runId: 'r', window: WINDOW, alerts: many, cut: [] });
    expect(t.split('\n').filter((l) => /^\s*\d+\. score/.test(l))).toHaveLength(100);
    expect(t).not.toContain('\nFAKE LINE');
  });
});
