/**
 * `SnsAlertSink`: every alert as its own SNS message (`PublishBatch`), then one digest per run (`Publish`).
 *
 * One publish serves every kind of subscriber through `MessageStructure: 'json'` (one message per protocol):
 * - `email`: readable plain text (`emailText`), with `Subject` set;
 * - `https`: the AWS Chatbot custom notification alone. Chatbot subscribes to the topic over HTTPS
 *   (`https://global.sns-api.chatbot.amazonaws.com`) and silently drops anything that is not its schema,
 *   so this key must stay pure schema;
 * - `default` (any protocol without its own key, e.g. `sms`, `application`): the Chatbot notification with the
 *   full alert alongside under `alert`;
 * - `sqs`, `lambda`, `http`, `firehose`, `email-json`: the alert document itself (machines).
 * Message attributes `kind` (`alert`|`digest`), `rule`, `severity` and `score` let subscriptions filter
 * (e.g. email subscribers take only `kind = digest`).
 *
 * Failure semantics (see `AlertSink`): the report says exactly which alert ids SNS accepted. Entries SNS
 * reports as failed for a transient reason are retried with jittered exponential backoff a bounded number of
 * times. A whole call that fails (throttled, 5xx) has already been retried by the SDK client as configured in
 * aws-clients.ts and is not retried again here. What still fails is reported, never thrown, so the pipeline
 * can record what was delivered and fail the run for the rest. The digest's fate never changes an alert's.
 */
import { PublishBatchCommand, PublishCommand, type MessageAttributeValue, type PublishBatchRequestEntry, type SNSClient } from '@aws-sdk/client-sns';
import { chatbotNotification, digestNotification, digestSubject, digestText, emailSubject, emailText, truncate } from '../core/alert-text';
import type { Alert, AlertBatch, PublishReport } from '../core/model';
import type { AlertSink } from '../ports';
import { backoffMs, errorText } from './aws-retry';

/** `PublishBatch` takes at most 10 entries (SNS quotas). */
/** Message attribute telling alert messages from the per-run digest, for subscription filter policies (infra reads these). */
export const MESSAGE_KIND_ATTRIBUTE = 'kind';
export const ALERT_KIND = 'alert';
export const DIGEST_KIND = 'digest';

export const MAX_BATCH_ENTRIES = 10;
/**
 * A message, and the sum of all messages of one `PublishBatch`, may be at most 256 KiB = 262,144 bytes
 * (message body plus attributes). We count the body, the subject and every attribute's name, type and
 * value in UTF-8 bytes, and keep 1 KiB of headroom for whatever SNS counts that we do not.
 */
export const MAX_PAYLOAD_BYTES = 262_144;
export const PAYLOAD_HEADROOM_BYTES = 1_024;
const BUDGET_BYTES = MAX_PAYLOAD_BYTES - PAYLOAD_HEADROOM_BYTES;
/** A batch entry `Id`: up to 80 characters, alphanumerics, hyphens and underscores, unique in the batch. */
export const MAX_ENTRY_ID_CHARS = 80;
const DEFAULT_MAX_RETRIES = 4;
const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 5_000;

/** Failed-entry codes worth retrying even if SNS did not flag them as its own fault. */
const RETRYABLE_ENTRY_CODES = new Set(['Throttled', 'ThrottledException', 'Throttling', 'KMSThrottling', 'KMSThrottlingException', 'InternalError', 'InternalErrorException', 'ServiceUnavailable']);

export interface SnsAlertSinkProps {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** Retries of entries a `PublishBatch` reports as failed transiently, after the first attempt. Default 4. */
  readonly maxRetries?: number;
  /** Injectable for tests; defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
}

/** What subscribers get as "the alert": the alert document, possibly trimmed to fit SNS's size limit. */
export type AlertDetail = Alert | (Partial<Alert> & { readonly id: string; readonly truncated: true });

/** One alert ready to publish. */
interface Prepared {
  readonly alert: Alert;
  readonly entry: Omit<PublishBatchRequestEntry, 'Id'>;
  readonly bytes: number;
}

function utf8(s: string | undefined): number {
  return s === undefined ? 0 : Buffer.byteLength(s, 'utf8');
}

/** Bytes SNS counts for one message: body, subject, and each attribute's name, data type and value. */
export function messageBytes(m: { Message?: string | undefined; Subject?: string | undefined; MessageAttributes?: Record<string, MessageAttributeValue> | undefined }): number {
  let n = utf8(m.Message) + utf8(m.Subject);
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) n += utf8(name) + utf8(v.DataType) + utf8(v.StringValue) + (v.BinaryValue?.byteLength ?? 0);
  return n;
}

/** Deep copy with every string cut to `max` characters and every array to `maxItems` items. */
function trimDeep(v: unknown, max: number, maxItems: number): unknown {
  if (typeof v === 'string') return truncate(v, max);
  if (Array.isArray(v)) return v.slice(0, maxItems).map((x) => trimDeep(x, max, maxItems));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trimDeep(x, max, maxItems)]));
  return v;
}

