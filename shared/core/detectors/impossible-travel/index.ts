/**
 * Auth.ImpossibleTravel — one user's successful logons from places farther apart than anyone could travel in the
 * time between: a stolen session or credential used abroad while the owner is at home. The rule of GuardDuty,
 * Entra ID Protection (atypical travel), Okta's velocity, Elastic's and Panther's rules: at least 500 km apart and
 * at least 900 km/h (an airliner's cruise).
 *
 * Location is the country the source range is registered in (the offline network data: `observation.owner`),
 * so distances are lower bounds (geo.ts): the distance between the two countries' points less both countries'
 * extents, 0 for neighbours. The time is from the previous located logon's time to this one's first.
 *
 * What makes such rules noisy, and what this one does about it:
 * - VPN and corporate egress: an address the organisation's users share (the population's sketch) does not locate
 *   this logon, and locates a previous one only when it agrees with the user's own address before it (an office
 *   NAT in the country the user was at home in the evening, yes; a VPN egress abroad, no);
 * - cloud-hosted desktops, secure web gateways, VPN providers' servers: a hosting owner (hosting.ts) locates no one;
 * - a multinational carrier or VPN registering ranges in several countries (a mobile carrier's hub abroad): the
 *   same AS in both places is not a journey;
 * - a user who goes between the same two countries on earlier days (a phone whose carrier exits abroad, a home VPN):
 *   learned per user (state.ts), not a journey;
 * - toggling and returns (one device on a VPN, another not; the owner back at work after an intruder's logon):
 *   a country the user already logged on from in the last day (from any address) is not judged again, so one
 *   excursion is one alert;
 * - geolocation error: country-level distance floors, never point to point.
 * A user without located logons (no network data loaded, private addresses) is never judged.
 */
import { sharedUsers } from '../../population';
import { hostCidr, placeOf, sharedAddressKey } from '../../net';
import { DAY_MS, type Finding, type PopulationStats } from '../../model';
import { ownerText } from '../../enrich';
import { scoreFromProbability } from '../../scoring';
import {
  VALID_ACCOUNTS_MITRE,
  plural,
  travelUntil,
  userStateOf,
  type DetectorInput,
  type LogonDetector,
} from '../detector';
import { countryPlace, greatCircleKm, minDistanceKm } from './geo';
import {
  earlierPairDays,
  impossibleTravelState,
  lastElsewhere,
  locatedCountry,
  MEMORY_MS,
  REGULAR_PAIR_DAYS,
  type TravelPoint,
} from './state';

/** Least distance (km) between the two places for a finding: closer places are within geolocation error. */
export const MIN_DISTANCE_KM = 500;
/** Least speed (km/h) for a finding: an airliner's cruise. */
export const MIN_SPEED_KMH = 900;
/** An address this many of the organisation's users log on from is shared egress (VPN, office NAT). */
export const SHARED_EGRESS_USERS = 3;
/** Probability at `MIN_SPEED_KMH`: the score the default threshold (75) starts at. */
export const P_AT_MIN_SPEED = 0.01;
/** Time floor (ms) for the speed of logons at the same time: a minute. */
const MIN_GAP_MS = 60_000;

/**
 * The finding's probability from the speed (a lower bound, km/h): 0.01 at 900 km/h and falling with the square
 * of the speed (1,800 km/h: 0.0025; 17,800 km/h: 0.000026). Not fitted on data: a monotone scale on which the
 * default threshold, 75 (p = 0.01), is the industry's 900 km/h, and a deployment that finds the rule noisy raises
 * its threshold to demand a faster trip (87: about 1,600 km/h; 94: about 2,800 km/h).
 */
