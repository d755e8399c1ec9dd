/** Human output of the command line: the alert table and the run summary. */
import type { ParseStats } from '../shared/adapters/file-log-source';
import { campaignCounts, campaignLinkLines, campaignUserLines, sourceText } from '../shared/core/alert-text';
import { plainText } from '../shared/core/untrusted-text';
import { DETECTORS } from '../shared/core/detectors';
import type { Alert } from '../shared/core/model';
import { displayWidth, padEnd, terminalWidth, wrapText } from './text-width';

/** The RULE column: the detector's `columnLabel`, or the id of a rule no longer registered. */
function ruleColumn(a: Alert): string {
  return DETECTORS.find((d) => d.id === a.rule.id)?.columnLabel ?? a.rule.id;
}

/** Printable, single-line, bounded: user names and hosts are attacker-controlled. One escaping rule for every human format. */
export function safeText(s: string, max = 60): string {
  return plainText(s, max);
}

/**
 * What a file's reading counted besides logons and malformed lines, as `, n what` phrases for a counts line
 * (empty when there was none of it): future-dated logons (skipped), lines with invalid UTF-8, names cut to the bound.
 */
export function readingCounts(ps: Pick<ParseStats, 'future' | 'invalidUtf8' | 'namesTruncated'>): string {
  return [
    ps.future > 0 ? `, ${ps.future} dated in the future` : '',
    ps.invalidUtf8 > 0 ? `, ${ps.invalidUtf8} with invalid UTF-8` : '',
    ps.namesTruncated > 0 ? `, ${ps.namesTruncated} user names cut` : '',
  ].join('');
}

/** Several lines (a stack trace), each made safe as `safeText` does, the line breaks kept. */
export function safeLines(s: string, maxLines = 40): string {
  return s
    .split('\n')
    .slice(0, maxLines)
    .map((l) => safeText(l, 2_000))
    .join('\n');
}

/**
 * One JSON line for stdout. JSON.stringify escapes C0 controls but not DEL and the C1 controls (U+0080–U+009F,
 * among them CSI, which some terminals obey like ESC [): those are escaped too, and U+2028/U+2029, so a user
 * name in a logon or alert printed to a terminal cannot drive it. The text is the same JSON value.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * `text` made safe (`safeText`) and wrapped to `width` columns, every line starting with `indent`.
 * Wide characters count two columns, combining marks none.
 */
export function wrap(text: string, width: number, indent: string): string {
  return wrapText(safeText(text, 4000), width, indent).join('\n');
}

/** `key: value` with the value wrapped under itself when it does not fit (status, explain, show). */
export function fieldRow(key: string, value: string, keyWidth: number, width = terminalWidth()): string {
  const head = `  ${padEnd(`${key}:`, keyWidth)} `;
  return wrapText(value, width, ' '.repeat(displayWidth(head)), head).join('\n');
}

/** One preformatted line wrapped to `width`: a `  key:   value` row continues under its value, other lines under their indent. */
export function wrapPreformatted(line: string, width: number): string[] {
  if (displayWidth(line) <= width) return [line];
  const prefix = /^(\s+[^:]{1,40}:\s+)\S/.exec(line)?.[1] ?? /^\s*(?:\d+\.\s|-\s)?/.exec(line)![0];
  return wrapText(line.slice(prefix.length), width, ' '.repeat(displayWidth(prefix)), prefix);
}

/**
 * A readable table: one header line per alert, its explanation wrapped beneath, an optional label. Fits
 * `width` columns (the terminal's, 80 when not a terminal): a line too long for it continues indented.
 */
export function alertTable(
  alerts: readonly Alert[],
  label?: (a: Alert) => string | undefined,
  width = terminalWidth(),
): string {
  if (alerts.length === 0) return 'No alerts.\n';
  const out: string[] = [];
  out.push(`${padEnd('TIME (UTC)', 17)} ${padEnd('RULE', 11)} ${padEnd('SCORE', 5)} ${padEnd('USER', 22)} SOURCE IP`);
  for (const a of alerts) {
    const time = a['@timestamp'].slice(0, 16).replace('T', ' ');
    // An alert about a source has no user: its column says how many, and the users follow beneath.
    const c = campaignCounts(a);
    const userColumn = c ? `(${c.users} users)` : a.user.name === '' ? '(all users)' : safeText(a.user.name, 22);
    const head = `${padEnd(time, 17)} ${padEnd(ruleColumn(a), 11)} ${padEnd(a.score.toFixed(0), 5)} ${padEnd(userColumn, 22)}`;
    // The address with its owner and country when known: `8.8.8.8 (AS15169 GOOGLE, US)`.
    const ip = sourceText(a, safeText);
    const host = a.host.name ? `→ ${safeText(a.host.name, 30)}` : '';
    const whole = `${head} ${ip}${host ? ` ${host}` : ''}`;
    // Too wide for the terminal: the host, then the address, continue on the next line.
    if (displayWidth(whole) <= width) out.push(whole);
    else if (displayWidth(head) + 1 + displayWidth(ip) <= width)
      out.push(
        `${head} ${ip}`,
        ...wrapText(
          host,
          width,
          '      ',
          ' '.repeat(Math.min(displayWidth(head) + 1, Math.max(4, width - displayWidth(host)))),
        ),
      );
    else {
      out.push(head.trimEnd());
      const tail = `    ${ip}${host ? ` ${host}` : ''}`;
      if (displayWidth(tail) <= width) out.push(tail);
      else out.push(...wrapText(ip, width, '      ', '    '), ...(host ? wrapText(host, width, '      ', '    ') : []));
    }
    const l = label?.(a);
    if (l) out.push(wrapText(l, width, '      ', '    ').join('\n'));
    out.push(wrap(a.explanation, width, '    '));
    if (c)
      out.push(wrapText(`users: ${campaignUserLines(a, safeText, 10).join('; ')}`, width, '      ', '    ').join('\n'));
    for (const link of campaignLinkLines(a, safeText)) out.push(wrapText(link, width, '      ', '    ').join('\n'));
  }
  return out.join('\n') + '\n';
}
