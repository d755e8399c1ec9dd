/**
 * The normalised data model shared by every stage. Pure types and tiny helpers only:
 * nothing here does I/O, reads the clock or imports an SDK.
 *
 * Times are epoch milliseconds (numbers) everywhere inside the core; they become ISO strings
 * only at the edges (alerts, logs, the CLI).
 */
import type { Signals } from './signals';

export type Outcome = 'success' | 'failure';

/** One authentication event, as a profile's line parser produces it from one log line. */
export interface LogonEvent {
  /** Epoch ms of the event. */
  readonly timestamp: number;
  /** Canonical user name (see each profile's canonicalisation). */
  readonly user: string;
  /** Canonical source IP (see `canonicalIp`). */
  readonly sourceIp: string;
  readonly outcome: Outcome;
  /** Host the logon landed on, if the format says. */
  readonly host?: string;
  /** How the user authenticated: `publickey`, `password`, `ConsoleLogin`, `LogonType 10`, ... */
  readonly method?: string;
  /** Profile id that produced the event (`sshd`, `cloudtrail`, ...). */
  readonly logSource: string;
  /**
   * How many logon attempts this one line stands for; absent means 1. Only a line that says it stands for several
   * sets it: rsyslog's `message repeated N times: [ ... ]` is N attempts (see the sshd profile). Aggregation sums it.
   */
  readonly count?: number;
  /** The identity provider's own risk verdict on the sign-in, when its log gives one (see `Signals`). */
  readonly signals?: Signals;
}

/**
 * Logons of one user from one source IP with one outcome inside a query window, aggregated.
 * This is exactly one row of a profile's Logs Insights query (`stats ... by user, ip, outcome`),
 * and what `aggregateEvents` produces from parsed lines locally.
 */
export interface LogonObservation {
  readonly user: string;
  readonly sourceIp: string;
  readonly outcome: Outcome;
  /** Number of logon attempts: log events, each counted as the attempts it stands for (`LogonEvent.count`). */
  readonly count: number;
  /** Epoch ms of the earliest and latest event. */
  readonly firstSeen: number;
  readonly lastSeen: number;
  /** Hosts the logons landed on (possibly only the latest, when the query can only say that). Sorted, deduplicated, bounded. */
  readonly hosts: readonly string[];
  /** Authentication methods seen, when known. */
  readonly methods: readonly string[];
  readonly logSource: string;
  /**
   * The user name the logons were logged under, when the operator's identity rules (core/identity.ts) made `user`
   * another name: `alice@corp` (Windows' `CORP\alice`) under the identity `alice`. As the profile canonicalised and
   * bounded it; absent when the two are the same, as they are without rules.
   */
  readonly loggedAs?: string;
  /**
   * Who announces the source address and where it is registered, from the offline network data (see
   * `enrichObservations`); absent when the address is private, unrouted, or no data is loaded.
   */
  readonly owner?: NetworkOwner;
  /**
   * The identity provider's risk verdicts on these logons (Entra's risk level and state, Google's `is_suspicious`),
   * each at the worst value seen; absent when the format has none or none of the logons was flagged. Shown in the
   * alert, never scored.
   */
  readonly signals?: Signals;
}

/** The network owner of an address: its autonomous system and the country the range is registered in. */
export interface NetworkOwner {
  /** Autonomous system number (`AS15169` is 15169). */
  readonly asn: number;
  /** The AS's organisation as the data names it (`GOOGLE`); empty when the data gives none. */
  readonly org: string;
  /** ISO 3166-1 alpha-2, when the data gives one. */
  readonly country?: string;
}

/** A half-open time window [start, end) in epoch ms. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/**
 * Elastic's ML jobs use 15-minute buckets; so does the schedule. One word for it in the code: a *bucket* is a
 * 15-minute slot of time (`bucketOf`), and an *active bucket* one in which a user logged on. Alert texts, for
 * people, call an active bucket an "active 15-minute period", and the names already released keep their
 * wording: the stored `periods` counters (`NoveltyCounts`), the alert evidence keys `*_periods` that subscribers
 * parse, and the `minUserBuckets` setting. Times are epoch milliseconds unless a name says otherwise
 * (`expiresAtEpochSeconds`, DynamoDB's TTL unit).
 */
