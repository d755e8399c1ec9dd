/**
 * The network-data refresh end to end: the refresh Lambda's composition root (its own S3 client, the HTTP
 * source, the use case) against a publisher on 127.0.0.1 serving the checked-in extract as gzip, and an
 * in-memory S3 (aws-sdk-client-mock); then the loader the detector will call, reading what the refresh wrote.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { compose, handler } from '../../lambdas/refresh-network-data/handler';
import { REFRESH_ENV } from '../../lambdas/refresh-network-data/config';
import { AWS_MAX_ATTEMPTS, AWS_RETRY_MODE, createS3Client } from '../../shared/adapters/aws-clients';
import { loadNetworkData, NETWORK_DATA_METRICS } from '../../shared/adapters/network-data-loader';
import { S3NetworkDataStore } from '../../shared/adapters/network-data-s3';
import { HttpNetworkDataSource } from '../../shared/adapters/network-data-source';
import { DAY_MS } from '../../shared/core/model';
import { NetworkDataError } from '../../shared/errors';
import { refreshNetworkData, type RefreshDeps } from '../../shared/refresh-network-data';
import { fakeS3, type FakeS3 } from '../support/fake-s3';
import { startLocalEndpoint, type LocalEndpoint } from '../support/local-endpoint';
import { fixtureLines, row } from '../unit/network-data/support';

const BUCKET = 'authwatch-network-data-test';
const POINTER = 'network-data/current.json';
/** Bounds that fit the extract (the deployed defaults expect the real file's ~650,000 ranges). */
const EXPECTATIONS = JSON.stringify({ minIpv4Ranges: 5, maxIpv4Ranges: 50, minIpv6Ranges: 3, maxIpv6Ranges: 50 });

const extract = fixtureLines().join('\n');
const gz = (text: string) => gzipSync(Buffer.from(text));
const withRow = (extra: string) => `${extract}${extra}\n`;

let server: LocalEndpoint;
let base: string;
const served: Record<string, { status: number; body: Uint8Array | string; type?: string }> = {};
const requests: string[] = [];

beforeAll(async () => {
  const good = gz(extract);
  Object.assign(served, {
    '/ip2asn-combined.tsv.gz': { status: 200, body: good },
    '/grown.tsv.gz': { status: 200, body: gz(withRow(row('4.0.0.0', '4.0.0.255', 3356, 'US', 'LEVEL3'))) },
    '/missing.tsv.gz': { status: 404, body: 'Not Found' },
    '/truncated.tsv.gz': { status: 200, body: good.subarray(0, Math.floor(good.length / 2)) },
    // The last bytes missing: every row decompresses, only the gzip trailer is gone; still not a whole file.
    '/trailer-cut.tsv.gz': { status: 200, body: good.subarray(0, good.length - 4) },
    '/error-page.tsv.gz': {
      status: 200,
      body: '<html><body>Service temporarily unavailable</body></html>',
      type: 'text/html',
    },
    '/wrong-owner.tsv.gz': {
      status: 200,
      body: gz(
        extract.replace(
          '8.8.8.0\t8.8.8.255\t15169\tUS\tGOOGLE',
          row('8.8.8.0', '8.8.8.255', 64512, 'US', 'SOMEONE-ELSE'),
        ),
      ),
    },
  });
  server = await startLocalEndpoint((req, _body, res) => {
    requests.push(req.url ?? '');
    const r = served[req.url ?? ''];
    if (req.url === '/hang.tsv.gz') return; // never answers
    res.statusCode = r?.status ?? 404;
    res.setHeader('content-type', r?.type ?? 'application/gzip');
    res.end(r?.body ?? 'Not Found');
  });
  base = server.url;
});

afterAll(async () => {
  await server.close();
});

let s3: FakeS3;
beforeEach(() => {
  s3?.mock.restore();
  s3 = fakeS3(BUCKET);
  requests.length = 0;
});
afterAll(() => s3?.mock.restore());

function env(path: string): Record<string, string> {
  return {
    [REFRESH_ENV.bucket]: BUCKET,
    [REFRESH_ENV.url]: `${base}${path}`,
    [REFRESH_ENV.expectations]: EXPECTATIONS,
  };
}

