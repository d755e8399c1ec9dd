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
  HorizontalAnnotation,
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
import { DETECTOR_IDS, type DetectorId } from '../../shared/core/settings';
import { DETECTOR_DIMENSION, METRIC_NAMESPACE, METRICS, SERVICE_DIMENSION } from '../../shared/telemetry';

/** The detector runs every 15 minutes, so its metrics are read in 15-minute periods: one data point per run. */
export const RUN_PERIOD = Duration.minutes(15);
/** "No successful run for 45 minutes" = three consecutive run periods without a RunSucceeded data point. */
export const HEARTBEAT_PERIODS = 3;

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
  readonly deadLetterAlarms: Alarm[] = [];

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
      new Alarm(this, 'FunctionErrors', {
        alarmDescription:
          'authwatch: the detector Lambda failed (an exception, a timeout or a configuration error). Lambda retries the same window twice; read the "run failed" lines in the function log. A ConfigError lists every setting to fix.',
        metric: props.detector.metricErrors({ period: RUN_PERIOD, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
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
      new Alarm(this, 'AlertCapHit', {
        alarmDescription:
          'authwatch: a run found more alerts than its cap (maxAlertsPerRun) and dropped the lowest-scored ones. Usually a mass event (new VPN egress, an identity-provider change, a scan): look at the digest, then allowlist the shared source (allowCidrs) or user pattern (allowUsers).',
        metric: this.metric(METRICS.alertsCutByCap, 'Sum'),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    // A run that fails this way fails again on every retry of the window: FunctionErrors says that runs fail,
    // this says it is the row limit, which no retry fixes.
    this.queryIncompleteAlarm = withActions(
      new Alarm(this, 'QueryIncomplete', {
        alarmDescription:
          'authwatch: a run could not fetch its window whole: a part of it stayed over the 10,000-row Logs Insights limit after splitting by time, user name, source address and host, or needed more queries than one run may start. Nothing was returned rather than part of the window, and the run failed; so does every run whose window still holds that slice (runs reach back to the last completed window, up to 6 hours). The "run failed" log line names the slice (time, user/address/host filters): usually a flood from one source; find it with the same filters in Logs Insights and stop or filter it at the source.',
        metric: this.metric(METRICS.queryIncomplete, 'Sum'),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    this.itemsNotStoredAlarm = withActions(
      new Alarm(this, 'ItemsNotStored', {
        alarmDescription:
          'authwatch: a user\'s baseline could not be stored (over DynamoDB\'s 400 KB item limit even with every place forgotten, which only a pathological user name does). That user was skipped and is not learned; every other user was saved and the run completed. The "baseline could not be stored" warning in the function log names the user (escaped, truncated): find where such a name comes from (a scanner sending huge user names).',
        metric: this.metric(METRICS.itemsNotStored, 'Sum'),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      this.deadLetterAlarms.push(
        withActions(
          new Alarm(this, `${name}NotEmpty`, {
            alarmDescription: `authwatch: a detector invocation ended in the ${name} dead-letter queue, so a window was not analysed. Each message holds the event (with its "time"); after fixing the cause, invoke the function with {"windowEnd":"<that time>"} to replay it, then delete the message.`,
            metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
            threshold: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
        ),
      );
    }

    this.dashboard = new Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.days(7) });
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
        alarms: [this.heartbeatAlarm, this.errorsAlarm, this.alertCapAlarm, this.queryIncompleteAlarm, this.itemsNotStoredAlarm, ...this.deadLetterAlarms],
        width: 24,
        height: 3,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Logons scanned and observations (user, source IP) per run',
        left: [this.metric(METRICS.logonsScanned, 'Sum', 'Logons scanned'), this.metric(METRICS.observations, 'Sum', 'Observations')],
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
        title: 'Alerts not sent: deduplicated, allowlisted, cut by cap',
        left: [
          this.metric(METRICS.alertsDeduplicated, 'Sum', 'Deduplicated (already raised)'),
          this.metric(METRICS.alertsSuppressed, 'Sum', 'Suppressed by allowlist'),
          this.metric(METRICS.alertsCutByCap, 'Sum', 'Cut by cap'),
        ],
        ...wide,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Users still learning (no baseline verdict yet)',
        left: [this.metric(METRICS.usersLearning, 'Maximum', 'Users learning')],
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
        title: 'Dead-letter queues (lost runs)',
        left: Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum', label: name }),
        ),
        ...wide,
      }),
    );
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