export const BUCKET_MS = 15 * 60 * 1000;
/** The rule looks back 30 minutes every 15: consecutive windows overlap by one bucket so late events are not missed. */
export const LOOKBACK_MS = 30 * 60 * 1000;
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Index of the 15-minute bucket holding `t`. */
export function bucketOf(t: number): number {
  return Math.floor(t / BUCKET_MS);
}

/** Index of the UTC day holding `t`. */
export function dayOf(t: number): number {
  return Math.floor(t / DAY_MS);
}

/** The detection window ending at `end` (the schedule's time), 30 minutes long. */
export function windowEndingAt(end: number): TimeWindow {
  return { start: end - LOOKBACK_MS, end };
}

// ---------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------

/**
 * How often a value (an IP, a prefix, a network, a user name) has been seen, Elastic-`rare` style:
 * counted in 15-minute buckets, not events, with a slow exponential decay so a value unseen for
 * weeks becomes rare again.
 */
export interface SeenStats {
  /** Epoch ms first and last seen. */
  first: number;
  last: number;
  /** Decayed count of active buckets, valid as of `lastBucket`. */
  buckets: number;
  /** Bucket index in which `buckets` was last incremented (makes updates idempotent per bucket). */
  lastBucket: number;
  /** Distinct UTC days on which it was seen (not decayed). */
  days: number;
  /** UTC day index of the last counted day. */
  lastDay: number;
}

/** The three levels of place the IP detector reasons about, finest first. */
export const PLACE_LEVELS = ['ip', 'prefix', 'network'] as const;
export type PlaceLevel = (typeof PLACE_LEVELS)[number];

/** Where a baseline keeps each level's places. */
export const PLACE_MAP: Readonly<Record<PlaceLevel, 'ips' | 'prefixes' | 'networks'>> = {
  ip: 'ips',
  prefix: 'prefixes',
  network: 'networks',
};

/**
 * How often a user brings a new place, counted only once their habits have formed (the user is mature,
 * see `isUserMature`): discovering one's second network in the first days is not a habit of novelty.
 * `periods` (its stored name) is the decayed count of active buckets since maturity; each level's count is the
 * decayed number of those buckets that brought a value new at that level. A mobile user has a high `ip`
 * rate; nearly everyone has a low `network` rate.
 */
export interface NoveltyCounts {
  periods: number;
  ip: number;
  prefix: number;
  network: number;
  /**
   * The country level's denominator: the decayed count of active buckets with a known network owner since the
   * user's owner knowledge matured (`isOwnerKnowledgeMature`). Absent until then (and in every item written
   * before owners were learned), so a user without it is judged exactly as before.
   */
  ownerPeriods?: number;
  /** Of `ownerPeriods`, the buckets that brought a country new to the user. */
  country?: number;
  /**
   * Of `ownerPeriods`, the buckets that brought a network new at the owner level: an AS new to the user (a new /16
   * of a known AS is not), or a new /16 without an owner. The network level's rate once owner knowledge matured;
   * `network` keeps counting new /16s as it always has, the rate of everyone judged before that.
   */
  ownerNetwork?: number;
}

/** The key of a network owner in the owner maps and the network sketch: `AS64498`. */
export function ownerKey(owner: NetworkOwner): string {
  return `AS${owner.asn}`;
}

/**
 * Per-user baseline: `pk = USER#<name>` in DynamoDB.
 * Bounded: at most `limits.maxIps` IPs (least recently seen evicted first) and likewise for prefixes
 * and networks, so an item stays far below DynamoDB's 400 KB item limit. Novelty counters are kept
 * separately from the maps so evicting an IP does not make the user look more stable than they are.
 */
