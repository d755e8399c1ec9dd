/**
 * The detector Lambda: a composition root and nothing else. Config is parsed and clients are built once
 * per cold start, and the network-owner database is loaded on the first invocation (./network-data.ts); each
 * invocation runs its scheduled window, and after missed runs part of the backlog before it, through
 * `runScheduled` (bounded by the invocation's remaining time).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  AWS_MAX_ATTEMPTS,
  createDynamoDbClient,
  createEventBridgeClient,
  createLogsClient,
  createSnsClient,
} from '../../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { EventBridgeAlertSink } from '../../shared/adapters/eventbridge-alert-sink';
import { LogsInsightsLogSource } from '../../shared/adapters/logs-insights-log-source';
import { type AlertOutput, MultiAlertSink } from '../../shared/adapters/multi-alert-sink';
import { httpFindingsImporter, SecurityHubAlertSink } from '../../shared/adapters/security-hub-alert-sink';
import { SnsAlertSink } from '../../shared/adapters/sns-alert-sink';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryStaging } from '../../shared/adapters/directory-staging';
import { withIdentities } from '../../shared/adapters/identity-log-source';
import { SystemClock } from '../../shared/adapters/system-clock';
import { logSourceId, parseRuntimeConfig } from '../../shared/config';
import { getProfile, profilesBeside } from '../../shared/core/profiles';
import { customProfiles } from '../../shared/core/profiles/custom';
import { compileIdentityRules, hasIdentityRules } from '../../shared/core/identity';
import type { DetectionDeps } from '../../shared/run-detection';
import { runScheduled, type ScheduledRunSummary } from '../../shared/run-scheduled';
import { METRIC_NAMESPACE } from '../../shared/telemetry';
import { windowEndFromEvent } from './event';
import { emitFailureMetrics, emitNetworkDataMetrics, emitRunMetrics } from './metrics';
import { composeNetworkData, type DetectorNetworkData } from './network-data';

const logger = new Logger();
const metrics = new Metrics({ namespace: METRIC_NAMESPACE });

let deps: DetectionDeps | undefined;
/** `false`: this deployment has no network data (no bucket in the environment). */
let network: DetectorNetworkData | false | undefined;

