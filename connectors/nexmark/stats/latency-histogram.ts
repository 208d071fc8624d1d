/**
 * A mergeable log-linear latency histogram (2 significant digits), for latencies in whole µs.
 *
 * A value v (rounded up to a whole µs, negative taken as 0) is counted in the bucket whose upper
 * bound is v rounded up to 2 significant digits: 0..100 exactly, then 110, 120, ..., 990, 1000,
 * 1100, ... So a percentile read from the histogram is the bucket bound of the true sample: at
 * or above it, by less than 10 % (less than 1 µs below 100 µs). Histograms merge by adding counts
 * per bound, whatever files or processes they came from; `max` is kept exactly.
 *
 *   const h = new LatencyHistogram();
 *   h.record(1234.5);           // counted under 1300
 *   h.toJSON();                 // { count: 1, p50: 1300, p99: 1300, max: 1235, histogram: [[1300, 1]] }
 */

export interface LatencyJson {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  /** Exact maximum (µs, rounded up). */
  readonly max: number;
  /** [upper bound µs, count], bounds ascending, counts > 0. */
  readonly histogram: readonly (readonly [number, number])[];
}

/** Bucket index of a whole, non-negative number of µs. */
export const bucketIndex = (v: number): number => {
  if (v <= 100) return v;
  let scale = 1;
  let digits = 1;
  while (v >= scale * 10) {
    scale *= 10;
    digits++;
  }
  // v has `digits` >= 3 digits: round up to 2 significant digits, m in 10..100.
  const unit = scale / 10;
  let m = Math.ceil(v / unit);
  let d = digits;
  if (m === 100) {
    m = 10;
    d++;
  }
  // 100 is index 100 (d = 3, m = 10); each later decade has 90 bounds.
  return 100 + (d - 3) * 90 + (m - 10);
};

/** Upper bound (µs) of bucket `index`. */
export const bucketBound = (index: number): number => {
  if (index <= 100) return index;
  const d = 3 + Math.floor((index - 100) / 90);
  const m = 10 + ((index - 100) % 90);
  return m * 10 ** (d - 2);
};

/** The value a bucket stands for: `v` rounded up to a whole µs and to 2 significant digits. */
export const bucketUpper = (v: number): number => bucketBound(bucketIndex(Math.max(0, Math.ceil(v))));

export class LatencyHistogram {
  private counts = new Float64Array(1024);
  private total = 0;
  private maxUs = 0;

  record(latencyUs: number): void {
    const v = latencyUs > 0 ? Math.ceil(latencyUs) : 0;
    const i = bucketIndex(v);
    if (i >= this.counts.length) {
      const grown = new Float64Array(Math.max(i + 1, this.counts.length * 2));
      grown.set(this.counts);
      this.counts = grown;
    }
    this.counts[i]!++;
    this.total++;
    if (v > this.maxUs) this.maxUs = v;
  }

  get count(): number {
    return this.total;
  }

  toJSON(): LatencyJson {
    const histogram: [number, number][] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]! > 0) histogram.push([bucketBound(i), this.counts[i]!]);
    return summarise(histogram, this.maxUs);
  }
}

/** The percentile `p` (0 < p <= 1) of a histogram: the bound of the bucket holding the ceil(p·count)-th value. */
export const percentile = (histogram: readonly (readonly [number, number])[], p: number): number => {
  let total = 0;
  for (const [, c] of histogram) total += c;
  if (total === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const [bound, c] of histogram) {
    seen += c;
    if (seen >= rank) return bound;
  }
  return histogram[histogram.length - 1]![0];
};

const summarise = (histogram: [number, number][], max: number): LatencyJson => {
  let count = 0;
  for (const [, c] of histogram) count += c;
  return { count, p50: percentile(histogram, 0.5), p99: percentile(histogram, 0.99), max, histogram };
};

/**
 * Two histograms together: counts added per bound, max the larger, percentiles recomputed and
 * capped at the exact max (a bucket bound can lie above every value in it; no percentile can).
 * Only the harness merges, so the stats files both systems write keep the plain bucket bounds.
 */
export const mergeLatency = (a: LatencyJson, b: LatencyJson): LatencyJson => {
  const byBound = new Map<number, number>();
  for (const [bound, c] of [...a.histogram, ...b.histogram]) byBound.set(bound, (byBound.get(bound) ?? 0) + c);
  const histogram = [...byBound].sort((x, y) => x[0] - y[0]);
  const merged = summarise(histogram, Math.max(a.max, b.max));
  return { ...merged, p50: Math.min(merged.p50, merged.max), p99: Math.min(merged.p99, merged.max) };
};

export const emptyLatency: LatencyJson = Object.freeze({ count: 0, p50: 0, p99: 0, max: 0, histogram: [] });
