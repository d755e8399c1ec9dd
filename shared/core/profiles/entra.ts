/**
 * Microsoft Entra ID sign-ins, as the tenant's diagnostic settings export them (Microsoft's "Interpret the Microsoft
 * Entra sign-in logs schema in Azure Monitor"): one JSON record per log event, with `time`, `category`, `resultType`
 * (`"0"` for success, else the error code), `callerIpAddress` and the sign-in under `properties`
 * (`userPrincipalName`, `ipAddress`, `status.errorCode`, `isInteractive`, `riskLevelDuringSignIn`, `riskState`, ...).
 *
 * Which records are logons: category `SignInLogs` only, the interactive sign-ins, where a person typed a credential
 * (or was asked to). `NonInteractiveUserSignInLogs` are skipped: they are a client renewing a token for a session that
 * began with an interactive sign-in, silently and constantly (a tenant logs many times more of them), from wherever the
 * device happens to be; counted as logons they would teach every user's baseline each network a laptop or phone wakes
 * up on and bury the rare-user and unusual-address rules in token refreshes. Also skipped: a `SignInLogs` record whose
 * `properties.isInteractive` is `false`, and the service principal and managed identity categories (not people).
 * A stolen refresh token replayed from elsewhere shows only in the non-interactive log: that is Entra ID Protection's
 * to catch (its verdict reaches an alert through the signals below when the user also signs in interactively).
 *
 * Outcome, by `resultType` (else `properties.status.errorCode`):
 * - `0`: success.
 * - failure, one failed sign-in each (README "What counts as one failed logon"): the errors that say the credential or
 *   the account named was refused: 50126 (wrong user name or password), 50034 (no such user), 50053 (account locked,
 *   or the sign-in came from an address Entra blocks), 50055 (password expired), 50056 (no or invalid password
 *   stored), 50057 (account disabled).
 * - anything else is skipped: interrupts within a sign-in that continues (50074/50076 MFA required, 50140 "keep me
 *   signed in", 50125 password reset, ...), a rejected second factor (500121: the password was right, the Okta
 *   profile's reason), Conditional Access refusals (53003: a policy's verdict after the credential was accepted) and
 *   codes not listed here. An error code authwatch does not know is not guessed to be a failed password.
 *
 * User: `properties.userPrincipalName` (lower-cased; an unknown user's is what was typed). Source:
 * `properties.ipAddress`, else `callerIpAddress`. Time: `time`, else `properties.createdDateTime`. Method:
 * `properties.clientAppUsed` (`Browser`, `Exchange ActiveSync`, `IMAP4`: legacy protocols stand out). Host: none
 * (Entra is the identity provider); rows aggregate per (user, ip, outcome).
 *
 * Signals: `properties.riskLevelDuringSignIn` and `properties.riskState` ride along (the query groups by them; see
 * `Signals`), so an alert on an Entra logon says what ID Protection thought of it.
 */
import {
  coalesceText,
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
  type JsonObject,
} from './common';
import type { LineResult, Profile } from './profile';

/** The diagnostic-settings category of interactive user sign-ins. */
export const INTERACTIVE_CATEGORY = 'SignInLogs';
/** Error codes that are one failed sign-in (see the module comment). */
export const ENTRA_FAILURE_CODES = ['50126', '50034', '50053', '50055', '50056', '50057'] as const;

const OUTCOMES: Readonly<Record<string, 'success' | 'failure'>> = Object.freeze({
  '0': 'success',
  ...Object.fromEntries(ENTRA_FAILURE_CODES.map((c) => [c, 'failure'] as const)),
});
/** The same vocabulary as a Logs Insights regex over the `outcome` column. */
const COUNTED_CODES = `/^(0|${ENTRA_FAILURE_CODES.join('|')})$/`;

export const ENTRA_QUERY = pipeline([
  'fields @timestamp, category, resultType, properties.userPrincipalName, properties.ipAddress, properties.isInteractive',
  `filter category = "${INTERACTIVE_CATEGORY}"`,
  // Spelled out for records without the field (Insights' comparisons with an absent field are false, `not like` too).
  'filter not ispresent(properties.isInteractive) or properties.isInteractive not like /^(false|False)$/',
  'fields properties.userPrincipalName as user, coalesce(properties.ipAddress, callerIpAddress) as ip, coalesce(resultType, properties.status.errorCode) as outcome, properties.riskLevelDuringSignIn as riskLevel, properties.riskState as riskState',
  `filter outcome like ${COUNTED_CODES}`,
  'filter ispresent(user) and ispresent(ip)',
  // Entra names no host. The risk columns split a (user, ip, outcome) by verdict; the merge keeps the worst.
  statsClause(['riskLevel', 'riskState'], { host: false }),
  LIMIT_CLAUSE,
]);

/** `isInteractive` written as `false` (a JSON boolean, or the string some exporters write). */
function saysNonInteractive(v: unknown): boolean {
  const t = text(v);
  return t === 'false' || t === 'False';
}

function fromDoc(doc: JsonObject): LineResult {
  if (firstText(doc, ['category']) !== INTERACTIVE_CATEGORY) return SKIP;
  if (saysNonInteractive(getPath(doc, 'properties.isInteractive'))) return SKIP;
  // The query's `coalesce(resultType, properties.status.errorCode)`: the first present, even when it is not counted.
  const code = coalesceText(doc, ['resultType', 'properties.status.errorCode']);
  const outcome = code === undefined || !Object.hasOwn(OUTCOMES, code) ? undefined : OUTCOMES[code];
  if (!outcome) return SKIP;
  return toEvent('entra', {
    user: coalesceText(doc, ['properties.userPrincipalName']),
    ip: coalesceText(doc, ['properties.ipAddress', 'callerIpAddress']),
    outcome,
    timestamp: parseTime(firstText(doc, ['time', 'properties.createdDateTime'])),
    method: firstText(doc, ['properties.clientAppUsed']),
    signals: {
      riskLevelDuringSignIn: firstText(doc, ['properties.riskLevelDuringSignIn']),
      riskState: firstText(doc, ['properties.riskState']),
    },
  });
}

export const entraProfile: Profile = {
  id: 'entra',
  description:
    'Microsoft Entra ID interactive sign-ins (SignInLogs exported by diagnostic settings), with ID Protection risk',
  query: ENTRA_QUERY,
  parseLine: jsonLineParser('entra', fromDoc),
  mapRow: rowMapper({
    logSource: 'entra',
    outcomes: OUTCOMES,
    signals: { riskLevel: 'riskLevelDuringSignIn', riskState: 'riskState' },
  }),
};