/** Build everything from the environment once; a ConfigError here fails every invocation loudly, listing each problem. */
export function compose(env: Readonly<Record<string, string | undefined>>): DetectionDeps {
  const config = parseRuntimeConfig(env);
  const logs = createLogsClient();
  const beside = profilesBeside(config.logSources);
  const custom = customProfiles(config.customProfiles);
  // Identities apply right after each fetch, so every source's logons of one person meet in one baseline.
  const identify = hasIdentityRules(config.identities) ? compileIdentityRules(config.identities) : undefined;
  const store = new DynamoDbBaselineStore({ client: createDynamoDbClient(), tableName: config.tableName });
  const clock = new SystemClock();
  // The silence commands in each alert name this deployment's table and region (Lambda sets AWS_REGION).
  const silenceTarget = { tableName: config.tableName, ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}) };
  const sns = createSnsClient();
  const outputs: AlertOutput[] = [
    {
      name: 'sns',
      sink: new SnsAlertSink({
        client: sns,
        topicArn: config.topicArn,
        ...(config.chatTopicArn !== undefined ? { chatTopicArn: config.chatTopicArn } : {}),
        ...(config.digestTopicArn !== undefined ? { digestTopicArn: config.digestTopicArn } : {}),
        silenceTarget,
      }),
    },
  ];
  if (config.eventBus !== undefined)
    outputs.push({
      name: 'eventbridge',
      sink: new EventBridgeAlertSink({
        client: createEventBridgeClient(),
        ...(config.eventBus !== 'default' ? { eventBusName: config.eventBus } : {}),
        silenceTarget,
      }),
    });
  if (config.securityHub !== undefined) {
    const hub = config.securityHub;
    // The SDK's own endpoint override variables, as its clients read them (the tests point them at a stand-in).
    const endpoint = env.AWS_ENDPOINT_URL_SECURITYHUB ?? env.AWS_ENDPOINT_URL;
    outputs.push({
      name: 'securityhub',
      sink: new SecurityHubAlertSink({
        importFindings: httpFindingsImporter({
          region: hub.region,
          dnsSuffix: hub.partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com',
          ...(endpoint ? { endpoint } : {}),
          // The SDK's default credential chain as the SNS client resolved it: the function's role.
          credentials: sns.config.credentials,
          maxAttempts: AWS_MAX_ATTEMPTS.securityhub,
        }),
        target: hub,
        silenceTarget,
      }),
    });
  }
  return {
    logSources: config.logSources.map((s, i) => {
      // Named by id: the per-source metrics carry it as their LogSource dimension, which the stack's alarms filter on.
      const source = new LogsInsightsLogSource({
        client: logs,
        // Told which profiles share its log groups: `cloudtrail` beside `identity-center` counts a sign-in once.
        profile: getProfile(s.profile, { custom, beside: beside[i]! }),
        logGroupNames: s.logGroups,
        deadlineMs: config.queryTimeoutMs,
        name: logSourceId(s),
      });
      return identify ? withIdentities(source, identify) : source;
    }),
    store,
    // One output: SNS alone, as ever. More: every alert raised only once each output holds it, and a retry sends each
    // output only what it lacks (per-output delivery records beside the ledger, expiring with it).
    sink:
      outputs.length === 1
        ? outputs[0]!.sink
        : new MultiAlertSink({ outputs, store, ttlDays: config.settings.ledgerTtlDays, clock }),
    clock,
    settings: config.settings,
    logger: { warn: (message, data) => logger.warn(message, data ?? {}) },
    // What a run's steps hand over (a large window's slices: their observations, digests and learned baselines) goes
    // to the function's /tmp, not its memory. Emptied at every cold start: a run killed by its timeout cannot clean up.
    staging: freshStaging(join(tmpdir(), 'authwatch-staging')),
  };
}

/** A staging directory emptied of whatever an earlier process left there. */
function freshStaging(root: string): DirectoryStaging {
  rmSync(root, { recursive: true, force: true });
  return new DirectoryStaging(root);
}

/** The part of the Lambda context the run uses: how long it may still take. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

export async function handler(event: unknown, context?: InvocationContext): Promise<ScheduledRunSummary> {
  deps ??= compose(process.env);
  network ??=
    composeNetworkData(process.env, {
      warn: (message, data) => logger.warn(message, data ?? {}),
      error: (message, data) => logger.error(message, data),
    }) ?? false;
  const windowEnd = windowEndFromEvent(event);
  try {
    // Never throws: without a database every lookup answers "unknown" and the run goes on (metric and warning).
    const now = deps.clock.now();
    const data = network ? await network.get(now) : undefined;
    if (network && data) emitNetworkDataMetrics(metrics, network.metrics(data, now));
    const summary = await runScheduled(data ? { ...deps, network: data } : deps, {
      windowEnd,
      ...(context ? { remainingMs: () => context.getRemainingTimeInMillis() } : {}),
    });
    emitRunMetrics(metrics, summary);
    const c = summary.catchUpReport;
    if (c.skipped.length > 0)
      logger.error(
        'logons skipped: older than maxBacklogDays after an outage, or a 15-minute chunk over the Logs Insights row limit',
        { skipped: c.skipped, skippedRanges: c.skippedRanges },
      );
    if (!c.caughtUp)
      logger.warn('catching up after missed runs', {
        backlogMinutes: c.backlogAfterMinutes,
        chunksAnalysed: c.chunksAnalysed,
        chunksLeft: c.chunksLeft,
        analysedUntil: c.analysedUntil,
      });
    logger.info('run complete', { summary });
    return summary;
  } catch (e) {
    // No RunSucceeded metric: the heartbeat alarm notices; Lambda's async retry re-runs the same window.
    emitFailureMetrics(metrics, e);
    logger.error('run failed', { windowEnd: new Date(windowEnd).toISOString(), error: e as Error });
    throw e;
  } finally {
    metrics.publishStoredMetrics();
  }
}
