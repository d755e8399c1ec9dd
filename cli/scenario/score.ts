/**
 * Score a detector's alerts against a scenario's labels: recall per attack kind, and false alerts split
 * into expected novelty (travel, new hires: a good detector may flag them) and noise, per 1,000 user-days.
 *
 * Matching rules (also used by the demo's annotation):
 * - an alert *detects* an incident when it names the incident's user — and its IP, for the IP-based
 *   kinds (`stolen-credentials`, `lateral-movement`) — and its time is within [start − 15 min, start + 2 h];
 * - an alert is *on* an incident (so not a false alert) under the same user/IP rule when its time is in
 *   [start − 15 min, max(end, start + 2 h)]: a later alert while the attack is still going is right too;
 * - a campaign (`CAMPAIGN_KINDS`: sprays, credential stuffing, brute force that succeeds) is detected, and an
 *   alert is on it, within [start − 15 min, end + 2 h] (its start is its first attempt; a two-day spray is caught
 *   when it is caught) by an alert about a source naming one of its addresses, or one of its owners (`AS64511`, an
 *   alert about an owner's many addresses) together with one of the accounts it tried; or by a per-user alert on an
 *   account it tried, from the address it tried it from. For credential stuffing (an address per account) the
 *   per-user alert that detects it is on an account it got into; one on an account it only tried is on it;
 * - a campaign alert stands for the per-user alerts folded into it (`ScoredAlert.folded`): it detects what they
 *   detect (credited to its detector and theirs), though only the campaign alert was delivered and is counted;
 * - a false alert is *expected novelty* when it matches a label of an expected kind: same user, time in the
 *   label's span, and IP among the label's `sourceIps` when it lists them (a new hire's first week: any IP); an
 *   alert about a source matches a label on one of its users, and a label about addresses (`ssh-background-scan`,
 *   no user) matches any alert from one of them;
 * - everything else is *noise*, broken down by the benign change that explains it (ISP change, DHCP lease
 *   change, a look-alike of off-hours misuse) or `unexplained`, and by the user's archetype. A label naming
 *   addresses explains an alert before one that does not (one covering all of a user's logons for a week
 *   must not take the blame for a new home lease inside it), and a label of benign failures (`FAILURE_KINDS`:
 *   hours of failures from one address) before any other (a mail client's failures from a home address leased
 *   last week are the mail client's, not the lease's).
 *
 * Which novelty is expected (`DEFAULT_EXPECTED_KINDS`), and why:
 * - `travel`, `new-hire`: a new place, or a new name, that a person should glance at;
 * - `travel-timezone`: a new place *and*, in the traveller's home zone, logons at night: the two signs stolen
 *   credentials show. A detector flagging it is doing its job; it cannot know about the trip;
 * - not `late-work`, `weekend-deploy`, `dst-change`: the usual address, at hours near the person's own (late
 *   work), at hours colleagues keep (a weekend day), or the same wall-clock hours as ever (a DST change):
 *   what a detector of unusual hours must learn to leave alone. An alert on them is noise;
 * - `failed-spray`: a guessing campaign from the internet against the organisation's real names that never got in:
 *   an attack attempt, which an alert about its source rightly reports (the names are known outside).
 */
import { DAY_MS, type Alert } from '../../shared/core/model';
import {
  CAMPAIGN_KINDS,
  INCIDENT_KINDS,
  IP_BASED_KINDS,
  type Incident,
  type IncidentKind,
  type NoveltyKind,
  type NoveltyLabel,
  type ScenarioLabels,
} from './generate';

/** One alert as the evaluation sees it, from any detector (or the naive baselines). */
export interface ScoredAlert {
  /** The user; empty for an alert about a source (a campaign), whose users are `users`. */
  readonly user: string;
  /** The address (for an alert about a source, its busiest address). */
  readonly sourceIp: string;
  /** Epoch ms of the logon the alert is about (an Alert's `@timestamp`). */
  readonly timestamp: number;
  readonly detectorId: string;
  /** For an alert about a source: the users it names (`campaign.users`). Absent for an alert about one user. */
  readonly users?: readonly string[];
  /** For an alert about a source: what it names as the source, an address or a network owner (`AS64511`). */
  readonly campaignSource?: string;
  /** For a campaign alert: the per-user alerts folded into it (not delivered alone; the ledger keeps them). */
  readonly folded?: readonly ScoredAlert[];
}

