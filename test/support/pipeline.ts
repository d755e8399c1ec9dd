/**
 * The detection pipeline over in-memory parts, for tests that drive `runDetection` window by window: logons from
 * a file source, the in-memory store and sink, a fixed clock.
 */
import { FileLogSource } from '../../shared/adapters/file-log-source';
import { InMemoryAlertSink } from '../../shared/adapters/in-memory-alert-sink';
import { InMemoryBaselineStore } from '../../shared/adapters/in-memory-baseline-store';
import { BUCKET_MS, DAY_MS, type LogonEvent } from '../../shared/core/model';
import { HOUR, T0 } from './history';
import { DEFAULT_SETTINGS, type DetectionSettings } from '../../shared/core/settings';
import { runDetection, type DetectionDeps } from '../../shared/run-detection';

/** One sshd logon of `user` from `sourceIp` at `t`. */
export function ev(user: string, sourceIp: string, t: number, outcome: LogonEvent['outcome'] = 'success'): LogonEvent {
  return { user, sourceIp, timestamp: t, outcome, host: 'web-01', method: 'publickey', logSource: 'sshd' };
}

const fixedClock = { now: () => 0 };

/** Deps reading `events`, with a fresh in-memory store and sink unless given; settings are the defaults, overridden. */
export function deps(
  events: LogonEvent[],
  overrides: Omit<Partial<DetectionDeps>, 'settings'> & { settings?: Partial<DetectionSettings> } = {},
) {
  const store = (overrides.store as InMemoryBaselineStore | undefined) ?? new InMemoryBaselineStore();
  const sink = (overrides.sink as InMemoryAlertSink | undefined) ?? new InMemoryAlertSink();
  const d: DetectionDeps = {
    logSources: [
      new FileLogSource({
        name: 'test',
        events,
        parseStats: { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] },
      }),
    ],
    store,
    sink,
    clock: fixedClock,
    settings: { ...DEFAULT_SETTINGS, ...overrides.settings },
    ...(overrides.detectors ? { detectors: overrides.detectors } : {}),
    ...(overrides.network ? { network: overrides.network } : {}),
  };
  return { d, store, sink };
}

/** Run every 15 minutes over [from, to]. */
export async function runSchedule(d: DetectionDeps, from: number, to: number) {
  const summaries = [];
  for (let t = Math.ceil(from / BUCKET_MS) * BUCKET_MS; t <= to; t += BUCKET_MS)
    summaries.push(await runDetection(d, { windowEnd: t }));
  return summaries;
}

/** 30 users over `days` days, from home twice a workday; the last day a stolen password, a new account and a spray. */
export function attackDays(days: number): LogonEvent[] {
  const out: LogonEvent[] = [];
  for (let d = 0; d < days; d++)
    for (let u = 0; u < 30; u++)
      for (const h of [9, 15]) out.push(ev(`user${u}`, `81.2.${u}.10`, T0 + d * DAY_MS + h * HOUR + u * 1000));
  const t = T0 + (days - 1) * DAY_MS + 11 * HOUR;
  out.push(ev('user7', '203.0.113.9', t), ev('backdoor', '198.51.100.77', t + 60_000));
  for (let u = 0; u < 30; u++) out.push(ev(`user${u}`, '192.0.2.66', t + 120_000 + u * 1000, 'failure'));
  return out;
}
