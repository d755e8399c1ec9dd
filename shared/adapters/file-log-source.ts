/**
 * `FileLogSource`: the local stand-in for Logs Insights. Parses a log file once with a profile's line
 * parser, keeps the events sorted by time, and answers each window by aggregating exactly as the
 * profile's Insights query does server-side.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { aggregateEvents } from '../core/aggregate';
import type { LogonEvent, TimeWindow } from '../core/model';
import type { Profile } from '../core/profiles/profile';
import type { LogSource, LogSourceResult } from '../ports';

export interface ParseStats {
  lines: number;
  events: number;
  skipped: number;
  malformed: number;
  /** The first few malformed lines' reasons, for the CLI to show. */
  malformedSamples: { line: number; reason: string }[];
}

export class FileLogSource implements LogSource {
  readonly name: string;
  readonly parseStats: ParseStats;
  private readonly events: LogonEvent[];
  private readonly times: Float64Array;

  constructor(props: { name: string; events: LogonEvent[]; parseStats: ParseStats }) {
    this.name = props.name;
    this.parseStats = props.parseStats;
    this.events = [...props.events].sort((a, b) => a.timestamp - b.timestamp);
    this.times = Float64Array.from(this.events, (e) => e.timestamp);
  }

  /** Parse lines with `profile`; malformed lines are counted and skipped, never fatal. */
  static fromLines(name: string, profile: Profile, lines: Iterable<string>): FileLogSource {
    const acc = newAccumulator();
    for (const line of lines) acc.add(profile, line);
    return new FileLogSource({ name, events: acc.events, parseStats: acc.stats });
  }

  static async fromFile(path: string, profile: Profile): Promise<FileLogSource> {
    const acc = newAccumulator();
    const rl = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) acc.add(profile, line);
    return new FileLogSource({ name: `${profile.id}:${path}`, events: acc.events, parseStats: acc.stats });
  }

  /** [first, last] event time, or undefined for a file without logons. */
  timeSpan(): { first: number; last: number } | undefined {
    if (this.events.length === 0) return undefined;
    return { first: this.times[0]!, last: this.times[this.times.length - 1]! };
  }

  /** Every parsed logon, in time order (read-only). */
  logons(): readonly LogonEvent[] {
    return this.events;
  }

  /** Distinct users with at least one successful logon in the file. */
  successUsers(): string[] {
    return [...new Set(this.events.filter((e) => e.outcome === 'success').map((e) => e.user))];
  }

  async fetch(window: TimeWindow): Promise<LogSourceResult> {
    const lo = lowerBound(this.times, window.start);
    const hi = lowerBound(this.times, window.end);
    const slice = this.events.slice(lo, hi);
    return {
      observations: aggregateEvents(slice, window),
      stats: { rows: slice.length, malformed: 0, queries: 1, queryMs: 0, bytesScanned: 0 },
    };
  }
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const MAX_MALFORMED_SAMPLES = 5;

function newAccumulator() {
  const events: LogonEvent[] = [];
  const stats: ParseStats = { lines: 0, events: 0, skipped: 0, malformed: 0, malformedSamples: [] };
  return {
    events,
    stats,
    add(profile: Profile, line: string) {
      stats.lines++;
      if (line.trim() === '') {
        stats.skipped++;
        return;
      }
      const r = profile.parseLine(line);
      if (r.kind === 'event') {
        stats.events++;
        events.push(r.event);
      } else if (r.kind === 'skip') stats.skipped++;
      else {
        stats.malformed++;
        if (stats.malformedSamples.length < MAX_MALFORMED_SAMPLES) stats.malformedSamples.push({ line: stats.lines, reason: r.reason });
      }
    },
  };
}
