/**
 * AWS console sign-ins: CloudTrail `ConsoleLogin` events as a trail delivers them to CloudWatch Logs
 * (one JSON event per log event).
 *
 * User, by `userIdentity.type`:
 * - `IAMUser`: `userName` (`alice`). A failed sign-in for a name that does not exist is logged as
 *   `HIDDEN_DUE_TO_SECURITY_REASONS`; it is kept (as that name) so the attempt still counts as a failure
 *   from its IP.
 * - `AssumedRole` (IAM Identity Center / SAML federation): the role SESSION name, the last part of
 *   `arn:aws:sts::<account>:assumed-role/<Role>/<session>` — for a console federation it is the person's
 *   identity at the IdP (`alice@corp.com`), the same name Okta logs, so one person keeps one baseline
 *   whichever permission set (role) they pick. The role goes into `method` (`assumed-role/<Role>`), so an
 *   alert still shows it.
 * - `FederatedUser` (GetFederationToken brokers): the name after `federated-user/`.
 * - `Root`: `root@<account id>` — every account has a root user, and one account's root is not another's.
 * Source: `sourceIPAddress`; AWS service names there (`signin.amazonaws.com`, `AWS Internal`) are not an
 * address and the event is skipped. Host: `recipientAccountId` (the account signed in to). Method:
 * `additionalEventData.MFAUsed` as `MFAUsed=Yes|No`.
 *
 * Failed attempts (README "What counts as one failed logon"): each `ConsoleLogin` event whose
 * `responseElements.ConsoleLogin` is `Failure` (with `errorMessage` `Failed authentication`, or `No username
 * found in supplied account` for a name that does not exist) is one failed sign-in; AWS writes one such event
 * per attempt. Not counted: any other event, even with an `errorCode` (`AccessDenied` on an API call is an
 * authorisation failure of someone already signed in, not a failed logon), and `ConsoleLogin` events whose
 * result is neither `Success` nor `Failure`.
 *
 * Beside the `identity-center` profile: an IAM Identity Center user signs in once at the access portal (the
 * `UserAuthentication` event that profile counts), then opens the console of one account or several, each a
 * `ConsoleLogin` of an `AssumedRole` session of a role named `AWSReservedSSO_<permission set>_<id>`: a use of that
 * sign-in, not another one. When both profiles read the same log group, `getProfile('cloudtrail', { beside:
 * ['identity-center'] })` gives `cloudtrailBesideIdentityCenter`, which leaves those federations to the portal sign-in,
 * so one person's one sign-in is counted once; alone (the default), `cloudtrail` counts them as it always has.
 */
import {
  canonicalUser,
  firstText,
  jsonLineParser,
  LIMIT_CLAUSE,
  malformed,
  parseTime,
  pipeline,
  rowMapper,
  SKIP,
  statsClause,
  toEvent,
  type JsonObject,
} from './common';
import type { LineResult, Profile } from './profile';

/**
 * The session (or federated user) name in a principal ARN, with the role when there is one. Shared by the
 * query's `parse userIdentity.arn` and the local parser. Written without bare `/` (Insights' delimiter).
 */
export const CLOUDTRAIL_SESSION_PATTERN = String.raw`:(?:assumed-role\/(?<role>[^\/]+)|federated-user)\/(?<session>[^\/]+)$`;
const SESSION = new RegExp(CLOUDTRAIL_SESSION_PATTERN);

const OUTCOMES = { success: 'success', failure: 'failure' } as const;

/** `sourceIPAddress` holds a service name, not an address, when AWS itself made the call. */
export function isAwsServiceSource(raw: string): boolean {
  const s = raw.trim().toLowerCase();
  return s === 'aws internal' || s.endsWith('.amazonaws.com');
}

/** Roles IAM Identity Center provisions for its permission sets start with this: their sessions are its federations. */
export const IDENTITY_CENTER_ROLE_PREFIX = 'AWSReservedSSO_';

