import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalUser, checkIp, getPath, isMachineAccount, parseTime } from '../../../shared/core/profiles/common';
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
      fc.property(fc.string({ unit: piece }), fc.option(fc.string({ unit: piece }), { nil: undefined }), (raw, domain) => {
        const once = canonicalUser(raw, domain);
        if (once !== undefined) {
          expect(canonicalUser(once)).toBe(once);
          expect(once).not.toBe('-');
        }
      }),
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
    for (const local of ['-', '', '  ', '127.0.0.1', '::1', '0.0.0.0', '::']) expect(checkIp(local).kind, local).toBe('local');
    for (const bad of ['localhost', '1.2.3', '999.1.1.1', undefined]) expect(checkIp(bad).kind, String(bad)).toBe('bad');
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
    for (const bad of ['2026-02-30T00:00:00Z', '2026-11-02T24:00:00Z', '2026-11-02T08:15:03+25:00', '0', '1793607303', 'yesterday', '', null, {}, NaN, Infinity]) {
      expect(parseTime(bad), String(bad)).toBeUndefined();
    }
  });

  it('agrees with Date.parse on ISO strings to the millisecond', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('2001-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }), (d) => {
        expect(parseTime(d.toISOString())).toBe(d.getTime());
        expect(parseTime(d.toISOString().replace('T', ' ').replace('Z', ''))).toBe(d.getTime());
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('getPath', () => {
  it('reads nested, flattened-key and array-index paths', () => {
    const doc = { event: { category: ['authentication', 'session'] }, 'user.name': 'alice', request: { ipChain: [{ ip: '1.2.3.4' }] } };
    expect(getPath(doc, 'event.category.1')).toBe('session');
    expect(getPath(doc, 'user.name')).toBe('alice');
    expect(getPath(doc, 'request.ipChain.0.ip')).toBe('1.2.3.4');
    expect(getPath(doc, 'request.ipChain.5.ip')).toBeUndefined();
    expect(getPath(doc, 'constructor')).toBeUndefined();
  });
});
