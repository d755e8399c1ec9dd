/**
 * What one throttled call costs in requests. The real SDK clients, built by the factory every entry point
 * uses (aws-clients.ts), and the real adapters talk to a node:http server on 127.0.0.1 that answers with
 * the service's throttling error in the service's wire protocol; the server counts what reaches it. A call
 * must cost exactly the configured attempts: the SDK retries, the adapters never retry on top (before this
 * was fixed, one throttled StartQuery cost 27 requests and one alert over SNS 30).
 *
 * The backoff between attempts is 1 ms (`retryDelayMs`) so the tests do not wait the SDK's real one; the
 * attempts and which errors are retried are the production configuration.
 */
import type { IncomingMessage } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AWS_MAX_ATTEMPTS,
  AWS_RETRY_MODE,
  createDynamoDbClient,
  createLogsClient,
  createSnsClient,
  type AwsClientOptions,
} from '../../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { alertKey } from '../../shared/adapters/items/keys';
import { LogsInsightsLogSource } from '../../shared/adapters/logs-insights-log-source';
import { SnsAlertSink } from '../../shared/adapters/sns-alert-sink';
import { getProfile } from '../../shared/core/profiles';
import { BaselineStoreError, QueryError } from '../../shared/errors';
import { ALERT_WINDOW, makeAlert } from '../support/alerts';
import { startLocalEndpoint } from '../support/local-endpoint';

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:authwatch-alerts';
const DIGEST_TOPIC = 'arn:aws:sns:us-east-1:111122223333:authwatch-digest';

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** The throttling error of each service, as the service sends it. */
const THROTTLED = {
  // CloudWatch Logs speaks AWS JSON 1.1.
  logs: (type = 'ThrottlingException'): Reply => ({
    status: 400,
    contentType: 'application/x-amz-json-1.1',
    body: JSON.stringify({ __type: type, message: 'Rate exceeded' }),
  }),
  // The installed @aws-sdk/client-sns speaks the query protocol (its runtimeConfig.shared uses
  // AwsQueryProtocol): form-encoded requests, XML errors.
  sns: (): Reply => ({
    status: 400,
    contentType: 'text/xml',
    body: '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>r-1</RequestId></ErrorResponse>',
  }),
  // DynamoDB speaks AWS JSON 1.0, error types namespaced.
  dynamodb: (type: string): Reply => ({
    status: 400,
    contentType: 'application/x-amz-json-1.0',
    body: JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: 'Rate exceeded' }),
  }),
};

interface Endpoint {
  readonly url: string;
  /** Operations in the order they arrived: `StartQuery`, `PublishBatch`, `BatchGetItem`, ... */
  readonly requests: string[];
  /** The answer to a request, by operation, how many of that operation came before it, and its body. */
  answer: (op: string, nth: number, body: string) => Reply;
  close(): Promise<void>;
}

/** JSON protocols name the operation in `X-Amz-Target` (`Logs_20140328.StartQuery`); the query protocol in the form's `Action`. */
function operationOf(req: IncomingMessage, body: string): string {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') return target.slice(target.indexOf('.') + 1);
  return new URLSearchParams(body).get('Action') ?? 'unknown';
}

async function startEndpoint(): Promise<Endpoint> {
  const requests: string[] = [];
  const server = await startLocalEndpoint((req, body, res) => {
    const op = operationOf(req, body);
    const nth = requests.filter((r) => r === op).length;
    requests.push(op);
    const reply = endpoint.answer(op, nth, body);
    res.statusCode = reply.status;
    res.setHeader('content-type', reply.contentType);
    res.end(reply.body);
  });
  const endpoint: Endpoint = {
    url: server.url,
    requests,
    answer: () => ({ status: 500, contentType: 'text/plain', body: 'no answer configured' }),
    close: () => server.close(),
  };
  return endpoint;
}

let ep: Endpoint;
let clientOptions: AwsClientOptions;
beforeEach(async () => {
  ep = await startEndpoint();
  clientOptions = {
    endpoint: ep.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    retryDelayMs: () => 1,
  };
});
afterEach(async () => {
  await ep.close();
});

function times(n: number, op: string): string[] {
  return Array.from({ length: n }, () => op);
}

