/**
 * Summaries for the Kafka benchmark (bench/kafka.ts): nearest-rank percentiles of latencies and
 * the median with min–max of repeated runs.
 *
 *   percentile([5, 1, 3], 0.5)          // 3
 *   spread([120, 100, 110])             // { n: 3, median: 110, min: 100, max: 120 }
 */

/**
 * The nearest-rank percentile of `sorted` (ascending): the smallest value with at least a
 * fraction `q` of the values at or below it, so every result is an observed value (p100 is the
 * maximum, p0 the minimum). Throws on an empty input or a `q` outside [0, 1].
 */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error("percentile of no values");
  if (!(q >= 0 && q <= 1)) throw new Error(`percentile rank must be within [0, 1], got ${q}`);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

/** `percentileSorted` of unsorted values (sorted into a copy). */
export const percentile = (values: readonly number[], q: number): number => percentileSorted(Float64Array.from(values).sort(), q);

export interface Spread {
  readonly n: number;
  /** The middle value; for an even count, the mean of the two middle values. */
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median and range of repeated measurements. Throws on an empty input. */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) throw new Error("spread of no values");
  const s = Float64Array.from(values).sort();
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { n: s.length, median, min: s[0]!, max: s[s.length - 1]! };
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** p50, p99 and max of latencies (ms). Throws on an empty input. */
export function latencySummary(latencies: readonly number[] | Float64Array): LatencySummary {
  const s = Float64Array.from(latencies).sort();
  return { count: s.length, p50: percentileSorted(s, 0.5), p99: percentileSorted(s, 0.99), max: percentileSorted(s, 1) };
}
