/**
 * The vitest configuration mutation testing uses (stryker.config.mjs): the project's own, narrowed to the
 * unit tests. The detection core is pure, so the contract, integration and infra suites (dynalite, CDK
 * synthesis, bundling) would only multiply the run time of every mutant.
 */
import { defineConfig } from 'vitest/config';
import base from '../../vitest.config';

export default defineConfig({ ...base, test: { ...base.test, include: ['test/unit/**/*.test.ts'] } });
