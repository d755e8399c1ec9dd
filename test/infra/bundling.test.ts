import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ESM_REQUIRE_BANNER } from '../../lambdas/bundle';
import { synth, TEST_CONFIG } from './synth';

describe('detector bundling', () => {
  it('bundles the handler with the local esbuild, offline, never through Docker', () => {
    // A `docker` first on PATH that only leaves a mark: any attempt at Docker bundling is seen.
    const bin = mkdtempSync(join(tmpdir(), 'authwatch-nodocker-'));
    const mark = join(bin, 'docker-was-called');
    writeFileSync(join(bin, 'docker'), `#!/bin/sh\ntouch '${mark}'\nexit 1\n`);
    chmodSync(join(bin, 'docker'), 0o755);
    const path = process.env.PATH;
    process.env.PATH = `${bin}:${path ?? ''}`;
    let outdir: string;
    const started = performance.now();
    try {
      ({ outdir } = synth({ config: TEST_CONFIG, bundle: true }));
    } finally {
      process.env.PATH = path;
    }
    const ms = performance.now() - started;
    const dockerCalled = existsSync(mark);
    rmSync(bin, { recursive: true, force: true });
    expect(dockerCalled).toBe(false);

    const assets = JSON.parse(readFileSync(join(outdir, 'Authwatch.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    const code = Object.values(assets.files).filter((f) => f.source.packaging === 'zip');
    expect(code).toHaveLength(1);
    const dir = join(outdir, code[0]!.source.path);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    // The options of lambdas/bundle.ts: ESM with the require banner, and the AWS SDK inside, not left external.
    expect(bundle.startsWith(ESM_REQUIRE_BANNER.slice(0, 40))).toBe(true);
    expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
    expect(statSync(join(dir, 'index.mjs')).size).toBeLessThan(5 * 1024 * 1024);
    expect(ms).toBeLessThan(30_000);
  });
});
