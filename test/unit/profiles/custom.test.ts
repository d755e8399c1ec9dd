/**
 * Formats the operator defines (shared/core/profiles/custom.ts): the two worked examples of
 * test/fixtures/custom/cdk.json (a text and a JSON format) read their sample lines as documented; their query
 * text, run by the Insights emulator, finds exactly what their line parser finds; validation names what to fix;
 * and, for any definition validation accepts, neither the parser nor the row mapper throws on any input.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregateEvents, mergeObservations } from '../../../shared/core/aggregate';
import type { LogonObservation } from '../../../shared/core/model';
import { getProfile, type LineResult } from '../../../shared/core/profiles';
import {
  checkCustomProfiles,
  type CustomProfileSpec,
  MAX_TEXT_LINE_CHARS,
  profileFromSpec,
  unportableRegexIssues,
} from '../../../shared/core/profiles/custom';
import { ConfigError } from '../../../shared/errors';
import { runInsightsQuery } from '../../support/insights-emulator';
import { itHasQueryShape, itNeverThrows, NUM_RUNS } from './support';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'custom');
const CONFIG = JSON.parse(readFileSync(join(DIR, 'cdk.json'), 'utf8')) as {
  context: { authwatch: { customProfiles: unknown[] } };
};
const RAW_SPECS = CONFIG.context.authwatch.customProfiles;
const checked = checkCustomProfiles(RAW_SPECS, 'authwatch.customProfiles');
const [VPN, IDP] = checked.specs.map(profileFromSpec) as [
  ReturnType<typeof profileFromSpec>,
  ReturnType<typeof profileFromSpec>,
];
const lines = (file: string) =>
  readFileSync(join(DIR, file), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

/** The issues a list of definitions is refused with (fails when it is accepted). */
function issuesOf(specs: unknown): string[] {
  const r = checkCustomProfiles(specs, 'authwatch.customProfiles');
  expect(r.issues.length, 'expected the definitions to be refused').toBeGreaterThan(0);
  expect(r.specs).toEqual([]);
  return r.issues;
}

const textSpec = (over: Record<string, unknown>) => ({
  id: 'custom:t',
  kind: 'text',
  pattern: '^(?<time>\\S+) (?<user>\\S+) from (?<ip>\\S+) (?<outcome>\\w+)$',
  outcome: { success: ['ok'], failure: ['fail'] },
  ...over,
});

