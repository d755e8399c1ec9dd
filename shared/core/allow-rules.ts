/**
 * The allowlist rule: what `allowUsers`/`allowCidrs`/`allowAsns`/`allowCountries` (settings, CLI flags, CDK context,
 * the Lambda's env) and `authwatch allow user|cidr|asn|country` (feedback) may hold, and how the settings' entries
 * read as rules. One schema per entry kind, used by all of them, so an entry is accepted or refused with the same
 * message wherever it is given. The detection settings (settings.ts) use these schemas for their allowlists.
 */
import * as z from 'zod';
import { plainText } from './untrusted-text';
import { ISO_COUNTRY_CODES } from './countries';
import { parseCidr, type Cidr, type IpFamily } from './net';

/**
 * The shortest prefix an allowlisted range may have, per address family. An allowlisted range silences every
 * logon from it, so it must stay within networks one organisation runs:
 * - IPv4 /8 is the largest block ever assigned to one holder (the legacy class A blocks, and 10.0.0.0/8, the
 *   largest private range); anything shorter spans unrelated organisations' networks and ISPs' customer pools,
 *   i.e. attackers' addresses too.
 * - IPv6 /16: registries receive /12s from IANA and hand out far smaller blocks; the largest single holders (big
 *   carriers) have around /19–/20, an ISP a /32, a site a /48. A shorter prefix is a slice of a registry's pool.
 * /0 (every address) is refused with its own message: it would silence every alert.
 */
export const MIN_ALLOW_PREFIX: Readonly<Record<IpFamily, number>> = { 4: 8, 6: 16 };

/** Untrusted input quoted in a message: printable, one line, bounded (terminals, logs, CloudFormation output). */
const quoted = (raw: string) => `"${plainText(raw, 60)}"`;

/**
 * Why a CIDR may not be allowlisted, or undefined if it may. The text is the same wherever the entry was given
 * (CDK context, Lambda env, `--allow-cidr`, `authwatch allow cidr`); callers add where (key path or command).
 */
export function allowCidrProblem(raw: string, c: Cidr | undefined = parseCidr(raw)): string | undefined {
  if (!c) return `${quoted(raw)} is not a CIDR like 203.0.113.0/24, 198.51.100.7 (one address) or 2001:db8::/48`;
  if (c.bits === 0) return `${c.text} is every address and would silence every alert`;
  const min = MIN_ALLOW_PREFIX[c.family];
  if (c.bits < min) {
    return `${c.text} is too broad: shorter than /${min} it spans networks of other organisations (attackers' too); list the ranges you run, each /${min} or longer`;
  }
  return undefined;
}

/**
 * One allowlisted source range. Canonical form: the network address with host bits cleared, the family's own
 * notation (RFC 5952 for IPv6, IPv4-mapped unwrapped), always with a length (`198.51.100.7` → `198.51.100.7/32`),
 * so the same range written two ways is one entry.
 */
export const allowCidrSchema = z.string().transform((raw, ctx) => {
  const c = parseCidr(raw);
  const problem = allowCidrProblem(raw, c);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return c!.text;
});

/**
 * Why a user pattern may not be allowlisted, or undefined if it may. Patterns are user names or `*` globs,
 * matched case-insensitively against the whole name.
 */
export function allowUserProblem(raw: string): string | undefined {
  const p = raw.trim();
  if (p === '') return 'give a user name or a glob such as svc-*';
  // Control and invisible characters never occur in a real user name; they come from a bad paste and would make
  // the entry impossible to read back or remove.
  if (plainText(p, p.length + 1) !== p) return `${quoted(p)} holds control or invisible characters`;
  if (/^\*+$/.test(p))
    return `${quoted(p)} matches every user and would silence every alert; remove the detector instead`;
  return undefined;
}

/** One allowlisted user pattern. Canonical form: trimmed, runs of `*` as one (same matches); case kept as written. */
export const allowUserSchema = z.string().transform((raw, ctx) => {
  const problem = allowUserProblem(raw);
  if (problem !== undefined) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  return raw.trim().replace(/\*{2,}/g, '*');
});

/**
 * AS numbers that stand for no one network, refused with their reason: AS0 is never announced (RFC 7607), AS23456
 * stands in for every 4-byte AS behind an old router (RFC 6793), 4294967295 is reserved (RFC 7300).
 */
const UNUSABLE_ASNS: ReadonlyMap<number, string> = new Map([
  [0, 'AS0 is reserved (RFC 7607): no address is announced by it'],
  [23456, 'AS23456 stands for any 4-byte AS seen through an older router (RFC 6793), not one network'],
  [4294967295, 'AS4294967295 is reserved (RFC 7300)'],
]);

/** What a person types for an AS: `AS64496`, `as64496` or `64496`. */
const ASN_TEXT = /^(?:AS)?(\d{1,10})$/i;