export interface UserBaseline {
  readonly user: string;
  /** The user's activity itself (successful logons), in buckets and days. */
  activity: SeenStats;
  /** Known source IPs, keyed by canonical IP. */
  ips: Record<string, SeenStats>;
  /** Known /24 (IPv4) or /48 (IPv6) prefixes. */
  prefixes: Record<string, SeenStats>;
  /** Known /16 (IPv4) or /32 (IPv6) networks: the scale of an ISP's or carrier's pool. */
  networks: Record<string, SeenStats>;
  /** The user's own novelty rate: see `NoveltyCounts`. */
  novelty: NoveltyCounts;
  /**
   * Known network owners (autonomous systems, `ownerKey`), from the enrichment: the organisation-level network
   * where the data knows it, so a carrier's pool spread over many /16s is one network. Absent in baselines learned
   * before owners were (their `networks` still judge as before).
   */
  owners?: Record<string, SeenStats>;
  /** Known countries (ISO 3166-1 alpha-2) of the user's sources' networks; absent like `owners`. */
  countries?: Record<string, SeenStats>;
  /**
   * The user's active buckets and days in which the owner of a logon's source was known: how long owners and
   * countries have been learned, hence whether `countries` can be trusted yet (`isOwnerKnowledgeMature`).
   */
  ownerActivity?: SeenStats;
  /**
   * The user's logons from hosting or cloud providers' networks (network-data/hosting.ts): absent for a user
   * never seen on one, for whom a new hosting network is more surprising.
   */
  hostingActivity?: SeenStats;
  /**
   * Slices of learned state owned by individual detectors, by the detector's state key (see
   * detectors/state.ts). Absent when no detector has learned anything about the user yet.
   */
  detectorState?: Readonly<Record<string, unknown>>;
  /**
   * Suspect places: addresses an alert was raised on for this user and that nobody has answered yet
   * (core/baseline-update.ts), keyed like the shared-egress sketch (`sharedAddressKey`: the IPv4 address, an IPv6
   * address's /64, so a device's daily privacy addresses are one place). Such a place is not learned as the user's,
   * nor shared for the population, until `authwatch benign` answers it or `suspectDays` pass. Bounded
   * (`MAX_SUSPECT_PER_USER`); absent when there is none (and in every item written before it existed).
   */
  suspect?: Record<string, SuspectPlace>;
  /** Optimistic-concurrency version: 0 for a user not yet stored. Incremented by the store on each write. */
  version: number;
}

/** An address an alert was raised on for a user, not yet answered: see `UserBaseline.suspect`. */
export interface SuspectPlace {
  /** The alert that made it suspect (its follow-ups name it). */
  readonly alertId: string;
  /** The detector that raised it. */
  readonly detectorId: string;
  /** The address of the latest logon counted (canonical): what is learned when the place is answered or expires. */
  readonly ip: string;
  /** Epoch ms of that alert's logon (its `@timestamp`): `suspectDays` count from here. */
  readonly since: number;
  /** Epoch ms of the latest logon from the address counted so far. */
  readonly last: number;
  /**
   * Logons from the address since the alert's own (a lower bound: a window overlapping the last counted logon
   * adds one, since a window's logons are counted together and the overlap's share of them is not known).
   */
  readonly logons: number;
  /** The address's owner when the alert was raised, learned with the place when it is answered or expires. */
  readonly owner?: NetworkOwner;
}

/** Epoch ms from which a suspect place is learned like any place (`suspectDays` after its alert's logon). */
export function suspectUntil(p: Pick<SuspectPlace, 'since'>, suspectDays: number): number {
  return p.since + suspectDays * DAY_MS;
}

/**
 * Logons of `o` after `last` (a suspect place's last counted logon): all of them when it starts after it, none when
 * it ends by then, and one (at least one, the one at `lastSeen`) when it straddles it.
 */
export function logonsAfter(o: Pick<LogonObservation, 'firstSeen' | 'lastSeen' | 'count'>, last: number): number {
  if (o.lastSeen <= last) return 0;
  return o.firstSeen > last ? o.count : 1;
}

/** One heavy-hitter counter of a Space-Saving sketch. */
export interface SketchCounter {
  /** Estimated count (an over-estimate by at most `error`). */
  count: number;
  error: number;
  /** Epoch ms last incremented. */
  last: number;
}

/**
 * Population statistics: `pk = POP#stats`. Everything the detectors need to know about the
 * organisation as a whole, in one bounded item read once per run.
 */
