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
import { synth, TEST_CONFIG, type Synthesized } from './synth';

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
    let template: Synthesized['template'];
    try {
      ({ outdir, template } = synth({ config: TEST_CONFIG, bundle: true }));
    } finally {
      process.env.PATH = path;
    }
    const dockerCalled = existsSync(mark);
    rmSync(bin, { recursive: true, force: true });
    expect(dockerCalled).toBe(false);

    const assets = JSON.parse(readFileSync(join(outdir, 'Authwatch.assets.json'), 'utf8')) as {
      files: Record<string, { source: { path: string; packaging?: string } }>;
    };
    // Two functions: the detector and the network-data refresh (its bundle: network-data.test.ts).
    expect(Object.values(assets.files).filter((f) => f.source.packaging === 'zip')).toHaveLength(2);
    const [, detector] = Object.entries(
      template.toJSON().Resources as Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }>,
    ).find(([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('DetectorFunction'))!;
    const hash = detector.Properties.Code!.S3Key!.replace(/\.zip$/, '');
    const dir = join(outdir, assets.files[hash]!.source.path);
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const bundle = readFileSync(join(dir, 'index.mjs'), 'utf8');
    // The options of lambdas/bundle.ts: ESM with the require banner, and the AWS SDK inside, not left external.
    expect(bundle.startsWith(ESM_REQUIRE_BANNER.slice(0, 40))).toBe(true);
    expect(bundle).not.toMatch(/from\s*["']@aws-sdk\//);
    // The limit on the detector's code: the network database travels as data in S3, never in here.
    expect(statSync(join(dir, 'index.mjs')).size).toBeLessThanOrEqual(1024 * 1024);
    expect(bundle).not.toContain('CLOUDFLARENET');
  });
});
