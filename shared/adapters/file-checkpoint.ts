/** `fileCheckpoint`: the backfill checkpoint port as a small JSON file (the command line's `--checkpoint`). */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors';
import { BACKFILL_CHECKPOINT_FORMAT, type BackfillCheckpoint, type CheckpointStore } from '../ports';

/** A JSON checkpoint file, written atomically (temporary file + rename) so an interrupt never leaves half a file. */
export function fileCheckpoint(path: string): CheckpointStore {
  return {
    where: path,
    async load() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (e) {
        if ((e as { code?: string }).code === 'ENOENT') return undefined;
        throw e;
      }
      let c: Partial<BackfillCheckpoint> | null;
      try {
        c = JSON.parse(text) as Partial<BackfillCheckpoint> | null;
      } catch {
        c = null; // cut short or edited by hand: refused like any other file that is not a checkpoint
      }
      const ok =
        c !== null &&
        typeof c === 'object' &&
        c.format === BACKFILL_CHECKPOINT_FORMAT &&
        typeof c.key === 'string' &&
        [c.from, c.to, c.doneUntil].every((n) => typeof n === 'number' && Number.isFinite(n)) &&
        typeof c.completed === 'boolean';
      if (!ok)
        throw new ConfigError([
          `checkpoint ${path} is not a backfill checkpoint this version understands; remove it to start over`,
        ]);
      return c as BackfillCheckpoint;
    },
    async save(checkpoint) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(checkpoint, null, 2) + '\n', 'utf8');
      await rename(tmp, path);
    },
  };
}
