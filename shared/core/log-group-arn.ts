/**
 * Log groups named by ARN: how a deployment in a CloudWatch cross-account observability *monitoring* account names
 * the log groups of its linked *source* accounts (`arn:aws:logs:eu-west-1:111122223333:log-group:/ec2/secure`).
 * Logs Insights' StartQuery then takes them as `logGroupIdentifiers` (names or ARNs, up to 50), where a group of
 * the monitoring account's own may still be given by name. The ARN names the group itself: never the `:*` suffix
 * IAM uses, never a pattern.
 */

/** A log group name: 1–512 of `[A-Za-z0-9_-./#]` (CloudWatch Logs' own rule). */
export const LOG_GROUP_NAME_PATTERN = /^[A-Za-z0-9_\-./#]{1,512}$/;

/** `arn:<partition>:logs:<region>:<12-digit account>:log-group:<name>`, nothing after the name. */
const LOG_GROUP_ARN = /^arn:(aws[a-z-]*):logs:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):log-group:([A-Za-z0-9_\-./#]{1,512})$/;

/** The parts of a log group ARN. */
export interface LogGroupArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

/** Whether `id` is given as an ARN (well-formed or not): anything that starts like one is judged as one. */
export function looksLikeArn(id: string): boolean {
  return id.startsWith('arn:');
}

/** The parts of a well-formed log group ARN, or undefined. */
export function parseLogGroupArn(id: string): LogGroupArn | undefined {
  const m = LOG_GROUP_ARN.exec(id);
  if (!m) return undefined;
  return { partition: m[1]!, region: m[2]!, account: m[3]!, name: m[4]! };
}
