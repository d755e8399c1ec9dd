import {
  AuthorizationErrorException,
  PublishBatchCommand,
  PublishCommand,
  SNSClient,
  ThrottledException,
  type PublishBatchCommandInput,
  type PublishBatchRequestEntry,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_PAYLOAD_BYTES,
  SnsAlertSink,
  messageBytes,
  type SnsAlertSinkProps,
} from '../../shared/adapters/sns-alert-sink';
import { chatbotNotification, emailText } from '../../shared/core/alert-text';
import type { Alert, AlertBatch } from '../../shared/core/model';
import { ALERT_WINDOW as WINDOW, makeAlert as makeCoreAlert, type AlertOptions } from '../support/alerts';

const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:authwatch-alerts';
const DIGEST_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:authwatch-digest';
const CHAT_TOPIC = 'arn:aws:sns:eu-west-1:111122223333:authwatch-chat';

let seq = 0;
function makeAlert(o: AlertOptions = {}): Alert {
  return makeCoreAlert({ user: `user${seq++}`, ...o });
}

function batchOf(alerts: Alert[], cut: Alert[] = []): AlertBatch {
  return { runId: 'run-2026-03-20T10:00:00.000Z', window: WINDOW, alerts, cut };
}

const sns = mockClient(SNSClient);
let sleeps: number[];
/** The default deployment without Slack: the alerts topic and the digest topic. */
function sink(overrides: Partial<Omit<SnsAlertSinkProps, 'client'>> = {}) {
  return new SnsAlertSink({
    client: new SNSClient({ region: 'eu-west-1' }),
    topicArn: TOPIC,
    digestTopicArn: DIGEST_TOPIC,
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 0.5,
    ...overrides,
  });
}

/** Accept every entry. */
function acceptAll(input: PublishBatchCommandInput) {
  return {
    Successful: (input.PublishBatchRequestEntries ?? []).map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
    Failed: [],
  };
}

function batchCalls(topic = TOPIC): PublishBatchRequestEntry[][] {
  return sns
    .commandCalls(PublishBatchCommand)
    .filter((c) => c.args[0].input.TopicArn === topic)
    .map((c) => c.args[0].input.PublishBatchRequestEntries ?? []);
}

function parseMessage(e: { Message?: string | undefined }): Record<string, string> {
  return JSON.parse(e.Message!) as Record<string, string>;
}

beforeEach(() => {
  sns.reset();
  sleeps = [];
  sns.on(PublishCommand).resolves({ MessageId: 'digest-1' });
});
afterEach(() => sns.reset());

