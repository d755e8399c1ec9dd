import type { LogonObservation, TimeWindow } from '../core/model';

/** Counters a log source reports for one fetch, for metrics and the run summary. */
export interface LogSourceStats {
  /** Rows (or lines) read from the source. */
  rows: number;
  /** Rows/lines that looked like logons but could not be mapped; counted and skipped. */
  malformed: number;
  /** Rows/lines whose user name was longer than `MAX_USER_CHARS` and was bounded; absent means none. */
  namesTruncated?: number;
  /** Queries started (Logs Insights), including splits of capped windows. */
  queries: number;
  /** Wall time spent querying, ms. */
  queryMs: number;
  /** Bytes scanned by the queries, when the source reports it. */
  bytesScanned: number;
}

export interface LogSourceResult {
  /** Observations aggregated per (user, source IP, outcome) over the window. */
  observations: LogonObservation[];
  stats: LogSourceStats;
}

/** Where logons come from: Logs Insights in AWS, a file locally. */
export interface LogSource {
  /** Human-readable name for logs (`sshd:/var/log/secure`). */
  readonly name: string;
  /** All logons with a timestamp in [window.start, window.end), aggregated. Throws `QueryError` if it cannot return them all. */
  fetch(window: TimeWindow): Promise<LogSourceResult>;
}
