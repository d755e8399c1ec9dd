/**
 * The scenario shapes (population sizes, rates, time zones, attack counts) and the names, hosts and
 * constants the generator draws from.
 */
import type { Archetype, IncidentKind, ScenarioShape } from './types';

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
export const CHANGE_LABEL_DAYS = 7;

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const SECOND = 1_000;

/** Which servers a person works on. */
export type Team = 'web' | 'dev' | 'data' | 'support' | 'sales' | 'ops';

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

export const TEAM_HOSTS: Record<Team, readonly string[]> = {
  web: ['web-01', 'web-02', 'web-03', 'app-01'],
  dev: ['git-01', 'build-01', 'build-02', 'app-02', 'api-01', 'k8s-01'],
  data: ['db-01', 'db-02', 'etl-01', 'analytics-01'],
  support: ['files-01', 'app-01', 'monitor-01', 'crm-01'],
  sales: ['crm-01', 'files-01', 'mail-01'],
  ops: [],
};

/** Hosts reachable from the internet, where brute-force noise lands. */
export const EXPOSED_HOSTS = ['bastion-01', 'web-01', 'web-02', 'git-01'] as const;

export const SERVICE_NAMES = [
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
export const ATTACKER_ACCOUNT_NAMES = [
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
export const SCANNER_NAMES = [
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

export const FIRST_NAMES = [
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

export const LAST_NAMES = [
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

/** What one scenario shape holds: its people, their life events, its attacks and its estate. */
export interface ShapeSpec {
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
  /** Labelled benign failures of an exposed sshd (`internet-facing`). */
  readonly failureNoise?: FailureNoiseSpec;
}

/** How much labelled benign failure a shape has (campaigns.ts generates it). */
export interface FailureNoiseSpec {
  /** Mean internet scanners per day, every day (`ssh-background-scan`). */
  readonly scannersPerDay: number;
  /** Days on which a service account fails all day on a stale password, in the detection period. */
  readonly stalePasswords: number;
  /** Mail clients retrying an old password after a change, in the detection period. */
  readonly mailClients: number;
}

/** The campaign kinds, none: the shapes built before them. */
const NO_CAMPAIGNS = {
  'password-spray': 0,
  'low-slow-spray': 0,
  'credential-stuffing': 0,
  'brute-force-success': 0,
} as const;

/** One office's time zone, the prefix of its people's names, and its share of them. */
export interface ZoneSpec {
  readonly zone: string;
  readonly prefix: string;
  readonly weight: number;
}

/** How many of the local-time habits and look-alikes a shape has. */
export interface LocalHabitsSpec {
  /** Share of office and home workers with a regular evening session on some weekdays. */
  readonly eveningShare: number;
  /** Admins on call: sessions at any hour of the day and night in their on-call weeks. */
  readonly onCallAdmins: number;
  /** Labelled look-alikes per scenario. */
  readonly lateWork: number;
  readonly weekendDeploys: number;
  readonly zoneTrips: number;
}

export const SHAPES: Record<ScenarioShape, ShapeSpec> = {
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
      'impossible-travel': 0,
      ...NO_CAMPAIGNS,
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
      'impossible-travel': 0,
      ...NO_CAMPAIGNS,
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
      'impossible-travel': 2,
      ...NO_CAMPAIGNS,
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
  // An organisation whose sshd (and mail) faces the internet: the campaigns of failed logons after learning, and
  // the benign failures around them every day. Large enough for a spray of ~80 real users; its internet noise is
  // the labelled scanning (`failureNoise`), so `noiseCampaignsPerDay` is 0. No other attack kind: its figures are
  // about failures, and the other shapes keep theirs.
  'internet-facing': {
    counts: { office: 60, home: 30, mobile: 24, admin: 4, service: 6 },
    newHires: 3,
    newHireArchetypes: [
      ['office', 2],
      ['home', 1],
      ['mobile', 1],
    ],
    departedEarly: 2,
    departedMid: 2,
    trips: 4,
    ispChanges: 3,
    ipv6HomeShare: 0.1,
    vacationShare: 0.25,
    attacks: {
      'stolen-credentials': 0,
      'dormant-return': 0,
      'attacker-account': 0,
      'lateral-movement': 0,
      'off-hours': 0,
      'impossible-travel': 0,
      'password-spray': 2,
      'low-slow-spray': 1,
      'credential-stuffing': 1,
      'brute-force-success': 2,
    },
    noiseCampaignsPerDay: 0,
    timeZones: [[1, 1]],
    hosts: LARGE_HOSTS,
    bastions: 1,
    failureNoise: { scannersPerDay: 25, stalePasswords: 2, mailClients: 3 },
  },
};

/** Stolen credentials rotate through these victim archetypes so each is represented. */
export const STOLEN_VICTIMS: readonly Archetype[] = ['office', 'home', 'mobile', 'mobile', 'admin', 'office', 'home'];
