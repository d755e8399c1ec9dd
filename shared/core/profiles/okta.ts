/**
 * Okta sign-ins: System Log events with `eventType: user.session.start`, one JSON event per log event,
 * either bare (System Log API / a log shipper) or in the EventBridge envelope Okta's Log Streaming to AWS
 * delivers (`{"detail-type": "SystemLog", "detail": {...event...}}`), which is how Okta logs usually reach
 * CloudWatch Logs.
 *
 * User: `actor.alternateId` (the login, usually an e-mail: `alice@corp.com`, the same name an IAM Identity
 * Center session carries in CloudTrail). Source: `client.ipAddress`, else the first hop of
 * `request.ipChain`. Outcome: `outcome.result` `SUCCESS` / `FAILURE`; other results (`SKIPPED`, `ALLOW`,
 * `DENY`, `UNKNOWN`) are not a completed or failed sign-in and are skipped. Time: `published`. Method:
 * `authenticationContext.credentialType`, else `authenticationContext.authenticationProvider`.
 * Host: none (Okta is the identity provider, not a host); rows aggregate per (user, ip, outcome).
 *
 * Failed attempts (README "What counts as one failed logon"): each `user.session.start` with outcome `FAILURE`
 * (Okta's "Sign-in failed": wrong password, unknown user, locked or suspended account) is one failed attempt.
 * Not counted: `user.authentication.auth_via_mfa` with `FAILURE` (Okta's "Failed <factor> factor attempt"): a
 * factor rejected within a sign-in, usually after the password was accepted, so it is not a failed guess at the
 * password but a different signal (push fatigue, a stolen password) that a detector should read as such, not
 * mixed into the failed sign-ins a spray or brute-force count is made of; `user.account.lock` (Okta's verdict on
 * failures already logged one by one), and every other event type (SSO to an app, token grants).
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
  toEvent,
  type JsonObject,
} from './common';
import type { LineResult, Profile } from './profile';

const OUTCOMES = { success: 'success', failure: 'failure' } as const;

/** Each field, bare and inside the EventBridge envelope. */
function both(path: string): string {
  return `coalesce(detail.${path}, ${path})`;
}

export const OKTA_QUERY = pipeline([
  'fields @timestamp',
  `filter ${both('eventType')} = "user.session.start"`,
  `fields ${both('actor.alternateId')} as user, coalesce(detail.client.ipAddress, client.ipAddress, detail.request.ipChain.0.ip, request.ipChain.0.ip) as ip, ${both('outcome.result')} as outcome`,
  'filter (outcome = "SUCCESS" or outcome = "FAILURE") and ispresent(user) and ispresent(ip)',
  // Okta events name no host, and grouping by a field no event has is not something to rely on in Insights.
  statsClause([], { host: false }),
  LIMIT_CLAUSE,
]);

function unwrap(doc: JsonObject): unknown {
  const detail = getPath(doc, 'detail');
  return typeof detail === 'object' && detail !== null && !Array.isArray(detail) ? detail : doc;
}

function fromDoc(doc: JsonObject): LineResult {
  const event = unwrap(doc);
  if (firstText(event, ['eventType']) !== 'user.session.start') return SKIP;
  const result = firstText(event, ['outcome.result'])?.toLowerCase();
  if (result !== 'success' && result !== 'failure') return SKIP;
  return toEvent('okta', {
    user: firstText(event, ['actor.alternateId']),
    ip: firstText(event, ['client.ipAddress', 'request.ipChain.0.ip']),
    outcome: OUTCOMES[result],
    timestamp: parseTime(firstText(event, ['published'])),
    method: firstText(event, ['authenticationContext.credentialType', 'authenticationContext.authenticationProvider']),
  });
}

export const oktaProfile: Profile = {
  id: 'okta',
  description: 'Okta System Log sign-ins (user.session.start), bare or in the EventBridge envelope',
  query: OKTA_QUERY,
  parseLine: jsonLineParser('okta', fromDoc),
  mapRow: rowMapper({ logSource: 'okta', outcomes: OUTCOMES }),
};
