/**
 * One baseline per person, end to end on the embedded DynamoDB (dynalite) with the real store: an sshd logon as
 * `alice` and an Okta sign-in as `alice@corp.example`, each read by its own profile from its own log, update one
 * baseline when the operator's identity rules say they are one person, and two when no rule does. The detector's
 * composition root wraps its sources the same way (`withIdentities`).
 */
import { describe, expect, it } from 'vitest';
import { DynamoDbBaselineStore } from '../../shared/adapters/dynamodb-baseline-store';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { withIdentities } from '../../shared/adapters/identity-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { checkIdentities, compileIdentityRules } from '../../shared/core/identity';
import { getProfile } from '../../shared/core/profiles';
import { DEFAULT_SETTINGS } from '../../shared/core/settings';
import { runDetection } from '../../shared/run-detection';
import { useDynalite } from '../support/dynalite';

const dynamo = useDynalite();

const T = Date.UTC(2026, 10, 2, 8, 10);
const SSHD = ['Nov  2 08:10:03 web-01 sshd[4211]: Accepted publickey for alice from 203.0.113.9 port 50022 ssh2'];
const OKTA = [
  JSON.stringify({
    eventType: 'user.session.start',
    published: '2026-11-02T08:12:00.000Z',
    actor: { alternateId: 'alice@corp.example' },
    client: { ipAddress: '198.51.100.23' },
    outcome: { result: 'SUCCESS' },
  }),
];

async function baselinesAfterOneRun(identities: unknown) {
  const sources = [
    FileLogSource.fromLines('sshd:test', getProfile('sshd', { year: 2026 }), SSHD),
    FileLogSource.fromLines('okta:test', getProfile('okta'), OKTA),
  ];
  const checked = checkIdentities(identities, 'authwatch.identities');
  expect(checked.issues).toEqual([]);
  const identify = compileIdentityRules(checked.rules);
  const store = new DynamoDbBaselineStore({ client: dynamo.client, tableName: await dynamo.freshTable() });
  await runDetection(
    {
      logSources: checked.rules ? sources.map((s) => withIdentities(s, identify)) : sources,
      store,
      sink: new InMemoryAlertSink(),
      clock: { now: () => T },
      settings: DEFAULT_SETTINGS,
    },
    { windowEnd: Date.UTC(2026, 10, 2, 8, 15) },
  );
  return store.getUsers(['alice', 'alice@corp.example']);
}

describe('one baseline per person', () => {
  it('with an alias rule, the sshd and the Okta logon update ONE baseline, which knows both addresses', async () => {
    const got = await baselinesAfterOneRun({ aliases: { alice: 'alice@corp.example' } });
    expect([...got.keys()]).toEqual(['alice@corp.example']);
    expect(Object.keys(got.get('alice@corp.example')!.ips).sort()).toEqual(['198.51.100.23', '203.0.113.9']);
  });

  it('with the domain rules instead, the two meet under the bare name', async () => {
    const got = await baselinesAfterOneRun({ dropDomains: ['corp.example'] });
    expect([...got.keys()]).toEqual(['alice']);
    expect(Object.keys(got.get('alice')!.ips).sort()).toEqual(['198.51.100.23', '203.0.113.9']);
  });

  it('with no rule, they stay two baselines, one address each', async () => {
    const got = await baselinesAfterOneRun(undefined);
    expect([...got.keys()].sort()).toEqual(['alice', 'alice@corp.example']);
    expect(Object.keys(got.get('alice')!.ips)).toEqual(['203.0.113.9']);
    expect(Object.keys(got.get('alice@corp.example')!.ips)).toEqual(['198.51.100.23']);
  });
});
