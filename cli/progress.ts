/**
 * Progress of a long command on stderr, so stdout stays the command's data. On a terminal the line is redrawn
 * in place (`\r`, erase line) at most every `redrawMs`; otherwise (a pipe, a CI log) a plain line is written
 * every `everyMs`, so a log file gets a heartbeat rather than thousands of redraws.
 */
import { fitWidth, terminalWidth } from './text-width';

export interface ProgressOutput {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressLine {
  /** Report where the work is; drawn or printed when due. */
  update(text: string): void;
  /** Remove the in-place line before other output shares the terminal (an alert on stdout, a summary). */
  clear(): void;
}

export const PROGRESS_REDRAW_MS = 100;
export const PROGRESS_EVERY_MS = 5_000;

export function progressLine(
  stream: ProgressOutput,
  opts: { now?: () => number; redrawMs?: number; everyMs?: number; prefix?: string } = {},
): ProgressLine {
  const now = opts.now ?? Date.now;
  const tty = stream.isTTY === true;
  const interval = tty ? (opts.redrawMs ?? PROGRESS_REDRAW_MS) : (opts.everyMs ?? PROGRESS_EVERY_MS);
  const prefix = opts.prefix ?? '';
  // A pipe gets its first line only after one interval: a quick run prints no progress at all.
  let last = tty ? -Infinity : now();
  let drawn = false;
  return {
    update(text) {
      const t = now();
      if (t - last < interval) return;
      last = t;
      if (tty) {
        // One column short of the width: writing the last column makes some terminals wrap.
        stream.write(
          `\r\x1b[2K${fitWidth(prefix + text, terminalWidth({ isTTY: true, columns: stream.columns ?? 80 }) - 1)}`,
        );
        drawn = true;
      } else stream.write(`${prefix}${text}\n`);
    },
    clear() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
      if (tty) last = -Infinity;
    },
  };
}
