/**
 * Auth.SourceLogonSpike — port of Elastic's "Spike in Successful Logon Events from a Source IP" (ML job
 * `auth_high_count_logon_events_for_a_source_ip`: `high_non_zero_count` partitioned by source.ip).
 *
 * One address logged on successfully far more often in a 15-minute period than it usually does at that hour of the
 * week, or, for an address without a baseline of its own, than addresses here usually do: one
 * host working through stolen credentials (40 accounts in a quarter of an hour from an address that usually logs
 * on twice), a compromised jump host, automation gone wrong. The office NAT that carries 300 logons every weekday
 * morning has learned that; the same address at 300 on a Sunday night has not. One alert per address per UTC day
 * (`groupBy: 'source'`), listing the accounts with their logons. State: a bounded top-K of busy addresses plus a
 * pooled distribution for the rest (state.ts); model: shared/core/volume/seasonal.ts.
 */
import { hostCidr } from '../../net';
import { BUCKET_MS, DAY_MS, type CampaignUser, type Finding, type LogonObservation } from '../../model';
import { scoreFromProbability } from '../../scoring';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  VALID_ACCOUNTS_MITRE,
  plural,
  populationStateOf,
  type WindowDetector,
  type WindowDetectorInput,
} from '../detector';
import { periodObservation, periodText, rangeText, similarText, topEvidence, topText } from '../../volume/org';
import { countIn, periodsToJudge } from '../../volume/periods';
import { judge, MIN_SPIKE_COUNT, slotOf } from '../../volume/seasonal';
import { POOL_MIN_HISTORY_BUCKETS, SOURCE_MIN_HISTORY_BUCKETS, sourceLogonSpikeState, sourceVolumeIn } from './state';

/** Fewest successful logons from one address in a period that can be a spike. */
export const MIN_SOURCE_LOGONS = MIN_SPIKE_COUNT;
/** Days the slice learns before anything is judged (the pool must know what addresses usually do). */
export const POOL_MIN_HISTORY_DAYS = (POOL_MIN_HISTORY_BUCKETS * BUCKET_MS) / DAY_MS;
/** Days an address is tracked before it is judged against its own series rather than the pool. */
export const SOURCE_MIN_HISTORY_DAYS = (SOURCE_MIN_HISTORY_BUCKETS * BUCKET_MS) / DAY_MS;
/** Most accounts a finding lists (most logons first). */
export const MAX_USERS_LISTED = 50;

/** The accounts an address used in the window, most successful logons first, with its failures for each. */
function usersOf(observations: readonly LogonObservation[], ip: string, known: (u: string) => boolean): CampaignUser[] {
  const by = new Map<string, { failures: number; successes: number }>();
  for (const o of observations) {
    if (o.sourceIp !== ip) continue;
    const u = by.get(o.user) ?? { failures: 0, successes: 0 };
    if (o.outcome === 'success') u.successes += o.count;
    else u.failures += o.count;
    by.set(o.user, u);
  }
  return [...by.entries()]
    .sort((a, b) => b[1].successes - a[1].successes || b[1].failures - a[1].failures || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_USERS_LISTED)
    .map(([name, u]) => ({ name, failures: u.failures, successes: u.successes, known: known(name) }));
}

