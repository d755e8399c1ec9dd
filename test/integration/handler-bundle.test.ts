/**
 * The built bundle itself (dist/ of `npm run build`, here into a temp folder), imported and invoked with a
 * scheduled event, against dynalite (the DynamoDB API), a fake Logs Insights / SNS endpoint speaking the
 * services' wire protocols, and an S3 stand-in on 127.0.0.1 holding the network-owner database. Checks the
 * failure semantics end to end: alerts published once across two overlapping runs; a failed publish leaves
 * nothing marked raised and no baseline learned, and the retry publishes exactly once; the network database is
 * read once per container, and a container whose S3 refuses it still runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetector } from '../../lambdas/build';
import { NETWORK_DATA_LOCATION_ENV } from '../../lambdas/network-data-env';
import { sha256Hex } from '../../shared/adapters/network-data-s3';
import { createBaselinesTable, DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../shared/adapters/embedded-dynamo';
import { ENV } from '../../shared/config';
import { BUCKET_MS, DAY_MS, emptyPopulation } from '../../shared/core/model';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { startLocalEndpoint, type LocalEndpoint } from '../support/local-endpoint';
import { build as buildNetworkData } from '../unit/network-data/support';

const TABLE = 'authwatch-bundle-test';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:authwatch-alerts';
const NETWORK_BUCKET = 'authwatch-network-data-test';
/** A scheduled time on the 15-minute grid. */
const T = Date.UTC(2026, 3, 14, 10, 0);
const LOGON = T - 10 * 60_000; // inside the windows ending at T and T + 15 min

type Handler = (
  event: unknown,
) => Promise<{ alertIds: string[]; alertsDeduplicated: number; baselinesWritten: number }>;

