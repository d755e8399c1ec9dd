/**
 * The per-output delivery records' items (see `DeliveryRecordStore`, shared/ports/delivery-record.ts), in the
 * baselines table beside the alert ledger, in the same single-key layout as every other item (items/keys.ts):
 *   `SENT#<output>#<alert id>`  one output accepted one alert   attributes: pk, expiresAt (the table's TTL
 *                                                              attribute, epoch seconds: the ledger's), output,
 *                                                              alertId, sentAt (epoch ms)
 * A key that cannot be one as it is (over DynamoDB's 2,048 bytes, or not well-formed UTF-16; alert ids never are) is
 * `SENTH#<sha256>`, like a user's or an alert's. No scan reads these items (`scanLedger` reads `ALERT#` and
 * `ALERTH#` only, `scanUsers` `USER#` and `USERH#`), so a run writing them changes no operator view.
 * Pure: no SDK calls, no I/O; the DynamoDB and in-memory stores both key their records with `deliveryKey`.
 */
import { BaselineStoreError } from '../../errors';
import { OUTPUT_NAME, type DeliveryRecord } from '../../ports/delivery-record';
import type { Item } from './codec';
import { MAX_PARTITION_KEY_BYTES, PARTITION_KEY, TTL_ATTRIBUTE, utf8Bytes } from './keys';
import { createHash } from 'node:crypto';

export const DELIVERY_KEY_PREFIX = 'SENT#';
export const HASHED_DELIVERY_KEY_PREFIX = 'SENTH#';

/** The output name, checked: it is part of every key, so a malformed one would scatter the records. */
export function checkOutputName(output: string): string {
  if (!OUTPUT_NAME.test(output))
    throw new BaselineStoreError(
      `output name ${JSON.stringify(output.slice(0, 40))} is not one (lower-case letters, digits and -, at most 32)`,
    );
  return output;
}

/** Partition key of `output`'s record of alert `id`. */
export function deliveryKey(output: string, id: string): string {
  const key = `${DELIVERY_KEY_PREFIX}${checkOutputName(output)}#${id}`;
  const wellFormed = !/[\uD800-\uDFFF]/.test(id) || Buffer.from(id, 'utf8').toString('utf8') === id;
  if (utf8Bytes(key) <= MAX_PARTITION_KEY_BYTES && wellFormed) return key;
  return `${HASHED_DELIVERY_KEY_PREFIX}${createHash('sha256').update(`${output}#${id}`, 'utf16le').digest('hex')}`;
}

/** A record as its item: the key, the TTL, and what a responder reading the table needs to see what it is. */
export function encodeDeliveryItem(output: string, r: DeliveryRecord): Item {
  return {
    [PARTITION_KEY]: { S: deliveryKey(output, r.id) },
    [TTL_ATTRIBUTE]: { N: String(Math.floor(r.expiresAtEpochSeconds)) },
    output: { S: output },
    // For a person reading the table: as it is, or with lone surrogates escaped (`\ud800`), which DynamoDB cannot store.
    alertId: { S: Buffer.from(r.id, 'utf8').toString('utf8') === r.id ? r.id : JSON.stringify(r.id).slice(1, -1) },
    sentAt: { N: String(r.deliveredAtMs) },
  };
}
