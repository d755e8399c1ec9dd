import { describe, expect, it } from 'vitest';
import {
  CHATBOT_DESCRIPTION_MAX_CHARS,
  CHATBOT_TITLE_MAX_CHARS,
  SUBJECT_MAX_CHARS,
  chatbotNotification,
  digestNotification,
  digestSubject,
  digestText,
  emailSubject,
  emailText,
  escapeMarkdown,
  plainText,
  renderMixed,
  truncate,
} from '../../../shared/core/alert-text';
import type { Alert, AlertBatch } from '../../../shared/core/model';
import { ALERT_T as T, ALERT_WINDOW as WINDOW, makeAlert as makeCoreAlert, type AlertOptions } from '../../support/alerts';


function makeAlert(o: AlertOptions = {}): Alert {
  return makeCoreAlert({ failed: 2, otherIps: ['198.51.100.7'], ...o });
}

const HOSTILE = 'eve*bold*_it_~s~`code`>quote [link](http://evil.example) |t| <!channel> <@U123> &amp;\nFAKE LINE: all clear\r\u202eevil\u0007' + 'A'.repeat(10_000);

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
    expect(t).toMatch(/known_users:\s+40/);
    expect(t).toContain('WHAT TO CHECK\n  1. Is this a known person or service?');
    expect(t).toContain('OFTEN BENIGN WHEN\n  - New hires');
    expect(t).toContain('TO SILENCE IT IF BENIGN\n  - A legitimate account (new hire, returning user): nothing to do, it is now known.');
    expect(t).toContain('  - Never alert on it (service account): npm run authwatch -- allow user alice --table <table>');
    expect(t).toContain(`Alert id: ${a.id}`);
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
    expect(digestSubject(batch)).toBe('authwatch digest: 2 alerts, 14 more cut by the per-run cap (window ending 2026-03-20T10:00Z)');
  });

  it('marks alerts whose delivery failed', () => {
    const t = digestText(batch, { failed: [alerts[1]!.id] });
    expect(t).toMatch(/bob .*delivery failed/);
    expect(t).toContain('1 alert(s) could not be delivered');
  });

  it('is a valid Chatbot notification with the cut count', () => {
    const n = digestNotification(batch);
    expect(n).toMatchObject({ version: '1.0', source: 'custom', content: { textType: 'client-markdown' } });
    expect(n.content.title).toContain('2 alerts, 14 more cut by the per-run cap (top score 95)');
    expect(n.content.description).toContain('*14 more cut by the per-run cap*');
    expect(n.content.nextSteps.length).toBeGreaterThan(0);
  });

  it('stays within the description limit for a full 100-alert run with hostile names', () => {
    const many = Array.from({ length: 100 }, (_, i) => makeAlert({ user: `${HOSTILE}${i}`, score: 99 - i / 10 }));
    const n = digestNotification({ runId: 'r', window: WINDOW, alerts: many, cut: [] });
    expect(n.content.description.length).toBeLessThanOrEqual(CHATBOT_DESCRIPTION_MAX_CHARS);
    expect(n.content.description.endsWith('…')).toBe(true);
    expect(n.content.description).not.toContain('<!channel>');
    const t = digestText({ runId: 'r', window: WINDOW, alerts: many, cut: [] });
    expect(t.split('\n').filter((l) => /^\s*\d+\. score/.test(l))).toHaveLength(100);
  });
});
