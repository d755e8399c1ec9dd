/**
 * Recovery after missed runs, end to end over the ports: the real pipeline (`runScheduled` → `runDetection`),
 * the in-memory store (the DynamoDB adapter's codec), and a fake Logs Insights that can fail on chosen runs,
 * counts the rows it scans, and costs time in proportion to them on a fake clock, so a run that scans too much
 * runs past the Lambda's 5 minutes and is killed, as in AWS.
 *
 * The same scenarios driven through the old pipeline (each invocation one `runDetection` reaching back at most
 * 6 hours; commit 900ede6) gave: after the 3-day outage, 1 of the 5 gap logons analysed (the one 2.5 hours before
 * recovery), the other 4 neither alerted nor learned; after the 30-minute Insights outage, 30 of 30 following
 * runs failed, each window 15 minutes longer than the last (1 to 6 hours, 180,000 to 1,080,000 rows).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { backfill } from '../../shared/backfill';
import { cmdBackfill } from '../../cli/backfill';
import { openLocalStore } from '../../cli/local';
import { renderStatus, status } from '../../cli/operator';
import { toEcsLine } from '../../cli/scenario/writers';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { unusualSourceIp } from '../../shared/core/detectors';
import { BUCKET_MS, DAY_MS, type Alert, type LogonEvent, type TimeWindow } from '../../shared/core/model';
import { DEFAULT_SETTINGS, type DetectionSettings } from '../../shared/core/settings';
import { AuthwatchError, QueryError, QueryIncompleteError } from '../../shared/errors';
import type { LogSource, LogSourceResult } from '../../shared/ports';
import type { DetectionDeps } from '../../shared/run-detection';
import { analyseRange, runScheduled, type ScheduledRunSummary } from '../../shared/run-scheduled';
import { emitRunMetrics } from '../../lambdas/detector/metrics';
import { METRICS } from '../../shared/telemetry';
import { HOUR, T0 } from '../support/history';
import { FIXTURE_TSV } from '../unit/network-data/support';

/** The alerts of the unusual-IP detector, whose catch-up these attacks (new addresses) exercise. */
function ipAlerts(alerts: readonly Alert[]): Alert[] {
  return alerts.filter((a) => a.rule.id === unusualSourceIp.id);
}

/** No detector raised the same logon twice (every other registered detector may also find it unusual, once). */
function oncePerDetector(alerts: readonly Alert[]): boolean {
  return new Set(alerts.map((a) => a.rule.id)).size === alerts.length;
}

const LAMBDA_TIMEOUT_MS = 5 * 60_000;
const MINUTE = 60_000;

/** Lambda stopped the invocation at its timeout. */
class TimedOut extends AuthwatchError {}

/** A settable clock: the fake source advances it by what each query costs. */
class FakeClock {
  t = 0;
  now = () => this.t;
}

/**
 * Logs Insights stand-in. Answers from parsed events like `FileLogSource`, but every query also scans
 * `rowsPerMinute` rows of other log lines per minute of its window, and takes `overheadMs` plus `msPerRow` per
 * row of the fake clock's time. `failing` simulates an Insights outage; a query that ends past `deadline` throws
 * as Lambda's timeout would.
 */
class FakeInsights implements LogSource {
  readonly name = 'fake-insights';
  failing = false;
  deadline = Infinity;
  rowsScanned = 0;
  queries = 0;
  constructor(
    private readonly file: FileLogSource,
    private readonly clock: FakeClock,
    private readonly cost: { rowsPerMinute: number; msPerRow: number; overheadMs: number } = {
      rowsPerMinute: 0,
      msPerRow: 0,
      overheadMs: 1000,
    },
  ) {}

