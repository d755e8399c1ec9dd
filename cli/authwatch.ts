#!/usr/bin/env node
/**
 * The `authwatch` command line: `npm run authwatch -- <command>`.
 * Each command is a composition root: it builds local adapters and calls the same core the Lambda uses.
 */
import { quietSdkNodeVersionWarning } from './sdk-warning';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FUTURE_SKEW_MS, INVALID_BYTE_MARK, LineReader, type ParseStats } from '../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../shared/adapters/in-memory-alert-sink';
import { MAX_USER_CHARS } from '../shared/core/profiles/common';
import { SystemClock } from '../shared/adapters/system-clock';
import { DETECTORS } from '../shared/core/detectors';
import { detectionSettingsSchema, formatIssues, DETECTOR_IDS, type DetectionSettings } from '../shared/core/settings';
import { getProfile } from '../shared/core/profiles';
import { withIdentities } from '../shared/adapters/identity-log-source';
import { compileIdentityRules, hasIdentityRules, type IdentityRules } from '../shared/core/identity';
import { loadDefinitions } from './config-file';
import type { Profile } from '../shared/core/profiles/profile';
import type { Alert } from '../shared/core/model';
import type { DetectionDeps } from '../shared/run-detection';
import { AuthwatchError, ConfigError } from '../shared/errors';
import { isUserMature } from '../shared/core/habits';
import {
  closest,
  commandHelp,
  commandSpec,
  COMMANDS,
  overviewHelp,
  parseCommandLine,
  usageLine,
  type CommandSpec,
  type Flags,
} from './args';
import { cmdBackfill } from './backfill';
import { alertTable, jsonLine, readingCounts, safeLines, safeText, wrapPreformatted } from './format';
import { displayWidth, terminalWidth } from './text-width';
import {
  assertReadableFile,
  fileLogSource,
  loadCliNetworkData,
  openTextStream,
  type CliNetworkData,
  readLines,
  SNIFF_LINES,
  zeroLogonHint,
  zeroLogonHintForFile,
} from './input';
import { progressLine } from './progress';
import { assertStoreFolder, openLocalStore } from './local';
import { openOperatorStore, runOperatorCommand } from './operator';
import { DEMO_DIR } from './paths';
import { replay, replaySpan, type ReplaySpan } from './replay';
import {
  DEFAULT_REPORT_FILE,
  demoReportFile,
  evalReportModel,
  type ReplayOutcome,
  replayReportModel,
  reportDays,
  tableReportModel,
  writeReport,
} from './report';
import { FindingTally, type ReportModel } from './report/model';
import { DEMO_PROFILE } from './scenario/demo';
import type { ScenarioLabels } from './scenario/generate';
import { naiveFirstSeenAlerts } from './scenario/naive';
import { isOnIncident, scoreAlerts, scoredAlert } from './scenario/score';

/** Build detection settings from flags; every problem reported at once. */
export function settingsFromFlags(flags: Flags): DetectionSettings {
  const issues: string[] = [];
  const input: Record<string, unknown> = {};
  const num = (name: string): number | undefined => {
    const v = flags[name];
    if (typeof v !== 'string') return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) {
      issues.push(`--${name}: "${v}" is not a number`);
      return undefined;
    }
    return n;
  };
  const learning = num('learning-days');
  if (learning !== undefined) input.learningDays = learning;
  const max = num('max-alerts');
  if (max !== undefined) input.maxAlertsPerRun = max;
  const thresholds: Record<string, number> = {};
  for (const t of (flags.threshold as string[] | undefined) ?? []) {
    const [a, b] = t.includes('=') ? t.split('=', 2) : [undefined, t];
    const n = Number(b);
    if (!Number.isFinite(n) || b === undefined || b.trim() === '')
      issues.push(`--threshold: "${t}" is not <score> or <detector>=<score>`);
    else if (a === undefined) for (const id of DETECTOR_IDS) thresholds[id] = n;
    else if ((DETECTOR_IDS as readonly string[]).includes(a)) thresholds[a] = n;
    else issues.push(`--threshold: unknown detector "${a}" (one of ${DETECTOR_IDS.join(', ')})`);
  }
  if (Object.keys(thresholds).length > 0) input.thresholds = thresholds;
  if (flags['allow-user']) input.allowUsers = flags['allow-user'];
  if (flags['allow-cidr']) input.allowCidrs = flags['allow-cidr'];
  if (flags['allow-asn']) input.allowAsns = flags['allow-asn'];
  if (flags['allow-country']) input.allowCountries = flags['allow-country'];
  const r = detectionSettingsSchema.safeParse(input);
  if (!r.success) issues.push(...formatIssues(r.error.issues));
  if (issues.length > 0) throw new ConfigError(issues);
  return r.data!;
}

