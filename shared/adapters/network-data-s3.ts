/**
 * Network databases in the stack's S3 bucket: each build under its own never-reused key, and a small pointer
 * object naming the one in use.
 *
 * ```
 * <prefix>databases/2026-12-01T03-00-00.000Z-1a2b3c4d.awnd   built databases, oldest first by name
 * <prefix>current.json                                       the pointer: key, size, SHA-256, build time, counts
 * ```
 *
 * Swapping is one PutObject of the pointer, which S3 makes visible atomically and read-after-write consistent,
 * so a reader sees the old database or the new one, never a mix; the database object itself is never
 * overwritten, so a reader that fetched the pointer just before a swap still reads what it names.
 */
import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import * as z from 'zod';
import { NetworkDataError } from '../errors';
import type { NetworkDataPointer, NetworkDataStore } from '../ports/network-data';

/** Where everything lives in the bucket unless configured otherwise. */
export const DEFAULT_NETWORK_DATA_PREFIX = 'network-data/';
export const POINTER_NAME = 'current.json';
export const DATABASES_FOLDER = 'databases/';
export const DATABASE_SUFFIX = '.awnd';

const pointerSchema = z.object({
  key: z.string().min(1),
  builtAt: z.iso.datetime(),
  source: z.string(),
  ipv4Ranges: z.number().int().nonnegative(),
  ipv6Ranges: z.number().int().nonnegative(),
  bytes: z.number().int().positive(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface S3NetworkDataStoreProps {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix, ending in "/". */
  readonly prefix?: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class S3NetworkDataStore implements NetworkDataStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  readonly prefix: string;

  constructor(props: S3NetworkDataStoreProps) {
    this.client = props.client;
    this.bucket = props.bucket;
    this.prefix = props.prefix ?? DEFAULT_NETWORK_DATA_PREFIX;
    if (this.prefix !== '' && !this.prefix.endsWith('/'))
      throw new NetworkDataError(`network-data prefix "${this.prefix}" must end in "/"`);
  }

  get pointerKey(): string {
    return `${this.prefix}${POINTER_NAME}`;
  }

  async current(): Promise<NetworkDataPointer | undefined> {
    const bytes = await this.get(this.pointerKey, true);
    if (bytes === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch (e) {
      throw new NetworkDataError(`s3://${this.bucket}/${this.pointerKey} is not JSON`, { cause: e });
    }
    const r = pointerSchema.safeParse(json);
    if (!r.success)
      throw new NetworkDataError(
        `s3://${this.bucket}/${this.pointerKey} is not a network-data pointer: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
      );
    return r.data;
  }

  async read(pointer: NetworkDataPointer): Promise<Uint8Array> {
    const bytes = (await this.get(pointer.key, false))!;
    if (bytes.length !== pointer.bytes)
      throw new NetworkDataError(
        `s3://${this.bucket}/${pointer.key}: ${bytes.length} bytes, the pointer says ${pointer.bytes}`,
      );
    const sha = sha256Hex(bytes);
    if (sha !== pointer.sha256)
      throw new NetworkDataError(
        `s3://${this.bucket}/${pointer.key}: SHA-256 ${sha} differs from the pointer's ${pointer.sha256}`,
      );
    return bytes;
  }

  async put(
    bytes: Uint8Array,
    meta: { builtAt: number; source: string; ipv4Ranges: number; ipv6Ranges: number },
  ): Promise<NetworkDataPointer> {
    const builtAt = new Date(meta.builtAt).toISOString();
    const sha256 = sha256Hex(bytes);
    // Time first so names sort oldest first; the hash makes two builds in one millisecond distinct.
    const key = `${this.prefix}${DATABASES_FOLDER}${builtAt.replace(/:/g, '-')}-${sha256.slice(0, 8)}${DATABASE_SUFFIX}`;
    await this.send(`writing s3://${this.bucket}/${key}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: bytes,
          ContentType: 'application/octet-stream',
          Metadata: { 'built-at': builtAt, sha256 },
        }),
      ),
    );
    return {
      key,
      builtAt,
      source: meta.source,
      ipv4Ranges: meta.ipv4Ranges,
      ipv6Ranges: meta.ipv6Ranges,
      bytes: bytes.length,
      sha256,
    };
  }

  async swap(pointer: NetworkDataPointer): Promise<void> {
    const body = JSON.stringify(pointerSchema.parse(pointer), null, 2);
    await this.send(
      `writing s3://${this.bucket}/${this.pointerKey}`,
      // No caching anywhere between us and a reader: the pointer is the one object that changes.
      () =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.pointerKey,
            Body: body,
            ContentType: 'application/json',
            CacheControl: 'no-cache',
          }),
        ),
    );
  }

  async list(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out: ListObjectsV2CommandOutput = await this.send(
        `listing s3://${this.bucket}/${this.prefix}${DATABASES_FOLDER}`,
        () =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: `${this.prefix}${DATABASES_FOLDER}`,
              ...(token ? { ContinuationToken: token } : {}),
            }),
          ),
      );
      for (const o of out.Contents ?? []) if (o.Key?.endsWith(DATABASE_SUFFIX)) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys.sort();
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      if (!key.startsWith(`${this.prefix}${DATABASES_FOLDER}`))
        throw new NetworkDataError(`refusing to delete ${key}: not a stored network database`);
      await this.send(`deleting s3://${this.bucket}/${key}`, () =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      );
    }
  }

  private async get(key: string, missingOk: boolean): Promise<Uint8Array | undefined> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!out.Body) throw new NetworkDataError(`s3://${this.bucket}/${key} has no body`);
      return await out.Body.transformToByteArray();
    } catch (e) {
      if (missingOk && isMissing(e)) return undefined;
      if (e instanceof NetworkDataError) throw e;
      throw new NetworkDataError(`reading s3://${this.bucket}/${key} failed: ${errorText(e)}`, { cause: e });
    }
  }

  private async send<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (e) {
      throw new NetworkDataError(`${what} failed: ${errorText(e)}`, { cause: e });
    }
  }
}

function isMissing(e: unknown): boolean {
  return e instanceof NoSuchKey || (e instanceof Error && (e.name === 'NoSuchKey' || e.name === 'NotFound'));
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}
