/**
 * `InMemoryStaging`: the staging port in a map, for tests and in-process runs that need nothing on disk. It refuses
 * the keys every staging adapter refuses (core/staging-key.ts) and copies values in and out, so a step that mutates
 * a buffer after putting it, or one it got, behaves here as it would against S3.
 */
import { stagingKeyProblem, stagingPrefixProblem } from '../core/staging-key';
import { StagingError } from '../errors';
import type { Staging } from '../ports/staging';

export class InMemoryStaging implements Staging {
  private readonly values = new Map<string, Uint8Array>();

  async put(key: string, value: Uint8Array): Promise<void> {
    checkKey(key);
    this.values.set(key, value.slice());
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    checkKey(key);
    return this.values.get(key)?.slice();
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix, true);
    return [...this.values.keys()].filter((k) => k.startsWith(prefix));
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkPrefix(prefix, false);
    for (const k of [...this.values.keys()]) if (k.startsWith(prefix)) this.values.delete(k);
  }

  /** How many values are staged (tests: nothing is left behind). */
  get size(): number {
    return this.values.size;
  }
}

function checkKey(key: string): void {
  const problem = stagingKeyProblem(key);
  if (problem) throw new StagingError(`staging key ${JSON.stringify(key)} ${problem}`);
}

function checkPrefix(prefix: string, allowEmpty: boolean): void {
  const problem = stagingPrefixProblem(prefix, allowEmpty);
  if (problem) throw new StagingError(`staging prefix ${JSON.stringify(prefix)} ${problem}`);
}
