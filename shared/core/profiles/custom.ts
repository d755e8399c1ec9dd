/**
 * Formats the operator defines: a `customProfiles` entry in the deployment's configuration (cdk.json context,
 * under `authwatch`) turned into a `Profile` by `profileFromSpec`, the Logs Insights query and the local line
 * parser both built from the one spec, so the two agree by construction as the built-in profiles' do.
 *
 * Two kinds:
 * - `text`: one regular expression with named groups, run by Insights' `parse` on `@message` and by the line
 *   parser on each line. Groups: `user` and `ip` (required), `outcome` (the verdict word, when `outcome` maps
 *   words), `time` (needed to parse local lines; Insights uses the log event's own time), `host`, `method`,
 *   `domain` (a separate domain, joined as `user@domain` like Windows' `TargetDomainName`).
 * - `json`: one JSON document per log event; `fields` gives the dotted path of each value (`actor.name`,
 *   arrays by index: `request.ipChain.0.ip`), `match` the values some fields must have (`eventType`).
 * `outcome` is either fixed (`"failure"`: every matching line is a failed logon) or `{ success: [...], failure:
 * [...] }`: the verdict values meaning each, compared trimmed and case-insensitively; a line with another verdict
 * is not a logon of the format and is skipped (as Okta's `SKIPPED` is), in the query and the parser alike.
 *
 * Everything else is the built-ins' rules, through the same helpers (common.ts): canonical users and IPs,
 * loopback and `-` sources skipped, names bounded, bad lines and rows counted as malformed, one log event one
 * attempt (README "What counts as one failed logon": the format is the operator's, so is the choice of which
 * lines are attempts), and the shared row schema and aggregation at the end of the query.
 *
 * Validation (`checkCustomProfiles`) runs at synth, in the Lambda on its environment, and in the command line, so
 * a definition that deploys is one the Lambda and `authwatch parse` accept. It refuses what Insights could not
 * run or would run differently from JavaScript (the local parser), and names the fix.
 */
import * as z from 'zod';
import { formatIssues } from '../settings';
import {
  canonicalUser,
  getPath,
  jsonLineParser,
  LIMIT_CLAUSE,
  malformed,
  neverThrow,
  parseTime,
  pipeline,
  rowMapper,
  SKIP,
  statsClause,
  text,
  toEvent,
  type JsonObject,
} from './common';
import type { CustomProfileId, LineResult, Profile, RowResult } from './profile';
import type { Outcome } from '../model';

/** `custom:` and a short lower-case name: part of every log source id, metric dimension and alarm name. */
const CUSTOM_ID = /^custom:[a-z0-9][a-z0-9_-]{0,47}$/;
const ID_HINT = 'custom:<name>, the name 1-48 of a-z, 0-9, _ and - (e.g. "custom:fortigate")';

/** Longest pattern: every definition travels in the Lambda's 4 KB environment. */
export const MAX_PATTERN_CHARS = 1_000;
/**
 * Longest line the local parser of a text format reads; a longer one is counted as malformed. JavaScript's regex
 * engine backtracks where Insights' does not, so a pattern like `(?<user>.*) from (?<ip>\S+)` costs time growing
 * with the square of the line's length: a real logon line is well under a kilobyte, and a cap keeps one hostile
 * line from stalling `authwatch parse` or a replay.
 */
export const MAX_TEXT_LINE_CHARS = 8_192;

/** The named groups a text pattern may have (each becomes an Insights field of the same name). */
export const TEXT_GROUPS = ['user', 'ip', 'outcome', 'time', 'host', 'method', 'domain'] as const;

/** How a time value is read: `iso` (ISO-8601, Insights' `2026-11-02 08:15:03.123`, or epoch ms), or epoch seconds. */
const TIME_FORMATS = ['iso', 'epoch-ms', 'epoch-s'] as const;

/**
 * A verdict or match value: printable ASCII without `"`, `\` and `/`, which would need escaping inside the
 * query's string literals and `/regex/` delimiters.
 */
