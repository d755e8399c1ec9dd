import type {
  EvidenceValue,
  Finding,
  LogonObservation,
  MitreTechnique,
  NetworkOwner,
  PopulationStats,
  TimeWindow,
  UserBaseline,
} from '../model';
import type { DetectionSettings, DetectorId } from '../settings';
import type { SilenceCommands } from '../alerts';
import type { HostileMatcher } from '../hostile';
import type { SliceOwner, StateSlice } from './state';

/** Everything a detector may look at. Read-only: detectors never write baselines or do I/O. */
export interface DetectorInput {
  /** A successful-logon observation from the current window. */
  readonly observation: LogonObservation;
  /** The user's baseline as it was before this run (undefined: never seen). */
  readonly baseline: UserBaseline | undefined;
  readonly population: PopulationStats;
  readonly window: TimeWindow;
  readonly settings: DetectionSettings;
  /**
   * The sources analysts marked malicious (`authwatch malicious`, the feedback item's `hostile`), compiled once per
   * run from the feedback the run reads; absent when nothing is marked or no feedback was read.
   */
  readonly hostile?: HostileMatcher;
}

/** What an alert's silence hints are about. */
export interface SilenceSubject {
  readonly user: string;
  readonly sourceIp: string;
  readonly alertId: string;
  /** The logon's time (epoch ms): the alert's `@timestamp`. NaN when a document read back holds none. */
  readonly at: number;
  /** The address's owner and country, when the network data knew them (the alert's `source.as`/`source.geo`). */
  readonly owner?: NetworkOwner;
  /** The alert's evidence, for a detector whose hints name what it found (the mark a hostile-source alert met). */
  readonly evidence?: Readonly<Record<string, EvidenceValue>>;
}

/**
 * Days a travel hint (`allow country <CC> --user <name> --until <day>`) allows after the logon: two weeks, a
 * long business trip or a holiday; the analyst shortens or extends it (allowing again replaces the day).
 */
export const TRAVEL_ALLOW_DAYS = 14;

/** The `--until` day of a travel hint for a logon at `at`, or undefined when the time is unknown. */
export function travelUntil(at: number): string | undefined {
  return Number.isFinite(at) ? isoDate(at + TRAVEL_ALLOW_DAYS * 86_400_000) : undefined;
}

/**
 * Everything a window detector may look at: the whole window at once, failures included. Read-only like
 * `DetectorInput`. Window detectors judge what no single successful logon shows: one source against many users
 * (spraying, campaigns), failures before a success, volume against its usual level.
 */
export interface WindowDetectorInput {
  /** Every observation of the window, successes and failures, enriched with owners. */
  readonly observations: readonly LogonObservation[];
  /**
   * Baselines read before the run, by user: every user with a success in the window, and the users failures named
   * (up to `MAX_FAILURE_USERS_READ` of them, most failed first): a name with a baseline is a real user here.
   */
  readonly baselines: ReadonlyMap<string, UserBaseline>;
  /** Whether the failure-named users were all read (false: some names beyond the bound were not looked up). */
  readonly allTargetsRead: boolean;
  readonly population: PopulationStats;
  readonly window: TimeWindow;
  readonly settings: DetectionSettings;
}

/** What a detector's learning sees of one user in one window. */
export interface UserLearnInput {
  readonly user: string;
  /** The user's successful-logon observations in the window (at least one). */
  readonly observations: readonly LogonObservation[];
  /** The user's baseline before the window (undefined: never seen), for what the pipeline itself keeps (activity). */
  readonly baseline: UserBaseline | undefined;
  readonly windowEnd: number;
  readonly settings: DetectionSettings;
}

/** One user's part in a window's population learning: their observations and their slice before and after it. */
export interface PopulationLearnUser<U> {
  readonly user: string;
  readonly before: U | undefined;
  readonly after: U | undefined;
}

/** What a detector's population learning sees of one window. */
export interface PopulationLearnInput<U> {
  readonly windowEnd: number;
  /** Start of the window (a catch-up chunk is 15 minutes, a scheduled window 30). */
  readonly windowStart: number;
  /** Inside the learning period (nothing alerts; what is new is discovery, not novelty). */
  readonly learning: boolean;
  readonly settings: DetectionSettings;
  /** The window's users who shape the population (allowlisted accounts learn only their own slice). */
  readonly users: readonly PopulationLearnUser<U>[];
  /**
   * Every observation of the window, successes and failures, enriched: what window detectors (failures, volume)
   * learn from. Allowlisted users' observations are left out, as from `users`.
   */
  readonly observations: readonly LogonObservation[];
  /** The baselines read before the run: of the window's successful users and of the users failures named. */
  readonly baselines: ReadonlyMap<string, UserBaseline>;
}