/** The Lambda's own dependencies for `path`, with a clock that advances a day per reading. */
function deps(path: string, start = Date.UTC(2026, 10, 1)): RefreshDeps {
  let t = start;
  return { ...compose(env(path)), clock: { now: () => (t += DAY_MS) } };
}

const store = () => new S3NetworkDataStore({ client: createS3Client({ region: 'eu-west-1' }), bucket: BUCKET });
const pointerText = () => new TextDecoder().decode(s3.objects.get(POINTER));

describe('refresh', () => {
  it('builds the publisher file into the bucket, then points at it; the loader reads it', async () => {
    const summary = await refreshNetworkData(deps('/ip2asn-combined.tsv.gz'));
    expect(summary.previousKey).toBeUndefined();
    expect(summary.current).toMatchObject({ source: `${base}/ip2asn-combined.tsv.gz`, ipv4Ranges: 8, ipv6Ranges: 6 });
    expect(summary.current.key).toMatch(/^network-data\/databases\/2026-11-0\dT00-00-00\.000Z-[0-9a-f]{8}\.awnd$/);
    // The pointer is written last, after the database was stored and read back.
    expect(s3.calls).toEqual([
      `Get ${POINTER}`,
      `Put ${summary.current.key}`,
      `Get ${summary.current.key}`,
      `Put ${POINTER}`,
      'List network-data/databases/',
    ]);
    expect(JSON.parse(pointerText())).toEqual(summary.current);

    const metrics: Record<string, number> = {};
    const loaded = await loadNetworkData({
      reader: store(),
      now: Date.parse(summary.current.builtAt) + DAY_MS,
      metric: (n, v) => (metrics[n] = v),
    });
    expect(loaded.status).toBe('current');
    expect(loaded.lookup('8.8.8.8')).toEqual({ known: true, asn: 15169, org: 'GOOGLE', country: 'US' });
    expect(loaded.lookup('2606:4700:4700::1111')).toMatchObject({ asn: 13335, org: 'CLOUDFLARENET' });
    expect(metrics).toEqual({
      [NETWORK_DATA_METRICS.unavailable]: 0,
      [NETWORK_DATA_METRICS.ageDays]: 1,
      [NETWORK_DATA_METRICS.stale]: 0,
    });
  });

  it('swaps a newer build in, keeping the previous ones up to three, and never deletes the current one', async () => {
    const d = deps('/ip2asn-combined.tsv.gz');
    const keys: string[] = [];
    for (let i = 0; i < 5; i++) keys.push((await refreshNetworkData(d)).current.key);
    const grown = await refreshNetworkData({
      ...d,
      source: new HttpNetworkDataSource({ url: `${base}/grown.tsv.gz` }),
    });
    expect(grown.previousKey).toBe(keys[4]);
    const stored = [...s3.objects.keys()].filter((k) => k.endsWith('.awnd')).sort();
    expect(stored).toEqual([keys[3], keys[4], grown.current.key]);
    expect(JSON.parse(pointerText()).key).toBe(grown.current.key);
    const loaded = await loadNetworkData({ reader: store(), now: Date.parse(grown.current.builtAt) });
    expect(loaded.lookup('4.0.0.1')).toMatchObject({ asn: 3356, org: 'LEVEL3' });
  });

  describe('a failed refresh never replaces the database in use', () => {
    let before: Map<string, Uint8Array>;
    beforeEach(async () => {
      await refreshNetworkData(deps('/ip2asn-combined.tsv.gz'));
      before = new Map(s3.objects);
      s3.calls.length = 0;
    });

    const unchanged = async () => {
      expect(s3.objects).toEqual(before);
      expect(s3.calls.filter((c) => c === `Put ${POINTER}`)).toEqual([]);
      expect((await loadNetworkData({ reader: store(), now: Date.UTC(2026, 10, 3) })).lookup('8.8.8.8')).toMatchObject({
        asn: 15169,
      });
    };

    it.each([
      ['/missing.tsv.gz', /HTTP 404/],
      ['/truncated.tsv.gz', /gzip stream is truncated or corrupt/],
      ['/trailer-cut.tsv.gz', /gzip stream is truncated or corrupt/],
      ['/error-page.tsv.gz', /gzip stream is truncated or corrupt/],
      [
        '/wrong-owner.tsv.gz',
        /failed validation; the database in use is unchanged:\n {2}- 8\.8\.8\.8 resolves to AS64512, expected AS15169/,
      ],
    ])('%s', async (path, message) => {
      const failed = refreshNetworkData(deps(path));
      await expect(failed).rejects.toThrow(NetworkDataError);
      await expect(refreshNetworkData(deps(path))).rejects.toThrow(message);
      expect(requests).toContain(path);
      await unchanged();
    });

    it('a much smaller file than the one in use', async () => {
      const fewer = fixtureLines().filter((l) => !l.startsWith('198.') && !l.startsWith('192.0.2.'));
      served['/shrunk.tsv.gz'] = { status: 200, body: gz(fewer.join('\n')) };
      await expect(refreshNetworkData(deps('/shrunk.tsv.gz'))).rejects.toThrow(
        /:\n {2}- 5 IPv4 ranges, down from 8 in the database in use \(below 80% of it\)$/,
      );
      await unchanged();
    });

    it('S3 refusing the pointer write', async () => {
      s3.failPut = (key) =>
        key === POINTER ? Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }) : undefined;
      await expect(refreshNetworkData(deps('/ip2asn-combined.tsv.gz'))).rejects.toThrow(
        `writing s3://${BUCKET}/${POINTER} failed: AccessDenied: Access Denied`,
      );
      // The new database object was stored (the next refresh prunes it), but nothing points at it.
      expect(JSON.parse(pointerText())).toEqual(JSON.parse(new TextDecoder().decode(before.get(POINTER))));
    });

    it('a download that does not finish in time', async () => {
      const source = new HttpNetworkDataSource({ url: `${base}/hang.tsv.gz`, timeoutMs: 200 });
      await expect(refreshNetworkData({ ...deps('/ip2asn-combined.tsv.gz'), source })).rejects.toThrow(
        /downloading .*hang\.tsv\.gz failed/,
      );
      await unchanged();
    });

    it('a file larger than allowed', async () => {
      const source = new HttpNetworkDataSource({ url: `${base}/ip2asn-combined.tsv.gz`, maxBytes: 100 });
      await expect(refreshNetworkData({ ...deps('/ip2asn-combined.tsv.gz'), source })).rejects.toThrow(
        /more than 100 bytes; refusing the rest/,
      );
      await unchanged();
    });
  });

  it('runs as the Lambda handler from its environment', async () => {
    for (const [k, v] of Object.entries(env('/ip2asn-combined.tsv.gz'))) vi.stubEnv(k, v);
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    try {
      const summary = await handler();
      expect(summary.current.ipv4Ranges).toBe(8);
      expect(JSON.parse(pointerText()).key).toBe(summary.current.key);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('builds its S3 client through the one factory: its attempts and retry mode', async () => {
    const client = createS3Client({ region: 'eu-west-1' });
    expect(await client.config.maxAttempts()).toBe(AWS_MAX_ATTEMPTS.s3);
    expect(await client.config.retryStrategy()).toMatchObject({ mode: AWS_RETRY_MODE });
    client.destroy();
  });

  it('refuses a configuration it cannot use, listing every problem', () => {
    expect(() =>
      compose({ [REFRESH_ENV.url]: 'ftp://x', [REFRESH_ENV.expectations]: '{"minIpv4Ranges":-1,"typo":1}' }),
    ).toThrow(
      /AUTHWATCH_NETWORK_DATA_BUCKET: required[\s\S]*AUTHWATCH_NETWORK_DATA_URL: must be an http\(s\) URL[\s\S]*AUTHWATCH_NETWORK_DATA_EXPECTATIONS/,
    );
  });
});

describe('loader', () => {
  const warnings: string[] = [];
  const logger = { warn: (m: string) => void warnings.push(m) };
  beforeEach(() => {
    warnings.length = 0;
  });

  it('answers "unknown" for every address, with a warning and a metric, when nothing was ever swapped in', async () => {
    const metrics: Record<string, number> = {};
    const loaded = await loadNetworkData({
      reader: store(),
      now: Date.UTC(2026, 10, 3),
      logger,
      metric: (n, v) => (metrics[n] = v),
    });
    expect(loaded.status).toBe('missing');
    expect(loaded.lookup('8.8.8.8')).toEqual({ known: false, reason: 'no-data' });
    expect(warnings).toEqual(['network-owner data missing: owner and country lookups answer "unknown"']);
    expect(metrics).toEqual({ [NETWORK_DATA_METRICS.unavailable]: 1, [NETWORK_DATA_METRICS.stale]: 0 });
  });

  it('still uses a stale database, saying how old it is', async () => {
    const { current } = await refreshNetworkData(deps('/ip2asn-combined.tsv.gz'));
    const metrics: Record<string, number> = {};
    const loaded = await loadNetworkData({
      reader: store(),
      now: Date.parse(current.builtAt) + 12.5 * DAY_MS,
      maxAgeDays: 10,
      logger,
      metric: (n, v) => (metrics[n] = v),
    });
    expect(loaded.status).toBe('stale');
    expect(loaded.problem).toMatch(/12 days ago \(limit 10\); is the refresh failing\?/);
    expect(loaded.lookup('1.1.1.1')).toMatchObject({ asn: 13335 });
    expect(warnings).toEqual(['network-owner data stale: still used']);
    expect(metrics).toEqual({
      [NETWORK_DATA_METRICS.unavailable]: 0,
      [NETWORK_DATA_METRICS.ageDays]: 12.5,
      [NETWORK_DATA_METRICS.stale]: 1,
    });
  });

  it('answers "unknown" from a stale database when told to', async () => {
    const { current } = await refreshNetworkData(deps('/ip2asn-combined.tsv.gz'));
    const loaded = await loadNetworkData({
      reader: store(),
      now: Date.parse(current.builtAt) + 11 * DAY_MS,
      whenStale: 'unknown',
      logger,
    });
    expect(loaded).toMatchObject({ status: 'stale', ageDays: 11, meta: { ipv4Ranges: 8 } });
    expect(loaded.lookup('1.1.1.1')).toEqual({ known: false, reason: 'no-data' });
    expect(warnings).toEqual(['network-owner data stale: not used, owner and country lookups answer "unknown"']);
  });

  it.each([
    [
      'a database object that is not what the pointer names',
      (key: string) => s3.objects.set(key, s3.objects.get(key)!.slice(0, -8)),
      /bytes, the pointer says/,
    ],
    [
      'a database object altered in place',
      (key: string) => s3.objects.get(key)!.set([1], 200),
      /SHA-256 [0-9a-f]+ differs/,
    ],
    ['a deleted database object', (key: string) => s3.objects.delete(key), /NoSuchKey/],
    ['a pointer that is not JSON', () => s3.objects.set(POINTER, new TextEncoder().encode('{oops')), /is not JSON/],
    [
      'a pointer missing fields',
      () => s3.objects.set(POINTER, new TextEncoder().encode('{"key":"x"}')),
      /is not a network-data pointer: builtAt/,
    ],
  ])('answers "unknown" after %s', async (_what, damage, problem) => {
    const { current } = await refreshNetworkData(deps('/ip2asn-combined.tsv.gz'));
    damage(current.key);
    const loaded = await loadNetworkData({ reader: store(), now: Date.parse(current.builtAt), logger });
    expect(loaded.status).toBe('unreadable');
    expect(loaded.problem).toMatch(problem);
    expect(loaded.lookup('8.8.8.8')).toEqual({ known: false, reason: 'no-data' });
    expect(warnings).toEqual(['network-owner data unreadable: owner and country lookups answer "unknown"']);
  });

  it('a refresh after an unreadable pointer replaces it', async () => {
    s3.objects.set(POINTER, new TextEncoder().encode('{oops'));
    const { current } = await refreshNetworkData({ ...deps('/ip2asn-combined.tsv.gz'), logger });
    expect(warnings).toEqual(['current network-data pointer unreadable; refreshing without comparing to it']);
    expect((await loadNetworkData({ reader: store(), now: Date.parse(current.builtAt) })).status).toBe('current');
  });
});
