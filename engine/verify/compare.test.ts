import { describe, expect, it } from "vitest";
import { compareOutputs, describeComparison, withoutKeys, type OutputRecord } from "./compare.ts";

const plain = (...values: number[]): OutputRecord[] => values.map((v) => ({ value: String(v) }));
const keyed = (...pairs: [string, number][]): OutputRecord[] => pairs.map(([k, v]) => ({ key: k, value: String(v) }));

describe("compareOutputs", () => {
  it("the same multiset in another order is the same for unkeyed output", () => {
    expect(compareOutputs(plain(1, 2, 2, 3), plain(3, 2, 1, 2))).toEqual({ kind: "same", records: 4 });
  });

  it("counts lost, duplicated and unexpected records with examples", () => {
    const c = compareOutputs(plain(1, 2, 3, 4), plain(1, 1, 1, 2, 5));
    expect(c).toMatchObject({
      kind: "differs",
      expected: 4,
      actual: 5,
      lost: { count: 2, examples: ["3", "4"] },
      duplicated: { count: 2, examples: ["1"] },
      unexpected: { count: 1, examples: ["5"] },
      reordered: { count: 0 },
    });
    expect(describeComparison(c)).toBe(
      "5 records where the failure-free run committed 4: 2 records lost (e.g. 3, 4); 2 duplicated (e.g. 1); 1 differing (not in the failure-free output) (e.g. 5)",
    );
  });

  it("keyed output must keep each key's sequence; keys may interleave differently", () => {
    const expected = keyed(["a", 1], ["b", 1], ["a", 2], ["b", 2]);
    expect(compareOutputs(expected, keyed(["b", 1], ["b", 2], ["a", 1], ["a", 2])).kind).toBe("same");
    const swapped = compareOutputs(expected, keyed(["a", 2], ["b", 1], ["a", 1], ["b", 2]));
    expect(swapped).toMatchObject({ kind: "differs", reordered: { count: 1, examples: ["a"] }, lost: { count: 0 } });
    expect(describeComparison(swapped)).toContain("1 keys in another order (e.g. key a)");
  });

  it("records of unknown key (timer output) and unkeyed comparisons are not order-checked", () => {
    const timers: OutputRecord[] = [{ key: null, value: "1" }, { key: null, value: "2" }];
    expect(compareOutputs(timers, [...timers].reverse()).kind).toBe("same");
    const expected = keyed(["a", 1], ["a", 2]);
    expect(compareOutputs(withoutKeys(expected), withoutKeys(keyed(["a", 2], ["a", 1]))).kind).toBe("same");
  });
});
