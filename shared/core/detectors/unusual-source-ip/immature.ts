/**
 * The unusual-source-IP judgement of a user with too little history for their own habits to mean anything (not
 * `isUserMature`): judged by what the organisation knows instead of not at all.
 *
 * Why here and not in the rare-user rule: what is unusual is the place (a network no one here uses), not the
 * name; the rare-user rule already reports the name when it is new (`Auth.RareUser`, kind new) or dormant enough.
 * Between the two, a short-lived account that comes back after three weeks from a network nobody in the
 * organisation uses raised nothing: not dormant for the rare-user rule (`dormantDays`), not mature for this one.
 *
 * The judgement:
 * - only a return: the user was silent at least `RETURN_MIN_DAYS`, and at least twice their own usual gap between
 *   active days, but not dormant in the rare-user rule's sense (that rule reports those, and one alert is enough).
 *   A user in their first days, a new hire logging on daily, is still learning their places: a new network then is
 *   how a baseline forms (office, home, phone), not a surprise, so it is never judged;
 * - only a network new to the user (the owner's AS where the network data knows it, else the /16) that fewer than
 *   `ORG_NETWORK_USERS` others here use;
 * - its probability is the rate at which users here bring a network no one in the organisation uses (the
 *   population's `placeNovelty.networkOrgNovel` of its periods, faded like the mature judgement's share when one or
 *   two others use it), as the prior, updated with the user's own short record (networks they brought beyond their
 *   first, in their active periods beyond their first), and weighted by the return: a silence longer than the
 *   user's whole history before it makes the return that many times less likely (`history / silence`, at most 1);
 * - an address many others use (office NAT, VPN) is not a new place, as for mature users.
 * The numbers are not fitted: the prior is the organisation's own rate, the weight a plain ratio, both in the alert.
 */
import { DAY_MS, type Finding, type NetworkOwner, type UserBaseline } from '../../model';
import { placeOf, sharedAddressKey } from '../../net';
import { networkUsers, sharedUsers } from '../../population';
import { dormancy, USUAL_GAP_MULTIPLE } from '../../habits';
import { eitherProbability, noveltyProbability, POOLED_PRIOR_BUCKETS, scoreFromProbability } from '../../scoring';
import { ownerKey } from '../../model';
import { isoDate, pct, plural, type DetectorInput } from '../detector';

/** Least silence (days) before a user with little history is judged at all: a week, longer than any weekend. */
export const RETURN_MIN_DAYS = 7;

/** What the immature judgement needs from the mature one's constants (index.ts), passed to avoid an import cycle. */
export interface ImmatureJudgementConstants {
  readonly orgNetworkUsers: number;
  readonly minNewNetworksForOrgShare: number;
  readonly noveltyLevel: (b: UserBaseline, ip: string, owner?: NetworkOwner) => string | null;
  readonly sharedProbability: (others: number) => number;
}

/** `AS64498 EXAMPLE-HOSTING` or the /16: the network as the alert names it. */
function networkName(ip: string, owner: NetworkOwner | undefined): string {
  if (!owner) return placeOf(ip, 'network');
  return owner.org ? `${ownerKey(owner)} ${owner.org}` : ownerKey(owner);
}

/**
 * The finding for a successful logon of a user whose habits have not formed, or null (see the module comment).
 * The caller has checked the outcome and that the user has a baseline and is not mature.
 */
