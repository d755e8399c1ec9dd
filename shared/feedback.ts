/**
 * Analyst feedback: the use cases that change what the detector judges, over the `OperatorStore` port. A use
 * case beside `runDetection`; `authwatch allow`, `benign`, `malicious` and `unmark` (cli/operator.ts) compose them
 * with the deployed table or a local store and print what they return, and anything else (a Lambda behind a chat
 * button, a Step Functions task) could call them the same way.
 *
 * - `allowUser`, `allowCidr`, `allowAsn`, `allowCountry`, `removeAllowed` edit the allowlists of the feedback
 *   item, which every run reads: an allowed user, range, AS or country never alerts (a range, AS or country for
 *   everyone or one user), and allowed users add nothing to the population's statistics. Any entry may expire
 *   (`until`, a day): runs judge it at each logon's time, and an expired entry stays, shown as such, until removed.
 * - `markBenign` makes an alert's address, subnet and network known places of its user, with the detectors' own
 *   learning code (`markPlacesKnown`, core/baseline-update.ts), so the next run judges them as usual for that user;
 *   an address the alert left suspect (not learned, followed up) is released.
 * - `markMalicious` marks an alert's address, subnet or network owner hostile (`Feedback.hostile`): every later
 *   successful logon from it, by any user, raises the hostile-source alert; `unmarkMalicious` takes a mark back.
 *
 * Every write of feedback is version-checked and, when another writer (the detector's run, a colleague) won the race,
 * done again from a fresh read (`retryOnConflict`, shared/versioned-update.ts). `markBenign` changes a baseline, which
 * a run writes in bulk without a version check, so it holds the run lease while it reads and writes it
 * (shared/lease-guard.ts): it waits a bounded time for a run to finish, or fails saying when to try again. Bad input (a pattern matching
 * everyone, a range wider than the settings accept, an unknown alert id) is a clear error, and nothing is written.
 * The results are plain data: what changed and how things now stand; wording them is the caller's.
 */
import { plainText } from './core/untrusted-text';
import { markPlacesKnown } from './core/baseline-update';
import { suspectAt } from './core/suspect';
import { DETECTORS } from './core/detectors';
import { alertOwner } from './core/alerts';
import { HOSTILE_SUBNET_PREFIX, hostileCidrProblem } from './core/hostile';
import {
  emptyFeedback,
  PLACE_LEVELS,
  type Alert,
  type Feedback,
  type HostileEntry,
  type NetworkOwner,
} from './core/model';
import { canonicalIp, parseCidr, placeOf, sharedAddressKey } from './core/net';
import { formatIssues } from './core/settings';
import {
  ALLOW_NOTE_MAX_CHARS,
  allowCidrSchema,
  allowCountriesProblem,
  allowUserSchema,
  parseAllowAsn,
  parseAllowCountry,
  parseAllowUntil,
} from './core/allow-rules';
import { AuthwatchError, ConfigError } from './errors';
import { type LeaseWaitOptions, OPERATOR_LEASE_MS, withLease } from './lease-guard';
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

/** An allow edit's outcome beyond `changed`: the expiry as stored, and whether it replaced an entry's. */
export interface AllowEdit extends FeedbackEdit {
  /** Epoch ms from which the entry no longer applies (see `AllowedUser.expiresAt`); absent = for good. */
  readonly expiresAt?: number;
  /**
   * The same entry (same value, same user) was there with another expiry (or none, or an expired one), and now
   * has this one: allowing again is how an entry is extended, renewed or made permanent.
   */
  readonly updated: boolean;
}

/** `allowUser`'s edit, with the pattern as stored (trimmed, as the settings' `allowUsers` takes it). */
export interface AllowUserResult extends AllowEdit {
  readonly pattern: string;
}

/** `allowCidr`'s edit, with the range as stored (canonical: `192.0.2.7` is `192.0.2.7/32`). */
export interface AllowCidrResult extends AllowEdit {
  readonly cidr: string;
  readonly user?: string;
}

/** `allowAsn`'s edit, with the AS as stored (the number: `AS64496` is 64496). */
export interface AllowAsnResult extends AllowEdit {
  readonly asn: number;
  readonly user?: string;
}

/** `allowCountry`'s edit, with the country as stored (upper case). */
export interface AllowCountryResult extends AllowEdit {
  readonly country: string;
  readonly user?: string;
}

/** What every `allow` use case takes besides the entry. */
export interface AllowOptions {
  /** Why, for whoever reads the allowlist later. */
  readonly note?: string;
  /** The last day the entry applies, `YYYY-MM-DD` (UTC); absent = for good. See `parseAllowUntil`. */
  readonly until?: string;
  /** Epoch ms: when the entry is added, and what `until` must not be before. */
  readonly now: number;
}

