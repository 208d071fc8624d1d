import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exactStr, str } from "./generator.ts";
import { SplitMix64, eventRandom, toHalves } from "./splitmix64.ts";
import { MAX_LETTERS } from "./splitmix64-wasm.ts";

// The per-draw JavaScript loops the WebAssembly letter functions replaced: the reference.
const referenceLetters = (r: SplitMix64, length: number): string => {
  const buf = Buffer.alloc(Math.max(length, 0));
  for (let i = 0; i < length; i++) buf[i] = 97 + r.nextInt(26);
  return buf.toString("latin1", 0, length);
};
const referenceLettersOrSpecial = (r: SplitMix64, length: number, code: number): string => {
  const buf = Buffer.alloc(Math.max(length, 0));
  for (let i = 0; i < length; i++) buf[i] = r.nextInt(13) === 0 ? code : 97 + r.nextInt(26);
  return buf.toString("latin1", 0, length);
};
/** generator.ts's `str` and `exactStr` before the letter functions. */
const referenceStr = (r: SplitMix64, max: number, special = " "): string =>
  referenceLettersOrSpecial(r, 3 + r.nextInt(max - 3), special.charCodeAt(0)).trim();
const referenceExactStr = referenceLetters;

const seed = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** Two generators at the same arbitrary state: seeded, then advanced by 0..3 draws. */
const pair = (s: bigint, skip: number): [SplitMix64, SplitMix64] => {
  const a = new SplitMix64(s);
  const b = new SplitMix64(s);
  for (let i = 0; i < skip; i++) {
    a.nextDouble();
    b.nextDouble();
  }
  return [a, b];
};
/** The states agree iff the next outputs do (one 64-bit output determines the state). */
const sameState = (a: SplitMix64, b: SplitMix64): void => {
  expect([a.nextLong(), a.nextInt(1000)]).toEqual([b.nextLong(), b.nextInt(1000)]);
};
/** Every special char the generator uses, and then any latin1 code. */
const special = fc.oneof(fc.constantFrom(0x20, 0x5f), fc.integer({ min: 0, max: 255 }));

describe("SplitMix64.letters (WebAssembly) = the per-draw loop 97 + nextInt(26)", () => {
  it("gives the same letters and leaves the same state, for any state and length 0..300", () => {
    fc.assert(
      fc.property(seed, fc.nat(3), fc.integer({ min: 0, max: 300 }), (s, skip, length) => {
        const [a, b] = pair(s, skip);
        expect(a.letters(length)).toBe(referenceLetters(b, length));
        sameState(a, b);
      }),
      { numRuns: 1000 },
    );
  });

  it("chains: consecutive calls continue the stream", () => {
    fc.assert(
      fc.property(seed, fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 10 }), (s, lengths) => {
        const [a, b] = pair(s, 0);
        expect(lengths.map((n) => a.letters(n))).toEqual(lengths.map((n) => referenceLetters(b, n)));
        sameState(a, b);
      }),
    );
  });

  it("grows its memory for long strings (and the 64-bit mix still works afterwards)", () => {
    const [a, b] = pair(123n, 1);
    for (const length of [65_520, 65_521, 200_000, 7]) expect(a.letters(length)).toBe(referenceLetters(b, length));
    sameState(a, b);
    // eventRandom reads the mix output through a view of the (grown) memory.
    expect(eventRandom(toHalves(5), 9).nextLong()).toBe(new SplitMix64(5n ^ new SplitMix64(9).nextLong()).nextLong());
  });

  it("draws nothing for length <= 0; throws RangeError without drawing for a bad length", () => {
    const [a, b] = pair(77n, 0);
    expect(a.letters(0)).toBe("");
    expect(a.letters(-5)).toBe("");
    expect(() => a.letters(2.5)).toThrow(RangeError);
    expect(() => a.letters(Number.NaN)).toThrow(RangeError);
    expect(() => a.letters(MAX_LETTERS + 1)).toThrow(RangeError);
    sameState(a, b);
  });
});

describe("SplitMix64.lettersOrSpecial (WebAssembly) = the per-draw loop nextInt(13) === 0 ? special : 97 + nextInt(26)", () => {
  it("gives the same characters and leaves the same state, for any state, length 0..300 and special", () => {
    fc.assert(
      fc.property(seed, fc.nat(3), fc.integer({ min: 0, max: 300 }), special, (s, skip, length, code) => {
        const [a, b] = pair(s, skip);
        expect(a.lettersOrSpecial(length, code)).toBe(referenceLettersOrSpecial(b, length, code));
        sameState(a, b);
      }),
      { numRuns: 1000 },
    );
  });

  it("matches for long strings too", () => {
    const [a, b] = pair(0xdeadbeefn, 2);
    for (const length of [65_520, 100_001, 3]) expect(a.lettersOrSpecial(length, 0x5f)).toBe(referenceLettersOrSpecial(b, length, 0x5f));
    sameState(a, b);
  });

  it("throws RangeError without drawing for a special outside [0, 255] or a bad length", () => {
    const [a, b] = pair(78n, 0);
    expect(a.lettersOrSpecial(-1, 0x20)).toBe("");
    expect(() => a.lettersOrSpecial(5, 256)).toThrow(RangeError);
    expect(() => a.lettersOrSpecial(5, -1)).toThrow(RangeError);
    expect(() => a.lettersOrSpecial(5, Number.NaN)).toThrow(RangeError);
    expect(() => a.lettersOrSpecial(1.5, 0x20)).toThrow(RangeError);
    sameState(a, b);
  });
});

describe("generator str / exactStr = their per-draw versions", () => {
  it("str(r, max, special) for every special the generator uses, and exactStr(r, length)", () => {
    fc.assert(
      fc.property(seed, fc.integer({ min: 4, max: 300 }), fc.constantFrom(" ", "_"), fc.integer({ min: 0, max: 300 }), (s, max, sp, length) => {
        const [a, b] = pair(s, 0);
        expect(str(a, max, sp)).toBe(referenceStr(b, max, sp));
        expect(str(a, max)).toBe(referenceStr(b, max));
        expect(exactStr(a, length)).toBe(referenceExactStr(b, length));
        sameState(a, b);
      }),
      { numRuns: 500 },
    );
  });
});
