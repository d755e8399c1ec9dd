import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  LimitExceededException,
  StartQueryCommand,
  StopQueryCommand,
  type ResultField,
  type StartQueryCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  LogsInsightsLogSource,
  MAX_QUERIES_PER_FETCH,
  type LogsInsightsLogSourceProps,
} from '../../shared/adapters/logs-insights-log-source';
import {
  buildQueryString,
  MAX_ROWS_PER_QUERY,
  splitCappedSlice,
  WHOLE_SLICE,
  type Slice,
} from '../../shared/core/insights-query';
import type { Profile, RowResult } from '../../shared/core/profiles/profile';
import { QueryError, QueryIncompleteError } from '../../shared/errors';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { getProfile } from '../../shared/core/profiles';
import { boundUserName } from '../../shared/core/profiles/common';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { runDetection } from '../../shared/run-detection';

const T = Date.UTC(2026, 2, 20, 10, 0);
const WINDOW = { start: T - 30 * 60_000, end: T };

/** A tiny profile: the row schema every profile's query ends in (user, ip, outcome, host, logons, first, last). */
const fakeProfile: Profile = {
  id: 'sshd',
  description: 'test profile',
  query:
    'fields @timestamp, @message\n| stats count(*) as logons, min(@timestamp) as first, max(@timestamp) as last by user, ip, outcome, host',
  parseLine: () => ({ kind: 'skip' }),
  mapRow(row): RowResult {
    const { user, ip, outcome, host, logons, first, last } = row;
    if (!user || !ip || (outcome !== 'success' && outcome !== 'failure'))
      return { kind: 'malformed', reason: 'missing field' };
    if (ip === '127.0.0.1') return { kind: 'skip' };
    const count = Number(logons);
    if (!Number.isFinite(count)) return { kind: 'malformed', reason: 'bad count' };
    return {
      kind: 'observation',
      observation: {
        user,
        sourceIp: ip,
        outcome,
        count,
        firstSeen: Number(first),
        lastSeen: Number(last),
        hosts: host ? [host] : [],
        methods: [],
        logSource: 'sshd',
      },
    };
  },
};

interface Row {
  user?: string;
  ip?: string;
  outcome?: string;
  host?: string;
  logons?: string;
  first?: string;
  last?: string;
}

function fields(r: Row): ResultField[] {
  return [
    { field: '@ptr', value: 'ptr' },
    ...Object.entries(r).map(([field, value]) => ({ field, value: value as string })),
  ];
}

function row(user: string, ip: string, logons: number, t: number, extra: Row = {}): Row {
  return {
    user,
    ip,
    outcome: 'success',
    host: 'web-01',
    logons: String(logons),
    first: String(t),
    last: String(t + 1000),
    ...extra,
  };
}

const logs = mockClient(CloudWatchLogsClient);

/** A clock that only the injected sleep moves: tests take no real time. */
function harness(props: Partial<LogsInsightsLogSourceProps> = {}) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const source = new LogsInsightsLogSource({
    client: new CloudWatchLogsClient({ region: 'eu-west-1' }),
    profile: fakeProfile,
    logGroupNames: ['/var/log/secure'],
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    now: () => now,
    ...props,
  });
  return { source, sleeps };
}

/**
 * Simulate Insights over a set of events: each StartQuery remembers its range and user filter; its
 * results are the matching rows, capped at `limit` as Insights does.
 */
function simulate(
  rowsFor: (q: { start: number; end: number; filter: string | undefined; input: StartQueryCommandInput }) => Row[],
) {
  const queries = new Map<string, Row[]>();
  let n = 0;
  logs.on(StartQueryCommand).callsFake((input: StartQueryCommandInput) => {
    const qs = input.queryString ?? '';
    const m = /toMillis\(@timestamp\) >= (\d+) and toMillis\(@timestamp\) < (\d+)/.exec(qs);
    if (!m) throw new Error(`query without time filter: ${qs}`);
    const filter = /\| filter (user like .*|not ispresent\(user\))$/m.exec(qs)?.[1];
    const rows = rowsFor({ start: Number(m[1]), end: Number(m[2]), filter, input });
    const id = `q${++n}`;
    queries.set(id, rows.slice(0, input.limit ?? 1000));
    return { queryId: id };
  });
  logs.on(GetQueryResultsCommand).callsFake(({ queryId }: { queryId: string }) => ({
    status: 'Complete',
    results: (queries.get(queryId) ?? []).map(fields),
    statistics: { bytesScanned: 1000, recordsMatched: 0, recordsScanned: 0 },
  }));
  logs.on(StopQueryCommand).resolves({ success: true });
}

