import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BatchDigester, CHUNK_ROWS } from "./batch-digest.ts";
import { canonical, RowDigester } from "./canonical.ts";
import { fnv1a64Hex, hex32 } from "./fnv1a64.ts";
import { PAGE_BYTES } from "./fnv1a64-wasm.ts";

/** The batch's hashes as hex, row by row. */
const batchHex = (d: BatchDigester, rows: readonly object[]): string[] => {
  const h = d.digest(rows);
  return rows.map((_, i) => hex32(h[2 * i + 1]!) + hex32(h[2 * i]!));
};

/** What the batch must equal: RowDigester's digest, which must equal fnv1a64Hex(canonical(row)). */
const expected = (rows: readonly object[]): string[] => {
  const d = new RowDigester();
  return rows.map((row) => {
    d.digest(row);
    expect(d.hash.hex()).toBe(fnv1a64Hex(canonical(row)));
    return d.hash.hex();
  });
};

const q0 = (i: number) => ({ auction: 1000 + (i % 1000), bidder: 2000 + (i % 777), price: 12345 + i, dateTime: 1436918400000 + i, extra: "abcdefghijklmnopqrstu" });

const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 24 }), // lone surrogates and astral characters
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ maxLength: 80 }),
  fc.constant(""),
);
const scalar = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Infinity, -Infinity, 0.5, 2 ** 53, 2 ** 53 + 2, 1e20, 1e21, -(2 ** 70), Number.MAX_VALUE, 1_436_918_400_123),
  text,
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
);
const key = fc.oneof(fc.constantFrom("auction", "bidder", "price", "dateTime", "extra", "a", "b", "a.b", ""), fc.string({ unit: "binary", maxLength: 5 }));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, fc.dictionary(key, tie("value"), { maxKeys: 3 }), fc.array(tie("value"), { maxLength: 3 })),
}));
const anyRow = fc.dictionary(key, value, { maxKeys: 6 }) as fc.Arbitrary<object>;
/** Rows of the q0 shape whose values are anything (so the flat path meets every kind of value, and nested ones). */
const q0Shaped = fc.record({ auction: value, bidder: scalar, dateTime: scalar, extra: text, price: scalar }) as fc.Arbitrary<object>;
const row = fc.oneof(anyRow, q0Shaped, fc.nat().map(q0));

describe("BatchDigester", () => {
  it("equals RowDigester and fnv1a64Hex(canonical(row)) for any batch of any rows (one digester for all batches)", () => {
    const d = new BatchDigester();
    fc.assert(
      fc.property(fc.array(row, { maxLength: 24 }), (rows) => {
        expect(batchHex(d, rows)).toEqual(expected(rows));
      }),
      { numRuns: 400 },
    );
  });

  it("a Nexmark q0 row, and the empty batch", () => {
    const d = new BatchDigester();
    expect(batchHex(d, [q0(7)])).toEqual([fnv1a64Hex("auction=1007|bidder=2007|dateTime=1436918400007|extra=abcdefghijklmnopqrstu|price=12352")]);
    expect(batchHex(d, [])).toEqual([]);
    expect(batchHex(d, [{}])).toEqual(["cbf29ce484222325"]);
  });

  it("batches of many rows, over several chunks, with shapes changing between rows", () => {
    const rows: object[] = Array.from({ length: 2 * CHUNK_ROWS + 123 }, (_, i) =>
      i % 97 === 0 ? { nested: { x: i, y: [i, "é"] }, a: -i } : i % 89 === 0 ? { ...q0(i), extra: `😀${i}\uD800` } : q0(i),
    );
    const d = new BatchDigester();
    expect(batchHex(d, rows)).toEqual(expected(rows));
    expect(batchHex(d, rows.slice(5, 9))).toEqual(expected(rows.slice(5, 9))); // smaller again, same memory
  });

  it("rows larger than the memory it has (ASCII, astral, a lone surrogate in a long string, nested)", () => {
    const rows = [
      q0(1),
      { ...q0(2), extra: "x".repeat(3 * PAGE_BYTES) },
      { ...q0(3), extra: "😀".repeat(PAGE_BYTES) },
      { ...q0(4), extra: `${"y".repeat(PAGE_BYTES)}\uDC00` },
      { deep: { extra: "é".repeat(2 * PAGE_BYTES) } },
      q0(5),
    ];
    const d = new BatchDigester();
    expect(batchHex(d, rows)).toEqual(expected(rows));
    expect(batchHex(d, [q0(6)])).toEqual(expected([q0(6)]));
  });

  it("a nested row after a flat row of the same keys, and back", () => {
    const rows = [{ a: 1, b: "x" }, { a: { c: 2, b: [3] }, b: "x" }, { a: null, b: "y" }, { a: [], b: undefined }, { a: undefined, b: 1 }];
    expect(batchHex(new BatchDigester(), rows)).toEqual(expected(rows));
  });

  it("a value canonical cannot write throws its TypeError", () => {
    const d = new BatchDigester();
    expect(() => d.digest([q0(1), { a: Symbol("s") }])).toThrow(TypeError);
    expect(() => d.digest([{ a: () => 1 }])).toThrow(TypeError);
    expect(batchHex(d, [q0(1)])).toEqual(expected([q0(1)])); // still usable
  });
});
