/**
 * Deployment configuration: CDK context → one validated, typed object, checked completely at synth time.
 *
 * Only what the operator sets is deployed: the repository's cdk.json holds no `authwatch` values (worked examples
 * live in docs/deploy.md and examples/, which nothing reads). With nothing set, synth fails and lists what is
 * required. Where the values come from (later wins, per key):
 *   1. the `authwatch` object in the context (the operator's cdk.json `context`, or `-c authwatch='{"logSources":[...], ...}'`);
 *   2. one key at a time on the command line: `-c authwatch.alertEmails=secops@example.com`.
 * Every key is checked against the known ones, at the top level and inside objects, so a typo fails synth with the
 * closest valid key instead of being ignored while an older value stays active.
 *
 * The detection settings (learningDays, thresholds, allowUsers, allowCidrs, allowAsns, allowCountries, ...) and
 * the log-source shape are validated by the very schemas the Lambda uses on its environment (shared/config.ts,
 * shared/core/settings.ts), so a value that synthesizes is a value the handler accepts, and an allowlist entry is
 * refused here with the message the CLI gives.
 */
import { z } from 'zod';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ConfigError } from '../shared/errors';
import { MAX_LOG_GROUPS_PER_QUERY } from '../shared/core/insights-query';
import { LOG_GROUP_NAME_PATTERN, looksLikeArn, parseLogGroupArn } from '../shared/core/log-group-arn';
import {
  DETECTOR_IDS,
  detectionSettingsSchema,
  formatIssues,
  settingsForEnvironment,
  type DetectionSettings,
} from '../shared/core/settings';
import { allowSettingRules, allowUntilText } from '../shared/core/allow-rules';
import { isCustomProfileId, PROFILE_IDS } from '../shared/core/profiles/profile';
import { checkCustomProfiles, type CustomProfileSpec } from '../shared/core/profiles/custom';
import { checkIdentities, type IdentityRulesConfig } from '../shared/core/identity';
import {
  ENV,
  logSourceConfigSchema,
  logSourceId,
  undefinedCustomProfiles,
  type LogSourceConfig,
} from '../shared/config';
import { IPTOASN_COMBINED_URL } from '../shared/adapters/network-data-source';
import { FANOUT_LIMITS } from '../lambdas/fanout/config';

/** The context key holding the configuration object; single keys are overridden with `CONTEXT_KEY.<key>`. */
export const CONTEXT_KEY = 'authwatch';

/**
 * A log group: its name (1–512 of `[A-Za-z0-9_-./#]`) or, for a linked source account of CloudWatch cross-account
 * observability, its ARN. Checked here (not only by CloudFormation) because both become IAM resource ARNs: a `*`,
 * a `:*` suffix or a malformed ARN would widen or break `logs:StartQuery`.
 */
const LOG_GROUP_HINT =
  'give the log group name (letters, digits, _ - . / #), or for a linked source account its ARN, arn:aws:logs:<region>:<account>:log-group:<name> (no pattern, no :* at the end)';

/** Fan-out defaults: a budget of 10 concurrent queries, a third of the account's, leaves room for people and dashboards. */
export const FANOUT_DEFAULTS = {
  userShards: 16,
  logGroupsPerQuery: MAX_LOG_GROUPS_PER_QUERY,
  queryConcurrency: 10,
  maxConcurrency: 40,
  /**
   * Backlog chunks one execution works through after missed runs: each is a whole window of steps, a few Lambda
   * invocations one after another, so a handful keeps an execution inside the 15 minutes before the next starts
   * (an estimate, not measured on AWS: lower it if executions time out while catching up).
   */
  catchUpChunksPerExecution: 8,
  /**
   * The step function's memory. Deliver and commit see the whole window's logons and digests: a window of 1,000,000
   * users peaked at 2,153 MB in deliver (npm run bench -- --only shards, with the heap of a 3,008 MB function).
   */
  memoryMb: 3008,
} as const;

