#!/usr/bin/env node
/**
 * The `authwatch` command line: `npm run authwatch -- <command>`.
 * Each command is a composition root: it builds local adapters and calls the same core the Lambda uses.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { FileLogSource } from '../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../shared/adapters/in-memory-alert-sink';
import { SystemClock } from '../shared/adapters/system-clock';
import { settingsWithCidrCheck } from '../shared/config';
import { formatIssues, DETECTOR_IDS, type DetectionSettings } from '../shared/core/settings';
import { getProfile } from '../shared/core/profiles';
import { PROFILE_IDS, type Profile } from '../shared/core/profiles/profile';
import type { Alert, LogonEvent } from '../shared/core/model';
import { AuthwatchError, ConfigError } from '../shared/errors';
import { isUserMature } from '../shared/core/habits';
import { BACKFILL_PARSE_OPTIONS, BACKFILL_USAGE, cmdBackfill } from './backfill';
import { alertTable, safeText } from './format';
import { openLocalStore } from './local';
import { runOperatorCommand } from './operator';
import { DEMO_DIR } from './paths';
import { replay } from './replay';
import { DEMO_PROFILE } from './scenario/demo';
import type { ScenarioLabels } from './scenario/generate';
import { naiveFirstSeenAlerts } from './scenario/naive';
import { isOnIncident, scoreAlerts, scoredAlert } from './scenario/score';


const USAGE = `authwatch — rare user logons and unusual source IPs, from your logs

Usage: npm run authwatch -- <command> [options]

Commands:
  parse  --profile <id> [file]      one normalised logon per line as JSON (stdin if no file)
  query  --profile <id>             print the profile's Logs Insights query
  replay --profile <id> --input <file> [options]
                                    walk the file on the real schedule (every 15 min, 30-min look-back);
                                    alerts as JSON lines on stdout, summary on stderr
  demo                              replay the bundled multi-week sample and show its alerts
${BACKFILL_USAGE}

Operating it (against --table <name> or --store <dir>, exactly one):
  allow user <name|glob> [--note <text>]          never alert on this user (case-insensitive, * wildcard)
  allow cidr <cidr> [--user <name>] [--note <text>]
                                    never alert on logons from this range (for one user only, with --user)
  allow list                        the allowlist written so far
  allow remove user <name|glob> | allow remove cidr <cidr> [--user <name>]
  benign <alert-id>                 the alert was the user's: mark its address, subnet and network as known places
  status                            learning progress, users, last window, alerts in the last 24 h, noisiest users
  explain <user>                    what the baseline knows about a user: places, first/last seen, novelty

Operator options:
  --table <name>                    the deployed DynamoDB table (the stack output BaselinesTableName); region and
                                    credentials from the AWS SDK's default chain (AWS_PROFILE, AWS_REGION, ...)
  --store <dir>                     a local store kept by replay --store <dir> --keep
  --json                            machine-readable output (status, explain, allow list, benign)
  --learning-days <n>               (status, explain) the learning period the detector runs with (default 14)

Replay options:
  --pretty                          a readable table instead of JSON lines
  --learning-days <n>               days before any alert (default 14)
  --threshold <n> | <detector>=<n>  alert score threshold, all or one detector (default 75)
  --max-alerts <n>                  per-run cap (default 100)
  --allow-user <name|glob>          never alert on this user (repeatable)
  --allow-cidr <cidr>               never alert on this source range (repeatable)
  --store <dir>                     keep the embedded DynamoDB data here (default: a temporary folder)
  --keep                            reuse the data already in --store instead of starting fresh
  --as-of <date>                    (parse, replay) when the file was written: places classic syslog timestamps,
                                    which have no year, in the right year (default: now)

Profiles: ${PROFILE_IDS.join(', ')}
`;

type Flags = Record<string, string | boolean | string[] | undefined>;

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      profile: { type: 'string' },
      input: { type: 'string' },
      pretty: { type: 'boolean', default: false },
      'learning-days': { type: 'string' },
      threshold: { type: 'string', multiple: true },
      'max-alerts': { type: 'string' },
      'allow-user': { type: 'string', multiple: true },
      'allow-cidr': { type: 'string', multiple: true },
      store: { type: 'string' },
      keep: { type: 'boolean', default: false },
      table: { type: 'string' },
      json: { type: 'boolean', default: false },
      note: { type: 'string' },
      user: { type: 'string' },
      'as-of': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      ...BACKFILL_PARSE_OPTIONS,
    },
  });
}

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
    if (!Number.isFinite(n) || b === undefined || b.trim() === '') issues.push(`--threshold: "${t}" is not <score> or <detector>=<score>`);
    else if (a === undefined) for (const id of DETECTOR_IDS) thresholds[id] = n;
    else if ((DETECTOR_IDS as readonly string[]).includes(a)) thresholds[a] = n;
    else issues.push(`--threshold: unknown detector "${a}" (one of ${DETECTOR_IDS.join(', ')})`);
  }
  if (Object.keys(thresholds).length > 0) input.thresholds = thresholds;
  if (flags['allow-user']) input.allowUsers = flags['allow-user'];
  if (flags['allow-cidr']) input.allowCidrs = flags['allow-cidr'];
  const r = settingsWithCidrCheck.safeParse(input);
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
  const asOf = flags['as-of'];
  if (typeof asOf !== 'string') return getProfile(id);
  const t = Date.parse(asOf);
  if (!Number.isFinite(t)) throw new ConfigError([`--as-of: "${asOf}" is not a date like 2026-01-15 or 2026-01-15T10:00:00Z`]);
  return getProfile(id, { clock: { now: () => t } });
}

function requireFlag(flags: Flags, name: string): string {
  const v = flags[name];
  if (typeof v !== 'string' || v === '') throw new ConfigError([`--${name} is required`]);
  return v;
}

async function cmdParse(flags: Flags, positionals: string[]): Promise<void> {
  const profile = fileProfile(flags, requireFlag(flags, 'profile'));
  const input = positionals[0] ? createReadStream(positionals[0], { encoding: 'utf8' }) : process.stdin;
  const rl = createInterface({ input, crlfDelay: Infinity });
  let malformed = 0;
  let lineNo = 0;
  for await (const line of rl) {
    lineNo++;
    const r = profile.parseLine(line);
    if (r.kind === 'event') process.stdout.write(JSON.stringify({ ...r.event, '@timestamp': new Date(r.event.timestamp).toISOString() }) + '\n');
    else if (r.kind === 'malformed') {
      malformed++;
      process.stderr.write(`line ${lineNo}: malformed: ${safeText(r.reason, 200)}\n`);
    }
  }
  process.stderr.write(`${lineNo} lines, ${malformed} malformed\n`);
}

function cmdQuery(flags: Flags): void {
  const profile = getProfile(requireFlag(flags, 'profile'));
  process.stdout.write(profile.query.trimEnd() + '\n');
}

interface ReplayOptions {
  profileId: string;
  input: string;
  settings: DetectionSettings;
  pretty: boolean;
  store?: string;
  keep: boolean;
  /** The profile to parse with, when not the registry's default (e.g. `--as-of`). */
  profile?: Profile;
  /** Annotates alerts in the pretty table (the demo marks the sample's known attacks). */
  label?: (a: Alert) => string | undefined;
}

