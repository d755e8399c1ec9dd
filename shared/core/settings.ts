/**
 * Detection settings: every tunable in one place, defaults merged with overrides in one visible spot,
 * validated by one zod schema (used by the Lambda's env config, the CLI flags and the CDK context).
 */
import * as z from 'zod';
import {
  allowAsnSettingSchema,
  allowCidrSettingSchema,
  allowCountriesProblem,
  allowCountrySettingSchema,
  allowUserSettingSchema,
} from './allow-rules';
import { DETECTORS } from './detectors';
import { timeZoneSchema, userTimeZoneSchema } from './local-time';

/** The id of a registered detector. */
export type DetectorId = (typeof DETECTORS)[number]['id'];
/** The registered detectors' ids, in registry order. */
export const DETECTOR_IDS: readonly DetectorId[] = DETECTORS.map((d) => d.id);

/** One threshold per registered detector, each defaulting to the detector's own `defaultThreshold`. */
const thresholdsSchema = z
  .object(
    Object.fromEntries(DETECTORS.map((d) => [d.id, z.number().min(0).max(100).default(d.defaultThreshold)])) as Record<
      DetectorId,
      z.ZodDefault<z.ZodNumber>
    >,
  )
  .default(Object.fromEntries(DETECTORS.map((d) => [d.id, d.defaultThreshold])) as Record<DetectorId, number>);

export const detectionSettingsSchema = z.object({
  /** Days after the first run during which baselines learn and nothing alerts (Elastic's jobs look back two weeks). */
  learningDays: z.number().min(0).max(365).default(14),
  /** Alert at or above this score, per detector (Elastic's rules use anomaly score >= 75). */
  thresholds: thresholdsSchema,
  /** Elastic's rules raise at most 100 alerts per run (max_signals). */
  maxAlertsPerRun: z.number().int().min(1).max(1000).default(100),
  /**
   * User names never alerted on: exact names or `*` globs (case-insensitive), e.g. `svc-*`; an item may also be
   * `{ "user": "<pattern>", "until": "YYYY-MM-DD" }` (see `allowUserSettingSchema`).
   */
  allowUsers: z.array(allowUserSettingSchema).default([]),
  /**
   * Source CIDRs never alerted on (scanners, your own bastions), in canonical form; see `allowCidrSchema`. An item
   * may also be `{ "cidr", "user"?, "until"?, "note"? }`: for one user only, until a day (`allowCidrSettingSchema`).
   */
  allowCidrs: z.array(allowCidrSettingSchema).default([]),
  /**
   * Networks never alerted on, by the AS that announces the source address (`AS64496` or `64496`, kept as the
   * number); see `allowAsnSchema`. Matched against the offline network data: without it, nothing matches. An item
   * may also be `{ "asn", "user"?, "until"?, "note"? }`.
   */
  allowAsns: z.array(allowAsnSettingSchema).default([]),
  /**
   * Countries never alerted on (ISO 3166-1 alpha-2, kept upper case), by where the source range is registered in
   * the offline network data; see `allowCountrySchema`. An item may also be `{ "country", "user"?, "until"?,
   * "note"? }`: `{ "country": "JP", "user": "alice", "until": "2026-12-18" }` is alice's trip, as `authwatch allow
   * country JP --user alice --until 2026-12-18` is.
   */
  allowCountries: z
    .array(allowCountrySettingSchema)
    .superRefine((list, ctx) => {
      // Entries for every user count, with or without an end: until then they would silence every alert.
      const problem = allowCountriesProblem(
        list.flatMap((e) => (typeof e === 'string' ? [e] : e.user === undefined ? [e.country] : [])),
      );
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default([]),
  /** A user needs this many active 15-minute buckets of history before the IP detector judges them (Elastic: ~20 buckets). */
  minUserBuckets: z.number().int().min(1).default(20),
  /** ... spread over at least this many distinct days. */
  minUserDays: z.number().int().min(1).default(4),
  /** A user silent this many days who logs on again is treated as returning from dormancy. */
  dormantDays: z.number().min(1).default(30),
  /** Only probabilities at or below this are anomalous at all (Elastic's cut-off). */
  maxProbability: z.number().gt(0).max(1).default(0.035),
  /**
   * Days an address an alert was raised on stays suspect for its user unless `authwatch benign` answers it: not
   * learned as the user's place nor as shared for everyone, and the first logon from it on a later day raises one
   * follow-up of the alert. After that, unanswered, it is learned like any place (baseline-update.ts). 7: a working week and a
   * weekend for someone to look, short enough that a real move (a new ISP) is not followed up for long.
   */
  suspectDays: z.number().min(1).max(90).default(7),
  /** Keep alert-ledger entries this many days (DynamoDB TTL). */
  ledgerTtlDays: z.number().int().min(1).max(3650).default(30),
  /**
   * After an outage, the detector analyses at most this many days of missed logons (in 15-minute chunks over
   * successive runs, oldest first); older ones are skipped, and the skip is recorded, alarmed and shown by
   * `authwatch status` for `authwatch backfill --alerts`. 7 days: at ~100 chunks per run the schedule works
   * through a week in about 8 runs (2 hours), alerts on a week-old logon are still worth acting on, and every
   * default log retention keeps a week. Beyond that, one outage would hold the detector in catch-up for hours.
   */
  maxBacklogDays: z.number().min(1).max(90).default(7),
  /**
   * At most this many 15-minute backlog chunks per run (also bounded by the run's remaining time): bounds the
   * queries and writes of one run. 96 = one day of backlog per run.
   */
  catchUpChunksPerRun: z.number().int().min(1).max(2000).default(96),
  /**
   * The IANA time zone most users work in (`Europe/Berlin`): detectors that judge when people log on read the
   * hour and the day of the week there, daylight saving included. UTC by default, which is only right for an
   * organisation that lives in UTC; set it.
   */
  timeZone: timeZoneSchema.default('UTC'),
  /**
   * Users who work elsewhere: `{ "pattern": "apac-*", "timeZone": "Asia/Singapore" }`, first match wins
   * (patterns as in `allowUsers`); everyone else is in `timeZone`.
   */
  userTimeZones: z.array(userTimeZoneSchema).max(200).default([]),
});

export type DetectionSettings = z.infer<typeof detectionSettingsSchema>;
export type DetectionSettingsInput = z.input<typeof detectionSettingsSchema>;

export const DEFAULT_SETTINGS: DetectionSettings = detectionSettingsSchema.parse({});

/** Flatten zod issues into `path: message` lines a person can act on. */
export function formatIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
  prefix = '',
): string[] {
  return issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
}

/**
 * The settings as the detector function's environment carries them: only what differs from the defaults (a
 * threshold left at its default is left out), which the function's parse fills in again (`detectionSettingsSchema`
 * gives the same object back). Lambda's environment is 4 KB for everything; every detector added would otherwise
 * take its default threshold's bytes from what the operator's allowlists and log groups can use.
 */
export function settingsForEnvironment(s: DetectionSettings): Partial<DetectionSettingsInput> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(s) as [keyof DetectionSettings, unknown][]) {
    const base = DEFAULT_SETTINGS[key];
    if (key === 'thresholds') {
      const set = Object.entries(value as Record<string, number>).filter(
        ([id, v]) => v !== (base as Record<string, number>)[id],
      );
      if (set.length > 0) out[key] = Object.fromEntries(set);
    } else if (JSON.stringify(value) !== JSON.stringify(base)) out[key] = value;
  }
  return out as Partial<DetectionSettingsInput>;
}