const wholeIn = (min: number, max: number, what: string) => {
  const hint = `a whole number from ${min} to ${max}: ${what}`;
  return z.number({ error: hint }).int(hint).min(min, hint).max(max, hint);
};

const fanoutSchema = z.object(
  {
    /** Run each window as a Step Functions execution fanned out over log-source groups and user shards. */
    enabled: z.boolean({ error: 'true (Step Functions fan-out) or false (the single Lambda, the default)' }),
    userShards: wholeIn(1, FANOUT_LIMITS.maxUserShards, 'how many shards users are split into').default(
      FANOUT_DEFAULTS.userShards,
    ),
    logGroupsPerQuery: wholeIn(
      1,
      MAX_LOG_GROUPS_PER_QUERY,
      `log groups per fetch step (one Logs Insights query takes at most ${MAX_LOG_GROUPS_PER_QUERY})`,
    ).default(FANOUT_DEFAULTS.logGroupsPerQuery),
    queryConcurrency: wholeIn(
      1,
      FANOUT_LIMITS.maxQueryConcurrency,
      `fetch steps at once, each one Logs Insights query at a time (the account runs at most ${FANOUT_LIMITS.maxQueryConcurrency} queries at once, dashboards and people included)`,
    ).default(FANOUT_DEFAULTS.queryConcurrency),
    maxConcurrency: wholeIn(
      1,
      FANOUT_LIMITS.maxConcurrency,
      'user-shard steps at once (each is one Lambda invocation, from the account concurrency)',
    ).default(FANOUT_DEFAULTS.maxConcurrency),
    catchUpChunksPerExecution: wholeIn(
      1,
      FANOUT_LIMITS.maxCatchUpChunksPerExecution,
      'backlog chunks (15 minutes each) one execution analyses after missed runs',
    ).default(FANOUT_DEFAULTS.catchUpChunksPerExecution),
    memoryMb: wholeIn(
      1024,
      10_240,
      "the step function's memory in MB (deliver and commit hold the whole window's logons: about 2.2 KB a user)",
    ).default(FANOUT_DEFAULTS.memoryMb),
  },
  { error: 'an object like {"enabled":true,"userShards":16}' },
);

/** The fan-out as deployed (present only when enabled). */
export type FanoutConfig = Omit<z.infer<typeof fanoutSchema>, 'enabled'>;

/** Slack ids as AWS Chatbot expects them: workspace (team) ids start with T, channel ids with C or G (private). */
const SLACK_WORKSPACE_ID = /^T[A-Z0-9]{6,}$/;
const SLACK_CHANNEL_ID = /^[CG][A-Z0-9]{6,}$/;
const SLACK_WORKSPACE_HINT =
  'a Slack workspace (team) id like T07ABCDEF (AWS Chatbot console → Slack workspace details)';
const SLACK_CHANNEL_HINT = 'a Slack channel id like C07ABCDEF (Slack: channel details → bottom of the About tab)';

/** Lambda caps a function's environment variables at 4 KB in total (keys and values). */
export const LAMBDA_ENV_MAX_BYTES = 4 * 1024;
/**
 * Room kept for the variables resolved at deploy time (table name, three topic ARNs, service name, timeout,
 * NODE_OPTIONS, the network-data bucket and prefix, the event bus and Security Hub product ARN) and their keys: about
 * 850 bytes at the longest names.
 */
const ENV_RESERVED_BYTES = 1024;

const RETENTION_DAYS = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number' && v > 0);

const NETWORK_DATA_URL_HINT = `an http(s) URL of a file in IPtoASN's format, e.g. ${IPTOASN_COMBINED_URL}`;

const OUTPUT_HINT = 'an object { "enabled": true } or { "enabled": false }';

const profileHint = `one of ${PROFILE_IDS.map((p) => `"${p}"`).join(', ')}`;

/**
 * Hours a log source may return no logon before its quiet alarm fires, unless the source sets `maxQuietHours`.
 * A day: long enough for a night without logons, short enough that a shipping agent that stopped, a trail that
 * stopped delivering or a group that receives other logs is noticed the next working day. Sources quiet over a
 * weekend (console sign-ins of an account run from code) set 72 or more, or `false`.
 */
