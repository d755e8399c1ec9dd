import type { Staging } from '../ports/staging';

/**
 * Staging in this process's memory: for a window small enough to be one slice (the run's data is in memory
 * anyway), and for tests. Values are kept as the bytes they were put as, so a step reads a copy, as it would from
 * a directory or S3.
 */
export class MemoryStaging implements Staging {
  readonly #items = new Map<string, Uint8Array>();

  async put(key: string, value: Uint8Array): Promise<void> {
    this.#items.set(key, value);
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    return this.#items.get(key);
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.#items.keys()].filter((k) => k.startsWith(prefix));
  }

  async deletePrefix(prefix: string): Promise<void> {
    for (const k of [...this.#items.keys()]) if (k.startsWith(prefix)) this.#items.delete(k);
  }

  /** Bytes held, for tests that check a run leaves nothing behind. */
  get size(): number {
    return this.#items.size;
  }
}
