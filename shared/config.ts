/**
 * Runtime configuration of the detector Lambda, from environment variables, parsed once per cold start.
 * The env var names are exported from here and used by both the handler and `infra/`, so they cannot drift.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import { ConfigError } from './errors';
import { isCustomProfileId, PROFILE_IDS, type CustomProfileId } from './core/profiles/profile';
import { checkCustomProfiles, type CustomProfileSpec } from './core/profiles/custom';
import { checkIdentities, type IdentityRulesConfig } from './core/identity';
import { detectionSettingsSchema, formatIssues, type DetectionSettings } from './core/settings';
import { MAX_LOG_GROUPS_PER_QUERY } from './core/insights-query';

export const ENV = {
  tableName: 'AUTHWATCH_TABLE_NAME',
  topicArn: 'AUTHWATCH_TOPIC_ARN',
  /** Optional: the topic AWS Chatbot (Slack) subscribes to; alerts are posted there as chat cards. */
  chatTopicArn: 'AUTHWATCH_CHAT_TOPIC_ARN',
  /** Optional: the topic the per-run digest email goes to (alertEmailMode `digest`). */
  digestTopicArn: 'AUTHWATCH_DIGEST_TOPIC_ARN',
  /** JSON: `[{"profile":"sshd","logGroups":["/ec2/secure"]}]` */
  logSources: 'AUTHWATCH_LOG_SOURCES',
  /** JSON object of detection settings overrides (see `detectionSettingsSchema`). */
  settings: 'AUTHWATCH_SETTINGS',
  /** Milliseconds the Logs Insights queries may take in total before the run gives up. */
  queryTimeoutMs: 'AUTHWATCH_QUERY_TIMEOUT_MS',
  /** Optional JSON: the formats the deployment defines (`customProfiles`, core/profiles/custom.ts). */
  customProfiles: 'AUTHWATCH_CUSTOM_PROFILES',
  /** Optional JSON: which user names are one person (`identities`, core/identity.ts). */
  identities: 'AUTHWATCH_IDENTITIES',
} as const;

/**
 * The outputs beside SNS, each on when its variable is set (the stack sets them when the deployment enables them):
 * apart from `ENV`, whose variables every deployment's detector has.
 */
export const OUTPUT_ENV = {
  /** An event bus (name or ARN; the stack sets `default`) every alert is also put on. */
  eventBus: 'AUTHWATCH_EVENT_BUS',
  /** The Security Hub product ARN (`...:product/<account>/default`) every alert is imported under as a finding. */
  securityHubProductArn: 'AUTHWATCH_SECURITY_HUB_PRODUCT_ARN',
} as const;

/**
 * The query budget: how long the Logs Insights queries of one fetch may take, unless told otherwise. Written once
 * here, and used as the Logs Insights source's default deadline (so the command line's `backfill` and
 * `backfill --alerts` get it too), the detector's when `AUTHWATCH_QUERY_TIMEOUT_MS` is unset, and the value the
 * stack sets that variable to: the detector Lambda's 5-minute timeout (infra/constructs/detector.ts) less a
 * minute to write baselines and publish alerts before Lambda stops the run.
 */
export const DEFAULT_QUERY_TIMEOUT_MS = 240_000;

/** A built-in profile's id, or a custom format's (`custom:<name>`, which must also be defined: `customProfiles`). */
export const profileIdSchema = z.union([
  z.enum(PROFILE_IDS),
  z.custom<CustomProfileId>((v) => typeof v === 'string' && isCustomProfileId(v)),
]);

export const logSourceConfigSchema = z.object({
  profile: profileIdSchema,
  logGroups: z
    .array(z.string().min(1).max(512))
    .min(1)
    .max(MAX_LOG_GROUPS_PER_QUERY, `at most ${MAX_LOG_GROUPS_PER_QUERY} log groups per source (a Logs Insights limit)`),
});
export type LogSourceConfig = z.infer<typeof logSourceConfigSchema>;

/**
 * The longest log source id: an alarm's dimension value (AWS::CloudWatch::Alarm Dimension: 1–255 characters), less
 * than metrics accept (PutMetricData: 1,024).
 */
