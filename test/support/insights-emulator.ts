/**
 * A small interpreter for the subset of the Logs Insights query language the profile queries use, so a test can
 * run a profile's real query text over sample log events and compare the result rows with what the line parser
 * finds in the same lines. It is deliberately strict: any command, function or syntax outside that subset throws,
 * so a query that grows beyond what is emulated here fails its test instead of passing untested.
 *
 * Emulated (Insights semantics as documented, and conservative where the documentation is silent):
 * - `fields a, b` (display only: a no-op here) and `fields <expr> as name, ...` (assignments);
 * - `filter <expr>` with `and`, `or`, `not`, parentheses, `=`, `!=`, `like /re/`, `not like /re/`,
 *   `ispresent(f)` and `coalesce(...)`; a comparison with an absent field is false (`!=` and `not like` too),
 *   and `=` compares a number literal only with numbers and a string literal only with strings;
 * - `parse <field> /re/`: named groups become fields; a log event the pattern does not match keeps its other fields
 *   and gets none of the pattern's (Insights' `parse` documentation), and a group that takes no part stays absent;
 * - `stats count(*)|sum(f) as logons, min(@timestamp) as first, max(@timestamp) as last by ...` and `limit N`.
 * JSON log events are flattened the way Insights addresses them (dotted paths, arrays by index: `getPath`).
 */
import { getPath } from '../../shared/core/profiles/common';

/** One log event as CloudWatch Logs holds it: the raw message and the event's own time. */
export interface EmulatedEvent {
  readonly message: string;
  readonly timestamp: number;
}

type Value = string | number | boolean | undefined;
type Expr = (rec: Rec) => Value;

class Rec {
  readonly assigned = new Map<string, Value>();
  constructor(
    readonly message: string,
    readonly timestamp: number,
    readonly doc: unknown,
  ) {}
  get(name: string): Value {
    if (this.assigned.has(name)) return this.assigned.get(name);
    if (name === '@message') return this.message;
    if (name === '@timestamp') return this.timestamp;
    const v = this.doc === undefined ? undefined : getPath(this.doc, name);
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : undefined;
  }
}

function docOf(message: string): unknown {
  if (!message.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(message);
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------------------------------------
// Expressions
// ------------------------------------------------------------------------------------------------

type Token =
  | { t: 'id'; v: string }
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 're'; v: RegExp }
  | { t: 'op'; v: string };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let j = i + 1;
      let s = '';
      while (src[j] !== '"') {
        if (j >= src.length) throw new Error(`unterminated string in ${src}`);
        if (src[j] === '\\') j++;
        s += src[j++];
      }
      out.push({ t: 'str', v: s });
      i = j + 1;
    } else if (c === '/') {
      // Only a regex follows `like` here (the profile queries never divide).
      let j = i + 1;
      while (src[j] !== '/') {
        if (j >= src.length) throw new Error(`unterminated regex in ${src}`);
        if (src[j] === '\\') j++;
        j++;
      }
      out.push({ t: 're', v: new RegExp(src.slice(i + 1, j)) });
      i = j + 1;
    } else if (/\d/.test(c)) {
      const m = /^\d+/.exec(src.slice(i))![0];
      out.push({ t: 'num', v: Number(m) });
      i += m.length;
    } else if (/[@A-Za-z_]/.test(c)) {
      const m = /^[@A-Za-z_][\w.@]*/.exec(src.slice(i))![0];
      out.push({ t: 'id', v: m });
      i += m.length;
    } else if (src.startsWith('!=', i)) {
      out.push({ t: 'op', v: '!=' });
      i += 2;
    } else if ('(),='.includes(c)) {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      throw new Error(`unsupported character ${JSON.stringify(c)} in ${src}`);
    }
  }
  return out;
}

class ExprParser {
  private i = 0;
  constructor(private readonly toks: Token[]) {}

  static parse(src: string): Expr {
    const p = new ExprParser(tokenize(src));
    const e = p.or();
    if (p.i !== p.toks.length) throw new Error(`unexpected ${JSON.stringify(p.toks[p.i])} in ${src}`);
    return e;
  }

  private peekWord(w: string): boolean {
    const t = this.toks[this.i];
    return t?.t === 'id' && t.v === w;
  }
  private peekOp(o: string): boolean {
    const t = this.toks[this.i];
    return t?.t === 'op' && t.v === o;
  }
  private expectOp(o: string): void {
    if (!this.peekOp(o)) throw new Error(`expected ${o}, got ${JSON.stringify(this.toks[this.i])}`);
    this.i++;
  }
  private regex(): RegExp {
    const t = this.toks[this.i++];
    if (t?.t !== 're') throw new Error('expected a regex after like');
    return t.v;
  }

