/**
 * Stored items' sizes: what DynamoDB bills and limits, the target a user item is fitted to (evicting its least
 * recently seen places), and the bounds of a ledger entry. Shared by both store adapters, so an item the
 * in-memory store accepts is one DynamoDB would. Pure: no SDK, no I/O.
 */
import { boundAlertDocument } from '../../core/alerts';
import {
  MAX_COUNTRIES_PER_USER,
  MAX_IPS_PER_USER,
  MAX_NETWORKS_PER_USER,
  MAX_OWNERS_PER_USER,
  MAX_PREFIXES_PER_USER,
} from '../../core/baseline-update';
import type { LedgerEntry, UserBaseline } from '../../core/model';
import { boundSeen } from '../../core/seen';
import { BaselineStoreError, ItemTooLargeError } from '../../errors';
import { encodeUserBody, type SliceOptions } from './codec';
import { BODY_ATTRIBUTE, PARTITION_KEY, userForLog, userKey, utf8Bytes, VERSION_ATTRIBUTE } from './keys';

/** DynamoDB's item size limit: 400 KB, attribute names and values in UTF-8 (DynamoDB quota). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;
/**
 * Target size of a user item, far below the 400 KB limit: every read and write of the item costs capacity
 * by its size (1 KB per write unit, 4 KB per read unit), and a batch of 100 must stay well under
 * BatchGetItem's 16 MB response. A user beyond it forgets their least recently seen places.
 */
export const USER_ITEM_TARGET_BYTES = 64 * 1024;
/** The ledger keeps at most this much of a user name (bounds the item; a longer name is flagged `userTruncated`). */
export const LEDGER_USER_MAX_CHARS = 1024;
/**
 * The ledger keeps an alert's document (for `authwatch show`) up to 16 KiB (UTF-8), trimmed beyond that and
 * marked `"truncated": true` (`boundAlertDocument`). A real alert is 3–5 KB (measured: 3.7 KB for an unusual-IP
 * alert with every evidence field and two other addresses; 5.0 KB with 20 other IPv6 addresses and 10 hosts), so only
 * hostile or pathological values (a 10 KB user name, hundreds of hosts) are ever cut. Why not more: every run
 * reads the ledger items of its candidate alerts with strongly consistent reads (4 KB per read unit) to drop
 * repeats, and each write costs one unit per KB; 16 KiB caps that at 4 read and 16 write units per alert
 * (1,600 write units for a run at the 100-alert cap), far inside DynamoDB's 400 KB item. The document expires
 * with its entry (the ledger's TTL).
 */
export const LEDGER_DOCUMENT_MAX_BYTES = 16 * 1024;
/** DynamoDB counts a number as at most 21 bytes; we count every number at that bound. */
const NUMBER_BYTES = 21;

/** Size DynamoDB bills and limits for an item with key `pk` and a JSON body (names + values, numbers at their maximum). */
export function bodyItemBytes(pk: string, body: string): number {
  return (
    utf8Bytes(PARTITION_KEY) +
    utf8Bytes(pk) +
    utf8Bytes(VERSION_ATTRIBUTE) +
    NUMBER_BYTES +
    utf8Bytes(BODY_ATTRIBUTE) +
    utf8Bytes(body)
  );
}

export interface FittedUser {
  /** The baseline as stored (the input itself when it fit). */
  readonly user: UserBaseline;
  readonly body: string;
  readonly bytes: number;
  /** Whether places were evicted to fit. */
  readonly bounded: boolean;
}

/**
 * Encode a user's baseline within `targetBytes`: when over, evict the least recently seen IPs, prefixes,
 * networks, network owners and countries (first down to the core's bounds, then halving) until it fits. Novelty counts are kept, so
 * forgetting places never makes a user look more stable. Over DynamoDB's hard limit even with no places
 * left (only a user name of hundreds of KB could do that) is an `ItemTooLargeError`.
 */
export function fitUser(
  user: UserBaseline,
  targetBytes = USER_ITEM_TARGET_BYTES,
  slices: SliceOptions = {},
): FittedUser {
  const pk = userKey(user.user);
  let body = encodeUserBody(user, slices);
  let bytes = bodyItemBytes(pk, body);
  if (bytes <= targetBytes) return { user, body, bytes, bounded: false };

  let limits = {
    ips: Math.min(MAX_IPS_PER_USER, Object.keys(user.ips).length),
    prefixes: Math.min(MAX_PREFIXES_PER_USER, Object.keys(user.prefixes).length),
    networks: Math.min(MAX_NETWORKS_PER_USER, Object.keys(user.networks).length),
    owners: Math.min(MAX_OWNERS_PER_USER, Object.keys(user.owners ?? {}).length),
    countries: Math.min(MAX_COUNTRIES_PER_USER, Object.keys(user.countries ?? {}).length),
  };
  let fitted = user;
  for (;;) {
    fitted = {
      ...user,
      ips: boundSeen(user.ips, limits.ips),
      prefixes: boundSeen(user.prefixes, limits.prefixes),
      networks: boundSeen(user.networks, limits.networks),
      // Owner maps stay absent when they were (a user learned before owners were keeps its stored shape).
      ...(user.owners ? { owners: boundSeen(user.owners, limits.owners) } : {}),
      ...(user.countries ? { countries: boundSeen(user.countries, limits.countries) } : {}),
    };
    body = encodeUserBody(fitted, slices);
    bytes = bodyItemBytes(pk, body);
    if (bytes <= targetBytes || Object.values(limits).every((n) => n === 0)) break;
    limits = {
      ips: Math.floor(limits.ips / 2),
      prefixes: Math.floor(limits.prefixes / 2),
      networks: Math.floor(limits.networks / 2),
      owners: Math.floor(limits.owners / 2),
      countries: Math.floor(limits.countries / 2),
    };
  }
  if (bytes > DYNAMODB_MAX_ITEM_BYTES) {
    throw new ItemTooLargeError(
      `Baseline item of ${userForLog(user.user)} would be ${bytes} bytes even with no places kept, over DynamoDB's ${DYNAMODB_MAX_ITEM_BYTES}-byte item limit`,
      bytes,
    );
  }
  return { user: fitted, body, bytes, bounded: true };
}

/** Population or state body within DynamoDB's item limit (the core bounds both; this guards the limit). */
export function checkItemSize(pk: string, body: string): number {
  const bytes = bodyItemBytes(pk, body);
  if (bytes > DYNAMODB_MAX_ITEM_BYTES)
    throw new BaselineStoreError(
      `Item ${pk} would be ${bytes} bytes, over DynamoDB's ${DYNAMODB_MAX_ITEM_BYTES}-byte item limit`,
    );
  return bytes;
}

/**
 * A ledger entry as it is stored: the user name cut to `LEDGER_USER_MAX_CHARS` (and flagged `userTruncated`, so
 * `benign <id>` never mistakes a cut name for another user's) and the document bounded to
 * `LEDGER_DOCUMENT_MAX_BYTES`.
 */
export function boundLedgerEntry(e: LedgerEntry): LedgerEntry {
  const { document: raw, userTruncated: _userTruncated, ...rest } = e;
  const document = raw !== undefined ? boundAlertDocument(raw, LEDGER_DOCUMENT_MAX_BYTES) : undefined;
  const cut = e.user.length > LEDGER_USER_MAX_CHARS;
  return {
    ...rest,
    user: cut ? e.user.slice(0, LEDGER_USER_MAX_CHARS) : e.user,
    ...(cut || e.userTruncated ? { userTruncated: true } : {}),
    ...(document !== undefined ? { document } : {}),
  };
}