export const DEFAULT_MAX_QUIET_HOURS = 24;
/**
 * CloudWatch evaluates an alarm over at most seven days (PutMetricAlarm: EvaluationPeriods × Period ≤ 604,800 s),
 * and the quiet alarm looks at one-hour periods.
 */
export const MAX_QUIET_HOURS = 7 * 24;
const QUIET_HOURS_HINT = `whole hours from 1 to ${MAX_QUIET_HOURS} (an alarm looks back at most 7 days), or false for no quiet alarm on this source`;

/** One configured log source as the operator writes it: the runtime's shape, checked harder, plus its alarm setting. */
const deployLogSourceSchema = logSourceConfigSchema.extend({
  profile: z
    .string({ error: (i) => `unknown profile ${JSON.stringify(i.input)}: use ${profileHint}` })
    .refine((p) => (PROFILE_IDS as readonly string[]).includes(p) || isCustomProfileId(p), {
      error: (i) => `unknown profile ${JSON.stringify(i.input)}: use ${profileHint}`,
    })
    .transform((p) => p as LogSourceConfig['profile']),
  logGroups: logSourceConfigSchema.shape.logGroups.element
    .refine((g) => (looksLikeArn(g) ? parseLogGroupArn(g) !== undefined : LOG_GROUP_NAME_PATTERN.test(g)), {
      error: (i) =>
        `${looksLikeArn(String(i.input)) ? 'not a log group ARN' : 'not a log group name'}: ${LOG_GROUP_HINT}`,
    })
    .array()
    .min(1, 'list at least one log group name')
    .max(
      MAX_LOG_GROUPS_PER_QUERY,
      `at most ${MAX_LOG_GROUPS_PER_QUERY} log groups per source (a Logs Insights limit): split them over two sources`,
    ),
  /**
   * Hours without a single logon (success or failure) after which this source's quiet alarm fires; `false`: no quiet
   * alarm (a source that is rarely used). Default `DEFAULT_MAX_QUIET_HOURS`. Infrastructure only: not passed to the
   * Lambda.
   */
  maxQuietHours: z
    .union(
      [
        z.literal(false),
        z.number().int(QUIET_HOURS_HINT).min(1, QUIET_HOURS_HINT).max(MAX_QUIET_HOURS, QUIET_HOURS_HINT),
      ],
      { error: QUIET_HOURS_HINT },
    )
    .optional(),
});

