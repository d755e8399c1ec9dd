/**
 * Network-owner data (IP → ASN, organisation, country) kept fresh in the stack's own bucket: a weekly EventBridge
 * Scheduler schedule invokes the refresh function, which downloads the publisher's file, builds and validates a
 * database, stores it under a new key and swaps the pointer (shared/refresh-network-data.ts). The detector reads
 * it at cold start (`addReader`); the database travels as data, never inside the detector's bundle.
 *
 * The first refresh needs no custom resource: a rate-based Scheduler schedule without a start date invokes its
 * target as soon as it is created, so a new stack has its database minutes after the deployment, and until then
 * the detector runs without owners (and tries the bucket again an hour later, lambdas/detector/network-data.ts).
 */
import { join } from 'node:path';
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Grant, Role, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { ScheduleTargetInput, type Schedule } from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from '../../lambdas/bundle';
import { NETWORK_DATA_LOCATION_ENV } from '../../lambdas/network-data-env';
import { REFRESH_ENV } from '../../lambdas/refresh-network-data/config';
import { DATABASES_FOLDER, DEFAULT_NETWORK_DATA_PREFIX } from '../../shared/adapters/network-data-s3';
import { IPTOASN_COMBINED_URL } from '../../shared/adapters/network-data-source';
import { SERVICE_NAME_ENV } from '../../shared/telemetry';
import { DeadLetterQueue } from './dead-letter-queue';
import { functionProps } from './detector';
import { LambdaSchedule } from './schedule';

export const REFRESH_NETWORK_DATA_ENTRY = join(PROJECT_ROOT, 'lambdas', 'refresh-network-data', 'handler.ts');
/** IPtoASN publishes daily; owners of ranges change slowly, and weekly keeps the data well inside the loader's 10-day limit. */
export const REFRESH_INTERVAL = Duration.days(7);
/** Download (a few MB), build (~650,000 ranges: 3–10 s in `npm run bench` on a shared 2-core machine) and a few S3 calls; 5 minutes leaves room for a slow publisher. */
export const REFRESH_TIMEOUT = Duration.minutes(5);
/**
 * Building a full-size table (650,000 ranges, the bench's synthetic file) peaked at ~280 MB RSS in Node; 1 GB leaves
 * room for the publisher's growth and buys the CPU (Lambda's CPU scales with memory) to build in seconds.
 */
export const REFRESH_MEMORY_MB = 1024;
/** Scheduler's retries of an undelivered invocation, within a day: the next weekly run is six days later. */
export const REFRESH_SCHEDULE_RETRY_ATTEMPTS = 4;
export const REFRESH_SCHEDULE_MAX_EVENT_AGE = Duration.days(1);

export interface NetworkDataProps {
  /** The publisher's file (IPtoASN's ip2asn-combined.tsv.gz format). @default IPTOASN_COMBINED_URL */
  readonly sourceUrl?: string;
  /** @default REFRESH_INTERVAL (weekly) */
  readonly interval?: Duration;
  readonly logRetention: RetentionDays;
  /** Powertools service name: the `service` dimension of the refresh metrics. */
  readonly serviceName: string;
  /**
   * Keep the bucket when the stack is deleted. CloudFormation cannot delete a bucket that still holds objects, and
   * emptying it on delete would take a custom-resource Lambda for data that is public anyway; so by default the
   * bucket stays behind (a few MB, deleted by hand), and stack deletion succeeds. `false` suits test stacks.
   * @default true
   */
  readonly retain?: boolean;
}

