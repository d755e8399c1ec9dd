/**
 * The labelled scenario generator: a synthetic organisation's logons over several weeks, with the ground
 * truth of the attacks hidden in them and of the legitimate novelty around them. It feeds both the
 * `npm start` demo and `npm run eval`, so it aims at realism where a detector's figures depend on it:
 * shared egress, DHCP and carrier-NAT churn, travel, new hires, departures, service accounts, admins
 * behind bastions, internet brute-force noise, and a weekday/diurnal rhythm. See `README.md` beside
 * this file for the population, the rates and why.
 *
 * Pure and deterministic: same options → byte-identical output (seeded PRNG streams, no clock).
 *
 * This file composes the steps and is the public entry (types from types.ts); the parts, by job: shapes.ts
 * (what each shape holds), world.ts (the people's model, local time, the log), population.ts (accounts and life
 * events), activity.ts (legitimate logons, look-alikes, internet noise), attacks.ts (incidents), campaigns.ts
 * (campaigns of failed logons and the benign failures of an exposed sshd).
 */
import { DAY_MS } from '../../shared/core/model';
import type { UserTimeZone } from '../../shared/core/local-time';
import { hash32 } from './random';
import type { NoveltyLabel, Scenario, ScenarioLabels, ScenarioOptions } from './types';
import { DEFAULT_DAYS, DEFAULT_LEARNING_DAYS, DEFAULT_START, SHAPES, type ZoneSpec } from './shapes';
import { EventLog, Timeline } from './world';
import { buildPopulation, planHomeNetworks, planLifecycle, planTripsAndVacations } from './population';
import {
  estateOf,
  generateHuman,
  generateLocalHabits,
  generateLookAlikes,
  generateNoise,
  generateService,
  labelDstChanges,
  planLocalHabits,
  planZoneTrips,
} from './activity';
import { generateAttacks, generateTravelAttacks } from './attacks';
import { generateCampaigns, generateFailureNoise } from './campaigns';

export * from './types';
export {
  DEFAULT_DAYS,
  DEFAULT_LEARNING_DAYS,
  DEFAULT_START,
  DORMANCY_GAP_DAYS,
  MIN_DAYS_FOR_DORMANT_RETURN,
  NEW_HIRE_NOVELTY_DAYS,
} from './shapes';

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
  generateNoise(seed, spec, users, t, log, expectedNovelty);
  if (spec.failureNoise)
    generateFailureNoise(seed, spec, spec.failureNoise, users, t, learningDays, log, benignChanges, notes);
  const incidents = generateAttacks(seed, spec, users, lifecycle.earlyLeavers, t, learningEnd, log, notes);
  const victims = new Set(incidents.map((i) => i.user));
  incidents.push(...generateTravelAttacks(seed, spec, users, t, learningEnd, log, victims, notes));
  incidents.push(...generateCampaigns(seed, spec, users, t, learningEnd, log, notes));

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
