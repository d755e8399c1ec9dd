/**
 * The EventBridge and Security Hub sinks against their APIs' shapes (aws-sdk-client-mock): what each alert becomes,
 * the per-call limits, and per-entry failures retried or reported; and the composite sink's per-output guarantees over
 * the in-memory store.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EVENT_DETAIL_TYPE, EVENT_SOURCE, EventBridgeAlertSink } from '../../shared/adapters/eventbridge-alert-sink';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { MultiAlertSink } from '../../shared/adapters/multi-alert-sink';
import {
  ALERT_ID_FIELD,
  ASFF_LIMITS,
  asffFinding,
  httpFindingsImporter,
  type ImportFindingsOutput,
  SecurityHubAlertSink,
  SecurityHubCallError,
} from '../../shared/adapters/security-hub-alert-sink';
import { alertDocument } from '../../shared/core/alerts';
import type { Alert, AlertBatch } from '../../shared/core/model';
import { BaselineStoreError } from '../../shared/errors';
import { ALERT_WINDOW as WINDOW, makeAlert as makeCoreAlert, type AlertOptions } from '../support/alerts';
import { type LocalEndpoint, startLocalEndpoint } from '../support/local-endpoint';

const TARGET = { account: '111122223333', region: 'eu-west-1' };
const PRODUCT_ARN = 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default';

let seq = 0;
function makeAlert(o: AlertOptions = {}): Alert {
  return makeCoreAlert({ user: `user${seq++}`, ...o });
}
function batchOf(alerts: Alert[]): AlertBatch {
  return { runId: 'run-2026-03-20T10:00:00.000Z', window: WINDOW, alerts, cut: [] };
}
const noSleep = async () => {};

describe('EventBridgeAlertSink', () => {
  const events = mockClient(EventBridgeClient);
  beforeEach(() => events.reset());
  afterEach(() => events.reset());
  const sink = () =>
    new EventBridgeAlertSink({
      client: new EventBridgeClient({ region: 'eu-west-1' }),
      sleep: noSleep,
      random: () => 0,
    });

  it('puts each alert as one authwatch event whose detail is the alert document, at most 10 per call', async () => {
    events.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => ({
      FailedEntryCount: 0,
      Entries: input.Entries!.map((_, i) => ({ EventId: `e-${i}` })),
    }));
    const alerts = Array.from({ length: 23 }, () => makeAlert());
    const r = await sink().publish(batchOf(alerts));
    expect(r.delivered).toEqual(alerts.map((a) => a.id));
    expect(r.failed).toEqual([]);
    const calls = events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    const first = calls[0]![0]!;
    expect(first.Source).toBe(EVENT_SOURCE);
    expect(first.DetailType).toBe(EVENT_DETAIL_TYPE);
    expect(first.EventBusName).toBeUndefined(); // the default bus
    expect(first.Detail).toBe(alertDocument(alerts[0]!));
    expect(first.Time).toEqual(new Date(alerts[0]!['@timestamp']));
  });

  it('sends again only the entries failed transiently, and reports the refused ones per alert', async () => {
    const alerts = [makeAlert(), makeAlert(), makeAlert()];
    let call = 0;
    events.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
      call++;
      return {
        FailedEntryCount: call === 1 ? 2 : 0,
        Entries: input.Entries!.map((e, i) => {
          const id = (JSON.parse(e.Detail!) as { id: string }).id;
          if (call === 1 && id === alerts[1]!.id)
            return { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' };
          if (id === alerts[2]!.id) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'no' };
          return { EventId: `e-${call}-${i}` };
        }),
      };
    });
    const r = await sink().publish(batchOf(alerts));
    expect([...r.delivered].sort()).toEqual([alerts[0]!.id, alerts[1]!.id].sort());
    expect(r.failed).toEqual([{ id: alerts[2]!.id, reason: 'MalformedDetail: no' }]);
    // The second call carried the throttled entry alone.
    const second = events.commandCalls(PutEventsCommand)[1]!.args[0].input.Entries!;
    expect(second.map((e) => (JSON.parse(e.Detail!) as { id: string }).id)).toEqual([alerts[1]!.id]);
  });

  it('reports every alert of a call that failed as a whole, without throwing', async () => {
    events.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const alerts = [makeAlert(), makeAlert()];
    const r = await sink().publish(batchOf(alerts));
    expect(r.delivered).toEqual([]);
    expect(r.failed.map((f) => f.id)).toEqual(alerts.map((a) => a.id));
    expect(r.failed[0]!.reason).toMatch(/^PutEvents failed: AccessDeniedException: denied/);
  });
});

describe('the ASFF finding of an alert', () => {
  it('is identified by the alert id under the account default product, generated per detector', () => {
    const a = makeAlert({ detector: 'ip', score: 97 });
    const f = asffFinding(a, TARGET);
    expect(f).toMatchObject({
      SchemaVersion: '2018-10-08',
      Id: a.id,
      ProductArn: PRODUCT_ARN,
      GeneratorId: 'authwatch/Auth.UnusualSourceIp',
      AwsAccountId: TARGET.account,
      CreatedAt: a.window.end,
      UpdatedAt: a.window.end,
      Description: a.explanation,
      RecordState: 'ACTIVE',
      Network: { Direction: 'IN', SourceIpV4: a.source.ip },
    });
    // Same alert, same finding: a re-import updates it (and, with the same UpdatedAt, changes nothing).
    expect(asffFinding(a, TARGET)).toEqual(f);
    expect(f.Types).toContain('TTPs/Initial Access');
    expect(f.Types!.some((t) => t.startsWith('TTPs/Initial Access/T1078'))).toBe(true);
    expect(f.Types).toContain('Unusual Behaviors/User');
    expect(f.Resources!.map((r) => r.Id)).toEqual([
      `authwatch:user/${a.user.name}`,
      `authwatch:source/${a.source.ip}`,
      'authwatch:host/web-01',
    ]);
    expect(f.Remediation!.Recommendation!.Text).toContain(`1. ${a.investigation[0]!.slice(0, 40)}`);
    expect(f.Workflow).toBeUndefined();
    expect(f.Note).toBeUndefined();
  });

  it("maps severity from the detector's label, placed in its band by the score", () => {
    const low = asffFinding(makeAlert({ detector: 'rare', score: 76 }), TARGET).Severity!;
    const lowTop = asffFinding(makeAlert({ detector: 'rare', score: 100 }), TARGET).Severity!;
    expect(low.Label).toBe('LOW');
    expect(lowTop).toEqual({ Label: 'LOW', Normalized: 39, Original: '100' });
    expect(low.Normalized!).toBeGreaterThanOrEqual(1);
    expect(low.Normalized!).toBeLessThan(lowTop.Normalized!);
  });

  it('keeps the description, the recommendation and ProductFields within their limits, and the document whole in parts', () => {
    const long = `${'é'.repeat(700)}🔑${'x'.repeat(700)}`;
    const a = makeAlert({ explanation: long, hosts: Array.from({ length: 60 }, (_, i) => `host-${i}`) });
    const f = asffFinding(a, TARGET);
    expect(f.Description!.length).toBeLessThanOrEqual(ASFF_LIMITS.description);
    expect(f.Description!.endsWith('…')).toBe(true);
    expect(f.Remediation!.Recommendation!.Text!.length).toBeLessThanOrEqual(ASFF_LIMITS.recommendation);
    expect(f.Resources!.length).toBeLessThanOrEqual(ASFF_LIMITS.resources);
    const fields = f.ProductFields!;
    expect(Object.keys(fields).length).toBeLessThanOrEqual(ASFF_LIMITS.productFields - 8);
    for (const [k, v] of Object.entries(fields)) {
      expect(k.length).toBeLessThan(ASFF_LIMITS.productFieldKey);
      expect(v.length).toBeLessThanOrEqual(ASFF_LIMITS.productFieldValue);
    }
    expect(fields[ALERT_ID_FIELD]).toBe(a.id);
    const parts = Number(fields['authwatch/document.parts']);
    const doc = Array.from(
      { length: parts },
      (_, i) => fields[`authwatch/document/${String(i).padStart(2, '0')}`],
    ).join('');
    expect(JSON.parse(doc)).toEqual(JSON.parse(alertDocument(a)));
  });

  it('trims a document too large for ProductFields as SNS trims it, marked truncated', () => {
    // More than the ~30 parts of 2,000 characters there is room for.
    const a: Alert = { ...makeAlert(), evidence: { notes: 'n'.repeat(100_000) } };
    const fields = asffFinding(a, TARGET).ProductFields!;
    const parts = Number(fields['authwatch/document.parts']);
    const doc = JSON.parse(
      Array.from({ length: parts }, (_, i) => fields[`authwatch/document/${String(i).padStart(2, '0')}`]).join(''),
    ) as { id: string; truncated?: boolean };
    expect(doc).toMatchObject({ id: a.id, truncated: true });
  });

  it('updates the original finding for a follow-up, and relates campaign and per-user findings both ways', () => {
    const original = makeAlert({ detector: 'ip' });
    const followUp: Alert = { ...makeAlert({ detector: 'ip' }), follow_up_of: original.id };
    const f = asffFinding(followUp, TARGET);
    expect(f.Id).toBe(original.id);
    expect(f.Title!.startsWith('Follow-up: ')).toBe(true);
    expect(f.ProductFields![ALERT_ID_FIELD]).toBe(followUp.id);
    expect(f.ProductFields!['authwatch/follow_up_of']).toBe(original.id);

    const perUser: Alert = { ...makeAlert(), campaign: { of: 'passwordspray-c1' } };
    expect(asffFinding(perUser, TARGET).FindingProviderFields!.RelatedFindings).toEqual([
      { ProductArn: PRODUCT_ARN, Id: 'passwordspray-c1' },
    ]);
    const campaign: Alert = {
      ...makeAlert(),
      user: { name: '' },
      campaign: {
        source: '203.0.113.9',
        users: [{ name: 'a' } as never, { name: 'b' } as never],
        linked: [perUser.id],
        folded: ['unusualsourceip-f1', 'unusualsourceip-f2'],
      },
    };
    const c = asffFinding(campaign, TARGET);
    expect(c.FindingProviderFields!.RelatedFindings).toEqual([{ ProductArn: PRODUCT_ARN, Id: perUser.id }]);
    expect(c.ProductFields!['authwatch/campaign.folded']).toBe('unusualsourceip-f1,unusualsourceip-f2');
    expect(c.Resources!.slice(0, 2).map((r) => r.Id)).toEqual(['authwatch:user/a', 'authwatch:user/b']);
  });
});

describe('SecurityHubAlertSink', () => {
  /** The calls the sink made (each the findings of one BatchImportFindings), answered by `answer`. */
  function importer(answer: (findings: readonly AwsSecurityFinding[], call: number) => ImportFindingsOutput) {
    const calls: (readonly AwsSecurityFinding[])[] = [];
    const importFindings = async (findings: readonly AwsSecurityFinding[]) => {
      calls.push(findings);
      return answer(findings, calls.length);
    };
    return { calls, importFindings };
  }
  const sink = (importFindings: (f: readonly AwsSecurityFinding[]) => Promise<ImportFindingsOutput>) =>
    new SecurityHubAlertSink({ importFindings, target: TARGET, sleep: noSleep, random: () => 0 });

  it('imports at most 100 findings per call', async () => {
    const hub = importer(() => ({ FailedFindings: [] }));
    const alerts = Array.from({ length: 150 }, () => makeAlert());
    const r = await sink(hub.importFindings).publish(batchOf(alerts));
    expect(r.delivered).toEqual(alerts.map((a) => a.id));
    expect(hub.calls.map((c) => c.length)).toEqual([100, 50]);
  });

  it('handles FailedFindings per finding: a throttled one again, an invalid one reported', async () => {
    const alerts = [makeAlert(), makeAlert(), makeAlert()];
    const hub = importer((findings, call) => ({
      FailedFindings: findings.flatMap((f) =>
        call === 1 && f.Id === alerts[0]!.id
          ? [{ Id: f.Id, ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }]
          : f.Id === alerts[2]!.id
            ? [{ Id: f.Id, ErrorCode: 'InvalidInput', ErrorMessage: 'bad finding' }]
            : [],
      ),
    }));
    const r = await sink(hub.importFindings).publish(batchOf(alerts));
    expect([...r.delivered].sort()).toEqual([alerts[0]!.id, alerts[1]!.id].sort());
    expect(r.failed).toEqual([{ id: alerts[2]!.id, reason: 'InvalidInput: bad finding' }]);
    expect(hub.calls[1]!.map((f) => f.Id)).toEqual([alerts[0]!.id]);
  });

  it('reports every alert of a call that failed as a whole, without throwing', async () => {
    const r = await sink(async () => {
      throw new SecurityHubCallError('InvalidAccessException', 'Security Hub is not enabled', 401, 1);
    }).publish(batchOf([makeAlert()]));
    expect(r.delivered).toEqual([]);
    expect(r.failed[0]!.reason).toBe('BatchImportFindings failed: InvalidAccessException: Security Hub is not enabled');
  });

  it('imports two alerts on one finding (an original and its follow-up) in separate calls, in rank order', async () => {
    const hub = importer(() => ({ FailedFindings: [] }));
    const original = makeAlert({ detector: 'ip' });
    const followUp: Alert = { ...makeAlert({ detector: 'ip' }), follow_up_of: original.id };
    const r = await sink(hub.importFindings).publish(batchOf([original, followUp]));
    expect(r.delivered).toEqual([original.id, followUp.id]);
    expect(hub.calls.map((c) => c.map((f) => f.ProductFields![ALERT_ID_FIELD]))).toEqual([
      [original.id],
      [followUp.id],
    ]);
  });
});

