/**
 * What the alert outputs (SNS, EventBridge, Security Hub) share about an alert's payload: the alert document trimmed
 * by levels when the whole would not fit a service's limit (`alertDetail`), and greedy packing of entries into calls
 * under an entry count and a byte budget (`packBatches`). Pure; moved here from the SNS sink so the newer sinks share
 * it without importing another adapter.
 */
import type { Alert } from '../core/model';
import { truncate } from '../core/untrusted-text';

/** What subscribers get as "the alert": the alert document, possibly trimmed to fit SNS's size limit. */
export type AlertDetail = Alert | (Partial<Alert> & { readonly id: string; readonly truncated: true });

/** Deep copy with every string cut to `max` characters and every array to `maxItems` items. */
function trimDeep(v: unknown, max: number, maxItems: number): unknown {
  if (typeof v === 'string') return truncate(v, max);
  if (Array.isArray(v)) return v.slice(0, maxItems).map((x) => trimDeep(x, max, maxItems));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, trimDeep(x, max, maxItems)]));
  return v;
}

/**
 * The alert document at a trim level: 0 = whole; 1 and 2 = long strings and lists cut; 3 = the identifying
 * core only. Trimmed documents carry `truncated: true` so a consumer knows to look the alert up.
 */
export function alertDetail(a: Alert, level: 0 | 1 | 2 | 3): AlertDetail {
  if (level === 0) return a;
  if (level === 1) return { ...(trimDeep(a, 2_048, 50) as Alert), truncated: true };
  if (level === 2) return { ...(trimDeep(a, 256, 10) as Alert), truncated: true };
  return {
    id: a.id,
    '@timestamp': a['@timestamp'],
    rule: trimDeep({ ...a.rule, description: '', references: [], threat: a.rule.threat }, 128, 3) as Alert['rule'],
    user: { name: truncate(a.user.name, 128) },
    // An alert about a source has no user name: what it is about (the source, the campaign it belongs to, the
    // first users) stays, bounded.
    ...(a.campaign
      ? {
          campaign: {
            ...(a.campaign.of !== undefined ? { of: truncate(a.campaign.of, 128) } : {}),
            ...(a.campaign.source !== undefined ? { source: truncate(a.campaign.source, 64) } : {}),
            ...(a.campaign.users
              ? { users: a.campaign.users.slice(0, 3).map((u) => ({ ...u, name: truncate(u.name, 64) })) }
              : {}),
            ...(a.campaign.users ? { total: Math.max(a.campaign.users.length, a.campaign.total ?? 0) } : {}),
          },
        }
      : {}),
    // The owner is part of what identifies where the logon came from, and small (the name is bounded by buildAlert).
    source: {
      ...a.source,
      ip: truncate(a.source.ip, 64),
      ...(a.source.as?.organization
        ? { as: { ...a.source.as, organization: { name: truncate(a.source.as.organization.name, 128) } } }
        : {}),
    },
    score: a.score,
    probability: a.probability,
    window: a.window,
    log_source: truncate(a.log_source, 64),
    truncated: true,
  };
}

/** Greedy packing in order: a new batch when `maxEntries` or `maxBytes` would be exceeded. */
export function packBatches<T extends { bytes: number }>(
  items: readonly T[],
  maxEntries: number,
  maxBytes: number,
): T[][] {
  const batches: T[][] = [];
  let cur: T[] = [];
  let bytes = 0;
  for (const it of items) {
    if (cur.length > 0 && (cur.length >= maxEntries || bytes + it.bytes > maxBytes)) {
      batches.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(it);
    bytes += it.bytes;
  }
  if (cur.length > 0) batches.push(cur);
  return batches;
}
