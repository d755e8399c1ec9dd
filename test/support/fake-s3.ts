/**
 * An in-memory S3 bucket behind aws-sdk-client-mock: every S3Client in the test process (including the one a
 * composition root builds with createS3Client) reads and writes this map, and each call is recorded.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export interface FakeS3 {
  /** key → bytes, for the one bucket the tests use. */
  readonly objects: Map<string, Uint8Array>;
  /** "Put <key>", "Get <key>", "List <prefix>", "Delete <key>" in call order. */
  readonly calls: string[];
  readonly mock: ReturnType<typeof mockClient>;
  /** When set, a PutObject of a key it returns an error for fails with that error (and stores nothing). */
  failPut: ((key: string) => Error | undefined) | undefined;
}

function bytesOf(body: unknown): Uint8Array {
  if (typeof body === 'string') return new TextEncoder().encode(body);
  if (body instanceof Uint8Array) return new Uint8Array(body);
  throw new Error(`fake S3: unsupported body ${typeof body}`);
}

/** Install the fake (call `mock.restore()` after the file's tests). Objects of any bucket other than `bucket` are refused. */
export function fakeS3(bucket: string): FakeS3 {
  const objects = new Map<string, Uint8Array>();
  const calls: string[] = [];
  const mock = mockClient(S3Client);
  const fake: FakeS3 = { objects, calls, mock, failPut: undefined };
  const check = (b: string | undefined) => {
    if (b !== bucket) throw Object.assign(new Error(`fake S3: no bucket ${b}`), { name: 'NoSuchBucket' });
  };
  mock.on(PutObjectCommand).callsFake((input: { Bucket?: string; Key?: string; Body?: unknown }) => {
    check(input.Bucket);
    calls.push(`Put ${input.Key}`);
    const error = fake.failPut?.(input.Key!);
    if (error) throw error;
    objects.set(input.Key!, bytesOf(input.Body));
    return { ETag: '"fake"' };
  });
  mock.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    check(input.Bucket);
    calls.push(`Get ${input.Key}`);
    const bytes = objects.get(input.Key!);
    if (!bytes)
      throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    const copy = bytes.slice();
    return { ContentLength: copy.length, Body: { transformToByteArray: async () => copy } };
  });
  mock.on(ListObjectsV2Command).callsFake((input: { Bucket?: string; Prefix?: string }) => {
    check(input.Bucket);
    calls.push(`List ${input.Prefix}`);
    const keys = [...objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
    return {
      Contents: keys.map((Key) => ({ Key, Size: objects.get(Key)!.length })),
      IsTruncated: false,
      KeyCount: keys.length,
    };
  });
  mock.on(DeleteObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    check(input.Bucket);
    calls.push(`Delete ${input.Key}`);
    objects.delete(input.Key!);
    return {};
  });
  return fake;
}
