/**
 * Which network owners are hosting or cloud providers: networks where anyone can rent a server by the hour, which
 * is where stolen credentials are typically used from, and where a person who never works from one does not log
 * on. Data, not code: a list of well-known providers' AS numbers, and the words that name a hosting business in an
 * AS's organisation name (for the many small hosters no list keeps up with). Pure.
 *
 * Source and licence: the list below was written for authwatch from public knowledge (the providers' own
 * published AS numbers, as every routing registry shows them); it is part of authwatch under the project's licence
 * (Apache-2.0) and copies nothing from a third-party list. It names only providers whose main business is renting
 * compute; CDNs (Cloudflare, Akamai's edge) and consumer ISPs are left out on purpose. A VPN service running on
 * such a network is classed with it: that is what the detector wants, since a VPN the organisation itself uses is
 * recognised by its users, not by this list (see the unusual-source-IP detector).
 */
import type { NetworkOwner } from '../model';

/** Well-known hosting and cloud providers by AS number (the name is for readers of this file and of alerts). */
export const HOSTING_ASNS: ReadonlyMap<number, string> = new Map([
  [16509, 'Amazon Web Services'],
  [14618, 'Amazon Web Services'],
  [8987, 'Amazon Web Services (Ireland)'],
  [15169, 'Google'],
  [19527, 'Google'],
  [396982, 'Google Cloud'],
  [8075, 'Microsoft Azure'],
  [8068, 'Microsoft'],
  [31898, 'Oracle Cloud'],
  [45102, 'Alibaba Cloud'],
  [37963, 'Alibaba (Hangzhou)'],
  [36351, 'IBM Cloud (SoftLayer)'],
  [132203, 'Tencent Cloud'],
  [14061, 'DigitalOcean'],
  [63949, 'Linode (Akamai)'],
  [20473, 'Vultr'],
  [16276, 'OVHcloud'],
  [24940, 'Hetzner'],
  [213230, 'Hetzner Cloud'],
  [51167, 'Contabo'],
  [12876, 'Scaleway'],
  [60781, 'Leaseweb'],
  [16265, 'Leaseweb'],
  [9009, 'M247'],
  [60068, 'Datacamp (CDN77)'],
  [212238, 'Datacamp'],
  [36352, 'ColoCrossing'],
  [8100, 'QuadraNet'],
  [40676, 'Psychz Networks'],
  [53667, 'FranTech (BuyVM)'],
  [197540, 'netcup'],
  [8560, 'IONOS'],
  [26496, 'GoDaddy'],
  [46606, 'Unified Layer'],
]);

/**
 * Whole words (split at anything not a letter or digit, upper-cased) that name a hosting business in an AS's
 * organisation name: `EXAMPLE-HOSTING`, `ACME-VPS`, `GOOGLE-CLOUD-PLATFORM`. Whole words only, so `HOSTINGER` or
 * `CLOUDFLARENET` do not match by accident.
 */
export const HOSTING_NAME_WORDS: ReadonlySet<string> = new Set([
  'HOSTING',
  'HOSTER',
  'VPS',
  'CLOUD',
  'DATACENTER',
  'DATACENTRE',
  'COLOCATION',
  'SERVERS',
  'DEDICATED',
]);

/** Why an owner counts as a hosting provider: listed by AS number, or named so; undefined when it does not. */
export type HostingReason = 'listed' | 'named';

/** Whether `owner`'s network is a hosting or cloud provider's, and by which rule. */
export function hostingReason(owner: NetworkOwner): HostingReason | undefined {
  if (HOSTING_ASNS.has(owner.asn)) return 'listed';
  for (const word of owner.org.toUpperCase().split(/[^A-Z0-9]+/)) if (HOSTING_NAME_WORDS.has(word)) return 'named';
  return undefined;
}
