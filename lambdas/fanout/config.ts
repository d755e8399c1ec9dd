/**
 * The fan-out Lambda's own configuration, beside the detector's (shared/config.ts, which it reads too): where its
 * steps stage data, and the fan-out's sizes. Variable names are exported for infra/, so they cannot drift.
 */
import * as z from 'zod';
import { parseJson } from '../../shared/config';
import { MAX_LOG_GROUPS_PER_QUERY } from '../../shared/core/insights-query';
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

/**
 * Fan-out limits, checked at synth (infra/config.ts, with messages saying what to give) and again here. Logs Insights
 * runs about 30 queries at once per account and region (dashboards and people included) and each fetch step runs
 * one at a time, so the fetch steps' concurrency stays under that; one query takes at most 50 log groups. Users go
 * to at most 1,000 shards (each shard is one Lambda invocation per step: more only adds invocations); an execution
 * works through at most a day of backlog chunks, as a single run does.
 */
export const FANOUT_LIMITS = {
  maxUserShards: 1000,
  maxQueryConcurrency: 30,
  maxConcurrency: 1000,
  maxCatchUpChunksPerExecution: 96,
} as const;

const fanoutRuntimeSchema = z.object({
  userShards: z.number().int().min(1).max(FANOUT_LIMITS.maxUserShards),
  logGroupsPerQuery: z.number().int().min(1).max(MAX_LOG_GROUPS_PER_QUERY),
  catchUpChunksPerExecution: z.number().int().min(1).max(FANOUT_LIMITS.maxCatchUpChunksPerExecution),
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
