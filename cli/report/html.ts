/**
 * The report's page: one self-contained HTML file from a `ReportModel`. Pure (no I/O): Chart.js's source is given
 * by the caller (cli/report.ts reads it from node_modules), and the page loads nothing else: no external script,
 * font, stylesheet or image, so it works offline and from an e-mail attachment.
 *
 * Untrusted text (user names, addresses, owners) reaches the page two ways, each made inert:
 * - in the markup, only through the `html` template tag, which escapes every interpolated value unless it is markup
 *   this module built (`Html`): no string concatenation of data into markup anywhere;
 * - in the data block (`<script type="application/json">`), as JSON with `<`, `>`, `&` and the JavaScript line
 *   separators written as \u escapes, so no value can close the block; the page's script reads it with JSON.parse
 *   and hands it to Chart.js, which draws text on a canvas, never into the DOM.
 * A Content-Security-Policy allows exactly the page's two inline scripts (by hash) and nothing else: were a value
 * ever to slip through as markup, a browser would still run none of it.
 */
import { createHash } from 'node:crypto';
import type { AlertView, EvalRow, ReportModel, UserPanel } from './model';
import { MAX_ALERT_ROWS } from './model';

/** Markup built by this module: the only thing `html` interpolates without escaping. */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text as HTML text or a quoted attribute value. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Value = Html | string | number | undefined | null | false | readonly Value[];

