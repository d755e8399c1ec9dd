/**
 * Analyst feedback: the use cases that change what the detector judges, over the `OperatorStore` port. A use
 * case beside `runDetection`; `authwatch allow` and `authwatch benign` (cli/operator.ts) compose them with the
 * deployed table or a local store and print what they return, and anything else (a Lambda behind a chat button,
 * a Step Functions task) could call them the same way.
 *
 * - `allowUser`, `allowCidr`, `removeAllowed` edit the allowlists of the feedback item, which every run reads:
 *   an allowed user or range never alerts, and allowed users add nothing to the population's statistics.
 * - `markBenign` makes an alert's address, subnet and network known places of its user, with the detectors' own
 *   learning code (`markPlacesKnown`, core/baseline-update.ts), so the next run judges them as usual for that user.
 *
 * Every write is version-checked and, when another writer (the detector's run, a colleague) won the race, done
 * again from a fresh read (`retryOnConflict`, shared/versioned-update.ts). Bad input (a pattern matching
 * everyone, a range wider than the settings accept, an unknown alert id) is a clear error, and nothing is written.
 * The results are plain data: what changed and how things now stand; wording them is the caller's.
 */
import { plainText } from './core/alert-text';
import { markPlacesKnown } from './core/baseline-update';
import { DETECTORS } from './core/detectors';
import { emptyFeedback, PLACE_LEVELS, type Feedback } from './core/model';
import { canonicalIp, parseCidr, placeOf } from './core/net';
import { allowCidrSchema, allowUserSchema, formatIssues } from './core/settings';
import { AuthwatchError, ConfigError } from './errors';
import type { OperatorStore } from './ports';
import { retryOnConflict } from './versioned-update';

/** Log-controlled text (user names, ids) in an error: printable, one line, bounded. */
function shown(s: string, max = 60): string {
  return plainText(s, max);
}

/** What an edit of the allowlists did. */
export interface FeedbackEdit {
  /** Whether the feedback item was written: false when the entry was already there (allow) or absent (remove). */
  readonly changed: boolean;
  /** The feedback as stored afterwards. */
  readonly feedback: Feedback;
}

/** `allowUser`'s edit, with the pattern as stored (trimmed, as the settings' `allowUsers` takes it). */
export interface AllowUserResult extends FeedbackEdit {
  readonly pattern: string;
}

/** `allowCidr`'s edit, with the range as stored (canonical: `192.0.2.7` is `192.0.2.7/32`). */
export interface AllowCidrResult extends FeedbackEdit {
  readonly cidr: string;
  readonly user?: string;
}

/** An allowlist entry to remove: a user pattern (matched case-insensitively) or a range, for one user or everyone. */
export type AllowlistEntry =
  | { readonly kind: 'user'; readonly pattern: string }
  | { readonly kind: 'cidr'; readonly cidr: string; readonly user?: string };

/** `removeAllowed`'s edit, with the entry as it was looked for (a range canonical). */
export interface RemoveResult extends FeedbackEdit {
  readonly entry: AllowlistEntry;
}

/**
 * Read the feedback, apply `edit`, save if it returned a new one; retried from a fresh read when another writer
 * won. `edit` returns undefined to leave the item as it is.
 */
async function editFeedback(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  edit: (f: Feedback) => Feedback | undefined,
): Promise<FeedbackEdit> {
  return retryOnConflict(async () => {
    const current = (await store.getFeedback()) ?? emptyFeedback();
    const next = edit(current);
    if (!next) return { changed: false, feedback: current };
    await store.saveFeedback(next);
    return { changed: true, feedback: { ...next, version: current.version + 1 } };
  });
}

/**
 * Allow a user name or glob (case-insensitive, `*` wildcard): the detector never alerts on matching users. The
 * pattern is checked by the rule of the settings' `allowUsers` (shared/core/settings.ts), so nothing is accepted
 * here that a deployment would refuse (`*` alone silences every alert).
 */
export async function allowUser(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string,
  opts: { note?: string; now: number },
): Promise<AllowUserResult> {
  const parsed = allowUserSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, 'allow user'));
  const pattern = parsed.data;
  const r = await editFeedback(store, (f) => {
    if (f.allowUsers.some((e) => e.pattern.toLowerCase() === pattern.toLowerCase())) return undefined;
    const entry = { pattern, addedAt: opts.now, ...(opts.note ? { note: opts.note } : {}) };
    return { ...f, allowUsers: [...f.allowUsers, entry] };
  });
  return { ...r, pattern };
}

/**
 * Allow a source range (for one user only when `user` is given): logons from it never alert. The range is checked
 * and made canonical by the rule of the settings' `allowCidrs` (no range wider than /8, IPv6 /16).
 */
