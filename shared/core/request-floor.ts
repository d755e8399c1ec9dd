/**
 * The fewest DynamoDB requests a window's run can make, which `npm run bench` compares the store's real count with
 * (README "How a run writes"). Pure: counts in, counts out.
 *
 * - Reads: the baselines a read pass needs, 100 keys per `BatchGetItem` (DynamoDB's quota), in every read pass (a
 *   run that works through its users in slices reads each slice once; one that reads twice reads twice).
 * - Writes: the changed baselines, 25 items per `BatchWriteItem` (DynamoDB's quota), per leased write, and the one
 *   conditional put by which each leased write confirms the run lease first.
 * - A handful of single items: run state and population read and written, feedback read, the lease taken and given
 *   up (`RUN_SINGLE_ITEMS`).
 * - The alert ledger, when the window has alert candidates: their ids looked up (100 a `BatchGetItem`) and one
 *   conditional put per alert recorded.
 */

/** Keys one `BatchGetItem` may ask for (DynamoDB quota). */
export const DYNAMODB_BATCH_GET_MAX_KEYS = 100;
/** Put requests one `BatchWriteItem` may carry (DynamoDB quota; moto does not enforce it). */
export const DYNAMODB_BATCH_WRITE_MAX_ITEMS = 25;
/**
 * Single-item requests of a run that learns a window: run state read and written, population read and written,
 * feedback read, lease taken and given up.
 */
export const RUN_SINGLE_ITEMS = 7;

/** What a run read and wrote, to count its floor from. */
export interface RequestFloorInput {
  /** Users whose baselines a read pass reads: one number per pass, or one number for `readPasses` equal passes. */
  readonly usersRead: number | readonly number[];
  /** Read passes when `usersRead` is one number (default 1). */
  readonly readPasses?: number;
  /** Changed users written: one number per leased write (`writeUsersLeased` call), or one number for a single call. */
  readonly usersWritten: number | readonly number[];
  /** Single-item requests besides the ledger's (default `RUN_SINGLE_ITEMS`). */
  readonly singleItems?: number;
  /** Alert candidates whose ids are looked up in the ledger (default 0). */
  readonly alertCandidates?: number;
  /** Alerts recorded in the ledger, one conditional put each (default 0). */
  readonly alertsRecorded?: number;
}

/** The floor, and its parts. */
export interface RequestFloor {
  /** `BatchGetItem` calls for baselines. */
  readonly reads: number;
  /** `BatchWriteItem` calls and the lease confirmation of each leased write. */
  readonly writes: number;
  /** Single items, and the ledger's lookups and puts. */
  readonly singles: number;
  readonly total: number;
}

function count(name: string, n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a whole number ≥ 0, got ${n}`);
  return n;
}

function perCall(name: string, n: number | readonly number[], calls = 1): number[] {
  if (typeof n === 'number') return Array.from({ length: count(`${name} passes`, calls) }, () => count(name, n));
  return n.map((x) => count(name, x));
}

/**
 * The fewest requests for what a run read and wrote: Σ ⌈read/100⌉ over read passes + Σ (⌈written/25⌉ + 1) over
 * leased writes that wrote anything + single items + ⌈alert candidates/100⌉ + alerts recorded.
 */
export function requestFloor(input: RequestFloorInput): RequestFloor {
  const reads = perCall('usersRead', input.usersRead, input.readPasses ?? 1).reduce(
    (n, users) => n + Math.ceil(users / DYNAMODB_BATCH_GET_MAX_KEYS),
    0,
  );
  const writes = perCall('usersWritten', input.usersWritten).reduce(
    (n, users) => n + (users > 0 ? Math.ceil(users / DYNAMODB_BATCH_WRITE_MAX_ITEMS) + 1 : 0),
    0,
  );
  const candidates = count('alertCandidates', input.alertCandidates ?? 0);
  const singles =
    count('singleItems', input.singleItems ?? RUN_SINGLE_ITEMS) +
    Math.ceil(candidates / DYNAMODB_BATCH_GET_MAX_KEYS) +
    count('alertsRecorded', input.alertsRecorded ?? 0);
  return { reads, writes, singles, total: reads + writes + singles };
}
