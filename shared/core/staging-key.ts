/**
 * What a staging key may look like, for every `Staging` adapter alike (shared/ports/staging.ts): a relative path of
 * non-empty segments (`<run>/obs/3`). The directory adapter turns keys into file paths, so a key that could leave
 * its directory (`..`, an absolute path, a backslash read as a separator elsewhere) is refused rather than
 * normalised; the S3 and in-memory adapters refuse the same keys, so a step that works on one works on all.
 */

/** Why `key` is not a staging key, or undefined if it is one. */
export function stagingKeyProblem(key: string): string | undefined {
  if (key === '') return 'is empty';
  if (key.startsWith('/')) return 'is absolute (keys are relative paths)';
  if (key.includes('\\')) return 'contains a backslash (segments are separated by /)';
  if (key.includes('\0')) return 'contains a NUL character';
  const segments = key.split('/');
  if (segments.some((s) => s === '..')) return 'contains a ".." segment';
  if (segments.some((s) => s === '')) return 'has an empty segment (a // or a trailing /)';
  // Dot-names are the directory adapter's own (its temporary files); `.` would name the directory itself.
  if (segments.some((s) => s.startsWith('.'))) return 'has a segment starting with "."';
  return undefined;
}

/**
 * Why `prefix` is not a prefix of staging keys, or undefined. A prefix is a key's beginning (`run-1/`, `run-1/ob`),
 * so it may end in `/`; it may be empty only where `allowEmpty` (listing everything, never deleting everything).
 */
export function stagingPrefixProblem(prefix: string, allowEmpty: boolean): string | undefined {
  if (prefix === '') return allowEmpty ? undefined : 'is empty (it would delete every run staged)';
  const body = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  // A prefix ending inside a segment (`run-1/o`) is judged as a key: its last segment is a key segment's start.
  return body === '' ? 'is "/"' : stagingKeyProblem(body);
}
