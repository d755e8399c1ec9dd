/**
 * Facts about a user's habits that both detectors and the baseline update rely on.
 */
import { DAY_MS, type UserBaseline } from './model';
import type { DetectionSettings } from './settings';

/** Whether a user has enough history for their habits to mean anything (Elastic wants ~20 buckets). */
export function isUserMature(
  b: UserBaseline,
  settings: Pick<DetectionSettings, 'minUserBuckets' | 'minUserDays'>,
): boolean {
  return b.activity.buckets >= settings.minUserBuckets && b.activity.days >= settings.minUserDays;
}

/** A return counts as dormancy only if the gap is at least this multiple of the user's own mean gap between active days. */
export const USUAL_GAP_MULTIPLE = 2;

/** Days since the user was last seen before this window, and whether that is dormancy for them. */
export function dormancy(
  lastSeen: number,
  firstSeen: number,
  daysActive: number,
  at: number,
  dormantDays: number,
): { gapDays: number; dormant: boolean; usualGapDays: number } {
  const gapDays = (at - lastSeen) / DAY_MS;
  const usualGapDays = daysActive > 1 ? (lastSeen - firstSeen) / DAY_MS / (daysActive - 1) : 0;
  return { gapDays, usualGapDays, dormant: gapDays >= dormantDays && gapDays >= USUAL_GAP_MULTIPLE * usualGapDays };
}
