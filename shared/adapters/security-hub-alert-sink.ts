/**
 * `SecurityHubAlertSink`: each alert as a Security Hub finding in the AWS Security Finding Format (ASFF), imported
 * with `BatchImportFindings` under the account's own product (`product/<account>/default`), beside GuardDuty's.
 *
 * Why ASFF and not OCSF: Security Hub's newer findings are OCSF, but its API has no way for a custom product to send
 * OCSF findings (the v2 operations read, update and automate findings; client-securityhub has no OCSF import); a
 * custom product's findings go in through `BatchImportFindings` in ASFF (Security Hub CSPM User Guide, "Integrating
 * Security Hub CSPM with custom products"), and Security Hub shows them in OCSF from there. See the README.
 *
 * The finding (`asffFinding`):
 * - `Id` is the alert's deterministic id, so a re-import (a retried run) updates the same finding: Security Hub's own
 *   idempotency. `UpdatedAt` is the window's end, the same in every attempt of a run, so a repeat is a no-op
 *   (Security Hub ignores an update whose `UpdatedAt` is not later than the finding's);
 * - a follow-up (`follow_up_of`: the user logged on again from the place an unanswered alert left suspect) is imported
 *   under its original's `Id`, with a later `UpdatedAt`: the original finding is updated (title, description,
 *   severity, last observed) instead of a second finding beside it, and the analyst's workflow on it stays;
 * - a campaign (an alert about a source) lists the per-user alerts folded into it (never delivered on their own, so
 *   they have no finding to update) in `ProductFields`, and is related both ways (`RelatedFindings`) to the per-user
 *   alerts delivered on their own and linked to it; a per-user alert of a campaign raised in an earlier window is its
 *   own finding, related to the campaign's;
 * - `GeneratorId` is `authwatch/<detector id>`; `Types` the detector's MITRE tactic and techniques under `TTPs/`, and
 *   `Unusual Behaviors/User`; `Severity.Label` the detector's severity, `Normalized` placed in that label's band by
 *   how far the score is above the threshold, `Original` the score;
 * - the user(s), the source address and the hosts are `Resources` (`Other`), the address also `Network`;
 * - `Description` is the explanation (≤ 1,024 characters, cut at a character boundary), the investigation steps are
 *   `Remediation.Recommendation.Text` (≤ 512), and the ECS alert document is in `ProductFields` (≤ 50 pairs of
 *   ≤ 2,048 characters): identifying fields one by one, then the JSON document in numbered parts, trimmed as SNS
 *   trims it when the whole would need more parts than there is room for.
 * Customer fields (`Workflow`, `Note`, `UserDefinedFields`, `VerificationState`) are never sent: they are the
 * analyst's, and their changes come back through the triage function (lambdas/triage/handler.ts).
 *
 * `BatchImportFindings` takes at most 100 findings per call; findings it reports in `FailedFindings` for a transient
 * reason are sent again with backoff a bounded number of times, the rest reported per alert, never thrown.
 */
// Types only: the SDK's client is not bundled (see `httpFindingsImporter`).
import type { AwsSecurityFinding, Resource, SeverityLabel } from '@aws-sdk/client-securityhub';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { withSilenceTarget, type SilenceTarget } from '../core/alerts';
import type { Alert, AlertBatch, PublishReport } from '../core/model';
import { truncate } from '../core/untrusted-text';
import type { AlertSink } from '../ports';
import { backoffMs } from './aws-retry';
import { sendInRounds } from './batch-delivery';
import { alertDetail, packBatches } from './alert-payload';

/** The ASFF schema version every finding declares. */
export const ASFF_SCHEMA_VERSION = '2018-10-08';
/** `GeneratorId` prefix: `authwatch/Auth.RareUser`. The triage rule matches authwatch's findings by it. */
export const GENERATOR_PREFIX = 'authwatch/';
/** `ProductFields` keys authwatch writes all start with this. */
export const PRODUCT_FIELD_PREFIX = 'authwatch/';
/** The alert a finding shows last (a follow-up's id on an updated finding; the finding's `Id` is its original's). */
export const ALERT_ID_FIELD = `${PRODUCT_FIELD_PREFIX}alert_id`;

