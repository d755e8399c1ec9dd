/**
 * One baseline per person: the operator's rules saying which user names, across log formats, are the same
 * person (`identities` in the configuration), applied after each profile's canonicalisation (common.ts) so every
 * source's logons of one person meet in one baseline. Nothing is joined unless a rule says so: with no rules the
 * identity of a name is the name.
 *
 * Rules, on canonical names (lower-case, `user@domain`; written in any case or as `DOMAIN\user` in the
 * configuration, they are canonicalised the same way):
 * - `domainAliases`: `{ "corp": "corp.example" }`: a name in the first domain is the same name in the second
 *   (`alice@corp`, Windows' `CORP\alice`, becomes `alice@corp.example`);
 * - `dropDomains`: `["corp.example"]`: a name in that domain is the bare name (`alice@corp.example` becomes
 *   `alice`, sshd's name for the same person);
 * - `aliases`: `{ "a.smith@corp.example": "alice@corp.example" }`: one name is another person's name.
 * Precedence: the domain rules make a name's normal form, `domainAliases` first, then `dropDomains`. An alias is
 * looked up by the name exactly as the profile wrote it, then by normal forms (the alias of `a.smith@corp.example`
 * also catches `CORP\a.smith`, and with `corp.example` dropped sshd's `a.smith`: the domain rules say those are
 * one name); its target is then put in normal form too, so an alias can be written in any of a person's
 * spellings. Rules are applied once, not repeatedly: an alias whose target is itself an alias, or a domain
 * alias whose target is itself aliased, is refused at validation rather than silently followed.
 *
 * Pure: the function from a name to an identity, and the re-aggregation of a window's observations under it.
 */
import * as z from 'zod';
import { mergeObservations, observationKey } from './aggregate';
import type { LogonObservation } from './model';
import { boundUserName, canonicalUser, MAX_USER_CHARS } from './profiles/common';
import { formatIssues } from './settings';

/** A domain as canonical names carry it: lower-case, no `@`, `\` or spaces. */
const DOMAIN = /^[^\s@\\]{1,253}$/;
const DOMAIN_HINT = 'a domain as in user@domain (e.g. "corp.example", or a NetBIOS name like "corp")';
const domainSchema = z
  .string({ error: DOMAIN_HINT })
  .transform((d) => d.trim().toLowerCase())
  .refine((d) => DOMAIN.test(d) && d !== '-' && d !== '.', DOMAIN_HINT);
const NAME_HINT = `a user name (at most ${MAX_USER_CHARS} characters), as a log writes it: alice, alice@corp.example or CORP\\alice`;
const nameSchema = z
  .string({ error: NAME_HINT })
  .max(MAX_USER_CHARS, NAME_HINT)
  .refine((n) => canonicalUser(n) !== undefined, NAME_HINT);

/** Bounds the rules to what fits the Lambda's 4 KB environment anyway, with a message that says so. */
const MAX_ENTRIES = 200;

/** The `identities` configuration as the operator writes it. */
export const identitiesConfigSchema = z.strictObject({
  dropDomains: z.array(domainSchema).max(MAX_ENTRIES).default([]),
  domainAliases: z.record(z.string(), domainSchema).default({}),
  aliases: z.record(z.string(), nameSchema).default({}),
});
export type IdentitiesConfig = z.input<typeof identitiesConfigSchema>;
/** Validated rules, names and domains canonical. */
export interface IdentityRulesConfig {
  readonly dropDomains: readonly string[];
  readonly domainAliases: Readonly<Record<string, string>>;
  readonly aliases: Readonly<Record<string, string>>;
}

/** A function from a canonical user name (as a profile produced it) to the identity whose baseline it updates. */
export type IdentityRules = (canonicalUser: string) => string;

/**
 * Validate a raw `identities` value: every problem at once, each prefixed with `prefix` and its key path. The
 * returned rules are canonical (keys and values as profiles write names), or undefined when `raw` is undefined or
 * there is an issue.
 */
