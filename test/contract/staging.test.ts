/**
 * The staging port (shared/ports/staging.ts): one contract, checked against every adapter — in memory, a directory,
 * S3 behind aws-sdk-client-mock (an in-memory bucket that pages its listings, so pagination is exercised) — then
 * what only one of them can get wrong: S3's batched deletes and partial failures, the directory's escape attempts.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectsCommand,
  type DeleteObjectsCommandInput,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryStaging } from '../../shared/adapters/directory-staging';
import { InMemoryStaging } from '../../shared/adapters/in-memory-staging';
import { S3_DELETE_BATCH, S3Staging } from '../../shared/adapters/s3-staging';
import { StagingError } from '../../shared/errors';
import type { Staging } from '../../shared/ports/staging';

const BUCKET = 'authwatch-staging-test';
const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

/** An in-memory bucket: ListObjectsV2 returns `pageSize` keys a page, in key order, as S3 does. */
interface FakeBucket {
  objects: Map<string, Uint8Array>;
  pageSize: number;
  /** Each DeleteObjects request's keys. */
  deletes: string[][];
  /** Keys DeleteObjects reports as failed (and keeps). */
  failDelete: Set<string>;
}

const s3 = mockClient(S3Client);
let bucket: FakeBucket;

function installFakeBucket(): void {
  bucket = { objects: new Map(), pageSize: 3, deletes: [], failDelete: new Set() };
  const check = (b: string | undefined) => {
    if (b !== BUCKET) throw new Error(`no bucket ${b}`);
  };
  s3.reset();
  s3.on(PutObjectCommand).callsFake((input: { Bucket?: string; Key?: string; Body?: Uint8Array }) => {
    check(input.Bucket);
    bucket.objects.set(input.Key!, new Uint8Array(input.Body!));
    return {};
  });
  s3.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    check(input.Bucket);
    const v = bucket.objects.get(input.Key!);
    if (!v) throw new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
    const copy = v.slice();
    return { Body: { transformToByteArray: async () => copy } };
  });
  s3.on(ListObjectsV2Command).callsFake(
    (input: { Bucket?: string; Prefix?: string; ContinuationToken?: string; MaxKeys?: number }) => {
      check(input.Bucket);
      const all = [...bucket.objects.keys()].filter((k) => k.startsWith(input.Prefix ?? '')).sort();
      const from = input.ContinuationToken === undefined ? 0 : Number(input.ContinuationToken);
      const page = all.slice(from, from + bucket.pageSize);
      const next = from + page.length;
      return {
        Contents: page.map((Key) => ({ Key })),
        KeyCount: page.length,
        IsTruncated: next < all.length,
        ...(next < all.length ? { NextContinuationToken: String(next) } : {}),
      };
    },
  );
  s3.on(DeleteObjectsCommand).callsFake((input: DeleteObjectsCommandInput) => {
    check(input.Bucket);
    const keys = (input.Delete?.Objects ?? []).map((o) => o.Key!);
    bucket.deletes.push(keys);
    const Errors = [];
    for (const k of keys) {
      if (bucket.failDelete.has(k)) Errors.push({ Key: k, Code: 'AccessDenied', Message: 'Access Denied' });
      else bucket.objects.delete(k);
    }
    return Errors.length > 0 ? { Errors } : {};
  });
}