/**
 * The AS number an allowlist entry names, or why it cannot be one. The data the detector reads (IPtoASN) names
 * an address's owner by its AS, so an allowed AS silences every logon from the ranges it announces: a cloud
 * provider's or a mobile carrier's AS holds attackers' addresses too, which is why entries can be per user.
 */
export function parseAllowAsn(raw: string | number): { asn: number } | { problem: string } {
  const text = typeof raw === 'number' ? String(raw) : raw.trim();
  if (text === '*' || /^any$|^all$/i.test(text))
    return { problem: `${quoted(text)} is every network and would silence every alert` };
  const m = ASN_TEXT.exec(text);
  const asn = m ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(asn) || asn > 4294967295)
    return { problem: `${quoted(text)} is not an AS number like AS64496 or 64496 (1 to 4294967294)` };
  const unusable = UNUSABLE_ASNS.get(asn);
  return unusable !== undefined ? { problem: unusable } : { asn };
}

/** One allowlisted AS. Canonical form: the number (`AS64496` and `64496` are one entry). */
export const allowAsnSchema = z
  .union([z.number(), z.string()], { error: 'give an AS number like AS64496 or 64496' })
  .transform((raw, ctx) => {
    const r = parseAllowAsn(raw);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }
    return r.asn;
  });

/**
 * The ISO 3166-1 alpha-2 code an allowlist entry names, or why it cannot be one: checked against the assigned
 * codes, so `UK` (it is `GB`) or a region code (`EU`) is refused rather than stored and never matched.
 */
export function parseAllowCountry(raw: string): { country: string } | { problem: string } {
  const text = raw.trim();
  if (text === '*' || /^any$|^all$/i.test(text))
    return { problem: `${quoted(text)} is every country and would silence every alert` };
  const cc = text.toUpperCase();
  if (!ISO_COUNTRY_CODES.has(cc)) {
    const hint = cc === 'UK' ? ' (the United Kingdom is GB)' : '';
    return { problem: `${quoted(text)} is not an assigned ISO 3166-1 alpha-2 country code like JP or DE${hint}` };
  }
  return { country: cc };
}

/** One allowlisted country. Canonical form: the upper-case code (`jp` is `JP`). */
export const allowCountrySchema = z.string({ error: 'give a country code like JP or DE' }).transform((raw, ctx) => {
  const r = parseAllowCountry(raw);
  if ('problem' in r) {
    ctx.addIssue({ code: 'custom', message: r.problem });
    return z.NEVER;
  }
  return r.country;
});

/**
 * When an entry with the last day `raw` (`YYYY-MM-DD`) stops applying: the start of the next day, UTC. One rule
 * for every reader (the entry is stored, shown and judged the same way whoever typed it); for someone east of UTC
 * it runs a few hours past their midnight, west of it it ends a few hours before (give the next day there). Epoch
 * ms, compared with the logon's time: an entry applies to logons strictly before it. Refused: a date that does not
 * exist. Whether the day is over is not judged here (the settings' entries are judged per logon).
 */
export function parseAllowDate(raw: string): { expiresAt: number } | { problem: string } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const day = Date.UTC(y, mo - 1, d);
  if (!m || new Date(day).toISOString().slice(0, 10) !== raw.trim())
    return { problem: `${quoted(raw)} is not a date like 2026-12-18 (YYYY-MM-DD, UTC)` };
  return { expiresAt: day + 86_400_000 };
}

/**
 * `--until YYYY-MM-DD` of `authwatch allow`: as `parseAllowDate`, and also refused when already over at `now` (an
 * entry added now that would never apply).
 */
export function parseAllowUntil(raw: string, now: number): { expiresAt: number } | { problem: string } {
  const r = parseAllowDate(raw);
  if ('problem' in r) return { problem: `--until ${r.problem}` };
  if (r.expiresAt <= now)
    return {
      problem: `--until ${raw.trim()} is over (it is ${new Date(now).toISOString().slice(0, 10)} UTC): give today or a later day`,
    };
  return r;
}

/**
 * Why a set of countries allowed for everyone may not be, or undefined: every assigned code at once is every
 * logon from a known address, i.e. silence. (Listing all but a few is allowed: that is a choice someone made.)
 */
export function allowCountriesProblem(countries: Iterable<string>): string | undefined {
  const set = new Set(countries);
  for (const cc of ISO_COUNTRY_CODES) if (!set.has(cc)) return undefined;
  return `every country (all ${ISO_COUNTRY_CODES.size} codes) would silence every alert from an address the network data knows; remove the detector instead`;
}

