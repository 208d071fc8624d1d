import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Fnv1a64, fnv1a64Hex } from "./fnv1a64.ts";
import { writeWtf8 } from "./wtf8.ts";

const wtf8 = (s: string): Buffer => {
  const b = new Uint8Array(3 * s.length);
  return Buffer.from(b.subarray(0, writeWtf8(s, b, 0)));
};
const hashOf = (bytes: Uint8Array): string => {
  const h = new Fnv1a64();
  for (const b of bytes) h.byte(b);
  return h.hex();
};
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

describe("WTF-8 (the bytes Fnv1a64.string hashes)", () => {
  it("is what Fnv1a64.string hashes, for any string (lone surrogates included)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        expect(hashOf(wtf8(s))).toBe(fnv1a64Hex(s));
      }),
      { numRuns: 1000 },
    );
  });

  it("is UTF-8 (Buffer, TextEncoder) for a well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (s) => {
        fc.pre(isWellFormed(s));
        expect(wtf8(s)).toEqual(Buffer.from(s, "utf8"));
      }),
      { numRuns: 1000 },
    );
  });

  it("writes a lone surrogate as its own 3 bytes, where UTF-8 writers put U+FFFD", () => {
    expect(wtf8("\uD800").toString("hex")).toBe("eda080");
    expect(wtf8("a\uDC00b").toString("hex")).toBe("61edb08062");
    expect(wtf8("\uD83D").toString("hex")).toBe("eda0bd"); // a high surrogate at the end
    expect(wtf8("\uDE00\uD83D").toString("hex")).toBe("edb880eda0bd"); // low before high: two lone ones
    expect(wtf8("\uD83D\uDE00").toString("hex")).toBe("f09f9880"); // a pair: one code point
    expect(wtf8("é€").toString("hex")).toBe("c3a9e282ac");
    expect(fnv1a64Hex("\uD800")).toBe(hashOf(Buffer.from("eda080", "hex")));
    // What this module exists for: the UTF-8 writers differ here (and Java's getBytes writes "?").
    expect(Buffer.from("\uD800", "utf8").toString("hex")).toBe("efbfbd");
    expect(Buffer.from(new TextEncoder().encode("\uD800")).toString("hex")).toBe("efbfbd");
  });

  it("writes at an offset and returns the offset after its bytes", () => {
    const b = new Uint8Array(10);
    expect(writeWtf8("aé", b, 3)).toBe(6);
    expect([...b.subarray(3, 6)]).toEqual([0x61, 0xc3, 0xa9]);
    expect(writeWtf8("", b, 4)).toBe(4);
  });
});
