/**
 * Adapters are split by job and never import one another: what two adapters share is a module of its own (the
 * stored items' key layout, encoding and sizes in shared/adapters/items/, the SDK client factory and error text
 * in aws-clients.ts and aws-retry.ts), so the in-memory store shares the encoding, not the DynamoDB adapter.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADAPTERS = join(ROOT, 'shared/adapters');
/** Modules beside the adapters that are shared helpers, not adapters. */
const SHARED_HELPERS = new Set(['aws-clients', 'aws-retry', 'alert-payload', 'batch-delivery']);

/** Relative module specifiers a file imports (static, dynamic and type-only alike), resolved from the adapters' folder. */
function localImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs = [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ADAPTERS, join(dirname(file), s)).replace(/\\/g, '/'));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

describe('adapters', () => {
  const adapters = tsFiles(ADAPTERS);
  const items = tsFiles(join(ADAPTERS, 'items'));

  it('finds the adapters and the stored-item modules', () => {
    expect(adapters.map((f) => relative(ADAPTERS, f))).toEqual(
      expect.arrayContaining(['dynamodb-baseline-store.ts', 'in-memory-baseline-store.ts', 'sns-alert-sink.ts']),
    );
    expect(items.map((f) => relative(ADAPTERS, f)).sort()).toEqual([
      'items/codec.ts',
      'items/delivery.ts',
      'items/keys.ts',
      'items/size.ts',
    ]);
  });

  it('import no other adapter: only the shared helpers and the stored-item modules beside them', () => {
    const crossings = adapters.flatMap((file) =>
      localImports(file)
        .filter((target) => !target.startsWith('..')) // outside shared/adapters: core, ports, errors
        .filter((target) => !target.startsWith('items/') && !SHARED_HELPERS.has(target))
        .map((target) => `${relative(ADAPTERS, file)} imports ${target}`),
    );
    expect(crossings).toEqual([]);
  });

  it('stored-item modules import no adapter', () => {
    const crossings = items.flatMap((file) =>
      localImports(file)
        .filter((target) => !target.startsWith('..') && !target.startsWith('items/'))
        .map((target) => `${relative(ADAPTERS, file)} imports ${target}`),
    );
    expect(crossings).toEqual([]);
  });
});
