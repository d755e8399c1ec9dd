/**
 * The baselines table: per-user baselines, population statistics, run state and the alert ledger, one table
 * keyed by `pk` (see shared/adapters/items/keys.ts for the item kinds).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import type { Grant, IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PARTITION_KEY, TTL_ATTRIBUTE } from '../../shared/adapters/items/keys';

/**
 * What the detector does to the table, and nothing more: BatchGetItem (baselines of the users seen), GetItem
 * (population, run state), PutItem (conditional writes of population, run state, ledger entries and the lease),
 * BatchWriteItem (a run's bulk write of baselines under the lease). A test reads the DynamoDB adapter's commands and
 * fails if it starts using one not listed here.
 */
export const DETECTOR_TABLE_ACTIONS = [
  'dynamodb:BatchGetItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:GetItem',
  'dynamodb:PutItem',
] as const;

export interface BaselineStorageProps {
  /**
   * Keep the table when the stack is deleted. Baselines are months of learned behaviour: losing them restarts the
   * learning period, so the default is to retain.
   * @default true
   */
  readonly retain?: boolean;
}

export class BaselineStorage extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: BaselineStorageProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: PARTITION_KEY, type: AttributeType.STRING },
      // On-demand: one run every 15 minutes is a short burst then silence, the worst case for provisioned capacity.
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Alert-ledger entries carry an epoch-seconds expiry; DynamoDB deletes them after it (within days, free).
      timeToLiveAttribute: TTL_ATTRIBUTE,
      // AWS-managed key: encrypted at rest with a key whose use is logged in CloudTrail, no key policy to maintain.
      encryption: TableEncryption.AWS_MANAGED,
      deletionProtection: props.retain ?? true,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }

  /** Let the detector read and write baselines, run state and the ledger (exactly `DETECTOR_TABLE_ACTIONS`). */
  grantDetector(grantee: IGrantable): Grant {
    return this.table.grant(grantee, ...DETECTOR_TABLE_ACTIONS);
  }
}
