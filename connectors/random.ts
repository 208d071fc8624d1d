/**
 * A small deterministic PRNG for generators: a 32-bit mix (murmur3 finaliser) of
 * (seed, split, index) seeds mulberry32. The same
 * (seed, split, index) always gives the same sequence, on any machine and in any process, so a
 * generator can restart at any position without replaying what came before.
 */
import { fmix32 } from "../common/hash.ts";

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}


/** A reusable generator; `reseed` makes it start the sequence for (seed, split, index). */
export class SeededRandom implements Random {
  private state = 0;

  reseed(seed: number, split: number, index: number): this {
    const hi = Math.floor(index / 0x100000000);
    this.state = fmix32(fmix32(fmix32(seed ^ 0x9e3779b9) ^ split) ^ (index >>> 0)) ^ fmix32(hi + 0x632be5ab);
    return this;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}
