/**
 * What an analyst's triage of an authwatch finding in Security Hub means for the detector: the same feedback as
 * `authwatch benign` or `authwatch malicious`, read from the finding's workflow status and note. Pure: the event is
 * read in shared/triage.ts, the feedback written by the use cases of shared/feedback.ts.
 *
 * - `SUPPRESSED`: the analyst reviewed it and no action is needed: the logon was the user's (benign);
 * - `RESOLVED` with a note saying `benign`: benign; saying `malicious`: the source is hostile, its address (or, when
 *   the note also says `subnet`, its /24 or /48; `owner` or `network`, its network owner's AS) marked malicious;
 * - anything else (`NEW`, `NOTIFIED`, resolved without either word, a note saying both, suppressed "malicious"): no
 *   feedback. Resolving is also how findings are closed for reasons that teach the detector nothing, so only an
 *   explicit word counts; a contradiction is left to the analyst to restate.
 */
/** What a triaged finding asks of the detector. */
export type TriageVerdict =
  | { readonly kind: 'benign' }
  /** What to mark, as `markMalicious` (shared/feedback.ts) takes it. */
  | { readonly kind: 'malicious'; readonly scope: { readonly kind: 'ip' | 'subnet' | 'owner' } }
  | { readonly kind: 'none'; readonly why: string };

const BENIGN = /\bbenign\b/i;
const MALICIOUS = /\bmalicious\b/i;
const SUBNET = /\bsubnet\b/i;
const OWNER = /\b(owner|network)\b/i;

/** The verdict of a finding's workflow status and note text. */
export function triageVerdict(status: string | undefined, note: string | undefined): TriageVerdict {
  const text = note ?? '';
  const benign = BENIGN.test(text);
  const malicious = MALICIOUS.test(text);
  if (status === 'SUPPRESSED') {
    return malicious
      ? { kind: 'none', why: 'suppressed with a note saying malicious: contradictory, no feedback' }
      : { kind: 'benign' };
  }
  if (status !== 'RESOLVED') return { kind: 'none', why: `workflow status ${status ?? '(none)'}` };
  if (benign && malicious) return { kind: 'none', why: 'the note says both benign and malicious' };
  if (benign) return { kind: 'benign' };
  if (malicious)
    return {
      kind: 'malicious',
      scope: SUBNET.test(text) ? { kind: 'subnet' } : OWNER.test(text) ? { kind: 'owner' } : { kind: 'ip' },
    };
  return { kind: 'none', why: 'resolved without a note saying benign or malicious' };
}
