/**
 * An order-independent digest of a multiset of Kafka records (key, value): the count and two
 * 32-bit sums (mod 2^32) of two seeded 32-bit hashes of "key<TAB>value". Equal multisets
 * give equal digests whatever the order or partitioning; a missing, extra (duplicate) or changed
 * record changes the sums except with probability about 2^-64 for unrelated records. It detects
 * mistakes, not adversaries.
 *
 *   const d = new RecordDigest();
 *   d.add("7", '{"account":7,"total":12}');
 *   d.toString();                              // "1 records, digest 5c1f…"
 *   d.equals(other);
 */

/**
 * A 32-bit hash of `s`: MurmurHash3's mixing and finaliser applied to each UTF-16 code unit as
 * one block (so not byte-compatible with MurmurHash3, which takes 4-byte blocks; fast in JS).
 */
export function hash32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    let k = s.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= s.length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SEED_A = 0x9747b28c;
const SEED_B = 0x5bd1e995;

/** The text a record is hashed as: key and value joined by a tab (a null key reads as "null", as Kafka's console consumer prints it). */
export const recordText = (key: string, value: string): string => `${key}\t${value}`;

/** A multiset digest, built by adding records in any order. */
export class RecordDigest {
  count = 0;
  a = 0;
  b = 0;

  add(key: string, value: string): void {
    const text = recordText(key, value);
    this.addHashes(hash32(text, SEED_A), hash32(text, SEED_B));
  }

  /** Adds a record by its two hashes (see `hashesOf`). */
  addHashes(a: number, b: number): void {
    this.count++;
    this.a = (this.a + a) >>> 0;
    this.b = (this.b + b) >>> 0;
  }

  /** Adds every record of another digest. */
  addAll(other: RecordDigest): void {
    this.count += other.count;
    this.a = (this.a + other.a) >>> 0;
    this.b = (this.b + other.b) >>> 0;
  }

  equals(other: RecordDigest): boolean {
    return this.count === other.count && this.a === other.a && this.b === other.b;
  }

  /** The two sums as 16 hex digits. */
  hex(): string {
    return this.a.toString(16).padStart(8, "0") + this.b.toString(16).padStart(8, "0");
  }

  toString(): string {
    return `${this.count} records, digest ${this.hex()}`;
  }
}

/** The two hashes `RecordDigest.add` adds for a record. */
export const hashesOf = (key: string, value: string): [number, number] => {
  const text = recordText(key, value);
  return [hash32(text, SEED_A), hash32(text, SEED_B)];
};
