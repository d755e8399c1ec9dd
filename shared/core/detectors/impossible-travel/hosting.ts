/**
 * Network owners whose country says where a server is, not where a person is. A logon from such an owner has no
 * location for impossible travel: the user may sit anywhere. (A stolen credential used from a rented server is
 * still new to the user: the unusual-source-IP detector judges that.)
 *
 * Two kinds: rentable hosting and cloud providers (a cloud-hosted desktop, a jump host, a VPN provider's servers),
 * the list every detector shares (core/network-data/hosting.ts, written once); and, for this detector only, the
 * egress of secure web gateways and corporate VPN services, whose country is the gateway's, not the user's.
 */
import type { NetworkOwner } from '../../model';
import { hostingReason } from '../../network-data/hosting';

/** Secure web gateway and corporate egress services (AS numbers as their operators announce them). */
export const EGRESS_SERVICE_ASNS: ReadonlySet<number> = new Set([
  13335, // Cloudflare (WARP, Zero Trust egress)
  62044, // Zscaler
  53813, // Zscaler
  22616, // Zscaler
  55256, // Netskope
]);

/** Whether the owner's country does not locate a person: a hosting or cloud provider, or a gateway's egress. */
export function isHostingOwner(owner: NetworkOwner): boolean {
  return hostingReason(owner) !== undefined || EGRESS_SERVICE_ASNS.has(owner.asn);
}
