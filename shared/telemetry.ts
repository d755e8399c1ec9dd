/**
 * Metric names and namespace, shared by the handler (which emits them in Embedded Metric Format) and
 * the CDK dashboard and alarms (which read them), so the two cannot drift.
 */
export const METRIC_NAMESPACE = 'Authwatch';
/** Dimension for per-detector metrics. */
export const DETECTOR_DIMENSION = 'Detector';
/**
 * Dimension for per-log-source metrics: the source's id (`logSourceId` in shared/config.ts), which the per-source
 * quiet and malformed-rate alarms filter on.
 */
export const LOG_SOURCE_DIMENSION = 'LogSource';
/**
 * Dimension every metric carries (Powertools' default `service` dimension, valued from the
 * POWERTOOLS_SERVICE_NAME env var), so several deployments in one account stay apart.
 */
export const SERVICE_DIMENSION = 'service';
/** Env var Powertools reads for the service name; the stack sets it, the dashboard filters on it. */
export const SERVICE_NAME_ENV = 'POWERTOOLS_SERVICE_NAME';

export const METRICS = {
  /** Also per log source (dimension `LogSource`). */
  logonsScanned: 'LogonsScanned',
  observations: 'Observations',
  /** Also per log source (dimension `LogSource`). */
  malformedRows: 'MalformedRows',
  /** Also per log source (dimension `LogSource`): rows read, the denominator of the malformed-row rate. */
  queryRows: 'QueryRows',
  queryCount: 'QueryCount',
  queryDurationMs: 'QueryDurationMs',
  /** Per detector (dimension `Detector`). */
  findings: 'Findings',
  /** Per detector (dimension `Detector`). */
  alertsPublished: 'AlertsPublished',
  alertsDeduplicated: 'AlertsDeduplicated',
  alertsSuppressed: 'AlertsSuppressed',
  alertsCutByCap: 'AlertsCutByCap',
  /** Per-user alerts folded into a campaign alert (raised with it, not sent one by one). */
  alertsFolded: 'AlertsFolded',
  /** Users named only by failed logons beyond the run's bound: not looked up (judged as unknown names). */
  failureTargetsNotRead: 'FailureTargetsNotRead',
  usersLearning: 'UsersLearning',
  /** Observations a detector threw on (contained and skipped): a bug or an input the core did not expect. */
  detectorErrors: 'DetectorErrors',
  /** Baselines the store skipped because they can never be stored (over DynamoDB's 400 KB item limit). */
  itemsNotStored: 'ItemsNotStored',
  /**
   * 1 per failed run whose logons could not be fetched whole under Logs Insights' row limit (a slice nothing can
   * split further, or the query budget): emitted by the failing invocation, so its alarm names the cause.
   */
  queryIncomplete: 'QueryIncomplete',
  runDurationMs: 'RunDurationMs',
  /** 1 per run that completed: the heartbeat the "no successful run for 45 minutes" alarm watches. */
  runSucceeded: 'RunSucceeded',
  /** Unanalysed minutes left before the newest bucket after the run: 0 when caught up. */
  catchUpBacklogMinutes: 'CatchUpBacklogMinutes',
  /** Backlog chunks (15 minutes of logons each) the run analysed after missed runs. */
  catchUpChunks: 'CatchUpChunks',
  /** 1 when the run ended no closer to caught up than the previous run: the backlog is not shrinking. */
  catchUpFellBehind: 'CatchUpFellBehind',
  /** Minutes of logons older than `maxBacklogDays` the run skipped (never analysed by the schedule). */
  catchUpSkippedMinutes: 'CatchUpSkippedMinutes',
} as const;
