/**
 * The organisation's count of logons of one outcome per period, against its learned hour-of-week baseline: the
 * state and the judgement shared by Spike in Failed Logon Events and Spike in Logon Events (each keeps its own
 * slice, under its own key).
 *
 * Stored (`OrgVolume`, ~2 KB): the series (168 slots of the deployment's time zone, `zone` kept so a changed setting
 * moves the counts with the clock), the bucket the decayed numbers are valid at (`at`), the first bucket learned
 * (how long the baseline has been learning) and the last (learning is idempotent per bucket: a bucket at or before
 * it is never learned again, so a retried window or the overlapping half of the next one changes nothing).
 */
import * as z from 'zod';
import { DAY_MS, BUCKET_MS, type Finding, type LogonObservation, type Outcome, type TimeWindow } from '../model';
import { scoreFromProbability } from '../scoring';
import { plural, type EvidenceField } from '../detectors/detector';
import { clockText, localTime, weekdayName } from '../local-time';
import { countIn, periodsToJudge, topOf, type PeriodCount } from './periods';
import {
  cloneSeries,
  compactSeries,
  decayFactor,
  emptySeries,
  judge,
  learnPeriod,
  rotateSeries,
  scaleSeries,
  seriesSchema,
  silentBuckets,
  slotOf,
  zoneShiftHours,
  type Expectation,
  type Series,
} from './seasonal';

const bucket = z.number().int().min(0);

export const orgVolumeV1 = z.strictObject({
  zone: z.string().min(1),
  at: bucket,
  first: bucket,
  last: bucket,
  series: seriesSchema(),
});
export type OrgVolume = z.infer<typeof orgVolumeV1>;

/** Days a baseline learns before it judges: two of every weekday, so each hour of the week was seen twice. */
export const ORG_MIN_HISTORY_DAYS = 14;

/** The series as seen from `zone` (moved with the clock if the deployment's zone changed since it was learned). */
function seriesIn(v: OrgVolume, zone: string): Series {
  return v.zone === zone ? v.series : rotateSeries(v.series, zoneShiftHours(v.zone, zone, v.at * BUCKET_MS));
}

/**
 * The window's periods learned into the baseline; the input itself when every period was already learned. Only
 * observations of `outcome` count; buckets with none between the last learned and this one are learned as zeros.
 */
export function learnOrgVolume(
  previous: OrgVolume | undefined,
  observations: readonly LogonObservation[],
  outcome: Outcome,
  window: TimeWindow,
  zone: string,
): OrgVolume | undefined {
  // A window with nothing to learn from (its only logons were allowlisted accounts') is left as a window without
  // logons is: the next window with some learns the buckets between as silent. So an allowlisted account shapes
  // nothing, not even which buckets were learned.
  if (observations.length === 0) return previous;
  const periods = periodsToJudge(window, previous?.last);
  if (periods.length === 0) return previous;
  const series = previous ? cloneSeries(seriesIn(previous, zone)) : emptySeries();
  let at = previous?.at ?? periods[0]!;
  let last = previous?.last;
  const step = (b: number, count: number) => {
    scaleSeries(series, decayFactor(at, b));
    at = Math.max(at, b);
    const first = previous?.first ?? periods[0]!;
    learnPeriod(series, slotOf(b, zone), count, ((b - first) * BUCKET_MS) / DAY_MS >= ORG_MIN_HISTORY_DAYS);
    last = b;
  };
  for (const b of periods) {
    for (const g of silentBuckets(last, b)) step(g, 0);
    step(b, countIn(observations, b, (o) => o.outcome === outcome).count);
  }
  return { zone, at, first: previous?.first ?? periods[0]!, last: last!, series: compactSeries(series) };
}

/** One period judged against the baseline. */
export interface OrgJudgement {
  readonly period: PeriodCount;
  readonly expectation: Expectation;
  /** Days of learned baseline before the period. */
  readonly historyDays: number;
}

/**
 * The window's periods still to judge whose count is at least `minCount` and unusual (P ≤ `maxProbability`), once
 * the baseline has learned `ORG_MIN_HISTORY_DAYS`.
 */
export function judgeOrgVolume(
  state: OrgVolume | undefined,
  observations: readonly LogonObservation[],
  outcome: Outcome,
  window: TimeWindow,
  zone: string,
  minCount: number,
  maxProbability: number,
): OrgJudgement[] {
  if (!state) return [];
  const series = seriesIn(state, zone);
  const out: OrgJudgement[] = [];
  for (const b of periodsToJudge(window, state.last)) {
    const historyDays = ((b - state.first) * BUCKET_MS) / DAY_MS;
    if (historyDays < ORG_MIN_HISTORY_DAYS) continue;
    const period = countIn(observations, b, (o) => o.outcome === outcome);
    if (period.count < minCount) continue;
    const expectation = judge(series, slotOf(b, zone), Math.round(period.count));
    if (expectation.probability > maxProbability) continue;
    out.push({ period, expectation, historyDays: Math.floor(historyDays) });
  }
  return out;
}

/** `Tuesday 14:15–14:30 Europe/Lisbon`: the period on the deployment's clock. */
export function periodText(b: number, zone: string): string {
  const from = localTime(b * BUCKET_MS, zone);
  const to = localTime((b + 1) * BUCKET_MS, zone);
  return `${weekdayName(from.weekday)} ${clockText(from.hour, from.minute)}–${clockText(to.hour, to.minute)} ${zone}`;
}

/** `0–3`: a typical range for people. */
export function rangeText(e: Pick<Expectation, 'low' | 'high'>): string {
  return e.low === e.high ? `${e.low}` : `${e.low}–${e.high}`;
}

