/**
 * `FileLogSource`: the local stand-in for Logs Insights. Parses a log file once with a profile's line
 * parser, keeps the events sorted by time, and answers each window by aggregating exactly as the
 * profile's Insights query does server-side.
 *
 * Reading a file is done here too, the same way for every caller (replay, backfill, parse), so a file means
 * what CloudWatch Logs would make of it:
 * - Lines end at LF only, one CR before it dropped (CRLF files). The CloudWatch agent splits on LF, so a lone
 *   CR inside a line stays inside that one log event; splitting on it locally (as `readline` does) made two
 *   lines of one event, so a file parsed here and the same file in Insights disagreed on lines and logons.
 * - Bytes that are not UTF-8 are kept, each as `�` and its two hex digits (`j\xf6rg` reads `j�f6rg`),
 *   rather than all becoming one `�`, which would merge different names into one user. Not the `\xNN` some
 *   tools print: a backslash is meaningful in a log (`DOMAIN\user` in a name, an escape in a JSON string).
 *   Such lines are counted (`invalidUtf8`).
 * - A logon dated after the reference time (when the file was written: now, or `--as-of`) plus a day of
 *   skew cannot be real: it is counted and skipped (`future`), with its line, rather than stretching the
 *   file's span by decades. (Times before 2000 are malformed already: `parseTime`.)
 */
import { createReadStream } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { aggregateEvents } from '../core/aggregate';
import { DAY_MS, type LogonEvent, type TimeWindow } from '../core/model';
import type { Profile } from '../core/profiles/profile';
import type { LogSource, LogSourceResult } from '../ports';

export interface ParseStats {
  lines: number;
  events: number;
  skipped: number;
  malformed: number;
  /** The first few malformed lines' reasons, for the CLI to show. */
  malformedSamples: { line: number; reason: string }[];
  /** Lines whose bytes were not all valid UTF-8 (read with each such byte kept as `�` and its hex digits). */
  invalidUtf8: number;
  /** Logons whose user name was longer than `MAX_USER_CHARS` and was bounded (`boundUserName`). */
  namesTruncated: number;
  /** Logons dated after the reference time plus `FUTURE_SKEW_MS`: skipped. */
  future: number;
  /** The first few of them, for the CLI to show. */
  futureSamples: { line: number; timestamp: number; user: string }[];
}

type NewerCounters = 'invalidUtf8' | 'namesTruncated' | 'future' | 'futureSamples';

/** How far after the reference time a logon may be dated (host clocks drift, zones get mislabelled): a day, as sshd's year inference allows. */
export const FUTURE_SKEW_MS = DAY_MS;

export interface ReadOptions {
  /**
   * When the file was written (epoch ms): a logon dated more than `FUTURE_SKEW_MS` after it is skipped and
   * counted as `future`. Undefined: no such check (generated scenarios, tests).
   */
  readonly reference?: number;
}

/** One line of a log file: its text, and whether its bytes were not all valid UTF-8. */
export interface LogLine {
  readonly text: string;
  readonly invalidUtf8: boolean;
}

export class FileLogSource implements LogSource {
  readonly name: string;
  readonly parseStats: ParseStats;
  private readonly events: LogonEvent[];
  private readonly times: Float64Array;

  /** `parseStats`: the counters this module adds default to zero (sources built from events in tests). */
  constructor(props: {
    name: string;
    events: LogonEvent[];
    parseStats: Omit<ParseStats, NewerCounters> & Partial<Pick<ParseStats, NewerCounters>>;
  }) {
    this.name = props.name;
    this.parseStats = { invalidUtf8: 0, namesTruncated: 0, future: 0, futureSamples: [], ...props.parseStats };
    this.events = [...props.events].sort((a, b) => a.timestamp - b.timestamp);
    this.times = Float64Array.from(this.events, (e) => e.timestamp);
  }

  /** Parse lines (already split and decoded) with `profile`; malformed lines are counted and skipped, never fatal. */
  static fromLines(name: string, profile: Profile, lines: Iterable<string>, options: ReadOptions = {}): FileLogSource {
    const reader = new LineReader(profile, options);
    const events: LogonEvent[] = [];
    for (const line of lines) {
      const r = reader.add(line);
      if (r.kind === 'event') events.push(r.event);
    }
    return new FileLogSource({ name, events, parseStats: reader.stats });
  }

  /** Parse read lines (`readLogLines`) with `profile`. */
  static async fromLogLines(
    name: string,
    profile: Profile,
    lines: AsyncIterable<LogLine>,
    options: ReadOptions = {},
  ): Promise<FileLogSource> {
    const reader = new LineReader(profile, options);
    const events: LogonEvent[] = [];
    for await (const line of lines) {
      const r = reader.add(line);
      if (r.kind === 'event') events.push(r.event);
    }
    return new FileLogSource({ name, events, parseStats: reader.stats });
  }

