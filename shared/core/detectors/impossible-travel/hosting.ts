/**
 * Network owners whose country says where a server is, not where a person is: cloud and hosting providers (a
 * cloud-hosted desktop, a jump host, a browser-isolation or secure web gateway service, a VPN provider's servers).
 * A logon from such an owner has no location for impossible travel: the user may sit anywhere. (A stolen
 * credential used from a rented server is still new to the user: the unusual-source-IP detector judges that.)
 *
 * Kept as data in this folder: AS numbers of the large providers, as their operators announce them, and words
 * that hosting organisations put in their AS names. Matching a name is deliberately narrow (whole words of a
 * hosting business, not "cloud", which many ISPs and carriers use).
 */
import type { NetworkOwner } from '../../model';

/** Autonomous systems of cloud, hosting, CDN-egress and secure-gateway operators. */
export const HOSTING_ASNS: ReadonlySet<number> = new Set([
  16509, // Amazon (AWS)
  14618, // Amazon (AWS, us-east-1)
  8987, // Amazon (AWS, Ireland)
  8075, // Microsoft (Azure, Windows 365, Azure Virtual Desktop)
  8068, // Microsoft
  396982, // Google Cloud
  15169, // Google
  19527, // Google
  31898, // Oracle Cloud
  45102, // Alibaba Cloud
  37963, // Alibaba (Hangzhou)
  132203, // Tencent Cloud
  14061, // DigitalOcean
  16276, // OVHcloud
  24940, // Hetzner
  213230, // Hetzner Cloud
  63949, // Akamai Connected Cloud (Linode)
  20473, // Vultr (Choopa)
  12876, // Scaleway
  51167, // Contabo
  36351, // IBM Cloud (SoftLayer)
  13335, // Cloudflare (WARP, Zero Trust egress)
  62044, // Zscaler
  53813, // Zscaler
  22616, // Zscaler
  55256, // Netskope
  60068, // Datacamp (CDN77, many VPN services' servers)
  9009, // M247 (many VPN services' servers)
  212238, // Datacamp
]);

/** Words a hosting organisation's AS name carries (matched as whole words, case-insensitively). */
const HOSTING_WORDS = /\b(HOSTING|HOSTER|DATACENTER|DATA-CENTER|DATA CENTER|COLOCATION|VPS|SERVERS)\b/i;

/** Whether the owner is a hosting or cloud provider (its country does not locate a person). */
export function isHostingOwner(owner: NetworkOwner): boolean {
  return HOSTING_ASNS.has(owner.asn) || HOSTING_WORDS.test(owner.org);
}
