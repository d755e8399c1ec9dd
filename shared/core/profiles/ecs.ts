/**
 * Elastic Common Schema authentication events (Filebeat/Elastic Agent `system.auth`, or any shipper writing
 * ECS), one JSON document per log event.
 *
 * A logon: `event.category` is or contains `authentication` and `event.outcome` is `success` or
 * `failure` (ECS also allows `unknown`: skipped). User: `user.name`, qualified by `user.domain` when
 * present (`alice@corp`, as the Windows profile does). Source: `source.ip`; an event without one is a local
 * logon (console, `su`) and is skipped. Host: `host.name` (else `host.hostname`). Method:
 * `system.auth.ssh.method` when Filebeat's sshd parsing left it. Time: the document's `@timestamp`.
 *
 * Failed attempts: each failure event counts once, except Filebeat's (and Elastic Agent's) `system.auth` copy of
 * sshd's `Invalid user U from IP` line (`system.auth.ssh.event: "Invalid"`). Their ingest pipeline marks it
 * `event.outcome: failure` like the `Failed ... for invalid user U` line that follows for the same attempt, so
 * counting both doubled every attempt on a name that does not exist; it is skipped for the reasons the sshd
 * profile gives (README "What counts as one failed logon"). Filebeat does not parse rsyslog's `message repeated
 * N times` lines into authentication events, so ECS data cannot count those repeats: nothing to sum here.
 *
 * Insights quirks: an array is addressed by index (`event.category.0`), so the query tests
 * the first few positions as well as the scalar form; and a JSON key starting with `@` gets another `@`
 * (`@@timestamp`), so the query relies on the log event's own `@timestamp` instead.
 */
import {
  firstText,
  getPath,
  jsonLineParser,
  LIMIT_CLAUSE,
  parseTime,
  pipeline,
  rowMapper,
  SKIP,
  statsClause,
  text,
  toEvent,
  canonicalUser,
  type JsonObject,
} from './common';
import type { LineResult, Profile } from './profile';

const OUTCOMES = { success: 'success', failure: 'failure' } as const;
/** `system.auth.ssh.event` of sshd's `Invalid user` line in Filebeat's `system.auth`: a name lookup, not an attempt. */
const SSHD_NAME_LOOKUP = 'Invalid';
/** ECS events rarely carry more than three categories (`authentication`, `session`, `iam`). */
const CATEGORY_POSITIONS = 4;

export const ECS_QUERY = pipeline([
  'fields @timestamp, event.category, event.outcome, user.name, user.domain, source.ip, host.name',
  `filter event.category = "authentication" or ${Array.from({ length: CATEGORY_POSITIONS }, (_, i) => `event.category.${i} = "authentication"`).join(' or ')}`,
  'filter event.outcome = "success" or event.outcome = "failure"',
  // Filebeat's sshd `Invalid user` event is the same attempt as the `Failed` event after it (see the module comment).
  `filter not ispresent(system.auth.ssh.event) or system.auth.ssh.event != "${SSHD_NAME_LOOKUP}"`,
  // `domain` rides along so the row mapper qualifies names exactly as the line parser does.
  'fields user.name as user, user.domain as domain, source.ip as ip, event.outcome as outcome, coalesce(host.name, host.hostname) as host',
  'filter ispresent(user) and ispresent(ip)',
  statsClause(['domain']),
  LIMIT_CLAUSE,
]);

function isAuthentication(category: unknown): boolean {
  if (typeof category === 'string') return category === 'authentication';
  return Array.isArray(category) && category.includes('authentication');
}

function fromDoc(doc: JsonObject): LineResult {
  if (!isAuthentication(getPath(doc, 'event.category'))) return SKIP;
  const outcome = text(getPath(doc, 'event.outcome'));
  if (outcome !== 'success' && outcome !== 'failure') return SKIP;
  if (text(getPath(doc, 'system.auth.ssh.event')) === SSHD_NAME_LOOKUP) return SKIP;
  const ip = firstText(doc, ['source.ip']);
  if (ip === undefined) return SKIP;
  return toEvent('ecs', {
    user: firstText(doc, ['user.name']),
    domain: firstText(doc, ['user.domain']),
    ip,
    outcome,
    timestamp: parseTime(getPath(doc, '@timestamp')),
    host: firstText(doc, ['host.name', 'host.hostname']),
    method: firstText(doc, ['system.auth.ssh.method']),
  });
}

export const ecsProfile: Profile = {
  id: 'ecs',
  description:
    'Elastic Common Schema authentication events (event.category: authentication), one JSON document per line',
  query: ECS_QUERY,
  parseLine: jsonLineParser('ecs', fromDoc),
  mapRow: rowMapper({ logSource: 'ecs', outcomes: OUTCOMES, user: (row) => canonicalUser(row.user, row.domain) }),
};