  async fetch(window: TimeWindow): Promise<LogSourceResult> {
    if (this.failing) throw new QueryError('simulated Logs Insights outage');
    const r = await this.file.fetch(window);
    const rows = r.stats.rows + (this.cost.rowsPerMinute * (window.end - window.start)) / MINUTE;
    this.queries++;
    this.rowsScanned += rows;
    this.clock.t += this.cost.overheadMs + rows * this.cost.msPerRow;
    if (this.clock.t > this.deadline) throw new TimedOut(`Task timed out after ${LAMBDA_TIMEOUT_MS / 1000} seconds`);
    return { observations: r.observations, stats: { ...r.stats, rows } };
  }
}

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

/** A small office: 20 users, each from their own home IP at 9:00 and 15:00 every day. */
function office(days: number): LogonEvent[] {
  const events: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 20; u++)
      for (const h of [9, 15]) events.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  return events;
}

interface World {
  deps: DetectionDeps;
  store: InMemoryBaselineStore;
  sink: InMemoryAlertSink;
  source: FakeInsights;
  clock: FakeClock;
}

function world(
  events: LogonEvent[],
  opts: { settings?: Partial<DetectionSettings>; cost?: ConstructorParameters<typeof FakeInsights>[2] } = {},
): World {
  const clock = new FakeClock();
  const file = new FileLogSource({
    name: 'office',
    events,
    parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
  });
  const source = new FakeInsights(file, clock, opts.cost);
  const store = new InMemoryBaselineStore();
  const sink = new InMemoryAlertSink();
  return {
    deps: { logSources: [source], store, sink, clock, settings: { ...DEFAULT_SETTINGS, ...opts.settings } },
    store,
    sink,
    source,
    clock,
  };
}

/** One scheduled invocation at `T`, as Lambda runs it: a 5-minute deadline, killed if it runs past it. */
async function invoke(w: World, T: number): Promise<ScheduledRunSummary | Error> {
  w.clock.t = T;
  const deadline = T + LAMBDA_TIMEOUT_MS;
  w.source.deadline = deadline;
  try {
    return await runScheduled(w.deps, { windowEnd: T, remainingMs: () => deadline - w.clock.now() });
  } catch (e) {
    return e as Error;
  }
}

/** Invocations every 15 minutes over [from, to]. */
async function schedule(w: World, from: number, to: number): Promise<(ScheduledRunSummary | Error)[]> {
  const out = [];
  for (let t = from; t <= to; t += BUCKET_MS) out.push(await invoke(w, t));
  return out;
}

const succeeded = (r: ScheduledRunSummary | Error): r is ScheduledRunSummary => !(r instanceof Error);

