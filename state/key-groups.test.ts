import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { hashKey, keyGroupFor, keyGroupRangeFor, subtaskForKeyGroup } from "./key-groups.ts";

describe("key groups", () => {
  it("ranges of all subtasks tile [0, max) without gaps or overlap, and subtaskFor inverts them", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4096 }), fc.integer({ min: 1, max: 64 }), (max, p0) => {
        const p = Math.min(p0, max);
        let next = 0;
        for (let i = 0; i < p; i++) {
          const r = keyGroupRangeFor(i, p, max);
          expect(r.start).toBe(next);
          expect(r.end).toBeGreaterThanOrEqual(r.start);
          expect(subtaskForKeyGroup(r.start, p, max)).toBe(i);
          expect(subtaskForKeyGroup(r.end, p, max)).toBe(i);
          next = r.end + 1;
        }
        expect(next).toBe(max);
      }),
    );
  });

  it("hashes equal keys equally and spreads keys over every group", () => {
    const counts = new Array(128).fill(0);
    for (let i = 0; i < 128 * 200; i++) counts[keyGroupFor(`key-${i}`, 128)]++;
    expect(Math.min(...counts)).toBeGreaterThan(100);
    expect(Math.max(...counts)).toBeLessThan(320);
    expect(hashKey(["a", 1])).toBe(hashKey(["a", 1]));
    expect(hashKey("1")).not.toBe(hashKey(1));
  });

  it("is stable across processes (pinned values; checkpoints depend on them)", () => {
    expect([hashKey("the"), hashKey(42), hashKey(-7), hashKey(1.5), hashKey(["a", 1])]).toMatchInlineSnapshot(`
      [
        527156448,
        917252196,
        3632291178,
        764218365,
        4294042845,
      ]
    `);
  });
});
