/**
 * Google Workspace logins: the Admin SDK Reports API's login activities (Google's "Reports API: Login activity report"
 * and its login event reference), one activity per log event as a poller writes them to CloudWatch Logs: the
 * `activities.list` items as the API returns them (`kind: admin#reports#activity`, `id.time`, `id.applicationName:
 * login`, `actor.email`, `ipAddress`, `events: [{ type, name, parameters: [{ name, value | boolValue | multiValue }] }]`).
 *
 * A logon is an activity whose first event is `login_success` (success) or `login_failure` (failure); the login
 * application logs one event per activity. Not counted: `login_challenge` and `login_verification` (a challenge within
 * a login, whose `login_success` or `login_failure` follows), `logout`, and every other event (password changes, 2SV
 * enrolment, account recovery edits). Failed attempts (README "What counts as one failed logon"): each `login_failure`,
 * except those whose `login_failure_type` ends in `second_factor` (`login_failure_invalid_second_factor`,
 * `login_failure_missing_second_factor`): the password was accepted, so not a guess at it but a different signal (the
 * Okta profile's reason).
 *
 * User: `actor.email`. Source: `ipAddress` (Google omits it for some logins: such an activity is counted as
 * malformed, and the query drops it). Time: `id.time`. Method: the `login_type` parameter (`google_password`,
 * `saml`, `reauth`, ...), line parser only, as for every profile. Host: none (Google is the identity provider).
 *
 * Parameters are a list addressed by position in Logs Insights, which has no way to pick the element with a given
 * `name`; so `is_suspicious` and `login_failure_type` are found with the same regular expressions over the whole
 * document, by the query's `parse @message` and by the line parser alike, in the order the API writes a parameter
 * (`name`, then its value). Signals: `is_suspicious` `true` rides along (the query groups by it; see `Signals`).
 */
import {
  coalesceText,
  firstText,
  getPath,
  LIMIT_CLAUSE,
  neverThrow,
  parseJsonLine,
  parseTime,
  pipeline,
  rowMapper,
  SKIP,
  statsClause,
  text,
  toEvent,
  type JsonObject,
} from './common';
import type { LineResult, Profile } from './profile';

const OUTCOMES = { login_success: 'success', login_failure: 'failure' } as const;

/** The `is_suspicious` parameter's value. Written without `/` (Insights' regex delimiter). */
export const GOOGLE_SUSPICIOUS_PATTERN = String.raw`"name"\s*:\s*"is_suspicious"\s*,\s*"boolValue"\s*:\s*(?<suspicious>true|false)`;
/** The `login_failure_type` parameter's value. */
export const GOOGLE_FAILURE_TYPE_PATTERN = String.raw`"name"\s*:\s*"login_failure_type"\s*,\s*"value"\s*:\s*"(?<failureType>[a-z_]+)"`;
/** Failure types of a rejected or missing second factor: not counted (see the module comment). */
const SECOND_FACTOR = /second_factor$/;

const SUSPICIOUS = new RegExp(GOOGLE_SUSPICIOUS_PATTERN);
const FAILURE_TYPE = new RegExp(GOOGLE_FAILURE_TYPE_PATTERN);

export const GOOGLE_WORKSPACE_QUERY = pipeline([
  'fields @timestamp, id.applicationName, events.0.name, actor.email, ipAddress',
  'filter id.applicationName = "login" and (events.0.name = "login_success" or events.0.name = "login_failure")',
  `parse @message /${GOOGLE_FAILURE_TYPE_PATTERN}/`,
  // Spelled out for events without the parameter (Insights' comparisons with an absent field are false, `not like` too).
  `filter not ispresent(failureType) or failureType not like ${SECOND_FACTOR}`,
  `parse @message /${GOOGLE_SUSPICIOUS_PATTERN}/`,
  'fields actor.email as user, ipAddress as ip, events.0.name as outcome',
  'filter ispresent(user) and ispresent(ip)',
  // Google names no host. `suspicious` splits a (user, ip, outcome) by verdict; the merge keeps `true`.
  statsClause(['suspicious'], { host: false }),
  LIMIT_CLAUSE,
]);

/** The value of the first event's parameter called `name`, when it is a scalar `value`. */
function parameter(doc: JsonObject, name: string): string | undefined {
  const params = getPath(doc, 'events.0.parameters');
  if (!Array.isArray(params)) return undefined;
  for (const p of params) if (text(getPath(p, 'name')) === name) return text(getPath(p, 'value'));
  return undefined;
}

function fromLine(line: string, doc: JsonObject): LineResult {
  if (firstText(doc, ['id.applicationName']) !== 'login') return SKIP;
  const name = firstText(doc, ['events.0.name']);
  if (name !== 'login_success' && name !== 'login_failure') return SKIP;
  const failureType = FAILURE_TYPE.exec(line)?.groups?.failureType;
  if (failureType !== undefined && SECOND_FACTOR.test(failureType)) return SKIP;
  return toEvent('google-workspace', {
    user: coalesceText(doc, ['actor.email']),
    ip: coalesceText(doc, ['ipAddress']),
    outcome: OUTCOMES[name],
    timestamp: parseTime(firstText(doc, ['id.time'])),
    method: parameter(doc, 'login_type'),
    signals: { is_suspicious: SUSPICIOUS.exec(line)?.groups?.suspicious },
  });
}

export const googleWorkspaceProfile: Profile = {
  id: 'google-workspace',
  description: 'Google Workspace logins (Admin SDK Reports API login activities: login_success, login_failure)',
  query: GOOGLE_WORKSPACE_QUERY,
  // The regular expressions read the raw line, as the query's `parse @message` reads the raw log event.
  parseLine: neverThrow((line: string) => {
    if (typeof line !== 'string') return SKIP;
    const doc = parseJsonLine(line);
    return doc ? fromLine(line, doc) : SKIP;
  }, 'google-workspace line parsing'),
  mapRow: rowMapper({ logSource: 'google-workspace', outcomes: OUTCOMES, signals: { suspicious: 'is_suspicious' } }),
};
