/**
 * No detector id is written outside its detector's own folder (shared/core/detectors/<name>/): everything else
 * (the registry, settings, alert texts, the CLI, metrics, alarms, other detectors) iterates the registry or reads
 * a detector's property, so adding a detector edits only its folder and one registry line. Comments may name an
 * id; string literals, template text included, may not. Tests may.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from '../../../shared/core/detectors';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCANNED = ['shared', 'cli', 'lambdas', 'infra'];
const DETECTORS_DIR = 'shared/core/detectors/';
const SOURCE = /\.(c|m)?(t|j)sx?$/;
const IDS: readonly string[] = DETECTORS.map((d) => d.id);

/** Every `file:line: "text"` where a string literal or piece of template text of `source` holds a detector id. */
function idLiterals(file: string, source: string, allowed: ReadonlySet<string> = new Set()): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    ) {
      const text = (node as ts.LiteralLikeNode).text;
      for (const id of IDS) {
        if (text.includes(id) && !allowed.has(id)) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          found.push(`${file}:${line}: ${id} in ${JSON.stringify(text)}`);
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

function trackedSources(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', ...SCANNED], { cwd: ROOT, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && SOURCE.test(f));
}

/** A detector's folder (`shared/core/detectors/<name>/`), or undefined for a file outside every detector folder. */
function detectorFolder(file: string): string | undefined {
  if (!file.startsWith(DETECTORS_DIR)) return undefined;
  const rest = file.slice(DETECTORS_DIR.length);
  const slash = rest.indexOf('/');
  return slash > 0 ? DETECTORS_DIR + rest.slice(0, slash + 1) : undefined;
}

/** The ids a file may write: the id of the detector whose folder holds it (declared in the folder's index.ts). */
function ownIds(file: string): Set<string> {
  const folder = detectorFolder(file);
  if (!folder) return new Set();
  const index = readFileSync(join(ROOT, folder, 'index.ts'), 'utf8');
  return new Set(IDS.filter((id) => index.includes(`id: '${id}'`)));
}

describe('detector ids', () => {
  it('finds ids in string literals and template text, with file and line, and not in comments', () => {
    const [a, b] = IDS;
    const sample = [
      `// ${a} in a comment is fine`,
      `const x = '${a}';`,
      `const y = \`\${x} and ${b}\`;`,
      `const z = { "${b}": 1 };`,
    ].join('\n');
    expect(idLiterals('sample.ts', sample)).toEqual([
      `sample.ts:2: ${a} in ${JSON.stringify(a)}`,
      `sample.ts:3: ${b} in ${JSON.stringify(` and ${b}`)}`,
      `sample.ts:4: ${b} in ${JSON.stringify(b)}`,
    ]);
    // In a detector's own folder its own id is allowed, another detector's is not.
    expect(idLiterals('own.ts', sample, new Set([a!]))).toEqual([
      `own.ts:3: ${b} in ${JSON.stringify(` and ${b}`)}`,
      `own.ts:4: ${b} in ${JSON.stringify(b)}`,
    ]);
  });

  it('gives every registered detector its own folder, whose index.ts declares its id', () => {
    const owners = trackedSources()
      .filter((f) => /^shared\/core\/detectors\/[^/]+\/index\.ts$/.test(f))
      .flatMap((f) => [...ownIds(f)]);
    expect(owners.sort()).toEqual([...IDS].sort());
  });

  it('are written only in their own detector folder (shared/core/detectors/<name>/) and tests', () => {
    const files = trackedSources();
    // The scan must have something to scan: the entry points, the core and the registry are tracked sources.
    expect(files).toEqual(
      expect.arrayContaining(['cli/authwatch.ts', 'shared/core/settings.ts', 'shared/core/detectors/index.ts']),
    );
    const found = files.flatMap((f) => idLiterals(f, readFileSync(join(ROOT, f), 'utf8'), ownIds(f)));
    expect(found, 'iterate DETECTORS or read a Detector property instead of naming an id').toEqual([]);
  });
});
