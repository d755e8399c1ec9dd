import { describe, expect, it } from 'vitest';
import {
  decodeNetworkData,
  HEADER_BYTES,
  NETWORK_DATA_VERSION,
  readNetworkDataMeta,
} from '../../../shared/core/network-data/format';
import { NetworkDatabase } from '../../../shared/core/network-data/lookup';
import { NetworkDataError } from '../../../shared/errors';
import { build, BUILT_AT } from './support';

describe('network-data format', () => {
  const { bytes } = build();

  it('says what it is in its header: version, build time, source, counts, size', () => {
    expect(readNetworkDataMeta(bytes)).toEqual({
      version: NETWORK_DATA_VERSION,
      builtAt: BUILT_AT,
      source: 'test',
      ipv4Ranges: 8,
      ipv6Ranges: 6,
      countries: 4,
      asns: 10,
      bytes: bytes.length,
    });
    expect(String.fromCharCode(...bytes.subarray(0, 4))).toBe('AWND');
  });

  it('keeps every section 8-byte aligned, so the tables are views, not copies', () => {
    const t = decodeNetworkData(bytes);
    for (const a of [
      t.v4Start,
      t.v4End,
      t.v4AsnIndex,
      t.v4Country,
      t.v6Start,
      t.v6End,
      t.v6AsnIndex,
      t.v6Country,
      t.asnTable,
      t.asnNameEnd,
    ]) {
      expect(a.buffer).toBe(bytes.buffer);
      expect(a.byteOffset % 8).toBe(0);
    }
  });

  it('reads a database that sits at an unaligned offset (copying its tables) the same way', () => {
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const db = NetworkDatabase.fromBytes(shifted.subarray(3));
    expect(db.lookup('8.8.8.8')).toEqual({ known: true, asn: 15169, org: 'GOOGLE', country: 'US' });
    expect(db.lookup('2606:4700::1')).toMatchObject({ asn: 13335 });
  });

  it('refuses what is not a whole database of this version, with a NetworkDataError', () => {
    const expectError = (b: Uint8Array, message: RegExp) => {
      expect(() => NetworkDatabase.fromBytes(b)).toThrow(NetworkDataError);
      expect(() => NetworkDatabase.fromBytes(b)).toThrow(message);
    };
    expectError(bytes.subarray(0, 10), /shorter than the 64-byte header/);
    expectError(bytes.subarray(0, bytes.length - 1), /truncated/);
    expectError(new TextEncoder().encode('<html>'.padEnd(200, ' ')), /bad magic/);
    const v2 = bytes.slice();
    v2[4] = 2;
    expectError(v2, /format version 2/);
    // A header whose counts do not match the sections (a corrupt write).
    const counts = bytes.slice();
    new DataView(counts.buffer).setUint32(16, 9, true);
    expectError(counts, /sections need/);
  });

  it('refuses ranges out of order (a binary search would answer wrongly) and indexes past a table', () => {
    const t = decodeNetworkData(bytes);
    const broken = bytes.slice();
    // Swap the first two IPv4 starts in place.
    const starts = new Uint32Array(broken.buffer, t.v4Start.byteOffset, t.v4Start.length);
    [starts[0], starts[1]] = [starts[1]!, starts[0]!];
    expect(() => NetworkDatabase.fromBytes(broken)).toThrow(/IPv4 range/);
    const v6 = bytes.slice();
    const v6Starts = new Uint32Array(v6.buffer, t.v6Start.byteOffset, t.v6Start.length);
    v6Starts[4] = 0; // the second range now starts at 0: before the first
    expect(() => NetworkDatabase.fromBytes(v6)).toThrow(/IPv6 ranges not ascending/);
    const asn = bytes.slice();
    new Uint32Array(asn.buffer, t.v4AsnIndex.byteOffset, t.v4AsnIndex.length)[2] = t.asnTable.length;
    expect(() => NetworkDatabase.fromBytes(asn)).toThrow('IPv4 ASN index out of range at row 2');
  });

  it('is small: the extract builds to under 1 KB, a header plus the rows', () => {
    expect(bytes.length).toBeGreaterThan(HEADER_BYTES);
    expect(bytes.length).toBeLessThan(1024);
  });
});