function render(v: Value): string {
  if (v === undefined || v === null || v === false) return '';
  if (v instanceof Html) return v.markup;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** Markup from a template: every interpolated value is escaped unless it is `Html`; arrays are joined. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/**
 * JSON for a `<script type="application/json">` block: `<`, `>` and `&` as \u escapes (no `</script>` or `<!--`
 * can appear in it), and U+2028/U+2029 too. JSON.parse reads back the same value.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A script's source as an inline `<script>` holds it: refused if it could end the element early. */
export function inlineScript(source: string, what: string): Html {
  if (/<\/script|<!--/i.test(source)) throw new Error(`${what} contains "</script" or "<!--": it cannot be inlined`);
  return new Html(`<script>${source}</script>`);
}

/** The CSP source for an inline script: its SHA-256, as the browser hashes the element's text. */
function scriptHash(source: string): string {
  return `'sha256-${createHash('sha256').update(source, 'utf8').digest('base64')}'`;
}

const pct = (r: number | null): string => (r === null ? '-' : `${Math.round(r * 100)}%`);
const stamp = (t: number): string => `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}Z`;
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
const num = (n: number | null): string => (n === null ? '-' : n.toLocaleString('en-US'));

function table(head: readonly string[], rows: readonly (readonly Value[])[], cls = ''): Html {
  return html`<table${cls ? new Html(` class="${escapeHtml(cls)}"`) : ''}><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(
    (r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

/** A chart's canvas in a box of the given height; the script draws it by id. */
function chart(id: string, label: string, height: number): Html {
  return html`<div class="chart" style="height:${height}px"><canvas id="${id}" role="img" aria-label="${label}"></canvas></div>`;
}

function detectorLabel(m: ReportModel, id: string): string {
  return m.detectors.find((d) => d.id === id)?.label ?? id;
}

function summarySection(m: ReportModel): Html {
  return html`<section id="summary"><h2>Summary</h2>${table(
    ['', ''],
    m.summary.map(([k, v]) => [k, v]),
    'summary',
  )}${m.notes.length > 0 ? html`<ul class="notes">${m.notes.map((n) => html`<li>${n}</li>`)}</ul>` : ''}</section>`;
}

function timelineSection(m: ReportModel): Html {
  // An evaluation keeps no alerts to draw (its page compares figures instead).
  if (m.evaluation) return html``;
  if (m.alerts.length === 0) return html`<section id="timeline"><h2>Alerts over time</h2><p>No alerts.</p></section>`;
  return html`<section id="timeline"><h2>Alerts over time</h2><p>Each point is an alert: when the logon it is about happened, and its score (0–100), coloured by detector.</p>${chart('chart-timeline', 'alerts over time by detector and score', 340)}</section>`;
}

function scoresSection(m: ReportModel): Html {
  if (m.scores.length === 0) return html``;
  const what =
    m.scores[0]!.counted === 'findings'
      ? 'Every finding the detectors made after the learning period (once per logon), by score: below the threshold in grey, at or above it (an alert, unless an allowlist, the ledger or the per-run cap stopped it) in colour.'
      : 'The scores of the alerts (the table keeps no findings below the threshold).';
  return html`<section id="scores"><h2>Scores against each detector's threshold</h2><p>${what}</p><div class="grid">${m.scores.map(
    (s, i) =>
      html`<figure><figcaption>${s.label}: threshold ${s.threshold}; ${s.below.reduce((a, b) => a + b, 0)} below, ${s.atOrAbove.reduce((a, b) => a + b, 0)} at or above</figcaption>${chart(`chart-score-${i}`, `${s.label} scores`, 200)}</figure>`,
  )}</div></section>`;
}

function placeRows(p: UserPanel): Value[][] {
  return p.places.map((r) => [r.kind, r.label, day(r.first), day(r.last), r.days ?? '-', r.note]);
}

function userSection(m: ReportModel): Html {
  if (m.users.length === 0) return html``;
  return html`<section id="users"><h2>Users with alerts</h2><p>For each user: the places they logged on from (addresses, networks and countries the baseline learned, each from first to last seen), with their alerted logons marked ▲; and the hours of day the baseline learned (its active 15-minute periods per hour, decayed, as Unusual hour judges them), beside the hours of the alerted logons. Replays also draw each logon (dots; crosses for failures).</p>${m.users.map(
    (p, i) =>
      html`<article class="user"><h3>${p.user}</h3><p class="meta">${p.alerts.length} alert${p.alerts.length === 1 ? '' : 's'}, highest score ${p.maxScore}; hours in ${p.zone}${p.addressesNotShown > 0 ? `; ${p.addressesNotShown} less recent addresses not shown` : ''}${p.logonsNotShown > 0 ? `; ${p.logonsNotShown} logons not drawn` : ''}</p>${chart(`chart-places-${i}`, `places used by ${p.user} over time`, Math.max(160, 60 + 24 * p.places.length))}${chart(`chart-hours-${i}`, `hours of day of ${p.user}`, 180)}<details><summary>Places as a table</summary>${table(['kind', 'place', 'first seen', 'last seen', 'days', ''], placeRows(p))}${table(
        ['alerted logon', 'detector', 'score'],
        p.alerts.map((a) => [stamp(a.t), detectorLabel(m, a.detectorId), a.score]),
      )}</details></article>`,
  )}</section>`;
}

function alertRow(m: ReportModel, a: AlertView): Value[] {
  return [stamp(a.t), detectorLabel(m, a.detectorId), a.score, a.severity, a.subject, a.ip, a.owner, a.country, a.note];
}

function alertsSection(m: ReportModel): Html {
  if (m.alerts.length === 0) return html``;
  return html`<section id="alerts"><h2>Alerts</h2><div class="wide">${table(
    ['logon time', 'detector', 'score', 'severity', 'user', 'address', 'network', 'country', 'note'],
    m.alerts.slice(0, MAX_ALERT_ROWS).map((a) => alertRow(m, a)),
    'alerts',
  )}</div></section>`;
}

function evalRow(r: EvalRow): Value[] {
  return [
    r.name,
    `${r.detected}/${r.attacks}`,
    pct(r.recall),
    num(r.alerts),
    num(r.falseAlerts),
    num(r.expected),
    num(r.noise),
  ];
}

function evaluationSection(m: ReportModel): Html {
  const e = m.evaluation;
  if (!e) return html``;
  const head = ['', 'attacks alerted', 'recall', 'alerts', 'false alerts', 'expected novelty', 'noise'];
  return html`<section id="evaluation"><h2>Evaluation: authwatch beside the naive rules</h2><h3>Per scenario</h3><div class="grid">${chart('chart-eval-recall', 'recall per scenario', 260)}${chart('chart-eval-false', 'false alerts per scenario', 260)}</div>${table(
    ['scenario', 'users', ...e.rules.flatMap((r) => [`${r}: recall`, `${r}: alerts`, `${r}: false`])],
    e.scenarios.map((s) => [
      s.name,
      s.users,
      ...e.rules.flatMap((r) => {
        const x = s.byRule[r];
        return x ? [pct(x.recall), num(x.alerts), num(x.falseAlerts)] : ['-', '-', '-'];
      }),
    ]),
  )}<h3>Per detector, over all scenarios</h3><div class="grid">${chart('chart-eval-det-recall', 'recall per detector', Math.max(200, 40 + 22 * e.detectors.length))}${chart('chart-eval-det-false', 'false alerts per detector', Math.max(200, 40 + 22 * e.detectors.length))}</div>${table(
    head,
    e.detectors.map(evalRow),
  )}${
    e.targets.length > 0
      ? html`<h3>Targets</h3>${table(
          ['', 'value', 'target', ''],
          e.targets.map((t) => [t.name, t.value, t.target, t.met ? 'met' : 'NOT MET']),
        )}`
      : ''
  }</section>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1rem 1.5rem;color:#1d1d1f;background:#fff}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem;margin:1.2rem 0 .3rem}
