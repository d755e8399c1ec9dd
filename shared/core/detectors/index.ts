/**
 * The single registry of detectors: settings, alert texts, the CLI, metrics and alarms iterate it, and
 * `DetectorId` is the union of its ids. A test asserts ids are unique, and another that no id is written
 * outside its detector's file.
 */
import { failedLogonSpike } from './failed-logon-spike';
import { failuresThenSuccess } from './failures-then-success';
import { hostileSource } from './hostile-source';
import { impossibleTravel } from './impossible-travel';
import { logonSpike } from './logon-spike';
import { manyUsersFromSource } from './many-users-from-source';
import { passwordSpray } from './password-spray';
import { rareUser } from './rare-user';
import { sourceLogonSpike } from './source-logon-spike';
import { unusualHour } from './unusual-hour';
import { unusualSourceIp } from './unusual-source-ip';

export const DETECTORS = [
  rareUser,
  unusualSourceIp,
  unusualHour,
  impossibleTravel,
  hostileSource,
  passwordSpray,
  failuresThenSuccess,
  manyUsersFromSource,
  failedLogonSpike,
  sourceLogonSpike,
  logonSpike,
] as const;

export type { Detector, DetectorInput } from './detector';
export { rareUser, unusualSourceIp };
