import { describe, expect, it } from 'vitest';
import { getProfile, PROFILE_IDS, PROFILES } from '../../../shared/core/profiles';
import { ConfigError } from '../../../shared/errors';

describe('profile registry', () => {
  it('has exactly one profile per id, each carrying its own id', () => {
    expect(Object.keys(PROFILES).sort()).toEqual([...PROFILE_IDS].sort());
    for (const id of PROFILE_IDS) {
      expect(getProfile(id)).toBe(PROFILES[id]);
      expect(getProfile(id).id).toBe(id);
      expect(getProfile(id).description.length).toBeGreaterThan(10);
    }
  });

  it('rejects an unknown id with a ConfigError that lists the known ones', () => {
    let err: unknown;
    try {
      getProfile('syslog');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toHaveLength(1);
    expect(issues[0]).toContain('"syslog"');
    for (const id of PROFILE_IDS) expect(issues[0]).toContain(id);
  });

  it('does not mistake inherited object keys for profiles', () => {
    for (const id of ['constructor', '__proto__', 'toString', '', 'SSHD'])
      expect(() => getProfile(id)).toThrow(ConfigError);
  });

  it('builds an sshd profile with a pinned year on request, and ignores options elsewhere', () => {
    const pinned = getProfile('sshd', { year: 2019 });
    expect(pinned).not.toBe(PROFILES.sshd);
    const r = pinned.parseLine(
      'Mar  4 05:06:07 h sshd[1]: Accepted password for bob from 198.51.100.23 port 40022 ssh2',
    );
    expect(r.kind === 'event' && new Date(r.event.timestamp).toISOString()).toBe('2019-03-04T05:06:07.000Z');
    expect(getProfile('okta', { year: 2019 })).toBe(PROFILES.okta);
  });
});