describe('recovery after a 3-day outage', () => {
  // Logons in the gap: four mature users from networks new to them, and a name never seen before. The last is
  // 2.5 hours before recovery, the only one the old 6-hour reach-back analysed (1 of 5, measured on main).
  const outageStart = T0 + 17 * DAY_MS;
  const recovery = T0 + 20 * DAY_MS;
  const gap = [
    ev('user3', '203.0.113.9', outageStart + 10 * HOUR + 20 * MINUTE),
    ev('user5', '198.51.100.23', outageStart + DAY_MS + 3 * HOUR + 10 * MINUTE),
    ev('intruder', '192.0.2.44', outageStart + DAY_MS + 20 * HOUR + 40 * MINUTE),
    ev('user7', '203.0.113.77', outageStart + 2 * DAY_MS + 12 * HOUR + 5 * MINUTE),
    ev('user9', '45.33.12.99', recovery - 2 * HOUR - 30 * MINUTE),
  ];

  it('analyses every gap logon across successive runs: each attack alerts once and is learned; every run is bounded', async () => {
    const w = world([...office(21), ...gap], { settings: { catchUpChunksPerRun: 96 } });
    await schedule(w, T0 + BUCKET_MS, outageStart);
    w.source.failing = true;
    const failed = await schedule(w, outageStart + BUCKET_MS, recovery - BUCKET_MS);
    expect(failed.every((r) => r instanceof QueryError)).toBe(true);
    w.source.failing = false;

    const runs: ScheduledRunSummary[] = [];
    for (let t = recovery; !runs.at(-1)?.catchUpReport.caughtUp; t += BUCKET_MS) {
      const r = await invoke(w, t);
      if (!succeeded(r)) throw r;
      runs.push(r);
      expect(runs.length).toBeLessThan(10);
    }
    // 3 days = 288 chunks (from the re-read bucket before the watermark up to the newest bucket) at 96 per run,
    // while one more bucket arrives per run: 4 runs, an hour.
    expect(runs).toHaveLength(4);
    expect(runs.map((r) => r.catchUpReport.chunksAnalysed)).toEqual([96, 96, 96, 3]);
    for (const r of runs) {
      expect(r.catchUpReport.previewed).toBe(true);
      // Bounded: the newest bucket plus at most 96 chunks, one query each (the newest's learning pass reuses its fetch).
      expect(r.queries).toBeLessThanOrEqual(97);
    }
    expect(runs.slice(0, 3).every((r) => !r.catchUpReport.fellBehind && r.catchUpReport.backlogAfterMinutes > 0)).toBe(
      true,
    );
    expect(runs.map((r) => r.catchUpReport.backlogAfterMinutes)).toEqual([
      4320 - 1440,
      4320 + 15 - 2 * 1440,
      4320 + 30 - 3 * 1440,
      0,
    ]);
    // The watermark stands at the last run's window, and nothing was skipped.
    const state = (await w.store.getRunState())!;
    expect(state.lastWindowEnd).toBe(recovery + 3 * BUCKET_MS);
    expect(state.skipped ?? []).toEqual([]);

    // Every gap logon analysed: alerted, exactly once by each detector that finds it unusual, and learned (its
    // address known to its user, or, named by an alert nobody answered, a suspect place of theirs).
    const analysed = [];
    for (const g of gap) {
      const alerts = w.sink.delivered.filter((a) => a.user.name === g.user && a.source.ip === g.sourceIp);
      const baseline = (await w.store.getUsers([g.user])).get(g.user);
      const suspectOf = baseline?.suspect?.[g.sourceIp]?.alertId;
      const learned = baseline?.ips[g.sourceIp] !== undefined || alerts.some((a) => a.id === suspectOf);
      if (alerts.length > 0 && oncePerDetector(alerts) && learned) analysed.push(g.user);
    }
    expect(analysed).toEqual(gap.map((g) => g.user));
    // The ordinary logons of the gap were learned too, in time order: every user's activity reaches the last gap day.
    const users = await w.store.getUsers(Array.from({ length: 20 }, (_, u) => `user${u}`));
    for (const b of users.values()) expect(b.activity.last).toBeGreaterThanOrEqual(recovery - 9 * HOUR);

    // Later runs are back in the steady state: the schedule's 30 minutes, no preview, no alert repeated.
    const alertsBefore = w.sink.delivered.length;
    const after = (await schedule(w, recovery + 4 * BUCKET_MS, recovery + 8 * BUCKET_MS)).filter(succeeded);
    expect(after).toHaveLength(5);
    for (const r of after) {
      expect(r.catchUpReport).toMatchObject({
        caughtUp: true,
        previewed: false,
        chunksAnalysed: 0,
        backlogAfterMinutes: 0,
      });
      expect(Date.parse(r.window.end) - Date.parse(r.window.start)).toBe(2 * BUCKET_MS);
    }
    expect(w.sink.delivered.length).toBe(alertsBefore);
  });

  it('alerts on a logon happening now while the backlog is still being worked through, without learning it early', async () => {
    const now = recovery + 5 * MINUTE;
    const w = world([...office(21), ...gap, ev('user11', '203.0.113.200', now)], {
      settings: { catchUpChunksPerRun: 40 },
    });
    await schedule(w, T0 + BUCKET_MS, outageStart);
    w.source.failing = true;
    await schedule(w, outageStart + BUCKET_MS, recovery - BUCKET_MS);
    w.source.failing = false;

    const first = await invoke(w, recovery + BUCKET_MS);
    if (!succeeded(first)) throw first;
    expect(first.catchUpReport.caughtUp).toBe(false);
    const live = w.sink.delivered.filter((a) => a.user.name === 'user11');
    expect(ipAlerts(live)).toHaveLength(1);
    expect(oncePerDetector(live)).toBe(true);
    // Not learned yet (the backlog before it is not), so the watermark is still in the backlog.
    const early = (await w.store.getUsers(['user11'])).get('user11');
    expect(early?.ips['203.0.113.200']).toBeUndefined();
    expect(early?.suspect?.['203.0.113.200']).toBeUndefined();
    expect((await w.store.getRunState())!.lastWindowEnd).toBeLessThan(recovery - DAY_MS);

    for (let t = recovery + 2 * BUCKET_MS, n = 0; n < 12; t += BUCKET_MS, n++) {
      const r = await invoke(w, t);
      if (!succeeded(r)) throw r;
      if (r.catchUpReport.caughtUp) break;
    }
    expect((await w.store.getRunState())!.catchUpWatermark).toBeDefined();
    // Learned when the backlog reached it (as a suspect place of the user: the alert is not answered), and the
    // ledger kept the learning pass from alerting again.
    expect((await w.store.getUsers(['user11'])).get('user11')?.suspect?.['203.0.113.200']?.alertId).toBe(
      ipAlerts(live)[0]!.id,
    );
    // (A detector that did not find the preview unusual may find it so with the backlog learned: that is its first
    // alert, not a repeat.)
    const all = w.sink.delivered.filter((a) => a.user.name === 'user11');
    expect(ipAlerts(all).map((a) => a.id)).toEqual(ipAlerts(live).map((a) => a.id));
    expect(oncePerDetector(all)).toBe(true);
  });

  it('keeps the chunks a failed run finished: the next run resumes after them', async () => {
    const w = world([...office(21), ...gap], { settings: { catchUpChunksPerRun: 50 } });
    await schedule(w, T0 + BUCKET_MS, outageStart);
    w.source.failing = true;
    await schedule(w, outageStart + BUCKET_MS, recovery - BUCKET_MS);
    w.source.failing = false;
    // The first recovery run dies in its 11th chunk (the preview is query 1).
    const real = w.source.fetch.bind(w.source);
    let n = 0;
    w.source.fetch = async (window) => {
      if (++n === 12) throw new QueryError('one query failed');
      return real(window);
    };
    expect(await invoke(w, recovery)).toBeInstanceOf(QueryError);
    expect((await w.store.getRunState())!.lastWindowEnd).toBe(outageStart - BUCKET_MS + 10 * BUCKET_MS);
    const next = await invoke(w, recovery + BUCKET_MS);
    if (!succeeded(next)) throw next;
    expect(Date.parse(next.windows[1]!.window.start)).toBe(outageStart - BUCKET_MS + 9 * BUCKET_MS);
  });
});

