import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonical, canonicalNumber, RowDigester } from "./canonical.ts";
import { fnv1a64Hex } from "./fnv1a64.ts";

describe("canonical form", () => {
  it("sorts fields by name (ASCII), writes name=value joined by |", () => {
    expect(canonical({ price: 7, auction: 1000, Zed: "z", extra: "a b" })).toBe("Zed=z|auction=1000|extra=a b|price=7");
    expect(canonical({})).toBe("");
  });

  it("integers in decimal without exponent or .0; other numbers as x + the IEEE-754 bits", () => {
    expect(canonicalNumber(1000)).toBe("1000");
    expect(canonicalNumber(-0)).toBe("0");
    expect(canonicalNumber(-12)).toBe("-12");
    expect(canonicalNumber(1e21)).toBe("1000000000000000000000");
    expect(canonicalNumber(2 ** 70)).toBe("1180591620717411303424");
    expect(canonicalNumber(1.5)).toBe("x3ff8000000000000");
    expect(canonicalNumber(0.1)).toBe("x3fb999999999999a");
    expect(canonicalNumber(-2.5)).toBe("xc004000000000000");
    expect(canonicalNumber(Number.NaN)).toBe("x7ff8000000000000");
    expect(canonicalNumber(Infinity)).toBe("x7ff0000000000000");
    expect(canonicalNumber(908 * 0.908)).toBe(`x${Buffer.from(new Float64Array([908 * 0.908]).buffer).reverse().toString("hex")}`);
  });

  it("flattens nested objects with dotted names, sorted by the dotted name", () => {
    expect(canonical({ bid: { price: 3, auction: 1 }, b: 2, "bid-x": true, n: null })).toBe("b=2|bid-x=true|bid.auction=1|bid.price=3|n=null");
    expect(canonical({ a: undefined, b: [5, "x"] })).toBe("b.0=5|b.1=x");
  });

  it("RowDigester hashes exactly canonical(row), for every shape it meets in turn", () => {
    const row = fc.dictionary(
      fc.string({ maxLength: 6 }),
      fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 10 }), fc.boolean(), fc.constant(null), fc.dictionary(fc.string({ maxLength: 3 }), fc.integer(), { maxKeys: 2 })),
      { maxKeys: 6 },
    );
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 8 }), (rows) => {
        const d = new RowDigester();
        for (const r of [...rows, ...rows]) {
          d.digest(r);
          expect(d.hash.hex()).toBe(fnv1a64Hex(canonical(r)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("RowDigester: a nested row after a flat row of the same keys, and back", () => {
    const d = new RowDigester();
    for (const r of [{ a: 1, b: "x" }, { a: { c: 2, b: [3] }, b: "x" }, { a: null, b: "y" }, { a: [], b: undefined }]) {
      d.digest(r);
      expect(d.hash.hex()).toBe(fnv1a64Hex(canonical(r)));
    }
  });

  it("a Nexmark q0 row", () => {
    const row = { auction: 1007, bidder: 1001, price: 2_347_219, dateTime: 1_436_918_400_123, extra: "abc" };
    expect(canonical(row)).toBe("auction=1007|bidder=1001|dateTime=1436918400123|extra=abc|price=2347219");
    const d = new RowDigester();
    d.digest(row);
    expect(d.hash.hex()).toBe(fnv1a64Hex("auction=1007|bidder=1001|dateTime=1436918400123|extra=abc|price=2347219"));
  });
});
