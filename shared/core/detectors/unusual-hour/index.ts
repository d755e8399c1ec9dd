/**
 * Auth.UnusualHour — port of Elastic's "Unusual Hour for a User to Logon" (ML job `auth_rare_hour_for_a_user`:
 * `time_of_day` by user.name).
 *
 * A user logged on successfully at an hour of the day they do not use. The case it exists for: a stolen
 * credential used at 03:00 from the user's own usual address (a compromised laptop, a VPN session, a cookie
 * replayed through the user's proxy), which the rare-user and unusual-source-IP detectors both miss.
 *
 * Where it does better than Elastic's job, which its users asked for:
 * - it judges in the user's local time (the deployment's `timeZone`, overridable per user pattern in
 *   `userTimeZones`; IANA names, daylight saving included): Elastic models UTC, so after a DST change every
 *   regular logon moves by an hour;
 * - it learns weekdays and weekends apart: Saturday 10:00 is judged against the user's Saturdays (or, with
 *   few of them, their weekday hours and the organisation's weekends), not against their Mondays;
 * - accounts active around the clock (services, on-call rotations) never alert;
 * - one alert per session: a logon within 30 minutes of activity already judged continues that session.
 *
 * Model (see hours.ts): decayed counts of active 15-minute buckets per local hour, smoothed across neighbouring
 * hours, with the organisation's pattern for the same day type as a Dirichlet prior worth 8 buckets. The
 * probability is Elastic-`rare`-like: the chance an active bucket falls in an hour at most as likely as this one.
 */
import { BUCKET_MS, bucketOf, DAY_MS, type Finding } from '../../model';
import { clockText, isWeekend, localTime, weekdayName } from '../../local-time';
import { isUserMature } from '../../habits';
import { scoreFromProbability } from '../../scoring';
import {
  SEED_RULE_RISK_SCORE,
  SEED_RULE_SEVERITY,
  USER_HISTORY_FIELDS,
  VALID_ACCOUNTS_MITRE,
  isoDate,
  pct,
  plural,
  populationStateOf,
  userStateOf,
  type LogonDetector,
  type DetectorInput,
} from '../detector';
import {
  hourProbabilities,
  isAroundTheClock,
  mix,
  populationPrior,
  shares,
  smooth,
  sum,
  tailProbability,
  usualHours,
  type DayType,
  type HourCounts,
} from './hours';
import { countsIn, unusualHourState, zoneOf, type PopulationHours } from './state';

/** Weeks of learned pattern before a user is judged: one full week, so weekdays and a weekend were both seen. */
export const MIN_HISTORY_DAYS = 7;
/** Buckets of a day type a user needs before their own weekend pattern replaces borrowing their weekday shape. */
export const OWN_PATTERN_BUCKETS = 20;
/** A logon within this many buckets of activity already judged continues that session (one alert per session). */
export const SESSION_GAP_BUCKETS = 2;

const OTHER: Record<DayType, DayType> = { weekday: 'weekend', weekend: 'weekday' };

/**
 * The prior over hours for a user's day type: the organisation's pattern for that day type (its other day type's
 * while it has little of this one: an organisation that never works weekends still sleeps at night); for a day
 * type the user has little of (most people's weekends), half of it is the user's own other-day shape, so a
 * weekday worker's Saturday morning is judged by their mornings.
 */
export function priorFor(c: HourCounts, day: DayType, pop: PopulationHours | undefined): number[] {
  const popPrior = populationPrior(pop?.[popDayFor(day, pop)] ?? []);
  const own = sum(c[day]);
  const other = c[OTHER[day]];
  if (own >= OWN_PATTERN_BUCKETS || sum(other) < OWN_PATTERN_BUCKETS) return popPrior;
  return mix(shares(smooth(other)), popPrior, 0.5);
}

/** The day type whose organisation pattern stands for `day`: its own, unless the organisation has little of it. */
function popDayFor(day: DayType, pop: PopulationHours | undefined): DayType {
  return pop && sum(pop[day]) < OWN_PATTERN_BUCKETS ? OTHER[day] : day;
}