/**
 * The profile for a local file. `--as-of <date>`: when the file was written, the reference for placing
 * classic syslog timestamps (which carry no year) in a year; a December line before a January reference is
 * last year's. Default: now.
 */
function fileProfile(flags: Flags, id: string) {
  const t = asOf(flags);
  // Custom formats are looked up among those the configuration defines (`--config`, or ./cdk.json).
  const custom = id.startsWith('custom:') ? loadDefinitions(flags).customProfiles : [];
  return getProfile(id, { ...(t === undefined ? {} : { clock: { now: () => t } }), custom });
}

/** `--as-of` as epoch ms, or undefined when not given. */
function asOf(flags: Flags): number | undefined {
  const v = flags['as-of'];
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  if (!Number.isFinite(t))
    throw new ConfigError([`--as-of: "${v}" is not a date like 2026-01-15 or 2026-01-15T10:00:00Z`]);
  return t;
}

/** `2026-03-02 08:15Z`: a time in the summaries. */
/** A detector's short label inside a sentence (`Rare user` → `rare user`; `IP` keeps its capitals). */
function midSentence(label: string): string {
  return label.charAt(0).toLowerCase() + label.slice(1);
}

function minute(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

/** Why future-dated logons were skipped: the reference they are after (`--as-of`, or now). */
function futureRule(reference: number): string {
  return `dated more than ${FUTURE_SKEW_MS / 3_600_000} hours after the file was written (${minute(reference)}; --as-of sets it)`;
}

/** A future-dated logon: which line, whose, when. */
function futureLogon(line: number, user: string, timestamp: number): string {
  return `line ${line}: logon of ${safeText(user, 60)} dated ${minute(timestamp)}`;
}

/** What the counts line's extra phrases mean, once each, as indented note lines (none when there is nothing to say). */
function readingNotes(ps: ParseStats): string[] {
  return [
    ...(ps.invalidUtf8 > 0
      ? [
          `  bytes that are not UTF-8 are kept as ${INVALID_BYTE_MARK} and their hex digits (${INVALID_BYTE_MARK}f6), so different names stay different users`,
        ]
      : []),
    ...(ps.namesTruncated > 0
      ? [
          `  user names longer than ${MAX_USER_CHARS} characters are cut and end in …#<hash of the whole name>, so different long names stay different users`,
        ]
      : []),
  ];
}

function requireFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new ConfigError([`--${name} is required`]);
  return v;
}

