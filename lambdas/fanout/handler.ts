/**
 * The fan-out Lambda: ONE function for every step of the Step Functions state machine (infra/constructs/fanout.ts),
 * a composition root and a dispatcher and nothing else. The event names the step (`{ "step": "fetch", "run": …,
 * "group": 2 }`, lambdas/fanout/event.ts); the step runs on a `RunSteps` (shared/steps/contract.ts) built over the
 * detector's own adapters, with the run's data staged in S3. The window plan (`windows`) is the single Lambda's
 * (shared/scheduled-windows.ts), so both paths run the same windows in the same order.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  createDynamoDbClient,
  createLogsClient,
  createS3Client,
  createSnsClient,
} from '../../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { LogsInsightsLogSource } from '../../shared/adapters/logs-insights-log-source';
import { S3Staging } from '../../shared/adapters/s3-staging';
import { SnsAlertSink } from '../../shared/adapters/sns-alert-sink';
import { SystemClock } from '../../shared/adapters/system-clock';
import { logSourceId, parseRuntimeConfig, type LogSourceConfig } from '../../shared/config';
import { getProfile, profilesBeside } from '../../shared/core/profiles';
import { customProfiles } from '../../shared/core/profiles/custom';
import { compileIdentityRules, hasIdentityRules } from '../../shared/core/identity';
import { withIdentities } from '../../shared/adapters/identity-log-source';
import { InvalidEventError } from '../../shared/errors';
import type { Staging } from '../../shared/ports/staging';
import type { DetectionDeps } from '../../shared/run-detection';
import {
  planScheduledWindows,
  skipUnfetchableChunk,
  type PlannedWindow,
  type ScheduledWindows,
} from '../../shared/scheduled-windows';
import type { RunSteps } from '../../shared/steps/contract';
import { createRunSteps } from '../../shared/steps/run-steps';
import { METRIC_NAMESPACE } from '../../shared/telemetry';
import { windowEndFromEvent } from '../detector/event';
import { emitFailureMetrics } from '../detector/metrics';
import { composeNetworkData, type DetectorNetworkData } from '../detector/network-data';
import { parseFanoutConfig, STAGING_ROOT } from './config';
import { failureText, parseStepEvent, type StepEvent } from './event';
import { emitStepMetrics } from './metrics';

/** Builds the steps over the ports: `createRunSteps` of shared/steps/, or an in-process one in tests. */
export type RunStepsFactory = (
  deps: DetectionDeps,
  staging: Staging,
  options: { readonly userShards: number },
) => RunSteps;

/** What one invocation dispatches to. */
export interface FanoutApp {
  readonly steps: RunSteps;
  /** The windows of the execution scheduled at `windowEnd`. */
  windows(windowEnd: number): Promise<ScheduledWindows>;
  /** Record a catch-up chunk that could not be fetched whole as skipped, and move the watermark past it. */
  skip(window: PlannedWindow, error: string): Promise<void>;
}

/**
 * Each configured source split into source groups of at most `perQuery` log groups, in order: one fetch step each
 * (`RunPlan.sourceGroups` indexes this list). Every group of a source keeps the source's id as its name, so the
 * per-source metrics and alarms stay those of the configured source.
 */
export function sourceGroups(sources: readonly LogSourceConfig[], perQuery: number): LogSourceConfig[] {
  return sources.flatMap((s) => {
    const out: LogSourceConfig[] = [];
    for (let i = 0; i < s.logGroups.length; i += perQuery)
      out.push({ profile: s.profile, logGroups: s.logGroups.slice(i, i + perQuery) });
    return out;
  });
}

/** Everything built once per cold start; the steps are bound per invocation (the network data may have changed). */
export interface Composed {
  readonly detection: DetectionDeps;
  readonly staging: Staging;
  readonly userShards: number;
  readonly catchUpChunksPerExecution: number;
}

/** Build the adapters from the environment; a ConfigError here fails every step loudly, listing each problem. */
export function compose(env: Readonly<Record<string, string | undefined>>, log: Logger): Composed {
  const config = parseRuntimeConfig(env);
  const fanout = parseFanoutConfig(env);
  const logs = createLogsClient();
  // As the single Lambda composes its sources (lambdas/detector/handler.ts): the deployment's own formats, the
  // profiles sharing a log group, and the identity rules applied right after each fetch.
  const beside = profilesBeside(config.logSources);
  const custom = customProfiles(config.customProfiles);
  const identify = hasIdentityRules(config.identities) ? compileIdentityRules(config.identities) : undefined;
  return {
    detection: {
      logSources: config.logSources.flatMap((source, i) =>
        sourceGroups([source], fanout.logGroupsPerQuery).map((group) => {
          const s = new LogsInsightsLogSource({
            client: logs,
            profile: getProfile(group.profile, { custom, beside: beside[i]! }),
            logGroupNames: group.logGroups,
            deadlineMs: config.queryTimeoutMs,
            name: logSourceId(source),
          });
          return identify ? withIdentities(s, identify) : s;
        }),
      ),
      store: new DynamoDbBaselineStore({ client: createDynamoDbClient(), tableName: config.tableName }),
      sink: new SnsAlertSink({
        client: createSnsClient(),
        topicArn: config.topicArn,
        ...(config.chatTopicArn !== undefined ? { chatTopicArn: config.chatTopicArn } : {}),
        ...(config.digestTopicArn !== undefined ? { digestTopicArn: config.digestTopicArn } : {}),
        silenceTarget: { tableName: config.tableName, ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}) },
      }),
      clock: new SystemClock(),
      settings: config.settings,
      logger: { warn: (message, data) => log.warn(message, data ?? {}) },
    },
    staging: new S3Staging({ client: createS3Client(), bucket: fanout.stagingBucket, root: STAGING_ROOT }),
    userShards: fanout.userShards,
    catchUpChunksPerExecution: fanout.catchUpChunksPerExecution,
  };
}

