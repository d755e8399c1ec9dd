/**
 * The CloudWatch Logs side of `authwatch backfill`, with aws-sdk-client-mock: one Insights query per
 * 15-minute window under bounded concurrency, the scan estimate from DescribeLogGroups, and an interrupted
 * run resuming from its checkpoint without re-querying completed windows.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  GetQueryResultsCommand,
  StartQueryCommand,
  StopQueryCommand,
  type ResultField,
  type StartQueryCommandInput,
} from '@aws-sdk/client-cloudwatch-logs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { LogsInsightsLogSource } from '../../shared/adapters/logs-insights-log-source';
import { BUCKET_MS, DAY_MS } from '../../shared/core/model';
import { getProfile } from '../../shared/core/profiles';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { backfill } from '../../shared/backfill';
import { cmdBackfill, estimateInsightsScan } from '../../cli/backfill';
import { useDynalite } from '../support/dynalite';

const logs = mockClient(CloudWatchLogsClient);
const dynamo = useDynalite();
const DAY0 = Date.UTC(2026, 2, 2);
const NOW = DAY0 + 2 * DAY_MS + 7 * 60_000; // two days and 7 minutes after DAY0

interface Ev {
  t: number;
  user: string;
  ip: string;
}

/** Two users, a logon every 40 minutes each, from their usual addresses. */
const EVENTS: Ev[] = [];
for (let t = DAY0 - DAY_MS; t < NOW; t += 40 * 60_000) {
  EVENTS.push({ t, user: 'alice', ip: '203.0.113.10' });
  EVENTS.push({ t: t + 5 * 60_000, user: 'bob', ip: '198.51.100.20' });
}

function insightsTime(t: number): string {
  return new Date(t).toISOString().replace('T', ' ').replace('Z', '');
}

