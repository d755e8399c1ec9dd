/**
 * The report's view model: what a replay, an evaluation or the deployed table produced, turned into the figures
 * the page shows (cli/report/html.ts renders it, cli/report.ts reads the inputs). Pure: no I/O, no clock.
 *
 * Everything that came from logs (user names, addresses, network owners' names, host names) is untrusted. The model
 * makes each such string printable, single-line and bounded (`plainText`): no control or bidi characters reach the
 * page, even inside a chart's canvas text; the renderer escapes it for HTML on top of that.
 */
import { alertId } from '../../shared/core/alerts';
import { DETECTORS } from '../../shared/core/detectors';
import { unusualHourState, zoneOf } from '../../shared/core/detectors/unusual-hour/state';
import { localTime } from '../../shared/core/local-time';
import { placeOf } from '../../shared/core/net';
import type { Alert, Finding, LogonEvent, NetworkOwner, SeenStats, UserBaseline } from '../../shared/core/model';
import type { DetectionSettings } from '../../shared/core/settings';
import { plainText } from '../../shared/core/untrusted-text';

/** Bound on one untrusted value in the report (user names, addresses, owners' names). */
export const REPORT_VALUE_CHARS = 80;
/** Users given a panel of their own, highest alert score first: a page of hundreds of panels is read by no one. */
export const MAX_USER_PANELS = 24;
/** Addresses listed per user (most recently seen first), besides the alerted ones, which are always listed. */
export const MAX_ADDRESS_ROWS = 12;
/** Logons drawn per user panel; beyond it, an even sample (the whole history stays in the store, not the page). */
export const MAX_LOGON_POINTS = 1_500;
/** Rows of the alert table (the page's readable-without-JavaScript list); the charts show every alert. */
export const MAX_ALERT_ROWS = 500;
/** Width of a score histogram's bins. */
export const SCORE_BIN = 5;

/** One detector as the report names it. */
export interface ReportDetector {
  readonly id: string;
  readonly label: string;
  /** The score at or above which it alerts, in the run the report is about. */
  readonly threshold: number;
}

/** One alert on the timeline and in the alert table. */
export interface AlertView {
  readonly id: string;
  /** Epoch ms of the logon the alert is about. */
  readonly t: number;
  readonly detectorId: string;
  readonly score: number;
  readonly severity: string;
  /** The user, or for an alert about a source, `source <address or owner>` (safe text). */
  readonly subject: string;
  /** The user the alert is about; empty for an alert about a source. */
  readonly user: string;
  readonly ip: string;
  /** `AS64496 EXAMPLE-CORP` when known. */
  readonly owner: string;
  readonly country: string;
  /** The caller's note on it (the demo: the labelled attack it is on). */
  readonly note: string;
}

/** One detector's scores: how many findings (or alerts) fell in each `SCORE_BIN`-wide bin, against its threshold. */
export interface ScoreHistogram {
  readonly detectorId: string;
  readonly label: string;
  readonly threshold: number;
  /** Lower bound of each bin: 0, 5, ..., 95 (the last bin holds 100). */
  readonly bins: readonly number[];
  readonly below: readonly number[];
  readonly atOrAbove: readonly number[];
  /** What was counted: every finding judged after learning (a replay), or only the alerts (the table keeps no more). */
  readonly counted: 'findings' | 'alerts';
}

/** A row of a user panel: a place the user used, and when. */
export interface PlaceRow {
  readonly kind: 'address' | 'network' | 'country';
  /** The row's label (safe text): `203.0.113.7 · AS64498 EXAMPLE-HOSTING · US`, `AS64498 EXAMPLE-HOSTING`, `NL`. */
  readonly label: string;
  /** First and last seen, epoch ms: from the baseline, or from the replayed logons for a place it does not hold. */
  readonly first: number;
  readonly last: number;
  /** Distinct UTC days seen, from the baseline; undefined when the baseline does not hold the place. */
  readonly days: number | undefined;
  /** Why the baseline does not hold it: `not learned (alerted)`, for a place an alert left suspect. */
  readonly note: string;
}

