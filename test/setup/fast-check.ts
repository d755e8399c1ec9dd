/**
 * Reproducible property tests. Without `FC_SEED`, every `fc.assert` draws a fresh random seed, and a
 * failure's message (which vitest prints) carries `{ seed: …, path: "…" }` with the counterexample. To
 * replay it, run the failing file again with that seed, and optionally the path to skip straight to the
 * shrunk counterexample:
 *
 *   FC_SEED=-1819918769 FC_PATH="12:3:0" npx vitest run test/unit/profiles/common.test.ts -t 'is idempotent'
 *
 * The number of runs is never changed here: a replay is exactly as strong as the run it repeats.
 */
import fc from 'fast-check';

const seed = process.env.FC_SEED;
const path = process.env.FC_PATH;
if (seed !== undefined && seed !== '') {
  const n = Number(seed);
  if (!Number.isSafeInteger(n)) throw new Error(`FC_SEED must be an integer, got ${JSON.stringify(seed)}`);
  fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: n, ...(path ? { path } : {}) });
}