/** ASFF limits (Security Hub CSPM User Guide, "Required/optional top-level attributes" and the API reference). */
export const ASFF_LIMITS = {
  findingsPerCall: 100,
  /** A finding at most 240 KB; a call is kept under a few MB so it stays well inside the API's request size. */
  findingBytes: 240 * 1024,
  callBytes: 4 * 1024 * 1024,
  title: 256,
  description: 1024,
  recommendation: 512,
  productFields: 50,
  productFieldKey: 128,
  productFieldValue: 2048,
  resources: 32,
  otherValue: 1023,
  types: 50,
  relatedFindings: 10,
} as const;
/**
 * Pairs of `ProductFields` left for Security Hub's own keys (`aws/securityhub/FindingId`, `ProductName`,
 * `CompanyName`, ...), which it adds to the same map.
 */
const PRODUCT_FIELDS_RESERVED = 8;
/** Document parts are cut this long: a value's limit less room for a character boundary. */
const DOCUMENT_PART_CHARS = 2000;
const DEFAULT_MAX_RETRIES = 4;

/** Failed-finding codes worth sending again. */
const RETRYABLE = new Set([
  'InternalException',
  'InternalFailure',
  'ThrottlingException',
  'Throttling',
  'LimitExceededException',
  'ServiceUnavailable',
  'TooManyRequestsException',
]);

/*
 * `BatchImportFindings` as a signed HTTPS call of its own rather than through the SDK's SecurityHubClient: that
 * client carries the schema of the whole Security Hub API (every ASFF resource type's details, 163 KiB of minified
 * code that esbuild cannot tree-shake), which alone took the detector's bundle over its 1 MiB limit. The call is
 * small: POST /findings/import with `{"Findings": [...]}` (restJson1), signed with SigV4 for `securityhub` with the
 * credentials of the SDK's default chain (the Lambda role), and answered with `FailedFindings`. What the SDK client
 * would add is done here the way aws-clients.ts configures it: the same number of attempts for a throttled or 5xx
 * call (`AWS_MAX_ATTEMPTS.securityhub`), with full-jitter backoff, and nothing retried that the service refused.
 */

/** What one `BatchImportFindings` call answered. */
export interface ImportFindingsOutput {
  readonly FailedFindings?: readonly { Id?: string; ErrorCode?: string; ErrorMessage?: string }[];
}

/** Sends one `BatchImportFindings` call (the sink's only dependency on the service; tests give their own). */
export type FindingsImporter = (findings: readonly AwsSecurityFinding[]) => Promise<ImportFindingsOutput>;

/** A `BatchImportFindings` call the service refused, with its error type and the attempts made. */
export class SecurityHubCallError extends Error {
  readonly $metadata: { readonly httpStatusCode: number; readonly attempts: number };
  constructor(name: string, message: string, status: number, attempts: number) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status, attempts };
  }
}

export interface HttpImporterProps {
  /** The region findings are imported in (the product ARN's). */
  readonly region: string;
  /** `https://securityhub.<region>.amazonaws.com` unless given (a test endpoint, `AWS_ENDPOINT_URL_SECURITYHUB`). */
  readonly endpoint?: string;
  /** The partition's DNS suffix, for the default endpoint: `amazonaws.com` (`amazonaws.com.cn` in China). */
  readonly dnsSuffix?: string;
  readonly credentials: AwsCredentialIdentityProvider;
  /** Calls in all, the first included. */
  readonly maxAttempts: number;
  readonly timeoutMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** Error types worth another attempt of the whole call, besides any 5xx. */
const RETRYABLE_CALL_ERRORS = new Set(['ThrottlingException', 'TooManyRequestsException', 'LimitExceededException']);

/** The importer that signs and sends the call itself (see above). */
export function httpFindingsImporter(props: HttpImporterProps): FindingsImporter {
  const url = new URL(
    '/findings/import',
    props.endpoint ?? `https://securityhub.${props.region}.${props.dnsSuffix ?? 'amazonaws.com'}`,
  );
  const signer = new SignatureV4({
    service: 'securityhub',
    region: props.region,
    credentials: props.credentials,
    sha256: Sha256,
  });
  const sleep = props.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = props.random ?? Math.random;
  return async (findings) => {
    const body = JSON.stringify({ Findings: findings });
    for (let attempt = 1; ; attempt++) {
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        query: {},
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      });
      let status = 0;
      let text = '';
      let type = 'NetworkError';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: signed.headers,
          body,
          signal: AbortSignal.timeout(props.timeoutMs ?? 30_000),
        });
        status = res.status;
        text = await res.text();
        if (res.ok) return JSON.parse(text) as ImportFindingsOutput;
        type = (res.headers.get('x-amzn-errortype') ?? '').split(':')[0] || `Http${status}`;
      } catch (e) {
        text = e instanceof Error ? e.message : String(e);
      }
      const retryable = status === 0 || status >= 500 || status === 429 || RETRYABLE_CALL_ERRORS.has(type);
      if (!retryable || attempt >= props.maxAttempts) {
        let message = text.slice(0, 500);
        try {
          message = (JSON.parse(text) as { message?: string; Message?: string }).message ?? message;
        } catch {
          // Not JSON: the text as it is.
        }
        throw new SecurityHubCallError(type, message, status, attempt);
      }
      await sleep(backoffMs(attempt - 1, 100, 20_000, random));
    }
  };
}

