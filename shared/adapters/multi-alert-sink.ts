/**
 * `MultiAlertSink`: one `AlertSink` over several outputs (SNS, EventBridge, Security Hub), with the guarantees the
 * pipeline has with one: an alert is reported delivered only once EVERY output accepted it, and a retry never
 * sends an alert again to an output that already accepted it.
 *
 * Each output is an `AlertSink` of its own. Per output, the sink reads which of the batch's alerts that output has
 * already accepted (`DeliveryRecordStore.getDeliveredTo`: written by an earlier attempt of the run that failed
 * elsewhere), publishes only the others, and records at once what it accepted (`recordDeliveredTo`, expiring with
 * the ledger). The pipeline then marks raised exactly the alerts every output now holds, and fails the run for the
 * rest; its retry comes back here and each output gets only what it is missing. So an alert SNS accepted and
 * EventBridge refused goes, on the retry, to EventBridge alone.
 *
 * An output with nothing left to send is not called at all, so its per-run messages (SNS's digest and cut card) are
 * not repeated by a retry either. Outputs are published to in parallel: they are independent services, and one slow
 * or failing output must not hold the others back (each already bounds its own retries).
 *
 * The ledger's document (what `authwatch show` prints) is the first output's (`documents`, SNS's: the alert
 * document as its subscribers got it) when that output delivered the alert in this call; an alert it delivered in
 * an earlier attempt gets the alert serialized as it is (the pipeline's fallback).
 *
 * A failure to record an acceptance is reported as that alert not delivered (the run fails and is retried): the
 * retry then sends it to that output a second time, with the same alert id, as the README's "Never lost, rarely
 * twice" says of a lost ledger write. A sink that throws instead of reporting counts as refusing all it was given.
 */
import { DAY_MS, type AlertBatch, type PublishReport } from '../core/model';
import { AuthwatchError } from '../errors';
import { OUTPUT_NAME, type AlertSink, type Clock, type DeliveryRecordStore } from '../ports';
import { errorText } from './aws-retry';

/** One output: its name (the delivery records' key: `sns`, `eventbridge`, `securityhub`) and its sink. */
export interface AlertOutput {
  readonly name: string;
  readonly sink: AlertSink;
}

export interface MultiAlertSinkProps {
  /** At least two outputs, distinct names; the first one's documents go to the ledger. */
  readonly outputs: readonly AlertOutput[];
  readonly store: DeliveryRecordStore;
  /** Days the delivery records are kept: the ledger's (`DetectionSettings.ledgerTtlDays`). */
  readonly ttlDays: number;
  readonly clock: Clock;
}

/** What one output did with its share of a batch. */
interface OutputResult {
  readonly name: string;
  /** Every alert of the batch this output now holds: accepted earlier or now, and recorded. */
  readonly holds: ReadonlySet<string>;
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
  readonly report: PublishReport | undefined;
}

export class MultiAlertSink implements AlertSink {
  private readonly outputs: readonly AlertOutput[];
  private readonly store: DeliveryRecordStore;
  private readonly ttlDays: number;
  private readonly clock: Clock;

  constructor(props: MultiAlertSinkProps) {
    const names = props.outputs.map((o) => o.name);
    const bad = names.filter((n) => !OUTPUT_NAME.test(n));
    if (props.outputs.length < 2 || new Set(names).size !== names.length || bad.length > 0)
      throw new AuthwatchError(
        `MultiAlertSink needs at least two outputs with distinct names of lower-case letters, digits and - (got ${JSON.stringify(names)})`,
      );
    this.outputs = props.outputs;
    this.store = props.store;
    this.ttlDays = props.ttlDays;
    this.clock = props.clock;
  }

  async publish(batch: AlertBatch): Promise<PublishReport> {
    const ids = batch.alerts.map((a) => a.id);
    // Records outlive the window as long as the ledger entry the pipeline writes for it.
    const expiresAtEpochSeconds = Math.floor((batch.window.end + this.ttlDays * DAY_MS) / 1000);
    const results = await Promise.all(this.outputs.map((o) => this.publishTo(o, batch, ids, expiresAtEpochSeconds)));

    const failedById = new Map<string, string[]>();
    for (const r of results)
      for (const f of r.failed) failedById.set(f.id, [...(failedById.get(f.id) ?? []), `${r.name}: ${f.reason}`]);
    const delivered = ids.filter((id) => results.every((r) => r.holds.has(id)));
    const kept = new Set(delivered);
    // An alert no output refused but one does not hold (a sink that reported it neither way) is not delivered.
    const failed = ids
      .filter((id) => !kept.has(id))
      .map((id) => ({
        id,
        reason:
          failedById.get(id)?.join('; ') ??
          `not reported accepted by ${results
            .filter((r) => !r.holds.has(id))
            .map((r) => r.name)
            .join(', ')}`,
      }));
    const primary = results[0]!.report;
    const documents = Object.fromEntries(Object.entries(primary?.documents ?? {}).filter(([id]) => kept.has(id)));
    return {
      delivered,
      failed,
      digestDelivered: results.every((r) => r.report === undefined || r.report.digestDelivered),
      ...(Object.keys(documents).length > 0 ? { documents } : {}),
    };
  }

  private async publishTo(
    output: AlertOutput,
    batch: AlertBatch,
    ids: readonly string[],
    expiresAtEpochSeconds: number,
  ): Promise<OutputResult> {
    let before: Set<string>;
    try {
      before = ids.length > 0 ? await this.store.getDeliveredTo(output.name, ids) : new Set();
    } catch (e) {
      // Without knowing what it already has, sending could duplicate: send nothing to it, and fail the run.
      const reason = `could not read what it already accepted: ${errorText(e)}`;
      return { name: output.name, holds: new Set(), failed: ids.map((id) => ({ id, reason })), report: undefined };
    }
    const pending = batch.alerts.filter((a) => !before.has(a.id));
    if (pending.length === 0) return { name: output.name, holds: before, failed: [], report: undefined };

    let report: PublishReport;
    try {
      report = await output.sink.publish({ ...batch, alerts: pending });
    } catch (e) {
      const reason = `publish failed: ${errorText(e)}`;
      return {
        name: output.name,
        holds: before,
        failed: pending.map((a) => ({ id: a.id, reason })),
        report: undefined,
      };
    }
    const asked = new Set(pending.map((a) => a.id));
    const accepted = [...new Set(report.delivered)].filter((id) => asked.has(id));
    const failed = [...report.failed];
    const holds = new Set(before);
    if (accepted.length > 0) {
      const now = this.clock.now();
      try {
        await this.store.recordDeliveredTo(
          output.name,
          accepted.map((id) => ({ id, deliveredAtMs: now, expiresAtEpochSeconds })),
        );
        for (const id of accepted) holds.add(id);
      } catch (e) {
        const reason = `accepted, but recording that failed (the retry sends it again, same alert id): ${errorText(e)}`;
        failed.push(...accepted.map((id) => ({ id, reason })));
      }
    }
    return { name: output.name, holds, failed, report };
  }
}