describe('one throttled call costs exactly the configured attempts', () => {
  it('CloudWatch Logs: a throttled StartQuery', async () => {
    ep.answer = () => THROTTLED.logs();
    const source = new LogsInsightsLogSource({
      client: createLogsClient(clientOptions),
      profile: getProfile('sshd'),
      logGroupNames: ['/var/log/secure'],
    });

    const err = await source.fetch(ALERT_WINDOW).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(
      new RegExp(`StartQuery failed after ${AWS_MAX_ATTEMPTS.logs} attempts: ThrottlingException: Rate exceeded`),
    );
    expect(ep.requests).toEqual(times(AWS_MAX_ATTEMPTS.logs, 'StartQuery'));
  });

  it('SNS: one alert published while throttled (its PublishBatch, then the digest)', async () => {
    ep.answer = () => THROTTLED.sns();
    const sink = new SnsAlertSink({
      client: createSnsClient(clientOptions),
      topicArn: TOPIC,
      digestTopicArn: DIGEST_TOPIC,
    });
    const alert = makeAlert();

    const report = await sink.publish({ runId: 'run-1', window: ALERT_WINDOW, alerts: [alert], cut: [] });

    expect(report.delivered).toEqual([]);
    expect(report.failed).toEqual([
      { id: alert.id, reason: `PublishBatch failed after ${AWS_MAX_ATTEMPTS.sns} attempts: Throttling: Rate exceeded` },
    ]);
    expect(report.digestDelivered).toBe(false);
    // The digest is still tried (it tells subscribers what failed): one call of its own, retried by the SDK alone.
    expect(ep.requests).toEqual([
      ...times(AWS_MAX_ATTEMPTS.sns, 'PublishBatch'),
      ...times(AWS_MAX_ATTEMPTS.sns, 'Publish'),
    ]);
  });

  it.each(['ProvisionedThroughputExceededException', 'ThrottlingException'])(
    'DynamoDB: a read throttled with %s',
    async (type) => {
      ep.answer = () => THROTTLED.dynamodb(type);
      const store = new DynamoDbBaselineStore({ client: createDynamoDbClient(clientOptions), tableName: 'baselines' });

      const err = await store.getUsers(['alice']).catch((e: unknown) => e);

      expect(err).toBeInstanceOf(BaselineStoreError);
      expect((err as Error).message).toMatch(new RegExp(`BatchGetItem of 1 keys from baselines failed: ${type}`));
      expect(ep.requests).toEqual(times(AWS_MAX_ATTEMPTS.dynamodb, 'BatchGetItem'));
      expect(store.stats.batchGetItem).toBe(1);
    },
  );

  it('DynamoDB with the SDK’s own backoff (no test delay): the same attempts for a 500', async () => {
    // The production path: `maxAttempts` and `retryMode` only, the SDK's standard strategy. A transient 500
    // backs off from DynamoDB's 25 ms base, so this stays quick without a test delay.
    ep.answer = () => ({
      status: 500,
      contentType: 'application/x-amz-json-1.0',
      body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'boom' }),
    });
    const { retryDelayMs: _ignored, ...production } = clientOptions;
    const store = new DynamoDbBaselineStore({ client: createDynamoDbClient(production), tableName: 'baselines' });

    await expect(store.getUsers(['alice'])).rejects.toThrow(BaselineStoreError);
    expect(ep.requests).toEqual(times(AWS_MAX_ATTEMPTS.dynamodb, 'BatchGetItem'));
  });
});

describe('what the SDK retries, and what stays with the adapters', () => {
  it('the SDK rides out the concurrent-query limit: StartQuery limited twice, then the query runs', async () => {
    ep.answer = (op, nth) => {
      if (op === 'StartQuery')
        return nth < 2
          ? THROTTLED.logs('LimitExceededException')
          : { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ queryId: 'q-1' }) };
      if (op === 'GetQueryResults')
        return {
          status: 200,
          contentType: 'application/x-amz-json-1.1',
          body: JSON.stringify({ status: 'Complete', results: [], statistics: { bytesScanned: 42 } }),
        };
      return THROTTLED.logs();
    };
    const source = new LogsInsightsLogSource({
      client: createLogsClient(clientOptions),
      profile: getProfile('sshd'),
      logGroupNames: ['/var/log/secure'],
      pollIntervalMs: 1,
    });

    const r = await source.fetch(ALERT_WINDOW);

    expect(r.stats).toMatchObject({ queries: 1, rows: 0, bytesScanned: 42 });
    expect(ep.requests).toEqual(['StartQuery', 'StartQuery', 'StartQuery', 'GetQueryResults']);
  });

  it('the fetch deadline cuts off the SDK’s retries of a throttled call', async () => {
    ep.answer = () => THROTTLED.logs();
    // A backoff far longer than the deadline: only the deadline can end the fetch.
    const client = createLogsClient({ ...clientOptions, retryDelayMs: () => 600_000 });
    const source = new LogsInsightsLogSource({
      client,
      profile: getProfile('sshd'),
      logGroupNames: ['/var/log/secure'],
      deadlineMs: 200,
    });

    const err = await source.fetch(ALERT_WINDOW).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(QueryError);
    expect((err as Error).message).toMatch(/deadline of 200 ms reached during StartQuery/);
    expect(ep.requests).toEqual(['StartQuery']);
  });

  it('a throttled GetQueryResults: the configured attempts, then no partial data and the query stopped', async () => {
    ep.answer = (op) => {
      if (op === 'StartQuery')
        return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ queryId: 'q-1' }) };
      if (op === 'StopQuery')
        return { status: 200, contentType: 'application/x-amz-json-1.1', body: JSON.stringify({ success: true }) };
      return THROTTLED.logs();
    };
    const source = new LogsInsightsLogSource({
      client: createLogsClient(clientOptions),
      profile: getProfile('sshd'),
      logGroupNames: ['/var/log/secure'],
      pollIntervalMs: 1,
    });

    await expect(source.fetch(ALERT_WINDOW)).rejects.toThrow(
      new RegExp(`GetQueryResults failed after ${AWS_MAX_ATTEMPTS.logs} attempts`),
    );
    expect(ep.requests).toEqual(['StartQuery', ...times(AWS_MAX_ATTEMPTS.logs, 'GetQueryResults'), 'StopQuery']);
  });
});

