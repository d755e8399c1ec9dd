/**
 * Auth.LogonSpike — port of Elastic's "Spike in Logon Events" (ML job `auth_high_count_logon_events`:
 * `high_non_zero_count` of successful authentication events).
 *
 * The organisation's successful logons in a 15-minute period far above what that period of the week usually sees:
 * credentials used at scale (stolen accounts worked through by a script, brute force that succeeded), or a
 * misbehaving automation. Each hour of the week in the deployment's time zone has its own learned level, so the
 * Monday-morning peak that happens every week is expected and the same count at 03:00 on a Sunday is not; a floor
 * (`MIN_LOGONS`) keeps a handful of logons in an empty hour from being a finding. Model: shared/core/volume/seasonal.ts.
 */
import { hostCidr } from '../../net';
import type { Finding } from '../../model';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  VALID_ACCOUNTS_MITRE,
  populationStateOf,
  type WindowDetector,
  type WindowDetectorInput,
} from '../detector';
import { ORG_SPIKE_FIELDS, orgSpikeFindings } from '../../volume/org';
import { MIN_SPIKE_COUNT } from '../../volume/seasonal';
import { logonSpikeState } from './state';

/** Fewest successful logons in a period that can be a spike. */
export const MIN_LOGONS = MIN_SPIKE_COUNT;

export const logonSpike: WindowDetector<'Auth.LogonSpike'> = {
  id: 'Auth.LogonSpike',
  name: 'Spike in Logon Events',
  shortLabel: 'Logon spike',
  columnLabel: 'logon spike',
  defaultThreshold: 75,
  description:
    'The organisation saw far more successful logons in a 15-minute period than that period of the week usually sees. Valid credentials used at scale can be stolen accounts worked through by a script or brute force that succeeded; it can also be automation gone wrong.',
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_high_count_logon_events',
  references: [
    'https://www.elastic.co/guide/en/security/current/spike-in-logon-events.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Read the top sources and accounts in the alert: is the surplus one address, one account, or everyone?',
    'One address logging on as many accounts: check it with the per-source spike and the accounts’ owners.',
    'One account logging on many times: is it a service account, a new job, a deployment tool?',
    'Everyone at once: a reconnect after an outage, a VPN or identity-provider change, a forced re-authentication.',
    'If the logons are not explained: review what the sessions did, and reset the credentials involved.',
  ],
  falsePositives: [
    'Everyone reconnecting after a network, VPN or identity-provider outage.',
    'A new automated job, a deployment or a monitoring check logging on repeatedly.',
    'A one-off event (a training, an all-hands, an office move) at an unusual hour.',
  ],
  groupBy: 'user',
  oneAlertPerUser: false,
  silence({ sourceIp }, cmd) {
    return [
      'A reconnect after an outage or a one-off event: nothing to do; a period that recurs weekly is learned.',
      ...(sourceIp ? [`Logons from your own automation: ${cmd.allowCidr(hostCidr(sourceIp))}`] : []),
      cmd.threshold(),
    ];
  },
  evidenceFields: { ...ORG_SPIKE_FIELDS, actual_count: { label: 'Successful logons in this period', format: 'count' } },
  state: logonSpikeState,

  evaluateWindow({ observations, population, window, settings }: WindowDetectorInput): Finding[] {
    return orgSpikeFindings(
      this.id,
      populationStateOf(logonSpikeState, population),
      { observations, window, zone: settings.timeZone, maxProbability: settings.maxProbability },
      'success',
      MIN_LOGONS,
      { what: 'successful logons' },
    );
  },
};
