/**
 * `SnsAlertSink`: each alert once to every kind of subscriber, in that subscriber's format, over up to three topics:
 *
 * - the **alerts topic** (always; the one operators subscribe SIEMs, PagerDuty, Opsgenie, queues and functions to):
 *   one message per alert (`PublishBatch`), `MessageStructure: 'json'` with two keys: `email` is the readable
 *   text (`emailText`, with `Subject` set) and `default`, which every other protocol receives (`https`, `http`,
 *   `sqs`, `lambda`, `firehose`, `email-json`, ...), is the alert document (ECS JSON). No digest and no chat card
 *   is ever published here, so a subscriber needs no filter policy to get exactly one message per alert;
 * - the **chat topic** (when Slack is configured): AWS Chatbot's own subscription. Chatbot subscribes over HTTPS
 *   and reads the message as its custom-notification schema, so it cannot share a topic with HTTPS webhooks that
 *   need the alert document. It gets one card per alert and, only when the per-run cap cut findings, one card
 *   saying so; never a card repeating an alert;
 * - the **digest topic** (when emails get a per-run digest, the default): the run's alerts in one email, each
 *   explained in full (`digestTexts`, in parts if one message would pass SNS's size limit), with a short JSON
 *   summary for any non-email subscriber.
 * Message attributes `kind` (`alert`|`digest`|`cut`), `rule`, `severity` and `score` stay for filter policies;
 * `alert_id` carries the alert's deterministic id on every per-alert message, so a subscriber can drop a second
 * copy (standard topics deliver at least once, and a publish whose answer was lost is sent again: see the
 * README's "Never lost, rarely twice").
 * Before anything is rendered, each alert's silence hints are given the deployment's table and region.
 *
 * Failure semantics (see `AlertSink`): an alert counts as delivered once every topic that carries it one by one
 * (the alerts topic, and the chat topic when there is one) accepted it; its chat card is sent only after the
 * alerts topic accepted it, so a failure there is not sent twice by this call (the run's retry may repeat it;
 * the alert id is deterministic, so a consumer can drop the repeat). Entries SNS reports as failed for a
 * transient reason are retried with jittered exponential backoff a bounded number of times. A whole call that
 * fails (throttled, 5xx) has already been retried by the SDK client as configured in aws-clients.ts and is not
 * retried again here. What still fails is reported, never thrown, so the pipeline can record what was delivered
 * and fail the run for the rest. The digest's and the cut card's fate never change an alert's.
 */
import {
  PublishBatchCommand,
  PublishCommand,
  type MessageAttributeValue,
  type PublishBatchRequestEntry,
  type PublishCommandInput,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  chatbotNotification,
  cutNotification,
  DIGEST_TEXT_MAX_BYTES,
  digestSubject,
  digestTexts,
  emailSubject,
  emailText,
} from '../core/alert-text';
import { alertDocument, withSilenceTarget, type SilenceTarget } from '../core/alerts';
import type { Alert, AlertBatch, PublishReport } from '../core/model';
import type { AlertSink } from '../ports';
import { type AlertDetail, alertDetail, packBatches as packGreedy } from './alert-payload';
import { backoffMs, errorText } from './aws-retry';

export { type AlertDetail, alertDetail } from './alert-payload';

/** `PublishBatch` takes at most 10 entries (SNS quotas). */
/** Message attribute telling alert messages from the per-run digest, for subscription filter policies (infra reads these). */
export const MESSAGE_KIND_ATTRIBUTE = 'kind';
export const ALERT_KIND = 'alert';
export const DIGEST_KIND = 'digest';
/** The chat card for findings the per-run cap cut. */
export const CUT_KIND = 'cut';
/** Message attribute with the alert's id (the same for every copy of one alert: receivers deduplicate on it). */
export const ALERT_ID_ATTRIBUTE = 'alert_id';

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
const RETRYABLE_ENTRY_CODES = new Set([
  'Throttled',
  'ThrottledException',
  'Throttling',
  'KMSThrottling',
  'KMSThrottlingException',
  'InternalError',
  'InternalErrorException',
  'ServiceUnavailable',
]);

export interface SnsAlertSinkProps {
  readonly client: SNSClient;
  /** The alerts topic: one message per alert, readable text for email, the alert document for everything else. */
  readonly topicArn: string;
  /** The chat topic AWS Chatbot subscribes to (Slack); without it no chat card is published. */
  readonly chatTopicArn?: string;
  /** The digest topic email subscribers of the per-run digest are on; without it no digest is published. */
  readonly digestTopicArn?: string;
  /** The deployment's table and region, for the silence commands in each alert. */
  readonly silenceTarget?: SilenceTarget;
  /** Retries of entries a `PublishBatch` reports as failed transiently, after the first attempt. Default 4. */
  readonly maxRetries?: number;
  /** Injectable for tests; defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1); defaults to `Math.random`. */
  readonly random?: () => number;
}

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
export function messageBytes(m: {
  Message?: string | undefined;
  Subject?: string | undefined;
  MessageAttributes?: Record<string, MessageAttributeValue> | undefined;
}): number {
  let n = utf8(m.Message) + utf8(m.Subject);
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {}))
    n += utf8(name) + utf8(v.DataType) + utf8(v.StringValue) + (v.BinaryValue?.byteLength ?? 0);
  return n;
}