/** Simulate Insights: each query aggregates the events in its exact millisecond range, as the ECS query does. */
function simulate(onStart?: (n: number) => void) {
  const results = new Map<string, ResultField[][]>();
  const ranges: { start: number; end: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  logs.on(StartQueryCommand).callsFake((input: StartQueryCommandInput) => {
    const m = /toMillis\(@timestamp\) >= (\d+) and toMillis\(@timestamp\) < (\d+)/.exec(input.queryString ?? '');
    if (!m) throw new Error('query without time filter');
    const start = Number(m[1]);
    const end = Number(m[2]);
    ranges.push({ start, end });
    const groups = new Map<string, Ev[]>();
    for (const e of EVENTS) {
      if (e.t < start || e.t >= end) continue;
      const k = `${e.user}|${e.ip}`;
      groups.set(k, [...(groups.get(k) ?? []), e]);
    }
    const rows = [...groups.values()].map((g) => [
      { field: 'user', value: g[0]!.user },
      { field: 'ip', value: g[0]!.ip },
      { field: 'outcome', value: 'success' },
      { field: 'host', value: 'web-01' },
      { field: 'logons', value: String(g.length) },
      { field: 'first', value: insightsTime(Math.min(...g.map((e) => e.t))) },
      { field: 'last', value: insightsTime(Math.max(...g.map((e) => e.t))) },
      { field: '@ptr', value: 'p' },
    ]);
    const id = `q${ranges.length}`;
    results.set(id, rows);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    onStart?.(ranges.length);
    return { queryId: id };
  });
  logs.on(GetQueryResultsCommand).callsFake(async ({ queryId }: { queryId: string }) => {
    await new Promise((r) => setImmediate(r));
    inFlight--;
    return { status: 'Complete', results: results.get(queryId) ?? [], statistics: { bytesScanned: 2048 } };
  });
  logs.on(StopQueryCommand).resolves({ success: true });
  logs.on(DescribeLogGroupsCommand).resolves({
    logGroups: [
      { logGroupName: '/auth/ecs', storedBytes: 30e9, retentionInDays: 30, creationTime: DAY0 - 400 * DAY_MS },
    ],
  });
  return { ranges, maxInFlight: () => maxInFlight };
}

const fast = { sleep: async () => undefined, pollIntervalMs: 1 };

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'authwatch-backfill-insights-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
beforeEach(() => logs.reset());

describe('backfill over Logs Insights', () => {
  it('runs one query per 15-minute window, at most `concurrency` at a time, and learns every bucket', async () => {
    const sim = simulate();
    const client = new CloudWatchLogsClient({ region: 'eu-west-1' });
    const source = new LogsInsightsLogSource({
      client,
      profile: getProfile('ecs'),
      logGroupNames: ['/auth/ecs'],
      ...fast,
    });
    const store = new InMemoryBaselineStore();

    const r = await backfill({
      source,
      store,
      settings: DEFAULT_SETTINGS,
      span: { start: DAY0, end: DAY0 + DAY_MS },
      concurrency: 3,
    });

    expect(r.status).toBe('completed');
    expect(r.bucketsFetched).toBe(96);
    expect(sim.ranges).toHaveLength(96);
    expect(sim.ranges.every((q) => q.end - q.start === BUCKET_MS && q.start % BUCKET_MS === 0)).toBe(true);
    expect(new Set(sim.ranges.map((q) => q.start)).size).toBe(96);
    expect(sim.maxInFlight()).toBeLessThanOrEqual(3);
    expect(r.bytesScanned).toBe(96 * 2048);
    // alice logs on every 40 minutes: 36 logons, each in its own bucket; counted per bucket, as the detector would.
    const alice = (await store.getUsers(['alice'])).get('alice')!;
    expect(alice.activity.buckets).toBeGreaterThan(35);
    expect(alice.activity.buckets).toBeLessThanOrEqual(36);
    expect(Object.keys(alice.ips)).toEqual(['203.0.113.10']);
    expect(store.ledger()).toHaveLength(0);
  });

  it('estimates bytes scanned from storedBytes pro-rated to the days asked', async () => {
    simulate();
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        { logGroupName: '/auth/ecs', storedBytes: 30e9, retentionInDays: 30, creationTime: NOW - 400 * DAY_MS },
        { logGroupName: '/auth/young', storedBytes: 1e9, creationTime: NOW - 10 * DAY_MS },
      ],
    });
    const client = new CloudWatchLogsClient({ region: 'eu-west-1' });

    const est = await estimateInsightsScan(
      client,
      ['/auth/ecs', '/auth/young', '/auth/typo'],
      { start: NOW - 7 * DAY_MS, end: NOW },
      NOW,
    );

    expect(est.groups.map((g) => g.estimatedBytes)).toEqual([7e9, 0.7e9]);
    expect(est.bytes).toBe(7.7e9);
    expect(est.missing).toEqual(['/auth/typo']);
    expect(est.queries).toBe(7 * 96 + 1);
    expect(logs.commandCalls(DescribeLogGroupsCommand)[0]!.args[0].input).toMatchObject({
      logGroupIdentifiers: ['/auth/ecs', '/auth/young', '/auth/typo'],
    });
  });

  it("finds a linked source account's log group asked for by ARN (cross-account observability)", async () => {
    const arn = 'arn:aws:logs:eu-west-1:444455556666:log-group:/member/secure';
    logs.on(DescribeLogGroupsCommand).resolves({
      logGroups: [
        {
          logGroupName: '/member/secure',
          logGroupArn: `${arn}:*`,
          storedBytes: 7e9,
          retentionInDays: 7,
          creationTime: NOW - 400 * DAY_MS,
        },
      ],
    });
    const est = await estimateInsightsScan(
      new CloudWatchLogsClient({ region: 'eu-west-1' }),
      [arn],
      { start: NOW - DAY_MS, end: NOW },
      NOW,
    );
    expect(est.missing).toEqual([]);
    expect(est.groups).toEqual([expect.objectContaining({ name: arn, estimatedBytes: 1e9 })]);
  });

  it('an interrupted command resumes from its checkpoint without re-querying completed windows', async () => {
    const stop = new AbortController();
    // Ctrl-C while the 30th query starts: the current 6-hour window (24 queries) finishes, then it stops.
    const sim = simulate((n) => {
      if (n === 30) stop.abort();
    });
    const tableName = await dynamo.freshTable();
    let out = '';
    const io = {
      err: { write: (s: string) => ((out += s), true), isTTY: false },
      now: () => NOW,
      cwd: tmp,
      logsClient: new CloudWatchLogsClient({ region: 'eu-west-1' }),
      dynamoClient: dynamo.client,
      sourceProps: fast,
      handleSigint: false,
    };
    const flags = { profile: 'ecs', 'log-group': ['/auth/ecs'], days: '2', table: tableName, concurrency: '2' };

    expect(await cmdBackfill(flags, [], { ...io, signal: stop.signal })).toBe(130);
    expect(out).toMatch(/Estimate \(no dry run.*about 2\.0 GB scanned by 192 Insights queries/);
    expect(out).toMatch(/Interrupted after 2\/8 windows/);
    const firstRun = [...sim.ranges];
    expect(firstRun).toHaveLength(48);
    const store = new DynamoDbBaselineStore({ client: dynamo.client, tableName });
    expect(await store.getRunState()).toBeUndefined();

    sim.ranges.length = 0;
    expect(await cmdBackfill(flags, [], io)).toBe(0);
    expect(out).toMatch(/about 1\.5 GB scanned by 144 Insights queries/);
    const secondRun = [...sim.ranges];
    expect(secondRun).toHaveLength(144);
    const done = new Set(firstRun.map((q) => q.start));
    expect(secondRun.filter((q) => done.has(q.start))).toEqual([]);
    expect(new Set([...firstRun, ...secondRun].map((q) => q.start)).size).toBe(192);
    const end = Math.floor(NOW / BUCKET_MS) * BUCKET_MS;
    expect(await store.getRunState()).toMatchObject({
      backfilledFrom: end - 2 * DAY_MS,
      firstWindowEnd: end,
      lastWindowEnd: end,
    });
    expect((await store.getUsers(['alice', 'bob'])).size).toBe(2);

    // A third run of the same command has nothing left to query.
    sim.ranges.length = 0;
    expect(await cmdBackfill(flags, [], io)).toBe(0);
    expect(sim.ranges).toHaveLength(0);
    expect(out).toMatch(/Already backfilled/);
  });
});
