/**
 * Identity rules (shared/core/identity.ts): which names are one person, their precedence, what validation refuses,
 * and the re-aggregation of a window's observations under them (what `withIdentities` hands the pipeline).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { withIdentities } from '../../../shared/adapters/identity-log-source';
import {
  applyIdentities,
  checkIdentities,
  compileIdentityRules,
  hasIdentityRules,
  type IdentityRulesConfig,
} from '../../../shared/core/identity';
import type { LogonObservation } from '../../../shared/core/model';
import { canonicalUser, MAX_USER_CHARS } from '../../../shared/core/profiles/common';

function rules(raw: unknown): IdentityRulesConfig {
  const r = checkIdentities(raw, 'authwatch.identities');
  expect(r.issues).toEqual([]);
  return r.rules!;
}

function issuesOf(raw: unknown): string[] {
  const r = checkIdentities(raw, 'authwatch.identities');
  expect(r.issues.length, 'expected the rules to be refused').toBeGreaterThan(0);
  return r.issues;
}

const obs = (user: string, over: Partial<LogonObservation> = {}): LogonObservation => ({
  user,
  sourceIp: '203.0.113.9',
  outcome: 'success',
  count: 1,
  firstSeen: 1_000,
  lastSeen: 2_000,
  hosts: ['web-01'],
  methods: ['publickey'],
  logSource: 'sshd',
  ...over,
});

describe('identity rules', () => {
  const example = rules({
    dropDomains: ['corp.example'],
    domainAliases: { CORP: 'corp.example' },
    aliases: { 'a.smith@corp.example': 'alice@corp.example' },
  });
  const identify = compileIdentityRules(example);

  it("bring one person's names from sshd, Windows and Okta to one identity", () => {
    // sshd `alice`, Windows `CORP\alice` (canonical `alice@corp`), Okta `alice@corp.example`.
    expect(identify('alice')).toBe('alice');
    expect(identify(canonicalUser('CORP\\alice')!)).toBe('alice');
    expect(identify('alice@corp.example')).toBe('alice');
  });

  it('aliases are looked up as written and in normal form, and their targets are put in normal form', () => {
    expect(identify('a.smith@corp.example')).toBe('alice');
    expect(identify(canonicalUser('CORP\\a.smith')!)).toBe('alice');
    // `corp.example` is dropped: the rules say sshd's bare `a.smith` is that name too.
    expect(identify('a.smith')).toBe('alice');
    expect(compileIdentityRules(rules({ aliases: { 'a.smith@corp.example': 'alice' } }))('a.smith')).toBe('a.smith');
  });

  it('join nothing else: other domains, other names, and everything when no rule is set', () => {
    expect(identify('alice@other.example')).toBe('alice@other.example');
    expect(identify('bob@corp.example.org')).toBe('bob@corp.example.org');
    expect(identify('@corp.example')).toBe('@corp.example');
    const none = compileIdentityRules(undefined);
    for (const n of ['alice', 'alice@corp.example', 'alice@corp']) expect(none(n)).toBe(n);
    expect(hasIdentityRules(rules({}))).toBe(false);
    expect(hasIdentityRules(example)).toBe(true);
  });

  it('the identity is always bounded, like every canonical name', () => {
    const long = `${'x'.repeat(MAX_USER_CHARS - 4)}@c`;
    const lengthen = compileIdentityRules(rules({ domainAliases: { c: 'a-much-longer-domain.example' } }));
    expect([...lengthen(long)].length).toBeLessThanOrEqual(MAX_USER_CHARS);
  });

  it('is idempotent: an identity is its own identity', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('alice', 'alice@corp', 'alice@corp.example', 'a.smith@corp.example', 'a.smith@corp', 'bob'),
        fc.string(),
        (name, extra) => {
          for (const n of [name, canonicalUser(`${extra}${name}`) ?? name])
            expect(identify(identify(n))).toBe(identify(n));
        },
      ),
    );
  });

  it('validation names what to fix: chains, self-maps, a dropped domain that is aliased, bad names and keys', () => {
    expect(issuesOf({ aliases: { a: 'b', b: 'c' } })).toContain(
      'authwatch.identities.aliases.a: maps to "b", which is itself mapped to "c": map "a" to "c" directly',
    );
    expect(issuesOf({ aliases: { 'Alice@Corp.Example': 'alice@corp.example' } }).join('\n')).toContain(
      'maps the name to itself',
    );
    expect(issuesOf({ domainAliases: { corp: 'corp.example', 'corp.example': 'example' } }).join('\n')).toContain(
      'which is itself mapped to "example"',
    );
    expect(issuesOf({ dropDomains: ['corp'], domainAliases: { corp: 'corp.example' } }).join('\n')).toContain(
      'authwatch.identities.dropDomains: "corp" is also a key of domainAliases',
    );
    expect(issuesOf({ dropDomains: ['a b'] }).join('\n')).toMatch(/dropDomains\.0: a domain/);
    expect(issuesOf({ aliases: { x: '' } }).join('\n')).toMatch(/aliases\.x: a user name/);
    expect(issuesOf({ alias: {} }).join('\n')).toMatch(/alias/);
    expect(issuesOf({ aliases: { 'A@x': 'b', 'a@X': 'c' } }).join('\n')).toContain('the same name as another key');
    expect(
      issuesOf({ dropDomains: ['corp.example'], aliases: { 'x@corp.example': 'a', x: 'b' } }).join('\n'),
    ).toContain('the same name as "x@corp.example" under the domain rules');
  });
});

describe('observations under the identities', () => {
  const identify = compileIdentityRules(rules({ aliases: { alice: 'alice@corp.example' } }));

  it('renames, keeps the name as logged, and merges what now coincides: counts add, times widen, hosts union', () => {
    const out = applyIdentities(
      [
        obs('alice', { count: 3, firstSeen: 500, hosts: ['web-01'] }),
        obs('alice@corp.example', { count: 1, lastSeen: 9_000, hosts: ['idp'], methods: [], logSource: 'sshd' }),
        obs('alice', { outcome: 'failure' }),
        obs('bob'),
      ],
      identify,
    );
    expect(out).toHaveLength(3);
    const merged = out.find((o) => o.user === 'alice@corp.example' && o.outcome === 'success')!;
    expect(merged).toMatchObject({
      count: 4,
      firstSeen: 500,
      lastSeen: 9_000,
      hosts: ['idp', 'web-01'],
      loggedAs: 'alice',
    });
    expect(out.find((o) => o.outcome === 'failure')).toMatchObject({ user: 'alice@corp.example', loggedAs: 'alice' });
    expect(out.find((o) => o.user === 'bob')).toEqual(obs('bob'));
  });

  it("a merge led by logons under the identity's own name keeps no loggedAs", () => {
    const [o] = applyIdentities([obs('alice', { count: 1 }), obs('alice@corp.example', { count: 5 })], identify);
    expect(o).toMatchObject({ user: 'alice@corp.example', count: 6 });
    expect(o).not.toHaveProperty('loggedAs');
  });

  it('without rules, observations come back as they were', () => {
    const list = [obs('alice'), obs('alice@corp.example')];
    expect(applyIdentities(list, compileIdentityRules(undefined))).toEqual(list);
  });

  it('withIdentities wraps a source: same name and stats, observations under the identities', async () => {
    const stats = { rows: 2, malformed: 0, queries: 1, queryMs: 0, bytesScanned: 0 };
    const source = {
      name: 'sshd:/var/log/secure',
      fetch: async () => ({ observations: [obs('alice'), obs('alice@corp.example')], stats }),
    };
    const wrapped = withIdentities(source, identify);
    expect(wrapped.name).toBe(source.name);
    const r = await wrapped.fetch({ start: 0, end: 1 });
    expect(r.stats).toBe(stats);
    expect(r.observations.map((o) => [o.user, o.count])).toEqual([['alice@corp.example', 2]]);
  });
});
