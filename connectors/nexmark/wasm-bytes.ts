/**
 * Byte-level pieces for assembling small WebAssembly modules in place (splitmix64-wasm.ts,
 * stats/fnv1a64-wasm.ts): LEB128 immediates, sections, vectors and names, as the binary format
 * (https://webassembly.github.io/spec/core/binary/) writes them.
 */

/** Signed LEB128 of a 64-bit two's-complement value (i64.const and i32.const immediates: 97 is [0xe1, 0x00]). */
export const sleb64 = (value: bigint): number[] => {
  let v = BigInt.asIntN(64, value);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};

/** Unsigned LEB128 (lengths, counts, indices). */
export const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

/** A section: its id, its body's length, its body. */
export const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
/** A vector: its length, then its items. */
export const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
/** A name: its UTF-8 length, then its bytes. */
export const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, "utf8")];
