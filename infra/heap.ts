/**
 * The V8 heap a function of `memoryMb` runs with (set in its NODE_OPTIONS by infra/constructs/detector.ts).
 *
 * - `--max-old-space-size`: three quarters of its memory. Without it V8 sizes the heap by its own heuristic and
 *   collects lazily up to that size, so a large window's peak memory would be the heuristic's, not the run's; the
 *   rest is left to the young generation, the SDK's buffers, the staged files' pages and the runtime.
 * - `--max-semi-space-size=32` from 512 MB up: a run allocates a great many short-lived objects (items decoded,
 *   requests built, observations read back), and V8's smaller default young generation promotes many of them to
 *   be collected again by the slower old-generation collector. A modest gain, measured in paired runs of the
 *   bench's million-logon window (README, "A large window in one function"): about 12 s of 75–90 s of CPU in two
 *   pairs of three, for 40–45 MB more peak; 64 MB gained no more at 509 MB.
 *
 * `npm run bench` runs a window with the flags of the budget its peak is held to. No imports: the bench loads this
 * without the CDK.
 */
export function heapMbFor(memoryMb: number): number {
  return Math.floor(memoryMb * 0.75);
}

/** The young generation's semi-space, in MB, or none (V8's default) below 512 MB. */
export function semiSpaceMbFor(memoryMb: number): number | undefined {
  return memoryMb >= 512 ? 32 : undefined;
}

/** The V8 flags of a function of `memoryMb`, for NODE_OPTIONS or a child process's arguments. */
export function v8FlagsFor(memoryMb: number): string[] {
  const semi = semiSpaceMbFor(memoryMb);
  return [`--max-old-space-size=${heapMbFor(memoryMb)}`, ...(semi ? [`--max-semi-space-size=${semi}`] : [])];
}
