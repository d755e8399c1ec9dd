/**
 * `authwatch report`: the I/O around the report's pure parts (cli/report/model.ts, evaluation.ts, html.ts). Reads
 * Chart.js's build from node_modules, an evaluation's JSON, or the OperatorStore's scans; writes the page.
 * The replay itself runs in cli/authwatch.ts (`runReplay`, shared with `replay` and `demo`), which hands over
 * what it produced: the delivered alerts, the findings, the logons and the embedded store's baselines.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import * as z from 'zod';
import type { NetworkDatabase } from '../shared/core/network-data/lookup';
import {
  type Alert,
  DAY_MS,
  type LedgerEntry,
  type LogonEvent,
  type NetworkOwner,
  type UserBaseline,
} from '../shared/core/model';
import type { DetectionSettings } from '../shared/core/settings';
import type { OperatorStore } from '../shared/ports/baseline-store';
import { ConfigError } from '../shared/errors';
import { safeText } from './format';
import type { ReplayResult } from './replay';
import { evalReport, parseEvalOutput } from './report/evaluation';
import { renderReport } from './report/html';
import { alertReport, type AlertReportInput, type FindingTally, type ReportModel } from './report/model';

/** Where `authwatch report` writes without `--out` (in .gitignore). */
export const DEFAULT_REPORT_FILE = 'authwatch-report.html';

/** Where the demo writes its report: the OS temp dir, so `npm start` in a clone leaves nothing in it. */
export function demoReportFile(): string {
  return join(tmpdir(), 'authwatch-demo-report.html');
}

