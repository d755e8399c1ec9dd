/**
 * Shared checks for every profile: fixture lines against expected.json, the never-throw contract under
 * arbitrary input (fast-check), and the query ↔ row-mapper agreement on column names.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { expect, it } from 'vitest';
import type { LineResult, Profile } from '../../../shared/core/profiles';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');

/** Keep the property tests quick: the whole profiles suite should run in a few seconds. */
export const NUM_RUNS = 300;

export interface FixtureLine {
  readonly file: string;
  /** 1-based line number in the file. */
  readonly lineNo: number;
  readonly line: string;
  readonly expected: LineResult;
}

/**
 * Every non-empty line of `test/fixtures/<id>/*` (except expected.json) with what `parseLine` must return
 * for it, from `expected.json` (`{ "<file>": [result per non-empty line, in order] }`).
 */
export function fixtureLines(id: string): FixtureLine[] {
  const dir = join(FIXTURES, id);
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, LineResult[]>;
  const files = readdirSync(dir)
    .filter((f) => f !== 'expected.json')
    .sort();
  expect(Object.keys(expected).sort(), `expected.json of ${id} lists every fixture file`).toEqual(files);
  const out: FixtureLine[] = [];
  for (const file of files) {
    const results = expected[file]!;
    const lines = readFileSync(join(dir, file), 'utf8').split('\n');
    let k = 0;
    lines.forEach((line, i) => {
      if (line === '') return;
      const want = results[k++];
      if (want === undefined) throw new Error(`${id}/expected.json has fewer results than ${file} has lines`);
      out.push({ file, lineNo: i + 1, line, expected: want });
    });
    if (k !== results.length)
      throw new Error(`${id}/expected.json has ${results.length} results for ${file}, which has ${k} lines`);
  }
  return out;
}

export function countKinds(lines: readonly FixtureLine[]): Record<LineResult['kind'], number> {
  const c = { event: 0, skip: 0, malformed: 0 };
  for (const l of lines) c[l.expected.kind]++;
  return c;
}

/** Arbitrary text, including near-misses built from real lines (so the deeper code paths are exercised too). */
function lineArbitrary(seeds: readonly string[]): fc.Arbitrary<string> {
  const seed = fc.constantFrom(...seeds);
  const mutated = fc.tuple(seed, fc.nat(), fc.nat(), fc.string({ maxLength: 12 })).map(([s, a, b, ins]) => {
    const i = a % (s.length + 1);
    const j = Math.min(s.length, i + (b % 8));
    return s.slice(0, i) + ins + s.slice(j);
  });
  const truncated = fc.tuple(seed, fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1)));
  return fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutated, truncated);
}

