import { describe, expect, it } from 'vitest';
import { placeOf } from '../../../shared/core/net';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import { hostingReason } from '../../../shared/core/network-data/hosting';
import type { NetworkLookup } from '../../../shared/core/network-data/lookup';
import { DEFAULT_EXPECTATIONS, validateNetworkData } from '../../../shared/core/network-data/validate';
import { isHostingOwner } from '../../../shared/core/detectors/impossible-travel/hosting';
import { generateScenario, type Scenario, type ScenarioShape } from '../../../cli/scenario/generate';
import {
  ATTACKER_NETS,
  CARRIERS,
  EXTRACT_LINES,
  HOME_COUNTRIES,
  HOME_ISPS,
  INTERNAL_NET8,
  IPV6_ISPS,
  OFFICE_NAT,
  OFFICE_OWNER,
  type PoolOwner,
  TRAVEL_NETS,
  type V4Pool,
  VPN_OWNER,
  VPN_POOL,
} from '../../../cli/scenario/network';
import { SCENARIO_NETWORK_SOURCE, scenarioNetworkData, scenarioNetworkRows } from '../../../cli/scenario/network-data';
import { type NetworkRole, REAL_NETWORKS } from '../../../cli/scenario/real-networks';

const db = scenarioNetworkData();

function ownerOf(ip: string): PoolOwner | undefined {
  const r: NetworkLookup = db.lookup(ip);
  return r.known ? { asn: r.asn, org: r.org, country: r.country ?? '' } : undefined;
}

function isInternal(ip: string): boolean {
  return ip.startsWith(`${INTERNAL_NET8}.`);
}