describe('a chunk that can never be fetched whole', () => {
  it('is skipped and recorded, and the catch-up goes on past it instead of stopping there every run', async () => {
    const start = T0 + 16 * DAY_MS;
    const w = world(office(17));
    await schedule(w, T0 + BUCKET_MS, start);
    const poison = { start: start + BUCKET_MS, end: start + 2 * BUCKET_MS };
    const real = w.source.fetch.bind(w.source);
    w.source.fetch = async (window) => {
      if (window.start <= poison.start && poison.end <= window.end)
        throw new QueryIncompleteError('a slice stays over the 10,000-row limit', 57);
      return real(window);
    };
    // The run whose window holds it fails (as on main); the next one skips that one chunk and catches up the rest.
    expect(await invoke(w, start + 2 * BUCKET_MS)).toBeInstanceOf(QueryIncompleteError);
    const r = await invoke(w, start + 3 * BUCKET_MS);
    if (!succeeded(r)) throw r;
    expect(r.catchUpReport).toMatchObject({
      caughtUp: true,
      chunksAnalysed: 2,
      skippedMinutes: 15,
      skipped: [{ start: new Date(poison.start).toISOString(), end: new Date(poison.end).toISOString() }],
    });
    expect(captureMetrics(r)[METRICS.catchUpSkippedMinutes]).toBe(15);
    const state = (await w.store.getRunState())!;
    expect(state.skipped).toEqual([poison]);
    expect(state.lastWindowEnd).toBe(start + 3 * BUCKET_MS);
  });
});

