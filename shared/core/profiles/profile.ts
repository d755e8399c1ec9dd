import type { LogonEvent, LogonObservation } from '../model';

export const PROFILE_IDS = [
  'sshd',
  'cloudtrail',
  'ecs',
  'windows',
  'okta',
  'auditd',
  'cisco-asa',
  'identity-center',
  'entra',
  'google-workspace',
] as const;
export type ProfileId = (typeof PROFILE_IDS)[number];

/**
 * The id of a format the operator defines in configuration (`customProfiles`, see custom.ts): always
 * `custom:<name>`, so it can never collide with a built-in id, today's or one added later.
 */
export type CustomProfileId = `custom:${string}`;
/** Any profile's id: a built-in one, or a custom format's. */
export type AnyProfileId = ProfileId | CustomProfileId;

/** Whether `id` names a custom format (`custom:<name>`); whether such a format is defined is the caller's to check. */
export function isCustomProfileId(id: string): id is CustomProfileId {
  return id.startsWith('custom:');
}

/** Result of parsing one log line locally. */
export type LineResult =
  /** `userTruncated`: the user name was longer than `MAX_USER_CHARS` and was bounded (`boundUserName`). */
  | { readonly kind: 'event'; readonly event: LogonEvent; readonly userTruncated?: true }
  /** Not an authentication event of this format (most lines of a log): ignored, not an error. */
  | { readonly kind: 'skip' }
  /** Looked like a logon but could not be understood: counted as malformed and skipped. */
  | { readonly kind: 'malformed'; readonly reason: string };

/** Result of mapping one Logs Insights result row (all values are strings in Insights results). */
export type RowResult =
  | { readonly kind: 'observation'; readonly observation: LogonObservation; readonly userTruncated?: true }
  /** A row that is legitimately not a remote logon (e.g. a loopback source) and is dropped. */
  | { readonly kind: 'skip' }
  | { readonly kind: 'malformed'; readonly reason: string };

/**
 * A log-source profile: how one log format's logons are found, both in CloudWatch Logs Insights
 * (server-side extraction and aggregation) and in a local file (line by line). The query and the line
 * parser must agree; each profile's tests check both against the same fixture lines.
 *
 * Every profile's query ends in the same row schema, one row per (user, ip, outcome, host):
 * `user, ip, outcome ("success"|"failure"), host, logons, first, last` (first/last in epoch ms),
 * which `mapRow` turns into a `LogonObservation` with canonical user and IP. `logons` counts attempts the way the
 * line parser does: one per log event (`count(*)`), or the sum of each event's attempts where one line can stand for
 * several (sshd's syslog repeat lines, `LogonEvent.count`). README "What counts as one failed logon" has the rule.
 * The query must end in that aggregation (and an optional `| limit`), keeping those column names: when a
 * result is capped at Insights' 10,000 rows, the log source appends `filter`s on the `user`, `ip` and `host`
 * columns after it to split the result into parts (one user name sprayed from thousands of addresses within
 * one second is split by address). A profile without a host column (Okta) simply never needs that split.
 */
export interface Profile {
  readonly id: AnyProfileId;
  /** One line for `--help` and docs. */
  readonly description: string;
  /** The Logs Insights query text (without the time range, which StartQuery takes separately). */
  readonly query: string;
  /** Parse one raw log line (a syslog line, or one JSON document). Never throws. */
  parseLine(line: string): LineResult;
  /** Map one Insights result row. Never throws. */
  mapRow(row: Readonly<Record<string, string>>): RowResult;
}
