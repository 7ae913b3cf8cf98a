/**
 * Summary statistics of a list of timings. Percentiles use the nearest-rank method, so every
 * reported value is one that was really measured.
 */

/** The summary of one row's samples, in milliseconds. */
export interface Summary {
  n: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

/** The nearest-rank percentile `p` (0-100) of `sorted` (ascending, non-empty). */
export function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Summarizes `samples` (milliseconds); undefined when there are none. */
export function summarize(samples: readonly number[]): Summary | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  // The median of an even count is the mean of the two middle values, as usual.
  const mid = sorted.length >> 1;
  const medianMs = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    medianMs,
    p90Ms: percentile(sorted, 90),
    minMs: sorted[0]!,
    maxMs: sorted[sorted.length - 1]!,
    meanMs: sorted.reduce((s, x) => s + x, 0) / sorted.length,
  };
}

/** Milliseconds since `startNs` (a process.hrtime.bigint() value). */
export function elapsedMs(startNs: bigint): number {
  return Number(process.hrtime.bigint() - startNs) / 1e6;
}