describe('custom formats: the worked examples', () => {
  it('are valid as written in the fixture cdk.json', () => {
    expect(checked.issues).toEqual([]);
    expect(checked.specs.map((s) => s.id)).toEqual(['custom:vpn', 'custom:idp']);
  });

  it('text: reads user, address, verdict, time, host and method; skips other verdicts, other lines and loopback; counts a bad address as malformed', () => {
    const results = lines('vpn.log').map((l) => VPN.parseLine(l));
    expect(results.map((r) => r.kind)).toEqual([
      'event',
      'event',
      'event',
      'event',
      'skip', // 127.0.0.1
      'skip', // "locked" is neither success nor failure
      'skip', // not a login line
      'malformed', // 999.1.1.1
      'event',
    ]);
    expect(results[0]).toEqual({
      kind: 'event',
      event: {
        timestamp: Date.parse('2026-11-02T08:15:03Z'),
        user: 'alice',
        sourceIp: '203.0.113.9',
        outcome: 'success',
        host: 'vpn-gw-01',
        method: 'password',
        logSource: 'custom:vpn',
      },
    });
    // Canonical names as every profile writes them: `CORP\bob` is `bob@corp`; verdicts compared case-insensitively.
    const e = (r: LineResult) => (r.kind === 'event' ? r.event : undefined);
    expect(e(results[1]!)).toMatchObject({ user: 'bob@corp', outcome: 'failure' });
    expect(e(results[2]!)).toMatchObject({ user: 'bob@corp', outcome: 'failure', host: 'vpn-gw-02' });
    expect(e(results[3]!)).toMatchObject({ user: 'root', outcome: 'failure' });
    expect(results[7]).toMatchObject({ kind: 'malformed', reason: expect.stringContaining('999.1.1.1') });
  });

  it('json: reads dotted paths, ISO and epoch-millisecond times, IPv6; keeps only matching documents and named verdicts', () => {
    const results = lines('idp.jsonl').map((l) => IDP.parseLine(l));
    expect(results.map((r) => r.kind)).toEqual([
      'event',
      'event',
      'event',
      'skip', // type auth.logout
      'skip', // MFA_PENDING
      'skip', // ::1
      'malformed', // no valid time
      'skip', // actor.name absent (an object at actor.id): Insights' ispresent drops it too
      'skip', // not JSON
    ]);
    expect(results[0]).toEqual({
      kind: 'event',
      event: {
        timestamp: Date.parse('2026-11-02T09:00:00Z'),
        user: 'alice@corp.example',
        sourceIp: '203.0.113.9',
        outcome: 'success',
        host: 'portal',
        logSource: 'custom:idp',
      },
    });
    expect(results[2]).toMatchObject({
      kind: 'event',
      event: { timestamp: Date.parse('2026-11-02T09:02:00Z'), sourceIp: '2001:db8::1', outcome: 'success' },
    });
  });

  describe.each([
    ['custom:vpn', 'vpn.log'],
    ['custom:idp', 'idp.jsonl'],
  ])('%s: the Logs Insights query finds what the line parser finds', (id, file) => {
    const profile = id === 'custom:vpn' ? VPN : IDP;
    // Lines the parser reads as logons, and those it skips; a line malformed for its own time is left out, since
    // Insights places an event by the time CloudWatch Logs gave it, not by its text.
    const parsed = lines(file)
      .map((line) => ({ line, result: profile.parseLine(line) }))
      .filter((p) => !(p.result.kind === 'malformed' && /time/.test(p.result.reason)));
    const INGESTED = Date.UTC(2026, 10, 2, 12);
    const WINDOW = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 10, 3) };

    it('row by row through mapRow, the same observations (malformed addresses malformed in both)', () => {
      const events = parsed.map((p) => ({
        message: p.line,
        timestamp: p.result.kind === 'event' ? p.result.event.timestamp : INGESTED,
      }));
      const mapped = runInsightsQuery(profile.query, events).map((row) => profile.mapRow(row));
      const fromQuery = mergeObservations(mapped.flatMap((m) => (m.kind === 'observation' ? [m.observation] : [])));
      const fromLines = aggregateEvents(
        parsed.flatMap((p) => (p.result.kind === 'event' ? [p.result.event] : [])),
        WINDOW,
      );
      const key = (o: LogonObservation) => `${o.user} ${o.sourceIp} ${o.outcome}`;
      const summary = (os: readonly LogonObservation[]) =>
        Object.fromEntries(os.map((o) => [key(o), [o.count, o.firstSeen, o.lastSeen, o.hosts.join(',')]]));
      expect(summary(fromQuery)).toEqual(summary(fromLines));
      expect(fromQuery.length).toBeGreaterThan(1);
      expect(mapped.filter((m) => m.kind === 'malformed').length).toBe(
        parsed.filter((p) => p.result.kind === 'malformed').length,
      );
    });
  });

  itNeverThrows(VPN, lines('vpn.log'));
  itNeverThrows(IDP, lines('idp.jsonl'));
  itHasQueryShape(VPN, ['user', 'ip', 'outcome', 'host', 'logons', 'first', 'last']);
  itHasQueryShape(IDP, ['user', 'ip', 'outcome', 'host', 'logons', 'first', 'last']);

  it('prints a query an operator can read: parse with the pattern, verdicts filtered case-insensitively', () => {
    expect(VPN.query).toContain(`| parse @message /${(RAW_SPECS[0] as { pattern: string }).pattern}/`);
    expect(VPN.query).toContain(
      '| filter outcome like /^\\s*(?:[oO][kK]|[fF][aA][iI][lL][eE][dD]|[dD][eE][nN][iI][eE][dD])\\s*$/',
    );
    expect(IDP.query).toContain('| filter type = "auth.login"');
    expect(IDP.query).toContain('| fields actor.name as user, client.ip as ip, result as outcome, app as host');
  });

  it('a fixed outcome needs no verdict: every matching line has it, and the query groups without an outcome column', () => {
    const spec = checkCustomProfiles(
      [
        {
          id: 'custom:deny',
          kind: 'text',
          pattern: '^(?<time>\\S+) DENY (?<user>\\S+)@(?<ip>[0-9.]+)$',
          outcome: 'failure',
        },
      ],
      'x',
    );
    expect(spec.issues).toEqual([]);
    const p = profileFromSpec(spec.specs[0]!);
    expect(p.parseLine('2026-11-02T08:00:00Z DENY root@198.51.100.9')).toMatchObject({
      kind: 'event',
      event: { user: 'root', outcome: 'failure', sourceIp: '198.51.100.9' },
    });
    expect(p.query).toMatch(/by user, ip$/m);
    const rows = runInsightsQuery(p.query, [
      { message: '2026-11-02T08:00:00Z DENY root@198.51.100.9', timestamp: Date.UTC(2026, 10, 2, 8) },
      { message: '2026-11-02T08:00:01Z DENY root@198.51.100.9', timestamp: Date.UTC(2026, 10, 2, 8, 0, 1) },
    ]);
    expect(rows).toHaveLength(1);
    expect(p.mapRow(rows[0]!)).toMatchObject({ kind: 'observation', observation: { outcome: 'failure', count: 2 } });
  });

  it('epoch-second times, and a line without a time group is malformed with the fix named', () => {
    const [withSeconds, withoutTime] = checkCustomProfiles(
      [
        textSpec({ id: 'custom:s', timeFormat: 'epoch-s' }),
        textSpec({ id: 'custom:n', pattern: '^(?<user>\\S+) from (?<ip>\\S+) (?<outcome>\\w+)$' }),
      ],
      'x',
    ).specs.map(profileFromSpec);
    expect(withSeconds!.parseLine('1793610000.5 bob from 192.0.2.7 ok')).toMatchObject({
      kind: 'event',
      event: { timestamp: 1793610000500 },
    });
    expect(withoutTime!.parseLine('bob from 192.0.2.7 ok')).toMatchObject({
      kind: 'malformed',
      reason: expect.stringContaining('(?<time>...)'),
    });
  });

  it('a text line longer than the cap is counted as malformed, not matched (backtracking stays bounded)', () => {
    const long = `2026-11-02T08:00:00Z ${'a'.repeat(MAX_TEXT_LINE_CHARS)} from 192.0.2.7 ok`;
    const p = profileFromSpec(checkCustomProfiles([textSpec({})], 'x').specs[0]!);
    expect(p.parseLine(long)).toMatchObject({ kind: 'malformed' });
  });

  it('is found by getProfile among the defined formats, never among the built-ins', () => {
    expect(getProfile('custom:vpn', { custom: [VPN, IDP] })).toBe(VPN);
    expect(() => getProfile('custom:vpn')).toThrow(ConfigError);
    expect(() => getProfile('custom:nope', { custom: [VPN] })).toThrow(/custom:vpn/);
    expect(getProfile('sshd', { custom: [VPN] }).id).toBe('sshd');
  });
});