export const LOG_SOURCE_ID_MAX = 255;

/**
 * A log source's id: its profile and first log group, e.g. `sshd:/ec2/var/log/secure`. The detector names its
 * sources by it (the `LogSource` dimension of the per-source metrics) and the stack's per-source alarms filter on
 * it, both computed here, so they cannot disagree. Stable while the source keeps its profile and first group. A
 * valid dimension value: ASCII (profile ids and log group names are), never blank, and at most
 * `LOG_SOURCE_ID_MAX` characters: a longer one keeps its beginning and ends in `~` and a digest of the whole.
 */
export function logSourceId(source: Pick<LogSourceConfig, 'profile' | 'logGroups'>): string {
  const id = `${source.profile}:${source.logGroups[0] ?? ''}`;
  if (id.length <= LOG_SOURCE_ID_MAX) return id;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 12);
  return `${id.slice(0, LOG_SOURCE_ID_MAX - digest.length - 1)}~${digest}`;
}

export interface RuntimeConfig {
  tableName: string;
  topicArn: string;
  chatTopicArn?: string;
  digestTopicArn?: string;
  logSources: LogSourceConfig[];
  settings: DetectionSettings;
  queryTimeoutMs: number;
  /** The formats the deployment defines, validated; every custom id a log source names is among them. */
  customProfiles: CustomProfileSpec[];
  /** Which user names are one person; absent: none are joined. */
  identities?: IdentityRulesConfig;
  /** The event bus alerts are also put on; absent: no EventBridge output. */
  eventBus?: string;
  /** Where findings are imported; absent: no Security Hub output. */
  securityHub?: SecurityHubTarget;
}

/**
 * Issues for log sources naming a custom format that `specs` does not define (`where`: how a source is named in
 * a message, e.g. `AUTHWATCH_LOG_SOURCES.0`).
 */
export function undefinedCustomProfiles(
  sources: readonly Pick<LogSourceConfig, 'profile'>[],
  specs: readonly Pick<CustomProfileSpec, 'id'>[],
  where: (index: number) => string,
  definedAt: string,
): string[] {
  const defined = new Set<string>(specs.map((s) => s.id));
  return sources.flatMap((s, i) =>
    isCustomProfileId(s.profile) && !defined.has(s.profile)
      ? [
          `${where(i)}.profile: "${s.profile}" is not defined in ${definedAt}${defined.size > 0 ? ` (defined: ${[...defined].join(', ')})` : ''}`,
        ]
      : [],
  );
}

/** A Security Hub custom product's ARN, and the account, region and partition it names. */
export interface SecurityHubTarget {
  readonly productArn: string;
  readonly account: string;
  readonly region: string;
  readonly partition: string;
}

/** `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`: the account's own product, nothing else. */
const DEFAULT_PRODUCT_ARN = /^arn:(aws[a-z-]*):securityhub:([a-z0-9-]+):(\d{12}):product\/(\d{12})\/default$/;

/** The target a product ARN names, or undefined when it is not the account's default product. */
export function parseSecurityHubProductArn(arn: string): SecurityHubTarget | undefined {
  const m = DEFAULT_PRODUCT_ARN.exec(arn);
  if (!m || m[3] !== m[4]) return undefined;
  return { productArn: arn, partition: m[1]!, region: m[2]!, account: m[3]! };
}

const EVENT_BUS =
  /^([A-Za-z0-9._\-/]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256})$/;

/** An optional JSON variable: undefined when unset or blank, or (with an issue added) when it is not JSON. */
export function parseJson(name: string, raw: string | undefined, issues: string[]): unknown {
  if (raw === undefined || raw.trim() === '') return undefined;
  try {
    return JSON.parse(raw);
  } catch (e) {
    issues.push(`${name}: not valid JSON (${(e as Error).message})`);
    return undefined;
  }
}

/** An optional whole number of milliseconds, at least a second: `fallback` when unset, or (with an issue added) when malformed. */
export function parseMillis(name: string, raw: string | undefined, fallback: number, issues: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1000) return n;
  issues.push(`${name}: must be a whole number of milliseconds >= 1000, got "${raw}"`);
  return fallback;
}

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/;

