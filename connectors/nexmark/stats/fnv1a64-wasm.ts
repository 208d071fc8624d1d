/**
 * FNV-1a-64 of many byte ranges in one call, in WebAssembly, where the 64-bit multiply is one
 * instruction (fnv1a64.ts does it on two 32-bit halves in JS numbers). FNV-1a is one chain of
 * xor-multiply per byte, bound by the multiply's latency, so two ranges are hashed side by side
 * (two independent chains keep the multiplier busy). The module is assembled here from its
 * instructions (about 450 bytes, no build step, no file to ship):
 *
 *   (memory (export "memory") 1)                        ;; grown from JS (FnvKernel.reserve)
 *   (func (export "hash") (param $data i32) (param $ends i32) (param $n i32) (param $out i32)
 *     (local $p i32) (local $endA i32) (local $endB i32) (local $pB i32) (local $stop i32)
 *     (local $hA i64) (local $hB i64)
 *     ;; step(h, p) = (local.set h (i64.mul (i64.xor h (i64.load8_u p)) (i64.const 0x100000001b3)))
 *     ;; bytes(h, p, end) = (block (loop (br_if 1 (i32.ge_u p end)) step(h, p) (p += 1) (br 0)))
 *     ;; end(e, x, from) = e = $data + i32.load offset=x $ends; if e < from then e = from (select)
 *     (local.set $p (local.get $data))
 *     (block $done (loop $pairs                         ;; two ranges at a time
 *       (br_if $done (i32.lt_u (local.get $n) (i32.const 2)))
 *       end($endA, 0, $p)  end($endB, 4, $endA)  (local.set $pB (local.get $endA))
 *       (local.set $hA (i64.const 0xcbf29ce484222325))  (local.set $hB (i64.const 0xcbf29ce484222325))
 *       (local.set $stop (i32.add $p (min_u (i32.sub $endA $p) (i32.sub $endB $pB))))   ;; min_u: a select
 *       (block (loop (br_if 1 (i32.ge_u $p $stop))      ;; both chains, over the shorter length
 *         step($hA, $p) step($hB, $pB) ($p += 1) ($pB += 1) (br 0)))
 *       bytes($hA, $p, $endA)  bytes($hB, $pB, $endB)   ;; the rest of the longer one
 *       (i64.store offset=0 $out $hA)  (i64.store offset=8 $out $hB)
 *       (local.set $p $pB)  ($out += 16) ($ends += 8) ($n -= 2)
 *       (br $pairs)))
 *     (block (br_if 0 (i32.eqz $n))                      ;; the last range of an odd n
 *       end($endA, 0, $p)  (local.set $hA (i64.const 0xcbf29ce484222325))
 *       bytes($hA, $p, $endA)  (i64.store $out $hA)))
 *
 * That is: the `n` ranges lie back to back from byte `data`; range i ends at `data + ends[i]`
 * (u32 at byte `ends + 4i`, offsets non-decreasing); its hash goes to the u64 at `out + 8i`,
 * little-endian, i.e. words [lo, hi] of a Uint32Array. A decreasing offset gives that range the
 * empty hash (and the next range starts where the last one ended); an access outside the memory
 * traps (a WebAssembly.RuntimeError thrown from `hash`).
 *
 *   const k = new FnvKernel();
 *   k.reserve(64);                               // views may be new after this
 *   k.bytes.set(Buffer.from("afoobar"), 16);     // two ranges: "a", "foobar"
 *   k.words[0] = 1; k.words[1] = 7;              // their ends, relative to byte 16
 *   k.hash(16, 0, 2, 32);
 *   [k.words[9], k.words[8]];                    // [0xaf63dc4c, 0x8601ec8c]: hi, lo of "a"
 */

import { name, section, sleb64, uleb, vec } from "../wasm-bytes.ts";

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;



const op = {
  block: 0x02,
  loop: 0x03,
  br: 0x0c,
  brIf: 0x0d,
  end: 0x0b,
  void: 0x40,
  localGet: 0x20,
  localSet: 0x21,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Load: 0x28,
  i64Load8U: 0x31,
  i64Store: 0x37,
  select: 0x1b,
  i32Eqz: 0x45,
  i32LtU: 0x49,
  i32LeU: 0x4d,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i64Mul: 0x7e,
  i64Xor: 0x85,
} as const;

