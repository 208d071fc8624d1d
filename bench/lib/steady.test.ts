import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { covers, increaseIn, resourcesIn, valueAt } from "./steady.ts";

describe("steady-window interpolation", () => {
  const s = [
    [1000, 0],
    [1100, 100],
    [1300, 100],
    [1400, 400],
  ] as const;

  it("interpolates linearly, clamps outside the samples", () => {
    expect(valueAt(s, 900)).toBe(0);
    expect(valueAt(s, 1050)).toBe(50);
    expect(valueAt(s, 1200)).toBe(100);
    expect(valueAt(s, 1350)).toBe(250);
    expect(valueAt(s, 5000)).toBe(400);
    expect(() => valueAt([], 1)).toThrow(/no samples/);
  });

  it("the increase over a window sums the series and is additive over adjacent windows", () => {
    expect(increaseIn([s, s], 1050, 1350)).toBe(400);
    fc.assert(
      fc.property(fc.integer({ min: 900, max: 1500 }), fc.integer({ min: 900, max: 1500 }), fc.integer({ min: 900, max: 1500 }), (a, b, c) => {
        const [x, y, z] = [a, b, c].sort((p, q) => p - q) as [number, number, number];
        expect(increaseIn([s], x, y) + increaseIn([s], y, z)).toBeCloseTo(increaseIn([s], x, z), 9);
      }),
    );
  });

  it("resources: CPU difference at the window's ends, RSS max and mean of the samples inside", () => {
    const samples = [
      { atMs: 0, cpuSeconds: 0, rssBytes: 10 },
      { atMs: 200, cpuSeconds: 1, rssBytes: 30 },
      { atMs: 400, cpuSeconds: 2, rssBytes: 20 },
      { atMs: 600, cpuSeconds: 2.5, rssBytes: 90 },
    ];
    expect(resourcesIn(samples, 100, 500)).toEqual({ cpuSeconds: 2.25 - 0.5, rssMaxBytes: 30, rssMeanBytes: 25 });
    expect(() => resourcesIn(samples, 100, 700)).toThrow(/do not cover/);
    expect(covers([[0, 0]], 0, 0)).toBe(true);
  });
});
