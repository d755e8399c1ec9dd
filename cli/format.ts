/** Human output of the command line: the alert table and the run summary. */
import { plainText } from '../shared/core/alert-text';
import type { Alert } from '../shared/core/model';

const RULE_SHORT: Record<string, string> = { 'Auth.RareUser': 'rare user', 'Auth.UnusualSourceIp': 'unusual IP' };

/** Printable, single-line, bounded: user names and hosts are attacker-controlled. One escaping rule for every human format. */
export function safeText(s: string, max = 60): string {
  return plainText(s, max);
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function wrap(text: string, width: number, indent: string): string {
  const words = safeText(text, 4000).split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line && line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) lines.push(line);
  return lines.map((l) => indent + l).join('\n');
}

/** A readable table: one header line per alert, its explanation wrapped beneath, an optional label. */
export function alertTable(alerts: readonly Alert[], label?: (a: Alert) => string | undefined): string {
  if (alerts.length === 0) return 'No alerts.\n';
  const out: string[] = [];
  out.push(`${pad('TIME (UTC)', 17)} ${pad('RULE', 11)} ${pad('SCORE', 5)} ${pad('USER', 22)} SOURCE IP`);
  for (const a of alerts) {
    const time = a['@timestamp'].slice(0, 16).replace('T', ' ');
    out.push(`${pad(time, 17)} ${pad(RULE_SHORT[a.rule.id] ?? a.rule.id, 11)} ${pad(a.score.toFixed(0), 5)} ${pad(safeText(a.user.name, 22), 22)} ${safeText(a.source.ip, 40)}${a.host.name ? ` → ${safeText(a.host.name, 30)}` : ''}`);
    const l = label?.(a);
    if (l) out.push(`    ${l}`);
    out.push(wrap(a.explanation, 96, '    '));
  }
  return out.join('\n') + '\n';
}