const VALUE = /^[\x20-\x7e]{1,64}$/;
const VALUE_HINT = '1-64 printable ASCII characters other than " \\ and /';
const valueSchema = z
  .string({ error: `a string of ${VALUE_HINT}` })
  .refine((v) => VALUE.test(v) && !/["\\/]/.test(v) && v.trim() !== '', VALUE_HINT);

/** A dotted JSON path Insights can name without quoting: `actor.alternateId`, `request.ipChain.0.ip`. */
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+){0,15}$/;
const PATH_HINT =
  'a dotted path of letters, digits and _ (e.g. "actor.name", arrays by index: "ips.0"); a key with other characters, or starting with @, cannot be named in a Logs Insights query';
const pathSchema = z.string({ error: PATH_HINT }).max(200).regex(PATH, PATH_HINT);
/** The time is only read locally (Insights uses the event's own time), so `@timestamp` is allowed there. */
const timePathSchema = z
  .string({ error: PATH_HINT })
  .max(200)
  .regex(/^@?[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+){0,15}$/, PATH_HINT);

const outcomeSchema = z.union(
  [
    z.enum(['success', 'failure']),
    z.strictObject({
      success: z.array(valueSchema).max(20).default([]),
      failure: z.array(valueSchema).max(20).default([]),
    }),
  ],
  {
    error:
      'either "success" or "failure" (every matching line has that outcome), or {"success": [...], "failure": [...]}: the verdict values meaning each',
  },
);

const common = {
  id: z
    .string({ error: ID_HINT })
    .regex(CUSTOM_ID, ID_HINT)
    .transform((id) => id as CustomProfileId),
  description: z.string().min(1).max(200).optional(),
  outcome: outcomeSchema,
  timeFormat: z
    .enum(TIME_FORMATS, { error: `one of ${TIME_FORMATS.join(', ')} (default iso: ISO-8601 or epoch milliseconds)` })
    .optional(),
};

const textSpecSchema = z.strictObject({
  ...common,
  kind: z.literal('text'),
  pattern: z
    .string({ error: 'a regular expression with named groups (?<user>...) and (?<ip>...)' })
    .min(1)
    .max(MAX_PATTERN_CHARS, `at most ${MAX_PATTERN_CHARS} characters (it travels in the Lambda's environment)`),
});

const jsonSpecSchema = z.strictObject({
  ...common,
  kind: z.literal('json'),
  fields: z.strictObject({
    user: pathSchema,
    ip: pathSchema,
    outcome: pathSchema.optional(),
    time: timePathSchema.optional(),
    host: pathSchema.optional(),
    method: pathSchema.optional(),
    domain: pathSchema.optional(),
  }),
  /** Only documents whose field at each path is one of its values (exact, case-sensitive) are logons. */
  match: z.record(pathSchema, z.array(valueSchema).min(1).max(20)).optional(),
});

/** One custom format as the operator writes it. */
export const customProfileSpecSchema = z.discriminatedUnion('kind', [textSpecSchema, jsonSpecSchema], {
  error: (i) =>
    i.code === 'invalid_union'
      ? 'kind must be "text" (a regular expression over each line) or "json" (one JSON document per line)'
      : 'must be an object like {"id":"custom:fw","kind":"text","pattern":"...","outcome":{...}}',
});

/** A custom format's definition (validated: `checkCustomProfiles`). */
export type CustomProfileSpec = z.infer<typeof customProfileSpecSchema>;
export type TextProfileSpec = z.infer<typeof textSpecSchema>;
export type JsonProfileSpec = z.infer<typeof jsonSpecSchema>;

/** The list under `customProfiles`. */
export const customProfilesSchema = z.array(customProfileSpecSchema, { error: 'must be a list of format definitions' });

// ---------------------------------------------------------------------------------------------
// Regular expressions both engines run alike
// ---------------------------------------------------------------------------------------------

/** Letters allowed after `\`: classes, anchors, control characters, and `\xHH`. */
const ESCAPE_LETTERS = new Set([...'dDwWsSbBtnrf']);

/**
 * What a text pattern uses that Logs Insights' `parse` cannot run, or would run differently from JavaScript (the
 * local parser): each as a sentence saying what to write instead. Insights takes the pattern between `/`
 * delimiters and names fields after its groups; it has no lookaround, backreferences or Unicode property classes,
 * and `\u`, `\0`, `\c` and inline flags are JavaScript's or Insights' alone. Also refused: a repeated group that
 * itself repeats without bound (`(\w+\s?)+`), which JavaScript's backtracking engine can take exponential time on.
 */
export function unportableRegexIssues(pattern: string): string[] {
  const issues = new Set<string>();
  if (pattern.includes('/'))
    issues.add('contains "/", which ends the pattern in a Logs Insights query: write a slash as \\x2F');
  if (/[\r\n]/.test(pattern)) issues.add('contains a line break: a pattern is one line');
  // One group per open parenthesis: whether it holds an unbounded repetition (`*`, `+`, `{n,}`).
  const groups: { unbounded: boolean }[] = [{ unbounded: false }];
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const n = pattern[i + 1] ?? '';
      if (/[1-9]/.test(n)) issues.add(`\\${n} is a backreference, which Logs Insights does not support`);
      else if (n === 'k') issues.add('\\k<name> is a backreference, which Logs Insights does not support');
      else if (n === 'p' || n === 'P')
        issues.add(`\\${n}{...} (Unicode property) means something else in JavaScript: use a character class`);
      else if (n === 'x') {
        if (!/^[0-9A-Fa-f]{2}$/.test(pattern.slice(i + 2, i + 4)))
          issues.add('\\x must be followed by exactly two hex digits (\\x2F)');
      } else if (/[A-Za-z0-9]/.test(n) && !ESCAPE_LETTERS.has(n))
        issues.add(
          `\\${n} is not an escape both engines read alike: use \\d \\w \\s \\b \\t \\n \\r, \\xHH or a class`,
        );
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (pattern[i + 1] === '^') i++;
      // A `]` right after `[` or `[^` is a literal in some engines and an empty class in JavaScript.
      if (pattern[i + 1] === ']') issues.add('"[]" or "[^]" means different things in the two engines: escape the ]');
      continue;
    }
    if (c === '(') {
      const head = pattern.slice(i + 1, i + 4);
      if (head.startsWith('?=') || head.startsWith('?!') || head.startsWith('?<=') || head.startsWith('?<!'))
        issues.add('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported by Logs Insights');
      else if (head.startsWith('?') && !head.startsWith('?:') && !head.startsWith('?<'))
        issues.add('inline flags and other (?...) forms are not portable: use (?:...) or (?<name>...) only');
      groups.push({ unbounded: false });
      continue;
    }
    if (c === ')') {
      const inner = groups.length > 1 ? groups.pop()! : { unbounded: false };
      const q = quantifierAt(pattern, i + 1);
      if (q === 'unbounded' && inner.unbounded)
        issues.add(
          'a repeated group repeats something without bound inside, e.g. (\\w+\\s?)+: matching a hostile line can take exponential time in the local parser; repeat only the inner part, or bound the outer repetition',
        );
      const top = groups[groups.length - 1]!;
      top.unbounded ||= inner.unbounded || q === 'unbounded';
      continue;
    }
    if (quantifierAt(pattern, i) === 'unbounded' && c !== '?') groups[groups.length - 1]!.unbounded = true;
  }
  return [...issues];
}

