/**
 * Untrusted text made safe for a person to read: a value a user or a log line controls (a user name, a host name,
 * an address field, an explanation built from them, a network owner's name from the publisher's file) can hold
 * newlines that forge lines, markdown that becomes links, `<!channel>` that pings everyone, right-to-left overrides
 * that reorder what an analyst reads, or 10 KB of padding. These helpers make it single-line, printable, bounded and
 * inert in the target format (plain text or chat markdown). Used by the alert texts, the CLI and every message that
 * quotes input back.
 */

/** Default bound for one untrusted identifier (user name, host name) in any human format. */
export const VALUE_MAX_CHARS = 128;

/** What ends a cut value. */
export const ELLIPSIS = '…';

/**
 * Characters that must never reach a person's screen from untrusted input: C0/C1 controls and DEL
 * (newlines, tabs, escape sequences), Unicode line/paragraph separators, bidi embeddings/overrides/isolates
 * (Trojan-Source style reordering), zero-width characters and the BOM (invisible padding that makes two
 * names look alike). Each becomes `?`, so an analyst sees that something was there.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it removes
const UNSAFE_CHARS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/** Split into code points (never cut a surrogate pair in half). */
function codePoints(s: string): string[] {
  return Array.from(s);
}

/**
 * Cut `s` to at most `max` characters (code points), ending in `…` when cut. A value of tens of
 * kilobytes is cut without first splitting all of it.
 */
export function truncate(s: string, max: number): string {
  if (max <= 0) return '';
  if (s.length <= max) return s; // UTF-16 length ≥ code-point count
  const head = codePoints(s.slice(0, max * 2 + 2));
  if (head.length <= max && s.length <= max * 2 + 2) return s;
  return head.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
}

/** Printable, single-line, bounded: the plain-text form of an untrusted value (email, CLI, logs for people). */
export function plainText(s: string, max = VALUE_MAX_CHARS): string {
  // Cut first (bounded work on huge input), then clean: cleaning is one-to-one, so the length holds.
  return truncate(s, max).replace(UNSAFE_CHARS, '?');
}

/** SNS Subject-safe: printable ASCII only, no controls, bounded. Non-ASCII becomes `?`. */
export function asciiText(s: string, max: number): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, Math.max(0, max - 3))}...` : clean;
}

/**
 * Markdown escapes for chat (Slack mrkdwn, Teams/Chime markdown, which Chatbot's `client-markdown` targets):
 * `&`, `<`, `>` become entities (Slack's own rule, and it also defuses `<!channel>`, `<@U…>` and `<url|text>`);
 * `\ * _ ~ \` [ ] ( ) |` and `#` get a backslash (emphasis, code, links, tables, headings).
 */
const MD_ENTITY: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const MD_BACKSLASH = new Set(['\\', '*', '_', '~', '`', '[', ']', '(', ')', '|', '#']);

function escapeMarkdownChar(c: string, parens: boolean): string {
  const entity = MD_ENTITY[c];
  if (entity) return entity;
  if (MD_BACKSLASH.has(c) && (parens || (c !== '(' && c !== ')'))) return `\\${c}`;
  return c;
}

/**
 * Escape `s` for chat markdown, bounded so that the ESCAPED result is at most `max` characters (escaping can
 * multiply a value's length by five; the bound is on what is displayed and sent). `@` at the start of a word
 * gets a zero-width space after it, so `@channel`/`@here`/`@someone` in a user name never notifies anyone.
 * `parens: false` leaves `(` and `)` alone: used for our own template text, where they cannot form a link
 * because `[`/`]` are escaped, and where Slack (which has no backslash escapes) would show the backslashes.
 */
export function escapeMarkdown(s: string, max = VALUE_MAX_CHARS, opts: { parens?: boolean } = {}): string {
  const parens = opts.parens ?? true;
  const clean = truncate(s, Math.max(max, 1) * 2).replace(UNSAFE_CHARS, '?');
  let out = '';
  let count = 0;
  let prev = ' ';
  const chars = codePoints(clean);
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    let e = escapeMarkdownChar(c, parens);
    if (c === '@' && /\s/.test(prev)) e = '@\u200b';
    const eLen = codePoints(e).length;
    const remaining = chars.length - i - 1;
    // Reserve one character for the ellipsis unless this is the last character.
    if (count + eLen + (remaining > 0 ? 1 : 0) > max) {
      if (remaining === 0 && count + eLen <= max) {
        out += e;
        count += eLen;
      } else out += ELLIPSIS;
      return out;
    }
    out += e;
    count += eLen;
    prev = c;
  }
  return out;
}

/**
 * Render text that mixes our own template with untrusted values (an explanation sentence, a silence hint):
 * each occurrence of an untrusted value (raw, or as it appears inside a JSON string literal) is shortened to
 * `valueMax` and fully escaped; the template around it is escaped too, but keeps its parentheses.
 * `format: 'plain'` only shortens values and strips unsafe characters.
 */
export function renderMixed(
  text: string,
  untrusted: readonly string[],
  opts: { format: 'markdown' | 'plain'; max: number; valueMax?: number },
): string {
  const valueMax = opts.valueMax ?? VALUE_MAX_CHARS;
  const needles = new Set<string>();
  for (const v of untrusted) {
    if (v.length === 0) continue;
    needles.add(v);
    const inJson = JSON.stringify(v).slice(1, -1);
    if (inJson !== v) needles.add(inJson);
  }
  // Longest first, so a value containing another is matched whole.
  const sorted = [...needles].sort((a, b) => b.length - a.length);
  const pieces: { text: string; untrusted: boolean }[] = [];
  let rest = text;
  while (rest.length > 0) {
    let best: { at: number; needle: string } | undefined;
    for (const n of sorted) {
      const at = rest.indexOf(n);
      if (at >= 0 && (!best || at < best.at)) best = { at, needle: n };
    }
    if (!best) {
      pieces.push({ text: rest, untrusted: false });
      break;
    }
    if (best.at > 0) pieces.push({ text: rest.slice(0, best.at), untrusted: false });
    pieces.push({ text: best.needle, untrusted: true });
    rest = rest.slice(best.at + best.needle.length);
  }
  const rendered = pieces
    .map((p) => {
      if (opts.format === 'plain') return plainText(p.text, p.untrusted ? valueMax : opts.max);
      return escapeMarkdown(p.text, p.untrusted ? valueMax : opts.max, { parens: p.untrusted });
    })
    .join('');
  return opts.format === 'plain' ? truncate(rendered, opts.max) : clampEscaped(rendered, opts.max);
}

/** Cut already-escaped markdown to `max` characters without leaving half an entity or a dangling backslash. */
export function clampEscaped(s: string, max: number): string {
  const chars = codePoints(s);
  if (chars.length <= max) return s;
  let cut = chars.slice(0, Math.max(0, max - 1)).join('');
  cut = cut.replace(/&[a-z]{0,3}$/, '');
  if (/(^|[^\\])(\\\\)*\\$/.test(cut)) cut = cut.slice(0, -1);
  return cut + ELLIPSIS;
}
