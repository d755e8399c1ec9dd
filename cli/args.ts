/**
 * The command line's grammar: every command with its options, its arguments and its help, in one table.
 * Parsing is node's `parseArgs` in its lenient token mode, checked here against the table so that each
 * mistake gets a sentence saying what is wrong and what to do (node's own messages name `<value>` and
 * nothing else). Help texts are built from the same table, so a flag cannot be accepted and undocumented.
 *
 * Why not commander: its errors and help go through its own output and exit path, and we want one line per
 * mistake plus this command's usage line, the same `ConfigError` path as every other mistake (unknown
 * profile, bad number), and the exit code returned by `main` so tests run it in-process. Checking a token
 * list against this table is short and keeps all of that in one place.
 */
import { parseArgs } from 'node:util';
import { MAX_LOG_GROUPS_PER_QUERY } from '../shared/core/insights-query';
import { PROFILE_IDS } from '../shared/core/profiles/profile';
import { DEFAULT_SETTINGS, DETECTOR_IDS } from '../shared/core/settings';
import { ConfigError } from '../shared/errors';
import { DEFAULT_COMMIT_WINDOW_HOURS, DEFAULT_CONCURRENCY } from '../shared/backfill';
import { MAX_CONCURRENCY } from './backfill';
import { safeText } from './format';
import { displayWidth, padEnd, terminalWidth, wrapText } from './text-width';

/** Parsed option values by long name; repeatable options are arrays. */
export type Flags = Record<string, string | boolean | string[] | undefined>;

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  /** The value's placeholder in help, e.g. `<id>`. */
  readonly arg?: string;
  readonly help: string;
  readonly short?: string;
}

