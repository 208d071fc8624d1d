/**
 * SplitMix64 (Steele, Lea & Flood 2014), on two unsigned 32-bit halves so no BigInt is touched on
 * the hot path. Bit-for-bit the algorithm of Java's `java.util.SplittableRandom` created with
 * `new SplittableRandom(seed)` (gamma = GOLDEN_GAMMA), so a Java twin of the Nexmark generator can
 * reproduce every value:
 *
 *   long state = seed;
 *   long nextLong() {
 *     long z = (state += 0x9E3779B97F4A7C15L);
 *     z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
 *     z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
 *     return z ^ (z >>> 31);                                  // = SplittableRandom.nextLong()
 *   }
 *   double nextDouble() { return (nextLong() >>> 11) * 0x1.0p-53; }  // = SplittableRandom.nextDouble()
 *   int nextInt(int n) { return (int) (nextDouble() * n); }   // NOT SplittableRandom.nextInt(n)
 *
 * `nextInt(n)` is defined as `floor(nextDouble() * n)` (one draw, no rejection), which differs from
 * `SplittableRandom.nextInt(bound)`: a Java twin must use the cast above.
 *
 * Per-event streams (`eventRandom`): the stream for (seed, id) is SplitMix64 started at state
 * `seed ^ mix64(id + GOLDEN_GAMMA)`, i.e. in Java
 *
 *   new SplittableRandom(seed ^ new SplittableRandom(id).nextLong())
 *
 * (ids and seeds are 64-bit two's complement; a JS number seed is taken mod 2^64).
 */

export const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

const GAMMA_HI = 0x9e3779b9;
const GAMMA_LO = 0x7f4a7c15;
const TWO_32 = 0x100000000;
const TWO_MINUS_53 = 2 ** -53;

/** A 64-bit value as unsigned 32-bit halves. */
export interface Halves {
  readonly hi: number;
  readonly lo: number;
}

/** Any safe integer or bigint, as a 64-bit two's-complement value. */
export const toHalves = (value: bigint | number): Halves => {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError(`SplitMix64: seed must be a safe integer or a bigint, got ${value}`);
    value = BigInt(value);
  }
  const v = BigInt.asUintN(64, value);
  return { hi: Number(v >> 32n), lo: Number(v & 0xffffffffn) };
};

export const fromHalves = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);

// Scratch registers for the 64-bit multiply (single-threaded, never re-entered). A typed array,
// not two `let`s: a module-level `let` holding a uint32 above 2^30 is a boxed number, and every
// store allocated one (the generator spent 10 % of its time in GC and ran at ~280k events/s).
const R = new Uint32Array(2);
const HI = 0;
const LO = 1;

/** (ah:al) * (bh:bl) mod 2^64 into R[HI]:R[LO]. */
const mul64 = (ah: number, al: number, bh: number, bl: number): void => {
  const a1 = al >>> 16;
  const a0 = al & 0xffff;
  const b1 = bl >>> 16;
  const b0 = bl & 0xffff;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  // p01, p10 < 2^32 and mid < 2^18, so `>>> 16` is an exact floor division here.
  const carry = a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  R[LO] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  R[HI] = carry + Math.imul(ah, bl) + Math.imul(al, bh);
};

/** The SplitMix64 output function (Stafford variant 13) into R[HI]:R[LO]. */
const mix64 = (hi: number, lo: number): void => {
  let l = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
  let h = (hi ^ (hi >>> 30)) >>> 0;
  mul64(h, l, 0xbf58476d, 0x1ce4e5b9);
  let rh = R[HI]!;
  let rl = R[LO]!;
  l = (rl ^ ((rl >>> 27) | (rh << 5))) >>> 0;
  h = (rh ^ (rh >>> 27)) >>> 0;
  mul64(h, l, 0x94d049bb, 0x133111eb);
  rh = R[HI]!;
  rl = R[LO]!;
  R[LO] = rl ^ ((rl >>> 31) | (rh << 1));
  R[HI] = rh ^ (rh >>> 31);
};

export class SplitMix64 {
  private hi: number;
  private lo: number;

  constructor(seed: bigint | number | Halves) {
    const h = typeof seed === "object" ? seed : toHalves(seed);
    this.hi = h.hi >>> 0;
    this.lo = h.lo >>> 0;
  }

  /** Advances and leaves the output in R[HI]:R[LO]. */
  private step(): void {
    const lo = this.lo + GAMMA_LO;
    this.lo = lo >>> 0;
    this.hi = (this.hi + GAMMA_HI + (lo >= TWO_32 ? 1 : 0)) >>> 0;
    mix64(this.hi, this.lo);
  }

  /** The next 64-bit output as an unsigned bigint (convenience; slower than the others). */
  nextLong(): bigint {
    this.step();
    return fromHalves(R[HI]!, R[LO]!);
  }

  /** The next 64-bit output as unsigned halves. */
  nextHalves(): Halves {
    this.step();
    return { hi: R[HI]!, lo: R[LO]! };
  }

  /** Uniform in [0, 1): the top 53 bits of `nextLong()` times 2^-53, exactly as Java. */
  nextDouble(): number {
    this.step();
    return (R[HI]! * 0x200000 + (R[LO]! >>> 11)) * TWO_MINUS_53;
  }

  /** `floor(nextDouble() * bound)`: uniform-ish integer in [0, bound) for a positive bound. */
  nextInt(bound: number): number {
    return Math.floor(this.nextDouble() * bound);
  }
}

/**
 * The stream for one event (or any other id) under `seed`: SplitMix64 at state
 * `seed ^ mix64(id + GOLDEN_GAMMA)` (= `seed ^ new SplitMix64(id).nextLong()`). `id` is a safe
 * integer; `seed` is already split into halves (see `toHalves`).
 */
export const eventRandom = (seed: Halves, id: number): SplitMix64 => {
  const idLo = id >>> 0;
  const idHi = Math.floor(id / TWO_32) >>> 0;
  const lo = idLo + GAMMA_LO;
  mix64((idHi + GAMMA_HI + (lo >= TWO_32 ? 1 : 0)) >>> 0, lo >>> 0);
  return new SplitMix64({ hi: (seed.hi ^ R[HI]!) >>> 0, lo: (seed.lo ^ R[LO]!) >>> 0 });
};
