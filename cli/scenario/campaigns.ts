/**
 * Failed logons of an organisation whose sshd faces the internet (`internet-facing` shape): the campaigns after
 * learning, each labelled as an incident with every account it tried, and the benign failures around them,
 * labelled so that an alert on them says what its noise is made of. See `CAMPAIGN_KINDS` and the benign kinds of
 * `NoveltyKind` (types.ts) for what each is.
 *
 * Addresses come from the roles network.ts gives them (hosting for attackers, the internet at large for scanners,
 * a user's own home connection, a service's own host), never from ranges written here. Every part draws from its
 * own named random stream, so the shapes without these parts are untouched.
 */
import { DAY_MS } from '../../shared/core/model';
import { canonicalIp } from '../../shared/core/net';
import { attackerIp, noiseIp } from './network';
import { scenarioNetworkData } from './network-data';
import { homeIp } from './population';
import { Rng } from './random';
import { CAMPAIGN_KINDS, type CampaignTarget, type Incident, type IncidentKind, type NoveltyLabel } from './types';
import { EXPOSED_HOSTS, type FailureNoiseSpec, HOUR, MINUTE, SCANNER_NAMES, SECOND, type ShapeSpec } from './shapes';
import { type EventLog, localAt, type SimUser, type Timeline } from './world';

/** A password spray tries this many of the organisation's real users (fewer if it has fewer). */
export const SPRAY_TARGETS = [76, 84] as const;
/** ... and gets in as this many of them. */
export const SPRAY_SUCCESSES = 2;
/** A low-and-slow spray tries this many users an hour, for `LOW_SLOW_HOURS` hours. */
export const LOW_SLOW_USERS_PER_HOUR = [4, 6] as const;
export const LOW_SLOW_HOURS = 48;
/** Brute force that succeeds: this many failures before the success. */
export const BRUTE_FORCE_FAILURES = [24, 80] as const;

/** The account is an account of the organisation at `ts` (joined, not yet gone): what a leaked list names. */
function accountAt(u: SimUser, t: Timeline, ts: number): boolean {
  return u.service === undefined && ts >= t.dayStart(u.firstDay) && ts < (u.leftAt ?? t.end);
}

/** The user works at `day` (not away, not on leave): a mail client at home needs its user at home. */
function atWorkOn(u: SimUser, day: number): boolean {
  return (
    day >= u.firstDay &&
    day <= u.lastDay &&
    !(u.vacation !== undefined && day >= u.vacation[0] && day < u.vacation[1]) &&
    !(u.trip !== undefined && day >= u.trip.firstDay && day <= u.trip.lastDay)
  );
}

/** Password users first: a guessed password only opens an account that takes one. */
function guessable(users: readonly SimUser[]): SimUser[] {
  const password = users.filter((u) => u.method !== 'publickey');
  return password.length > 0 ? password : [...users];
}

/** The owner of an address as an alert about an owner names it (`AS64511`), from the scenario's network data. */
function ownerKey(ip: string): string | undefined {
  const r = scenarioNetworkData().lookup(ip);
  return r.known ? `AS${r.asn}` : undefined;
}

/** One attempt of a campaign, before it is written to the log. */
interface Attempt {
  readonly ts: number;
  readonly user: string;
  readonly ip: string;
  readonly success: boolean;
}

/**
 * The campaigns of the shape's `attacks` counts for the `CAMPAIGN_KINDS`, after learning, written to the log and
 * returned as incidents. Their own random stream (`campaigns`): drawn after every other attack.
 */
