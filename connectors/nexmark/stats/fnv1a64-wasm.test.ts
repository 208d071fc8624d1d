import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FnvKernel, PAGE_BYTES } from "./fnv1a64-wasm.ts";

/** The textbook definition on BigInt, as the reference. */
const reference = (bytes: Uint8Array): string => {
  let h = 0xcbf29ce484222325n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, "0");
};

const hex = (words: Uint32Array, i: number) => words[i + 1]!.toString(16).padStart(8, "0") + words[i]!.toString(16).padStart(8, "0");

/** Lays the ranges out as `FnvKernel.hash` wants them (hashes at 0, ends after, data after) and hashes them. */
const hashAll = (k: FnvKernel, ranges: Uint8Array[]): string[] => {
  const n = ranges.length;
  const endsAt = 8 * n;
  const dataAt = endsAt + 4 * n;
  k.reserve(dataAt + ranges.reduce((a, r) => a + r.length, 0));
  let at = dataAt;
  ranges.forEach((r, i) => {
    k.bytes.set(r, at);
    at += r.length;
    k.words[endsAt / 4 + i] = at - dataAt;
  });
  k.hash(dataAt, endsAt, n, 0);
  return ranges.map((_, i) => hex(k.words, 2 * i));
};

const utf8 = (s: string) => new Uint8Array(Buffer.from(s, "utf8"));

describe("FNV-1a-64 in WebAssembly", () => {
  it("matches the published test vectors, several ranges in one call", () => {
    expect(hashAll(new FnvKernel(), ["", "a", "foobar"].map(utf8))).toEqual(["cbf29ce484222325", "af63dc4c8601ec8c", "85944171f73967e8"]);
  });

  it("the header's example", () => {
    const k = new FnvKernel();
    k.reserve(64);
    k.bytes.set(Buffer.from("afoobar"), 16);
    k.words[0] = 1;
    k.words[1] = 7;
    k.hash(16, 0, 2, 32);
    expect([k.words[9], k.words[8]]).toEqual([0xaf63dc4c, 0x8601ec8c]);
    expect(hex(k.words, 10)).toBe("85944171f73967e8");
  });

  it("equals the BigInt definition for any batch of byte ranges (0, 1 or many)", () => {
    const k = new FnvKernel();
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 30 }), (ranges) => {
        expect(hashAll(k, ranges)).toEqual(ranges.map(reference));
      }),
      { numRuns: 300 },
    );
  });

  it("ranges hashed side by side: the first or the second of a pair longer, equal, empty; an odd last range", () => {
    const ranges = ["foobar", "a", "", "foobar", "abc", "abc", "", "", "a"].map(utf8);
    expect(hashAll(new FnvKernel(), ranges)).toEqual(ranges.map(reference));
    expect(hashAll(new FnvKernel(), ranges.slice(0, 8))).toEqual(ranges.slice(0, 8).map(reference));
  });

  it("n = 0 writes nothing", () => {
    const k = new FnvKernel();
    k.words[0] = 7;
    k.hash(16, 8, 0, 0);
    expect(k.words[0]).toBe(7);
  });

  it("a decreasing end gives that range the empty hash; the next range starts where the last ended", () => {
    const k = new FnvKernel();
    k.bytes.set(Buffer.from("afoobar"), 16);
    k.words.set([1, 0, 7], 0);
    k.hash(16, 0, 3, 32);
    expect([hex(k.words, 8), hex(k.words, 10), hex(k.words, 12)]).toEqual(["af63dc4c8601ec8c", "cbf29ce484222325", "85944171f73967e8"]);
  });

  it("grows its memory on demand (whole pages, contents kept, new views), and hashes ranges beyond the first page", () => {
    const k = new FnvKernel();
    expect(k.size).toBe(PAGE_BYTES);
    k.bytes[100] = 42;
    const old = k.bytes;
    k.reserve(PAGE_BYTES); // enough already: same views
    expect(k.bytes).toBe(old);
    k.reserve(3 * PAGE_BYTES + 1);
    expect(k.size).toBe(4 * PAGE_BYTES);
    expect(k.bytes === old).toBe(false);
    expect(old.length).toBe(0); // the old ArrayBuffer is detached
    expect(k.bytes[100]).toBe(42);
    expect(k.buffer.byteLength).toBe(k.size);
    expect(k.words.length).toBe(k.size / 4);
    const big = new Uint8Array(200_000).map((_, i) => (i * 31) & 255);
    expect(hashAll(k, [utf8("x"), big])).toEqual([reference(utf8("x")), reference(big)]);
  });

  it("a range outside the memory traps (an error thrown by hash)", () => {
    const k = new FnvKernel();
    k.words[0] = PAGE_BYTES;
    expect(() => k.hash(16, 0, 1, 8)).toThrow();
  });

  it("instances do not share memory", () => {
    const [a, b] = [new FnvKernel(), new FnvKernel()];
    a.bytes[0] = 1;
    expect(b.bytes[0]).toBe(0);
  });
});