export interface CommandSpec {
  readonly name: string;
  /** Everything after `authwatch <name>` in the usage line. */
  readonly synopsis: string;
  /** One line for the command overview. */
  readonly summary: string;
  /** Paragraphs for `help <command>`. */
  readonly description: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** A sentence saying what is wrong with the arguments (not options), or undefined when they are right. */
  checkPositionals(p: readonly string[]): string | undefined;
}

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const O = {
  profile: {
    type: 'string',
    arg: '<id>',
    help: `the log format: ${PROFILE_IDS.join(', ')}, or a custom:<name> format defined in the configuration (--config)`,
  },
  config: {
    type: 'string',
    arg: '<file>',
    help: 'where the custom formats (customProfiles) and identities are defined: a cdk.json with them under context.authwatch, or a JSON file of that object (default: ./cdk.json when present)',
  },
  input: { type: 'string', arg: '<file>', help: 'the log file, plain or gzip-compressed' },
  asOf: {
    type: 'string',
    arg: '<date>',
    help: 'when the file was written: places classic syslog timestamps, which have no year, in the right year; a logon dated more than a day after it is skipped and reported (default: now)',
  },
  pretty: { type: 'boolean', help: 'a readable table instead of JSON lines' },
  learningDays: {
    type: 'string',
    arg: '<n>',
    help: `days before any alert: the learning period (default ${DEFAULT_SETTINGS.learningDays})`,
  },
  threshold: {
    type: 'string',
    multiple: true,
    arg: '<n>|<detector>=<n>',
    help: `alert score threshold, for all detectors or one of ${DETECTOR_IDS.join(', ')} (default 75; repeatable)`,
  },
  maxAlerts: {
    type: 'string',
    arg: '<n>',
    help: `alerts per run at most (default ${DEFAULT_SETTINGS.maxAlertsPerRun})`,
  },
  allowUser: {
    type: 'string',
    multiple: true,
    arg: '<name|glob>',
    help: 'never alert on this user (repeatable; quote globs so the shell leaves them alone)',
  },
  allowCidr: { type: 'string', multiple: true, arg: '<cidr>', help: 'never alert on this source range (repeatable)' },
  allowAsn: {
    type: 'string',
    multiple: true,
    arg: '<AS>',
    help: 'never alert on addresses this AS announces, per --network-data (AS64496 or 64496; repeatable)',
  },
  allowCountry: {
    type: 'string',
    multiple: true,
    arg: '<CC>',
    help: 'never alert on addresses registered in this country, per --network-data (JP, DE; repeatable)',
  },
  replayStore: {
    type: 'string',
    arg: '<dir>',
    help: 'keep the embedded DynamoDB data here (default: a temporary folder)',
  },
  keep: { type: 'boolean', help: 'reuse the data already in --store instead of starting fresh' },
  table: {
    type: 'string',
    arg: '<name>',
    help: "the deployed DynamoDB table (the stack output BaselinesTableName); region and credentials from the AWS SDK's default chain (AWS_PROFILE, AWS_REGION, ...)",
  },
  store: { type: 'string', arg: '<dir>', help: 'a local store kept by replay --store <dir> --keep' },
  networkData: {
    type: 'string',
    arg: '<file>',
    help: "network owners and countries for the alerts: an .awnd database (npm run network-data:build) or IPtoASN's ip2asn-combined.tsv, plain or gzip (built in memory)",
  },
  json: { type: 'boolean', help: 'machine-readable output' },
  note: { type: 'string', arg: '<text>', help: 'why, for whoever reads the allowlist later' },
  user: {
    type: 'string',
    arg: '<name>',
    help: '(allow cidr|asn|country, allow remove cidr|asn|country) for this user only',
  },
  until: {
    type: 'string',
    arg: '<YYYY-MM-DD>',
    help: '(allow user|cidr|asn|country) the last day the entry applies (UTC); after it, runs ignore it',
  },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies Record<string, OptionSpec>;

const SETTINGS_FOR_OPERATOR = {
  'learning-days': {
    ...O.learningDays,
    help: `(status, explain) the learning period the detector runs with (default ${DEFAULT_SETTINGS.learningDays})`,
  },
  'allow-user': { ...O.allowUser, help: '(allow list, explain) also count this settings allowlist entry (repeatable)' },
  'allow-cidr': { ...O.allowCidr, help: '(allow list, explain) also count this settings allowlist range (repeatable)' },
  'allow-asn': { ...O.allowAsn, help: '(allow list) also count this settings allowlist AS (repeatable)' },
  'allow-country': { ...O.allowCountry, help: '(allow list) also count this settings allowlist country (repeatable)' },
} as const;

const OPERATOR_TARGET = { table: O.table, store: O.store } as const;

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

const quoted = (p: readonly string[]) =>
  p
    .slice(0, 5)
    .map((x) => `"${safeText(x, 40)}"`)
    .join(' ') + (p.length > 5 ? ` and ${p.length - 5} more` : '');

const GLOB_HINT =
  "; if you typed a glob such as svc-*, quote it ('svc-*') so the shell does not expand it into file names";

function none(name: string) {
  return (p: readonly string[]) =>
    p.length > 0 ? `${name} takes no arguments, got ${quoted(p)} (options start with --)` : undefined;
}

function exactlyOne(name: string, what: string) {
  return (p: readonly string[]) => {
    if (p.length === 0) return `${name}: missing the ${what}`;
    if (p.length > 1) return `${name} takes one ${what}, got ${p.length}: ${quoted(p)}${GLOB_HINT}`;
    return undefined;
  };
}

/** What `allow <kind>` and `allow remove <kind>` take, by kind: the value's name, and an example when missing. */
const ALLOW_VALUES: Readonly<Record<string, { what: string; missing: string }>> = {
  user: { what: 'the user name', missing: "the user name or glob (quote globs: allow user 'svc-*')" },
  cidr: { what: 'the range', missing: 'the range, e.g. allow cidr 203.0.113.0/24' },
  asn: { what: 'the AS number', missing: 'the AS number, e.g. allow asn AS64496' },
  country: {
    what: 'the country code',
    missing: 'the country code, e.g. allow country JP --user alice --until 2026-12-18',
  },
};

function allowPositionals(p: readonly string[]): string | undefined {
  const [sub, ...rest] = p;
  if (sub === undefined)
    return 'allow: say what: allow user <name|glob>, allow cidr <cidr>, allow asn <AS>, allow country <CC>, allow list or allow remove user|cidr|asn|country <value>';
  const kind = ALLOW_VALUES[sub];
  if (kind !== undefined) {
    if (rest.length === 0) return `allow ${sub}: missing ${kind.missing}`;
    return rest.length > 1
      ? `allow ${sub}: unexpected ${quoted(rest.slice(1))} after ${kind.what}${GLOB_HINT}`
      : undefined;
  }
  if (sub === 'list')
    return rest.length > 0 ? `allow list: unexpected ${quoted(rest)} after list${GLOB_HINT}` : undefined;
  if (sub === 'remove') {
    const [what, value, ...more] = rest;
    const removed = what === undefined ? undefined : ALLOW_VALUES[what];
    if (removed === undefined)
      return 'allow remove: say what: allow remove user <name|glob>, cidr <cidr>, asn <AS> or country <CC>';
    if (value === undefined)
      return `allow remove ${what}: missing ${what === 'user' ? 'the user name or glob' : removed.what}`;
    return more.length > 0
      ? `allow remove ${what}: unexpected ${quoted(more)} after ${removed.what}${GLOB_HINT}`
      : undefined;
  }
  return `allow: unknown "${safeText(sub, 40)}": use allow user, allow cidr, allow asn, allow country, allow list or allow remove`;
}

// ---------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'parse',
    synopsis: '--profile <id> [--as-of <date>] [--config <file>] [file]',
    summary: 'one normalised logon per line as JSON (stdin if no file)',
    description: [
      'Parses a log file (plain or gzip) or standard input with a profile and prints each logon as one JSON line; a count of lines and malformed lines goes to stderr.',
    ],
    options: { profile: O.profile, 'as-of': O.asOf, config: O.config },
    checkPositionals: (p) =>
      p.length > 1 ? `parse reads one file (or stdin), got ${p.length}: ${quoted(p)}` : undefined,
  },
  {
    name: 'query',
    synopsis: '--profile <id> [--config <file>]',
    summary: "print the profile's CloudWatch Logs Insights query",
    description: ['Prints the Logs Insights query the detector runs for this profile.'],
    options: { profile: O.profile, config: O.config },
    checkPositionals: none('query'),
  },
  {
    name: 'replay',
    synopsis: '--profile <id> --input <file> [options]',
    summary: 'walk a log file on the real schedule; alerts as JSON lines',
    description: [
      "Walks the file on the detector's schedule (a run every 15 minutes, each looking back 30 minutes) through the same code the Lambda runs, on an embedded DynamoDB. Alerts go to stdout as JSON lines (or a table with --pretty); progress and the summary go to stderr.",
    ],
    options: {
      profile: O.profile,
      input: O.input,
      pretty: O.pretty,
      'learning-days': O.learningDays,
      threshold: O.threshold,
      'max-alerts': O.maxAlerts,
      'allow-user': O.allowUser,
      'allow-cidr': O.allowCidr,
      'allow-asn': O.allowAsn,
      'allow-country': O.allowCountry,
      store: O.replayStore,
      keep: O.keep,
      'as-of': O.asOf,
      'network-data': O.networkData,
      config: O.config,
    },
    checkPositionals: (p) =>
      p.length > 0 ? `replay takes the file as --input <file>, not as an argument (got ${quoted(p)})` : undefined,
  },
  {
    name: 'demo',
    synopsis: '[--network-data <file>]',
    summary: 'replay the bundled multi-week sample and show its alerts',
    description: [
      'Replays examples/demo/auth.log (a generated small office with labelled attacks) and scores the alerts against the labels. Takes about half a minute; progress goes to stderr.',
      'Alerts name the network owner and country of each address from examples/demo/network-data.tsv when that file is there (or from --network-data).',
    ],
    options: { 'network-data': O.networkData },
    checkPositionals: none('demo'),
  },
  {
    name: 'report',
    synopsis: '(--profile <id> --input <file> | --eval <file> | --table <name> | --store <dir>) [--out <file>]',
    summary: 'one HTML page of charts: a replay, an evaluation, or recent alerts',
    description: [
      "One self-contained HTML file (charts by the embedded Chart.js; no network needed to view it): a timeline of alerts by detector and score, each detector's scores against its threshold, and per user the places and hours used over time with the alerted logons marked. The summary and alert tables read without JavaScript.",
      "With --input: replays the file as replay does (the same options) and reports on it. With --eval: reports on an evaluation's JSON (npm run eval -- --json <file>): recall and false alerts per scenario and per detector, beside the naive rules. With --table or --store alone: the alerts the ledger holds from the last --days days and their users' baselines.",
    ],
    options: {
      profile: O.profile,
      input: O.input,
      eval: { type: 'string', arg: '<file>', help: "an evaluation's JSON, as npm run eval -- --json <file> writes it" },
      table: O.table,
      store: {
        type: 'string',
        arg: '<dir>',
        help: 'with --input: keep the embedded DynamoDB data here (as replay); alone: a local store kept by replay --store <dir> --keep',
      },
      keep: O.keep,
      days: { type: 'string', arg: '<n>', help: '(--table, --store) alerts raised in the last n days (default 7)' },
      out: { type: 'string', arg: '<file>', help: 'where to write the page (default ./authwatch-report.html)' },
      'learning-days': O.learningDays,
      threshold: O.threshold,
      'max-alerts': O.maxAlerts,
      'allow-user': O.allowUser,
      'allow-cidr': O.allowCidr,
      'allow-asn': O.allowAsn,
      'allow-country': O.allowCountry,
      'as-of': O.asOf,
      'network-data': O.networkData,
    },
    checkPositionals: (p) =>
      p.length > 0 ? `report takes its input as --input, --eval, --table or --store (got ${quoted(p)})` : undefined,
  },
  {
    name: 'backfill',
    synopsis: '--profile <id> (--log-group <name>... --days <n> | --input <file>) (--table <name> | --store <dir>)',
    summary: 'prime baselines from history without alerting',
    description: [
      "Primes baselines from history without alerting: CloudWatch Logs Insights one 15-minute window at a time (the detector's own buckets), or a local file. The learning period then counts as served for the days covered. Rerun the same command to resume after an interruption (Ctrl-C is safe).",
      "With --alerts, analyses past logons WITH alerts, as the detector would have (its own catch-up, 15-minute windows oldest first, each one learned): by default the ranges the detector skipped after an outage longer than maxBacklogDays (see status), or [--from, --to). What is done is removed from the skipped ranges, so rerunning resumes. Alerts go to --topic-arn (the stack's alerts topic), or are printed as JSON lines.",
    ],
    options: {
      profile: O.profile,
      'log-group': {
        type: 'string',
        multiple: true,
        arg: '<name>',
        help: `a log group to query (repeatable, at most ${MAX_LOG_GROUPS_PER_QUERY}); region and credentials from the AWS SDK's default chain`,
      },
      days: {
        type: 'string',
        arg: '<n>',
        help: 'how many days back from now (CloudWatch Logs), or the last n days of --input',
      },
      input: { ...O.input, help: "a log file in the profile's format (plain or gzip) instead of CloudWatch Logs" },
      table: { ...O.table, help: 'where the baselines go: the deployed table' },
      store: { ...O.store, help: 'where the baselines go: a local store, for replay --store <dir> --keep' },
      concurrency: {
        type: 'string',
        arg: '<n>',
        help: `parallel Insights queries (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})`,
      },
      'window-hours': {
        type: 'string',
        arg: '<n>',
        help: `hours between checkpoints and store writes (default ${DEFAULT_COMMIT_WINDOW_HOURS})`,
      },
      checkpoint: {
        type: 'string',
        arg: '<path>',
        help: 'progress file (default .authwatch/backfill-<hash of the arguments>.json)',
      },
      fresh: { type: 'boolean', help: 'ignore the checkpoint and start over' },
      config: O.config,
      'estimate-only': { type: 'boolean', help: 'print the scan estimate and the query count, then stop' },
      alerts: { type: 'boolean', help: 'analyse with alerts instead of priming: the skipped ranges, or --from/--to' },
      from: {
        type: 'string',
        arg: '<time>',
        help: 'with --alerts: start of the range to analyse (ISO 8601, e.g. 2026-11-20T08:00Z)',
      },
      to: { type: 'string', arg: '<time>', help: 'with --alerts: end of the range to analyse' },
      'topic-arn': {
        type: 'string',
        arg: '<arn>',
        help: 'with --alerts: publish the alerts to this SNS topic (default: print them as JSON lines)',
      },
      'learning-days': {
        ...O.learningDays,
        help: `the learning period the detector runs with (default ${DEFAULT_SETTINGS.learningDays})`,
      },
      'network-data': { ...O.networkData, help: `with --alerts: ${O.networkData.help}` },
    },
    checkPositionals: none('backfill'),
  },
  {
    name: 'allow',
    synopsis:
      'user <name|glob> | cidr <cidr> | asn <AS> | country <CC> | list | remove <kind> <value>  (--table <name> | --store <dir>)',
    summary: 'never alert on a user, a source range, a network (AS) or a country; list or remove entries',
    description: [
      "allow user <name|glob> [--note <text>]: never alert on this user (case-insensitive, * wildcard; quote globs: 'svc-*').",
      'allow cidr <cidr> [--user <name>] [--note <text>]: never alert on logons from this range (for one user only, with --user).',
      'allow asn <AS> [--user <name>]: never alert on logons from the networks this AS announces (AS64496 or 64496), as the offline network data says.',
      'allow country <CC> [--user <name>]: never alert on logons from addresses registered in this country (ISO 3166 code: JP, DE, GB).',
      'Any of them with --until YYYY-MM-DD: the entry applies through that day (UTC), then runs ignore it (allow again to renew; status names expired entries).',
      'allow list: the allowlist written so far. allow remove user <name|glob> | cidr <cidr> | asn <AS> | country <CC> [--user <name>]: take an entry off.',
      "The detector's next run honours the change.",
    ],
    options: {
      ...OPERATOR_TARGET,
      json: O.json,
      note: O.note,
      user: O.user,
      until: O.until,
      'allow-user': SETTINGS_FOR_OPERATOR['allow-user'],
      'allow-cidr': SETTINGS_FOR_OPERATOR['allow-cidr'],
      'allow-asn': SETTINGS_FOR_OPERATOR['allow-asn'],
      'allow-country': SETTINGS_FOR_OPERATOR['allow-country'],
    },
    checkPositionals: allowPositionals,
  },
  {
    name: 'benign',
    synopsis: '<alert-id> (--table <name> | --store <dir>)',
    summary: "the alert was the user's: its places become known ones",
    description: [
      "The alert was the user's: its address, subnet and network become known places of that user. The id is the alert's id field (see: show).",
    ],
    options: { ...OPERATOR_TARGET, json: O.json },
    checkPositionals: exactlyOne('benign', 'alert id (the id field of the alert)'),
  },
  {
    name: 'malicious',
    synopsis: '<alert-id> [--subnet [--prefix <bits>] | --owner] [--note <text>] (--table <name> | --store <dir>)',
    summary: "the alert's source is hostile: alert on every later logon from it, by any user",
    description: [
      "The alert's source is hostile (credential stuffing, a stolen password): its address, with --subnet its /24 (IPv6 /48), or with --owner its network owner (the AS the alert names), is marked malicious. Every later successful logon from it, by any user, raises a high-severity hostile-source alert; the allowlists do not silence it.",
      'A range wider than /16 (IPv6 /32) is refused. allow list shows the marks; unmark takes one back.',
    ],
    options: {
      ...OPERATOR_TARGET,
      json: O.json,
      subnet: { type: 'boolean', help: "mark the alert's /24 (IPv6 /48) instead of its address" },
      prefix: {
        type: 'string',
        arg: '<bits>',
        help: 'with --subnet: the length of the range marked (default 24, IPv6 48; at least 16, IPv6 32)',
      },
      owner: { type: 'boolean', help: "mark the alert's network owner: every address its AS announces" },
      note: { ...O.note, help: 'why, for whoever reads the marks and the alerts later' },
    },
    checkPositionals: exactlyOne('malicious', 'alert id (the id field of the alert)'),
  },
  {
    name: 'unmark',
    synopsis: '<alert-id|address|range|AS> (--table <name> | --store <dir>)',
    summary: 'take back a mark made with malicious',
    description: [
      'Takes back the marks made from this alert (the id a hostile-source alert names), or the mark of this address, range or AS (AS64496). Logons from it are judged as before by the next run.',
    ],
    options: { ...OPERATOR_TARGET, json: O.json },
    checkPositionals: exactlyOne('unmark', 'alert id, address, range or AS of the mark'),
  },
  {
    name: 'show',
    synopsis: '<alert-id> (--table <name> | --store <dir>) [--json]',
    summary: 'a past alert in full, as it was sent',
    description: [
      'Prints a past alert from the alert ledger as it was delivered: readable text, or the alert document (ECS JSON) with --json.',
    ],
    options: { ...OPERATOR_TARGET, json: { ...O.json, help: 'the alert document as it was sent (ECS JSON)' } },
    checkPositionals: exactlyOne('show', 'alert id (the id field of the alert)'),
  },
  {
    name: 'status',
    synopsis: '(--table <name> | --store <dir>) [--json]',
    summary: 'learning progress, users, last window, recent alerts, noisiest users',
    description: [
      'Learning progress, users, the last completed window, alerts in the last 24 hours and the noisiest users.',
    ],
    options: { ...OPERATOR_TARGET, json: O.json, 'learning-days': SETTINGS_FOR_OPERATOR['learning-days'] },
    checkPositionals: none('status'),
  },
  {
    name: 'explain',
    synopsis: '<user> (--table <name> | --store <dir>) [--json]',
    summary: 'what the baseline knows about a user',
    description: ['What the baseline knows about a user: places, first and last seen, novelty, allowlist entries.'],
    options: {
      ...OPERATOR_TARGET,
      json: O.json,
      'learning-days': SETTINGS_FOR_OPERATOR['learning-days'],
      'allow-user': SETTINGS_FOR_OPERATOR['allow-user'],
      'allow-cidr': SETTINGS_FOR_OPERATOR['allow-cidr'],
    },
    checkPositionals: exactlyOne('explain', 'user name'),
  },
  {
    name: 'help',
    synopsis: '[command]',
    summary: "this overview, or one command's options",
    description: [
      'Without a command: the list of commands. With one: its usage and options (the same as <command> --help).',
    ],
    options: {},
    checkPositionals: (p) => (p.length > 1 ? `help takes one command name, got ${quoted(p)}` : undefined),
  },
];

