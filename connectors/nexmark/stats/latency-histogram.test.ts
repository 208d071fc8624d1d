import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bucketUpper, LatencyHistogram, mergeLatency, percentile, type LatencyJson } from "./latency-histogram.ts";

const histogramOf = (values: readonly number[]): LatencyJson => {
  const h = new LatencyHistogram();
  for (const v of values) h.record(v);
  return h.toJSON();
};

const latencies = fc.array(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 5_000_000 }), fc.double({ min: -5, max: 1e9, noNaN: true })), { maxLength: 60 });

describe("latency histogram", () => {
  it("buckets: exact up to 100 µs, then 2 significant digits (rounded up)", () => {
    expect([0, 1, 99, 100, 101, 110, 111, 999, 1000, 1001, 12_345, 99_999, 100_000].map(bucketUpper)).toEqual([
      0, 1, 99, 100, 110, 110, 120, 1000, 1000, 1100, 13_000, 100_000, 100_000,
    ]);
    expect(bucketUpper(-3)).toBe(0);
    expect(bucketUpper(0.2)).toBe(1);
  });

  it("a bucket's bound is at or above the value, by less than 10 % (or 1 µs), and bounds are monotone", () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1e12, noNaN: true }), fc.double({ min: 0, max: 1e12, noNaN: true }), (a, b) => {
        const v = Math.ceil(a);
        expect(bucketUpper(a)).toBeGreaterThanOrEqual(v);
        expect(bucketUpper(a)).toBeLessThanOrEqual(Math.max(v, v * 1.1));
        if (a <= b) expect(bucketUpper(a)).toBeLessThanOrEqual(bucketUpper(b));
      }),
    );
  });

  it("percentiles are the bound of the bucket of the true sample (nearest rank); max is exact", () => {
    fc.assert(
      fc.property(latencies.filter((v) => v.length > 0), (values) => {
        const h = histogramOf(values);
        const sorted = values.map((v) => (v > 0 ? Math.ceil(v) : 0)).sort((a, b) => a - b);
        const rank = (p: number) => sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1]!;
        expect(h.count).toBe(values.length);
        expect(h.p50).toBe(bucketUpper(rank(0.5)));
        expect(h.p99).toBe(bucketUpper(rank(0.99)));
        expect(h.max).toBe(sorted[sorted.length - 1]);
      }),
    );
  });

  it("merge is associative and commutative, and merging equals recording everything in one", () => {
    fc.assert(
      fc.property(latencies, latencies, latencies, (a, b, c) => {
        const [ha, hb, hc] = [histogramOf(a), histogramOf(b), histogramOf(c)];
        expect(mergeLatency(mergeLatency(ha, hb), hc)).toEqual(mergeLatency(ha, mergeLatency(hb, hc)));
        expect(mergeLatency(ha, hb)).toEqual(mergeLatency(hb, ha));
        const all = histogramOf([...a, ...b, ...c]);
        expect(mergeLatency(mergeLatency(ha, hb), hc)).toEqual({ ...all, p50: Math.min(all.p50, all.max), p99: Math.min(all.p99, all.max) });
      }),
    );
  });

  it("merged percentiles are capped at the exact max (a bucket bound may lie above every value in it)", () => {
    const h = histogramOf([1234.5]);
    expect([h.p50, h.p99, h.max]).toEqual([1300, 1300, 1235]); // a stats file keeps the bucket bound
    const merged = mergeLatency(histogramOf([]), h);
    expect([merged.p50, merged.p99, merged.max]).toEqual([1235, 1235, 1235]);
    const spread = mergeLatency(histogramOf([10, 20]), histogramOf([154_900]));
    expect([spread.p50, spread.p99, spread.max]).toEqual([20, 154_900, 154_900]);
  });

  it("an empty histogram has count 0 and zeros", () => {
    expect(histogramOf([])).toEqual({ count: 0, p50: 0, p99: 0, max: 0, histogram: [] });
    expect(percentile([], 0.5)).toBe(0);
  });
});
