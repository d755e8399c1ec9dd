/**
 * `npm run bench`: speed, memory and AWS-request figures, as one JSON object on stdout and a readable
 * summary on stderr. Benchmarks, not tests: nothing here asserts; the targets are printed beside
 * each figure so a change can be judged by them.
 *
 *   parse   lines/s per profile, beside a floor measured in the same run (splitting the same bytes into lines)
 *   core    observations scored per second, one window of 100,000 distinct users, baselines in memory
 *   run     one full runDetection against dynalite (in a child process, so its CPU is not ours): 100,000 users,
 *           1,000,000 logons aggregated to observations; wall, our CPU, peak RSS, DynamoDB requests vs the floor
 *   scale   the same run at 10k, 100k and 1M logons
 *   bundle  the handler bundle's size and cold import time
 *   enrich  the network-owner database at full size (synthetic: 500,000 IPv4 + 150,000 IPv6 ranges, IPtoASN's
 *           format): build time, size, IP → owner lookups per second, and in fresh child processes the load from
 *           a file and the detector's cold-start load (the S3 store and loader, over an S3 stand-in on 127.0.0.1:
 *           GetObject, SHA-256 check, decode) with the memory each holds
 *
 * Options: --only parse,core,run,scale,bundle,enrich   --users N (full run, default 100000)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { DirectoryStaging } from '../shared/adapters/directory-staging';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { quietSdkNodeVersionWarning } from './sdk-warning';
import { BatchWriteItemCommand, type DynamoDBClient, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { createDynamoDbClient } from '../shared/adapters/aws-clients';
import { createBaselinesTable, DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import { encodeUserBody } from '../shared/adapters/items/codec';
import { BODY_ATTRIBUTE, PARTITION_KEY, userKey, VERSION_ATTRIBUTE } from '../shared/adapters/items/keys';
import { InMemoryAlertSink } from '../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../shared/adapters/in-memory-baseline-store';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createS3Client } from '../shared/adapters/aws-clients';
import { loadNetworkData, loadNetworkDataFile } from '../shared/adapters/network-data-loader';
import { POINTER_NAME, S3NetworkDataStore, sha256Hex } from '../shared/adapters/network-data-s3';
import { NetworkDataBuilder } from '../shared/core/network-data/build';
import { NetworkDatabase } from '../shared/core/network-data/lookup';
import { DETECTORS } from '../shared/core/detectors';
import {
  BUCKET_MS,
  bucketOf,
  DAY_MS,
  dayOf,
  emptyPopulation,
  type LogonObservation,
  type PopulationStats,
  type SeenStats,
  type UserBaseline,
} from '../shared/core/model';
import { placeOf } from '../shared/core/net';
import { getProfile } from '../shared/core/profiles';
import { PROFILE_IDS } from '../shared/core/profiles/profile';
import { DEFAULT_SETTINGS } from '../shared/core/settings';
import type { LogSource } from '../shared/ports';
import { runDetection } from '../shared/run-detection';
import { requestFloor } from '../shared/core/request-floor';
import { buildDetector, measureColdImport } from '../lambdas/build';
import { v8FlagsFor } from '../infra/heap';
import { generateScenario } from './scenario/generate';
import { scenarioLines } from './scenario/writers';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures');
export const TARGETS = {
  runComputeS: 60,
  runPeakRssMb: 512,
  requestsPerFloor: 1.2,
  coreObservationsPerS: 1_000_000,
  bundleBytes: 1024 * 1024,
  enrichLookupsPerS: 1_000_000,
  /** CPU per logon at 1M logons against that at 10k: linear or better. */
  scaleCpuPerLogon: 1.3,
  /** Peak RSS at 1M logons against that at 100k: bounded, not growing with the users. */
  scalePeakRss: 1.5,
} as const;

const err = (s: string) => process.stderr.write(s + '\n');
const round = (n: number, d = 0) => Math.round(n * 10 ** d) / 10 ** d;

// ---------------------------------------------------------------------------------------------
// parse
// ---------------------------------------------------------------------------------------------