/**
 * An allowlist entry to remove: a user pattern (matched case-insensitively), or a range, an AS or a country, for
 * one user or everyone.
 */
export type AllowlistEntry =
  | { readonly kind: 'user'; readonly pattern: string }
  | { readonly kind: 'cidr'; readonly cidr: string; readonly user?: string }
  | { readonly kind: 'asn'; readonly asn: number | string; readonly user?: string }
  | { readonly kind: 'country'; readonly country: string; readonly user?: string };

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

/** `until` as the entry's expiry; a day that does not exist or is over is refused, naming the command. */
function expiryOf(command: string, opts: AllowOptions): number | undefined {
  if (opts.until === undefined) return undefined;
  const r = parseAllowUntil(opts.until, opts.now);
  if ('problem' in r) throw new ConfigError([`${command}: ${r.problem}`]);
  return r.expiresAt;
}

/** An empty name would be an entry for no user at all, never matched: refused rather than stored silently. */
function checkUser(command: string, user: string | undefined): void {
  if (user === '') throw new ConfigError([`${command}: the user name is empty`]);
}

/**
 * `list` with `entry` added, or with the same entry (`same`) given `entry`'s expiry (and note, when one is
 * given); undefined when the same entry is there with that expiry already.
 */
function withEntry<E extends { readonly expiresAt?: number; readonly note?: string }>(
  list: readonly E[],
  same: (e: E) => boolean,
  entry: E,
): { list: E[]; updated: boolean } | undefined {
  const i = list.findIndex(same);
  if (i < 0) return { list: [...list, entry], updated: false };
  const old = list[i]!;
  if (old.expiresAt === entry.expiresAt) return undefined;
  const note = entry.note ?? old.note;
  const next = { ...entry, ...(note !== undefined ? { note } : {}) };
  return { list: list.map((e, j) => (j === i ? next : e)), updated: true };
}

/** The fields every stored entry shares, from the options. */
function entryFields(opts: AllowOptions, expiresAt: number | undefined, user?: string) {
  return {
    ...(user !== undefined ? { user } : {}),
    addedAt: opts.now,
    ...(expiresAt !== undefined ? { expiresAt } : {}),
    ...(opts.note ? { note: opts.note } : {}),
  };
}

/**
 * Add or update one entry of one list of the feedback item: `apply` returns the edited list or undefined to leave
 * the item as it is. `updated` says whether an entry was replaced rather than added.
 */
async function editList(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  apply: (f: Feedback) => { feedback: Feedback; updated: boolean } | undefined,
): Promise<FeedbackEdit & { updated: boolean }> {
  let updated = false;
  const r = await editFeedback(store, (f) => {
    const next = apply(f);
    updated = next?.updated ?? false;
    return next?.feedback;
  });
  return { ...r, updated };
}

/**
 * Allow a user name or glob (case-insensitive, `*` wildcard): the detector never alerts on matching users. The
 * pattern is checked by the rule of the settings' `allowUsers` (shared/core/settings.ts), so nothing is accepted
 * here that a deployment would refuse (`*` alone silences every alert).
 */
