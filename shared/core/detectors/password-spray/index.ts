/**
 * Auth.PasswordSpray — one source failing to log on as many different real users: password spraying (a few
 * common passwords tried against many accounts, MITRE T1110.003), in one window or low and slow across many.
 *
 * What it counts: distinct users, not attempts; only real users here (a name with a baseline), and only those for
 * whom the source is not their own usual place (their known address or subnet: an office NAT where several people
 * mistype on a Monday is not a spray). So the internet's background scanning of sshd for `root`, `admin`,
 * `oracle`, `test` — names that are not users here — never alerts, however many addresses do it, while a source
 * trying the organisation's real names does.
 *
 * Against what: the organisation's own failing sources (a decayed histogram of how many such users a failing
 * source tries per window, empirical-Bayes with a 1/x² prior; see judge.ts). And for the slow spray that tries a
 * few users an hour: a bounded memory of recent failing sources and the (hashed) users each tried over two days
 * (state.ts), judged by the same tail, charged for the windows it took. A spray spread over a network owner's
 * addresses is judged as the owner (`AS64500`). One alert per source per UTC day (`groupBy: 'source'`); a spray
 * that goes on for days is raised once, again only when it has reached twice the users it had when reported.
 */
import { hostCidr } from '../../net';
import {
  populationStateOf,
  type DetectorState,
  type PopulationLearnInput,
  type WindowDetector,
  type WindowDetectorInput,
} from '../detector';
import type { Finding } from '../../model';
import { judgeWindow } from './judge';
import { learnSpray, SPRAY_STATE_VERSION, spraySchema, type SprayState } from './state';
import { CREDENTIAL_ACCESS, bruteForce } from '../credential-access';

const sprayState: DetectorState<never, SprayState> = {
  key: 'spray',
  population: {
    version: SPRAY_STATE_VERSION,
    schema: spraySchema,
    learn(previous, input: PopulationLearnInput<never>) {
      const { lessons } = judgeWindow({
        observations: input.observations,
        baselines: input.baselines,
        state: previous,
        window: { start: input.windowStart, end: input.windowEnd },
        maxProbability: input.settings.maxProbability,
        threshold: input.learning ? Number.POSITIVE_INFINITY : input.settings.thresholds[passwordSpray.id],
        detectorId: passwordSpray.id,
      });
      return learnSpray(previous, lessons, input.windowEnd);
    },
  },
};

export const passwordSpray: WindowDetector<'Auth.PasswordSpray'> = {
  id: 'Auth.PasswordSpray',
  name: 'Password spraying from one source',
  shortLabel: 'Password spray',
  columnLabel: 'spray',
  defaultThreshold: 75,
  description:
    'One source (an address, or a network owner’s addresses) failed to log on as many different real users of the organisation, for whom it is not a usual place: password spraying, a few common passwords tried against many accounts, in one window or slowly over hours.',
  // Medium (Elastic's 47): failures alone are an attempt, not a compromise, but one aimed at this organisation's
  // real accounts; what succeeded is raised on its own as brute force that succeeded (high).
  severity: 'medium',
  riskScore: 47,
  references: [
    'https://attack.mitre.org/techniques/T1110/003/',
    'https://www.elastic.co/guide/en/security/current/potential-password-spraying-attack.html',
  ],
  mitre: {
    tactic: CREDENTIAL_ACCESS,
    techniques: [bruteForce(['T1110.003'])],
  },
  investigation: [
    'Look the source up: its network owner (hosting provider, VPN service, Tor exit?), country and reputation; is it one of yours (a scanner, a monitoring probe, a misconfigured service)?',
    'Check the users it logged on as (listed first with their successes): treat each as compromised until the user confirms the logon; the brute-force-that-succeeded alerts linked to this one say more.',
    'Block the source at the edge if it is not yours, and check the other services it may reach (VPN, mail, SSO).',
    'Make sure the users it tried have strong passwords and a second factor; reset any that were weak or reused.',
  ],
  falsePositives: [
    'An internal scanner or monitoring probe that tries many accounts.',
    'A misconfigured shared service (a proxy, a jump host, a mail gateway) relaying many users’ stale passwords.',
    'A conference or hotel network where several colleagues mistype, new to all of them.',
  ],
  groupBy: 'source',
  oneAlertPerUser: false,
  silence({ sourceIp, owner }, cmd) {
    return [
      `Your own scanner or service: ${cmd.allowCidr(hostCidr(sourceIp))}`,
      ...(owner ? [`A network of yours (probes, a shared service): ${cmd.allowAsn(owner.asn)}`] : []),
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    users_tried: { label: 'Users tried (distinct)', format: 'count' },
    real_users_tried: { label: 'Of them real users here', format: 'count' },
    spray_targets: { label: 'Real users for whom the source is new (window)', format: 'count' },
    spray_targets_recent: { label: 'Real users for whom the source is new (recent)', format: 'count' },
    memory_hours: { label: 'Remembered over (hours)', format: 'count' },
    failures: { label: 'Failed logons', format: 'count' },
    logged_on: { label: 'Users who then logged on from it', format: 'text' },
    addresses: { label: 'Addresses', format: 'count' },
    usual_targets_per_source: { label: 'Usual real users per failing source', format: 'text' },
    most_targets_per_source: { label: 'Most real users per failing source (past weeks)', format: 'text' },
    window_probability: { label: 'How unusual in this window (probability)', format: 'probability' },
    memory_probability: { label: 'How unusual over the remembered hours (probability)', format: 'probability' },
  },
  state: sprayState,
  evaluateWindow({ observations, baselines, population, window, settings }: WindowDetectorInput): Finding[] {
    return judgeWindow({
      observations,
      baselines,
      state: populationStateOf(sprayState, population),
      window,
      maxProbability: settings.maxProbability,
      threshold: settings.thresholds[this.id],
      detectorId: passwordSpray.id,
    }).findings;
  },
};