describe('custom formats: validation names what to fix', () => {
  it('ids are custom:<name>, so they can never collide with a built-in, and are unique', () => {
    expect(issuesOf([textSpec({ id: 'sshd' })]).join('\n')).toMatch(/customProfiles\.0\.id: .*custom:<name>/);
    expect(issuesOf([textSpec({ id: 'custom:Bad Name' })]).join('\n')).toMatch(/0\.id/);
    expect(issuesOf([textSpec({}), textSpec({})])).toContain(
      'authwatch.customProfiles.1.id: "custom:t" is already defined by authwatch.customProfiles.0',
    );
  });

  it('a pattern that is not a regular expression', () => {
    expect(issuesOf([textSpec({ pattern: '(?<user>\\S+ (?<ip>' })])[0]).toMatch(
      /^authwatch\.customProfiles\.0\.pattern: not a valid regular expression/,
    );
  });

  it('missing user or ip group, an outcome group missing or unneeded, an unknown group', () => {
    expect(issuesOf([textSpec({ pattern: '(?<time>\\S+) (?<ip>\\S+) (?<outcome>\\w+)' })])).toContain(
      'authwatch.customProfiles.0.pattern: needs a named group (?<user>...) for the user name',
    );
    expect(issuesOf([textSpec({ pattern: '(?<user>\\S+) (?<outcome>\\w+)' })]).join('\n')).toContain(
      '(?<ip>...) for the source address',
    );
    expect(issuesOf([textSpec({ pattern: '(?<user>\\S+) (?<ip>\\S+)' })]).join('\n')).toContain(
      'needs a named group (?<outcome>...)',
    );
    expect(issuesOf([textSpec({ outcome: 'failure' })]).join('\n')).toContain('outcome is fixed to "failure"');
    expect(
      issuesOf([textSpec({ pattern: '(?<usr>\\S+) (?<user>\\S+) (?<ip>\\S+) (?<outcome>\\w+)' })]).join('\n'),
    ).toContain('unknown group (?<usr>...)');
  });

  it('patterns Logs Insights cannot run, or runs differently from JavaScript', () => {
    const cases: [string, RegExp][] = [
      ['(?<user>\\S+) (?<ip>\\S+)/(?<outcome>\\w+)', /"\/".*\\x2F/],
      ['(?<user>\\S+)(?= )(?<ip>\\S+) (?<outcome>\\w+)', /lookahead/],
      ['(?<user>\\S+)(?<! )(?<ip>\\S+) (?<outcome>\\w+)', /lookbehind/],
      ['(\\w)\\1 (?<user>\\S+) (?<ip>\\S+) (?<outcome>\\w+)', /backreference/],
      ['(?<user>\\S+) \\k<user> (?<ip>\\S+) (?<outcome>\\w+)', /backreference/],
      ['(?<user>\\p{L}+) (?<ip>\\S+) (?<outcome>\\w+)', /Unicode property/],
      ['(?<user>\\S+) \\u0041 (?<ip>\\S+) (?<outcome>\\w+)', /\\u is not an escape/],
      ['(?<user>(\\w+\\s?)+) (?<ip>\\S+) (?<outcome>\\w+)', /exponential time/],
      ['(?<user>(?:a+)*) (?<ip>\\S+) (?<outcome>\\w+)', /exponential time/],
    ];
    for (const [pattern, message] of cases) {
      const issues = issuesOf([textSpec({ pattern })]);
      expect(issues.join('\n'), pattern).toMatch(message);
      expect(
        issues.every((i) => i.startsWith('authwatch.customProfiles.0.pattern: ')),
        pattern,
      ).toBe(true);
    }
    // What both run alike passes: classes, escapes, bounded repetition of a repeated part, non-capturing groups.
    expect(unportableRegexIssues('^(?:\\d{1,3}\\.){3}\\d{1,3} [^ \\]]+ (?<a>\\w+)? \\x2F\\t')).toEqual([]);
  });

  it('outcome values: none listed, the same value twice or for both, or success/failure for the other', () => {
    expect(issuesOf([textSpec({ outcome: { success: [], failure: [] } })]).join('\n')).toContain(
      '0.outcome: list the verdict values',
    );
    expect(issuesOf([textSpec({ outcome: { success: ['ok'], failure: ['OK '] } })]).join('\n')).toContain(
      'under both success and failure',
    );
    expect(issuesOf([textSpec({ outcome: { success: ['failure'], failure: ['x'] } })]).join('\n')).toContain(
      '"failure" always means failure',
    );
    expect(issuesOf([textSpec({ outcome: { success: ['a"b'], failure: ['x'] } })]).join('\n')).toMatch(
      /outcome.*printable ASCII/,
    );
    expect(issuesOf([textSpec({ outcome: 'maybe' })]).join('\n')).toContain('either "success" or "failure"');
  });

  it('json: paths Insights can name, an outcome field when values are mapped, no unknown keys', () => {
    const json = (over: Record<string, unknown>) => ({
      id: 'custom:j',
      kind: 'json',
      fields: { user: 'actor.name', ip: 'client.ip', outcome: 'result', time: 'ts' },
      outcome: { success: ['SUCCESS'], failure: ['FAILURE'] },
      ...over,
    });
    expect(checkCustomProfiles([json({})], 'x').issues).toEqual([]);
    expect(issuesOf([json({ fields: { user: '@user', ip: 'ip', outcome: 'r' } })]).join('\n')).toContain(
      'cannot be named in a Logs Insights query',
    );
    expect(issuesOf([json({ fields: { user: 'u', ip: 'ip' } })]).join('\n')).toContain('0.fields.outcome: required');
    expect(issuesOf([json({ fieldz: {} })]).join('\n')).toMatch(/fieldz/);
    expect(issuesOf([json({ kind: 'xml' })]).join('\n')).toContain('kind must be "text"');
  });
});

