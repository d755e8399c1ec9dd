/**
 * Auth.FailuresThenSuccess — brute force that succeeded: a user logged on successfully from a source that had
 * failed repeatedly for that user (in this window, or in the past day), or from a source that was spraying
 * (failing as several real users, now or in the past two days). The most valuable alert of the failure family:
 * the attempt worked.
 *
 * How much the failures weigh depends on where they came from (core/failures.ts `placeKnowledge`): from the
 * user's own known address they barely count and can never alert alone (a mail client retrying a changed
 * password from home all afternoon); from a known subnet little; from a new address on a network the user uses,
 * half; from a network new to the user, fully; from a network no one here uses or a hosting provider's, one and a
 * half. The probability is ½ per weighted failure: seven failures from a new network then a success score 78, two
 * mistypes then a success nothing. A spraying source always counts (at most p = 0.001, score 94).
 */
import { hostCidr } from '../../net';
import { ownerText } from '../../enrich';
import {
  failingSourceObservations,
  isSpraying,
  placeKnowledge,
  sourcesOf,
  sprayTargets,
  type PlaceKnowledge,
  type SourceActivity,
} from '../../failures';
import { bucketOf, ownerKey, type Finding, type LogonObservation } from '../../model';
import { hostingReason } from '../../network-data/hosting';
import { networkUsers } from '../../population';
import { scoreFromProbability } from '../../scoring';
import { CREDENTIAL_ACCESS, bruteForce } from '../credential-access';
import {
  VALID_ACCOUNTS_MITRE,
  plural,
  populationStateOf,
  type DetectorState,
  type WindowDetector,
  type WindowDetectorInput,
} from '../detector';
import {
  FAILURE_MEMORY_VERSION,
  failureMemorySchema,
  learnFailureMemory,
  rememberedPair,
  rememberedSprayer,
  type FailureMemory,
} from './state';

/** Weight of one failure by where it came from, and the most the failures from there can weigh together. */
export const FAILURE_WEIGHT: Readonly<Record<PlaceKnowledge | 'novel', { weight: number; cap: number }>> = {
  // The user's own address or subnet: at most p = ½³ and ½^4.5 (0.044, above the 0.035 cut-off): never alone.
  address: { weight: 0.05, cap: 3 },
  subnet: { weight: 0.15, cap: 4.5 },
  network: { weight: 0.5, cap: Number.POSITIVE_INFINITY },
  new: { weight: 1, cap: Number.POSITIVE_INFINITY },
  // A network no one here uses, or a hosting provider's: where attacks come from.
  novel: { weight: 1.5, cap: Number.POSITIVE_INFINITY },
};
/** The probability of a success from a spraying source, at most: score 94, whatever the failures for the user. */
export const SPRAYING_PROBABILITY = 0.001;

const PLACE_TEXT: Readonly<Record<PlaceKnowledge | 'novel', string>> = {
  address: 'it is their own known address',
  subnet: 'it is in a subnet they use',
  network: 'it is a new address on a network they use',
  new: 'the network is new to them',
  novel: 'the network is new to them and to everyone here (or a hosting provider’s)',
};

const failureMemory: DetectorState<never, FailureMemory> = {
  key: 'bfs',
  population: {
    version: FAILURE_MEMORY_VERSION,
    schema: failureMemorySchema,
    learn: (previous, { observations, baselines, windowEnd }) =>
      learnFailureMemory(previous, observations, baselines, windowEnd),
  },
};

function sprayingNow(s: SourceActivity, owners: ReadonlyMap<string, SourceActivity>): number {
  const own = isSpraying(s) ? sprayTargets(s).length : 0;
  const o = s.owner ? owners.get(ownerKey(s.owner)) : undefined;
  const byOwner = o && o.ips.size >= 2 && isSpraying(o) ? sprayTargets(o).length : 0;
  return Math.max(own, byOwner);
}

function judgeUser(
  s: SourceActivity,
  name: string,
  input: WindowDetectorInput,
  memory: FailureMemory | undefined,
  sprayingInWindow: number,
): Finding | null {
  const { baselines, population, window, settings } = input;
  const u = s.users.get(name)!;
  const success = s.observations.find((o) => o.user === name && o.outcome === 'success') as LogonObservation;
  const ip = s.key;
  const owner = success.owner;
  // Failures after the last success of the window are not "before" it.
  const inWindow = !Number.isNaN(u.firstFailure) && u.firstFailure <= u.lastSuccess ? u.failures : 0;
  const pair = rememberedPair(memory, name, ip, bucketOf(window.end));
  const total = !pair ? inWindow : pair.l < bucketOf(window.start) ? pair.n + inWindow : Math.max(pair.n, inWindow);
  const earlier = total - inWindow;
  const b = bucketOf(window.end);
  const rememberedSpray = Math.max(
    rememberedSprayer(memory, ip, b)?.u ?? 0,
    owner ? (rememberedSprayer(memory, ownerKey(owner), b)?.u ?? 0) : 0,
  );
  const spraying = Math.max(sprayingInWindow, rememberedSpray);
  if (total === 0 && spraying === 0) return null;

  const known = placeKnowledge(baselines.get(name), ip, owner);
  const novel =
    known === 'new' &&
    (networkUsers(population.sharedNetworks, ip, owner) === 0 ||
      (owner !== undefined && hostingReason(owner) !== undefined));
  const place = novel ? 'novel' : known;
  const w = FAILURE_WEIGHT[place];
  const weighted = Math.min(w.cap, total * w.weight);
  const pFailures = 0.5 ** weighted;
  const p = spraying > 0 ? Math.min(pFailures, SPRAYING_PROBABILITY) : pFailures;
  if (p > settings.maxProbability) return null;

  const where = owner ? `${ip} (${ownerText(owner)})` : ip;
  const failuresText =
    total > 0
      ? `after ${plural(total, 'failed logon')} for the account from it (${inWindow} in this window${earlier > 0 ? `, ${earlier} earlier` : ''})`
      : 'without failing for the account first';
  const sprayText =
    spraying > 0
      ? ` The source was spraying: it failed as ${plural(spraying, 'real user')} here${sprayingInWindow > 0 ? ' in this window' : ' in the past two days'}.`
      : '';
  const explanation = `${name} logged on from ${where} ${failuresText}; ${PLACE_TEXT[place]}.${sprayText} Probability ${p.toPrecision(2)}.`;
  return {
    detectorId: failuresThenSuccess.id,
    user: name,
    sourceIp: ip,
    observation: success,
    score: scoreFromProbability(p),
    probability: p,
    explanation,
    evidence: {
      failures_before: total,
      failures_in_window: inWindow,
      failures_earlier: earlier,
      place: place === 'novel' ? 'network new to everyone here' : place === 'new' ? 'new network' : `known ${place}`,
      weighted_failures: Math.round(weighted * 100) / 100,
      spraying_users: spraying,
      logons: u.successes,
    },
  };
}

