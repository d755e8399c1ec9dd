import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../../shared/core/profiles';
import {
  boundUserName,
  canonicalUser,
  checkIp,
  getPath,
  isMachineAccount,
  MAX_USER_CHARS,
  parseTime,
} from '../../../shared/core/profiles/common';
import { NUM_RUNS } from './support';

describe('canonicalUser', () => {
  it.each([
    ['  Alice ', undefined, 'alice'],
    ['CORP\\Alice', undefined, 'alice@corp'],
    ['Alice', 'CORP', 'alice@corp'],
    ['alice@corp.example.com', 'CORP', 'alice@corp.example.com'],
    ['Alice', '-', 'alice'],
    ['.\\Administrator', undefined, 'administrator'],
    ['', undefined, undefined],
    ['-', undefined, undefined],
    ['CORP\\', undefined, undefined],
    // Names made only of separators are no names; a no-domain prefix is dropped as often as it is written.
    ['\\\\', undefined, undefined],
    ['.\\-', undefined, undefined],
    ['\\\\Alice', undefined, 'alice'],
    ['.\\\\Alice', 'CORP', 'alice@corp'],
    ['CORP\\\\Alice', undefined, '\\alice@corp'],
  ] as const)('%j (domain %j) → %j', (raw, domain, want) => {
    expect(canonicalUser(raw, domain)).toBe(want);
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string(), { nil: undefined }), (raw, domain) => {
        const once = canonicalUser(raw, domain);
        if (once !== undefined) expect(canonicalUser(once)).toBe(once);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('is idempotent on names built from separators and no-domain markers', () => {
    // fc.string() draws a backslash in about one character of 95; these names are mostly separators.
    const piece = fc.constantFrom('\\', '.', '-', ' ', '@', 'a', 'B', '$');
    fc.assert(
      fc.property(
        fc.string({ unit: piece }),
        fc.option(fc.string({ unit: piece }), { nil: undefined }),
        (raw, domain) => {
          const once = canonicalUser(raw, domain);
          if (once !== undefined) {
            expect(canonicalUser(once)).toBe(once);
            expect(once).not.toBe('-');
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('recognises machine accounts, bare or qualified', () => {
    expect(isMachineAccount('ws01$')).toBe(true);
    expect(isMachineAccount('ws01$@corp')).toBe(true);
    expect(isMachineAccount('alice')).toBe(false);
  });
});

describe('checkIp', () => {
  it('canonicalises, and tells local sources from unusable ones', () => {
    expect(checkIp('::FFFF:10.0.0.1')).toEqual({ kind: 'ip', ip: '10.0.0.1' });
    expect(checkIp('2001:0db8:0000:0000:0000:0000:0000:0001')).toEqual({ kind: 'ip', ip: '2001:db8::1' });
    for (const local of ['-', '', '  ', '127.0.0.1', '::1', '0.0.0.0', '::'])
      expect(checkIp(local).kind, local).toBe('local');
    for (const bad of ['localhost', '1.2.3', '999.1.1.1', undefined])
      expect(checkIp(bad).kind, String(bad)).toBe('bad');
  });
});

describe('parseTime', () => {
  it.each([
    ['2026-11-02T08:15:03Z', '2026-11-02T08:15:03.000Z'],
    ['2026-11-02T08:15:03.123456789Z', '2026-11-02T08:15:03.123Z'],
    ['2026-11-02T10:15:03.5+02:00', '2026-11-02T08:15:03.500Z'],
    ['2026-11-02T03:15:03-0500', '2026-11-02T08:15:03.000Z'],
    ['2026-11-02 08:15:03.123', '2026-11-02T08:15:03.123Z'],
    ['2026-11-02 08:15:03', '2026-11-02T08:15:03.000Z'],
    ['1793607303123', '2026-11-02T08:15:03.123Z'],
    ['/Date(1793607303123)/', '2026-11-02T08:15:03.123Z'],
  ])('%s', (raw, iso) => {
    expect(parseTime(raw)).toBe(Date.parse(iso));
  });

  it('reads epoch-ms numbers and rejects implausible or invalid times', () => {
    expect(parseTime(1793607303123)).toBe(1793607303123);
    for (const bad of [
      '2026-02-30T00:00:00Z',
      '2026-11-02T24:00:00Z',
      '2026-11-02T08:15:03+25:00',
      '0',
      '1793607303',
      'yesterday',
      '',
      null,
      {},
      NaN,
      Infinity,
    ]) {
      expect(parseTime(bad), String(bad)).toBeUndefined();
    }
  });

  it('agrees with Date.parse on ISO strings to the millisecond', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }),
        (d) => {
          expect(parseTime(d.toISOString())).toBe(d.getTime());
          expect(parseTime(d.toISOString().replace('T', ' ').replace('Z', ''))).toBe(d.getTime());
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('getPath', () => {
  it('reads nested, flattened-key and array-index paths', () => {
    const doc = {
      event: { category: ['authentication', 'session'] },
      'user.name': 'alice',
      request: { ipChain: [{ ip: '1.2.3.4' }] },
    };
    expect(getPath(doc, 'event.category.1')).toBe('session');
    expect(getPath(doc, 'user.name')).toBe('alice');
    expect(getPath(doc, 'request.ipChain.0.ip')).toBe('1.2.3.4');
    expect(getPath(doc, 'request.ipChain.5.ip')).toBeUndefined();
    expect(getPath(doc, 'constructor')).toBeUndefined();
  });
});

describe('boundUserName: user names longer than MAX_USER_CHARS', () => {
  const long = (c: string, n: number) => c.repeat(n);

  it('leaves names up to the bound as they are', () => {
    for (const name of ['alice', long('a', MAX_USER_CHARS), long('😀', MAX_USER_CHARS)])
      expect(boundUserName(name)).toEqual({ name, truncated: false });
  });

  it('cuts a longer name to the bound, marked with a hash of the whole name: same name, same result; different names, different results', () => {
    const a = boundUserName(long('a', 10 * 1024 * 1024));
    expect(a.truncated).toBe(true);
    expect([...a.name]).toHaveLength(MAX_USER_CHARS);
    expect(a.name).toMatch(/^a+…#[0-9a-f]{16}$/);
    expect(boundUserName(long('a', 10 * 1024 * 1024)).name).toBe(a.name);
    // Differ only past the cut: still two users.
    const b = boundUserName(`${long('a', 300)}b`);
    const c = boundUserName(`${long('a', 300)}c`);
    expect(b.name).not.toBe(c.name);
    expect(b.name.slice(0, 200)).toBe(c.name.slice(0, 200));
  });

  it('counts characters, not UTF-16 units, and never cuts a surrogate pair', () => {
    const r = boundUserName(long('😀', MAX_USER_CHARS + 1));
    expect(r.truncated).toBe(true);
    expect([...r.name]).toHaveLength(MAX_USER_CHARS);
    expect(Buffer.from(r.name, 'utf8').toString('utf8')).toBe(r.name); // no half of a pair left
    expect(Buffer.byteLength(r.name, 'utf8')).toBeLessThanOrEqual(4 * MAX_USER_CHARS);
  });

  it('keeps a qualified name qualified: the user part is cut, the @domain kept (up to 64 characters)', () => {
    const r = boundUserName(`${long('x', 400)}@corp.example.com`);
    expect(r.name).toMatch(/^x+…#[0-9a-f]{16}@corp\.example\.com$/);
    expect([...r.name]).toHaveLength(MAX_USER_CHARS);
    const d = boundUserName(`bob@${long('d', 400)}`);
    expect(d.name).toMatch(/^bob…#[0-9a-f]{16}@d{64}$/);
  });

  it('is stable: a bounded name bounds and canonicalises to itself', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 600 }),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        (unit, n, domain) => {
          const raw = unit.repeat(Math.ceil(n / Math.max(1, unit.length)));
          const canonical = canonicalUser(raw, domain);
          if (canonical === undefined) return;
          const bounded = boundUserName(canonical).name;
          expect([...bounded].length).toBeLessThanOrEqual(MAX_USER_CHARS);
          expect(boundUserName(bounded)).toEqual({ name: bounded, truncated: false });
          // Only where canonicalUser is itself idempotent on the whole name (its rules, not the bound's).
          if (canonicalUser(canonical) === canonical) expect(canonicalUser(bounded)).toBe(bounded);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('every profile path bounds: a line and an Insights row with a 10 MB name give the same bounded user, flagged', () => {
    const huge = long('A', 10 * 1024 * 1024);
    const line = getProfile('sshd', { year: 2026 }).parseLine(
      `2026-03-20T10:00:00Z web-01 sshd[2]: Accepted password for ${huge} from 203.0.113.51 port 5000 ssh2`,
    );
    const row = getProfile('sshd').mapRow({
      user: huge,
      ip: '203.0.113.51',
      outcome: 'Accepted',
      host: 'web-01',
      logons: '1',
      first: '2026-03-20 10:00:00.000',
      last: '2026-03-20 10:00:00.000',
    });
    expect(line).toMatchObject({ kind: 'event', userTruncated: true });
    expect(row).toMatchObject({ kind: 'observation', userTruncated: true });
    if (line.kind !== 'event' || row.kind !== 'observation') throw new Error('unreachable');
    expect(line.event.user).toBe(row.observation.user);
    expect(line.event.user).toBe(boundUserName(huge.toLowerCase()).name);
    // A name within the bound carries no flag.
    expect(
      getProfile('ecs').parseLine(
        JSON.stringify({
          '@timestamp': '2026-03-20T10:00:00Z',
          event: { category: 'authentication', outcome: 'success' },
          user: { name: 'alice' },
          source: { ip: '203.0.113.9' },
        }),
      ),
    ).not.toHaveProperty('userTruncated');
  });
});