  private or(): Expr {
    let left = this.and();
    while (this.peekWord('or')) {
      this.i++;
      const [a, b] = [left, this.and()];
      left = (r) => a(r) === true || b(r) === true;
    }
    return left;
  }
  private and(): Expr {
    let left = this.unary();
    while (this.peekWord('and')) {
      this.i++;
      const [a, b] = [left, this.unary()];
      left = (r) => a(r) === true && b(r) === true;
    }
    return left;
  }
  private unary(): Expr {
    if (this.peekWord('not')) {
      this.i++;
      const e = this.unary();
      return (r) => e(r) !== true;
    }
    return this.comparison();
  }
  private comparison(): Expr {
    const left = this.primary();
    if (this.peekOp('=') || this.peekOp('!=')) {
      const neg = this.toks[this.i++]!.v === '!=';
      const right = this.primary();
      return (r) => {
        const [a, b] = [left(r), right(r)];
        if (a === undefined || b === undefined) return false;
        return typeof a === typeof b && (a === b) !== neg;
      };
    }
    if (this.peekWord('like') || (this.peekWord('not') && this.toks[this.i + 1]?.v === 'like')) {
      const neg = this.peekWord('not');
      this.i += neg ? 2 : 1;
      const re = this.regex();
      return (r) => {
        const v = left(r);
        return v === undefined ? false : re.test(String(v)) !== neg;
      };
    }
    return left;
  }
  private primary(): Expr {
    const t = this.toks[this.i++];
    if (!t) throw new Error('unexpected end of expression');
    if (t.t === 'op' && t.v === '(') {
      const e = this.or();
      this.expectOp(')');
      return e;
    }
    if (t.t === 'str' || t.t === 'num') return () => t.v;
    if (t.t !== 'id') throw new Error(`unexpected ${JSON.stringify(t)}`);
    if (!this.peekOp('(')) return (r) => r.get(t.v);
    this.i++;
    const args: Expr[] = [];
    if (!this.peekOp(')')) {
      args.push(this.or());
      while (this.peekOp(',')) {
        this.i++;
        args.push(this.or());
      }
    }
    this.expectOp(')');
    switch (t.v) {
      case 'coalesce':
        return (r) => args.map((a) => a(r)).find((v) => v !== undefined);
      case 'ispresent':
        if (args.length !== 1) throw new Error('ispresent takes one field');
        return (r) => args[0]!(r) !== undefined;
      default:
        throw new Error(`unsupported function ${t.v}`);
    }
  }
}

/** Split on commas outside parentheses. */
function splitTop(s: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      parts.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(s.slice(start).trim());
  return parts;
}

// ------------------------------------------------------------------------------------------------
// Commands
// ------------------------------------------------------------------------------------------------

const STATS =
  /^stats (?:count\(\*\)|sum\((?<sum>[\w.@]+)\)) as logons, min\(@timestamp\) as first, max\(@timestamp\) as last by (?<by>.+)$/;

/**
 * Run `query` (a profile's query text) over `events` and return the result rows as Insights does: every value a
 * string, a group-by column absent from a row when the group's value was absent.
 */
export function runInsightsQuery(query: string, events: readonly EmulatedEvent[]): Record<string, string>[] {
  let recs = events.map((e) => new Rec(e.message, e.timestamp, docOf(e.message)));
  let rows: Record<string, string>[] | undefined;
  for (const raw of query.split(/\n\| /)) {
    const cmd = raw.trim();
    if (rows !== undefined && !cmd.startsWith('limit ')) throw new Error(`command after stats not emulated: ${cmd}`);
    if (cmd.startsWith('fields ')) {
      for (const item of splitTop(cmd.slice('fields '.length))) {
        const m = /^(.*) as ([\w.@]+)$/.exec(item);
        if (!m) continue; // a bare field: display only
        const e = ExprParser.parse(m[1]!);
        for (const r of recs) {
          const v = e(r);
          if (v === undefined) r.assigned.delete(m[2]!);
          else r.assigned.set(m[2]!, v);
        }
      }
    } else if (cmd.startsWith('filter ')) {
      const e = ExprParser.parse(cmd.slice('filter '.length));
      recs = recs.filter((r) => e(r) === true);
    } else if (cmd.startsWith('parse ')) {
      const m = /^parse ([\w.@]+) \/(.*)\/$/.exec(cmd);
      if (!m) throw new Error(`parse form not emulated: ${cmd}`);
      const re = new RegExp(m[2]!);
      for (const r of recs) {
        const v = r.get(m[1]!);
        const groups = v === undefined ? undefined : re.exec(String(v))?.groups;
        for (const [k, g] of Object.entries(groups ?? {})) if (g !== undefined) r.assigned.set(k, g);
      }
    } else if (cmd.startsWith('stats ')) {
      const m = STATS.exec(cmd);
      if (!m) throw new Error(`stats form not emulated: ${cmd}`);
      const by = m.groups!.by!.split(',').map((s) => s.trim());
      const sumField = m.groups!.sum;
      const groups = new Map<string, { keys: Value[]; logons: number; first: number; last: number }>();
      for (const r of recs) {
        const keys = by.map((b) => r.get(b));
        const k = JSON.stringify(keys);
        const n = sumField === undefined ? 1 : Number(r.get(sumField));
        const g = groups.get(k) ?? { keys, logons: 0, first: r.timestamp, last: r.timestamp };
        g.logons += n;
        g.first = Math.min(g.first, r.timestamp);
        g.last = Math.max(g.last, r.timestamp);
        groups.set(k, g);
      }
      rows = [...groups.values()].map((g) => {
        const row: Record<string, string> = {
          logons: String(g.logons),
          first: String(g.first),
          last: String(g.last),
        };
        by.forEach((b, i) => {
          if (g.keys[i] !== undefined) row[b] = String(g.keys[i]);
        });
        return row;
      });
    } else if (cmd.startsWith('limit ')) {
      const n = Number(cmd.slice('limit '.length));
      if (rows === undefined) recs = recs.slice(0, n);
      else rows = rows.slice(0, n);
    } else {
      throw new Error(`command not emulated: ${cmd}`);
    }
  }
  if (rows === undefined) throw new Error('a profile query must end in stats');
  return rows;
}