describe('SnsAlertSink batching', () => {
  it('publishes 25 alerts in 3 PublishBatch calls of at most 10, in rank order, then one digest', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const alerts = Array.from({ length: 25 }, () => makeAlert());
    const report = await sink().publish(batchOf(alerts));

    const calls = batchCalls();
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
    expect(sns.commandCalls(PublishBatchCommand).every((c) => c.args[0].input.TopicArn === TOPIC)).toBe(true);
    expect(report).toMatchObject({ delivered: alerts.map((a) => a.id), failed: [], digestDelivered: true });
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([DIGEST_TOPIC]);
    expect(sleeps).toEqual([]);
  });

  it('splits by bytes so no call carries more than 256 KiB', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    // ~30 KB of evidence per message: ten of them are more than one call may carry.
    const alerts = Array.from({ length: 10 }, (_, i) =>
      makeAlert({ evidence: { kind: 'new', blob: `${i}`.padEnd(30_000, 'x') } }),
    );
    const report = await sink().publish(batchOf(alerts));

    const calls = batchCalls();
    expect(calls.length).toBeGreaterThan(1);
    for (const entries of calls) {
      expect(entries.length).toBeLessThanOrEqual(10);
      expect(entries.reduce((n, e) => n + messageBytes(e), 0)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    }
    expect(calls.flat()).toHaveLength(10);
    expect(report.delivered).toEqual(alerts.map((a) => a.id));
  });

  it('trims the JSON detail of a single alert over the limit instead of dropping it', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const huge = makeAlert({ evidence: { kind: 'new', blob: 'y'.repeat(300_000) } });
    const small = makeAlert();
    const report = await sink().publish(batchOf([huge, small]));

    expect(report.delivered).toEqual([huge.id, small.id]);
    const entries = batchCalls().flat();
    const hugeEntry = entries.find((e) => e.Id!.endsWith(huge.id))!;
    expect(messageBytes(hugeEntry)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const detail = JSON.parse(parseMessage(hugeEntry).default!) as Alert & { truncated?: boolean };
    expect(detail.truncated).toBe(true);
    expect(detail.id).toBe(huge.id);
    expect(detail.user.name).toBe(huge.user.name);
    // The ledger gets the document as it was delivered, trimmed.
    expect(report.documents?.[huge.id]).toBe(parseMessage(hugeEntry).default);
    // The untrimmed neighbour is whole.
    const smallEntry = entries.find((e) => e.Id!.endsWith(small.id))!;
    expect(JSON.parse(parseMessage(smallEntry).default!)).toEqual(small);
    expect(report.documents?.[small.id]).toBe(JSON.stringify(small));
  });

  it('uses entry ids that are unique, at most 80 characters, alphanumeric/-/_', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const a = makeAlert();
    // Same alert twice must not make SNS reject the batch for duplicate ids.
    await sink().publish(batchOf([a, a, makeAlert()]));
    const ids = batchCalls()
      .flat()
      .map((e) => e.Id!);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });
});

