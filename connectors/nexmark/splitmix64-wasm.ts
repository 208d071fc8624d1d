/**
 * SplitMix64's output function in WebAssembly, where a 64-bit multiply is one instruction (in
 * JavaScript it is eight 16-bit-limb products, splitmix64.ts's `mul64`). The module is assembled
 * here from its instructions (about 150 bytes, no build step, no file to ship):
 *
 *   (func $toDouble (param $hi i32) (param $lo i32) (result f64)   ;; (mix64(hi:lo) >>> 11) * 2^-53
 *   (func $mix (param $hi i32) (param $lo i32))                    ;; mix64(hi:lo) -> memory[0..8), little-endian
 *
 * where mix64(z) = z ^= z >>> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >>> 27; z *= 0x94D049BB133111EB;
 * z ^ (z >>> 31) — the Stafford variant 13 finaliser that Java's SplittableRandom uses. The
 * conversion to double is exact (a 53-bit integer, times a power of two), so results are
 * bit-identical to the JavaScript version and to Java.
 */

const C1 = 0xbf58476d1ce4e5b9n;
const C2 = 0x94d049bb133111ebn;

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

const f64Bytes = (x: number): number[] => [...new Uint8Array(new Float64Array([x]).buffer)];

const op = {
  localGet: 0x20,
  localTee: 0x22,
  i32Const: 0x41,
  i64Const: 0x42,
  f64Const: 0x44,
  i64Store: 0x37,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  i64Mul: 0x7e,
  i64ExtendI32U: 0xad,
  f64ConvertI64U: 0xba,
  f64Mul: 0xa2,
  end: 0x0b,
} as const;

/** Params 0 (hi) and 1 (lo) as one i64 on the stack. */
const combine = [op.localGet, 0, op.i64ExtendI32U, op.i64Const, ...sleb64(32n), op.i64Shl, op.localGet, 1, op.i64ExtendI32U, op.i64Or];
/** The i64 on the stack, mixed (local 2 is scratch). */
const mix64 = [
  op.localTee, 2, op.localGet, 2, op.i64Const, ...sleb64(30n), op.i64ShrU, op.i64Xor, op.i64Const, ...sleb64(C1), op.i64Mul,
  op.localTee, 2, op.localGet, 2, op.i64Const, ...sleb64(27n), op.i64ShrU, op.i64Xor, op.i64Const, ...sleb64(C2), op.i64Mul,
  op.localTee, 2, op.localGet, 2, op.i64Const, ...sleb64(31n), op.i64ShrU, op.i64Xor,
];
const oneI64Local = [0x01, 0x01, 0x7e];
const toDoubleBody = [...oneI64Local, ...combine, ...mix64, op.i64Const, ...sleb64(11n), op.i64ShrU, op.f64ConvertI64U, op.f64Const, ...f64Bytes(2 ** -53), op.f64Mul, op.end];
const mixBody = [...oneI64Local, op.i32Const, 0, ...combine, ...mix64, op.i64Store, 3, 0, op.end];

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
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...Buffer.from(s, "utf8")];

const I32 = 0x7f;
const F64 = 0x7c;
const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, vec([[0x60, 2, I32, I32, 1, F64], [0x60, 2, I32, I32, 0]])), // types
  ...section(3, vec([[0], [1]])), // functions: toDouble (type 0), mix (type 1)
  ...section(5, vec([[0x00, 1]])), // one memory of one page
  ...section(7, vec([[...name("toDouble"), 0x00, 0], [...name("mix"), 0x00, 1], [...name("memory"), 0x02, 0]])),
  ...section(10, vec([[...uleb(toDoubleBody.length), ...toDoubleBody], [...uleb(mixBody.length), ...mixBody]])),
]);

interface Kernel {
  toDouble(hi: number, lo: number): number;
  mix(hi: number, lo: number): void;
  memory: { readonly buffer: ArrayBuffer };
}

// This project's TypeScript libs (ES2023, no DOM) do not declare WebAssembly's classes.
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } } })
  .WebAssembly;
const kernel = new wasm.Instance(new wasm.Module(moduleBytes)).exports as Kernel;

/** `(mix64(hi:lo) >>> 11) * 2^-53`: SplitMix64's next double for the state hi:lo (already advanced). */
export const mixToDouble: (hi: number, lo: number) => number = kernel.toDouble;

const out = new Uint32Array(kernel.memory.buffer, 0, 2);
/** Writes mix64(hi:lo) to the result array ([lo, hi]) and returns it (valid until the next call). */
export const mixHalves = (hi: number, lo: number): Uint32Array => {
  kernel.mix(hi | 0, lo | 0);
  return out;
};