async function cmdParse(flags: Flags, positionals: string[]): Promise<void> {
  const profileId = requireFlag(flags, 'profile');
  const profile = fileProfile(flags, profileId);
  const reference = asOf(flags) ?? Date.now();
  const file = positionals[0];
  if (file !== undefined) assertReadableFile(file);
  const name = file ?? 'standard input';
  if (file === undefined && process.stdin.isTTY)
    process.stderr.write(
      'authwatch parse: reading log lines from the terminal (Ctrl-D ends them); give a file to parse it instead\n',
    );
  // Bytes, not text: lines are split and decoded as CloudWatch Logs would (`readLogLines`).
  const input = file !== undefined ? openTextStream(file) : process.stdin;
  const reader = new LineReader(profile, { reference });
  let nonEmpty = 0;
  // The first non-empty lines, kept to name the right profile if none of the lines is a logon.
  const sample: string[] = [];
  for await (const line of readLines(input, name)) {
    if (line.text.trim() !== '') {
      nonEmpty++;
      if (sample.length < SNIFF_LINES && reader.stats.events === 0) sample.push(line.text);
    }
    const r = reader.add(line);
    const lineNo = reader.stats.lines;
    if (r.kind === 'event')
      process.stdout.write(jsonLine({ ...r.event, '@timestamp': new Date(r.event.timestamp).toISOString() }) + '\n');
    else if (r.kind === 'malformed') process.stderr.write(`line ${lineNo}: malformed: ${safeText(r.reason, 200)}\n`);
    else if (r.kind === 'future')
      process.stderr.write(
        `${futureLogon(lineNo, r.event.user, r.event.timestamp)}: skipped, ${futureRule(reference)}\n`,
      );
  }
  const ps = reader.stats;
  process.stderr.write(`${ps.lines} lines, ${ps.malformed} malformed, ${ps.events} logons${readingCounts(ps)}\n`);
  for (const note of readingNotes(ps)) process.stderr.write(`${note}\n`);
  // Logons that were all future-dated were found: the profile is right, and the lines above say why they were skipped.
  const hint =
    ps.events === 0 && ps.future === 0
      ? zeroLogonHint({ name, profileId: profile.id, nonEmptyLines: nonEmpty, sample })
      : undefined;
  if (hint) process.stderr.write(`authwatch parse: ${hint}\n`);
}

function cmdQuery(flags: Flags): void {
  const profile = fileProfile(flags, requireFlag(flags, 'profile'));
  process.stdout.write(profile.query.trimEnd() + '\n');
}

interface ReplayOptions {
  profileId: string;
  input: string;
  settings: DetectionSettings;
  pretty: boolean;
  store?: string;
  keep: boolean;
  /**
   * Keep the store in memory (dynalite's in-memory backend: the same adapter, nothing on disk) when no `store`
   * is given. For a small replay whose store is thrown away (the demo): a third faster than LevelDB in a
   * temporary folder. A large log's replay stays on disk, where its baselines need not fit in memory.
   */
  memoryStore?: boolean;
  /** The profile to parse with, when not the registry's default (e.g. `--as-of`). */
  profile?: Profile;
  /** Annotates alerts in the pretty table (the demo marks the sample's known attacks). */
  label?: (a: Alert) => string | undefined;
  /** When the file was written (`--as-of`), for the future-dated check; default now. */
  reference?: number;
  /** Owners and countries of the addresses (`--network-data`); without it alerts name none. */
  network?: CliNetworkData;
  /** Why there is no network data, for the summary (default: no --network-data was given). */
  noNetworkData?: string;
  /** The configuration's identity rules, applied to the file's logons as the detector applies them. */
  identify?: IdentityRules;
  /** Print no alerts (`report`: the page shows them); the parse notes and the summary still go to stderr. */
  quiet?: boolean;
  /** Told every finding judged after learning (`report`'s score distribution). */
  onFinding?: DetectionDeps['onFinding'];
}

/** The summary's line on network owners: how many of the addresses looked up had one, and from which data. */
function ownersLine(r: { addressesLooked: number; addressesWithOwner: number }, o: ReplayOptions): string {
  if (!o.network) return `  network owners:     none looked up (${o.noNetworkData ?? 'no --network-data given'})`;
  const share = r.addressesLooked > 0 ? `${Math.round((r.addressesWithOwner / r.addressesLooked) * 100)}%` : '-';
  return `  network owners:     known for ${share} of addresses (${r.addressesWithOwner.toLocaleString('en-US')} of ${r.addressesLooked.toLocaleString('en-US')} looked up, counted per window)`;
}