  /** Parse a plain (uncompressed) file with `profile`. */
  static async fromFile(path: string, profile: Profile, options: ReadOptions = {}): Promise<FileLogSource> {
    return FileLogSource.fromLogLines(`${profile.id}:${path}`, profile, readLogLines(createReadStream(path)), options);
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

const MAX_SAMPLES = 5;

/** What became of one line: a logon, not a logon, malformed (why), or a logon dated after the reference (skipped). */
export type ReadResult =
  | { readonly kind: 'event'; readonly event: LogonEvent }
  | { readonly kind: 'skip' }
  | { readonly kind: 'malformed'; readonly reason: string }
  | { readonly kind: 'future'; readonly event: LogonEvent };

/**
 * Parses a file's lines one at a time with a profile and counts what they were (`stats`): the one place the
 * rules of the module comment are applied, for a whole file (`FileLogSource`) or a stream (`authwatch parse`).
 */
export class LineReader {
  readonly stats: ParseStats = {
    lines: 0,
    events: 0,
    skipped: 0,
    malformed: 0,
    malformedSamples: [],
    invalidUtf8: 0,
    namesTruncated: 0,
    future: 0,
    futureSamples: [],
  };
  private readonly notAfter: number;

  constructor(
    private readonly profile: Profile,
    options: ReadOptions = {},
  ) {
    this.notAfter = options.reference === undefined ? Infinity : options.reference + FUTURE_SKEW_MS;
  }

  /** Parse and count the next line (its number is `stats.lines` afterwards). */
  add(line: LogLine | string): ReadResult {
    const stats = this.stats;
    const { text, invalidUtf8 } = typeof line === 'string' ? { text: line, invalidUtf8: false } : line;
    stats.lines++;
    if (invalidUtf8) stats.invalidUtf8++;
    if (text.trim() === '') {
      stats.skipped++;
      return { kind: 'skip' };
    }
    const r = this.profile.parseLine(text);
    if (r.kind === 'skip') {
      stats.skipped++;
      return r;
    }
    if (r.kind === 'malformed') {
      stats.malformed++;
      if (stats.malformedSamples.length < MAX_SAMPLES)
        stats.malformedSamples.push({ line: stats.lines, reason: r.reason });
      return r;
    }
    if (r.event.timestamp > this.notAfter) {
      stats.future++;
      if (stats.futureSamples.length < MAX_SAMPLES)
        stats.futureSamples.push({ line: stats.lines, timestamp: r.event.timestamp, user: r.event.user });
      return { kind: 'future', event: r.event };
    }
    stats.events++;
    if (r.userTruncated) stats.namesTruncated++;
    return { kind: 'event', event: r.event };
  }
}

// ---------------------------------------------------------------------------------------------
// Lines from bytes
// ---------------------------------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
/** What an invalid byte is shown as, before its two hex digits (see the module comment). */
export const INVALID_BYTE_MARK = '\ufffd';

/**
 * Lines of a byte stream (a file, gzip output, stdin), split at LF only, one CR before the LF dropped, each
 * decoded as UTF-8 with invalid bytes kept (`decodeLogLine`). A last line without LF is a line too.
 */
export async function* readLogLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<LogLine> {
  let pending: Buffer[] = [];
  for await (const chunk of input) {
    const buf =
      typeof chunk === 'string'
        ? Buffer.from(chunk, 'utf8')
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let start = 0;
    for (let lf = buf.indexOf(LF, start); lf !== -1; lf = buf.indexOf(LF, start)) {
      const piece = buf.subarray(start, lf);
      yield decodeLogLine(pending.length === 0 ? piece : Buffer.concat([...pending, piece]), true);
      pending = [];
      start = lf + 1;
    }
    // Copied: a stream may reuse its chunk's memory once we return to it.
    if (start < buf.length) pending.push(Buffer.from(buf.subarray(start)));
  }
  if (pending.length > 0) yield decodeLogLine(Buffer.concat(pending), false);
}

/**
 * One line's bytes (without its LF) as text. `endedByLf`: the line was ended by LF, so one CR before it is the
 * CRLF's and is dropped; a last line without LF keeps its bytes (a CR there is not a line end). Valid UTF-8
 * decodes as usual; each byte that does not start a valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) becomes `INVALID_BYTE_MARK` and its two lower-case hex digits, so
 * different bytes stay different text.
 */
export function decodeLogLine(bytes: Uint8Array, endedByLf = true): LogLine {
  const end = endedByLf && bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, end);
  if (isUtf8(b)) return { text: b.toString('utf8'), invalidUtf8: false };
  let text = '';
  let run = 0; // start of the current run of valid bytes
  for (let i = 0; i < b.length; ) {
    const n = utf8SequenceLength(b, i);
    if (n > 0) {
      i += n;
      continue;
    }
    text += b.toString('utf8', run, i) + INVALID_BYTE_MARK + b[i]!.toString(16).padStart(2, '0');
    i++;
    run = i;
  }
  return { text: text + b.toString('utf8', run), invalidUtf8: true };
}

/** Length of the valid UTF-8 sequence starting at `i` (RFC 3629, Table 3-7 of the Unicode standard), or 0 if none does. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}
