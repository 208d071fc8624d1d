/**
 * FNV-1a-64 of many byte ranges in one call, in WebAssembly, where the 64-bit multiply is one
 * instruction (fnv1a64.ts does it on two 32-bit halves in JS numbers). The module is assembled
 * here from its instructions (about 160 bytes, no build step, no file to ship):
 *
 *   (memory (export "memory") 1)                       ;; grown from JS (FnvKernel.reserve)
 *   (func (export "hash") (param $data i32) (param $ends i32) (param $n i32) (param $out i32)
 *     (local $p i32) (local $end i32) (local $h i64)
 *     (local.set $p (local.get $data))
 *     (block $done (loop $rows
 *       (br_if $done (i32.eqz (local.get $n)))
 *       (local.set $end (i32.add (local.get $data) (i32.load (local.get $ends))))
 *       (local.set $h (i64.const 0xcbf29ce484222325))
 *       (block $row (loop $bytes
 *         (br_if $row (i32.ge_u (local.get $p) (local.get $end)))
 *         (local.set $h (i64.mul (i64.xor (local.get $h) (i64.load8_u (local.get $p))) (i64.const 0x100000001b3)))
 *         (local.set $p (i32.add (local.get $p) (i32.const 1)))
 *         (br $bytes)))
 *       (i64.store (local.get $out) (local.get $h))
 *       (local.set $out (i32.add (local.get $out) (i32.const 8)))
 *       (local.set $ends (i32.add (local.get $ends) (i32.const 4)))
 *       (local.set $n (i32.sub (local.get $n) (i32.const 1)))
 *       (br $rows))))
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

const OFFSET = 0xcbf29ce484222325n;
const PRIME = 0x100000001b3n;

/** Signed LEB128 of a 64-bit two's-complement value (i64.const immediates). */
const sleb64 = (value: bigint): number[] => {
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

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
};

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
  i32Eqz: 0x45,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i64Mul: 0x7e,
  i64Xor: 0x85,
} as const;

const I32 = 0x7f;
const I64 = 0x7e;
// Locals: params 0 data, 1 ends, 2 n, 3 out; then 4 p, 5 end (i32), 6 h (i64).
const [DATA, ENDS, N, OUT, P, END, H] = [0, 1, 2, 3, 4, 5, 6];
const add = (local: number, delta: number) => [op.localGet, local, op.i32Const, ...uleb(delta), op.i32Add, op.localSet, local];
const hashBody = [
  ...[2, 2, I32, 1, I64], // local declarations: 2 × i32, 1 × i64
  op.localGet, DATA, op.localSet, P,
  op.block, op.void, op.loop, op.void,
  op.localGet, N, op.i32Eqz, op.brIf, 1,
  op.localGet, DATA, op.localGet, ENDS, op.i32Load, 2, 0, op.i32Add, op.localSet, END,
  op.i64Const, ...sleb64(OFFSET), op.localSet, H,
  op.block, op.void, op.loop, op.void,
  op.localGet, P, op.localGet, END, op.i32GeU, op.brIf, 1,
  op.localGet, H, op.localGet, P, op.i64Load8U, 0, 0, op.i64Xor, op.i64Const, ...sleb64(PRIME), op.i64Mul, op.localSet, H,
  ...add(P, 1),
  op.br, 0,
  op.end, op.end,
  op.localGet, OUT, op.localGet, H, op.i64Store, 3, 0,
  ...add(OUT, 8),
  ...add(ENDS, 4),
  op.localGet, N, op.i32Const, 1, op.i32Sub, op.localSet, N,
  op.br, 0,
  op.end, op.end,
  op.end,
];

const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, "utf8")];

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
