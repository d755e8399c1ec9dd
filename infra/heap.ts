/**
 * The V8 heap limit a function of `memoryMb` runs with (`--max-old-space-size`, set in its NODE_OPTIONS by
 * infra/constructs/detector.ts): three quarters of its memory. Without it V8 sizes the heap by its own heuristic and
 * collects lazily up to that size, so a large window's peak memory would be the heuristic's, not the run's; the rest
 * is left to the SDK's buffers, the staged files' pages and the runtime. `npm run bench` runs a window with the limit
 * of the budget its peak is held to. No imports: the bench loads this without the CDK.
 */
export function heapMbFor(memoryMb: number): number {
  return Math.floor(memoryMb * 0.75);
}