async function runReplay(o: ReplayOptions): Promise<ReplayOutcome> {
  const profile = o.profile ?? getProfile(o.profileId);
  const reference = o.reference ?? Date.now();
  const source = await fileLogSource(o.input, profile, '--input ', { reference });
  const ps = source.parseStats;
  const span = replaySpan(source.logons().map((e) => e.timestamp));
  const err = process.stderr;
  const counts = `${ps.lines} lines, ${ps.events} logons, ${ps.skipped} other lines, ${ps.malformed} malformed${readingCounts(ps)}`;
  const parsed = `Parsed ${safeText(o.input, 200)}: ${counts}`;
  // Too wide for the terminal: the counts go on a line of their own rather than break mid-phrase.
  writeWrapped(
    err,
    displayWidth(parsed) <= terminalWidth(err) ? `${parsed}\n` : `Parsed ${safeText(o.input, 200)}:\n  ${counts}\n`,
  );
  for (const m of ps.malformedSamples) err.write(`  line ${m.line}: ${safeText(m.reason, 200)}\n`);
  if (ps.future > 0) writeWrapped(err, `  skipped, ${futureRule(reference)}:\n`);
  for (const f of ps.futureSamples) err.write(`    ${futureLogon(f.line, f.user, f.timestamp)}\n`);
  if (ps.future > ps.futureSamples.length) err.write(`    and ${ps.future - ps.futureSamples.length} more\n`);
  for (const note of readingNotes(ps)) writeWrapped(err, `${note}\n`);
  if (!span) {
    const hint = ps.future === 0 ? await zeroLogonHintForFile(o.input, profile.id, source) : undefined;
    err.write(`${hint ? `authwatch replay: ${hint}.\n` : ''}No logons in the input: nothing to replay.\n`);
    return { alerts: [], logons: [], baselines: new Map() };
  }
  writeWrapped(err, spanNotes(span).join('\n') + '\n');
  if (o.network) writeWrapped(err, `network owners from ${o.network.description}\n`);
  const local = await openLocalStore({
    ...(o.store ? { dir: o.store } : o.memoryStore ? { memory: true } : {}),
    keep: o.keep,
  });
  const progress = progressLine(err, { prefix: 'replay: ' });
  const sink = new InMemoryAlertSink({
    onAlert:
      o.pretty || o.quiet
        ? undefined
        : (a) => {
            progress.clear();
            process.stdout.write(jsonLine(a) + '\n');
          },
  });
  const started = Date.now();
  const windowsTotal = span.windows;
  let windowsDone = 0;
  let alerts = 0;
  try {
    const r = await replay(
      {
        logSources: [o.identify ? withIdentities(source, o.identify) : source],
        store: local.store,
        sink,
        clock: new SystemClock(),
        settings: o.settings,
        ...(o.network ? { network: o.network.db } : {}),
        ...(o.onFinding ? { onFinding: o.onFinding } : {}),
      },
      span,
      (s) => {
        windowsDone++;
        alerts += Object.values(s.alertsPublished).reduce((x, y) => x + y, 0);
        const at = new Date(s.window.end).toISOString().slice(0, 16).replace('T', ' ');
        progress.update(
          `${Math.floor((windowsDone / windowsTotal) * 100)}% (window ${windowsDone}/${windowsTotal}), log at ${at}Z, ${alerts} alerts`,
        );
      },
    );
    progress.clear();
    // Users of the replayed span: an outlier's logons were never replayed, so they have no baseline to speak of.
    const users = [
      ...new Set(
        source
          .logons()
          .filter((e) => e.outcome === 'success' && e.timestamp >= span.first && e.timestamp <= span.last)
          .map((e) => (o.identify ? o.identify(e.user) : e.user)),
      ),
    ];
    const baselines = await local.store.getUsers(users);
    const learning = users.filter((u) => {
      const b = baselines.get(u);
      return !b || !isUserMature(b, o.settings);
    }).length;
    if (o.pretty && !o.quiet) process.stdout.write(alertTable(sink.delivered, o.label));
    const days = (span.last - span.first) / 86_400_000;
    writeWrapped(
      err,
      [
        '',
        `Replayed ${new Date(span.first).toISOString()} → ${new Date(span.last).toISOString()} (${days.toFixed(1)} days) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  windows run:        ${r.windows} (every 15 min, 30-min look-back; learning until ${r.learningEndsAt ?? '-'})`,
        `  logons:             ${span.logons} (${users.length} users with successful logons)${span.logons < ps.events ? `; ${ps.events - span.logons} far from the rest left out` : ''}`,
        `  alerts:             ${r.alertsTotal} (${DETECTORS.map((d) => `${midSentence(d.shortLabel)} ${r.alerts[d.id]}`).join(', ')})`,
        `  deduplicated:       ${r.alertsDeduplicated} (already raised by an overlapping window)`,
        `  allowlisted:        ${r.alertsSuppressed}`,
        `  cut by cap:         ${r.cutByCap} (cap ${o.settings.maxAlertsPerRun} per run)`,
        `  users learning:     ${learning} of ${users.length} at the end (too little history to judge their addresses)`,
        ownersLine(r, o),
        ...(r.detectorErrors > 0 ? [`  detector errors:    ${r.detectorErrors}`] : []),
        ...(r.itemsNotStored > 0
          ? [`  not stored:         ${r.itemsNotStored} user baselines too large to store (skipped; see the warnings)`]
          : []),
        ...(o.store ? [`  baselines kept in:  ${local.dir}`] : []),
        '',
      ].join('\n'),
    );
    return { alerts: sink.delivered, logons: source.logons(), baselines, result: r };
  } finally {
    await local.close();
  }
}