function attributes(a: Alert): Record<string, MessageAttributeValue> {
  return {
    [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: ALERT_KIND },
    rule: { DataType: 'String', StringValue: a.rule.id },
    severity: { DataType: 'String', StringValue: a.rule.severity },
    score: { DataType: 'Number', StringValue: String(Math.round(a.score * 100) / 100) },
    [ALERT_ID_ATTRIBUTE]: { DataType: 'String', StringValue: a.id },
  };
}

/**
 * The per-protocol message for one alert on the alerts topic (the `Message` of `MessageStructure: 'json'`):
 * readable text for email, the alert document for every other protocol.
 */
export function alertMessage(a: Alert, detail: AlertDetail = a): string {
  return JSON.stringify({ default: detail === a ? alertDocument(a) : JSON.stringify(detail), email: emailText(a) });
}

function prepare(a: Alert): (Prepared & { document: string }) | { alert: Alert; tooLarge: number } {
  const MessageAttributes = attributes(a);
  const Subject = emailSubject(a);
  let bytes = 0;
  for (const level of [0, 1, 2, 3] as const) {
    const detail = alertDetail(a, level);
    const Message = alertMessage(a, detail);
    const entry = { Message, Subject, MessageStructure: 'json', MessageAttributes };
    bytes = messageBytes(entry);
    if (bytes <= BUDGET_BYTES)
      return { alert: a, entry, bytes, document: level === 0 ? alertDocument(a) : JSON.stringify(detail) };
  }
  return { alert: a, tooLarge: bytes };
}

/** One alert's card on the chat topic: the Chatbot custom notification is the whole message (Chatbot reads nothing else). */
function prepareCard(a: Alert): Prepared {
  const entry = { Message: JSON.stringify(chatbotNotification(a)), MessageAttributes: attributes(a) };
  return { alert: a, entry, bytes: messageBytes(entry) };
}

/** Greedy packing in rank order: a new batch when 10 entries or SNS's byte budget would be exceeded. */
export function packBatches<T extends { bytes: number }>(
  items: readonly T[],
  maxEntries = MAX_BATCH_ENTRIES,
  maxBytes = BUDGET_BYTES,
): T[][] {
  return packGreedy(items, maxEntries, maxBytes);
}

/** Batch entry id: position plus the alert id's allowed characters, ≤ 80 characters, unique by position. */
function entryId(i: number, alertId: string): string {
  return `${i}_${alertId.replace(/[^A-Za-z0-9_-]/g, '_')}`.slice(0, MAX_ENTRY_ID_CHARS);
}

/**
 * The digest's `Publish` inputs, one per part (`digestTexts` splits a run whose text would not fit): readable
 * text for email, and for any other protocol a JSON summary with alert ids only (bounded: 100 ids).
 */
function digestInputs(topicArn: string, batch: AlertBatch, failedIds: readonly string[]): PublishCommandInput[] {
  const window = { start: new Date(batch.window.start).toISOString(), end: new Date(batch.window.end).toISOString() };
  const top = [...batch.alerts, ...batch.cut].reduce((m, a) => Math.max(m, a.score), 0);
  const texts = digestTexts(batch, { failed: failedIds, maxBytes: DIGEST_TEXT_MAX_BYTES });
  return texts.map((email, index) => {
    const summary = {
      kind: DIGEST_KIND,
      runId: batch.runId,
      part: index + 1,
      parts: texts.length,
      window,
      alert_ids: batch.alerts.map((a) => a.id),
      failed_ids: failedIds,
      cut: batch.cut.length,
    };
    return {
      TopicArn: topicArn,
      MessageStructure: 'json',
      Subject: digestSubject(batch, { index, of: texts.length }),
      Message: JSON.stringify({ default: JSON.stringify(summary), email }),
      MessageAttributes: {
        [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: DIGEST_KIND },
        rule: { DataType: 'String', StringValue: 'digest' },
        severity: {
          DataType: 'String',
          StringValue: batch.alerts[0]?.rule.severity ?? batch.cut[0]?.rule.severity ?? 'low',
        },
        score: { DataType: 'Number', StringValue: String(Math.round(top * 100) / 100) },
      } satisfies Record<string, MessageAttributeValue>,
    };
  });
}

/** The chat card for what the cap cut, or undefined when nothing was cut. */
function cutInput(topicArn: string, batch: AlertBatch): PublishCommandInput | undefined {
  const card = cutNotification(batch);
  if (!card) return undefined;
  return {
    TopicArn: topicArn,
    Message: JSON.stringify(card),
    MessageAttributes: { [MESSAGE_KIND_ATTRIBUTE]: { DataType: 'String', StringValue: CUT_KIND } },
  };
}

