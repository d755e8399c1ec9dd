/**
 * What the batch outputs (EventBridge `PutEvents`, Security Hub `BatchImportFindings`) share: a call that answers per
 * entry, entries it reports failed for a transient reason sent again with jittered exponential backoff a bounded
 * number of times, and what still failed reported per alert, never thrown. A call that fails as a whole has already
 * been retried by the SDK client (aws-clients.ts) and is not retried here: every entry it carried is reported failed.
 * SNS's sink has its own copy of this loop, older and tied to its entry ids; these two are new and share this one.
 */
import { backoffMs, errorText } from './aws-retry';

/** One entry's answer: accepted, or refused with the service's code and message. */
export type EntryAnswer =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: string; readonly message: string };

export interface SendInRoundsOptions<T> {
  /** The service call's name, for the failure reasons (`PutEvents`). */
  readonly call: string;
  /** The entries of one call, in order; each carries the alert ids it delivers. */
  readonly entries: readonly T[];
  readonly alertIds: (entry: T) => readonly string[];
  /** One call; answers in the entries' order (undefined: the service said nothing about that entry). */
  readonly send: (entries: readonly T[]) => Promise<readonly (EntryAnswer | undefined)[]>;
  /** Whether a refused entry's code is worth sending again. */
  readonly retryable: (code: string) => boolean;
  readonly maxRetries: number;
  readonly baseMs: number;
  readonly capMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
}

export interface RoundsResult {
  readonly delivered: string[];
  readonly failed: { id: string; reason: string }[];
}

/** ` after N attempts` when the SDK says it tried more than once. */
export function attemptsText(e: unknown): string {
  const attempts = (e as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' && attempts > 1 ? ` after ${attempts} attempts` : '';
}

/** Send `entries` in one call, then again only those refused transiently, up to `maxRetries` more calls. */
export async function sendInRounds<T>(o: SendInRoundsOptions<T>): Promise<RoundsResult> {
  const delivered: string[] = [];
  const failed: { id: string; reason: string }[] = [];
  const fail = (entry: T, reason: string) => {
    for (const id of o.alertIds(entry)) failed.push({ id, reason });
  };
  let pending = [...o.entries];
  let reasons = new Map<T, string>();
  for (let attempt = 0; pending.length > 0; attempt++) {
    if (attempt > 0) await o.sleep(backoffMs(attempt - 1, o.baseMs, o.capMs, o.random));
    let answers: readonly (EntryAnswer | undefined)[];
    try {
      answers = await o.send(pending);
    } catch (e) {
      const reason = `${o.call} failed${attemptsText(e)}: ${errorText(e)}`;
      for (const entry of pending) fail(entry, reason);
      return { delivered, failed };
    }
    const retry: T[] = [];
    const next = new Map<T, string>();
    pending.forEach((entry, i) => {
      const a = answers[i];
      if (a?.ok) {
        delivered.push(...o.alertIds(entry));
        return;
      }
      if (a && !o.retryable(a.code)) {
        // The request was wrong for this entry: sending it again gives the same answer.
        fail(entry, `${a.code}: ${a.message}`);
        return;
      }
      next.set(entry, a ? `${a.code}: ${a.message}` : `${o.call} reported neither success nor failure for this entry`);
      retry.push(entry);
    });
    pending = retry;
    reasons = next;
    if (attempt >= o.maxRetries) break;
  }
  for (const entry of pending)
    fail(entry, `${reasons.get(entry) ?? 'failed'} (after ${o.maxRetries + 1} ${o.call} calls)`);
  return { delivered, failed };
}
