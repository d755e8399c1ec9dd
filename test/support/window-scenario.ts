/**
 * One detection window over a primed DynamoDB table, for the failure tests (save convergence, delivery
 * idempotency): three weeks of an office learned into the table, then a window in which known users log on
 * again (one from a new network), new users appear (alerts) and colleagues join the office NAT (shared
 * addresses). Everything the window's save writes is exercised: ledger, population, users, run state.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { BUCKET_MS, DAY_MS, type LogonEvent, type PopulationStats } from '../../shared/core/model';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import type { DetectionDeps } from '../../shared/run-detection';
import type { AlertSink, Clock } from '../../shared/ports';
import { History, HOUR, T0 } from './history';

/** End of the window under test: day 21, 10:30 UTC. */
export const WINDOW_END = T0 + 21 * DAY_MS + 10 * HOUR + 2 * BUCKET_MS;
const OFFICE_NAT = '198.51.100.7';

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

/** Three weeks: 20 staff from their homes twice a day, 10 of them also through the office NAT. */
function history(): History {
  const h = new History();
  for (let u = 0; u < 20; u++) h.daily(`staff${u}`, [`81.2.${u}.10`], { toDay: 21, hours: [9, 15] });
  for (let u = 0; u < 10; u++) h.daily(`staff${u}`, [OFFICE_NAT], { toDay: 21, hours: [12] });
  return h;
}

/** The window's logons: 8 known users at home, one from a new network, 5 new users, 4 newcomers behind the NAT. */
export function windowEvents(): LogonEvent[] {
  const t = WINDOW_END - 20 * 60_000;
  const events: LogonEvent[] = [];
  for (let u = 0; u < 8; u++) events.push(ev(`staff${u}`, `81.2.${u}.10`, t + u * 1000));
  events.push(ev('staff12', '203.0.113.77', t + 9_000));
  for (let k = 0; k < 5; k++) events.push(ev(`newcomer${k}`, `192.0.2.${10 + k}`, t + 20_000 + k * 1000));
  for (let k = 0; k < 4; k++) events.push(ev(`hire${k}`, OFFICE_NAT, t + 40_000 + k * 1000));
  return events;
}

/** Write the learned history into `tableName` as a previous run would have left it. */
export async function primeTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const h = history();
  const store = new DynamoDbBaselineStore({ client, tableName });
  await store.saveUsers([...h.users.values()].map((u) => ({ ...u, version: 0 })));
  await store.savePopulation({ ...h.population, version: 0 });
  await store.saveRunState({ firstWindowEnd: T0, lastWindowEnd: WINDOW_END - BUCKET_MS, version: 0 });
}

/** A clock the test moves (the lease is timed by it). */
export class TestClock implements Clock {
  constructor(public t: number = WINDOW_END + 60_000) {}
  now(): number {
    return this.t;
  }
}

export function scenarioDeps(
  store: DynamoDbBaselineStore,
  sink: AlertSink,
  clock: Clock = new TestClock(),
): DetectionDeps {
  return {
    logSources: [
      new FileLogSource({
        name: 'scenario',
        events: windowEvents(),
        parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
      }),
    ],
    store,
    sink,
    clock,
    settings: DEFAULT_SETTINGS,
  };
}

/** An item as compared across runs: its key, and its attributes with JSON bodies decoded. */
export type DecodedTable = Record<string, Record<string, unknown>>;

function plain(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  return v;
}

/** Every item of the table, bodies parsed, keyed by `pk` (a strongly consistent full scan). */
export async function readTable(client: DynamoDBClient, tableName: string): Promise<DecodedTable> {
  const out: DecodedTable = {};
  let start: Record<string, AttributeValue> | undefined;
  do {
    const res = await client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
    );
    for (const item of res.Items ?? []) {
      const decoded: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(item)) decoded[k] = k === 'body' ? JSON.parse(v.S!) : plain(v);
      out[item.pk!.S!] = decoded;
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

/** The population figures the failure reports name: known users, new users (decayed), shared addresses (sketch entries). */
export function populationFigures(p: PopulationStats | undefined): {
  knownUsers: number;
  newUsers: number;
  sharedAddresses: number;
  userBuckets: number;
} {
  return {
    knownUsers: p?.knownUsers ?? 0,
    newUsers: Math.round((p?.newUsers ?? 0) * 1000) / 1000,
    sharedAddresses: Object.keys(p?.sharedIps ?? {}).length,
    userBuckets: Math.round((p?.userBuckets ?? 0) * 1000) / 1000,
  };
}