/** A replay's options from its flags (`replay`, and `report --input`), checked before the file is read. */
async function replayOptions(values: Flags): Promise<Omit<ReplayOptions, 'pretty'>> {
  const profileId = requireFlag(values, 'profile');
  const settings = settingsFromFlags(values);
  // Before the file is read: a mistake in --store is reported alone, not after a parse summary.
  if (typeof values.store === 'string') await assertStoreFolder(values.store);
  const network =
    typeof values['network-data'] === 'string' ? await loadCliNetworkData(values['network-data']) : undefined;
  const { identities } = loadDefinitions(values);
  return {
    ...(hasIdentityRules(identities) ? { identify: compileIdentityRules(identities) } : {}),
    profileId,
    ...(asOf(values) !== undefined ? { reference: asOf(values)! } : {}),
    profile: fileProfile(values, profileId),
    input: requireFlag(values, 'input'),
    settings,
    ...(typeof values.store === 'string' ? { store: values.store } : {}),
    keep: values.keep === true,
    ...(network ? { network } : {}),
  };
}

/**
 * `authwatch report`: one HTML page from a replay (`--input`, with replay's options), an evaluation (`--eval`), or
 * the deployed table's recent alerts and baselines (`--table`, or `--store` without `--input`).
 */
async function cmdReport(values: Flags): Promise<void> {
  const out = typeof values.out === 'string' ? values.out : DEFAULT_REPORT_FILE;
  const given = (['input', 'eval', 'table'] as const).filter((k) => typeof values[k] === 'string');
  if (given.length > 1)
    throw new ConfigError([`--${given.join(' and --')} are exclusive: report on one thing at a time`]);
  if (given.length === 0 && typeof values.store !== 'string')
    throw new ConfigError([
      'say what to report on: --profile <id> --input <file> (a replay), --eval <file> (npm run eval -- --json <file>), or --table <name> / --store <dir> (recent alerts and baselines)',
    ]);
  // Options that belong to another source would be ignored in silence: a mistake worth a sentence.
  if (typeof values.input !== 'string' && typeof values.profile === 'string')
    throw new ConfigError(['--profile applies to a replay: give --input <file> with it']);
  if (typeof values.days === 'string' && given.some((k) => k !== 'table'))
    throw new ConfigError(['--days applies to --table or --store alone (the alerts of the last n days)']);
  let model: ReportModel;
  if (typeof values.eval === 'string') {
    if (typeof values.store === 'string')
      throw new ConfigError(['--store applies to a replay or a kept store, not to --eval']);
    model = await evalReportModel(values.eval);
  } else if (typeof values.input === 'string') {
    const o = await replayOptions(values);
    const findings = new FindingTally();
    const outcome = await runReplay({ ...o, pretty: false, quiet: true, onFinding: (f) => findings.add(f) });
    model = replayReportModel({
      outcome,
      findings,
      settings: o.settings,
      input: o.input,
      ...(o.network ? { network: o.network.db } : {}),
    });
  } else {
    const days = reportDays(typeof values.days === 'string' ? values.days : undefined);
    const settings = settingsFromFlags(values);
    const opened = await openOperatorStore(
      {
        ...(typeof values.table === 'string' ? { table: values.table } : {}),
        ...(typeof values.store === 'string' ? { store: values.store } : {}),
      },
      { mustExist: true },
    );
    try {
      model = await tableReportModel(opened.store, { days, settings, where: opened.where, now: Date.now() });
    } finally {
      await opened.close();
    }
  }
  process.stderr.write(`Report: ${await writeReport(model, out)}\n`);
}