describe('a run without time for a chunk', () => {
  it('still checks the newest bucket, keeps the watermark, and reports that it fell behind', async () => {
    const start = T0 + 16 * DAY_MS;
    const now = start + HOUR + 5 * MINUTE;
    const w = world([...office(17), ev('user2', '203.0.113.202', now)]);
    await schedule(w, T0 + BUCKET_MS, start);
    w.clock.t = start + HOUR + BUCKET_MS;
    w.source.deadline = Infinity;
    const r = await runScheduled(w.deps, { windowEnd: start + HOUR + BUCKET_MS, remainingMs: () => 15_000 });
    expect(r.catchUpReport).toMatchObject({
      chunksAnalysed: 0,
      caughtUp: false,
      previewed: true,
      fellBehind: true,
      analysedUntil: new Date(start).toISOString(),
      backlogAfterMinutes: 60,
    });
    expect(new Set(w.sink.delivered.map((a) => a.user.name))).toEqual(new Set(['user2']));
    expect(ipAlerts(w.sink.delivered)).toHaveLength(1);
    expect(oncePerDetector(w.sink.delivered)).toBe(true);
    expect((await w.store.getRunState())!.lastWindowEnd).toBe(start);
  });
});

describe('after an Insights outage, at 90,000 rows per 30 minutes', () => {
  // 3,000 rows a minute; each query costs 2 s plus 1.7 ms per row scanned: a schedule window (30 minutes, 90,000
  // rows) takes 155 s of the Lambda's 300, fine in the steady state, and a window of 60 minutes would not fit.
  const cost = { rowsPerMinute: 3000, msPerRow: 1.7, overheadMs: 2000 };
  const start = T0 + 16 * DAY_MS;

  it('converges: every run succeeds with bounded work, and the backlog is gone in a few runs', async () => {
    const w = world(office(18), { cost });
    await schedule(w, start - 4 * BUCKET_MS, start);
    w.source.failing = true;
    const outage = await schedule(w, start + BUCKET_MS, start + 2 * BUCKET_MS);
    expect(outage.every((r) => r instanceof QueryError)).toBe(true);
    w.source.failing = false;

    const runs: (ScheduledRunSummary | Error)[] = [];
    const rows: number[] = [];
    for (let t = start + 3 * BUCKET_MS, i = 0; i < 30; t += BUCKET_MS, i++) {
      const before = w.source.rowsScanned;
      runs.push(await invoke(w, t));
      rows.push(w.source.rowsScanned - before);
    }
    const ok = runs.filter(succeeded);
    expect(ok).toHaveLength(30);
    // Bounded: no run scans more than three 15-minute chunks (135,000 rows) or takes longer than the timeout.
    expect(Math.max(...rows)).toBeLessThanOrEqual(135_000);
    const caughtUpAt = ok.findIndex((r) => r.catchUpReport.caughtUp) + 1;
    // Run 1: the newest bucket, then 2 of the 3 backlog chunks before the deadline's reserve; run 2: the last chunk
    // and the bucket that arrived meanwhile, then the newest window learned.
    expect(caughtUpAt).toBe(2);
    expect(ok.slice(0, caughtUpAt).map((r) => r.catchUpReport.chunksAnalysed)).toEqual([2, 2]);
    expect(
      ok.slice(caughtUpAt).every((r) => r.catchUpReport.caughtUp && r.queryRows === 90_000 + r.logonsScanned),
    ).toBe(true);
  });
});

