/**
 * Composition root for local runs: the same DynamoDB adapter as in AWS, on dynalite started in-process
 * on 127.0.0.1 with its data in a folder. No second store implementation for local use.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaselinesTable, DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import { startEmbeddedDynamo } from '../shared/adapters/embedded-dynamo';

export const LOCAL_TABLE_NAME = 'authwatch-local';

export interface LocalStore {
  store: DynamoDbBaselineStore;
  dir: string;
  close(): Promise<void>;
}

/**
 * Open the local store. `memory`: dynalite's in-memory backend, nothing on disk (evaluation runs). `dir`
 * given: data lives there; it is wiped first unless `keep` (to reuse baselines from an earlier replay or
 * backfill). Neither: a fresh temporary folder, removed on close.
 */
export async function openLocalStore(opts: { dir?: string; keep?: boolean; memory?: boolean }): Promise<LocalStore> {
  const temporary = !opts.memory && !opts.dir;
  const dir = opts.memory ? undefined : (opts.dir ?? (await mkdtemp(join(tmpdir(), 'authwatch-'))));
  if (dir && !temporary && !opts.keep) await rm(dir, { recursive: true, force: true });
  const dynamo = await startEmbeddedDynamo(dir ? { dir } : {});
  await createBaselinesTable(dynamo.client, LOCAL_TABLE_NAME);
  return {
    store: new DynamoDbBaselineStore({ client: dynamo.client, tableName: LOCAL_TABLE_NAME }),
    dir: dir ?? '(memory)',
    async close() {
      dynamo.client.destroy();
      await dynamo.close();
      if (temporary && dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