export async function allowCidr(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string,
  opts: { user?: string; note?: string; now: number },
): Promise<AllowCidrResult> {
  const parsed = allowCidrSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, 'allow cidr'));
  const cidr = parsed.data;
  // An empty name would be an entry for no user at all, never matched: refused rather than stored silently.
  if (opts.user === '') throw new ConfigError(['allow cidr: the user name is empty']);
  const r = await editFeedback(store, (f) => {
    if (f.allowCidrs.some((e) => e.cidr === cidr && e.user === opts.user)) return undefined;
    const entry = {
      cidr,
      ...(opts.user !== undefined ? { user: opts.user } : {}),
      addedAt: opts.now,
      ...(opts.note ? { note: opts.note } : {}),
    };
    return { ...f, allowCidrs: [...f.allowCidrs, entry] };
  });
  return { ...r, cidr, ...(opts.user !== undefined ? { user: opts.user } : {}) };
}

/**
 * Remove an allowlist entry: a user pattern (compared case-insensitively), or a range exactly as allowed, for the
 * same user (or for everyone). `changed` is false when no such entry exists; the caller says so (a typo).
 */
export async function removeAllowed(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  entry: AllowlistEntry,
): Promise<RemoveResult> {
  if (entry.kind === 'user') {
    const r = await editFeedback(store, (f) => {
      const left = f.allowUsers.filter((e) => e.pattern.toLowerCase() !== entry.pattern.toLowerCase());
      return left.length !== f.allowUsers.length ? { ...f, allowUsers: left } : undefined;
    });
    return { ...r, entry };
  }
  const c = parseCidr(entry.cidr);
  if (!c) throw new ConfigError([`allow remove cidr: "${shown(entry.cidr)}" is not a CIDR`]);
  const r = await editFeedback(store, (f) => {
    const left = f.allowCidrs.filter((e) => !(e.cidr === c.text && e.user === entry.user));
    return left.length !== f.allowCidrs.length ? { ...f, allowCidrs: left } : undefined;
  });
  return { ...r, entry: { ...entry, cidr: c.text } };
}

/** What `markBenign` did. */
export interface BenignResult {
  readonly alertId: string;
  readonly detectorId: string;
  readonly user: string;
  readonly sourceIp?: string;
  /**
   * - `places-marked`: the address, subnet and network are now known places of the user (`places`);
   * - `user-known`: an alert on the user alone (rare user); the user became known in the run that raised it,
   *   nothing to add;
   * - `no-baseline`: the same, but the user has no baseline (the run that raised it did not complete); the next
   *   run that sees the user learns them.
   */
  readonly outcome: 'places-marked' | 'user-known' | 'no-baseline';
  /** Places now known for the user (IP, /24 or /48 prefix, /16 or /32 network). Empty unless `places-marked`. */
  readonly places: readonly string[];
}

/**
 * The analyst checked the alert and the logon was the user's. For an unusual source IP, the address, its subnet
 * and its network become known places of that user, seen `now` (so they are the most recent and the last to be
 * evicted), in a version-checked save. The run that raised the alert has normally learned the place already;
 * this makes sure of it (the place may have been evicted from a busy user's bounded map since) and refreshes it.
 * It changes nothing for anyone else: other users, and other subnets of the same network, are judged as before.
 */
export async function markBenign(
  store: Pick<OperatorStore, 'getLedgerEntry' | 'getUsers' | 'saveUsers'>,
  alertId: string,
  opts: { now: number },
): Promise<BenignResult> {
  const entry = await store.getLedgerEntry(alertId);
  if (!entry)
    throw new AuthwatchError(
      `no alert ${shown(alertId, 80)} in the ledger (a typo, another table, or older than the ledger's retention)`,
    );
  if (entry.userTruncated)
    throw new AuthwatchError(
      `alert ${shown(alertId, 80)} is for a user name too long to keep in the ledger; use allow cidr --user instead`,
    );
  const base = {
    alertId,
    detectorId: entry.detectorId,
    user: entry.user,
    ...(entry.sourceIp !== undefined ? { sourceIp: entry.sourceIp } : {}),
  };
  // A detector that judges the user alone (rare user) learned the user in the run that raised the alert; there
  // is no place to add. An entry of a detector no longer registered is treated as an address alert, as before.
  if (DETECTORS.find((d) => d.id === entry.detectorId)?.groupBy === 'user') {
    const known = (await store.getUsers([entry.user])).has(entry.user);
    return { ...base, outcome: known ? 'user-known' : 'no-baseline', places: [] };
  }
  const ip = entry.sourceIp !== undefined ? canonicalIp(entry.sourceIp) : undefined;
  if (ip === undefined) throw new AuthwatchError(`alert ${shown(alertId, 80)} carries no usable source address`);
  const places = PLACE_LEVELS.map((level) => placeOf(ip, level));
  await retryOnConflict(async () => {
    const b = (await store.getUsers([entry.user])).get(entry.user);
    if (!b) throw new AuthwatchError(`${shown(entry.user)} has no baseline in this store`);
    const { notStored } = await store.saveUsers([markPlacesKnown(b, ip, opts.now)]);
    if (notStored.length > 0)
      throw new AuthwatchError(`the baseline of ${notStored[0]!.user} could not be stored: ${notStored[0]!.reason}`);
  });
  return { ...base, outcome: 'places-marked', places };
}
