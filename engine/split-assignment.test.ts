import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { assignSplits, startPositions, unlistedSplits } from "./split-assignment.ts";
import type { Source } from "../connectors/source.ts";

const byNumber = { owner: (split: string, parallelism: number) => Number(split.split("-")[1]) % parallelism };

describe("assignSplits", () => {
  it("without an owner function: split k in sorted order goes to subtask k mod parallelism", () => {
    expect(assignSplits(["c", "a", "b", "d"], 0, 2)).toEqual(["a", "c"]);
    expect(assignSplits(["c", "a", "b", "d"], 1, 2)).toEqual(["b", "d"]);
  });

  it("with an owner function: every split has one owner, and adding splits never moves one", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(200), { minLength: 1 }), fc.uniqueArray(fc.nat(200)), fc.integer({ min: 1, max: 5 }), (before, added, parallelism) => {
        const first = before.map((n) => `t-${n}`);
        const later = [...new Set([...first, ...added.map((n) => `t-${n}`)])];
        const owners = (splits: string[]) => {
          const out = new Map<string, number>();
          for (let s = 0; s < parallelism; s++) for (const split of assignSplits(splits, s, parallelism, byNumber)) {
            expect(out.has(split)).toBe(false);
            out.set(split, s);
          }
          return out;
        };
        const a = owners(first);
        const b = owners(later);
        expect(a.size).toBe(first.length);
        expect(b.size).toBe(later.length);
        for (const [split, owner] of a) expect(b.get(split)).toBe(owner);
      }),
    );
  });
});

describe("startPositions", () => {
  const source = (discovery: boolean) =>
    ({ name: "s", bounded: false, splits: () => [], openReader: () => undefined as never, ...(discovery ? { discovery: { intervalMs: 1, ...byNumber, newSplitPosition: () => 0 } } : {}) }) as Source<unknown, unknown>;

  it("a restored run starts a split its checkpoint does not know at the new-split position", () => {
    expect(startPositions(source(true), ["t-0", "t-1"], { "t-0": 7 })).toEqual({ "t-0": 7, "t-1": 0 });
  });

  it("a fresh run, or a source without discovery, leaves unknown splits to the source's own start", () => {
    expect(startPositions(source(true), ["t-0", "t-1"], undefined)).toEqual({});
    expect(startPositions(source(false), ["t-0", "t-1"], { "t-0": 7 })).toEqual({ "t-0": 7 });
  });
});

describe("unlistedSplits", () => {
  it("names the restored splits the source does not list, sorted; none on a fresh run", () => {
    expect(unlistedSplits(["p3-0", "p3-1", "p3-2"], { "p2-1": 5, "p2-0": 4 })).toEqual(["p2-0", "p2-1"]);
    expect(unlistedSplits(["a", "b"], { a: 1 })).toEqual([]);
    expect(unlistedSplits(["a"], undefined)).toEqual([]);
  });
});
