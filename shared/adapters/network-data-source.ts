/**
 * The publisher's file over HTTP(S) (or a local file for the build script), gunzipped as it streams and split
 * into lines, so the download never sits in memory as the tens of megabytes of text it expands to.
 *
 * Every way a file can arrive incomplete is an error here, not a short file: an HTTP error status, a dropped
 * connection, a gzip stream that ends early or is corrupt, the time limit, or more bytes than allowed. A
 * refresh that sees a short file as complete would swap in a database missing half the Internet.
 */
import { createReadStream } from 'node:fs';
import { PassThrough, pipeline, Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { NetworkDataError } from '../errors';
import type { NetworkDataSource } from '../ports/network-data';

/** IPtoASN's combined IPv4 + IPv6 file (public domain / PDDL). */
export const IPTOASN_COMBINED_URL = 'https://iptoasn.com/data/ip2asn-combined.tsv.gz';
/** ~650,000 lines of ~60 characters compress to a few MB; 100 MB is a different file, not growth. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024;
/** Decompressed text allowed (a gzip bomb stops here); ~650,000 lines are ~40–60 MB. */
export const DEFAULT_MAX_TEXT_BYTES = 512 * 1024 * 1024;
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 120_000;

interface StreamLimits {
  readonly maxBytes: number;
  readonly maxTextBytes: number;
}

/** Bytes → (gunzip) → lines; any failure of any stage ends the iteration with a NetworkDataError. */
async function* streamLines(
  what: string,
  input: Readable,
  gzip: boolean,
  limits: StreamLimits,
): AsyncGenerator<string> {
  let received = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > limits.maxBytes)
        done(new NetworkDataError(`${what}: more than ${limits.maxBytes} bytes; refusing the rest`));
      else done(null, chunk);
    },
  });
  const out = gzip ? createGunzip() : new PassThrough();
  // pipeline destroys every stage with the first error, so iterating `out` throws it.
  pipeline(input, limit, out, () => {});
  out.setEncoding('utf8');
  let rest = '';
  let text = 0;
  try {
    for await (const chunk of out as AsyncIterable<string>) {
      text += chunk.length;
      if (text > limits.maxTextBytes)
        throw new NetworkDataError(
          `${what}: more than ${limits.maxTextBytes} characters once decompressed; refusing the rest`,
        );
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      yield* parts;
    }
  } catch (e) {
    if (e instanceof NetworkDataError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new NetworkDataError(
      gzip
        ? `${what}: the gzip stream is truncated or corrupt, or the transfer failed (${why})`
        : `${what} failed (${why})`,
      { cause: e },
    );
  } finally {
    out.destroy();
  }
  if (rest !== '') yield rest;
}

export interface HttpNetworkDataSourceProps {
  readonly url: string;
  /** Gunzip the body; default: the URL's path ends in `.gz`. */
  readonly gzip?: boolean;
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
  readonly maxTextBytes?: number;
  /** Tests: another fetch. */
  readonly fetch?: typeof fetch;
}

/** The publisher's file from a URL. */
export class HttpNetworkDataSource implements NetworkDataSource {
  readonly name: string;
  private readonly props: HttpNetworkDataSourceProps;

  constructor(props: HttpNetworkDataSourceProps) {
    let url: URL;
    try {
      url = new URL(props.url);
    } catch (e) {
      throw new NetworkDataError(`network-data URL "${props.url}" is not a URL`, { cause: e });
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new NetworkDataError(`network-data URL "${props.url}" must be http(s)`);
    this.name = props.url;
    this.props = props;
  }

  async *lines(): AsyncGenerator<string> {
    const { url } = this.props;
    const gzip = this.props.gzip ?? new URL(url).pathname.endsWith('.gz');
    const doFetch = this.props.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(url, {
        signal: AbortSignal.timeout(this.props.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS),
        redirect: 'follow',
      });
    } catch (e) {
      throw new NetworkDataError(`downloading ${url} failed: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new NetworkDataError(`downloading ${url}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    }
    const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    yield* streamLines(`downloading ${url}`, body, gzip, {
      maxBytes: this.props.maxBytes ?? DEFAULT_MAX_DOWNLOAD_BYTES,
      maxTextBytes: this.props.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES,
    });
  }
}

/** The publisher's file from any byte stream (stdin, a file): gunzipped if `gzip`. */
export class StreamNetworkDataSource implements NetworkDataSource {
  constructor(
    /** Recorded as the source in the header. */
    readonly name: string,
    private readonly open: () => Readable,
    private readonly gzip: boolean,
  ) {}

  lines(): AsyncGenerator<string> {
    return streamLines(`reading ${this.name}`, this.open(), this.gzip, {
      maxBytes: Number.MAX_SAFE_INTEGER,
      maxTextBytes: Number.MAX_SAFE_INTEGER,
    });
  }
}

/** The publisher's file from disk (the build script): gunzipped if the name ends in `.gz`. */
export function fileNetworkDataSource(path: string, name = path): StreamNetworkDataSource {
  return new StreamNetworkDataSource(name, () => createReadStream(path), path.endsWith('.gz'));
}