// ---------------------------------------------------------------------------------------------
// Any accepted definition, any input: never a throw
// ---------------------------------------------------------------------------------------------

/** Literal text as a pattern piece: punctuation escaped, `/` as `\x2F` (what an operator would write). */
function literal(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`).replace(/\//g, '\\x2F');
}

/** What a group may hold, as operators write it. */
const GROUP_BODIES = ['\\S+', '.*', '.*?', '[^ ]+', '[0-9a-f.:]+', '\\w+', '[A-Za-z]+\\\\?\\w*', '(?:\\S+)'];
const group = (name: string) => fc.constantFrom(...GROUP_BODIES).map((body) => `(?<${name}>${body})`);
/** Between groups: a few usual separators, or arbitrary literal text (any characters, escaped). */
const separator = fc.oneof(
  fc.constantFrom(' ', ' from ', ': ', '=', '\\s+', ' (?:port \\d+)?'),
  fc.string({ maxLength: 6 }).map(literal),
);

/** A text pattern and a line it was built to match (regex separators written out as text a line would hold). */
const textPattern = (mapped: boolean) =>
  fc
    .tuple(
      fc.shuffledSubarray(['time', 'host', 'method', 'domain'], { minLength: 0 }),
      fc.boolean(),
      fc.boolean(),
      fc.infiniteStream(separator),
      fc.infiniteStream(fc.nat()),
    )
    .chain(([extras, anchorStart, anchorEnd, seps, picks]) => {
      const names = ['user', 'ip', ...(mapped ? ['outcome'] : []), ...extras];
      return fc.shuffledSubarray(names, { minLength: names.length }).chain((order) =>
        fc.tuple(...order.map(group)).map((groups) => {
          const sepIt = seps[Symbol.iterator]();
          const pickIt = picks[Symbol.iterator]();
          let pattern = anchorStart ? '^' : '';
          let line = '';
          groups.forEach((g, i) => {
            const sep = sepIt.next().value as string;
            const values = SAMPLE_VALUES[order[i]!]!;
            pattern += `${sep}${g}`;
            line += `${SEPARATOR_TEXT[sep] ?? unliteral(sep)}${values[(pickIt.next().value as number) % values.length]!}`;
          });
          return { pattern: `${pattern}${anchorEnd ? '$' : ''}`, line };
        }),
      );
    });

/** What a line holds where a pattern has a regex separator. */
const SEPARATOR_TEXT: Readonly<Record<string, string>> = { '\\s+': '  ', ' (?:port \\d+)?': ' port 22' };
/** The text a `literal` piece matches. */
function unliteral(piece: string): string {
  return piece.replace(/\\x2F/g, '/').replace(/\\(.)/g, '$1');
}
const SAMPLE_VALUES: Readonly<Record<string, readonly string[]>> = {
  user: ['alice', 'CORP\\bob', 'root', 'Eve@Corp.Example'],
  ip: ['203.0.113.9', '2001:db8::1', '::1', '999.1.1.1'],
  outcome: ['ok', 'DENY', 'fail', 'other'],
  time: ['2026-11-02T08:00:00Z', '1793610000', 'bad'],
  host: ['web-01', '-'],
  method: ['password'],
  domain: ['corp', '-'],
};

const mappedOutcome = fc.record({
  success: fc.subarray(['ok', 'Accept', 'SUCCESS', 'logged in'], { minLength: 1 }),
  failure: fc.subarray(['fail', 'DENY', 'failure', 'bad-password'], { minLength: 1 }),
});

const PATHS = ['user', 'actor.name', 'client.ip', 'ip', 'x.0.y', 'result', 'ts', 'host', 'dom'];
const rawSpec = fc.oneof(
  fc.boolean().chain((mapped) =>
    fc
      .record({
        id: fc.constant('custom:p'),
        kind: fc.constant('text'),
        built: textPattern(mapped),
        outcome: mapped ? mappedOutcome : fc.constantFrom('success', 'failure'),
        timeFormat: fc.constantFrom('iso', 'epoch-ms', 'epoch-s'),
      })
      .map(({ built, ...spec }) => ({ spec: { ...spec, pattern: built.pattern }, line: built.line })),
  ),
  fc.boolean().chain((mapped) =>
    fc
      .record(
        {
          id: fc.constant('custom:p'),
          kind: fc.constant('json'),
          fields: fc.record(
            {
              user: fc.constantFrom(...PATHS),
              ip: fc.constantFrom(...PATHS),
              ...(mapped ? { outcome: fc.constantFrom(...PATHS) } : {}),
              time: fc.constantFrom('ts', '@timestamp', 'x.0.y'),
              host: fc.constantFrom(...PATHS),
              domain: fc.constantFrom(...PATHS),
            },
            { requiredKeys: mapped ? ['user', 'ip', 'outcome'] : ['user', 'ip'] },
          ),
          match: fc.dictionary(
            fc.constantFrom(...PATHS),
            fc.array(fc.constantFrom('a', '1', 'auth.login'), { minLength: 1, maxLength: 2 }),
            {
              maxKeys: 2,
            },
          ),
          outcome: mapped ? mappedOutcome : fc.constantFrom('success', 'failure'),
          values: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
        },
        { requiredKeys: ['id', 'kind', 'fields', 'outcome', 'values'] },
      )
      .map(({ values, ...spec }) => ({ spec, line: jsonLineFor(spec, values) })),
  ),
);

/** A document with a value at each of the spec's paths (and its match values), picked by `values`. */
function jsonLineFor(
  spec: { fields: Record<string, string | undefined>; match?: Record<string, string[]> },
  values: number[],
): string {
  const doc: Record<string, unknown> = {};
  const set = (path: string, v: unknown) => {
    const keys = path.split('.');
    let cur = doc;
    for (const k of keys.slice(0, -1)) {
      if (typeof cur[k] !== 'object' || cur[k] === null) cur[k] = {};
      cur = cur[k] as Record<string, unknown>;
    }
    cur[keys[keys.length - 1]!] = v;
  };
  const pool: Readonly<Record<string, readonly unknown[]>> = {
    ...SAMPLE_VALUES,
    time: ['2026-11-02T08:00:00Z', 1793610000123, 1793610000, 'bad', null],
    outcome: ['SUCCESS', 'ok', 'DENY', 'bad-password', 7],
  };
  Object.entries(spec.fields).forEach(([name, path], i) => {
    const options = pool[name] ?? ['x'];
    if (path !== undefined) set(path, options[values[i]! % options.length]);
  });
  for (const [path, vals] of Object.entries(spec.match ?? {})) set(path, vals[0]);
  return JSON.stringify(doc);
}

/** Lines that may match: the groups' likely contents joined by the separators patterns use, and JSON documents. */
const WORDS = [
  'alice',
  'CORP\\bob',
  '203.0.113.9',
  '::1',
  '999.1.1.1',
  'ok',
  'DENY',
  'from',
  '2026-11-02T08:00:00Z',
  '1793610000',
  '-',
  '',
  ' ',
  'port 22',
  ':',
  '=',
];
const lineArb = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 3 })), { maxLength: 10 }),
      fc.constantFrom(' ', ' from ', ': ', '='),
    )
    .map(([words, sep]) => words.join(sep)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .record({
      user: fc.oneof(fc.jsonValue(), fc.constantFrom('alice', 'CORP\\bob')),
      actor: fc.record({ name: fc.oneof(fc.jsonValue(), fc.constant('bob')) }),
      ip: fc.constantFrom('203.0.113.9', '::1', 'x'),
      client: fc.record({ ip: fc.constantFrom('203.0.113.9', '-', '') }),
      result: fc.constantFrom('ok', 'DENY', 'OK', 'other'),
      ts: fc.oneof(fc.jsonValue(), fc.constantFrom('2026-11-02T08:00:00Z', 1793610000, '1793610000.5')),
      x: fc.jsonValue(),
    })
    .map((v) => JSON.stringify(v)),
);

describe('custom formats: any definition validation accepts, any input', () => {
  it('validation itself never throws, and accepts some of the generated definitions', () => {
    let accepted = 0;
    fc.assert(
      fc.property(rawSpec, ({ spec }) => {
        const r = checkCustomProfiles([spec], 'x');
        expect(Array.isArray(r.issues)).toBe(true);
        if (r.issues.length === 0) accepted++;
      }),
      { numRuns: NUM_RUNS },
    );
    // The generator is built to produce valid definitions; validation refusing most of them would be a bug.
    expect(accepted).toBeGreaterThan(NUM_RUNS / 2);
  });

  it('builds a profile whose parser and row mapper never throw, and whose events are well formed', () => {
    const seen = { event: 0, skip: 0, malformed: 0 };
    fc.assert(
      fc.property(rawSpec, fc.array(lineArb, { minLength: 1, maxLength: 5 }), ({ spec: raw, line: built }, other) => {
        const input = [built, ...other];
        const r = checkCustomProfiles([raw], 'x');
        fc.pre(r.issues.length === 0);
        const spec: CustomProfileSpec = r.specs[0]!;
        const profile = profileFromSpec(spec);
        expect(profile.query).toMatch(/\| limit 10000$/);
        for (const line of input) {
          const out = profile.parseLine(line);
          expect(['event', 'skip', 'malformed']).toContain(out.kind);
          seen[out.kind]++;
          if (out.kind === 'event') {
            expect(out.event.user).not.toBe('');
            expect(Number.isFinite(out.event.timestamp)).toBe(true);
            expect(out.event.logSource).toBe('custom:p');
          }
          const row = profile.mapRow({ user: line, ip: line, outcome: line, logons: '1', first: '1', last: '1' });
          expect(['observation', 'skip', 'malformed']).toContain(row.kind);
        }
      }),
      { numRuns: NUM_RUNS },
    );
    // The generated lines reach every branch: logons, lines skipped, lines counted as malformed.
    expect(seen.event).toBeGreaterThan(0);
    expect(seen.malformed).toBeGreaterThan(0);
  });
});
