/**
 * How long a readiness poll sleeps between looks. A fixed interval makes every start pay half of
 * it on average (50 ms polls cost a 20 ms Redis start 25 ms more); a 1 ms interval forever costs
 * CPU on slow starts. The sleep grows with the time already spent waiting, so the delay a poll
 * adds stays a small fraction of the start itself: 1 ms for the first 20 ms, then one twentieth
 * of the elapsed time, never more than `maxMs`.
 */

/**
 * The sleep before the next look, given how long the wait has lasted so far.
 *
 * @example
 * ```ts
 * pollDelayMs(5);    // 1
 * pollDelayMs(200);  // 10
 * pollDelayMs(5000); // 25
 * ```
 */
export function pollDelayMs(elapsedMs: number, maxMs = 25): number {
  return Math.min(maxMs, Math.max(1, Math.floor(elapsedMs / 20)));
}
