/** The format of `BackfillCheckpoint` written now; an adapter refuses a checkpoint of another format. */
export const BACKFILL_CHECKPOINT_FORMAT = 1;

/** A backfill's progress, saved after every commit window so an interrupted backfill resumes where it stopped. */
export interface BackfillCheckpoint {
  readonly format: typeof BACKFILL_CHECKPOINT_FORMAT;
  /** Identifies the backfill (what it reads and where it writes); a checkpoint of another backfill is refused. */
  readonly key: string;
  /** The planned span [from, to), bucket-aligned, fixed at the first run so a resume covers the same history. */
  readonly from: number;
  readonly to: number;
  /** End of the last completed commit window: a resume starts here. */
  readonly doneUntil: number;
  readonly completed: boolean;
  /** When it was saved, ISO 8601 (for a person reading the file). */
  readonly updatedAt: string;
}

/**
 * Where a backfill keeps its checkpoint: a JSON file for the command line (shared/adapters/file-checkpoint.ts),
 * memory in tests, any small object store for a task run elsewhere. Neither the baselines store nor its ports
 * hold it: it is the backfill's own bookkeeping, not the detector's memory.
 */
export interface CheckpointStore {
  /** The saved checkpoint, or undefined when none was saved yet. Throws when one exists but cannot be read. */
  load(): Promise<BackfillCheckpoint | undefined>;
  /** Replace the saved checkpoint whole (never half-written: an interrupt leaves the previous one). */
  save(checkpoint: BackfillCheckpoint): Promise<void>;
  /** Where it is, for messages. */
  readonly where: string;
}
