/**
 * The report in a real browser: Debian's Chromium, headless, driven by playwright-core (one launch for the file).
 * The demo's report (`npm start`) must draw every chart with no console or page error, and a hostile user name
 * from a log must stay text. Chromium is a requirement of this test, not an option: without it the test fails
 * and says so (.ci/run installs it); it never installs anything itself.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cmdDemo, main } from '../../cli/authwatch';
import { DEMO_DIR } from '../../cli/paths';
import { DAY_MS } from '../../shared/core/model';

const CHROMIUM = '/usr/bin/chromium';
const XSS = '</script><img src=x onerror=alert(1)>';
/** The colour of alerted logons in the user panels (html.ts): each panel must show some. */
const ALERT_RGB = [214, 39, 40] as const;

/** Stdout and stderr of `fn` while it runs in-process (the replay's table and summary are not this test's). */
async function capture(fn: () => Promise<unknown>): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  const e = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await fn();
    return { code: typeof code === 'number' ? code : 0, out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

interface CanvasInk {
  id: string;
  width: number;
  height: number;
  /** Pixels not fully transparent: a blank canvas has none. */
  ink: number;
  /** Pixels of the alerted-logon colour. */
  alertColour: number;
}

/** The little of the DOM `inkPerCanvas` uses (the project compiles without the DOM's types). */
interface PageCanvas {
  id: string;
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
}

/** In the page: every canvas's drawn pixels, read back from the canvas itself. */
function inkPerCanvas(rgb: readonly number[]): CanvasInk[] {
  const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<PageCanvas> } }).document;
  return [...doc.querySelectorAll('canvas')].map((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let alertColour = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] !== 0) ink++;
      if (Math.abs(d[i]! - rgb[0]!) + Math.abs(d[i + 1]! - rgb[1]!) + Math.abs(d[i + 2]! - rgb[2]!) < 12) alertColour++;
    }
    return { id: c.id, width: c.width, height: c.height, ink, alertColour };
  });
}

describe('the report in Chromium', () => {
  let browser: Browser;
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(
        `no Chromium at ${CHROMIUM}: the report's browser test needs Debian's chromium package (.ci/run installs it; apt-get install chromium). It fails rather than skips, so a missing browser is never mistaken for a pass.`,
      );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    dir = mkdtempSync(join(tmpdir(), 'authwatch-report-browser-'));
  });
  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Open a page, recording console errors, page errors and dialogs (`alert(1)` would be one). */
  async function open(file: string): Promise<{ page: Page; problems: string[]; dialogs: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const dialogs: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
      dialogs.push(`${d.type()}: ${d.message()}`);
      void d.dismiss();
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request to ${r.url()}`);
    });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    return { page, problems, dialogs };
  }

  it("draws every chart of the demo's report, with no console or page error", async () => {
    const file = join(dir, 'demo-report.html');
    const demo = await capture(() => cmdDemo(DEMO_DIR, undefined, file));
    expect(demo.err).toContain(`Report: ${file}`);
    const { page, problems } = await open(file);
    try {
      const canvases = await page.evaluate(inkPerCanvas, ALERT_RGB);
      const ids = canvases.map((c) => c.id);
      expect(ids).toContain('chart-timeline');
      expect(ids.filter((id) => id.startsWith('chart-score-')).length).toBeGreaterThan(0);
      const panels = ids.filter((id) => id.startsWith('chart-places-'));
      expect(panels.length).toBeGreaterThan(0);
      for (const c of canvases) {
        expect(c.width * c.height, c.id).toBeGreaterThan(0);
        // Axes and gridlines alone ink a few percent; a chart that failed to draw inks nothing.
        expect(c.ink / (c.width * c.height), c.id).toBeGreaterThan(0.02);
      }
      // Every user panel marks the alerted logons, in the places chart and on the hours.
      for (const c of canvases.filter((x) => /^chart-(places|hours)-/.test(x.id)))
        expect(c.alertColour, c.id).toBeGreaterThan(20);
      const shot = join(tmpdir(), 'authwatch-demo-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      console.log(`screenshot of the demo's report: ${shot}`);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  }, 600_000);

  it('shows a user name made of markup as text, and runs none of it', async () => {
    const T0 = Date.UTC(2026, 2, 2);
    const line = (t: number, user: string, ip: string) =>
      JSON.stringify({
        '@timestamp': new Date(t).toISOString(),
        event: { category: ['authentication'], outcome: 'success' },
        user: { name: user },
        source: { ip },
        host: { name: 'web-01' },
      });
    const lines: string[] = [];
    for (let d = 0; d < 2; d++)
      for (let h = 8; h < 18; h++)
        for (const [u, ip] of [
          ['alice', '81.2.69.10'],
          ['bob', '81.2.70.20'],
        ] as const)
          lines.push(line(T0 + d * DAY_MS + h * 3_600_000, u, ip));
    lines.push(line(T0 + 2 * DAY_MS + 9 * 3_600_000, XSS, '8.8.8.8'));
    const log = join(dir, 'auth.jsonl');
    writeFileSync(log, `${lines.join('\n')}\n`);
    const out = join(dir, 'xss-report.html');
    const r = await capture(() =>
      main([
        'report',
        '--profile',
        'ecs',
        '--input',
        log,
        '--learning-days',
        '1',
        '--as-of',
        '2026-03-05',
        '--out',
        out,
      ]),
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toBe(''); // the alerts are in the page, not on stdout
    const { page, problems, dialogs } = await open(out);
    try {
      expect(dialogs).toEqual([]);
      expect(await page.locator('img').count()).toBe(0);
      expect(await page.locator('#users h3').allTextContents()).toEqual([XSS]);
      expect(await page.locator('table.alerts tbody td').allTextContents()).toContain(XSS);
      const canvases = await page.evaluate(inkPerCanvas, ALERT_RGB);
      expect(canvases.map((c) => c.id)).toEqual(['chart-timeline', 'chart-score-0', 'chart-places-0', 'chart-hours-0']);
      for (const c of canvases) expect(c.ink, c.id).toBeGreaterThan(0);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
