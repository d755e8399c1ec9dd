import { describe, expect, it } from 'vitest';
import { compileAllowlist, shellQuote } from '../../../shared/core/alerts';
import { makeAlert } from '../../support/alerts';

describe('silence hints', () => {
  it('tell how to silence an unusual-IP alert with the operator commands, naming this alert', () => {
    const a = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    expect(a.silence).toEqual([
      `The user confirms it: npm run authwatch -- benign ${a.id} --table <table>`,
      'Subnet always fine for this user: npm run authwatch -- allow cidr 203.0.113.0/24 --user alice --table <table>',
      'Fine for everyone (scanner, bastion): npm run authwatch -- allow cidr 203.0.113.9/32 --table <table>',
      'Routinely benign: raise the Auth.UnusualSourceIp threshold.',
    ]);
    expect(makeAlert({ detector: 'ip', ip: '2001:db8:1:2::9' }).silence[1]).toContain('allow cidr 2001:db8:1::/48 ');
  });

  it('quote a user name for the shell, and keep one starting with - from being read as an option', () => {
    expect(makeAlert({ user: `o'brien $(rm -rf /)` }).silence[1]).toBe(`Never alert on it (service account): npm run authwatch -- allow user 'o'\\''brien $(rm -rf /)' --table <table>`);
    expect(makeAlert({ user: '-rf' }).silence[1]).toBe("Never alert on it (service account): npm run authwatch -- allow user --table <table> -- '-rf'");
    expect(makeAlert({ detector: 'ip', user: '--help' }).silence[1]).toContain("--user='--help' ");
    expect(shellQuote('CORP\\alice')).toBe(`'CORP\\alice'`);
    expect(shellQuote('alice@corp.example')).toBe('alice@corp.example');
  });
});

describe('compileAllowlist', () => {
  const T = Date.UTC(2026, 2, 2);
  const allow = compileAllowlist(
    { allowUsers: ['svc-*'], allowCidrs: ['10.0.0.0/8'] },
    {
      allowUsers: [{ pattern: 'Backup', addedAt: T }],
      allowCidrs: [
        { cidr: '198.51.100.0/24', addedAt: T },
        { cidr: '203.0.113.0/24', user: 'alice', addedAt: T },
        { cidr: 'not a cidr', addedAt: T },
      ],
    },
  );

  it('merges the settings and the feedback', () => {
    expect(allow.allows('svc-build', '1.2.3.4')).toBe(true);
    expect(allow.allows('backup', '1.2.3.4')).toBe(true); // case-insensitive, like the setting
    expect(allow.allows('bob', '10.1.2.3')).toBe(true);
    expect(allow.allows('bob', '198.51.100.7')).toBe(true);
    expect(allow.allows('bob', '1.2.3.4')).toBe(false);
  });

  it('applies a per-user range to that user only', () => {
    expect(allow.allows('alice', '203.0.113.50')).toBe(true);
    expect(allow.allows('Alice', '203.0.113.50')).toBe(false);
    expect(allow.allows('bob', '203.0.113.50')).toBe(false);
    expect(allow.allowsIp('203.0.113.50')).toBe(false);
  });

  it('without feedback is the settings alone', () => {
    const s = compileAllowlist({ allowUsers: [], allowCidrs: ['198.51.100.0/24'] });
    expect(s.allows('x', '198.51.100.1')).toBe(true);
    expect(s.allows('x', '203.0.113.1')).toBe(false);
  });
});
