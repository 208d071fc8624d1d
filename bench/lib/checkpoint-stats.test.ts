import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { costPercent, counterAt, percentile, rateBetween, schedule, spreadOf } from "./checkpoint-stats.ts";

describe("checkpoint benchmark statistics", () => {
  const samples = [
    { t: 0, count: 0 },
    { t: 1, count: 100 },
    { t: 3, count: 500 },
  ];

  it("interpolates a counter between samples, and knows nothing outside them", () => {
    expect(counterAt(samples, 0)).toBe(0);
    expect(counterAt(samples, 0.5)).toBe(50);
    expect(counterAt(samples, 2)).toBe(300);
    expect(counterAt(samples, 3)).toBe(500);
    expect(counterAt(samples, 3.1)).toBeUndefined();
    expect(counterAt(samples, -1)).toBeUndefined();
    expect(counterAt([], 0)).toBeUndefined();
  });

  it("takes a rate over a window from the interpolated counter", () => {
    expect(rateBetween(samples, 0.5, 2)).toBe((300 - 50) / 1.5);
    expect(rateBetween(samples, 1, 4)).toBeUndefined();
    expect(rateBetween(samples, 2, 2)).toBeUndefined();
  });

  it("property: the rate of a counter growing at a constant rate is that rate, however it was sampled", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 2, maxLength: 50 }),
        fc.double({ min: 1, max: 1e6, noNaN: true }),
        (times, perSecond) => {
          const sorted = [...times].sort((a, b) => a - b);
          const s = sorted.map((t) => ({ t, count: t * perSecond }));
          const from = sorted[0]!;
          const to = sorted[sorted.length - 1]!;
          fc.pre(to - from > 1e-3);
          const mid = (from + to) / 2;
          expect(rateBetween(s, from, mid)).toBeCloseTo(perSecond, 3);
          expect(rateBetween(s, mid, to)).toBeCloseTo(perSecond, 3);
        },
      ),
    );
  });

  it("percentiles interpolate between closest ranks", () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([1, 2, 3, 4, 5], 0)).toBe(1);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
    expect(percentile(Array.from({ length: 101 }, (_, i) => i), 99)).toBe(99);
    expect(percentile([10, 20], 99)).toBeCloseTo(19.9);
  });

  it("property: a percentile lies within the values and grows with p", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1 }), fc.integer({ min: 0, max: 99 }), (xs, p) => {
        const a = percentile(xs, p)!;
        const b = percentile(xs, p + 1)!;
        expect(a).toBeGreaterThanOrEqual(Math.min(...xs));
        expect(b).toBeLessThanOrEqual(Math.max(...xs));
        expect(b).toBeGreaterThanOrEqual(a);
      }),
    );
  });

  it("spreads give median, min, max and count; cost is the shortfall in percent", () => {
    expect(spreadOf([3, 1, 2])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spreadOf([])).toBeUndefined();
    expect(costPercent(90, 100)).toBeCloseTo(10);
    expect(costPercent(110, 100)).toBeCloseTo(-10);
  });

  it("schedules every (repetition, variant, tree) once, rotating which variant and which tree go first", () => {
    const runs = schedule(["none", "10s", "1s"], ["base", "new"], 3);
    expect(runs).toHaveLength(18);
    const keys = runs.map((r) => `${r.rep}/${r.variant}/${r.tree}`);
    expect(new Set(keys).size).toBe(18);
    const firstVariants = [0, 1, 2].map((rep) => runs.find((r) => r.rep === rep)!.variant);
    expect(new Set(firstVariants).size).toBe(3);
    // Per variant, the tree that runs first is not always the same one.
    for (const v of ["none", "10s", "1s"]) {
      const firsts = [0, 1, 2].map((rep) => runs.find((r) => r.rep === rep && r.variant === v)!.tree);
      expect(new Set(firsts).size).toBe(2);
    }
    // Without a baseline: the variants alternate, one tree.
    expect(schedule(["a", "b"], ["only"], 2).map((r) => r.variant)).toEqual(["a", "b", "b", "a"]);
  });
});