describe('the signed BatchImportFindings call', () => {
  const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });
  let server: LocalEndpoint | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('posts the findings as restJson1 to /findings/import, signed with SigV4 for securityhub', async () => {
    const seen: { method?: string; url?: string; auth: string; type: string; body: string }[] = [];
    server = await startLocalEndpoint((req, body, res) => {
      seen.push({
        method: req.method,
        url: req.url,
        auth: String(req.headers.authorization),
        type: String(req.headers['content-type']),
        body,
      });
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          FailedCount: 1,
          SuccessCount: 0,
          FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'no' }],
        }),
      );
    });
    const finding = asffFinding(makeAlert(), TARGET);
    const out = await httpFindingsImporter({ region: 'eu-west-1', endpoint: server.url, credentials, maxAttempts: 4 })([
      finding,
    ]);
    expect(out.FailedFindings).toEqual([{ Id: 'x', ErrorCode: 'InvalidInput', ErrorMessage: 'no' }]);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/findings/import', type: 'application/json' });
    expect(seen[0]!.auth).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/securityhub\/aws4_request, SignedHeaders=.*host/,
    );
    expect(JSON.parse(seen[0]!.body)).toEqual({ Findings: [JSON.parse(JSON.stringify(finding))] });
  });

  it('attempts a throttled or failing call as the SDK would, and not one the service refused', async () => {
    let calls = 0;
    server = await startLocalEndpoint((req, _body, res) => {
      calls++;
      const throttled = req.headers['x-test'] === undefined && calls < 3;
      res.statusCode = throttled ? 429 : 403;
      res.setHeader(
        'x-amzn-errortype',
        throttled ? 'TooManyRequestsException:http://internal' : 'AccessDeniedException',
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ message: throttled ? 'slow down' : 'not allowed' }));
    });
    const call = httpFindingsImporter({
      region: 'eu-west-1',
      endpoint: server.url,
      credentials,
      maxAttempts: 4,
      sleep: noSleep,
    });
    const e = await call([]).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SecurityHubCallError);
    expect(e).toMatchObject({
      name: 'AccessDeniedException',
      message: 'not allowed',
      $metadata: { httpStatusCode: 403, attempts: 3 },
    });
    expect(calls).toBe(3);
    calls = 0;
    const always = await startLocalEndpoint((_req, _body, res) => {
      calls++;
      res.statusCode = 503;
      res.end('unavailable');
    });
    try {
      const e2 = await httpFindingsImporter({
        region: 'eu-west-1',
        endpoint: always.url,
        credentials,
        maxAttempts: 4,
        sleep: noSleep,
      })([]).catch((x: unknown) => x);
      expect(e2).toMatchObject({ name: 'Http503', $metadata: { attempts: 4 } });
      expect(calls).toBe(4);
    } finally {
      await always.close();
    }
  });
});