/**
 * A detector's own learned state: a slice of each user's baseline (`U`) and/or of the population (`P`), stored
 * under `key` with a schema and a version (see state.ts), and how a window is learned into it. Learning is pure
 * and idempotent per 15-minute bucket like the rest of the baseline: re-applying the overlapping half of the next
 * window, or a retried window, must leave the state as it was. `learn` returns its input itself when nothing
 * changed, so the user (or the population) is not rewritten for nothing.
 */
export interface DetectorState<U = unknown, P = unknown> extends SliceOwner {
  /** Storage key of the slices: short, unique among detectors, never changed once released. */
  readonly key: string;
  readonly user?: StateSlice<U> & { learn(previous: U | undefined, input: UserLearnInput): U | undefined };
  readonly population?: StateSlice<P> & {
    learn(previous: P | undefined, input: PopulationLearnInput<U>): P | undefined;
    /**
     * The population slice learns from `users` alone (never `observations` or `baselines`), and learning them in
     * parts, one after the other, is learning them at once: a run in slices then learns it slice by slice, never
     * holding every user's slices at once. Without it, `learn` is called once per window with no `users` in a run
     * of several slices (it must learn from `observations` and `baselines`), and with them in a run of one.
     */
    readonly learnsFromUsersOnly?: true;
  };
}

/** The detector's slice of a user's baseline, if it has learned one. */
export function userStateOf<U>(state: DetectorState<U, unknown>, baseline: UserBaseline | undefined): U | undefined {
  return baseline?.detectorState?.[state.key] as U | undefined;
}

/** The detector's slice of the population statistics, if it has learned one. */
export function populationStateOf<P>(state: DetectorState<unknown, P>, population: PopulationStats): P | undefined {
  return population.detectorState?.[state.key] as P | undefined;
}

/**
 * How a person reads one evidence value: `count` (a whole number, thousands grouped), `number` (two
 * significant decimals), `percent` (a 0–1 share as a percentage), `probability` (two significant digits),
 * `days`, `date`/`time` (an ISO string, shown as it is) and `text` (an untrusted string or list, shown escaped).
 */
export type EvidenceFormat = 'count' | 'number' | 'percent' | 'probability' | 'days' | 'date' | 'time' | 'text';

/** The label and format of one evidence key, for the numbers people read (the alert JSON keeps the raw key and value). */
export interface EvidenceField {
  readonly label: string;
  readonly format: EvidenceFormat;
}

/**
 * The evidence of a user's own history, which every detector with a baseline reports under the same keys: one
 * label and format for each, so an analyst reads them alike in every alert.
 */
export const USER_HISTORY_FIELDS = {
  user_first_seen: { label: 'User first seen', format: 'date' },
  user_last_seen: { label: 'User last seen', format: 'time' },
  days_active: { label: 'Days active', format: 'count' },
  known_ips: { label: 'Known addresses', format: 'count' },
} as const satisfies Readonly<Record<string, EvidenceField>>;

/**
 * A detection: a pure object with the seed rule's metadata beside its logic.
 * `evaluate` returns a finding for anything unusual enough to score (p ≤ the cut-off), with its
 * score; thresholds, allowlists, the ledger and the cap are applied by the pipeline.
 * Everything the rest of the code needs to know about one detector is a property here, so no id is written
 * outside the detector's own file (a test enforces it) and adding a detector means adding it to the registry.
 * `Id` is the detector's own id as a literal type, from which `DetectorId` (the registry's ids) is derived.
 */