describe('the built detector bundle', () => {
  let dir: string;
  let dynamo: EmbeddedDynamo;
  let aws: FakeAws;
  let handler: Handler;
  let outfile: string;
  let store: DynamoDbBaselineStore;
  const saved: Record<string, string | undefined> = {};
  /** S3 (path-style, as the SDK addresses an IP endpoint): the pointer and the database it names; requests seen. */
  let s3: LocalEndpoint;
  const s3Requests: string[] = [];
  let s3Refuses = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-bundle-'));
    ({ outfile } = await buildDetector(join(dir, 'index.mjs')));
    dynamo = await startEmbeddedDynamo({});
    await createBaselinesTable(dynamo.client, TABLE);
    store = new DynamoDbBaselineStore({ client: dynamo.client, tableName: TABLE });
    // A detector that has run for a month: learning is over, a population of 120 users, no "mallory".
    await store.saveRunState({ firstWindowEnd: T - 30 * DAY_MS, lastWindowEnd: T - BUCKET_MS, version: 0 });
    await store.savePopulation({
      ...emptyPopulation(),
      userBuckets: 6000,
      newUsers: 1,
      knownUsers: 120,
      lastBucket: Math.floor((T - BUCKET_MS) / BUCKET_MS),
    });
    const db = buildNetworkData(undefined, T - 2 * DAY_MS).bytes;
    const dbKey = 'network-data/databases/2026-04-12T10-00-00.000Z-00000000.awnd';
    const objects = new Map<string, Uint8Array | string>([
      [
        `/${NETWORK_BUCKET}/network-data/current.json`,
        JSON.stringify({
          key: dbKey,
          builtAt: new Date(T - 2 * DAY_MS).toISOString(),
          source: 'test',
          ipv4Ranges: 8,
          ipv6Ranges: 6,
          bytes: db.length,
          sha256: sha256Hex(db),
        }),
      ],
      [`/${NETWORK_BUCKET}/${dbKey}`, db],
    ]);
    s3 = await startLocalEndpoint((req, _body, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      s3Requests.push(`${req.method} ${path}`);
      const body = objects.get(path);
      res.setHeader('content-type', 'application/xml');
      if (s3Refuses) {
        res.statusCode = 403;
        res.end('<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>');
      } else if (req.method !== 'GET' || body === undefined) {
        res.statusCode = 404;
        res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
      } else {
        res.setHeader('content-type', 'application/octet-stream');
        res.end(body);
      }
    });
    aws = await startFakeAws();
    aws.rowsFor = (startS, endS) =>
      LOGON >= startS * 1000 && LOGON < endS * 1000
        ? [
            {
              user: 'mallory',
              ip: '203.0.113.66',
              outcome: 'success',
              host: 'db-01',
              logons: '3',
              first: String(LOGON),
              last: String(LOGON + 60_000),
            },
          ]
        : [];
    const env: Record<string, string> = {
      [ENV.tableName]: TABLE,
      [ENV.topicArn]: TOPIC,
      [ENV.logSources]: JSON.stringify([{ profile: 'ecs', logGroups: ['/authwatch/test'] }]),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: aws.url,
      AWS_ENDPOINT_URL_SNS: aws.url,
      AWS_ENDPOINT_URL_S3: s3.url,
      [NETWORK_DATA_LOCATION_ENV.bucket]: NETWORK_BUCKET,
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    handler = ((await import(pathToFileURL(outfile).href)) as { handler: Handler }).handler;
  });

  afterAll(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await aws?.close();
    await s3?.close();
    dynamo?.client.destroy();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails the run when SNS rejects the alert, marking nothing raised and learning nothing', async () => {
    aws.failPublish = 'InternalError';
    await expect(handler({ 'detail-type': 'Scheduled Event', time: new Date(T).toISOString() })).rejects.toThrow(
      /could not be delivered/,
    );
    expect(aws.published).toHaveLength(0);
    expect((await store.getUsers(['mallory'])).size).toBe(0);
    expect((await store.getRunState())!.lastWindowEnd).toBe(T - BUCKET_MS);
  });

  it('publishes exactly once on the retry, and not again from the overlapping next window', async () => {
    aws.failPublish = undefined;
    const retry = await handler({ time: new Date(T).toISOString() });
    expect(retry.alertIds).toHaveLength(1);
    expect(aws.published).toHaveLength(1);
    const message = JSON.parse(aws.published[0]!.message) as Record<string, string>;
    // Every protocol but email gets the alert document; its silence commands name this table and region.
    const doc = JSON.parse(message.default!) as { user: { name: string }; silence: string[] };
    expect(doc.user.name).toBe('mallory');
    expect(doc.silence[1]).toContain(`AWS_REGION=us-east-1 npm run authwatch -- allow user mallory --table ${TABLE}`);
    expect(message.email).toContain('mallory');
    expect((await store.getLedgerEntry(retry.alertIds[0]!))!.document).toBe(message.default);
    expect(aws.published[0]!.attributes.rule).toBe('Auth.RareUser');
    expect(await store.getRaisedAlerts(retry.alertIds)).toEqual(new Set(retry.alertIds));
    expect((await store.getUsers(['mallory'])).has('mallory')).toBe(true);

    const next = await handler({ time: new Date(T + BUCKET_MS).toISOString() });
    expect(next.alertIds).toHaveLength(0);
    expect(aws.published).toHaveLength(1);
    expect((await store.getRunState())!.lastWindowEnd).toBe(T + BUCKET_MS);
  });

  it('read the network database once, for the first run of the container, not once per run', () => {
    expect(s3Requests).toEqual([
      `GET /${NETWORK_BUCKET}/network-data/current.json`,
      expect.stringMatching(new RegExp(`^GET /${NETWORK_BUCKET}/network-data/databases/.*\\.awnd$`)),
    ]);
  });

  it('runs in a new container whose S3 refuses the network data, without owners', async () => {
    s3Refuses = true;
    s3Requests.length = 0;
    // A second import of the bundle is a second module instance: a cold start.
    const cold = ((await import(`${pathToFileURL(outfile).href}?cold-start-2`)) as { handler: Handler }).handler;
    await cold({ time: new Date(T + 2 * BUCKET_MS).toISOString() });
    expect(s3Requests).toEqual([`GET /${NETWORK_BUCKET}/network-data/current.json`]);
    expect((await store.getRunState())!.lastWindowEnd).toBe(T + 2 * BUCKET_MS);
  });
});
