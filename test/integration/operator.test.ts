/**
 * The operator's commands end to end: `main(argv)` against a local store (embedded DynamoDB in a temp
 * folder, reused as `--store <dir>`), and the detector's `runDetection` on the same store honouring what
 * they wrote. `--table` is exercised against a dynalite endpoint through the same code path.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../cli/authwatch';
import { openLocalStore } from '../../cli/local';
import {
  renderAllowList,
  renderShow,
  runOperatorCommand,
  show,
  type StatusReport,
  type ExplainReport,
} from '../../cli/operator';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { displayWidth } from '../../cli/text-width';
import type { Alert, LedgerEntry } from '../../shared/core/model';
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { unusualSourceIp } from '../../shared/core/detectors';
import {
  bucketOf,
  DAY_MS,
  dayOf,
  emptyPopulation,
  windowEndingAt,
  type LogonEvent,
  type SeenStats,
  type UserBaseline,
} from '../../shared/core/model';
import { buildNetworkData } from '../../shared/core/network-data/build';
import { NetworkDatabase, type NetworkLookupService } from '../../shared/core/network-data/lookup';
import { DEFAULT_SETTINGS, detectionSettingsSchema } from '../../shared/core/settings';
import { runDetection } from '../../shared/run-detection';
import { useDynalite } from '../support/dynalite';

/** Control characters (C0 but newline, DEL, C1) in `s`: none may reach a terminal from log content. */
function controlChars(s: string): string[] {
  return [...s].filter((c) => {
    const n = c.codePointAt(0) ?? 0;
    return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n < 0xa0);
  });
}

const T = Date.UTC(2026, 2, 2, 9, 0);
const MIN = 60_000;

function seen(first: number, last: number, buckets: number, days: number): SeenStats {
  return { first, last, buckets, lastBucket: bucketOf(last), days, lastDay: dayOf(last) };
}

/** A user with formed habits: one home address for 30 days, never a new place since. */
/** An organisation whose users rarely bring a new place (pooled over many periods, so one run barely moves it). */
function population() {
  return {
    ...emptyPopulation(),
    lastBucket: bucketOf(T - DAY_MS),
    knownUsers: 3,
    placeNovelty: { periods: 2000, ip: 20, prefix: 8, network: 4, ipInKnownPrefix: 10, networkOrgNovel: 1 },
  };
}

function matureUser(user: string, home: string): UserBaseline {
  const s = seen(T - 30 * DAY_MS, T - DAY_MS, 80, 30);
  const [a, b, c] = home.split('.');
  return {
    user,
    activity: s,
    ips: { [home]: s },
    prefixes: { [`${a}.${b}.${c}.0/24`]: s },
    networks: { [`${a}.${b}.0.0/16`]: s },
    novelty: { periods: 70, ip: 0, prefix: 0, network: 0 },
    version: 0,
  };
}

let dir: string;

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'authwatch-operator-')), 'store');
  const local = await openLocalStore({ dir, keep: true });
  try {
    const carol = { ...matureUser('carol', '81.2.5.10'), activity: seen(T - 2 * DAY_MS, T - DAY_MS, 3, 2) };
    await local.store.saveUsers([matureUser('alice', '81.2.3.10'), matureUser('bob', '81.2.4.10'), carol]);
    await local.store.savePopulation(population());
    await local.store.saveRunState({ firstWindowEnd: T - 40 * DAY_MS, lastWindowEnd: T - 15 * MIN, version: 0 });
  } finally {
    await local.close();
  }
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(join(dir, '..'), { recursive: true, force: true });
});

function ev(user: string, sourceIp: string, t: number): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome: 'success', host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

/**
 * Offline network data for the tests' addresses, built as the refresh Lambda builds it: 203.0.113.0/24 is
 * announced by AS64500 and registered in Japan, 198.51.100.0/24 by AS64496 in the United States.
 */
const NETWORK: NetworkLookupService = NetworkDatabase.fromBytes(
  buildNetworkData(
    ['198.51.100.0\t198.51.100.255\t64496\tUS\tEXAMPLE-NET', '203.0.113.0\t203.0.113.255\t64500\tJP\tEXAMPLE-JP'],
    { builtAt: 0, source: 'test' },
  ).bytes,
);

