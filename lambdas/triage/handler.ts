/**
 * The triage Lambda: a composition root and nothing else. The stack's EventBridge rule invokes it with Security
 * Hub's "Security Hub Findings - Imported" events for authwatch's findings an analyst resolved or suppressed; it
 * applies them as `authwatch benign` / `authwatch malicious` would (shared/triage.ts) to the detector's table.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createDynamoDbClient } from '../../shared/adapters/aws-clients';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { SystemClock } from '../../shared/adapters/system-clock';
import { applyTriage, type TriageDeps, type TriageSummary } from '../../shared/triage';
import { parseTriageConfig } from './config';

const logger = new Logger();

let deps: TriageDeps | undefined;

/** Build everything from the environment once; a ConfigError here fails every invocation, listing each problem. */
export function compose(env: Readonly<Record<string, string | undefined>>): TriageDeps {
  const config = parseTriageConfig(env);
  return {
    store: new DynamoDbBaselineStore({ client: createDynamoDbClient(), tableName: config.tableName }),
    clock: new SystemClock(),
    productArn: config.productArn,
    recordDays: config.recordDays,
    logger: { warn: (message, data) => logger.warn(message, data ?? {}) },
  };
}

export async function handler(event: unknown): Promise<TriageSummary> {
  deps ??= compose(process.env);
  try {
    const summary = await applyTriage(deps, event);
    logger.info('triage applied', { summary });
    return summary;
  } catch (e) {
    // Lambda retries the event; after its retries it lands in the dead-letter queue, whose alarm says so.
    logger.error('triage failed', { error: e as Error });
    throw e;
  }
}