/**
 * The alert document at a trim level: 0 = whole; 1 and 2 = long strings and lists cut; 3 = the identifying
 * core only. Trimmed documents carry `truncated: true` so a consumer knows to look the alert up.
 */
export function alertDetail(a: Alert, level: 0 | 1 | 2 | 3): AlertDetail {
  if (level === 0) return a;
  if (level === 1) return { ...(trimDeep(a, 2_048, 50) as Alert), truncated: true };
  if (level === 2) return { ...(trimDeep(a, 256, 10) as Alert), truncated: true };
  return {
    id: a.id,
    '@timestamp': a['@timestamp'],
    rule: trimDeep({ ...a.rule, description: '', references: [], threat: a.rule.threat }, 128, 3) as Alert['rule'],
    user: { name: truncate(a.user.name, 128) },
    source: { ip: truncate(a.source.ip, 64) },
    score: a.score,
    probability: a.probability,
    window: a.window,
    log_source: truncate(a.log_source, 64),
    truncated: true,
  };
}

function attributes(a: Alert): Record<string, MessageAttributeValue> {
  return {
    [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: ALERT_KIND },
    rule: { DataType: 'String', StringValue: a.rule.id },
    severity: { DataType: 'String', StringValue: a.rule.severity },
    score: { DataType: 'Number', StringValue: String(Math.round(a.score * 100) / 100) },
  };
}

/** The per-protocol message for one alert (the `Message` of `MessageStructure: 'json'`). */
export function alertMessage(a: Alert, detail: AlertDetail = a): string {
  const chatbot = chatbotNotification(a);
  const machine = JSON.stringify(detail);
  return JSON.stringify({
    default: JSON.stringify({ ...chatbot, alert: detail }),
    https: JSON.stringify(chatbot),
    email: emailText(a),
    'email-json': machine,
    sqs: machine,
    lambda: machine,
    http: machine,
    firehose: machine,
  });
}

function prepare(a: Alert): Prepared | { alert: Alert; tooLarge: number } {
  const MessageAttributes = attributes(a);
  const Subject = emailSubject(a);
  let bytes = 0;
  for (const level of [0, 1, 2, 3] as const) {
    const Message = alertMessage(a, alertDetail(a, level));
    const entry = { Message, Subject, MessageStructure: 'json', MessageAttributes };
    bytes = messageBytes(entry);
    if (bytes <= BUDGET_BYTES) return { alert: a, entry, bytes };
  }
  return { alert: a, tooLarge: bytes };
}

/** Greedy packing in rank order: a new batch when 10 entries or the byte budget would be exceeded. */
export function packBatches<T extends { bytes: number }>(items: readonly T[], maxEntries = MAX_BATCH_ENTRIES, maxBytes = BUDGET_BYTES): T[][] {
  const batches: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= maxEntries || bytes + it.bytes > maxBytes)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.bytes;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}

