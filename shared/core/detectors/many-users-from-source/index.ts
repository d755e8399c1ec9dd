/**
 * Auth.ManyUsersFromSource — one source logging on successfully as many different users in the window, for most
 * of whom it is a new place, and which is not the organisation's shared egress: credential stuffing that worked
 * (a list of leaked passwords tried, and several of them right), or an attacker reusing one foothold for many
 * accounts. One alert about the source, naming the users; the per-user unusual-source-IP alerts from it fold
 * into it (`linkCampaigns`), so an analyst gets one message, not twenty-five.
 *
 * How it weighs each user: the source is their own known address or subnet — 0 (the office, the VPN: nothing
 * new); a new address on a network they use — ½; new at the network level, or a user with no history — 1. With
 * x the weighed count, the chance that so many users newly arrive at one address together is taken as 0.35^x
 * (five users new to it score about 82, seven 95; four alone, 69, do not alert), and an address the organisation's people already log on from
 * is discounted like the unusual-source-IP rule does (the shared-egress sketch: an office NAT or VPN pool used by
 * dozens makes newcomers ordinary).
 */
import { ownerText } from '../../enrich';
import {
  campaignUsers,
  crowdedAddressObservations,
  namesText,
  placeKnowledge,
  sourceObservation,
  sourcesOf,
  type SourceActivity,
} from '../../failures';
import type { Finding } from '../../model';
import { hostCidr, placeOf, sharedAddressKey } from '../../net';
import { sharedUsers } from '../../population';
import { scoreFromProbability } from '../../scoring';
import { bruteForce } from '../credential-access';
import { VALID_ACCOUNTS_MITRE, plural, type WindowDetector, type WindowDetectorInput } from '../detector';

/** Fewest distinct users logging on from one source before it is judged: fewer is a shared desk or a family. */
export const MIN_USERS = 4;
/** The chance taken for one more user newly arriving at the same address with the others. */
export const PER_NEW_USER = 0.35;
/** Other users at which an address counts as half-way shared, as the unusual-source-IP rule counts it. */
const SHARED_HALF = 20;

const WEIGHT = { address: 0, subnet: 0, network: 0.5, new: 1 } as const;

function judge(s: SourceActivity, input: WindowDetectorInput): Finding | null {
  const { baselines, population, window } = input;
  const succeeded = [...s.users.values()].filter((u) => u.successes > 0);
  if (succeeded.length < MIN_USERS) return null;
  let x = 0;
  const newTo: string[] = [];
  for (const u of succeeded) {
    const w = WEIGHT[placeKnowledge(u.known ? baselines.get(u.name) : undefined, s.key, s.owner)];
    x += w;
    if (w > 0) newTo.push(u.name);
  }
  // Most of them must be new to it: a known place of most of the users is theirs, whoever else joins.
  if (newTo.length * 2 < succeeded.length) return null;
  // Users of the organisation who log on from the address, or (counting half, as the unusual-source-IP rule
  // does: the same building, another NAT address) from its subnet.
  const shared = Math.max(
    sharedUsers(population.sharedIps, sharedAddressKey(s.key)),
    Math.floor(0.5 * sharedUsers(population.sharedPrefixes, placeOf(s.key, 'prefix'))),
  );
  const f = shared / (shared + SHARED_HALF);
  const pShared = f * f;
  const pNew = PER_NEW_USER ** x;
  const p = Math.max(pNew, pShared);
  if (p > input.settings.maxProbability) return null;
  const obs = sourceObservation(s, 'success');
  const { users, total } = campaignUsers(s);
  const minutes = Math.round((window.end - window.start) / 60_000);
  const where = s.owner ? `${s.key} (${ownerText(s.owner)})` : s.key;
  const failed = [...s.users.values()].filter((u) => u.failures > 0).length;
  const explanation =
    `${where} logged on successfully as ${plural(succeeded.length, 'different user')} in ${minutes} minutes, ` +
    `new to ${newTo.length} of them: ${namesText(newTo.sort())}. ` +
    (shared > 0
      ? `${plural(shared, 'user')} of the organisation logged on from it before.`
      : 'No one in the organisation logged on from it before.') +
    (failed > 0 ? ` It also failed as ${plural(failed, 'user')}.` : '') +
    ` Probability ${p.toPrecision(2)}.`;
  return {
    detectorId: manyUsersFromSource.id,
    user: '',
    sourceIp: obs.sourceIp,
    sourceKey: s.key,
    observation: obs,
    outcome: 'success',
    users,
    usersTotal: total,
    score: scoreFromProbability(p),
    probability: p,
    explanation,
    evidence: {
      users_logged_on: succeeded.length,
      users_new_to_source: newTo.length,
      weighted_new_users: x,
      users_failed: failed,
      users_total: total,
      organisation_users_of_address: shared,
    },
  };
}