/** One user's places over time, with their alerted logons marked. */
export interface UserPanel {
  readonly user: string;
  readonly places: readonly PlaceRow[];
  /** Addresses the panel leaves out (`MAX_ADDRESS_ROWS`). */
  readonly addressesNotShown: number;
  /** Logons (replay only) as [epoch ms, row index, 1 success / 0 failure]; sampled down to `MAX_LOGON_POINTS`. */
  readonly logons: readonly (readonly [number, number, 0 | 1])[];
  /** Logons the panel does not draw (sampled out, or from an address not listed). */
  readonly logonsNotShown: number;
  /** The user's alerts: time, the rows they mark, detector, score. */
  readonly alerts: readonly {
    readonly t: number;
    readonly rows: readonly number[];
    readonly detectorId: string;
    readonly score: number;
  }[];
  /** What the baseline learned of the user's hours (decayed active 15-minute periods per local hour), if anything. */
  readonly hours?: { readonly zone: string; readonly weekday: readonly number[]; readonly weekend: readonly number[] };
  /** Local hour (in `hours.zone`, else UTC) of each alerted logon. */
  readonly alertHours: readonly number[];
  readonly zone: string;
  readonly maxScore: number;
}

/** One row of an evaluation's comparison: a scenario, or a detector or naive rule over all scenarios. */
export interface EvalRow {
  readonly name: string;
  readonly attacks: number;
  readonly detected: number;
  /** detected / attacks, or null without attacks. */
  readonly recall: number | null;
  readonly alerts: number;
  /** False alerts: expected novelty plus noise. */
  readonly falseAlerts: number;
  /** Of the false alerts, expected novelty and noise; null where the evaluation does not split them (per scenario, naive rules). */
  readonly expected: number | null;
  readonly noise: number | null;
}

/** An evaluation: authwatch beside the naive rules, per scenario and per detector. */
export interface EvalView {
  /** Rules in the order the page shows them: `authwatch`, then `naive`, then the naive failure rules. */
  readonly rules: readonly string[];
  /** Per scenario (`small-office #1`), per rule. */
  readonly scenarios: readonly {
    readonly name: string;
    readonly users: number;
    readonly byRule: Readonly<Record<string, EvalRow>>;
  }[];
  /** Over all scenarios: authwatch, each detector, then the naive rules. */
  readonly detectors: readonly (EvalRow & { readonly kind: 'all' | 'detector' | 'naive' })[];
  readonly targets: readonly {
    readonly name: string;
    readonly target: string;
    readonly value: string;
    readonly met: boolean;
  }[];
}

/** What the page shows. */
export interface ReportModel {
  readonly title: string;
  /** What it was built from (safe text). */
  readonly source: string;
  /** Label and value rows of the summary table (the page's first, readable without JavaScript). */
  readonly summary: readonly (readonly [string, string])[];
  readonly detectors: readonly ReportDetector[];
  readonly alerts: readonly AlertView[];
  readonly scores: readonly ScoreHistogram[];
  readonly users: readonly UserPanel[];
  /** Users with alerts not given a panel (`MAX_USER_PANELS`). */
  readonly usersNotShown: number;
  readonly evaluation?: EvalView;
  /** Sentences about what the page does not show, or how to read it. */
  readonly notes: readonly string[];
}

/** An untrusted value as the report shows it. */
export function safe(s: string, max = REPORT_VALUE_CHARS): string {
  return plainText(s, max);
}

/** The registry's detectors with the thresholds in force (an id the registry no longer knows keeps its id as label). */
export function reportDetectors(thresholds: Readonly<Record<string, number>>): ReportDetector[] {
  return DETECTORS.map((d) => ({ id: d.id, label: d.shortLabel, threshold: thresholds[d.id] ?? d.defaultThreshold }));
}

/** `AS64496 EXAMPLE-CORP` (safe text), or empty. */
function ownerLabel(o: { asn: number; org?: string } | undefined): string {
  if (!o) return '';
  return safe(o.org ? `AS${o.asn} ${o.org}` : `AS${o.asn}`);
}

/** An alert's owner as its document gives it. */
function alertOwner(a: Alert): NetworkOwner | undefined {
  const as = a.source.as;
  if (!as) return undefined;
  return {
    asn: as.number,
    org: as.organization?.name ?? '',
    ...(a.source.geo ? { country: a.source.geo.country_iso_code } : {}),
  };
}