/** Lines to parse per profile: the scenario writers' output for sshd and ecs, the profile's own fixtures (repeated) for the rest. */
function sampleLines(profile: string, target: number): string[] {
  let base: string[];
  if (profile === 'sshd' || profile === 'ecs') {
    base = scenarioLines(generateScenario({ seed: 1, shape: 'large-mobile', days: 21 }), profile);
  } else {
    const dir = join(FIXTURES, profile);
    base = readdirSync(dir)
      .filter((f) => !f.endsWith('.json') || f.endsWith('.ndjson'))
      .flatMap((f) => (statSync(join(dir, f)).isFile() ? readFileSync(join(dir, f), 'utf8').split('\n') : []))
      .filter((l) => l.trim() !== '');
  }
  const out: string[] = [];
  while (out.length < target) out.push(...base.slice(0, target - out.length));
  return out;
}

function benchParse() {
  const results: Record<string, unknown> = {};
  for (const id of PROFILE_IDS) {
    const profile = getProfile(id);
    const text = sampleLines(id, 200_000).join('\n');
    const bytes = Buffer.byteLength(text);
    // Floor: split the same bytes into lines and touch each (the least any line parser must do).
    const floorT = best(3, () => {
      let n = 0;
      for (const l of text.split('\n')) n += l.length & 1;
      return n;
    });
    let events = 0;
    const parseT = best(3, () => {
      events = 0;
      for (const l of text.split('\n')) if (profile.parseLine(l).kind === 'event') events++;
      return events;
    });
    const lines = text.split('\n').length;
    results[id] = {
      lines,
      events,
      mb: round(bytes / 1e6, 1),
      linesPerS: round(lines / parseT),
      floorLinesPerS: round(lines / floorT),
      ratioToFloor: round(floorT / parseT, 3),
    };
    err(
      `parse ${id.padEnd(10)} ${round(lines / parseT / 1000)}k lines/s (floor ${round(lines / floorT / 1e6, 1)}M lines/s)`,
    );
  }
  return results;
}

/** Best of `n` timings in seconds (the least disturbed by GC and the machine). */
function best(n: number, f: () => unknown): number {
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min / 1000;
}

// ---------------------------------------------------------------------------------------------
// synthetic population: mature users with a home address, some on the office NAT
// ---------------------------------------------------------------------------------------------

export const NOW = Date.UTC(2026, 10, 2, 10, 0);

function ipOf(i: number): string {
  return `${11 + ((i >> 16) & 0x7f)}.${(i >> 8) & 0xff}.${i & 0xff}.${1 + (i % 250)}`;
}

function seen(first: number, last: number, buckets: number, days: number): SeenStats {
  return { first, last, buckets, lastBucket: bucketOf(last), days, lastDay: dayOf(last) };
}

function matureBaseline(user: string, ip: string): UserBaseline {
  const first = NOW - 30 * DAY_MS;
  const last = NOW - DAY_MS;
  const s = seen(first, last, 60, 22);
  return {
    user,
    activity: s,
    ips: { [ip]: s },
    prefixes: { [placeOf(ip, 'prefix')]: s },
    networks: { [placeOf(ip, 'network')]: s },
    novelty: { periods: 60, ip: 1, prefix: 1, network: 0 },
    version: 0,
  };
}

function userName(i: number): string {
  return `user${String(i).padStart(6, '0')}@corp.example`;
}

/**
 * One window's observations: `logons` spread over `users` (numbered from `from`), 1 in 20 from an address new to
 * them.
 */
export function windowObservations(users: number, logons: number, windowEnd: number, from = 0): LogonObservation[] {
  const perUser = Math.max(1, Math.floor(logons / users));
  const out: LogonObservation[] = [];
  for (let i = from; i < from + users; i++) {
    const novel = i % 20 === 7;
    const t = windowEnd - BUCKET_MS - ((i * 7919) % BUCKET_MS);
    out.push({
      user: userName(i),
      sourceIp: novel ? ipOf(i + 5_000_000) : ipOf(i),
      outcome: 'success',
      count: perUser,
      firstSeen: t,
      lastSeen: t + 1000,
      hosts: ['web-01'],
      methods: ['publickey'],
      logSource: 'bench',
    });
  }
  return out;
}