/** `203.0.113.9: 120, 198.51.100.4: 20, …`: the largest parts of a count. */
export function topText(m: ReadonlyMap<string, number>, n = 3): string {
  const top = topOf(m, n);
  return top.map((t) => `${t.key}: ${t.count}`).join(', ') + (m.size > n ? ', …' : '');
}

/** `["203.0.113.9: 120", …]`: the largest parts as evidence (bounded). */
export function topEvidence(m: ReadonlyMap<string, number>, n = 5): string[] {
  return topOf(m, n).map((t) => `${t.key}: ${t.count}`);
}

/** The aggregate observation a period's finding stands on: its first event in the period, its total, its hosts. */
export function periodObservation(period: PeriodCount, outcome: Outcome, user: string): LogonObservation {
  const start = period.bucket * BUCKET_MS;
  const end = start + BUCKET_MS - 1;
  const obs = period.observations;
  const first = Math.min(end, Math.max(start, Math.min(...obs.map((o) => o.firstSeen))));
  const last = Math.min(end, Math.max(first, Math.max(...obs.map((o) => o.lastSeen))));
  const busiest = topOf(period.bySource, 1)[0]?.key ?? '';
  const owner = obs.find((o) => o.sourceIp === busiest && o.owner)?.owner;
  const hosts = [...new Set(obs.flatMap((o) => o.hosts))].sort().slice(0, 10);
  const methods = [...new Set(obs.flatMap((o) => o.methods))].sort().slice(0, 10);
  return {
    user,
    sourceIp: busiest,
    outcome,
    count: Math.round(period.count),
    firstSeen: first,
    lastSeen: last,
    hosts,
    methods,
    logSource: obs[0]?.logSource ?? '',
    ...(owner ? { owner } : {}),
  };
}

/** ` (as often as the N recent periods with a burst this large say)`, when the baseline has had such bursts. */
export function similarText(e: Pick<Expectation, 'similarPeriods'>): string {
  return e.similarPeriods > 0
    ? ` (as often as the ${e.similarPeriods.toFixed(1)} recent periods with a burst this large, decayed, say)`
    : '';
}

/** What an organisation-level spike finding says, in the words of its detector. */
export interface OrgSpikeWords {
  /** `failed logons`, `successful logons`. */
  readonly what: string;
}

/**
 * The findings of an organisation-level spike detector for the window: one per unusual period, about no user
 * (`user` empty), its address the period's busiest, its explanation expected against actual.
 */
export function orgSpikeFindings(
  detectorId: string,
  state: OrgVolume | undefined,
  input: { observations: readonly LogonObservation[]; window: TimeWindow; zone: string; maxProbability: number },
  outcome: Outcome,
  minCount: number,
  words: OrgSpikeWords,
): Finding[] {
  return judgeOrgVolume(
    state,
    input.observations,
    outcome,
    input.window,
    input.zone,
    minCount,
    input.maxProbability,
  ).map(({ period, expectation: e, historyDays }) => {
    const actual = Math.round(period.count);
    const slot = periodText(period.bucket, input.zone);
    const p = e.probability;
    const explanation =
      `Usually ${rangeText(e)} ${words.what} in this period of a ${slot.replace(' ', ' (')}); ` +
      `this period: ${actual}, from ${plural(period.bySource.size, 'address', 'addresses')} (${topText(period.bySource)}) ` +
      `and ${plural(period.byUser.size, 'account')} (${topText(period.byUser)}). ` +
      `Expected about ${e.mean.toFixed(1)}; chance of ${actual} or more in such a period ` +
      `${e.periodProbability.toPrecision(2)}${similarText(e)}, of a day with such a period ${p.toPrecision(2)} ` +
      `(${historyDays} days of learned baseline).`;
    return {
      detectorId,
      user: '',
      sourceIp: topOf(period.bySource, 1)[0]?.key ?? '',
      observation: periodObservation(period, outcome, ''),
      outcome,
      score: scoreFromProbability(p),
      probability: p,
      explanation,
      evidence: {
        actual_count: actual,
        typical_range: rangeText(e),
        expected_count: Math.round(e.mean * 10) / 10,
        period: slot,
        top_sources: topEvidence(period.bySource),
        top_users: topEvidence(period.byUser),
        addresses: period.bySource.size,
        accounts: period.byUser.size,
        history_days: historyDays,
        period_probability: Number(e.periodProbability.toPrecision(3)),
        similar_periods: Math.round(e.similarPeriods * 10) / 10,
        overdispersion: Number(e.alpha.toPrecision(3)),
      },
    };
  });
}

/** The evidence fields of an organisation-level spike, in reading order. */
export const ORG_SPIKE_FIELDS = {
  actual_count: { label: 'Logons in this period', format: 'count' },
  typical_range: { label: 'Typical range for this period (5th–95th percentile)', format: 'text' },
  expected_count: { label: 'Expected count', format: 'number' },
  period: { label: 'Period (local time)', format: 'text' },
  top_sources: { label: 'Top source addresses', format: 'text' },
  top_users: { label: 'Top accounts', format: 'text' },
  addresses: { label: 'Addresses', format: 'count' },
  accounts: { label: 'Accounts', format: 'count' },
  history_days: { label: 'Days of learned baseline', format: 'days' },
  period_probability: { label: 'Chance of this many in such a period', format: 'probability' },
  similar_periods: { label: 'Recent periods with a burst this large (decayed)', format: 'number' },
} as const satisfies Readonly<Record<string, EvidenceField>>;