/** Whether a quantifier starts at `i` and whether it is unbounded (`*`, `+`, `{n,}`). */
function quantifierAt(pattern: string, i: number): 'unbounded' | 'bounded' | undefined {
  const c = pattern[i];
  if (c === '*' || c === '+') return 'unbounded';
  if (c === '?') return 'bounded';
  if (c === '{') {
    const m = /^\{\d+(,\d*)?\}/.exec(pattern.slice(i));
    if (!m) return undefined;
    return m[1] === ',' ? 'unbounded' : 'bounded';
  }
  return undefined;
}

/** The named groups of a pattern, in order of appearance. */
export function namedGroups(pattern: string): string[] {
  const out: string[] = [];
  for (const m of pattern.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)) {
    // An escaped parenthesis is text, not a group.
    let backslashes = 0;
    for (let j = m.index - 1; j >= 0 && pattern[j] === '\\'; j--) backslashes++;
    if (backslashes % 2 === 0) out.push(m[1]!);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

function outcomeIssues(outcome: CustomProfileSpec['outcome']): string[] {
  if (typeof outcome === 'string') return [];
  const issues: string[] = [];
  if (outcome.success.length + outcome.failure.length === 0)
    issues.push(
      'outcome: list the verdict values meaning success and failure, e.g. {"success":["accept"],"failure":["deny"]}',
    );
  const seen = new Map<string, Outcome>();
  for (const o of ['success', 'failure'] as const) {
    for (const v of outcome[o]) {
      const key = v.trim().toLowerCase();
      const other = o === 'success' ? 'failure' : 'success';
      // The row mapper reads the words `success` and `failure` as themselves, whatever a format says.
      if (key === other)
        issues.push(
          `outcome.${o}: "${v}" always means ${other} (every profile reads the words success and failure as themselves)`,
        );
      else if (seen.has(key))
        issues.push(
          `outcome.${o}: "${v}" is listed ${seen.get(key) === o ? 'twice' : `under both success and failure`} (values are compared trimmed and case-insensitively)`,
        );
      seen.set(key, o);
    }
  }
  return issues;
}

function textIssues(spec: TextProfileSpec): string[] {
  const issues: string[] = [];
  try {
    new RegExp(spec.pattern);
  } catch (e) {
    return [`pattern: not a valid regular expression (${(e as Error).message})`];
  }
  issues.push(...unportableRegexIssues(spec.pattern).map((i) => `pattern: ${i}`));
  const groups = namedGroups(spec.pattern);
  for (const g of groups)
    if (!(TEXT_GROUPS as readonly string[]).includes(g))
      issues.push(`pattern: unknown group (?<${g}>...): the groups are named ${TEXT_GROUPS.join(', ')}`);
  for (const g of ['user', 'ip'] as const)
    if (!groups.includes(g))
      issues.push(`pattern: needs a named group (?<${g}>...) for the ${g === 'ip' ? 'source address' : 'user name'}`);
  const hasOutcome = groups.includes('outcome');
  if (typeof spec.outcome === 'string' && hasOutcome)
    issues.push(
      `pattern: has an (?<outcome>...) group but outcome is fixed to "${spec.outcome}": map its values with {"success":[...],"failure":[...]}, or remove the group`,
    );
  if (typeof spec.outcome !== 'string' && !hasOutcome)
    issues.push('pattern: needs a named group (?<outcome>...) holding the verdict the outcome values name');
  return issues;
}

function jsonIssues(spec: JsonProfileSpec): string[] {
  if (typeof spec.outcome === 'string' && spec.fields.outcome !== undefined)
    return [
      `fields.outcome: set while outcome is fixed to "${spec.outcome}": map its values with {"success":[...],"failure":[...]}, or remove the field`,
    ];
  if (typeof spec.outcome !== 'string' && spec.fields.outcome === undefined)
    return ['fields.outcome: required: the path of the verdict the outcome values name'];
  return [];
}

/**
 * Validate a raw `customProfiles` list: shape, each spec's semantics, unique ids. Every problem at once, each
 * prefixed with `prefix` and its index (`authwatch.customProfiles.0.pattern: ...`). Returns the valid specs only
 * when there is no issue.
 */
export function checkCustomProfiles(
  raw: unknown,
  prefix: string,
): { readonly specs: CustomProfileSpec[]; readonly issues: string[] } {
  if (raw === undefined) return { specs: [], issues: [] };
  const r = customProfilesSchema.safeParse(raw);
  if (!r.success) return { specs: [], issues: formatIssues(r.error.issues, prefix) };
  const issues: string[] = [];
  const ids = new Map<string, number>();
  r.data.forEach((spec, i) => {
    const at = `${prefix}.${i}`;
    const earlier = ids.get(spec.id);
    if (earlier !== undefined) issues.push(`${at}.id: "${spec.id}" is already defined by ${prefix}.${earlier}`);
    ids.set(spec.id, i);
    const own = [...outcomeIssues(spec.outcome), ...(spec.kind === 'text' ? textIssues(spec) : jsonIssues(spec))];
    issues.push(...own.map((m) => `${at}.${m}`));
  });
  return issues.length > 0 ? { specs: [], issues } : { specs: r.data, issues };
}

// ---------------------------------------------------------------------------------------------
// The profile
// ---------------------------------------------------------------------------------------------

/** A verdict value as a case-insensitive regex: letters as `[aA]`, punctuation escaped (never log text: config). */
function caseInsensitive(value: string): string {
  return [...value]
    .map((c) => {
      const lo = c.toLowerCase();
      const up = c.toUpperCase();
      if (lo !== up) return `[${lo}${up}]`;
      return /[A-Za-z0-9 ]/.test(c) ? c : `\\${c}`;
    })
    .join('');
}

/** Verdict (trimmed, lower-cased) → outcome, for a mapped outcome. */
function verdicts(outcome: Exclude<CustomProfileSpec['outcome'], string>): Record<string, Outcome> {
  const out: Record<string, Outcome> = {};
  for (const o of ['success', 'failure'] as const) for (const v of outcome[o]) out[v.trim().toLowerCase()] = o;
  return out;
}

/** The query's filter keeping only the verdicts the spec names (the line parser skips the others too). */
function verdictFilter(map: Readonly<Record<string, Outcome>>): string {
  return `filter outcome like /^\\s*(?:${Object.keys(map).map(caseInsensitive).join('|')})\\s*$/`;
}

function readTime(value: unknown, format: CustomProfileSpec['timeFormat']): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (format === 'epoch-s') {
    const n =
      typeof value === 'number'
        ? value
        : typeof value === 'string' && /^\s*\d{1,12}(\.\d+)?\s*$/.test(value)
          ? Number(value)
          : NaN;
    return Number.isFinite(n) ? parseTime(Math.floor(n * 1000)) : undefined;
  }
  if (format === 'epoch-ms' && typeof value === 'string' && !/^\s*\d{1,16}\s*$/.test(value)) return undefined;
  return parseTime(value);
}