const I32 = 0x7f;
const I64 = 0x7e;
// Locals: params 0 data, 1 ends, 2 n, 3 out; then i32 4 p, 5 endA, 6 endB, 7 pB, 8 stop; i64 9 hA, 10 hB.
const [DATA, ENDS, N, OUT, P, END_A, END_B, P_B, STOP, H_A, H_B] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const get = (local: number) => [op.localGet, local];
const set = (local: number) => [op.localSet, local];
const add = (local: number, delta: number) => [...get(local), op.i32Const, ...uleb(delta), op.i32Add, ...set(local)];
const offsetBasis = (h: number) => [op.i64Const, ...sleb64(OFFSET), ...set(h)];
/** h = (h ^ memory[p]) * prime */
const step = (h: number, p: number) => [...get(h), ...get(p), op.i64Load8U, 0, 0, op.i64Xor, op.i64Const, ...sleb64(PRIME), op.i64Mul, ...set(h)];
/** while (p < end) { step(h, p); p++ } */
const bytes = (h: number, p: number, end: number) => [
  op.block, op.void, op.loop, op.void,
  ...get(p), ...get(end), op.i32GeU, op.brIf, 1,
  ...step(h, p), ...add(p, 1),
  op.br, 0,
  op.end, op.end,
];
/** e = data + ends[offset / 4], but not below `from` (select keeps e if e >= from). */
const rangeEnd = (e: number, offset: number, from: number) => [
  ...get(DATA), ...get(ENDS), op.i32Load, 2, offset, op.i32Add, ...set(e),
  ...get(e), ...get(from), ...get(e), ...get(from), op.i32GeU, op.select, ...set(e),
];
const lengthA = [...get(END_A), ...get(P), op.i32Sub];
const lengthB = [...get(END_B), ...get(P_B), op.i32Sub];
const hashBody = [
  ...[2, 5, I32, 2, I64], // local declarations: 5 × i32, 2 × i64
  ...get(DATA), ...set(P),
  op.block, op.void, op.loop, op.void,
  ...get(N), op.i32Const, 2, op.i32LtU, op.brIf, 1,
  ...rangeEnd(END_A, 0, P), ...rangeEnd(END_B, 4, END_A), ...get(END_A), ...set(P_B),
  ...offsetBasis(H_A), ...offsetBasis(H_B),
  ...get(P), ...lengthA, ...lengthB, ...lengthA, ...lengthB, op.i32LeU, op.select, op.i32Add, ...set(STOP),
  op.block, op.void, op.loop, op.void,
  ...get(P), ...get(STOP), op.i32GeU, op.brIf, 1,
  ...step(H_A, P), ...step(H_B, P_B), ...add(P, 1), ...add(P_B, 1),
  op.br, 0,
  op.end, op.end,
  ...bytes(H_A, P, END_A), ...bytes(H_B, P_B, END_B),
  ...get(OUT), ...get(H_A), op.i64Store, 3, 0,
  ...get(OUT), ...get(H_B), op.i64Store, 3, 8,
  ...get(P_B), ...set(P),
  ...add(OUT, 16), ...add(ENDS, 8),
  ...get(N), op.i32Const, 2, op.i32Sub, ...set(N),
  op.br, 0,
  op.end, op.end,
  op.block, op.void,
  ...get(N), op.i32Eqz, op.brIf, 0,
  ...rangeEnd(END_A, 0, P), ...offsetBasis(H_A), ...bytes(H_A, P, END_A),
  ...get(OUT), ...get(H_A), op.i64Store, 3, 0,
  op.end,
  op.end,
];


const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, 4, I32, I32, I32, I32, 0]])), // types: (i32 i32 i32 i32) -> ()
  ...section(3, vec([[0]])), // functions: hash (type 0)
  ...section(5, vec([[0x00, 1]])), // one memory of one page, no maximum
  ...section(7, vec([[...name("hash"), 0x00, 0], [...name("memory"), 0x02, 0]])),
  ...section(10, vec([[...uleb(hashBody.length), ...hashBody]])),
]);

interface Memory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface Exports {
  hash(data: number, ends: number, n: number, out: number): void;
  memory: Memory;
}

// This project's TypeScript libs (ES2023, no DOM) do not declare WebAssembly's classes.
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } } })
  .WebAssembly;
const compiled = new wasm.Module(moduleBytes);

export const PAGE_BYTES = 65536;

/**
 * One instance of the module, with its own memory (so users never share views). `bytes`, `words`
 * and `buffer` view the whole memory; `reserve` may replace them (a grown memory detaches the old
 * ArrayBuffer), so read them after the last `reserve`. Memory only grows.
 */
export class FnvKernel {
  private readonly exports: Exports;
  bytes!: Uint8Array;
  /** The memory as u32 words (byte offset 4i is words[i]). */
  words!: Uint32Array;
  /** The memory as a Buffer (for `Buffer#write`). */
  buffer!: Buffer;

  constructor() {
    this.exports = new wasm.Instance(compiled).exports as Exports;
    this.views();
  }

  /** Bytes of memory now. */
  get size(): number {
    return this.exports.memory.buffer.byteLength;
  }

  /** Makes the memory at least `bytes` long; throws a RangeError if it cannot grow. */
  reserve(bytes: number): void {
    const have = this.size;
    if (bytes <= have) return;
    this.exports.memory.grow(Math.ceil((bytes - have) / PAGE_BYTES));
    this.views();
  }

  /** Hashes `n` back-to-back ranges from byte `data` (see the header); writes n u64 from byte `out` (8-aligned). */
  hash(data: number, ends: number, n: number, out: number): void {
    this.exports.hash(data, ends, n, out);
  }

  private views(): void {
    const buffer = this.exports.memory.buffer;
    this.bytes = new Uint8Array(buffer);
    this.words = new Uint32Array(buffer);
    this.buffer = Buffer.from(buffer);
  }
}
