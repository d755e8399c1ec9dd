/**
 * What the command line prints for people: terminal columns (wide and combining characters), wrapping to
 * the terminal's width, the alert table on an 80-column terminal, and progress on a terminal or a pipe.
 */
import { describe, expect, it } from 'vitest';
import { alertTable, jsonLine, safeLines } from '../../cli/format';
import { progressLine } from '../../cli/progress';
import { charWidth, displayWidth, fitWidth, padEnd, terminalWidth, wrapText } from '../../cli/text-width';
import type { Alert } from '../../shared/core/model';

/** Control characters (C0 but newline, DEL, C1) in `s`: none may reach a terminal from log content. */
function controlChars(s: string): string[] {
  return [...s].filter((c) => {
    const n = c.codePointAt(0) ?? 0;
    return (n < 0x20 && n !== 0x0a) || (n >= 0x7f && n < 0xa0);
  });
}

describe('terminal columns', () => {
  it('counts East Asian wide and fullwidth characters as 2, combining marks and zero-width ones as 0', () => {
    expect(displayWidth('alice')).toBe(5);
    expect(displayWidth('山田太郎')).toBe(8);
    expect(displayWidth('김민준')).toBe(6);
    expect(displayWidth('ＡＢＣ')).toBe(6); // fullwidth Latin
    expect(displayWidth('e\u0301')).toBe(1); // e + combining acute
    expect(displayWidth('a\u200db')).toBe(2); // zero-width joiner
    expect(displayWidth('😀')).toBe(2);
    expect(displayWidth('Ω')).toBe(1);
    expect(charWidth('\x1b')).toBe(0);
  });

  it('pads and cuts by columns', () => {
    expect(padEnd('山田', 6)).toBe('山田  ');
    expect(displayWidth(padEnd('山田', 6))).toBe(6);
    expect(fitWidth('山田太郎さん', 7)).toBe('山田太…');
    expect(displayWidth(fitWidth('山田太郎さん', 7))).toBeLessThanOrEqual(7);
    expect(fitWidth('short', 10)).toBe('short');
  });

  it('wraps wide text within the width, never splitting a character, keeping every word', () => {
    const text = 'ユーザー 山田太郎 が 新しい 場所 203.0.113.9 から ログイン しました '.repeat(4) + 'x'.repeat(50);
    for (const width of [20, 33, 80]) {
      const lines = wrapText(text, width, '    ');
      for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(width);
      expect(lines.slice(1).every((l) => l.startsWith('    '))).toBe(true);
      expect(lines.join(' ').split(' ').join('')).toBe(text.split(' ').join(''));
    }
    // A word wider than the line is split at a character boundary.
    expect(wrapText('漢字漢字漢字', 5)).toEqual(['漢字', '漢字', '漢字']);
  });

  it('takes the terminal width when writing to one, 80 otherwise', () => {
    expect(terminalWidth({ isTTY: true, columns: 120 })).toBe(120);
    expect(terminalWidth({ isTTY: false, columns: 120 })).toBe(80);
    expect(terminalWidth({})).toBe(80);
  });
});

function alert(user: string, host: string, explanation: string): Alert {
  return {
    id: 'a1',
    '@timestamp': '2026-03-04T10:15:00.000Z',
    rule: {
      id: 'Auth.UnusualSourceIp',
      name: 'Unusual source IP',
      description: '',
      severity: 'medium',
      risk_score: 47,
      threshold: 75,
      references: [],
      threat: {
        framework: 'MITRE ATT&CK',
        tactic: { id: 'TA0001', name: 'Initial Access', reference: '' },
        technique: [],
      },
    },
    event: { kind: 'alert', category: ['authentication'], outcome: 'success', count: 1 },
    user: { name: user },
    source: { ip: '2001:db8:85a3:1234:5678:8a2e:370:7334' },
    host: { name: host, names: [host] },
    score: 91,
    probability: 0.001,
    explanation,
    evidence: {},
    context: { failed_attempts_from_ip: 0, other_ips_in_window: [], methods: [] },
    window: { start: '2026-03-04T10:00:00.000Z', end: '2026-03-04T10:30:00.000Z' },
    log_source: 'sshd',
    investigation: [],
    false_positives: [],
    silence: [],
  };
}