export function generateCampaigns(
  seed: number,
  spec: ShapeSpec,
  users: readonly SimUser[],
  t: Timeline,
  learningEnd: number,
  log: EventLog,
  notes: string[],
): Incident[] {
  if (![...CAMPAIGN_KINDS].some((k) => spec.attacks[k] > 0)) return [];
  const rng = Rng.derive(seed, 'campaigns');
  const incidents: Incident[] = [];
  const usedIps = new Set<string>(log.events.map((e) => e.sourceIp));
  const freshIp = (): string => {
    for (;;) {
      const ip = canonicalIp(attackerIp(rng))!;
      if (!usedIps.has(ip)) {
        usedIps.add(ip);
        return ip;
      }
    }
  };
  // A campaign starts an hour after learning at the earliest and ends well before the scenario does.
  const lo = learningEnd + HOUR;
  const startIn = (length: number): number | undefined => {
    const hi = t.end - 6 * HOUR - length;
    return hi < lo ? undefined : Math.floor(lo + rng.next() * (hi - lo));
  };
  const accounts = (ts: number): SimUser[] => users.filter((u) => accountAt(u, t, ts));
  const victims = new Set<string>();
  const emit = (kind: IncidentKind, attempts: readonly Attempt[], host: string, describe: string): void => {
    const sorted = [...attempts].sort((a, b) => a.ts - b.ts);
    const targets = new Map<string, { sourceIp: string; failures: number; compromised: boolean }>();
    for (const a of sorted) {
      if (!log.add(a.ts, a.user, a.ip, a.success ? 'success' : 'failure', host, 'password')) continue;
      const tg = targets.get(a.user) ?? { sourceIp: a.ip, failures: 0, compromised: false };
      targets.set(a.user, a.success ? { ...tg, compromised: true } : { ...tg, failures: tg.failures + 1 });
    }
    const list: CampaignTarget[] = [...targets].map(([user, tg]) => ({ user, ...tg }));
    const first = list.find((x) => x.compromised);
    for (const x of list) if (x.compromised) victims.add(x.user);
    const ips = [...new Set(list.map((x) => x.sourceIp))];
    incidents.push({
      id: `${kind}-${incidents.filter((i) => i.kind === kind).length + 1}`,
      kind,
      user: first?.user ?? '',
      sourceIp: (first ?? list[0])!.sourceIp,
      start: sorted[0]!.ts,
      end: sorted[sorted.length - 1]!.ts,
      description: describe,
      logons: sorted.filter((a) => a.success).length,
      failedAttempts: sorted.filter((a) => !a.success).length,
      hosts: [host],
      targets: list,
      sourceOwners: [...new Set(ips.flatMap((ip) => ownerKey(ip) ?? []))].sort(),
    });
  };

  // Password spray: one address, ~80 real users in 30–60 minutes, the same few passwords for each in rounds; two
  // accounts take one of them (and are left alone after).
  for (let i = 0; i < spec.attacks['password-spray']; i++) {
    const length = rng.range(30, 60) * MINUTE;
    const start = startIn(length);
    if (start === undefined) {
      notes.push(`no room for password-spray #${i + 1}`);
      continue;
    }
    const pool = accounts(start);
    const targets = rng.sample(pool, rng.int(SPRAY_TARGETS[0], SPRAY_TARGETS[1]));
    const rounds = rng.int(2, 4);
    const winners = new Map(
      rng
        .sample(
          guessable(targets).filter((u) => !victims.has(u.name)),
          SPRAY_SUCCESSES,
        )
        .map((u) => [u.name, rng.int(0, rounds - 1)] as const),
    );
    const ip = freshIp();
    const total = rounds * targets.length;
    const attempts: Attempt[] = [];
    let k = 0;
    for (let r = 0; r < rounds; r++) {
      for (const u of targets) {
        const ts = start + Math.floor(((k++ + rng.next()) / total) * length);
        const win = winners.get(u.name);
        if (win !== undefined && r > win) continue;
        attempts.push({ ts, user: u.name, ip, success: win === r });
      }
    }
    emit(
      'password-spray',
      attempts,
      rng.pick(EXPOSED_HOSTS),
      `${ip} sprays ${rounds} passwords over ${targets.length} real users in ${Math.round(length / MINUTE)} minutes and gets in as ${[...winners.keys()].join(' and ')}`,
    );
  }

  // Low-and-slow spray: one address, a handful of users an hour for two days (a password or two each), under any
  // per-hour threshold; half of them get in as one user.
  for (let i = 0; i < spec.attacks['low-slow-spray']; i++) {
    const length = LOW_SLOW_HOURS * HOUR;
    const start = startIn(length);
    if (start === undefined) {
      notes.push(`no room for low-slow-spray #${i + 1} (${LOW_SLOW_HOURS} hours)`);
      continue;
    }
    const pool = accounts(start);
    const ip = freshIp();
    const winner = rng.chance(0.5) ? rng.pick(guessable(pool).filter((u) => !victims.has(u.name))) : undefined;
    const winAt = winner ? rng.int(LOW_SLOW_HOURS / 2, LOW_SLOW_HOURS - 1) : -1;
    let queue: SimUser[] = [];
    const attempts: Attempt[] = [];
    let won = false;
    for (let h = 0; h < LOW_SLOW_HOURS; h++) {
      const n = rng.int(LOW_SLOW_USERS_PER_HOUR[0], LOW_SLOW_USERS_PER_HOUR[1]);
      const hourUsers: SimUser[] = [];
      while (hourUsers.length < n) {
        if (queue.length === 0) queue = rng.sample(pool, pool.length);
        hourUsers.push(queue.shift()!);
      }
      if (h === winAt && winner && !won) hourUsers[0] = winner;
      for (const u of hourUsers) {
        if (won && u === winner) continue;
        const tries = rng.int(1, 2);
        for (let k = 0; k < tries; k++) {
          const ts = start + h * HOUR + Math.floor(rng.next() * HOUR);
          const success = h === winAt && u === winner && k === tries - 1;
          attempts.push({ ts, user: u.name, ip, success });
          if (success) won = true;
        }
      }
    }
    // The success ends that user's attempts: drop anything tried as them after it.
    const winTs = attempts.find((a) => a.success)?.ts;
    const kept = attempts.filter((a) => !(winner && a.user === winner.name && winTs !== undefined && a.ts > winTs));
    emit(
      'low-slow-spray',
      kept,
      rng.pick(EXPOSED_HOSTS),
      `${ip} tries ${LOW_SLOW_USERS_PER_HOUR[0]}–${LOW_SLOW_USERS_PER_HOUR[1]} real users an hour for ${LOW_SLOW_HOURS} hours${winner ? ` and gets in as ${winner.name}` : ', never getting in'}`,
    );
  }

  // Credential stuffing: a leaked list of the organisation's users tried from many addresses (one per user), 1–3
  // passwords each; for a few of them the leaked password still works.
  for (let i = 0; i < spec.attacks['credential-stuffing']; i++) {
    const length = rng.range(1, 3) * HOUR;
    const start = startIn(length);
    if (start === undefined) {
      notes.push(`no room for credential-stuffing #${i + 1}`);
      continue;
    }
    const targets = rng.sample(accounts(start), rng.int(30, 50));
    const winners = new Set(
      rng
        .sample(
          guessable(targets).filter((u) => !victims.has(u.name)),
          rng.int(2, 4),
        )
        .map((u) => u.name),
    );
    const attempts: Attempt[] = [];
    for (const u of targets) {
      const ip = freshIp();
      const failures = rng.int(1, 3);
      let ts = start + Math.floor(rng.next() * length * 0.9);
      for (let k = 0; k < failures; k++) {
        attempts.push({ ts, user: u.name, ip, success: false });
        ts += rng.int(2, 90) * SECOND;
      }
      if (winners.has(u.name)) attempts.push({ ts, user: u.name, ip, success: true });
    }
    emit(
      'credential-stuffing',
      attempts,
      rng.pick(EXPOSED_HOSTS),
      `a leaked list of ${targets.length} real users tried from ${targets.length} addresses, one per user; gets in as ${[...winners].join(', ')}`,
    );
  }

  // Brute force that succeeds: one user, dozens of passwords from one new address in minutes, then the right one,
  // and a logon or two after it.
  for (let i = 0; i < spec.attacks['brute-force-success']; i++) {
    const length = rng.range(10, 40) * MINUTE;
    const start = startIn(length + HOUR);
    if (start === undefined) {
      notes.push(`no room for brute-force-success #${i + 1}`);
      continue;
    }
    const pool = guessable(accounts(start)).filter((u) => !victims.has(u.name));
    if (pool.length === 0) {
      notes.push(`no user available for brute-force-success #${i + 1}`);
      continue;
    }
    const u = rng.pick(pool);
    const ip = freshIp();
    const failures = rng.int(BRUTE_FORCE_FAILURES[0], BRUTE_FORCE_FAILURES[1]);
    const attempts: Attempt[] = [];
    for (let k = 0; k < failures; k++)
      attempts.push({ ts: start + Math.floor((k / failures) * length), user: u.name, ip, success: false });
    let ts = start + Math.floor(length) + rng.int(2, 30) * SECOND;
    attempts.push({ ts, user: u.name, ip, success: true });
    for (let k = rng.int(0, 2); k > 0; k--) {
      ts += rng.int(1, 20) * MINUTE;
      attempts.push({ ts, user: u.name, ip, success: true });
    }
    emit(
      'brute-force-success',
      attempts,
      rng.pick(EXPOSED_HOSTS),
      `${ip} tries ${failures} passwords for ${u.name} (${u.archetype}) in ${Math.round(length / MINUTE)} minutes, then logs on`,
    );
  }
  return incidents;
}