/** An alert as the evaluation scores it (the alerts folded into a campaign are added by the caller: `folded`). */
export function scoredAlert(a: Alert): ScoredAlert {
  const users = a.campaign?.users?.map((u) => u.name);
  return {
    user: a.user.name,
    sourceIp: a.source.ip,
    timestamp: Date.parse(a['@timestamp']),
    detectorId: a.rule.id,
    ...(users !== undefined ? { users, campaignSource: a.campaign?.source ?? a.source.ip } : {}),
  };
}

/** The labels scoring needs: a `Scenario` or a parsed `labels.json` both fit. */
export type ScoringLabels = Pick<ScenarioLabels, 'users' | 'incidents' | 'expectedNovelty' | 'meta'> & {
  readonly benignChanges?: readonly NoveltyLabel[];
};

export interface ScoreOptions {
  /** Novelty kinds whose alerts are counted as expected rather than noise (default `DEFAULT_EXPECTED_KINDS`). */
  readonly expectedKinds?: readonly NoveltyKind[];
  /** Detectors to report in `byDetector` even when they raised nothing (the registry's ids). */
  readonly detectorIds?: readonly string[];
  /** List every false alert in the report (`falseAlerts.list`): for a detector's, not the naive rule's thousands. */
  readonly listFalseAlerts?: boolean;
}

/** An alert this long before an incident's first success still counts (a window's first logon can precede it). */
export const MATCH_BEFORE_MS = 15 * 60_000;
/** An incident counts as detected when an alert comes within this long of its start. */
export const DETECT_WITHIN_MS = 2 * 3_600_000;
export const DEFAULT_EXPECTED_KINDS: readonly NoveltyKind[] = ['travel', 'new-hire', 'travel-timezone', 'failed-spray'];
/** The benign failures: labels of a few hours of failed logons from one address (or a day's scanners' addresses). */
export const FAILURE_KINDS: ReadonlySet<NoveltyKind> = new Set<NoveltyKind>([
  'stale-service-password',
  'mail-client-password-change',
  'ssh-background-scan',
]);

export interface IncidentResult {
  readonly id: string;
  readonly kind: IncidentKind;
  readonly user: string;
  readonly sourceIp: string;
  readonly detected: boolean;
  /** Time from the incident's start to its first detecting alert (can be negative, down to −15 min). */
  readonly delayMs?: number;
  /** Detectors with a detecting alert. */
  readonly detectors: readonly string[];
}

export interface KindRecall {
  readonly total: number;
  readonly detected: number;
  /** detected / total, or null when there is no incident of the kind. */
  readonly recall: number | null;
}

/** One detector's share of a report: its alerts, what they were, and the incidents it detected. */
export interface DetectorBreakdown {
  alerts: number;
  onIncidents: number;
  expectedNovelty: number;
  noise: number;
  /** Incidents this detector detected, per kind (another detector's detection does not count here). */
  recall: Record<IncidentKind, KindRecall>;
  /** Its false alerts by the label that explains them (expected or benign kind), or `unexplained`. */
  falseByKind: Record<string, number>;
}

/** A false alert, with what explains it: the eval lists them so a detector's false alerts can be looked at. */
export interface FalseAlert extends ScoredAlert {
  /** The label that explains it (an expected or a benign novelty kind), or `unexplained`. */
  readonly label: string;
  /** Whether it counts as expected novelty (else noise). */
  readonly expected: boolean;
}

export interface EvalReport {
  readonly alerts: number;
  /** Alerts on an incident (the user/IP rule, in the incident's window). */
  readonly onIncidents: number;
  readonly recall: Readonly<Record<IncidentKind, KindRecall>>;
  readonly overall: KindRecall;
  readonly incidents: readonly IncidentResult[];
  readonly falseAlerts: {
    readonly total: number;
    readonly expectedNovelty: number;
    readonly noise: number;
    readonly expectedByKind: Readonly<Record<string, number>>;
    /** Noise by the benign change that explains it (`isp-change`, `dhcp-churn`, ...) or `unexplained`. */
    readonly noiseByCause: Readonly<Record<string, number>>;
    /** Noise by the alerted user's archetype (`unknown` for names not in the population, `source` for a campaign). */
    readonly noiseByArchetype: Readonly<Record<string, number>>;
    /** Every false alert, in the order of the alerts given (with `listFalseAlerts` only). */
    readonly list?: readonly FalseAlert[];
  };
  /** False alerts per 1,000 user-days of the detection period: all, and noise only (excluding expected novelty). */
  readonly falsePer1000UserDays: { readonly total: number; readonly noise: number };
  /** All alerts per day of the detection period. */
  readonly alertsPerDay: number;
  readonly detectionDays: number;
  readonly detectionUserDays: number;
  readonly byDetector: Readonly<Record<string, DetectorBreakdown>>;
}