export const sourceLogonSpike: WindowDetector<'Auth.SourceLogonSpike'> = {
  id: 'Auth.SourceLogonSpike',
  name: 'Spike in Successful Logon Events from a Source IP',
  shortLabel: 'Source logon spike',
  columnLabel: 'src spike',
  defaultThreshold: 75,
  description:
    'One address logged on successfully far more often in a 15-minute period than it, or an address here, usually does at that hour. One host logging on as many accounts can be stolen credentials worked through by a script or a compromised jump host.',
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_high_count_logon_events_for_a_source_ip',
  references: [
    'https://www.elastic.co/guide/en/security/current/spike-in-successful-logon-events-from-a-source-ip.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Identify the address: yours (a NAT, a VPN pool, a jump host, a CI runner) or the internet’s? The alert names its network owner when known.',
    'Read the accounts it logged on as: many accounts from one address that usually serves few is the signal; are they real people, and did they each expect a logon now?',
    'Check the failures listed beside each account: failures before the successes suggest guessing that succeeded.',
    'Review what the sessions did on the hosts named in the alert.',
    'If the logons are not explained: block the address, end the sessions and reset the accounts’ credentials.',
  ],
  falsePositives: [
    'A new office, VPN egress or NAT that has not yet learned its usual volume (a week as its own address).',
    'A monitoring check, backup or deployment tool logging on to many hosts from one address.',
    'Everyone reconnecting through one egress after an outage.',
  ],
  groupBy: 'source',
  oneAlertPerUser: false,
  silence({ sourceIp }, cmd) {
    return [
      'A busy egress or tool that is yours: nothing to do if it recurs (it is learned), or:',
      `Never alert on this address: ${cmd.allowCidr(hostCidr(sourceIp))}`,
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    actual_count: { label: 'Successful logons from the address in this period', format: 'count' },
    typical_range: { label: 'Typical range for this period (5th–95th percentile)', format: 'text' },
    expected_count: { label: 'Expected count', format: 'number' },
    baseline: { label: 'Judged against', format: 'text' },
    period: { label: 'Period (local time)', format: 'text' },
    accounts: { label: 'Accounts', format: 'count' },
    top_users: { label: 'Top accounts', format: 'text' },
    history_days: { label: 'Days of learned baseline', format: 'days' },
    period_probability: { label: 'Chance of this many in such a period', format: 'probability' },
    similar_periods: { label: 'Recent periods with a burst this large (decayed)', format: 'number' },
  },
  state: sourceLogonSpikeState,

  evaluateWindow({ observations, baselines, population, window, settings }: WindowDetectorInput): Finding[] {
    const stored = populationStateOf(sourceLogonSpikeState, population);
    if (!stored) return [];
    const zone = settings.timeZone;
    const state = sourceVolumeIn(stored, zone);
    const out: Finding[] = [];
    for (const b of periodsToJudge(window, state.last)) {
      const poolDays = ((b - state.first) * BUCKET_MS) / DAY_MS;
      if (poolDays < POOL_MIN_HISTORY_DAYS) continue;
      const slot = slotOf(b, zone);
      const period = countIn(observations, b, (o) => o.outcome === 'success');
      for (const [ip, count] of period.bySource) {
        if (count < MIN_SOURCE_LOGONS) continue;
        const tracked = state.tracked.find((t) => t.ip === ip);
        const ownDays = tracked ? ((b - tracked.since) * BUCKET_MS) / DAY_MS : 0;
        const own = tracked !== undefined && ownDays >= SOURCE_MIN_HISTORY_DAYS;
        const actual = Math.round(count);
        const e = judge(own ? tracked.series : state.pool, slot, actual);
        if (e.probability > settings.maxProbability) continue;
        const mine = countIn(observations, b, (o) => o.outcome === 'success' && o.sourceIp === ip);
        const users = usersOf(
          observations.filter((o) => mine.observations.includes(o) || (o.sourceIp === ip && o.outcome === 'failure')),
          ip,
          (u) => baselines.has(u),
        );
        const p = e.probability;
        const when = periodText(b, zone);
        const against = own
          ? `this address usually logs on ${rangeText(e)} times in this period of a ${when.replace(' ', ' (')})`
          : `an address here usually logs on ${rangeText(e)} times in this period of a ${when.replace(' ', ' (')})${tracked ? '' : '; this one has no baseline of its own'}`;
        const explanation =
          `${ip} logged on successfully ${actual} times in 15 minutes as ${plural(mine.byUser.size, 'account')} ` +
          `(${topText(mine.byUser)}): ${against}. Expected about ${e.mean.toFixed(1)}; chance of ${actual} or more ` +
          `in such a period ${e.periodProbability.toPrecision(2)}${similarText(e)}, of a day with such a period ${p.toPrecision(2)}.`;
        const observation = periodObservation(mine, 'success', '');
        out.push({
          detectorId: this.id,
          user: '',
          sourceIp: ip,
          sourceKey: ip,
          outcome: 'success',
          users,
          observation,
          score: scoreFromProbability(p),
          probability: p,
          explanation,
          evidence: {
            actual_count: actual,
            typical_range: rangeText(e),
            expected_count: Math.round(e.mean * 10) / 10,
            baseline: own ? 'this address' : 'addresses in general',
            period: when,
            accounts: mine.byUser.size,
            top_users: topEvidence(mine.byUser),
            history_days: Math.floor(own ? ownDays : poolDays),
            period_probability: Number(e.periodProbability.toPrecision(3)),
            similar_periods: Math.round(e.similarPeriods * 10) / 10,
            overdispersion: Number(e.alpha.toPrecision(3)),
          },
        });
      }
    }
    return out;
  },
};