export interface PopulationStats {
  /** Decayed count of (user, bucket) activity: the denominator of the new-user rate. */
  userBuckets: number;
  /** Decayed count of never-seen users logging on successfully. */
  newUsers: number;
  /** Decayed count of users returning after at least `dormantDays` of silence. */
  dormantReturns: number;
  /** Bucket index at which the decayed counters above are valid. */
  lastBucket: number;
  /** Users ever stored (not decayed). */
  knownUsers: number;
  /**
   * Distinct users per place, for shared egress (office NAT, VPN): Space-Saving top-K sketches over the
   * stream of "a user's first logon from this place". Keyed by canonical IP / prefix.
   */
  sharedIps: Record<string, SketchCounter>;
  sharedPrefixes: Record<string, SketchCounter>;
  /**
   * The same for networks: whether anyone in the organisation has used a network at all. Keyed by the owner's AS
   * (`ownerKey`) where the enrichment knows it, else by the /16 (IPv6 /32); items learned before owners were hold
   * /16 keys only, which fade with the half-life while the AS keys fill in (readers take the larger of the two).
   */
  sharedNetworks?: Record<string, SketchCounter>;
  /** The same per country (ISO 3166-1 alpha-2); absent in items written before owners were learned. */
  sharedCountries?: Record<string, SketchCounter>;
  /**
   * How often mature users bring a new place, pooled over the whole population and decayed like the
   * counters above: of `periods` active buckets of users whose habits had formed, in how many a user logged
   * on from a new address / subnet / network, and from a new address inside a subnet they already used.
   * The prior of every user's own novelty rate (empirical Bayes), and the floor for in-subnet address churn
   * (DHCP lease changes are a property of ISPs, not of one user). Absent in items written before it existed.
   */
  placeNovelty?: PopulationNovelty;
  /**
   * End of the window whose run last wrote these statistics (absent in items written before it existed). A run
   * writes the population first, then the users, then the watermark: the retry of that very window that finds
   * its end here knows its alerts were all delivered and its population contributions counted, and only
   * finishes the users (idempotent per bucket) and the watermark. Re-applying the window to the population
   * would count its new users and places twice; recomputing it after some users were saved would count them
   * not at all. Only the same window: an operator's replay of an older one is a new run.
   */
  learnedWindowEnd?: number;
  /** Where that window started (a catch-up chunk is 15 minutes, a scheduled window 30), to finish it as it was. */
  learnedWindowStart?: number;
  /** Detectors' own population slices, by state key (see detectors/state.ts). */
  detectorState?: Readonly<Record<string, unknown>>;
  version: number;
}

export interface PopulationNovelty extends NoveltyCounts {
  ipInKnownPrefix: number;
  /** New networks (of `network`) that no one in the organisation had used before. */
  networkOrgNovel?: number;
  /** New networks (of `network`) whose owner was known: the denominator of the hosting share. */
  networkOwned?: number;
  /** Of `networkOwned`, those of a hosting or cloud provider. */
  networkHosting?: number;
  /*
   * `ownerPeriods`, `country` and `ownerNetwork` (from `NoveltyCounts`): the pooled rates of new countries and of
   * networks new at the owner level, over buckets of users whose owner knowledge had matured. `networkOwned` and
   * `networkHosting` count those new networks too. All absent in items written before owners were learned.
   */
}

/** Run state: `pk = META#state`. */
export interface RunState {
  /** Window end of the first run: the global learning period counts from here. */
  firstWindowEnd: number;
  /** End of the last window whose run completed. */
  lastWindowEnd: number;
  /** Epoch ms up to which history was primed by backfill (learning counts as served for it). */
  backfilledFrom?: number;
  /**
   * The watermark as the last catch-up run left it (the end of its last backlog chunk, see `planCatchUp`). While
   * `lastWindowEnd` still equals it, the next run resumes exactly there, without re-reading a bucket for late logs.
   */
  catchUpWatermark?: number;
  /**
   * Ranges of logons the scheduled runs never analysed: older than `maxBacklogDays` when a run caught up after
   * an outage. Sorted, merged, bounded (`MAX_SKIPPED_RANGES`); `authwatch backfill --alerts` analyses them and
   * removes what it analysed.
   */
  skipped?: TimeWindow[];
  version: number;
}

/**
 * The run lease: `pk = META#lease`. At most one run delivers and learns at a time; a second run (a duplicate
 * invocation of the schedule, a second deployment on the same table, an operator's replay) that finds the
 * lease held does not deliver what the first is delivering. Expires by itself, so a run that died holding
 * it blocks others only until `expiresAtMs`.
 */
