/** The single registry of detectors. A test asserts ids are unique and match `DETECTOR_IDS`. */
import type { Detector } from './detector';
import { rareUser } from './rare-user';
import { unusualSourceIp } from './unusual-source-ip';

export const DETECTORS: readonly Detector[] = [rareUser, unusualSourceIp];

export type { Detector, DetectorInput } from './detector';
export { rareUser, unusualSourceIp };
