/**
 * The built bundle with all three outputs on (SNS, EventBridge on the default bus, Security Hub under the account's
 * product), against dynalite and the wire-level fakes (test/support/fake-aws.ts): a window whose Security Hub import
 * fails is not marked raised and not learned, and its retry delivers each alert exactly once to each output, Security
 * Hub only getting what it lacked; the next overlapping window sends nothing anywhere.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetector } from '../../lambdas/build';
import { createBaselinesTable, DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../shared/adapters/embedded-dynamo';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE } from '../../shared/adapters/eventbridge-alert-sink';
import { ALERT_ID_FIELD } from '../../shared/adapters/security-hub-alert-sink';
import { ALERT_ID_ATTRIBUTE } from '../../shared/adapters/sns-alert-sink';
import { ENV, OUTPUT_ENV } from '../../shared/config';
import { BUCKET_MS, DAY_MS, emptyPopulation } from '../../shared/core/model';
import { startFakeAws, type FakeAws } from '../support/fake-aws';
import { readTable } from '../support/window-scenario';

const TABLE = 'authwatch-outputs-test';
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:authwatch-alerts';
const PRODUCT = 'arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default';
const T = Date.UTC(2026, 3, 14, 10, 0);
const LOGON = T - 10 * 60_000;
const USERS = ['mallory', 'trudy', 'oscar'];

type Handler = (event: unknown) => Promise<{ alertIds: string[] }>;

function countById(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

describe('the built detector bundle with SNS, EventBridge and Security Hub', () => {
  let dir: string;
  let dynamo: EmbeddedDynamo;
  let aws: FakeAws;
  let handler: Handler;
  let store: DynamoDbBaselineStore;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authwatch-outputs-'));
    const { outfile } = await buildDetector(join(dir, 'index.mjs'));
    dynamo = await startEmbeddedDynamo({});
    await createBaselinesTable(dynamo.client, TABLE);
    store = new DynamoDbBaselineStore({ client: dynamo.client, tableName: TABLE });
    await store.saveRunState({ firstWindowEnd: T - 30 * DAY_MS, lastWindowEnd: T - BUCKET_MS, version: 0 });
    await store.savePopulation({
      ...emptyPopulation(),
      userBuckets: 6000,
      newUsers: 1,
      knownUsers: 120,
      lastBucket: Math.floor((T - BUCKET_MS) / BUCKET_MS),
    });
    aws = await startFakeAws();
    // Three users never seen before, each from an address of its own: three rare-user alerts.
    aws.rowsFor = (startS, endS) =>
      LOGON >= startS * 1000 && LOGON < endS * 1000
        ? USERS.map((user, i) => ({
            user,
            ip: `203.0.113.${60 + i}`,
            outcome: 'success',
            host: 'db-01',
            logons: '2',
            first: String(LOGON + i),
            last: String(LOGON + 60_000),
          }))
        : [];
    const env: Record<string, string> = {
      [ENV.tableName]: TABLE,
      [ENV.topicArn]: TOPIC,
      [OUTPUT_ENV.eventBus]: 'default',
      [OUTPUT_ENV.securityHubProductArn]: PRODUCT,
      [ENV.logSources]: JSON.stringify([{ profile: 'ecs', logGroups: ['/authwatch/test'] }]),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: aws.url,
      AWS_ENDPOINT_URL_SNS: aws.url,
      AWS_ENDPOINT_URL_EVENTBRIDGE: aws.url,
      AWS_ENDPOINT_URL_SECURITYHUB: aws.url,
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
    dynamo?.client.destroy();
    await dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const snsIds = () => aws.published.map((p) => p.attributes[ALERT_ID_ATTRIBUTE]!);
  const eventIds = () => aws.events.map((e) => (JSON.parse(e.detail) as { id: string }).id);
  const findingIds = () => aws.findings.map((f) => (f.ProductFields as Record<string, string>)[ALERT_ID_FIELD]!);

  it('fails the run when Security Hub refuses the findings: nothing raised, nothing learned, SNS and EventBridge recorded', async () => {
    aws.failFindings = 'InvalidAccess';
    await expect(handler({ time: new Date(T).toISOString() })).rejects.toThrow(/could not be delivered/);
    expect(countById(snsIds()).size).toBe(3);
    expect(countById(eventIds()).size).toBe(3);
    expect(aws.findings).toHaveLength(0);
    const table = await readTable(dynamo.client, TABLE);
    const keys = Object.keys(table);
    expect(keys.filter((k) => k.startsWith('ALERT#'))).toEqual([]);
    expect(keys.filter((k) => k.startsWith('SENT#sns#'))).toHaveLength(3);
    expect(keys.filter((k) => k.startsWith('SENT#eventbridge#'))).toHaveLength(3);
    expect(keys.filter((k) => k.startsWith('SENT#securityhub#'))).toEqual([]);
    expect((await store.getUsers(USERS)).size).toBe(0);
    expect((await store.getRunState())!.lastWindowEnd).toBe(T - BUCKET_MS);
  });

  it('on the retry delivers each alert exactly once to each output, and the next window sends nothing more', async () => {
    aws.failFindings = undefined;
    const retry = await handler({ time: new Date(T).toISOString() });
    expect(retry.alertIds).toHaveLength(3);
    const ids = [...retry.alertIds].sort();
    for (const sent of [snsIds(), eventIds(), findingIds()]) {
      const perAlert = countById(sent);
      expect([...perAlert.keys()].sort()).toEqual(ids);
      expect([...perAlert.values()].every((n) => n === 1)).toBe(true);
    }
    // What each output got is the alert, in its own format.
    expect(aws.events.every((e) => e.source === EVENT_SOURCE && e.detailType === EVENT_DETAIL_TYPE)).toBe(true);
    expect(
      aws.findings.every(
        (f) => f.ProductArn === PRODUCT && f.Id === (f.ProductFields as Record<string, string>)[ALERT_ID_FIELD],
      ),
    ).toBe(true);
    expect(await store.getRaisedAlerts(retry.alertIds)).toEqual(new Set(retry.alertIds));
    // Each output's record expires with the alert's ledger entry (the table's TTL attribute).
    const table = await readTable(dynamo.client, TABLE);
    for (const id of retry.alertIds)
      for (const output of ['sns', 'eventbridge', 'securityhub'])
        expect(table[`SENT#${output}#${id}`]?.expiresAt).toBe(table[`ALERT#${id}`]!.expiresAt);
    expect((await store.getUsers(USERS)).size).toBe(3);

    const next = await handler({ time: new Date(T + BUCKET_MS).toISOString() });
    expect(next.alertIds).toEqual([]);
    expect(snsIds()).toHaveLength(3);
    expect(eventIds()).toHaveLength(3);
    expect(findingIds()).toHaveLength(3);
  });
});
