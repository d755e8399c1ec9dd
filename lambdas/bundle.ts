/**
 * How the detector Lambda is bundled, in one place: `npm run build` (lambdas/build.ts) and the CDK
 * `NodejsFunction` (infra/) both read these options, so the bundle the tests exercise is the bundle
 * that is deployed.
 */
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DETECTOR_ENTRY = join(PROJECT_ROOT, 'lambdas', 'detector', 'handler.ts');
/** The Step Functions fan-out's one function for every step, bundled with the same options. */
export const FANOUT_ENTRY = join(PROJECT_ROOT, 'lambdas', 'fanout', 'handler.ts');

/**
 * The AWS SDK v3 is bundled, not left external: the runtime's copy is whatever version AWS last put in the
 * image, so bundling pins the exact client version the tests ran against, and tree-shaking keeps it small
 * (measured in the issue notes: `npm run build` prints the size).
 */
export const DETECTOR_EXTERNALS: string[] = [];
/** Lambda runs nodejs22.x or newer; Node 20 (this repo's dev machines) must still import the bundle in tests. */
export const DETECTOR_TARGET = 'node20';
/** ESM bundles of CommonJS dependencies need a real `require` for Node built-ins. */
export const ESM_REQUIRE_BANNER =
  "import { createRequire as __authwatchCreateRequire } from 'node:module'; const require = __authwatchCreateRequire(import.meta.url);";

/**
 * Package entry points, ESM first: the SDK's `dist-es` builds tree-shake, its CommonJS `dist-cjs` index files do not
 * (one S3 GetObject pulled in 142 KiB of client-s3 through `main`, 65 KiB through `module`). Both builds must resolve
 * the same way, or the bundle the tests measure is not the one deployed.
 */
export const DETECTOR_MAIN_FIELDS = ['module', 'main'];

/** Output options both builds use (esbuild's API in build.ts, NodejsFunction's bundling props in infra/). */
export const DETECTOR_OUTPUT = {
  minify: true,
  /** A linked .map beside the bundle: stack traces point into the TypeScript sources (NODE_OPTIONS=--enable-source-maps). */
  linkedSourceMap: true,
  legalComments: 'none',
} as const;
