/**
 * `npm run build`: bundle the detector handler into one ESM file, dist/detector/index.mjs, and print its
 * size and how long a cold import of it takes (a fresh Node process importing the bundle).
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
  PROJECT_ROOT,
} from './bundle';

export const DETECTOR_BUNDLE = join(PROJECT_ROOT, 'dist', 'detector', 'index.mjs');

export async function buildDetector(outfile = DETECTOR_BUNDLE): Promise<{ outfile: string; bytes: number }> {
  await build({
    entryPoints: [DETECTOR_ENTRY],
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
  const { outfile, bytes } = await buildDetector();
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
