/**
 * `LogsInsightsLogSource`: logons of one profile's log groups from CloudWatch Logs Insights.
 *
 * One fetch = one Insights query over all the log groups (cost is per GB scanned, so never one query per
 * group), started with `StartQuery` and polled with `GetQueryResults` under a deadline. Insights returns at
 * most 10,000 rows per query and says nothing when it truncates, so a full page is treated as "capped":
 * the window is split in time halves down to one second, then by user-name prefix, then by source-address
 * prefix, then by host prefix, until no part is capped; a value crowding a capped page (`root` in a spray) is
 * split off on its own rather than found character by character (`splitCappedSlice`; the queries and their
 * splits are planned without I/O in core/insights-query.ts, this adapter runs them). A result row is one
 * (user, ip, outcome, host) of the profile's aggregation, so once user, address and host are each down to
 * single values a part holds a handful of rows: every split ends, and thousands of addresses behind one user
 * name in one second (a distributed password spray on `root`) come back whole, in about 60 queries where the
 * user-name split alone failed after 56. Nothing is ever silently truncated: a part still
 * capped when nothing is left to split, or a split needing more than `MAX_QUERIES_PER_FETCH` queries, fails
 * the fetch with `QueryIncompleteError` naming the slice (the run fails; metric and alarm `QueryIncomplete`).
 * A throttled call (including `LimitExceededException`: all the account's concurrent queries taken) is
 * retried by the SDK client as configured in aws-clients.ts, never again here; the source only cuts every
 * call, its retries included, off at the fetch deadline.
 */
import { createHash } from 'node:crypto';
import {
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type CloudWatchLogsClient,
  type GetQueryResultsCommandOutput,
  type ResultField,
} from '@aws-sdk/client-cloudwatch-logs';
import { DEFAULT_QUERY_TIMEOUT_MS } from '../config';
import { mergeObservations } from '../core/aggregate';
import {
  MAX_LOG_GROUPS_PER_QUERY,
  MAX_ROWS_PER_QUERY,
  MIN_TIME_SPLIT_MS,
  type Slice,
  WHOLE_SLICE,
  buildQueryString,
  describeSlice,
  isWhole,
  splitCappedSlice,
  startQueryRange,
} from '../core/insights-query';
import { looksLikeArn } from '../core/log-group-arn';
import type { LogonObservation, TimeWindow } from '../core/model';
import type { Profile } from '../core/profiles/profile';
import { QueryError, QueryIncompleteError } from '../errors';
import type { LogSource, LogSourceResult, LogSourceStats } from '../ports';
import { errorText } from './aws-retry';

/**
 * Sub-queries one fetch may start, splits included. Concurrent Insights queries are limited per account
 * (tens), every sub-query rescans its time range, and the deadline would stop a runaway split anyway.
 */
export const MAX_QUERIES_PER_FETCH = 200;
const DEFAULT_POLL_INTERVAL_MS = 1_000;
const DEFAULT_MAX_POLL_INTERVAL_MS = 10_000;
/**
 * Wall-clock budget of the best-effort `StopQuery` after a failure: the SDK would otherwise spend its whole
 * throttling backoff on a call whose outcome changes nothing for the caller.
 */
const STOP_QUERY_BUDGET_MS = 5_000;

/** Result row as Insights returns it → field map. `@ptr` (a pointer to the log event) is not data. */
export function rowToRecord(row: readonly ResultField[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of row) {
    if (f.field === undefined || f.field === '@ptr') continue;
    out[f.field] = f.value ?? '';
  }
  return out;
}

export interface LogsInsightsLogSourceProps {
  readonly client: CloudWatchLogsClient;
  readonly profile: Profile;
  /**
   * 1 to 50 log groups, all queried in one query: names, or ARNs for the groups of linked source accounts (CloudWatch
   * cross-account observability, queried from the monitoring account). With any ARN among them, the query names
   * them all as `logGroupIdentifiers` (which takes both forms), since StartQuery takes that or `logGroupNames`,
   * never both.
   */
  readonly logGroupNames: readonly string[];
  /** For logs; defaults to `<profile>:<group>[,<group>...]`. */
  readonly name?: string;
  /** Budget for one whole fetch, splits and retries included. Default: the query budget, `DEFAULT_QUERY_TIMEOUT_MS`. */
  readonly deadlineMs?: number;
  /** First wait before polling a started query; doubles up to `maxPollIntervalMs`. */
  readonly pollIntervalMs?: number;
  readonly maxPollIntervalMs?: number;
  /** Injectable for tests (waits between polls); defaults to `setTimeout`. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Millisecond clock for the deadline and `queryMs`; tests pass one that their `sleep` advances. */
  readonly now?: () => number;
}

/** Internal: the fetch's deadline passed while waiting. Converted to `QueryError` at the edge of `fetch`. */
class DeadlineReached extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineReached';
  }
}

interface FetchContext {
  readonly window: TimeWindow;
  readonly deadlineAt: number;
  queries: number;
  bytesScanned: number;
}

interface QueryOutcome {
  readonly rows: Record<string, string>[];
  readonly capped: boolean;
}