/** The last day an entry with this `expiresAt` applies, as `--until` took it (`2026-12-18`). */
export function allowUntilText(expiresAt: number): string {
  return new Date(expiresAt - 1).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// Entries of the settings' allowlists: a plain value, for every user and for good (as it always was), or an object
// that also names the one user it is for and its last day, as `authwatch allow <kind> <value> --user <name> --until
// <day>` stores it: `{ "country": "JP", "user": "alice", "until": "2026-12-18", "note": "trip to Tokyo" }`.
// ---------------------------------------------------------------------------------------------

/**
 * Why the user an entry is for (`"user"` of a range, AS or country entry) may not be, or undefined. One exact name,
 * as the logs give it (not a glob: a glob is `allowUsers`), matched as `authwatch allow ... --user` is.
 */
export function allowForUserProblem(raw: string): string | undefined {
  const u = raw.trim();
  if (u === '') return 'the user name is empty';
  if (plainText(u, u.length + 1) !== u) return `${quoted(u)} holds control or invisible characters`;
  return undefined;
}

/** The user an entry is for. Canonical form: trimmed (a name in the logs never starts or ends with a space). */
const allowForUserSchema = z
  .string({ error: 'the user the entry is for: one user name, as the logs give it' })
  .transform((raw, ctx) => {
    const problem = allowForUserProblem(raw);
    if (problem !== undefined) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    return raw.trim();
  });

/**
 * The last day an entry applies (`YYYY-MM-DD`, UTC), kept as written (trimmed): the run judges it at each logon's
 * time (`parseAllowDate`), so a day already over is accepted here: it still applies to older logons (a backfill),
 * and a deployment is never refused months later because a trip ended. The CDK synth warns about it.
 */
export const allowUntilDateSchema = z
  .string({ error: 'the last day the entry applies, like 2026-12-18 (YYYY-MM-DD, UTC)' })
  .transform((raw, ctx) => {
    const r = parseAllowDate(raw);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }
    return raw.trim();
  });

/** Longest note an entry may carry: a reason for the reader of the configuration, never deployed. */
export const ALLOW_NOTE_MAX_CHARS = 200;

/** Why the entry is there, for whoever reads the configuration; dropped from the deployed settings (env bytes). */
const allowNoteSchema = z
  .string({ error: 'a note is text' })
  .max(ALLOW_NOTE_MAX_CHARS, `at most ${ALLOW_NOTE_MAX_CHARS} characters`);

/** The keys an entry object may hold besides its value; the value key comes first. */
const ENTRY_SCOPE_KEYS = ['user', 'until', 'note'] as const;

/** The unknown-key message of an entry object: the keys it takes, so a misspelt `untill` is not silently dropped. */
function entryKeysError(valueKey: string, keys: readonly string[]) {
  return (issue: { code?: string; keys?: readonly string[] }) =>
    issue.code === 'unrecognized_keys'
      ? `unknown key ${(issue.keys ?? []).map((k) => JSON.stringify(k)).join(', ')}: an entry takes ${keys.map((k) => `"${k}"`).join(', ')} (only "${valueKey}" is required)`
      : undefined;
}

/** `user` and `until` of an entry object, each only when given. */
function scopeOf(e: { user?: string; until?: string }): { user?: string; until?: string } {
  return { ...(e.user !== undefined ? { user: e.user } : {}), ...(e.until !== undefined ? { until: e.until } : {}) };
}

/**
 * A list item that is either a plain value (checked by `plain`) or an entry object (checked by `entry`), each
 * reported with its own messages and key path (`allowCountries.1.until: ...`): a zod union would fold an entry's
 * specific problem into one generic "invalid input".
 */
function plainOrEntry<P extends z.ZodType, E extends z.ZodType>(plain: P, entry: E) {
  return z.custom<z.input<P> | z.input<E>>().transform((raw, ctx): z.output<P> | z.output<E> => {
    const isEntry = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
    const r = (isEntry ? entry : plain).safeParse(raw);
    if (r.success) return r.data as z.output<P> | z.output<E>;
    for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: [...i.path] });
    return z.NEVER;
  });
}

/**
 * One item of `allowUsers`: a pattern, or `{ "user": "<pattern>", "until"?, "note"? }`. Canonical form: the plain
 * pattern when no `until` is given, else `{ user, until }`.
 */
export const allowUserSettingSchema = plainOrEntry(
  allowUserSchema,
  z
    .strictObject(
      {
        user: z.string({ error: 'give a user name or a glob such as svc-*' }).pipe(allowUserSchema),
        until: allowUntilDateSchema.optional(),
        note: allowNoteSchema.optional(),
      },
      { error: entryKeysError('user', ['user', 'until', 'note']) },
    )
    .transform((e) => (e.until === undefined ? e.user : { user: e.user, until: e.until })),
);

/**
 * One item of `allowCidrs`: a range, or `{ "cidr", "user"?, "until"?, "note"? }`. Canonical form: the plain range
 * when neither `user` nor `until` is given, else the object without its note.
 */
