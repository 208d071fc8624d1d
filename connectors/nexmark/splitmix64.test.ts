import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GOLDEN_GAMMA, SplitMix64, eventRandom, toHalves } from "./splitmix64.ts";

const M = (1n << 64n) - 1n;
/** Reference SplitMix64 in BigInt, straight from the Java formula. */
const mix = (z: bigint): bigint => {
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
  return z ^ (z >> 31n);
};
const reference = (seed: bigint, count: number): bigint[] => {
  let state = BigInt.asUintN(64, seed);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + GOLDEN_GAMMA) & M;
    out.push(mix(state));
  }
  return out;
};

describe("SplitMix64", () => {
  it("gives the standard vectors for seed 0", () => {
    // state1 = 0x9E3779B97F4A7C15, state2 = 2*gamma mod 2^64, state3 = 3*gamma mod 2^64; output = mix64(state).
    // Also what Java's new SplittableRandom(0).nextLong() returns three times.
    const r = new SplitMix64(0);
    expect([r.nextLong(), r.nextLong(), r.nextLong()]).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
    expect(reference(0n, 3)).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });

  it("matches the BigInt reference for any 64-bit seed (two 32-bit halves implementation)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), (seed) => {
        const r = new SplitMix64(seed);
        const got = Array.from({ length: 6 }, () => r.nextLong());
        expect(got).toEqual(reference(seed, 6));
      }),
      { numRuns: 500 },
    );
  });

  it("takes number seeds as 64-bit two's complement", () => {
    expect(new SplitMix64(-1).nextLong()).toBe(reference(-1n, 1)[0]);
    expect(new SplitMix64(-1).nextLong()).toBe(new SplitMix64(0xffffffffffffffffn).nextLong());
    expect(new SplitMix64(2 ** 40 + 3).nextLong()).toBe(reference(2n ** 40n + 3n, 1)[0]);
    expect(() => new SplitMix64(0.5)).toThrow(RangeError);
  });

  it("nextDouble is the top 53 bits times 2^-53, in [0, 1)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: M }), (seed) => {
        const a = new SplitMix64(seed);
        const b = new SplitMix64(seed);
        for (let i = 0; i < 8; i++) {
          const d = a.nextDouble();
          expect(d).toBe(Number(b.nextLong() >> 11n) * 2 ** -53);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(1);
        }
      }),
      { numRuns: 300 },
    );
    // The extremes of the formula: all-ones top bits is the largest double below 1.
    expect((2 ** 53 - 1) * 2 ** -53).toBeLessThan(1);
  });

  it("nextInt(n) = floor(nextDouble() * n), within [0, n)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: M }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed, n) => {
        const a = new SplitMix64(seed);
        const b = new SplitMix64(seed);
        const v = a.nextInt(n);
        expect(v).toBe(Math.floor(b.nextDouble() * n));
        expect(Number.isInteger(v) && v >= 0 && v < n).toBe(true);
      }),
    );
  });

  it("eventRandom(seed, id) starts at seed ^ mix64(id + gamma) (= seed ^ first output of SplitMix64(id))", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: M }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (seed, id) => {
        const first = reference(BigInt(id), 1)[0] as bigint;
        expect(eventRandom(toHalves(seed), id).nextLong()).toBe(reference(seed ^ first, 1)[0]);
      }),
      { numRuns: 300 },
    );
  });

  it("neighbouring event ids give unrelated streams (no shifted overlap)", () => {
    const seed = toHalves(0);
    const a = eventRandom(seed, 100);
    const firstOfNext = eventRandom(seed, 101).nextLong();
    const streamA = Array.from({ length: 64 }, () => a.nextLong());
    expect(streamA).not.toContain(firstOfNext);
  });
});
