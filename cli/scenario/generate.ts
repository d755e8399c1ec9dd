/**
 * The labelled scenario generator: a synthetic organisation's logons over several weeks, with the ground
 * truth of the attacks hidden in them and of the legitimate novelty around them. It feeds both the
 * `npm start` demo and `npm run eval`, so it aims at realism where a detector's figures depend on it:
 * shared egress, DHCP and carrier-NAT churn, travel, new hires, departures, service accounts, admins
 * behind bastions, internet brute-force noise, and a weekday/diurnal rhythm. See `README.md` beside
 * this file for the population, the rates and why.
 *
 * Pure and deterministic: same options → byte-identical output (seeded PRNG streams, no clock).
 */
import { DAY_MS, type LogonEvent, type Outcome } from '../../shared/core/model';
import { clockText, localTime, type UserTimeZone } from '../../shared/core/local-time';
import { canonicalIp } from '../../shared/core/net';
import {
  BASTIONS,
  CARRIERS,
  HOME_ISPS,
  IPV6_ISPS,
  OFFICE_NAT,
  SERVICE_SUBNET,
  TRAVEL_NETS,
  VPN_POOL,
  WORKSTATION_VLAN_FIRST,
  WORKSTATION_VLAN_LAST,
  attackerIp,
  ipIn16,
  ipv6PrivacyAddress,
  randomPublicIp,
} from './network';
import { Rng, hash32 } from './random';

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/**
 * `office-hours` is an organisation living in local time (three IANA zones, daylight saving inside the
 * scenario), built for detectors that judge *when* people log on; the other two keep their UTC-offset people.
 */
export type ScenarioShape = 'small-office' | 'large-mobile' | 'office-hours';
export const SCENARIO_SHAPES: readonly ScenarioShape[] = ['small-office', 'large-mobile', 'office-hours'];

/** How a user logs on day to day. Travel, joining and leaving are events in a user's life, not archetypes. */
export type Archetype = 'office' | 'home' | 'mobile' | 'admin' | 'service';

/**
 * `off-hours`: a stolen credential used at night (01:00–04:30 local time) from the victim's own usual address,
 * at an hour the victim never logs on: nothing about the name or the address is new, only the hour.
 */
export type IncidentKind =
  | 'stolen-credentials'
  | 'dormant-return'
  | 'attacker-account'
  | 'lateral-movement'
  | 'off-hours';