describe('the alert table', () => {
  it('fits 80 columns with a wide user name, a long address and host, and a long explanation', () => {
    const a = alert(
      '山田太郎',
      'db-primary-01.eu-west-1.int',
      '山田太郎 logged on from 2001:db8:85a3:1234:5678:8a2e:370:7334, an address, subnet and network never seen for this user in 30 days of history; '.repeat(
        3,
      ),
    );
    const table = alertTable(
      [a],
      () => 'a label that is rather long and should wrap under the alert like the explanation does',
      80,
    );
    for (const l of table.trimEnd().split('\n')) expect(displayWidth(l), l).toBeLessThanOrEqual(80);
    expect(table).toContain('山田太郎');
    expect(table).toContain('→ db-primary-01.eu-west-1.int');
    // The user column is padded by columns: the address starts where it does for an ASCII name.
    const ascii = alertTable([alert('yamadata', 'h', 'x')], undefined, 120).split('\n')[1]!;
    const wide = alertTable([alert('山田太郎', 'h', 'x')], undefined, 120).split('\n')[1]!;
    expect(displayWidth(wide.slice(0, wide.indexOf('2001:')))).toBe(
      displayWidth(ascii.slice(0, ascii.indexOf('2001:'))),
    );
  });

  it('escapes terminal controls in user names', () => {
    const t = alertTable([alert('\x1b]0;pwned\x07root', 'h', 'x')], undefined, 80);
    expect(controlChars(t)).toEqual([]);
  });
});

describe('progress', () => {
  function stream(isTTY: boolean) {
    const writes: string[] = [];
    return { writes, write: (s: string) => writes.push(s), isTTY, columns: 40 };
  }

  it('on a terminal: redrawn in place, throttled, cut to the width, cleared before other output', () => {
    let t = 0;
    const s = stream(true);
    const p = progressLine(s, { now: () => t, redrawMs: 100 });
    p.update('window 1/10');
    t = 50;
    p.update('window 2/10'); // too soon
    t = 150;
    p.update('window 3/10 with a long tail that does not fit in forty columns');
    p.clear();
    expect(s.writes).toHaveLength(3);
    expect(s.writes[0]).toBe('\r\x1b[2Kwindow 1/10');
    expect(s.writes[1]!.startsWith('\r\x1b[2Kwindow 3/10')).toBe(true);
    expect(displayWidth(s.writes[1]!.slice(5))).toBeLessThanOrEqual(39);
    expect(s.writes[2]).toBe('\r\x1b[2K');
  });

  it('on a pipe: a plain line every few seconds, none for a quick run', () => {
    let t = 0;
    const s = stream(false);
    const p = progressLine(s, { now: () => t, everyMs: 5_000, prefix: 'replay: ' });
    p.update('window 1/100');
    t = 4_000;
    p.update('window 40/100');
    expect(s.writes).toEqual([]);
    t = 5_500;
    p.update('window 55/100');
    t = 6_000;
    p.update('window 60/100');
    t = 10_600;
    p.update('window 100/100');
    p.clear();
    expect(s.writes).toEqual(['replay: window 55/100\n', 'replay: window 100/100\n']);
  });
});

describe('log content on stdout and in stack traces', () => {
  const evil = 'ro\x1b[2Jot\u009b31m\x7f\u2028x';

  it('jsonLine: the same JSON value, with DEL, C1 controls and line separators escaped as well as C0', () => {
    const doc = { user: evil, n: 1 };
    const line = jsonLine(doc);
    expect(JSON.parse(line)).toEqual(doc);
    expect(controlChars(line)).toEqual([]);
    expect(line).not.toMatch(/[\u2028\u2029]/);
    expect(line).toContain('"ro\\u001b[2Jot\\u009b31m\\u007f\\u2028x"');
    expect(jsonLine({ user: 'jörg 😀' })).toBe(JSON.stringify({ user: 'jörg 😀' }));
  });

  it('safeLines: every line made inert, the line breaks kept', () => {
    const stack = `Error: no baseline for ${evil}\n    at store (x.ts:1:2)\n    at run (y.ts:3:4)`;
    const out = safeLines(stack);
    expect(out.split('\n')).toHaveLength(3); // the U+2028 in the name is a `?`, not a line break
    expect(controlChars(out.replace(/\n/g, ''))).toEqual([]);
    expect(out).toMatch(/^Error: no baseline for ro\?\[2Jot\?31m\?\?x\n {4}at store/);
  });
});
