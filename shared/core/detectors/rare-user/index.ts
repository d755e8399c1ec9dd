/**
 * Auth.RareUser — port of Elastic's "Rare User Logon" (ML job `auth_rare_user`: `rare` by user.name).
 *
 * A user name that is new, or long dormant, logs on successfully. How surprising that is depends on
 * the population: in an organisation where a new name appears in one of ten thousand user-buckets, a new
 * name is alarming; in a consumer service where sign-ups are constant it is not. We estimate the rate of
 * new names (and, separately, of returns from dormancy) among active user-buckets after the learning
 * period, and score the observation against it. A user whose own habit is to log on rarely (a monthly
 * job, a quarterly auditor) is not "dormant" when they come back on their usual rhythm.
 */
import { bucketOf, type Finding } from '../../model';
import { dormancy } from '../../habits';
import { decayPopulationTo } from '../../population';
import { noveltyProbability, scoreFromProbability } from '../../scoring';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  USER_HISTORY_FIELDS,
  VALID_ACCOUNTS_MITRE,
  isoDate,
  plural,
  type LogonDetector,
  type DetectorInput,
} from '../detector';

export const rareUser: LogonDetector<'Auth.RareUser'> = {
  id: 'Auth.RareUser',
  name: 'Rare User Logon',
  shortLabel: 'Rare user',
  columnLabel: 'rare user',
  defaultThreshold: 75,
  description:
    "A user name that has never logged on before, or has not for a long time, logged on successfully. New accounts can be created for persistence; a departed user's account coming back to life can mean its credentials are in someone else's hands.",
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_rare_user',
  references: [
    'https://www.elastic.co/guide/en/security/current/rare-user-logon.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Is this a known person or service? Check the identity provider or directory: who created the account, when, and who approved it.',
    'For a returning account: was the user expected back (leave, contractor renewal)? If they left the organisation, treat as compromised.',
    'Look up the source address: internal host or internet; owner, geolocation, reputation.',
    'Review what the session did on the host(s) named in the alert: privileges used, new keys, scheduled tasks, other accounts created.',
    'Check failed logons for this name before the success (guessing, spraying).',
    'If unexpected: disable the account, end its sessions, and look for how it was created or re-enabled.',
  ],
  falsePositives: [
    'New hires, contractors, and newly created service accounts in their first days.',
    'Users back from long leave; accounts used on a quarterly or yearly schedule.',
  ],
  groupBy: 'user',
  silence({ user }, cmd) {
    return [
      'A legitimate account (new hire, returning user): nothing to do, it is now known.',
      `Never alert on it (service account): ${cmd.allowUser(user)}`,
      cmd.threshold(),
    ];
  },
  oneAlertPerUser: true,
  evidenceFields: {
    kind: { label: 'Kind', format: 'text' },
    dormant_days: { label: 'Days of silence', format: 'days' },
    usual_gap_days: { label: 'Usual days between logons', format: 'days' },
    ...USER_HISTORY_FIELDS,
    known_users: { label: 'Known users', format: 'count' },
    population_new_user_rate: { label: 'New names among active user-periods', format: 'percent' },
    population_dormant_return_rate: { label: 'Returns after silence among active user-periods', format: 'percent' },
    population_user_periods: { label: 'Active user-periods observed', format: 'count' },
  },

  evaluate({ observation: o, baseline: b, population, window, settings }: DetectorInput): Finding | null {
    if (o.outcome !== 'success') return null;
    // Most observations are known, active users: settle those before any population arithmetic.
    const d = b
      ? dormancy(b.activity.last, b.activity.first, b.activity.days, o.firstSeen, settings.dormantDays)
      : undefined;
    if (d && !d.dormant) return null;
    const pop = decayPopulationTo(population, bucketOf(window.end));
    let p: number;
    let explanation: string;
    let evidence: Finding['evidence'];
    if (!b) {
      p = noveltyProbability(pop.newUsers, pop.userBuckets);
      explanation =
        `${o.user} logged on for the first time ever seen (from ${o.sourceIp}). ` +
        `Among ${plural(pop.knownUsers, 'known user')}, new user names appear in ${rate(pop.newUsers, pop.userBuckets)} of active user-periods. ` +
        `Probability ${p.toPrecision(2)}.`;
      evidence = {
        kind: 'new',
        known_users: pop.knownUsers,
        population_new_user_rate: ratio(pop.newUsers, pop.userBuckets),
        population_user_periods: Math.round(pop.userBuckets),
      };
    } else {
      if (!d) return null;
      p = noveltyProbability(pop.dormantReturns, pop.userBuckets);
      explanation =
        `${o.user} logged on (from ${o.sourceIp}) after ${plural(Math.floor(d.gapDays), 'day')} of silence: last seen ${isoDate(b.activity.last)}, ` +
        `${plural(b.activity.days, 'active day')} since first seen ${isoDate(b.activity.first)}` +
        (d.usualGapDays > 0 ? `, usually ${d.usualGapDays.toFixed(1)} days between logons. ` : '. ') +
        `Returns after ${settings.dormantDays}+ days happen in ${rate(pop.dormantReturns, pop.userBuckets)} of active user-periods. ` +
        `Probability ${p.toPrecision(2)}.`;
      evidence = {
        kind: 'dormant',
        dormant_days: Math.floor(d.gapDays),
        usual_gap_days: Math.round(d.usualGapDays * 10) / 10,
        user_first_seen: isoDate(b.activity.first),
        user_last_seen: new Date(b.activity.last).toISOString(),
        days_active: b.activity.days,
        known_ips: Object.keys(b.ips).length,
        known_users: pop.knownUsers,
        population_dormant_return_rate: ratio(pop.dormantReturns, pop.userBuckets),
      };
    }
    if (p > settings.maxProbability) return null;
    return {
      detectorId: this.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence,
    };
  },
};

function ratio(k: number, n: number): number {
  return n > 0 ? Math.round((k / n) * 1e6) / 1e6 : 0;
}

function rate(k: number, n: number): string {
  if (n <= 0) return 'none so far';
  const r = k / n;
  if (r === 0) return `none of ${Math.round(n).toLocaleString('en-US')}`;
  return `1 in ${Math.max(1, Math.round(1 / r)).toLocaleString('en-US')}`;
}