/**
 * A query's slice filters as Insights would evaluate them: every `| filter` line after the profile's query,
 * each a conjunction of `not ispresent(f)`, `f like /re/` and `f not like /re/` (plain, case-sensitive
 * regexes; an absent field matches no regex).
 */
function sliceFilter(queryString: string): (r: Readonly<Record<string, string | undefined>>) => boolean {
  const tests: ((r: Readonly<Record<string, string | undefined>>) => boolean)[] = [];
  for (const line of queryString.split('\n').filter((l) => /^\| filter (not ispresent|\w+ (not )?like )/.test(l))) {
    for (const clause of line.slice('| filter '.length).split(/ and (?=not ispresent|\w+ (?:not )?like )/)) {
      const m = /^(?:not ispresent\((\w+)\)|(\w+) (not )?like \/(.*)\/)$/.exec(clause);
      if (!m) throw new Error(`unexpected filter ${clause}`);
      const [, absent, field, negated, source] = m;
      if (absent !== undefined) {
        tests.push((r) => r[absent] === undefined);
        continue;
      }
      const re = new RegExp(source!);
      tests.push((r) => {
        const v = r[field!];
        return v !== undefined && re.test(v) !== (negated !== undefined);
      });
    }
  }
  return (r) => tests.every((t) => t(r));
}

/**
 * Insights over a fixed set of result rows (each at the time in its `first`): a query returns the rows in its
 * millisecond range that pass its slice filters, capped at its limit. Returns what each query returned.
 */