export interface RunLease {
  /** Who holds it: unique per run attempt (two attempts of the same window are two owners). */
  readonly owner: string;
  /** Epoch ms after which the lease is free for anyone. */
  readonly expiresAtMs: number;
}

/** A user name or `*` glob an analyst allowed (`authwatch allow user`). */
export interface AllowedUser {
  /** Exact name or `*` glob, matched case-insensitively like the `allowUsers` setting. */
  readonly pattern: string;
  /** Epoch ms it was added. */
  readonly addedAt: number;
  /**
   * Epoch ms from which the entry no longer applies (`--until 2026-12-18` is the start of 2026-12-19 UTC): it
   * allows logons before this time only. Absent = for good. An expired entry stays until removed, shown as such.
   */
  readonly expiresAt?: number;
  readonly note?: string;
}

/** A source range an analyst allowed (`authwatch allow cidr`), for everyone or for one user only. */
export interface AllowedCidr {
  /** Canonical CIDR text (`203.0.113.0/24`, `2001:db8::/48`). */
  readonly cidr: string;
  /** Only this user's logons from the range are allowed; absent = every user's. */
  readonly user?: string;
  readonly addedAt: number;
  /** As `AllowedUser.expiresAt`. */
  readonly expiresAt?: number;
  readonly note?: string;
}

/** A network an analyst allowed by its AS (`authwatch allow asn`), for everyone or for one user only. */
export interface AllowedAsn {
  /** The AS number (`AS64496` is 64496), matched against the logon's `NetworkOwner.asn`. */
  readonly asn: number;
  /** Only this user's logons are allowed (exact name, as `AllowedCidr.user`); absent = every user's. */
  readonly user?: string;
  readonly addedAt: number;
  /** As `AllowedUser.expiresAt`. */
  readonly expiresAt?: number;
  readonly note?: string;
}

/** A country an analyst allowed (`authwatch allow country`), for everyone or for one user only. */
export interface AllowedCountry {
  /** ISO 3166-1 alpha-2, upper case, matched against the logon's `NetworkOwner.country`. */
  readonly country: string;
  /** Only this user's logons are allowed (exact name, as `AllowedCidr.user`); absent = every user's. */
  readonly user?: string;
  readonly addedAt: number;
  /** As `AllowedUser.expiresAt` ("alice travels in Japan until 2026-12-18"). */
  readonly expiresAt?: number;
  readonly note?: string;
}

/**
 * A source an analyst marked malicious (`authwatch malicious <alert-id>`): the alert's address, its /24 (IPv6 /48),
 * or its network owner's AS. Every later successful logon from it, by any user, raises the hostile-source alert.
 */
export interface HostileEntry {
  /** `ip`: one address; `cidr`: a range; `asn`: every address the offline network data gives to this AS. */
  readonly kind: 'ip' | 'cidr' | 'asn';
  /** Canonical text: an address (`203.0.113.7`), a range (`203.0.113.0/24`) or an AS number (`64496`). */
  readonly value: string;
  /** The alert the analyst judged (its id in the ledger), named in the hostile-source alerts. */
  readonly alertId: string;
  /** Epoch ms it was marked: only logons from then on are judged by it. */
  readonly addedAt: number;
  readonly note?: string;
}

/**
 * Analyst feedback: `pk = META#feedback`. Allowlists written from the command line against the deployed
 * table (or a local store) and honoured by the next run, alongside the settings' `allowUsers`/`allowCidrs`/
 * `allowAsns`/`allowCountries`. Version-checked like run state, so two analysts editing at once never lose an
 * entry silently. The AS and country lists, and the hostile marks, came later: absent in items written before them
 * (read as empty).
 */
export interface Feedback {
  allowUsers: AllowedUser[];
  allowCidrs: AllowedCidr[];
  allowAsns?: AllowedAsn[];
  allowCountries?: AllowedCountry[];
  /** Sources marked malicious (`authwatch malicious`); absent in items written before them (read as none). */
  hostile?: HostileEntry[];
  version: number;
}

export function emptyFeedback(): Feedback {
  return { allowUsers: [], allowCidrs: [], version: 0 };
}

