/**
 * Composition root for local runs: the same DynamoDB adapter as in AWS, on dynalite started in-process
 * on 127.0.0.1 with its data in a folder. No second store implementation for local use.
 */
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBaselinesTable, DynamoDbBaselineStore } from '../shared/adapters/dynamodb-baseline-store';
import { startEmbeddedDynamo } from '../shared/adapters/embedded-dynamo';
import { ConfigError } from '../shared/errors';

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
  if (dir && !temporary) await assertStoreFolder(dir);
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

/**
 * A store folder is new, empty, or one the embedded DynamoDB wrote (LevelDB's CURRENT file). Anything else is
 * refused before it is wiped or written into: `--store ~` or `--store README.md` is a slip, not a request.
 */
export async function assertStoreFolder(dir: string): Promise<void> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) return;
  if (!s.isDirectory())
    throw new ConfigError([
      `--store ${dir} is a file, not a folder: give a new or empty folder (or one a replay --store left)`,
    ]);
  const entries = await readdir(dir);
  if (entries.length > 0 && !entries.includes('CURRENT')) {
    throw new ConfigError([
      `--store ${dir} holds other files and is not a local store: give a new or empty folder (or one a replay --store left); nothing was changed`,
    ]);
  }
}
