/**
 * Log files given on the command line: opened with a message a person can act on when they cannot be read,
 * read transparently when gzip-compressed (rotated logs such as auth.log.2.gz are the usual history), and,
 * when a file yields no logon, a hint naming the profiles that do recognise its first lines.
 *
 * Gzip is detected by its magic bytes (1f 8b), not the file name, and decompressed as a stream (node:zlib);
 * other compressions (bzip2, xz, zstd) are not read and not detected: their bytes parse as no logon, and the
 * zero-logon hint says so.
 */
import { closeSync, createReadStream, openSync, readSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { FileLogSource, readLogLines, type LogLine, type ReadOptions } from '../shared/adapters/file-log-source';
import { PROFILES } from '../shared/core/profiles';
import type { Profile } from '../shared/core/profiles/profile';
import { ConfigError } from '../shared/errors';
import { safeText } from './format';

/** How many non-empty lines the profile sniffer tries. */
export const SNIFF_LINES = 50;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Why a path cannot be read, as a sentence with what to do; undefined when it can. */
function unreadable(path: string, flag: string): string | undefined {
  const name = `${flag}${safeText(path, 200)}`;
  try {
    if (statSync(path).isDirectory()) return `${name} is a folder: give a log file`;
    closeSync(openSync(path, 'r'));
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      return `${name}: no such file (check the path; it is relative to ${safeText(process.cwd(), 200)})`;
    if (code === 'EACCES' || code === 'EPERM')
      return `${name}: permission denied (make the file readable, or run as a user who may read it)`;
    return `${name}: cannot be read (${code ?? (e as Error).message})`;
  }
}

/** Throws `ConfigError` naming the file and what to do, unless it is a readable file. `flag`: how the user gave it ("--input ", or "" for a positional). */
export function assertReadableFile(path: string, flag = ''): void {
  const why = unreadable(path, flag);
  if (why) throw new ConfigError([why]);
}

/** True when the file starts with gzip's magic bytes. */
export function isGzipFile(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const n = readSync(fd, head, 0, 2, 0);
    return n === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } finally {
    closeSync(fd);
  }
}

/**
 * The file's bytes, decompressed when gzip. Bytes, not text: `readLines` splits and decodes them as CloudWatch
 * Logs would (LF only; bytes that are not UTF-8 kept distinct), see `readLogLines`.
 */
export function openTextStream(path: string): Readable {
  const raw = createReadStream(path);
  if (!isGzipFile(path)) return raw;
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  raw.pipe(gunzip);
  return gunzip;
}

/** Lines of a byte stream (`readLogLines`); a gzip error becomes a `ConfigError` naming the file. */
export async function* readLines(input: Readable, name: string): AsyncGenerator<LogLine> {
  try {
    yield* readLogLines(input);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_'))
      throw new ConfigError([
        `${safeText(name, 200)}: not a valid gzip file (${code}); decompress it yourself or give the uncompressed log`,
      ]);
    throw e;
  }
}

/**
 * Parse a whole file (plain or gzip) with `profile`. `options.reference`: when the file was written, for the
 * future-dated check (default: now; see `ReadOptions`).
 */
export async function fileLogSource(
  path: string,
  profile: Profile,
  flag = '',
  options: ReadOptions = { reference: Date.now() },
): Promise<FileLogSource> {
  assertReadableFile(path, flag);
  return FileLogSource.fromLogLines(`${profile.id}:${path}`, profile, readLines(openTextStream(path), path), options);
}

/** The first `n` non-empty lines of a file (plain or gzip). */
export async function firstLines(path: string, n = SNIFF_LINES): Promise<string[]> {
  const out: string[] = [];
  const input = openTextStream(path);
  try {
    for await (const { text: line } of readLines(input, path)) {
      if (line.trim() === '') continue;
      out.push(line);
      if (out.length >= n) break;
    }
  } finally {
    input.destroy();
  }
  return out;
}

/** Profiles that find at least one logon in `lines`, the most logons first. */
export function recognisingProfiles(lines: readonly string[]): string[] {
  const hits: [string, number][] = [];
  for (const [id, profile] of Object.entries(PROFILES)) {
    let events = 0;
    for (const line of lines) {
      try {
        if (profile.parseLine(line).kind === 'event') events++;
      } catch {
        // A profile that throws on foreign input does not recognise it.
      }
    }
    if (events > 0) hits.push([id, events]);
  }
  return hits.sort((a, b) => b[1] - a[1]).map(([id]) => id);
}

/**
 * The note printed when `nonEmptyLines` lines yielded no logon with `profileId`: which profiles recognise the
 * first lines, so the user can rerun with the right `--profile`. Undefined when there was nothing to parse.
 */
export function zeroLogonHint(o: {
  name: string;
  profileId: string;
  nonEmptyLines: number;
  sample: readonly string[];
}): string | undefined {
  if (o.nonEmptyLines === 0) return undefined;
  const name = safeText(o.name, 200);
  const head = `0 logons in ${o.nonEmptyLines} non-empty lines of ${name} with --profile ${o.profileId}`;
  const others = recognisingProfiles(o.sample).filter((id) => id !== o.profileId);
  if (others.length > 0) return `${head}; its first lines look like ${others.join(' or ')}: try --profile ${others[0]}`;
  return `${head}; no profile (${Object.keys(PROFILES).join(', ')}) finds a logon in its first ${Math.min(o.sample.length, SNIFF_LINES)} lines: is it an authentication log, uncompressed or gzip?`;
}

/** The zero-logon hint for a file already parsed into `source`, reading its first lines again. */
export async function zeroLogonHintForFile(
  path: string,
  profileId: string,
  source: FileLogSource,
): Promise<string | undefined> {
  if (source.parseStats.events > 0) return undefined;
  const sample = await firstLines(path);
  if (sample.length === 0) return undefined;
  // parseStats.lines counts every line; the hint speaks of non-empty ones, which need a count of their own.
  let nonEmpty = 0;
  for await (const { text } of readLines(openTextStream(path), path)) if (text.trim() !== '') nonEmpty++;
  return zeroLogonHint({ name: path, profileId, nonEmptyLines: nonEmpty, sample });
}
