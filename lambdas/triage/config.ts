/**
 * Configuration of the triage function, from its environment, parsed once per cold start. It shares the detector's
 * variable names for the table and the product ARN (shared/config.ts `ENV`), so the stack sets one value for both.
 */
import { ENV, OUTPUT_ENV, parseSecurityHubProductArn } from '../../shared/config';
import { ConfigError } from '../../shared/errors';

export const TRIAGE_ENV = {
  tableName: ENV.tableName,
  productArn: OUTPUT_ENV.securityHubProductArn,
  /** Days a triage is remembered as applied: the ledger's TTL (`ledgerTtlDays`). */
  recordDays: 'AUTHWATCH_TRIAGE_RECORD_DAYS',
} as const;

/** The ledger's default TTL, for a function deployed without the variable. */
const DEFAULT_RECORD_DAYS = 30;

export interface TriageConfig {
  readonly tableName: string;
  readonly productArn: string;
  readonly recordDays: number;
}

/** Parse the triage function's environment. Throws `ConfigError` listing every problem at once. */
export function parseTriageConfig(env: Readonly<Record<string, string | undefined>>): TriageConfig {
  const issues: string[] = [];
  const tableName = env[TRIAGE_ENV.tableName];
  if (!tableName) issues.push(`${TRIAGE_ENV.tableName}: required (the DynamoDB baselines table name)`);
  const productArn = env[TRIAGE_ENV.productArn] ?? '';
  if (!parseSecurityHubProductArn(productArn))
    issues.push(
      `${TRIAGE_ENV.productArn}: required, the account's product ARN (arn:aws:securityhub:<region>:<account>:product/<account>/default), got "${productArn}"`,
    );
  const rawDays = env[TRIAGE_ENV.recordDays];
  const recordDays = rawDays === undefined || rawDays === '' ? DEFAULT_RECORD_DAYS : Number(rawDays);
  if (!Number.isInteger(recordDays) || recordDays < 1 || recordDays > 3650)
    issues.push(`${TRIAGE_ENV.recordDays}: a whole number of days from 1 to 3650, got "${rawDays}"`);
  if (issues.length > 0) throw new ConfigError(issues);
  return { tableName: tableName!, productArn, recordDays };
}