describe('a backlog beyond the maximum', () => {
  const outageStart = T0 + 17 * DAY_MS;
  const recovery = T0 + 20 * DAY_MS;
  const old = ev('user4', '203.0.113.40', outageStart + 6 * HOUR);

  it('is skipped and reported (summary, metric, run state), then analysed with alerts by analyseRange', async () => {
    const w = world([...office(21), old], { settings: { maxBacklogDays: 2 } });
    await schedule(w, T0 + BUCKET_MS, outageStart);
    w.source.failing = true;
    await schedule(w, outageStart + BUCKET_MS, recovery - BUCKET_MS);
    w.source.failing = false;

    const first = await invoke(w, recovery);
    if (!succeeded(first)) throw first;
    const skipped = { start: new Date(outageStart).toISOString(), end: new Date(recovery - 2 * DAY_MS).toISOString() };
    expect(first.catchUpReport.skipped).toEqual([skipped]);
    expect(first.catchUpReport.skippedMinutes).toBe(24 * 60);
    expect(first.catchUpReport.skippedRanges).toEqual([skipped]);
    expect((await w.store.getRunState())!.skipped).toEqual([{ start: outageStart, end: recovery - 2 * DAY_MS }]);
    const emitted = captureMetrics(first);
    expect(emitted[METRICS.catchUpSkippedMinutes]).toBe(24 * 60);
    expect(emitted[METRICS.catchUpBacklogMinutes]).toBe(first.catchUpReport.backlogAfterMinutes);
    expect(emitted[METRICS.catchUpChunks]).toBe(first.catchUpReport.chunksAnalysed);

    // The schedule catches up the two days it keeps, and skips nothing more; the old logon was never analysed.
    for (let t = recovery + BUCKET_MS, n = 0; n < 5; t += BUCKET_MS, n++) {
      const r = await invoke(w, t);
      if (!succeeded(r)) throw r;
      expect(r.catchUpReport.skipped).toEqual([]);
      expect(r.catchUpReport.skippedRanges).toEqual([skipped]);
      expect(captureMetrics(r)[METRICS.catchUpSkippedMinutes]).toBe(0);
    }
    expect(w.sink.delivered.filter((a) => a.user.name === 'user4')).toHaveLength(0);
    const watermark = (await w.store.getRunState())!.lastWindowEnd;

    // Analysed afterwards with alerts: the old attack alerts, the record empties, the watermark stays.
    const r = await analyseRange(w.deps, { start: outageStart, end: recovery - 2 * DAY_MS });
    expect(r.chunks).toHaveLength(96);
    expect(w.sink.delivered.filter((a) => a.user.name === 'user4' && a.source.ip === old.sourceIp)).toHaveLength(1);
    expect(r.skippedLeft).toEqual([]);
    const state = (await w.store.getRunState())!;
    expect(state.skipped).toEqual([]);
    expect(state.lastWindowEnd).toBe(watermark);
  });
});