/** The demo's network data: the scenario's extract of the real networks its addresses come from (`npm run demo:regen`). */
export const DEMO_NETWORK_DATA = 'network-data.tsv';

/**
 * `authwatch demo` (`npm start`): the sample in `dir` (the bundled one by default) replayed and scored against its
 * labels. Its alerts name owners and countries from `networkData` when given, else from the sample's own
 * network-data.tsv when there is one; without either they name none, and the summary says why.
 */
export async function cmdDemo(dir = DEMO_DIR, networkData?: string, reportFile = demoReportFile()): Promise<void> {
  const input = join(dir, 'auth.log');
  const labels = JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) as ScenarioLabels;
  const m = labels.meta;
  const bundled = join(dir, DEMO_NETWORK_DATA);
  const networkFile = networkData ?? (existsSync(bundled) ? bundled : undefined);
  const network = networkFile !== undefined ? await loadCliNetworkData(networkFile) : undefined;
  writeWrapped(
    process.stderr,
    `authwatch demo: replaying ${input}\n` +
      `(a generated small office over ${m.days} days: ${labels.users.length} users behind an office NAT, VPN, home and mobile connections, ` +
      `service accounts, travellers, new hires, internet password guessing, and ${labels.incidents.length} labelled attacks after the ${m.learningDays}-day learning period)\n\n`,
  );
  // The sample's own learning period (the default, 14 days, for the bundled one).
  const settings = settingsFromFlags({ 'learning-days': String(m.learningDays) });
  const label = (a: Alert): string | undefined => {
    const i = labels.incidents.find((x) => isOnIncident(scoredAlert(a), x));
    return i ? `▲ labelled attack (${i.kind}): ${i.description}` : undefined;
  };
  const findings = new FindingTally();
  const outcome = await runReplay({
    profileId: DEMO_PROFILE,
    input,
    settings,
    pretty: true,
    keep: false,
    memoryStore: true,
    ...(network ? { network } : { noNetworkData: `no ${safeText(bundled, 200)}` }),
    label,
    onFinding: (f) => findings.add(f),
  });
  const { alerts, logons } = outcome;
  const report = scoreAlerts(alerts.map(scoredAlert), labels);
  const naive = scoreAlerts(
    naiveFirstSeenAlerts(logons, m.learningEnd).map((a) => ({ ...a, detectorId: 'naive' })),
    labels,
  );
  const err = process.stderr;
  err.write(`Attacks in the sample: ${report.overall.total}, alerted: ${report.overall.detected}.\n`);
  for (const i of report.incidents.filter((x) => !x.detected)) {
    const inc = labels.incidents.find((x) => x.id === i.id);
    writeWrapped(err, `  missed: ${i.kind} ${i.user} from ${i.sourceIp}${inc ? ` — ${inc.description}` : ''}\n`);
  }
  writeWrapped(
    err,
    `Other alerts: ${report.falseAlerts.total} (${report.falseAlerts.expectedNovelty} on expected novelty such as travel or a new hire's first days, ${report.falseAlerts.noise} noise) over ${report.detectionUserDays} user-days.\n` +
      `A naive "every new (user, IP) pair" rule on the same log: ${naive.alerts} alerts, ${naive.falseAlerts.total} of them false.\n`,
  );
  const written = await writeReport(
    replayReportModel({
      outcome,
      findings,
      settings,
      input,
      title: 'authwatch demo',
      ...(network ? { network: network.db } : {}),
      note: label,
      extra: [
        ['labelled attacks', `${report.overall.total}, alerted ${report.overall.detected}`],
        [
          'other alerts',
          `${report.falseAlerts.total} (${report.falseAlerts.expectedNovelty} expected novelty, ${report.falseAlerts.noise} noise) over ${report.detectionUserDays} user-days`,
        ],
        ['naive rule (every new user-IP pair)', `${naive.alerts} alerts, ${naive.falseAlerts.total} of them false`],
      ],
    }),
    reportFile,
  );
  err.write(`Report: ${written}\n`);
}

