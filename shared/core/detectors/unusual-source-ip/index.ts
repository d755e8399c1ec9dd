/**
 * Auth.UnusualSourceIp — port of Elastic's "Unusual Source IP for a User to Logon from"
 * (ML job `auth_rare_source_ip_for_a_user`: `rare` by source.ip partitioned by user.name).
 *
 * How surprising is a new address for this user? Three places are tracked per user: the IP, its /24
 * (IPv4) or /48 (IPv6) prefix, and its /16 or /32 network. The address is judged at the coarsest level at
 * which it is new, against the user's own rate of novelty at that level (a Beta–Bernoulli estimate over
 * the user's active 15-minute buckets): a mobile user who changes IP every bucket is never surprised by a
 * new IP, but rarely changes carrier network; a user with one home address for weeks is surprised by any
 * new network. Shared egress (an office NAT, a VPN pool) that many other users already log on from is not
 * a new place in any meaningful sense, so the probability that the user simply joined a shared place is
 * added. Findings need p ≤ the cut-off (Elastic's 0.035); the score maps −log10(p).
 *
 * With the offline network data (`LogonObservation.owner`), the network is the owner's AS where known: a carrier's
 * pool spread over many /16s is one network, and a new /16 of an AS the user already uses is judged at the subnet
 * and address levels only (an attacker on the victim's own carrier still meets those). Once the user's owner
 * knowledge has matured (`isOwnerKnowledgeMature`), a new network is judged by the user's rate of networks new in
 * that sense, and the country is a further level, judged like the others (the user's own rate of new countries,
 * the population's as the prior); so is the hosting judgement then: for a user never seen on a hosting or cloud
 * provider's network, a new one that no one in the organisation uses counts only with the share of users' new
 * networks that were hosting providers'. Owner knowledge can only make an address less novel until the user
 * has learned it: a baseline without owners is judged exactly as before.
 *
 * A user whose habits have not formed (not `isUserMature`) is judged by what the organisation knows instead
 * (immature.ts): a return after a silence, from a network new to the user that no one here uses.
 */
import { hostCidr, placeOf, sharedAddressKey } from '../../net';
import { suspectAt } from '../../suspect';
import {
  DAY_MS,
  dayOf,
  ownerKey,
  PLACE_LEVELS,
  PLACE_MAP,
  type Finding,
  type NetworkOwner,
  type PlaceLevel,
  type PopulationStats,
  type UserBaseline,
} from '../../model';
import { networkUsers, sharedUsers } from '../../population';
import { eitherProbability, noveltyProbability, pooledNoveltyProbability, scoreFromProbability } from '../../scoring';
import { isOwnerKnowledgeMature, isUserMature } from '../../habits';
import { hostingReason } from '../../network-data/hosting';
import { evaluateImmature } from './immature';
import { followUp } from './follow-up';
import type { DetectionSettings } from '../../settings';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  USER_HISTORY_FIELDS,
  VALID_ACCOUNTS_MITRE,
  isoDate,
  pct,
  plural,
  travelUntil,
  type LogonDetector,
  type DetectorInput,
} from '../detector';

/**
 * Distinct other users at which an address counts as half-way "shared" (p = ½): s / (s + SHARED_HALF).
 * One other user (a partner at home, a colleague at a small site) barely moves it; an office NAT used by
 * dozens makes any newcomer unsurprising. Prefix sharing counts half: same building, other NAT address.
 */
export const SHARED_HALF = 20;
export const PREFIX_SHARE_WEIGHT = 0.5;
export const NETWORK_SHARE_WEIGHT = 0.5;
/**
 * Other users from whom on a network counts as the organisation's (a VPN provider, a carrier colleagues use). Below
 * it, the "no one here uses it" share s fades geometrically, s^(1 − (n/3)²): one other user keeps 8/9 of its
 * surprise in log terms (a share of 1% becomes 1.7%), two keep 5/9 (8%), three or more none.
 */