/** Alert ledger entry: `pk = ALERT#<id>`, with a TTL. A conditional put decides whether an alert is new. */
export interface LedgerEntry {
  readonly id: string;
  readonly detectorId: string;
  readonly user: string;
  readonly sourceIp?: string;
  /** Epoch ms the alert was raised (the window end). */
  readonly raisedAtMs: number;
  /** Epoch seconds after which DynamoDB TTL may delete the entry. */
  readonly expiresAtEpochSeconds: number;
  /** Set when reading back: the stored user name was cut to bound the item, so `user` is only its beginning. */
  readonly userTruncated?: boolean;
  /**
   * The alert document (ECS JSON) exactly as it was delivered, for `authwatch show <alert-id>`; bounded in size
   * by the store (absent on entries written before it was kept, or when it could not be kept).
   */
  readonly document?: string;
}

export function emptyPopulation(): PopulationStats {
  return {
    userBuckets: 0,
    newUsers: 0,
    dormantReturns: 0,
    lastBucket: 0,
    knownUsers: 0,
    sharedIps: {},
    sharedPrefixes: {},
    sharedNetworks: {},
    placeNovelty: { periods: 0, ip: 0, prefix: 0, network: 0, ipInKnownPrefix: 0, networkOrgNovel: 0 },
    version: 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Findings and alerts
// ---------------------------------------------------------------------------------------------

/** A primitive value for the numbers behind a finding. */
export type EvidenceValue = string | number | boolean | readonly string[];

/** One user in a finding about a source (a campaign): what the source did with that account in the window. */
export interface CampaignUser {
  readonly name: string;
  /** Failed logons from the source for this user. */
  readonly failures: number;
  /** Successful logons from the source as this user. */
  readonly successes: number;
  /** Whether the name is a real user here (has a baseline): spraying real names is the signal, not `root`/`admin`. */
  readonly known: boolean;
}

/** What a detector returns for one observation it finds unusual (before thresholds, ledger and cap). */
export interface Finding {
  readonly detectorId: string;
  /** The user the finding is about; empty for a finding about a source (`users` lists its users). */
  readonly user: string;
  /** The IP the finding is about (the observation's IP; for a source finding, the source's busiest address). */
  readonly sourceIp: string;
  /**
   * The observation that triggered it: a successful logon for per-logon detectors; for a window detector, the
   * observation that best stands for the finding (for a source, an aggregate over its observations: first and
   * last seen, total count, owner).
   */
  readonly observation: LogonObservation;
  /**
   * For a finding about a source (`Detector.groupBy: 'source'`): the users it named, most failed first, bounded
   * by the detector. Absent for a finding about one user.
   */
  readonly users?: readonly CampaignUser[];
  /** For a finding about a source: how many users it named in all (`users` lists at most the detector's bound). */
  readonly usersTotal?: number;
  /**
   * For a finding about a source: what identifies the source, its address or its network owner (`AS64500`, when
   * the finding is about an owner's many addresses); the alert id is built from it. Default: `sourceIp`.
   */
  readonly sourceKey?: string;
  /** The outcome of the logons the finding is about (default `success`): a spray is about failures. */
  readonly outcome?: Outcome;
  /** 0–100. */
  readonly score: number;
  /** Probability of this much novelty under the model (lower = more unusual). */
  readonly probability: number;
  /** One plain sentence built from the numbers in `evidence`. */
  readonly explanation: string;
  /** The numbers behind the score, named so a person can check them. */
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  /**
   * The id of the alert this finding follows up (a later logon from a place that alert made suspect, see
   * `UserBaseline.suspect`, core/suspect.ts): its alert id is derived from that id alone, so the ledger lets one
   * follow-up through per alert however many windows and days see the place used again.
   */
  readonly followUpOf?: string;
}

export interface MitreTechnique {
  readonly id: string;
  readonly name: string;
  readonly reference: string;
  readonly subtechnique?: readonly { id: string; name: string; reference: string }[];
}

/** ECS-flavoured alert document: what SNS subscribers, the CLI and the ledger see. */
export interface Alert {
  /** Deterministic: same detector, user, place and first-seen bucket give the same id. */
  readonly id: string;
  /** ISO time of the first logon of the triggering observation. */
  readonly '@timestamp': string;
  readonly rule: {
    readonly id: string;
    readonly name: string;
    readonly description: string;
    readonly severity: 'low' | 'medium' | 'high' | 'critical';
    readonly risk_score: number;
    readonly threshold: number;
    readonly references: readonly string[];
    readonly threat: {
      readonly framework: 'MITRE ATT&CK';
      readonly tactic: { readonly id: string; readonly name: string; readonly reference: string };
      readonly technique: readonly MitreTechnique[];
    };
  };
  readonly event: {
    readonly kind: 'alert';
    readonly category: readonly ['authentication'];
    /** The outcome of the logons the alert is about: `failure` for an alert on failed logons alone (a spray). */
    readonly outcome: Outcome;
    readonly count: number;
  };
  /** The user; the name is empty for an alert about a source (a campaign), whose users are in `campaign.users`. */
  readonly user: { readonly name: string };
  /**
   * ECS `related.user`: every user the alert is about, for an alert about a source; for a per-user alert whose
   * logons were logged under another name than the identity in `user.name` (identity rules), that identity and
   * the name as logged (`LogonObservation.loggedAs`, read back by `loggedAsOf`).
   */
  readonly related?: { readonly user: readonly string[] };
  /**
   * Campaigns: on an alert about a source, its users (with what the source did with each) and the ids of the
   * per-user alerts folded into it or linked to it; on a per-user alert that belongs to a campaign, the campaign
   * alert's id (`of`).
   */
  readonly campaign?: {
    readonly of?: string;
    /** What the campaign is about: its address, or its network owner (`AS64500`) when it spans the owner's addresses. */
    readonly source?: string;
    readonly users?: readonly CampaignUser[];
    /** How many users the source named in all, when `users` lists only the first of them. */
    readonly total?: number;
    /** Per-user alerts delivered on their own and linked to this campaign (higher severity than the campaign). */
    readonly linked?: readonly string[];
    /**
     * Alerts folded into this one, recorded as raised with it, not delivered one by one: a campaign's per-user
     * alerts; or, on a per-user alert, the `low` alerts on the same logon (same user and address) of that run.
     */
    readonly folded?: readonly string[];
  };
  /**
   * The source address, with its network owner (`as`) and the country its range is registered in (`geo`), ECS
   * names, when the offline network data knows the address; absent (never empty) otherwise. `as.organization` is
   * absent when the data names no organisation for the AS.
   */
  readonly source: {
    readonly ip: string;
    readonly as?: { readonly number: number; readonly organization?: { readonly name: string } };
    readonly geo?: { readonly country_iso_code: string };
  };
  readonly host: { readonly name?: string; readonly names: readonly string[] };
  readonly score: number;
  readonly probability: number;
  readonly explanation: string;
  readonly evidence: Readonly<Record<string, EvidenceValue>>;
  /** Logon context from the same window: failed attempts from the same IP, other IPs of the user. */
  readonly context: {
    readonly failed_attempts_from_ip: number;
    readonly other_ips_in_window: readonly string[];
    readonly methods: readonly string[];
    /** The identity provider's risk verdicts on the logons (`LogonObservation.signals`); absent when there are none. */
    readonly signals?: Signals;
  };
  readonly window: { readonly start: string; readonly end: string };
  readonly log_source: string;
  /** What to check, from the seed rule's investigation guide. */
  readonly investigation: readonly string[];
  readonly false_positives: readonly string[];
  /** Commands that would silence this alert if it is benign. */
  readonly silence: readonly string[];
  /**
   * The id of the alert this one follows up (`Finding.followUpOf`): the user logged on again from a place that alert
   * left suspect, unanswered. Absent on every other alert.
   */
  readonly follow_up_of?: string;
}

/** What one run hands the alert sink. */
export interface AlertBatch {
  readonly runId: string;
  readonly window: TimeWindow;
  /** Alerts to deliver, highest score first, at most the per-run cap. */
  readonly alerts: readonly Alert[];
  /** Alerts that were above threshold but cut by the per-run cap (for the digest; not delivered one by one). */
  readonly cut: readonly Alert[];
}

/** What the sink managed to deliver. Only `delivered` ids are marked raised in the ledger. */
export interface PublishReport {
  readonly delivered: readonly string[];
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
  /** Whether the per-run messages (the digest, the cut card; if any) were delivered. */
  readonly digestDelivered: boolean;
  /** Alert id → its document (ECS JSON) exactly as delivered, for the ledger; absent: the alert serialized as it is. */
  readonly documents?: Readonly<Record<string, string>>;
}
