/**
 * Which alerts each output (SNS, EventBridge, Security Hub) has accepted, for a run that delivers to more than one.
 *
 * The alert ledger says an alert was raised: every enabled output accepted it. Between "one output accepted it" and
 * "all did" a run can fail (an output throttled, down, refusing an entry); its retry must deliver the alert to the
 * outputs that did not accept it, and only to those. This record is how it knows: one small item per output and
 * alert, written as soon as that output accepted the alert, expiring with the ledger. The composite sink
 * (shared/adapters/multi-alert-sink.ts) is its only user; a run with a single output needs none of it.
 */

/** One output's acceptance of one alert. */
export interface DeliveryRecord {
  /** The alert id (`Alert.id`). */
  readonly id: string;
  /** Epoch ms the output accepted it. */
  readonly deliveredAtMs: number;
  /** Epoch seconds after which the store may delete the record (the ledger's TTL: DynamoDB deletes it lazily). */
  readonly expiresAtEpochSeconds: number;
}

/**
 * The store's side of per-output delivery. Implemented by both store adapters beside `BaselineStore` and checked by
 * the same contract suite (test/contract/baseline-store.test.ts).
 */
export interface DeliveryRecordStore {
  /** Which of these alert ids `output` has accepted (a record not yet expired away). */
  getDeliveredTo(output: string, ids: readonly string[]): Promise<Set<string>>;
  /** Record that `output` accepted these alerts; idempotent: a record already present is left as it is. */
  recordDeliveredTo(output: string, records: readonly DeliveryRecord[]): Promise<void>;
}

/**
 * An output's name as the records key it: lower-case letters, digits and `-`, starting with a letter, at most 32
 * characters (`sns`, `eventbridge`, `securityhub`).
 */
export const OUTPUT_NAME = /^[a-z][a-z0-9-]{0,31}$/;