/** Infrastructure-only keys; detection settings are added from the shared settings schema. */
const deploymentSchema = z.object({
  /** Which log groups hold logons, and in which format (profile). */
  logSources: z
    .array(deployLogSourceSchema, {
      error: (i) =>
        `${i.input === undefined ? 'required: the log groups holding logons and their format' : 'must be a list of log sources'} (${profileHint}), e.g. -c 'authwatch.logSources=[{"profile":"sshd","logGroups":["/ec2/var/log/secure"]}]'`,
    })
    .min(1, 'list at least one log source, e.g. [{"profile":"sshd","logGroups":["/ec2/secure"]}]'),
  /** Who receives alerts by email (each must confirm the SNS subscription). */
  alertEmails: z.array(z.email({ error: (i) => `${JSON.stringify(i.input)} is not an email address` })).default([]),
  /**
   * `digest`: one email per run listing its alerts (only runs that raised any); `each`: one email per alert.
   * Slack and other subscribers get each alert once either way.
   */
  alertEmailMode: z
    .enum(['digest', 'each'], {
      error: 'either "digest" (one email per run with alerts) or "each" (one email per alert)',
    })
    .default('digest'),
  /** Who receives operational alarms (detector failing or silent); defaults to `alertEmails`. */
  opsEmails: z.array(z.email({ error: (i) => `${JSON.stringify(i.input)} is not an email address` })).optional(),
  /** Optional AWS Chatbot Slack channel; the workspace must first be authorized in the AWS Chatbot console. */
  slack: z
    .object({
      workspaceId: z.string({ error: SLACK_WORKSPACE_HINT }).regex(SLACK_WORKSPACE_ID, SLACK_WORKSPACE_HINT),
      channelId: z.string({ error: SLACK_CHANNEL_HINT }).regex(SLACK_CHANNEL_ID, SLACK_CHANNEL_HINT),
    })
    .optional(),
  /** Powertools service name: the `service` dimension of every metric; keeps several deployments apart. */
  serviceName: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (it becomes a metric dimension value)')
    .default('authwatch'),
  /** CloudFormation stack name. */
  stackName: z
    .string()
    .regex(
      /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
      'a CloudFormation stack name: starts with a letter; letters, digits and - only',
    )
    .default('Authwatch'),
  /** Days the detector's own log is kept. */
  logRetentionDays: z
    .number()
    .refine(
      (d) => (RETENTION_DAYS as number[]).includes(d),
      `one of CloudWatch Logs' retention values: ${RETENTION_DAYS.join(', ')}`,
    )
    .default(RetentionDays.ONE_YEAR),
  /** Keep the baselines table when the stack is deleted (months of learned behaviour). Set false only for test deployments. */
  retainData: z.boolean().default(true),
  /**
   * Deploy the network-owner data: a bucket, the weekly refresh function, and the detector loading the database at
   * cold start. `false`: none of it is deployed, observations carry no owner or country, and no S3 call is made.
   */
  networkData: z.boolean({ error: 'true (the default) or false (no network-owner data at all)' }).default(true),
  /**
   * Put every alert on the account's default EventBridge bus too (`source` `authwatch`, `detail-type`
   * `Authwatch Alert`), for rules of the operator's own. Off unless enabled.
   */
  eventBridge: z.object({ enabled: z.boolean({ error: OUTPUT_HINT }) }, { error: OUTPUT_HINT }).optional(),
  /**
   * Import every alert into Security Hub as a finding (the account's default product), and feed analysts' triage of
   * them back (resolved benign/malicious, suppressed). Off unless enabled; Security Hub must be enabled in the account.
   */
  securityHub: z.object({ enabled: z.boolean({ error: OUTPUT_HINT }) }, { error: OUTPUT_HINT }).optional(),
  /** The file the refresh downloads, in IPtoASN's ip2asn-combined.tsv(.gz) format (a mirror, or another publisher's). */
  networkDataUrl: z
    .string({ error: NETWORK_DATA_URL_HINT })
    .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, NETWORK_DATA_URL_HINT)
    .optional(),
  /** Formats the deployment defines (shared/core/profiles/custom.ts); checked by `checkCustomProfiles`. */
  customProfiles: z.unknown().optional(),
  /** Which user names are one person (shared/core/identity.ts); checked by `checkIdentities`. */
  identities: z.unknown().optional(),
  /**
   * Step Functions fan-out: each window's steps as a state machine over log-source groups and user shards, instead
   * of one Lambda invocation. Off (absent or `enabled: false`): the single Lambda.
   */
  fanout: fanoutSchema.optional(),
});

const DEPLOYMENT_KEYS = Object.keys(deploymentSchema.shape);
const SETTINGS_KEYS = Object.keys(detectionSettingsSchema.shape);
/** Every key the configuration object accepts, for the unknown-key message. */
export const CONFIG_KEYS: readonly string[] = [...DEPLOYMENT_KEYS, ...SETTINGS_KEYS];

/** Keys of the configuration's nested objects, checked like the top-level ones (zod would drop unknown keys silently). */
const NESTED_KEYS = {
  logSource: Object.keys(deployLogSourceSchema.shape),
  slack: Object.keys(deploymentSchema.shape.slack.unwrap().shape),
  fanout: Object.keys(fanoutSchema.shape),
  output: ['enabled'],
  thresholds: [...DETECTOR_IDS] as string[],
};

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), case-insensitive: the typos a
 * key suffers are a missing, extra or swapped letter, or the wrong case.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[s.length]![t.length]!;
}

