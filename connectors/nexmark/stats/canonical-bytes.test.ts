import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalNumber } from "./canonical.ts";
import { NUMBER_ROOM, writeNumber, writeText } from "./canonical-bytes.ts";
import { writeWtf8 } from "./wtf8.ts";

const b = new Uint8Array(1 << 16);
const buffer = Buffer.from(b.buffer);

const numberText = (n: number, at = 5): string => {
  const end = writeNumber(b, at, n);
  expect(end - at).toBeLessThanOrEqual(NUMBER_ROOM);
  return buffer.toString("latin1", at, end);
};

const textBytes = (s: string, at = 7): string => buffer.toString("hex", at, writeText(b, buffer, at, s));
const wtf8Hex = (s: string): string => {
  const out = new Uint8Array(3 * s.length);
  return Buffer.from(out.subarray(0, writeWtf8(s, out, 0))).toString("hex");
};

describe("canonical text pieces as bytes", () => {
  it("writeNumber writes canonicalNumber's text", () => {
    const cases = [
      0, -0, 1, -1, 9, 10, 99, 100, 12345, 999_999_999, 1e9, 1e9 + 1, -1e9, 1_436_918_400_123, 2 ** 31, 2 ** 32 + 7,
      Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e20, 123456789012345680000, 1e21 - 65536, 1e21, -1e21, 2 ** 70,
      Number.MAX_VALUE, 0.5, 0.1, -2.5, 908 * 0.908, Number.MIN_VALUE, Number.EPSILON, Number.NaN, Infinity, -Infinity,
    ];
    for (const n of [...cases, -Number.MAX_VALUE]) expect(numberText(n)).toBe(canonicalNumber(n));
    expect(numberText(-Number.MAX_VALUE)).toHaveLength(NUMBER_ROOM);
  });

  it("writeNumber: any double, any safe integer, and integers just below a multiple of 1e9", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.maxSafeInteger(), fc.integer(), fc.double({ min: -1e21, max: 1e21 }).map(Math.round)), (n) => {
        expect(numberText(n)).toBe(canonicalNumber(n));
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Math.floor(Number.MAX_SAFE_INTEGER / 1e9) }), fc.integer({ min: -3, max: 3 }), fc.boolean(), (k, d, negative) => {
        const n = (negative ? -1 : 1) * (k * 1e9 + d);
        expect(numberText(n)).toBe(canonicalNumber(n));
      }),
      { numRuns: 2000 },
    );
  });

  it("writeText writes UTF-8, WTF-8 with a lone surrogate, short and long (native) strings alike", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 100 }), fc.string({ maxLength: 100 }), fc.string({ unit: "grapheme", maxLength: 60 })), (s) => {
        expect(textBytes(s)).toBe(wtf8Hex(s));
      }),
      { numRuns: 500 },
    );
    for (const s of ["", "é", "a".repeat(15) + "\uD800", "a".repeat(16) + "\uD800", "\uDC00" + "b".repeat(80), "😀".repeat(40), "x".repeat(100)]) {
      expect(textBytes(s)).toBe(wtf8Hex(s));
    }
  });
});
