import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BucketDigests, addDigests, bucketOf, mergeBuckets } from "./bucket-digest.ts";
import { Fnv1a64 } from "./fnv1a64.ts";

const BASE = Date.UTC(2015, 6, 15);

/** Digests rows given as [rowTime, text]. */
const digestAll = (rows: readonly (readonly [number, string])[]) => {
  const d = new BucketDigests(BASE);
  const h = new Fnv1a64();
  for (const [t, text] of rows) {
    h.reset();
    h.string(text);
    d.add(t, h.hi, h.lo);
  }
  return d.toJSON();
};

const rowArb = fc.tuple(fc.integer({ min: BASE - 30_000, max: BASE + 100_000 }), fc.string({ maxLength: 12 }));

describe("bucket digests", () => {
  it("bucket = floor((rowTime - baseTime) / 10000)", () => {
    expect(bucketOf(BASE, BASE)).toBe(0);
    expect(bucketOf(BASE + 9_999, BASE)).toBe(0);
    expect(bucketOf(BASE + 10_000, BASE)).toBe(1);
    expect(bucketOf(BASE - 1, BASE)).toBe(-1);
  });

  it("a digest is the sum mod 2^64 of the rows' FNV-1a-64 hashes", () => {
    // "a" -> af63dc4c8601ec8c, "foobar" -> 85944171f73967e8: the sum overflows 2^64.
    expect(digestAll([[BASE, "a"], [BASE + 5, "foobar"], [BASE + 10_000, ""]])).toEqual({
      "0": { count: 2, digest: "34f81dbe7d3b5474" },
      "1": { count: 1, digest: "cbf29ce484222325" },
    });
    expect(addDigests("af63dc4c8601ec8c", "85944171f73967e8")).toBe("34f81dbe7d3b5474");
  });

  it("the digests of a multiset do not depend on the rows' order", () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }).chain((rows) => fc.tuple(fc.constant(rows), fc.shuffledSubarray(rows, { minLength: rows.length, maxLength: rows.length }))), ([rows, shuffled]) => {
        expect(digestAll(shuffled)).toEqual(digestAll(rows));
      }),
    );
  });

  it("merging the digests of two parts gives the digests of the whole (any split of the rows)", () => {
    fc.assert(
      fc.property(fc.array(rowArb, { maxLength: 40 }), fc.nat(), (rows, cut) => {
        const k = rows.length === 0 ? 0 : cut % (rows.length + 1);
        expect(mergeBuckets(digestAll(rows.slice(0, k)), digestAll(rows.slice(k)))).toEqual(digestAll(rows));
      }),
    );
  });

  it("one row more or less, or a changed row, changes the bucket", () => {
    const base = digestAll([[BASE, "x"], [BASE + 1, "y"]]);
    expect(digestAll([[BASE, "x"]])["0"]).not.toEqual(base["0"]);
    expect(digestAll([[BASE, "x"], [BASE + 1, "z"]])["0"]!.digest).not.toBe(base["0"]!.digest);
  });
});