export class NetworkData extends Construct {
  readonly bucket: Bucket;
  /** Key prefix of everything the refresh writes. */
  readonly prefix = DEFAULT_NETWORK_DATA_PREFIX;
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  /** Refreshes that failed after Lambda's retries, and invocations Scheduler could not deliver. */
  readonly deadLetterQueue: DeadLetterQueue;
  readonly schedule: Schedule;
  readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: NetworkDataProps) {
    super(scope, id);
    const retain = props.retain ?? true;

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versions are our own keys (one per build, pruned by the refresh); S3 versioning would only keep the pruned ones.
      versioned: false,
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Holds only public network-ownership data, written by the refresh function alone (its role is the only writer) and read by the detector; access logs would record those two roles weekly and per cold start. CloudTrail data events can be enabled for the bucket if an audit needs them.',
    });

    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.deadLetterQueue = new DeadLetterQueue(this, 'FailedRefreshes', {
      purpose:
        "network-data refreshes that failed after Lambda's async retries, and invocations Scheduler could not deliver",
    });

    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'authwatch network-data refresh: write network databases and the pointer in its own bucket prefix',
    });
    this.logGroup.grantWrite(this.role);
    this.grantRefresh(this.role);

    this.function = new NodejsFunction(
      this,
      'Function',
      functionProps({
        entry: REFRESH_NETWORK_DATA_ENTRY,
        description: 'authwatch: refresh the IP-to-network-owner database (weekly)',
        timeout: REFRESH_TIMEOUT,
        memorySize: REFRESH_MEMORY_MB,
        async: { retryAttempts: 2, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue },
        logGroup: this.logGroup,
        role: this.role,
        environment: {
          [REFRESH_ENV.bucket]: this.bucket.bucketName,
          [REFRESH_ENV.prefix]: this.prefix,
          [REFRESH_ENV.url]: props.sourceUrl ?? IPTOASN_COMBINED_URL,
          [SERVICE_NAME_ENV]: props.serviceName,
        },
      }),
    );

    const invoke = new LambdaSchedule(this, 'Schedule', {
      target: this.function,
      interval: props.interval ?? REFRESH_INTERVAL,
      description: 'authwatch: refresh the IP-to-network-owner database',
      roleDescription: 'authwatch: EventBridge Scheduler invokes the network-data refresh',
      input: ScheduleTargetInput.fromObject({}),
      retryAttempts: REFRESH_SCHEDULE_RETRY_ATTEMPTS,
      maxEventAge: REFRESH_SCHEDULE_MAX_EVENT_AGE,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.schedule = invoke.schedule;
    this.schedulerRole = invoke.role;
  }

  /**
   * A function that loads the database in use (the detector): read access (`grantRead`) and the two variables
   * naming the bucket and prefix, which are also how it knows the deployment has network data.
   */
  addReader(fn: LambdaFunction): void {
    this.grantRead(fn);
    fn.addEnvironment(NETWORK_DATA_LOCATION_ENV.bucket, this.bucket.bucketName);
    fn.addEnvironment(NETWORK_DATA_LOCATION_ENV.prefix, this.prefix);
  }

  /**
   * Read the database in use: GetObject under the prefix, and ListBucket on this bucket so that a missing pointer is
   * a 404 ("no data yet") rather than S3's 403 for callers who may not list.
   */
  grantRead(grantee: IGrantable): Grant {
    const read = this.allow(grantee, ['s3:GetObject'], this.bucket.arnForObjects(`${this.prefix}*`));
    this.allow(grantee, ['s3:ListBucket'], this.bucket.bucketArn);
    this.acknowledgeObjectWildcard(
      grantee,
      `s3:GetObject on "${this.prefix}*" only: the pointer and the databases it names, in this bucket alone`,
    );
    return read;
  }

  /** What the refresh does: read and write under the prefix, list and delete old databases. */
  private grantRefresh(role: Role): void {
    this.allow(role, ['s3:GetObject', 's3:PutObject'], this.bucket.arnForObjects(`${this.prefix}*`));
    this.allow(role, ['s3:DeleteObject'], this.bucket.arnForObjects(`${this.prefix}${DATABASES_FOLDER}*`));
    this.allow(role, ['s3:ListBucket'], this.bucket.bucketArn);
    this.acknowledgeObjectWildcard(
      role,
      `The refresh writes a new database key per build and the pointer under "${this.prefix}", and deletes only old databases under "${this.prefix}${DATABASES_FOLDER}": object keys are chosen at run time, so the grant names the prefixes of this one bucket`,
      `${this.prefix}${DATABASES_FOLDER}*`,
    );
  }

  private allow(grantee: IGrantable, actions: string[], resource: string): Grant {
    return Grant.addToPrincipal({ grantee, actions, resourceArns: [resource] });
  }

  private acknowledgeObjectWildcard(grantee: IGrantable, reason: string, ...extraPrefixes: string[]): void {
    const policy =
      grantee.grantPrincipal instanceof Role ? grantee.grantPrincipal.node.tryFindChild('DefaultPolicy') : undefined;
    if (!policy) return;
    const bucketId = Stack.of(this).getLogicalId(this.bucket.node.defaultChild as CfnElement);
    Validations.of(policy).acknowledge(
      ...[`${this.prefix}*`, ...extraPrefixes].map((p) => ({
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${p}]`,
        reason,
      })),
    );
  }
}
