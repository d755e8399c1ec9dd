/**
 * The registry of log-source profiles: one per supported format, keyed by id. Adding a format means one
 * profile file, its entry here, its fixtures and its tests.
 */
import { ConfigError } from '../../errors';
import { auditdProfile } from './auditd';
import { ciscoAsaProfile } from './cisco-asa';
import { cloudtrailBesideIdentityCenter, cloudtrailProfile } from './cloudtrail';
import { ecsProfile } from './ecs';
import { entraProfile } from './entra';
import { googleWorkspaceProfile } from './google-workspace';
import { identityCenterProfile } from './identity-center';
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
 * system clock; use `getProfile('sshd', { year })` or `sshdProfile({ clock })` to pin it (cisco-asa likewise).
 */
export const PROFILES: Readonly<Record<ProfileId, Profile>> = Object.freeze({
  sshd: sshdProfile(),
  cloudtrail: cloudtrailProfile,
  ecs: ecsProfile,
  windows: windowsProfile,
  okta: oktaProfile,
  auditd: auditdProfile,
  'cisco-asa': ciscoAsaProfile(),
  'identity-center': identityCenterProfile,
  entra: entraProfile,
  'google-workspace': googleWorkspaceProfile,
});

/** Options some profiles take; profiles that need none ignore them. */
export type ProfileOptions = SshdOptions & {
  /** The formats this deployment defines (custom.ts, `profileFromSpec`), where a `custom:<name>` id is looked up. */
  readonly custom?: readonly Profile[];
  /**
   * The other profiles configured on the same log group (`profilesBeside`). `cloudtrail` beside `identity-center`
   * leaves Identity Center's console federations to it, so one sign-in is not counted by both.
   */
  readonly beside?: readonly string[];
};

/**
 * For each configured source, the other profiles that read one of its log groups: what `getProfile`'s `beside`
 * option wants. Pure, in the order given.
 */
export function profilesBeside(
  sources: readonly { readonly profile: string; readonly logGroups: readonly string[] }[],
): string[][] {
  return sources.map((s) =>
    [
      ...new Set(
        sources
          .filter((o) => o.profile !== s.profile && o.logGroups.some((g) => s.logGroups.includes(g)))
          .map((o) => o.profile),
      ),
    ].sort(),
  );
}

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
  if (id === 'cisco-asa' && options && (options.year !== undefined || options.clock !== undefined))
    return ciscoAsaProfile(options);
  if (id === 'cloudtrail' && options?.beside?.includes('identity-center')) return cloudtrailBesideIdentityCenter;
  return PROFILES[id];
}
