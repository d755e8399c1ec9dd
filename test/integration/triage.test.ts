/**
 * Triage that feeds back: the recorded "Security Hub Findings - Imported" event (test/fixtures/securityhub, written
 * from AWS's documented example) through the triage Lambda's handler, against the detector's table on dynalite; the
 * feedback it stores is what `authwatch benign` / `authwatch malicious` store.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIAGE_ENV } from '../../lambdas/triage/config';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { bucketOf, DAY_MS, dayOf, type LedgerEntry, type SeenStats, type UserBaseline } from '../../shared/core/model';
import { triageVerdict } from '../../shared/core/triage';
import { InvalidEventError } from '../../shared/errors';
import type { TriageSummary } from '../../shared/triage';
import { useDynalite } from '../support/dynalite';

const db = useDynalite();
const FIXTURE = join(__dirname, '..', 'fixtures', 'securityhub', 'findings-imported-resolved-benign.json');
const PRODUCT = 'arn:aws:securityhub:us-west-2:111122223333:product/111122223333/default';
const ALERT = 'unusualsourceip-3f9a1c07e2b54d6a8c0b1e92';
const T = Date.UTC(2026, 3, 14, 10, 0);

type Finding = Record<string, unknown> & { Id: string; Note?: Record<string, string>; Workflow?: { Status: string } };
type Event = { 'detail-type': string; detail: { findings: Finding[] } };

const recorded = (): Event => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Event;
/** The recorded event with its one finding changed. */
function eventWith(change: (f: Finding) => Finding): Event {
  const e = recorded();
  return { ...e, detail: { findings: e.detail.findings.map(change) } };
}

function seen(at: number): SeenStats {
  return { first: at - 20 * DAY_MS, last: at, buckets: 40, lastBucket: bucketOf(at), days: 20, lastDay: dayOf(at) };
}
function baseline(user: string, ip: string): UserBaseline {
  const s = seen(T - DAY_MS);
  const [a, b, c] = ip.split('.');
  return {
    user,
    activity: s,
    ips: { [ip]: s },
    prefixes: { [`${a}.${b}.${c}.0/24`]: s },
    networks: { [`${a}.${b}.0.0/16`]: s },
    novelty: { periods: 40, ip: 1, prefix: 1, network: 1 },
    version: 0,
  };
}
function entry(id: string, user: string, sourceIp: string, detectorId = 'Auth.UnusualSourceIp'): LedgerEntry {
  return {
    id,
    detectorId,
    user,
    sourceIp,
    raisedAtMs: T,
    expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
    document: JSON.stringify({ id, source: { ip: sourceIp, as: { number: 64500 } } }),
  };
}