export class LogsInsightsLogSource implements LogSource {
  readonly name: string;
  private readonly client: CloudWatchLogsClient;
  private readonly profile: Profile;
  /** StartQuery's choice of log groups: by name, or (cross-account) by identifier. */
  private readonly logGroups: { logGroupNames: string[] } | { logGroupIdentifiers: string[] };
  private readonly deadlineMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxPollIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(props: LogsInsightsLogSourceProps) {
    const groups = [...props.logGroupNames];
    if (groups.length === 0)
      throw new QueryError(`LogsInsightsLogSource(${props.profile.id}): at least one log group name is required`);
    if (groups.length > MAX_LOG_GROUPS_PER_QUERY) {
      throw new QueryError(
        `LogsInsightsLogSource(${props.profile.id}): ${groups.length} log groups given, but one Insights query takes at most ${MAX_LOG_GROUPS_PER_QUERY}; configure several log sources with the same profile instead`,
      );
    }
    const blank = groups.findIndex((g) => g.trim() === '');
    if (blank >= 0)
      throw new QueryError(`LogsInsightsLogSource(${props.profile.id}): log group name #${blank + 1} is empty`);
    this.client = props.client;
    this.profile = props.profile;
    this.logGroups = groups.some(looksLikeArn) ? { logGroupIdentifiers: groups } : { logGroupNames: groups };
    this.name = props.name ?? `${props.profile.id}:${groups.join(',')}`;
    this.deadlineMs = props.deadlineMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.pollIntervalMs = props.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.maxPollIntervalMs = props.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS;
    this.sleep = props.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = props.now ?? Date.now;
  }

  async fetch(window: TimeWindow): Promise<LogSourceResult> {
    if (!Number.isFinite(window.start) || !Number.isFinite(window.end) || window.end <= window.start) {
      throw new QueryError(`${this.name}: invalid window [${window.start}, ${window.end})`);
    }
    const started = this.now();
    const ctx: FetchContext = { window, deadlineAt: started + this.deadlineMs, queries: 0, bytesScanned: 0 };
    let rows: Record<string, string>[];
    try {
      rows = await this.collect(ctx, { start: window.start, end: window.end }, WHOLE_SLICE);
    } catch (e) {
      if (e instanceof QueryError) throw e;
      if (e instanceof DeadlineReached) throw new QueryError(`${this.name}: ${e.message}`, { cause: e });
      throw new QueryError(`${this.name}: query failed: ${errorText(e)}`, { cause: e });
    }

    const observations: LogonObservation[] = [];
    let malformed = 0;
    let namesTruncated = 0;
    for (const row of rows) {
      const r = this.profile.mapRow(row);
      if (r.kind === 'observation') {
        observations.push(r.observation);
        if (r.userTruncated) namesTruncated++;
      } else if (r.kind === 'malformed') malformed++;
    }
    const stats: LogSourceStats = {
      rows: rows.length,
      malformed,
      ...(namesTruncated > 0 ? { namesTruncated } : {}),
      queries: ctx.queries,
      queryMs: this.now() - started,
      bytesScanned: ctx.bytesScanned,
    };
    return { observations: mergeObservations(observations), stats };
  }

  /**
   * All rows of `range` × `slice`, splitting while capped: time halves first (only while no column filter is
   * applied, so time and column splits never interleave), then user name, address and host parts
   * (`splitSlice`). Rows are deduplicated by content within one call tree: parts are disjoint by
   * construction, but if a regex anchoring quirk ever made two parts overlap (a value ending in a newline
   * matches both `^a$` and `^a[^0-9A-Za-z]`), the same (user, ip, outcome, host) row must not be counted twice.
   */
  private async collect(ctx: FetchContext, range: TimeWindow, slice: Slice): Promise<Record<string, string>[]> {
    const result = await this.runQuery(ctx, range, slice);
    if (!result.capped) return result.rows;

    if (isWhole(slice) && range.end - range.start > MIN_TIME_SPLIT_MS) {
      const mid = range.start + Math.floor((range.end - range.start) / 2);
      const first = await this.collect(ctx, { start: range.start, end: mid }, slice);
      const second = await this.collect(ctx, { start: mid, end: range.end }, slice);
      return [...first, ...second];
    }
    const children = splitCappedSlice(slice, result.rows);
    if (!children) {
      throw new QueryIncompleteError(
        `${this.name}: the ${MAX_ROWS_PER_QUERY}-row Insights limit is still reached for ${describeSlice(slice)} in [${iso(range.start)}, ${iso(range.end)}), ` +
          `which cannot be split further (user name, address and host are each split as far as they go); refusing to return incomplete logons`,
        ctx.queries,
      );
    }
    const seen = new Set<string>();
    const out: Record<string, string>[] = [];
    for (const child of children) {
      for (const row of await this.collect(ctx, range, child)) {
        const key = rowKey(row);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(row);
      }
    }
    return out;
  }

