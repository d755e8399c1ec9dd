/**
 * Reading a log file as CloudWatch Logs would: lines at LF only, invalid UTF-8 kept distinct and counted,
 * future-dated logons counted and skipped, long names counted. Byte streams are built in memory.
 */
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeLogLine,
  FileLogSource,
  FUTURE_SKEW_MS,
  INVALID_BYTE_MARK,
  LineReader,
  readLogLines,
  type LogLine,
} from '../../shared/adapters/file-log-source';
import { sshdProfile } from '../../shared/core/profiles';

const sshd = sshdProfile({ year: 2026 });
const logon = (user: string, ip = '203.0.113.9', stamp = '2026-03-20T10:00:00Z') =>
  `${stamp} web-01 sshd[1]: Accepted password for ${user} from ${ip} port 5000 ssh2`;

/** Lines of `bytes`, delivered in chunks of `chunk` bytes (so sequences and CRLFs are cut across chunks). */
async function lines(bytes: Buffer, chunk = bytes.length || 1): Promise<LogLine[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const out: LogLine[] = [];
  for await (const l of readLogLines(Readable.from(parts))) out.push(l);
  return out;
}

describe('readLogLines: lines end at LF only, as the CloudWatch agent splits them', () => {
  it('keeps a lone CR inside its line, drops the CR of a CRLF, and reads a last line without LF', async () => {
    const bytes = Buffer.from(`a\rb\r\nc\nd\r\r\n\nlast\r`);
    for (const chunk of [1, 2, 3, bytes.length]) {
      expect(
        (await lines(bytes, chunk)).map((l) => l.text),
        `chunk ${chunk}`,
      ).toEqual(['a\rb', 'c', 'd\r', '', 'last\r']);
    }
  });

  it('gives nothing for an empty input and no extra line after a final LF', async () => {
    expect(await lines(Buffer.alloc(0))).toEqual([]);
    expect((await lines(Buffer.from('x\n'))).map((l) => l.text)).toEqual(['x']);
  });

  it('decodes UTF-8 cut across chunks', async () => {
    const bytes = Buffer.from('jörg 😀\nzoë\n');
    expect(await lines(bytes, 1)).toEqual([
      { text: 'jörg 😀', invalidUtf8: false },
      { text: 'zoë', invalidUtf8: false },
    ]);
  });
});

