import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { latencySummary, percentile, spread } from "./kafka-stats.ts";

describe("percentile (nearest rank)", () => {
  it("examples", () => {
    expect(percentile([5, 1, 3], 0.5)).toBe(3);
    expect(percentile([1, 2], 0.5)).toBe(1);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([7, 9], 0)).toBe(7);
    expect(() => percentile([], 0.5)).toThrow(/no values/);
    expect(() => percentile([1], 1.5)).toThrow(/within/);
  });

  it("is an observed value with at least q of the values at or below it, and fewer than q strictly below", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1 }), fc.double({ min: 0, max: 1, noNaN: true }), (xs, q) => {
        const p = percentile(xs, q);
        expect(xs).toContain(p);
        expect(xs.filter((x) => x <= p).length).toBeGreaterThanOrEqual(q * xs.length);
        expect(xs.filter((x) => x < p).length).toBeLessThan(Math.max(1, q * xs.length));
      }),
    );
  });
});

describe("spread", () => {
  it("median with min and max", () => {
    expect(spread([120, 100, 110])).toEqual({ n: 3, median: 110, min: 100, max: 120 });
    expect(spread([4, 1, 3, 2])).toEqual({ n: 4, median: 2.5, min: 1, max: 4 });
    expect(() => spread([])).toThrow(/no values/);
  });
});

describe("latencySummary", () => {
  it("p50, p99 and max of the values", () => {
    const xs = Array.from({ length: 1000 }, (_, i) => 1000 - i); // 1..1000, unsorted
    expect(latencySummary(xs)).toEqual({ count: 1000, p50: 500, p99: 990, max: 1000 });
  });
});
