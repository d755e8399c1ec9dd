/**
 * How Password Spray judges a window, written once for both its detection and its learning (which must know
 * whether the window's finding was reported, to raise a long spray once, not every day).
 */
import { bucketOf, dayOf, type Finding, type LogonObservation, type TimeWindow, type UserBaseline } from '../../model';
import { ownerText } from '../../enrich';
import { scoreFromProbability } from '../../scoring';
import {
  campaignUsers,
  failingSourceObservations,
  namesText,
  sourceObservation,
  sourcesOf,
  sprayTargets,
  SPRAY_MIN_USERS,
  userHash,
  type SourceActivity,
} from '../../failures';
import { plural } from '../detector';
import { binOf, histogramAt, remembered, type SourceLesson, type SprayEntry, type SprayState } from './state';

/**
 * Weight of the prior, in failing-source windows: the organisation's own histogram takes over once it has seen a
 * few dozen failing sources, while a new deployment is judged by the prior alone.
 */
export const PRIOR_WINDOWS = 20;
/** Real users a remembered source must have tried across windows before its memory alone makes a finding. */
export const MEMORY_MIN_USERS = 2 * SPRAY_MIN_USERS;

/**
 * The prior chance that a failing source tries at least `x` real users in a window: 1/x². One in four tries two
 * (a family, a shared desk), one in a hundred ten; the organisation's histogram replaces it as it fills.
 */
export function priorTail(x: number): number {
  return 1 / (x * x);
}

/**
 * Empirical-Bayes tail: the chance a failing source of this organisation tries at least `x` real users (for whom
 * it is not their own place) in one window, from the decayed histogram `h` with the prior worth `PRIOR_WINDOWS`.
 * The bin holding `x` counts whole (5–7 counts all its sources for x = 6): the estimate errs towards ordinary.
 */
export function tailProbability(x: number, h: readonly number[]): number {
  const total = h.reduce((a, c) => a + c, 0);
  let tail = 0;
  for (let i = binOf(x); i < h.length; i++) tail += h[i]!;
  return Math.min(1, (PRIOR_WINDOWS * priorTail(x) + tail) / (PRIOR_WINDOWS + total));
}

const BIN_LABELS = ['1', '2', '3', '4', '5–7', '8–15', '16–31', '32 or more'] as const;

/** What the histogram says usually happens: its median bin and its highest bin still holding half a source. */
export function usualText(h: readonly number[]): { usual: string; most: string } | undefined {
  const total = h.reduce((a, c) => a + c, 0);
  if (total < 1) return undefined;
  let acc = 0;
  let median = 0;
  for (let i = 0; i < h.length; i++) {
    acc += h[i]!;
    if (acc >= total / 2) {
      median = i;
      break;
    }
  }
  let most = 0;
  for (let i = 0; i < h.length; i++) if (h[i]! >= 0.5) most = i;
  return { usual: BIN_LABELS[median]!, most: BIN_LABELS[Math.max(most, median)]! };
}

/** One source's judgement: a finding (or none) and what learning keeps of it. */
interface Judged {
  readonly finding: Finding | undefined;
  readonly lesson: SourceLesson;
}

export interface JudgeInput {
  readonly observations: readonly LogonObservation[];
  readonly baselines: ReadonlyMap<string, UserBaseline>;
  readonly state: SprayState | undefined;
  readonly window: TimeWindow;
  readonly maxProbability: number;
  /** The detector's threshold: a finding at or above it is reported, and remembered as such. */
  readonly threshold: number;
  readonly detectorId: string;
}

function minutesText(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m % 60 === 0 && m >= 120 ? `${m / 60} hours` : `${m} minutes`;
}