function insightsOver(data: readonly Row[]): { returned: number[] } {
  const results = new Map<string, Row[]>();
  const returned: number[] = [];
  const sorted = [...data].sort((a, b) => Number(a.first) - Number(b.first));
  const times = sorted.map((r) => Number(r.first));
  const firstAtOrAfter = (t: number) => {
    let [lo, hi] = [0, times.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  logs.on(StartQueryCommand).callsFake((input: StartQueryCommandInput) => {
    const qs = input.queryString ?? '';
    const m = /toMillis\(@timestamp\) >= (\d+) and toMillis\(@timestamp\) < (\d+)/.exec(qs);
    if (!m) throw new Error(`query without time filter: ${qs}`);
    const [start, end] = [Number(m[1]), Number(m[2])];
    const inSlice = sliceFilter(qs);
    const rows = sorted
      .slice(firstAtOrAfter(start), firstAtOrAfter(end))
      .filter((r) => inSlice(r as Record<string, string | undefined>))
      .slice(0, input.limit ?? 1000);
    const id = `q${results.size + 1}`;
    results.set(id, rows);
    returned.push(rows.length);
    return { queryId: id };
  });
  logs.on(GetQueryResultsCommand).callsFake(({ queryId }: { queryId: string }) => ({
    status: 'Complete',
    results: (results.get(queryId) ?? []).map(fields),
    statistics: { bytesScanned: 1000 },
  }));
  logs.on(StopQueryCommand).resolves({ success: true });
  return { returned };
}

/** The slice filter lines of every query started, in order ('' for none). */
function sliceFilters(): string[] {
  return startInputs().map((i) =>
    (i.queryString ?? '')
      .split('\n')
      .filter((l) => l.startsWith('| filter ') && !l.includes('toMillis'))
      .map((l) => l.slice('| filter '.length))
      .join(' | '),
  );
}

/** A distinct, valid IPv4 address per index (below 65,536), spread over the first octet like internet noise. */
function spreadIp(i: number): string {
  return `${11 + ((i * 7919) % 200)}.${(i * 104_729) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`;
}

function startInputs(): StartQueryCommandInput[] {
  return logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input);
}

beforeEach(() => logs.reset());

describe('LogsInsightsLogSource polling', () => {
  it('polls Running until Complete with doubling waits, and maps the rows', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
    logs
      .on(GetQueryResultsCommand)
      .resolvesOnce({ status: 'Scheduled' })
      .resolvesOnce({ status: 'Running' })
      .resolvesOnce({ status: 'Running' })
      .resolves({
        status: 'Complete',
        results: [fields(row('alice', '203.0.113.9', 3, T - 60_000))],
        statistics: { bytesScanned: 4096 },
      });
    const { source, sleeps } = harness({ pollIntervalMs: 500, maxPollIntervalMs: 1_500 });

    const r = await source.fetch(WINDOW);

    expect(sleeps).toEqual([500, 1000, 1500, 1500]);
    expect(r.observations).toEqual([
      {
        user: 'alice',
        sourceIp: '203.0.113.9',
        outcome: 'success',
        count: 3,
        firstSeen: T - 60_000,
        lastSeen: T - 59_000,
        hosts: ['web-01'],
        methods: [],
        logSource: 'sshd',
      },
    ]);
    expect(r.stats).toEqual({ rows: 1, malformed: 0, queries: 1, queryMs: 4_500, bytesScanned: 4096 });
    const [input] = startInputs();
    expect(input!.logGroupNames).toEqual(['/var/log/secure']);
    expect(input!.limit).toBe(MAX_ROWS_PER_QUERY);
    // Whole seconds covering the half-open window, and an exact millisecond filter in the query.
    expect(input!.startTime).toBe(Math.floor(WINDOW.start / 1000));
    expect(input!.endTime).toBe(Math.ceil(WINDOW.end / 1000));
    expect(input!.queryString).toBe(
      `filter toMillis(@timestamp) >= ${WINDOW.start} and toMillis(@timestamp) < ${WINDOW.end}\n| ${fakeProfile.query}\n| limit ${MAX_ROWS_PER_QUERY}`,
    );
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
  });

  it('stops the query and throws QueryError when the deadline passes', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'slow' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Running' });
    logs.on(StopQueryCommand).resolves({ success: true });
    const { source, sleeps } = harness({ deadlineMs: 30_000, pollIntervalMs: 1_000, maxPollIntervalMs: 8_000 });

    const err = await source.fetch(WINDOW).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).message).toMatch(/deadline of 30000 ms reached .*slow.*stopped/);
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input)).toEqual([{ queryId: 'slow' }]);
    expect(sleeps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(30_000);
  });

  it('throws QueryError without stopping a query that already ended as Failed', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'bad' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Failed' });
    const { source } = harness();
    await expect(source.fetch(WINDOW)).rejects.toThrow(/Insights query bad ended with status Failed/);
    expect(logs.commandCalls(StopQueryCommand)).toHaveLength(0);
  });
});

// The SDK client retries throttled calls (aws-clients.ts; counted against a real endpoint in retries.test.ts).
// The mock replaces the client's send, retries included: one rejection here is the SDK having given up.
describe('LogsInsightsLogSource throttling', () => {
  it('does not retry a call the SDK gave up on: QueryError naming its attempts, no sleep', async () => {
    logs.on(StartQueryCommand).rejects(
      new LimitExceededException({
        message: 'too many concurrent queries',
        $metadata: { httpStatusCode: 400, attempts: 6 },
      }),
    );
    const { source, sleeps } = harness();
    const err = await source.fetch(WINDOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(
      /StartQuery failed after 6 attempts: LimitExceededException: too many concurrent queries/,
    );
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('a throttled GetQueryResults fails the fetch with no partial data and stops the query', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q' });
    logs.on(GetQueryResultsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400, attempts: 6 },
      }),
    );
    logs.on(StopQueryCommand).resolves({ success: true });
    const { source } = harness();
    await expect(source.fetch(WINDOW)).rejects.toThrow(
      /GetQueryResults failed after 6 attempts: ThrottlingException: Rate exceeded/,
    );
    expect(logs.commandCalls(GetQueryResultsCommand)).toHaveLength(1);
    expect(logs.commandCalls(StopQueryCommand).map((c) => c.args[0].input.queryId)).toEqual(['q']);
  });

  it('does not retry a non-retryable error', async () => {
    logs
      .on(StartQueryCommand)
      .rejects(Object.assign(new Error('log group does not exist'), { name: 'ResourceNotFoundException' }));
    const { source } = harness();
    await expect(source.fetch(WINDOW)).rejects.toThrow(
      /StartQuery failed: ResourceNotFoundException: log group does not exist/,
    );
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(1);
  });
});

