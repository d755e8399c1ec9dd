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
import { loadNetworkDataFile } from '../shared/adapters/network-data-loader';
import { StreamNetworkDataSource } from '../shared/adapters/network-data-source';
import { NetworkDataBuilder } from '../shared/core/network-data/build';
import { NETWORK_DATA_MAGIC } from '../shared/core/network-data/format';
import { NetworkDatabase } from '../shared/core/network-data/lookup';
import { PROFILES } from '../shared/core/profiles';
import type { Profile } from '../shared/core/profiles/profile';
import { ConfigError, NetworkDataError } from '../shared/errors';
import { safeText } from './format';

/** How many non-empty lines the profile sniffer tries. */
export const SNIFF_LINES = 50;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Why a path cannot be read, as a sentence with what to do; undefined when it can. */
function unreadable(path: string, flag: string, what: string): string | undefined {
  const name = `${flag}${safeText(path, 200)}`;
  try {
    if (statSync(path).isDirectory()) return `${name} is a folder: give ${what}`;
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
export function assertReadableFile(path: string, flag = '', what = 'a log file'): void {
  const why = unreadable(path, flag, what);
  if (why) throw new ConfigError([why]);
}

/** The first `n` bytes of a file (fewer when it is shorter). */
function fileHead(path: string, n: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(n);
    return head.subarray(0, readSync(fd, head, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/** True when the file starts with gzip's magic bytes. */
export function isGzipFile(path: string): boolean {
  const head = fileHead(path, 2);
  return head.length === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
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

/** The network data given with `--network-data`, ready for `DetectionDeps.network`, and a line saying what it holds. */
export interface CliNetworkData {
  readonly db: NetworkDatabase;
  /** `<file>: 12 IPv4 + 3 IPv6 ranges, 10 ASNs (database built 2026-11-30)`, made safe for the terminal. */
  readonly description: string;
}

const NETWORK_DATA_WHAT =
  'an .awnd database (npm run network-data:build) or an IPtoASN ip2asn-combined.tsv, plain or gzip';

/**
 * `--network-data <file>`: an .awnd database (recognised by its magic bytes, whatever its name), or a file in
 * IPtoASN's format (plain or gzip, recognised by its bytes too), built in memory the way `network-data:build` builds
 * it. Lines starting with `#` are comments there (a publisher line starts with an address), so a generated file can
 * say where it came from. Every problem is a `ConfigError` naming the file: a missing, unreadable or corrupt file, or
 * one in which not a single range could be read (not network data at all). Malformed lines in an otherwise good file
 * are counted and skipped, as the build script does, and the description says how many.
 */
export async function loadCliNetworkData(path: string, flag = '--network-data '): Promise<CliNetworkData> {
  assertReadableFile(path, flag, NETWORK_DATA_WHAT);
  const name = `${flag}${safeText(path, 200)}`;
  const head = fileHead(path, 4);
  try {
    if (head.length === 4 && head.readUInt32LE(0) === NETWORK_DATA_MAGIC) {
      const db = await loadNetworkDataFile(path);
      const m = db.meta;
      return {
        db,
        description: `${safeText(path, 200)}: ${m.ipv4Ranges} IPv4 + ${m.ipv6Ranges} IPv6 ranges, ${m.asns} ASNs (database built ${new Date(m.builtAt).toISOString().slice(0, 10)} from ${safeText(m.source, 120)})`,
      };
    }
    const builder = new NetworkDataBuilder();
    let comments = 0;
    // openTextStream gunzips by the magic bytes, as it does for logs, so the source itself never gunzips.
    for await (const line of new StreamNetworkDataSource(path, () => openTextStream(path), false).lines()) {
      if (line.startsWith('#')) comments++;
      else builder.addLine(line);
    }
    const built = builder.finish({ builtAt: statSync(path).mtimeMs, source: path });
    const { stats } = built;
    if (stats.ipv4Ranges + stats.ipv6Ranges === 0)
      throw new ConfigError([
        `${name}: no address range in it (${stats.lines} lines${comments > 0 ? ` besides ${comments} comments` : ''}, ${stats.malformed} malformed${stats.examples[0] ? `, first: ${safeText(stats.examples[0], 120)}` : ''}); give ${NETWORK_DATA_WHAT}`,
      ]);
    const db = NetworkDatabase.fromBytes(built.bytes);
    const skipped = stats.malformed > 0 ? `, ${stats.malformed} malformed lines skipped` : '';
    return {
      db,
      description: `${safeText(path, 200)}: ${stats.ipv4Ranges} IPv4 + ${stats.ipv6Ranges} IPv6 ranges, ${db.meta.asns} ASNs (built from ${stats.lines} lines${skipped})`,
    };
  } catch (e) {
    if (e instanceof NetworkDataError) throw new ConfigError([`${name}: ${e.message}; give ${NETWORK_DATA_WHAT}`]);
    if (typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).code!.startsWith('Z_'))
      throw new ConfigError([`${name}: not a valid gzip file; give ${NETWORK_DATA_WHAT}`]);
    throw e;
  }
}