function judgeSource(s: SourceActivity, input: JudgeInput, h: readonly number[], asSpread: boolean): Judged {
  const targets = sprayTargets(s);
  const hashes = targets.map((u) => userHash(u.name));
  const failedNames = [...s.users.values()].filter((u) => u.failures > 0);
  const obs = sourceObservation(s, s.successes > 0 ? 'success' : 'failure');
  const b = bucketOf(input.window.end);
  const mem: SprayEntry | undefined = remembered(input.state, s.key, b);
  const x = targets.length;
  const xMem = mem ? new Set([...mem.k, ...hashes]).size : x;
  const lesson = (reported: boolean): SourceLesson => ({
    key: s.key,
    hashes,
    names: failedNames.length,
    firstSeen: obs.firstSeen,
    lastSeen: obs.lastSeen,
    reported,
    // What the histogram learns is what ordinary failing sources do: not an owner's aggregate (not one source), not
    // a reported source (see learnSpray), and not one remembered trying as many real users as its memory alone
    // raises (a slow spray teaches it a few windows at most, before it is raised).
    inHistogram: !asSpread && xMem < MEMORY_MIN_USERS,
  });
  const pWindow = x >= SPRAY_MIN_USERS ? tailProbability(x, h) : 1;
  // Across windows the source had many chances to gather users: the tail is charged the square root of them.
  const span = (mem?.w ?? 0) + 1;
  const pMemory = mem && xMem >= MEMORY_MIN_USERS ? Math.min(1, tailProbability(xMem, h) * Math.sqrt(span)) : 1;
  const p = Math.min(pWindow, pMemory);
  if (p > input.maxProbability) return { finding: undefined, lesson: lesson(false) };
  // Reported on an earlier day, and not grown to twice the users it had then: the spray goes on, already known.
  const today = dayOf(obs.firstSeen);
  if (mem?.r !== undefined && mem.r < today && xMem < 2 * (mem.rk ?? 0))
    return { finding: undefined, lesson: lesson(false) };

  const score = scoreFromProbability(p);
  const { users, total } = campaignUsers(s);
  const loggedOn = [...s.users.values()]
    .filter((u) => u.successes > 0)
    .map((u) => u.name)
    .sort();
  const real = failedNames.filter((u) => u.known).length;
  const who = s.owner
    ? asSpread
      ? `${plural(s.ips.size, 'address', 'addresses')} of ${ownerText(s.owner)}`
      : `${s.key} (${ownerText(s.owner)})`
    : s.key;
  const usual = usualText(h);
  const baselineText = usual
    ? `the organisation's failing sources usually try ${usual.usual} (at most ${usual.most} in the past weeks)`
    : 'no failing source has been learned here yet, so it is judged against the prior (a failing source tries one user)';
  const byMemory = pMemory < pWindow;
  const hours = mem ? Math.max(1, Math.round(((b - mem.f) * 15) / 60)) : 0;
  const what = byMemory
    ? `${who} failed to log on as ${plural(xMem, 'real user')} here, for whom it is not a usual place, over the past ${plural(hours, 'hour')} (${x} of them in the last ${minutesText(input.window.end - input.window.start)})`
    : `${who} failed to log on as ${plural(failedNames.length, 'different user')} in ${minutesText(input.window.end - input.window.start)}, ${real} of them real users here (${x} for whom it is not a usual place)`;
  const then =
    loggedOn.length > 0
      ? ` ${loggedOn.length} of the users then logged on from it: ${namesText(loggedOn)}.`
      : ' None of them logged on from it.';
  const explanation = `${what}; ${baselineText}.${then} Probability ${p.toPrecision(2)}.`;
  const finding: Finding = {
    detectorId: input.detectorId,
    user: '',
    sourceIp: obs.sourceIp,
    sourceKey: s.key,
    observation: obs,
    outcome: loggedOn.length > 0 ? 'success' : 'failure',
    users,
    usersTotal: total,
    score,
    probability: p,
    explanation,
    evidence: {
      users_tried: failedNames.length,
      real_users_tried: real,
      spray_targets: x,
      spray_targets_recent: xMem,
      ...(mem ? { memory_hours: hours, memory_windows: span } : {}),
      users_listed: users.length,
      users_total: total,
      failures: s.failures,
      logged_on: loggedOn.slice(0, 10),
      addresses: s.ips.size,
      usual_targets_per_source: usual?.usual ?? 'none learned',
      most_targets_per_source: usual?.most ?? 'none learned',
      window_probability: Number(pWindow.toPrecision(3)),
      memory_probability: Number(pMemory.toPrecision(3)),
    },
  };
  return { finding, lesson: lesson(score >= input.threshold) };
}

/**
 * The window's findings (one per spraying source: an address, or a network owner when the spray spreads over its
 * addresses) and what learning keeps of every failing source.
 */
export function judgeWindow(input: JudgeInput): { findings: Finding[]; lessons: SourceLesson[] } {
  const b = bucketOf(input.window.end);
  // The sources judged below: those that failed, and remembered sprays that only log on now.
  const { byAddress, byOwner } = sourcesOf(
    failingSourceObservations(input.observations, (o) => remembered(input.state, o.sourceIp, b) !== undefined),
    input.baselines,
  );
  const h = histogramAt(input.state, b);
  const findings: Finding[] = [];
  const lessons: SourceLesson[] = [];
  const coveredByOwner = new Set<string>();
  for (const s of byOwner.values()) {
    if (s.ips.size < 2 || s.failures === 0) continue;
    // A spray spread over an owner's addresses: the owner tried clearly more users than its busiest address.
    const x = sprayTargets(s).length;
    const mem = remembered(input.state, s.key, b);
    const xMem = mem ? new Set([...mem.k, ...sprayTargets(s).map((u) => userHash(u.name))]).size : x;
    let mostByAddress = 0;
    for (const ip of s.ips.keys()) {
      const a = byAddress.get(ip)!;
      const ax = sprayTargets(a).length;
      const am = remembered(input.state, ip, b);
      const axMem = am ? new Set([...am.k, ...sprayTargets(a).map((u) => userHash(u.name))]).size : ax;
      mostByAddress = Math.max(mostByAddress, ax, axMem);
    }
    if (Math.max(x, xMem) < 2 * mostByAddress) {
      if (x > 0) lessons.push({ ...judgeSource(s, input, h, true).lesson, reported: false });
      continue;
    }
    const j = judgeSource(s, input, h, true);
    lessons.push(j.lesson);
    if (j.finding) {
      findings.push(j.finding);
      for (const ip of s.ips.keys()) coveredByOwner.add(ip);
    }
  }
  for (const s of byAddress.values()) {
    // A remembered spray that only logs on in this window is judged too: its alert (the same one, the same day) is
    // what the window's success alerts from it are linked to.
    if (s.failures === 0 && !remembered(input.state, s.key, b)) continue;
    const j = judgeSource(s, input, h, false);
    if (j.finding && !coveredByOwner.has(s.key)) {
      findings.push(j.finding);
      lessons.push(j.lesson);
    } else lessons.push({ ...j.lesson, reported: false });
  }
  return { findings, lessons };
}