function benchCore(users = 100_000) {
  const baselines = new Map<string, UserBaseline>();
  for (let i = 0; i < users; i++) baselines.set(userName(i), matureBaseline(userName(i), ipOf(i)));
  const windowEnd = NOW;
  const observations = windowObservations(users, users * 10, windowEnd);
  const population: PopulationStats = {
    ...emptyPopulation(),
    userBuckets: users * 40,
    newUsers: 20,
    knownUsers: users,
    lastBucket: bucketOf(NOW - DAY_MS),
  };
  const window = { start: windowEnd - 2 * BUCKET_MS, end: windowEnd };
  let findings = 0;
  const t = best(3, () => {
    findings = 0;
    for (const o of observations) {
      // As the pipeline does: one input per logon, read by every detector.
      const input = { observation: o, baseline: baselines.get(o.user), population, window, settings: DEFAULT_SETTINGS };
      for (const d of DETECTORS) if (d.evaluate?.(input)) findings++;
    }
  });
  const perS = round(observations.length / t);
  err(`core       ${round(perS / 1e6, 2)}M observations/s over ${users} users (${findings} findings; target ≥ 1M/s)`);
  return {
    users,
    observations: observations.length,
    findings,
    seconds: round(t, 3),
    observationsPerS: perS,
    target: TARGETS.coreObservationsPerS,
    met: perS >= TARGETS.coreObservationsPerS,
  };
}

// ---------------------------------------------------------------------------------------------
// full run against dynalite in a child process
// ---------------------------------------------------------------------------------------------

export interface Dynalite {
  client: DynamoDBClient;
  /** Where it listens, for other processes' clients. */
  endpoint: string;
  requests: Record<string, number>;
  stop(): void;
}

export async function startDynaliteChild(): Promise<Dynalite> {
  const child: ChildProcess = spawn(
    process.execPath,
    [...process.execArgv, join(ROOT, 'cli', 'bench', 'dynalite-server.ts')],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve((JSON.parse(buf.slice(0, nl)) as { port: number }).port);
    });
    child.on('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
  });
  const client = createDynamoDbClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
  const requests: Record<string, number> = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? 'unknown').replace(/Command$/, '');
      requests[name] = (requests[name] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return {
    client,
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    stop: () => {
      client.destroy();
      child.stdin!.end();
    },
  };
}

/**
 * Prime `users` mature baselines (version 1) with BatchWriteItem, 25 per request: setup, not measured, and
 * ~25× fewer requests than the store's conditional puts. Items are exactly what the store writes.
 */
export async function primeUsers(client: DynamoDBClient, table: string, users: number): Promise<void> {
  // Batches are built as the workers need them, so priming never holds the whole table in memory (the run's peak
  // RSS is measured over the whole process, priming included).
  const batches = Math.ceil(users / 25);
  const batch = (k: number): WriteRequest[] => {
    const out: WriteRequest[] = [];
    for (let i = k * 25; i < Math.min(users, (k + 1) * 25); i++) {
      const b = matureBaseline(userName(i), ipOf(i));
      out.push({
        PutRequest: {
          Item: {
            [PARTITION_KEY]: { S: userKey(b.user) },
            [VERSION_ATTRIBUTE]: { N: '1' },
            [BODY_ATTRIBUTE]: { S: encodeUserBody(b) },
          },
        },
      });
    }
    return out;
  };
  let next = 0;
  const worker = async () => {
    while (next < batches) {
      let items: WriteRequest[] | undefined = batch(next++);
      while (items && items.length > 0) {
        const out: { UnprocessedItems?: Record<string, WriteRequest[]> } = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: items } }),
        );
        items = out.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

