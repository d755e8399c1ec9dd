/**
 * Campaigns, not floods; one message per logon. How a run's alerts are gathered before ranking and the cap: a
 * source's per-user alerts into its campaign alert (`linkCampaigns`), and the lesser alerts on one logon into the
 * strongest (`foldSameLogon`). Pure, over alert documents only.
 */
import type { Alert } from './model';

/** Whether the alert is about a source and its many users (a campaign), not about one user. */
export function isCampaign(a: Pick<Alert, 'campaign'>): boolean {
  return a.campaign?.users !== undefined;
}

/** Severities in order: a per-user alert rated above `low` is delivered on its own even inside a campaign. */
const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/** What `linkCampaigns` made of a run's alerts. */
export interface LinkedAlerts {
  /** To rank, cap and deliver: campaigns (with their folded and linked ids) and the alerts not folded into one. */
  readonly deliver: Alert[];
  /** Per-user alerts folded into a campaign in `deliver`: recorded as raised when their campaign is delivered. */
  readonly folded: Alert[];
}

/**
 * Campaigns, not floods. A campaign alert (about a source, with its users) gathers the run's per-user alerts from
 * the same source about its users: the same address, or, for a campaign about a network owner (`sourceKey`
 * `AS64500`), any address of that owner; and an alert about a period (a spike in the organisation's logons, no
 * user) whose busiest address is the campaign's. A `low` one is folded into a campaign delivered in this run (the
 * campaign names the user, or is the volume; one message instead of many); one rated higher (brute force that succeeded, a source
 * marked malicious) is delivered on its own, linked both ways (`campaign.of`, `campaign.linked`). When the campaign
 * was already raised in an earlier window (`alreadyRaised`), its new per-user alerts are delivered, each saying it
 * belongs to it, so nothing a source did later that day goes unseen.
 */
export function linkCampaigns(
  fresh: readonly Alert[],
  campaigns: readonly Alert[],
  alreadyRaised: ReadonlySet<string>,
): LinkedAlerts {
  if (campaigns.length === 0) return { deliver: [...fresh], folded: [] };
  const matches = (c: Alert, a: Alert): boolean => {
    // An alert about a period (a spike in the organisation's logons: no user) whose busiest address is the
    // campaign's is the campaign seen as volume.
    if (a.user.name === '') return a.source.ip === c.source.ip;
    if (!c.campaign?.users?.some((u) => u.name === a.user.name)) return false;
    if (a.source.ip === c.source.ip) return true;
    const asn = /^AS(\d+)$/.exec(c.campaign.source ?? '');
    return asn !== null && a.source.as?.number === Number(asn[1]);
  };
  const linked = new Map<string, string[]>();
  const folded = new Map<string, string[]>();
  const foldedAlerts: Alert[] = [];
  const out: Alert[] = [];
  for (const a of fresh) {
    if (isCampaign(a)) continue;
    const c = campaigns.find((c) => matches(c, a));
    if (!c) {
      out.push(a);
      continue;
    }
    const withCampaign: Alert = { ...a, campaign: { of: c.id } };
    const cFresh = !alreadyRaised.has(c.id);
    if (cFresh && SEVERITY_RANK[a.rule.severity] === 0) {
      foldedAlerts.push(withCampaign);
      folded.set(c.id, [...(folded.get(c.id) ?? []), a.id]);
    } else {
      out.push(withCampaign);
      if (cFresh) linked.set(c.id, [...(linked.get(c.id) ?? []), a.id]);
    }
  }
  for (const c of fresh) {
    if (!isCampaign(c)) continue;
    const l = linked.get(c.id);
    const f = folded.get(c.id);
    out.push(
      l || f ? { ...c, campaign: { ...c.campaign, ...(l ? { linked: l } : {}), ...(f ? { folded: f } : {}) } } : c,
    );
  }
  return { deliver: out, folded: foldedAlerts };
}

/** What `foldSameLogon` made of a run's alerts. */
export interface FoldedLogons {
  readonly deliver: Alert[];
  /** The alerts folded, each with the id of the alert it was folded into. */
  readonly folded: readonly { readonly alert: Alert; readonly into: string }[];
}

/**
 * One message per logon. When detectors rated above `low` (brute force that succeeded, impossible travel, a source
 * marked malicious) and `low` ones (an unusual source IP, an unusual hour) alert on the same user and address in
 * one run, the `low` ones are folded into the highest-rated (then highest-scored) one, which lists them
 * (`campaign.folded`): they tell the same story, and the stronger alert is the one to read at 3 a.m. Alerts about a
 * source or a period (no user) and campaigns are left as they are; so are two `low` alerts on one logon (two
 * different reasons, neither stronger).
 */
export function foldSameLogon(alerts: readonly Alert[]): FoldedLogons {
  const groups = new Map<string, Alert[]>();
  for (const a of alerts) {
    if (a.user.name === '' || isCampaign(a)) continue;
    const key = `${a.user.name}\u0000${a.source.ip}`;
    groups.set(key, [...(groups.get(key) ?? []), a]);
  }
  const foldedIds = new Map<string, string>();
  const foldsOf = new Map<string, string[]>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const top = [...group].sort(
      (x, y) =>
        SEVERITY_RANK[y.rule.severity] - SEVERITY_RANK[x.rule.severity] ||
        y.score - x.score ||
        x.id.localeCompare(y.id),
    )[0]!;
    if (SEVERITY_RANK[top.rule.severity] === 0) continue;
    for (const a of group)
      if (a !== top && SEVERITY_RANK[a.rule.severity] === 0) {
        foldedIds.set(a.id, top.id);
        foldsOf.set(top.id, [...(foldsOf.get(top.id) ?? []), a.id]);
      }
  }
  if (foldedIds.size === 0) return { deliver: [...alerts], folded: [] };
  const deliver: Alert[] = [];
  const folded: { alert: Alert; into: string }[] = [];
  for (const a of alerts) {
    const into = foldedIds.get(a.id);
    if (into !== undefined) {
      folded.push({ alert: a, into });
      continue;
    }
    const f = foldsOf.get(a.id);
    deliver.push(f ? { ...a, campaign: { ...a.campaign, folded: [...(a.campaign?.folded ?? []), ...f] } } : a);
  }
  return { deliver, folded };
}