export function travelProbability(speedKmh: number): number {
  return P_AT_MIN_SPEED * (MIN_SPEED_KMH / Math.max(speedKmh, MIN_SPEED_KMH)) ** 2;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** `40 minutes`, `2 hours 5 minutes`: the time between two logons as a person says it. */
export function durationText(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return plural(minutes, 'minute');
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(m, 'minute')}`;
}

/**
 * The user's located logons that still say where they were: those from their own addresses, and those from an
 * address the organisation shares only when it is in the country of the user's own address before it. An office
 * NAT is where the office is, and a user at home in that country the evening before is plausibly there; a VPN
 * egress abroad (or any shared egress with no own address before it in the last day) says nothing about where the
 * user sits, and taking it for a place would make the next logon from home look like a journey.
 */
export function trustedPoints(points: readonly TravelPoint[], population: PopulationStats): TravelPoint[] {
  const out: TravelPoint[] = [];
  let own: string | undefined;
  for (const p of [...points].sort((a, b) => a.t - b.t)) {
    if (sharedUsers(population.sharedIps, sharedAddressKey(p.ip)) < SHARED_EGRESS_USERS) {
      own = p.c;
      out.push(p);
    } else if (p.c === own) out.push(p);
  }
  return out;
}

export const impossibleTravel: LogonDetector<'Auth.ImpossibleTravel'> = {
  id: 'Auth.ImpossibleTravel',
  name: 'Impossible Travel between a User’s Logons',
  shortLabel: 'Impossible travel',
  columnLabel: 'travel',
  defaultThreshold: 75,
  description:
    'A user logged on successfully from a country farther from the previous logon’s than anyone could travel in the time between (at least 500 km at over 900 km/h, with geolocation error allowed for). A stolen session or credential used abroad while the owner is at home looks like this.',
  // Medium, as GuardDuty's, Entra ID Protection's and Okta's travel detections are rated: a physical
  // impossibility, with the known noise (shared egress, hosting, carriers' hubs, habits) taken out, is stronger
  // evidence than a rarity; Elastic's medium risk score.
  severity: 'medium',
  riskScore: 47,
  references: [
    'https://learn.microsoft.com/en-us/entra/id-protection/concept-identity-protection-risks',
    'https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_finding-types-iam.html',
    'https://www.naturalearthdata.com/downloads/50m-cultural-vectors/',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Contact the user: where are they, and did they log on from the second country (a VPN, a remote desktop, a colleague using their account)?',
    'Look both addresses up: owner, VPN or proxy service, hosting; an egress the organisation uses belongs in allowCidrs.',
    'Compare the sessions: devices and user agents, hosts reached, what each did after logging on.',
    'Check failed logons from the second address, against this and other users (password spraying before a success).',
    'If the user did not log on from there: end the sessions, reset the credentials and any tokens, and look for how they were obtained.',
  ],
  falsePositives: [
    'A VPN, proxy or secure web gateway not yet used by several of the organisation’s users, or a personal VPN switched on and off.',
    'A network registered in one country and used in another (a carrier’s or ISP’s range registered at its head office).',
    'Two devices of one user on different egresses at once (a phone roaming, a laptop on hotel Wi-Fi).',
  ],
  groupBy: 'user',
  marksPlaceSuspect: true,
  oneAlertPerUser: true,
  silence({ user, sourceIp, alertId, at, owner }, cmd) {
    const until = travelUntil(at);
    return [
      `The user confirms it (their VPN, remote desktop or phone): ${cmd.benign(alertId)}`,
      // The user really is there: their logons from that country are allowed for two weeks after this one.
      ...(owner?.country !== undefined && until !== undefined
        ? [`The user travels in ${owner.country}: ${cmd.allowCountry(owner.country, user, until)}`]
        : []),
      `This network is the user’s own egress: ${cmd.allowCidr(placeOf(sourceIp, 'prefix'), user)}`,
      `An egress of the organisation (VPN, gateway): ${cmd.allowCidr(hostCidr(sourceIp))}`,
      'The user goes between these two countries regularly: after two days of it the pair is learned and no longer alerts.',
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    from_country: { label: 'Previous country', format: 'text' },
    to_country: { label: 'This country', format: 'text' },
    previous_logon: { label: 'Previous located logon', format: 'time' },
    previous_ip: { label: 'Previous address', format: 'text' },
    previous_owner: { label: 'Previous network (AS)', format: 'text' },
    owner: { label: 'Network owner', format: 'text' },
    minutes_between: { label: 'Minutes between', format: 'number' },
    min_distance_km: { label: 'Least distance (km)', format: 'count' },
    country_points_km: { label: "Distance between the countries' points (km)", format: 'count' },
    min_speed_kmh: { label: 'Least speed (km/h)', format: 'count' },
    earlier_pair_days: { label: 'Earlier days between these countries', format: 'count' },
    users_sharing_ip: { label: "Organisation's users of this address", format: 'count' },
  },
  state: impossibleTravelState,

  evaluate({ observation: o, baseline, population }: DetectorInput): Finding | null {
    if (o.outcome !== 'success' || !baseline || !o.owner) return null;
    const hereCode = locatedCountry(o);
    if (!hereCode) return null;
    const learned = userStateOf(impossibleTravelState, baseline);
    if (!learned) return null;
    const ipUsers = sharedUsers(population.sharedIps, sharedAddressKey(o.sourceIp));
    if (ipUsers >= SHARED_EGRESS_USERS) return null;

    const t = o.firstSeen;
    // Only a country not used in the last day, from any address (a shared one in this country is consistent with
    // the user being here): a return or a toggle between two egresses was judged on the way out.
    const inMemory = (p: TravelPoint) => p.t >= t - MEMORY_MS;
    if (learned.points.some((p) => inMemory(p) && p.c === hereCode && p.t < t)) return null;
    // Trust is decided over every stored point, so an office logon keeps its anchor at home the evening before.
    const from = lastElsewhere(trustedPoints(learned.points, population).filter(inMemory), hereCode, t);
    if (!from) return null;
    if (from.a === o.owner.asn) return null;
    const pairDays = earlierPairDays(learned, from.c, hereCode, t);
    if (pairDays >= REGULAR_PAIR_DAYS) return null;

    const there = countryPlace(from.c)!;
    const here = countryPlace(hereCode)!;
    const km = minDistanceKm(there, here);
    if (km < MIN_DISTANCE_KM) return null;
    const gapMs = Math.max(t - from.t, 0);
    const speed = km / (Math.max(gapMs, MIN_GAP_MS) / 3_600_000);
    if (speed < MIN_SPEED_KMH) return null;
    const p = travelProbability(speed);

    const when = gapMs < MIN_GAP_MS ? 'and at the same time' : `then ${durationText(gapMs)} later`;
    const explanation =
      `${o.user} logged on from ${there.name} (${from.ip}, AS${from.a}), ${when} from ${here.name} ` +
      `(${o.sourceIp}, ${ownerText(o.owner)}): at least ${NUMBER.format(km)} km, at least ${NUMBER.format(speed)} km/h ` +
      `(an airliner cruises at ${NUMBER.format(MIN_SPEED_KMH)}). Distances are between countries less their extents, ` +
      `as the network data places addresses only by country; ` +
      (pairDays > 0
        ? `${o.user} went between these countries on ${plural(pairDays, 'earlier day')} in the last 60 days. `
        : `${o.user} has not gone between these countries before. `) +
      `Probability ${p.toPrecision(2)}.`;

    return {
      detectorId: this.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence: {
        from_country: `${there.name} (${there.code})`,
        to_country: `${here.name} (${here.code})`,
        previous_logon: new Date(from.t).toISOString(),
        previous_ip: from.ip,
        previous_owner: `AS${from.a}`,
        owner: ownerText(o.owner),
        minutes_between: Math.round(gapMs / 6000) / 10,
        min_distance_km: Math.round(km),
        country_points_km: Math.round(greatCircleKm(there, here)),
        min_speed_kmh: Math.round(speed),
        earlier_pair_days: pairDays,
        users_sharing_ip: Math.round(ipUsers),
        user_days_active: baseline.activity.days,
        history_days: Math.max(0, Math.floor((t - baseline.activity.first) / DAY_MS)),
      },
    };
  },
};
