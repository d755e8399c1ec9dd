/**
 * moto's DynamoDB server (a real implementation of the DynamoDB API, in Python: `python3 -m moto.server`) for the
 * contract tests of calls dynalite does not implement or checks less (TransactWriteItems, BatchWriteItem as DynamoDB
 * answers it). One server per test file, on 127.0.0.1 and a port it picks; a fresh table per test, or `reset()` to
 * empty the server. Call `useMoto()` at the top level of a test file.
 *
 * Without moto the tests fail, naming what is missing: they would have nothing real to run against (`.ci/run`
 * checks the import before the suite too). What moto does not do as DynamoDB does, and the tests must allow for:
 * - it is not safe with concurrent writers during a transaction (HTTP 500): keep transaction tests sequential;
 * - it copies the table for every item of a transaction: keep tables small there;
 * - it ignores `ClientRequestToken`, never returns `UnprocessedItems`/`UnprocessedKeys`, does not enforce the
 *   25-item limit of BatchWriteItem, and its `ConsumedCapacity` means nothing;
 * - PartiQL batches (`BatchExecuteStatement` with a conditional UPDATE) answer HTTP 500 (moto 5.2.1).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createBaselinesTable } from '../../shared/adapters/dynamodb-baseline-store';

/** The interpreter the machine's pyenv provides moto in; `AUTHWATCH_MOTO_PYTHON` names another. */
const PYTHON = process.env.AUTHWATCH_MOTO_PYTHON ?? 'python3';
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface MotoFixture {
  /** A client of this file's server (valid inside tests and hooks): one attempt per call, so its errors show as they are. */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Create a new, empty baselines table and return its name. */
  freshTable(): Promise<string>;
  /** Empty the server: every table gone (`POST /moto-api/reset`). */
  reset(): Promise<void>;
}

export interface MotoServer {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly pid: number;
  stop(): Promise<void>;
}

/** A DynamoDB client for `endpoint`: fake credentials, one attempt per call. */
export function motoClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
    maxAttempts: 1,
  });
}

/** Fails with what to install when this machine's Python cannot import moto's server. */
function checkMotoImport(): void {
  const r = spawnSync(PYTHON, ['-c', 'import moto.server'], { encoding: 'utf8', timeout: START_TIMEOUT_MS });
  if (r.error || r.status !== 0)
    throw new Error(
      `moto's DynamoDB server is needed by this test file and ${PYTHON} cannot import it (${r.error ? r.error.message : r.stderr.trim().split('\n').pop()}). Install moto with its server extras into that Python (pip install "moto[server]") or set AUTHWATCH_MOTO_PYTHON to an interpreter that has it.`,
    );
}

/** Stop the child we started, by its pid: SIGTERM, then SIGKILL if it has not exited in time. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), STOP_TIMEOUT_MS).unref());
  if ((await Promise.race([exited, timer])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Start one moto server on 127.0.0.1 (a port it picks, read from its banner), ready when ListTables answers. */
export async function startMoto(): Promise<MotoServer> {
  checkMotoImport();
  const child = spawn(PYTHON, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // A test process that ends without its afterAll (a crash) must not leave the server behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let stderr = '';
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`moto did not say where it listens within ${START_TIMEOUT_MS} ms: ${stderr.slice(-500)}`)),
        START_TIMEOUT_MS,
      );
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (d: string) => {
        stderr += d;
        const m = / \* Running on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`moto exited before it listened (${code ?? signal}): ${stderr.slice(-500)}`));
      });
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    // Keep reading its log, or a chatty server would block on a full pipe.
    child.stderr!.removeAllListeners('data');
    child.stderr!.resume();
    const endpoint = `http://127.0.0.1:${port}`;
    const client = motoClient(endpoint);
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`moto at ${endpoint} never answered ListTables: ${String(e)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return {
      endpoint,
      client,
      pid: child.pid!,
      stop: async () => {
        client.destroy();
        await stopChild(child);
        process.off('exit', onExit);
      },
    };
  } catch (e) {
    await stopChild(child);
    process.off('exit', onExit);
    throw e;
  }
}

export function useMoto(): MotoFixture {
  let server: MotoServer | undefined;
  let seq = 0;
  beforeAll(async () => {
    server = await startMoto();
  });
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
  const started = (): MotoServer => {
    if (!server) throw new Error('moto is not running: use the fixture inside tests or hooks');
    return server;
  };
  return {
    get client() {
      return started().client;
    },
    get endpoint() {
      return started().endpoint;
    },
    async freshTable() {
      const name = `baselines-${process.pid}-${++seq}`;
      await createBaselinesTable(started().client, name);
      return name;
    },
    async reset() {
      const res = await fetch(`${started().endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset answered ${res.status}`);
    },
  };
}