export interface Detector<Id extends string = DetectorId> {
  readonly id: Id;
  readonly name: string;
  /** The rule's short name in alert texts (subjects, chat messages), e.g. `Rare user`. */
  readonly shortLabel: string;
  /** The rule's name in the CLI's alert table: at most 11 columns wide, e.g. `unusual IP`. */
  readonly columnLabel: string;
  /** Default alert threshold (0–100) of `settings.thresholds[id]`. */
  readonly defaultThreshold: number;
  /**
   * At most one alert per user per run, the one of the user's earliest logon: the alert ids of a `user`-grouped
   * detector differ by first-seen bucket, so a user whose logons span buckets would otherwise be raised twice.
   */
  readonly oneAlertPerUser: boolean;
  readonly description: string;
  /** The seed rules are low; a detector rated higher says why beside its value. */
  readonly severity: 'low' | 'medium' | 'high';
  readonly riskScore: number;
  /** The Elastic ML job (security_auth module) whose behaviour this ports; absent for a detector that ports none. */
  readonly elasticJob?: string;
  readonly references: readonly string[];
  readonly mitre: {
    readonly tactic: { readonly id: string; readonly name: string; readonly reference: string };
    readonly techniques: readonly MitreTechnique[];
  };
  /** What an analyst should check, in order. */
  readonly investigation: readonly string[];
  readonly falsePositives: readonly string[];
  /**
   * The evidence keys a person should read, in reading order, each with its label and format. Keys the
   * detector emits but does not list here stay in the alert JSON only (intermediate terms of the model).
   */
  readonly evidenceFields: Readonly<Record<string, EvidenceField>>;
  /**
   * One alert per user per window (rare user), per user and IP (unusual IP), or per source per UTC day (a
   * campaign: one address or network owner against many users; its id is the source's, `Finding.sourceKey`).
   */
  readonly groupBy: 'user' | 'user-ip' | 'source';
  /**
   * Its findings are not silenced by the allowlists (settings or feedback, for everyone or for the user): they
   * carry an analyst's explicit word about the source (a hostile mark), which a broader statement of what is
   * normal (an allowed user, range, AS or country) does not take back. Absent: allowlists silence it.
   */
  readonly overridesAllowlists?: boolean;
  /**
   * Whether an alert of this detector says its address may not be the user's (a new place, a place no one could
   * have travelled to): until it is answered (`authwatch benign`) or `suspectDays` pass, the address is a suspect
   * place of the user, neither learned as theirs nor as shared (core/baseline-update.ts, `UserBaseline.suspect`).
   * Absent: the alert is about something else (the account itself, the hour), and its address is learned as usual.
   */
  readonly marksPlaceSuspect?: boolean;
  /**
   * How a person silences this detector's alert if it is benign, most specific first, as full commands built
   * with `commands` (which fills in the table, the region and the quoting).
   */
  silence(subject: SilenceSubject, commands: SilenceCommands): string[];
  /**
   * The state this detector learns and owns, if any beyond the user's activity and places that every baseline
   * keeps. Its `evaluate` reads it with `userStateOf`/`populationStateOf`.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the registry holds detectors of different state types
  readonly state?: DetectorState<any, any>;
  /** Judge one successful logon; absent for a detector that judges whole windows only. */
  evaluate?(input: DetectorInput): Finding | null;
  /**
   * Judge the whole window (failures included): findings about sources (`groupBy: 'source'`, with `users`) or
   * about users. Absent for a detector of single logons.
   */
  evaluateWindow?(input: WindowDetectorInput): Finding[];
}

/** A detector of single successful logons: `evaluate` is there (the seed rules and those built like them). */
export type LogonDetector<Id extends string = DetectorId> = Detector<Id> & {
  evaluate(input: DetectorInput): Finding | null;
};

/** A detector of whole windows: `evaluateWindow` is there. */
export type WindowDetector<Id extends string = DetectorId> = Detector<Id> & {
  evaluateWindow(input: WindowDetectorInput): Finding[];
};

/** MITRE ATT&CK mapping shared by both seed rules: Initial Access / Valid Accounts. */
export const VALID_ACCOUNTS_MITRE: Detector['mitre'] = {
  tactic: { id: 'TA0001', name: 'Initial Access', reference: 'https://attack.mitre.org/tactics/TA0001/' },
  techniques: [
    {
      id: 'T1078',
      name: 'Valid Accounts',
      reference: 'https://attack.mitre.org/techniques/T1078/',
      subtechnique: [
        { id: 'T1078.002', name: 'Domain Accounts', reference: 'https://attack.mitre.org/techniques/T1078/002/' },
        { id: 'T1078.003', name: 'Local Accounts', reference: 'https://attack.mitre.org/techniques/T1078/003/' },
      ],
    },
  ],
};

/** Both seed rules: severity low, risk score 21. */
export const SEED_RULE_SEVERITY = 'low' as const;
export const SEED_RULE_RISK_SCORE = 21;

export function isoDate(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function pct(x: number): string {
  if (x === 0) return '0%';
  if (x < 0.001) return '<0.1%';
  return `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
}
