/**
 * The dashboard and the alarms. Metric names, namespace and dimensions come from shared/telemetry.ts, the module
 * the handler emits them with, so the two cannot drift.
 */
import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DEFAULT_MAX_AGE_DAYS, NETWORK_DATA_METRICS } from '../../shared/adapters/network-data-loader';
import { DETECTOR_IDS, type DetectorId } from '../../shared/core/settings';
import {
  DETECTOR_DIMENSION,
  LOG_SOURCE_DIMENSION,
  METRIC_NAMESPACE,
  METRICS,
  SERVICE_DIMENSION,
} from '../../shared/telemetry';

/** The detector runs every 15 minutes, so its metrics are read in 15-minute periods: one data point per run. */
export const RUN_PERIOD = Duration.minutes(15);
/** "No successful run for 45 minutes" = three consecutive run periods without a RunSucceeded data point. */
export const HEARTBEAT_PERIODS = 3;
/**
 * "Catch-up is not converging" = this many consecutive runs, an hour, each ended no closer to caught up than the
 * one before. One such run happens (a slow query); an hour of them means the backlog will not be worked off.
 */
export const NOT_CONVERGING_PERIODS = 4;

/** Per-source alarms read hourly sums (four runs an hour): long enough to smooth a run, short enough to count quiet hours. */
export const SOURCE_ALARM_PERIOD = Duration.hours(1);
/**
 * A source's malformed-row alarm fires when more than this share of the rows it returned in an hour could not be
 * read. Malformed rows stay at zero while the format is the one the profile reads; a format change (an agent,
 * sshd or identity-provider upgrade) turns most or all rows malformed, a single odd host a fraction of them.
 */
export const MALFORMED_RATE_THRESHOLD_PERCENT = 10;
/** The network-data alarms read hourly figures: four runs, each reporting the data it ran with. */
export const NETWORK_DATA_PERIOD = Duration.hours(1);
/**
 * Hours in which every run lacked the network data before its alarm fires. A new stack's first refresh runs minutes
 * after deployment and a container that found nothing looks again an hour later, so the first hour or two of a
 * deployment are expected to run without it; six such hours mean the data is really missing.
 */
export const NETWORK_DATA_UNAVAILABLE_HOURS = 6;

/** CloudWatch's limit on an alarm description. */
const ALARM_DESCRIPTION_MAX = 1024;

/** A configured log source, as its alarms need it. */
export interface MonitoredLogSource {
  /** The `LogSource` dimension its metrics carry (`logSourceId`). */
  readonly id: string;
  readonly profile: string;
  readonly logGroups: readonly string[];
  /** Hours without a logon before the quiet alarm fires; `false`: no quiet alarm. */
  readonly maxQuietHours: number | false;
}

/** The network-owner data's parts that are watched. */
export interface MonitoredNetworkData {
  readonly refreshFunction: IFunction;
  /** The refresh's failed and undelivered invocations. */
  readonly deadLetterQueue: IQueue;
  /** Older than this the data counts as stale. @default DEFAULT_MAX_AGE_DAYS, the detector's own limit */
  readonly maxAgeDays?: number;
}

export interface MonitoringProps {
  readonly detector: IFunction;
  /** Powertools service name: the `service` dimension every authwatch metric carries. */
  readonly serviceName: string;
  /** Alarms notify this topic (in ALARM and back to OK). */
  readonly alarmTopic: ITopic;
  /** Dead-letter queues whose every message is a lost run. */
  readonly deadLetterQueues: Readonly<Record<string, IQueue>>;
  readonly dashboardName: string;
  /** Drawn on the duration graphs. */
  readonly timeout: Duration;
  /** Each gets a quiet alarm (unless disabled) and a malformed-row alarm. */
  readonly logSources: readonly MonitoredLogSource[];
  /** Absent when the deployment has no network data: no alarm or graph for it. */
  readonly networkData?: MonitoredNetworkData;
}

/**
 * An alarm on anything happening at all: the metric reaches 1 in each of `periods` consecutive periods (one by
 * default); no data is no occurrence.
 */
