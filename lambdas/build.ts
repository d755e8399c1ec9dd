/**
 * `npm run build`: bundle the detector handler into one ESM file, dist/detector/index.mjs, and print its
 * size and how long a cold import of it takes (a fresh Node process importing the bundle); the same for the
 * Step Functions fan-out's function, dist/fanout/index.mjs.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import {
  DETECTOR_ENTRY,
  DETECTOR_EXTERNALS,
  DETECTOR_MAIN_FIELDS,
  DETECTOR_OUTPUT,
  DETECTOR_TARGET,
  ESM_REQUIRE_BANNER,
  FANOUT_ENTRY,
  PROJECT_ROOT,
} from './bundle';

export const DETECTOR_BUNDLE = join(PROJECT_ROOT, 'dist', 'detector', 'index.mjs');
export const FANOUT_BUNDLE = join(PROJECT_ROOT, 'dist', 'fanout', 'index.mjs');

/** Bundle `entry` (the detector's handler unless given) with the deployed options. */
export async function buildDetector(
  outfile = DETECTOR_BUNDLE,
  entry = DETECTOR_ENTRY,
): Promise<{ outfile: string; bytes: number }> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: DETECTOR_TARGET,
    minify: DETECTOR_OUTPUT.minify,
    sourcemap: DETECTOR_OUTPUT.linkedSourceMap ? 'linked' : false,
    external: DETECTOR_EXTERNALS,
    mainFields: DETECTOR_MAIN_FIELDS,
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'warning',
    legalComments: DETECTOR_OUTPUT.legalComments,
  });
  return { outfile, bytes: statSync(outfile).size };
}

/** Median wall time of `runs` cold imports of the bundle, each in a fresh Node process. */
export function measureColdImport(outfile: string, runs = 5): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const t=performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now()-t)`,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, AWS_REGION: 'us-east-1', POWERTOOLS_METRICS_DISABLED: 'true' },
      },
    );
    times.push(Number(out.trim().split('\n').pop()));
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const [outfileWanted, entry] of [
    [DETECTOR_BUNDLE, DETECTOR_ENTRY],
    [FANOUT_BUNDLE, FANOUT_ENTRY],
  ] as const) {
    const { outfile, bytes } = await buildDetector(outfileWanted, entry);
    const coldMs = measureColdImport(outfile);
    process.stdout.write(
      JSON.stringify({
        bundle: outfile,
        bytes,
        kib: Math.round(bytes / 1024),
        coldImportMs: Math.round(coldMs * 10) / 10,
      }) + '\n',
    );
  }
}