async function benchRun(users: number, logons: number) {
  const db = await startDynaliteChild();
  try {
    const table = `bench-${users}-${logons}`;
    await createBaselinesTable(db.client, table);
    // `--store memory`: the same run on InMemoryBaselineStore, to tell the store's cost from the rest.
    const memory = process.env.AUTHWATCH_BENCH_STORE === 'memory';
    const store = memory
      ? new InMemoryBaselineStore()
      : new DynamoDbBaselineStore({ client: db.client, tableName: table });
    // Prime: a detector that has run for a month and knows every user.
    const windowEnd = NOW;
    const primeStart = performance.now();
    if (memory) await store.saveUsers(Array.from({ length: users }, (_, i) => matureBaseline(userName(i), ipOf(i))));
    else await primeUsers(db.client, table, users);
    await store.savePopulation({
      ...emptyPopulation(),
      userBuckets: users * 40,
      newUsers: 20,
      knownUsers: users,
      lastBucket: bucketOf(NOW - DAY_MS),
    });
    await store.saveRunState({ firstWindowEnd: NOW - 30 * DAY_MS, lastWindowEnd: NOW - BUCKET_MS, version: 0 });
    const primeS = (performance.now() - primeStart) / 1000;
    for (const k of Object.keys(db.requests)) delete db.requests[k];

    // The log source returns what the Insights query returns: rows aggregated per (user, ip, outcome, host), mapped.
    // Built when fetched and not kept, as the CloudWatch source's rows are: the run's memory is the run's own.
    const source: LogSource = {
      name: 'bench',
      fetch: async () => {
        const observations = windowObservations(users, logons, windowEnd);
        return {
          observations,
          stats: { rows: observations.length, malformed: 0, queries: 1, queryMs: 0, bytesScanned: 0 },
        };
      },
    };
    const sink = new InMemoryAlertSink();
    global.gc?.();
    const rssBefore = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Staged in a temporary directory, as the Lambda stages in its /tmp.
    const staging = await DirectoryStaging.temporary('authwatch-bench-');
    const summary = await runDetection(
      { logSources: [source], store, sink, clock: { now: () => Date.now() }, settings: DEFAULT_SETTINGS, staging },
      { windowEnd },
    );
    rmSync(staging.root, { recursive: true, force: true });
    const wallS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    // The floor of the write scheme (README "How a run writes"): each slice's baselines read once to judge and, in a
    // window of several slices, again to learn; each slice's changed baselines written 25 a request after one lease
    // confirmation; the run's single items and its ledger. Slices are by a hash of the name: about equal.
    const slices = summary.slices;
    const perSlice = (n: number) =>
      Array.from({ length: slices }, (_, i) => Math.floor(n / slices) + (i < n % slices ? 1 : 0));
    const floor = requestFloor({
      usersRead: slices > 1 ? [...perSlice(summary.usersSeen), ...perSlice(summary.usersSeen)] : [summary.usersSeen],
      usersWritten: perSlice(summary.baselinesWritten),
      alertCandidates: summary.alertIds.length + summary.alertsCutByCap + summary.alertsDeduplicated,
      alertsRecorded: summary.alertIds.length + summary.alertsFolded,
    }).total;
    const total = Object.values(db.requests).reduce((a, b) => a + b, 0);
    return {
      users,
      logons: summary.logonsScanned,
      observations: summary.observations,
      findings: summary.findings,
      alerts: sink.delivered.length,
      cutByCap: summary.alertsCutByCap,
      baselinesWritten: summary.baselinesWritten,
      slices: summary.slices,
      wallS: round(wallS, 2),
      cpuS: round(cpuS, 2),
      peakRssMb: round(peakRssMb),
      rssBeforeRunMb: round(rssBefore / 1024 / 1024),
      requests: { ...db.requests, total },
      floor,
      requestsPerFloor: round(total / floor, 3),
      primeS: round(primeS, 1),
    };
  } finally {
    db.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// enrich: the network-owner database at full size
// ---------------------------------------------------------------------------------------------

/** A deterministic generator (mulberry32): the same synthetic table every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const u32ToIp = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const bigToIp6 = (v: bigint) =>
  Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - i * 16)) & 0xffffn).toString(16)).join(':');

/**
 * A publisher file of realistic size and shape, in IPtoASN's format: ranges of /24 to /19 (IPv4) and /48 to /32
 * (IPv6) with gaps between some, ~80,000 ASNs with names, ~250 countries. Returns the lines and the spans covered,
 * to draw lookup addresses from.
 */
function syntheticPublisherFile(v4Ranges: number, v6Ranges: number) {
  const rnd = seeded(13);
  const countries = Array.from({ length: 250 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));
  const row = (start: string, end: string) => {
    const asn = 1 + Math.floor(rnd() * 80_000);
    return `${start}\t${end}\t${asn}\t${countries[asn % countries.length]}\tAS${asn}-EXAMPLE Synthetic Networks ${asn % 7 === 0 ? 'GmbH' : 'Inc.'}`;
  };
  const lines: string[] = [];
  let v4 = 0x01000000; // 1.0.0.0
  for (let i = 0; i < v4Ranges; i++) {
    const size = 256 << Math.floor(rnd() * 6);
    if (rnd() < 0.2) v4 += 256 << Math.floor(rnd() * 4); // an unannounced gap
    lines.push(row(u32ToIp(v4), u32ToIp(v4 + size - 1)));
    v4 += size;
  }
  let v6 = 0x2001n << 112n;
  for (let i = 0; i < v6Ranges; i++) {
    const size = 1n << BigInt(80 + Math.floor(rnd() * 17)); // /48 .. /32
    if (rnd() < 0.2) v6 += size;
    lines.push(row(bigToIp6(v6), bigToIp6(v6 + size - 1n)));
    v6 += size;
  }
  return { lines, v4End: v4, v6End: v6 };
}

/** 1,000,000 addresses across the covered spans (gaps included): 80% IPv4, 20% IPv6, as logon sources are. */
function lookupAddresses(v4End: number, v6End: bigint, n = 1_000_000): { mixed: string[]; v4: string[]; v6: string[] } {
  const rnd = seeded(7);
  const v4: string[] = [];
  const v6: string[] = [];
  const span6 = v6End - (0x2001n << 112n);
  for (let i = 0; i < n; i++) {
    if (i % 5 !== 4) v4.push(u32ToIp(0x01000000 + Math.floor(rnd() * (v4End - 0x01000000))));
    else
      v6.push(
        bigToIp6(
          (0x2001n << 112n) +
            (span6 * BigInt(Math.floor(rnd() * 2 ** 32))) / 2n ** 32n +
            BigInt(Math.floor(rnd() * 2 ** 32)),
        ),
      );
  }
  const mixed: string[] = [];
  for (let i = 0, a = 0, b = 0; i < n; i++) mixed.push(i % 5 !== 4 ? v4[a++]! : v6[b++]!);
  return { mixed, v4, v6 };
}

/**
 * An S3 stand-in on 127.0.0.1 holding one database and its pointer (path-style, as the SDK addresses an IP
 * endpoint), for the detector's load path.
 */
async function localS3(bucket: string, prefix: string, bytes: Uint8Array) {
  const key = `${prefix}databases/bench.awnd`;
  const pointer = JSON.stringify({
    key,
    builtAt: new Date().toISOString(),
    source: 'bench:synthetic',
    ipv4Ranges: 0,
    ipv6Ranges: 0,
    bytes: bytes.length,
    sha256: sha256Hex(bytes),
  });
  const objects = new Map<string, Uint8Array | string>([
    [`/${bucket}/${prefix}${POINTER_NAME}`, pointer],
    [`/${bucket}/${key}`, bytes],
  ]);
  const server = createServer((req, res) => {
    const body = objects.get((req.url ?? '').split('?')[0]!);
    res.statusCode = body === undefined ? 404 : 200;
    res.end(body ?? '<Error><Code>NoSuchKey</Code></Error>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Child process: load the database and report load time and the memory it holds (after GC, when exposed). `file`:
 * read from disk and decode; `s3`: the detector's cold start, through the S3 store and the loader (GetObject over
 * loopback, size and SHA-256 checked against the pointer, decode), the SDK's first request included.
 */
async function enrichLoadChild(path: string, via: 'file' | 's3') {
  const mem = () => {
    global.gc?.();
    const m = process.memoryUsage();
    return { heap: m.heapUsed, buffers: m.arrayBuffers, rss: m.rss };
  };
  let load: () => Promise<{ lookup(ip: string): { known: boolean } }> = () => loadNetworkDataFile(path);
  let close = async () => {};
  if (via === 's3') {
    const bucket = 'bench-network-data';
    const prefix = 'network-data/';
    const server = await localS3(bucket, prefix, readFileSync(path));
    close = server.close;
    const client = createS3Client({
      region: 'us-east-1',
      endpoint: server.url,
      credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
    });
    const reader = new S3NetworkDataStore({ client, bucket, prefix });
    load = async () => {
      const loaded = await loadNetworkData({ reader, now: Date.now() });
      if (loaded.status !== 'current') throw new Error(`bench: the loader found the database ${loaded.status}`);
      return loaded;
    };
  }
  const before = mem();
  const t = performance.now();
  const db = await load();
  const loadMs = performance.now() - t;
  // What the process keeps, not what the load passed through: the HTTP response's chunks outlive the load by a few
  // ticks and take more than one collection to release (measured: one extra copy of the database's size in about
  // half the runs after a single GC, none after these five).
  for (let i = 0; i < 5; i++) {
    global.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const after = mem();
  // Touch it so it is live at the measurement.
  const probe = db.lookup('8.8.8.8').known;
  await close();
  return {
    loadMs,
    heapMb: (after.heap - before.heap) / 1e6,
    buffersMb: (after.buffers - before.buffers) / 1e6,
    rssMb: (after.rss - before.rss) / 1e6,
    gc: typeof global.gc === 'function',
    probe,
  };
}

function enrichLoadInChild(path: string, via: 'file' | 's3'): Promise<Awaited<ReturnType<typeof enrichLoadChild>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', ...process.execArgv, fileURLToPath(import.meta.url), '--child-enrich', path, '--via', via],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(JSON.parse(out) as Awaited<ReturnType<typeof enrichLoadChild>>)
        : reject(new Error(`enrich load child exited with ${code}`)),
    );
  });
}

async function benchEnrich(v4Ranges = 500_000, v6Ranges = 150_000) {
  const { lines, v4End, v6End } = syntheticPublisherFile(v4Ranges, v6Ranges);
  const textMb = lines.reduce((a, l) => a + l.length + 1, 0) / 1e6;
  const t0 = performance.now();
  const builder = new NetworkDataBuilder();
  for (const l of lines) builder.addLine(l);
  const built = builder.finish({ builtAt: Date.now(), source: 'bench:synthetic' });
  const buildS = (performance.now() - t0) / 1000;
  const dir = mkdtempSync(join(tmpdir(), 'authwatch-bench-enrich-'));
  try {
    const file = join(dir, 'network-data.awnd');
    writeFileSync(file, built.bytes);
    // Load: the best of 3 fresh processes (a cold start reads and checks the database once), from a file and the
    // detector's way.
    const bestLoad = async (via: 'file' | 's3') => {
      const loads = [];
      for (let i = 0; i < 3; i++) loads.push(await enrichLoadInChild(file, via));
      return loads.reduce((a, b) => (b.loadMs < a.loadMs ? b : a));
    };
    const load = await bestLoad('file');
    const coldStart = await bestLoad('s3');
    const decodeS = best(3, () => NetworkDatabase.fromBytes(built.bytes));

    const { mixed, v4, v6 } = lookupAddresses(v4End, v6End);
    // The first pass over a fresh database also decodes each organisation name on first use: a cold start's rate.
    const fresh = NetworkDatabase.fromBytes(built.bytes);
    const coldS = best(1, () => {
      for (const ip of mixed) fresh.lookup(ip);
    });
    const db = NetworkDatabase.fromBytes(built.bytes);
    let known = 0;
    const rate = (ips: string[]) => {
      const s = best(3, () => {
        known = 0;
        for (const ip of ips) if (db.lookup(ip).known) known++;
      });
      return round(ips.length / s);
    };
    // On a shared machine wall time includes waiting for a core; CPU time counts only the work, i.e. the rate on one
    // core of our own. Best of 3 of each.
    let cpuS = Infinity;
    for (let r = 0; r < 3; r++) {
      const c0 = process.cpuUsage();
      for (const ip of mixed) db.lookup(ip);
      const c = process.cpuUsage(c0);
      cpuS = Math.min(cpuS, (c.user + c.system) / 1e6);
    }
    const lookupsPerCpuSec = round(mixed.length / cpuS);
    const lookupsPerSec = rate(mixed);
    const knownShare = round(known / mixed.length, 3);
    const ipv4PerSec = rate(v4);
    const ipv6PerSec = rate(v6);
    const nums = v4.map((ip) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0));
    const s = best(3, () => {
      for (const n of nums) db.lookupV4(n);
    });
    const ipv4NumericPerSec = round(nums.length / s);
    const out = {
      ipv4Ranges: db.meta.ipv4Ranges,
      ipv6Ranges: db.meta.ipv6Ranges,
      asns: db.meta.asns,
      publisherTextMb: round(textMb, 1),
      databaseMb: round(built.bytes.length / 1e6, 2),
      buildS: round(buildS, 2),
      loadMs: round(load.loadMs, 1),
      decodeMs: round(decodeS * 1000, 1),
      heapMb: round(load.heapMb, 1),
      buffersMb: round(load.buffersMb, 1),
      coldStartLoadMs: round(coldStart.loadMs, 1),
      coldStartHeapMb: round(coldStart.heapMb, 1),
      coldStartBuffersMb: round(coldStart.buffersMb, 1),
      coldStartRssMb: round(coldStart.rssMb, 1),
      gcExposed: load.gc,
      lookups: mixed.length,
      knownShare,
      lookupsPerSec,
      lookupsPerCpuSec,
      firstPassLookupsPerSec: round(mixed.length / coldS),
      ipv4LookupsPerSec: ipv4PerSec,
      ipv6LookupsPerSec: ipv6PerSec,
      ipv4NumericLookupsPerSec: ipv4NumericPerSec,
      target: TARGETS.enrichLookupsPerS,
      met: lookupsPerSec >= TARGETS.enrichLookupsPerS,
      metOnCpuTime: lookupsPerCpuSec >= TARGETS.enrichLookupsPerS,
    };
    err(
      `enrich     ${out.ipv4Ranges} IPv4 + ${out.ipv6Ranges} IPv6 ranges → ${out.databaseMb} MB (from ${out.publisherTextMb} MB of text, built in ${out.buildS} s); ` +
        `load ${out.loadMs} ms, heap ${out.heapMb} MB + buffers ${out.buffersMb} MB; ` +
        `detector cold start (S3 GetObject on loopback, SHA-256, decode) ${out.coldStartLoadMs} ms, heap ${out.coldStartHeapMb} MB + buffers ${out.coldStartBuffersMb} MB, RSS +${out.coldStartRssMb} MB; ${round(lookupsPerSec / 1e6, 2)}M lookups/s, ${round(lookupsPerCpuSec / 1e6, 2)}M per CPU-second ` +
        `(first pass ${round(mixed.length / coldS / 1e6, 2)}M; IPv4 ${round(ipv4PerSec / 1e6, 2)}M, IPv6 ${round(ipv6PerSec / 1e6, 2)}M, IPv4 as numbers ${round(ipv4NumericPerSec / 1e6, 2)}M; target ≥ 1M/s)`,
    );
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

async function benchBundle() {
  const { outfile, bytes } = await buildDetector();
  const coldImportMs = measureColdImport(outfile);
  err(`bundle     ${round(bytes / 1024)} KiB, cold import ${round(coldImportMs)} ms (target ≤ 1024 KiB)`);
  return {
    bytes,
    kib: round(bytes / 1024),
    coldImportMs: round(coldImportMs, 1),
    target: TARGETS.bundleBytes,
    met: bytes <= TARGETS.bundleBytes,
  };
}

/** One full run in a fresh process, so its peak RSS is the run's own, not the earlier sections'. */
function benchRunInChild(users: number, logons: number): Promise<Awaited<ReturnType<typeof benchRun>>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...process.execArgv,
        // The heap the run may grow to, as the stack sets it for a function (infra/heap.ts):
        // here that of a 512 MB function, the budget the run's peak RSS is held to.
        ...v8FlagsFor(TARGETS.runPeakRssMb),
        fileURLToPath(import.meta.url),
        '--child-run',
        '--users',
        String(users),
        '--logons',
        String(logons),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench run (${users} users) exited with ${code}`));
      resolve(JSON.parse(out) as Awaited<ReturnType<typeof benchRun>>);
    });
  });
}

async function main() {
  // Each measurement runs in a child process that inherits this environment.
  quietSdkNodeVersionWarning();
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      users: { type: 'string', default: '100000' },
      logons: { type: 'string' },
      'child-run': { type: 'boolean', default: false },
      'child-enrich': { type: 'string' },
      'child-step': { type: 'string' },
      via: { type: 'string', default: 'file' },
    },
  });
  if (values['child-enrich'] !== undefined) {
    const via = values.via === 's3' ? 's3' : 'file';
    process.stdout.write(JSON.stringify(await enrichLoadChild(values['child-enrich'], via)));
    return;
  }
  if (values['child-step'] !== undefined) {
    const { shardStepChild } = await import('./bench/shards');
    process.stdout.write(JSON.stringify(await shardStepChild(values['child-step'])));
    return;
  }
  if (values['child-run']) {
    const u = Number(values.users);
    process.stdout.write(JSON.stringify(await benchRun(u, Number(values.logons ?? u * 10))));
    return;
  }
  const only = new Set((values.only ?? 'parse,core,run,scale,bundle,enrich').split(','));
  const users = Number(values.users);
  const out: Record<string, unknown> = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
  if (only.has('parse')) out.parse = benchParse();
  if (only.has('core')) out.core = benchCore();
  if (only.has('run')) {
    const r = await benchRunInChild(users, users * 10);
    out.run = {
      ...r,
      targets: {
        computeS: { target: `≤ ${TARGETS.runComputeS}`, value: r.cpuS, met: r.cpuS <= TARGETS.runComputeS },
        peakRssMb: {
          target: `≤ ${TARGETS.runPeakRssMb}`,
          value: r.peakRssMb,
          met: r.peakRssMb <= TARGETS.runPeakRssMb,
        },
        requestsPerFloor: {
          target: `≤ ${TARGETS.requestsPerFloor}`,
          value: r.requestsPerFloor,
          met: r.requestsPerFloor <= TARGETS.requestsPerFloor,
        },
      },
    };
    err(
      `run        ${r.logons} logons, ${r.users} users: wall ${r.wallS} s, our CPU ${r.cpuS} s, peak RSS ${r.peakRssMb} MB, ${r.requests.total} DynamoDB requests = ${r.requestsPerFloor}× floor (${r.floor})`,
    );
  }
  if (only.has('scale')) {
    const rows: (Record<string, number> & { logons: number; peakRssMb: number; cpuUsPerLogon: number })[] = [];
    for (const logons of [10_000, 100_000, 1_000_000]) {
      // The 1M-logon point is the full run above when it was measured.
      const full = out.run as Awaited<ReturnType<typeof benchRun>> | undefined;
      const r = logons === users * 10 && full ? full : await benchRunInChild(logons / 10, logons);
      rows.push({
        logons,
        users: r.users,
        wallS: r.wallS,
        cpuS: r.cpuS,
        requests: r.requests.total,
        floor: r.floor,
        requestsPerFloor: r.requestsPerFloor,
        peakRssMb: r.peakRssMb,
        cpuUsPerLogon: round((r.cpuS * 1e6) / logons, 2),
      });
      err(
        `scale      ${logons} logons: wall ${r.wallS} s, CPU ${r.cpuS} s (${round((r.cpuS * 1e6) / logons, 2)} µs/logon), peak RSS ${r.peakRssMb} MB, ${r.requests.total} requests (floor ${r.floor})`,
      );
    }
    out.scale = rows;
    const at = (n: number) => rows.find((r) => r.logons === n)!;
    const cpuRatio = round(at(1_000_000).cpuUsPerLogon / at(10_000).cpuUsPerLogon, 2);
    const rssRatio = round(at(1_000_000).peakRssMb / at(100_000).peakRssMb, 2);
    out.scaleTargets = {
      cpuPerLogon: {
        target: `1M ≤ ${TARGETS.scaleCpuPerLogon}× 10k`,
        value: cpuRatio,
        met: cpuRatio <= TARGETS.scaleCpuPerLogon,
      },
      peakRssMb: {
        target: `1M ≤ ${TARGETS.scalePeakRss}× 100k`,
        value: rssRatio,
        met: rssRatio <= TARGETS.scalePeakRss,
      },
    };
    err(`scale      CPU per logon 1M/10k ${cpuRatio}×, peak RSS 1M/100k ${rssRatio}×`);
  }
  if (only.has('shards')) {
    // Not in the default set: about half an hour on 2 cores (priming a million users, ~70 step processes).
    const { benchShards } = await import('./bench/shards');
    out.shards = await benchShards(Number(values.users === '100000' ? 1_000_000 : values.users));
  }
  if (only.has('bundle')) out.bundle = await benchBundle();
  if (only.has('enrich')) out.enrich = await benchEnrich();
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}
