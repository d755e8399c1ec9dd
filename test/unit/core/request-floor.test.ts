/**
 * The request floor `npm run bench` compares a run's DynamoDB requests with (shared/core/request-floor.ts).
 */
import { describe, expect, it } from 'vitest';
import { BATCH_GET_MAX_KEYS, BATCH_WRITE_MAX_ITEMS } from '../../../shared/adapters/dynamodb-baseline-store';
import { RUN_SINGLE_ITEMS, requestFloor } from '../../../shared/core/request-floor';

describe('requestFloor', () => {
  it('counts a read per 100 users per pass, a batch write per 25 changed users and its lease confirmation, and the single items', () => {
    // 100,000 users read once, 100,000 changed: 1,000 reads, 4,000 batch writes + 1 confirmation, 7 single items.
    expect(requestFloor({ usersRead: 100_000, usersWritten: 100_000 })).toEqual({
      reads: 1_000,
      writes: 4_001,
      singles: RUN_SINGLE_ITEMS,
      total: 5_008,
    });
    expect(RUN_SINGLE_ITEMS).toBe(7);
  });

  it('rounds every pass and every write up on its own', () => {
    expect(requestFloor({ usersRead: 101, usersWritten: 26, singleItems: 0 })).toEqual({
      reads: 2,
      writes: 3,
      singles: 0,
      total: 5,
    });
    expect(requestFloor({ usersRead: 100, usersWritten: 25, singleItems: 0 }).total).toBe(1 + 1 + 1);
    // Three passes over slices of 150, 150 and 1 users; two leased writes of 30 and 20.
    expect(requestFloor({ usersRead: [150, 150, 1], usersWritten: [30, 20], singleItems: 0 })).toMatchObject({
      reads: 2 + 2 + 1,
      writes: 2 + 1 + (1 + 1),
    });
    // Equal passes given as one number.
    expect(requestFloor({ usersRead: 250, readPasses: 2, usersWritten: 0, singleItems: 0 }).reads).toBe(6);
  });

  it('costs nothing for nothing: no read, no write, no confirmation', () => {
    expect(requestFloor({ usersRead: 0, usersWritten: [0, 0], singleItems: 0 })).toEqual({
      reads: 0,
      writes: 0,
      singles: 0,
      total: 0,
    });
  });

  it('adds the ledger: its ids looked up 100 at a time, and one put per alert recorded', () => {
    expect(requestFloor({ usersRead: 0, usersWritten: 0, alertCandidates: 101, alertsRecorded: 40 }).singles).toBe(
      RUN_SINGLE_ITEMS + 2 + 40,
    );
  });

  it('refuses counts that are not whole numbers', () => {
    expect(() => requestFloor({ usersRead: -1, usersWritten: 0 })).toThrow(RangeError);
    expect(() => requestFloor({ usersRead: 1.5, usersWritten: 0 })).toThrow(/usersRead/);
    expect(() => requestFloor({ usersRead: 1, usersWritten: [Number.NaN] })).toThrow(/usersWritten/);
    expect(() => requestFloor({ usersRead: 1, readPasses: -2, usersWritten: 0 })).toThrow(/passes/);
  });

  it('uses the quotas the DynamoDB store batches by', () => {
    expect(BATCH_GET_MAX_KEYS).toBe(100);
    expect(BATCH_WRITE_MAX_ITEMS).toBe(25);
    expect(
      requestFloor({ usersRead: BATCH_GET_MAX_KEYS, usersWritten: BATCH_WRITE_MAX_ITEMS, singleItems: 0 }),
    ).toMatchObject({
      reads: 1,
      writes: 2,
    });
  });
});
