import { describe, expect, it } from 'vitest';
import {
  alertDocument,
  boundAlertDocument,
  compileAllowlist,
  shellQuote,
  silenceHints,
  withSilenceTarget,
} from '../../../shared/core/alerts';
import { DETECTORS, rareUser } from '../../../shared/core/detectors';
import { DAY_MS } from '../../../shared/core/model';
import { detectionSettingsSchema } from '../../../shared/core/settings';
import { makeAlert } from '../../support/alerts';

/** The impossible-travel detector, found by its one property only it has (no id outside its folder). */
const impossibleTravel = DETECTORS.find((d) => 'from_country' in d.evidenceFields)!;

describe('silence hints', () => {
  it('tell how to silence an unusual-IP alert with the operator commands, naming this alert', () => {
    const a = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    expect(a.silence).toEqual([
      `The user confirms it: npm run authwatch -- benign ${a.id} --table <table>`,
      `Not the user (a hostile source): npm run authwatch -- malicious ${a.id} --table <table>`,
      'Subnet always fine for this user: npm run authwatch -- allow cidr 203.0.113.0/24 --user alice --table <table>',
      'Fine for everyone (scanner, bastion): npm run authwatch -- allow cidr 203.0.113.9/32 --table <table>',
      'Routinely benign: raise the Auth.UnusualSourceIp threshold.',
    ]);
    expect(makeAlert({ detector: 'ip', ip: '2001:db8:1:2::9' }).silence[2]).toContain('allow cidr 2001:db8:1::/48 ');
  });

  it("name the deployment's table and region once the sink gives them, rebuilt from the alert's own fields", () => {
    const a = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9' });
    const t = withSilenceTarget(a, { tableName: 'Authwatch-StorageTable-1A2B', region: 'eu-west-1' });
    expect(t.silence).toEqual([
      `The user confirms it: AWS_REGION=eu-west-1 npm run authwatch -- benign ${a.id} --table Authwatch-StorageTable-1A2B`,
      `Not the user (a hostile source): AWS_REGION=eu-west-1 npm run authwatch -- malicious ${a.id} --table Authwatch-StorageTable-1A2B`,
      'Subnet always fine for this user: AWS_REGION=eu-west-1 npm run authwatch -- allow cidr 203.0.113.0/24 --user alice --table Authwatch-StorageTable-1A2B',
      'Fine for everyone (scanner, bastion): AWS_REGION=eu-west-1 npm run authwatch -- allow cidr 203.0.113.9/32 --table Authwatch-StorageTable-1A2B',
      'Routinely benign: raise the Auth.UnusualSourceIp threshold.',
    ]);
    expect({ ...t, silence: a.silence }).toEqual(a);
    expect(withSilenceTarget(a, undefined)).toBe(a);
    // A user name that contains the placeholder text cannot be rewritten by it: the hints are rebuilt, not replaced.
    const tricky = makeAlert({ user: 'x --table <table> y' });
    expect(withSilenceTarget(tricky, { tableName: 'T' }).silence[1]).toBe(
      `Never alert on it (service account): npm run authwatch -- allow user 'x --table <table> y' --table T`,
    );
    expect(
      silenceHints({ user: 'bob', sourceIp: '1.2.3.4', alertId: 'rareuser-1', at: 0 }, rareUser, {
        tableName: "odd'name",
      })[1],
    ).toBe(`Never alert on it (service account): npm run authwatch -- allow user bob --table 'odd'\\''name'`);
  });

  it('offer a trip (the country, for this user, until 14 days after the logon) and the network when the owner is known', () => {
    const owner = { asn: 64496, org: 'EXAMPLE-ISP', country: 'JP' };
    const a = makeAlert({ detector: 'ip', user: 'alice', ip: '203.0.113.9', owner });
    // The logon is at 2026-03-20 09:40 UTC: two weeks on is 2026-04-03.
    expect(a.silence).toEqual([
      `The user confirms it: npm run authwatch -- benign ${a.id} --table <table>`,
      `Not the user (a hostile source): npm run authwatch -- malicious ${a.id} --table <table>`,
      'Subnet always fine for this user: npm run authwatch -- allow cidr 203.0.113.0/24 --user alice --table <table>',
      'The user travels in JP: npm run authwatch -- allow country JP --user alice --until 2026-04-03 --table <table>',
      'Network always fine for this user (ISP, carrier): npm run authwatch -- allow asn 64496 --user alice --table <table>',
      'Fine for everyone (scanner, bastion): npm run authwatch -- allow cidr 203.0.113.9/32 --table <table>',
      'Routinely benign: raise the Auth.UnusualSourceIp threshold.',
    ]);
    // Rebuilt from the document (source.as, source.geo, @timestamp) for the deployment: the same hints, its table.
    const t = withSilenceTarget(a, { tableName: 'T', region: 'eu-west-1' });
    expect(t.silence[3]).toBe(
      'The user travels in JP: AWS_REGION=eu-west-1 npm run authwatch -- allow country JP --user alice --until 2026-04-03 --table T',
    );
    expect(t.silence[4]).toContain('allow asn 64496 --user alice --table T');
    // An owner without a country: the network, no trip; no owner at all: neither.
    const noCountry = makeAlert({ detector: 'ip', owner: { asn: 64496, org: 'EXAMPLE-ISP' } }).silence;
    expect(noCountry.some((h) => h.includes('allow country'))).toBe(false);
    expect(noCountry.some((h) => h.includes('allow asn 64496'))).toBe(true);
    const none = makeAlert({ detector: 'ip' }).silence;
    expect(none.some((h) => / allow (country|asn) /.test(h))).toBe(false);
  });

  it('offer the trip for impossible travel, quoted for the shell, and only with a known country and time', () => {
    const subject = {
      user: "o'brien",
      sourceIp: '198.51.100.7',
      alertId: 'impossibletravel-1',
      at: Date.UTC(2026, 11, 28, 23, 30),
    };
    const japan = { asn: 64500, org: 'EXAMPLE', country: 'JP' };
    const hints = silenceHints({ ...subject, owner: japan }, impossibleTravel, { tableName: 'T' });
    // Across a year's end, from the logon's UTC day.
    expect(hints[1]).toBe(
      `The user travels in JP: npm run authwatch -- allow country JP --user 'o'\\''brien' --until 2027-01-11 --table T`,
    );
    expect(silenceHints({ ...subject, user: '-x', owner: japan }, impossibleTravel)[1]).toContain(
      "allow country JP --user='-x' --until 2027-01-11 ",
    );
    // A country read back from an edited document is still one shell word.
    expect(silenceHints({ ...subject, owner: { ...japan, country: 'J P;x' } }, impossibleTravel)[1]).toContain(
      "allow country 'J P;x' --user",
    );
    const without = (s: Parameters<typeof silenceHints>[0]) =>
      silenceHints(s, impossibleTravel).filter((h) => h.includes('allow country'));
    expect(without(subject)).toEqual([]);
    expect(without({ ...subject, owner: { asn: 64500, org: 'EXAMPLE' } })).toEqual([]);
    // No time to count from (a document without @timestamp): no open-ended trip is offered.
    expect(without({ ...subject, at: Number.NaN, owner: japan })).toEqual([]);
  });

  it('quote a user name for the shell, and keep one starting with - from being read as an option', () => {
    expect(makeAlert({ user: `o'brien $(rm -rf /)` }).silence[1]).toBe(
      `Never alert on it (service account): npm run authwatch -- allow user 'o'\\''brien $(rm -rf /)' --table <table>`,
    );
    expect(makeAlert({ user: '-rf' }).silence[1]).toBe(
      "Never alert on it (service account): npm run authwatch -- allow user --table <table> -- '-rf'",
    );
    expect(makeAlert({ detector: 'ip', user: '--help' }).silence[2]).toContain("--user='--help' ");
    expect(shellQuote('CORP\\alice')).toBe(`'CORP\\alice'`);
    expect(shellQuote('alice@corp.example')).toBe('alice@corp.example');
  });
});

