/**
 * `npm run mutate`: StrykerJS through its programmatic API, with the options of stryker.config.mjs.
 *
 * Why not the `stryker` binary: StrykerJS 10 refuses to start on Node < 22 (a version check in its CLI
 * entry module only), while this project supports Node >= 20.19 and its CI and dev machines run 20. The API
 * below is the one the CLI calls after that check, and mutation runs work on Node 20.
 *
 * Options: `--mutate <glob>` (repeatable or comma-separated) narrows the files mutated, e.g.
 * `npm run mutate -- --mutate shared/core/scoring.ts`; `--reporters a,b` replaces the reporters;
 * `--json-file <path>` moves the JSON report; `--concurrency 1` runs one test runner.
 */
import { parseArgs } from 'node:util';

// The package's entry re-exports the CLI, whose module body runs the version check; the Stryker class
// lives beside it, so load that module by its file URL.
const { Stryker } = await import(new URL('./stryker.js', import.meta.resolve('@stryker-mutator/core')).href);

const { values } = parseArgs({
  options: {
    mutate: { type: 'string', multiple: true },
    reporters: { type: 'string' },
    'json-file': { type: 'string' },
    concurrency: { type: 'string' },
  },
});
const split = (list) => list.flatMap((s) => s.split(',')).filter((s) => s !== '');
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const options = {};
if (values.mutate) options.mutate = split(values.mutate);
if (values.reporters) options.reporters = split([values.reporters]);
if (values.concurrency) options.concurrency = Number(values.concurrency);
if (values['json-file']) options.jsonReporter = { fileName: values['json-file'] };

const results = await new Stryker(options).runMutationTest();
if (results.length === 0) process.exitCode = 1;