describe('LogsInsightsLogSource row cap', () => {
  it('splits a capped window into time halves and merges the parts without double counting', async () => {
    const mid = WINDOW.start + (WINDOW.end - WINDOW.start) / 2;
    // 6,000 (user, ip) rows in each half; 1,000 users appear in both halves.
    const firstHalf = Array.from({ length: 6_000 }, (_, i) => row(`u${i}`, '10.0.0.1', 2, WINDOW.start + 1000));
    const secondHalf = Array.from({ length: 6_000 }, (_, i) => row(`u${i + 5_000}`, '10.0.0.1', 3, mid + 1000));
    simulate(({ start, end }) => {
      if (start === WINDOW.start && end === WINDOW.end) return [...firstHalf, ...secondHalf]; // 12,000 → capped at 10,000
      if (start === WINDOW.start && end === mid) return firstHalf;
      if (start === mid && end === WINDOW.end) return secondHalf;
      throw new Error(`unexpected range ${start}-${end}`);
    });
    const { source } = harness();

    const r = await source.fetch(WINDOW);

    expect(startInputs()).toHaveLength(3);
    expect(r.stats.queries).toBe(3);
    // The capped first page is discarded, not merged in.
    expect(r.stats.rows).toBe(12_000);
    expect(r.observations).toHaveLength(11_000);
    expect(r.observations.reduce((n, o) => n + o.count, 0)).toBe(6_000 * 2 + 6_000 * 3);
    const both = r.observations.find((o) => o.user === 'u5500')!;
    expect(both.count).toBe(5);
    expect(both.firstSeen).toBe(WINDOW.start + 1000);
    expect(both.lastSeen).toBe(mid + 2000);
    // Halves are disjoint at millisecond precision: the second starts exactly where the first ends.
    const [, h1, h2] = startInputs();
    expect(h1!.queryString).toContain(`< ${mid}\n`);
    expect(h2!.queryString).toContain(`>= ${mid} and`);
  });

  it('splits a capped one-second slice by user-name prefix, halving a crowded letter range', async () => {
    const second = { start: T - 1000, end: T };
    const lower = Array.from({ length: 12_000 }, (_, i) =>
      row(`${String.fromCharCode(97 + (i % 26))}user${i}`, '10.0.0.2', 1, T - 500),
    );
    const upper = [row('Admin', '10.0.0.3', 1, T - 500)];
    const digits = [row('1234', '10.0.0.4', 1, T - 500)];
    const other = [row('_svc', '10.0.0.5', 1, T - 500)];
    const noUser = [{ ip: '10.0.0.6', outcome: 'success', logons: '1', first: String(T - 500), last: String(T - 500) }];
    simulate(({ filter }) => {
      switch (filter) {
        case undefined:
          return [...lower, ...upper, ...digits, ...other, ...noUser];
        case 'not ispresent(user)':
          return noUser;
        case 'user like /^$/':
          return [];
        case 'user like /^[a-z]/':
          return lower;
        case 'user like /^[abcdefghijklm]/':
          return lower.filter((r) => r.user! < 'n');
        case 'user like /^[nopqrstuvwxyz]/':
          return lower.filter((r) => r.user! >= 'n');
        case 'user like /^[A-Z]/':
          return upper;
        case 'user like /^[0-9]/':
          return digits;
        case 'user like /^[^0-9A-Za-z]/':
          return other;
        default:
          throw new Error(`unexpected filter ${filter}`);
      }
    });
    const { source } = harness();

    const r = await source.fetch(second);

    const filters = startInputs().map((i) => /\| filter (.*)$/m.exec(i.queryString ?? '')?.[1]);
    expect(filters).toEqual([
      undefined,
      'not ispresent(user)',
      'user like /^$/',
      'user like /^[a-z]/',
      'user like /^[abcdefghijklm]/',
      'user like /^[nopqrstuvwxyz]/',
      'user like /^[A-Z]/',
      'user like /^[0-9]/',
      'user like /^[^0-9A-Za-z]/',
    ]);
    expect(r.observations).toHaveLength(12_003);
    expect(r.stats.malformed).toBe(1); // the row without a user
    expect(r.observations.reduce((n, o) => n + o.count, 0)).toBe(12_003);
  });

  // Issue 11: one user name with more than 10,000 (ip, host) rows within one second. Before the address split the
  // user-name split ended at `user like /^root$/`, still capped: QueryError after 56 queries, nothing returned.
  it('fetches more than 10,000 rows of one user name within one second whole, split by source address', async () => {
    const hot = T - 10 * 60_000 + 123;
    const spray = Array.from({ length: 25_000 }, (_, i) =>
      row('root', spreadIp(i), 1, hot + (i % 900), { outcome: 'failure' }),
    );
    const background = Array.from({ length: 500 }, (_, i) =>
      row(`user${i}`, `81.2.${i % 250}.10`, 2, WINDOW.start + i * 3_000),
    );
    const { returned } = insightsOver([...spray, ...background]);
    const { source } = harness();

    const r = await source.fetch(WINDOW);

    expect(r.stats.rows).toBe(25_500);
    expect(r.observations).toHaveLength(25_500);
    expect(r.observations.filter((o) => o.user === 'root').reduce((n, o) => n + o.count, 0)).toBe(25_000);
    expect(r.stats.queries).toBe(57);
    expect(returned.filter((n) => n >= MAX_ROWS_PER_QUERY).length).toBeGreaterThan(0);
    const filters = sliceFilters();
    // The hot second straddles a time-split boundary, so two one-second slices are split; each finds `root` in
    // its capped page and asks for it on its own, then splits its addresses; no host split was needed.
    expect(filters.filter((f) => f === 'user like /^root$/')).toHaveLength(2);
    expect(filters.filter((f) => f === 'user like /^[a-z]/ and user not like /^root$/')).toHaveLength(2);
    expect(filters).toContain('user like /^root$/ | ip like /^[0-9]/');
    expect(filters.some((f) => f.includes('host'))).toBe(false);
  });

  it('splits by host when one user from one address reaches more hosts than the cap within one second', async () => {
    const second = { start: T - 1_000, end: T };
    const fleet = Array.from({ length: 12_000 }, (_, i) =>
      row('ansible', '10.0.0.5', 1, T - 500, { host: `ip-10-1-${Math.floor(i / 250)}-${i % 250}` }),
    );
    insightsOver([...fleet, row('alice', '203.0.113.9', 1, T - 400)]);
    const { source } = harness();

    const r = await source.fetch(second);

    expect(r.stats.rows).toBe(12_001);
    expect(r.observations.find((o) => o.user === 'ansible')!.count).toBe(12_000);
    expect(r.observations.find((o) => o.user === 'alice')!.count).toBe(1);
    expect(r.stats.queries).toBe(34);
    expect(
      sliceFilters().some((f) =>
        f.startsWith('user like /^ansible$/ | ip like /^10[^0-9A-Za-z]0[^0-9A-Za-z]0[^0-9A-Za-z]5$/ | host like'),
      ),
    ).toBe(true);
  });

  it('fails with QueryIncompleteError naming the slice when nothing is left to split', async () => {
    // Rows that differ only beyond user, address and host (here an extra grouping column): no filter can part them.
    const same = Array.from(
      { length: MAX_ROWS_PER_QUERY },
      (_, i) => ({ ...row('a', '203.0.113.9', 1, T - 500), type: `t${i}` }) as Row,
    );
    insightsOver(same);
    const { source } = harness();

    const err = await source.fetch({ start: T - 1_000, end: T }).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueryIncompleteError);
    expect((err as Error).message).toContain(
      'the 10000-row Insights limit is still reached for user like /^a$/ and ip like /^203[^0-9A-Za-z]0[^0-9A-Za-z]113[^0-9A-Za-z]9$/ and host like /^web[^0-9A-Za-z]01$/ in [2026-03-20T09:59:59.000Z, 2026-03-20T10:00:00.000Z), which cannot be split further',
    );
    expect((err as QueryIncompleteError).queries).toBe(logs.commandCalls(StartQueryCommand).length);
  });

  it('fails with QueryIncompleteError when the splits need more than the query budget', async () => {
    // One sprayed user in each of 20 seconds spread over the window: ~20 queries each, over the 200 of one fetch.
    const data = Array.from({ length: 20 }, (_, s) =>
      Array.from({ length: 10_500 }, (_, i) => row('root', spreadIp(i), 1, WINDOW.start + 45_000 + s * 90_000)),
    ).flat();
    insightsOver(data);
    const { source } = harness();

    const err = await source.fetch(WINDOW).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueryIncompleteError);
    expect((err as Error).message).toMatch(
      /needed more than 200 Insights queries to get the window .* under the 10000-row limit \(next: .*\); refusing to return incomplete logons/,
    );
    expect(logs.commandCalls(StartQueryCommand)).toHaveLength(MAX_QUERIES_PER_FETCH);
  });

  it('still splits 300,000 rows spread over the window by time alone', async () => {
    const data = Array.from({ length: 300_000 }, (_, i) =>
      row(`u${i}`, '10.0.0.1', 1, WINDOW.start + Math.floor((i * (WINDOW.end - WINDOW.start)) / 300_000)),
    );
    insightsOver(data);
    const { source } = harness();

    const r = await source.fetch(WINDOW);

    expect(r.stats.rows).toBe(300_000);
    expect(r.stats.queries).toBe(63);
    expect(sliceFilters().every((f) => f === '')).toBe(true);
  });

  it.each(['Failed', 'Timeout', 'Cancelled'] as const)(
    'returns nothing when a sub-query of a split ends %s',
    async (status) => {
      const second = { start: T - 1_000, end: T };
      const rows = Array.from({ length: 12_000 }, (_, i) => row(`u${i}`, '10.0.0.1', 1, T - 500));
      logs
        .on(StartQueryCommand)
        .resolvesOnce({ queryId: 'whole' })
        .resolvesOnce({ queryId: 'absent' })
        .resolves({ queryId: 'bad' });
      logs
        .on(GetQueryResultsCommand)
        .resolvesOnce({ status: 'Complete', results: rows.slice(0, MAX_ROWS_PER_QUERY).map(fields) })
        .resolvesOnce({ status: 'Complete', results: [] })
        .resolves({ status });
      const { source } = harness();

      const err = await source.fetch(second).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(QueryError);
      expect(err).not.toBeInstanceOf(QueryIncompleteError);
      expect((err as Error).message).toContain(`Insights query bad ended with status ${status} (user like /^$/`);
      expect(logs.commandCalls(StartQueryCommand)).toHaveLength(3);
    },
  );
});