describe('boundAlertDocument', () => {
  it('returns a document within the bound unchanged, and trims one over it to exactly within', () => {
    const a = makeAlert({ hosts: Array.from({ length: 300 }, (_, i) => `h${i}-ü`) });
    const doc = alertDocument(a);
    const bytes = Buffer.byteLength(doc);
    expect(boundAlertDocument(doc, bytes)).toBe(doc);
    for (const max of [bytes - 1, Math.floor(bytes / 2), 4_000]) {
      const cut = boundAlertDocument(doc, max)!;
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
      expect(JSON.parse(cut)).toMatchObject({ id: a.id, truncated: true, rule: { id: a.rule.id } });
    }
  });

  it('gives up (undefined) on what is not a JSON object, or when not even the identifying fields fit', () => {
    expect(boundAlertDocument('x'.repeat(100), 10)).toBeUndefined();
    expect(boundAlertDocument(JSON.stringify(['a', 'b'].map((x) => x.repeat(50))), 10)).toBeUndefined();
    expect(boundAlertDocument(alertDocument(makeAlert()), 60)).toBeUndefined();
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

  it('allows by the address owner: an AS or a country, for everyone or for one user only', () => {
    const a = compileAllowlist(
      { allowUsers: [], allowCidrs: [], allowAsns: [64496], allowCountries: ['NZ'] },
      {
        allowUsers: [],
        allowCidrs: [],
        allowAsns: [{ asn: 64511, user: 'bob', addedAt: T }],
        allowCountries: [{ country: 'JP', user: 'alice', addedAt: T }],
      },
    );
    const at = T + DAY_MS;
    const owner = (asn: number, country?: string) => ({ asn, org: 'EXAMPLE', ...(country ? { country } : {}) });
    expect(a.allows('carol', '192.0.2.1', owner(64496, 'US'), at)).toBe(true);
    expect(a.allows('carol', '192.0.2.1', owner(64500, 'NZ'), at)).toBe(true);
    expect(a.allows('carol', '192.0.2.1', owner(64500, 'US'), at)).toBe(false);
    // Per user: the exact name only, like a per-user range.
    expect(a.allows('alice', '192.0.2.1', owner(64500, 'JP'), at)).toBe(true);
    expect(a.allows('Alice', '192.0.2.1', owner(64500, 'JP'), at)).toBe(false);
    expect(a.allows('bob', '192.0.2.1', owner(64500, 'JP'), at)).toBe(false);
    expect(a.allows('bob', '192.0.2.1', owner(64511), at)).toBe(true);
    expect(a.allows('alice', '192.0.2.1', owner(64511), at)).toBe(false);
    // No owner (a private address, no network data loaded): nothing to match; no country: the AS still matches.
    expect(a.allows('alice', '192.0.2.1', undefined, at)).toBe(false);
    expect(a.allows('carol', '192.0.2.1', owner(64496), at)).toBe(true);
    // The owner says nothing about the address alone, nor about the user.
    expect(a.allowsIp('192.0.2.1', at)).toBe(false);
    expect(a.allowsUser('alice', at)).toBe(false);
  });

  it('an entry with an expiry allows logons strictly before it, and nothing when no time is given', () => {
    const end = Date.UTC(2026, 11, 19); // `--until 2026-12-18`
    const a = compileAllowlist(
      { allowUsers: [], allowCidrs: [] },
      {
        allowUsers: [{ pattern: 'contractor-*', addedAt: T, expiresAt: end }],
        allowCidrs: [
          { cidr: '198.51.100.0/24', addedAt: T, expiresAt: end },
          { cidr: '203.0.113.0/24', user: 'bob', addedAt: T, expiresAt: end },
        ],
        allowAsns: [{ asn: 64496, addedAt: T, expiresAt: end }],
        allowCountries: [{ country: 'JP', user: 'alice', addedAt: T, expiresAt: end }],
      },
    );
    const japan = { asn: 64500, org: 'EXAMPLE', country: 'JP' };
    let t = 0;
    const cases: [string, () => boolean][] = [
      ['user', () => a.allowsUser('contractor-7', t)],
      ['user via allows', () => a.allows('contractor-7', '192.0.2.1', undefined, t)],
      ['range', () => a.allowsIp('198.51.100.9', t)],
      ['range for one user', () => a.allows('bob', '203.0.113.9', undefined, t)],
      ['AS', () => a.allows('carol', '192.0.2.1', { asn: 64496, org: 'EXAMPLE' }, t)],
      ['country for one user', () => a.allows('alice', '192.0.2.1', japan, t)],
    ];
    t = end - 1;
    for (const [what, allowed] of cases) expect(allowed(), `${what} at its last instant`).toBe(true);
    t = end;
    for (const [what, allowed] of cases) expect(allowed(), `${what} at its expiry`).toBe(false);
    // An expiry that cannot be judged never silences.
    expect(a.allowsUser('contractor-7')).toBe(false);
    expect(a.allows('alice', '192.0.2.1', japan)).toBe(false);
  });

  it("judges the settings' entries for one user and until a day exactly like feedback's", () => {
    const settings = detectionSettingsSchema.parse({
      allowUsers: ['svc-*', { user: 'contractor-*', until: '2026-12-18', note: 'contract ends' }],
      allowCidrs: [
        '198.51.100.0/24',
        { cidr: '203.0.113.0/24', user: 'bob' },
        { cidr: '192.0.2.0/24', until: '2026-12-18' },
      ],
      allowAsns: [64496, { asn: 'AS64511', user: 'bob', until: '2026-12-18' }],
      allowCountries: ['NZ', { country: 'jp', user: 'alice', until: '2026-12-18', note: 'trip to Tokyo' }],
    });
    const a = compileAllowlist(settings);
    const end = Date.UTC(2026, 11, 19);
    const japan = { asn: 64500, org: 'EXAMPLE', country: 'JP' };
    const other = { asn: 64500, org: 'EXAMPLE', country: 'US' };
    let t = end - 1;
    const cases: [string, () => boolean][] = [
      ['user pattern until a day', () => a.allowsUser('contractor-7', t)],
      ['range until a day', () => a.allowsIp('192.0.2.9', t)],
      ['AS for one user until a day', () => a.allows('bob', '10.0.0.1', { asn: 64511, org: 'X' }, t)],
      ["alice's trip to Japan", () => a.allows('alice', '10.0.0.1', japan, t)],
    ];
    for (const [what, allowed] of cases) expect(allowed(), `${what} on its last day`).toBe(true);
    t = end;
    for (const [what, allowed] of cases) expect(allowed(), `${what} after its last day`).toBe(false);
    // Only the user it names (exact name): not someone else from the same place.
    expect(a.allows('carol', '10.0.0.1', japan, end - 1)).toBe(false);
    expect(a.allows('Alice', '10.0.0.1', japan, end - 1)).toBe(false);
    expect(a.allows('alice', '10.0.0.1', other, end - 1)).toBe(false);
    expect(a.allows('alice', '10.0.0.1', { asn: 64511, org: 'X' }, end - 1)).toBe(false);
    expect(a.allows('bob', '203.0.113.5', undefined, end + 365 * DAY_MS)).toBe(true);
    expect(a.allows('alice', '203.0.113.5', undefined, end - 1)).toBe(false);
    expect(a.allowsIp('203.0.113.5', end - 1)).toBe(false);
    // Plain values: for everyone, for good, as before.
    const later = end + 365 * DAY_MS;
    expect(a.allowsUser('svc-backup', later)).toBe(true);
    expect(a.allowsIp('198.51.100.1', later)).toBe(true);
    expect(a.allows('carol', '10.0.0.1', { asn: 64496, org: 'X' }, later)).toBe(true);
    expect(a.allows('carol', '10.0.0.1', { ...other, country: 'NZ' }, later)).toBe(true);
    // An entry with an end and no logon time to judge it by never silences.
    expect(a.allowsUser('contractor-7')).toBe(false);
    expect(a.allows('alice', '10.0.0.1', japan)).toBe(false);
  });

  it('without feedback is the settings alone', () => {
    const s = compileAllowlist({ allowUsers: [], allowCidrs: ['198.51.100.0/24'] });
    expect(s.allows('x', '198.51.100.1')).toBe(true);
    expect(s.allows('x', '203.0.113.1')).toBe(false);
  });
});
