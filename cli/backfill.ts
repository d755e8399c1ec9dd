/**
 * `authwatch backfill`: prime the baselines from history (CloudWatch Logs or a local file) without raising
 * alerts, so the learning period counts as served for the days covered.
 *
 * The composition root of the `backfill` use case (shared/backfill.ts, where how history is walked and why is
 * explained): this file parses the flags, builds the source (a Logs Insights source or a file) and the target
 * (the deployed table or a local store), estimates what CloudWatch Logs will scan, keeps the checkpoint in a
 * file, draws the progress bar and prints the summary. `--concurrency` and `--window-hours` set the use case's
 * parallel fetches and commit window.
 *
 * `--alerts` is a different mode: it analyses a past range *with* alerts through the detector's own catch-up
 * (`analyseRange`), by default the ranges the detector skipped after an outage longer than `maxBacklogDays`.
 *
 * Resumable: progress is kept in a small local checkpoint file (shared/adapters/file-checkpoint.ts):
 * `--checkpoint <path>`, default `.authwatch/backfill-<hash of the arguments>.json` in the current directory.
 * Ctrl-C finishes the current commit window and saves the checkpoint; a second Ctrl-C stops at once (the
 * checkpoint then holds the last completed window).
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { DescribeLogGroupsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import { createDynamoDbClient, createLogsClient, createSnsClient } from '../shared/adapters/aws-clients';
import { fileCheckpoint } from '../shared/adapters/file-checkpoint';
import { InMemoryAlertSink } from '../shared/adapters/in-memory-alert-sink';
import { SnsAlertSink } from '../shared/adapters/sns-alert-sink';
import { analyseRange } from '../shared/run-scheduled';
import { DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import { LogsInsightsLogSource, type LogsInsightsLogSourceProps } from '../shared/adapters/logs-insights-log-source';
import { MAX_LOG_GROUPS_PER_QUERY } from '../shared/core/insights-query';
import {
  backfill,
  DEFAULT_COMMIT_WINDOW_HOURS,
  DEFAULT_CONCURRENCY,
  QUERY_WINDOW_MS,
  type BackfillProgress,
  type BackfillResult,
} from '../shared/backfill';
import { learningPeriod } from '../shared/core/learning-period';
import { BUCKET_MS, DAY_MS, type TimeWindow } from '../shared/core/model';
import { getProfile } from '../shared/core/profiles';
import { compileIdentityRules, hasIdentityRules } from '../shared/core/identity';
import { withIdentities } from '../shared/adapters/identity-log-source';
import { loadDefinitions, type CliDefinitions } from './config-file';
import { detectionSettingsSchema, formatIssues, type DetectionSettings } from '../shared/core/settings';
import { ConfigError } from '../shared/errors';
import type { AlertSink, DetectionStore, LogSource } from '../shared/ports';
import { readingCounts, safeText } from './format';
import { fileLogSource, loadCliNetworkData, zeroLogonHintForFile } from './input';
import { openLocalStore } from './local';

// ---------------------------------------------------------------------------------------------
// Limits of the command line
// ---------------------------------------------------------------------------------------------

/** Upper bound of `--concurrency`: well below the account's concurrent-query quota. */
export const MAX_CONCURRENCY = 16;
/** Longest history asked of CloudWatch Logs in one backfill (Insights can query up to the retention anyway). */
export const MAX_BACKFILL_DAYS = 400;
/** Without a terminal, one progress line every this many commit windows (a day at the default 6 h). */
export const DEFAULT_PROGRESS_EVERY = 4;

