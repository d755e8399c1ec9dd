import { describe, expect, it } from 'vitest';
import { placeOf } from '../../../shared/core/net';
import { buildNetworkData } from '../../../shared/core/network-data/build';
import type { NetworkLookup } from '../../../shared/core/network-data/lookup';
import { generateScenario, type Scenario, type ScenarioShape } from '../../../cli/scenario/generate';
import {
  ATTACKER_NETS16,
  ATTACKER_NETS24,
  CARRIERS,
  HOME_COUNTRIES,
  HOME_ISPS,
  INTERNAL_NET8,
  IPV6_ISPS,
  OFFICE_NAT,
  OFFICE_OWNER,
  type PoolOwner,
  TRAVEL_NETS,
  VPN_OWNER,
  VPN_POOL,
} from '../../../cli/scenario/network';
import { SCENARIO_NETWORK_SOURCE, scenarioNetworkData, scenarioNetworkRows } from '../../../cli/scenario/network-data';

const db = scenarioNetworkData();

function ownerOf(ip: string): PoolOwner | undefined {
  const r: NetworkLookup = db.lookup(ip);
  return r.known ? { asn: r.asn, org: r.org, country: r.country ?? '' } : undefined;
}

function isInternal(ip: string): boolean {
  return ip.startsWith(`${INTERNAL_NET8}.`);
}

/** Every owner the scenario's pools name, with what the pool is for. */
const POOL_OWNERS: readonly { role: string; owner: PoolOwner }[] = [
  { role: 'office', owner: OFFICE_OWNER },
  { role: 'vpn', owner: VPN_OWNER },
  ...CARRIERS.map((c) => ({ role: 'carrier', owner: c.owner })),
  ...HOME_ISPS.map((i) => ({ role: 'home', owner: i.owner })),
  ...IPV6_ISPS.map((i) => ({ role: 'home', owner: i.owner })),
  ...TRAVEL_NETS.map((n) => ({ role: 'travel', owner: n.owner })),
  ...ATTACKER_NETS24.map((n) => ({ role: 'attacker', owner: n.owner })),
  ...ATTACKER_NETS16.map((n) => ({ role: 'attacker', owner: n.owner })),
];

const scenarios = new Map<ScenarioShape, Scenario>();
function scenario(shape: ScenarioShape): Scenario {
  let s = scenarios.get(shape);
  if (!s) scenarios.set(shape, (s = generateScenario({ seed: 1, shape })));
  return s;
}
const SHAPES: readonly ScenarioShape[] = ['small-office', 'large-mobile', 'office-hours'];

describe("the scenario's network data", () => {
  it('builds from its rows without a malformed or overlapping line, IPv4 and IPv6, under its synthetic source', () => {
    const { stats } = buildNetworkData(scenarioNetworkRows(), { builtAt: 0, source: 'test' });
    expect(stats.malformed).toBe(0);
    expect(stats.overlapping).toBe(0);
    expect(stats.renamedAsns).toBe(0);
    expect(stats.ipv4Ranges).toBeGreaterThan(0);
    expect(stats.ipv6Ranges).toBe(IPV6_ISPS.length + 2);
    expect(db.meta.source).toBe(SCENARIO_NETWORK_SOURCE);
  });

  it('names only synthetic owners for the pools: documentation or private-use AS numbers, EXAMPLE- names', () => {
    for (const { owner } of POOL_OWNERS) {
      const documentation = (owner.asn >= 64496 && owner.asn <= 64511) || (owner.asn >= 65536 && owner.asn <= 65551);
      const privateUse = owner.asn >= 4_200_000_000 && owner.asn <= 4_294_967_294;
      expect(documentation || privateUse, `AS${owner.asn}`).toBe(true);
      expect(owner.org).toMatch(/^EXAMPLE-/);
      expect(owner.country).toMatch(/^[A-Z]{2}$/);
    }
    // Every row beyond the pools too, but the public resolvers' real ones (the same facts as the test extract).
    for (const row of scenarioNetworkRows()) {
      const [, , asnText, , org] = row.split('\t') as [string, string, string, string, string];
      const asn = Number(asnText);
      if (asn === 0 || asn === 13335 || asn === 15169) continue;
      const synthetic =
        (asn >= 64496 && asn <= 64511) ||
        (asn >= 65536 && asn <= 65551) ||
        (asn >= 4_200_000_000 && asn <= 4_294_967_294);
      expect(synthetic && org.startsWith('EXAMPLE-'), row).toBe(true);
    }
    // One AS is one organisation: a number reused for another name would merge two owners.
    const names = new Map<number, string>();
    for (const { owner } of POOL_OWNERS) expect(names.get(owner.asn) ?? owner.org).toBe(owner.org);
  });

  it("resolves every pool's addresses to that pool's owner", () => {
    expect(ownerOf(OFFICE_NAT[0])).toEqual(OFFICE_OWNER);
    expect(ownerOf(VPN_POOL[4])).toEqual(VPN_OWNER);
    for (const c of CARRIERS) for (const p of c.pools) expect(ownerOf(`${p}.255.254`)).toEqual(c.owner);
    for (const i of HOME_ISPS) for (const n of i.nets) expect(ownerOf(`${n}.0.1`)).toEqual(i.owner);
    for (const i of IPV6_ISPS) expect(ownerOf(`${i.prefix}:ffff::1`)).toEqual(i.owner);
    for (const n of TRAVEL_NETS) expect(ownerOf(`${n.net}.128.7`)).toEqual(n.owner);
    for (const n of ATTACKER_NETS24) expect(ownerOf(`${n.net}.99`)).toEqual(n.owner);
    for (const n of ATTACKER_NETS16) expect(ownerOf(`${n.net}.3.99`)).toEqual(n.owner);
    // The internal network and the rest of the carriers' shared space have no owner, as in the real data.
    expect(ownerOf('10.0.0.5')).toBeUndefined();
    expect(ownerOf('100.127.0.1')).toBeUndefined();
  });

  it('puts the people at home in HOME_COUNTRIES and every travel network abroad', () => {
    for (const { role, owner } of POOL_OWNERS) {
      if (role === 'office' || role === 'vpn' || role === 'carrier' || role === 'home')
        expect(HOME_COUNTRIES, `${owner.org}`).toContain(owner.country);
      if (role === 'travel') expect(HOME_COUNTRIES, `${owner.org}`).not.toContain(owner.country);
    }
  });

  it('gives each carrier several /16 pools under one AS', () => {
    for (const c of CARRIERS) {
      expect(c.pools.length).toBeGreaterThanOrEqual(2);
      expect(new Set(c.pools.map((p) => ownerOf(`${p}.1.1`)?.asn))).toEqual(new Set([c.owner.asn]));
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
      const hosting = new Set([...ATTACKER_NETS24, ...ATTACKER_NETS16].map((n) => n.owner.asn));
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
        expect(legitimate.has(asn), `${i.id} ${i.sourceIp}`).toBe(false);
      }
    },
  );
});