/**
 * What a replay is about to walk, said before it starts (a replay of months takes minutes): the span and its
 * windows, and each outlying group of logons it leaves out, with how far it lies from the rest.
 */
function spanNotes(span: ReplaySpan): string[] {
  const days = (ms: number) => `${Math.round(ms / 86_400_000).toLocaleString('en-US')} days`;
  const plural = (n: number) => `${n.toLocaleString('en-US')} logon${n === 1 ? '' : 's'}`;
  const out = span.outliers.map((g) => {
    const when = g.first === g.last ? `at ${minute(g.first)}` : `from ${minute(g.first)} to ${minute(g.last)}`;
    const where =
      g.last < span.first
        ? `${days(span.first - g.last)} before the rest`
        : `${days(g.first - span.last)} after the rest`;
    return `  left out: ${plural(g.logons)} ${when}, ${where} (a wrong clock or a mistyped year? fix or remove those lines to replay them)`;
  });
  out.push(
    `replaying ${minute(span.first)} → ${minute(span.last)}: ${span.windows.toLocaleString('en-US')} windows (${plural(span.logons)})`,
  );
  return out;
}

/** Human text to a stream, each line wrapped to the stream's width (80 when it is not a terminal). */
function writeWrapped(stream: NodeJS.WriteStream, text: string): void {
  const width = terminalWidth(stream);
  stream.write(
    text
      .split('\n')
      .flatMap((l) => wrapPreformatted(l, width))
      .join('\n'),
  );
}

/** A user's mistake, from the argument parser or from validating what they asked: one line, then the usage. */
function isUserMistake(e: unknown): e is AuthwatchError {
  // ConfigError: a bad flag, value, file or profile. AuthwatchError itself (no subclass): what was asked for
  // does not exist (no such alert, user or allowlist entry). The subclasses are failures of the environment
  // (store, query, sink): reported in one line too, but exit 1.
  return e instanceof ConfigError || (e instanceof AuthwatchError && e.constructor === AuthwatchError);
}

/** The AWS SDK's "could not load credentials" error, anywhere in a cause chain. */
function credentialsError(e: unknown): boolean {
  for (let x = e, depth = 0; x instanceof Error && depth < 5; x = (x as { cause?: unknown }).cause, depth++)
    if (x.name === 'CredentialsProviderError') return true;
  return false;
}

/** One line for a mistake or a known failure; the exit code (2 mistake, 1 failure). Unknown errors are rethrown. */
function reportError(e: unknown, spec: CommandSpec | undefined): number {
  // The usage line below names the command; messages name their subcommand themselves (allow cidr: ...).
  const who = 'authwatch';
  // Every message can carry log content (user names, lines, reasons): one line, no terminal escapes.
  const line = (s: string) => process.stderr.write(`${who}: ${safeText(s, 2_000)}\n`);
  if (isUserMistake(e)) {
    line(e instanceof ConfigError ? e.issues.join('; ') : e.message);
    process.stderr.write(`${usageLine(spec)}\n`);
    return 2;
  }
  if (credentialsError(e)) {
    line(
      'no AWS credentials found: set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and AWS_REGION, or use --store <dir> for a local store',
    );
    process.stderr.write(`${usageLine(spec)}\n`);
    return 2;
  }
  if (e instanceof AuthwatchError) {
    const cause = (e as { cause?: unknown }).cause;
    line(
      `${e.message}${cause instanceof Error && !e.message.includes(cause.message) ? ` (${cause.name}: ${cause.message})` : ''}`,
    );
    return 1;
  }
  throw e;
}