/**
 * The known key closest to `key`, if it is close enough to be a typo of it: at most a third of the key's letters
 * wrong (at least 2 allowed), so `alertEmail` → `alertEmails` but an unrelated word suggests nothing.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(key, k);
    if (!best || distance < best.distance) best = { key: k, distance };
  }
  return best && best.distance <= Math.max(2, Math.ceil(key.length / 3)) ? best.key : undefined;
}

/** `<path>.<key>: unknown key; did you mean <path>.<closest>?`, or the list of known keys when none is close. */
function unknownKeyIssue(path: string, key: string, known: readonly string[]): string {
  const near = closestKey(key, known);
  return near !== undefined
    ? `${path}.${key}: unknown key; did you mean ${path}.${near}?`
    : `${path}.${key}: unknown key (known keys: ${known.join(', ')})`;
}

/** Unknown keys of a nested object (only if it is an object: a wrong type is the schema's to report). */
function nestedUnknownKeys(value: unknown, path: string, known: readonly string[]): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => unknownKeyIssue(path, k, known));
}

/** A log source as the stack's per-source alarms see it. */
export interface LogSourceAlarmConfig {
  /** `logSourceId`: the `LogSource` dimension the detector emits the source's metrics under. */
  id: string;
  profile: LogSourceConfig['profile'];
  logGroups: string[];
  /** Hours without a logon before the quiet alarm fires; `false`: no quiet alarm. */
  maxQuietHours: number | false;
}

export interface DeployConfig {
  /** What the Lambda reads (`AUTHWATCH_LOG_SOURCES`): profile and log groups only. */
  logSources: LogSourceConfig[];
  /** The same sources, in the same order, with their ids and alarm settings. */
  logSourceAlarms: LogSourceAlarmConfig[];
  alertEmails: string[];
  alertEmailMode: 'digest' | 'each';
  opsEmails: string[];
  slack?: { workspaceId: string; channelId: string };
  serviceName: string;
  stackName: string;
  logRetentionDays: RetentionDays;
  retainData: boolean;
  /**
   * Fully parsed detection settings (defaults merged); the Lambda gets what differs from the defaults
   * (`settingsForEnvironment`) as `AUTHWATCH_SETTINGS`, and its parse merges them back.
   */
  settings: DetectionSettings;
  /** The network-owner data and where its refresh downloads from; absent when `networkData` is false. */
  networkData?: { sourceUrl: string };
  /** The formats the deployment defines, validated; the Lambda gets them as `AUTHWATCH_CUSTOM_PROFILES`. */
  customProfiles: CustomProfileSpec[];
  /** Which user names are one person, validated and canonical; the Lambda gets them as `AUTHWATCH_IDENTITIES`. */
  identities?: IdentityRulesConfig;
  /** The Step Functions fan-out's sizes; absent for the single Lambda (the default). */
  fanout?: FanoutConfig;
  /** Alerts also on the default event bus. */
  eventBridge: boolean;
  /** Alerts also as Security Hub findings, and triage fed back. */
  securityHub: boolean;
  /**
   * What deploys but is likely a mistake, each prefixed with its key path: allowlist entries whose `until` day is
   * over (the detector ignores them for later logons). Shown by synth as warnings; never a reason to refuse it.
   */
  warnings: string[];
}

/**
 * The allowlist entries of `settings` whose `until` is over at `now`: deployed (they still apply to older logons,
 * e.g. a backfill, and refusing them would block an unrelated deployment months later), but worth removing.
 */
export function expiredAllowWarnings(settings: DetectionSettings, now: number, prefix = CONTEXT_KEY): string[] {
  const rules = allowSettingRules(settings);
  const lists = [
    ['allowUsers', rules.users],
    ['allowCidrs', rules.cidrs],
    ['allowAsns', rules.asns],
    ['allowCountries', rules.countries],
  ] as const;
  const today = new Date(now).toISOString().slice(0, 10);
  return lists.flatMap(([key, list]) =>
    list.flatMap((r, i) =>
      r.expiresAt !== undefined && r.expiresAt <= now
        ? [
            `${prefix}.${key}.${i}: until ${allowUntilText(r.expiresAt)} is over (it is ${today} UTC): the detector ignores this entry for logons after that day; remove it, or give a later day`,
          ]
        : [],
    ),
  );
}

