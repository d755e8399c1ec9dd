/**
 * The scenario generator's public types: shapes, archetypes, incident and novelty kinds, labels and meta.
 */
import type { LogonEvent } from '../../shared/core/model';
import type { UserTimeZone } from '../../shared/core/local-time';

/**
 * `office-hours` is an organisation living in local time (three IANA zones, daylight saving inside the
 * scenario), built for detectors that judge *when* people log on; the other two keep their UTC-offset people.
 * `internet-facing` is an organisation whose sshd faces the internet: scanners every day, benign failures (a
 * stale service password, a mail client after a password change) and, after learning, campaigns of failed logons
 * (`CAMPAIGN_KINDS`) as its only attacks: a shape of its own, so the other three keep their events and figures.
 */
export type ScenarioShape = 'small-office' | 'large-mobile' | 'office-hours' | 'internet-facing';
export const SCENARIO_SHAPES: readonly ScenarioShape[] = [
  'small-office',
  'large-mobile',
  'office-hours',
  'internet-facing',
];

/** How a user logs on day to day. Travel, joining and leaving are events in a user's life, not archetypes. */
export type Archetype = 'office' | 'home' | 'mobile' | 'admin' | 'service';

/**
 * `off-hours`: a stolen credential used at night (01:00–04:30 local time) from the victim's own usual address,
 * at an hour the victim never logs on: nothing about the name or the address is new, only the hour.
 *
 * `impossible-travel` (`office-hours` shape): a stolen credential used from a consumer network abroad (a foreign
 * ISP's or hotel's, not a hosting provider's), in a country at least 2,000 km from the victim's, 10–90 minutes
 * after the victim's own logon at home from their usual address: no one could have made the journey between.
 *
 * Campaigns of failed logons (`internet-facing` shape; `CAMPAIGN_KINDS`), each from the hosting networks no one in
 * the organisation uses:
 * - `password-spray`: one address tries ~80 of the organisation's real users in 30–60 minutes, a few common
 *   passwords each, and gets in as two of them;
 * - `low-slow-spray`: one address tries ~5 real users an hour for two days, a password or two each, under any
 *   per-hour threshold; it gets in as one user, or none;
 * - `credential-stuffing`: leaked name/password pairs tried from many addresses, one per user, 1–3 attempts each;
 *   for a few users the leaked password still works;
 * - `brute-force-success`: one user, dozens of passwords from one new address in minutes, then a success.
 */
export type IncidentKind =
  | 'stolen-credentials'
  | 'dormant-return'
  | 'attacker-account'
  | 'lateral-movement'
  | 'off-hours'
  | 'impossible-travel'
  | 'password-spray'
  | 'low-slow-spray'
  | 'credential-stuffing'
  | 'brute-force-success';
export const INCIDENT_KINDS: readonly IncidentKind[] = [
  'stolen-credentials',
  'dormant-return',
  'attacker-account',
  'lateral-movement',
  'off-hours',
  'impossible-travel',
  'password-spray',
  'low-slow-spray',
  'credential-stuffing',
  'brute-force-success',
];
/**
 * Kinds whose detection must name the incident's IP too (the others are caught on the user name alone).
 * `off-hours` is among them although its address is the victim's usual one: every attacker logon comes from
 * that address, and the victim's own logons elsewhere in the next two hours are not the attack.
 */
export const IP_BASED_KINDS: ReadonlySet<IncidentKind> = new Set<IncidentKind>([
  'stolen-credentials',
  'lateral-movement',
  'off-hours',
  'impossible-travel',
]);

/**
 * Campaigns: one attacker against many accounts (or many passwords against one), failures first. Their labels
 * list every account tried (`Incident.targets`), and their detection rules are their own (score.ts).
 */
export const CAMPAIGN_KINDS: ReadonlySet<IncidentKind> = new Set<IncidentKind>([
  'password-spray',
  'low-slow-spray',
  'credential-stuffing',
  'brute-force-success',
]);