export function commandSpec(name: string): CommandSpec | undefined {
  return COMMANDS.find((c) => c.name === name);
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

export interface ParsedCommandLine {
  readonly flags: Flags;
  readonly positionals: string[];
  readonly help: boolean;
}

/** The candidate nearest to a mistyped `name` (edit distance at most 2, or a prefix), if any. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  // Levenshtein distance ≤ 2, or a prefix: enough to catch --profle, --learning-day, --tabel.
  const dist = (a: string, b: string) => {
    const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0]![j] = j;
    for (let i = 1; i <= a.length; i++)
      for (let j = 1; j <= b.length; j++)
        d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    return d[a.length]![b.length]!;
  };
  let best: [string, number] | undefined;
  for (const c of candidates) {
    const s = c.startsWith(name) ? 0 : dist(name, c);
    if (s <= 2 && (!best || s < best[1])) best = [c, s];
  }
  return best?.[0];
}

/** A command-line mistake: one sentence saying what is wrong and what to do. */
function mistake(message: string): ConfigError {
  return new ConfigError([message]);
}

/**
 * Parse `argv` (what follows the command name) against `spec`. Throws `ConfigError` with one sentence for the
 * first mistake: unknown option (with the nearest known one), option without its value, value given to a
 * switch, a single-valued option given twice, wrong arguments. `--help`/`-h` wins over every mistake.
 */
export function parseCommandLine(spec: CommandSpec, argv: readonly string[]): ParsedCommandLine {
  const options: Record<string, OptionSpec> = { ...spec.options, help: O.help };
  const parseOptions = Object.fromEntries(
    Object.entries(options).map(([k, o]) => [
      k,
      { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) },
    ]),
  );
  const { tokens } = parseArgs({
    args: [...argv],
    options: parseOptions,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  if (tokens.some((t) => t.kind === 'option' && t.name === 'help')) return { flags: {}, positionals: [], help: true };
  const flags: Flags = {};
  const positionals: string[] = [];
  const who = spec.name;
  for (const t of tokens) {
    if (t.kind === 'positional') {
      positionals.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue; // the `--` terminator
    const o = options[t.name];
    if (!o) {
      const near = closest(t.name, Object.keys(spec.options));
      const known = Object.keys(spec.options);
      throw mistake(
        `unknown option ${safeText(t.rawName, 40)} for ${who}` +
          (near
            ? ` (did you mean --${near}?)`
            : known.length > 0
              ? ` (it takes ${known.map((k) => `--${k}`).join(', ')})`
              : ' (it takes no options)') +
          `; to pass an argument that starts with a dash, put it after --`,
      );
    }
    if (o.type === 'boolean') {
      if (t.value !== undefined)
        throw mistake(
          `--${t.name} is a switch and takes no value (got "${safeText(t.value, 40)}"): write --${t.name} alone`,
        );
      flags[t.name] = true;
      continue;
    }
    // parseArgs takes the next argument as the value even when it is another option (`--profile --input x`).
    if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--'))) {
      const got =
        t.value === undefined ? 'nothing follows it' : `the next argument is the option ${safeText(t.value, 40)}`;
      const hint = t.name === 'profile' ? ` (one of ${PROFILE_IDS.join(', ')})` : '';
      throw mistake(`--${t.name} needs a value, but ${got}: write --${t.name} ${o.arg ?? '<value>'}${hint}`);
    }
    if (o.multiple) flags[t.name] = [...((flags[t.name] as string[] | undefined) ?? []), t.value];
    else if (flags[t.name] !== undefined)
      throw mistake(
        `--${t.name} is given twice ("${safeText(String(flags[t.name]), 40)}" and "${safeText(t.value, 40)}"): give it once`,
      );
    else flags[t.name] = t.value;
  }
  const bad = spec.checkPositionals(positionals);
  if (bad) throw mistake(bad);
  return { flags, positionals, help: false };
}

// ---------------------------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------------------------

/** The one-line usage of a command, printed under every mistake. */
export function usageLine(spec: CommandSpec | undefined): string {
  if (!spec) return 'usage: authwatch <command> [options]  (list of commands: authwatch help)';
  return `usage: authwatch ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ''}  (more: authwatch help ${spec.name})`;
}

/** `authwatch help <command>` and `authwatch <command> --help`, wrapped to `width` columns. */
export function commandHelp(spec: CommandSpec, width = terminalWidth()): string {
  const out: string[] = [];
  out.push(...wrapText(`authwatch ${spec.name}${spec.synopsis ? ` ${spec.synopsis}` : ''}`, width, '    ', 'usage: '));
  for (const p of spec.description) out.push('', ...wrapText(p, width));
  const entries = Object.entries({ ...spec.options, help: O.help } as Record<string, OptionSpec>);
  out.push('', 'Options:');
  const col = 26;
  for (const [name, o] of entries) {
    const flag = `  ${o.short ? `-${o.short}, ` : ''}--${name}${o.arg ? ` ${o.arg}` : ''}`;
    if (displayWidth(flag) + 2 <= col) out.push(...wrapText(o.help, width, ' '.repeat(col), padEnd(flag, col)));
    else out.push(flag, ...wrapText(o.help, width, ' '.repeat(col)));
  }
  return out.join('\n') + '\n';
}

/** `authwatch help`: every command in one line each. */
export function overviewHelp(width = terminalWidth()): string {
  const out: string[] = [];
  out.push('authwatch — rare user logons and unusual source IPs, from your logs', '');
  out.push(
    ...wrapText(
      'usage: authwatch <command> [options]   (in a clone: npx authwatch ..., or npm run authwatch -- ...)',
      width,
      '    ',
      '',
    ),
  );
  out.push('', 'Commands:');
  for (const c of COMMANDS) out.push(...wrapText(c.summary, width, ' '.repeat(12), padEnd(`  ${c.name}`, 12)));
  out.push(
    '',
    'Operator commands (allow, benign, show, status, explain) work on --table <name> (the deployed table) or --store <dir> (a local store).',
  );
  out.push('', `Profiles: ${PROFILE_IDS.join(', ')}`, '');
  out.push(...wrapText("One command's options: authwatch help <command>, or authwatch <command> --help.", width));
  return out.map((l) => (displayWidth(l) > width ? wrapText(l, width).join('\n') : l)).join('\n') + '\n';
}