/** The alerts as the timeline and the table show them, in time order. */
export function alertViews(alerts: readonly Alert[], note?: (a: Alert) => string | undefined): AlertView[] {
  return alerts
    .map((a) => {
      const source = a.campaign?.source ?? a.source.ip;
      return {
        id: safe(a.id),
        t: Date.parse(a['@timestamp']),
        detectorId: a.rule.id,
        score: a.score,
        severity: a.rule.severity,
        subject: a.user.name !== '' ? safe(a.user.name) : `source ${safe(source)}`,
        user: safe(a.user.name),
        ip: safe(a.source.ip),
        owner: ownerLabel(alertOwner(a)),
        country: safe(a.source.geo?.country_iso_code ?? '', 8),
        note: safe(note?.(a) ?? '', 200),
      };
    })
    .filter((v) => Number.isFinite(v.t))
    .sort((x, y) => x.t - y.t || (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** A finding as the score distribution counts it: detector, score, and what identifies it (`alertId`). */
export type ScoredFinding = Pick<Finding, 'detectorId' | 'score' | 'user' | 'sourceIp' | 'sourceKey' | 'followUpOf'> & {
  readonly observation: Pick<Finding['observation'], 'firstSeen'>;
};

/**
 * Findings of a replay, counted as alerts would be: the windows overlap by half, so most logons are judged twice,
 * and a place stays unusual for a while; a finding counts once per alert id (`alertId`: detector, user, place and
 * first-seen period, or the alert a follow-up follows), with its highest score. So the at-or-above count is what
 * could have been raised, before allowlists, the per-run cap and the folding of a logon's alerts into one.
 */
export class FindingTally {
  private readonly best = new Map<string, { detectorId: string; score: number }>();

  add(f: ScoredFinding): void {
    // A detector no longer registered keeps the finest identity (user and address).
    const detector = DETECTORS.find((d) => d.id === f.detectorId) ?? { id: f.detectorId, groupBy: 'user-ip' as const };
    const key = alertId(
      detector as Parameters<typeof alertId>[0],
      f as Pick<Finding, 'user' | 'sourceIp' | 'observation' | 'sourceKey' | 'followUpOf'>,
    );
    const prev = this.best.get(key);
    if (!prev || f.score > prev.score) this.best.set(key, { detectorId: f.detectorId, score: f.score });
  }

  /** The scores counted, per detector id. */
  scores(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (const { detectorId, score } of this.best.values()) {
      let xs = out.get(detectorId);
      if (!xs) out.set(detectorId, (xs = []));
      xs.push(score);
    }
    return out;
  }
}

/** Per-detector histograms of `scores` against each threshold; detectors with no score are left out. */
export function scoreHistograms(
  detectors: readonly ReportDetector[],
  scores: ReadonlyMap<string, readonly number[]>,
  counted: ScoreHistogram['counted'],
): ScoreHistogram[] {
  const bins = Array.from({ length: 100 / SCORE_BIN }, (_, i) => i * SCORE_BIN);
  const out: ScoreHistogram[] = [];
  for (const d of detectors) {
    const xs = (scores.get(d.id) ?? []).filter((s) => Number.isFinite(s));
    if (xs.length === 0) continue;
    const below = bins.map(() => 0);
    const atOrAbove = bins.map(() => 0);
    for (const s of xs) {
      const i = Math.min(bins.length - 1, Math.max(0, Math.floor(s / SCORE_BIN)));
      (s >= d.threshold ? atOrAbove : below)[i]!++;
    }
    out.push({ detectorId: d.id, label: d.label, threshold: d.threshold, bins, below, atOrAbove, counted });
  }
  return out;
}

/** What the per-user panels are drawn from. */
export interface PanelSources {
  readonly alerts: readonly Alert[];
  readonly baselines: ReadonlyMap<string, UserBaseline>;
  /** The replayed logons (all users'); absent for the table, which keeps no logons. */
  readonly logons?: readonly LogonEvent[];
  /** The owner of an address (the run's network data); absent: only what the alerts' documents say. */
  readonly ownerOf?: (ip: string) => NetworkOwner | undefined;
  readonly settings: Pick<DetectionSettings, 'timeZone' | 'userTimeZones'>;
}

/** Entries of a baseline map, most recently seen first. */
function byRecency(m: Readonly<Record<string, SeenStats>> | undefined): [string, SeenStats][] {
  return Object.entries(m ?? {}).sort((a, b) => b[1].last - a[1].last || (a[0] < b[0] ? -1 : 1));
}

/** An even sample of at most `n` items, keeping the first and the last. */
function sample<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
  return out;
}

/**
 * Panels for the users of per-user alerts (an alert about a source names many users, most of them targets of
 * the guessing rather than its authors: they get no panel), highest alert score first, at most `MAX_USER_PANELS`.
 */
export function userPanels(src: PanelSources): { panels: UserPanel[]; notShown: number } {
  const byUser = new Map<string, Alert[]>();
  for (const a of src.alerts) {
    if (a.user.name === '') continue;
    let xs = byUser.get(a.user.name);
    if (!xs) byUser.set(a.user.name, (xs = []));
    xs.push(a);
  }
  const ranked = [...byUser].sort(
    (a, b) => Math.max(...b[1].map((x) => x.score)) - Math.max(...a[1].map((x) => x.score)) || (a[0] < b[0] ? -1 : 1),
  );
  const logonsOf = new Map<string, LogonEvent[]>();
  if (src.logons) {
    for (const e of src.logons) {
      if (!byUser.has(e.user)) continue;
      let xs = logonsOf.get(e.user);
      if (!xs) logonsOf.set(e.user, (xs = []));
      xs.push(e);
    }
  }
  const panels = ranked
    .slice(0, MAX_USER_PANELS)
    .map(([user, alerts]) => userPanel(user, alerts, src.baselines.get(user), logonsOf.get(user), src));
  return { panels, notShown: Math.max(0, ranked.length - MAX_USER_PANELS) };
}

function userPanel(
  user: string,
  alerts: readonly Alert[],
  baseline: UserBaseline | undefined,
  logons: readonly LogonEvent[] | undefined,
  src: PanelSources,
): UserPanel {
  // Owners: the alerts' documents first (what was delivered), then the run's network data.
  const owners = new Map<string, NetworkOwner | undefined>();
  for (const a of alerts) owners.set(a.source.ip, alertOwner(a));
  const ownerOf = (ip: string): NetworkOwner | undefined => {
    if (!owners.has(ip)) owners.set(ip, src.ownerOf?.(ip));
    return owners.get(ip);
  };
  const orgOf = new Map<number, string>();
  const rows: PlaceRow[] = [];
  const rowOf = new Map<string, number>();
  const span = (ip: string): { first: number; last: number } | undefined => {
    let first = Infinity;
    let last = -Infinity;
    for (const e of logons ?? [])
      if (e.sourceIp === ip) {
        first = Math.min(first, e.timestamp);
        last = Math.max(last, e.timestamp);
      }
    return Number.isFinite(first) ? { first, last } : undefined;
  };
  const addRow = (key: string, row: PlaceRow) => {
    if (rowOf.has(key)) return;
    rowOf.set(key, rows.length);
    rows.push(row);
  };

  // Addresses: the alerted ones, then the most recently seen, up to the bound.
  const alerted = [...new Set(alerts.map((a) => a.source.ip))];
  const known = byRecency(baseline?.ips);
  const addresses = [...alerted, ...known.map(([ip]) => ip).filter((ip) => !alerted.includes(ip))];
  const shown = addresses.slice(0, Math.max(MAX_ADDRESS_ROWS, alerted.length));
  const addressRows: PlaceRow[] = [];
  for (const ip of shown) {
    const o = ownerOf(ip);
    if (o?.org) orgOf.set(o.asn, o.org);
    const s = baseline?.ips[ip];
    const seen = s ?? span(ip) ?? firstAlert(alerts, ip);
    const label = [safe(ip), ownerLabel(o), safe(o?.country ?? '', 8)].filter((x) => x !== '').join(' · ');
    addressRows.push({
      kind: 'address',
      label,
      first: seen.first,
      last: seen.last,
      days: s?.days,
      note: s ? '' : 'not learned (alerted)',
    });
  }
  // Networks: the owners (or /16s where no owner is known) and countries the baseline learned.
  const networks = baseline?.owners && Object.keys(baseline.owners).length > 0 ? baseline.owners : baseline?.networks;
  for (const [key, s] of byRecency(baseline?.countries))
    addRow(`c:${key}`, { kind: 'country', label: safe(key, 8), first: s.first, last: s.last, days: s.days, note: '' });
  for (const [key, s] of byRecency(networks)) {
    const asn = /^AS(\d+)$/.exec(key)?.[1];
    const org = asn !== undefined ? orgOf.get(Number(asn)) : undefined;
    addRow(`n:${key}`, {
      kind: 'network',
      label: safe(org ? `${key} ${org}` : key),
      first: s.first,
      last: s.last,
      days: s.days,
      note: '',
    });
  }
  for (const [i, r] of addressRows.entries()) addRow(`a:${shown[i]}`, r);

  const rowsOfIp = (ip: string): number[] => {
    const o = ownerOf(ip);
    // The network row is the owner's, or the /16's where the panel lists /16s (a baseline learned without owners).
    const keys = [
      `a:${ip}`,
      `n:${placeOf(ip, 'network')}`,
      ...(o ? [`n:AS${o.asn}`, ...(o.country ? [`c:${o.country}`] : [])] : []),
    ];
    return keys.map((k) => rowOf.get(k)).filter((x): x is number => x !== undefined);
  };
  const points: [number, number, 0 | 1][] = [];
  let logonsNotShown = 0;
  for (const e of logons ?? []) {
    const row = rowOf.get(`a:${e.sourceIp}`);
    if (row === undefined) logonsNotShown++;
    else points.push([e.timestamp, row, e.outcome === 'success' ? 1 : 0]);
  }
  points.sort((a, b) => a[0] - b[0]);
  const drawn = sample(points, MAX_LOGON_POINTS);
  logonsNotShown += points.length - drawn.length;

  const parsed = unusualHourState.user?.schema.safeParse(baseline?.detectorState?.[unusualHourState.key]);
  const hoursState = parsed?.success ? parsed.data : undefined;
  const zone = hoursState?.zone ?? zoneOf(src.settings, user);
  return {
    user: safe(user),
    places: rows,
    addressesNotShown: addresses.length - shown.length,
    logons: drawn,
    logonsNotShown,
    alerts: alerts
      .map((a) => ({
        t: Date.parse(a['@timestamp']),
        rows: rowsOfIp(a.source.ip),
        detectorId: a.rule.id,
        score: a.score,
      }))
      .filter((a) => Number.isFinite(a.t))
      .sort((a, b) => a.t - b.t),
    ...(hoursState ? { hours: { zone, weekday: hoursState.weekday, weekend: hoursState.weekend } } : {}),
    alertHours: alerts
      .map((a) => Date.parse(a['@timestamp']))
      .filter(Number.isFinite)
      .map((t) => localTime(t, zone).hour),
    zone,
    maxScore: Math.max(...alerts.map((a) => a.score)),
  };
}

/** When a place the baseline does not hold was first alerted on. */
function firstAlert(alerts: readonly Alert[], ip: string): { first: number; last: number } {
  const ts = alerts.filter((a) => a.source.ip === ip).map((a) => Date.parse(a['@timestamp']));
  return { first: Math.min(...ts), last: Math.max(...ts) };
}

/** What a report of alerts is built from: a replay's (with its findings and logons), or the table's. */
export interface AlertReportInput extends PanelSources {
  readonly title: string;
  /** What the data came from (safe text is made of it). */
  readonly source: string;
  readonly summary: readonly (readonly [string, string])[];
  /** The thresholds in force, by detector id. */
  readonly thresholds: Readonly<Record<string, number>>;
  /** Every finding judged after learning (a replay); absent: the distribution counts the alerts only. */
  readonly findings?: FindingTally;
  /** A note on an alert (the demo: the labelled attack it is on). */
  readonly note?: (a: Alert) => string | undefined;
  readonly notes?: readonly string[];
}

/** The report of a replay, or of the deployed table's recent alerts and baselines. */
export function alertReport(i: AlertReportInput): ReportModel {
  const detectors = reportDetectors(i.thresholds);
  const scores = i.findings
    ? scoreHistograms(detectors, i.findings.scores(), 'findings')
    : scoreHistograms(detectors, alertScores(i.alerts), 'alerts');
  const { panels, notShown } = userPanels(i);
  const alerts = alertViews(i.alerts, i.note);
  return {
    title: i.title,
    source: safe(i.source, 300),
    summary: i.summary.map(([k, v]) => [k, safe(v, 300)] as const),
    detectors,
    alerts,
    scores,
    users: panels,
    usersNotShown: notShown,
    notes: [
      ...(i.notes ?? []),
      ...(alerts.length > MAX_ALERT_ROWS
        ? [`The alert table lists the first ${MAX_ALERT_ROWS} of ${alerts.length} alerts; the timeline shows them all.`]
        : []),
      ...(notShown > 0
        ? [`${notShown} more users with alerts have no panel (the ${MAX_USER_PANELS} with the highest scores do).`]
        : []),
    ],
  };
}

function alertScores(alerts: readonly Alert[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const a of alerts) {
    let xs = out.get(a.rule.id);
    if (!xs) out.set(a.rule.id, (xs = []));
    xs.push(a.score);
  }
  return out;
}
