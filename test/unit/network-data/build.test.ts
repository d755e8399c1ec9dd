import { describe, expect, it } from 'vitest';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';
import { parseIp2AsnLine } from '../../../shared/core/network-data/build';
import { build, fixtureLines, row } from './support';

const dbOf = (lines: string[]) => NetworkDatabase.fromBytes(build(lines).bytes);

describe('building from the publisher file', () => {
  it('reads the extract whole: every row kept or accounted for', () => {
    const { stats } = build();
    const rows = fixtureLines().filter((l) => l.trim() !== '').length;
    expect(stats).toMatchObject({ lines: rows, malformed: 0, overlapping: 0, notRouted: 6, merged: 1, renamedAsns: 0 });
    expect(stats.ipv4Ranges + stats.ipv6Ranges + stats.notRouted + stats.merged).toBe(rows);
  });

  it('counts and skips malformed lines, keeping the first few with line numbers, and builds from the rest', () => {
    const lines = [
      row('8.8.8.0', '8.8.8.255', 15169, 'US', 'GOOGLE'),
      'not a row',
      row('1.2.3.4', 'x', 1),
      row('1.2.3.0', '1.2.3.255', 99999999999),
      row('1.2.4.0', '1.2.4.255', 5, 'usa'),
      row('1.2.6.0', '1.2.5.255', 5),
      row('1.2.7.0', '2001:db8::', 5),
      '',
    ];
    const { stats } = build(lines);
    expect(stats.malformed).toBe(6);
    expect(stats.ipv4Ranges).toBe(1);
    expect(stats.examples).toEqual([
      'line 2: 1 tab-separated fields, expected 5',
      'line 3: "x" is not an IP address',
      'line 4: AS number "99999999999" is not a 32-bit number',
      'line 5: country "usa" is not an ISO 3166 alpha-2 code',
      'line 6: range ends before it starts',
    ]);
    expect(dbOf(lines).lookup('8.8.8.8')).toMatchObject({ asn: 15169 });
  });

  it('leaves out AS 0 ("Not routed") rows, so those addresses look up as not routed', () => {
    const db = dbOf([row('10.0.0.0', '10.255.255.255', 0, 'None', 'Not routed'), row('11.0.0.0', '11.0.0.255', 7)]);
    expect(db.meta.ipv4Ranges).toBe(1);
    expect(db.lookup('10.0.0.1')).toEqual({ known: false, reason: 'not-routed' });
  });

  it('keeps the earlier of overlapping ranges and says so; sorts rows given out of order', () => {
    const lines = [row('9.0.1.0', '9.0.1.255', 3), row('9.0.0.0', '9.0.1.127', 1), row('9.0.0.128', '9.0.0.200', 2)];
    const { stats } = build(lines);
    expect(stats.overlapping).toBe(2);
    const db = dbOf(lines);
    expect(db.lookup('9.0.0.150')).toMatchObject({ asn: 1 });
    expect(db.lookup('9.0.1.200')).toEqual({ known: false, reason: 'not-routed' });
  });

  it('joins adjacent ranges of the same AS and country, not of different ones', () => {
    const db = dbOf([
      row('9.0.0.0', '9.0.0.255', 1, 'DE'),
      row('9.0.1.0', '9.0.1.255', 1, 'DE'),
      row('9.0.2.0', '9.0.2.255', 1, 'FR'),
      row('2001:db8::', '2001:db8::ffff', 2),
      row('2001:db8::1:0', '2001:db8::1:ffff', 2),
    ]);
    expect(db.meta.ipv4Ranges).toBe(2);
    expect(db.meta.ipv6Ranges).toBe(1);
    expect(db.lookup('9.0.1.9')).toMatchObject({ asn: 1, country: 'DE' });
    expect(db.lookup('9.0.2.9')).toMatchObject({ asn: 1, country: 'FR' });
    expect(db.lookup('2001:db8::1:5')).toMatchObject({ asn: 2 });
  });

  it('keeps an ASN\'s first name and counts renames; "None" is no country; CRLF lines read the same', () => {
    const { stats } = build([
      row('9.0.0.0', '9.0.0.255', 1, 'None', 'FIRST'),
      row('9.1.0.0', '9.1.0.255', 1, 'US', 'SECOND') + '\r',
    ]);
    expect(stats.renamedAsns).toBe(1);
    const db = dbOf([
      row('9.0.0.0', '9.0.0.255', 1, 'None', 'FIRST'),
      row('9.1.0.0', '9.1.0.255', 1, 'US', 'SECOND') + '\r',
    ]);
    expect(db.lookup('9.0.0.1')).toEqual({ known: true, asn: 1, org: 'FIRST', country: undefined });
    expect(db.lookup('9.1.0.1')).toEqual({ known: true, asn: 1, org: 'FIRST', country: 'US' });
  });

  it('keeps organisation names with any characters, tabs included', () => {
    expect(parseIp2AsnLine('9.0.0.0\t9.0.0.255\t1\tJP\tÜber Netz\tGmbH')).toMatchObject({ org: 'Über Netz\tGmbH' });
    expect(dbOf(['9.0.0.0\t9.0.0.255\t1\tJP\tÜber Netz — 東京']).lookup('9.0.0.1')).toMatchObject({
      org: 'Über Netz — 東京',
    });
  });

  it('builds an empty database from no rows', () => {
    const db = dbOf([]);
    expect(db.meta).toMatchObject({ ipv4Ranges: 0, ipv6Ranges: 0 });
    expect(db.lookup('8.8.8.8')).toEqual({ known: false, reason: 'not-routed' });
    expect(db.lookup('2001:db8::1')).toEqual({ known: false, reason: 'not-routed' });
  });
});
