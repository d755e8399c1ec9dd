// @ts-check
/**
 * Mutation testing of the detection core (`npm run mutate`; not part of `npm test`).
 *
 * Only the unit tests run against mutants (test/support/vitest.mutate.config.ts); `perTest` coverage
 * runs, for each mutant, only the tests that execute it. Started by test/support/mutate.mjs, because
 * StrykerJS 10's CLI refuses Node 20. To measure part of the core:
 * `npm run mutate -- --mutate shared/core/scoring.ts`. Reports: reports/mutation/.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  vitest: { configFile: 'test/support/vitest.mutate.config.ts' },
  mutate: ['shared/core/**/*.ts', 'shared/run-detection.ts'],
  coverageAnalysis: 'perTest',
  // The machine is shared: two workers at most.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  timeoutMS: 30_000,
};