export const manyUsersFromSource: WindowDetector<'Auth.ManyUsersFromSource'> = {
  id: 'Auth.ManyUsersFromSource',
  name: 'Many accounts logged on from one source',
  shortLabel: 'Many accounts from one source',
  columnLabel: 'many users',
  defaultThreshold: 75,
  description:
    'One source address logged on successfully as several different users, for most of whom it is a new place, and it is not an address the organisation’s people share: credential stuffing that worked, or an attacker reusing one foothold for many accounts.',
  // Medium (Elastic's 47): either a compromise of several accounts at once or a new shared egress (a VPN exit,
  // an office NAT) on its first day; one look at the source tells which.
  severity: 'medium',
  riskScore: 47,
  references: ['https://attack.mitre.org/techniques/T1110/004/', 'https://attack.mitre.org/techniques/T1078/'],
  mitre: {
    tactic: VALID_ACCOUNTS_MITRE.tactic,
    techniques: [...VALID_ACCOUNTS_MITRE.techniques, bruteForce(['T1110.004'])],
  },
  investigation: [
    'Look the source up: is it a new office, VPN exit or proxy of yours (then allow it), or a hosting provider, VPN service or Tor exit?',
    'Ask two or three of the listed users whether they logged on at that time from there.',
    'If not yours: reset the listed users’ passwords, end their sessions, enforce a second factor, and block the source.',
    'Review what the sessions did on the hosts named; look for the same source in other logs (VPN, mail, SSO).',
  ],
  falsePositives: [
    'A new VPN exit, office NAT or proxy on its first day, before the organisation’s use of it is learned.',
    'A jump host or terminal server many people log on through, newly introduced.',
  ],
  groupBy: 'source',
  oneAlertPerUser: false,
  silence({ sourceIp, owner }, cmd) {
    return [
      `A new egress of yours (VPN exit, office NAT, proxy): ${cmd.allowCidr(hostCidr(sourceIp))}`,
      ...(owner ? [`A network of yours (a VPN provider, your cloud): ${cmd.allowAsn(owner.asn)}`] : []),
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    users_logged_on: { label: 'Users logged on', format: 'count' },
    users_new_to_source: { label: 'For whom the source is new', format: 'count' },
    weighted_new_users: { label: 'New users weighed by place', format: 'number' },
    users_failed: { label: 'Users it failed as', format: 'count' },
    organisation_users_of_address: { label: 'Organisation users of the address before', format: 'count' },
  },
  evaluateWindow(input: WindowDetectorInput): Finding[] {
    if (!input.observations.some((o) => o.outcome === 'success')) return [];
    // Only addresses that logged on as enough users can be judged: the window's others are not built.
    const { byAddress } = sourcesOf(crowdedAddressObservations(input.observations, MIN_USERS), input.baselines);
    const out: Finding[] = [];
    for (const s of byAddress.values()) {
      const f = judge(s, input);
      if (f) out.push(f);
    }
    return out;
  },
};
