/**
 * The real networks the scenario draws its addresses from: a curated list of autonomous systems per role, which
 * `npm run scenario:network-extract` (cli/build-scenario-network-extract.ts) turns into the checked-in extract
 * cli/scenario/network-extract.tsv, and which network.ts reads back to lay out the address plan. Written once here
 * so the extract and the plan cannot disagree on who plays which part. Data only: no I/O.
 *
 * The organisation lives in the Netherlands with people across the borders in Germany and Belgium
 * (`HOME_COUNTRIES` in network.ts): its office, VPN, home ISPs and mobile carriers are networks the country data
 * places there (`country`), every travel network is a consumer ISP in another country, the attackers rent servers
 * from hosting and cloud providers (every one of them in shared/core/network-data/hosting.ts), and the internet's
 * password guessing comes from large access and cloud networks in Asia and Eastern Europe. The public resolvers
 * are in so that the refresh's sanity check (shared/core/network-data/validate.ts) finds them where it expects.
 */

/** What a network is for in the scenario. */
export type NetworkRole =
  | 'office'
  | 'vpn'
  | 'carrier'
  | 'home'
  | 'home-v6'
  | 'travel'
  | 'attacker'
  | 'internet'
  | 'resolver';

/** One autonomous system of the scenario, and how much of it the extract keeps. */
export interface RealNetwork {
  readonly role: NetworkRole;
  readonly asn: number;
  /** Keep only ranges the country data places in this country (ISO 3166 alpha-2); any country when absent. */
  readonly country?: string;
  /** How many IPv4 ranges to keep, largest first, each in a /16 of its own. */
  readonly v4: number;
  /** How many IPv6 ranges to keep, largest first (none when absent). */
  readonly v6?: number;
  /** Addresses whose ranges the extract must keep besides (the resolvers the refresh checks). */
  readonly include?: readonly string[];
}

/** Every network of the scenario, in the order network.ts lays out each role's pools. */
export const REAL_NETWORKS: readonly RealNetwork[] = [
  // The office's provider (in2ip, a Dutch business network) and the VPN provider the organisation's remote access
  // goes out through (Mullvad, its Dutch range).
  { role: 'office', asn: 34141, country: 'NL', v4: 1 },
  { role: 'vpn', asn: 216025, country: 'NL', v4: 1 },
  // Mobile carriers: each keeps several ranges, one CGNAT pool per /16, under its one AS.
  { role: 'carrier', asn: 31615, country: 'NL', v4: 3, v6: 1 }, // Odido (T-Mobile Netherlands)
  { role: 'carrier', asn: 33915, country: 'NL', v4: 4, v6: 1 }, // Vodafone Libertel
  { role: 'carrier', asn: 6805, country: 'DE', v4: 2, v6: 1 }, // Telefonica Germany (O2)
  { role: 'carrier', asn: 3209, country: 'DE', v4: 3, v6: 1 }, // Vodafone GmbH
  // Home broadband, IPv4: two ranges each.
  { role: 'home', asn: 1136, country: 'NL', v4: 2 }, // KPN
  { role: 'home', asn: 15435, country: 'NL', v4: 2 }, // DELTA Fiber
  { role: 'home', asn: 3320, country: 'DE', v4: 2 }, // Deutsche Telekom
  { role: 'home', asn: 206238, country: 'NL', v4: 2 }, // Freedom Internet
  { role: 'home', asn: 6848, country: 'BE', v4: 2 }, // Telenet
  { role: 'home', asn: 8881, country: 'DE', v4: 2 }, // 1&1 Versatel
  { role: 'home', asn: 5432, country: 'BE', v4: 2 }, // Proximus
  { role: 'home', asn: 8422, country: 'DE', v4: 2 }, // NetCologne
  // Home broadband, IPv6: subscribers get a /48 (a /56 delegated) inside the ISP's range.
  { role: 'home-v6', asn: 1136, country: 'NL', v4: 0, v6: 1 }, // KPN
  { role: 'home-v6', asn: 15435, country: 'NL', v4: 0, v6: 1 }, // DELTA Fiber
  { role: 'home-v6', asn: 3320, country: 'DE', v4: 0, v6: 1 }, // Deutsche Telekom
  // Foreign consumer ISPs: hotels', conference venues' and travellers' networks abroad.
  { role: 'travel', asn: 2856, country: 'GB', v4: 1 }, // BT
  { role: 'travel', asn: 3215, country: 'FR', v4: 1 }, // Orange
  { role: 'travel', asn: 3269, country: 'IT', v4: 1 }, // Telecom Italia
  { role: 'travel', asn: 3352, country: 'ES', v4: 1 }, // Telefonica de Espana
  { role: 'travel', asn: 8151, country: 'MX', v4: 1 }, // Uninet (Telmex)
  { role: 'travel', asn: 4713, country: 'JP', v4: 1 }, // NTT OCN
  { role: 'travel', asn: 37457, country: 'ZA', v4: 1 }, // Telkom SA
  { role: 'travel', asn: 28573, country: 'BR', v4: 1 }, // Claro NXT
  { role: 'travel', asn: 4837, country: 'CN', v4: 1 }, // China Unicom
  { role: 'travel', asn: 24560, country: 'IN', v4: 1 }, // Bharti Airtel
  { role: 'travel', asn: 3303, country: 'CH', v4: 1 }, // Swisscom
  { role: 'travel', asn: 5617, country: 'PL', v4: 1 }, // Orange Polska
  { role: 'travel', asn: 7922, country: 'US', v4: 1, v6: 1 }, // Comcast
  // Hosting and cloud providers, where the attackers rent their servers.
  { role: 'attacker', asn: 14061, v4: 2, v6: 1 }, // DigitalOcean
  { role: 'attacker', asn: 16276, v4: 2, v6: 1 }, // OVH
  { role: 'attacker', asn: 24940, v4: 2, v6: 1 }, // Hetzner
  { role: 'attacker', asn: 16509, v4: 2, v6: 1 }, // Amazon Web Services
  { role: 'attacker', asn: 63949, v4: 2, v6: 1 }, // Linode (Akamai)
  { role: 'attacker', asn: 9009, v4: 2, v6: 1 }, // M247
  { role: 'attacker', asn: 20473, v4: 2, v6: 1 }, // Vultr (The Constant Company)
  // The internet's password guessing: large access and cloud networks.
  { role: 'internet', asn: 4134, v4: 4 }, // Chinanet
  { role: 'internet', asn: 12389, v4: 3 }, // Rostelecom
  { role: 'internet', asn: 45899, v4: 3 }, // VNPT
  { role: 'internet', asn: 4766, v4: 3 }, // Korea Telecom
  { role: 'internet', asn: 7713, v4: 2 }, // Telkom Indonesia
  { role: 'internet', asn: 9829, v4: 2 }, // BSNL
  { role: 'internet', asn: 132203, v4: 2 }, // Tencent Cloud
  { role: 'internet', asn: 45102, v4: 2 }, // Alibaba Cloud
  // The public resolvers the refresh's sanity check looks up.
  { role: 'resolver', asn: 15169, v4: 0, include: ['8.8.8.8', '8.8.4.4', '2001:4860:4860::8888'] }, // Google
  { role: 'resolver', asn: 13335, v4: 0, include: ['1.1.1.1', '2606:4700:4700::1111'] }, // Cloudflare
];
