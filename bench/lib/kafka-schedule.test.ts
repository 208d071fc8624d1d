import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { dueCount, rotations, scheduledAt } from "./kafka-schedule.ts";

describe("schedule", () => {
  it("examples", () => {
    expect(scheduledAt(1000, 500, 1000)).toBe(1500);
    expect(dueCount(1000, 999, 1000, 10)).toBe(0);
    expect(dueCount(1000, 1000, 1000, 10)).toBe(1);
    expect(dueCount(1000, 1500, 1000, 10_000)).toBe(501);
    expect(dueCount(1000, 1e9, 1000, 10)).toBe(10);
  });

  it("counts exactly the records scheduled at or before now", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 1, max: 10_000 }), (rate, elapsed, total) => {
        const t0 = 1_000_000;
        const due = dueCount(t0, t0 + elapsed, rate, total);
        if (due > 0) expect(scheduledAt(t0, due - 1, rate)).toBeLessThanOrEqual(t0 + elapsed);
        if (due < total) expect(scheduledAt(t0, due, rate)).toBeGreaterThan(t0 + elapsed);
      }),
    );
  });
});

describe("rotations", () => {
  it("rotates the order each round", () => {
    expect(rotations(["a", "b", "c"], 4)).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
      ["a", "b", "c"],
    ]);
  });

  it("puts every variant in every position equally often over n rounds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), (n, cycles) => {
        const variants = Array.from({ length: n }, (_, i) => i);
        const rounds = rotations(variants, n * cycles);
        for (const round of rounds) expect([...round].sort()).toEqual(variants);
        for (let pos = 0; pos < n; pos++) for (const v of variants) expect(rounds.filter((r) => r[pos] === v).length).toBe(cycles);
      }),
    );
  });
});