export const ORG_NETWORK_USERS = 3;
/** New networks the population must have brought before their org-novel (or hosting) share is trusted. */
export const MIN_NEW_NETWORKS_FOR_ORG_SHARE = 10;

/**
 * Probability that a user simply joined a place `others` other users already log on from: (s / (s + 20))².
 * Squared so that a handful of users (a shared jump host, a colleague's desk, a service account's host
 * used for lateral movement) barely moves it — 1 user: 0.002, 5: 0.04 — while an office NAT or VPN pool
 * used by dozens or hundreds makes a newcomer unsurprising (50: 0.51, 300: 0.88).
 */
export function sharedProbability(others: number): number {
  const f = others / (others + SHARED_HALF);
  return f * f;
}

/** The level a finding is judged at: a place level, or the country of the address's network. */
export type JudgedLevel = PlaceLevel | 'country';

const LEVEL_NOUN: Record<JudgedLevel, string> = {
  ip: 'address',
  prefix: 'subnet',
  network: 'network',
  country: 'country',
};

/**
 * The coarsest level at which `ip` is new to the user, or null if the IP itself is known. With the address's
 * `owner`, a new /16 of an AS the user already uses is not a new network (a carrier's pool is one network); its
 * subnet and address are still judged.
 */
export function noveltyLevel(b: UserBaseline, ip: string, owner?: NetworkOwner): PlaceLevel | null {
  if (b.ips[ip]) return null;
  for (const level of [...PLACE_LEVELS].reverse()) {
    const map = b[PLACE_MAP[level]];
    if (map[placeOf(ip, level)]) continue;
    if (level === 'network' && owner && b.owners?.[ownerKey(owner)]) continue;
    return level;
  }
  return 'ip';
}

/**
 * Whether the country of `owner`'s network is new to the user, for a user whose owner knowledge has matured
 * (`isOwnerKnowledgeMature`); false before, so countries never make anyone look new while they are being learned.
 */
export function isNewCountry(
  b: UserBaseline,
  owner: NetworkOwner | undefined,
  settings: Pick<DetectionSettings, 'minUserBuckets' | 'minUserDays'>,
): boolean {
  const country = owner?.country;
  return country !== undefined && isOwnerKnowledgeMature(b, settings) && !b.countries?.[country];
}

/** A level's novelty counts: the user's new places of `periods`, the population's likewise, and since when. */
interface LevelCounts {
  readonly novel: number;
  readonly periods: number;
  readonly poolNovel: number;
  readonly poolPeriods: number;
  /** How the explanation says since when the user's counts run. */
  readonly since: string;
}

/** `AS64498 EXAMPLE-HOSTING`: the owner as the alert names it. */
function ownerName(owner: NetworkOwner): string {
  return owner.org ? `${ownerKey(owner)} ${owner.org}` : ownerKey(owner);
}

function mostRecentIp(b: UserBaseline): string | undefined {
  let best: string | undefined;
  let last = -Infinity;
  for (const [ip, s] of Object.entries(b.ips)) {
    if (s.last > last) {
      last = s.last;
      best = ip;
    }
  }
  return best;
}

/**
 * The most users any other address of `prefix` is known to serve (0 when none is in the sketch). Keys are
 * `sharedAddressKey`s (an IPv6 key is a /64, whose prefix is its address part's).
 */
export function busiestAddressIn(sharedIps: PopulationStats['sharedIps'], prefix: string, except: string): number {
  let max = 0;
  for (const key of Object.keys(sharedIps)) {
    if (key === except) continue;
    const n = sharedUsers(sharedIps, key);
    if (n > max && placeOf(key.split('/')[0]!, 'prefix') === prefix) max = n;
  }
  return max;
}

/** A decayed user count as a person reads it: whole users, and "1" rather than "0" for anyone at all. */
function usersShown(n: number): number {
  return n > 0 ? Math.max(1, Math.round(n)) : 0;
}