/**
 * The benign failures of an exposed sshd, labelled (`benign`): the internet's scanners every day, and in the
 * detection period services failing on a stale password all day and mail clients retrying an old password.
 */
export function generateFailureNoise(
  seed: number,
  spec: ShapeSpec,
  noise: FailureNoiseSpec,
  users: readonly SimUser[],
  t: Timeline,
  learningDays: number,
  log: EventLog,
  benign: NoveltyLabel[],
  notes: string[],
): void {
  // Scanners: many addresses a day, each a burst of root/admin/oracle/test… a few seconds apart; never a success.
  for (let day = 0; day < t.days; day++) {
    const rng = Rng.derive(seed, 'scan', day);
    const n = rng.poisson(noise.scannersPerDay);
    const ips = new Set<string>();
    let last = t.dayStart(day);
    for (let c = 0; c < n; c++) {
      const ip = canonicalIp(noiseIp(rng))!;
      const host = rng.pick(EXPOSED_HOSTS);
      const attempts = rng.chance(0.2) ? rng.int(40, 200) : rng.int(2, 15);
      let ts = t.dayStart(day) + rng.range(0, DAY_MS);
      for (let k = 0; k < attempts; k++) {
        const user = rng.chance(0.4) ? 'root' : rng.pick(SCANNER_NAMES);
        if (log.add(ts, user, ip, 'failure', host, 'password')) {
          ips.add(ip);
          last = Math.max(last, Math.floor(ts));
        }
        ts += rng.range(1, 20) * SECOND;
      }
    }
    if (ips.size > 0)
      benign.push({
        kind: 'ssh-background-scan',
        user: '',
        start: t.dayStart(day),
        end: last + HOUR,
        sourceIps: [...ips].sort(),
      });
  }

  const rng = Rng.derive(seed, 'benign-failures');
  const lastDay = t.days - 2;
  // A service account whose password was rotated but not in its job: a failure every few minutes from its own
  // host, from the rotation (at night or in the morning) until someone fixes it the next day.
  const services = users.filter((u) => u.service !== undefined && u.service.targets.length > 0);
  for (const u of rng.sample(services, noise.stalePasswords)) {
    const day = rng.int(learningDays, lastDay);
    const from = t.dayStart(day) + rng.range(0, 10) * HOUR;
    const until = from + rng.range(14, 24) * HOUR;
    const ip = u.service!.ip;
    const host = u.service!.targets[0]!.host;
    let ts = from;
    let first: number | undefined;
    let end = from;
    while (ts < until) {
      if (log.add(ts, u.name, ip, 'failure', host, 'password')) {
        first ??= Math.floor(ts);
        end = Math.floor(ts);
      }
      ts += rng.range(3, 7) * MINUTE;
    }
    if (first !== undefined)
      benign.push({ kind: 'stale-service-password', user: u.name, start: first, end: end + HOUR, sourceIps: [ip] });
  }
  if (services.length < noise.stalePasswords)
    notes.push(`only ${services.length} service accounts for stale passwords`);

  // A mail client at home after a password change: it retries the old password every few minutes through the
  // evening, dozens of times, until its user types the new one.
  const people = users.filter((u) => (u.archetype === 'office' || u.archetype === 'home') && u.joinedAt === undefined);
  const mailHost = spec.hosts.includes('mail-01') ? 'mail-01' : undefined;
  // People in random order, until enough of them had an evening at home (a VPN-only home worker has none).
  let placedClients = 0;
  for (const u of rng.sample(people, people.length)) {
    if (placedClients === noise.mailClients) break;
    let placed = false;
    for (let tries = 0; tries < 20 && !placed; tries++) {
      const day = rng.int(learningDays, lastDay);
      if (t.isWeekend(day) || !atWorkOn(u, day)) continue;
      const ip = homeIp(seed, u, day);
      if (ip === undefined) continue;
      const host = mailHost ?? u.hosts[0]!;
      // Every attempt falls inside the scenario: the evening of a day before its last, at most ~10 hours long.
      const times: number[] = [];
      let ts = localAt(t, day, rng.range(17.5, 19.5), u) + rng.int(0, 59_999);
      for (let k = rng.int(24, 72); k > 0; k--) {
        times.push(Math.floor(ts));
        ts += rng.range(1, 8) * MINUTE;
      }
      const success = Math.floor(ts + rng.range(1, 10) * MINUTE);
      if (success >= t.end) continue;
      for (const f of times) log.add(f, u.name, ip, 'failure', host, 'password');
      log.add(success, u.name, ip, 'success', host, 'password');
      benign.push({
        kind: 'mail-client-password-change',
        user: u.name,
        start: times[0]!,
        end: success + HOUR,
        sourceIps: [canonicalIp(ip) ?? ip],
      });
      placed = true;
      placedClients++;
    }
  }
  if (placedClients < noise.mailClients)
    notes.push(`only ${placedClients} of ${noise.mailClients} mail clients found a working evening at home`);
}