function sameSubject(a: ScoredAlert, i: Incident): boolean {
  return a.user === i.user && (!IP_BASED_KINDS.has(i.kind) || a.sourceIp === i.sourceIp);
}

/**
 * The alert is about the campaign's source: it is about a source, and names one of the campaign's addresses, or
 * one of its owners along with one of the accounts it tried (an owner holds other addresses too).
 */
function namesCampaignSource(a: ScoredAlert, i: Incident): boolean {
  if (a.users === undefined) return false;
  const source = a.campaignSource ?? a.sourceIp;
  const targets = i.targets ?? [];
  if (targets.some((t) => t.sourceIp === source)) return true;
  return (i.sourceOwners ?? []).includes(source) && a.users.some((u) => targets.some((t) => t.user === u));
}

/** The per-user alert is on an account the campaign tried, from the address it tried it from (got into it: `compromised`). */
function onCampaignTarget(a: ScoredAlert, i: Incident, compromised: boolean): boolean {
  return (
    a.users === undefined &&
    (i.targets ?? []).some((t) => t.user === a.user && t.sourceIp === a.sourceIp && (!compromised || t.compromised))
  );
}

/** Within a campaign's span: [first attempt − 15 min, last event + 2 h]. */
function inCampaignSpan(a: ScoredAlert, i: Incident): boolean {
  return a.timestamp >= i.start - MATCH_BEFORE_MS && a.timestamp <= i.end + DETECT_WITHIN_MS;
}

/**
 * The alert detects the incident: right subject, within [start − 15 min, start + 2 h]; for a campaign, see the
 * module comment (the source, or a per-user alert on what it tried, within its span).
 */
export function detectsIncident(a: ScoredAlert, i: Incident): boolean {
  if (CAMPAIGN_KINDS.has(i.kind))
    return (
      inCampaignSpan(a, i) && (namesCampaignSource(a, i) || onCampaignTarget(a, i, i.kind === 'credential-stuffing'))
    );
  return sameSubject(a, i) && a.timestamp >= i.start - MATCH_BEFORE_MS && a.timestamp <= i.start + DETECT_WITHIN_MS;
}

/** The alert is about the incident (not a false alert): right subject, within [start − 15 min, max(end, start + 2 h)]. */
export function isOnIncident(a: ScoredAlert, i: Incident): boolean {
  if (CAMPAIGN_KINDS.has(i.kind))
    return inCampaignSpan(a, i) && (namesCampaignSource(a, i) || onCampaignTarget(a, i, false));
  return (
    sameSubject(a, i) &&
    a.timestamp >= i.start - MATCH_BEFORE_MS &&
    a.timestamp <= Math.max(i.end, i.start + DETECT_WITHIN_MS)
  );
}

/**
 * The alert falls under a novelty label: same user (for an alert about a source, one of its users; for a label
 * about addresses, any), inside its span, and on one of its IPs if it lists them.
 */
export function matchesNovelty(a: ScoredAlert, l: NoveltyLabel): boolean {
  const user = l.user === '' || (a.users === undefined ? a.user === l.user : a.users.includes(l.user));
  return (
    user &&
    a.timestamp >= l.start &&
    a.timestamp <= l.end &&
    (l.sourceIps === undefined || l.sourceIps.includes(a.sourceIp))
  );
}

/** The alert, or one of the per-user alerts folded into it, satisfies `test`; returns those that do. */
function withFolded(a: ScoredAlert, test: (x: ScoredAlert) => boolean): ScoredAlert[] {
  return [a, ...(a.folded ?? [])].filter(test);
}

function bump(r: Record<string, number>, k: string): void {
  r[k] = (r[k] ?? 0) + 1;
}

function ratio(n: number, d: number): number | null {
  return d > 0 ? n / d : null;
}

