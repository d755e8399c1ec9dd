/**
 * The detector's network data (lambdas/detector/network-data.ts): where it is read from, loaded once per container,
 * tried again after a load that found nothing, never a reason for a run to fail; and the metrics each run reports.
 */
import { describe, expect, it } from 'vitest';
import {
  DetectorNetworkData,
  parseNetworkDataLocation,
  RETRY_UNAVAILABLE_MS,
} from '../../../lambdas/detector/network-data';
import { NETWORK_DATA_LOCATION_ENV } from '../../../lambdas/network-data-env';
import { REFRESH_ENV } from '../../../lambdas/refresh-network-data/config';
import { NETWORK_DATA_METRICS } from '../../../shared/adapters/network-data-loader';
import { sha256Hex } from '../../../shared/adapters/network-data-s3';
import { DAY_MS } from '../../../shared/core/model';
import { ConfigError, NetworkDataError } from '../../../shared/errors';
import type { NetworkDataPointer, NetworkDataReader } from '../../../shared/ports/network-data';
import { BUILT_AT, build } from '../network-data/support';

const bytes = build().bytes;
const POINTER: NetworkDataPointer = {
  key: 'network-data/databases/x.awnd',
  builtAt: new Date(BUILT_AT).toISOString(),
  source: 'test',
  ipv4Ranges: 8,
  ipv6Ranges: 6,
  bytes: bytes.length,
  sha256: sha256Hex(bytes),
};

/** A reader whose answer the test sets, counting the reads. */
function reader(answer: () => NetworkDataPointer | undefined | Error) {
  const r = {
    currentCalls: 0,
    async current() {
      r.currentCalls++;
      const a = answer();
      if (a instanceof Error) throw a;
      return a;
    },
    async read() {
      return bytes;
    },
  } satisfies NetworkDataReader & { currentCalls: number };
  return r;
}

function logger() {
  const lines: string[] = [];
  return {
    lines,
    warn: (m: string) => void lines.push(`warn ${m}`),
    error: (m: string) => void lines.push(`error ${m}`),
  };
}

describe('location', () => {
  it('is the refresh function’s bucket and prefix, read from the same variables', () => {
    expect(REFRESH_ENV.bucket).toBe(NETWORK_DATA_LOCATION_ENV.bucket);
    expect(REFRESH_ENV.prefix).toBe(NETWORK_DATA_LOCATION_ENV.prefix);
    expect(
      parseNetworkDataLocation({
        [NETWORK_DATA_LOCATION_ENV.bucket]: 'b',
        [NETWORK_DATA_LOCATION_ENV.prefix]: 'owners/',
      }),
    ).toEqual({ bucket: 'b', prefix: 'owners/' });
    expect(parseNetworkDataLocation({ [NETWORK_DATA_LOCATION_ENV.bucket]: 'b' })).toEqual({
      bucket: 'b',
      prefix: 'network-data/',
    });
  });

  it('is absent without a bucket (a deployment without network data), and refuses a prefix not ending in "/"', () => {
    expect(parseNetworkDataLocation({})).toBeUndefined();
    expect(() =>
      parseNetworkDataLocation({ [NETWORK_DATA_LOCATION_ENV.bucket]: 'b', [NETWORK_DATA_LOCATION_ENV.prefix]: 'x' }),
    ).toThrow(ConfigError);
  });
});

describe('loading', () => {
  const now = BUILT_AT + 2 * DAY_MS;

  it('loads once per container and keeps the database for every later run', async () => {
    const r = reader(() => POINTER);
    const data = new DetectorNetworkData(r, logger());
    const first = await data.get(now);
    expect(first.status).toBe('current');
    expect(first.lookup('8.8.8.8')).toMatchObject({ asn: 15169 });
    expect(await data.get(now + 3 * RETRY_UNAVAILABLE_MS)).toBe(first);
    expect(r.currentCalls).toBe(1);
  });

  it('after finding no database, tries again only once the retry interval has passed', async () => {
    let pointer: NetworkDataPointer | undefined;
    const r = reader(() => pointer);
    const log = logger();
    const data = new DetectorNetworkData(r, log);
    expect((await data.get(now)).status).toBe('missing');
    pointer = POINTER; // the first refresh has run since
    expect((await data.get(now + RETRY_UNAVAILABLE_MS - 1)).status).toBe('missing');
    expect(r.currentCalls).toBe(1);
    const later = await data.get(now + RETRY_UNAVAILABLE_MS);
    expect(later.status).toBe('current');
    expect(r.currentCalls).toBe(2);
    expect(log.lines).toEqual(['warn network-owner data missing: owner and country lookups answer "unknown"']);
  });

  it('answers "unknown" on an S3 error and on an unexpected one, never throwing', async () => {
    const s3 = new DetectorNetworkData(
      reader(() => new NetworkDataError('reading s3://b/network-data/current.json failed: AccessDenied')),
      logger(),
    );
    expect((await s3.get(now)).lookup('8.8.8.8')).toEqual({ known: false, reason: 'no-data' });

    const log = logger();
    const bug = new DetectorNetworkData(
      reader(() => new TypeError('x is undefined')),
      log,
    );
    const loaded = await bug.get(now);
    expect(loaded.status).toBe('unreadable');
    expect(loaded.lookup('8.8.8.8')).toEqual({ known: false, reason: 'no-data' });
    expect(log.lines).toEqual([
      'error network-owner data could not be loaded: owner and country lookups answer "unknown"',
    ]);
  });
});

describe('run metrics', () => {
  it('report the age at each run, so a warm container turns stale without a new load', async () => {
    const data = new DetectorNetworkData(
      reader(() => POINTER),
      logger(),
    );
    const loaded = await data.get(BUILT_AT + DAY_MS);
    expect(data.metrics(loaded, BUILT_AT + DAY_MS)).toEqual({
      [NETWORK_DATA_METRICS.unavailable]: 0,
      [NETWORK_DATA_METRICS.ageDays]: 1,
      [NETWORK_DATA_METRICS.stale]: 0,
    });
    expect(data.metrics(loaded, BUILT_AT + 10.5 * DAY_MS)).toEqual({
      [NETWORK_DATA_METRICS.unavailable]: 0,
      [NETWORK_DATA_METRICS.ageDays]: 10.5,
      [NETWORK_DATA_METRICS.stale]: 1,
    });
  });

  it('report "unavailable" and no age without a database', async () => {
    const data = new DetectorNetworkData(
      reader(() => undefined),
      logger(),
    );
    expect(data.metrics(await data.get(BUILT_AT), BUILT_AT)).toEqual({
      [NETWORK_DATA_METRICS.unavailable]: 1,
      [NETWORK_DATA_METRICS.stale]: 0,
    });
  });
});