describe('the retries only an adapter can make, each call retried by the SDK alone', () => {
  const noWait = async () => undefined;

  it('SNS: an entry reported failed is sent again by the sink; a throttle of that second call costs SDK attempts only', async () => {
    ep.answer = (op, nth, body) => {
      const ok = (xml: string): Reply => ({ status: 200, contentType: 'text/xml', body: xml });
      if (op === 'Publish')
        return ok(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>d-1</MessageId></PublishResult><ResponseMetadata><RequestId>r-p</RequestId></ResponseMetadata></PublishResponse>',
        );
      if (nth === 1) return THROTTLED.sns();
      const id = new URLSearchParams(body).get('PublishBatchRequestEntries.member.1.Id')!;
      const result =
        nth === 0
          ? `<Successful/><Failed><member><Id>${id}</Id><Code>InternalError</Code><Message>try again</Message><SenderFault>false</SenderFault></member></Failed>`
          : `<Successful><member><Id>${id}</Id><MessageId>m-1</MessageId></member></Successful><Failed/>`;
      return ok(
        `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult>${result}</PublishBatchResult><ResponseMetadata><RequestId>r-${nth}</RequestId></ResponseMetadata></PublishBatchResponse>`,
      );
    };
    const sink = new SnsAlertSink({
      client: createSnsClient(clientOptions),
      topicArn: TOPIC,
      digestTopicArn: DIGEST_TOPIC,
      sleep: noWait,
    });
    const alert = makeAlert();

    const report = await sink.publish({ runId: 'run-1', window: ALERT_WINDOW, alerts: [alert], cut: [] });

    expect(report).toMatchObject({ delivered: [alert.id], failed: [], digestDelivered: true });
    // Round 1: the entry failed. Round 2: throttled once (the SDK's retry), then accepted. Then the digest.
    expect(ep.requests).toEqual(['PublishBatch', 'PublishBatch', 'PublishBatch', 'Publish']);
  });

  it('DynamoDB: UnprocessedKeys are re-requested by the store; a throttle of that call costs SDK attempts only', async () => {
    const pk = alertKey('alert-1');
    ep.answer = (_op, nth) => {
      const ok = (o: object): Reply => ({
        status: 200,
        contentType: 'application/x-amz-json-1.0',
        body: JSON.stringify(o),
      });
      if (nth === 0)
        return ok({
          Responses: { baselines: [] },
          UnprocessedKeys: { baselines: { Keys: [{ pk: { S: pk } }], ConsistentRead: true } },
        });
      if (nth === 1) return THROTTLED.dynamodb('ProvisionedThroughputExceededException');
      return ok({ Responses: { baselines: [{ pk: { S: pk } }] }, UnprocessedKeys: {} });
    };
    const store = new DynamoDbBaselineStore({
      client: createDynamoDbClient(clientOptions),
      tableName: 'baselines',
      sleep: noWait,
    });

    expect(await store.getRaisedAlerts(['alert-1'])).toEqual(new Set(['alert-1']));
    expect(ep.requests).toEqual(['BatchGetItem', 'BatchGetItem', 'BatchGetItem']);
    expect(store.stats).toMatchObject({ batchGetItem: 2, unprocessedRetries: 1 });
  });
});

describe('client configuration', () => {
  it('each factory pins its service’s attempts and the retry mode', async () => {
    const { retryDelayMs: _ignored, ...production } = clientOptions;
    const clients = {
      logs: createLogsClient(production),
      sns: createSnsClient(production),
      dynamodb: createDynamoDbClient(production),
    };
    for (const [service, client] of Object.entries(clients)) {
      expect(await client.config.maxAttempts(), service).toBe(AWS_MAX_ATTEMPTS[service as keyof typeof clients]);
      expect(await client.config.retryStrategy(), service).toMatchObject({ mode: AWS_RETRY_MODE });
      client.destroy();
    }
    // Deliberately not all alike: DynamoDB throttles whole calls most often (see aws-clients.ts).
    expect(AWS_MAX_ATTEMPTS.dynamodb).toBeGreaterThan(AWS_MAX_ATTEMPTS.sns);
  });
});
