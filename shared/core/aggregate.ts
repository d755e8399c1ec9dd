/**
 * Aggregation of logons per (user, source IP, outcome): what a profile's Logs Insights query does
 * server-side with `stats ... by user, ip, outcome, host`, done locally for parsed lines, plus the merge of
 * per-host rows into one observation.
 */
import type { LogonEvent, LogonObservation, TimeWindow } from './model';
import { mergeSignals, type Signals } from './signals';

/** Hosts and methods kept per observation: enough to investigate, bounded so a spray across a fleet stays small. */
export const MAX_HOSTS_PER_OBSERVATION = 20;

export function observationKey(o: { user: string; sourceIp: string; outcome: string }): string {
  return `${o.outcome}\u0000${o.user}\u0000${o.sourceIp}`;
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  if (b.length === 0) return a as string[];
  const set = new Set(a);
  for (const x of b) set.add(x);
  return [...set].sort().slice(0, MAX_HOSTS_PER_OBSERVATION);
}

/**
 * Merge observations that share (user, ip, outcome): counts add, times widen, hosts and methods union, and the
 * identity provider's signals keep their worst value (rows of one key may differ in them: the query groups by them).
 */
export function mergeObservations(list: Iterable<LogonObservation>): LogonObservation[] {
  const byKey = new Map<string, LogonObservation>();
  for (const o of list) {
    const k = observationKey(o);
    const prev = byKey.get(k);
    if (!prev) {
      byKey.set(k, o);
      continue;
    }
    byKey.set(k, {
      ...prev,
      count: prev.count + o.count,
      firstSeen: Math.min(prev.firstSeen, o.firstSeen),
      lastSeen: Math.max(prev.lastSeen, o.lastSeen),
      hosts: mergeSorted(prev.hosts, o.hosts),
      methods: mergeSorted(prev.methods, o.methods),
      ...withSignals(mergeSignals(prev.signals, o.signals)),
    });
  }
  return [...byKey.values()];
}

interface Acc {
  user: string;
  sourceIp: string;
  outcome: LogonEvent['outcome'];
  count: number;
  firstSeen: number;
  lastSeen: number;
  hosts: Set<string>;
  methods: Set<string>;
  logSource: string;
  signals: Signals | undefined;
}

/** The `signals` property when there are any: an observation without signals stays exactly as it always was. */
function withSignals(signals: Signals | undefined): { signals?: Signals } {
  return signals === undefined ? {} : { signals };
}

/** Aggregate parsed events with a timestamp in [window.start, window.end) into observations. */
export function aggregateEvents(events: Iterable<LogonEvent>, window: TimeWindow): LogonObservation[] {
  const byKey = new Map<string, Acc>();
  for (const e of events) {
    if (e.timestamp < window.start || e.timestamp >= window.end) continue;
    const k = observationKey(e);
    let a = byKey.get(k);
    if (!a) {
      a = {
        user: e.user,
        sourceIp: e.sourceIp,
        outcome: e.outcome,
        count: 0,
        firstSeen: e.timestamp,
        lastSeen: e.timestamp,
        hosts: new Set(),
        methods: new Set(),
        logSource: e.logSource,
        signals: undefined,
      };
      byKey.set(k, a);
    }
    // A line may stand for several attempts (a syslog repeat line); Insights sums the same number.
    a.count += e.count ?? 1;
    if (e.timestamp < a.firstSeen) a.firstSeen = e.timestamp;
    if (e.timestamp > a.lastSeen) a.lastSeen = e.timestamp;
    if (e.host && a.hosts.size < MAX_HOSTS_PER_OBSERVATION) a.hosts.add(e.host);
    if (e.method && a.methods.size < MAX_HOSTS_PER_OBSERVATION) a.methods.add(e.method);
    if (e.signals !== undefined) a.signals = mergeSignals(a.signals, e.signals);
  }
  return [...byKey.values()].map((a) => ({
    user: a.user,
    sourceIp: a.sourceIp,
    outcome: a.outcome,
    count: a.count,
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
    hosts: [...a.hosts].sort(),
    methods: [...a.methods].sort(),
    logSource: a.logSource,
    ...withSignals(a.signals),
  }));
}