/** Chart.js's UMD build, read from the installed package at report time (its source map comment dropped: the page loads nothing). */
export async function chartJsSource(): Promise<string> {
  const main = createRequire(import.meta.url).resolve('chart.js');
  const file = join(dirname(main), 'chart.umd.min.js');
  const source = await readFile(file, 'utf8');
  return source.replace(/\n\/\/# sourceMappingURL=\S*\s*$/, '\n');
}

/** Render the model and write the page; returns the absolute path written. */
export async function writeReport(model: ReportModel, file: string): Promise<string> {
  const page = renderReport(model, await chartJsSource());
  const path = resolve(file);
  try {
    await writeFile(path, page, 'utf8');
  } catch (e) {
    throw new ConfigError([`--out ${file}: cannot write the report (${(e as Error).message})`]);
  }
  return path;
}

/** The owner of an address in the run's network data, as the panels name it. */
export function ownerLookup(db: NetworkDatabase | undefined): ((ip: string) => NetworkOwner | undefined) | undefined {
  if (!db) return undefined;
  return (ip) => {
    const r = db.lookup(ip);
    return r.known ? { asn: r.asn, org: r.org, ...(r.country ? { country: r.country } : {}) } : undefined;
  };
}

/** What a replay hands the report. */
export interface ReplayOutcome {
  readonly alerts: readonly Alert[];
  readonly logons: readonly LogonEvent[];
  /** The embedded store's baselines after the replay, of the users with successful logons. */
  readonly baselines: ReadonlyMap<string, UserBaseline>;
  readonly result?: ReplayResult;
}

/** A replay's report. `input`: the log file's name; `extra`: rows the caller adds to the summary (the demo's scores). */
export function replayReportModel(o: {
  readonly outcome: ReplayOutcome;
  readonly findings: FindingTally;
  readonly settings: DetectionSettings;
  readonly input: string;
  readonly title?: string;
  readonly network?: NetworkDatabase;
  readonly note?: AlertReportInput['note'];
  readonly extra?: readonly (readonly [string, string])[];
}): ReportModel {
  const r = o.outcome.result;
  const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
  return alertReport({
    title: o.title ?? 'authwatch replay',
    source: `replay of ${o.input}`,
    summary: [
      ...(r
        ? [
            [
              'replayed',
              `${iso(r.first)} → ${iso(r.last)} (${((r.last - r.first) / DAY_MS).toFixed(1)} days, ${r.windows} windows)`,
            ] as const,
            ['learning until', r.learningEndsAt ?? '-'] as const,
          ]
        : []),
      ['logons', String(o.outcome.logons.length)],
      ['users with a baseline', String(o.outcome.baselines.size)],
      ['alerts', String(o.outcome.alerts.length)],
      ...(r
        ? [
            ['deduplicated', `${r.alertsDeduplicated} (already raised by an overlapping window)`] as const,
            ['allowlisted', String(r.alertsSuppressed)] as const,
            ['cut by the per-run cap', String(r.cutByCap)] as const,
          ]
        : []),
      ...(o.extra ?? []),
    ],
    thresholds: o.settings.thresholds,
    findings: o.findings,
    alerts: o.outcome.alerts,
    baselines: o.outcome.baselines,
    logons: o.outcome.logons,
    ...(o.network ? { ownerOf: ownerLookup(o.network)! } : {}),
    settings: o.settings,
    ...(o.note ? { note: o.note } : {}),
  });
}

/** An evaluation's report, from the JSON `npm run eval` wrote. */
export async function evalReportModel(file: string): Promise<ReportModel> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError([
      `--eval ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([
      `--eval ${file}: not JSON (${(e as Error).message}); write it with npm run eval -- --json <file>`,
    ]);
  }
  return evalReport(parseEvalOutput(json, `--eval ${file}`), `evaluation ${file}`);
}

/** Alerts of the table's report at most: each is one read of its ledger document. */
export const MAX_TABLE_ALERTS = 1_000;
/** Ledger documents read at once. */
const READ_CONCURRENCY = 8;

/**
 * The fields of a stored alert document the report reads: the ledger keeps documents exactly as delivered, and a
 * document that does not have them (cut by the store's size bound, or written by another version) is counted and
 * left out, never a crash.
 */
const alertDocumentSchema = z.looseObject({
  id: z.string(),
  '@timestamp': z.string().refine((s) => Number.isFinite(Date.parse(s))),
  rule: z.looseObject({ id: z.string(), severity: z.string(), threshold: z.number() }),
  user: z.looseObject({ name: z.string() }),
  source: z.looseObject({
    ip: z.string(),
    as: z.looseObject({ number: z.number(), organization: z.object({ name: z.string() }).optional() }).optional(),
    geo: z.looseObject({ country_iso_code: z.string() }).optional(),
  }),
  score: z.number(),
});

/** A ledger document as an alert, or undefined when it is absent or not one. */
export function ledgerAlert(e: LedgerEntry): Alert | undefined {
  if (e.document === undefined) return undefined;
  try {
    const r = alertDocumentSchema.safeParse(JSON.parse(e.document));
    return r.success ? (r.data as unknown as Alert) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The deployed table's (or a kept local store's) report: the alerts raised in the `days` up to the last completed
 * window (the ledger, scanned, then each alert's document read), and the baselines of their users (scanned).
 */
export async function tableReportModel(
  store: OperatorStore,
  opts: { readonly days: number; readonly settings: DetectionSettings; readonly where: string; readonly now: number },
): Promise<ReportModel> {
  const state = await store.getRunState();
  const asOf = state && state.lastWindowEnd > 0 ? state.lastWindowEnd : opts.now;
  const from = asOf - opts.days * DAY_MS;
  const recent: LedgerEntry[] = [];
  for await (const e of store.scanLedger()) {
    if (e.expiresAtEpochSeconds * 1000 <= asOf) continue; // expired; DynamoDB's TTL deletes lazily
    if (e.raisedAtMs > from && e.raisedAtMs <= asOf) recent.push(e);
  }
  recent.sort((a, b) => b.raisedAtMs - a.raisedAtMs || (a.id < b.id ? -1 : 1));
  const read = recent.slice(0, MAX_TABLE_ALERTS);
  const alerts: Alert[] = [];
  let unreadable = 0;
  for (let i = 0; i < read.length; i += READ_CONCURRENCY) {
    const entries = await Promise.all(read.slice(i, i + READ_CONCURRENCY).map((e) => store.getLedgerEntry(e.id)));
    for (const e of entries) {
      const a = e ? ledgerAlert(e) : undefined;
      if (a) alerts.push(a);
      else unreadable++;
    }
  }
  const users = new Set(alerts.map((a) => a.user.name).filter((u) => u !== ''));
  const baselines = new Map<string, UserBaseline>();
  let stored = 0;
  for await (const u of store.scanUsers()) {
    stored++;
    if (users.has(u.user)) baselines.set(u.user, u);
  }
  // The thresholds the alerts were raised with (each document says); the settings' for detectors without one.
  const thresholds: Record<string, number> = { ...opts.settings.thresholds };
  for (const a of [...alerts].reverse()) thresholds[a.rule.id] = a.rule.threshold;
  const day = (t: number) => new Date(t).toISOString().slice(0, 16).replace('T', ' ') + 'Z';
  return alertReport({
    title: 'authwatch: recent alerts',
    source: opts.where,
    summary: [
      [
        'alerts raised',
        `${recent.length} from ${day(from)} to ${day(asOf)} (the last ${opts.days} days up to the last completed window)`,
      ],
      ['users with a baseline', String(stored)],
      ...(read.length < recent.length ? [['shown', `the newest ${read.length}`] as const] : []),
      ...(unreadable > 0
        ? [
            [
              'without a readable document',
              `${unreadable} (kept by the ledger without its document, or expired since)`,
            ] as const,
          ]
        : []),
    ],
    thresholds,
    alerts,
    baselines,
    settings: opts.settings,
    notes: [
      'The table keeps no logons: the user panels show the places each baseline learned, from first to last seen.',
    ],
  });
}

/** `--days`: a positive number of days. */
export function reportDays(v: string | undefined): number {
  if (v === undefined) return 7;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new ConfigError([`--days: "${safeText(v, 40)}" is not a positive number of days`]);
  return n;
}