/** Outcome of one verdict: the fixed one, the mapped one, or undefined (not a logon of the format: skipped). */
function outcomeOf(
  spec: CustomProfileSpec,
  map: Readonly<Record<string, Outcome>>,
  verdict: string | undefined,
): Outcome | undefined {
  if (typeof spec.outcome === 'string') return spec.outcome;
  if (verdict === undefined) return undefined;
  const key = verdict.trim().toLowerCase();
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

function textQuery(spec: TextProfileSpec, map: Readonly<Record<string, Outcome>>): string {
  const groups = namedGroups(spec.pattern);
  const mapped = typeof spec.outcome !== 'string';
  return pipeline([
    'fields @timestamp, @message',
    `parse @message /${spec.pattern}/`,
    'filter ispresent(user) and ispresent(ip)',
    ...(mapped ? [verdictFilter(map)] : []),
    statsClause(groups.includes('domain') ? ['domain'] : [], {
      host: groups.includes('host'),
      outcome: mapped,
    }),
    LIMIT_CLAUSE,
  ]);
}

function jsonQuery(spec: JsonProfileSpec, map: Readonly<Record<string, Outcome>>): string {
  const f = spec.fields;
  const mapped = typeof spec.outcome !== 'string';
  const matches = Object.entries(spec.match ?? {}).map(
    ([path, values]) =>
      // JSON numbers stay numbers in Insights: a digit value is compared both ways, as the Windows profile does.
      `filter ${values.flatMap((v) => [`${path} = "${v}"`, ...(/^\d{1,15}$/.test(v) ? [`${path} = ${v}`] : [])]).join(' or ')}`,
  );
  const columns = [
    `${f.user} as user`,
    `${f.ip} as ip`,
    ...(mapped && f.outcome ? [`${f.outcome} as outcome`] : []),
    ...(f.host ? [`${f.host} as host`] : []),
    ...(f.domain ? [`${f.domain} as domain`] : []),
  ];
  return pipeline([
    'fields @timestamp',
    ...matches,
    `fields ${columns.join(', ')}`,
    'filter ispresent(user) and ispresent(ip)',
    ...(mapped ? [verdictFilter(map)] : []),
    statsClause(f.domain ? ['domain'] : [], { host: f.host !== undefined, outcome: mapped }),
    LIMIT_CLAUSE,
  ]);
}

function textParser(spec: TextProfileSpec, map: Readonly<Record<string, Outcome>>): (line: string) => LineResult {
  const re = new RegExp(spec.pattern);
  const hasTime = namedGroups(spec.pattern).includes('time');
  return (line: string) => {
    if (typeof line !== 'string') return SKIP;
    if (line.length > MAX_TEXT_LINE_CHARS)
      return malformed(`${spec.id} line longer than ${MAX_TEXT_LINE_CHARS} characters: not matched`);
    const g = re.exec(line)?.groups;
    if (!g || g.user === undefined || g.ip === undefined) return SKIP;
    const outcome = outcomeOf(spec, map, g.outcome);
    if (!outcome) return SKIP;
    if (!hasTime) return malformed(`${spec.id} defines no (?<time>...) group: a local line cannot be placed in time`);
    return toEvent(spec.id, {
      user: g.user,
      domain: g.domain,
      ip: g.ip,
      outcome,
      timestamp: readTime(g.time, spec.timeFormat),
      host: g.host,
      method: g.method,
    });
  };
}

function jsonParser(spec: JsonProfileSpec, map: Readonly<Record<string, Outcome>>): (line: string) => LineResult {
  const f = spec.fields;
  const matches = Object.entries(spec.match ?? {});
  const field = (doc: JsonObject, path: string | undefined) =>
    path === undefined ? undefined : text(getPath(doc, path));
  return jsonLineParser(spec.id, (doc) => {
    for (const [path, values] of matches) {
      const v = field(doc, path);
      if (v === undefined || !values.includes(v)) return SKIP;
    }
    const user = field(doc, f.user);
    const ip = field(doc, f.ip);
    // Absent (or not a scalar) in Insights too: `ispresent` drops the event there.
    if (user === undefined || ip === undefined) return SKIP;
    const outcome = outcomeOf(spec, map, field(doc, f.outcome));
    if (!outcome) return SKIP;
    if (f.time === undefined)
      return malformed(`${spec.id} defines no fields.time: a local line cannot be placed in time`);
    return toEvent(spec.id, {
      user,
      domain: field(doc, f.domain),
      ip,
      outcome,
      timestamp: readTime(getPath(doc, f.time), spec.timeFormat),
      host: field(doc, f.host),
      method: field(doc, f.method),
    });
  });
}

/**
 * The profile of a validated custom format (`checkCustomProfiles`): its Logs Insights query and its line parser
 * from the one spec, ending in the shared row schema and aggregation (profile.ts). Neither the parser nor the row
 * mapper throws, whatever the input.
 */
export function profileFromSpec(spec: CustomProfileSpec): Profile {
  const map = typeof spec.outcome === 'string' ? {} : verdicts(spec.outcome);
  const hasDomain =
    spec.kind === 'text' ? namedGroups(spec.pattern).includes('domain') : spec.fields.domain !== undefined;
  const baseRow = rowMapper({
    logSource: spec.id,
    outcomes: map,
    ...(hasDomain ? { user: (row: Readonly<Record<string, string>>) => canonicalUser(row.user, row.domain) } : {}),
  });
  const fixed = typeof spec.outcome === 'string' ? spec.outcome : undefined;
  const mapRow = neverThrow((row: Readonly<Record<string, string>>): RowResult => {
    // A fixed outcome has no column: every row has it. `rowMapper` drops anything that is not a string itself.
    if (fixed !== undefined)
      return baseRow({ ...(typeof row === 'object' && row !== null ? row : {}), outcome: fixed });
    return baseRow(row);
  }, `${spec.id} row mapping`);
  const parse =
    spec.kind === 'text' ? neverThrow(textParser(spec, map), `${spec.id} line parsing`) : jsonParser(spec, map);
  return {
    id: spec.id,
    description:
      spec.description ?? `${spec.kind === 'text' ? 'Text' : 'JSON'} format ${spec.id}, defined in the configuration`,
    query: spec.kind === 'text' ? textQuery(spec, map) : jsonQuery(spec, map),
    parseLine: parse,
    mapRow,
  };
}

/** The profiles of validated specs, in order. */
export function customProfiles(specs: readonly CustomProfileSpec[]): Profile[] {
  return specs.map(profileFromSpec);
}