/** One detector run on the local store, as the Lambda would run it: the window ending at `windowEnd`. */
async function detect(events: LogonEvent[], windowEnd: number) {
  const local = await openLocalStore({ dir, keep: true });
  try {
    const sink = new InMemoryAlertSink();
    const source = new FileLogSource({
      name: 'test',
      events,
      parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
    });
    const summary = await runDetection(
      {
        logSources: [source],
        store: local.store,
        sink,
        clock: { now: () => 0 },
        settings: DEFAULT_SETTINGS,
        network: NETWORK,
      },
      { windowEnd },
    );
    return { summary, alerts: sink.delivered };
  } finally {
    await local.close();
  }
}

/** `npm run authwatch -- ...argv`, stdout and stderr captured. */
async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    vi.restoreAllMocks();
  }
}

describe('allow', () => {
  it("lists the given settings' entries for one user and until a day as such, an entry over at now marked", () => {
    const settings = detectionSettingsSchema.parse({
      allowUsers: ['svc-*'],
      allowCountries: [
        'DE',
        { country: 'JP', user: 'alice', until: '2026-12-18' },
        { country: 'FR', until: '2026-01-31' },
      ],
    });
    expect(renderAllowList({ allowUsers: [], allowCidrs: [], version: 1 }, settings, Date.UTC(2026, 11, 1))).toContain(
      'Also from the settings given here: users svc-*; ranges -; networks -; countries DE, JP for alice until 2026-12-18, FR until 2026-01-31 (expired).',
    );
  });

  it('allow cidr --user: the next run stays silent for that user from that range, and only for that user', async () => {
    const r = await cli(
      'allow',
      'cidr',
      '198.51.100.0/24',
      '--user',
      'alice',
      '--note',
      'conference wifi',
      '--store',
      dir,
    );
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toContain('allowed 198.51.100.0/24 for user alice');

    const w = T + 15 * MIN;
    const run = await detect([ev('alice', '198.51.100.7', w - 10 * MIN), ev('bob', '198.51.100.8', w - 10 * MIN)], w);
    expect(run.alerts.map((a) => a.user.name)).toEqual(['bob']);
    expect(run.summary.alertsSuppressed).toBe(1);
    // The alert says how to do the same for bob.
    expect(run.alerts[0]!.silence[2]).toContain(
      'npm run authwatch -- allow cidr 198.51.100.0/24 --user bob --table <table>',
    );
  });

  it('allow user, list and remove', async () => {
    expect((await cli('allow', 'user', 'svc-*', '--store', dir)).code).toBe(0);
    expect((await cli('allow', 'cidr', '192.0.2.7', '--store', dir)).out).toContain(
      'allowed 192.0.2.7/32 for every user',
    );
    expect((await cli('allow', 'user', 'SVC-*', '--store', dir)).out).toContain('already allowed');

    const list = await cli('allow', 'list', '--store', dir, '--json');
    const f = JSON.parse(list.out) as {
      allowUsers: { pattern: string }[];
      allowCidrs: { cidr: string; user?: string }[];
      version: number;
    };
    expect(f.allowUsers.map((e) => e.pattern)).toEqual(['svc-*']);
    expect(f.allowCidrs).toMatchObject([{ cidr: '192.0.2.7/32' }]);
    expect((await cli('allow', 'list', '--store', dir)).out).toMatch(
      /USER OR GLOB[\s\S]*svc-\*[\s\S]*192\.0\.2\.7\/32\s+every user/,
    );

    // A user allowed by pattern does not alert.
    const w = T + 15 * MIN;
    const run = await detect([ev('svc-backup', '203.0.113.77', w - 10 * MIN), ev('bob', '192.0.2.7', w - 10 * MIN)], w);
    expect(run.alerts).toEqual([]);

    expect((await cli('allow', 'remove', 'user', 'svc-*', '--store', dir)).code).toBe(0);
    const missing = await cli('allow', 'remove', 'cidr', '192.0.2.7/32', '--user', 'bob', '--store', dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('nothing to remove');
    expect((await cli('allow', 'remove', 'cidr', '192.0.2.7', '--store', dir)).code).toBe(0);
    expect(JSON.parse((await cli('allow', 'list', '--json', '--store', dir)).out)).toMatchObject({
      allowUsers: [],
      allowCidrs: [],
    });
  });

  it('refuses what is not an allowlist entry, with a message that says why', async () => {
    expect((await cli('allow', 'cidr', '300.1.1.1/24', '--store', dir)).err).toContain('is not a CIDR');
    expect((await cli('allow', 'user', '*', '--store', dir)).err).toContain('would silence every alert');
    expect((await cli('allow', 'cidr', '0.0.0.0/0', '--store', dir)).err).toContain('every address');
    expect((await cli('allow', 'everything', '--store', dir)).err).toContain('usage: authwatch allow user');
  });
});

describe('allow asn, allow country, --until', () => {
  /** An operator command at `now` (the CLI's clock injected), its output captured. */
  async function op(positionals: string[], opts: { user?: string; until?: string; json?: boolean } = {}, now = T) {
    let out = '';
    await runOperatorCommand(
      positionals[0] === 'status' ? 'status' : 'allow',
      positionals[0] === 'status' ? [] : positionals,
      { store: dir, json: opts.json ?? false, settings: DEFAULT_SETTINGS, ...opts },
      { out: (s) => void (out += s), now: () => now },
    );
    return out;
  }

  it('the next run is silent for the allowed owner, country and user, and alerts on the rest', async () => {
    expect(await op(['country', 'jp'], { user: 'alice', until: '2026-03-09' })).toContain(
      'allowed country JP for user alice until 2026-03-09',
    );
    expect(await op(['asn', 'AS64496'])).toContain('allowed AS64496 for every user');

    const w = T + 15 * MIN;
    const run = await detect(
      [
        ev('alice', '203.0.113.7', w - 10 * MIN), // Japan, allowed for alice
        ev('bob', '203.0.113.8', w - 10 * MIN), // Japan, not allowed for bob
        ev('bob', '198.51.100.9', w - 10 * MIN), // AS64496, allowed for everyone
      ],
      w,
    );
    expect(run.alerts.map((a) => `${a.user.name} ${a.source.ip}`)).toEqual(['bob 203.0.113.8']);
    expect(run.summary.alertsSuppressed).toBe(2);
  });

  it('judges an entry at the logon time: one that expired before the logon no longer silences it', async () => {
    // Stored as `allow` stores it; an expiry within the window, so one run sees a logon on each side of it.
    const local = await openLocalStore({ dir, keep: true });
    try {
      const expiresAt = T + 5 * MIN;
      await local.store.saveFeedback({
        allowUsers: [],
        allowCidrs: [],
        allowCountries: [
          { country: 'JP', user: 'alice', addedAt: T - DAY_MS, expiresAt },
          { country: 'JP', user: 'bob', addedAt: T - DAY_MS, expiresAt },
        ],
        version: 0,
      });
    } finally {
      await local.close();
    }
    const w = T + 15 * MIN;
    const run = await detect([ev('alice', '203.0.113.7', T + 4 * MIN), ev('bob', '203.0.113.8', T + 5 * MIN)], w);
    expect(run.alerts.map((a) => a.user.name)).toEqual(['bob']);
  });

  it('allow again extends an entry; status and allow list name the expired ones, which remove takes off', async () => {
    await op(['country', 'JP'], { user: 'alice', until: '2026-03-05' });
    expect(await op(['country', 'JP'], { user: 'alice', until: '2026-03-09' })).toContain(
      'updated: country JP for user alice now until 2026-03-09',
    );
    await op(['asn', '64496'], { until: '2026-03-03' });
    await op(['user', 'contractor-*']);

    // A week later: the AS entry is over, the trip is not.
    const later = T + 7 * DAY_MS;
    const status = JSON.parse(await op(['status'], { json: true }, later)) as StatusReport;
    expect(status.feedback).toEqual({
      allowUsers: 1,
      allowCidrs: 0,
      allowAsns: 1,
      allowCountries: 1,
      hostile: 0,
      expired: [{ entry: 'asn AS64496', until: '2026-03-03' }],
    });
    expect(await op(['status'], {}, later)).toMatch(
      /Expired allow entries:\s+asn AS64496 \(until 2026-03-03\): ignored by runs;\s+renew with allow/,
    );
    const list = await op(['list'], {}, later);
    expect(list).toMatch(/AS64496\s+every user\s+2026-03-03 \(expired\)/);
    expect(list).toMatch(/JP\s+alice\s+2026-03-09\s/);

    expect(await op(['remove', 'asn', 'AS64496'], {}, later)).toContain('removed AS64496');
    expect(await op(['remove', 'country', 'jp'], { user: 'alice' }, later)).toContain(
      'removed country JP for user alice',
    );
    const after = JSON.parse(await op(['status'], { json: true }, later)) as StatusReport;
    expect(after.feedback).toMatchObject({ allowAsns: 0, allowCountries: 0, expired: [] });
  });

  it('refuses what is not an AS, a country or a day, with a message that says why', async () => {
    expect((await cli('allow', 'country', 'UK', '--store', dir)).err).toContain('(the United Kingdom is GB)');
    expect((await cli('allow', 'asn', 'AS0', '--store', dir)).err).toContain('AS0 is reserved (RFC 7607)');
    expect((await cli('allow', 'asn', '--store', dir)).err).toContain('allow asn: missing the AS number');
    expect((await cli('allow', 'country', 'JP', '--until', '2026-02-30', '--store', dir)).err).toContain(
      '--until "2026-02-30" is not a date like 2026-12-18',
    );
    expect((await cli('allow', 'list', '--until', '2026-12-18', '--store', dir)).err).toContain(
      'allow list: --until is for adding an entry',
    );
    expect((await cli('allow', 'user', 'alice', '--user', 'bob', '--store', dir)).err).toContain(
      'allow user: --user is for a range, an AS or a country',
    );
    expect((await cli('allow', 'remove', 'user', 'alice', '--user', 'bob', '--store', dir)).err).toContain(
      'allow remove user: --user is for a range, an AS or a country',
    );
    expect((await cli('allow', 'remove', 'country', 'JP', '--store', dir)).err).toContain(
      'nothing to remove: country JP (for every user; per-user entries need --user)',
    );
  });
});

describe('benign', () => {
  it('marks the place known for the user: the next evaluation of that user and address finds nothing', async () => {
    // A ledger entry whose place the baseline does not (or no longer) hold: the run raised it, but the
    // user's address map has since evicted it, or the run that raised it never saved the baseline.
    const local = await openLocalStore({ dir, keep: true });
    try {
      await local.store.recordRaisedAlerts([
        {
          id: 'unusualsourceip-abc',
          detectorId: 'Auth.UnusualSourceIp',
          user: 'alice',
          sourceIp: '203.0.113.50',
          raisedAtMs: T,
          expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
        },
      ]);
    } finally {
      await local.close();
    }
    const observation = {
      user: 'alice',
      sourceIp: '203.0.113.50',
      outcome: 'success' as const,
      count: 1,
      firstSeen: T + 5 * MIN,
      lastSeen: T + 5 * MIN,
      hosts: [],
      methods: [],
      logSource: 'sshd',
    };
    const evaluate = async () => {
      const l = await openLocalStore({ dir, keep: true });
      try {
        const baseline = (await l.store.getUsers(['alice'])).get('alice');
        const input = {
          baseline,
          population: population(),
          window: windowEndingAt(T + 15 * MIN),
          settings: DEFAULT_SETTINGS,
        };
        return {
          same: unusualSourceIp.evaluate({ ...input, observation }),
          neighbour: unusualSourceIp.evaluate({ ...input, observation: { ...observation, sourceIp: '203.0.113.51' } }),
          baseline,
        };
      } finally {
        await l.close();
      }
    };
    const before = await evaluate();
    expect(before.same!.score).toBeGreaterThanOrEqual(75);
    expect(before.same!.evidence.novelty_level).toBe('network');

    const r = await cli('benign', 'unusualsourceip-abc', '--store', dir, '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({
      user: 'alice',
      sourceIp: '203.0.113.50',
      places: ['203.0.113.50', '203.0.113.0/24', '203.0.0.0/16'],
    });

    const after = await evaluate();
    expect(after.same).toBeNull();
    // A neighbour in the benign subnet is only a new address in a known subnet now, not a new network.
    expect(after.neighbour?.evidence.novelty_level ?? 'ip').toBe('ip');
    expect(after.baseline!.ips['203.0.113.50']).toMatchObject({ days: 1, buckets: 1 });
    expect(after.baseline!.version).toBe(before.baseline!.version + 1);
    expect(after.baseline!.ips['81.2.3.10']).toEqual(before.baseline!.ips['81.2.3.10']);
  });

  it('after a real alert: benign succeeds, and the next run from that address raises nothing', async () => {
    const w1 = T + 15 * MIN;
    const { alerts } = await detect([ev('alice', '203.0.113.50', w1 - 10 * MIN)], w1);
    const id = alerts[0]!.id;
    expect(alerts[0]!.silence[0]).toBe(`The user confirms it: npm run authwatch -- benign ${id} --table <table>`);
    const r = await cli('benign', id, '--store', dir);
    expect(r.out).toContain('marked 203.0.113.50, 203.0.113.0/24, 203.0.0.0/16 as known places of alice');
    const w2 = T + DAY_MS;
    const next = await detect([ev('alice', '203.0.113.50', w2 - 10 * MIN)], w2);
    expect(next.alerts).toEqual([]);
  });

  it('says there is nothing to add for a rare-user alert, and refuses an unknown id', async () => {
    const w1 = T + 15 * MIN;
    await detect([ev('dave', '81.2.3.10', w1 - 10 * MIN)], w1);
    const local = await openLocalStore({ dir, keep: true });
    try {
      await local.store.recordRaisedAlerts([
        {
          id: 'rareuser-x',
          detectorId: 'Auth.RareUser',
          user: 'dave',
          sourceIp: '81.2.3.10',
          raisedAtMs: w1,
          expiresAtEpochSeconds: Math.floor(w1 / 1000) + 86_400,
        },
      ]);
    } finally {
      await local.close();
    }
    expect((await cli('benign', 'rareuser-x', '--store', dir)).out).toContain(
      'dave is a known user since the run that raised this alert; nothing to add',
    );
    const missing = await cli('benign', 'rareuser-nope', '--store', dir);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no alert rareuser-nope in the ledger');
  });
});