describe('authwatch backfill --alerts', () => {
  it('analyses the ranges the detector skipped, with alerts, from a file into a local store, and clears them', async () => {
    const tmp = await mkdtemp(join(tmpdir(), 'authwatch-catch-up-'));
    try {
      const skippedFrom = T0 + 17 * DAY_MS;
      const skippedTo = skippedFrom + 6 * HOUR;
      const attack = ev('user4', '203.0.113.40', skippedFrom + 2 * HOUR);
      const events = [...office(18), attack].sort((a, b) => a.timestamp - b.timestamp);
      const input = join(tmp, 'auth.ndjson');
      await writeFile(input, events.map(toEcsLine).join('\n') + '\n');
      const dir = join(tmp, 'store');
      // Baselines as the detector would have them, and the skip it recorded after an outage.
      const local = await openLocalStore({ dir });
      try {
        const file = new FileLogSource({
          name: 'office',
          events,
          parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
        });
        await backfill({
          source: file,
          store: local.store,
          settings: DEFAULT_SETTINGS,
          span: { start: T0, end: skippedFrom },
        });
        const state = (await local.store.getRunState())!;
        await local.store.saveRunState({
          ...state,
          lastWindowEnd: skippedTo + DAY_MS,
          skipped: [{ start: skippedFrom, end: skippedTo }],
        });
        // `authwatch status` names the range.
        const report = await status(local.store, {
          now: skippedTo + 2 * DAY_MS,
          settings: DEFAULT_SETTINGS,
          where: dir,
        });
        expect(report.skipped).toEqual([
          { start: new Date(skippedFrom).toISOString(), end: new Date(skippedTo).toISOString() },
        ]);
        expect(renderStatus(report).replace(/\s+/g, ' ')).toMatch(
          /Skipped, never analysed: 2026-03-19 00:00 → 2026-03-19 06:00 UTC \(run: backfill --alerts\)/,
        );
      } finally {
        await local.close();
      }

      let out = '';
      let err = '';
      const io = {
        out: { write: (x: string) => (out += x) },
        err: { write: (x: string) => ((err += x), true) },
        handleSigint: false,
        now: () => skippedTo + 2 * DAY_MS,
      };
      // With the network data (the test extract), as an operator would pass it: its alerts name owners.
      expect(
        await cmdBackfill({ alerts: true, profile: 'ecs', input, store: dir, 'network-data': FIXTURE_TSV }, [], io),
      ).toBe(0);
      const alerts = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Alert);
      // The skipped range's one attack, alerted once per detector that finds it unusual, the unusual-IP one among them.
      expect(new Set(alerts.map((a) => `${a.user.name} ${a.source.ip}`))).toEqual(new Set(['user4 203.0.113.40']));
      expect(ipAlerts(alerts)).toHaveLength(1);
      expect(oncePerDetector(alerts)).toBe(true);
      for (const a of alerts)
        expect(a.source).toEqual({
          ip: '203.0.113.40',
          as: { number: 64498, organization: { name: 'EXAMPLE-HOSTING' } },
          geo: { country_iso_code: 'US' },
        });
      expect(err).toMatch(/Network owners from .*ip2asn-combined\.tsv/);
      expect(err).toMatch(
        new RegExp(
          `Analysed 24 windows of 15 minutes with alerts: ${alerts.length} alerts raised .*No skipped range is left`,
          's',
        ),
      );

      const after = await openLocalStore({ dir, keep: true });
      try {
        const state = (await after.store.getRunState())!;
        expect(state.skipped).toEqual([]);
        expect(state.lastWindowEnd).toBe(skippedTo + DAY_MS);
        // Learned: as a suspect place of the user, since an alert named it and nobody answered.
        expect((await after.store.getUsers(['user4'])).get('user4')?.suspect?.['203.0.113.40']).toBeDefined();
      } finally {
        await after.close();
      }
      // Nothing left: a second run says so and raises nothing.
      out = '';
      expect(await cmdBackfill({ alerts: true, profile: 'ecs', input, store: dir }, [], io)).toBe(0);
      expect(out).toBe('');
      expect(err).toMatch(/Nothing to analyse/);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('lists every flag problem at once', async () => {
    await expect(
      cmdBackfill(
        { alerts: true, 'log-group': ['/a'], days: '3', from: '2026-01-01T00:00Z', 'topic-arn': 'nope' },
        [],
        { handleSigint: false },
      ),
    ).rejects.toThrow(
      /--profile is required[\s\S]*--table <name>[\s\S]*--days does not apply[\s\S]*both --from and --to[\s\S]*not an SNS topic ARN/,
    );
  });
});

/** The metrics `emitRunMetrics` adds for a run, by name (the run-level ones; per-detector ones aside). */
function captureMetrics(s: ScheduledRunSummary): Record<string, number> {
  const out: Record<string, number> = {};
  const fake = {
    addMetric: (name: string, _unit: unknown, value: number) => {
      out[name] = value;
    },
    singleMetric: () => {
      const single = { addDimension: () => single, addMetric: () => single, publishStoredMetrics: () => undefined };
      return single;
    },
  };
  emitRunMetrics(fake as unknown as Metrics, s);
  return out;
}