describe('decodeLogLine: bytes that are not UTF-8 stay distinct', () => {
  it('marks each invalid byte with its hex digits, and says the line had some', () => {
    expect(decodeLogLine(Buffer.from([0x6a, 0xf6, 0x72, 0x67]))).toEqual({
      text: `j${INVALID_BYTE_MARK}f6rg`,
      invalidUtf8: true,
    });
    expect(decodeLogLine(Buffer.from([0x6a, 0xe4, 0x72, 0x67])).text).toBe(`j${INVALID_BYTE_MARK}e4rg`);
    expect(decodeLogLine(Buffer.from('jörg')).invalidUtf8).toBe(false);
  });

  it('rejects what RFC 3629 rejects: overlong forms, surrogates, beyond U+10FFFF, truncated and stray continuation bytes', () => {
    const cases: [number[], string][] = [
      [[0xc0, 0xaf], 'c0 af'], // overlong "/"
      [[0xe0, 0x80, 0xaf], 'e0 80 af'], // overlong
      [[0xed, 0xa0, 0x80], 'ed a0 80'], // a surrogate, U+D800
      [[0xf4, 0x90, 0x80, 0x80], 'f4 90 80 80'], // U+110000
      [[0xf0, 0x9f, 0x98], 'f0 9f 98'], // 😀 without its last byte
      [[0x80], '80'],
      [[0xff], 'ff'],
    ];
    for (const [bytes, hex] of cases) {
      const want = hex
        .split(' ')
        .map((h) => `${INVALID_BYTE_MARK}${h}`)
        .join('');
      expect(decodeLogLine(Buffer.from([0x61, ...bytes, 0x62])).text, hex).toBe(`a${want}b`);
    }
    // Valid sequences right next to invalid bytes are decoded as usual.
    expect(decodeLogLine(Buffer.from([0xff, ...Buffer.from('😀é'), 0xfe])).text).toBe(
      `${INVALID_BYTE_MARK}ff😀é${INVALID_BYTE_MARK}fe`,
    );
  });

  it('agrees with Node on valid UTF-8, and different bytes never give the same text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(decodeLogLine(Buffer.from(s, 'utf8'), false)).toEqual({ text: s, invalidUtf8: false });
      }),
      { numRuns: 300 },
    );
    // Bytes without EF (so no literal U+FFFD in the input): the text determines the bytes.
    const seen = new Map<string, string>();
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 6 }).filter((b) => !b.includes(0xef)),
        (b) => {
          const bytes = Buffer.from(b);
          const { text } = decodeLogLine(bytes, false);
          const prev = seen.get(text);
          if (prev !== undefined) expect(prev, text).toBe(bytes.toString('hex'));
          seen.set(text, bytes.toString('hex'));
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('LineReader', () => {
  it('two names differing only in an invalid byte are two users; the lines are counted', async () => {
    const bytes = Buffer.concat([
      Buffer.from(logon('j\xf6rg'), 'latin1'),
      Buffer.from('\n'),
      Buffer.from(logon('j\xe4rg', '203.0.113.10'), 'latin1'),
      Buffer.from('\n'),
    ]);
    const source = await FileLogSource.fromLogLines('t', sshd, readLogLines(Readable.from([bytes])));
    expect(
      source
        .logons()
        .map((e) => e.user)
        .sort(),
    ).toEqual([`j${INVALID_BYTE_MARK}e4rg`, `j${INVALID_BYTE_MARK}f6rg`]);
    expect(source.parseStats).toMatchObject({ lines: 2, events: 2, invalidUtf8: 2 });
  });

  it('a logon with a lone CR after its port is one line and one logon (readline made two lines of it)', async () => {
    const bytes = Buffer.from(`${logon('bob')}\r: RSA SHA256:abc\r\n${logon('carol')}\r\n`);
    const source = await FileLogSource.fromLogLines('t', sshd, readLogLines(Readable.from([bytes])));
    expect(source.parseStats).toMatchObject({ lines: 2, events: 2, skipped: 0 });
    expect(source.logons().map((e) => e.user)).toEqual(['bob', 'carol']);
  });

  it('skips and counts logons dated after the reference plus the skew, keeping the line, user and time', () => {
    const reference = Date.parse('2026-04-01T00:00:00Z');
    const reader = new LineReader(sshd, { reference });
    const justIn = new Date(reference + FUTURE_SKEW_MS).toISOString();
    const out = new Date(reference + FUTURE_SKEW_MS + 1000).toISOString();
    const results = [
      logon('alice', undefined, justIn),
      'not a logon',
      logon('mallory', undefined, '2099-06-01T10:00:00Z'),
      logon('eve', undefined, out),
    ].map((l) => reader.add(l).kind);
    expect(results).toEqual(['event', 'skip', 'future', 'future']);
    expect(reader.stats).toMatchObject({ lines: 4, events: 1, skipped: 1, future: 2 });
    expect(reader.stats.futureSamples).toEqual([
      { line: 3, timestamp: Date.parse('2099-06-01T10:00:00Z'), user: 'mallory' },
      { line: 4, timestamp: Date.parse(out), user: 'eve' },
    ]);
    // Without a reference (generated scenarios) nothing is in the future.
    expect(new LineReader(sshd).add(logon('mallory', undefined, '2099-06-01T10:00:00Z')).kind).toBe('event');
  });

  it('counts user names cut to the bound', () => {
    const reader = new LineReader(sshd);
    const r = reader.add(logon('A'.repeat(100_000)));
    expect(r.kind).toBe('event');
    expect(reader.stats).toMatchObject({ events: 1, namesTruncated: 1 });
    reader.add(logon('alice'));
    expect(reader.stats).toMatchObject({ events: 2, namesTruncated: 1 });
  });
});