describe('LogsInsightsLogSource configuration and rows', () => {
  it('refuses more than 50 log groups with a message saying what to do', () => {
    const groups = Array.from({ length: 51 }, (_, i) => `/aws/group-${i}`);
    expect(() => harness({ logGroupNames: groups })).toThrow(QueryError);
    expect(() => harness({ logGroupNames: groups })).toThrow(
      /51 log groups given, but one Insights query takes at most 50; configure several log sources/,
    );
    expect(() => harness({ logGroupNames: Array.from({ length: 50 }, (_, i) => `/g${i}`) })).not.toThrow();
    expect(() => harness({ logGroupNames: [] })).toThrow(/at least one log group/);
  });

  it('names log groups of linked source accounts by ARN as logGroupIdentifiers, never beside logGroupNames', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q' });
    logs.on(GetQueryResultsCommand).resolves({ status: 'Complete', results: [] });
    const remote = 'arn:aws:logs:eu-west-1:444455556666:log-group:/ec2/secure';
    // A group of the monitoring account's own may stay a name beside an ARN: logGroupIdentifiers takes both.
    const { source } = harness({ logGroupNames: [remote, '/var/log/secure'] });
    await source.fetch(WINDOW);
    const [byArn] = logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input);
    expect(byArn!.logGroupIdentifiers).toEqual([remote, '/var/log/secure']);
    expect(byArn).not.toHaveProperty('logGroupNames');
    expect(byArn).not.toHaveProperty('logGroupName');

    logs.resetHistory();
    await harness().source.fetch(WINDOW);
    const [byName] = logs.commandCalls(StartQueryCommand).map((c) => c.args[0].input);
    expect(byName!.logGroupNames).toEqual(['/var/log/secure']);
    expect(byName).not.toHaveProperty('logGroupIdentifiers');
  });

  it('counts rows that do not map as malformed, skips legitimate non-logons, and ignores @ptr', async () => {
    logs.on(StartQueryCommand).resolves({ queryId: 'q' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        fields(row('alice', '203.0.113.9', 1, T - 5000)),
        fields(row('alice', '203.0.113.9', 2, T - 9000, { host: 'web-02' })),
        fields({ ip: '203.0.113.9', outcome: 'success', logons: '1' }),
        fields(row('carol', '203.0.113.10', 1, T - 5000, { logons: 'many' })),
        fields(row('root', '127.0.0.1', 1, T - 5000)),
      ],
    });
    const { source } = harness();
    const r = await source.fetch(WINDOW);
    expect(r.stats.rows).toBe(5);
    expect(r.stats.malformed).toBe(2);
    // Two host rows of one (user, ip, outcome) become one observation.
    expect(r.observations).toEqual([
      expect.objectContaining({
        user: 'alice',
        sourceIp: '203.0.113.9',
        count: 3,
        firstSeen: T - 9000,
        lastSeen: T - 4000,
        hosts: ['web-01', 'web-02'],
      }),
    ]);
  });

  it('rejects an empty or inverted window', async () => {
    const { source } = harness();
    await expect(source.fetch({ start: T, end: T })).rejects.toThrow(QueryError);
    expect(logs.calls()).toHaveLength(0);
  });
});

