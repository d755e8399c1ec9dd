/**
 * `InMemoryAlertSink`: keeps every delivered batch. Used by the CLI (which prints them) and by tests,
 * which can make it fail some alerts to exercise the pipeline's failure semantics.
 */
import type { Alert, AlertBatch, PublishReport } from '../core/model';
import type { AlertSink } from '../ports';

export class InMemoryAlertSink implements AlertSink {
  readonly batches: AlertBatch[] = [];
  readonly delivered: Alert[] = [];
  /** Alert ids (or `'*'` for all) the next publish reports as failed; cleared after one publish. */
  failNext: Set<string> = new Set();
  /** Called with each delivered alert, in order (the CLI streams JSON lines through this). */
  private readonly onAlert: ((alert: Alert) => void) | undefined;

  constructor(props: { onAlert?: (alert: Alert) => void } = {}) {
    this.onAlert = props.onAlert;
  }

  async publish(batch: AlertBatch): Promise<PublishReport> {
    const failing = this.failNext;
    this.failNext = new Set();
    const delivered: string[] = [];
    const failed: { id: string; reason: string }[] = [];
    for (const a of batch.alerts) {
      if (failing.has('*') || failing.has(a.id)) {
        failed.push({ id: a.id, reason: 'simulated delivery failure' });
        continue;
      }
      delivered.push(a.id);
      this.delivered.push(a);
      this.onAlert?.(a);
    }
    this.batches.push(batch);
    return { delivered, failed, digestDelivered: failed.length === 0 };
  }
}
