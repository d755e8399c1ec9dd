/**
 * One embedded dynalite per test file (in memory, 127.0.0.1, ephemeral port), and a fresh table per test
 * so tests never see each other's items. Call `useDynalite()` at the top level of a test file.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createBaselinesTable } from '../../shared/adapters/dynamodb-baseline-store';
import { startEmbeddedDynamo, type EmbeddedDynamo } from '../../shared/adapters/embedded-dynamo';

export interface DynaliteFixture {
  /** The client of this file's dynalite (valid inside tests and hooks). */
  readonly client: DynamoDBClient;
  readonly endpoint: string;
  /** Create a new, empty baselines table and return its name. */
  freshTable(): Promise<string>;
}

export function useDynalite(): DynaliteFixture {
  let dynamo: EmbeddedDynamo | undefined;
  let seq = 0;
  beforeAll(async () => {
    dynamo = await startEmbeddedDynamo();
  });
  afterAll(async () => {
    await dynamo?.close();
    dynamo = undefined;
  });
  const started = (): EmbeddedDynamo => {
    if (!dynamo) throw new Error('dynalite is not running: use the fixture inside tests or hooks');
    return dynamo;
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
  };
}