export const INCIDENT_KINDS: readonly IncidentKind[] = [
  'stolen-credentials',
  'dormant-return',
  'attacker-account',
  'lateral-movement',
  'off-hours',
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
 */
export type NoveltyKind =
  | 'travel'
  | 'new-hire'
  | 'isp-change'
  | 'dhcp-churn'
  | 'late-work'
  | 'weekend-deploy'
  | 'travel-timezone'
  | 'dst-change';
export const NOVELTY_KINDS: readonly NoveltyKind[] = [
  'travel',
  'new-hire',
  'isp-change',
  'dhcp-churn',
  'late-work',
  'weekend-deploy',
  'travel-timezone',
  'dst-change',
];

export interface UserProfileLabel {
  readonly name: string;
  readonly archetype: Archetype;
  /** Start of the day the user joined (new hires only). */
  readonly joinedAt?: number;
  /** The moment the user left: no legitimate logon at or after it (departed users only). */
  readonly leftAt?: number;
}

/** Ground truth of one attack. */
export interface Incident {
  /** `<kind>-<n>`, stable for a given seed and shape. */
  readonly id: string;
  readonly kind: IncidentKind;
  /** The account the attacker logs on as. */
  readonly user: string;
  /** The attacker's source IP (canonical). */
  readonly sourceIp: string;
  /** Epoch ms of the first *successful* attacker logon (failed attempts, if any, precede it). */
  readonly start: number;
  /** Epoch ms of the last successful attacker logon. */
  readonly end: number;
  readonly description: string;
  /** Successful attacker logons. */
  readonly logons: number;
  /** Failed attempts from the same IP just before `start`. */
  readonly failedAttempts: number;
  readonly hosts: readonly string[];
}

export interface NoveltyLabel {
  readonly kind: NoveltyKind;
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
  /** ISP changes and DHCP lease changes: benign, but an alert on them counts as noise. */
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

// ---------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------

/** Monday 2026-03-02 00:00 UTC. */
export const DEFAULT_START = Date.UTC(2026, 2, 2);
export const DEFAULT_DAYS = 42;
export const DEFAULT_LEARNING_DAYS = 14;
/** A dormant return comes after at least this much silence (Elastic's decay makes a name rare again in weeks). */
export const DORMANCY_GAP_DAYS = 30;
/** Shortest scenario that can hold a dormant return: a departed user active on days 0..1, then 30 days of silence. */
export const MIN_DAYS_FOR_DORMANT_RETURN = DORMANCY_GAP_DAYS + 3;
/** A new hire's first week is expected novelty. */
export const NEW_HIRE_NOVELTY_DAYS = 7;
/** How long after an ISP or lease change an alert on the new address is attributed to it. */
const CHANGE_LABEL_DAYS = 7;

const HOUR = 3_600_000;
const MINUTE = 60_000;
const SECOND = 1_000;

type Team = 'web' | 'dev' | 'data' | 'support' | 'sales' | 'ops';

const SMALL_HOSTS = [
  'web-01',
  'web-02',
  'app-01',
  'db-01',
  'git-01',
  'build-01',
  'files-01',
  'crm-01',
  'monitor-01',
  'backup-01',
] as const;
const LARGE_HOSTS = [
  ...SMALL_HOSTS,
  'web-03',
  'app-02',
  'api-01',
  'db-02',
  'etl-01',
  'build-02',
  'analytics-01',
  'mail-01',
  'k8s-01',
  'k8s-02',
  'k8s-03',
  'k8s-04',
] as const;

const TEAM_HOSTS: Record<Team, readonly string[]> = {
  web: ['web-01', 'web-02', 'web-03', 'app-01'],
  dev: ['git-01', 'build-01', 'build-02', 'app-02', 'api-01', 'k8s-01'],
  data: ['db-01', 'db-02', 'etl-01', 'analytics-01'],
  support: ['files-01', 'app-01', 'monitor-01', 'crm-01'],
  sales: ['crm-01', 'files-01', 'mail-01'],
  ops: [],
};

/** Hosts reachable from the internet, where brute-force noise lands. */
const EXPOSED_HOSTS = ['bastion-01', 'web-01', 'web-02', 'git-01'] as const;

const SERVICE_NAMES = [
  'svc-backup',
  'svc-deploy',
  'svc-monitor',
  'svc-etl',
  'ansible',
  'jenkins',
  'svc-reports',
  'svc-sync',
  'nagios',
  'svc-billing',
  'svc-crm',
  'svc-mail',
  'svc-metrics',
  'svc-logship',
  'svc-search',
  'svc-cache',
  'svc-ftp',
  'svc-ldap',
  'svc-dns',
  'svc-cert',
  'svc-payroll',
  'svc-archive',
  'svc-scan',
  'svc-queue',
] as const;

/** Names an intruder gives the accounts they create: plausible, close to the real ones, never taken. */
const ATTACKER_ACCOUNT_NAMES = [
  'svc-backup2',
  'support01',
  'it-helpdesk',
  'sysadmin2',
  'backup-adm',
  'ops-temp',
  'devops01',
  'maint',
  'sql-svc',
  'admin.tmp',
] as const;

/** What internet scanners try. `root` dominates real sshd logs. */
const SCANNER_NAMES = [
  'admin',
  'test',
  'oracle',
  'ubuntu',
  'user',
  'postgres',
  'guest',
  'ftpuser',
  'pi',
  'git',
  'mysql',
  'support',
  'deploy',
  'test1',
  'centos',
  'debian',
  'hadoop',
  'jenkins',
  'ec2-user',
  'www-data',
  'nagios',
  'minecraft',
  'steam',
  'dev',
] as const;

const FIRST_NAMES = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'karl',
  'laura',
  'mallory',
  'nina',
  'oscar',
  'peggy',
  'quentin',
  'rupert',
  'sybil',
  'trent',
  'ursula',
  'victor',
  'wendy',
  'xavier',
  'yasmin',
  'zoe',
  'amir',
  'beatriz',
  'chen',
  'dmitri',
  'elena',
  'fatima',
  'giorgio',
  'hana',
  'ines',
  'jonas',
  'kenji',
  'lena',
  'mateo',
  'noor',
  'olga',
  'pablo',
  'qiang',
  'rosa',
  'sven',
  'tanvi',
  'umar',
  'vera',
  'wei',
  'ximena',
  'yusuf',
  'zanele',
  'aoife',
  'bjorn',
  'chloe',
  'diego',
  'emeka',
  'freya',
  'gustav',
  'hamid',
  'isla',
  'jamal',
  'kasia',
  'liam',
  'maya',
  'nils',
  'omar',
  'priya',
  'rafael',
  'sana',
  'tomas',
  'uma',
  'valentin',
  'willa',
  'yara',
  'zeynep',
] as const;

const LAST_NAMES = [
  'smith',
  'garcia',
  'muller',
  'rossi',
  'nowak',
  'jensen',
  'silva',
  'kim',
  'nguyen',
  'patel',
  'okafor',
  'dubois',
  'novak',
  'berg',
  'costa',
  'ito',
  'khan',
  'lopez',
  'martin',
  'olsen',
  'park',
  'quinn',
  'reyes',
  'sato',
  'tanaka',
  'weber',
  'young',
  'zhang',
  'ali',
  'brown',
  'clark',
  'davies',
  'evans',
  'fischer',
  'gomez',
  'hughes',
  'ivanova',
  'johansson',
  'kowalski',
  'larsen',
  'moreau',
  'nakamura',
  'obrien',
  'petrov',
  'ruiz',
  'schmidt',
  'torres',
  'vargas',
  'wagner',
  'yilmaz',
  'adams',
  'bauer',
  'chavez',
  'dahl',
  'ferreira',
  'hansen',
  'keller',
  'lindqvist',
  'mendes',
  'nielsen',
  'ortiz',
  'pereira',
] as const;

interface ShapeSpec {
  /** The founding population, present from day 0. */
  readonly counts: Readonly<Record<Archetype, number>>;
  readonly newHires: number;
  readonly newHireArchetypes: readonly (readonly [Archetype, number])[];
  /** Leave in the first days (candidates for dormant returns, plus some that stay silent). */
  readonly departedEarly: number;
  /** Leave somewhere in the middle. */
  readonly departedMid: number;
  readonly trips: number;
  readonly ispChanges: number;
  /** Share of home connections that are IPv6 (privacy addresses rotating daily inside a stable /48). */
  readonly ipv6HomeShare: number;
  /** Share of people with a vacation block. */
  readonly vacationShare: number;
  readonly attacks: Readonly<Record<IncidentKind, number>>;
  /** Mean brute-force campaigns per day from the internet. */
  readonly noiseCampaignsPerDay: number;
  /** UTC offsets (hours) of the people, with weights. */
  readonly timeZones: readonly (readonly [number, number])[];
  readonly hosts: readonly string[];
  readonly bastions: number;
  /**
   * People in IANA zones instead of `timeZones`' fixed offsets: the first is the deployment's zone (no name
   * prefix); the others are offices whose people's names carry `prefix`, matched by a `userTimeZones` pattern.
   */
  readonly zones?: readonly ZoneSpec[];
  /** The local-time habits and look-alikes of off-hours misuse (`office-hours`). */
  readonly localHabits?: LocalHabitsSpec;
}

interface ZoneSpec {
  readonly zone: string;
  readonly prefix: string;
  readonly weight: number;
}

interface LocalHabitsSpec {
  /** Share of office and home workers with a regular evening session on some weekdays. */
  readonly eveningShare: number;
  /** Admins on call: sessions at any hour of the day and night in their on-call weeks. */
  readonly onCallAdmins: number;
  /** Labelled look-alikes per scenario. */
  readonly lateWork: number;
  readonly weekendDeploys: number;
  readonly zoneTrips: number;
}

const SHAPES: Record<ScenarioShape, ShapeSpec> = {
  'small-office': {
    counts: { office: 28, home: 12, mobile: 9, admin: 3, service: 3 },
    newHires: 3,
    newHireArchetypes: [
      ['office', 2],
      ['home', 1],
      ['mobile', 1],
    ],
    departedEarly: 3,
    departedMid: 1,
    trips: 3,
    ispChanges: 2,
    ipv6HomeShare: 0.1,
    vacationShare: 0.25,
    // Three stolen-credential cases so every human archetype (office, home, mobile) is attacked.
    attacks: {
      'stolen-credentials': 3,
      'dormant-return': 2,
      'attacker-account': 2,
      'lateral-movement': 2,
      'off-hours': 0,
    },
    noiseCampaignsPerDay: 6,
    timeZones: [[1, 1]],
    hosts: SMALL_HOSTS,
    bastions: 1,
  },
  'large-mobile': {
    counts: { office: 150, home: 150, mobile: 240, admin: 12, service: 24 },
    newHires: 24,
    newHireArchetypes: [
      ['office', 3],
      ['home', 2],
      ['mobile', 5],
    ],
    departedEarly: 7,
    departedMid: 10,
    trips: 25,
    ispChanges: 12,
    ipv6HomeShare: 0.1,
    vacationShare: 0.25,
    attacks: {
      'stolen-credentials': 5,
      'dormant-return': 5,
      'attacker-account': 5,
      'lateral-movement': 5,
      'off-hours': 0,
    },
    noiseCampaignsPerDay: 30,
    timeZones: [
      [1, 5],
      [0, 2],
      [-5, 3],
    ],
    hosts: LARGE_HOSTS,
    bastions: 2,
  },
  // Headquarters in Berlin, offices in New York and Singapore. The deployment zone is Berlin so that its
  // daylight-saving change (2026-03-29) falls in the detection period of the default six weeks from
  // 2026-03-02; New York's (2026-03-08) falls in the learning period, and Singapore has none.
  'office-hours': {
    counts: { office: 48, home: 16, mobile: 6, admin: 4, service: 4 },
    newHires: 2,
    newHireArchetypes: [
      ['office', 2],
      ['home', 1],
    ],
    departedEarly: 1,
    departedMid: 1,
    trips: 2,
    ispChanges: 2,
    ipv6HomeShare: 0.1,
    vacationShare: 0.25,
    attacks: {
      'stolen-credentials': 2,
      'dormant-return': 1,
      'attacker-account': 1,
      'lateral-movement': 1,
      'off-hours': 3,
    },
    noiseCampaignsPerDay: 6,
    // Only read by the other attack kinds' timing: the people's hours come from `zones`.
    timeZones: [[1, 1]],
    hosts: SMALL_HOSTS,
    bastions: 1,
    zones: [
      { zone: 'Europe/Berlin', prefix: '', weight: 6 },
      { zone: 'America/New_York', prefix: 'amer-', weight: 2 },
      { zone: 'Asia/Singapore', prefix: 'apac-', weight: 1 },
    ],
    localHabits: { eveningShare: 0.2, onCallAdmins: 2, lateWork: 4, weekendDeploys: 3, zoneTrips: 2 },
  },
};

/** Stolen credentials rotate through these victim archetypes so each is represented. */
const STOLEN_VICTIMS: readonly Archetype[] = ['office', 'home', 'mobile', 'mobile', 'admin', 'office', 'home'];

// ---------------------------------------------------------------------------------------------
// Internal model of the simulated people
// ---------------------------------------------------------------------------------------------

interface HomeSegment {
  readonly fromDay: number;
  /** IPv4 lease, or the LAN /64 of an IPv6 subscriber (four groups). */
  readonly ipv4?: string;
  readonly prefix64?: string;
}

interface ServiceSpec {
  readonly ip: string;
  readonly targets: readonly { readonly host: string; readonly periodMin: number; readonly phaseMin: number }[];
}

interface Trip {
  readonly firstDay: number;
  readonly lastDay: number;
  readonly ips: readonly string[];
  /** The IANA zone of the destination, whose hours the traveller keeps (trips across time zones only). */
  readonly zone?: string;
}

interface SimUser {
  readonly name: string;
  readonly archetype: Archetype;
  readonly team: Team;
  /** Local time = UTC + tz hours (unless `zone` is set). */
  readonly tz: number;
  /** The IANA zone the user lives in, daylight saving included (shapes with `zones`). */
  zone?: string;
  /** A regular evening session on this share of weekdays, starting at local hour `from`. */
  evening?: { readonly from: number; readonly share: number };
  /** On call: sessions at any hour in alternate weeks. */
  onCall?: boolean;
  /** Usual servers, most used first. */
  readonly hosts: readonly string[];
  readonly method: string;
  readonly workStart: number;
  readonly workEnd: number;
  readonly logonsPerDay: number;
  readonly wfhShare: number;
  readonly vpnShare: number;
  readonly officeVisitShare: number;
  readonly carrierPools?: readonly string[];
  readonly homePool?: string;
  firstDay: number;
  lastDay: number;
  joinedAt?: number;
  leftAt?: number;
  /** Active every day until leaving (early leavers, so they surely have history to go dormant from). */
  forceDaily: boolean;
  home: HomeSegment[];
  vacation?: readonly [number, number];
  trip?: Trip;
  service?: ServiceSpec;
}

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

class Timeline {
  constructor(
    readonly start: number,
    readonly days: number,
  ) {}

  get end(): number {
    return this.start + this.days * DAY_MS;
  }

  dayStart(day: number): number {
    return this.start + day * DAY_MS;
  }

  /** UTC epoch ms of local hour `hour` (fractional) on scenario day `day` for a user at UTC+tz. */
  local(day: number, hour: number, tz: number): number {
    return this.dayStart(day) + (hour - tz) * HOUR;
  }

  isWeekend(day: number): boolean {
    const dow = new Date(this.dayStart(day)).getUTCDay();
    return dow === 0 || dow === 6;
  }
}

/**
 * The UTC instant at which a wall clock in `zone` shows `wall` (epoch ms of that wall-clock time read as if
 * it were UTC). Two steps settle on the offset in effect at the result; a wall time inside a spring-forward
 * gap (which no clock shows) lands an hour off, like a person's alarm set for 02:30 that night.
 */
export function zonedInstant(wall: number, zone: string): number {
  const first = wall - localTime(wall, zone).offsetMinutes * MINUTE;
  return wall - localTime(first, zone).offsetMinutes * MINUTE;
}

/** The zone whose hours a user keeps on scenario day `day`: the destination's while on a trip across zones. */
function zoneOn(u: SimUser, day: number): string | undefined {
  return u.trip?.zone !== undefined && day >= u.trip.firstDay && day <= u.trip.lastDay ? u.trip.zone : u.zone;
}

/** UTC epoch ms of local hour `hour` (fractional) on scenario day `day` for user `u`, in their zone or offset. */
function localAt(t: Timeline, day: number, hour: number, u: SimUser): number {
  const zone = zoneOn(u, day);
  return zone === undefined ? t.local(day, hour, u.tz) : zonedInstant(t.dayStart(day) + hour * HOUR, zone);
}

class EventLog {
  readonly events: LogonEvent[] = [];

  constructor(private readonly t: Timeline) {}

  /** Add an event if it falls inside the scenario; returns whether it did. */
  add(timestamp: number, user: string, ip: string, outcome: Outcome, host: string, method: string): boolean {
    const ts = Math.floor(timestamp);
    if (ts < this.t.start || ts >= this.t.end) return false;
    const sourceIp = canonicalIp(ip);
    if (!sourceIp) throw new Error(`scenario generator produced an invalid address: ${ip}`);
    this.events.push({ timestamp: ts, user, sourceIp, outcome, host, method, logSource: 'ecs' });
    return true;
  }
}

function validate(o: ScenarioOptions): { days: number; start: number; learningDays: number } {
  const days = o.days ?? DEFAULT_DAYS;
  const start = o.start ?? DEFAULT_START;
  const learningDays = o.learningDays ?? DEFAULT_LEARNING_DAYS;
  if (!Number.isInteger(days) || days < 2) throw new RangeError(`days must be an integer ≥ 2, got ${days}`);
  if (!Number.isInteger(learningDays) || learningDays < 1 || learningDays >= days)
    throw new RangeError(`learningDays must be an integer in [1, days), got ${learningDays}`);
  if (!Number.isSafeInteger(start) || start % DAY_MS !== 0)
    throw new RangeError(`start must be an epoch ms at 00:00 UTC, got ${start}`);
  if (!SHAPES[o.shape]) throw new RangeError(`unknown shape ${String(o.shape)}`);
  return { days, start, learningDays };
}

/**
 * Generate a labelled scenario. Deterministic: the same options give byte-identical events and labels.
 *
 * @throws RangeError when `days`, `learningDays` or `start` are out of range.
 */
export function generateScenario(options: ScenarioOptions): Scenario {
  const { days, start, learningDays } = validate(options);
  // Every stream is derived from (seed, shape): the two shapes of one seed are unrelated draws.
  const seed = hash32(`${options.seed}|${options.shape}`);
  const spec = SHAPES[options.shape];
  const t = new Timeline(start, days);
  const learningEnd = t.dayStart(learningDays);
  const log = new EventLog(t);
  const estate = estateOf(spec);
  const notes: string[] = [];
  const expectedNovelty: NoveltyLabel[] = [];
  const benignChanges: NoveltyLabel[] = [];

  const users = buildPopulation(seed, spec);
  const lifecycle = planLifecycle(seed, spec, users, t, learningDays, expectedNovelty, notes);
  planHomeNetworks(seed, spec, users, t, learningDays, benignChanges);
  planTripsAndVacations(seed, spec, users, t, lifecycle.earlyLeavers, expectedNovelty);
  if (spec.localHabits) {
    planLocalHabits(seed, spec.localHabits, users);
    planZoneTrips(seed, spec.localHabits, users, t, learningDays, lifecycle.earlyLeavers, expectedNovelty, notes);
  }

  for (const u of users) {
    if (u.service) generateService(seed, u, t, log);
    else generateHuman(seed, u, t, log, estate);
    if (u.evening || u.onCall) generateLocalHabits(seed, u, t, log, estate);
  }
  if (spec.localHabits) {
    generateLookAlikes(seed, spec.localHabits, users, t, learningDays, log, benignChanges, notes);
    labelDstChanges(users, t, log, benignChanges);
  }
  generateNoise(seed, spec, users, t, log);
  const incidents = generateAttacks(seed, spec, users, lifecycle.earlyLeavers, t, learningEnd, log, notes);

  // Stable sort: ties keep generation order, which is itself deterministic.
  const events = log.events.sort((a, b) => a.timestamp - b.timestamp);
  const userDays = new Set<string>();
  const detectionUserDays = new Set<string>();
  let successes = 0;
  for (const e of events) {
    if (e.outcome !== 'success') continue;
    successes++;
    const key = `${e.user}\u0000${Math.floor((e.timestamp - start) / DAY_MS)}`;
    userDays.add(key);
    if (e.timestamp >= learningEnd) detectionUserDays.add(key);
  }
  const byStart = (a: NoveltyLabel, b: NoveltyLabel): number =>
    a.start - b.start || (a.user < b.user ? -1 : a.user > b.user ? 1 : 0);

  return {
    events,
    users: users.map((u) => ({
      name: u.name,
      archetype: u.archetype,
      ...(u.joinedAt !== undefined ? { joinedAt: u.joinedAt } : {}),
      ...(u.leftAt !== undefined ? { leftAt: u.leftAt } : {}),
    })),
    incidents,
    expectedNovelty: expectedNovelty.sort(byStart),
    benignChanges: benignChanges.sort(byStart),
    meta: {
      seed: options.seed,
      shape: options.shape,
      start,
      end: t.end,
      days,
      learningDays,
      learningEnd,
      userDays: userDays.size,
      detectionUserDays: detectionUserDays.size,
      events: events.length,
      successes,
      failures: events.length - successes,
      notes,
      ...(spec.zones ? zoneSettings(spec.zones) : {}),
    },
  };
}

/** The detection settings that put a shape's people in their zones: the first zone is the deployment's. */
function zoneSettings(zones: readonly ZoneSpec[]): { timeZone: string; userTimeZones: UserTimeZone[] } {
  return {
    timeZone: zones[0]!.zone,
    userTimeZones: zones.slice(1).map((z) => ({ pattern: `${z.prefix}*`, timeZone: z.zone })),
  };
}

/** The labels of a scenario as a plain JSON-serialisable object (for `labels.json` beside a log). */
export function scenarioLabels(s: Scenario): ScenarioLabels {
  return {
    users: s.users,
    incidents: s.incidents,
    expectedNovelty: s.expectedNovelty,
    benignChanges: s.benignChanges,
    meta: s.meta,
  };
}

// ---------------------------------------------------------------------------------------------
// Population
// ---------------------------------------------------------------------------------------------

const TEAMS_BY_ARCHETYPE: Record<Archetype, readonly (readonly [Team, number])[]> = {
  office: [
    ['web', 3],
    ['dev', 3],
    ['data', 2],
    ['support', 2],
  ],
  home: [
    ['dev', 5],
    ['data', 2.5],
    ['web', 2.5],
  ],
  mobile: [
    ['sales', 7],
    ['support', 3],
  ],
  admin: [['ops', 1]],
  service: [['ops', 1]],
};

function humanNames(rng: Rng, count: number): string[] {
  const names = new Set<string>();
  while (names.size < count) names.add(`${rng.pick(FIRST_NAMES)}.${rng.pick(LAST_NAMES)}`);
  return [...names];
}

function makeUser(seed: number, name: string, archetype: Archetype, spec: ShapeSpec): SimUser {
  const rng = Rng.derive(seed, 'profile', name);
  const team = rng.weighted(TEAMS_BY_ARCHETYPE[archetype]);
  const available = TEAM_HOSTS[team].filter((h) => spec.hosts.includes(h));
  const pool = available.length > 0 ? available : ['files-01'];
  const hosts = rng.sample(pool, rng.int(1, Math.min(3, pool.length)));
  const method =
    archetype === 'mobile'
      ? rng.weighted([
          ['password', 5],
          ['keyboard-interactive/pam', 2],
          ['publickey', 3],
        ] as const)
      : archetype === 'admin' || archetype === 'service'
        ? 'publickey'
        : rng.weighted([
            ['publickey', 75],
            ['password', 20],
            ['keyboard-interactive/pam', 5],
          ] as const);
  const workStart = Math.min(10.5, Math.max(6.5, rng.normal(8.6, 0.6)));
  const carrier = archetype === 'mobile' ? rng.pick(CARRIERS) : undefined;
  return {
    name,
    archetype,
    team,
    tz: rng.weighted(spec.timeZones),
    hosts,
    method,
    workStart,
    workEnd: workStart + Math.min(10.5, Math.max(7, rng.normal(8.8, 0.5))),
    logonsPerDay: archetype === 'mobile' ? rng.range(3, 7) : rng.range(2, 6),
    // Office workers work from home some days; remote workers use the VPN to a person-specific degree.
    wfhShare: archetype === 'office' ? rng.pick([0.05, 0.1, 0.2, 0.3]) : 0,
    vpnShare: archetype === 'office' ? 0.04 : archetype === 'home' ? rng.pick([0, 0, 0.3, 0.9]) : 0,
    officeVisitShare: archetype === 'mobile' ? 0.15 : 0,
    ...(carrier ? { carrierPools: carrier.pools, homePool: rng.pick(carrier.pools) } : {}),
    firstDay: 0,
    lastDay: Number.POSITIVE_INFINITY,
    forceDaily: false,
    home: [],
  };
}

function buildPopulation(seed: number, spec: ShapeSpec): SimUser[] {
  const rng = Rng.derive(seed, 'population');
  const humans = spec.counts.office + spec.counts.home + spec.counts.mobile + spec.counts.admin + spec.newHires;
  const names = humanNames(rng, humans);
  const archetypes: Archetype[] = [];
  for (const a of ['office', 'home', 'mobile', 'admin'] as const)
    for (let i = 0; i < spec.counts[a]; i++) archetypes.push(a);
  for (let i = 0; i < spec.newHires; i++) archetypes.push(rng.weighted(spec.newHireArchetypes));
  const zones = spec.zones;
  const users = names.map((n, i) => {
    if (!zones) return makeUser(seed, n, archetypes[i]!, spec);
    // Each office's people carry its prefix (`amer-…`), the convention `userTimeZones` patterns match.
    const z = Rng.derive(seed, 'zone', n).weighted(zones.map((z) => [z, z.weight] as const));
    const u = makeUser(seed, `${z.prefix}${n}`, archetypes[i]!, spec);
    u.zone = z.zone;
    return u;
  });
  if (spec.counts.service > SERVICE_NAMES.length) throw new RangeError('not enough service account names');
  for (let i = 0; i < spec.counts.service; i++) {
    const u = makeUser(seed, SERVICE_NAMES[i]!, 'service', spec);
    u.service = makeServiceSpec(Rng.derive(seed, 'service', u.name), i, spec);
    if (zones) u.zone = zones[0]!.zone;
    users.push(u);
  }
  return users;
}

/** Fixed host, 1–4 target servers, a cron-like period each, chosen so a service logs on 12–60 times a day. */
function makeServiceSpec(rng: Rng, index: number, spec: ShapeSpec): ServiceSpec {
  const servers = spec.hosts.filter((h) => !h.startsWith('bastion'));
  const targets = rng.sample(servers, rng.int(1, 4)).map((host, _i, all) => {
    const periods = all.length === 1 ? [30, 60, 120] : all.length === 2 ? [60, 120, 240] : [120, 240];
    const periodMin = rng.pick(periods);
    return { host, periodMin, phaseMin: rng.int(0, periodMin - 1) };
  });
  return { ip: `${SERVICE_SUBNET}.${20 + index}`, targets };
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: new hires and departures
// ---------------------------------------------------------------------------------------------

function planLifecycle(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  expectedNovelty: NoveltyLabel[],
  notes: string[],
): { earlyLeavers: SimUser[] } {
  const rng = Rng.derive(seed, 'lifecycle');
  const founders = users
    .filter((u) => u.archetype !== 'service')
    .slice(0, users.length - spec.counts.service - spec.newHires);
  const hires = users.filter((u) => u.archetype !== 'service').slice(founders.length);

  for (const u of hires) {
    let day = rng.int(Math.max(1, learningDays - 2), Math.max(1, t.days - 6));
    while (t.isWeekend(day) && day + 1 < t.days) day++;
    u.firstDay = day;
    u.joinedAt = t.dayStart(day);
    expectedNovelty.push({
      kind: 'new-hire',
      user: u.name,
      start: u.joinedAt,
      end: u.joinedAt + NEW_HIRE_NOVELTY_DAYS * DAY_MS - 1,
    });
  }

  // Early leavers: active every day from day 0 to `lastDay`, then gone. The latest last day keeps a
  // 30-day silence possible before the scenario ends (the dormant returns need it).
  const candidates = rng.sample(
    founders.filter((u) => u.archetype === 'office' || u.archetype === 'home' || u.archetype === 'mobile'),
    spec.departedEarly + spec.departedMid,
  );
  const earlyLeavers = candidates.slice(0, spec.departedEarly);
  const lastDayMax = Math.max(1, Math.min(4, t.days - DORMANCY_GAP_DAYS - 2));
  if (t.days < MIN_DAYS_FOR_DORMANT_RETURN)
    notes.push(`dormant returns need days ≥ ${MIN_DAYS_FOR_DORMANT_RETURN} (got ${t.days}): none generated`);
  for (const u of earlyLeavers) {
    u.lastDay = rng.int(1, lastDayMax);
    u.leftAt = t.dayStart(u.lastDay + 1);
    u.forceDaily = true;
  }
  for (const u of candidates.slice(spec.departedEarly)) {
    const leftDay = rng.int(Math.max(2, learningDays - 3), Math.max(2, t.days - 5));
    u.lastDay = leftDay - 1;
    u.leftAt = t.dayStart(leftDay);
  }
  for (const u of users) u.lastDay = Math.min(u.lastDay, t.days - 1);
  return { earlyLeavers };
}

// ---------------------------------------------------------------------------------------------
// Home broadband: DHCP churn inside a /24, occasional ISP change to a new /16
// ---------------------------------------------------------------------------------------------

function hasHomeNet(u: SimUser, rng: Rng): boolean {
  if (u.archetype === 'service') return false;
  // Six in ten mobile workers also log on from home Wi-Fi now and then.
  return u.archetype !== 'mobile' || rng.chance(0.6);
}

function planHomeNetworks(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  benign: NoveltyLabel[],
): void {
  const changeRng = Rng.derive(seed, 'isp-changes');
  const v4Users: SimUser[] = [];
  for (const u of users) {
    const rng = Rng.derive(seed, 'home', u.name);
    if (!hasHomeNet(u, rng)) continue;
    if (rng.chance(spec.ipv6HomeShare)) {
      const isp = rng.pick(IPV6_ISPS);
      const site = rng.int(0, 0xffff).toString(16);
      const lan = (rng.int(0, 0xff) * 256 + 1).toString(16);
      u.home.push({ fromDay: 0, prefix64: `${isp}:${site}:${lan}` });
      continue;
    }
    v4Users.push(u);
  }
  // ISP changes: people present through the change, chosen before leases are laid out.
  const changers = new Map<string, number>();
  const eligible = v4Users.filter((u) => u.firstDay === 0 && u.lastDay >= learningDays + 4 && !u.forceDaily);
  for (const u of changeRng.sample(eligible, spec.ispChanges)) {
    changers.set(u.name, changeRng.int(learningDays, Math.max(learningDays, Math.min(u.lastDay, t.days - 1) - 3)));
  }

  for (const u of v4Users) {
    const rng = Rng.derive(seed, 'lease', u.name);
    let isp = rng.pick(HOME_ISPS);
    let net24 = `${rng.pick(isp.nets)}.${rng.int(0, 255)}`;
    let host = rng.int(2, 254);
    u.home.push({ fromDay: 0, ipv4: `${net24}.${host}` });
    const change = changers.get(u.name);
    // Leases change every two to five weeks; the first change may come early (the lease predates the scenario).
    const interval = rng.int(14, 35);
    let nextLease = rng.int(1, interval);
    for (let day = 1; day < t.days; day++) {
      if (day === change) {
        const old = isp;
        while (isp === old) isp = rng.pick(HOME_ISPS);
        net24 = `${rng.pick(isp.nets)}.${rng.int(0, 255)}`;
        host = rng.int(2, 254);
        const ip = `${net24}.${host}`;
        u.home.push({ fromDay: day, ipv4: ip });
        benign.push({
          kind: 'isp-change',
          user: u.name,
          start: t.dayStart(day),
          end: t.dayStart(day) + CHANGE_LABEL_DAYS * DAY_MS - 1,
          sourceIps: [ip],
        });
        nextLease = day + rng.int(14, 35);
      } else if (day === nextLease) {
        const old = host;
        while (host === old) host = rng.int(2, 254);
        const ip = `${net24}.${host}`;
        u.home.push({ fromDay: day, ipv4: ip });
        if (day <= u.lastDay)
          benign.push({
            kind: 'dhcp-churn',
            user: u.name,
            start: t.dayStart(day),
            end: t.dayStart(day) + CHANGE_LABEL_DAYS * DAY_MS - 1,
            sourceIps: [ip],
          });
        nextLease = day + interval;
      }
    }
  }
}

function homeIp(seed: number, u: SimUser, day: number): string | undefined {
  let seg: HomeSegment | undefined;
  for (const s of u.home) if (s.fromDay <= day) seg = s;
  if (!seg) return undefined;
  if (seg.ipv4) return seg.ipv4;
  // Privacy addresses rotate daily: a new address every day inside the same /64 (and /48).
  return seg.prefix64 ? ipv6PrivacyAddress(Rng.derive(seed, 'v6iid', u.name, day), seg.prefix64) : undefined;
}

// ---------------------------------------------------------------------------------------------
// Trips and vacations
// ---------------------------------------------------------------------------------------------

function planTripsAndVacations(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  t: Timeline,
  earlyLeavers: SimUser[],
  expected: NoveltyLabel[],
): void {
  const rng = Rng.derive(seed, 'trips');
  const travellers = rng.sample(
    users.filter((u) => u.archetype !== 'service' && !earlyLeavers.includes(u)),
    spec.trips,
  );
  for (const u of travellers) {
    const length = rng.int(2, 6);
    const lo = Math.max(2, u.firstDay + 3);
    const hi = Math.min(t.days - 1, u.lastDay) - length;
    if (hi < lo) continue;
    const firstDay = rng.int(lo, hi);
    const hotel = ipIn16(rng, rng.pick(TRAVEL_NETS));
    const ips = rng.chance(0.5) ? [hotel, ipIn16(rng, rng.pick(TRAVEL_NETS))] : [hotel];
    const canonical = ips.map((ip) => canonicalIp(ip) ?? ip);
    u.trip = { firstDay, lastDay: firstDay + length - 1, ips: canonical };
    expected.push({
      kind: 'travel',
      user: u.name,
      start: t.dayStart(firstDay),
      end: t.dayStart(firstDay + length) - 1,
      sourceIps: canonical,
    });
  }
  for (const u of users) {
    if (u.archetype === 'service' || u.forceDaily) continue;
    const vr = Rng.derive(seed, 'vacation', u.name);
    if (!vr.chance(spec.vacationShare)) continue;
    const from = vr.int(0, Math.max(0, t.days - 3));
    const to = from + vr.int(3, 9);
    if (u.trip && from <= u.trip.lastDay && to > u.trip.firstDay) continue;
    u.vacation = [from, to];
  }
}

// ---------------------------------------------------------------------------------------------
// Legitimate activity
// ---------------------------------------------------------------------------------------------

type Place = 'office' | 'home' | 'vpn' | 'mobile' | 'travel';

const WEEKDAY_ACTIVE: Record<Archetype, number> = { office: 0.93, home: 0.93, mobile: 0.9, admin: 0.95, service: 1 };
const WEEKEND_ACTIVE: Record<Archetype, number> = { office: 0.05, home: 0.08, mobile: 0.25, admin: 0.3, service: 1 };

function isActive(u: SimUser, day: number, t: Timeline, rng: Rng): boolean {
  if (day < u.firstDay || day > u.lastDay) return false;
  if (u.forceDaily || (u.joinedAt !== undefined && day === u.firstDay)) return true;
  if (u.vacation && day >= u.vacation[0] && day < u.vacation[1]) return false;
  if (u.trip && day >= u.trip.firstDay && day <= u.trip.lastDay) return rng.chance(0.9);
  return rng.chance(t.isWeekend(day) ? WEEKEND_ACTIVE[u.archetype] : WEEKDAY_ACTIVE[u.archetype]);
}

function dayPlace(u: SimUser, day: number, t: Timeline, rng: Rng): Place {
  if (u.trip && day >= u.trip.firstDay && day <= u.trip.lastDay) return 'travel';
  const weekend = t.isWeekend(day);
  const hasHome = u.home.length > 0;
  // A new hire's first day is at the office (or on their phone, for field staff).
  if (day === u.firstDay && u.joinedAt !== undefined)
    return u.archetype === 'mobile' ? 'mobile' : u.archetype === 'home' ? 'home' : 'office';
  switch (u.archetype) {
    case 'office':
    case 'admin': {
      if (weekend) return hasHome ? 'home' : 'vpn';
      const wfh = u.archetype === 'admin' ? 0.25 : u.wfhShare;
      const vpn = u.archetype === 'admin' ? 0.15 : u.vpnShare;
      const r = rng.next();
      if (r < wfh && hasHome) return 'home';
      if (r < wfh + vpn) return 'vpn';
      return 'office';
    }
    case 'home':
      return rng.chance(u.vpnShare) ? 'vpn' : hasHome ? 'home' : 'vpn';
    case 'mobile':
      return !weekend && rng.chance(u.officeVisitShare) ? 'office' : 'mobile';
    case 'service':
      return 'office';
  }
}

/** Local hours of `n` logons in a working day: spread over the day, thinner over lunch. */
function workHours(u: SimUser, n: number, weekend: boolean, rng: Rng): number[] {
  const hours: number[] = [];
  while (hours.length < n) {
    const h = weekend ? rng.range(9.5, 22) : rng.range(u.workStart, u.workEnd);
    if (h >= 12 && h < 13.2 && rng.chance(0.5)) continue;
    hours.push(h);
  }
  return hours.sort((a, b) => a - b);
}

/** The servers and bastions of the organisation. */
interface Estate {
  readonly servers: readonly string[];
  readonly bastions: readonly { readonly host: string; readonly ip: string }[];
}

function estateOf(spec: ShapeSpec): Estate {
  return { servers: spec.hosts.filter((h) => !h.startsWith('bastion')), bastions: BASTIONS.slice(0, spec.bastions) };
}

function generateHuman(seed: number, u: SimUser, t: Timeline, log: EventLog, estate: Estate): void {
  const rng = Rng.derive(seed, 'activity', u.name);
  let mobileIp: string | undefined;
  const carrierIp = (fresh: number): string => {
    if (!mobileIp || rng.chance(fresh)) {
      const pools = u.carrierPools ?? [];
      const pool =
        pools.length > 1 && rng.chance(0.25) ? rng.pick(pools) : (u.homePool ?? rng.pick(CARRIERS[0]!.pools));
      mobileIp = ipIn16(rng, pool);
    }
    return mobileIp;
  };

  for (let day = 0; day < t.days; day++) {
    if (!isActive(u, day, t, rng)) continue;
    const weekend = t.isWeekend(day);
    const place = dayPlace(u, day, t, rng);
    const officeIp = rng.chance(0.6) ? OFFICE_NAT[0] : OFFICE_NAT[1];
    const vpnIp = rng.pick(VPN_POOL);
    const home = homeIp(seed, u, day);
    // A phone gets a new carrier-NAT address overnight, and several times a day (cell changes, idle timeouts).
    if (u.archetype === 'mobile') mobileIp = undefined;

    const ipFor = (p: Place, hour: number): string => {
      switch (p) {
        case 'office':
          return officeIp;
        case 'vpn':
          return vpnIp;
        case 'home':
          return home ?? vpnIp;
        case 'mobile':
          // In the evening a field worker is often on home Wi-Fi.
          if (hour >= 19 && home && rng.chance(0.5)) return home;
          return carrierIp(0.75);
        case 'travel': {
          if (u.archetype === 'mobile' && rng.chance(0.5)) return carrierIp(0.75); // roaming data hairpins home
          const ips = u.trip?.ips ?? [];
          return ips.length > 1 && rng.chance(0.3) ? ips[1]! : (ips[0] ?? vpnIp);
        }
      }
    };

    if (u.archetype === 'admin') {
      generateAdminDay(u, day, place, weekend, t, log, rng, ipFor, estate);
      continue;
    }

    const n = Math.min(12, 1 + rng.poisson(Math.max(0.5, (weekend ? 0.4 : 1) * u.logonsPerDay - 1)));
    const hours = workHours(u, n, weekend, rng);
    // Now and then an evening check from home after an office day.
    if (!weekend && place === 'office' && home && rng.chance(0.1)) hours.push(rng.range(19, 23));
    for (const h of hours) {
      const p = h >= 19 && place === 'office' ? 'home' : place;
      const ip = ipFor(p, h);
      const ts = localAt(t, day, h, u) + rng.int(0, 59_999);
      const host = rng.chance(0.7) ? u.hosts[0]! : rng.pick(u.hosts);
      // Password users mistype now and then: one failure seconds before the success, same place.
      if (u.method !== 'publickey' && rng.chance(0.04))
        log.add(ts - rng.int(3, 40) * SECOND, u.name, ip, 'failure', host, u.method);
      log.add(ts, u.name, ip, 'success', host, u.method);
    }
  }
}

function generateAdminDay(
  u: SimUser,
  day: number,
  place: Place,
  weekend: boolean,
  t: Timeline,
  log: EventLog,
  rng: Rng,
  ipFor: (p: Place, hour: number) => string,
  estate: Estate,
): void {
  const bastion = rng.pick(estate.bastions);
  // An admin opens one or two sessions on the bastion, then hops from it to the servers they work on.
  const sessions = weekend ? 1 : rng.int(1, 2);
  const hours = workHours(u, sessions, weekend, rng);
  const servers = estate.servers;
  for (const h of hours) {
    const ts = localAt(t, day, h, u) + rng.int(0, 59_999);
    log.add(ts, u.name, ipFor(place, h), 'success', bastion.host, u.method);
    const hops = weekend ? rng.int(1, 4) : rng.int(2, 7);
    let tt = ts;
    for (let i = 0; i < hops; i++) {
      tt += rng.int(1, 40) * MINUTE + rng.int(0, 59_999);
      log.add(tt, u.name, bastion.ip, 'success', rng.pick(servers), u.method);
    }
  }
}

function generateService(seed: number, u: SimUser, t: Timeline, log: EventLog): void {
  const spec = u.service;
  if (!spec) return;
  const rng = Rng.derive(seed, 'cron', u.name);
  for (const target of spec.targets) {
    const period = target.periodMin * MINUTE;
    for (let ts = t.start + target.phaseMin * MINUTE; ts < t.end; ts += period) {
      // Cron fires on the minute; the SSH handshake lands a few seconds later.
      log.add(ts + rng.int(500, 8_000), u.name, spec.ip, 'success', target.host, 'publickey');
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Local time (office-hours): evening habits, on-call, trips across zones, look-alikes of misuse
// ---------------------------------------------------------------------------------------------

/** Where people fly to: a trip goes to one 6–9 hours from home, where working hours are the home zone's night. */
const TRAVEL_ZONES = [
  'America/Los_Angeles',
  'America/Chicago',
  'America/New_York',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Helsinki',
  'Asia/Dubai',
  'Asia/Singapore',
  'Asia/Tokyo',
] as const;

/** A trip across zones shifts the home-zone hours by 6 to 9 hours, daylight saving included. */
const ZONE_TRIP_MIN_SHIFT_MIN = 6 * 60;
const ZONE_TRIP_MAX_SHIFT_MIN = 9 * 60;
/** How long after a daylight-saving change everyone's logons are labelled `dst-change`. */
const DST_LABEL_DAYS = 7;

/** Whether the user is away or absent on scenario day `day` (not yet joined, left, on vacation, travelling). */
function awayOn(u: SimUser, day: number): boolean {
  return (
    day < u.firstDay ||
    day > u.lastDay ||
    (u.vacation !== undefined && day >= u.vacation[0] && day < u.vacation[1]) ||
    (u.trip !== undefined && day >= u.trip.firstDay && day <= u.trip.lastDay)
  );
}

function planLocalHabits(seed: number, h: LocalHabitsSpec, users: SimUser[]): void {
  const rng = Rng.derive(seed, 'local-habits');
  for (const u of users) {
    if ((u.archetype === 'office' || u.archetype === 'home') && rng.chance(h.eveningShare))
      u.evening = { from: rng.range(19.5, 21), share: rng.range(0.3, 0.6) };
  }
  for (const u of rng.sample(
    users.filter((u) => u.archetype === 'admin'),
    h.onCallAdmins,
  ))
    u.onCall = true;
}

/** Trips to a zone 6–9 hours away in the detection period, working that zone's hours (`travel-timezone`). */
function planZoneTrips(
  seed: number,
  h: LocalHabitsSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  earlyLeavers: readonly SimUser[],
  expected: NoveltyLabel[],
  notes: string[],
): void {
  const rng = Rng.derive(seed, 'zone-trips');
  const candidates = users.filter(
    (u) =>
      u.zone !== undefined &&
      (u.archetype === 'office' || u.archetype === 'home') &&
      !u.trip &&
      !u.evening &&
      !earlyLeavers.includes(u) &&
      u.joinedAt === undefined &&
      u.lastDay === t.days - 1,
  );
  for (const u of rng.sample(candidates, h.zoneTrips)) {
    const length = rng.int(3, 6);
    const firstDay = rng.int(learningDays, Math.max(learningDays, t.days - 2 - length));
    if (firstDay + length > t.days - 1) {
      notes.push(`no room for a trip across time zones of ${length} days`);
      continue;
    }
    const at = t.dayStart(firstDay) + 12 * HOUR;
    const home = localTime(at, u.zone!).offsetMinutes;
    const far = TRAVEL_ZONES.filter((z) => {
      const shift = Math.abs(localTime(at, z).offsetMinutes - home);
      return shift >= ZONE_TRIP_MIN_SHIFT_MIN && shift <= ZONE_TRIP_MAX_SHIFT_MIN;
    });
    if (far.length === 0) {
      notes.push(`no destination 6–9 hours from ${u.zone} for ${u.name}'s trip`);
      continue;
    }
    const zone = rng.pick(far);
    const hotel = ipIn16(rng, rng.pick(TRAVEL_NETS));
    const ips = rng.chance(0.5) ? [hotel, ipIn16(rng, rng.pick(TRAVEL_NETS))] : [hotel];
    const canonical = ips.map((ip) => canonicalIp(ip) ?? ip);
    const lastDay = firstDay + length - 1;
    u.trip = { firstDay, lastDay, ips: canonical, zone };
    // The trip replaces a vacation it would overlap.
    if (u.vacation && firstDay < u.vacation[1] && lastDay >= u.vacation[0]) delete u.vacation;
    expected.push({
      kind: 'travel-timezone',
      user: u.name,
      start: zonedInstant(t.dayStart(firstDay), zone),
      end: zonedInstant(t.dayStart(lastDay + 1), zone) - 1,
      sourceIps: canonical,
    });
  }
}

/** Regular evening sessions from home, and on-call admins paged at any hour in alternate weeks. */
function generateLocalHabits(seed: number, u: SimUser, t: Timeline, log: EventLog, estate: Estate): void {
  const rng = Rng.derive(seed, 'habits', u.name);
  const onCallParity = rng.int(0, 1);
  for (let day = 0; day < t.days; day++) {
    if (awayOn(u, day)) continue;
    const ip = homeIp(seed, u, day) ?? rng.pick(VPN_POOL);
    if (u.evening && !t.isWeekend(day) && rng.chance(u.evening.share)) {
      const n = rng.int(1, 2);
      for (let k = 0; k < n; k++) {
        const ts = localAt(t, day, u.evening.from + rng.range(0, 1.5), u) + rng.int(0, 59_999);
        log.add(ts, u.name, ip, 'success', u.hosts[0]!, u.method);
      }
    }
    if (u.onCall && Math.floor(day / 7) % 2 === onCallParity) {
      const pages = rng.poisson(1.5);
      for (let k = 0; k < pages; k++) {
        const bastion = rng.pick(estate.bastions);
        let ts = localAt(t, day, rng.range(0, 24), u) + rng.int(0, 59_999);
        log.add(ts, u.name, ip, 'success', bastion.host, u.method);
        for (let hop = rng.int(1, 3); hop > 0; hop--) {
          ts += rng.int(1, 20) * MINUTE + rng.int(0, 59_999);
          log.add(ts, u.name, bastion.ip, 'success', rng.pick(estate.servers), u.method);
        }
      }
    }
  }
}

/** Successes of `u` logged so far on local day `day` (in their zone). */
function successesOn(log: EventLog, t: Timeline, u: SimUser, day: number): LogonEvent[] {
  const from = localAt(t, day, 0, u);
  const to = localAt(t, day + 1, 0, u);
  return log.events.filter(
    (e) => e.user === u.name && e.outcome === 'success' && e.timestamp >= from && e.timestamp < to,
  );
}

/** Emit a session of logons from `first` on, minutes apart; returns their times. */
function session(
  log: EventLog,
  rng: Rng,
  u: SimUser,
  ip: string,
  first: number,
  n: number,
  gapMin: readonly [number, number],
): number[] {
  const times: number[] = [];
  let ts = first;
  for (let k = 0; k < n; k++) {
    if (k > 0) ts += rng.int(gapMin[0], gapMin[1]) * MINUTE + rng.int(0, 59_999);
    if (log.add(ts, u.name, ip, 'success', rng.pick(u.hosts), u.method)) times.push(Math.floor(ts));
  }
  return times;
}

/** Benign logons that look like off-hours misuse, in the detection period: late work and weekend deploys. */
function generateLookAlikes(
  seed: number,
  h: LocalHabitsSpec,
  users: SimUser[],
  t: Timeline,
  learningDays: number,
  log: EventLog,
  benign: NoveltyLabel[],
  notes: string[],
): void {
  const rng = Rng.derive(seed, 'look-alikes');
  const lastDay = t.days - 2;
  const people = users.filter(
    (u) => u.zone !== undefined && !u.forceDaily && (u.archetype === 'office' || u.archetype === 'home'),
  );

  // Late work: a couple of hours past the person's usual end, from where they worked that day.
  for (const u of rng.sample(
    people.filter((u) => !u.evening),
    h.lateWork,
  )) {
    let placed = false;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const day = rng.int(learningDays, lastDay);
      if (t.isWeekend(day) || awayOn(u, day)) continue;
      const hour = Math.min(23, u.workEnd + rng.range(1.5, 3));
      const first = localAt(t, day, hour, u) + rng.int(0, 59_999);
      // From where they worked that day: the address of their last logon before the session.
      const earlier = successesOn(log, t, u, day).filter((e) => e.timestamp < first);
      if (earlier.length === 0) continue;
      const ip = earlier.reduce((a, b) => (b.timestamp > a.timestamp ? b : a)).sourceIp;
      const times = session(log, rng, u, ip, first, rng.int(1, 3), [5, 40]);
      if (times.length === 0) continue;
      benign.push({
        kind: 'late-work',
        user: u.name,
        start: times[0]!,
        end: times[times.length - 1]! + HOUR,
        sourceIps: [ip],
      });
      placed = true;
    }
    if (!placed) notes.push(`no working weekday found for ${u.name}'s late work`);
  }

  // Weekend deploys: an engineer working a Saturday or Sunday daytime from home.
  for (const u of rng.sample(
    people.filter((u) => u.team === 'dev'),
    h.weekendDeploys,
  )) {
    let placed = false;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const day = rng.int(learningDays, lastDay);
      if (!t.isWeekend(day) || awayOn(u, day)) continue;
      const ip = homeIp(seed, u, day) ?? rng.pick(VPN_POOL);
      const first = localAt(t, day, rng.range(10, 15), u) + rng.int(0, 59_999);
      const times = session(log, rng, u, ip, first, rng.int(3, 8), [5, 30]);
      if (times.length === 0) continue;
      benign.push({
        kind: 'weekend-deploy',
        user: u.name,
        start: times[0]!,
        end: times[times.length - 1]! + HOUR,
        sourceIps: [ip],
      });
      placed = true;
    }
    if (!placed) notes.push(`no weekend found for ${u.name}'s deploy`);
  }
}

/**
 * Label the days after each daylight-saving change for the people in that zone: their logons keep their wall
 * clock, so in UTC they move by an hour. Labelled from a day before the change (the night of the change) to a
 * week after it, on the addresses the person already used before the change: an alert on such a logon can only
 * be about *when* it happened, while one on a new address in that week is about the address (a lease, a trip).
 */
function labelDstChanges(users: readonly SimUser[], t: Timeline, log: EventLog, benign: NoveltyLabel[]): void {
  const zones = [...new Set(users.flatMap((u) => (u.zone !== undefined && !u.service ? [u.zone] : [])))];
  for (const zone of zones) {
    let previous = localTime(t.start, zone).offsetMinutes;
    for (let at = t.start + HOUR; at < t.end; at += HOUR) {
      const offset = localTime(at, zone).offsetMinutes;
      if (offset === previous) continue;
      previous = offset;
      const start = at - DAY_MS;
      const end = at + DST_LABEL_DAYS * DAY_MS - 1;
      const people = new Set(users.filter((u) => u.zone === zone && !u.service).map((u) => u.name));
      const before = new Map<string, Set<string>>();
      const during = new Map<string, Set<string>>();
      for (const e of log.events) {
        if (e.outcome !== 'success' || !people.has(e.user) || e.timestamp > end) continue;
        const into = e.timestamp < start ? before : during;
        let ips = into.get(e.user);
        if (!ips) into.set(e.user, (ips = new Set()));
        ips.add(e.sourceIp);
      }
      for (const u of users) {
        if (!people.has(u.name)) continue;
        const known = before.get(u.name);
        const ips = [...(during.get(u.name) ?? [])].filter((ip) => known?.has(ip)).sort();
        if (ips.length > 0) benign.push({ kind: 'dst-change', user: u.name, start, end, sourceIps: ips });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Internet noise: brute-force campaigns, failures only
// ---------------------------------------------------------------------------------------------

function randomLogin(rng: Rng): string {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  let s = '';
  const n = rng.int(3, 8);
  for (let i = 0; i < n; i++) s += letters[rng.int(0, 25)];
  return rng.chance(0.3) ? `${s}${rng.int(1, 99)}` : s;
}

function generateNoise(seed: number, spec: ShapeSpec, users: SimUser[], t: Timeline, log: EventLog): void {
  const orgNames = users.filter((u) => u.archetype !== 'service').map((u) => u.name);
  for (let day = 0; day < t.days; day++) {
    const rng = Rng.derive(seed, 'noise', day);
    const campaigns = rng.poisson(spec.noiseCampaignsPerDay);
    for (let c = 0; c < campaigns; c++) {
      const ip = randomPublicIp(rng);
      const host = rng.pick(EXPOSED_HOSTS);
      const style = rng.weighted([
        ['dictionary', 70],
        ['root', 15],
        ['random', 10],
        ['targeted', 5],
      ] as const);
      const attempts = rng.chance(0.25) ? rng.int(10, 40) : rng.int(2, 8);
      let ts = t.dayStart(day) + rng.range(0, DAY_MS);
      for (let i = 0; i < attempts; i++) {
        const user =
          style === 'root' || (style === 'dictionary' && rng.chance(0.35))
            ? 'root'
            : style === 'dictionary'
              ? rng.pick(SCANNER_NAMES)
              : style === 'random'
                ? randomLogin(rng)
                : rng.pick(orgNames); // credential stuffing with leaked names: still failures
        log.add(ts, user, ip, 'failure', rng.chance(0.8) ? host : rng.pick(EXPOSED_HOSTS), 'password');
        ts += rng.range(1.5, 15) * SECOND;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Attacks
// ---------------------------------------------------------------------------------------------

interface AttackPlan {
  readonly user: string;
  readonly ip: string;
  readonly start: number;
  readonly hosts: readonly string[];
  readonly method: string;
  /** Successful logons (≥ 1). */
  readonly logons: number;
  readonly failures: number;
  /** The logons fall within this long of the first (default: drawn, minutes to hours). */
  readonly durationMs?: number;
}

/** Emit an attack's events; returns the time of its last success and the hosts it actually reached. */
function emitAttack(p: AttackPlan, rng: Rng, log: EventLog): { end: number; hosts: string[] } {
  // Failed attempts (guessing, or trying which of several stolen passwords works) in the minutes before.
  if (p.failures > 0) {
    const span = rng.range(1, 30) * MINUTE;
    const times = Array.from({ length: p.failures }, () => p.start - 1 - rng.next() * span).sort((a, b) => a - b);
    for (const ft of times) log.add(ft, p.user, p.ip, 'failure', p.hosts[0]!, 'password');
  }
  const duration = p.durationMs ?? (rng.chance(0.6) ? rng.range(2, 30) * MINUTE : rng.range(30, 300) * MINUTE);
  const times = [
    p.start,
    ...Array.from({ length: p.logons - 1 }, () => p.start + 1 + Math.floor(rng.next() * duration)),
  ].sort((a, b) => a - b);
  const reached: string[] = [];
  for (const st of times) {
    const host = rng.chance(0.6) ? p.hosts[0]! : rng.pick(p.hosts);
    if (!reached.includes(host)) reached.push(host);
    log.add(st, p.user, p.ip, 'success', host, p.method);
  }
  return { end: times[times.length - 1]!, hosts: reached };
}

/** An attack start in [lo, hi]: 60% in the victim's business hours (blending in), 40% at night. */
function attackTime(rng: Rng, t: Timeline, tz: number, lo: number, hi: number): number | undefined {
  if (hi < lo) return undefined;
  for (let i = 0; i < 50; i++) {
    const day = Math.floor((lo - t.start) / DAY_MS) + rng.int(0, Math.floor((hi - lo) / DAY_MS));
    const hour = rng.chance(0.6) ? rng.range(9, 17.5) : rng.range(0, 6);
    const ts = Math.floor(t.local(day, hour, tz) + rng.int(0, 59_999));
    if (ts >= lo && ts <= hi) return ts;
  }
  return Math.floor(lo + rng.next() * (hi - lo));
}

function attackLogons(rng: Rng): number {
  return Math.min(10, 1 + rng.poisson(2.5));
}

function generateAttacks(
  seed: number,
  spec: ShapeSpec,
  users: SimUser[],
  earlyLeavers: SimUser[],
  t: Timeline,
  learningEnd: number,
  log: EventLog,
  notes: string[],
): Incident[] {
  const rng = Rng.derive(seed, 'attacks');
  const incidents: Incident[] = [];
  const taken = new Set<string>(earlyLeavers.map((u) => u.name));
  const servers = spec.hosts.filter((h) => !h.startsWith('bastion'));
  // Attacks start an hour after learning at the earliest and end well before the scenario does.
  const lo = learningEnd + HOUR;
  const hi = t.end - 6 * HOUR;
  const usedIps = new Set<string>(log.events.map((e) => e.sourceIp));
  const freshAttackerIp = (): string => {
    for (;;) {
      const ip = canonicalIp(attackerIp(rng))!;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
  };
  const presentAt = (u: SimUser, ts: number): boolean =>
    ts >= t.dayStart(u.firstDay) &&
    ts < (u.leftAt ?? t.end) &&
    !(u.trip && ts >= t.dayStart(u.trip.firstDay) && ts < t.dayStart(u.trip.lastDay + 1));
  /** Emit the attack and label it; `describe` gets the hosts actually reached. */
  const run = (kind: IncidentKind, p: AttackPlan, describe: (hosts: string) => string): void => {
    const { end, hosts } = emitAttack(p, rng, log);
    const n = incidents.filter((i) => i.kind === kind).length + 1;
    const logons = `${p.logons} logon${p.logons === 1 ? '' : 's'}`;
    incidents.push({
      id: `${kind}-${n}`,
      kind,
      user: p.user,
      sourceIp: canonicalIp(p.ip)!,
      start: p.start,
      end,
      description: describe(`${logons} to ${hosts.join(', ')}`),
      logons: p.logons,
      failedAttempts: p.failures,
      hosts,
    });
    taken.add(p.user);
  };

  // Stolen credentials, used from hosting-like ranges no one in the organisation ever logs on from.
  for (let i = 0; i < spec.attacks['stolen-credentials']; i++) {
    const archetype = STOLEN_VICTIMS[i % STOLEN_VICTIMS.length]!;
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const pool = users.filter(
      (u) =>
        u.archetype === archetype &&
        !taken.has(u.name) &&
        presentAt(u, start) &&
        u.firstDay < t.days - 1 &&
        u.joinedAt === undefined,
    );
    if (pool.length === 0) {
      notes.push(`no ${archetype} user available for stolen-credentials #${i + 1}`);
      continue;
    }
    const u = rng.pick(pool);
    const method = u.method === 'publickey' && rng.chance(0.7) ? 'password' : u.method;
    const hosts =
      u.archetype === 'admin' ? ['bastion-01'] : rng.chance(0.7) ? u.hosts : [...u.hosts, rng.pick(servers)];
    const plan: AttackPlan = {
      user: u.name,
      ip: freshAttackerIp(),
      start,
      hosts,
      method,
      logons: attackLogons(rng),
      failures: rng.chance(0.5) ? rng.int(2, 15) : 0,
    };
    run(
      'stolen-credentials',
      plan,
      (what) =>
        `${u.name} (${u.archetype}) logs on from hosting-like ${plan.ip} with stolen credentials (${what}${plan.failures ? ` after ${plan.failures} failed attempts` : ''})`,
    );
  }

  // A departed user's account comes back after ≥ 30 days of silence.
  for (let i = 0; i < spec.attacks['dormant-return']; i++) {
    const u = earlyLeavers[i];
    if (!u || u.leftAt === undefined) {
      notes.push(`no departed user for dormant-return #${i + 1}`);
      continue;
    }
    const start = attackTime(rng, t, u.tz, Math.max(lo, u.leftAt + DORMANCY_GAP_DAYS * DAY_MS + HOUR), hi);
    if (start === undefined) {
      notes.push(
        `dormant-return #${i + 1} (${u.name}) does not fit: the scenario is too short for ${DORMANCY_GAP_DAYS} days of silence`,
      );
      continue;
    }
    const plan: AttackPlan = {
      user: u.name,
      ip: freshAttackerIp(),
      start,
      hosts: rng.chance(0.7) ? u.hosts : [rng.pick(servers)],
      method: 'password',
      logons: attackLogons(rng),
      failures: rng.chance(0.4) ? rng.int(1, 6) : 0,
    };
    const silent = Math.floor((start - u.leftAt) / DAY_MS);
    run(
      'dormant-return',
      plan,
      (what) => `${u.name}, gone for ${silent} days, logs on again from ${plan.ip} (${what})`,
    );
  }

  // Accounts the intruder created, used from a foothold inside or from their own infrastructure.
  const accountNames = rng.sample(
    ATTACKER_ACCOUNT_NAMES.filter((n) => !users.some((u) => u.name === n)),
    spec.attacks['attacker-account'],
  );
  const serviceHosts = users.flatMap((u) => (u.service ? [u.service.ip] : []));
  for (const name of accountNames) {
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const internal = rng.chance(0.5);
    const ip = internal
      ? serviceHosts.length > 0 && rng.chance(0.5)
        ? rng.pick(serviceHosts)
        : workstationIp(rng)
      : freshAttackerIp();
    const plan: AttackPlan = {
      user: name,
      ip,
      start,
      hosts: rng.sample(servers, rng.int(1, 3)),
      method: rng.chance(0.5) ? 'password' : 'publickey',
      logons: attackLogons(rng),
      failures: 0,
    };
    run(
      'attacker-account',
      plan,
      (what) =>
        `new account ${name} created by the intruder logs on from ${internal ? 'internal host ' : ''}${ip} (${what})`,
    );
  }

  // Lateral movement: a user's credentials from an internal host in a subnet they never used, to servers they do not use.
  const usedPrefixes = new Map<string, Set<string>>();
  for (const e of log.events) {
    if (e.outcome !== 'success') continue;
    const p = e.sourceIp.split('.').slice(0, 3).join('.');
    let s = usedPrefixes.get(e.user);
    if (!s) usedPrefixes.set(e.user, (s = new Set()));
    s.add(p);
  }
  for (let i = 0; i < spec.attacks['lateral-movement']; i++) {
    const start = attackTime(rng, t, spec.timeZones[0]![0], lo, hi);
    if (start === undefined) break;
    const wantService = rng.chance(0.2);
    const pool = users.filter(
      (u) =>
        (wantService ? u.archetype === 'service' : u.archetype !== 'service') &&
        !taken.has(u.name) &&
        presentAt(u, start) &&
        u.joinedAt === undefined,
    );
    if (pool.length === 0) {
      notes.push(`no user available for lateral-movement #${i + 1}`);
      continue;
    }
    const u = rng.pick(pool);
    const own = usedPrefixes.get(u.name) ?? new Set<string>();
    let ip = '';
    for (let k = 0; k < 100; k++) {
      const candidates = serviceHosts.filter((h) => h !== u.service?.ip);
      ip = !u.service && candidates.length > 0 && rng.chance(0.5) ? rng.pick(candidates) : workstationIp(rng);
      if (!own.has(ip.split('.').slice(0, 3).join('.'))) break;
    }
    const usual = new Set(u.archetype === 'admin' ? [] : u.hosts);
    const unusual = servers.filter((h) => !usual.has(h) && !(u.service?.targets.some((x) => x.host === h) ?? false));
    const hosts = rng.sample(unusual.length > 0 ? unusual : servers, rng.int(1, 3));
    const plan: AttackPlan = {
      user: u.name,
      ip,
      start,
      hosts,
      method: u.method,
      logons: attackLogons(rng),
      failures: rng.chance(0.3) ? rng.int(1, 5) : 0,
    };
    run(
      'lateral-movement',
      plan,
      (what) =>
        `${u.name} (${u.archetype}) logs on from internal host ${ip}, a subnet they never used, to servers they do not use (${what})`,
    );
  }
  // Off-hours misuse: the victim's credential used at night, local time, from the victim's own usual address
  // (their machine or connection taken over), at hours the victim has never logged on: only the hour is new.
  if (spec.attacks['off-hours'] > 0) {
    const successesOf = new Map<string, LogonEvent[]>();
    for (const e of log.events) {
      if (e.outcome !== 'success') continue;
      let list = successesOf.get(e.user);
      if (!list) successesOf.set(e.user, (list = []));
      list.push(e);
    }
    const dayLo = Math.floor((lo - t.start) / DAY_MS);
    const dayHi = Math.floor((hi - t.start) / DAY_MS);
    for (let i = 0; i < spec.attacks['off-hours']; i++) {
      let placed = false;
      for (let tries = 0; tries < 100 && !placed; tries++) {
        const pool = users.filter(
          (u) =>
            u.zone !== undefined &&
            (u.archetype === 'office' || u.archetype === 'home') &&
            !taken.has(u.name) &&
            u.joinedAt === undefined &&
            !u.forceDaily,
        );
        if (pool.length === 0) break;
        const u = rng.pick(pool);
        const zone = u.zone!;
        const start = Math.floor(localAt(t, rng.int(dayLo, dayHi), rng.range(1, 4.5), u) + rng.int(0, 59_999));
        if (start < lo || start + HOUR > hi || !presentAt(u, start)) continue;
        // The logons fall within the hour after `start`: both local hours must be ones the user never used.
        const mine = successesOf.get(u.name) ?? [];
        const first = localTime(start, zone);
        const hours = new Set(mine.map((e) => localTime(e.timestamp, zone).hour));
        if (hours.has(first.hour) || hours.has(localTime(start + HOUR, zone).hour)) continue;
        const ip = usualAddress(mine, start);
        if (ip === undefined) continue;
        const plan: AttackPlan = {
          user: u.name,
          ip,
          start,
          hosts: u.hosts,
          method: u.method,
          logons: rng.int(2, 6),
          failures: 0,
          durationMs: rng.range(10, 59) * MINUTE,
        };
        run(
          'off-hours',
          plan,
          (what) =>
            `${u.name} (${u.archetype}, ${zone}) logs on at ${clockText(first.hour, first.minute)} local time, an hour they never use, from their own usual address ${ip} (${what})`,
        );
        placed = true;
      }
      if (!placed) notes.push(`no victim and night found for off-hours #${i + 1}`);
    }
  }
  return incidents;
}

/**
 * The address a user logged on from most in the week before `before` (on a tie, the first counted), if they
 * used it on at least 3 days of it: a day's IPv6 privacy address is not a usual address.
 */
export function usualAddress(successes: readonly LogonEvent[], before: number): string | undefined {
  const counts = new Map<string, number>();
  const days = new Map<string, Set<number>>();
  for (const e of successes) {
    if (e.outcome !== 'success' || e.timestamp >= before || e.timestamp < before - 7 * DAY_MS) continue;
    counts.set(e.sourceIp, (counts.get(e.sourceIp) ?? 0) + 1);
    let d = days.get(e.sourceIp);
    if (!d) days.set(e.sourceIp, (d = new Set()));
    d.add(Math.floor(e.timestamp / DAY_MS));
  }
  let best: string | undefined;
  let most = 0;
  for (const [ip, n] of counts)
    if (n > most) {
      best = ip;
      most = n;
    }
  return best !== undefined && (days.get(best)?.size ?? 0) >= USUAL_ADDRESS_MIN_DAYS ? best : undefined;
}

const USUAL_ADDRESS_MIN_DAYS = 3;

/** An address in the workstation VLANs, which never originate SSH logons. */
function workstationIp(rng: Rng): string {
  return `10.${rng.int(WORKSTATION_VLAN_FIRST, WORKSTATION_VLAN_LAST)}.${rng.int(0, 255)}.${rng.int(2, 254)}`;
}