const dirs: string[] = [];
afterAll(() => {
  s3.restore();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const adapters: [string, () => Staging][] = [
  ['InMemoryStaging', () => new InMemoryStaging()],
  [
    'DirectoryStaging',
    () => {
      const d = mkdtempSync(join(tmpdir(), 'authwatch-staging-test-'));
      dirs.push(d);
      return new DirectoryStaging(d);
    },
  ],
  ['S3Staging', () => new S3Staging({ client: new S3Client({ region: 'eu-west-1' }), bucket: BUCKET })],
  [
    'S3Staging under a root',
    () => new S3Staging({ client: new S3Client({ region: 'eu-west-1' }), bucket: BUCKET, root: 'runs/' }),
  ],
];

describe.each(adapters)('the staging contract: %s', (_name, make) => {
  let staging: Staging;
  beforeEach(() => {
    installFakeBucket();
    staging = make();
  });

  it('gives back what was put, byte for byte, and undefined for a key never put', async () => {
    const value = new Uint8Array([0, 1, 2, 255, 10, 13]);
    await staging.put('run-1/obs/3', value);
    expect(await staging.get('run-1/obs/3')).toEqual(value);
    expect(await staging.get('run-1/obs/4')).toBeUndefined();
    expect(await staging.get('run-2/obs/3')).toBeUndefined();
    await staging.put('run-1/empty', new Uint8Array());
    expect(await staging.get('run-1/empty')).toEqual(new Uint8Array());
  });

  it('replaces a value put again under the same key (a retried step)', async () => {
    await staging.put('run-1/eval/0', bytes('first attempt, longer than the second'));
    await staging.put('run-1/eval/0', bytes('second'));
    expect(text(await staging.get('run-1/eval/0'))).toBe('second');
    expect(await staging.list('run-1/')).toEqual(['run-1/eval/0']);
  });

  it('is not changed by the caller mutating a buffer after putting it', async () => {
    const value = bytes('abc');
    await staging.put('run-1/a', value);
    value[0] = 0x7a;
    expect(text(await staging.get('run-1/a'))).toBe('abc');
  });

  it('lists the keys under a prefix, as they were put, across pages, and nothing of other runs', async () => {
    const mine = Array.from({ length: 8 }, (_, i) => `run-1/obs/${i}`);
    for (const k of [...mine, 'run-1/plan', 'run-10/obs/0', 'run-2/obs/0']) await staging.put(k, bytes(k));
    expect((await staging.list('run-1/obs/')).sort()).toEqual(mine.sort());
    expect((await staging.list('run-1/')).sort()).toEqual([...mine, 'run-1/plan'].sort());
    // A prefix is a string prefix of keys, like S3's: `run-1` also matches `run-10/…`.
    expect((await staging.list('run-1')).length).toBe(10);
    expect(await staging.list('run-3/')).toEqual([]);
    expect((await staging.list('')).length).toBe(11);
  });

  it('deletes every key under a prefix and nothing else', async () => {
    for (let i = 0; i < 7; i++) await staging.put(`run-1/obs/${i}`, bytes('x'));
    await staging.put('run-1/plan', bytes('p'));
    await staging.put('run-2/obs/0', bytes('y'));
    await staging.deletePrefix('run-1/');
    expect(await staging.list('run-1/')).toEqual([]);
    expect(await staging.get('run-1/obs/0')).toBeUndefined();
    expect(text(await staging.get('run-2/obs/0'))).toBe('y');
    // Deleting what is already gone (a retried finish, or abandon after finish) is no error.
    await staging.deletePrefix('run-1/');
    await staging.put('run-1/obs/0', bytes('again'));
    expect(text(await staging.get('run-1/obs/0'))).toBe('again');
  });

  it.each([
    ['', 'is empty'],
    ['/etc/passwd', 'is absolute'],
    ['run-1/../../etc/passwd', '".." segment'],
    ['..', '".." segment'],
    ['run-1//obs', 'empty segment'],
    ['run-1/obs/', 'empty segment'],
    ['run-1\\obs', 'backslash'],
    ['run-1/.hidden', 'starting with "."'],
    ['./run-1', 'starting with "."'],
  ])('refuses the key %j (%s), on put and on get', async (key, why) => {
    await expect(staging.put(key, bytes('x'))).rejects.toThrow(StagingError);
    await expect(staging.put(key, bytes('x'))).rejects.toThrow(why);
    await expect(staging.get(key)).rejects.toThrow(StagingError);
  });

  it('refuses to delete everything (an empty prefix) and prefixes that leave the staging area', async () => {
    await staging.put('run-1/a', bytes('x'));
    await expect(staging.deletePrefix('')).rejects.toThrow(/every run/);
    await expect(staging.deletePrefix('../')).rejects.toThrow(StagingError);
    await expect(staging.list('/run-1')).rejects.toThrow(StagingError);
    expect(await staging.list('')).toEqual(['run-1/a']);
  });
});

describe('S3Staging', () => {
  beforeEach(installFakeBucket);
  const client = () => new S3Client({ region: 'eu-west-1' });

  it('stores keys under its root and lists them without it', async () => {
    const staging = new S3Staging({ client: client(), bucket: BUCKET, root: 'runs/' });
    await staging.put('run-1/obs/0', bytes('x'));
    expect([...bucket.objects.keys()]).toEqual(['runs/run-1/obs/0']);
    expect(await staging.list('run-1/')).toEqual(['run-1/obs/0']);
  });

  it('refuses a root that is not a relative folder', () => {
    for (const root of ['runs', '/runs/', '../runs/'])
      expect(() => new S3Staging({ client: client(), bucket: BUCKET, root }), root).toThrow(StagingError);
  });

  it(`deletes in batches of at most ${S3_DELETE_BATCH} keys (the DeleteObjects limit)`, async () => {
    bucket.pageSize = 1000; // S3's own page size
    const staging = new S3Staging({ client: client(), bucket: BUCKET });
    for (let i = 0; i < 2500; i++) bucket.objects.set(`run-1/w/${String(i).padStart(4, '0')}`, bytes('x'));
    bucket.objects.set('run-2/w/0', bytes('kept'));
    await staging.deletePrefix('run-1/');
    expect(bucket.deletes.map((d) => d.length)).toEqual([1000, 1000, 500]);
    expect(new Set(bucket.deletes.flat()).size).toBe(2500);
    expect([...bucket.objects.keys()]).toEqual(['run-2/w/0']);
  });

  it('fails, naming them, when DeleteObjects reports keys it did not delete', async () => {
    const staging = new S3Staging({ client: client(), bucket: BUCKET });
    for (let i = 0; i < 4; i++) await staging.put(`run-1/obs/${i}`, bytes('x'));
    bucket.failDelete.add('run-1/obs/2');
    const err = await staging.deletePrefix('run-1/').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StagingError);
    expect((err as Error).message).toMatch(/1 of 4 objects .* not deleted: run-1\/obs\/2 \(AccessDenied/);
    expect(await staging.list('run-1/')).toEqual(['run-1/obs/2']);
  });

  it('wraps a failed call in a StagingError that keeps the SDK error, and never reads a failure as "nothing staged"', async () => {
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Access Denied',
    });
    s3.on(GetObjectCommand).rejects(denied);
    s3.on(PutObjectCommand).rejects(denied);
    s3.on(ListObjectsV2Command).rejects(denied);
    const staging = new S3Staging({ client: client(), bucket: BUCKET });
    for (const call of [
      () => staging.get('run-1/a'),
      () => staging.put('run-1/a', bytes('x')),
      () => staging.list('run-1/'),
      () => staging.deletePrefix('run-1/'),
    ]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StagingError);
      expect((err as StagingError).cause).toBe(denied);
      expect((err as Error).message).toContain(`s3://${BUCKET}/`);
    }
  });

  it('fails rather than return part of a listing when a truncated page has no continuation token', async () => {
    s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'run-1/a' }], IsTruncated: true });
    const staging = new S3Staging({ client: client(), bucket: BUCKET });
    await expect(staging.list('run-1/')).rejects.toThrow(/NextContinuationToken/);
  });
});