describe('show', () => {
  /** A real alert: alice, mature at home, logs on from a network never seen for her. */
  async function realAlert(): Promise<Alert> {
    const w = T + 15 * MIN;
    const { alerts } = await detect([ev('alice', '198.51.100.7', w - 10 * MIN)], w);
    expect(alerts).toHaveLength(1);
    return alerts[0]!;
  }

  function entryOf(a: Alert, id: string, document?: string): LedgerEntry {
    return {
      id,
      detectorId: a.rule.id,
      user: a.user.name,
      sourceIp: a.source.ip,
      raisedAtMs: T + 15 * MIN,
      expiresAtEpochSeconds: Math.floor(T / 1000) + 30 * 86_400,
      ...(document !== undefined ? { document } : {}),
    };
  }

  async function record(entries: LedgerEntry[]): Promise<void> {
    const local = await openLocalStore({ dir, keep: true });
    try {
      await local.store.recordRaisedAlerts(entries);
    } finally {
      await local.close();
    }
  }

  // Needs the local store to keep LedgerEntry.document (written by recordRaisedAlerts, returned by getLedgerEntry).
  it('prints a past alert as it was sent, from a ledger entry with its document; --json prints the document', async () => {
    const a = await realAlert();
    const document = JSON.stringify(a);
    await record([entryOf(a, 'shown-1', document)]);
    const r = await cli('show', 'shown-1', '--store', dir);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('Unusual');
    expect(r.out).toContain('WHAT HAPPENED');
    expect(r.out).toContain('198.51.100.7');
    expect(r.out).toContain(`Alert id: ${a.id}`);
    for (const l of r.out.split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(80);
    const j = await cli('show', 'shown-1', '--store', dir, '--json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out)).toEqual(JSON.parse(document));
  });

  it('renders the document the store returns (any BaselineStore), escaping log-controlled text', async () => {
    const a = await realAlert();
    const hostile = { ...a, user: { name: 'alice\x1b]0;pwned\x07\x1b[31m' } };
    const store = new InMemoryBaselineStore();
    await store.recordRaisedAlerts([entryOf(hostile, 'mem-1', JSON.stringify(hostile))]);
    const r = await show(store, 'mem-1');
    expect(r.alert?.id).toBe(a.id);
    const text = renderShow(r, 80);
    expect(text).toContain('WHAT TO CHECK');
    expect(text).toContain('alice?]0;pwned?');
    expect(controlChars(text)).toEqual([]);
    // A document cut to bound the item is not an alert any more: what is known, and why the rest is not shown.
    await store.recordRaisedAlerts([entryOf(a, 'mem-2', JSON.stringify(a).slice(0, 200))]);
    const cut = await show(store, 'mem-2');
    expect(cut.alert).toBeUndefined();
    expect(renderShow(cut, 80)).toContain('cannot be read back as an alert');
  });

  it('an older entry without a document: what the ledger knows, and why the rest is missing', async () => {
    const a = await realAlert();
    await record([entryOf({ ...a, user: { name: 'bob\x1b[31m' } }, 'old-1')]);
    const r = await cli('show', 'old-1', '--store', dir);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Detector: +Auth\.UnusualSourceIp/);
    expect(r.out).toMatch(/User: +bob\?\[31m/);
    expect(r.out).toContain('198.51.100.7');
    expect(r.out).toContain('written before the ledger kept the alert as sent');
    expect(controlChars(r.out)).toEqual([]);
    const j = JSON.parse((await cli('show', 'old-1', '--store', dir, '--json')).out) as Record<string, unknown>;
    expect(j).toMatchObject({ alertId: 'old-1', detectorId: 'Auth.UnusualSourceIp', document: null });
  });

  it('an unknown id: one line and the usage, exit 2', async () => {
    const r = await cli('show', 'no-such-alert', '--store', dir);
    expect(r.code).toBe(2);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^authwatch: no alert no-such-alert in the ledger/);
    expect(lines[1]).toMatch(/^usage: authwatch show <alert-id>/);
  });
});

describe('status', () => {
  it('reports learning, users, the last window, alerts of the last 24 h by rule and the noisiest users', async () => {
    const w = T + 15 * MIN;
    const local = await openLocalStore({ dir, keep: true });
    try {
      // Older alerts still in the ledger: they count for the noisiest users, not for the last 24 h.
      const old = (id: string, user: string) => ({
        id,
        detectorId: 'Auth.UnusualSourceIp',
        user,
        sourceIp: '192.0.2.1',
        raisedAtMs: T - 3 * DAY_MS,
        expiresAtEpochSeconds: Math.floor(T / 1000) + 27 * 86_400,
      });
      await local.store.recordRaisedAlerts([
        old('unusualsourceip-old1', 'alice'),
        old('unusualsourceip-old2', 'alice'),
        old('unusualsourceip-old3', 'carol'),
        { ...old('unusualsourceip-gone', 'zed'), expiresAtEpochSeconds: Math.floor(T / 1000) - 1 },
      ]);
    } finally {
      await local.close();
    }
    const run = await detect([ev('alice', '203.0.113.50', w - 10 * MIN), ev('bob', '198.51.100.9', w - 10 * MIN)], w);
    expect(run.alerts).toHaveLength(2);

    const r = await cli('status', '--store', dir, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as StatusReport;
    expect(s.learning).toMatchObject({
      learningDays: 14,
      done: true,
      daysLeft: 0,
      startedAt: new Date(T - 40 * DAY_MS).toISOString(),
    });
    expect(s.lastWindow!.end).toBe(new Date(w).toISOString());
    expect(s.users).toEqual({ known: 3, stored: 3, learning: 1, mature: 2 });
    expect(s.alertsLast24h).toMatchObject({ total: 2, byDetector: { 'Auth.RareUser': 0, 'Auth.UnusualSourceIp': 2 } });
    expect(s.noisiestUsers).toEqual([
      { user: 'alice', alerts: 3 },
      { user: 'bob', alerts: 1 },
      { user: 'carol', alerts: 1 },
    ]);
    expect(s.ledger.entries).toBe(5);

    const text = await cli('status', '--store', dir, '--learning-days', '60');
    expect(text.out).toMatch(/Learning:\s+\d+(\.\d)? days left/);
    expect(text.out).toMatch(/Users still learning:\s+1 of 3/);
    expect(text.out).toMatch(/Auth\.UnusualSourceIp\s+2/);
    expect(text.out).toMatch(/alice\s+3\n/);
  });
});

describe('explain', () => {
  it('shows what the baseline knows about a user, most recent places first', async () => {
    const w1 = T + 15 * MIN;
    await detect([ev('alice', '203.0.113.50', w1 - 10 * MIN)], w1);
    const r = await cli('explain', 'alice', '--store', dir, '--json');
    const e = JSON.parse(r.out) as ExplainReport;
    expect(e).toMatchObject({
      user: 'alice',
      daysActive: 31,
      mature: true,
      firstSeen: new Date(T - 30 * DAY_MS).toISOString(),
    });
    // The alerted address is a suspect place until answered, not a known one.
    expect(e.places.ips.map((p) => p.place)).toEqual(['81.2.3.10']);
    expect(e.places.networks.map((p) => p.place)).toEqual(['81.2.0.0/16']);
    expect(e.suspect).toEqual([
      {
        place: '203.0.113.50',
        alertId: expect.stringMatching(/^unusualsourceip-/),
        alertLogon: new Date(w1 - 10 * MIN).toISOString(),
        lastSeen: new Date(w1 - 10 * MIN).toISOString(),
        logons: 0,
        learnedFrom: new Date(w1 - 10 * MIN + 7 * DAY_MS).toISOString(),
      },
    ]);

    const text = (await cli('explain', 'alice', '--store', dir)).out;
    expect(text).toContain('What authwatch knows about alice');
    expect(text).toMatch(/Days active:\s+31/);
    expect(text).toMatch(/Habits formed:\s+yes/);
    expect(text).toMatch(
      /Suspect places \(alerted, not answered.*: 1\n\s+PLACE.*\n\s+203\.0\.113\.50 +unusualsourceip-/,
    );
    expect(text).toMatch(/Known addresses: 1, most recent first\n\s+PLACE.*\n\s+81\.2\.3\.10 /);
  });

  it('escapes a hostile user name and says when there is no baseline', async () => {
    const hostile = 'evil\u001b[31m\nFAKE LINE';
    const local = await openLocalStore({ dir, keep: true });
    try {
      await local.store.saveUsers([matureUser(hostile, '81.2.9.10')]);
    } finally {
      await local.close();
    }
    const r = await cli('explain', hostile, '--store', dir);
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('\u001b');
    expect(r.out).not.toContain('\nFAKE LINE');
    const none = await cli('explain', 'nobody', '--store', dir);
    expect(none.code).toBe(2);
    expect(none.err).toContain('no baseline for user nobody');
  });
});

describe('choosing the table', () => {
  it('needs exactly one of --table and --store, and an existing store to read', async () => {
    expect((await cli('status')).err).toContain('--table <name>');
    expect((await cli('status', '--table', 'x', '--store', dir)).err).toContain('exclusive');
    const missing = await cli('explain', 'alice', '--store', join(dir, 'nope'));
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('no local store at');
  });

  const db = useDynalite();
  it('works against a deployed table by name (here: a dynalite endpoint)', async () => {
    const tableName = await db.freshTable();
    let out = '';
    const io = { out: (s: string) => void (out += s), now: () => T };
    const opts = { table: tableName, json: true, settings: DEFAULT_SETTINGS, client: db.client };
    await runOperatorCommand('allow', ['cidr', '203.0.113.0/24'], { ...opts, user: 'alice' }, io);
    out = '';
    await runOperatorCommand('allow', ['list'], opts, io);
    expect(JSON.parse(out)).toMatchObject({
      allowCidrs: [{ cidr: '203.0.113.0/24', user: 'alice', addedAt: T }],
      version: 1,
    });
    out = '';
    await runOperatorCommand('status', [], opts, io);
    expect(JSON.parse(out)).toMatchObject({
      table: `table ${tableName}`,
      lastWindow: null,
      feedback: { allowUsers: 0, allowCidrs: 1, allowAsns: 0, allowCountries: 0, expired: [] },
    });
  });
});

describe('malicious and unmark', () => {
  it("after a real alert: --owner marks its AS, another user's later logon from it raises the hostile-source alert; unmark takes it back", async () => {
    const w1 = T + 15 * MIN;
    const { alerts } = await detect([ev('alice', '203.0.113.50', w1 - 10 * MIN)], w1);
    const id = alerts[0]!.id;
    // The analyst marks it just after it arrived (the command's clock: a mark judges only logons after it).
    let out = '';
    await runOperatorCommand(
      'malicious',
      [id],
      { store: dir, json: false, owner: true, note: 'credential stuffing', settings: DEFAULT_SETTINGS },
      { out: (s) => void (out += s), now: () => w1 + 5 * MIN },
    );
    expect(out).toContain(`marked AS64500 malicious (from alert ${id}, alice from 203.0.113.50)`);
    expect((await cli('malicious', id, '--owner', '--store', dir)).out).toContain('already marked malicious: AS64500');

    const list = await cli('allow', 'list', '--store', dir);
    expect(list.out).toContain('Sources marked malicious (alert on every logon from them; take back with unmark) (1):');
    expect(list.out).toMatch(new RegExp(`AS64500 +${id} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d +credential stuffing`));
    expect((await cli('status', '--store', dir)).out).toMatch(
      /Marked malicious: +1 source \(see: allow list; take back with unmark\)/,
    );

    // bob, from another address of the same AS, a day later: high severity, naming the mark.
    const w2 = T + DAY_MS;
    const next = await detect([ev('bob', '203.0.113.9', w2 - 10 * MIN)], w2);
    const hostile = next.alerts.filter((a) => a.rule.severity === 'high');
    expect(hostile.map((a) => `${a.user.name} ${a.source.ip}`)).toEqual(['bob 203.0.113.9']);
    expect(hostile[0]!.explanation).toContain(
      `the network AS64500 EXAMPLE-JP, JP (which announces 203.0.113.9) was marked malicious by an analyst on`,
    );
    expect(hostile[0]!.explanation).toContain(`(alert ${id}: 'credential stuffing'); bob logged on from it at`);
    expect(hostile[0]!.silence[0]).toContain(`npm run authwatch -- unmark ${id} --table <table>`);

    const un = await cli('unmark', 'as64500', '--store', dir);
    expect(un.out).toContain('no longer marked malicious: AS64500');
    const w3 = T + 2 * DAY_MS;
    const after = await detect([ev('carol', '203.0.113.10', w3 - 10 * MIN)], w3);
    expect(after.alerts.filter((a) => a.rule.severity === 'high')).toEqual([]);
    const again = await cli('unmark', 'as64500', '--store', dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain('nothing to unmark');
  });

  it('marks the address (the default) or its /24, as --json says', async () => {
    const w1 = T + 15 * MIN;
    const { alerts } = await detect([ev('alice', '203.0.113.50', w1 - 10 * MIN)], w1);
    const id = alerts[0]!.id;
    const ip = JSON.parse((await cli('malicious', id, '--json', '--store', dir)).out);
    expect(ip).toMatchObject({ changed: true, hostile: [{ kind: 'ip', value: '203.0.113.50', alertId: id }] });
    const subnet = JSON.parse((await cli('malicious', id, '--subnet', '--json', '--store', dir)).out);
    expect(subnet.hostile.map((e: { value: string }) => e.value)).toEqual(['203.0.113.50', '203.0.113.0/24']);
  });

  it('refuses an unknown alert, an alert naming no AS with --owner, a range wider than /16, and both scopes; nothing written', async () => {
    const local = await openLocalStore({ dir, keep: true });
    try {
      // Raised before the ledger kept documents: its owner is unknown.
      await local.store.recordRaisedAlerts([
        {
          id: 'unusualsourceip-old',
          detectorId: unusualSourceIp.id,
          user: 'alice',
          sourceIp: '198.51.100.7',
          raisedAtMs: T,
          expiresAtEpochSeconds: Math.floor(T / 1000) + 86_400,
        },
      ]);
    } finally {
      await local.close();
    }
    const cases: [string[], RegExp][] = [
      [['malicious', 'unusualsourceip-nope'], /no alert unusualsourceip-nope in the ledger/],
      [
        ['malicious', 'unusualsourceip-old', '--owner'],
        /names no network owner.*mark the address or its subnet instead/,
      ],
      [
        ['malicious', 'unusualsourceip-old', '--subnet', '--prefix', '15'],
        /198\.50\.0\.0\/15 is too broad to mark malicious/,
      ],
      [['malicious', 'unusualsourceip-old', '--subnet', '--owner'], /--subnet and --owner are exclusive/],
      [['malicious', 'unusualsourceip-old', '--prefix', '20'], /--prefix is the length of the range --subnet marks/],
      [['malicious', 'unusualsourceip-old', '--subnet', '--prefix', 'wide'], /"wide" is not a prefix length/],
      [['malicious'], /malicious: missing the alert id/],
      [['unmark', '203.0.113.1'], /nothing to unmark/],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(...argv, '--store', dir);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(message);
    }
    const list = JSON.parse((await cli('allow', 'list', '--json', '--store', dir)).out);
    expect(list.hostile ?? []).toEqual([]);
  });
});