async function runReplay(o: ReplayOptions): Promise<{ alerts: Alert[]; logons: readonly LogonEvent[] }> {
  const profile = o.profile ?? getProfile(o.profileId);
  const source = await FileLogSource.fromFile(o.input, profile);
  const ps = source.parseStats;
  const span = source.timeSpan();
  const err = process.stderr;
  err.write(`Parsed ${o.input}: ${ps.lines} lines, ${ps.events} logons, ${ps.skipped} other lines, ${ps.malformed} malformed\n`);
  for (const m of ps.malformedSamples) err.write(`  line ${m.line}: ${safeText(m.reason, 200)}\n`);
  if (!span) {
    err.write('No logons in the input: nothing to replay.\n');
    return { alerts: [], logons: [] };
  }
  const local = await openLocalStore({ ...(o.store ? { dir: o.store } : {}), keep: o.keep });
  const sink = new InMemoryAlertSink({ onAlert: o.pretty ? undefined : (a) => process.stdout.write(JSON.stringify(a) + '\n') });
  const started = Date.now();
  try {
    const r = await replay({ logSources: [source], store: local.store, sink, clock: new SystemClock(), settings: o.settings }, span);
    const users = source.successUsers();
    const baselines = await local.store.getUsers(users);
    const learning = users.filter((u) => {
      const b = baselines.get(u);
      return !b || !isUserMature(b, o.settings);
    }).length;
    if (o.pretty) process.stdout.write(alertTable(sink.delivered, o.label));
    const days = (span.last - span.first) / 86_400_000;
    err.write(
      [
        '',
        `Replayed ${new Date(span.first).toISOString()} → ${new Date(span.last).toISOString()} (${days.toFixed(1)} days) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        `  windows run:        ${r.windows} (every 15 min, 30-min look-back; learning until ${r.learningEndsAt ?? '-'})`,
        `  logons:             ${ps.events} (${users.length} users with successful logons)`,
        `  alerts:             ${r.alertsTotal} (rare user ${r.alerts['Auth.RareUser']}, unusual source IP ${r.alerts['Auth.UnusualSourceIp']})`,
        `  deduplicated:       ${r.alertsDeduplicated} (already raised by an overlapping window)`,
        `  allowlisted:        ${r.alertsSuppressed}`,
        `  cut by cap:         ${r.cutByCap} (cap ${o.settings.maxAlertsPerRun} per run)`,
        `  users learning:     ${learning} of ${users.length} at the end (too little history to judge their addresses)`,
        ...(r.detectorErrors > 0 ? [`  detector errors:    ${r.detectorErrors}`] : []),
        ...(o.store ? [`  baselines kept in:  ${local.dir}`] : []),
        '',
      ].join('\n'),
    );
    return { alerts: sink.delivered, logons: source.logons() };
  } finally {
    await local.close();
  }
}

async function cmdDemo(): Promise<void> {
  const input = join(DEMO_DIR, 'auth.log');
  const labels = JSON.parse(readFileSync(join(DEMO_DIR, 'labels.json'), 'utf8')) as ScenarioLabels;
  const m = labels.meta;
  process.stderr.write(
    `authwatch demo: replaying ${input}\n` +
      `(a generated small office over ${m.days} days: ${labels.users.length} users behind an office NAT, VPN, home and mobile connections, ` +
      `service accounts, travellers, new hires, internet password guessing, and ${labels.incidents.length} labelled attacks after the ${m.learningDays}-day learning period)\n\n`,
  );
  const { alerts, logons } = await runReplay({
    profileId: DEMO_PROFILE,
    input,
    settings: settingsFromFlags({}),
    pretty: true,
    keep: false,
    label: (a) => {
      const i = labels.incidents.find((x) => isOnIncident(scoredAlert(a), x));
      return i ? `▲ labelled attack (${i.kind}): ${i.description}` : undefined;
    },
  });
  const report = scoreAlerts(alerts.map(scoredAlert), labels);
  const naive = scoreAlerts(
    naiveFirstSeenAlerts(logons, m.learningEnd).map((a) => ({ ...a, detectorId: 'naive' })),
    labels,
  );
  const err = process.stderr;
  err.write(`Attacks in the sample: ${report.overall.total}, alerted: ${report.overall.detected}.\n`);
  for (const i of report.incidents.filter((x) => !x.detected)) {
    const inc = labels.incidents.find((x) => x.id === i.id);
    err.write(`  missed: ${i.kind} ${i.user} from ${i.sourceIp}${inc ? ` — ${inc.description}` : ''}\n`);
  }
  err.write(
    `Other alerts: ${report.falseAlerts.total} (${report.falseAlerts.expectedNovelty} on expected novelty such as travel or a new hire's first days, ${report.falseAlerts.noise} noise) over ${report.detectionUserDays} user-days.\n` +
      `A naive "every new (user, IP) pair" rule on the same log: ${naive.alerts} alerts, ${naive.falseAlerts.total} of them false.\n`,
  );
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  try {
    const { values, positionals } = parse(rest);
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    switch (command) {
      case 'parse':
        await cmdParse(values, positionals);
        return 0;
      case 'query':
        cmdQuery(values);
        return 0;
      case 'replay':
        await runReplay({
          profileId: requireFlag(values, 'profile'),
          profile: fileProfile(values, requireFlag(values, 'profile')),
          input: requireFlag(values, 'input'),
          settings: settingsFromFlags(values),
          pretty: values.pretty === true,
          ...(values.store ? { store: values.store } : {}),
          keep: values.keep === true,
        });
        return 0;
      case 'demo':
        await cmdDemo();
        return 0;
      case 'backfill':
        return await cmdBackfill(values, positionals);
      case 'allow':
      case 'benign':
      case 'status':
      case 'explain':
        await runOperatorCommand(
          command,
          positionals,
          {
            ...(values.table !== undefined ? { table: values.table } : {}),
            ...(values.store !== undefined ? { store: values.store } : {}),
            json: values.json === true,
            ...(values.note !== undefined ? { note: values.note } : {}),
            ...(values.user !== undefined ? { user: values.user } : {}),
            settings: settingsFromFlags(values),
          },
          { out: (s) => void process.stdout.write(s), now: () => Date.now() },
        );
        return 0;
      default:
        process.stderr.write(`Unknown command "${safeText(command, 40)}".\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof AuthwatchError || (e as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`authwatch: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`authwatch: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