  /** One StartQuery + polling until a terminal status. */
  private async runQuery(ctx: FetchContext, range: TimeWindow, slice: Slice): Promise<QueryOutcome> {
    if (ctx.queries >= MAX_QUERIES_PER_FETCH) {
      throw new QueryIncompleteError(
        `${this.name}: needed more than ${MAX_QUERIES_PER_FETCH} Insights queries to get the window [${iso(ctx.window.start)}, ${iso(ctx.window.end)}) under the ${MAX_ROWS_PER_QUERY}-row limit ` +
          `(next: ${describeSlice(slice)} in [${iso(range.start)}, ${iso(range.end)})); refusing to return incomplete logons`,
        ctx.queries,
      );
    }
    const { startTime, endTime } = startQueryRange(range);
    const queryString = buildQueryString(this.profile.query, range, slice);
    const started = await this.call(ctx, 'StartQuery', (abortSignal) =>
      this.client.send(
        new StartQueryCommand({
          ...this.logGroups,
          startTime,
          endTime,
          queryString,
          limit: MAX_ROWS_PER_QUERY,
        }),
        { abortSignal },
      ),
    );
    const queryId = started.queryId;
    if (!queryId) throw new QueryError(`${this.name}: StartQuery returned no query id`);
    ctx.queries++;

    try {
      let interval = this.pollIntervalMs;
      for (;;) {
        await this.pause(ctx, interval, `query ${queryId} still running`);
        interval = Math.min(interval * 2, this.maxPollIntervalMs);
        const res: GetQueryResultsCommandOutput = await this.call(ctx, 'GetQueryResults', (abortSignal) =>
          this.client.send(new GetQueryResultsCommand({ queryId }), { abortSignal }),
        );
        switch (res.status) {
          case 'Scheduled':
          case 'Running':
          case undefined:
            continue;
          case 'Complete': {
            ctx.bytesScanned += res.statistics?.bytesScanned ?? 0;
            const rows = (res.results ?? []).map(rowToRecord);
            return { rows, capped: rows.length >= MAX_ROWS_PER_QUERY };
          }
          default:
            // Failed, Cancelled (someone stopped it), Timeout (Insights' 60-minute limit), Unknown.
            throw new QueryError(
              `${this.name}: Insights query ${queryId} ended with status ${res.status} (${describeSlice(slice)}, [${iso(range.start)}, ${iso(range.end)}))`,
            );
        }
      }
    } catch (e) {
      // Anything but completion: stop the query so it does not keep holding one of the account's concurrent slots.
      await this.stopQuietly(queryId, e);
      if (e instanceof DeadlineReached) {
        throw new QueryError(
          `${this.name}: deadline of ${this.deadlineMs} ms reached while waiting for Insights query ${queryId}; the query was stopped`,
          { cause: e },
        );
      }
      throw e;
    }
  }

  /** Best effort: a StopQuery failure must not hide the reason we stopped. */
  private async stopQuietly(queryId: string, reason: unknown): Promise<void> {
    if (reason instanceof QueryError && /ended with status/.test(reason.message)) return; // already terminal
    try {
      await this.client.send(new StopQueryCommand({ queryId }), {
        abortSignal: AbortSignal.timeout(STOP_QUERY_BUDGET_MS),
      });
    } catch {
      // The query ends on its own (Insights' own timeout); the original error is what the caller must see.
    }
  }

  /** Sleep unless that would pass the deadline. */
  private async pause(ctx: FetchContext, ms: number, what: string): Promise<void> {
    if (this.now() + ms > ctx.deadlineAt)
      throw new DeadlineReached(`deadline of ${this.deadlineMs} ms reached (${what})`);
    await this.sleep(ms);
  }

  /**
   * One SDK call. Throttling and transient failures are retried by the client (aws-clients.ts), so an error
   * here is final: it is wrapped, never retried, or each adapter try would multiply the SDK's attempts. The
   * call, its retries and their backoff, is aborted when the fetch deadline passes.
   */
  private async call<T>(ctx: FetchContext, op: string, send: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
    const left = ctx.deadlineAt - this.now();
    if (left <= 0) throw new DeadlineReached(`deadline of ${this.deadlineMs} ms reached (before ${op})`);
    const signal = AbortSignal.timeout(left);
    try {
      return await send(signal);
    } catch (e) {
      if (signal.aborted)
        throw new DeadlineReached(`deadline of ${this.deadlineMs} ms reached during ${op} (${errorText(e)})`);
      const attempts = attemptsOf(e);
      throw new QueryError(
        `${this.name}: ${op} failed${attempts > 1 ? ` after ${attempts} attempts` : ''}: ${errorText(e)}`,
        { cause: e },
      );
    }
  }
}

/** Attempts the SDK made before giving up (`$metadata.attempts`), 1 when it does not say. */
function attemptsOf(e: unknown): number {
  const attempts = (e as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof attempts === 'number' ? attempts : 1;
}

function rowKey(row: Readonly<Record<string, string>>): string {
  const entries = Object.entries(row).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return createHash('sha256').update(JSON.stringify(entries)).digest('base64');
}

function iso(t: number): string {
  return new Date(t).toISOString();
}