/** Where the findings go: the account, region and partition of the deployment. */
export interface FindingTarget {
  readonly account: string;
  readonly region: string;
  readonly partition?: string;
}

/** The product ARN a custom integration imports under: `arn:<partition>:securityhub:<region>:<account>:product/<account>/default`. */
export function defaultProductArn(t: FindingTarget): string {
  return `arn:${t.partition ?? 'aws'}:securityhub:${t.region}:${t.account}:product/${t.account}/default`;
}

/** At most `max` UTF-16 units and characters, cut at a character boundary (with an ellipsis when cut). */
export function fitChars(s: string, max: number): string {
  let t = truncate(s, max);
  // `truncate` counts code points; a limit counted in UTF-16 units is met by cutting further.
  for (let m = max; t.length > max && m > 0; ) {
    m -= t.length - max;
    t = truncate(s, m);
  }
  return t;
}

/** A string in parts of at most `size` UTF-16 units, never splitting a surrogate pair. */
export function splitParts(s: string, size: number): string[] {
  const parts: string[] = [];
  let i = 0;
  while (i < s.length) {
    let end = Math.min(s.length, i + size);
    const last = s.charCodeAt(end - 1);
    if (end < s.length && last >= 0xd800 && last <= 0xdbff) end--;
    parts.push(s.slice(i, end));
    i = end;
  }
  return parts;
}

/** Severity bands of `Normalized` per label (Security Hub derives the label from these same bands). */
const BANDS: Record<SeverityLabel, readonly [number, number]> = {
  INFORMATIONAL: [0, 0],
  LOW: [1, 39],
  MEDIUM: [40, 69],
  HIGH: [70, 89],
  CRITICAL: [90, 100],
};

/**
 * The finding's severity: the detector's (a rare user is `low` beside GuardDuty however surprising), placed inside
 * its label's band by how far the score is above the alert's threshold: the most surprising alerts of a label sort
 * first within it.
 */
export function findingSeverity(a: Pick<Alert, 'score' | 'rule'>): {
  Label: SeverityLabel;
  Normalized: number;
  Original: string;
} {
  const label = a.rule.severity.toUpperCase() as SeverityLabel;
  const [lo, hi] = BANDS[label];
  const threshold = Math.min(a.rule.threshold, 99);
  const above = Math.max(0, Math.min(1, (a.score - threshold) / (100 - threshold)));
  return { Label: label, Normalized: Math.round(lo + (hi - lo) * above), Original: String(Math.round(a.score)) };
}

/** `TTPs/<tactic>` and `TTPs/<tactic>/<technique id> <name>` per technique, and the behaviour: a user's logon. */
export function findingTypes(a: Pick<Alert, 'rule'>): string[] {
  const tactic = a.rule.threat.tactic.name;
  const types = [
    `TTPs/${tactic}`,
    // A type has three parts at most: a `/` inside a name would make a fourth.
    ...a.rule.threat.technique.map((t) => `TTPs/${tactic}/${`${t.id} ${t.name}`.replace(/\//g, '-')}`),
    'Unusual Behaviors/User',
  ];
  return [...new Set(types.map((t) => fitChars(t, 128)))].slice(0, ASFF_LIMITS.types);
}

function other(values: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(values)
      .filter((e): e is [string, string] => e[1] !== undefined && e[1] !== '')
      .map(([k, v]) => [k, fitChars(v, ASFF_LIMITS.otherValue)]),
  );
}

