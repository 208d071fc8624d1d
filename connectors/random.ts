/**
 * A small deterministic PRNG for generators: a 32-bit mix (murmur3 finaliser) of
 * (seed, split, index) seeds mulberry32. The same
 * (seed, split, index) always gives the same sequence, on any machine and in any process, so a
 * generator can restart at any position without replaying what came before.
 */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

const mix = (h0: number): number => {
  let h = h0 | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

/** A reusable generator; `reseed` makes it start the sequence for (seed, split, index). */
export class SeededRandom implements Random {
  private state = 0;

  reseed(seed: number, split: number, index: number): this {
    const hi = Math.floor(index / 0x100000000);
    this.state = mix(mix(mix(seed ^ 0x9e3779b9) ^ split) ^ (index >>> 0)) ^ mix(hi + 0x632be5ab);
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
