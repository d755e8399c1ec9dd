/**
 * `DirectoryStaging`: the staging port in a directory, for the single Lambda (under /tmp) and the command line. A
 * key is a relative path below the directory; keys that could leave it (`..`, absolute paths) are refused
 * (core/staging-key.ts), never normalised. A value is written to a temporary file and renamed into place, so a
 * step cut off mid-write leaves the old value or none, never half of one. Unlike S3, a key cannot be both a value
 * and the directory of other keys (`run/a` and `run/a/b`): the steps' keys never are, and such a put fails clearly.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stagingKeyProblem, stagingPrefixProblem } from '../core/staging-key';
import { StagingError } from '../errors';
import type { Staging } from '../ports/staging';

/** Temporary files of unfinished writes: dot-names, which no key may use, so `list` never sees them. */
const PARTIAL_PREFIX = '.partial-';

export class DirectoryStaging implements Staging {
  /** The directory everything is staged under. */
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** A new empty directory under the system's temporary directory (Lambda: /tmp); `dispose` removes it. */
  static async temporary(label = 'authwatch-staging-'): Promise<DirectoryStaging> {
    return new DirectoryStaging(await mkdtemp(join(tmpdir(), label)));
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    const partial = join(dirname(file), `${PARTIAL_PREFIX}${randomUUID()}`);
    try {
      await mkdir(dirname(file), { recursive: true });
      await writeFile(partial, value);
      await rename(partial, file);
    } catch (e) {
      // Best effort: the temporary file may not exist (mkdir failed), and a dot-name is never listed anyway.
      await rm(partial, { force: true }).catch(() => undefined);
      throw new StagingError(`staging: could not write ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const file = this.pathOf(key);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      // A missing file is "nothing staged"; so is a key whose parent is a file (`a/b` when `a` is a value).
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      throw new StagingError(`staging: could not read ${key}: ${(e as Error).message}`, { cause: e });
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix, true);
    // Only the directory the prefix names can hold its keys: start the walk there, not at the root.
    const base = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const keys = await this.walk(base);
    return keys.filter((k) => k.startsWith(prefix));
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkPrefix(prefix, false);
    const keys = await this.list(prefix);
    try {
      for (const k of keys) await rm(join(this.root, ...k.split('/')), { force: true });
      // Directories the deleted keys leave empty go too, deepest first; the root stays.
      const dirs = new Set<string>();
      for (const k of keys) {
        const parts = k.split('/');
        for (let i = parts.length - 1; i > 0; i--) dirs.add(parts.slice(0, i).join('/'));
      }
      for (const d of [...dirs].sort((a, b) => b.length - a.length))
        await removeIfEmpty(join(this.root, ...d.split('/')));
    } catch (e) {
      throw new StagingError(`staging: could not delete ${prefix}: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Remove the directory and everything in it (the run is over, or abandoned). */
  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }

  private pathOf(key: string): string {
    const problem = stagingKeyProblem(key);
    if (problem) throw new StagingError(`staging key ${JSON.stringify(key)} ${problem}`);
    return join(this.root, ...key.split('/'));
  }

  /** Every key below `dir` (a relative path, '' for the root); a missing directory holds none. */
  private async walk(dir: string): Promise<string[]> {
    const abs = dir === '' ? this.root : join(this.root, ...dir.split('/'));
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(abs, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new StagingError(`staging: could not list ${dir || '.'}: ${(e as Error).message}`, { cause: e });
    }
    const out: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const key = dir === '' ? entry.name : `${dir}/${entry.name}`;
      if (entry.isDirectory()) out.push(...(await this.walk(key)));
      else if (entry.isFile()) out.push(key);
    }
    return out;
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    await rmdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT') throw e;
  }
}

function checkPrefix(prefix: string, allowEmpty: boolean): void {
  const problem = stagingPrefixProblem(prefix, allowEmpty);
  if (problem) throw new StagingError(`staging prefix ${JSON.stringify(prefix)} ${problem}`);
}