/** Keys whose values are lists: on the command line a plain `a,b,c` is accepted for them. */
const LIST_KEYS = new Set(['alertEmails', 'opsEmails', 'allowUsers', 'allowCidrs', 'allowAsns', 'allowCountries']);

/**
 * A `-c key=value` arrives as a string. JSON is parsed (objects, arrays, numbers, booleans); a plain string for a
 * list key is split on commas (a bare number too: `allowAsns=64496` is one AS); anything else stays a string and
 * the schema reports it.
 */
function coerceCliValue(key: string, raw: unknown, issues: string[], label = key): unknown {
  if (typeof raw !== 'string') return raw;
  const s = raw.trim();
  const scalar = /^-?\d+(\.\d+)?$/.test(s) || s === 'true' || s === 'false';
  if (/^[[{]/.test(s) || (scalar && !LIST_KEYS.has(key))) {
    try {
      return JSON.parse(s);
    } catch (e) {
      issues.push(`${label}: not valid JSON (${(e as Error).message})`);
      return undefined;
    }
  }
  if (LIST_KEYS.has(key))
    return s === ''
      ? []
      : s
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean);
  return s;
}

/** The whole CDK context (`app.node.getAllContext()`): cdk.json's `context` merged with every `-c key=value`. */
export type CdkContext = Readonly<Record<string, unknown>>;

/**
 * Gather the raw configuration object from context: the `authwatch` object, then per-key overrides
 * (`authwatch.<key>`). Every `authwatch.*` context key is looked at, so a misspelt one is reported, not ignored.
 */
export function readContext(context: CdkContext, issues: string[]): Record<string, unknown> {
  let base = coerceCliValue(CONTEXT_KEY, context[CONTEXT_KEY], issues);
  if (base === undefined) base = {};
  if (typeof base !== 'object' || base === null || Array.isArray(base)) {
    issues.push(
      `${CONTEXT_KEY}: must be an object like {"logSources":[...],"alertEmails":[...]} (in cdk.json "context", or -c ${CONTEXT_KEY}='{...}')`,
    );
    base = {};
  }
  const raw: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [name, override] of Object.entries(context)) {
    if (!name.startsWith(`${CONTEXT_KEY}.`) || override === undefined) continue;
    const key = name.slice(CONTEXT_KEY.length + 1);
    if (CONFIG_KEYS.includes(key)) {
      raw[key] = coerceCliValue(key, override, issues, name);
      continue;
    }
    const parent = CONFIG_KEYS.find((k) => key.startsWith(`${k}.`));
    if (parent !== undefined) {
      // `-c authwatch.thresholds.Auth.RareUser=80`: one level only, since detector ids and log groups hold dots themselves.
      issues.push(
        `${name}: only top-level keys can be set one by one; give ${CONTEXT_KEY}.${parent} whole, e.g. -c '${CONTEXT_KEY}.${parent}=<JSON>'`,
      );
    } else {
      issues.push(unknownKeyIssue(CONTEXT_KEY, key, CONFIG_KEYS));
    }
  }
  return raw;
}

/**
 * Validate a raw configuration object. Throws `ConfigError` listing every problem, each prefixed with its key path.
 * `now` (epoch ms) only decides which allowlist entries are over, for `warnings`.
 */
