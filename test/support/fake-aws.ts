/**
 * A tiny HTTP endpoint speaking the wire protocols of CloudWatch Logs (JSON 1.1), SNS (query/XML), EventBridge's
 * PutEvents (JSON 1.1) and Security Hub's BatchImportFindings (REST-JSON), for
 * tests of the *built bundle*: the bundle carries its own copy of the AWS SDK, so in-process client mocks
 * cannot reach it; pointing its clients here with `AWS_ENDPOINT_URL_<SERVICE>` can. Everything it was asked
 * is recorded, so tests assert on the requests the real SDK serialised.
 */
import { startLocalEndpoint } from './local-endpoint';

export interface InsightsRow {
  [field: string]: string;
}

export interface FakeAws {
  readonly url: string;
  /** Rows a query over [start, end) epoch seconds returns (what the Insights query would aggregate). */
  rowsFor: (startS: number, endS: number) => InsightsRow[];
  /** SNS PublishBatch entries accepted so far (parsed from the form body). */
  readonly published: { id: string; message: string; attributes: Record<string, string> }[];
  readonly digests: string[];
  /** When set, PublishBatch reports every entry failed with this code. */
  failPublish: string | undefined;
  /** EventBridge PutEvents entries accepted so far. */
  readonly events: { source: string; detailType: string; detail: string }[];
  /** When set, PutEvents reports every entry failed with this code. */
  failEvents: string | undefined;
  /** Security Hub findings imported so far (each as sent). */
  readonly findings: Record<string, unknown>[];
  /** When set, BatchImportFindings reports every finding failed with this code. */
  failFindings: string | undefined;
  readonly calls: string[];
  close(): Promise<void>;
}

function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export async function startFakeAws(): Promise<FakeAws> {
  const queries = new Map<string, { start: number; end: number }>();
  let n = 0;
  const fake: FakeAws = {
    url: '',
    rowsFor: () => [],
    published: [],
    digests: [],
    failPublish: undefined,
    events: [],
    failEvents: undefined,
    findings: [],
    failFindings: undefined,
    calls: [],
    close: () => server.close(),
  };
  const server = await startLocalEndpoint((req, text, res) => {
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target === 'AWSEvents.PutEvents') {
      fake.calls.push('PutEvents');
      const input = JSON.parse(text) as { Entries: { Source: string; DetailType: string; Detail: string }[] };
      const entries = input.Entries.map((e) => {
        if (fake.failEvents) return { ErrorCode: fake.failEvents, ErrorMessage: 'injected' };
        fake.events.push({ source: e.Source, detailType: e.DetailType, detail: e.Detail });
        return { EventId: `ev-${++n}` };
      });
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      res.end(JSON.stringify({ FailedEntryCount: fake.failEvents ? entries.length : 0, Entries: entries }));
      return;
    }
    if (req.method === 'POST' && (req.url ?? '').split('?')[0] === '/findings/import') {
      fake.calls.push('BatchImportFindings');
      const input = JSON.parse(text) as { Findings: Record<string, unknown>[] };
      const failed = fake.failFindings
        ? input.Findings.map((f) => ({ Id: f.Id, ErrorCode: fake.failFindings, ErrorMessage: 'injected' }))
        : [];
      if (!fake.failFindings) fake.findings.push(...input.Findings);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          FailedCount: failed.length,
          SuccessCount: input.Findings.length - failed.length,
          FailedFindings: failed,
        }),
      );
      return;
    }
    if (target.startsWith('Logs_20140328.')) {
      const op = target.slice('Logs_20140328.'.length);
      fake.calls.push(op);
      const input = JSON.parse(text || '{}') as { startTime?: number; endTime?: number; queryId?: string };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (op === 'StartQuery') {
        const queryId = `q-${++n}`;
        queries.set(queryId, { start: input.startTime!, end: input.endTime! });
        res.end(JSON.stringify({ queryId }));
      } else if (op === 'GetQueryResults') {
        const q = queries.get(input.queryId!)!;
        const rows = fake.rowsFor(q.start, q.end);
        res.end(
          JSON.stringify({
            status: 'Complete',
            results: rows.map((r) => Object.entries(r).map(([field, value]) => ({ field, value }))),
            statistics: {
              recordsMatched: rows.length,
              recordsScanned: rows.length * 10,
              bytesScanned: rows.length * 2000,
            },
          }),
        );
      } else if (op === 'StopQuery') res.end(JSON.stringify({ success: true }));
      else {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'UnknownOperationException', message: op }));
      }
      return;
    }
    const form = new URLSearchParams(text);
    const action = form.get('Action') ?? '';
    fake.calls.push(action);
    res.setHeader('content-type', 'text/xml');
    if (action === 'PublishBatch') {
      const ok: string[] = [];
      const failed: string[] = [];
      for (let i = 1; form.has(`PublishBatchRequestEntries.member.${i}.Id`); i++) {
        const id = form.get(`PublishBatchRequestEntries.member.${i}.Id`)!;
        if (fake.failPublish) {
          failed.push(
            `<member><Id>${xmlEscape(id)}</Id><Code>${fake.failPublish}</Code><Message>injected</Message><SenderFault>false</SenderFault></member>`,
          );
          continue;
        }
        const attributes: Record<string, string> = {};
        for (let j = 1; form.has(`PublishBatchRequestEntries.member.${i}.MessageAttributes.entry.${j}.Name`); j++) {
          const p = `PublishBatchRequestEntries.member.${i}.MessageAttributes.entry.${j}`;
          attributes[form.get(`${p}.Name`)!] = form.get(`${p}.Value.StringValue`) ?? '';
        }
        fake.published.push({ id, message: form.get(`PublishBatchRequestEntries.member.${i}.Message`)!, attributes });
        ok.push(`<member><Id>${xmlEscape(id)}</Id><MessageId>m-${++n}</MessageId></member>`);
      }
      res.end(
        `<PublishBatchResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishBatchResult><Successful>${ok.join('')}</Successful><Failed>${failed.join('')}</Failed></PublishBatchResult><ResponseMetadata><RequestId>r-${n}</RequestId></ResponseMetadata></PublishBatchResponse>`,
      );
    } else if (action === 'Publish') {
      fake.digests.push(form.get('Message') ?? '');
      res.end(
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-${++n}</MessageId></PublishResult><ResponseMetadata><RequestId>r-${n}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    } else {
      res.statusCode = 400;
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>${xmlEscape(action)}</Message></Error></ErrorResponse>`,
      );
    }
  });
  (fake as { url: string }).url = server.url;
  return fake;
}
