/**
 * Triage that feeds back: Security Hub's "Security Hub Findings - Imported" events for authwatch's findings whose
 * workflow status an analyst changed, turned into the feedback `authwatch benign` / `authwatch malicious` give (the
 * use cases of shared/feedback.ts, over the same store). A use case beside `runDetection`; the triage Lambda
 * (lambdas/triage/handler.ts) is its composition root, and the stack's EventBridge rule sends it only authwatch's
 * findings (`ProductArn`, `GeneratorId`) in `RESOLVED` or `SUPPRESSED`.
 *
 * - Which alert: the finding's `Id`, the alert id (for a finding a follow-up updated, its original's, which answers
 *   the follow-up too: `markBenign` releases the place for both).
 * - What it means: `triageVerdict` (core/triage.ts), from the workflow status and the note.
 * - Once: Security Hub sends the event again whenever the finding changes (a follow-up re-imported onto it, a note
 *   edited), so each (finding, status, note time) is applied once, recorded like a delivery (`DeliveryRecordStore`,
 *   output `triage`), after the feedback was written: a retried invocation that failed before applies it again, and
 *   the feedback use cases are idempotent.
 * - Bad input is counted and skipped, never a failed invocation: a finding that is not authwatch's, one whose alert
 *   the ledger no longer holds, benign on an alert about a source. A store failure throws, so Lambda retries the
 *   event and, after its retries, keeps it in the dead-letter queue.
 */
import * as z from 'zod';
import { ALLOW_NOTE_MAX_CHARS } from './core/allow-rules';
import { DAY_MS } from './core/model';
import { triageVerdict } from './core/triage';
import { plainText } from './core/untrusted-text';
import { AuthwatchError, BaselineStoreError, InvalidEventError } from './errors';
import { markBenign, markMalicious } from './feedback';
import type { Clock, DeliveryRecordStore, OperatorStore } from './ports';
import type { RunLogger } from './run-detection';

/** The `detail-type` of the events the triage reads. */
export const FINDINGS_IMPORTED = 'Security Hub Findings - Imported';
/** The output name its once-only records are kept under. */
export const TRIAGE_RECORDS = 'triage';

export interface TriageDeps {
  readonly store: Pick<
    OperatorStore,
    | 'getLedgerEntry'
    | 'getUsers'
    | 'saveUsers'
    | 'getFeedback'
    | 'saveFeedback'
    | 'writeUsersLeased'
    | 'acquireLease'
    | 'releaseLease'
  > &
    DeliveryRecordStore;
  readonly clock: Clock;
  /** The account's product ARN: a finding under any other product is not authwatch's. */
  readonly productArn: string;
  /** How long a triage is remembered as applied: the ledger's TTL, past which its alert is gone anyway. */
  readonly recordDays: number;
  readonly logger?: RunLogger;
}

/** What one event's findings came to. */
export interface TriageSummary {
  readonly findings: number;
  readonly benign: string[];
  readonly malicious: string[];
  /** Triaged findings whose verdict asks nothing (resolved without a word, notified, a contradiction). */
  readonly noFeedback: number;
  /** Already applied for this status and note (the same change seen again). */
  readonly repeated: number;
  /** Not authwatch's, or unreadable. */
  readonly skipped: number;
  /** The feedback use case refused it (the alert left the ledger, benign on a source): with the reason. */
  readonly refused: { readonly id: string; readonly reason: string }[];
}

const findingSchema = z.object({
  Id: z.string().min(1),
  ProductArn: z.string(),
  GeneratorId: z.string(),
  Workflow: z.object({ Status: z.string().optional() }).optional(),
  WorkflowState: z.string().optional(),
  Note: z
    .object({ Text: z.string().optional(), UpdatedBy: z.string().optional(), UpdatedAt: z.string().optional() })
    .optional(),
});
const eventSchema = z.object({
  'detail-type': z.literal(FINDINGS_IMPORTED),
  detail: z.object({ findings: z.array(z.unknown()) }),
});

/** Apply an event's triaged findings. Throws `InvalidEventError` for an event that is not a findings event at all. */
export async function applyTriage(deps: TriageDeps, event: unknown): Promise<TriageSummary> {
  const e = eventSchema.safeParse(event);
  if (!e.success)
    throw new InvalidEventError(
      `not a "${FINDINGS_IMPORTED}" event: ${e.error.issues[0]!.path.join('.')} ${e.error.issues[0]!.message}`,
    );
  const out = {
    findings: e.data.detail.findings.length,
    benign: [] as string[],
    malicious: [] as string[],
    noFeedback: 0,
    repeated: 0,
    skipped: 0,
    refused: [] as { id: string; reason: string }[],
  };
  for (const raw of e.data.detail.findings) {
    const p = findingSchema.safeParse(raw);
    if (!p.success || p.data.ProductArn !== deps.productArn || !p.data.GeneratorId.startsWith('authwatch/')) {
      out.skipped++;
      continue;
    }
    const f = p.data;
    const status = f.Workflow?.Status ?? f.WorkflowState;
    const verdict = triageVerdict(status, f.Note?.Text);
    if (verdict.kind === 'none') {
      out.noFeedback++;
      deps.logger?.warn('triaged finding asks no feedback', { id: f.Id, why: verdict.why });
      continue;
    }
    const key = `${f.Id}#${status}#${f.Note?.UpdatedAt ?? ''}`;
    if ((await deps.store.getDeliveredTo(TRIAGE_RECORDS, [key])).has(key)) {
      out.repeated++;
      continue;
    }
    const now = deps.clock.now();
    try {
      if (verdict.kind === 'benign') {
        await markBenign(deps.store, f.Id, { now });
        out.benign.push(f.Id);
      } else {
        const by = f.Note?.UpdatedBy !== undefined ? ` (${plainText(f.Note.UpdatedBy, 60)})` : '';
        const note = plainText(`Security Hub${by}: ${f.Note?.Text ?? ''}`, ALLOW_NOTE_MAX_CHARS);
        await markMalicious(deps.store, f.Id, { scope: verdict.scope, note, now });
        out.malicious.push(f.Id);
      }
    } catch (err) {
      // The store failing is worth a retry; the use case refusing this alert is not.
      if (!(err instanceof AuthwatchError) || err instanceof BaselineStoreError) throw err;
      out.refused.push({ id: f.Id, reason: err.message });
      deps.logger?.warn('triaged finding refused by the feedback use case', { id: f.Id, reason: err.message });
    }
    await deps.store.recordDeliveredTo(TRIAGE_RECORDS, [
      { id: key, deliveredAtMs: now, expiresAtEpochSeconds: Math.floor((now + deps.recordDays * DAY_MS) / 1000) },
    ]);
  }
  return out;
}