export class SnsAlertSink implements AlertSink {
  private readonly client: SNSClient;
  private readonly topicArn: string;
  private readonly chatTopicArn: string | undefined;
  private readonly digestTopicArn: string | undefined;
  private readonly silenceTarget: SilenceTarget | undefined;
  private readonly maxRetries: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(props: SnsAlertSinkProps) {
    this.client = props.client;
    this.topicArn = props.topicArn;
    this.chatTopicArn = props.chatTopicArn;
    this.digestTopicArn = props.digestTopicArn;
    this.silenceTarget = props.silenceTarget;
    this.maxRetries = props.maxRetries ?? DEFAULT_MAX_RETRIES;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = props.random ?? Math.random;
  }

  async publish(input: AlertBatch): Promise<PublishReport> {
    const batch: AlertBatch = {
      ...input,
      alerts: input.alerts.map((a) => withSilenceTarget(a, this.silenceTarget)),
      cut: input.cut.map((a) => withSilenceTarget(a, this.silenceTarget)),
    };
    const accepted: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    const documents: Record<string, string> = {};
    const ready: Prepared[] = [];
    for (const a of batch.alerts) {
      const p = prepare(a);
      if ('tooLarge' in p)
        failed.push({
          id: a.id,
          reason: `message is ${p.tooLarge} bytes even trimmed, over the SNS limit of ${MAX_PAYLOAD_BYTES}`,
        });
      else {
        ready.push(p);
        documents[a.id] = p.document;
      }
    }
    for (const group of packBatches(ready)) {
      const r = await this.publishGroup(group, this.topicArn);
      accepted.push(...r.delivered);
      failed.push(...r.failed);
    }

    // Chat cards only for what the alerts topic accepted, so an alert refused there is not in chat twice after the retry.
    let delivered = accepted;
    if (this.chatTopicArn !== undefined && accepted.length > 0) {
      const onTopic = new Set(accepted);
      const cards = batch.alerts.filter((a) => onTopic.has(a.id)).map(prepareCard);
      delivered = [];
      for (const group of packBatches(cards)) {
        const r = await this.publishGroup(group, this.chatTopicArn);
        delivered.push(...r.delivered);
        failed.push(...r.failed.map((f) => ({ id: f.id, reason: `chat card: ${f.reason}` })));
      }
    }

    let digestDelivered = true;
    if (batch.alerts.length + batch.cut.length > 0) {
      const failedIds = failed.map((f) => f.id);
      const inputs = [
        ...(this.digestTopicArn !== undefined ? digestInputs(this.digestTopicArn, batch, failedIds) : []),
        ...(this.chatTopicArn !== undefined ? [cutInput(this.chatTopicArn, batch)].filter((i) => i !== undefined) : []),
      ];
      for (const i of inputs) if (!(await this.publishDigest(i))) digestDelivered = false;
    }
    const kept = new Set(delivered);
    return {
      delivered,
      failed,
      digestDelivered,
      documents: Object.fromEntries(Object.entries(documents).filter(([id]) => kept.has(id))),
    };
  }

  /** One `PublishBatch` of ≤ 10 entries within the byte budget, retrying the entries SNS reports as failed transiently. */
  private async publishGroup(
    group: readonly Prepared[],
    topicArn: string,
  ): Promise<{ delivered: string[]; failed: { id: string; reason: string }[] }> {
    const byEntryId = new Map<string, Prepared>();
    for (const [i, p] of group.entries()) byEntryId.set(entryId(i, p.alert.id), p);
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
            TopicArn: topicArn,
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
          if (f?.SenderFault && !RETRYABLE_ENTRY_CODES.has(f.Code ?? '')) {
            // Our request was wrong for this entry: sending it again gives the same answer.
            failed.push({ id: alertId, reason: `${f.Code ?? 'Failed'}: ${f.Message ?? 'rejected by SNS'}` });
            continue;
          }
          reasons.set(
            id,
            f
              ? `${f.Code ?? 'Failed'}: ${f.Message ?? 'failed in SNS'}`
              : 'SNS reported neither success nor failure for this entry',
          );
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
    for (const id of pending)
      failed.push({
        id: byEntryId.get(id)!.alert.id,
        reason: `${lastReason.get(id) ?? 'failed'} (after ${this.maxRetries + 1} PublishBatch calls)`,
      });
    return { delivered, failed };
  }

  /** One per-run message (a digest part, the cut card); returns whether SNS accepted it. Never throws: a lost digest is not a lost alert. */
  private async publishDigest(input: PublishCommandInput): Promise<boolean> {
    try {
      // One call: the SDK client retries a throttled or failed Publish itself.
      await this.client.send(new PublishCommand(input));
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
