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

/**
 * Whether what the user's logons say about network owners and countries has been learned long enough to judge
 * by: as many active buckets over as many days *with a known owner* as a user needs to be mature at all. Until
 * then the country level and the hosting judgement stay off, so a baseline stored before owners were learned
 * (or a deployment that just loaded the data) judges exactly as before, and owner knowledge can only make an
 * address less novel (a new /16 of a known AS is not a new network).
 */
export function isOwnerKnowledgeMature(
  b: UserBaseline,
  settings: Pick<DetectionSettings, 'minUserBuckets' | 'minUserDays'>,
): boolean {
  const a = b.ownerActivity;
  return !!a && a.buckets >= settings.minUserBuckets && a.days >= settings.minUserDays;
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
