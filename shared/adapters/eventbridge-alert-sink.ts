/**
 * `EventBridgeAlertSink`: each alert as one event on an event bus (the account's default bus in a deployment), so
 * rules route alerts anywhere EventBridge reaches (Step Functions, another account's bus, API destinations), filtered
 * on any field of the alert:
 *   `source` `authwatch`, `detail-type` `Authwatch Alert`, `detail` the ECS alert document (as SNS subscribers get
 *   it: trimmed only when the whole would not fit an entry, and then marked `truncated: true`), `time` the logon's.
 * `PutEvents` takes at most 10 entries and 256 KiB per call (an entry's size: its source, detail type, detail and
 * time, as the EventBridge User Guide's "Calculating PutEvents event entry size" counts them), so entries are packed
 * under both. Entries the answer reports failed (`FailedEntryCount`, an `ErrorCode` per entry) for a transient
 * reason (throttling, an internal failure) are sent again with backoff a bounded number of times; the rest are
 * reported per alert, never thrown, as the `AlertSink` port requires. EventBridge has no idempotency of its own:
 * every event carries the alert's deterministic id (`detail.id`) for a consumer to drop a second copy by, and the
 * composite sink (multi-alert-sink.ts) keeps a retried run from sending what EventBridge already accepted.
 */
import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { withSilenceTarget, type SilenceTarget } from '../core/alerts';
import type { Alert, AlertBatch, PublishReport } from '../core/model';
import type { AlertSink } from '../ports';
import { sendInRounds } from './batch-delivery';
import { alertDetail, packBatches } from './alert-payload';

/** The event's `source`: what a rule matches authwatch's events by. */
export const EVENT_SOURCE = 'authwatch';
/** The event's `detail-type`. */
export const EVENT_DETAIL_TYPE = 'Authwatch Alert';
/** `PutEvents` takes at most 10 entries per call. */
export const MAX_EVENTS_PER_CALL = 10;
/** An entry, and all of one call's, at most 256 KiB (EventBridge quotas); 1 KiB kept for what we do not count. */
export const MAX_EVENT_BYTES = 262_144;
const BUDGET_BYTES = MAX_EVENT_BYTES - 1_024;
/** An RFC 3339 `Time` counts 14 bytes however it is written (the size calculation in the User Guide). */
const TIME_BYTES = 14;
const DEFAULT_MAX_RETRIES = 4;

/** Entry error codes worth sending again: the service's side, not the request's. */
const RETRYABLE = new Set([
  'InternalFailure',
  'InternalException',
  'ThrottlingException',
  'Throttling',
  'ServiceUnavailable',
]);

export interface EventBridgeAlertSinkProps {
  readonly client: EventBridgeClient;
  /** The bus name or ARN; the default bus when omitted. */
  readonly eventBusName?: string;
  /** The deployment's table and region, for the silence commands in each alert (as SNS gets them). */
  readonly silenceTarget?: SilenceTarget;
  /** Retries of entries reported failed transiently, after the first call. Default 4. */
  readonly maxRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

interface Prepared {
  readonly alert: Alert;
  readonly entry: PutEventsRequestEntry;
  readonly bytes: number;
}

function utf8(s: string | undefined): number {
  return s === undefined ? 0 : Buffer.byteLength(s, 'utf8');
}

/** An entry's size as EventBridge counts it: time, source, detail type, detail, resources. */
export function eventEntryBytes(e: PutEventsRequestEntry): number {
  return (
    (e.Time ? TIME_BYTES : 0) +
    utf8(e.Source) +
    utf8(e.DetailType) +
    utf8(e.Detail) +
    (e.Resources ?? []).reduce((n, r) => n + utf8(r), 0)
  );
}

/** The event for one alert, trimmed (`alertDetail`) only as far as it must be to fit; undefined if even the core does not. */
export function alertEvent(
  a: Alert,
  eventBusName?: string,
): { entry: PutEventsRequestEntry; bytes: number } | undefined {
  for (const level of [0, 1, 2, 3] as const) {
    const entry: PutEventsRequestEntry = {
      Source: EVENT_SOURCE,
      DetailType: EVENT_DETAIL_TYPE,
      Detail: JSON.stringify(alertDetail(a, level)),
      Time: new Date(a['@timestamp']),
      ...(eventBusName !== undefined ? { EventBusName: eventBusName } : {}),
    };
    const bytes = eventEntryBytes(entry);
    if (bytes <= BUDGET_BYTES) return { entry, bytes };
  }
  return undefined;
}

export class EventBridgeAlertSink implements AlertSink {
  private readonly props: EventBridgeAlertSinkProps;

  constructor(props: EventBridgeAlertSinkProps) {
    this.props = props;
  }

  async publish(batch: AlertBatch): Promise<PublishReport> {
    const failed: { id: string; reason: string }[] = [];
    const ready: Prepared[] = [];
    for (const raw of batch.alerts) {
      const a = withSilenceTarget(raw, this.props.silenceTarget);
      const e = alertEvent(a, this.props.eventBusName);
      if (e) ready.push({ alert: a, ...e });
      else failed.push({ id: a.id, reason: `the event is over EventBridge's ${MAX_EVENT_BYTES} bytes even trimmed` });
    }
    const delivered: string[] = [];
    for (const group of packBatches(ready, MAX_EVENTS_PER_CALL, BUDGET_BYTES)) {
      const r = await sendInRounds({
        call: 'PutEvents',
        entries: group,
        alertIds: (p) => [p.alert.id],
        send: async (entries) => {
          const res = await this.props.client.send(new PutEventsCommand({ Entries: entries.map((p) => p.entry) }));
          // One result per entry, in order: an EventId when accepted, an ErrorCode when not.
          return entries.map((_, i) => {
            const r = res.Entries?.[i];
            if (!r) return undefined;
            return r.ErrorCode
              ? { ok: false as const, code: r.ErrorCode, message: r.ErrorMessage ?? 'refused by EventBridge' }
              : r.EventId
                ? { ok: true as const }
                : undefined;
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
    // No per-run message here: the digest is SNS's.
    return { delivered, failed, digestDelivered: true };
  }
}