export function evaluateImmature(
  detectorId: string,
  { observation: o, baseline: b, population, settings }: DetectorInput & { baseline: UserBaseline },
  c: ImmatureJudgementConstants,
): Finding | null {
  // A return, not a first week: silent a week, and twice the user's own usual gap, but not dormant (rare user).
  const d = dormancy(b.activity.last, b.activity.first, b.activity.days, o.firstSeen, settings.dormantDays);
  if (d.dormant || d.gapDays < RETURN_MIN_DAYS || d.gapDays < USUAL_GAP_MULTIPLE * d.usualGapDays) return null;
  const owner = o.owner;
  if (c.noveltyLevel(b, o.sourceIp, owner) !== 'network') return null;
  const pool = population.placeNovelty;
  if (!pool || pool.networkOrgNovel === undefined || pool.network < c.minNewNetworksForOrgShare) return null;
  const orgUsers = networkUsers(population.sharedNetworks, o.sourceIp, owner);
  if (orgUsers >= c.orgNetworkUsers) return null;

  // The organisation's rate of org-novel networks per period, faded as the mature judgement fades its share.
  const orgRate = noveltyProbability(pool.networkOrgNovel, pool.periods);
  const prior = orgRate ** (1 - Math.min(1, (orgUsers / c.orgNetworkUsers) ** 2));
  const knownNetworks = Object.keys(b.networks).length;
  const ownPeriods = Math.max(0, b.activity.buckets - 1);
  const ownNovel = Math.min(ownPeriods, Math.max(0, knownNetworks - 1));
  const pNetwork = (POOLED_PRIOR_BUCKETS * prior + ownNovel) / (POOLED_PRIOR_BUCKETS + ownPeriods);
  const historyDays = Math.max(1, (b.activity.last - b.activity.first) / DAY_MS);
  const returnWeight = Math.min(1, historyDays / d.gapDays);
  const pUser = pNetwork * returnWeight;
  const ipUsers = sharedUsers(population.sharedIps, sharedAddressKey(o.sourceIp));
  const pShared = c.sharedProbability(ipUsers);
  const p = eitherProbability(pUser, pShared);
  if (p > settings.maxProbability) return null;

  const named = networkName(o.sourceIp, owner);
  const country = owner?.country;
  const silence = Math.floor(d.gapDays);
  const historyShown = Math.max(1, Math.round(historyDays));
  const periodsShown = Math.round(b.activity.buckets);
  const others = orgUsers > 0 ? Math.max(1, Math.round(orgUsers)) : 0;
  const explanation =
    `${o.user} logged on from ${o.sourceIp}, the network ${named}${country !== undefined ? ` (${country})` : ''}, ` +
    `which is new for this user and which ${others === 0 ? 'no one else in the organisation uses' : `only ${plural(others, 'other user')} here ${others === 1 ? 'uses' : 'use'}`}, ` +
    `after ${plural(silence, 'day')} of silence (last seen ${isoDate(b.activity.last)}). ` +
    `With ${plural(historyShown, 'day')} of history before that (${plural(periodsShown, 'active 15-minute period')}, ${plural(knownNetworks, 'known network')}), ` +
    `this user's habits have not formed, so the organisation's are the measure: users here bring a network no one else uses in ${pct(orgRate)} of periods` +
    (ownPeriods >= 1
      ? `, and this user brought ${plural(ownNovel, 'new network')} in ${plural(Math.round(ownPeriods), 'period')} after their first`
      : '') +
    (returnWeight < 1
      ? `; a silence ${(1 / returnWeight).toFixed(1)} times as long as the history before it makes the return that much less likely`
      : '') +
    `. Probability ${p.toPrecision(2)}.`;
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  return {
    detectorId,
    user: o.user,
    sourceIp: o.sourceIp,
    observation: o,
    score: scoreFromProbability(p),
    probability: p,
    explanation,
    evidence: {
      novelty_level: 'network',
      judged_by: 'the organisation (too little history)',
      new_place: owner ? ownerKey(owner) : placeOf(o.sourceIp, 'network'),
      silence_days: silence,
      user_first_seen: isoDate(b.activity.first),
      user_last_seen: new Date(b.activity.last).toISOString(),
      history_days: historyShown,
      days_active: b.activity.days,
      active_periods: Math.round(b.activity.buckets * 10) / 10,
      known_ips: Object.keys(b.ips).length,
      known_networks: knownNetworks,
      network_owner: owner ? named : '',
      network_country: country ?? '',
      user_new_networks: ownNovel,
      population_org_novel_rate: Math.round(orgRate * 1e6) / 1e6,
      return_weight: round3(returnWeight),
      users_sharing_network: others,
      users_sharing_ip: ipUsers > 0 ? Math.max(1, Math.round(ipUsers)) : 0,
      p_user: pUser,
      p_shared: pShared,
    },
  };
}
