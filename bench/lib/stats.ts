/** Small statistics for benchmark samples. */

/** Summary of repeated measurements. */
export interface SampleSummary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
  mean: number;
  /** The raw samples, in run order. */
  samples: number[];
}

/**
 * The p-th percentile (0–100) with linear interpolation between closest ranks (NumPy's default, "type 7"), so it is
 * meaningful for the handful of runs a benchmark does. NaN for no samples.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Median (the mean of the two middle values for an even count). */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

/** n, median, p90, min, max and mean of the samples. */
export function summarize(samples: readonly number[]): SampleSummary {
  return {
    n: samples.length,
    median: median(samples),
    p90: percentile(samples, 90),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
    mean: samples.length ? samples.reduce((a, b) => a + b, 0) / samples.length : NaN,
    samples: [...samples],
  };
}