describe('buildQueryString', () => {
  it('filters a user-name part before the row limit, never after a truncated result', () => {
    const q = buildQueryString(
      'fields user\n| stats count(*) as logons by user, ip\n| limit 10000',
      { start: 0, end: 60_000 },
      { ...WHOLE_SLICE, user: { kind: 'prefix', atoms: [{ chars: 'abcdefghijklm' }] } },
    );
    const lines = q.split('\n');
    expect(lines.at(-1)).toBe('| limit 10000');
    expect(lines.filter((l) => /limit/.test(l))).toHaveLength(1);
    expect(lines.findIndex((l) => l.startsWith('| filter'))).toBeLessThan(lines.length - 1);
  });
});

describe('splitCappedSlice', () => {
  // Values of every shape a log can hold: shared prefixes, case, digits, symbols, spaces, a trailing newline,
  // non-ASCII and astral characters, the empty value, and rows without the column.
  const values = [
    'root',
    'roots',
    'Root',
    'ro0t',
    'r',
    '',
    'root\n',
    'ro ot',
    'ünïcødé',
    '🔑key',
    '10.0.0.1',
    '10.0.0.10',
    '10.0.1.1',
    '2001:db8::1',
    'ip-10-1-2-3',
    'ip-10-1-2-4',
    'ip-10-1-20-3',
    'svc-deploy-prod-01',
    'svc-deploy-prod-02',
    'a'.repeat(300),
  ];
  const rows: Record<string, string | undefined>[] = [];
  for (const user of [...values, undefined])
    for (const ip of ['10.0.0.1', '2001:db8::1', undefined])
      for (const host of ['web-01', 'ip-10-1-2-3', undefined]) rows.push({ user, ip, host });
  const inSlice = (slice: Slice) =>
    sliceFilter(buildQueryString('stats count(*) as logons by user, ip, host', { start: 0, end: 1_000 }, slice));
  /** Pages that steer the guided split every way: one dominant value, a shared prefix, or nothing in common. */
  const pages = (matching: Record<string, string | undefined>[]): Record<string, string>[][] => {
    const defined = (r: Record<string, string | undefined>) =>
      Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as Record<string, string>;
    return [matching.map(defined), matching.slice(0, 1).map(defined), matching.slice(-3).map(defined), []];
  };

  it('always parts a slice into slices that hold each of its rows exactly once, down to where nothing splits', () => {
    let splits = 0;
    let guided = 0;
    const visit = (slice: Slice, depth: number) => {
      const matching = rows.filter(inSlice(slice));
      if (matching.length === 0 || depth > 60) return;
      const steering = pages(matching);
      for (const page of steering) {
        const children = splitCappedSlice(slice, page);
        if (!children) continue;
        splits++;
        if (children.some((c) => Object.values(c).some((p) => 'exclude' in p))) guided++;
        const tests = children.map(inSlice);
        for (const r of matching)
          expect(tests.filter((t) => t(r)).length, `${JSON.stringify(r)} in ${JSON.stringify(slice)}`).toBe(1);
        for (const r of rows.filter((x) => !matching.includes(x))) expect(tests.some((t) => t(r))).toBe(false);
        // Go on along the first page's children only: the tree of every page is too large to walk.
        if (page === steering[0]) for (const child of children) visit(child, depth + 1);
      }
    };
    visit(WHOLE_SLICE, 0);
    expect(splits).toBeGreaterThan(1_000);
    expect(guided).toBeGreaterThan(300);
  });
});