/**
 * Labelled legitimate novelty. `travel`, `new-hire` and `travel-timezone` are *expected* novelty (a good
 * detector may flag them; the evaluation counts those alerts apart from noise). The others are benign, and an
 * alert on them is *noise*, labelled so the evaluation can say what its noise is made of: `isp-change` and
 * `dhcp-churn` (a new home address), and the look-alikes of off-hours misuse (`office-hours` shape):
 * - `late-work`: a weekday session a couple of hours past the person's usual end, from their usual address;
 * - `weekend-deploy`: an engineer working a Saturday or Sunday daytime, from home;
 * - `dst-change`: everyone's logons from their known addresses in the days after a daylight-saving change,
 *   which move by an hour in UTC but not on the wall clock (a detector working in local time has nothing to see);
 * - `travel-timezone` (expected): a trip to a zone 6–9 hours away, working that zone's office hours from the
 *   hotel's addresses. Like `travel`, it is a new place *and* (in the home zone) a night-time logon: the same
 *   two signs stolen credentials show, so an alert on it is one a person should look at, not noise.
 *
 * Benign failures (`internet-facing` shape), all noise: nothing in them is an attack, and none calls for a person.
 * - `stale-service-password`: a service account whose password was changed but not in its job, failing every few
 *   minutes all day from its usual address (an operations matter, not a security one);
 * - `mail-client-password-change`: after a password change, a user's mail client at home retries the old one
 *   dozens of times, then the user types the new one and it succeeds: from the user's own home address, which is
 *   what tells it from brute force that succeeds;
 * - `ssh-background-scan`: the internet's scanners trying `root`, `admin`, `oracle`… from many addresses all day,
 *   never succeeding: what every exposed sshd sees. Its label is about addresses, not an account (`user` empty).
 *
 * `failed-spray` (expected): the internet noise of every shape includes guessing campaigns that try the
 * organisation's real names (leaked address lists), from one address, failing. That is password spraying that did
 * not get in: an alert about the source is one a person should see (the names are known outside), not noise.
 * Labelled about the address (`user` empty), from its first attempt to two hours after its last.
 */
export type NoveltyKind =
  | 'travel'
  | 'new-hire'
  | 'isp-change'
  | 'dhcp-churn'
  | 'late-work'
  | 'weekend-deploy'
  | 'travel-timezone'
  | 'dst-change'
  | 'stale-service-password'
  | 'mail-client-password-change'
  | 'ssh-background-scan'
  | 'failed-spray';
export const NOVELTY_KINDS: readonly NoveltyKind[] = [
  'travel',
  'new-hire',
  'isp-change',
  'dhcp-churn',
  'late-work',
  'weekend-deploy',
  'travel-timezone',
  'dst-change',
  'stale-service-password',
  'mail-client-password-change',
  'ssh-background-scan',
  'failed-spray',
];

export interface UserProfileLabel {
  readonly name: string;
  readonly archetype: Archetype;
  /** Start of the day the user joined (new hires only). */
  readonly joinedAt?: number;
  /** The moment the user left: no legitimate logon at or after it (departed users only). */
  readonly leftAt?: number;
}

/** One account a campaign tried: from which address, how many failures, whether it got in. */
export interface CampaignTarget {
  readonly user: string;
  /** The address the campaign tried this account from (canonical): the same for all but credential stuffing. */
  readonly sourceIp: string;
  readonly failures: number;
  /** Whether the campaign logged on as this user (after its failures). */
  readonly compromised: boolean;
}

