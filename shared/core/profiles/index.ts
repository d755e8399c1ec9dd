/**
 * The registry of log-source profiles: one per supported format, keyed by id. Adding a format means one
 * profile file, its entry here, its fixtures and its tests.
 */
import { ConfigError } from '../../errors';
import { cloudtrailProfile } from './cloudtrail';
import { ecsProfile } from './ecs';
import { oktaProfile } from './okta';
import { isCustomProfileId, PROFILE_IDS, type Profile, type ProfileId } from './profile';
import { sshdProfile, type SshdOptions } from './sshd';
import { windowsProfile } from './windows';

export type { AnyProfileId, CustomProfileId, LineResult, Profile, ProfileId, RowResult } from './profile';
export { isCustomProfileId, PROFILE_IDS } from './profile';
export { sshdProfile, type SshdClock, type SshdOptions } from './sshd';
export { canonicalUser } from './common';

/**
 * Every profile by id. The sshd entry infers the year of classic (year-less) syslog timestamps from the
 * system clock; use `getProfile('sshd', { year })` or `sshdProfile({ clock })` to pin it.
 */
export const PROFILES: Readonly<Record<ProfileId, Profile>> = Object.freeze({
  sshd: sshdProfile(),
  cloudtrail: cloudtrailProfile,
  ecs: ecsProfile,
  windows: windowsProfile,
  okta: oktaProfile,
});

/**
 * Options some profiles take; profiles that need none ignore them. `custom`: the formats this deployment defines
 * (custom.ts, `profileFromSpec`), where a `custom:<name>` id is looked up.
 */
export type ProfileOptions = SshdOptions & { readonly custom?: readonly Profile[] };

function isProfileId(id: string): id is ProfileId {
  return (PROFILE_IDS as readonly string[]).includes(id);
}

/**
 * The profile with this id. Throws `ConfigError` naming the known ids for an unknown one (a configuration
 * or command-line mistake the user must fix).
 */
export function getProfile(id: string, options?: ProfileOptions): Profile {
  const custom = options?.custom ?? [];
  if (isCustomProfileId(id)) {
    const found = custom.find((p) => p.id === id);
    if (found) return found;
    throw new ConfigError([
      `unknown log-source profile ${JSON.stringify(id)}: ${custom.length > 0 ? `the formats defined are ${custom.map((p) => p.id).join(', ')}` : 'no format of that name is defined'} (customProfiles in the configuration)`,
    ]);
  }
  if (!isProfileId(id)) {
    throw new ConfigError([
      `unknown log-source profile ${JSON.stringify(id)}: expected one of ${[...PROFILE_IDS, ...custom.map((p) => p.id)].join(', ')}`,
    ]);
  }
  if (id === 'sshd' && options && (options.year !== undefined || options.clock !== undefined))
    return sshdProfile(options);
  return PROFILES[id];
}