function consoleLoginQuery(besideIdentityCenter: boolean): string {
  return pipeline([
    'fields @timestamp, userIdentity.type, userIdentity.userName, userIdentity.arn, sourceIPAddress, responseElements.ConsoleLogin, recipientAccountId',
    'filter eventName = "ConsoleLogin" and responseElements.ConsoleLogin like /^(Success|Failure)$/',
    'filter sourceIPAddress != "AWS Internal" and sourceIPAddress not like /amazonaws\\.com$/',
    `parse userIdentity.arn /${CLOUDTRAIL_SESSION_PATTERN}/`,
    ...(besideIdentityCenter ? [`filter not ispresent(role) or role not like /^${IDENTITY_CENTER_ROLE_PREFIX}/`] : []),
    // `type` rides along so the row mapper can build `root@<account>` (Insights has no conditional to do it here).
    'fields coalesce(session, userIdentity.userName, userIdentity.type) as user, userIdentity.type as type, sourceIPAddress as ip, responseElements.ConsoleLogin as outcome, coalesce(recipientAccountId, userIdentity.accountId) as host',
    'filter ispresent(user) and ispresent(ip)',
    statsClause(['type']),
    LIMIT_CLAUSE,
  ]);
}

export const CLOUDTRAIL_QUERY = consoleLoginQuery(false);

/** Canonical user of a principal (see the module comment), or undefined when the event names none. */
function principalName(
  type: string | undefined,
  userName: string | undefined,
  arn: string | undefined,
  account: string | undefined,
): { user?: string; role?: string } {
  if (type === 'Root') return { user: account ? `root@${account.trim().toLowerCase()}` : 'root' };
  const m = arn ? SESSION.exec(arn) : null;
  if (m?.groups?.session)
    return { user: canonicalUser(m.groups.session), ...(m.groups.role ? { role: m.groups.role } : {}) };
  return { user: canonicalUser(userName) };
}

function fromDoc(doc: JsonObject, besideIdentityCenter: boolean): LineResult {
  if (firstText(doc, ['eventName']) !== 'ConsoleLogin') return SKIP;
  const verdict = firstText(doc, ['responseElements.ConsoleLogin'])?.toLowerCase();
  const outcome = verdict === 'success' || verdict === 'failure' ? OUTCOMES[verdict] : undefined;
  if (!outcome) return SKIP;
  const account = firstText(doc, ['recipientAccountId', 'userIdentity.accountId']);
  const type = firstText(doc, ['userIdentity.type']);
  const { user, role } = principalName(
    type,
    firstText(doc, ['userIdentity.userName']),
    firstText(doc, ['userIdentity.arn']),
    account,
  );
  if (!user) return malformed('cloudtrail ConsoleLogin without a user name');
  if (besideIdentityCenter && role?.startsWith(IDENTITY_CENTER_ROLE_PREFIX)) return SKIP;
  const mfa = firstText(doc, ['additionalEventData.MFAUsed']);
  const method = [role ? `assumed-role/${role}` : undefined, mfa ? `MFAUsed=${mfa}` : undefined]
    .filter(Boolean)
    .join(' ');
  return toEvent(
    'cloudtrail',
    {
      user,
      canonical: true,
      ip: firstText(doc, ['sourceIPAddress']),
      outcome,
      timestamp: parseTime(firstText(doc, ['eventTime'])),
      host: account,
      method,
    },
    { skipSource: isAwsServiceSource },
  );
}

function consoleLoginProfile(besideIdentityCenter: boolean): Profile {
  return {
    id: 'cloudtrail',
    description: besideIdentityCenter
      ? 'AWS console sign-ins: CloudTrail ConsoleLogin events, leaving IAM Identity Center federations to the identity-center profile'
      : 'AWS console sign-ins: CloudTrail ConsoleLogin events (IAM users, assumed-role sessions, root)',
    query: consoleLoginQuery(besideIdentityCenter),
    parseLine: jsonLineParser('cloudtrail', (doc) => fromDoc(doc, besideIdentityCenter)),
    mapRow: rowMapper({
      logSource: 'cloudtrail',
      outcomes: OUTCOMES,
      skipSource: isAwsServiceSource,
      user: (row) =>
        row.type === 'Root' ? principalName('Root', undefined, undefined, row.host).user : canonicalUser(row.user),
    }),
  };
}

export const cloudtrailProfile: Profile = consoleLoginProfile(false);

/** `cloudtrail` for a log group the `identity-center` profile reads too (see the module comment). */
export const cloudtrailBesideIdentityCenter: Profile = consoleLoginProfile(true);