export async function allowUser(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string,
  opts: AllowOptions,
): Promise<AllowUserResult> {
  const parsed = allowUserSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, 'allow user'));
  const pattern = parsed.data;
  const expiresAt = expiryOf('allow user', opts);
  const r = await editList(store, (f) => {
    const e = withEntry(f.allowUsers, (e) => e.pattern.toLowerCase() === pattern.toLowerCase(), {
      pattern,
      ...entryFields(opts, expiresAt),
    });
    return e && { feedback: { ...f, allowUsers: e.list }, updated: e.updated };
  });
  return { ...r, pattern, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/**
 * Allow a source range (for one user only when `user` is given): logons from it never alert. The range is checked
 * and made canonical by the rule of the settings' `allowCidrs` (no range wider than /8, IPv6 /16).
 */
export async function allowCidr(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string,
  opts: AllowOptions & { user?: string },
): Promise<AllowCidrResult> {
  const parsed = allowCidrSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues, 'allow cidr'));
  const cidr = parsed.data;
  checkUser('allow cidr', opts.user);
  const expiresAt = expiryOf('allow cidr', opts);
  const r = await editList(store, (f) => {
    const e = withEntry(f.allowCidrs, (e) => e.cidr === cidr && e.user === opts.user, {
      cidr,
      ...entryFields(opts, expiresAt, opts.user),
    });
    return e && { feedback: { ...f, allowCidrs: e.list }, updated: e.updated };
  });
  return {
    ...r,
    cidr,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * Allow a network by the AS that announces it (for one user only when `user` is given): logons whose address the
 * offline network data gives to this AS never alert. `AS64496` and `64496` are one entry, checked by the rule of
 * the settings' `allowAsns` (shared/core/settings.ts).
 */
export async function allowAsn(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string | number,
  opts: AllowOptions & { user?: string },
): Promise<AllowAsnResult> {
  const parsed = parseAllowAsn(raw);
  if ('problem' in parsed) throw new ConfigError([`allow asn: ${parsed.problem}`]);
  const { asn } = parsed;
  checkUser('allow asn', opts.user);
  const expiresAt = expiryOf('allow asn', opts);
  const r = await editList(store, (f) => {
    const e = withEntry(f.allowAsns ?? [], (e) => e.asn === asn && e.user === opts.user, {
      asn,
      ...entryFields(opts, expiresAt, opts.user),
    });
    return e && { feedback: { ...f, allowAsns: e.list }, updated: e.updated };
  });
  return {
    ...r,
    asn,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * Allow a country (for one user only when `user` is given): logons whose address is registered there, as the
 * offline network data says, never alert; `allowCountry(store, 'JP', { user: 'alice', until: '2026-12-18' })` is
 * "alice travels in Japan until 2026-12-18". Checked by the rule of the settings' `allowCountries`.
 */
export async function allowCountry(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  raw: string,
  opts: AllowOptions & { user?: string },
): Promise<AllowCountryResult> {
  const parsed = parseAllowCountry(raw);
  if ('problem' in parsed) throw new ConfigError([`allow country: ${parsed.problem}`]);
  const { country } = parsed;
  checkUser('allow country', opts.user);
  const expiresAt = expiryOf('allow country', opts);
  const r = await editList(store, (f) => {
    if (opts.user === undefined) {
      const forEveryone = (f.allowCountries ?? []).filter((e) => e.user === undefined).map((e) => e.country);
      const problem = allowCountriesProblem([...forEveryone, country]);
      if (problem !== undefined) throw new ConfigError([`allow country: ${country} for every user: ${problem}`]);
    }
    const e = withEntry(f.allowCountries ?? [], (e) => e.country === country && e.user === opts.user, {
      country,
      ...entryFields(opts, expiresAt, opts.user),
    });
    return e && { feedback: { ...f, allowCountries: e.list }, updated: e.updated };
  });
  return {
    ...r,
    country,
    ...(opts.user !== undefined ? { user: opts.user } : {}),
    ...(expiresAt !== undefined ? { expiresAt } : {}),
  };
}

/**
 * Remove an allowlist entry, expired or not: a user pattern (compared case-insensitively), or a range, an AS or a
 * country as allowed (any spelling of the same value), for the same user (or for everyone). `changed` is false
 * when no such entry exists; the caller says so (a typo).
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
  if (entry.kind === 'asn') {
    const parsed = parseAllowAsn(entry.asn);
    if ('problem' in parsed) throw new ConfigError([`allow remove asn: ${parsed.problem}`]);
    const r = await editFeedback(store, (f) => {
      const list = f.allowAsns ?? [];
      const left = list.filter((e) => !(e.asn === parsed.asn && e.user === entry.user));
      return left.length !== list.length ? { ...f, allowAsns: left } : undefined;
    });
    return { ...r, entry: { ...entry, asn: parsed.asn } };
  }
  if (entry.kind === 'country') {
    // Not checked against the assigned codes: an entry stored by a hand edit can be removed as it is spelt.
    const country = entry.country.trim().toUpperCase();
    const r = await editFeedback(store, (f) => {
      const list = f.allowCountries ?? [];
      const left = list.filter((e) => !(e.country === country && e.user === entry.user));
      return left.length !== list.length ? { ...f, allowCountries: left } : undefined;
    });
    return { ...r, entry: { ...entry, country } };
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
 * evicted), in a version-checked save. The run that raised the alert left the address a suspect place of the user
 * (not learned: `UserBaseline.suspect`); this answers it: the entry is released (for a follow-up's id as for the
 * original's) and the place learned, with its network owner and country. An alert older than `suspectDays` was
 * learned meanwhile, and this refreshes the place (it may have been evicted from a busy user's bounded map since).
 * It changes nothing for anyone else: other users, and other subnets of the same network, are judged as before;
 * the address counts as shared from the user's next logon from it.
 * The baseline is read and written under the run lease (a run writes baselines without a version check): a run in
 * progress is waited for up to `opts.lease.waitMs` (30 s by default), then `LeaseBusyError` says when to try again.
 */
export async function markBenign(
  store: Pick<OperatorStore, 'getLedgerEntry' | 'getUsers' | 'writeUsersLeased' | 'acquireLease' | 'releaseLease'>,
  alertId: string,
  opts: { now: number; lease?: LeaseWaitOptions },
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
  // An alert about a source (a campaign) has no user whose places could be marked: its silence hints allow the
  // source instead.
  if (DETECTORS.find((d) => d.id === entry.detectorId)?.groupBy === 'source')
    throw new AuthwatchError(
      `alert ${shown(alertId, 80)} is about a source and its many users, not one user's logon; if the source is yours, allow it (allow cidr <address>/32, or allow asn)`,
    );
  const ip = entry.sourceIp !== undefined ? canonicalIp(entry.sourceIp) : undefined;
  // A detector that judges the user alone (rare user) learned the user in the run that raised the alert; there
  // is no place to add, unless its alerts make their address suspect (impossible travel) and it is: the user's
  // logon from there is confirmed, so the place is answered like an address alert's. An entry of a detector no
  // longer registered is treated as an address alert, as before.
  const detector = DETECTORS.find((d) => d.id === entry.detectorId);
  if (detector?.groupBy === 'user') {
    const b = (await store.getUsers([entry.user])).get(entry.user);
    const suspect =
      detector.marksPlaceSuspect && ip !== undefined && b ? suspectAt(b, sharedAddressKey(ip)) : undefined;
    if (!suspect) return { ...base, outcome: b ? 'user-known' : 'no-baseline', places: [] };
  }
  if (ip === undefined) throw new AuthwatchError(`alert ${shown(alertId, 80)} carries no usable source address`);
  const places = PLACE_LEVELS.map((level) => placeOf(ip, level));
  // A lease that lapsed and was taken by a run meanwhile (`LeaseLostError`) is taken again, and the baseline read afresh.
  await retryOnConflict(() =>
    withLease(store, { purpose: 'benign', holdMs: OPERATOR_LEASE_MS, now: opts.now, ...opts.lease }, async (held) => {
      const b = (await store.getUsers([entry.user])).get(entry.user);
      if (!b) throw new AuthwatchError(`${shown(entry.user)} has no baseline in this store`);
      const { notStored } = await store.writeUsersLeased(
        [markPlacesKnown(b, ip, opts.now)],
        held.renewed(),
        held.now(),
      );
      if (notStored.length > 0)
        throw new AuthwatchError(`the baseline of ${notStored[0]!.user} could not be stored: ${notStored[0]!.reason}`);
    }),
  );
  return { ...base, outcome: 'places-marked', places };
}

/** What `markMalicious` marks: the alert's address, its subnet (or a wider range), or its network owner's AS. */
export type MaliciousScope =
  | { readonly kind: 'ip' }
  /** The address's /24 (IPv6 /48), or the range of `bits` around it (at least /16, IPv6 /32). */
  | { readonly kind: 'subnet'; readonly bits?: number }
  | { readonly kind: 'owner' };

/** What `markMalicious` did. */
export interface MaliciousResult extends FeedbackEdit {
  /** The mark as stored; when `changed` is false, the same source's mark that was already there. */
  readonly entry: HostileEntry;
  /** The judged alert's detector and user, for the message. */
  readonly detectorId: string;
  readonly user: string;
  readonly sourceIp: string;
}

/** The AS the alert document names (`source.as.number`), or undefined when it names none or cannot be read. */
function documentOwner(document: string | undefined): NetworkOwner | undefined {
  if (document === undefined) return undefined;
  try {
    const doc = JSON.parse(document) as { source?: unknown };
    if (typeof doc !== 'object' || doc === null || typeof doc.source !== 'object' || doc.source === null)
      return undefined;
    return alertOwner({ source: doc.source as Alert['source'] });
  } catch {
    return undefined;
  }
}

/**
 * The analyst checked the alert and its source is hostile: the address (`ip`), its subnet (`subnet`: the /24 or
 * /48, or `bits` long) or its network owner's AS (`owner`, from the alert document's `source.as.number`) is marked
 * malicious in the feedback item, and every later successful logon from it, by any user, raises the hostile-source
 * alert. Refused, with nothing written: an alert not in the ledger, one without a usable address, `owner` for an
 * alert whose document names no AS (no network data then, or a ledger entry older than the documents), a range
 * wider than /16 (IPv6 /32), a note longer than an allowlist note. Marking a source already marked is no change.
 */
export async function markMalicious(
  store: Pick<OperatorStore, 'getLedgerEntry' | 'getFeedback' | 'saveFeedback'>,
  alertId: string,
  opts: { scope: MaliciousScope; note?: string; now: number },
): Promise<MaliciousResult> {
  const entry = await store.getLedgerEntry(alertId);
  if (!entry)
    throw new AuthwatchError(
      `no alert ${shown(alertId, 80)} in the ledger (a typo, another table, or older than the ledger's retention)`,
    );
  const ip = entry.sourceIp !== undefined ? canonicalIp(entry.sourceIp) : undefined;
  if (ip === undefined) throw new AuthwatchError(`alert ${shown(alertId, 80)} carries no usable source address`);
  if (opts.note !== undefined && opts.note.length > ALLOW_NOTE_MAX_CHARS)
    throw new ConfigError([`malicious: the note is ${opts.note.length} characters; at most ${ALLOW_NOTE_MAX_CHARS}`]);
  let kind: HostileEntry['kind'];
  let value: string;
  if (opts.scope.kind === 'ip') {
    kind = 'ip';
    value = ip;
  } else if (opts.scope.kind === 'subnet') {
    const family = ip.includes(':') ? 6 : 4;
    const bits = opts.scope.bits ?? HOSTILE_SUBNET_PREFIX[family];
    const c = Number.isInteger(bits) ? parseCidr(`${ip}/${bits}`) : undefined;
    const problem = hostileCidrProblem(`${ip}/${bits}`, c);
    if (problem !== undefined) throw new ConfigError([`malicious --subnet: ${problem}`]);
    kind = 'cidr';
    value = c!.text;
  } else {
    const owner = documentOwner(entry.document);
    if (!owner)
      throw new AuthwatchError(
        `alert ${shown(alertId, 80)} names no network owner (its document has no source.as: no network data when it was raised, or an entry older than the kept documents); mark the address or its subnet instead`,
      );
    const parsed = parseAllowAsn(owner.asn);
    if ('problem' in parsed) throw new AuthwatchError(`alert ${shown(alertId, 80)}: ${parsed.problem}`);
    kind = 'asn';
    value = String(parsed.asn);
  }
  const mark: HostileEntry = {
    kind,
    value,
    alertId,
    addedAt: opts.now,
    ...(opts.note ? { note: opts.note } : {}),
  };
  let existing: HostileEntry | undefined;
  const r = await editFeedback(store, (f) => {
    const list = f.hostile ?? [];
    existing = list.find((e) => e.kind === kind && e.value === value);
    return existing ? undefined : { ...f, hostile: [...list, mark] };
  });
  return {
    ...r,
    entry: existing ?? mark,
    detectorId: entry.detectorId,
    user: entry.user,
    sourceIp: ip,
  };
}

/** What `unmarkMalicious` took back. */
export interface UnmarkResult extends FeedbackEdit {
  /** The marks removed (none when nothing matched: the caller says so). */
  readonly removed: readonly HostileEntry[];
}

/** An AS as typed (`AS64496`, `64496`), when the text is not an address. */
const AS_TEXT = /^(?:AS)?(\d{1,10})$/i;

/**
 * Take back marks: every mark made from the alert `target` names, or else the mark of the source it names (an
 * address, a range in any spelling, an AS as `AS64496` or `64496`). `changed` is false when none matched.
 */
export async function unmarkMalicious(
  store: Pick<OperatorStore, 'getFeedback' | 'saveFeedback'>,
  target: string,
): Promise<UnmarkResult> {
  const t = target.trim();
  if (t === '') throw new ConfigError(['unmark: give the alert id of the mark, or the address, range or AS marked']);
  const ip = canonicalIp(t);
  const cidr = ip === undefined && t.includes('/') ? parseCidr(t) : undefined;
  const as = ip === undefined && cidr === undefined ? AS_TEXT.exec(t) : null;
  const bySource = (e: HostileEntry) =>
    (ip !== undefined && e.kind === 'ip' && e.value === ip) ||
    (cidr !== undefined && e.kind === 'cidr' && e.value === cidr.text) ||
    (as !== null && e.kind === 'asn' && e.value === String(Number(as[1])));
  let removed: HostileEntry[] = [];
  const r = await editFeedback(store, (f) => {
    const list = f.hostile ?? [];
    // An alert id first: it is what the hostile-source alerts name; a source otherwise.
    const byAlert = list.filter((e) => e.alertId === t);
    removed = byAlert.length > 0 ? byAlert : list.filter(bySource);
    return removed.length > 0 ? { ...f, hostile: list.filter((e) => !removed.includes(e)) } : undefined;
  });
  return { ...r, removed };
}