describe('SnsAlertSink failures', () => {
  it('retries only the entries SNS reports as failed, with backoff, then reports all delivered', async () => {
    const alerts = Array.from({ length: 4 }, () => makeAlert());
    let call = 0;
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      if (call++ === 0) {
        return {
          Successful: entries.slice(0, 2).map((e) => ({ Id: e.Id, MessageId: 'm' })),
          Failed: entries
            .slice(2)
            .map((e) => ({ Id: e.Id, Code: 'InternalError', Message: 'try again', SenderFault: false })),
        };
      }
      return acceptAll(input);
    });
    const report = await sink().publish(batchOf(alerts));

    expect(batchCalls().map((c) => c.length)).toEqual([4, 2]);
    expect(batchCalls()[1]!.map((e) => e.Id)).toEqual(
      batchCalls()[0]!
        .slice(2)
        .map((e) => e.Id),
    );
    expect(report.failed).toEqual([]);
    expect([...report.delivered].sort()).toEqual(alerts.map((a) => a.id).sort());
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(0);
  });

  it('reports a permanently failing entry as failed without throwing, and does not retry sender faults', async () => {
    const [good, bad] = [makeAlert(), makeAlert()];
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      return {
        Successful: entries.filter((e) => !e.Id!.endsWith(bad!.id)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: entries
          .filter((e) => e.Id!.endsWith(bad!.id))
          .map((e) => ({
            Id: e.Id,
            Code: 'InvalidParameter',
            Message: 'Invalid parameter: Message',
            SenderFault: true,
          })),
      };
    });
    const report = await sink().publish(batchOf([good!, bad!]));

    expect(report.delivered).toEqual([good!.id]);
    expect(report.failed).toEqual([{ id: bad!.id, reason: 'InvalidParameter: Invalid parameter: Message' }]);
    expect(batchCalls()).toHaveLength(1);
    expect(report.digestDelivered).toBe(true);
  });

  it('gives up on a transient failure after the bounded retries and reports it', async () => {
    const alerts = [makeAlert(), makeAlert()];
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      return {
        Successful: entries.filter((e) => e.Id!.endsWith(alerts[0]!.id)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: entries
          .filter((e) => e.Id!.endsWith(alerts[1]!.id))
          .map((e) => ({ Id: e.Id, Code: 'InternalError', Message: 'still broken', SenderFault: false })),
      };
    });
    const report = await sink({ maxRetries: 2 }).publish(batchOf(alerts));

    expect(batchCalls().map((c) => c.length)).toEqual([2, 1, 1]);
    expect(report.delivered).toEqual([alerts[0]!.id]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]!.id).toBe(alerts[1]!.id);
    expect(report.failed[0]!.reason).toMatch(/InternalError: still broken \(after 3 PublishBatch calls\)/);
    expect(sleeps).toHaveLength(2);
    // Full-jitter exponential backoff: random 0.5 × 200·2^k ms.
    expect(sleeps).toEqual([100, 200]);
  });

  // The SDK client retries a throttled call (aws-clients.ts; counted against a real endpoint in retries.test.ts).
  // The mock replaces the client's send, retries included: one rejection here is the SDK having given up.
  it('does not retry a throttled call the SDK gave up on: its alerts are reported failed, the next batch still goes', async () => {
    sns
      .on(PublishBatchCommand)
      .rejectsOnce(
        new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 4 } }),
      )
      .callsFake(acceptAll);
    const alerts = Array.from({ length: 12 }, () => makeAlert());
    const report = await sink().publish(batchOf(alerts));
    expect(report.failed.map((f) => f.id)).toEqual(alerts.slice(0, 10).map((a) => a.id));
    expect(report.failed[0]!.reason).toBe('PublishBatch failed after 4 attempts: ThrottledException: Rate exceeded');
    expect(report.delivered).toEqual(alerts.slice(10).map((a) => a.id));
    expect(batchCalls().map((c) => c.length)).toEqual([10, 2]);
    expect(sleeps).toEqual([]);
  });

  it('reports every alert of a call failed on a non-retryable error, keeps going with the next batch', async () => {
    let call = 0;
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      if (call++ === 0)
        throw new AuthorizationErrorException({
          message: 'not authorized to publish',
          $metadata: { httpStatusCode: 403 },
        });
      return acceptAll(input);
    });
    const alerts = Array.from({ length: 12 }, () => makeAlert());
    const report = await sink().publish(batchOf(alerts));

    expect(report.failed.map((f) => f.id)).toEqual(alerts.slice(0, 10).map((a) => a.id));
    expect(report.failed[0]!.reason).toBe(
      'PublishBatch failed: AuthorizationErrorException: not authorized to publish',
    );
    expect(report.delivered).toEqual(alerts.slice(10).map((a) => a.id));
    expect(sleeps).toEqual([]);
  });

  it('a failed digest does not mark delivered alerts failed', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    sns.on(PublishCommand).rejects(new AuthorizationErrorException({ message: 'denied', $metadata: {} }));
    const alerts = [makeAlert()];
    const report = await sink().publish(batchOf(alerts));
    expect(report).toMatchObject({ delivered: [alerts[0]!.id], failed: [], digestDelivered: false });
  });

  it('sends the digest once: a throttled digest the SDK gave up on is reported undelivered, not retried', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    sns
      .on(PublishCommand)
      .rejectsOnce(
        new ThrottledException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400, attempts: 4 } }),
      )
      .resolves({ MessageId: 'd' });
    const alerts = [makeAlert()];
    const report = await sink().publish(batchOf(alerts));
    expect(report).toMatchObject({ delivered: [alerts[0]!.id], failed: [], digestDelivered: false });
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });
});

