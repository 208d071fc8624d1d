import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stateBuilt } from "./recovery-build.ts";
import { blobOf, keysOfSplit } from "../recovery-job.ts";

describe("stateBuilt", () => {
  it("true once every split is past its first round of keys", () => {
    // 10 keys over 4 splits: 3, 3, 2, 2 keys.
    expect(stateBuilt({ "visits-0": { "split-0": 3, "split-1": 3, "split-2": 2, "split-3": 2 } }, 10, 4)).toBe(true);
    expect(stateBuilt({ "visits-0": { "split-0": 3, "split-1": 2, "split-2": 2, "split-3": 2 } }, 10, 4)).toBe(false);
    expect(stateBuilt({ "visits-0": { "split-0": 3, "split-1": 3, "split-2": 2 } }, 10, 4)).toBe(false);
    expect(stateBuilt({}, 10, 4)).toBe(false);
    expect(() => stateBuilt({ "visits-0": { "split-4": 9 } }, 10, 4)).toThrow(/unexpected split/);
    expect(() => stateBuilt({ a: {}, b: {} }, 10, 4)).toThrow(/one source/);
  });

  it("the splits' first rounds cover every key exactly once", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 1, max: 8 }), (keys, splits) => {
        const seen: number[] = [];
        for (let s = 0; s < splits; s++) for (let i = 0; i < keysOfSplit(keys, splits, s); i++) seen.push(s + splits * i);
        expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: keys }, (_, k) => k));
      }),
    );
  });
});

describe("blobOf", () => {
  it("depends only on the key, has the asked size and differs between keys", () => {
    expect(blobOf(7, 1023)).toEqual(blobOf(7, 1023));
    expect(blobOf(7, 1023).length).toBe(1023);
    expect(Buffer.from(blobOf(7, 64)).equals(Buffer.from(blobOf(8, 64)))).toBe(false);
  });
});