/** The user(s), the address and the hosts the alert is about, as `Other` resources (their ids bounded). */
function findingResources(a: Alert): Resource[] {
  const users = a.user.name !== '' ? [a.user.name] : (a.campaign?.users?.map((u) => u.name) ?? a.related?.user ?? []);
  const out: Resource[] = [];
  for (const u of users)
    out.push({
      Type: 'Other',
      Id: fitChars(`authwatch:user/${u}`, 512),
      Details: { Other: other({ 'user.name': u }) },
    });
  out.push({
    Type: 'Other',
    Id: fitChars(`authwatch:source/${a.campaign?.source ?? a.source.ip}`, 512),
    Details: {
      Other: other({
        'source.ip': a.source.ip,
        'source.as.number': a.source.as ? String(a.source.as.number) : undefined,
        'source.as.organization.name': a.source.as?.organization?.name,
        'source.geo.country_iso_code': a.source.geo?.country_iso_code,
      }),
    },
  });
  for (const h of a.host.names)
    out.push({
      Type: 'Other',
      Id: fitChars(`authwatch:host/${h}`, 512),
      Details: { Other: other({ 'host.name': h }) },
    });
  // The address and the first users matter most; a long tail of users or hosts is in the document.
  return out.slice(0, ASFF_LIMITS.resources);
}

/** Identifying fields one per key, then the document in parts: within ProductFields' pairs and value lengths. */
export function findingProductFields(a: Alert): Record<string, string> {
  const fields: Record<string, string> = {};
  const put = (k: string, v: string | undefined) => {
    if (v !== undefined && v !== '') fields[`${PRODUCT_FIELD_PREFIX}${k}`] = fitChars(v, ASFF_LIMITS.productFieldValue);
  };
  put('alert_id', a.id);
  put('rule.id', a.rule.id);
  put('score', String(Math.round(a.score * 100) / 100));
  put('user.name', a.user.name);
  put('source.ip', a.source.ip);
  put('source.as.number', a.source.as ? String(a.source.as.number) : undefined);
  put('follow_up_of', a.follow_up_of);
  put('campaign.of', a.campaign?.of);
  put('campaign.source', a.campaign?.source);
  put('campaign.folded', a.campaign?.folded?.join(','));
  put('campaign.linked', a.campaign?.linked?.join(','));
  put('window.end', a.window.end);
  const room = ASFF_LIMITS.productFields - PRODUCT_FIELDS_RESERVED - Object.keys(fields).length;
  for (const level of [0, 1, 2, 3] as const) {
    const parts = splitParts(JSON.stringify(alertDetail(a, level)), DOCUMENT_PART_CHARS);
    if (parts.length > room && level < 3) continue;
    parts.slice(0, room).forEach((p, i) => {
      fields[`${PRODUCT_FIELD_PREFIX}document/${String(i).padStart(2, '0')}`] = p;
    });
    fields[`${PRODUCT_FIELD_PREFIX}document.parts`] = String(Math.min(parts.length, room));
    break;
  }
  return fields;
}

/** The ASFF finding of one alert (see the file's header for what goes where). */
export function asffFinding(a: Alert, t: FindingTarget): AwsSecurityFinding {
  const productArn = defaultProductArn(t);
  const related = [a.campaign?.of, ...(a.campaign?.linked ?? [])]
    .filter((id): id is string => id !== undefined)
    .slice(0, ASFF_LIMITS.relatedFindings)
    .map((Id) => ({ ProductArn: productArn, Id }));
  const severity = findingSeverity(a);
  const types = findingTypes(a);
  const about = a.user.name !== '' ? a.user.name : `${a.campaign?.users?.length ?? 0} users`;
  const title = `${a.follow_up_of !== undefined ? 'Follow-up: ' : ''}${a.rule.name}: ${about} from ${a.campaign?.source ?? a.source.ip}`;
  const v4 = /^\d{1,3}(\.\d{1,3}){3}$/.test(a.source.ip);
  const v6 = !v4 && a.source.ip.includes(':');
  return {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    // A follow-up updates the finding of the alert it follows up.
    Id: a.follow_up_of ?? a.id,
    ProductArn: productArn,
    GeneratorId: `${GENERATOR_PREFIX}${a.rule.id}`,
    AwsAccountId: t.account,
    Types: types,
    FirstObservedAt: a['@timestamp'],
    LastObservedAt: a['@timestamp'],
    CreatedAt: a.window.end,
    UpdatedAt: a.window.end,
    Severity: severity,
    Title: fitChars(title, ASFF_LIMITS.title),
    Description: fitChars(a.explanation, ASFF_LIMITS.description),
    Remediation: {
      Recommendation: {
        Text: fitChars(a.investigation.map((s, i) => `${i + 1}. ${s}`).join(' '), ASFF_LIMITS.recommendation),
        ...(a.rule.references[0] ? { Url: a.rule.references[0] } : {}),
      },
    },
    ProductFields: findingProductFields(a),
    Resources: findingResources(a),
    ...(v4 || v6
      ? { Network: { Direction: 'IN', ...(v4 ? { SourceIpV4: a.source.ip } : { SourceIpV6: a.source.ip }) } }
      : {}),
    FindingProviderFields: {
      Severity: { Label: severity.Label, Original: severity.Original },
      Types: types,
      ...(related.length > 0 ? { RelatedFindings: related } : {}),
    },
    RecordState: 'ACTIVE',
  };
}

