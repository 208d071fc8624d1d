/**
 * Pieces of the canonical text (canonical.ts) written straight as bytes, the ones `Fnv1a64`
 * hashes for the same text, without making a string: V8 turns a number that is not a small
 * integer (a Nexmark dateTime, ~1.4e12) into a string slowly, and a string built of many pieces
 * has to be flattened before it can be written out.
 *
 *   at = writeNumber(bytes, at, 1436918400123);   // "1436918400123"
 *   at = writeNumber(bytes, at, 0.5);             // "x3fe0000000000000"
 *   at = writeText(bytes, buffer, at, "a=é");     // 61 3D C3 A9
 *
 * Every writer returns the offset after its last byte. The caller provides room: NUMBER_ROOM
 * bytes for `writeNumber`, 3 per UTF-16 unit for `writeText` (a typed array drops writes past its
 * end silently, so the bytes would be wrong, not an error).
 */
import { canonicalNumber } from "./canonical.ts";
import { writeWtf8 } from "./wtf8.ts";

/** The most bytes `writeNumber` writes: the digits of -Number.MAX_VALUE (others: at most 22, or "x" + 16 hex digits). */
export const NUMBER_ROOM = 310;

const ZERO = 0x30;
const HEX = new Uint8Array(Buffer.from("0123456789abcdef", "latin1"));
const bits = new DataView(new ArrayBuffer(8));

/** "00" "01" … "99" as bytes: two digits per division. */
const PAIRS = new Uint8Array(Buffer.from(Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0")).join(""), "latin1"));

/** The decimal digits of 0 ≤ n < 1e9 (an integer) ending just before `end`, `width` of them (zero-padded). */
const writeDigits = (b: Uint8Array, end: number, n: number, width: number): number => {
  let p = end;
  const start = end - width;
  while (p - start >= 2) {
    const q = (n / 100) | 0;
    const r = 2 * (n - q * 100);
    b[--p] = PAIRS[r + 1]!;
    b[--p] = PAIRS[r]!;
    n = q;
  }
  if (p > start) b[--p] = ZERO + n;
  return end;
};

const digitCount = (n: number): number =>
  n < 1e4 ? (n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : 4) : n < 1e6 ? (n < 1e5 ? 5 : 6) : n < 1e7 ? 7 : n < 1e8 ? 8 : 9;

/** The canonical text of a number (`canonicalNumber`): a safe integer in decimal, a non-integer as x + its bits in hex. */
export const writeNumber = (b: Uint8Array, at: number, n: number): number => {
  if (Number.isSafeInteger(n)) {
    if (n < 0) {
      b[at++] = 0x2d; // -
      n = -n;
    } // -0 is not < 0: "0"
    if (n < 1e9) {
      const width = digitCount(n);
      return writeDigits(b, at + width, n, width);
    }
    // Exact: n / 1e9 < 2^24, whose half ulp (≤ 2^-30) is below the 1e-9 between the quotient and
    // the next integer up, so the division never rounds up to it.
    const high = Math.floor(n / 1e9);
    const low = n - high * 1e9;
    const width = digitCount(high); // high < 2^53 / 1e9 < 1e7
    at = writeDigits(b, at + width, high, width);
    return writeDigits(b, at + 9, low, 9);
  }
  if (Number.isInteger(n)) return writeAscii(b, at, canonicalNumber(n)); // |n| ≥ 2^53: String(n) or a BigInt's digits
  bits.setFloat64(0, n);
  b[at++] = 0x78; // x
  const hi = bits.getUint32(0);
  const lo = bits.getUint32(4);
  for (let shift = 28; shift >= 0; shift -= 4) b[at++] = HEX[(hi >>> shift) & 15]!;
  for (let shift = 28; shift >= 0; shift -= 4) b[at++] = HEX[(lo >>> shift) & 15]!;
  return at;
};

/** A string known to be ASCII (digits, signs), one byte per unit. */
export const writeAscii = (b: Uint8Array, at: number, s: string): number => {
  for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i);
  return at;
};

/** Strings this long go through Buffer#write (native) instead of a loop here. */
const NATIVE_FROM = 16;

/** Node 20 has String.prototype.isWellFormed (ES2024); this project's libs (ES2023) do not declare it. */
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * The bytes `Fnv1a64.string` hashes for `s`: UTF-8, or WTF-8 if `s` has a lone surrogate (where
 * UTF-8 writers put U+FFFD). `buffer` views the same memory as `b`.
 */
export const writeText = (b: Uint8Array, buffer: Buffer, at: number, s: string): number => {
  if (s.length < NATIVE_FROM) {
    let o = at;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) return writeWtf8(s, b, at);
      b[o++] = c;
    }
    return o;
  }
  const written = buffer.write(s, at, "utf8");
  return written === s.length || isWellFormed(s) ? at + written : writeWtf8(s, b, at);
};
