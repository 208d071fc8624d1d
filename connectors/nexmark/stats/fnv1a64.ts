/**
 * FNV-1a, 64 bits (offset basis 0xcbf29ce484222325, prime 0x100000001b3), computed on two 32-bit
 * halves held in plain numbers, so hashing a row allocates nothing (no BigInt per row).
 *
 *   const h = new Fnv1a64();
 *   h.reset(); h.string("foobar");
 *   h.hex();               // "85944171f73967e8"
 *   fnv1a64Hex("foobar");  // the same, in one call
 *
 * Strings are hashed as their UTF-8 bytes (for ASCII: one byte per character).
 */

const OFFSET_HI = 0xcbf29ce4;
const OFFSET_LO = 0x84222325;
/** prime = 2^40 + 0x1b3. */
const PRIME_LO = 0x1b3;
const TWO_32 = 4294967296;

export const hex32 = (n: number): string => (n >>> 0).toString(16).padStart(8, "0");

export class Fnv1a64 {
  hi = OFFSET_HI;
  lo = OFFSET_LO;

  reset(): void {
    this.hi = OFFSET_HI;
    this.lo = OFFSET_LO;
  }

  /** Feeds one byte (0..255). */
  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    // (hi·2^32 + lo) · (2^40 + 0x1b3) mod 2^64: every product stays below 2^53, so it is exact.
    const low = lo * PRIME_LO;
    const newLo = low >>> 0;
    const carry = (low - newLo) / TWO_32;
    this.hi = (this.hi * PRIME_LO + carry + (lo << 8)) >>> 0;
    this.lo = newLo;
  }

  /** Feeds the UTF-8 bytes of `s`. */
  string(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) this.byte(c);
      else if (this.nonAscii(s, i)) i++; // a surrogate pair: two UTF-16 units, one code point
    }
  }

  /** Feeds the code point at `i`; true if it took two UTF-16 units. */
  private nonAscii(s: string, i: number): boolean {
    const c = s.codePointAt(i)!;
    if (c < 0x800) {
      this.byte(0xc0 | (c >> 6));
    } else if (c < 0x10000) {
      this.byte(0xe0 | (c >> 12));
      this.byte(0x80 | ((c >> 6) & 0x3f));
    } else {
      this.byte(0xf0 | (c >> 18));
      this.byte(0x80 | ((c >> 12) & 0x3f));
      this.byte(0x80 | ((c >> 6) & 0x3f));
    }
    this.byte(0x80 | (c & 0x3f));
    return c >= 0x10000;
  }

  hex(): string {
    return hex32(this.hi) + hex32(this.lo);
  }
}

const shared = new Fnv1a64();

/** FNV-1a-64 of the UTF-8 bytes of `s`, as 16 lowercase hex digits. */
export const fnv1a64Hex = (s: string): string => {
  shared.reset();
  shared.string(s);
  return shared.hex();
};
