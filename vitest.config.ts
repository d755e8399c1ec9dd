import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // FC_SEED / FC_PATH replay a failing property test (see the file).
    setupFiles: ['test/setup/fast-check.ts'],
    // CDK synthesis and dynalite start-up are slow on a 2-core machine; these are not timing assertions.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