describe('MultiAlertSink', () => {
  const clock = { now: () => WINDOW.end };
  function outputs() {
    return { sns: new InMemoryAlertSink(), eventbridge: new InMemoryAlertSink(), securityhub: new InMemoryAlertSink() };
  }
  function multi(store: InMemoryBaselineStore, o: ReturnType<typeof outputs>) {
    return new MultiAlertSink({
      outputs: Object.entries(o).map(([name, sink]) => ({ name, sink })),
      store,
      ttlDays: 30,
      clock,
    });
  }

  it('reports an alert delivered only when every output took it, and the retry sends each output only what it lacks', async () => {
    const store = new InMemoryBaselineStore();
    const o = outputs();
    const alerts = [makeAlert(), makeAlert(), makeAlert()];
    o.eventbridge.failNext = new Set([alerts[1]!.id]);
    o.securityhub.failNext = new Set([alerts[2]!.id]);
    const first = await multi(store, o).publish(batchOf(alerts));
    expect(first.delivered).toEqual([alerts[0]!.id]);
    expect(first.failed).toEqual([
      { id: alerts[1]!.id, reason: 'eventbridge: simulated delivery failure' },
      { id: alerts[2]!.id, reason: 'securityhub: simulated delivery failure' },
    ]);
    // The run's retry: the pipeline hands over the two alerts not raised.
    const retry = await multi(store, o).publish(batchOf([alerts[1]!, alerts[2]!]));
    expect(retry.delivered).toEqual([alerts[1]!.id, alerts[2]!.id]);
    expect(retry.failed).toEqual([]);
    for (const sink of Object.values(o))
      expect(sink.delivered.map((a) => a.id).sort()).toEqual(alerts.map((a) => a.id).sort());
    // SNS had both already: it was not called again (no second digest).
    expect(o.sns.batches).toHaveLength(1);
  });

  it('fails an alert whose acceptance could not be recorded, and fails closed when the records cannot be read', async () => {
    const store = new InMemoryBaselineStore();
    const o = outputs();
    const a = makeAlert();
    store.failNextWrite = new BaselineStoreError('throttled');
    const r = await multi(store, o).publish(batchOf([a]));
    expect(r.delivered).toEqual([]);
    expect(r.failed[0]!.reason).toMatch(/recording that failed/);

    const broken = Object.assign(new InMemoryBaselineStore(), {
      getDeliveredTo: async () => {
        throw new BaselineStoreError('unreadable');
      },
    });
    const o2 = outputs();
    const r2 = await multi(broken, o2).publish(batchOf([a]));
    expect(r2.delivered).toEqual([]);
    expect(o2.sns.delivered).toEqual([]);
  });

  it('needs two distinctly named outputs', () => {
    const store = new InMemoryBaselineStore();
    const sink = new InMemoryAlertSink();
    expect(() => new MultiAlertSink({ outputs: [{ name: 'sns', sink }], store, ttlDays: 1, clock })).toThrow(
      /two outputs/,
    );
    expect(
      () =>
        new MultiAlertSink({
          outputs: [
            { name: 'sns', sink },
            { name: 'sns', sink },
          ],
          store,
          ttlDays: 1,
          clock,
        }),
    ).toThrow(/distinct/);
  });
});
