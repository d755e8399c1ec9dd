/**
 * Terminal columns, not string length: CJK ideographs, Hangul, fullwidth forms and most emoji take two
 * columns, combining marks and zero-width characters none. User names come from logs in any script, so the
 * tables and wrapped text of the command line measure with this, not with `.length`.
 */

/**
 * East Asian Wide (W) and Fullwidth (F) ranges (Unicode's EastAsianWidth.txt, condensed to the blocks that
 * occur in practice: Hangul Jamo, CJK radicals to Yi, Hangul syllables, CJK compatibility, fullwidth forms,
 * emoji, and the supplementary ideographic planes).
 */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x23e9, 0x23ec],
  [0x25fd, 0x25fe],
  [0x2614, 0x2615],
  [0x2648, 0x2653],
  [0x26a1, 0x26a1],
  [0x26bd, 0x26be],
  [0x26c4, 0x26c5],
  [0x26d4, 0x26d4],
  [0x26ea, 0x26ea],
  [0x26f5, 0x26f5],
  [0x26fa, 0x26fa],
  [0x26fd, 0x26fd],
  [0x2705, 0x2705],
  [0x270a, 0x270b],
  [0x2728, 0x2728],
  [0x274c, 0x274c],
  [0x2753, 0x2755],
  [0x2795, 0x2797],
  [0x2b1b, 0x2b1c],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f004, 0x1f004],
  [0x1f0cf, 0x1f0cf],
  [0x1f18e, 0x1f18e],
  [0x1f191, 0x1f19a],
  [0x1f200, 0x1f251],
  [0x1f300, 0x1f64f],
  [0x1f680, 0x1f6ff],
  [0x1f900, 0x1f9ff],
  [0x1fa70, 0x1faff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

/** Combining marks (Mn, Me) and format characters (Cf: zero-width joiners, bidi marks): no column of their own. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

/** Columns one code point takes: 0, 1 or 2. Controls count 0 (they never reach output: see `safeText`). */
export function charWidth(ch: string): number {
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  if (cp < 0x300) return 1;
  if (ZERO_WIDTH.test(ch)) return 0;
  let lo = 0;
  let hi = WIDE.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return 2;
  }
  return 1;
}

/** Columns `s` takes on a terminal. */
export function displayWidth(s: string): number {
  let w = 0;
  for (const ch of s) w += charWidth(ch);
  return w;
}

/** `s` padded with spaces to `n` columns (never cut). */
export function padEnd(s: string, n: number): string {
  const w = displayWidth(s);
  return w >= n ? s : s + ' '.repeat(n - w);
}

/** `s` cut to at most `n` columns, ending in `…` when cut. */
export function fitWidth(s: string, n: number): string {
  if (displayWidth(s) <= n) return s;
  let out = '';
  let w = 0;
  for (const ch of s) {
    const cw = charWidth(ch);
    if (w + cw > n - 1) break;
    out += ch;
    w += cw;
  }
  return out + '…';
}

/**
 * Break `text` into lines of at most `width` columns at spaces; a word longer than a line is split. Each line
 * after the first starts with `indent` (its columns count against `width`); the first line starts with
 * `firstIndent` (default: `indent`).
 */
export function wrapText(text: string, width: number, indent = '', firstIndent = indent): string[] {
  const lines: string[] = [];
  let prefix = firstIndent;
  let line = '';
  let lineWidth = 0;
  const room = () => Math.max(1, width - displayWidth(prefix));
  const flush = () => {
    lines.push(prefix + line);
    prefix = indent;
    line = '';
    lineWidth = 0;
  };
  for (const word of text.split(' ').filter((w) => w !== '')) {
    let wordWidth = displayWidth(word);
    if (line !== '' && lineWidth + 1 + wordWidth > room()) flush();
    let rest = word;
    // A word wider than a whole line (a long user name, a path): split it across lines.
    while (wordWidth > room() - (line === '' ? 0 : lineWidth + 1)) {
      let head = '';
      let headWidth = 0;
      const avail = room() - (line === '' ? 0 : lineWidth + 1);
      for (const ch of rest) {
        if (headWidth + charWidth(ch) > avail) break;
        head += ch;
        headWidth += charWidth(ch);
      }
      if (head === '') {
        flush();
        continue;
      }
      line = line === '' ? head : `${line} ${head}`;
      lineWidth = displayWidth(line);
      flush();
      rest = rest.slice(head.length);
      wordWidth = displayWidth(rest);
    }
    if (rest === '') continue;
    line = line === '' ? rest : `${line} ${rest}`;
    lineWidth += (lineWidth === 0 ? 0 : 1) + wordWidth;
  }
  if (line !== '' || lines.length === 0) lines.push(prefix + line);
  return lines;
}

/** The output's width in columns: the terminal's when it is one, else 80 (pipes, files, CI logs). */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  return stream.isTTY === true && typeof stream.columns === 'number' && stream.columns > 0 ? stream.columns : 80;
}