/** Score alerts (from one detector or several, told apart by `detectorId`) against a scenario's labels. */
export function scoreAlerts(
  alerts: readonly ScoredAlert[],
  labels: ScoringLabels,
  options: ScoreOptions = {},
): EvalReport {
  const expectedKinds = new Set<NoveltyKind>(options.expectedKinds ?? DEFAULT_EXPECTED_KINDS);
  const allLabels = [...labels.expectedNovelty, ...(labels.benignChanges ?? [])];
  const expectedLabels = allLabels.filter((l) => expectedKinds.has(l.kind));
  // Benign failures first, then labels naming addresses (stable): the most specific explanation of a noisy alert wins.
  const specificity = (l: NoveltyLabel): number => (FAILURE_KINDS.has(l.kind) ? 0 : l.sourceIps !== undefined ? 1 : 2);
  const causeLabels = allLabels
    .filter((l) => !expectedKinds.has(l.kind))
    .sort((a, b) => specificity(a) - specificity(b));
  const archetypeOf = new Map(labels.users.map((u) => [u.name, u.archetype]));

  const incidents: IncidentResult[] = labels.incidents.map((i) => {
    // A campaign alert detects what the alerts folded into it detect; their detectors are credited with it.
    const found = alerts.map((a) => withFolded(a, (x) => detectsIncident(x, i)));
    const hits = alerts.filter((_, k) => found[k]!.length > 0);
    const first = hits.reduce<number | undefined>(
      (m, a) => (m === undefined || a.timestamp < m ? a.timestamp : m),
      undefined,
    );
    return {
      id: i.id,
      kind: i.kind,
      user: i.user,
      sourceIp: i.sourceIp,
      detected: hits.length > 0,
      ...(first !== undefined ? { delayMs: first - i.start } : {}),
      detectors: [...new Set([...hits, ...found.flat()].map((a) => a.detectorId))].sort(),
    };
  });
  const recallOf = (rs: readonly IncidentResult[]): KindRecall => {
    const detected = rs.filter((r) => r.detected).length;
    return { total: rs.length, detected, recall: ratio(detected, rs.length) };
  };
  const recall = Object.fromEntries(
    INCIDENT_KINDS.map((k) => [k, recallOf(incidents.filter((r) => r.kind === k))]),
  ) as Record<IncidentKind, KindRecall>;

  let onIncidents = 0;
  let expected = 0;
  let noise = 0;
  const expectedByKind: Record<string, number> = {};
  const noiseByCause: Record<string, number> = {};
  const noiseByArchetype: Record<string, number> = {};
  const falseList: FalseAlert[] = [];
  const byDetector: Record<string, DetectorBreakdown> = {};
  const breakdown = (id: string): DetectorBreakdown =>
    (byDetector[id] ??= {
      alerts: 0,
      onIncidents: 0,
      expectedNovelty: 0,
      noise: 0,
      recall: Object.fromEntries(
        INCIDENT_KINDS.map((k) => [
          k,
          recallOf(incidents.filter((r) => r.kind === k).map((r) => ({ ...r, detected: r.detectors.includes(id) }))),
        ]),
      ) as Record<IncidentKind, KindRecall>,
      falseByKind: {},
    });
  for (const id of options.detectorIds ?? []) breakdown(id);
  for (const a of alerts) {
    const d = breakdown(a.detectorId);
    d.alerts++;
    if (labels.incidents.some((i) => withFolded(a, (x) => isOnIncident(x, i)).length > 0)) {
      onIncidents++;
      d.onIncidents++;
      continue;
    }
    const novelty = expectedLabels.find((l) => matchesNovelty(a, l));
    if (novelty) {
      expected++;
      d.expectedNovelty++;
      bump(expectedByKind, novelty.kind);
      bump(d.falseByKind, novelty.kind);
      falseList.push({ ...a, label: novelty.kind, expected: true });
      continue;
    }
    noise++;
    d.noise++;
    const cause = causeLabels.find((l) => matchesNovelty(a, l))?.kind ?? 'unexplained';
    bump(noiseByCause, cause);
    bump(d.falseByKind, cause);
    falseList.push({ ...a, label: cause, expected: false });
    bump(noiseByArchetype, a.users !== undefined ? 'source' : (archetypeOf.get(a.user) ?? 'unknown'));
  }

  const { meta } = labels;
  const detectionDays = (meta.end - meta.learningEnd) / DAY_MS;
  const falseTotal = expected + noise;
  const per1000 = (n: number): number => (meta.detectionUserDays > 0 ? (n * 1000) / meta.detectionUserDays : 0);
  return {
    alerts: alerts.length,
    onIncidents,
    recall,
    overall: recallOf(incidents),
    incidents,
    falseAlerts: {
      total: falseTotal,
      expectedNovelty: expected,
      noise,
      expectedByKind,
      noiseByCause,
      noiseByArchetype,
      ...(options.listFalseAlerts ? { list: falseList } : {}),
    },
    falsePer1000UserDays: { total: per1000(falseTotal), noise: per1000(noise) },
    alertsPerDay: detectionDays > 0 ? alerts.length / detectionDays : 0,
    detectionDays,
    detectionUserDays: meta.detectionUserDays,
    byDetector,
  };
}
