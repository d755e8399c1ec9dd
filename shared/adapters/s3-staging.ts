/**
 * `S3Staging`: the staging port on an S3 bucket, for the Step Functions fan-out, where every step is its own Lambda
 * invocation and only S3 outlives them. Keys are the port's relative paths under an optional root (`runs/`); the
 * bucket's lifecycle rule expires what a failed run left (infra/constructs/fanout.ts). Throttling and transient
 * errors are retried by the SDK client (aws-clients.ts), never here; what still fails is a `StagingError`, with
 * the SDK's error as its cause.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { stagingKeyProblem, stagingPrefixProblem } from '../core/staging-key';
import { StagingError } from '../errors';
import type { Staging } from '../ports/staging';
import { errorText } from './aws-retry';

/** DeleteObjects takes at most 1,000 keys per request (S3 API reference). */
export const S3_DELETE_BATCH = 1000;

export interface S3StagingProps {
  readonly client: S3Client;
  readonly bucket: string;
  /** Prepended to every key; empty, or ending in "/". */
  readonly root?: string;
}

export class S3Staging implements Staging {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly root: string;

  constructor(props: S3StagingProps) {
    this.client = props.client;
    this.bucket = props.bucket;
    this.root = props.root ?? '';
    if (this.root !== '' && (!this.root.endsWith('/') || stagingPrefixProblem(this.root, false)))
      throw new StagingError(`staging root ${JSON.stringify(this.root)} must be a relative path ending in "/"`);
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    const k = this.objectKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: k, Body: value }));
    } catch (e) {
      throw new StagingError(`staging: could not write s3://${this.bucket}/${k}: ${errorText(e)}`, { cause: e });
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const k = this.objectKey(key);
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: k }));
      if (!res.Body) throw new Error('GetObject returned no body');
      return await res.Body.transformToByteArray();
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return undefined;
      throw new StagingError(`staging: could not read s3://${this.bucket}/${k}: ${errorText(e)}`, { cause: e });
    }
  }

  async list(prefix: string): Promise<string[]> {
    checkPrefix(prefix, true);
    return (await this.objectKeys(this.root + prefix)).map((k) => k.slice(this.root.length));
  }

  async deletePrefix(prefix: string): Promise<void> {
    checkPrefix(prefix, false);
    const keys = await this.objectKeys(this.root + prefix);
    for (let i = 0; i < keys.length; i += S3_DELETE_BATCH) {
      const batch = keys.slice(i, i + S3_DELETE_BATCH);
      let errors: { Key?: string; Code?: string; Message?: string }[];
      try {
        const res = await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            // Quiet: the response lists only the keys that failed.
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        );
        errors = res.Errors ?? [];
      } catch (e) {
        throw new StagingError(
          `staging: could not delete under s3://${this.bucket}/${this.root}${prefix}: ${errorText(e)}`,
          {
            cause: e,
          },
        );
      }
      // DeleteObjects succeeds as a request while failing some keys: those are reported, never taken as deleted.
      if (errors.length > 0) {
        const named = errors
          .slice(0, 5)
          .map((x) => `${x.Key} (${x.Code ?? 'error'}: ${x.Message ?? ''})`)
          .join(', ');
        throw new StagingError(
          `staging: ${errors.length} of ${batch.length} objects under s3://${this.bucket}/${this.root}${prefix} not deleted: ${named}${errors.length > 5 ? ', …' : ''}`,
        );
      }
    }
  }

  private objectKey(key: string): string {
    const problem = stagingKeyProblem(key);
    if (problem) throw new StagingError(`staging key ${JSON.stringify(key)} ${problem}`);
    return this.root + key;
  }

  /** Every object key under `prefix` (root included), following ListObjectsV2's continuation tokens. */
  private async objectKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      try {
        const res = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ...(token !== undefined ? { ContinuationToken: token } : {}),
          }),
        );
        for (const o of res.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = res.IsTruncated ? res.NextContinuationToken : undefined;
        // A truncated page without a way to the next would silently shorten the list (and leave keys undeleted).
        if (res.IsTruncated && token === undefined) throw new Error('a truncated page without NextContinuationToken');
      } catch (e) {
        throw new StagingError(`staging: could not list s3://${this.bucket}/${prefix}: ${errorText(e)}`, { cause: e });
      }
    } while (token !== undefined);
    return keys;
  }
}

function checkPrefix(prefix: string, allowEmpty: boolean): void {
  const problem = stagingPrefixProblem(prefix, allowEmpty);
  if (problem) throw new StagingError(`staging prefix ${JSON.stringify(prefix)} ${problem}`);
}