describe('user names in Insights rows: bounded and counted as in local files', () => {
  it('a row with a 1 MB name gives the bounded user and counts it, up to the run summary', async () => {
    const huge = 'A'.repeat(1024 * 1024);
    const t = '2026-03-20 09:50:00.000';
    logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        fields({ user: huge, ip: '203.0.113.9', outcome: 'Accepted', host: 'web-01', logons: '1', first: t, last: t }),
        fields({
          user: 'alice',
          ip: '203.0.113.10',
          outcome: 'Accepted',
          host: 'web-01',
          logons: '2',
          first: t,
          last: t,
        }),
      ],
    });
    const { source } = harness({ profile: getProfile('sshd') });
    const r = await source.fetch(WINDOW);
    expect(r.stats.namesTruncated).toBe(1);
    expect(r.observations.map((o) => o.user).sort()).toEqual([boundUserName(huge.toLowerCase()).name, 'alice'].sort());
    const summary = await runDetection(
      {
        logSources: [source],
        store: new InMemoryBaselineStore(),
        sink: new InMemoryAlertSink(),
        clock: { now: () => T },
        settings: DEFAULT_SETTINGS,
      },
      { windowEnd: T },
    );
    expect(summary.namesTruncated).toBe(1);
  });
});

describe('LogsInsightsLogSource with the sshd profile: failed attempts', () => {
  it('asks Insights to sum the attempts of repeat lines, and keeps the summed count of each row', async () => {
    const t = '2026-03-20 09:50:00.000';
    logs.on(StartQueryCommand).resolves({ queryId: 'q1' });
    logs.on(GetQueryResultsCommand).resolves({
      status: 'Complete',
      results: [
        // One `Failed password` line and one `message repeated 5 times` line of it: Insights' sum is 6.
        fields({ user: 'root', ip: '192.0.2.201', outcome: 'Failed', host: 'web-01', logons: '6', first: t, last: t }),
      ],
    });
    const { source } = harness({ profile: getProfile('sshd') });
    const r = await source.fetch(WINDOW);

    const query = startInputs()[0]!.queryString!;
    expect(query).toContain('| fields coalesce(repeats, 1) as attempts');
    expect(query).toContain('| stats sum(attempts) as logons, ');
    expect(query).toMatch(/\| parse @message \/.*message repeated \(\?<repeats>/);
    expect(r.observations).toMatchObject([{ user: 'root', outcome: 'failure', count: 6 }]);
  });
});