export interface SecurityHubAlertSinkProps {
  /** Sends one call: `httpFindingsImporter` in a deployment. */
  readonly importFindings: FindingsImporter;
  readonly target: FindingTarget;
  /** The deployment's table and region, for the silence commands in each alert's document. */
  readonly silenceTarget?: SilenceTarget;
  /** Retries of findings reported failed transiently, after the first call. Default 4. */
  readonly maxRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

interface Prepared {
  readonly alerts: Alert[];
  readonly finding: AwsSecurityFinding;
  readonly bytes: number;
}

export class SecurityHubAlertSink implements AlertSink {
  private readonly props: SecurityHubAlertSinkProps;

  constructor(props: SecurityHubAlertSinkProps) {
    this.props = props;
  }

  async publish(batch: AlertBatch): Promise<PublishReport> {
    const failed: { id: string; reason: string }[] = [];
    // Findings in rounds of distinct ids: two alerts of one batch on one finding (a follow-up and its original) are
    // imported one after the other, in rank order, never in one call where the service would pick.
    const rounds: Prepared[][] = [];
    for (const raw of batch.alerts) {
      const a = withSilenceTarget(raw, this.props.silenceTarget);
      const finding = asffFinding(a, this.props.target);
      const bytes = Buffer.byteLength(JSON.stringify(finding), 'utf8');
      if (bytes > ASFF_LIMITS.findingBytes) {
        failed.push({
          id: a.id,
          reason: `the finding is ${bytes} bytes, over Security Hub's ${ASFF_LIMITS.findingBytes}`,
        });
        continue;
      }
      const round = rounds.find((r) => !r.some((p) => p.finding.Id === finding.Id));
      if (round) round.push({ alerts: [a], finding, bytes });
      else rounds.push([{ alerts: [a], finding, bytes }]);
    }
    const delivered: string[] = [];
    for (const round of rounds)
      for (const group of packBatches(round, ASFF_LIMITS.findingsPerCall, ASFF_LIMITS.callBytes)) {
        const r = await sendInRounds({
          call: 'BatchImportFindings',
          entries: group,
          alertIds: (p) => p.alerts.map((a) => a.id),
          send: async (entries) => {
            const res = await this.props.importFindings(entries.map((p) => p.finding));
            // Only the failures are listed, by finding id; every other finding of the call was accepted.
            const bad = new Map((res.FailedFindings ?? []).map((f) => [f.Id, f]));
            return entries.map((p) => {
              const f = bad.get(p.finding.Id);
              return f
                ? {
                    ok: false as const,
                    code: f.ErrorCode ?? 'Failed',
                    message: f.ErrorMessage ?? 'refused by Security Hub',
                  }
                : { ok: true as const };
            });
          },
          retryable: (code) => RETRYABLE.has(code),
          maxRetries: this.props.maxRetries ?? DEFAULT_MAX_RETRIES,
          baseMs: 200,
          capMs: 5_000,
          sleep: this.props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
          random: this.props.random ?? Math.random,
        });
        delivered.push(...r.delivered);
        failed.push(...r.failed);
      }
    return { delivered, failed, digestDelivered: true };
  }
}