function v4Text(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Every owner the scenario's pools name, with what the pool is for. */
const POOL_OWNERS: readonly { role: NetworkRole; owner: PoolOwner }[] = [
  { role: 'office', owner: OFFICE_OWNER },
  { role: 'vpn', owner: VPN_OWNER },
  ...CARRIERS.map((c) => ({ role: 'carrier' as const, owner: c.owner })),
  ...HOME_ISPS.map((i) => ({ role: 'home' as const, owner: i.owner })),
  ...IPV6_ISPS.map((i) => ({ role: 'home-v6' as const, owner: i.owner })),
  ...TRAVEL_NETS.map((n) => ({ role: 'travel' as const, owner: n.owner })),
  ...ATTACKER_NETS.map((n) => ({ role: 'attacker' as const, owner: n.owner })),
];

/** Every IPv4 pool, with its role. */
const POOLS: readonly { role: NetworkRole; pool: V4Pool }[] = [
  ...CARRIERS.flatMap((c) => c.pools.map((pool) => ({ role: 'carrier' as const, pool }))),
  ...HOME_ISPS.flatMap((i) => i.pools.map((pool) => ({ role: 'home' as const, pool }))),
  ...TRAVEL_NETS.map((n) => ({ role: 'travel' as const, pool: n.pool })),
  ...ATTACKER_NETS.flatMap((n) => n.pools.map((pool) => ({ role: 'attacker' as const, pool }))),
];

const scenarios = new Map<ScenarioShape, Scenario>();
function scenario(shape: ScenarioShape): Scenario {
  let s = scenarios.get(shape);
  if (!s) scenarios.set(shape, (s = generateScenario({ seed: 1, shape })));
  return s;
}
const SHAPES: readonly ScenarioShape[] = ['small-office', 'large-mobile', 'office-hours'];

describe("the scenario's network data", () => {
  it('builds from its rows without a malformed, overlapping or renamed line, IPv4 and IPv6, under its source', () => {
    const { stats } = buildNetworkData(scenarioNetworkRows(), { builtAt: 0, source: 'test' });
    expect(stats.malformed).toBe(0);
    expect(stats.overlapping).toBe(0);
    expect(stats.renamedAsns).toBe(0);
    expect(stats.ipv4Ranges).toBeGreaterThan(50);
    expect(stats.ipv6Ranges).toBeGreaterThanOrEqual(IPV6_ISPS.length + 2);
    expect(db.meta.source).toBe(SCENARIO_NETWORK_SOURCE);
  });

  it('resolves the public resolvers to their real owners, as the refresh checks every build', () => {
    expect(db.lookup('8.8.8.8')).toEqual({ known: true, asn: 15169, org: 'Google LLC', country: 'US' });
    const problems = validateNetworkData(
      { meta: db.meta, stats: buildNetworkData(scenarioNetworkRows(), { builtAt: 0, source: 'test' }).stats, db },
      { ...DEFAULT_EXPECTATIONS, minIpv4Ranges: 0, minIpv6Ranges: 0 },
    );
    expect(problems).toEqual([]);
  });

  it('names the real owners of the curated networks: each AS in its role, its one name, its country', () => {
    const curated = new Map<number, Set<NetworkRole>>();
    for (const n of REAL_NETWORKS) curated.set(n.asn, (curated.get(n.asn) ?? new Set()).add(n.role));
    for (const { role, owner } of POOL_OWNERS) {
      expect(curated.get(owner.asn)?.has(role), `AS${owner.asn} ${role}`).toBe(true);
      expect(owner.org).not.toMatch(/^EXAMPLE-/);
      expect(owner.country).toMatch(/^[A-Z]{2}$/);
      const wanted = REAL_NETWORKS.find((n) => n.asn === owner.asn && n.role === role)!.country;
      if (wanted !== undefined) expect(owner.country, `AS${owner.asn}`).toBe(wanted);
    }
    // Every row of the extract is a curated network's, and one AS is one organisation.
    const names = new Map<number, string>();
    for (const row of EXTRACT_LINES) {
      const [, , asnText, , org] = row.split('\t') as [string, string, string, string, string];
      expect(curated.has(Number(asnText)), row).toBe(true);
      expect(names.get(Number(asnText)) ?? org, row).toBe(org);
      names.set(Number(asnText), org);
    }
    // Every curated network is in the extract.
    for (const n of REAL_NETWORKS) expect(names.has(n.asn), `AS${n.asn}`).toBe(true);
  });

  it("resolves every pool's addresses, first to last, to that pool's owner", () => {
    for (const ip of OFFICE_NAT) expect(ownerOf(ip)).toEqual(OFFICE_OWNER);
    for (const ip of VPN_POOL) expect(ownerOf(ip)).toEqual(VPN_OWNER);
    for (const { pool } of POOLS) {
      expect(ownerOf(v4Text(pool.start))).toEqual(pool.owner);
      expect(ownerOf(v4Text(pool.end))).toEqual(pool.owner);
      // A pool is one network to the detector: it lies inside one /16.
      expect(placeOf(v4Text(pool.start), 'network')).toBe(placeOf(v4Text(pool.end), 'network'));
    }
    for (const i of IPV6_ISPS) expect(ownerOf(`${i.prefix}:ffff::1`)).toEqual(i.owner);
    // The internal network has no owner, as in the real data.
    expect(ownerOf('10.0.0.5')).toBeUndefined();
  });

  it('puts the people at home in HOME_COUNTRIES and every travel network abroad', () => {
    for (const { role, owner } of POOL_OWNERS) {
      if (role === 'office' || role === 'vpn' || role === 'carrier' || role === 'home' || role === 'home-v6')
        expect(HOME_COUNTRIES, `${owner.org}`).toContain(owner.country);
      if (role === 'travel') expect(HOME_COUNTRIES, `${owner.org}`).not.toContain(owner.country);
    }
  });

  it('puts the attackers on listed hosting providers, and no one else on a hosting network', () => {
    for (const { role, owner } of POOL_OWNERS) {
      if (role === 'attacker') expect(hostingReason(owner), `AS${owner.asn} ${owner.org}`).toBe('listed');
      // A legitimate network whose country locates no one would blind impossible travel.
      else expect(isHostingOwner(owner), `AS${owner.asn} ${owner.org}`).toBe(false);
    }
    expect(new Set(ATTACKER_NETS.map((n) => n.owner.asn)).size).toBeGreaterThanOrEqual(5);
  });

  it('gives each carrier several pools in /16s of their own, under one AS', () => {
    for (const c of CARRIERS) {
      expect(c.pools.length).toBeGreaterThanOrEqual(2);
      expect(new Set(c.pools.map((p) => placeOf(v4Text(p.start), 'network'))).size).toBe(c.pools.length);
      expect(new Set(c.pools.map((p) => ownerOf(v4Text(p.start))?.asn))).toEqual(new Set([c.owner.asn]));
    }
    expect(new Set(CARRIERS.map((c) => c.owner.asn)).size).toBe(CARRIERS.length);
  });
});

describe('the generated scenarios against their network data (seed 1)', () => {
  it.each(SHAPES)('%s: every address the generator draws has an owner, or is internal', (shape) => {
    const s = scenario(shape);
    const unowned = [...new Set(s.events.map((e) => e.sourceIp))].filter((ip) => !isInternal(ip) && !ownerOf(ip));
    expect(unowned).toEqual([]);
  });

  it.each(SHAPES)("%s: a mobile user's carrier addresses span several /16s under their carrier's one AS", (shape) => {
    const s = scenario(shape);
    const carrierAsns = new Set(CARRIERS.map((c) => c.owner.asn));
    const byUser = new Map<string, string[]>();
    for (const e of s.events) {
      if (e.outcome !== 'success' || !carrierAsns.has(ownerOf(e.sourceIp)?.asn ?? -1)) continue;
      let ips = byUser.get(e.user);
      if (!ips) byUser.set(e.user, (ips = []));
      ips.push(e.sourceIp);
    }
    expect(byUser.size).toBeGreaterThan(0);
    let spanning = 0;
    for (const [user, ips] of byUser) {
      expect(new Set(ips.map((ip) => ownerOf(ip)?.asn)).size, user).toBe(1);
      if (new Set(ips.map((ip) => placeOf(ip, 'network'))).size > 1) spanning++;
    }
    // What owner-aware scoring is for: a new /16 that is the same carrier.
    expect(spanning).toBeGreaterThan(0);
  });

  it.each(SHAPES)('%s: travel addresses resolve to a country the organisation is not in', (shape) => {
    const trips = scenario(shape).expectedNovelty.filter((n) => n.kind === 'travel' || n.kind === 'travel-timezone');
    expect(trips.length).toBeGreaterThan(0);
    for (const t of trips)
      for (const ip of t.sourceIps ?? []) {
        const owner = ownerOf(ip);
        expect(owner, ip).toBeDefined();
        expect(HOME_COUNTRIES).not.toContain(owner!.country);
      }
  });

  it.each(SHAPES)(
    '%s: attackers from outside come from hosting networks no one in the organisation logs on from',
    (shape) => {
      const s = scenario(shape);
      const hosting = new Set(ATTACKER_NETS.map((n) => n.owner.asn));
      const attackIps = new Set(s.incidents.map((i) => i.sourceIp));
      const legitimate = new Set<number>();
      for (const e of s.events)
        if (e.outcome === 'success' && !attackIps.has(e.sourceIp)) legitimate.add(ownerOf(e.sourceIp)?.asn ?? 0);
      // Off-hours misuse uses the victim's own address and impossible travel a consumer network abroad
      // (impossible-travel.test.ts): neither is the attackers' hosting.
      const external = s.incidents.filter(
        (i) => !isInternal(i.sourceIp) && i.kind !== 'off-hours' && i.kind !== 'impossible-travel',
      );
      expect(external.length).toBeGreaterThan(0);
      for (const i of external) {
        const asn = ownerOf(i.sourceIp)?.asn ?? 0;
        expect(hosting.has(asn), `${i.id} ${i.sourceIp}`).toBe(true);
        expect(hostingReason(ownerOf(i.sourceIp)!), `${i.id} ${i.sourceIp}`).toBe('listed');
        expect(legitimate.has(asn), `${i.id} ${i.sourceIp}`).toBe(false);
      }
    },
  );
});
