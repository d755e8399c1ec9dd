/**
 * Follow-ups (Auth.UnusualSourceIp): a later logon of a user from a suspect place (an address an unanswered alert
 * named, core/suspect.ts) reported as a follow-up of that alert rather than as a fresh alert.
 */
import { ownerText } from '../../enrich';
import { logonsAfter, suspectUntil, type Finding, type SuspectPlace } from '../../model';
import type { DetectionSettings } from '../../settings';
import { isoDate, plural } from '../detector';

/**
 * A later logon from a suspect place of the user (an address an alert was raised on, not answered: see
 * `UserBaseline.suspect`), as a follow-up of that alert: `judged` is the logon judged as usual (the place was not
 * learned, so it is as new as it was), whose score and probability it keeps. Its alert id is derived from the
 * original's (`Finding.followUpOf`), so a place in use raises one follow-up, not one per window or per day.
 */
export function followUp(judged: Finding, s: SuspectPlace, settings: Pick<DetectionSettings, 'suspectDays'>): Finding {
  const o = judged.observation;
  const owner = o.owner ?? s.owner;
  const logons = s.logons + logonsAfter(o, s.last);
  const until = suspectUntil(s, settings.suspectDays);
  const raised = new Date(s.since).toISOString().slice(0, 16).replace('T', ' ');
  const explanation =
    `Follow-up to alert ${s.alertId} (raised ${raised} UTC, not answered): ${o.user} logged on again from ` +
    `${o.sourceIp}${owner ? ` (${ownerText(owner)})` : ''} — at least ${plural(logons, 'logon')} since. ` +
    `Until the alert is answered, this address is not learned as ${o.user}'s nor as shared by the organisation; ` +
    `this is its only follow-up (later logons from it are counted: authwatch explain ${o.user}), and from ` +
    `${isoDate(until)} it is learned like any place. If these logons are the user's, answer with the benign ` +
    "command below; if they are not, mark the source malicious (this alert's id or the original's), and every " +
    'later logon from it, by anyone, alerts at high severity.';
  return {
    ...judged,
    explanation,
    followUpOf: s.alertId,
    // The follow-up's own numbers, then the judgement that scored it.
    evidence: {
      follow_up_of: s.alertId,
      original_rule: s.detectorId,
      original_logon: new Date(s.since).toISOString(),
      last_counted_logon: new Date(s.last).toISOString(),
      logons_since: logons,
      learned_from: isoDate(until),
      ...judged.evidence,
    },
  };
}