/** JSON documents of arbitrary shape, and real documents with one field replaced by arbitrary JSON. */
function jsonLineArbitrary(seeds: readonly string[]): fc.Arbitrary<string> {
  const docs = seeds.flatMap((s) => {
    try {
      const v: unknown = JSON.parse(s);
      return typeof v === 'object' && v !== null && !Array.isArray(v) ? [v as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
  const anyJson = fc.jsonValue().map((v) => JSON.stringify(v));
  if (docs.length === 0) return anyJson;
  const pathOf = (doc: unknown, pick: number): string[] => {
    const path: string[] = [];
    let cur: unknown = doc;
    while (typeof cur === 'object' && cur !== null && !Array.isArray(cur)) {
      const keys = Object.keys(cur);
      if (keys.length === 0) break;
      const k = keys[pick % keys.length]!;
      path.push(k);
      cur = (cur as Record<string, unknown>)[k];
      pick = Math.floor(pick / 3);
      if (pick === 0) break;
    }
    return path;
  };
  const replaced = fc.tuple(fc.constantFrom(...docs), fc.nat(), fc.jsonValue()).map(([doc, pick, value]) => {
    const copy = structuredClone(doc);
    const path = pathOf(copy, pick);
    if (path.length === 0) return JSON.stringify(copy);
    let cur = copy as Record<string, unknown>;
    for (const k of path.slice(0, -1)) cur = cur[k] as Record<string, unknown>;
    cur[path[path.length - 1]!] = value;
    return JSON.stringify(copy);
  });
  return fc.oneof(anyJson, replaced);
}

function isLineResult(r: unknown): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const k = (r as { kind?: unknown }).kind;
  if (k === 'skip') return true;
  if (k === 'malformed') return typeof (r as { reason?: unknown }).reason === 'string';
  if (k !== 'event') return false;
  const e = (r as { event: { timestamp: unknown; user: unknown; sourceIp: unknown; outcome: unknown } }).event;
  return (
    Number.isFinite(e.timestamp) &&
    typeof e.user === 'string' &&
    e.user !== '' &&
    typeof e.sourceIp === 'string' &&
    (e.outcome === 'success' || e.outcome === 'failure')
  );
}

/** Rows as Insights could return them: string values under the schema's column names, or anything at all. */
function rowArbitrary(columns: readonly string[]): fc.Arbitrary<Record<string, string>> {
  const value = fc.oneof(
    fc.string(),
    fc.constantFrom(
      '',
      '-',
      '::1',
      '203.0.113.9',
      'success',
      'failure',
      '1',
      '0',
      '2026-11-02 08:15:03.123',
      '1793607303123',
      'NaN',
    ),
  );
  const shaped = fc.record(Object.fromEntries(columns.map((c) => [c, value])), { requiredKeys: [] }) as fc.Arbitrary<
    Record<string, string>
  >;
  const anything = fc.dictionary(fc.string(), fc.anything()) as unknown as fc.Arbitrary<Record<string, string>>;
  return fc.oneof(shaped, anything);
}

export const ROW_COLUMNS = ['user', 'ip', 'outcome', 'host', 'logons', 'first', 'last'] as const;

/** The never-throw contract: parseLine and mapRow return a well-formed result for any input whatsoever. */
export function itNeverThrows(profile: Profile, seeds: readonly string[], extraColumns: readonly string[] = []): void {
  it('parseLine never throws on arbitrary text or near-miss lines', () => {
    fc.assert(
      fc.property(lineArbitrary(seeds), (line) => {
        expect(isLineResult(profile.parseLine(line))).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseLine never throws on arbitrary JSON or real documents with a field replaced', () => {
    fc.assert(
      fc.property(jsonLineArbitrary(seeds), (line) => {
        expect(isLineResult(profile.parseLine(line))).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('parseLine never throws on values that are not strings at all', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        expect(isLineResult(profile.parseLine(v as string))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('mapRow never throws on arbitrary rows', () => {
    fc.assert(
      fc.property(rowArbitrary([...ROW_COLUMNS, ...extraColumns]), (row) => {
        const r = profile.mapRow(row);
        expect(['observation', 'skip', 'malformed']).toContain(r.kind);
        if (r.kind === 'observation') {
          expect(r.observation.count).toBeGreaterThanOrEqual(1);
          expect(r.observation.firstSeen).toBeLessThanOrEqual(r.observation.lastSeen);
          expect(r.observation.user).not.toBe('');
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
}

/** Every column mapRow reads is produced by the query, which aggregates with the shared stats and ends capped at 10,000 rows. */
export function itHasQueryShape(profile: Profile, columns: readonly string[]): void {
  it('aggregates server-side into the columns mapRow reads, and asks for the 10,000-row maximum', () => {
    const q = profile.query;
    // Every log event one attempt (`count(*)`), or the sum of the attempts each stands for (sshd's repeat lines).
    expect(q).toMatch(
      /stats (count\(\*\)|sum\(\w+\)) as logons, min\(@timestamp\) as first, max\(@timestamp\) as last by /,
    );
    const by = /stats .* by (.*)$/m
      .exec(q)?.[1]
      ?.split(',')
      .map((s) => s.trim());
    expect(by).toBeDefined();
    for (const c of columns) {
      if (['logons', 'first', 'last'].includes(c)) continue;
      expect(by, `column ${c} is grouped by`).toContain(c);
    }
    expect(q.trimEnd().endsWith('| limit 10000')).toBe(true);
    // Insights filter for rows whose user is set: the log source's user-name split relies on a `user` column.
    expect(q).toMatch(/ispresent\(user\)/);
  });
}