describe('DirectoryStaging', () => {
  let root: string;
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('keeps values as files below its directory, and nothing outside it', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'authwatch-staging-parent-'));
    root = parent;
    const staging = new DirectoryStaging(join(parent, 'stage'));
    await staging.put('run-1/obs/0', bytes('x'));
    expect(existsSync(join(parent, 'stage', 'run-1', 'obs', '0'))).toBe(true);
    await expect(staging.put('../outside', bytes('x'))).rejects.toThrow(StagingError);
    await expect(staging.put('run-1/../../outside', bytes('x'))).rejects.toThrow(StagingError);
    expect(readdirSync(parent)).toEqual(['stage']);
  });

  it('leaves no temporary file behind a put, and lists no file it did not stage as a key', async () => {
    const staging = await DirectoryStaging.temporary();
    root = staging.root;
    await staging.put('run-1/a', bytes('x'));
    expect(readdirSync(join(root, 'run-1'))).toEqual(['a']);
    // A leftover of a write cut off mid-way (a dot-name) is not a key.
    writeFileSync(join(root, 'run-1', '.partial-123'), 'half');
    expect(await staging.list('run-1/')).toEqual(['run-1/a']);
  });

  it('removes the directories a deletion leaves empty, and dispose removes everything', async () => {
    const staging = await DirectoryStaging.temporary();
    root = staging.root;
    await staging.put('run-1/obs/0', bytes('x'));
    await staging.put('run-2/obs/0', bytes('y'));
    await staging.deletePrefix('run-1/');
    expect(readdirSync(root)).toEqual(['run-2']);
    await staging.dispose();
    expect(existsSync(root)).toBe(false);
  });

  it('fails clearly when a key would need a value to be a directory', async () => {
    const staging = await DirectoryStaging.temporary();
    root = staging.root;
    await staging.put('run-1/a', bytes('x'));
    await expect(staging.put('run-1/a/b', bytes('y'))).rejects.toThrow(/could not write run-1\/a\/b/);
    expect(await staging.get('run-1/a/b')).toBeUndefined();
  });
});