/** The app of one invocation: the steps bound to the adapters (and the network data, if any, of this moment). */
export function bind(composed: Composed, createSteps: RunStepsFactory, network?: DetectionDeps['network']): FanoutApp {
  const deps: DetectionDeps = network ? { ...composed.detection, network } : composed.detection;
  return {
    steps: createSteps(deps, composed.staging, { userShards: composed.userShards }),
    windows: (windowEnd) => planScheduledWindows(deps, { windowEnd, maxChunks: composed.catchUpChunksPerExecution }),
    skip: (window, error) => skipUnfetchableChunk(deps, window, error),
  };
}

/** Run the step `event` names. Pure dispatch: validation is `parseStepEvent`'s, the work the steps'. */
export async function dispatch(app: FanoutApp, event: StepEvent): Promise<unknown> {
  switch (event.step) {
    case 'windows':
      // Floored to the 15-minute bucket like the single Lambda's window: a retried execution plans the same windows.
      return app.windows(windowEndFromEvent({ time: event.time }));
    case 'plan': {
      const { chunk: _, ...window } = event.window;
      return app.steps.plan(window);
    }
    case 'fetch':
      return app.steps.fetch(event.run, event.group);
    case 'evaluate':
      return app.steps.evaluate(event.run, event.shard);
    case 'deliver':
      return app.steps.deliver(event.run);
    case 'learn':
      return app.steps.learn(event.run, event.shard);
    case 'commit':
      await app.steps.commit(event.run);
      return {};
    case 'write':
      return app.steps.write(event.run, event.shard);
    case 'finish':
      return app.steps.finish(event.run);
    case 'abandon':
      await app.steps.abandon(event.run, failureText(event.error));
      return {};
    case 'skip': {
      // Only a backlog chunk moves on without its logons, as in the single run; any other window fails and is retried.
      const w = event.window;
      if (!w.chunk || w.windowStart !== event.run.windowStart || w.windowEnd !== event.run.windowEnd)
        throw new InvalidEventError(
          `skip: only the run's own catch-up chunk can be skipped (window ${w.windowStart}–${w.windowEnd}, chunk ${w.chunk}; run ${event.run.windowStart}–${event.run.windowEnd})`,
        );
      const why = 'QueryIncompleteError: the window could not be fetched whole under the Logs Insights row limit';
      // Recorded first: the watermark moves past the chunk before the lease is given up.
      await app.skip(w, why);
      await app.steps.abandon(event.run, `skipped: ${why}`);
      return { skipped: { start: w.windowStart, end: w.windowEnd } };
    }
  }
}

/** The steps over the ports (shared/steps/run-steps.ts), a window in `userShards` shards. */
export const createSteps: RunStepsFactory = (deps, staging, { userShards }) =>
  createRunSteps(deps, staging, { shardCount: userShards });

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });
let composed: Composed | undefined;
/** `false`: this deployment has no network data (no bucket in the environment). */
let network: DetectorNetworkData | false | undefined;

export async function handler(event: unknown): Promise<unknown> {
  const step = parseStepEvent(event);
  composed ??= compose(process.env, logger);
  network ??=
    composeNetworkData(process.env, {
      warn: (message, data) => logger.warn(message, data ?? {}),
      error: (message, data) => logger.error(message, data),
    }) ?? false;
  const ctx = { step: step.step, ...('run' in step ? { runId: step.run.runId } : {}) };
  try {
    // Never throws: without a database every lookup answers "unknown" and the step goes on.
    const data = network ? await network.get(composed.detection.clock.now()) : undefined;
    const result = await dispatch(bind(composed, createSteps, data), step);
    // Finish emits the window's run metrics (RunSucceeded, the heartbeat, among them), Windows the catch-up plan's.
    emitStepMetrics(metrics, step, result, Date.now());
    logger.info('step complete', { ...ctx, result });
    return result;
  } catch (e) {
    emitFailureMetrics(metrics, e);
    logger.error('step failed', { ...ctx, error: e as Error });
    throw e;
  } finally {
    // Most steps emit nothing (Powertools would warn on every one); Finish the heartbeat, a failure its kind.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
