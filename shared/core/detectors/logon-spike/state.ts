/**
 * What Spike in Logon Events learns: the organisation's count of successful logons per 15-minute period, per hour
 * of the week in the deployment's time zone (see shared/core/volume/org.ts). One population slice, ~2 KB stored.
 */
import type { DetectorState } from '../detector';
import { learnOrgVolume, orgVolumeV1, type OrgVolume } from '../../volume/org';

export const logonSpikeState: DetectorState<never, OrgVolume> = {
  key: 'logonspike',
  population: {
    version: 1,
    schema: orgVolumeV1,
    learn: (previous, { observations, windowStart, windowEnd, settings }) =>
      learnOrgVolume(previous, observations, 'success', { start: windowStart, end: windowEnd }, settings.timeZone),
  },
};
