/**
 * User patterns: an exact user name or a `*` glob, matched case-insensitively against the whole name. One
 * matcher for every setting that names users by pattern (the allowlist, per-user time zones).
 */
export function userPatternRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}
