import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../shared/core/settings';
import { alertReport } from '../../../cli/report/model';
import {
  APP_SCRIPT,
  escapeHtml,
  html,
  Html,
  inlineScript,
  jsonForScript,
  renderReport,
} from '../../../cli/report/html';
import { makeAlert } from '../../support/alerts';

const XSS = '</script><img src=x onerror=alert(1)>';
const LIB = 'window.Chart = function () {};';

function model(user: string) {
  return alertReport({
    title: 'authwatch replay',
    source: `replay of ${user}.log`,
    summary: [['note', user]],
    thresholds: DEFAULT_SETTINGS.thresholds,
    alerts: [makeAlert({ user, ip: '203.0.113.9' })],
    baselines: new Map(),
    settings: DEFAULT_SETTINGS,
    note: () => user,
  });
}

/** The page without its scripts: the markup a browser parses as elements. */
function markup(page: string): string {
  return page.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '<script></script>');
}

describe('html template', () => {
  it('escapes every interpolated value, arrays included, and leaves only its own markup', () => {
    const out = html`<p title="${'"x"'}">${XSS}${['<b>', 1]}${new Html('<i>ok</i>')}${undefined}${false}</p>`.markup;
    expect(out).toBe(
      '<p title="&quot;x&quot;">&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&lt;b&gt;1<i>ok</i></p>',
    );
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('writes JSON that cannot close its script block and reads back the same', () => {
    const v = { user: XSS, c: '<!-- & \u2028\u2029 >' };
    const s = jsonForScript(v);
    expect(s).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(s)).toEqual(v);
  });

  it('refuses to inline a script that would end its element early', () => {
    expect(() => inlineScript('var s = "</SCRIPT>";', 'x')).toThrow(/cannot be inlined/);
    expect(() => inlineScript('a <!-- b', 'x')).toThrow(/cannot be inlined/);
    expect(inlineScript(LIB, 'x').markup).toBe(`<script>${LIB}</script>`);
  });
});

describe('renderReport', () => {
  const page = renderReport(model(XSS), LIB);

  it('puts a hostile user name in the page as text only', () => {
    const m = markup(page);
    expect(m).not.toContain('<img');
    expect(m).toContain('&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;');
    // The data block holds it escaped, and exactly three scripts are in the page: data, Chart.js, the page's own.
    expect(page.match(/<script\b/g)).toHaveLength(3);
    expect(page.match(/<\/script>/g)).toHaveLength(3);
    const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(page)![1]!;
    expect(JSON.parse(data).users[0].user).toBe(XSS);
  });

  it('loads nothing from elsewhere, and its policy allows exactly its two inline scripts', () => {
    expect(markup(page)).not.toMatch(/<(img|iframe|link|object|embed|video|audio|source|a)\b/i);
    expect(page).not.toMatch(/<script\b[^>]*\ssrc=/i);
    expect(page).not.toMatch(/url\(|@import/);
    expect(page).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    // As the browser reads the attribute: entities decoded.
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(page)![1]!.replaceAll('&#39;', "'");
    const hash = (s: string) => `'sha256-${createHash('sha256').update(s).digest('base64')}'`;
    expect(csp).toContain(`script-src ${hash(LIB)} ${hash(APP_SCRIPT)};`);
    expect(csp).toContain("default-src 'none'");
    expect(page).toContain(`<script>${APP_SCRIPT}</script>`);
  });

  it('has the summary and the alert table for a reader without JavaScript, and a canvas per chart', () => {
    expect(page).toContain('<section id="summary">');
    expect(page).toMatch(/<table class="alerts">[\s\S]*203\.0\.113\.9/);
    const canvases = page.match(/<canvas id="([^"]+)"/g)!.map((c) => c.slice(12, -1));
    expect(canvases).toEqual(['chart-timeline', 'chart-score-0', 'chart-places-0', 'chart-hours-0']);
  });

  it('says there were no alerts rather than drawing empty charts', () => {
    const empty = renderReport({ ...model('alice'), alerts: [], scores: [], users: [] }, LIB);
    expect(empty).toContain('No alerts.');
    expect(empty).not.toContain('<canvas');
  });
});