export function checkIdentities(
  raw: unknown,
  prefix: string,
): { readonly rules?: IdentityRulesConfig; readonly issues: string[] } {
  if (raw === undefined) return { issues: [] };
  const r = identitiesConfigSchema.safeParse(raw);
  if (!r.success) return { issues: formatIssues(r.error.issues, prefix) };
  const issues: string[] = [];
  const domainAliases: Record<string, string> = {};
  const aliasEntries = Object.entries(r.data.domainAliases);
  if (aliasEntries.length > MAX_ENTRIES) issues.push(`${prefix}.domainAliases: at most ${MAX_ENTRIES} entries`);
  for (const [from, to] of aliasEntries) {
    const key = domainSchema.safeParse(from);
    if (!key.success) {
      issues.push(`${prefix}.domainAliases.${from}: the key must be ${DOMAIN_HINT}`);
      continue;
    }
    if (key.data === to) issues.push(`${prefix}.domainAliases.${from}: maps the domain to itself; remove the entry`);
    domainAliases[key.data] = to;
  }
  for (const [from, to] of Object.entries(domainAliases)) {
    if (Object.hasOwn(domainAliases, to) && to !== from)
      issues.push(
        `${prefix}.domainAliases.${from}: maps to "${to}", which is itself mapped to "${domainAliases[to]}": map "${from}" to "${domainAliases[to]}" directly`,
      );
  }
  const dropDomains = [...new Set(r.data.dropDomains)];
  for (const d of dropDomains)
    if (Object.hasOwn(domainAliases, d))
      issues.push(
        `${prefix}.dropDomains: "${d}" is also a key of domainAliases, which is applied first, so dropping it would never happen: drop its target "${domainAliases[d]}" instead, or remove one of the two`,
      );

  const aliases: Record<string, string> = {};
  const rawAliases = Object.entries(r.data.aliases);
  if (rawAliases.length > MAX_ENTRIES) issues.push(`${prefix}.aliases: at most ${MAX_ENTRIES} entries`);
  for (const [from, to] of rawAliases) {
    const key = nameSchema.safeParse(from);
    if (!key.success) {
      issues.push(`${prefix}.aliases.${from}: the key must be ${NAME_HINT}`);
      continue;
    }
    const k = canonicalUser(key.data)!;
    const v = canonicalUser(to)!;
    if (Object.hasOwn(aliases, k))
      issues.push(`${prefix}.aliases.${from}: the same name as another key once canonical ("${k}"): keep one`);
    aliases[k] = v;
  }
  const partial: IdentityRulesConfig = { dropDomains, domainAliases, aliases: {} };
  const normal = normalForm(partial);
  const byNormal = new Map<string, string>();
  for (const [from, to] of Object.entries(aliases)) {
    const n = normal(from);
    const other = byNormal.get(n);
    if (other !== undefined && normal(aliases[other]!) !== normal(to))
      issues.push(
        `${prefix}.aliases.${from}: the same name as "${other}" under the domain rules ("${n}"), mapped to another identity: keep one`,
      );
    byNormal.set(n, from);
  }
  for (const [from, to] of Object.entries(aliases)) {
    // Followed once only: a chain would depend on the order rules are read in, so it is refused with its fix.
    const via = aliases[to] !== undefined ? to : byNormal.get(normal(to));
    const next = via === undefined ? undefined : aliases[via];
    if (next !== undefined && normal(next) !== normal(to))
      issues.push(
        `${prefix}.aliases.${from}: maps to "${to}", which is itself mapped to "${next}": map "${from}" to "${next}" directly`,
      );
    if (normal(to) === normal(from))
      issues.push(`${prefix}.aliases.${from}: maps the name to itself (after the domain rules); remove the entry`);
  }
  if (issues.length > 0) return { issues };
  return { rules: { dropDomains, domainAliases, aliases }, issues };
}

/** The domain rules alone: a name's normal form (see the module comment). */
function normalForm(config: IdentityRulesConfig): (name: string) => string {
  const drop = new Set(config.dropDomains);
  const domainAliases = new Map(Object.entries(config.domainAliases));
  if (drop.size === 0 && domainAliases.size === 0) return (name) => name;
  return (name) => {
    const at = name.lastIndexOf('@');
    // No domain, or nothing before it: nothing a domain rule could make of it.
    if (at <= 0) return name;
    const local = name.slice(0, at);
    const given = name.slice(at + 1);
    const domain = domainAliases.get(given) ?? given;
    if (drop.has(domain)) return local;
    return domain === given ? name : `${local}@${domain}`;
  };
}

/**
 * The identity function of validated rules (`checkIdentities`). With no rules it is the identity itself, and the
 * result is always a canonical, bounded name (`boundUserName`: a domain alias can lengthen a name).
 */
export function compileIdentityRules(config: IdentityRulesConfig | undefined): IdentityRules {
  if (config === undefined) return (name) => name;
  const normal = normalForm(config);
  const aliases = new Map(Object.entries(config.aliases));
  // Keys in normal form too: with `corp.example` dropped, an alias of `a.smith@corp.example` is one of `a.smith`.
  const normalAliases = new Map([...aliases].map(([k, v]) => [normal(k), v]));
  if (aliases.size === 0 && config.dropDomains.length === 0 && Object.keys(config.domainAliases).length === 0)
    return (name) => name;
  return (name) => {
    const n = normal(name);
    const target = aliases.get(name) ?? normalAliases.get(n);
    const identity = target === undefined ? n : normal(target);
    return identity === name ? name : boundUserName(identity).name;
  };
}

/** Whether the rules join anything at all (an empty `identities` object does not). */
export function hasIdentityRules(config: IdentityRulesConfig | undefined): boolean {
  return (
    config !== undefined &&
    (config.dropDomains.length > 0 ||
      Object.keys(config.domainAliases).length > 0 ||
      Object.keys(config.aliases).length > 0)
  );
}

/**
 * A window's observations under the identities: each observation's user becomes its identity, keeping the name it
 * was logged under in `loggedAs` (only when the two differ), and observations that now share (identity, address,
 * outcome) are merged as the log sources merge rows (`mergeObservations`: counts add, first/last widen, hosts and
 * methods union). A merged observation keeps the `loggedAs` of its part with the most logons (ties: the identity
 * itself, then the names in order; none when the part kept was logged under the identity itself), so the alert
 * names the spelling that made most of it. Observations the rules leave alone are returned as they are.
 */
export function applyIdentities(
  observations: readonly LogonObservation[],
  identify: IdentityRules,
): LogonObservation[] {
  let changed = false;
  const mapped = observations.map((o) => {
    const identity = identify(o.user);
    if (identity === o.user) return o;
    changed = true;
    return { ...o, user: identity, loggedAs: o.loggedAs ?? o.user };
  });
  if (!changed) return [...observations];
  const groups = new Map<string, LogonObservation[]>();
  for (const o of mapped) {
    const k = observationKey(o);
    const g = groups.get(k);
    if (g) g.push(o);
    else groups.set(k, [o]);
  }
  const out: LogonObservation[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      out.push(group[0]!);
      continue;
    }
    const merged = mergeObservations(group)[0]!;
    const lead = [...group].sort((a, b) => b.count - a.count || (a.loggedAs ?? '').localeCompare(b.loggedAs ?? ''))[0]!;
    const { loggedAs: _drop, ...rest } = merged;
    out.push(lead.loggedAs === undefined ? rest : { ...rest, loggedAs: lead.loggedAs });
  }
  return out;
}
