import { availableParallelism } from 'node:os';
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
    // Vitest's default is one worker less than the cores: one worker on a 2-core machine. Most files here wait on
    // child processes (dynalite, moto, the CLI, Chromium) more than they compute, so two workers on 2 cores took the
    // suite from 275 s to 186 s with the same results.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The AWS SDK's Node 20 end-of-support notice is printed by every client; the CLI turns it off the same way.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
