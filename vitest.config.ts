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
    // The AWS SDK's Node 20 end-of-support notice is printed by every client; the CLI turns it off the same way.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
