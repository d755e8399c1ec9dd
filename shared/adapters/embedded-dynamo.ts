/**
 * An embedded DynamoDB for local runs, integration tests and the benchmark: dynalite (a DynamoDB API
 * implementation) listening on 127.0.0.1 in this process, on an ephemeral port.
 *
 * Storage backends, both usable without npm install scripts:
 * - `dir` given: LevelDB through `level` → `classic-level`, whose native binding ships prebuilt for
 *   linux/darwin/win32 (`prebuilds/`, loaded by node-gyp-build), so nothing is compiled at install time;
 * - no `dir`: `memory-level` (pure JavaScript), gone when closed.
 *
 * dynalite implements the DynamoDB calls the baseline store makes (GetItem, BatchGetItem, PutItem with
 * conditions, CreateTable, DescribeTable) but not `UpdateTimeToLive` nor transactions; see
 * `createBaselinesTable` for how the former is tolerated.
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { createDynamoDbClient } from './aws-clients';

export interface EmbeddedDynamoOptions {
  /** Folder for the LevelDB data (created if missing). Omitted: in memory only. */
  readonly dir?: string;
  /** Port on 127.0.0.1; default 0 (an ephemeral port chosen by the OS). */
  readonly port?: number;
}

export interface DynaliteServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Stop listening (dropping idle keep-alive connections) and close the LevelDB store. */
  close(): Promise<void>;
}

export interface EmbeddedDynamo {
  /** A client for this endpoint only: fake static credentials, a fixed region. */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Destroy the client and stop the server. */
  close(): Promise<void>;
}

/** Region and credentials the embedded endpoint is addressed with; dynalite checks neither. */
export const EMBEDDED_REGION = 'us-east-1';
const EMBEDDED_CREDENTIALS = { accessKeyId: 'authwatch-local', secretAccessKey: 'authwatch-local' };

/**
 * Start dynalite listening on 127.0.0.1. Tables become ACTIVE at once (`createTableMs: 0`): the
 * 500 ms default only imitates AWS and would slow every test.
 */
export async function startDynaliteServer(opts: EmbeddedDynamoOptions = {}): Promise<DynaliteServer> {
  if (opts.dir) await mkdir(opts.dir, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(opts.dir ? { path: opts.dir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((e?: Error) => (e ? reject(e) : resolve()));
        // Idle keep-alive sockets would otherwise hold `close` open until they time out.
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}

/** Start dynalite and a client for it. */
export async function startEmbeddedDynamo(opts: EmbeddedDynamoOptions = {}): Promise<EmbeddedDynamo> {
  const server = await startDynaliteServer(opts);
  // The same retry configuration as in AWS (dynalite never throttles, so it only matters for a reset socket).
  const client = createDynamoDbClient({
    endpoint: server.endpoint,
    region: EMBEDDED_REGION,
    credentials: EMBEDDED_CREDENTIALS,
  });
  return {
    client,
    endpoint: server.endpoint,
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