/** A stable key for a backfill's arguments (what it reads and where it writes), for the default checkpoint path. */
export function backfillKey(args: Record<string, unknown>): string {
  const canonical = JSON.stringify(
    Object.keys(args)
      .sort()
      .map((k) => [k, args[k]]),
  );
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

function alignDown(t: number): number {
  return Math.floor(t / BUCKET_MS) * BUCKET_MS;
}

function alignUp(t: number): number {
  return Math.ceil(t / BUCKET_MS) * BUCKET_MS;
}

// ---------------------------------------------------------------------------------------------
// Scan estimate (CloudWatch Logs)
// ---------------------------------------------------------------------------------------------

export interface ScanEstimate {
  /** Estimated bytes the backfill's queries will scan. An estimate: see `estimateInsightsScan`. */
  readonly bytes: number;
  /** 15-minute query windows = Insights queries, before any split of a window that hits the row cap. */
  readonly queries: number;
  readonly groups: readonly { name: string; storedBytes: number; retainedDays: number; estimatedBytes: number }[];
  /** Log groups DescribeLogGroups did not return (a typo, another region or account). */
  readonly missing: readonly string[];
}

/**
 * Insights has no dry run that says what a query would scan. We estimate from `DescribeLogGroups`:
 * each group's `storedBytes` spread evenly over the time it holds (the shorter of its retention and its
 * age), pro-rated to the part of the span inside that time. Uneven traffic, and stored versus scanned size
 * (Insights bills the bytes it scans), make this an estimate, and it is labelled so.
 */
export async function estimateInsightsScan(
  client: CloudWatchLogsClient,
  logGroupNames: readonly string[],
  span: TimeWindow,
  now: number,
): Promise<ScanEstimate> {
  const found = new Map<string, { storedBytes: number; creationTime: number; retentionInDays?: number }>();
  let nextToken: string | undefined;
  do {
    const res = await client.send(
      new DescribeLogGroupsCommand({ logGroupIdentifiers: [...logGroupNames], ...(nextToken ? { nextToken } : {}) }),
    );
    for (const g of res.logGroups ?? []) {
      if (!g.logGroupName) continue;
      const held = {
        storedBytes: g.storedBytes ?? 0,
        creationTime: g.creationTime ?? 0,
        ...(g.retentionInDays !== undefined ? { retentionInDays: g.retentionInDays } : {}),
      };
      found.set(g.logGroupName, held);
      // A linked source account's group is asked for by ARN (cross-account observability): found under it too.
      if (g.logGroupArn) found.set(g.logGroupArn.replace(/:\*$/, ''), held);
    }
    nextToken = res.nextToken;
  } while (nextToken);

  const groups: ScanEstimate['groups'][number][] = [];
  const missing: string[] = [];
  for (const name of logGroupNames) {
    const g = found.get(name);
    if (!g) {
      missing.push(name);
      continue;
    }
    const heldSince = Math.max(
      g.creationTime,
      g.retentionInDays !== undefined ? now - g.retentionInDays * DAY_MS : -Infinity,
    );
    const heldMs = Math.max(now - heldSince, BUCKET_MS);
    const overlap = Math.max(0, Math.min(span.end, now) - Math.max(span.start, heldSince));
    groups.push({
      name,
      storedBytes: g.storedBytes,
      retainedDays: heldMs / DAY_MS,
      estimatedBytes: Math.round((g.storedBytes * Math.min(overlap, heldMs)) / heldMs),
    });
  }
  return {
    bytes: groups.reduce((n, g) => n + g.estimatedBytes, 0),
    queries: Math.max(0, Math.ceil((alignUp(span.end) - alignDown(span.start)) / QUERY_WINDOW_MS)),
    groups,
    missing,
  };
}

// ---------------------------------------------------------------------------------------------
// Progress on stderr
// ---------------------------------------------------------------------------------------------

export interface ProgressStream {
  write(s: string): unknown;
  readonly isTTY?: boolean;
}

/** A progress bar redrawn in place on a terminal; otherwise a plain line every `every` commit windows. */
export function progressReporter(stream: ProgressStream, opts: { every?: number; width?: number } = {}) {
  const tty = stream.isTTY === true;
  const every = opts.every ?? DEFAULT_PROGRESS_EVERY;
  const width = opts.width ?? 24;
  let drawn = false;
  const line = (p: BackfillProgress): string => {
    const eta =
      p.bucketsFetched > 0 ? ((p.bucketsToFetch - p.bucketsFetched) * p.elapsedMs) / p.bucketsFetched : undefined;
    return (
      `windows ${p.windowsDone}/${p.windowsTotal} · ${p.logons.toLocaleString('en-US')} logons · ${p.users.toLocaleString('en-US')} users` +
      ` · done until ${iso(p.doneUntil).slice(0, 16)}Z · ETA ${eta === undefined ? '…' : duration(eta)}`
    );
  };
  return {
    update(p: BackfillProgress, event: 'fetched' | 'committed'): void {
      if (tty) {
        const share = p.bucketsToFetch > 0 ? p.bucketsFetched / p.bucketsToFetch : 1;
        const filled = Math.round(share * width);
        stream.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${line(p)}`);
        drawn = true;
      } else if (event === 'committed' && (p.windowsDone % every === 0 || p.windowsDone === p.windowsTotal)) {
        stream.write(`backfill: ${line(p)}\n`);
      }
    },
    /** End the bar's line before anything else is written. */
    done(): void {
      if (tty && drawn) stream.write('\n');
      drawn = false;
    },
  };
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function iso(t: number): string {
  return new Date(t).toISOString();
}

function gigabytes(bytes: number): string {
  return `${(bytes / 1e9).toFixed(bytes < 1e9 ? 3 : 1)} GB`;
}

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

type Flags = Readonly<Record<string, string | boolean | string[] | undefined>>;

/** Injectable edges of `cmdBackfill`, for tests; the command line passes none. */
export interface BackfillIo {
  readonly err?: ProgressStream;
  /** Where `--alerts` without `--topic-arn` prints the alerts (default stdout). */
  readonly out?: { write(s: string): unknown };
  readonly snsClient?: SNSClient;
  readonly now?: () => number;
  readonly logsClient?: CloudWatchLogsClient;
  readonly dynamoClient?: DynamoDBClient;
  /** Overrides of the Insights source (tests: a fast sleep). */
  readonly sourceProps?: Partial<LogsInsightsLogSourceProps>;
  /** Stop after the current window (tests); Ctrl-C does the same on the command line. */
  readonly signal?: AbortSignal;
  /** Directory of the default checkpoint (default: the current directory). */
  readonly cwd?: string;
  /** Listen for SIGINT (default true). */
  readonly handleSigint?: boolean;
}

interface ParsedFlags {
  profileId: string;
  logGroups: string[];
  days?: number;
  input?: string;
  table?: string;
  store?: string;
  concurrency: number;
  windowHours: number;
  checkpoint?: string;
  fresh: boolean;
  estimateOnly: boolean;
  settings: DetectionSettings;
}

/** Every problem with the flags at once, as `ConfigError`. */
export function parseBackfillFlags(flags: Flags, positionals: readonly string[]): ParsedFlags {
  const issues: string[] = [];
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const int = (name: string, min: number, max: number): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      issues.push(`--${name}: "${v}" is not a whole number from ${min} to ${max}`);
      return undefined;
    }
    return n;
  };
  if (positionals.length > 0)
    issues.push(`backfill takes no positional arguments (got ${positionals.map((p) => JSON.stringify(p)).join(' ')})`);
  const profileId = str('profile');
  if (!profileId) issues.push('--profile is required');
  const rawGroups = flags['log-group'];
  const logGroups = Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [];
  const input = str('input');
  if (logGroups.length > 0 && input)
    issues.push('give either --log-group (CloudWatch Logs) or --input (a file), not both');
  if (logGroups.length === 0 && !input)
    issues.push('give --log-group <name> (repeatable) with --days <n>, or --input <file>');
  if (logGroups.length > MAX_LOG_GROUPS_PER_QUERY)
    issues.push(
      `--log-group: at most ${MAX_LOG_GROUPS_PER_QUERY} log groups (one Insights query takes at most that many)`,
    );
  if (logGroups.some((g) => g.trim() === '')) issues.push('--log-group: a log group name is empty');
  const days = int('days', 1, MAX_BACKFILL_DAYS);
  if (logGroups.length > 0 && days === undefined && str('days') === undefined)
    issues.push('--days <n> is required with --log-group');
  const table = str('table');
  const store = str('store');
  if ((table ? 1 : 0) + (store ? 1 : 0) !== 1)
    issues.push('give exactly one of --table <name> (the deployed table) or --store <dir> (a local store)');
  const concurrency = int('concurrency', 1, MAX_CONCURRENCY) ?? DEFAULT_CONCURRENCY;
  const windowHours = int('window-hours', 1, 24 * 7) ?? DEFAULT_COMMIT_WINDOW_HOURS;
  // Priming learns addresses; owners and countries only appear in alerts.
  if (str('network-data') !== undefined)
    issues.push('--network-data applies with --alerts only (priming raises no alert)');
  const parsed = settingsFromLearningDays(str('learning-days'), issues);
  if (profileId) {
    try {
      getProfile(profileId, { custom: loadDefinitions(flags).customProfiles });
    } catch (e) {
      issues.push(...(e instanceof ConfigError ? e.issues : [String(e)]));
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    profileId: profileId!,
    logGroups,
    ...(days !== undefined ? { days } : {}),
    ...(input ? { input } : {}),
    ...(table ? { table } : {}),
    ...(store ? { store } : {}),
    concurrency,
    windowHours,
    ...(str('checkpoint') ? { checkpoint: str('checkpoint')! } : {}),
    fresh: flags.fresh === true,
    estimateOnly: flags['estimate-only'] === true,
    settings: parsed.data!,
  };
}

/**
 * `authwatch backfill ...`: the composition root. Returns the exit code: 0 done (or nothing to do),
 * 130 interrupted (rerun the same command to resume).
 */
export async function cmdBackfill(flags: Flags, positionals: readonly string[], io: BackfillIo = {}): Promise<number> {
  if (flags.alerts === true) return cmdBackfillWithAlerts(flags, positionals, io);
  const f = parseBackfillFlags(flags, positionals);
  const err = io.err ?? process.stderr;
  const now = io.now ?? Date.now;
  const definitions = loadDefinitions(flags);
  const profile = getProfile(f.profileId, { custom: definitions.customProfiles });
  const cwd = io.cwd ?? process.cwd();

  // The source and the span.
  let source: LogSource;
  let span: TimeWindow;
  let logsClient: CloudWatchLogsClient | undefined;
  if (f.input) {
    const file = await fileLogSource(f.input, profile, '--input ');
    const ps = file.parseStats;
    err.write(
      `Parsed ${safeText(f.input, 200)}: ${ps.lines} lines, ${ps.events} logons, ${ps.skipped} other lines, ${ps.malformed} malformed${readingCounts(ps)}\n`,
    );
    const ts = file.timeSpan();
    if (!ts) {
      const hint = await zeroLogonHintForFile(f.input, profile.id, file);
      err.write(`${hint ? `authwatch backfill: ${hint}.\n` : ''}No logons in the input: nothing to backfill.\n`);
      return 0;
    }
    const end = alignDown(ts.last) + BUCKET_MS;
    span = { start: f.days !== undefined ? Math.max(ts.first, end - f.days * DAY_MS) : ts.first, end };
    source = file;
  } else {
    logsClient = io.logsClient ?? createLogsClient();
    const end = alignDown(now());
    span = { start: end - f.days! * DAY_MS, end };
    source = new LogsInsightsLogSource({ client: logsClient, profile, logGroupNames: f.logGroups, ...io.sourceProps });
  }

  // Primed under the identities the detector will judge by, or the first runs would find everyone new.
  source = underIdentities(source, definitions);

  const checkpointKey = backfillKey({
    source: f.input
      ? { input: resolve(cwd, f.input), days: f.days ?? null }
      : {
          logGroups: [...f.logGroups].sort(),
          days: f.days,
          region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null,
        },
    profile: f.profileId,
    target: f.table
      ? { table: f.table, region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? null }
      : { store: resolve(cwd, f.store!) },
  });
  const checkpointPath = f.checkpoint
    ? resolve(cwd, f.checkpoint)
    : join(cwd, '.authwatch', `backfill-${checkpointKey}.json`);
  const checkpoint = fileCheckpoint(checkpointPath);

  // What it will cost, before anything is queried.
  if (logsClient) {
    const saved = f.fresh ? undefined : await checkpoint.load().catch(() => undefined);
    const todo: TimeWindow =
      saved && saved.key === checkpointKey
        ? { start: saved.completed ? saved.to : saved.doneUntil, end: saved.to }
        : span;
    try {
      const est = await estimateInsightsScan(logsClient, f.logGroups, todo, now());
      err.write(
        `Estimate (no dry run exists: stored size of the log groups pro-rated to the ${((todo.end - todo.start) / DAY_MS).toFixed(1)} days asked): ` +
          `about ${gigabytes(est.bytes)} scanned by ${est.queries} Insights queries (one per 15-minute window; capped windows are split into more)\n`,
      );
      for (const g of est.groups)
        err.write(
          `  ${g.name}: ${gigabytes(g.storedBytes)} stored over ${g.retainedDays.toFixed(0)} days → ~${gigabytes(g.estimatedBytes)}\n`,
        );
      if (est.missing.length > 0)
        err.write(`  not found by DescribeLogGroups (check the name and region): ${est.missing.join(', ')}\n`);
    } catch (e) {
      err.write(
        `Estimate unavailable (DescribeLogGroups failed: ${(e as Error).message}); ${Math.ceil((todo.end - todo.start) / QUERY_WINDOW_MS)} Insights queries.\n`,
      );
    }
    if (f.estimateOnly) return 0;
  } else if (f.estimateOnly) {
    err.write(
      `A local file: nothing is billed. ${Math.ceil((span.end - span.start) / QUERY_WINDOW_MS)} 15-minute windows.\n`,
    );
    return 0;
  }

  // A checkpoint of another backfill at --checkpoint: said in terms of the flags, before the target is opened.
  const existing = f.fresh ? undefined : await checkpoint.load();
  if (existing && existing.key !== checkpointKey)
    throw new ConfigError([
      `checkpoint ${checkpoint.where} belongs to another backfill; remove it, pass --fresh, or choose another --checkpoint`,
    ]);

  // The target.
  const { store, close } = await openTarget(f, io);

  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const onSigint = () => {
    if (controller.signal.aborted) {
      err.write(
        `\nStopped at once; ${checkpointPath} holds the last completed window. Rerun the same command to resume.\n`,
      );
      process.exit(130);
    }
    controller.abort();
    err.write(
      '\nInterrupted: finishing the current window, then saving the checkpoint (Ctrl-C again to stop at once).\n',
    );
  };
  const handleSigint = io.handleSigint ?? true;
  if (handleSigint) process.on('SIGINT', onSigint);
  const bar = progressReporter(err);
  try {
    const r = await backfill({
      source,
      store,
      settings: f.settings,
      span,
      commitWindowMs: f.windowHours * 60 * 60 * 1000,
      concurrency: f.concurrency,
      checkpoint,
      checkpointKey,
      fresh: f.fresh,
      signal: controller.signal,
      onProgress: (p, event) => bar.update(p, event),
      onWarning: (m) => err.write(`Note: ${m}\n`),
      now,
    });
    bar.done();
    err.write(summary(r, checkpointPath, f.settings));
    return r.status === 'interrupted' ? 130 : 0;
  } finally {
    bar.done();
    if (handleSigint) process.off('SIGINT', onSigint);
    await close();
  }
}

function summary(r: BackfillResult, checkpointPath: string, settings: Pick<DetectionSettings, 'learningDays'>): string {
  const span = `${iso(r.from)} → ${iso(r.to)}`;
  switch (r.status) {
    case 'nothing-to-do':
      return `Nothing to backfill: the span ${span} is empty${r.clippedAt !== undefined ? ` once clipped at what the store already learned (${iso(r.clippedAt)})` : ''}.\n`;
    case 'already-complete':
      return `Already backfilled ${span} (${checkpointPath}); pass --fresh to do it again.\n`;
    case 'interrupted':
      return `Interrupted after ${r.windowsDone}/${r.windowsTotal} windows (done until ${iso(r.doneUntil)}); rerun the same command to resume from ${checkpointPath}.\n`;
    case 'completed': {
      const period = r.runState ? learningPeriod(r.runState, settings.learningDays) : undefined;
      return [
        `Backfilled ${span}: ${r.windowsThisRun} windows this run (${r.windowsTotal} in all), ${r.bucketsFetched} queries of 15 minutes${r.queries > r.bucketsFetched ? ` (${r.queries} with splits)` : ''}`,
        `  logons: ${r.logons.toLocaleString('en-US')}, users: ${r.users.toLocaleString('en-US')} (${r.newUsers} new), baselines written: ${r.baselinesWritten}${r.bytesScanned > 0 ? `, scanned: ${gigabytes(r.bytesScanned)}` : ''}${r.malformed > 0 ? `, malformed rows: ${r.malformed}` : ''}`,
        period
          ? `  learning period: counted from ${iso(period.start)}; ${period.end <= r.to ? 'already served' : `ends ${iso(period.end)}`}`
          : '',
        '',
      ]
        .filter((l, i, a) => l !== '' || i === a.length - 1)
        .join('\n');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// --alerts: analyse past ranges with alerts, through the detector's own catch-up
// ---------------------------------------------------------------------------------------------

interface AlertsFlags {
  profileId: string;
  logGroups: string[];
  input?: string;
  table?: string;
  store?: string;
  span?: TimeWindow;
  topicArn?: string;
  /** `--network-data <file>`: owners and countries for the alerts. */
  networkData?: string;
  settings: DetectionSettings;
}

/** Every problem with the `--alerts` flags at once, as `ConfigError`. */
export function parseBackfillAlertsFlags(flags: Flags, positionals: readonly string[], now: number): AlertsFlags {
  const issues: string[] = [];
  const str = (name: string): string | undefined => {
    const v = flags[name];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  if (positionals.length > 0)
    issues.push(`backfill takes no positional arguments (got ${positionals.map((p) => JSON.stringify(p)).join(' ')})`);
  const profileId = str('profile');
  if (!profileId) issues.push('--profile is required');
  else {
    try {
      getProfile(profileId, { custom: loadDefinitions(flags).customProfiles });
    } catch (e) {
      issues.push(...(e instanceof ConfigError ? e.issues : [String(e)]));
    }
  }
  const rawGroups = flags['log-group'];
  const logGroups = Array.isArray(rawGroups) ? rawGroups : typeof rawGroups === 'string' ? [rawGroups] : [];
  const input = str('input');
  if ((logGroups.length > 0 ? 1 : 0) + (input ? 1 : 0) !== 1)
    issues.push('give either --log-group <name> (repeatable) or --input <file>');
  if (logGroups.length > MAX_LOG_GROUPS_PER_QUERY)
    issues.push(
      `--log-group: at most ${MAX_LOG_GROUPS_PER_QUERY} log groups (one Insights query takes at most that many)`,
    );
  const table = str('table');
  const store = str('store');
  if ((table ? 1 : 0) + (store ? 1 : 0) !== 1)
    issues.push('give exactly one of --table <name> (the deployed table) or --store <dir> (a local store)');
  for (const f of ['days', 'window-hours', 'concurrency', 'checkpoint', 'fresh', 'estimate-only']) {
    if (flags[f] !== undefined && flags[f] !== false)
      issues.push(`--${f} does not apply with --alerts (give --from and --to for a range other than the skipped ones)`);
  }
  const time = (name: string): number | undefined => {
    const v = str(name);
    if (v === undefined) return undefined;
    const t = Date.parse(v);
    if (!Number.isFinite(t)) issues.push(`--${name}: "${v}" is not a date and time like 2026-11-20T08:00Z`);
    return Number.isFinite(t) ? t : undefined;
  };
  const from = time('from');
  const to = time('to');
  let span: TimeWindow | undefined;
  if ((str('from') === undefined) !== (str('to') === undefined))
    issues.push('give both --from and --to, or neither (the skipped ranges)');
  else if (from !== undefined && to !== undefined) {
    if (!(from < to)) issues.push('--from must be before --to');
    else if (to > now) issues.push('--to is in the future: the detector analyses what has not happened yet on its own');
    else span = { start: from, end: to };
  }
  const topicArn = str('topic-arn');
  if (topicArn && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(topicArn))
    issues.push(`--topic-arn: "${topicArn}" is not an SNS topic ARN`);
  const parsed = settingsFromLearningDays(str('learning-days'), issues);
  if (issues.length > 0) throw new ConfigError(issues);
  return {
    profileId: profileId!,
    logGroups,
    ...(input ? { input } : {}),
    ...(table ? { table } : {}),
    ...(store ? { store } : {}),
    ...(span ? { span } : {}),
    ...(topicArn ? { topicArn } : {}),
    ...(str('network-data') ? { networkData: str('network-data')! } : {}),
    settings: parsed.data!,
  };
}

/**
 * `authwatch backfill --alerts ...`: the composition root of `analyseRange`, the detector's own chunk loop, over
 * the skipped ranges run state records (or `--from`/`--to`). Returns 0 done, 130 interrupted (rerun to resume).
 */
async function cmdBackfillWithAlerts(flags: Flags, positionals: readonly string[], io: BackfillIo): Promise<number> {
  const now = io.now ?? Date.now;
  const f = parseBackfillAlertsFlags(flags, positionals, now());
  const err = io.err ?? process.stderr;
  const out = io.out ?? process.stdout;
  const definitions = loadDefinitions(flags);
  const profile = getProfile(f.profileId, { custom: definitions.customProfiles });
  // Before anything is opened: a wrong file is a mistake reported alone.
  const network = f.networkData !== undefined ? await loadCliNetworkData(f.networkData) : undefined;
  if (network) err.write(`Network owners from ${network.description}\n`);
  const source: LogSource = underIdentities(
    f.input
      ? await fileLogSource(f.input, profile, '--input ')
      : new LogsInsightsLogSource({
          client: io.logsClient ?? createLogsClient(),
          profile,
          logGroupNames: f.logGroups,
          ...io.sourceProps,
        }),
    definitions,
  );

  const { store, close } = await openTarget(f, io);
  const sink: AlertSink = f.topicArn
    ? new SnsAlertSink({ client: io.snsClient ?? createSnsClient(), topicArn: f.topicArn })
    : new InMemoryAlertSink({ onAlert: (a) => void out.write(JSON.stringify(a) + '\n') });

  const controller = new AbortController();
  io.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const onSigint = () => {
    controller.abort();
    err.write('\nInterrupted: finishing the current 15-minute window (what is done is kept; rerun to resume).\n');
  };
  const handleSigint = io.handleSigint ?? true;
  if (handleSigint) process.on('SIGINT', onSigint);
  try {
    const ranges = f.span ? [f.span] : ((await store.getRunState())?.skipped ?? []);
    if (ranges.length === 0) {
      err.write(
        'Nothing to analyse: the detector recorded no skipped ranges (give --from and --to for another range).\n',
      );
      return 0;
    }
    const deps = {
      logSources: [source],
      store,
      sink,
      clock: { now },
      settings: f.settings,
      ...(network ? { network: network.db } : {}),
    };
    let chunks = 0;
    let alerts = 0;
    let skippedLeft: readonly TimeWindow[] = [];
    for (const range of ranges) {
      err.write(`Analysing ${iso(range.start)} → ${iso(range.end)} with alerts, 15 minutes at a time...\n`);
      const r = await analyseRange(deps, range, {
        signal: controller.signal,
        onChunk: (c, s, i, total) => {
          alerts += s.alertIds.length;
          if ((i + 1) % 96 === 0 || i + 1 === total)
            err.write(`  ${i + 1}/${total} windows, done until ${iso(c.end)}, ${alerts} alerts so far\n`);
        },
      });
      chunks += r.chunks.length;
      skippedLeft = r.skippedLeft;
      if (r.chunks.length < r.chunksTotal) {
        err.write(
          `Interrupted at ${iso(r.doneUntil)} after ${chunks} windows and ${alerts} alerts; rerun the same command to resume.\n`,
        );
        return 130;
      }
    }
    err.write(
      `Analysed ${chunks} windows of 15 minutes with alerts: ${alerts} alerts raised${f.topicArn ? ` to ${f.topicArn}` : ' (printed above)'}. ` +
        (skippedLeft.length > 0
          ? `Skipped ranges still recorded: ${skippedLeft.map((w) => `${iso(w.start)} → ${iso(w.end)}`).join(', ')}.\n`
          : 'No skipped range is left.\n'),
    );
    return 0;
  } finally {
    if (handleSigint) process.off('SIGINT', onSigint);
    await close();
  }
}

/** Detection settings from `--learning-days` (the one setting backfill takes); problems go to `issues`. */
function settingsFromLearningDays(learning: string | undefined, issues: string[]) {
  const settingsInput: Record<string, unknown> = {};
  if (learning !== undefined) {
    const n = Number(learning);
    if (!Number.isFinite(n)) issues.push(`--learning-days: "${learning}" is not a number`);
    else settingsInput.learningDays = n;
  }
  const parsed = detectionSettingsSchema.safeParse(settingsInput);
  if (!parsed.success) issues.push(...formatIssues(parsed.error.issues));
  return parsed;
}

/** The store a backfill writes to: the deployed table (`--table`) or a local store kept by replay (`--store`). */
async function openTarget(
  f: { table?: string; store?: string },
  io: BackfillIo,
): Promise<{ store: DetectionStore; close: () => Promise<void> }> {
  if (f.table) {
    const store = new DynamoDbBaselineStore({ client: io.dynamoClient ?? createDynamoDbClient(), tableName: f.table });
    return { store, close: async () => undefined };
  }
  const local = await openLocalStore({ dir: f.store!, keep: true });
  return { store: local.store, close: () => local.close() };
}

/** A source under the configuration's identity rules (`--config`, or ./cdk.json), as the detector wraps its own. */
function underIdentities(source: LogSource, definitions: CliDefinitions): LogSource {
  return hasIdentityRules(definitions.identities)
    ? withIdentities(source, compileIdentityRules(definitions.identities))
    : source;
}