export const failuresThenSuccess: WindowDetector<'Auth.FailuresThenSuccess'> = {
  id: 'Auth.FailuresThenSuccess',
  name: 'Brute force that succeeded',
  shortLabel: 'Brute force succeeded',
  columnLabel: 'brute+ok',
  defaultThreshold: 75,
  description:
    'A user logged on successfully from a source that had just failed repeatedly for that account, or that was spraying passwords at many accounts: a guessed or sprayed password that worked.',
  // High (Elastic's 73): unlike the other rules, which see something unusual, this one sees an attack that
  // worked: the failures say someone was guessing, the success says they got in.
  severity: 'high',
  riskScore: 73,
  references: [
    'https://attack.mitre.org/techniques/T1110/',
    'https://attack.mitre.org/techniques/T1078/',
    'https://www.elastic.co/guide/en/security/current/potential-successful-ssh-brute-force-attack.html',
  ],
  mitre: {
    tactic: CREDENTIAL_ACCESS,
    techniques: [bruteForce(['T1110.001', 'T1110.003']), ...VALID_ACCOUNTS_MITRE.techniques],
  },
  investigation: [
    'Contact the user now: did they log on from this address, after mistyping? A user who did not: treat the account as compromised.',
    'If compromised: disable the credential or reset the password, end the sessions, and enforce a second factor.',
    'Review what the session did on the host(s) named in the alert: commands run, files read, keys or accounts added, other hosts reached.',
    'Look at the source: its owner and country, the other users it tried (a campaign alert names them), and block it if it is not yours.',
  ],
  falsePositives: [
    'A user who changed their password and mistyped it several times from a new place (travel, a new phone network).',
    'A device with a stale password (a phone’s mail client) on a network new to the user, then the new password entered.',
  ],
  groupBy: 'user-ip',
  oneAlertPerUser: false,
  silence({ user, sourceIp, alertId }, cmd) {
    return [
      `The user confirms it: ${cmd.benign(alertId)}`,
      `This address is always fine for this user: ${cmd.allowCidr(hostCidr(sourceIp), user)}`,
      cmd.threshold(),
    ];
  },
  evidenceFields: {
    failures_before: { label: 'Failed logons before the success', format: 'count' },
    failures_in_window: { label: 'Of them in this window', format: 'count' },
    failures_earlier: { label: 'Of them earlier (past day)', format: 'count' },
    place: { label: 'The address for the user', format: 'text' },
    weighted_failures: { label: 'Failures weighed by place', format: 'number' },
    spraying_users: { label: 'Real users the source sprayed', format: 'count' },
    logons: { label: 'Successful logons', format: 'count' },
  },
  state: failureMemory,
  evaluateWindow(input: WindowDetectorInput): Finding[] {
    if (!input.observations.some((o) => o.outcome === 'success')) return [];
    const memory = populationStateOf(failureMemory, input.population);
    // A user is judged only after failures: in the window (the source, or its owner, failed) or remembered (the
    // pair, or the source as a sprayer). The window's other sources are not built.
    const b = bucketOf(input.window.end);
    const remembered =
      memory && (Object.keys(memory.p).length > 0 || Object.keys(memory.s).length > 0)
        ? (o: LogonObservation) =>
            rememberedPair(memory, o.user, o.sourceIp, b) !== undefined ||
            rememberedSprayer(memory, o.sourceIp, b) !== undefined ||
            (o.owner !== undefined && rememberedSprayer(memory, ownerKey(o.owner), b) !== undefined)
        : undefined;
    const { byAddress, byOwner } = sourcesOf(
      failingSourceObservations(input.observations, remembered),
      input.baselines,
    );
    const out: Finding[] = [];
    for (const s of byAddress.values()) {
      if (s.successes === 0) continue;
      const spraying = sprayingNow(s, byOwner);
      for (const u of s.users.values()) {
        if (u.successes === 0) continue;
        const f = judgeUser(s, u.name, input, memory, spraying);
        if (f) out.push(f);
      }
    }
    return out;
  },
};
