/**
 * Detection settings: every tunable in one place, defaults merged with overrides in one visible spot,
 * validated by one zod schema (used by the Lambda's env config, the CLI flags and the CDK context).
 */
import * as z from 'zod';

export const DETECTOR_IDS = ['Auth.RareUser', 'Auth.UnusualSourceIp'] as const;
export type DetectorId = (typeof DETECTOR_IDS)[number];

export const detectionSettingsSchema = z.object({
  /** Days after the first run during which baselines learn and nothing alerts (Elastic's jobs look back two weeks). */
  learningDays: z.number().min(0).max(365).default(14),
  /** Alert at or above this score, per detector (Elastic's rules use anomaly score >= 75). */
  thresholds: z
    .object({ 'Auth.RareUser': z.number().min(0).max(100).default(75), 'Auth.UnusualSourceIp': z.number().min(0).max(100).default(75) })
    .default({ 'Auth.RareUser': 75, 'Auth.UnusualSourceIp': 75 }),
  /** Elastic's rules raise at most 100 alerts per run (max_signals). */
  maxAlertsPerRun: z.number().int().min(1).max(1000).default(100),
  /** User names never alerted on: exact names or `*` globs (case-insensitive), e.g. `svc-*`. */
  allowUsers: z.array(z.string().min(1)).default([]),
  /** Source CIDRs never alerted on (scanners, your own bastions). */
  allowCidrs: z.array(z.string().min(1)).default([]),
  /** A user needs this many active 15-minute buckets of history before the IP detector judges them (Elastic: ~20 buckets). */
  minUserBuckets: z.number().int().min(1).default(20),
  /** ... spread over at least this many distinct days. */
  minUserDays: z.number().int().min(1).default(4),
  /** A user silent this many days who logs on again is treated as returning from dormancy. */
  dormantDays: z.number().min(1).default(30),
  /** Only probabilities at or below this are anomalous at all (Elastic's cut-off). */
  maxProbability: z.number().gt(0).max(1).default(0.035),
  /** Keep alert-ledger entries this many days (DynamoDB TTL). */
  ledgerTtlDays: z.number().int().min(1).max(3650).default(30),
});

export type DetectionSettings = z.infer<typeof detectionSettingsSchema>;
export type DetectionSettingsInput = z.input<typeof detectionSettingsSchema>;

export const DEFAULT_SETTINGS: DetectionSettings = detectionSettingsSchema.parse({});

/** Flatten zod issues into `path: message` lines a person can act on. */
export function formatIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[], prefix = ''): string[] {
  return issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter(Boolean).join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
}