/** Parse the Lambda's environment. Throws `ConfigError` listing every problem at once. */
export function parseRuntimeConfig(env: Readonly<Record<string, string | undefined>>): RuntimeConfig {
  const issues: string[] = [];
  const tableName = env[ENV.tableName];
  if (!tableName) issues.push(`${ENV.tableName}: required (the DynamoDB baselines table name)`);
  const topicArn = env[ENV.topicArn];
  if (!topicArn) issues.push(`${ENV.topicArn}: required (the SNS alerts topic ARN)`);
  else if (!TOPIC_ARN.test(topicArn)) issues.push(`${ENV.topicArn}: "${topicArn}" is not an SNS topic ARN`);
  const optionalTopics: { chatTopicArn?: string; digestTopicArn?: string } = {};
  for (const key of ['chatTopicArn', 'digestTopicArn'] as const) {
    const arn = env[ENV[key]];
    if (arn === undefined || arn === '') continue;
    if (TOPIC_ARN.test(arn)) optionalTopics[key] = arn;
    else issues.push(`${ENV[key]}: "${arn}" is not an SNS topic ARN`);
  }

  let logSources: LogSourceConfig[] = [];
  const rawSources = parseJson(ENV.logSources, env[ENV.logSources], issues);
  if (rawSources === undefined && !issues.some((i) => i.startsWith(ENV.logSources))) {
    issues.push(`${ENV.logSources}: required, e.g. [{"profile":"sshd","logGroups":["/ec2/secure"]}]`);
  } else if (rawSources !== undefined) {
    const r = z.array(logSourceConfigSchema).min(1).safeParse(rawSources);
    if (r.success) logSources = r.data;
    else issues.push(...formatIssues(r.error.issues, ENV.logSources));
  }

  let settings = detectionSettingsSchema.parse({});
  const rawSettings = parseJson(ENV.settings, env[ENV.settings], issues);
  if (rawSettings !== undefined) {
    const r = detectionSettingsSchema.safeParse(rawSettings);
    if (r.success) settings = r.data;
    else issues.push(...formatIssues(r.error.issues, ENV.settings));
  }

  const queryTimeoutMs = parseMillis(ENV.queryTimeoutMs, env[ENV.queryTimeoutMs], DEFAULT_QUERY_TIMEOUT_MS, issues);

  // Validated again here, by the same checks as at synth: an environment edited by hand fails loudly, not later.
  const custom = checkCustomProfiles(
    parseJson(ENV.customProfiles, env[ENV.customProfiles], issues),
    ENV.customProfiles,
  );
  issues.push(...custom.issues);
  if (custom.issues.length === 0)
    issues.push(
      ...undefinedCustomProfiles(logSources, custom.specs, (i) => `${ENV.logSources}.${i}`, ENV.customProfiles),
    );
  const identities = checkIdentities(parseJson(ENV.identities, env[ENV.identities], issues), ENV.identities);
  issues.push(...identities.issues);
  const outputs: { eventBus?: string; securityHub?: SecurityHubTarget } = {};
  const bus = env[OUTPUT_ENV.eventBus];
  if (bus !== undefined && bus !== '') {
    if (EVENT_BUS.test(bus)) outputs.eventBus = bus;
    else issues.push(`${OUTPUT_ENV.eventBus}: "${bus}" is not an event bus name or ARN`);
  }
  const product = env[OUTPUT_ENV.securityHubProductArn];
  if (product !== undefined && product !== '') {
    const target = parseSecurityHubProductArn(product);
    if (target) outputs.securityHub = target;
    else
      issues.push(
        `${OUTPUT_ENV.securityHubProductArn}: "${product}" is not the account's own product ARN (arn:aws:securityhub:<region>:<account>:product/<account>/default)`,
      );
  }

  if (issues.length > 0) throw new ConfigError(issues);
  return {
    tableName: tableName!,
    topicArn: topicArn!,
    ...optionalTopics,
    logSources,
    settings,
    queryTimeoutMs,
    customProfiles: custom.specs,
    ...(identities.rules ? { identities: identities.rules } : {}),
    ...outputs,
  };
}
