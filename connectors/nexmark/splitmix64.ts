/**
 * SplitMix64 (Steele, Lea & Flood 2014), on two unsigned 32-bit halves so no BigInt is touched on
 * the hot path; the output function (two 64-bit multiplies), and the per-character loops of
 * `letters`/`lettersOrSpecial`, run in WebAssembly. Bit-for-bit the algorithm of Java's
 * `java.util.SplittableRandom` created with `new SplittableRandom(seed)` (gamma = GOLDEN_GAMMA),
 * so a Java twin of the Nexmark generator can reproduce every value:
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

import { MAX_LETTERS, drawLetters, drawLettersOrSpecial, drawnState, mixHalves, mixToDouble } from "./splitmix64-wasm.ts";

export const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

const GAMMA_HI = 0x9e3779b9;
const GAMMA_LO = 0x7f4a7c15;
const TWO_32 = 0x100000000;

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

// The output function runs in WebAssembly (splitmix64-wasm.ts): one 64-bit multiply instead of
// eight 16-bit-limb products. The state stays here, advanced with two 32-bit adds; a letters call
// hands it to WebAssembly, which advances it once per draw and hands it back.

export class SplitMix64 {
  private hi: number;
  private lo: number;

  constructor(seed: bigint | number | Halves) {
    const h = typeof seed === "object" ? seed : toHalves(seed);
    this.hi = h.hi >>> 0;
    this.lo = h.lo >>> 0;
  }

  /**
   * Moves this generator to the start of the stream `eventRandom(seed, id)` (same contract), in
   * place: for a caller that draws one event at a time and wants no allocation per event.
   */
  toEvent(seed: Halves, id: number): this {
    const idLo = id >>> 0;
    const idHi = Math.floor(id / TWO_32) >>> 0;
    const lo = idLo + GAMMA_LO;
    const mixed = mixHalves((idHi + GAMMA_HI + (lo >= TWO_32 ? 1 : 0)) >>> 0, lo >>> 0);
    this.hi = (seed.hi ^ mixed[1]!) >>> 0;
    this.lo = (seed.lo ^ mixed[0]!) >>> 0;
    return this;
  }

  /** Advances the state by the gamma (mod 2^64). */
  private step(): void {
    const lo = this.lo + GAMMA_LO;
    this.lo = lo >>> 0;
    this.hi = (this.hi + GAMMA_HI + (lo >= TWO_32 ? 1 : 0)) >>> 0;
  }

  /** The next 64-bit output as an unsigned bigint (convenience; slower than the others). */
  nextLong(): bigint {
    const h = this.nextHalves();
    return fromHalves(h.hi, h.lo);
  }

  /** The next 64-bit output as unsigned halves. */
  nextHalves(): Halves {
    this.step();
    const out = mixHalves(this.hi, this.lo);
    return { hi: out[1]!, lo: out[0]! };
  }

  /** Uniform in [0, 1): the top 53 bits of `nextLong()` times 2^-53, exactly as Java. */
  nextDouble(): number {
    this.step();
    return mixToDouble(this.hi, this.lo);
  }

  /** `floor(nextDouble() * bound)`: uniform-ish integer in [0, bound) for a positive bound. */
  nextInt(bound: number): number {
    return Math.floor(this.nextDouble() * bound);
  }

  /**
   * `length` letters a–z as a string, exactly as `length` × `String.fromCharCode(97 + nextInt(26))`
   * (one draw each; in WebAssembly, one call for the whole string). `length` <= 0 gives "" and
   * draws nothing; a non-integer or a length above 2^28 throws RangeError (nothing drawn).
   */
  letters(length: number): string {
    if (!checkLength(length)) return "";
    const s = drawLetters(this.hi, this.lo, length);
    this.hi = drawnState.hi;
    this.lo = drawnState.lo;
    return s;
  }

  /**
   * `length` characters, each `nextInt(13) === 0 ? special : 97 + nextInt(26)` (one draw for
   * `special`, two for a letter), as a string; nothing trimmed. `specialCode` is a char code in
   * [0, 255] (else RangeError). `length` as for `letters`.
   */
  lettersOrSpecial(length: number, specialCode: number): string {
    if (!(Number.isInteger(specialCode) && specialCode >= 0 && specialCode <= 255)) {
      throw new RangeError(`SplitMix64: special must be a char code in [0, 255], got ${specialCode}`);
    }
    if (!checkLength(length)) return "";
    const s = drawLettersOrSpecial(this.hi, this.lo, length, specialCode);
    this.hi = drawnState.hi;
    this.lo = drawnState.lo;
    return s;
  }
}

/** True if there is something to draw; false for length <= 0; throws RangeError for a bad length. */
const checkLength = (length: number): boolean => {
  if (Number.isInteger(length) && length <= MAX_LETTERS) return length > 0;
  throw new RangeError(`SplitMix64: length must be an integer <= ${MAX_LETTERS}, got ${length}`);
};

const ZERO: Halves = { hi: 0, lo: 0 };

/**
 * The stream for one event (or any other id) under `seed`: SplitMix64 at state
 * `seed ^ mix64(id + GOLDEN_GAMMA)` (= `seed ^ new SplitMix64(id).nextLong()`). `id` is a safe
 * integer; `seed` is already split into halves (see `toHalves`).
 */
export const eventRandom = (seed: Halves, id: number): SplitMix64 => new SplitMix64(ZERO).toEvent(seed, id);