export const allowCidrSettingSchema = plainOrEntry(
  allowCidrSchema,
  z
    .strictObject(
      {
        cidr: z
          .string({ error: 'give a CIDR like 203.0.113.0/24, 198.51.100.7 (one address) or 2001:db8::/48' })
          .pipe(allowCidrSchema),
        user: allowForUserSchema.optional(),
        until: allowUntilDateSchema.optional(),
        note: allowNoteSchema.optional(),
      },
      { error: entryKeysError('cidr', ['cidr', ...ENTRY_SCOPE_KEYS]) },
    )
    .transform((e) => (e.user === undefined && e.until === undefined ? e.cidr : { cidr: e.cidr, ...scopeOf(e) })),
);

/** One item of `allowAsns`: an AS, or `{ "asn", "user"?, "until"?, "note"? }`; canonical as `allowCidrSettingSchema`. */
export const allowAsnSettingSchema = plainOrEntry(
  allowAsnSchema,
  z
    .strictObject(
      {
        asn: allowAsnSchema,
        user: allowForUserSchema.optional(),
        until: allowUntilDateSchema.optional(),
        note: allowNoteSchema.optional(),
      },
      { error: entryKeysError('asn', ['asn', ...ENTRY_SCOPE_KEYS]) },
    )
    .transform((e) => (e.user === undefined && e.until === undefined ? e.asn : { asn: e.asn, ...scopeOf(e) })),
);

/**
 * One item of `allowCountries`: a code, or `{ "country", "user"?, "until"?, "note"? }` ("alice travels in Japan
 * until 2026-12-18"); canonical as `allowCidrSettingSchema`.
 */
export const allowCountrySettingSchema = plainOrEntry(
  allowCountrySchema,
  z
    .strictObject(
      {
        country: allowCountrySchema,
        user: allowForUserSchema.optional(),
        until: allowUntilDateSchema.optional(),
        note: allowNoteSchema.optional(),
      },
      { error: entryKeysError('country', ['country', ...ENTRY_SCOPE_KEYS]) },
    )
    .transform((e) =>
      e.user === undefined && e.until === undefined ? e.country : { country: e.country, ...scopeOf(e) },
    ),
);

/** One entry of the settings' allowlists as a run judges it: for every user or for `user` only, before `expiresAt`. */
export interface AllowSettingRule<T> {
  readonly value: T;
  /** Only this user's logons (exact name); absent = every user's. Never set for `allowUsers`. */
  readonly user?: string;
  /** Epoch ms, as `AllowedUser.expiresAt` of the feedback; absent = for good. */
  readonly expiresAt?: number;
}

/** The settings' four allowlists, each entry as a rule. */
export interface AllowSettingRules {
  readonly users: readonly AllowSettingRule<string>[];
  readonly cidrs: readonly AllowSettingRule<string>[];
  readonly asns: readonly AllowSettingRule<number>[];
  readonly countries: readonly AllowSettingRule<string>[];
}

/** An entry's expiry from its `until`; one that does not parse (settings built past the schema) applies to nothing. */
function expiryOfUntil(until: string | undefined): { expiresAt?: number } {
  if (until === undefined) return {};
  const r = parseAllowDate(until);
  return { expiresAt: 'problem' in r ? 0 : r.expiresAt };
}

/** `user` and the expiry of an entry object as a rule's fields. */
function ruleScope(e: { user?: string; until?: string }): { user?: string; expiresAt?: number } {
  return { ...(e.user !== undefined ? { user: e.user } : {}), ...expiryOfUntil(e.until) };
}

/**
 * The settings' allowlists as rules, in the order written: a plain value is for every user and for good, an entry
 * object for its `user` and until the end of its `until` day (UTC), exactly as the feedback's entries.
 */
export function allowSettingRules(settings: {
  readonly allowUsers: readonly z.infer<typeof allowUserSettingSchema>[];
  readonly allowCidrs: readonly z.infer<typeof allowCidrSettingSchema>[];
  readonly allowAsns?: readonly z.infer<typeof allowAsnSettingSchema>[];
  readonly allowCountries?: readonly z.infer<typeof allowCountrySettingSchema>[];
}): AllowSettingRules {
  return {
    users: settings.allowUsers.map((e) =>
      typeof e === 'string' ? { value: e } : { value: e.user, ...expiryOfUntil(e.until) },
    ),
    cidrs: settings.allowCidrs.map((e) => (typeof e === 'string' ? { value: e } : { value: e.cidr, ...ruleScope(e) })),
    asns: (settings.allowAsns ?? []).map((e) =>
      typeof e === 'number' ? { value: e } : { value: e.asn, ...ruleScope(e) },
    ),
    countries: (settings.allowCountries ?? []).map((e) =>
      typeof e === 'string' ? { value: e } : { value: e.country, ...ruleScope(e) },
    ),
  };
}