export function parseDeployConfig(
  raw: Record<string, unknown>,
  preIssues: readonly string[] = [],
  now: number = Date.now(),
): DeployConfig {
  const issues = [...preIssues];
  const prefix = CONTEXT_KEY;

  for (const key of Object.keys(raw)) {
    if (!CONFIG_KEYS.includes(key)) issues.push(unknownKeyIssue(prefix, key, CONFIG_KEYS));
  }
  if (Array.isArray(raw.logSources))
    issues.push(
      ...raw.logSources.flatMap((s, i) => nestedUnknownKeys(s, `${prefix}.logSources.${i}`, NESTED_KEYS.logSource)),
    );
  issues.push(...nestedUnknownKeys(raw.slack, `${prefix}.slack`, NESTED_KEYS.slack));
  issues.push(...nestedUnknownKeys(raw.fanout, `${prefix}.fanout`, NESTED_KEYS.fanout));
  issues.push(...nestedUnknownKeys(raw.eventBridge, `${prefix}.eventBridge`, NESTED_KEYS.output));
  issues.push(...nestedUnknownKeys(raw.securityHub, `${prefix}.securityHub`, NESTED_KEYS.output));
  issues.push(...nestedUnknownKeys(raw.thresholds, `${prefix}.thresholds`, NESTED_KEYS.thresholds));

  const deploymentRaw = Object.fromEntries(Object.entries(raw).filter(([k]) => DEPLOYMENT_KEYS.includes(k)));
  const settingsRaw = Object.fromEntries(Object.entries(raw).filter(([k]) => SETTINGS_KEYS.includes(k)));

  const deployment = deploymentSchema.safeParse(deploymentRaw);
  if (!deployment.success) issues.push(...formatIssues(deployment.error.issues, prefix));
  const settings = detectionSettingsSchema.safeParse(settingsRaw);
  if (!settings.success) issues.push(...formatIssues(settings.error.issues, prefix));

  // Checked on the raw object, so it is listed beside any other problem (a first deployment misses both).
  const emails = raw.alertEmails;
  if ((emails === undefined || (Array.isArray(emails) && emails.length === 0)) && raw.slack === undefined) {
    issues.push(
      `${prefix}.alertEmails: required: who receives alerts, e.g. -c ${prefix}.alertEmails=secops@your-company.com (or set ${prefix}.slack) — otherwise alerts reach nobody`,
    );
  }

  // The Lambda gets each source's profile and groups only; the alarm setting stays in the stack.
  const runtimeSources: LogSourceConfig[] = deployment.success
    ? deployment.data.logSources.map((src) => ({ profile: src.profile, logGroups: src.logGroups }))
    : [];

  const custom = checkCustomProfiles(raw.customProfiles, `${prefix}.customProfiles`);
  issues.push(...custom.issues);
  // On the raw list, so an undefined format is named beside any other mistake in the sources.
  const namedProfiles = (Array.isArray(raw.logSources) ? (raw.logSources as unknown[]) : []).map((s) => {
    const profile = typeof s === 'object' && s !== null ? (s as { profile?: unknown }).profile : undefined;
    return { profile: (typeof profile === 'string' ? profile : '') as LogSourceConfig['profile'] };
  });
  if (custom.issues.length === 0)
    issues.push(
      ...undefinedCustomProfiles(
        namedProfiles,
        custom.specs,
        (i) => `${prefix}.logSources.${i}`,
        `${prefix}.customProfiles`,
      ),
    );
  const identities = checkIdentities(raw.identities, `${prefix}.identities`);
  issues.push(...identities.issues);
  const extraEnvironment = detectorExtraEnvironment({
    customProfiles: custom.specs,
    ...(identities.rules ? { identities: identities.rules } : {}),
  });

  // Two sources with one id would emit their metrics as one, and their alarms would watch the sum.
  const firstWithId = new Map<string, number>();
  runtimeSources.forEach((src, i) => {
    const id = logSourceId(src);
    const earlier = firstWithId.get(id);
    if (earlier === undefined) firstWithId.set(id, i);
    else
      issues.push(
        `${prefix}.logSources.${i}: same profile and first log group as ${prefix}.logSources.${earlier} (${id}): each source is named by these two for its metrics and alarms; merge the two sources, or list a different group first`,
      );
  });

  if (deployment.success && settings.success) {
    const bytes =
      Buffer.byteLength(JSON.stringify(runtimeSources)) +
      Buffer.byteLength(JSON.stringify(settingsForEnvironment(settings.data))) +
      Object.entries(extraEnvironment).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    if (bytes + ENV_RESERVED_BYTES > LAMBDA_ENV_MAX_BYTES) {
      issues.push(
        `${prefix}: log sources and settings take ${bytes} bytes, more than the ${LAMBDA_ENV_MAX_BYTES - ENV_RESERVED_BYTES} left in Lambda's 4 KB environment: shorten allowUsers (use * patterns), merge allowCidrs into wider blocks, move allowAsns/allowCountries entries to authwatch allow (kept in the table; so are entries for one user or until a day), remove entries whose until is over, use fewer log groups, or shorten customProfiles and identities`,
      );
    }
  }

  // One deployment queries one region: cross-account observability links accounts within a region, and
  // StartQuery runs in the monitoring account's region.
  if (deployment.success) {
    const regions = new Set<string>();
    for (const src of deployment.data.logSources)
      for (const g of src.logGroups) {
        const arn = parseLogGroupArn(g);
        if (arn) regions.add(arn.region);
      }
    if (regions.size > 1)
      issues.push(
        `${prefix}.logSources: log group ARNs name ${regions.size} regions (${[...regions.keys()].join(', ')}): a deployment queries the region it is deployed to (cross-account observability links accounts within one region); deploy once per region, each with that region's groups`,
      );
  }

  // A URL beside `networkData: false` would be ignored while the operator believes it is in use.
  if (raw.networkData === false && raw.networkDataUrl !== undefined)
    issues.push(
      `${prefix}.networkDataUrl: set while ${prefix}.networkData is false, so nothing would download it; remove one of the two`,
    );

  if (issues.length > 0 || !deployment.success || !settings.success) throw new ConfigError(issues);
  const d = deployment.data;
  return {
    logSources: runtimeSources,
    logSourceAlarms: d.logSources.map((src) => ({
      id: logSourceId(src),
      profile: src.profile,
      logGroups: src.logGroups,
      maxQuietHours: src.maxQuietHours ?? DEFAULT_MAX_QUIET_HOURS,
    })),
    alertEmails: d.alertEmails,
    alertEmailMode: d.alertEmailMode,
    opsEmails: d.opsEmails ?? d.alertEmails,
    ...(d.slack ? { slack: d.slack } : {}),
    serviceName: d.serviceName,
    stackName: d.stackName,
    logRetentionDays: d.logRetentionDays as RetentionDays,
    retainData: d.retainData,
    settings: settings.data,
    ...(d.networkData ? { networkData: { sourceUrl: d.networkDataUrl ?? IPTOASN_COMBINED_URL } } : {}),
    customProfiles: custom.specs,
    ...(identities.rules ? { identities: identities.rules } : {}),
    ...(d.fanout?.enabled ? { fanout: withoutEnabled(d.fanout) } : {}),
    eventBridge: d.eventBridge?.enabled ?? false,
    securityHub: d.securityHub?.enabled ?? false,
    warnings: expiredAllowWarnings(settings.data, now, prefix),
  };
}

/**
 * The detector's environment variables for the formats and identity rules the deployment defines, each the
 * validated value as JSON (`[]` and `{}` when none: every variable the handler reads is set, as for the others),
 * which the function validates again (`parseRuntimeConfig`).
 */
export function detectorExtraEnvironment(
  config: Pick<DeployConfig, 'customProfiles' | 'identities'>,
): Record<string, string> {
  return {
    [ENV.customProfiles]: JSON.stringify(config.customProfiles),
    [ENV.identities]: JSON.stringify(config.identities ?? {}),
  };
}

function withoutEnabled({ enabled: _, ...rest }: z.infer<typeof fanoutSchema>): FanoutConfig {
  return rest;
}

/** Context → validated configuration (the app's entry point uses this); `now` as in `parseDeployConfig`. */
export function loadDeployConfig(context: CdkContext, now: number = Date.now()): DeployConfig {
  const issues: string[] = [];
  const raw = readContext(context, issues);
  return parseDeployConfig(raw, issues, now);
}