/** Batch entry id: position plus the alert id's allowed characters, ≤ 80 characters, unique by position. */
function entryId(i: number, alertId: string): string {
  return `${i}_${alertId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, MAX_ENTRY_ID_CHARS);
}


/** The digest's `Publish` input; `ids` lists alert ids only, for when the full form would be too large. */
function digestInput(topicArn: string, batch: AlertBatch, failedIds: readonly string[], form: 'full' | 'ids') {
  const chatbot = digestNotification(batch, { failed: failedIds });
  const window = { start: new Date(batch.window.start).toISOString(), end: new Date(batch.window.end).toISOString() };
  const digest =
    form === 'full'
      ? {
          kind: 'digest',
          runId: batch.runId,
          window,
          alerts: batch.alerts.map((a) => ({ id: a.id, rule: a.rule.id, score: a.score, user: truncate(a.user.name, 128), source_ip: truncate(a.source.ip, 64), delivered: !failedIds.includes(a.id) })),
          cut: batch.cut.length,
          cut_ids: batch.cut.slice(0, 100).map((a) => a.id),
        }
      : { kind: 'digest', runId: batch.runId, window, alert_ids: batch.alerts.map((a) => a.id), failed_ids: failedIds, cut: batch.cut.length, truncated: true };
  const machine = JSON.stringify(digest);
  const top = [...batch.alerts, ...batch.cut].reduce((m, a) => Math.max(m, a.score), 0);
  const message: Record<string, string> = {
    default: JSON.stringify({ ...chatbot, digest }),
    https: JSON.stringify(chatbot),
    email: digestText(batch, { failed: failedIds }),
  };
  for (const k of ['email-json', 'sqs', 'lambda', 'http', 'firehose']) message[k] = machine;
  return {
    TopicArn: topicArn,
    MessageStructure: 'json',
    Subject: digestSubject(batch),
    Message: JSON.stringify(message),
    MessageAttributes: {
      [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: DIGEST_KIND },
      rule: { DataType: 'String', StringValue: 'digest' },
      severity: { DataType: 'String', StringValue: batch.alerts[0]?.rule.severity ?? batch.cut[0]?.rule.severity ?? 'low' },
      score: { DataType: 'Number', StringValue: String(Math.round(top * 100) / 100) },
    } satisfies Record<string, MessageAttributeValue>,
  };
}

export class SnsAlertSink implements AlertSink {
  private readonly client: SNSClient;
  private readonly topicArn: string;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(props: SnsAlertSinkProps) {
    this.client = props.client;
    this.topicArn = props.topicArn;
    this.maxRetries = props.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = props.random ?? Math.random;
  }

  async publish(batch: AlertBatch): Promise<PublishReport> {
    const delivered: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    const ready: Prepared[] = [];
    for (const a of batch.alerts) {
      const p = prepare(a);
      if ('tooLarge' in p) failed.push({ id: a.id, reason: `message is ${p.tooLarge} bytes even trimmed, over the SNS limit of ${MAX_PAYLOAD_BYTES}` });
      else ready.push(p);
    }
    for (const group of packBatches(ready)) {
      const r = await this.publishGroup(group);
      delivered.push(...r.delivered);
      failed.push(...r.failed);
    }

    let digestDelivered = true;
    if (batch.alerts.length + batch.cut.length > 0) digestDelivered = await this.publishDigest(batch, failed.map((f) => f.id));
    return { delivered, failed, digestDelivered };
  }

  /** One `PublishBatch` of ≤ 10 entries within the byte budget, retrying the entries SNS reports as failed transiently. */
  private async publishGroup(group: readonly Prepared[]): Promise<{ delivered: string[]; failed: { id: string; reason: string }[] }> {
    const byEntryId = new Map<string, Prepared>();
    group.forEach((p, i) => byEntryId.set(entryId(i, p.alert.id), p));
    let pending = [...byEntryId.keys()];
    const delivered: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    let lastReason = new Map<string, string>();

    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) await this.sleep(this.backoff(attempt - 1));
      const retry: string[] = [];
      const reasons = new Map<string, string>();
      try {
        const res = await this.client.send(
          new PublishBatchCommand({
            TopicArn: this.topicArn,
            PublishBatchRequestEntries: pending.map((Id) => ({ Id, ...byEntryId.get(Id)!.entry })),
          }),
        );
        const ok = new Set((res.Successful ?? []).map((s) => s.Id));
        const bad = new Map((res.Failed ?? []).map((f) => [f.Id, f]));
        for (const id of pending) {
          const alertId = byEntryId.get(id)!.alert.id;
          if (ok.has(id)) {
            delivered.push(alertId);
            continue;
          }
          const f = bad.get(id);
          if (f && f.SenderFault && !RETRYABLE_ENTRY_CODES.has(f.Code ?? '')) {
            // Our request was wrong for this entry: sending it again gives the same answer.
            failed.push({ id: alertId, reason: `${f.Code ?? 'Failed'}: ${f.Message ?? 'rejected by SNS'}` });
            continue;
          }
          reasons.set(id, f ? `${f.Code ?? 'Failed'}: ${f.Message ?? 'failed in SNS'}` : 'SNS reported neither success nor failure for this entry');
          retry.push(id);
        }
      } catch (e) {
        // The SDK has already retried the call as far as it is worth retrying: another round here would
        // multiply its attempts. Every entry still pending is reported as not delivered.
        const reason = `PublishBatch failed${attemptsText(e)}: ${errorText(e)}`;
        for (const id of pending) failed.push({ id: byEntryId.get(id)!.alert.id, reason });
        pending = [];
        break;
      }
      pending = retry;
      lastReason = reasons;
      if (attempt >= this.maxRetries) break;
    }
    for (const id of pending) failed.push({ id: byEntryId.get(id)!.alert.id, reason: `${lastReason.get(id) ?? 'failed'} (after ${this.maxRetries + 1} PublishBatch calls)` });
    return { delivered, failed };
  }

  /** The per-run digest; returns whether SNS accepted it. Never throws: a lost digest is not a lost alert. */
  private async publishDigest(batch: AlertBatch, failedIds: readonly string[]): Promise<boolean> {
    const input = digestInput(this.topicArn, batch, failedIds, 'full');
    // 100 alerts with long user names repeated for every protocol can pass 256 KiB: fall back to ids only.
    const fits = messageBytes(input) <= BUDGET_BYTES ? input : digestInput(this.topicArn, batch, failedIds, 'ids');
    try {
      // One call: the SDK client retries a throttled or failed Publish itself.
      await this.client.send(new PublishCommand(fits));
      return true;
    } catch {
      return false;
    }
  }

  /** Full-jitter exponential backoff between rounds of failed entries. */
  private backoff(attempt: number): number {
    return backoffMs(attempt, RETRY_BASE_MS, RETRY_CAP_MS, this.random);
  }
}

/** ` after N attempts` when the SDK says it tried more than once. */
function attemptsText(e: unknown): string {
  const attempts = (e as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? ` after ${attempts} attempts` : '';
}
