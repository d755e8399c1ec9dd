/**
 * The fan-out Lambda's own configuration, beside the detector's (shared/config.ts, which it reads too): where its
 * steps stage data, and the fan-out's sizes. Variable names are exported for infra/, so they cannot drift.
 */
import * as z from 'zod';
import { parseJson } from '../../shared/config';
import { formatIssues } from '../../shared/core/settings';
import { ConfigError } from '../../shared/errors';

export const FANOUT_ENV = {
  /** The S3 bucket the steps stage a run's data in. */
  stagingBucket: 'AUTHWATCH_STAGING_BUCKET',
  /** JSON: `{"userShards":16,"logGroupsPerQuery":50,"catchUpChunksPerExecution":8}`. */
  fanout: 'AUTHWATCH_FANOUT',
} as const;

/** Staged keys go under this folder of the bucket; the bucket's lifecycle rule expires it. */
export const STAGING_ROOT = 'runs/';

const fanoutRuntimeSchema = z.object({
  userShards: z.number().int().min(1).max(1000),
  logGroupsPerQuery: z.number().int().min(1).max(50),
  catchUpChunksPerExecution: z.number().int().min(1).max(96),
});

export interface FanoutRuntimeConfig extends z.infer<typeof fanoutRuntimeSchema> {
  readonly stagingBucket: string;
}

/** Parse the fan-out's variables. Throws `ConfigError` listing every problem at once. */
export function parseFanoutConfig(env: Readonly<Record<string, string | undefined>>): FanoutRuntimeConfig {
  const issues: string[] = [];
  const bucket = env[FANOUT_ENV.stagingBucket];
  if (!bucket) issues.push(`${FANOUT_ENV.stagingBucket}: required (the S3 bucket the steps stage data in)`);
  const raw = parseJson(FANOUT_ENV.fanout, env[FANOUT_ENV.fanout], issues);
  let sizes: z.infer<typeof fanoutRuntimeSchema> | undefined;
  if (raw === undefined && !issues.some((i) => i.startsWith(FANOUT_ENV.fanout)))
    issues.push(
      `${FANOUT_ENV.fanout}: required, e.g. {"userShards":16,"logGroupsPerQuery":50,"catchUpChunksPerExecution":8}`,
    );
  else if (raw !== undefined) {
    const r = fanoutRuntimeSchema.safeParse(raw);
    if (r.success) sizes = r.data;
    else issues.push(...formatIssues(r.error.issues, FANOUT_ENV.fanout));
  }
  if (issues.length > 0 || !sizes) throw new ConfigError(issues);
  return { ...sizes, stagingBucket: bucket! };
}