describe('SnsAlertSink message shape', () => {
  it('sends each alert to the alerts topic once: readable text for email, the alert document for every other protocol', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const a = makeAlert({ user: 'alice', detector: 'ip', score: 91.25 });
    const report = await sink().publish(batchOf([a]));
    const [entry] = batchCalls().flat();

    expect(entry!.MessageStructure).toBe('json');
    expect(entry!.Subject).toBe('authwatch: Unusual source IP (score 91): alice from 203.0.113.9');
    expect(entry!.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'alert' },
      rule: { DataType: 'String', StringValue: 'Auth.UnusualSourceIp' },
      severity: { DataType: 'String', StringValue: 'low' },
      score: { DataType: 'Number', StringValue: '91.25' },
      alert_id: { DataType: 'String', StringValue: a.id },
    });

    // `default` is what https, http, sqs, lambda, firehose and email-json subscribers receive: no Chatbot card there.
    const m = parseMessage(entry!);
    expect(Object.keys(m).sort()).toEqual(['default', 'email']);
    expect(JSON.parse(m.default!)).toEqual(a);
    expect(m.email).toBe(emailText(a));
    expect(report.documents).toEqual({ [a.id]: m.default });
    // No chat topic configured: nothing else but the digest.
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(1);
  });

  it("fills the deployment's table and region into every copy of the silence commands", async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const a = makeAlert({ user: 'alice', detector: 'ip' });
    const report = await sink({
      chatTopicArn: CHAT_TOPIC,
      silenceTarget: { tableName: 'Authwatch-StorageTable-1A2B', region: 'eu-west-1' },
    }).publish(batchOf([a]));
    const m = parseMessage(batchCalls()[0]![0]!);
    const doc = JSON.parse(m.default!) as Alert;
    expect(doc.silence[0]).toBe(
      `The user confirms it: AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-1A2B`,
    );
    expect(doc.silence.join('\n')).not.toContain('<table>');
    expect(m.email).toContain(
      `AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-1A2B`,
    );
    const card = JSON.parse(batchCalls(CHAT_TOPIC)[0]![0]!.Message!) as { content: { description: string } };
    expect(card.content.description).toContain('AWS\\_REGION=eu-west-1 npm run authwatch -- benign');
    expect(card.content.description).toContain('--table Authwatch-StorageTable-1A2B');
    const digest = parseMessage(sns.commandCalls(PublishCommand)[0]!.args[0].input);
    expect(digest.email).toContain(
      `AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-1A2B`,
    );
    expect(report.documents?.[a.id]).toBe(m.default);
  });

  it('escapes a hostile user name in the email text and the Chatbot card, and keeps the exact name for machines', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const hostile =
      '*pwn* [click](https://evil.example) <!channel> <b>x</b> & \nSubject: fake\r\u202e' + 'Z'.repeat(10_000);
    const a = makeAlert({ user: hostile });
    await sink({ chatTopicArn: CHAT_TOPIC }).publish(batchOf([a]));
    const [entry] = batchCalls().flat();
    const m = parseMessage(entry!);

    expect(entry!.Subject!.length).toBeLessThan(100);
    expect(entry!.Subject).toMatch(/^[\x20-\x7e]+$/);

    expect(m.email).not.toContain('\nSubject: fake');
    expect(m.email).not.toContain('\u202e');
    expect(m.email).not.toMatch(/Z{129}/);

    const chat = JSON.parse(batchCalls(CHAT_TOPIC)[0]![0]!.Message!) as {
      content: { title: string; description: string; nextSteps: string[] };
      metadata: { summary: string };
    };
    for (const s of [chat.content.title, chat.content.description, chat.metadata.summary, ...chat.content.nextSteps]) {
      expect(s).not.toContain('<!channel>');
      expect(s).not.toContain('<b>');
      expect(s).not.toContain('](https://');
      expect(s).not.toContain('*pwn*');
      expect(s).not.toContain('\nSubject');
      expect(s).not.toMatch(/Z{129}/);
    }
    expect(chat.content.description).toContain(
      '\\*pwn\\* \\[click\\]\\(https://evil.example\\) &lt;!channel&gt; &lt;b&gt;x&lt;/b&gt; &amp;',
    );

    expect((JSON.parse(m.default!) as Alert).user.name).toBe(hostile);
  });

  it('posts one Chatbot card per alert to the chat topic, only after the alerts topic accepted it, and no digest card', async () => {
    const [ok, bad] = [makeAlert({ user: 'ok' }), makeAlert({ user: 'bad' })];
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      if (input.TopicArn === CHAT_TOPIC) return acceptAll(input);
      return {
        Successful: entries.filter((e) => e.Id!.endsWith(ok!.id)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: entries
          .filter((e) => e.Id!.endsWith(bad!.id))
          .map((e) => ({ Id: e.Id, Code: 'InvalidParameter', Message: 'no', SenderFault: true })),
      };
    });
    const report = await sink({ chatTopicArn: CHAT_TOPIC }).publish(batchOf([ok!, bad!]));

    const cards = batchCalls(CHAT_TOPIC).flat();
    expect(cards).toHaveLength(1);
    expect(cards[0]!.MessageStructure).toBeUndefined();
    expect(JSON.parse(cards[0]!.Message!)).toEqual(chatbotNotification(ok!));
    expect(report.delivered).toEqual([ok!.id]);
    expect(report.failed.map((f) => f.id)).toEqual([bad!.id]);
    // Nothing was cut: the chat topic gets no per-run card (it would repeat the alerts).
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input.TopicArn)).toEqual([DIGEST_TOPIC]);
  });

  it('reports an alert whose chat card failed as not delivered, so the retry posts it', async () => {
    const a = makeAlert();
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      if (input.TopicArn === TOPIC) return acceptAll(input);
      return {
        Successful: [],
        Failed: (input.PublishBatchRequestEntries ?? []).map((e) => ({
          Id: e.Id,
          Code: 'InvalidParameter',
          Message: 'no',
          SenderFault: true,
        })),
      };
    });
    const report = await sink({ chatTopicArn: CHAT_TOPIC }).publish(batchOf([a]));
    expect(report.delivered).toEqual([]);
    expect(report.failed).toEqual([{ id: a.id, reason: 'chat card: InvalidParameter: no' }]);
    expect(report.documents).toEqual({});
  });

  it('posts a card for what the cap cut, listing only the cut findings', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const alerts = [makeAlert({ user: 'alice', score: 97 })];
    const cut = Array.from({ length: 3 }, (_, i) => makeAlert({ user: `cut${i}`, score: 80 }));
    await sink({ chatTopicArn: CHAT_TOPIC }).publish(batchOf(alerts, cut));
    const chat = sns.commandCalls(PublishCommand).filter((c) => c.args[0].input.TopicArn === CHAT_TOPIC);
    expect(chat).toHaveLength(1);
    const input = chat[0]!.args[0].input;
    expect(input.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'cut' });
    const card = JSON.parse(input.Message!) as {
      version: string;
      source: string;
      content: { title: string; description: string };
    };
    expect(card).toMatchObject({ version: '1.0', source: 'custom' });
    expect(card.content.title).toContain('3 more findings cut by the per-run cap');
    for (const c of cut) expect(card.content.description).toContain(c.user.name);
    expect(card.content.description).not.toContain('alice');
  });

  it('sends the digest to the digest topic, every alert explained in full, with the cut count and the window', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const alerts = [makeAlert({ user: 'alice', score: 97 }), makeAlert({ user: 'bob', score: 90, detector: 'ip' })];
    const cut = Array.from({ length: 7 }, () => makeAlert({ score: 80 }));
    await sink().publish(batchOf(alerts, cut));

    const [call] = sns.commandCalls(PublishCommand);
    const input = call!.args[0].input;
    expect(input.TopicArn).toBe(DIGEST_TOPIC);
    expect(input.MessageStructure).toBe('json');
    expect(input.Subject).toBe(
      'authwatch digest: 2 alerts, 7 more cut by the per-run cap (window ending 2026-03-20T10:00Z)',
    );
    expect(input.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'digest' });
    expect(input.MessageAttributes?.score).toEqual({ DataType: 'Number', StringValue: '97' });
    const m = parseMessage(input);
    expect(Object.keys(m).sort()).toEqual(['default', 'email']);
    expect(m.email).toContain('Window: 2026-03-20T09:30:00.000Z to 2026-03-20T10:00:00.000Z');
    expect(m.email!.indexOf('alice')).toBeLessThan(m.email!.indexOf('bob'));
    for (const a of alerts) {
      expect(m.email).toContain(a.explanation);
      for (const step of a.investigation) expect(m.email).toContain(step);
      for (const hint of a.silence) expect(m.email).toContain(hint);
    }
    expect(m.email).not.toContain('also sent as its own message');
    expect(m.email).toContain('CUT BY THE CAP: 7 more findings');
    const machine = JSON.parse(m.default!) as {
      kind: string;
      alert_ids: string[];
      cut: number;
      part: number;
      parts: number;
    };
    expect(machine).toMatchObject({ kind: 'digest', alert_ids: alerts.map((x) => x.id), cut: 7, part: 1, parts: 1 });
    expect(messageBytes(input)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it('splits a 100-alert digest with long names into parts under the size limit, each alert whole in one part', async () => {
    sns.on(PublishBatchCommand).callsFake(acceptAll);
    const alerts = Array.from({ length: 100 }, (_, i) =>
      makeAlert({
        user: `${'N'.repeat(5_000)}${i}`,
        otherIps: Array.from({ length: 20 }, (_, j) => `198.51.100.${j}`),
      }),
    );
    const report = await sink().publish(batchOf(alerts, [makeAlert()]));
    expect(report.delivered).toHaveLength(100);
    expect(report.digestDelivered).toBe(true);
    const inputs = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    for (const input of inputs) expect(messageBytes(input)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
    const emails = inputs.map((i) => parseMessage(i).email!);
    // Every alert's id appears in exactly one part.
    for (const a of alerts) expect(emails.filter((e) => e.includes(`(${a.id})`))).toHaveLength(1);
    expect(inputs.length).toBeGreaterThan(1);
    expect(inputs[1]!.Subject).toContain(`digest 2/${inputs.length}:`);
    for (const entries of batchCalls())
      expect(entries.reduce((n, e) => n + messageBytes(e), 0)).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });

  it('marks undelivered alerts in the digest', async () => {
    const [ok, bad] = [makeAlert({ user: 'ok' }), makeAlert({ user: 'bad' })];
    sns.on(PublishBatchCommand).callsFake((input: PublishBatchCommandInput) => {
      const entries = input.PublishBatchRequestEntries ?? [];
      return {
        Successful: entries.filter((e) => e.Id!.endsWith(ok!.id)).map((e) => ({ Id: e.Id, MessageId: 'm' })),
        Failed: entries
          .filter((e) => e.Id!.endsWith(bad!.id))
          .map((e) => ({ Id: e.Id, Code: 'InvalidParameter', Message: 'no', SenderFault: true })),
      };
    });
    await sink().publish(batchOf([ok!, bad!]));
    const m = parseMessage(sns.commandCalls(PublishCommand)[0]!.args[0].input);
    expect(m.email).toMatch(/bad .*delivery failed/);
    const machine = JSON.parse(m.default!) as { alert_ids: string[]; failed_ids: string[] };
    expect(machine.alert_ids).toEqual([ok!.id, bad!.id]);
    expect(machine.failed_ids).toEqual([bad!.id]);
  });

  it('sends no digest and reports nothing when there is nothing to publish', async () => {
    const report = await sink({ chatTopicArn: CHAT_TOPIC }).publish(batchOf([]));
    expect(report).toEqual({ delivered: [], failed: [], digestDelivered: true, documents: {} });
    expect(sns.calls()).toHaveLength(0);
  });
});
