/**
 * No detector id is written outside its detector: everything else (settings, alert texts, the CLI, metrics,
 * alarms) iterates the registry or reads a detector's property, so adding a detector edits only its own file
 * and the registry. Comments may name an id; string literals, template text included, may not.
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
const EXEMPT = 'shared/core/detectors/';
const SOURCE = /\.(c|m)?(t|j)sx?$/;
const IDS: readonly string[] = DETECTORS.map((d) => d.id);

/** Every `file:line: "text"` where a string literal or piece of template text of `source` holds a detector id. */
function idLiterals(file: string, source: string): string[] {
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
        if (text.includes(id)) {
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
  return out.split('\0').filter((f) => f !== '' && SOURCE.test(f) && !f.startsWith(EXEMPT));
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
  });

  it('are written only in their detectors (shared/core/detectors) and tests', () => {
    const files = trackedSources();
    // The scan must have something to scan: the entry points and the core are tracked sources.
    expect(files).toEqual(expect.arrayContaining(['cli/authwatch.ts', 'shared/core/settings.ts']));
    const found = files.flatMap((f) => idLiterals(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(found, 'iterate DETECTORS or read a Detector property instead of naming an id').toEqual([]);
  });
});
