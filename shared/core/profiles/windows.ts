/**
 * Windows Security log logons, event 4624 (success) and 4625 (failure), shipped as JSON, one event per log
 * event, in either of two shapes:
 * - flat (NXLog `to_json`, PowerShell `ConvertTo-Json` of flattened properties, most SIEM forwarders):
 *   `EventID`, `TargetUserName`, `TargetDomainName`, `IpAddress`, `LogonType`, `Computer`/`Hostname`,
 *   and `@timestamp`, `TimeCreated` (ISO, `{ "SystemTime": ... }` or PowerShell 5's `/Date(ms)/`) or
 *   NXLog's `EventTime` (no zone: read as UTC);
 * - Winlogbeat: `winlog.event_id`, `winlog.event_data.{TargetUserName,TargetDomainName,IpAddress,LogonType}`,
 *   `winlog.computer_name`, `@timestamp`.
 *
 * User: `TargetUserName` qualified by `TargetDomainName` as `user@domain` (`alice@corp`; a local account
 * is `administrator@ws01`; see common.ts). Skipped, not malformed: machine accounts (`WS01$`),
 * `ANONYMOUS LOGON` and the other `NT AUTHORITY` identities, and local sources (`-`, `::1`,
 * `127.0.0.1`, none): they are not a person logging on from somewhere. Host: the computer logged on to
 * (`WorkstationName` is the CLIENT's name, so it is not used as the host). Method: the logon type,
 * `10 RemoteInteractive`.
 *
 * Failed attempts (README "What counts as one failed logon"): each 4625 ("An account failed to log on", written by
 * the machine the logon was attempted on) is one failed attempt; each 4624 one success. Not counted:
 * - 4771 (Kerberos pre-authentication failed) and 4776 (NTLM credential validation, success or failure): the
 *   domain controller's account-logon events for the credential check behind a logon. A network logon that
 *   fails at a member server is written there as a 4625 too, from the same client address, so counting the DC's
 *   event as well doubled the attempt whenever both machines' Security logs are shipped, which is the usual
 *   setup. 4776 also names no client address at all (only a `Workstation` name), so it could not be placed.
 *   What this leaves out: a Kerberos password spray aimed at the DC alone (pre-authentication requests that no
 *   member server sees) shows only as 4771 events, which this profile does not read.
 * - 4625 with no network source (`IpAddress` `-` or loopback: a console or service logon) and the non-person
 *   accounts above: skipped, like their 4624s.
 */
import {
  canonicalUser,
  firstText,
  getPath,
  isMachineAccount,
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

const OUTCOMES = { '4624': 'success', '4625': 'failure' } as const;

/** Logon types (Microsoft's 4624 documentation), so the method reads `10 RemoteInteractive`, not just `10`. */
export const LOGON_TYPES: Readonly<Record<string, string>> = {
  '0': 'System',
  '2': 'Interactive',
  '3': 'Network',
  '4': 'Batch',
  '5': 'Service',
  '7': 'Unlock',
  '8': 'NetworkCleartext',
  '9': 'NewCredentials',
  '10': 'RemoteInteractive',
  '11': 'CachedInteractive',
  '12': 'CachedRemoteInteractive',
  '13': 'CachedUnlock',
};

/** Built-in identities of the `NT AUTHORITY` domain (SYSTEM, LOCAL SERVICE, ANONYMOUS LOGON, ...): not people. */
const NT_AUTHORITY = '@nt authority';

/** Canonical users that are never a person's logon: machine accounts and built-in identities. */
export function isWindowsNonPerson(user: string): boolean {
  return isMachineAccount(user) || user.endsWith(NT_AUTHORITY) || user === 'anonymous logon';
}

const F = {
  eventId: ['winlog.event_id', 'EventID', 'EventId'],
  user: ['winlog.event_data.TargetUserName', 'TargetUserName'],
  domain: ['winlog.event_data.TargetDomainName', 'TargetDomainName'],
  ip: ['winlog.event_data.IpAddress', 'IpAddress'],
  logonType: ['winlog.event_data.LogonType', 'LogonType'],
  host: ['winlog.computer_name', 'Computer', 'Hostname', 'ComputerName', 'host.name'],
} as const;

export const WINDOWS_QUERY = pipeline([
  'fields @timestamp',
  `fields coalesce(${F.eventId.join(', ')}) as eventId`,
  // Winlogbeat 7+ writes the id as a string, NXLog and older Winlogbeat as a number: test both.
  'filter eventId = 4624 or eventId = 4625 or eventId = "4624" or eventId = "4625"',
  `fields coalesce(${F.user.join(', ')}) as user, coalesce(${F.domain.join(', ')}) as domain, coalesce(${F.ip.join(', ')}) as ip, eventId as outcome, coalesce(${F.host.join(', ')}) as host`,
  // Machine accounts, anonymous and local logons are most of a Security log; drop them before aggregating.
  'filter ispresent(user) and ispresent(ip) and ip != "-" and user not like /\\$$/ and user != "ANONYMOUS LOGON"',
  // `domain` rides along so the row mapper qualifies names exactly as the line parser does.
  statsClause(['domain']),
  LIMIT_CLAUSE,
]);

function timeOf(doc: JsonObject): number | undefined {
  for (const path of ['@timestamp', 'TimeCreated.SystemTime', 'TimeCreated', 'EventTime', 'TimeGenerated']) {
    const v = getPath(doc, path);
    if (v !== undefined && v !== null && typeof v !== 'object') return parseTime(v);
  }
  return undefined;
}

function fromDoc(doc: JsonObject): LineResult {
  const eventId = firstText(doc, F.eventId)?.trim();
  if (eventId !== '4624' && eventId !== '4625') return SKIP;
  const logonType = firstText(doc, F.logonType)?.trim();
  const method = logonType
    ? LOGON_TYPES[logonType]
      ? `${logonType} ${LOGON_TYPES[logonType]}`
      : logonType
    : undefined;
  return toEvent(
    'windows',
    {
      user: firstText(doc, F.user),
      domain: firstText(doc, F.domain),
      // Windows always writes IpAddress, `-` when there is no network source; a missing field means the same.
      ip: firstText(doc, F.ip) ?? '-',
      outcome: OUTCOMES[eventId],
      timestamp: timeOf(doc),
      host: firstText(doc, F.host),
      method,
    },
    { skipUser: isWindowsNonPerson },
  );
}

export const windowsProfile: Profile = {
  id: 'windows',
  description: 'Windows Security logons 4624/4625 as JSON (flat, e.g. NXLog, or Winlogbeat)',
  query: WINDOWS_QUERY,
  parseLine: jsonLineParser('windows', fromDoc),
  mapRow: rowMapper({
    logSource: 'windows',
    outcomes: OUTCOMES,
    skipUser: isWindowsNonPerson,
    user: (row) => canonicalUser(row.user, row.domain),
  }),
};