export const unusualSourceIp: LogonDetector<'Auth.UnusualSourceIp'> = {
  id: 'Auth.UnusualSourceIp',
  name: 'Unusual Source IP for a User to Logon from',
  shortLabel: 'Unusual source IP',
  columnLabel: 'unusual IP',
  defaultThreshold: 75,
  description:
    'A user logged on successfully from a source address unusual for that user. This can indicate stolen credentials used from elsewhere, or lateral movement from a host the user never uses.',
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_rare_source_ip_for_a_user',
  references: [
    'https://www.elastic.co/guide/en/security/current/unusual-source-ip-for-a-user-to-logon-from.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Contact the user: did they log on from this address at this time (travel, new ISP, new device, VPN off)?',
    'Look the address up: owner (hosting provider, VPN service, Tor exit?), geolocation, reputation.',
    'Review what the session did on the host(s) named in the alert: commands run, files touched, new keys or accounts.',
    'Check failed logons from the same address, against this and other users (password spraying before a success).',
    'Check whether the same address logged on as other users; if so, treat it as a compromised credential campaign.',
    "If unexpected: disable the credential or rotate keys, end the sessions, and review the user's recent activity.",
  ],
  falsePositives: [
    'Business travel, working from a new place, or a change of home ISP.',
    'A new VPN egress or office NAT address not yet used by many users.',
    'Automation moved to a new host or subnet.',
  ],
  groupBy: 'user-ip',
  marksPlaceSuspect: true,
  silence({ user, sourceIp, alertId, at, owner }, cmd) {
    // With the network data: a trip is the user's country for two weeks, a carrier or ISP the user's own AS.
    const until = travelUntil(at);
    return [
      `The user confirms it: ${cmd.benign(alertId)}`,
      `Not the user (a hostile source): ${cmd.malicious(alertId)}`,
      `Subnet always fine for this user: ${cmd.allowCidr(placeOf(sourceIp, 'prefix'), user)}`,
      ...(owner?.country !== undefined && until !== undefined
        ? [`The user travels in ${owner.country}: ${cmd.allowCountry(owner.country, user, until)}`]
        : []),
      ...(owner ? [`Network always fine for this user (ISP, carrier): ${cmd.allowAsn(owner.asn, user)}`] : []),
      `Fine for everyone (scanner, bastion): ${cmd.allowCidr(hostCidr(sourceIp))}`,
      cmd.threshold(),
    ];
  },
  oneAlertPerUser: false,
  evidenceFields: {
    // A follow-up's (see `followUp`).
    follow_up_of: { label: 'Follow-up to alert', format: 'text' },
    original_rule: { label: 'Raised by', format: 'text' },
    original_logon: { label: 'Logon of that alert', format: 'time' },
    last_counted_logon: { label: 'Latest logon from it counted before', format: 'time' },
    logons_since: { label: 'Logons from this address since (at least)', format: 'count' },
    learned_from: { label: 'Learned as a known place, unanswered, from', format: 'date' },
    novelty_level: { label: 'New at the level of', format: 'text' },
    judged_by: { label: 'Judged by', format: 'text' },
    new_place: { label: 'New place', format: 'text' },
    silence_days: { label: 'Days of silence before this logon', format: 'days' },
    most_recent_known_ip: { label: 'Most recent known address', format: 'text' },
    user_first_seen: USER_HISTORY_FIELDS.user_first_seen,
    user_last_seen: USER_HISTORY_FIELDS.user_last_seen,
    history_days: { label: 'Days of history', format: 'count' },
    days_active: USER_HISTORY_FIELDS.days_active,
    active_periods: { label: 'Active 15-minute periods', format: 'count' },
    known_ips: USER_HISTORY_FIELDS.known_ips,
    known_prefixes: { label: 'Known subnets', format: 'count' },
    known_networks: { label: 'Known networks', format: 'count' },
    network_owner: { label: 'Network owner', format: 'text' },
    network_country: { label: 'Country of the network', format: 'text' },
    hosting_provider: { label: "A hosting provider's network", format: 'text' },
    known_owners: { label: 'Known network owners', format: 'count' },
    known_countries: { label: 'Known countries', format: 'count' },
    novelty_periods: { label: 'Periods since habits formed', format: 'count' },
    user_novelty_rate: { label: 'This user brings a new place in', format: 'percent' },
    population_novelty_rate: { label: 'All users bring one in', format: 'percent' },
    user_address_churn: { label: 'Periods with a new address (churn)', format: 'percent' },
    users_sharing_ip: { label: 'Other users of this address', format: 'count' },
    users_sharing_prefix: { label: 'Other users of its subnet', format: 'count' },
    busiest_address_in_prefix: { label: 'Most users on one address of its subnet', format: 'count' },
    users_sharing_network: { label: 'Other users of its network', format: 'count' },
    org_novel_network_share: { label: 'Share of new networks no one else uses', format: 'percent' },
    user_new_networks: { label: 'Networks this user brought after their first', format: 'count' },
    population_org_novel_rate: { label: 'Users bring a network no one else uses in', format: 'percent' },
    return_weight: { label: 'Weight of the return (history / silence)', format: 'number' },
    hosting_network_share: { label: "Share of new networks that are hosting providers'", format: 'percent' },
    user_country_rate: { label: 'This user brings a new country in', format: 'percent' },
    population_country_rate: { label: 'All users bring one in', format: 'percent' },
    users_sharing_country: { label: 'Other users from this country', format: 'count' },
    p_user: { label: 'Probability for this user', format: 'probability' },
    p_churn: { label: 'Probability of subnet churn', format: 'probability' },
    p_shared: { label: 'Probability it is a shared place', format: 'probability' },
    p_country: { label: 'Probability of a new country', format: 'probability' },
  },

  evaluate({ observation: o, baseline: b, population, window, settings }: DetectorInput): Finding | null {
    if (o.outcome !== 'success' || !b) return null;
    // A suspect place (an IPv6 address's whole /64) is never alerted on afresh (it is not learned, so it would look
    // new in every window): a logon after those already counted, judged as usual, is a follow-up of its alert; the
    // alert's own logons, seen again by the overlapping window, are nothing, and so are later ones of the alert's
    // own day (the alert is that day's).
    // (The key is computed only for a user with suspect places: nearly no one, and every logon is judged here.)
    const suspect = b.suspect ? suspectAt(b, sharedAddressKey(o.sourceIp)) : undefined;
    if (suspect) {
      if (!(o.lastSeen > suspect.last && dayOf(o.lastSeen) > dayOf(suspect.since))) return null;
      const { suspect: _all, ...unmarked } = b;
      const judged = unusualSourceIp.evaluate({ observation: o, baseline: unmarked, population, window, settings });
      return judged && followUp(judged, suspect, settings);
    }
    // A user whose habits have not formed is judged by what the organisation knows (immature.ts).
    if (!isUserMature(b, settings))
      return evaluateImmature(
        this.id,
        { observation: o, baseline: b, population, window, settings },
        {
          orgNetworkUsers: ORG_NETWORK_USERS,
          minNewNetworksForOrgShare: MIN_NEW_NETWORKS_FOR_ORG_SHARE,
          noveltyLevel,
          sharedProbability,
        },
      );
    const owner = o.owner;
    const level = noveltyLevel(b, o.sourceIp, owner);
    if (level === null) return null;

    const periods = b.novelty.periods;
    const pool = population.placeNovelty;
    // Once the user's owner knowledge has matured, a new network is judged by the rate of networks new at the
    // owner level (a carrier's other /16s are not), the population's likewise; before, by the /16 rates, as always.
    const ownerMature = isOwnerKnowledgeMature(b, settings);
    const own: LevelCounts =
      level === 'network' && ownerMature
        ? {
            novel: b.novelty.ownerNetwork ?? 0,
            periods: b.novelty.ownerPeriods ?? 0,
            poolNovel: pool?.ownerNetwork ?? 0,
            poolPeriods: pool?.ownerPeriods ?? 0,
            since: "since their networks' owners were learned",
          }
        : {
            novel: b.novelty[level],
            periods,
            poolNovel: pool?.[level] ?? 0,
            poolPeriods: pool?.periods ?? 0,
            since: 'since their habits formed',
          };
    const pOwn = pool
      ? pooledNoveltyProbability(own.novel, own.periods, own.poolNovel, own.poolPeriods)
      : noveltyProbability(own.novel, own.periods);
    // A new address inside a subnet the user already uses: as likely for this user as for any (DHCP churn).
    const churn = level === 'ip' && pool && pool.periods > 0 ? pool : undefined;
    const pChurn = churn ? noveltyProbability(churn.ipInKnownPrefix, churn.periods) : 0;
    // A new network no one in the organisation has used (not a carrier, ISP or VPN anyone else comes from):
    // only the share of users' new networks that were like that (travel, a hotel, a hosting provider).
    const net = placeOf(o.sourceIp, 'network');
    const orgUsersOfNetwork = networkUsers(population.sharedNetworks, o.sourceIp, owner);
    // A network one or two others here use is nearly as unknown as one no one uses; from ORG_NETWORK_USERS users
    // on it is the organisation's. With networks keyed by owner, an attacker's earlier logon as another user must
    // not make a whole hosting AS "used here" for the next account they try.
    const fadeWithUsers = (share: number) => share ** (1 - Math.min(1, (orgUsersOfNetwork / ORG_NETWORK_USERS) ** 2));
    const orgNovelShare =
      level === 'network' &&
      pool &&
      pool.networkOrgNovel !== undefined &&
      pool.network >= MIN_NEW_NETWORKS_FOR_ORG_SHARE
        ? fadeWithUsers((pool.networkOrgNovel + 0.5) / (pool.network + 1))
        : undefined;
    // A hosting provider's network no one here uses, for a user never seen on one: only the share of users' new
    // networks that were hosting providers'. The lower of the two shares bounds the chance of both at once; a
    // VPN or cloud the organisation uses is not nobody's, so it is judged like any network.
    const hosting = owner ? hostingReason(owner) !== undefined : false;
    const hostingShare =
      level === 'network' &&
      hosting &&
      ownerMature &&
      !b.hostingActivity &&
      pool?.networkOwned !== undefined &&
      pool.networkOwned >= MIN_NEW_NETWORKS_FOR_ORG_SHARE
        ? fadeWithUsers(((pool.networkHosting ?? 0) + 0.5) / (pool.networkOwned + 1))
        : undefined;
    const pPlace = Math.max(pOwn * Math.min(orgNovelShare ?? 1, hostingShare ?? 1), pChurn);
    // A new country, judged like the other levels: the user's own rate of new countries (since their owner
    // knowledge matured), the population's as the prior; either it, or joining a country colleagues log on from.
    // It decides only when it is the more surprising: the place levels above still judge everything they did. Not
    // for a new address of a subnet the user already uses: a country change there is the data's (a range
    // re-registered), not the user's.
    const country = owner?.country;
    const countryUsers = country !== undefined ? sharedUsers(population.sharedCountries ?? {}, country) : 0;
    const countries: LevelCounts = {
      novel: b.novelty.country ?? 0,
      periods: b.novelty.ownerPeriods ?? 0,
      poolNovel: pool?.country ?? 0,
      poolPeriods: pool?.ownerPeriods ?? 0,
      since: 'since their countries were learned',
    };
    const pCountryOwn =
      level !== 'ip' && isNewCountry(b, owner, settings)
        ? pooledNoveltyProbability(countries.novel, countries.periods, countries.poolNovel, countries.poolPeriods)
        : undefined;
    const pCountry =
      pCountryOwn !== undefined ? eitherProbability(pCountryOwn, sharedProbability(countryUsers)) : undefined;
    const judged: JudgedLevel = pCountry !== undefined && pCountry < pPlace ? 'country' : level;
    const pUser = judged === 'country' ? pCountry! : pPlace;
    const prefix = placeOf(o.sourceIp, 'prefix');
    const addressKey = sharedAddressKey(o.sourceIp);
    const ipUsers = sharedUsers(population.sharedIps, addressKey);
    const prefixUsers = sharedUsers(population.sharedPrefixes, prefix);
    if (eitherProbability(pUser, sharedProbability(ipUsers)) > settings.maxProbability) return null;
    // A new address of a NAT pool (its other addresses each shared by many) is the pool, not a new place;
    // a server subnet whose addresses each serve one account is not a crowd, however many accounts it holds.
    const poolUsers = busiestAddressIn(population.sharedIps, prefix, addressKey);
    // A user whose address changes nearly every bucket is on a rotating pool (carrier CGNAT); moving to a
    // neighbouring pool many colleagues use is how such pools behave. Weighted by the user's own address
    // churn, so for a user with fixed addresses a network colleagues use (a server subnet) stays surprising.
    const addressChurn = periods > 0 ? Math.min(1, b.novelty.ip / periods) : 0;
    const pSharedNetwork = NETWORK_SHARE_WEIGHT * addressChurn * sharedProbability(orgUsersOfNetwork);
    const pShared = Math.max(
      sharedProbability(ipUsers),
      PREFIX_SHARE_WEIGHT * sharedProbability(poolUsers),
      pSharedNetwork,
    );
    const p = eitherProbability(pUser, pShared);
    if (p > settings.maxProbability) return null;

    const place = judged === 'country' ? country! : placeOf(o.sourceIp, level);
    const noun = LEVEL_NOUN[judged];
    const counts = judged === 'country' ? countries : own;
    const historyDays = Math.max(1, Math.round((window.end - b.activity.first) / DAY_MS));
    const knownIps = Object.keys(b.ips).length;
    const knownNetworks = Object.keys(b.networks).length;
    const usual = mostRecentIp(b);
    const [ipShown, prefixShown, poolShown, networkShown, countryShown] = [
      ipUsers,
      prefixUsers,
      poolUsers,
      orgUsersOfNetwork,
      countryUsers,
    ].map(usersShown) as [number, number, number, number, number];
    const networkNamed = owner ? ownerName(owner) : net;
    const sharing =
      ipShown > 0
        ? `${plural(ipShown, 'other user')} ${ipShown === 1 ? 'logs' : 'log'} on from this address`
        : prefixShown > 0
          ? `${plural(prefixShown, 'other user')} ${prefixShown === 1 ? 'logs' : 'log'} on from its subnet ${prefix}` +
            (poolShown > 0 ? ` (at most ${poolShown} from any one of its addresses)` : '')
          : networkShown > 0
            ? `${plural(networkShown, 'other user')} ${networkShown === 1 ? 'logs' : 'log'} on from its network ${networkNamed}`
            : 'no other user is known to log on from it';
    const hostingText = hosting ? ', a hosting provider,' : ',';
    const knownOwner =
      owner && b.owners?.[ownerKey(owner)] ? ` (in ${ownerName(owner)}, a network this user uses)` : '';
    const where =
      judged === 'country'
        ? `the country ${place} (network ${networkNamed}${hosting ? ', a hosting provider' : ''}), which is new for this user`
        : level === 'ip'
          ? `a new address in the known subnet ${prefix}${knownOwner}`
          : level === 'network' && owner
            ? `the network ${networkNamed}${country !== undefined ? ` (${country})` : ''}${hostingText} which is new for this user`
            : `the ${noun} ${place}, which is new for this user${level === 'prefix' ? knownOwner : ''}`;
    const churnNote =
      (churn && pChurn > pOwn && judged !== 'country'
        ? ` Across all users, a new address inside an already-used subnet comes in ${pct(pChurn)} of periods, which is the floor used.`
        : '') +
      // Only when it weighed: from ORG_NETWORK_USERS users on, the share has faded to 1 and says nothing.
      (orgNovelShare !== undefined && orgNovelShare < 1 && judged !== 'country'
        ? orgUsersOfNetwork === 0
          ? ` No other user has logged on from ${networkNamed}; only ${pct(orgNovelShare)} of the new networks users bring are like that.`
          : ` So few others use ${networkNamed} that it counts nearly as a network no one here uses (${pct(orgNovelShare)}).`
        : '') +
      (hostingShare !== undefined && hostingShare < 1 && judged !== 'country'
        ? ` This user has never logged on from a hosting provider's network; ${pct(hostingShare)} of the new networks users bring are hosting providers'.`
        : '') +
      (judged === 'country'
        ? countryShown > 0
          ? ` ${plural(countryShown, 'other user')} ${countryShown === 1 ? 'logs' : 'log'} on from ${place}.`
          : ` No other user logs on from ${place}.`
        : '');
    const explanation =
      `${o.user} logged on from ${o.sourceIp}, ${where}. ` +
      `In ${plural(historyDays, 'day')} of history (${plural(Math.round(b.activity.buckets), 'active 15-minute period')}, ${plural(knownIps, 'known address', 'known addresses')} in ${plural(knownNetworks, 'network')}), ` +
      `this user brought a new ${noun} in ${pct(counts.periods > 0 ? counts.novel / counts.periods : 0)} of ${plural(Math.round(counts.periods), 'period')} ${counts.since}` +
      (counts.poolPeriods > 0 ? ` (all users: ${pct(counts.poolNovel / counts.poolPeriods)})` : '') +
      `; ${sharing}.${churnNote} ` +
      `Probability ${p.toPrecision(2)}.`;
    const rate = (k: number, n: number) => (n > 0 ? Math.round((k / n) * 1000) / 1000 : 0);

    return {
      detectorId: this.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence: {
        novelty_level: judged,
        new_place: place,
        user_first_seen: isoDate(b.activity.first),
        user_last_seen: new Date(b.activity.last).toISOString(),
        history_days: historyDays,
        active_periods: Math.round(b.activity.buckets * 10) / 10,
        days_active: b.activity.days,
        known_ips: knownIps,
        known_prefixes: Object.keys(b.prefixes).length,
        known_networks: knownNetworks,
        network_owner: owner ? ownerName(owner) : '',
        network_country: country ?? '',
        hosting_provider: hosting,
        known_owners: Object.keys(b.owners ?? {}).length,
        known_countries: Object.keys(b.countries ?? {}).length,
        novelty_periods: Math.round(counts.periods * 10) / 10,
        user_novelty_rate: rate(counts.novel, counts.periods),
        most_recent_known_ip: usual ?? '',
        users_sharing_ip: ipShown,
        users_sharing_prefix: prefixShown,
        busiest_address_in_prefix: poolShown,
        user_address_churn: Math.round(addressChurn * 1000) / 1000,
        population_novelty_rate: rate(counts.poolNovel, counts.poolPeriods),
        users_sharing_network: networkShown,
        org_novel_network_share: orgNovelShare ?? 1,
        hosting_network_share: hostingShare ?? 1,
        user_country_rate: rate(countries.novel, countries.periods),
        population_country_rate: rate(countries.poolNovel, countries.poolPeriods),
        users_sharing_country: countryShown,
        p_user: judged === 'country' ? pCountryOwn! : pOwn,
        p_churn: pChurn,
        p_shared: pShared,
        p_country: pCountry ?? 1,
      },
    };
  },
};
