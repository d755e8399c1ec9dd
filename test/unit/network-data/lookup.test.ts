import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import { ipv4ToUint32, ipv6ToWords, NetworkDatabase } from '../../../shared/core/network-data/lookup';
import { formatIp, parseIp } from '../../../shared/core/net';
import { fixtureDb, row } from './support';

describe('lookups in the checked-in extract', () => {
  const db = fixtureDb();

  it.each([
    ['8.8.8.8', 15169, 'GOOGLE', 'US'],
    ['8.8.4.4', 15169, 'GOOGLE', 'US'],
    ['1.1.1.1', 13335, 'CLOUDFLARENET', 'US'],
    ['2001:4860:4860::8888', 15169, 'GOOGLE', 'US'],
    ['2606:4700:4700::1111', 13335, 'CLOUDFLARENET', 'US'],
    // The invented owners of the documentation ranges the demo and the scenario generator use.
    ['192.0.2.10', 64496, 'EXAMPLE-CORP-OFFICE', 'NL'],
    ['198.51.100.20', 64497, 'EXAMPLE-CORP-VPN', 'NL'],
    ['203.0.113.72', 64498, 'EXAMPLE-HOSTING', 'US'],
    ['2001:db8::1', 64499, 'EXAMPLE-V6-DOCNET', 'NL'],
    ['3fff:a10:1::5', 65538, 'EXAMPLE-ISP-V6-C', 'DE'],
  ])('%s → AS%i %s %s', (ip, asn, org, country) => {
    expect(db.lookup(ip)).toEqual({ known: true, asn, org, country });
  });

  it('reads addresses as logs write them: IPv4-mapped IPv6, brackets, upper case, zones', () => {
    expect(db.lookup('::ffff:8.8.8.8')).toMatchObject({ asn: 15169 });
    expect(db.lookup('[2001:DB8::1]')).toMatchObject({ asn: 64499 });
    expect(db.lookup('2606:4700:4700::1111%eth0')).toMatchObject({ asn: 13335 });
  });

  it('says why an address has no owner', () => {
    expect(db.lookup('10.1.2.3')).toEqual({ known: false, reason: 'not-routed' }); // an AS 0 row of the file
    expect(db.lookup('100.64.0.1')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('4.4.4.4')).toEqual({ known: false, reason: 'not-routed' }); // in no row at all
    expect(db.lookup('0.0.0.0')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('255.255.255.255')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('::')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual({ known: false, reason: 'not-routed' });
    for (const bad of ['', 'x', '1.2.3', '1.2.3.256', '01.2.3.4', '1.2.3.4.5', '2001:db8::g', '-'])
      expect(db.lookup(bad), bad).toEqual({ known: false, reason: 'invalid-ip' });
  });

  it('includes both ends of a range and nothing past them', () => {
    expect(db.lookup('8.8.8.0')).toMatchObject({ asn: 15169 });
    expect(db.lookup('8.8.8.255')).toMatchObject({ asn: 15169 });
    expect(db.lookup('8.8.7.255')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('8.8.9.0')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('2001:4860::')).toMatchObject({ asn: 15169 });
    expect(db.lookup('2001:4860:ffff:ffff:ffff:ffff:ffff:ffff')).toMatchObject({ asn: 15169 });
    expect(db.lookup('2001:4861::')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('2001:485f:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual({ known: false, reason: 'not-routed' });
  });

  it('names organisations by ASN', () => {
    expect(db.orgOf(15169)).toBe('GOOGLE');
    expect(db.orgOf(1)).toBeUndefined();
  });
});

describe('ipv4ToUint32', () => {
  it('agrees with the general parser on every dotted quad and rejects what it rejects', () => {
    const octet = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map(String),
      fc.constantFrom('00', '01', '256', '999', '', 'a', '+1', '1e2'),
    );
    fc.assert(
      fc.property(fc.array(octet, { minLength: 3, maxLength: 5 }), (parts) => {
        const s = parts.join('.');
        const p = parseIp(s);
        const expected =
          p && p.family === 4 && !s.includes(':')
            ? ((p.bytes[0]! << 24) | (p.bytes[1]! << 16) | (p.bytes[2]! << 8) | p.bytes[3]!) >>> 0
            : -1;
        expect(ipv4ToUint32(s)).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves what only the general parser reads (padding, brackets) to it, so lookups still find it', () => {
    expect(ipv4ToUint32(' 8.8.8.8')).toBe(-1);
    expect(fixtureDb().lookup(' 8.8.8.8 ')).toMatchObject({ asn: 15169 });
  });
});

describe('lookups agree with a linear scan of the rows', () => {
  const u32ToIp = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  const v6 = (hi: number) => `2001:${hi.toString(16)}::`;
  const v6end = (hi: number) => `2001:${hi.toString(16)}:ffff:ffff:ffff:ffff:ffff:ffff`;

  it('IPv4: random disjoint ranges, random addresses', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 0xffff }), { minLength: 1, maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: 20, maxLength: 20 }),
        (blocks, probes) => {
          // Each block is a /16-aligned range of random length inside its /16: disjoint by construction.
          const ranges = blocks.map((b, i) => ({
            start: b * 65536,
            end: b * 65536 + ((i * 7919) % 65536),
            asn: 100 + i,
          }));
          const db = NetworkDatabase.fromBytes(
            buildNetworkData(
              ranges.map((r) => row(u32ToIp(r.start), u32ToIp(r.end), r.asn)),
              { builtAt: 0, source: 't' },
            ).bytes,
          );
          for (const ip of [...probes, ...ranges.flatMap((r) => [r.start, r.end, r.end + 1, r.start - 1])]) {
            if (ip < 0 || ip > 0xffffffff) continue;
            const hit = ranges.find((r) => r.start <= ip && ip <= r.end);
            const got = db.lookup(u32ToIp(ip));
            expect(got.known ? got.asn : undefined, u32ToIp(ip)).toBe(hit?.asn);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('IPv6: random /32s, addresses at their edges', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 0xfffe }), { minLength: 1, maxLength: 30 }), (his) => {
        const db = NetworkDatabase.fromBytes(
          buildNetworkData(
            his.map((h, i) => row(v6(h), v6end(h), 200 + i)),
            { builtAt: 0, source: 't' },
          ).bytes,
        );
        his.forEach((h, i) => {
          expect(db.lookup(`2001:${h.toString(16)}::1`)).toMatchObject({ asn: 200 + i });
          expect(db.lookup(v6end(h))).toMatchObject({ asn: 200 + i });
          if (!his.includes(h + 1)) expect(db.lookup(v6(h + 1)).known).toBe(false);
          if (!his.includes(h - 1)) expect(db.lookup(v6end(h - 1)).known).toBe(false);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('ipv6ToWords', () => {
  const wordsOf = (b: Uint8Array) =>
    Array.from(
      { length: 4 },
      (_, w) => ((b[w * 4]! << 24) | (b[w * 4 + 1]! << 16) | (b[w * 4 + 2]! << 8) | b[w * 4 + 3]!) >>> 0,
    );
  const full = (b: Uint8Array) =>
    Array.from({ length: 8 }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16).padStart(4, '0')).join(':');

  it('reads every address written compressed (RFC 5952), in full, or in upper case as the general parser does', () => {
    // Bytes with runs of zero groups, so "::" lands at the start, middle and end.
    const group = fc.oneof(
      fc.constant([0, 0]),
      fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (gs) => {
        const bytes = new Uint8Array(gs.flat());
        const out = new Uint32Array(4);
        for (const text of [formatIp({ family: 6, bytes }), full(bytes), full(bytes).toUpperCase()]) {
          const parsed = parseIp(text);
          if (parsed?.family !== 6) continue; // IPv4-mapped: the general parser unwraps it to IPv4
          expect(ipv6ToWords(text, out), text).toBe(true);
          expect(Array.from(out), text).toEqual(wordsOf(bytes));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('leaves everything else to the general parser', () => {
    const out = new Uint32Array(4);
    for (const s of [
      '',
      ':',
      ':::',
      '1:',
      ':1',
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2:3:4:5:6:7:8',
      '12345::',
      'g::',
      '::ffff:1.2.3.4',
      '[::1]',
      'fe80::1%eth0',
      '1.2.3.4',
    ]) {
      expect(ipv6ToWords(s, out), s).toBe(false);
    }
    expect(ipv6ToWords('::', out)).toBe(true);
    expect(Array.from(out)).toEqual([0, 0, 0, 0]);
    expect(ipv6ToWords('1::', out)).toBe(true);
    expect(Array.from(out)).toEqual([0x10000, 0, 0, 0]);
  });
});
