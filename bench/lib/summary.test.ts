import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { median, spread } from "./summary.ts";

describe("median and spread", () => {
  it("odd, even, empty", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(spread([5, 1, 9])).toEqual({ median: 5, min: 1, max: 9, n: 3 });
  });
  it("the median lies within min–max and does not depend on order", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 20 }), (xs) => {
        const s = spread(xs);
        expect(s.median).toBeGreaterThanOrEqual(s.min);
        expect(s.median).toBeLessThanOrEqual(s.max);
        // Equal as numbers: 0 and -0 sort as equal, so which of them is the middle one depends on order.
        expect(median([...xs].reverse()) === s.median).toBe(true);
      }),
    );
  });
});
