/**
 * AWS IAM Identity Center sign-ins (and other sign-ins to AWS that follow the same flow, such as WorkSpaces smart-card
 * users): the `signin.amazonaws.com` service events CloudTrail records for the access portal, as a trail delivers them
 * to CloudWatch Logs (one JSON event per log event; an organization trail holds the management account's).
 *
 * One sign-in emits several events (AWS's "Understanding IAM Identity Center sign-in events"): a `CredentialChallenge`
 * for each factor asked for (`PASSWORD`, then `TOTP`, `WEBAUTHN`, ...), a `CredentialVerification` for each answer
 * (`serviceEventDetails.CredentialVerification` `Success` or `Failure`), and, only once every factor passed, one
 * `UserAuthentication` (`serviceEventDetails.UserAuthentication` `Success`); the portal then logs `Authenticate`
 * (`sso.amazonaws.com`) as it opens its session, and each account console opened is a `ConsoleLogin` there. What
 * counts as one logon:
 * - success: each `UserAuthentication` with `Success`, and nothing else of the flow (the challenges and the passed
 *   verifications before it, `Authenticate` and the `Federate`/`ConsoleLogin` after it are the same sign-in again);
 * - failure (README "What counts as one failed logon"): each `CredentialVerification` with `Failure` whose
 *   `additionalEventData.CredentialType` is `PASSWORD`: a password checked and rejected. A rejected second factor
 *   (`TOTP`, `WEBAUTHN`, `EMAIL_OTP`, ...) is not counted, for the reason the Okta profile gives: the password was
 *   right, so it is not a guess at it but a different signal. A sign-in that fails leaves no `UserAuthentication`.
 *   With an external identity provider (`CredentialType` `EXTERNAL_IDP`) the password is checked there: read that
 *   provider's log (the `okta` or `entra` profile) for the failures.
 *
 * User: `additionalEventData.UserName` (what AWS recommends of the names: the portal user name, for an external IdP the
 * SAML `nameID`, usually the e-mail the `okta`/`entra` profiles and a console session name carry), else
 * `userIdentity.userName` (events before AWS's 2025 format), else `userIdentity.onBehalfOf.userId` (the identity-store
 * user id, a GUID: in the current format a native-directory user's events may name nobody else; an identity alias can
 * join it to the person's name). A sign-in with a user name that does not exist names `HIDDEN_DUE_TO_SECURITY_REASONS`,
 * kept as that name as the `cloudtrail` profile does. Source: `sourceIPAddress` (AWS service names there are skipped,
 * as in `cloudtrail`). Host: `recipientAccountId` (the account the Identity Center instance is in). Method:
 * `additionalEventData.CredentialType`. Time: `eventTime`.
 *
 * Beside `cloudtrail` on the same log group, that profile leaves Identity Center's console federations to this one
 * (`cloudtrailBesideIdentityCenter`), so a sign-in is not counted twice.
 */
import { isAwsServiceSource } from './cloudtrail';
import {
  coalesceText,
  firstText,
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

/** The sign-in service's event source; the portal's own (`sso.amazonaws.com`) logs no credential check. */
export const SIGNIN_EVENT_SOURCE = 'signin.amazonaws.com';
/** The credential type of a first factor: the only rejected credential that counts as a failed logon. */
export const FIRST_FACTOR = 'PASSWORD';

/** Where the user is named, in order: the same list for the query's `coalesce` and the line parser. */
const USER_PATHS = ['additionalEventData.UserName', 'userIdentity.userName', 'userIdentity.onBehalfOf.userId'];
/** The verdict of a `UserAuthentication`, else of a `CredentialVerification`: the query's `outcome` column. */
const VERDICT_PATHS = ['serviceEventDetails.UserAuthentication', 'serviceEventDetails.CredentialVerification'];

export const IDENTITY_CENTER_QUERY = pipeline([
  'fields @timestamp, eventSource, eventName, serviceEventDetails.UserAuthentication, serviceEventDetails.CredentialVerification, additionalEventData.CredentialType',
  `filter eventSource = "${SIGNIN_EVENT_SOURCE}"`,
  `filter (eventName = "UserAuthentication" and serviceEventDetails.UserAuthentication = "Success") or (eventName = "CredentialVerification" and serviceEventDetails.CredentialVerification = "Failure" and additionalEventData.CredentialType = "${FIRST_FACTOR}")`,
  'filter sourceIPAddress != "AWS Internal" and sourceIPAddress not like /amazonaws\\.com$/',
  `fields coalesce(${USER_PATHS.join(', ')}) as user, sourceIPAddress as ip, coalesce(${VERDICT_PATHS.join(', ')}) as outcome, coalesce(recipientAccountId, userIdentity.accountId) as host`,
  'filter ispresent(user) and ispresent(ip)',
  statsClause(),
  LIMIT_CLAUSE,
]);

/** Whether a document is one of the events counted (see the module comment), exactly as the query's filters say. */
function counted(doc: JsonObject): boolean {
  if (firstText(doc, ['eventSource']) !== SIGNIN_EVENT_SOURCE) return false;
  const name = firstText(doc, ['eventName']);
  if (name === 'UserAuthentication') return firstText(doc, ['serviceEventDetails.UserAuthentication']) === 'Success';
  return (
    name === 'CredentialVerification' &&
    firstText(doc, ['serviceEventDetails.CredentialVerification']) === 'Failure' &&
    firstText(doc, ['additionalEventData.CredentialType']) === FIRST_FACTOR
  );
}

function fromDoc(doc: JsonObject): LineResult {
  if (!counted(doc)) return SKIP;
  // The verdict as the query's `outcome` column takes it (the first of the two present), so both agree on odd events.
  const verdict = coalesceText(doc, VERDICT_PATHS)?.toLowerCase();
  if (verdict !== 'success' && verdict !== 'failure') return SKIP;
  return toEvent(
    'identity-center',
    {
      user: coalesceText(doc, USER_PATHS),
      ip: coalesceText(doc, ['sourceIPAddress']),
      outcome: OUTCOMES[verdict],
      timestamp: parseTime(firstText(doc, ['eventTime'])),
      host: coalesceText(doc, ['recipientAccountId', 'userIdentity.accountId']),
      method: firstText(doc, ['additionalEventData.CredentialType']),
    },
    { skipSource: isAwsServiceSource },
  );
}

export const identityCenterProfile: Profile = {
  id: 'identity-center',
  description:
    'AWS IAM Identity Center sign-ins from CloudTrail: UserAuthentication successes, rejected passwords (CredentialVerification)',
  query: IDENTITY_CENTER_QUERY,
  parseLine: jsonLineParser('identity-center', fromDoc),
  mapRow: rowMapper({ logSource: 'identity-center', outcomes: OUTCOMES, skipSource: isAwsServiceSource }),
};
