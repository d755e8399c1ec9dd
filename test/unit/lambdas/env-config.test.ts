/**
 * Both functions read their environment with the same helpers (shared/config.ts: parseJson, parseMillis), so a
 * JSON variable and a timeout are refused alike, every problem listed at once, and unset means the default.
 */
import { describe, expect, it } from 'vitest';
import { parseRefreshConfig, REFRESH_ENV } from '../../../lambdas/refresh-network-data/config';
import { DEFAULT_DOWNLOAD_TIMEOUT_MS } from '../../../shared/adapters/network-data-source';
import { ENV, parseRuntimeConfig } from '../../../shared/config';
import { ConfigError } from '../../../shared/errors';

const DETECTOR_ENV = {
  [ENV.tableName]: 't',
  [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:alerts',
  [ENV.logSources]: '[{"profile":"sshd","logGroups":["/ec2/secure"]}]',
};
const REFRESH = { [REFRESH_ENV.bucket]: 'authwatch-network-data' };

function issuesOf(parse: () => unknown): readonly string[] {
  try {
    parse();
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('timeouts in milliseconds', () => {
  it.each(['999', '1500.5', 'soon', '-1000'])('both functions refuse %s, naming the variable', (raw) => {
    const message = (name: string) => `${name}: must be a whole number of milliseconds >= 1000, got "${raw}"`;
    expect(issuesOf(() => parseRuntimeConfig({ ...DETECTOR_ENV, [ENV.queryTimeoutMs]: raw }))).toEqual([
      message(ENV.queryTimeoutMs),
    ]);
    expect(issuesOf(() => parseRefreshConfig({ ...REFRESH, [REFRESH_ENV.downloadTimeoutMs]: raw }))).toEqual([
      message(REFRESH_ENV.downloadTimeoutMs),
    ]);
  });

  it('takes a whole number from a second up, and the default when unset or empty', () => {
    expect(parseRuntimeConfig({ ...DETECTOR_ENV, [ENV.queryTimeoutMs]: '1000' }).queryTimeoutMs).toBe(1000);
    expect(parseRuntimeConfig({ ...DETECTOR_ENV, [ENV.queryTimeoutMs]: '' }).queryTimeoutMs).toBe(240_000);
    expect(parseRefreshConfig({ ...REFRESH, [REFRESH_ENV.downloadTimeoutMs]: '90000' }).downloadTimeoutMs).toBe(90_000);
    expect(parseRefreshConfig(REFRESH).downloadTimeoutMs).toBe(DEFAULT_DOWNLOAD_TIMEOUT_MS);
  });
});

describe('JSON variables', () => {
  it('a variable that is not JSON is one issue, listed with the others', () => {
    const issues = issuesOf(() =>
      parseRefreshConfig({
        ...REFRESH,
        [REFRESH_ENV.expectations]: '{minIpv4Ranges: 1',
        [REFRESH_ENV.downloadTimeoutMs]: '5',
      }),
    );
    expect(issues).toHaveLength(2);
    expect(issues[0]).toMatch(new RegExp(`^${REFRESH_ENV.expectations}: not valid JSON \\(`));
    expect(issues[1]).toMatch(new RegExp(`^${REFRESH_ENV.downloadTimeoutMs}: `));
    expect(issuesOf(() => parseRuntimeConfig({ ...DETECTOR_ENV, [ENV.settings]: '{learningDays: 3' }))).toEqual([
      expect.stringMatching(new RegExp(`^${ENV.settings}: not valid JSON \\(`)),
    ]);
  });

  it('a blank variable is unset: the defaults apply', () => {
    expect(parseRefreshConfig({ ...REFRESH, [REFRESH_ENV.expectations]: '  ' }).expectations).toEqual(
      parseRefreshConfig(REFRESH).expectations,
    );
    expect(parseRuntimeConfig({ ...DETECTOR_ENV, [ENV.settings]: ' ' }).settings).toEqual(
      parseRuntimeConfig(DETECTOR_ENV).settings,
    );
  });
});
