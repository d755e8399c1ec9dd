/**
 * Auth.HostileSource — a successful logon from a source an analyst marked malicious (`authwatch malicious
 * <alert-id>`: the alert's address, its /24 or /48, or its network owner's AS). Not a port of an Elastic job: the
 * "threat intelligence match" of SIEMs, with the organisation's own analysts as the intelligence. The attacker who
 * got in once as one user (credential stuffing, a stolen password) rarely stops at one account; each later logon
 * from the same source, by any user, is the same intruder until someone says otherwise.
 *
 * No model and no baseline: the mark decides, from its time on (a mark judges only logons after it, so the judged
 * alert's own logon is not raised again). One alert per user, address and 15-minute bucket, like the
 * unusual-source-IP alerts. The allowlists do not silence it (`overridesAllowlists`): an allowed user, range, AS
 * or country says what is normal in general, the mark says this source is hostile, and the analyst who made it
 * takes it back with `unmark` (README "Marking a source malicious").
 */
import { ownerText } from '../../enrich';
import { scoreFromProbability } from '../../scoring';
import {
  USER_HISTORY_FIELDS,
  VALID_ACCOUNTS_MITRE,
  isoDate,
  type DetectorInput,
  type LogonDetector,
} from '../detector';
import type { Finding, HostileEntry, NetworkOwner } from '../../model';

/**
 * The probability a hostile-source finding carries: not estimated (a mark is an analyst's word, not a rarity), set
 * so that its score is the scale's top (100) and it always clears the default threshold.
 */
export const MARKED_PROBABILITY = 1e-4;

/** `the address 203.0.113.7`, `the range 203.0.113.0/24 (which holds 203.0.113.9)`, `AS64496 EXAMPLE (...)`. */
function markedSource(mark: HostileEntry, ip: string, owner: NetworkOwner | undefined): string {
  if (mark.kind === 'ip') return ip;
  if (mark.kind === 'cidr') return `the range ${mark.value} (which holds ${ip})`;
  const named = owner && String(owner.asn) === mark.value ? ownerText(owner) : `AS${mark.value}`;
  return `the network ${named} (which announces ${ip})`;
}

/** `203.0.113.7`, `203.0.113.0/24`, `AS64496`: the mark's source as the CLI takes it. */
export function markText(mark: Pick<HostileEntry, 'kind' | 'value'>): string {
  return mark.kind === 'asn' ? `AS${mark.value}` : mark.value;
}

/** `2026-12-01 08:03 UTC`. */
function minuteText(t: number): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export const hostileSource: LogonDetector<'Auth.HostileSource'> = {
  id: 'Auth.HostileSource',
  name: 'Logon from a source marked malicious',
  shortLabel: 'Hostile source',
  columnLabel: 'hostile',
  defaultThreshold: 75,
  description:
    "A user logged on successfully from an address, range or network (AS) that an analyst marked malicious after an earlier alert. Whoever used that source before is likely using it again, with this user's credentials.",
  // High, Elastic's risk score for it (73): not a rarity that may be benign but an analyst's judgement that the
  // source is hostile, and a successful logon from it, so a credential is in hostile hands now. Not critical (99):
  // the mark may be wider than the attacker (a subnet, an AS), and the analyst's judgement may have been wrong.
  severity: 'high',
  riskScore: 73,
  references: ['https://attack.mitre.org/techniques/T1078/'],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Read the marked alert (show <its id>, in the evidence): what made the source hostile, and which account it used then.',
    "Treat this user's credential as compromised: end the sessions, reset the password and keys, revoke tokens.",
    'Review what the session did on the host(s) named in the alert: commands, files, new keys, accounts or scheduled tasks.',
    'Look for every other account that logged on or failed from the source (the same campaign), and block it at the edge.',
    'If the mark was too wide (a shared egress, a carrier AS the user is on), narrow it: unmark, then mark the address.',
  ],
  falsePositives: [
    "A mark on a shared egress (a VPN, a carrier's NAT, a cloud provider's AS) that legitimate users also come from.",
    'A mark made in error, or an address reassigned since (dynamic addresses change hands within days).',
  ],
  groupBy: 'user-ip',
  oneAlertPerUser: false,
  overridesAllowlists: true,
  silence({ sourceIp, evidence }, cmd) {
    const by = typeof evidence?.marked_by_alert === 'string' ? evidence.marked_by_alert : undefined;
    const source = typeof evidence?.marked_source === 'string' ? evidence.marked_source : sourceIp;
    return [
      `The mark was wrong (the source is not hostile): ${cmd.unmark(by ?? source)}`,
      'The allowlists do not silence this alert (a mark outranks them): only taking the mark back does.',
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    marked_source: { label: 'Marked malicious', format: 'text' },
    marked_kind: { label: 'Marked as', format: 'text' },
    marked_at: { label: 'Marked at', format: 'time' },
    marked_by_alert: { label: 'Marked from the alert', format: 'text' },
    marked_note: { label: "Analyst's note", format: 'text' },
    network_owner: { label: 'Network owner', format: 'text' },
    logon_at: { label: 'Logon at', format: 'time' },
    user_first_seen: USER_HISTORY_FIELDS.user_first_seen,
    days_active: USER_HISTORY_FIELDS.days_active,
  },

  evaluate({ observation: o, baseline: b, hostile }: DetectorInput): Finding | null {
    if (o.outcome !== 'success' || !hostile) return null;
    // Any logon of the observation after the mark: the latest one decides, and is the one named when the
    // observation began before the mark.
    const mark = hostile.match(o.sourceIp, o.owner, o.lastSeen);
    if (!mark) return null;
    const at = o.firstSeen >= mark.addedAt ? o.firstSeen : o.lastSeen;
    const kind = mark.kind === 'ip' ? 'address' : mark.kind === 'cidr' ? 'range' : 'network (AS)';
    const note = mark.note ? `: '${mark.note}'` : '';
    const explanation =
      `${markedSource(mark, o.sourceIp, o.owner)} was marked malicious by an analyst on ${isoDate(mark.addedAt)} ` +
      `(alert ${mark.alertId}${note}); ${o.user} logged on from it at ${minuteText(at)}` +
      (o.count > 1 ? ` (${o.count} logons in this window)` : '') +
      '. A mark outranks the allowlists.';
    const p = MARKED_PROBABILITY;
    return {
      detectorId: this.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence: {
        marked_source: markText(mark),
        marked_kind: kind,
        marked_at: new Date(mark.addedAt).toISOString(),
        marked_by_alert: mark.alertId,
        ...(mark.note ? { marked_note: mark.note } : {}),
        network_owner: o.owner ? ownerText(o.owner) : '',
        logon_at: new Date(at).toISOString(),
        ...(b ? { user_first_seen: isoDate(b.activity.first), days_active: b.activity.days } : {}),
      },
    };
  },
};