/**
 * Run one command line (`argv` without node and the script); returns the exit code: 0 done, 1 a failure of
 * the environment (store, query), 2 a mistake in the command line or what it names, 130 an interrupted
 * backfill. Output goes to process.stdout/stderr. Unexpected errors are thrown.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    process.stdout.write(overviewHelp());
    return 0;
  }
  if (command === undefined || command.startsWith('-')) {
    return reportError(
      new ConfigError([
        command === undefined
          ? 'give a command, e.g. authwatch demo, or authwatch help for the list'
          : `the command comes first (e.g. authwatch replay ${command} ...); see authwatch help`,
      ]),
      undefined,
    );
  }
  const spec = commandSpec(command);
  if (!spec) {
    const near = closest(
      command,
      COMMANDS.map((c) => c.name),
    );
    return reportError(
      new ConfigError([
        `unknown command "${command}"${near ? ` (did you mean ${near}?)` : ''}; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`,
      ]),
      undefined,
    );
  }
  try {
    const { flags: values, positionals, help } = parseCommandLine(spec, rest);
    if (help) {
      process.stdout.write(commandHelp(spec));
      return 0;
    }
    switch (spec.name) {
      case 'help': {
        const topic = positionals[0];
        if (topic === undefined) process.stdout.write(overviewHelp());
        else {
          const t = commandSpec(topic);
          if (!t)
            throw new ConfigError([
              `no command "${topic}" to explain; the commands are ${COMMANDS.map((c) => c.name).join(', ')}`,
            ]);
          process.stdout.write(commandHelp(t));
        }
        return 0;
      }
      case 'parse':
        await cmdParse(values, positionals);
        return 0;
      case 'query':
        cmdQuery(values);
        return 0;
      case 'replay':
        await runReplay({ ...(await replayOptions(values)), pretty: values.pretty === true });
        return 0;
      case 'report':
        await cmdReport(values);
        return 0;
      case 'demo':
        await cmdDemo(DEMO_DIR, typeof values['network-data'] === 'string' ? values['network-data'] : undefined);
        return 0;
      case 'backfill':
        return await cmdBackfill(values, positionals);
      case 'allow':
      case 'benign':
      case 'malicious':
      case 'unmark':
      case 'show':
      case 'status':
      case 'explain':
        await runOperatorCommand(
          spec.name,
          positionals,
          {
            ...(typeof values.table === 'string' ? { table: values.table } : {}),
            ...(typeof values.store === 'string' ? { store: values.store } : {}),
            json: values.json === true,
            ...(typeof values.note === 'string' ? { note: values.note } : {}),
            ...(typeof values.user === 'string' ? { user: values.user } : {}),
            ...(typeof values.until === 'string' ? { until: values.until } : {}),
            ...(values.subnet === true ? { subnet: true } : {}),
            ...(typeof values.prefix === 'string' ? { prefix: values.prefix } : {}),
            ...(values.owner === true ? { owner: true } : {}),
            settings: settingsFromFlags(values),
          },
          { out: (s) => void process.stdout.write(s), now: () => Date.now() },
        );
        return 0;
      default:
        throw new Error(`command ${spec.name} has no handler`);
    }
  } catch (e) {
    return reportError(e, spec);
  }
}

/**
 * The process around `main`: the exit code, a closed stdout (`authwatch parse x | head`: stop quietly,
 * exit 0, as other Unix tools do), and unexpected errors (exit 1, with the stack: a bug to report).
 */
export async function run(argv: string[] = process.argv.slice(2)): Promise<void> {
  quietSdkNodeVersionWarning();
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    process.stderr.write(`authwatch: cannot write the output: ${e.message}\n`);
    process.exit(1);
  });
  // A closed stderr (`2>&1 | head`) is nothing to report, and nowhere to report it.
  process.stderr.on('error', () => undefined);
  try {
    process.exitCode = await main(argv);
  } catch (e) {
    // The stack's message can quote log content (a user name, a line): made inert line by line, as every message is.
    process.stderr.write(
      `authwatch: unexpected error (please report it): ${safeLines(e instanceof Error ? (e.stack ?? e.message) : String(e))}\n`,
    );
    process.exitCode = 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) void run();
