import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { heapMbFor, semiSpaceMbFor, v8FlagsFor } from '../../infra/heap';

describe("a function's V8 flags", () => {
  it('bound the old generation to three quarters of the memory, rounded down', () => {
    expect(heapMbFor(512)).toBe(384);
    expect(heapMbFor(1024)).toBe(768);
    expect(heapMbFor(3008)).toBe(2256);
    expect(heapMbFor(1000)).toBe(750);
  });

  it('give a young generation of 32 MB semi-spaces from 512 MB up, and leave the default below', () => {
    expect(semiSpaceMbFor(256)).toBeUndefined();
    expect(semiSpaceMbFor(511)).toBeUndefined();
    expect(semiSpaceMbFor(512)).toBe(32);
    expect(semiSpaceMbFor(10240)).toBe(32);
    expect(v8FlagsFor(256)).toEqual(['--max-old-space-size=192']);
    expect(v8FlagsFor(1024)).toEqual(['--max-old-space-size=768', '--max-semi-space-size=32']);
  });

  it('leave at least 64 MB beside the old generation and the two semi-spaces, for buffers and the runtime', () => {
    for (const mb of [512, 768, 1024, 3008, 10240]) {
      const semi = semiSpaceMbFor(mb) ?? 0;
      expect(mb - heapMbFor(mb) - 2 * semi, `${mb} MB`).toBeGreaterThanOrEqual(64);
    }
  });

  it('are flags Node accepts in NODE_OPTIONS, where a refused one would stop every cold start', () => {
    // Node refuses most V8 flags in NODE_OPTIONS ("is not allowed in NODE_OPTIONS") and exits before any code runs.
    for (const mb of [256, 1024, 3008]) {
      const r = spawnSync(
        process.execPath,
        ['-e', 'process.stdout.write(String(require("node:v8").getHeapStatistics().heap_size_limit))'],
        { env: { PATH: process.env.PATH, NODE_OPTIONS: ['--enable-source-maps', ...v8FlagsFor(mb)].join(' ') } },
      );
      expect(r.stderr.toString(), `${mb} MB`).toBe('');
      expect(r.status, `${mb} MB`).toBe(0);
      // The limit V8 reports is the old generation's plus the young one's: at least the old generation's.
      expect(Number(r.stdout.toString()) / 2 ** 20, `${mb} MB`).toBeGreaterThanOrEqual(heapMbFor(mb));
    }
  });
});