/** Ground truth of one attack. */
export interface Incident {
  /** `<kind>-<n>`, stable for a given seed and shape. */
  readonly id: string;
  readonly kind: IncidentKind;
  /**
   * The account the attacker logs on as. For a campaign (`CAMPAIGN_KINDS`), the first account it got in as, or
   * empty when it got in as none (its accounts are in `targets`).
   */
  readonly user: string;
  /** The attacker's source IP (canonical); for credential stuffing, the address of `user` (of the first target without one). */
  readonly sourceIp: string;
  /**
   * Epoch ms of the first *successful* attacker logon (failed attempts, if any, precede it). For a campaign, its
   * first attempt: failures are what it is made of.
   */
  readonly start: number;
  /** Epoch ms of the last successful attacker logon; for a campaign, of its last event. */
  readonly end: number;
  readonly description: string;
  /** Successful attacker logons. */
  readonly logons: number;
  /** Failed attempts from the same IP just before `start`. */
  readonly failedAttempts: number;
  readonly hosts: readonly string[];
  /** Campaigns: every account tried, in the order first tried. Absent for the other kinds. */
  readonly targets?: readonly CampaignTarget[];
  /**
   * Campaigns: the network owners of the campaign's addresses as an alert about an owner names them (`AS64511`),
   * from the scenario's network data; an alert about one of these owners that names a target detects it.
   */
  readonly sourceOwners?: readonly string[];
}

export interface NoveltyLabel {
  readonly kind: NoveltyKind;
  /** The account; empty for a label about addresses rather than an account (`ssh-background-scan`): any user. */
  readonly user: string;
  /** Inclusive span in epoch ms. */
  readonly start: number;
  readonly end: number;
  /** The novel addresses, when the novelty is about addresses (all addresses of the user otherwise). */
  readonly sourceIps?: readonly string[];
}

export interface ScenarioMeta {
  readonly seed: number;
  readonly shape: ScenarioShape;
  /** Epoch ms, 00:00 UTC. Events lie in [start, end). */
  readonly start: number;
  readonly end: number;
  readonly days: number;
  readonly learningDays: number;
  /** No attack event before this. */
  readonly learningEnd: number;
  /** Distinct (user, UTC day) pairs with a successful logon, over the whole scenario. */
  readonly userDays: number;
  /** The same, from `learningEnd` on: the denominator of false alerts per 1,000 user-days. */
  readonly detectionUserDays: number;
  readonly events: number;
  readonly successes: number;
  readonly failures: number;
  /** Anything the generator had to leave out (e.g. dormant returns that do not fit in too few days). */
  readonly notes: readonly string[];
  /**
   * The deployment's time zone, for shapes whose people live in local time (`office-hours`): the detection
   * settings `timeZone` the evaluation runs with. Absent: the default settings (UTC).
   */
  readonly timeZone?: string;
  /** The settings' `userTimeZones` that put the users of other offices in their zones (with `timeZone`). */
  readonly userTimeZones?: readonly UserTimeZone[];
}

export interface Scenario {
  /** Sorted by timestamp; `logSource: 'ecs'`; canonical IPs. */
  readonly events: LogonEvent[];
  /** The organisation's accounts (attacker-made accounts are not listed: they are in `incidents`). */
  readonly users: UserProfileLabel[];
  readonly incidents: Incident[];
  /** Travel and new hires. */
  readonly expectedNovelty: NoveltyLabel[];
  /** ISP and DHCP lease changes, look-alikes, benign failures: benign, but an alert on them counts as noise. */
  readonly benignChanges: NoveltyLabel[];
  readonly meta: ScenarioMeta;
}

export interface ScenarioOptions {
  readonly seed: number;
  readonly shape: ScenarioShape;
  /** Length in days (default 42: 14 learning + 4 weeks, room for 30-day dormancy). */
  readonly days?: number;
  /** Epoch ms at 00:00 UTC (default Monday 2026-03-02). */
  readonly start?: number;
  /** Learning period in days (default 14); attacks only after it. */
  readonly learningDays?: number;
}

/** The serialisable labels of a scenario: everything but the events (which are the log itself). */
export interface ScenarioLabels {
  readonly users: UserProfileLabel[];
  readonly incidents: Incident[];
  readonly expectedNovelty: NoveltyLabel[];
  readonly benignChanges: NoveltyLabel[];
  readonly meta: ScenarioMeta;
}