function anyOccurrence(scope: Construct, id: string, alarmDescription: string, metric: IMetric, periods = 1): Alarm {
  return new Alarm(scope, id, {
    alarmDescription,
    metric,
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: periods,
    ...(periods > 1 ? { datapointsToAlarm: periods } : {}),
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
}

export class Monitoring extends Construct {
  readonly dashboard: Dashboard;
  readonly errorsAlarm: Alarm;
  readonly heartbeatAlarm: Alarm;
  readonly alertCapAlarm: Alarm;
  /** A window's logons could not be fetched whole under Logs Insights' row limit (the run failed for it). */
  readonly queryIncompleteAlarm: Alarm;
  /** A user's baseline could not be stored (over DynamoDB's item limit); the others were. */
  readonly itemsNotStoredAlarm: Alarm;
  /** After an outage longer than `maxBacklogDays`, a run skipped logons older than that. */
  readonly catchUpSkippedAlarm: Alarm;
  /** For an hour, runs after missed runs did not gain on the backlog. */
  readonly catchUpNotConvergingAlarm: Alarm;
  readonly deadLetterAlarms: Alarm[] = [];
  /** Per log source, in the configured order; sources with `maxQuietHours: false` have none. */
  readonly sourceQuietAlarms: Alarm[] = [];
  /** Per log source, in the configured order. */
  readonly sourceMalformedAlarms: Alarm[] = [];
  /** The detector ran with network data older than its limit (the weekly refresh has been failing). */
  readonly networkDataStaleAlarm: Alarm | undefined;
  /** For hours every run had no network data (never refreshed, or unreadable). */
  readonly networkDataUnavailableAlarm: Alarm | undefined;
  /** A refresh failed after its retries, or Scheduler could not invoke it. */
  readonly networkDataRefreshFailedAlarm: Alarm | undefined;

  private readonly serviceName: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.serviceName = props.serviceName;
    const notify = new SnsAction(props.alarmTopic);
    const withActions = (alarm: Alarm): Alarm => {
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      return alarm;
    };

    this.errorsAlarm = withActions(
      anyOccurrence(
        this,
        'FunctionErrors',
        'authwatch: the detector Lambda failed (an exception, a timeout or a configuration error). Lambda retries the same window twice; read the "run failed" lines in the function log. A ConfigError lists every setting to fix.',
        props.detector.metricErrors({ period: RUN_PERIOD, statistic: 'Sum' }),
      ),
    );

    // The worst failure is silence: nothing scheduled, nothing invoked, no errors. Only a positive heartbeat catches it,
    // so a period with no data point counts as a failed one.
    this.heartbeatAlarm = withActions(
      new Alarm(this, 'NoSuccessfulRun', {
        alarmDescription: `authwatch: no detector run succeeded in the last ${RUN_PERIOD.toMinutes() * HEARTBEAT_PERIODS} minutes, so logons are not being checked. Check the schedule is enabled, the function's errors and throttles, and the dead-letter queues.`,
        metric: this.metric(METRICS.runSucceeded, 'Sum'),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: HEARTBEAT_PERIODS,
        datapointsToAlarm: HEARTBEAT_PERIODS,
        treatMissingData: TreatMissingData.BREACHING,
      }),
    );

    this.alertCapAlarm = withActions(
      anyOccurrence(
        this,
        'AlertCapHit',
        'authwatch: a run found more alerts than its cap (maxAlertsPerRun) and dropped the lowest-scored ones. Usually a mass event (new VPN egress, an identity-provider change, a scan): look at the digest, then allowlist the shared source (allowCidrs) or user pattern (allowUsers).',
        this.metric(METRICS.alertsCutByCap, 'Sum'),
      ),
    );

    // A run that fails this way fails again on every retry of the window: FunctionErrors says that runs fail,
    // this says it is the row limit, which no retry fixes.
    this.queryIncompleteAlarm = withActions(
      anyOccurrence(
        this,
        'QueryIncomplete',
        'authwatch: a run could not fetch its window whole: a part of it stayed over the 10,000-row Logs Insights limit after splitting by time, user name, source address and host, or needed more queries than one run may start. Nothing was returned rather than part of the window, and the run failed; the next run catches up in 15-minute chunks and skips the chunk that holds the slice (recorded: CatchUpSkipped, authwatch status). The "run failed" log line names the slice (time, user/address/host filters): usually a flood from one source; find it with the same filters in Logs Insights and stop or filter it at the source.',
        this.metric(METRICS.queryIncomplete, 'Sum'),
      ),
    );

    this.itemsNotStoredAlarm = withActions(
      anyOccurrence(
        this,
        'ItemsNotStored',
        'authwatch: a user\'s baseline could not be stored (over DynamoDB\'s 400 KB item limit even with every place forgotten, which only a pathological user name does). That user was skipped and is not learned; every other user was saved and the run completed. The "baseline could not be stored" warning in the function log names the user (escaped, truncated): find where such a name comes from (a scanner sending huge user names).',
        this.metric(METRICS.itemsNotStored, 'Sum'),
      ),
    );

    // Logons older than maxBacklogDays after an outage are never analysed by the schedule: always worth a person's look.
    this.catchUpSkippedAlarm = withActions(
      anyOccurrence(
        this,
        'CatchUpSkipped',
        'authwatch: after an outage longer than maxBacklogDays, a run skipped logons older than that: they were neither alerted on nor learned. `authwatch status` lists the skipped ranges; `authwatch backfill --alerts` analyses them with alerts.',
        this.metric(METRICS.catchUpSkippedMinutes, 'Sum'),
      ),
    );

    // Runs that succeed but never gain on the backlog: the newest bucket is still looked at for alerts every run, but
    // the backlog grows until it is skipped. Failing runs send no data point; the heartbeat alarm covers those.
    this.catchUpNotConvergingAlarm = withActions(
      anyOccurrence(
        this,
        'CatchUpNotConverging',
        `authwatch: for ${RUN_PERIOD.toMinutes() * NOT_CONVERGING_PERIODS} minutes every run ended no closer to caught up after missed runs (CatchUpBacklogMinutes on the dashboard): the backlog is not shrinking and will be skipped at maxBacklogDays. Usually each 15-minute chunk takes too long (slow Logs Insights queries, the concurrent-query quota): check the query duration graph.`,
        this.metric(METRICS.catchUpFellBehind, 'Sum'),
        NOT_CONVERGING_PERIODS,
      ),
    );

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.deadLetterAlarms.push(
        withActions(
          anyOccurrence(
            this,
            `${name}NotEmpty`,
            `authwatch: a detector invocation ended in the ${name} dead-letter queue. Its window is not lost: the next successful run catches up everything since the last completed window (within maxBacklogDays). Fix the cause, check the runs succeed again, then delete the message.`,
            queue.metricApproximateNumberOfMessagesVisible({
              period: Duration.minutes(5),
              statistic: 'Maximum',
            }),
          ),
        ),
      );
    }

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(7),
    });
    const wide = { width: 12, height: 6 };
    const timeoutLine: HorizontalAnnotation = { value: props.timeout.toMilliseconds(), label: 'Lambda timeout' };
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# authwatch (${props.serviceName})\nOne run every 15 minutes over the last 30 minutes of logons. Counts are per 15-minute run.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [
          this.heartbeatAlarm,
          this.errorsAlarm,
          this.alertCapAlarm,
          this.queryIncompleteAlarm,
          this.itemsNotStoredAlarm,
          this.catchUpSkippedAlarm,
          this.catchUpNotConvergingAlarm,
          ...this.deadLetterAlarms,
        ],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Logons scanned and observations (user, source IP) per run',
        left: [
          this.metric(METRICS.logonsScanned, 'Sum', 'Logons scanned'),
          this.metric(METRICS.observations, 'Sum', 'Observations'),
        ],
        right: [this.metric(METRICS.malformedRows, 'Sum', 'Malformed rows')],
        ...wide,
      }),
      new GraphWidget({
        title: 'Findings by detector (before threshold and dedup)',
        left: this.perDetector(METRICS.findings),
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Alerts published by detector',
        left: this.perDetector(METRICS.alertsPublished),
        ...wide,
      }),
      new GraphWidget({
        title: 'Alerts not sent alone: deduplicated, allowlisted, cut by cap, folded into a campaign',
        left: [
          this.metric(METRICS.alertsDeduplicated, 'Sum', 'Deduplicated (already raised)'),
          this.metric(METRICS.alertsSuppressed, 'Sum', 'Suppressed by allowlist'),
          this.metric(METRICS.alertsCutByCap, 'Sum', 'Cut by cap'),
          this.metric(METRICS.alertsFolded, 'Sum', 'Folded into a campaign'),
        ],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Users still learning (no baseline verdict yet); names in failures not looked up',
        left: [
          this.metric(METRICS.usersLearning, 'Maximum', 'Users learning'),
          this.metric(METRICS.failureTargetsNotRead, 'Maximum', 'Failed names beyond the bound (not looked up)'),
        ],
        ...wide,
      }),
      new GraphWidget({
        title: 'Query and run duration (ms)',
        left: [
          this.metric(METRICS.queryDurationMs, 'Maximum', 'Logs Insights queries (max)'),
          this.metric(METRICS.runDurationMs, 'Maximum', 'Whole run (max)'),
          this.metric(METRICS.runDurationMs, 'Average', 'Whole run (avg)'),
        ],
        leftAnnotations: [timeoutLine],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors, throttles and successful runs',
        left: [
          props.detector.metricErrors({ period: RUN_PERIOD, statistic: 'Sum', label: 'Function errors' }),
          props.detector.metricThrottles({ period: RUN_PERIOD, statistic: 'Sum', label: 'Throttles' }),
        ],
        right: [
          this.metric(METRICS.runSucceeded, 'Sum', 'Successful runs'),
          this.metric(METRICS.queryIncomplete, 'Sum', 'Windows not fetched whole (row limit)'),
          this.metric(METRICS.itemsNotStored, 'Sum', 'Baselines not stored (item size)'),
        ],
        ...wide,
      }),
      new GraphWidget({
        title: 'Catch-up after missed runs: backlog left, chunks analysed, minutes skipped',
        left: [
          this.metric(METRICS.catchUpBacklogMinutes, 'Maximum', 'Backlog left (minutes)'),
          this.metric(METRICS.catchUpSkippedMinutes, 'Sum', 'Skipped (minutes)'),
        ],
        right: [this.metric(METRICS.catchUpChunks, 'Sum', 'Chunks analysed (15 min each)')],
        ...wide,
      }),
      new GraphWidget({
        title: 'Dead-letter queues (lost runs)',
        left: Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: name,
          }),
        ),
        ...wide,
      }),
    );

    this.addLogSourceMonitoring(props.logSources, withActions);

    if (props.networkData) {
      const n = this.addNetworkDataMonitoring(props.networkData, withActions);
      this.networkDataStaleAlarm = n.stale;
      this.networkDataUnavailableAlarm = n.unavailable;
      this.networkDataRefreshFailedAlarm = n.refreshFailed;
    }
  }

  /** An authwatch metric for this deployment (dimension `service`), per 15-minute run period. */
  metric(name: string, statistic: string, label?: string): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName },
      statistic,
      period: RUN_PERIOD,
      ...(label ? { label } : {}),
    });
  }

  /**
   * Per log source: a quiet alarm and a malformed-row alarm, and a dashboard row. A misconfigured source (a group
   * that receives other logs, an agent that stopped shipping, the wrong profile) yields no logon and no malformed
   * row forever; the run succeeds and every other alarm stays quiet, so only the source's own figures show it.
   */
  private addLogSourceMonitoring(sources: readonly MonitoredLogSource[], withActions: (alarm: Alarm) => Alarm): void {
    sources.forEach((source, i) => {
      const groups = (budget: number) => listWithin(source.logGroups, budget);
      if (source.maxQuietHours !== false) {
        const hours = source.maxQuietHours;
        const text = (g: string) =>
          `authwatch: log source ${source.id} returned no logon (successful or failed) for ${hours} hours, so its logons are not being checked. Check that its log groups (${g}) still receive authentication logs (the CloudWatch agent, the trail's delivery to CloudWatch Logs, the log shipper), and that they hold the "${source.profile}" format: \`npm run authwatch -- query --profile ${source.profile}\` prints the query to try in Logs Insights. For a source that is rarely used, raise its maxQuietHours or set it to false.`;
        this.sourceQuietAlarms.push(
          withActions(
            new Alarm(this, `LogSource${i}Quiet`, {
              alarmDescription: bounded(text(groups(ALARM_DESCRIPTION_MAX - text('').length))),
              metric: this.sourceMetric(METRICS.logonsScanned, source.id),
              threshold: 1,
              comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
              evaluationPeriods: hours,
              datapointsToAlarm: hours,
              // Every run reports the source's count, zeros included; an hour with no run (the heartbeat alarm's
              // case) is neither quiet nor busy, so it neither raises this alarm nor clears it.
              treatMissingData: TreatMissingData.MISSING,
            }),
          ),
        );
      }
      const text = (g: string) =>
        `authwatch: more than ${MALFORMED_RATE_THRESHOLD_PERCENT}% of the rows log source ${source.id} returned in the last hour looked like logons but could not be read, so those logons are not being checked. Usually the log format changed (an agent, sshd or identity-provider upgrade). Export a sample of its log groups (${g}) and run \`npm run authwatch -- parse --profile ${source.profile} <file>\`: it prints why each line could not be read.`;
      this.sourceMalformedAlarms.push(
        withActions(
          new Alarm(this, `LogSource${i}Malformed`, {
            alarmDescription: bounded(text(groups(ALARM_DESCRIPTION_MAX - text('').length))),
            metric: this.malformedRate(source.id, i),
            threshold: MALFORMED_RATE_THRESHOLD_PERCENT,
            comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
        ),
      );
    });
    if (sources.length === 0) return;

    const wide = { width: 12, height: 6 };
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Log sources: quiet and malformed-row alarms',
        alarms: [...this.sourceQuietAlarms, ...this.sourceMalformedAlarms],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Logons per log source, per run',
        left: sources.map((s) => this.sourceMetric(METRICS.logonsScanned, s.id, RUN_PERIOD, s.id)),
        ...wide,
      }),
      new GraphWidget({
        title: `Malformed rows per log source (% of rows, hourly; alarm above ${MALFORMED_RATE_THRESHOLD_PERCENT}%)`,
        left: sources.map((s, i) => this.malformedRate(s.id, i, s.id)),
        leftAnnotations: [{ value: MALFORMED_RATE_THRESHOLD_PERCENT, label: 'alarm' }],
        ...wide,
      }),
    );
  }

  /**
   * The network-owner data: an alarm when the detector runs with data older than its limit, one when it has run
   * without any for hours, one when a refresh fails for good; and a dashboard row. Without the data every run still
   * succeeds (owners are context, not a condition), so no other alarm would say so.
   */
  private addNetworkDataMonitoring(
    props: MonitoredNetworkData,
    withActions: (alarm: Alarm) => Alarm,
  ): { stale: Alarm; unavailable: Alarm; refreshFailed: Alarm } {
    const maxAgeDays = props.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
    const hourly = (name: string, statistic: string, label?: string, period = NETWORK_DATA_PERIOD) =>
      new Metric({
        namespace: METRIC_NAMESPACE,
        metricName: name,
        dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName },
        statistic,
        period,
        ...(label ? { label } : {}),
      });
    const fix =
      'Read the refresh function\'s log ("network-data refresh failed": the download, the gzip, or which validation check failed) and its FailedRefreshes dead-letter queue; invoke the function (NetworkDataRefreshFunctionName output, no payload) to refresh at once. Detection goes on meanwhile.';

    const stale = withActions(
      new Alarm(this, 'NetworkDataStale', {
        alarmDescription: bounded(
          `authwatch: the detector is using network-owner data more than ${maxAgeDays} days old: the weekly refresh has not swapped in a new database since. Owners and countries are still given from the old data (range owners change slowly). ${fix}`,
        ),
        metric: hourly(NETWORK_DATA_METRICS.ageDays, 'Maximum'),
        threshold: maxAgeDays,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        // No age without data (the unavailable alarm's case) and none without runs (the heartbeat's).
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    const unavailable = withActions(
      anyOccurrence(
        this,
        'NetworkDataUnavailable',
        bounded(
          `authwatch: for ${NETWORK_DATA_UNAVAILABLE_HOURS} hours every detector run had no network-owner data (NetworkDataUnavailable): alerts carry no network owner or country. Either no refresh has succeeded yet, or the database the pointer names could not be read (the detector's "network-owner data missing/unreadable" warning gives the reason). ${fix}`,
        ),
        // Minimum: an hour in which any run had the data is not an hour without it.
        hourly(NETWORK_DATA_METRICS.unavailable, 'Minimum'),
        NETWORK_DATA_UNAVAILABLE_HOURS,
      ),
    );
    const refreshFailed = withActions(
      anyOccurrence(
        this,
        'FailedRefreshesNotEmpty',
        bounded(
          `authwatch: a network-data refresh failed after Lambda's retries, or Scheduler could not invoke it. The database in use is unchanged and detection goes on; the next weekly refresh tries again. ${fix} Delete the message once a refresh has succeeded.`,
        ),
        props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
      ),
    );

    const wide = { width: 12, height: 6 };
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Network-owner data: stale, unavailable, refresh failed',
        alarms: [stale, unavailable, refreshFailed],
        width: 24,
        height: 3,
      }),
    );
    const daily = Duration.days(1);
    this.dashboard.addWidgets(
      new GraphWidget({
        title: `Network-owner data the detector runs with: age in days (alarm above ${maxAgeDays}), unavailable`,
        left: [hourly(NETWORK_DATA_METRICS.ageDays, 'Maximum', 'Age (days)')],
        leftAnnotations: [{ value: maxAgeDays, label: 'stale' }],
        right: [hourly(NETWORK_DATA_METRICS.unavailable, 'Maximum', 'Runs without data (1 = some)')],
        ...wide,
      }),
      new GraphWidget({
        title: 'Network-data refreshes: databases swapped in, their ranges; refresh errors',
        left: [
          hourly(NETWORK_DATA_METRICS.ipv4Ranges, 'Maximum', 'IPv4 ranges', daily),
          hourly(NETWORK_DATA_METRICS.ipv6Ranges, 'Maximum', 'IPv6 ranges', daily),
        ],
        right: [
          hourly(NETWORK_DATA_METRICS.refreshSucceeded, 'Sum', 'Refreshes swapped in', daily),
          props.refreshFunction.metricErrors({ period: daily, statistic: 'Sum', label: 'Refresh errors' }),
        ],
        ...wide,
      }),
    );
    return { stale, unavailable, refreshFailed };
  }

  /** A per-source metric (dimensions `service` and `LogSource`), summed over `period`. */
  private sourceMetric(name: string, sourceId: string, period: Duration = SOURCE_ALARM_PERIOD, label?: string): Metric {
    return new Metric({
      namespace: METRIC_NAMESPACE,
      metricName: name,
      dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName, [LOG_SOURCE_DIMENSION]: sourceId },
      statistic: 'Sum',
      period,
      ...(label ? { label } : {}),
    });
  }

  /**
   * Malformed rows as a percentage of the rows a source returned, per hour: malformed / (malformed + parsed). Each
   * row is counted by the two runs whose 30-minute windows overlap it, which the ratio cancels. An hour without rows
   * is 0%, not a missing point. `index` keeps the expression's ids unique on a graph that draws every source.
   */
  private malformedRate(sourceId: string, index: number, label = 'Malformed rows (%)'): MathExpression {
    return new MathExpression({
      expression: `IF(rows${index} > 0, 100 * malformed${index} / rows${index}, 0)`,
      usingMetrics: {
        [`rows${index}`]: this.sourceMetric(METRICS.queryRows, sourceId),
        [`malformed${index}`]: this.sourceMetric(METRICS.malformedRows, sourceId),
      },
      period: SOURCE_ALARM_PERIOD,
      label,
    });
  }

  private perDetector(name: string): IMetric[] {
    return DETECTOR_IDS.map(
      (id: DetectorId) =>
        new Metric({
          namespace: METRIC_NAMESPACE,
          metricName: name,
          dimensionsMap: { [SERVICE_DIMENSION]: this.serviceName, [DETECTOR_DIMENSION]: id },
          statistic: 'Sum',
          period: RUN_PERIOD,
          label: id,
        }),
    );
  }
}

/** `a, b, c` within `budget` characters, ending `and N more` when not all fit (alarm descriptions are bounded). */
function listWithin(items: readonly string[], budget: number): string {
  for (let shown = items.length; shown > 0; shown--) {
    const rest = items.length - shown;
    const text = items.slice(0, shown).join(', ') + (rest > 0 ? ` and ${rest} more` : '');
    if (text.length <= budget) return text;
  }
  return `${items.length} log groups`;
}

/** Cut to CloudWatch's description limit: a 255-character source id and its group names may not fit beside the advice. */
function bounded(text: string): string {
  return text.length <= ALARM_DESCRIPTION_MAX ? text : `${text.slice(0, ALARM_DESCRIPTION_MAX - 1)}…`;
}