.source,.meta{color:#555}table{border-collapse:collapse;margin:.5rem 0;font-size:13px}
th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
table.alerts td:not(:last-child){white-space:nowrap}.wide{overflow-x:auto}
th{background:#f4f4f6}table.summary thead{display:none}table.summary td:first-child{color:#555;white-space:nowrap}
.chart{position:relative;width:100%;margin:.4rem 0}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:1rem}
figure{margin:0}figcaption{font-size:13px;color:#333}article.user{border-top:1px solid #eee;padding-top:.4rem}
details{margin:.3rem 0 1rem}.notes{color:#555}
`;

/**
 * The page's own script: reads the data block and draws every chart with Chart.js. It builds no markup: text
 * from the data only ever reaches Chart.js (canvas text and tooltips).
 */
export const APP_SCRIPT = `(function () {
'use strict';
var data = JSON.parse(document.getElementById('report-data').textContent);
var C = window.Chart;
C.defaults.animation = false;
C.defaults.responsive = true;
C.defaults.maintainAspectRatio = false;
C.defaults.font.family = 'system-ui, sans-serif';
var PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939'];
var ids = data.detectors.map(function (d) { return d.id; });
function colour(id) { var i = ids.indexOf(id); return i < 0 ? '#555' : PALETTE[i % PALETTE.length]; }
function label(id) { var i = ids.indexOf(id); return i < 0 ? id : data.detectors[i].label; }
function day(ms) { return new Date(ms).toISOString().slice(0, 10); }
function stamp(ms) { return new Date(ms).toISOString().slice(0, 16).replace('T', ' ') + 'Z'; }
var HOUR = 3600000, DAY = 86400000;
var STEPS = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];
// Ticks on whole UTC days (or hours, for less than a couple of days), at most about eight.
function timeAxis(min, max) {
  var pad = Math.max(HOUR, (max - min) * 0.02);
  var lo = min - pad, hi = max + pad;
  var step = STEPS.filter(function (s) { return (hi - lo) / s <= 8; })[0] || STEPS[STEPS.length - 1];
  return { type: 'linear', min: lo, max: hi,
    afterBuildTicks: function (ax) {
      var ticks = [];
      for (var t = Math.ceil(lo / step) * step; t <= hi; t += step) ticks.push({ value: t });
      ax.ticks = ticks;
    },
    ticks: { autoSkip: false, maxRotation: 0, callback: function (v) { return step < DAY ? stamp(v) : day(v); } } };
}
function draw(id, config) {
  var el = document.getElementById(id);
  if (el) new C(el, config);
}
function pct(r) { return r === null ? null : Math.round(r * 1000) / 10; }

if (data.alerts.length > 0) {
  var groups = {};
  data.alerts.forEach(function (a) { (groups[a.detectorId] = groups[a.detectorId] || []).push(a); });
  var ts = data.alerts.map(function (a) { return a.t; });
  draw('chart-timeline', {
    type: 'scatter',
    data: { datasets: Object.keys(groups).map(function (id) {
      return { label: label(id), backgroundColor: colour(id), borderColor: colour(id), pointRadius: 4,
        data: groups[id].map(function (a) { return { x: a.t, y: a.score, a: a }; }) };
    }) },
    options: {
      scales: { x: timeAxis(Math.min.apply(null, ts), Math.max.apply(null, ts)), y: { min: 0, max: 100, title: { display: true, text: 'score' } } },
      plugins: { tooltip: { callbacks: { label: function (c) {
        var a = c.raw.a;
        return stamp(a.t) + ' ' + label(a.detectorId) + ' ' + a.score + ': ' + a.subject + ' from ' + a.ip + (a.owner ? ' (' + a.owner + ')' : '');
      } } } }
    }
  });
}

data.scores.forEach(function (s, i) {
  draw('chart-score-' + i, {
    type: 'bar',
    data: {
      labels: s.bins.map(function (b) { return b + '–' + (b + 4 === 99 ? 100 : b + 4); }),
      datasets: [
        { label: 'below ' + s.threshold, data: s.below, backgroundColor: '#b8b8c0', stack: 's' },
        { label: 'at or above ' + s.threshold, data: s.atOrAbove, backgroundColor: colour(s.detectorId), stack: 's' }
      ]
    },
    options: { scales: { x: { stacked: true, title: { display: true, text: 'score' } }, y: { stacked: true, beginAtZero: true, title: { display: true, text: s.counted } } } }
  });
});

data.users.forEach(function (p, i) {
  var n = p.places.length;
  var xs = [];
  p.places.forEach(function (r) { xs.push(r.first, r.last); });
  p.logons.forEach(function (l) { xs.push(l[0]); });
  p.alerts.forEach(function (a) { xs.push(a.t); });
  var spans = p.places.map(function (r, row) {
    return { label: 'seen', data: [{ x: r.first, y: row }, { x: r.last, y: row }], showLine: true, borderWidth: 6,
      borderColor: r.note ? '#f3b3b3' : '#9ecae1', backgroundColor: '#9ecae1', pointRadius: 2, order: 3, span: true };
  });
  var ok = p.logons.filter(function (l) { return l[2] === 1; });
  var failed = p.logons.filter(function (l) { return l[2] === 0; });
  var marks = [];
  p.alerts.forEach(function (a) { a.rows.forEach(function (row) { marks.push({ x: a.t, y: row, a: a }); }); });
  draw('chart-places-' + i, {
    type: 'scatter',
    data: { datasets: spans.concat([
      { label: 'successful logon', data: ok.map(function (l) { return { x: l[0], y: l[1] }; }), pointRadius: 2, backgroundColor: '#2b6cb0', order: 2 },
      { label: 'failed logon', data: failed.map(function (l) { return { x: l[0], y: l[1] }; }), pointRadius: 2, pointStyle: 'crossRot', borderColor: '#999', order: 2 },
      { label: 'alerted logon', data: marks, pointStyle: 'triangle', pointRadius: 8, backgroundColor: '#d62728', borderColor: '#7a0000', order: 1 }
    ]) },
    options: {
      scales: {
        x: timeAxis(Math.min.apply(null, xs), Math.max.apply(null, xs)),
        y: { type: 'linear', reverse: true, min: -0.5, max: n - 0.5, afterBuildTicks: function (ax) { ax.ticks = p.places.map(function (_, v) { return { value: v }; }); },
          ticks: { autoSkip: false, callback: function (v) { var r = p.places[v]; return r ? r.label : ''; } } }
      },
      plugins: {
        legend: { labels: { filter: function (item, d) { return !d.datasets[item.datasetIndex].span; } } },
        tooltip: { callbacks: { label: function (c) {
          var r = p.places[c.raw.y];
          if (c.raw.a) return 'alerted: ' + label(c.raw.a.detectorId) + ' ' + c.raw.a.score + ' at ' + stamp(c.raw.x);
          return (r ? r.label : '') + ' ' + stamp(c.raw.x);
        } } }
      }
    }
  });
  var hours = [];
  for (var h = 0; h < 24; h++) hours.push(h < 10 ? '0' + h : String(h));
  var alerted = hours.map(function () { return 0; });
  p.alertHours.forEach(function (h) { alerted[h]++; });
  var sets = [];
  if (p.hours) {
    sets.push({ label: 'weekdays (learned)', data: p.hours.weekday, backgroundColor: '#9ecae1', stack: 'learned', yAxisID: 'y' });
    sets.push({ label: 'weekends (learned)', data: p.hours.weekend, backgroundColor: '#c6dbef', stack: 'learned', yAxisID: 'y' });
  }
  sets.push({ label: 'alerted logons', data: alerted, backgroundColor: '#d62728', stack: 'alerts', yAxisID: 'y1' });
  draw('chart-hours-' + i, {
    type: 'bar',
    data: { labels: hours, datasets: sets },
    options: { scales: {
      x: { stacked: true, title: { display: true, text: 'hour of day (' + p.zone + ')' } },
      y: { stacked: true, beginAtZero: true, display: !!p.hours, title: { display: true, text: 'learned periods' } },
      y1: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, ticks: { precision: 0 }, title: { display: true, text: 'alerts' } }
    } }
  });
});

var e = data.evaluation;
if (e) {
  var RULES = ['#1f77b4', '#ff7f0e', '#8c564b', '#7f7f7f'];
  var names = e.scenarios.map(function (s) { return s.name; });
  function perRule(f) {
    return e.rules.map(function (r, k) {
      return { label: r, backgroundColor: RULES[k % RULES.length], data: e.scenarios.map(function (s) { return s.byRule[r] ? f(s.byRule[r]) : null; }) };
    });
  }
  draw('chart-eval-recall', { type: 'bar', data: { labels: names, datasets: perRule(function (x) { return pct(x.recall); }) },
    options: { plugins: { title: { display: true, text: 'Recall (% of attacks alerted)' } }, scales: { y: { min: 0, max: 100 } } } });
  draw('chart-eval-false', { type: 'bar', data: { labels: names, datasets: perRule(function (x) { return x.falseAlerts > 0 ? x.falseAlerts : null; }) },
    options: { plugins: { title: { display: true, text: 'False alerts (log scale; none: no bar)' } }, scales: { y: { type: 'logarithmic' } } } });
  var dn = e.detectors.map(function (d) { return d.name; });
  var dc = e.detectors.map(function (d) { return d.kind === 'naive' ? '#ff7f0e' : d.kind === 'all' ? '#1f77b4' : '#6baed6'; });
  draw('chart-eval-det-recall', { type: 'bar', data: { labels: dn, datasets: [{ label: 'recall %', backgroundColor: dc, data: e.detectors.map(function (d) { return pct(d.recall); }) }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false }, title: { display: true, text: 'Recall (% of all attacks)' } }, scales: { x: { min: 0, max: 100 } } } });
  draw('chart-eval-det-false', { type: 'bar', data: { labels: dn, datasets: [{ label: 'false alerts', backgroundColor: dc, data: e.detectors.map(function (d) { return d.falseAlerts > 0 ? d.falseAlerts : null; }) }] },
    options: { indexAxis: 'y', plugins: { legend: { display: false }, title: { display: true, text: 'False alerts (log scale)' } }, scales: { x: { type: 'logarithmic' } } } });
}
})();
`;

/** The whole page. `chartJs`: Chart.js's UMD build, inlined as it is. */
export function renderReport(m: ReportModel, chartJs: string): string {
  const libScript = inlineScript(chartJs, "Chart.js's source");
  const appScript = inlineScript(APP_SCRIPT, 'the report script');
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHash(chartJs)} ${scriptHash(APP_SCRIPT)}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const page = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta http-equiv="Content-Security-Policy" content="${csp}"><title>${m.title}</title><style>${new Html(STYLE)}</style></head>
<body><header><h1>${m.title}</h1><p class="source">${m.source}</p></header>
<noscript><p>The charts need JavaScript; the tables hold the same figures.</p></noscript>
${summarySection(m)}${timelineSection(m)}${scoresSection(m)}${userSection(m)}${evaluationSection(m)}${alertsSection(m)}
<footer><p class="meta">Made by authwatch report. Charts drawn by Chart.js (MIT licence), embedded in this file.</p></footer>
<script type="application/json" id="report-data">${new Html(jsonForScript(m))}</script>
${libScript}
${appScript}
</body></html>
`;
  return page.markup;
}
