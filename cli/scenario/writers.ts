/**
 * Write scenario events as the log lines the profiles read: ECS JSON (one document per line) and sshd
 * through rsyslog's high-precision format. Pure and deterministic: the decorations a real log has and
 * the event does not carry (sshd pid, client port, key fingerprint, sub-millisecond digits) are derived
 * from a hash of the event, so the same event always gives the same line.
 */
import type { LogonEvent } from '../../shared/core/model';
import type { Scenario } from './generate';
import { Rng, hash32 } from './random';

/**
 * One ECS document, as Filebeat's system module writes an sshd logon: `@timestamp` (ISO, ms),
 * `event.category: ["authentication"]`, `event.outcome`, `event.action: "ssh_login"`, `user.name`,
 * `source.ip`, `host.name`, and the method in `system.auth.ssh.method` (ECS has no field for it).
 */
export function toEcsLine(event: LogonEvent): string {
  const doc = {
    '@timestamp': new Date(event.timestamp).toISOString(),
    event: {
      kind: 'event',
      category: ['authentication'],
      type: ['info'],
      action: 'ssh_login',
      outcome: event.outcome,
      module: 'system',
      dataset: 'system.auth',
    },
    user: { name: event.user },
    source: { ip: event.sourceIp },
    ...(event.host !== undefined ? { host: { name: event.host, hostname: event.host } } : {}),
    process: { name: 'sshd', pid: pidOf(event) },
    ...(event.method !== undefined
      ? {
          system: {
            auth: { ssh: { method: event.method, event: event.outcome === 'success' ? 'Accepted' : 'Failed' } },
          },
        }
      : {}),
  };
  return JSON.stringify(doc);
}

export interface SshdLineOptions {
  /** The account does not exist on the host: sshd says `for invalid user NAME`. */
  readonly invalidUser?: boolean;
}

/**
 * One sshd line in rsyslog's `RSYSLOG_FileFormat` (high-precision ISO timestamp with year and offset):
 *
 * `2026-03-02T09:14:07.123456+00:00 web-01 sshd[4211]: Accepted publickey for alice from 203.0.113.9 port 52114 ssh2: ED25519 SHA256:…`
 * `2026-03-02T09:14:07.123456+00:00 web-01 sshd[4211]: Failed password for invalid user admin from 203.0.113.9 port 52114 ssh2`
 *
 * The microseconds only add digits below the event's millisecond, so parsing the line back gives the same
 * epoch ms (when the parser truncates sub-millisecond digits, as `Date.parse` does).
 */
export function toSshdLine(event: LogonEvent, options: SshdLineOptions = {}): string {
  const h = eventHash(event);
  const micros = String(h % 1000).padStart(3, '0');
  const time = new Date(event.timestamp).toISOString().replace('Z', `${micros}+00:00`);
  const host = event.host ?? 'localhost';
  const method = event.method ?? 'password';
  const port = 1024 + (hash32(`port|${h}`) % 64_511);
  const head = `${time} ${host} sshd[${pidOf(event)}]:`;
  if (event.outcome === 'success') {
    const key = method === 'publickey' ? `: ${keyFingerprint(event.user)}` : '';
    return `${head} Accepted ${method} for ${event.user} from ${event.sourceIp} port ${port} ssh2${key}`;
  }
  const who = options.invalidUser ? `invalid user ${event.user}` : event.user;
  return `${head} Failed ${method} for ${who} from ${event.sourceIp} port ${port} ssh2`;
}

/** Accounts that exist on every Linux host, so sshd never calls them invalid. */
const SYSTEM_ACCOUNTS = new Set(['root']);

/**
 * All of a scenario's events as lines of `format`. For sshd, failures for names that exist nowhere in
 * the organisation (scanners' `admin`, `oracle`, random names) say `invalid user`, as sshd does.
 */
export function scenarioLines(s: Pick<Scenario, 'events' | 'users' | 'incidents'>, format: 'ecs' | 'sshd'): string[] {
  if (format === 'ecs') return s.events.map(toEcsLine);
  const known = new Set<string>([
    ...SYSTEM_ACCOUNTS,
    ...s.users.map((u) => u.name),
    ...s.incidents.filter((i) => i.kind === 'attacker-account').map((i) => i.user),
  ]);
  return s.events.map((e) => toSshdLine(e, { invalidUser: !known.has(e.user) }));
}

function eventHash(e: LogonEvent): number {
  return hash32(`${e.timestamp}|${e.user}|${e.sourceIp}|${e.outcome}|${e.host ?? ''}`);
}

/** A plausible sshd child pid for the connection. */
function pidOf(e: LogonEvent): number {
  return 1_000 + (eventHash(e) % 60_000);
}

/** A stable per-user key fingerprint (`ED25519 SHA256:` + 43 base64 characters, as OpenSSH prints it). */
function keyFingerprint(user: string): string {
  const rng = new Rng(hash32(`key|${user}`));
  const bytes = Buffer.from(Array.from({ length: 32 }, () => rng.int(0, 255)));
  const type = rng.chance(0.7) ? 'ED25519' : 'RSA';
  return `${type} SHA256:${bytes.toString('base64').replace(/=+$/, '')}`;
}
