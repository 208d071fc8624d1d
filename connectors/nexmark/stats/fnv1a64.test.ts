import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fnv1a64, fnv1a64Hex } from "./fnv1a64.ts";

/** The textbook definition on BigInt, as the reference. */
const reference = (bytes: Uint8Array): string => {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
};

describe("FNV-1a-64", () => {
  it("matches the published test vectors", () => {
    expect(fnv1a64Hex("")).toBe("cbf29ce484222325");
    expect(fnv1a64Hex("a")).toBe("af63dc4c8601ec8c");
    expect(fnv1a64Hex("foobar")).toBe("85944171f73967e8");
  });

  it("equals the BigInt definition over the UTF-8 bytes of any string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), (s) => {
        expect(fnv1a64Hex(s)).toBe(reference(Buffer.from(s, "utf8")));
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        expect(fnv1a64Hex(s)).toBe(reference(Buffer.from(s, "latin1")));
      }),
    );
  });

  it("feeding bytes one by one equals feeding the string; reset starts over", () => {
    const h = new Fnv1a64();
    for (const b of Buffer.from("foo")) h.byte(b);
    h.string("bar");
    expect(h.hex()).toBe("85944171f73967e8");
    h.reset();
    expect(h.hex()).toBe("cbf29ce484222325");
  });
});
