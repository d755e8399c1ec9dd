/**
 * Auth.FailedLogonSpike — port of Elastic's "Spike in Failed Logon Events" (ML job `auth_high_count_logon_fails`:
 * `high_non_zero_count` of failed authentication events).
 *
 * The organisation's failed logons in a 15-minute period far above what that period of the week usually sees:
 * password spraying or brute force against many accounts at once, credential stuffing, or an outage of the
 * identity provider. Elastic's job models one count over time with no notion of the week; its users asked for
 * the expected value beside the actual one. Here each hour of the week (Monday 09:00 is not Sunday 03:00) in the
 * deployment's time zone has its own learned level, blended towards the same hour of the day type and the overall
 * level while it has seen little, a negative binomial that allows for bursts, and a floor (`MIN_FAILURES`) so that
 * a handful of failures in an hour that usually sees none is no finding. Model: shared/core/volume/seasonal.ts.
 */
import { hostCidr } from '../../net';
import type { Finding } from '../../model';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  populationStateOf,
  type WindowDetector,
  type WindowDetectorInput,
} from '../detector';
import { ORG_SPIKE_FIELDS, orgSpikeFindings } from '../../volume/org';
import { MIN_SPIKE_COUNT } from '../../volume/seasonal';
import { failedLogonSpikeState } from './state';

/** Fewest failed logons in a period that can be a spike: a few typos in a quiet hour never are. */
export const MIN_FAILURES = MIN_SPIKE_COUNT;

export const failedLogonSpike: WindowDetector<'Auth.FailedLogonSpike'> = {
  id: 'Auth.FailedLogonSpike',
  name: 'Spike in Failed Logon Events',
  shortLabel: 'Failed logon spike',
  columnLabel: 'fail spike',
  defaultThreshold: 75,
  description:
    'The organisation saw far more failed logons in a 15-minute period than that period of the week usually sees. A spike of failures can be password spraying or brute force against many accounts, credential stuffing, or an authentication outage.',
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_high_count_logon_fails',
  references: [
    'https://www.elastic.co/guide/en/security/current/spike-in-failed-logon-events.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: {
    tactic: { id: 'TA0006', name: 'Credential Access', reference: 'https://attack.mitre.org/tactics/TA0006/' },
    techniques: [
      {
        id: 'T1110',
        name: 'Brute Force',
        reference: 'https://attack.mitre.org/techniques/T1110/',
        subtechnique: [
          {
            id: 'T1110.001',
            name: 'Password Guessing',
            reference: 'https://attack.mitre.org/techniques/T1110/001/',
          },
          {
            id: 'T1110.003',
            name: 'Password Spraying',
            reference: 'https://attack.mitre.org/techniques/T1110/003/',
          },
          {
            id: 'T1110.004',
            name: 'Credential Stuffing',
            reference: 'https://attack.mitre.org/techniques/T1110/004/',
          },
        ],
      },
    ],
  },
  investigation: [
    'Read the top sources and accounts in the alert: one address against many accounts is spraying; many addresses against one account is brute force or stuffing; everyone failing at once is an outage.',
    'Check whether any of the failing accounts then logged on successfully, from the same addresses or soon after (a spray that found a password).',
    'Look up the top addresses: are they yours (a misconfigured service, a scanner you run) or the internet’s?',
    'Check the identity provider and directory for an outage, an expired certificate or a password-policy change at that time.',
    'If it is an attack: block the sources at the edge, and reset the credentials of any account that succeeded.',
  ],
  falsePositives: [
    'An authentication outage or a changed password policy making everyone fail at once.',
    'A service or script retrying with stale credentials after a password rotation.',
    'An internal vulnerability scanner or penetration test.',
  ],
  groupBy: 'user',
  oneAlertPerUser: false,
  silence({ sourceIp }, cmd) {
    return [
      'An outage, a password rotation or a scheduled scan: nothing to do; a period that recurs weekly is learned.',
      ...(sourceIp ? [`Failures from your own scanner: ${cmd.allowCidr(hostCidr(sourceIp))}`] : []),
      cmd.threshold(),
    ];
  },
  evidenceFields: { ...ORG_SPIKE_FIELDS, actual_count: { label: 'Failed logons in this period', format: 'count' } },
  state: failedLogonSpikeState,

  evaluateWindow({ observations, population, window, settings }: WindowDetectorInput): Finding[] {
    return orgSpikeFindings(
      this.id,
      populationStateOf(failedLogonSpikeState, population),
      { observations, window, zone: settings.timeZone, maxProbability: settings.maxProbability },
      'failure',
      MIN_FAILURES,
      { what: 'failed logons' },
    );
  },
};