/**
 * The finding's probability from two: how unusual the hour is for the user (`pUser`) and for the organisation's
 * people (`pOrg`, the same tail over the organisation's pattern for the day type). Their geometric mean: an hour
 * the user never uses but colleagues often do (an evening look at the mail) is weaker evidence than one nobody
 * here uses (03:00), while an hour common for the user is never a finding (p ≥ pUser is checked first). With no
 * organisation pattern learned yet, pOrg is 1 and only a user-side probability below the cut-off squared alerts.
 */
export function combinedProbability(pUser: number, pOrg: number): number {
  return Math.sqrt(pUser * pOrg);
}

function hoursText(u: { from: number; to: number }): string {
  return `${clockText(u.from)}–${clockText(u.to)}`;
}

export const unusualHour: LogonDetector<'Auth.UnusualHour'> = {
  id: 'Auth.UnusualHour',
  name: 'Unusual Hour for a User to Logon',
  shortLabel: 'Unusual hour',
  columnLabel: 'odd hour',
  // Higher than the other rules' 75: on the labelled evaluation, findings between 75 and 85 were nearly all a
  // person's first evening session in weeks (p 0.004–0.01), while every off-hours misuse scored above 85 (deep
  // night, p ≤ 0.002). An operator who wants the evenings too lowers it to Elastic's 75.
  defaultThreshold: 85,
  description:
    'A user logged on successfully at an hour of the day, in their own time zone, at which they are not usually active. Valid credentials used at night or at the weekend from the usual address can be a stolen session or a compromised device; the unusual-source-IP rule does not see it.',
  severity: SEED_RULE_SEVERITY,
  riskScore: SEED_RULE_RISK_SCORE,
  elasticJob: 'auth_rare_hour_for_a_user',
  references: [
    'https://www.elastic.co/guide/en/security/current/unusual-hour-for-a-user-to-logon.html',
    'https://www.elastic.co/guide/en/security/current/prebuilt-ml-jobs.html',
  ],
  mitre: VALID_ACCOUNTS_MITRE,
  investigation: [
    'Contact the user: were they working at this hour (on call, a deadline, travelling in another time zone)?',
    'Check the time zone the alert judged in: a user who moved or works remotely may need a userTimeZones entry.',
    'Review what the session did on the host(s) named in the alert: commands run, data read or copied, new keys or accounts.',
    "Check the device and address: is it the user's own, and was the user's session active elsewhere at the same time?",
    'If the user did not log on: reset the credentials, end the sessions, and look for how they were obtained.',
  ],
  falsePositives: [
    'Late work, an incident or a release outside usual hours; on-call duty not yet learned.',
    'Travel across time zones (the alert judges in the configured zone); a user whose zone is not configured.',
    'Automation started under a person’s account.',
  ],
  groupBy: 'user',
  oneAlertPerUser: true,
  silence({ user }, cmd) {
    return [
      'The user was working (late work, on call): nothing to do; the hour is learned as it recurs.',
      'Works in another time zone: add a userTimeZones entry for the user to the deployment configuration.',
      `Never alert on this account (service, rota): ${cmd.allowUser(user)}`,
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    local_time: { label: 'Local time', format: 'text' },
    local_day: { label: 'Day', format: 'text' },
    time_zone: { label: 'Time zone', format: 'text' },
    usual_hours: { label: 'Usual hours (this day type)', format: 'text' },
    usual_hours_share: { label: 'Share of activity in usual hours', format: 'percent' },
    active_periods: { label: 'Active 15-minute periods (this day type)', format: 'number' },
    periods_this_hour: { label: 'Active periods in this hour', format: 'number' },
    population_share_this_hour: { label: "Organisation's activity in this hour", format: 'percent' },
    history_days: { label: 'Days of learned pattern', format: 'days' },
    user_probability: { label: 'How unusual for the user (probability)', format: 'probability' },
    organisation_probability: { label: 'How unusual in the organisation (probability)', format: 'probability' },
    ...USER_HISTORY_FIELDS,
  },
  state: unusualHourState,

  evaluate({ observation: o, baseline, population, window, settings }: DetectorInput): Finding | null {
    if (o.outcome !== 'success' || !baseline) return null;
    const learned = userStateOf(unusualHourState, baseline);
    if (!learned || !isUserMature(baseline, settings)) return null;
    const b = bucketOf(o.firstSeen);
    // A session already judged (activity in this bucket or the two before it was learned): one alert per session.
    if (learned.recent.some((r) => r >= b - SESSION_GAP_BUCKETS && r <= b)) return null;
    if ((b - learned.first) * BUCKET_MS < MIN_HISTORY_DAYS * DAY_MS) return null;
    const zone = zoneOf(settings, o.user);
    const counts = countsIn(learned, zone, window.end);
    if (sum(counts.weekday) + sum(counts.weekend) < settings.minUserBuckets) return null;
    if (isAroundTheClock(counts)) return null;

    const local = localTime(o.firstSeen, zone);
    const day: DayType = isWeekend(local.weekday) ? 'weekend' : 'weekday';
    const pop = populationStateOf(unusualHourState, population);
    const probs = hourProbabilities(smooth(counts[day]), priorFor(counts, day, pop));
    const pUser = tailProbability(probs, local.hour);
    // Early exit before the organisation's side: p ≥ pUser, so an hour ordinary for the user is never a finding.
    if (pUser > settings.maxProbability) return null;
    const pOrg = tailProbability(populationPrior(pop?.[popDayFor(day, pop)] ?? []), local.hour);
    const p = combinedProbability(pUser, pOrg);
    if (p > settings.maxProbability) return null;

    const own = sum(counts[day]);
    const thisHour = counts[day][local.hour]!;
    const popShare = pop ? (shares(pop[day])[local.hour] ?? 0) : 0;
    const historyDays = Math.floor(((b - learned.first) * BUCKET_MS) / DAY_MS);
    const usual = usualHours(counts[day]) ?? usualHours(counts[OTHER[day]]);
    const usualDay = usualHours(counts[day]) ? day : OTHER[day];
    const dayWords = (d: DayType) => (d === 'weekday' ? 'weekdays' : 'weekends');
    const habit = usual
      ? `On ${dayWords(usualDay)} ${o.user} logs on ${hoursText(usual)} (${pct(usual.share)} of ${plural(Math.round(sum(counts[usualDay])), 'active period')})` +
        (usualDay !== day ? `, and seldom at ${dayWords(day)} (${plural(Math.round(own), 'active period')})` : '')
      : `${o.user} has little history on ${dayWords(day)}`;
    const when = `${clockText(local.hour, local.minute)} on a ${weekdayName(local.weekday)}, ${zone} time`;
    const rarity =
      thisHour < 0.5
        ? `an hour with no activity in ${plural(historyDays, 'day')} of learned pattern`
        : `an hour with ${pct(own > 0 ? thisHour / own : 0)} of their ${day} activity`;
    const explanation =
      `${o.user} logged on at ${when} (from ${o.sourceIp}): ${rarity}. ${habit}. ` +
      `${pct(popShare)} of the organisation's ${day} activity falls in this hour. ` +
      `Probability ${p.toPrecision(2)} (for the user ${pUser.toPrecision(2)}, for the organisation ${pOrg.toPrecision(2)}).`;

    return {
      detectorId: this.id,
      user: o.user,
      sourceIp: o.sourceIp,
      observation: o,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence: {
        local_time: clockText(local.hour, local.minute),
        local_day: weekdayName(local.weekday),
        time_zone: zone,
        usual_hours: usual ? hoursText(usual) : 'none yet',
        usual_hours_share: usual ? Math.round(usual.share * 1000) / 1000 : 0,
        active_periods: Math.round(own * 10) / 10,
        periods_this_hour: Math.round(thisHour * 10) / 10,
        population_share_this_hour: Math.round(popShare * 1e4) / 1e4,
        history_days: historyDays,
        user_probability: Number(pUser.toPrecision(3)),
        organisation_probability: Number(pOrg.toPrecision(3)),
        user_first_seen: isoDate(baseline.activity.first),
        user_last_seen: new Date(baseline.activity.last).toISOString(),
        days_active: baseline.activity.days,
      },
    };
  },
};