describe('the triage function', () => {
  let store: DynamoDbBaselineStore;
  let handler: (event: unknown) => Promise<TriageSummary>;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    const tableName = await db.freshTable();
    store = new DynamoDbBaselineStore({ client: db.client, tableName });
    await store.saveUsers([baseline('alice', '192.0.2.10'), baseline('bob', '192.0.2.20')]);
    await store.recordRaisedAlerts([
      entry(ALERT, 'alice', '203.0.113.66'),
      entry('unusualsourceip-bob', 'bob', '198.51.100.7'),
      entry('unusualsourceip-carol', 'carol', '198.51.100.8'),
      entry('passwordspray-source', '', '198.51.100.9', 'Auth.PasswordSpray'),
    ]);
    const env: Record<string, string> = {
      [TRIAGE_ENV.tableName]: tableName,
      [TRIAGE_ENV.productArn]: PRODUCT,
      AWS_REGION: 'us-west-2',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      POWERTOOLS_LOG_LEVEL: 'CRITICAL',
    };
    for (const [k, v] of Object.entries(env)) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    ({ handler } = await import('../../lambdas/triage/handler'));
  });
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });

  it('stores the benign feedback of the recorded "resolved, benign" event: the address is a known place of the user', async () => {
    expect((await store.getUsers(['alice'])).get('alice')!.ips['203.0.113.66']).toBeUndefined();
    const summary = await handler(recorded());
    expect(summary).toMatchObject({ findings: 1, benign: [ALERT], malicious: [], refused: [], skipped: 0 });
    const alice = (await store.getUsers(['alice'])).get('alice')!;
    expect(alice.ips['203.0.113.66']).toBeDefined();
    expect(alice.prefixes['203.0.113.0/24']).toBeDefined();

    // Security Hub sends the event again when the finding changes otherwise: applied once.
    const again = await handler(recorded());
    expect(again).toMatchObject({ benign: [], repeated: 1 });
    expect((await store.getUsers(['alice'])).get('alice')!.version).toBe(alice.version);
  });

  it('marks the source malicious for "resolved, malicious", its subnet when the note says so', async () => {
    const summary = await handler(
      eventWith((f) => ({
        ...f,
        Id: 'unusualsourceip-bob',
        Note: {
          ...f.Note!,
          Text: 'Malicious: credential stuffing, block the subnet',
          UpdatedAt: '2026-04-14T12:00:00Z',
        },
      })),
    );
    expect(summary).toMatchObject({ malicious: ['unusualsourceip-bob'], benign: [] });
    const hostile = (await store.getFeedback())!.hostile!;
    expect(hostile).toEqual([
      expect.objectContaining({ kind: 'cidr', value: '198.51.100.0/24', alertId: 'unusualsourceip-bob' }),
    ]);
    expect(hostile[0]!.note).toContain('Security Hub (arn:aws:sts::111122223333:assumed-role/SecurityAnalyst/jdoe)');
  });

  it('takes a suppressed finding as benign, and gives no feedback for a resolve that says neither', async () => {
    const suppressed = await handler(
      eventWith(
        (f) => ({ ...f, Workflow: { Status: 'SUPPRESSED' }, WorkflowState: 'SUPPRESSED', Note: undefined }) as Finding,
      ),
    );
    expect(suppressed).toMatchObject({ benign: [ALERT] });
    const closed = await handler(
      eventWith((f) => ({ ...f, Id: 'unusualsourceip-carol', Note: { ...f.Note!, Text: 'duplicate of INC-42' } })),
    );
    expect(closed).toMatchObject({ benign: [], malicious: [], noFeedback: 1 });
    expect((await store.getFeedback())!.hostile).toHaveLength(1);
  });

  it('counts and skips what it cannot apply instead of failing: another product, an alert gone, benign on a source', async () => {
    const other = await handler(
      eventWith((f) => ({ ...f, ProductArn: 'arn:aws:securityhub:us-west-2::product/aws/guardduty' })),
    );
    expect(other).toMatchObject({ skipped: 1, benign: [] });
    const gone = await handler(eventWith((f) => ({ ...f, Id: 'unusualsourceip-expired' })));
    expect(gone.refused.map((r) => r.id)).toEqual(['unusualsourceip-expired']);
    expect(gone.refused[0]!.reason).toMatch(/no alert .* in the ledger/);
    const source = await handler(eventWith((f) => ({ ...f, Id: 'passwordspray-source' })));
    expect(source.refused[0]!.reason).toMatch(/about a source/);
  });

  it('refuses an event that is not a findings event', async () => {
    await expect(handler({ 'detail-type': 'Scheduled Event', detail: {} })).rejects.toBeInstanceOf(InvalidEventError);
  });
});

describe('triageVerdict', () => {
  it('reads the workflow status and an explicit word of the note', () => {
    expect(triageVerdict('RESOLVED', 'looks BENIGN to me')).toEqual({ kind: 'benign' });
    expect(triageVerdict('RESOLVED', 'malicious')).toEqual({ kind: 'malicious', scope: { kind: 'ip' } });
    expect(triageVerdict('RESOLVED', 'malicious; mark the network owner')).toEqual({
      kind: 'malicious',
      scope: { kind: 'owner' },
    });
    expect(triageVerdict('SUPPRESSED', undefined)).toEqual({ kind: 'benign' });
    expect(triageVerdict('RESOLVED', 'benign? no, malicious').kind).toBe('none');
    expect(triageVerdict('SUPPRESSED', 'malicious').kind).toBe('none');
    expect(triageVerdict('NOTIFIED', 'benign').kind).toBe('none');
    expect(triageVerdict('RESOLVED', 'unbenignly maliciousness').kind).toBe('none');
  });
});
