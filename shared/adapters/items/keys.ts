/**
 * The baselines table's layout: one string partition key `pk`, no sort key (every access is by exact key).
 *   `USER#<name>`   one user's baseline            attributes: pk, version, body
 *   `POP#stats`     population statistics          attributes: pk, version, body
 *   `META#state`    run state (learning, watermark) attributes: pk, version, body
 *   `META#feedback` analyst allowlists (`allow`)    attributes: pk, version, body
 *   `META#lease`    the run lease (one run at a time) attributes: pk, owner, leaseUntil (epoch ms); leaseUntil 0 and
 *                                                   no owner once released (or no item before the first run)
 *   `ALERT#<id>`    alert ledger entry              attributes: pk, expiresAt (TTL, epoch seconds), alertId,
 *                                                   detectorId, user, sourceIp, raisedAt (epoch ms), document (the
 *                                                   alert JSON as delivered, at most 16 KiB) (and userTruncated
 *                                                   when the name was cut to fit)
 *   `SENT#<output>#<id>` one output (sns, eventbridge, securityhub; triage) accepted one alert: see items/delivery.ts
 * A name that cannot be a key as it is (longer than DynamoDB's 2,048-byte partition key, or not well-formed
 * UTF-16 so it would not survive UTF-8) is keyed `USERH#<sha256>` instead; the body carries the real name,
 * and a read checks it.
 *
 * The CDK stack imports these constants, so table and adapters cannot drift. Pure: no SDK, no I/O.
 */
import { createHash } from 'node:crypto';

/** The table's only key: a string partition key. */
export const PARTITION_KEY = 'pk';
/** DynamoDB attribute type of `PARTITION_KEY` (CDK: `AttributeType.STRING`). */
export const PARTITION_KEY_TYPE = 'S' as const;
/**
 * TTL attribute (epoch seconds) on alert-ledger items; DynamoDB deletes them some time after it passes. Deployed
 * tables have TTL configured on this name: it never changes.
 */
export const TTL_ATTRIBUTE = 'expiresAt';
/** Optimistic-concurrency version on user, population, state and feedback items. */
export const VERSION_ATTRIBUTE = 'version';
/** The JSON body of user, population, state and feedback items. */
export const BODY_ATTRIBUTE = 'body';
/** The lease item's holder (absent once released). */
export const LEASE_OWNER_ATTRIBUTE = 'owner';
/** The lease item's expiry, epoch ms (0 once released). */
export const LEASE_UNTIL_ATTRIBUTE = 'leaseUntil';

export const USER_KEY_PREFIX = 'USER#';
export const HASHED_USER_KEY_PREFIX = 'USERH#';
export const ALERT_KEY_PREFIX = 'ALERT#';
export const HASHED_ALERT_KEY_PREFIX = 'ALERTH#';
export const POPULATION_KEY = 'POP#stats';
export const RUN_STATE_KEY = 'META#state';
export const FEEDBACK_KEY = 'META#feedback';
export const LEASE_KEY = 'META#lease';

/** A partition key value is at most 2,048 bytes (DynamoDB quota). */
export const MAX_PARTITION_KEY_BYTES = 2048;

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Whether a string survives UTF-8 unchanged (no lone surrogates). */
function isWellFormed(s: string): boolean {
  return !/[\uD800-\uDFFF]/.test(s) || Buffer.from(s, 'utf8').toString('utf8') === s;
}

function keyOf(prefix: string, hashedPrefix: string, value: string): string {
  const key = prefix + value;
  if (utf8Bytes(key) <= MAX_PARTITION_KEY_BYTES && isWellFormed(value)) return key;
  return hashedPrefix + createHash('sha256').update(value, 'utf16le').digest('hex');
}

/** Partition key of a user's baseline. */
export function userKey(user: string): string {
  return keyOf(USER_KEY_PREFIX, HASHED_USER_KEY_PREFIX, user);
}

/** Partition key of an alert-ledger entry. */
export function alertKey(id: string): string {
  return keyOf(ALERT_KEY_PREFIX, HASHED_ALERT_KEY_PREFIX, id);
}

/** How a user's item is named in errors: the logical key, whatever the stored one. */
export function userLabel(user: string): string {
  return USER_KEY_PREFIX + user;
}

/** Characters of a user name quoted in a log line or an error about its item. */
const USER_FOR_LOG_MAX_CHARS = 100;

/**
 * A user name for a log line or an error message: JSON-escaped (control characters and line breaks visible,
 * never written raw) and cut to `USER_FOR_LOG_MAX_CHARS` characters, with the full length when cut.
 */
export function userForLog(user: string): string {
  if (user.length <= USER_FOR_LOG_MAX_CHARS) return JSON.stringify(user);
  return `${JSON.stringify(user.slice(0, USER_FOR_LOG_MAX_CHARS))}… (${user.length} characters)`;
}
