/**
 * SplitMix64 in WebAssembly, where a 64-bit multiply is one instruction (in JavaScript it is eight
 * 16-bit-limb products), and so are the per-character loops of the generator's strings (one call
 * per string instead of one per draw). The module is assembled here from its instructions (about
 * 650 bytes, no build step, no file to ship). Its functions, the state being two unsigned 32-bit
 * halves hi:lo:
 *
 *   (func $toDouble (param $hi i32) (param $lo i32) (result f64))   ;; (mix64(hi:lo) >>> 11) * 2^-53
 *   (func $mix (param $hi i32) (param $lo i32))                     ;; mix64(hi:lo) -> memory[0..8)
 *   (func $letters (param $hi i32) (param $lo i32) (param $length i32))
 *       ;; `length` times: state += GAMMA; memory[16 + i] = 97 + floor(double(state) * 26)
 *       ;; (one draw per letter, a–z); then the state after the last draw -> memory[8..16)
 *   (func $lettersOrSpecial (param $hi i32) (param $lo i32) (param $length i32) (param $special i32))
 *       ;; `length` times: state += GAMMA; if floor(double(state) * 13) == 0 then `special` (one
 *       ;; draw) else state += GAMMA; 97 + floor(double(state) * 26) (two draws) -> memory[16 + i];
 *       ;; then the state after the last draw -> memory[8..16)
 *
 * where mix64(z) = z ^= z >>> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >>> 27; z *= 0x94D049BB133111EB;
 * z ^ (z >>> 31) — the Stafford variant 13 finaliser that Java's SplittableRandom uses — and
 * double(state) = (mix64(state) >>> 11) * 2^-53. The loops make exactly the draws of
 * splitmix64.ts's `nextInt(bound)` = `Math.floor(nextDouble() * bound)`, with the same f64
 * operations in the same order (f64.convert_i64_u, f64.mul by 2^-53, f64.mul by the bound,
 * f64.floor, then the exact i32.trunc_f64_u; IEEE-754 round-to-nearest in both), so every value
 * is bit-identical to the JavaScript version and to Java. Memory (little-endian): [0, 8) the output of `mix`, [8, 16) the
 * state after a letters call (lo then hi), [16, ...) the letters; it grows on demand.
 */

import { name, section, sleb64, uleb, vec } from "./wasm-bytes.ts";

const GAMMA = 0x9e3779b97f4a7c15n;
const C1 = 0xbf58476d1ce4e5b9n;
const C2 = 0x94d049bb133111ebn;



const f64Bytes = (x: number): number[] => [...new Uint8Array(new Float64Array([x]).buffer)];

const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  else: 0x05,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i64Store: 0x37,
  i32Store8: 0x3a,
  i32Const: 0x41,
  i64Const: 0x42,
  f64Const: 0x44,
  i32GeU: 0x4f,
  f64Eq: 0x61,
  i32Add: 0x6a,
  i64Add: 0x7c,
  i64Mul: 0x7e,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64ShrU: 0x88,
  f64Floor: 0x9c,
  f64Mul: 0xa2,
  i32TruncF64U: 0xab,
  i64ExtendI32U: 0xad,
  f64ConvertI64U: 0xba,
} as const;
const EMPTY_BLOCK = 0x40;
const I32 = 0x7f;
const I64 = 0x7e;
const F64 = 0x7c;

/** Params 0 (hi) and 1 (lo) as one i64 on the stack. */
const combine = [op.localGet, 0, op.i64ExtendI32U, op.i64Const, ...sleb64(32n), op.i64Shl, op.localGet, 1, op.i64ExtendI32U, op.i64Or];
/** The i64 on the stack, mixed (local `z` is scratch). */
const mix64 = (z: number): number[] => [
  op.localTee, z, op.localGet, z, op.i64Const, ...sleb64(30n), op.i64ShrU, op.i64Xor, op.i64Const, ...sleb64(C1), op.i64Mul,
  op.localTee, z, op.localGet, z, op.i64Const, ...sleb64(27n), op.i64ShrU, op.i64Xor, op.i64Const, ...sleb64(C2), op.i64Mul,
  op.localTee, z, op.localGet, z, op.i64Const, ...sleb64(31n), op.i64ShrU, op.i64Xor,
];
/** The mixed i64 on the stack -> `nextDouble()` (f64 in [0, 1)). */
const toUnit = [op.i64Const, ...sleb64(11n), op.i64ShrU, op.f64ConvertI64U, op.f64Const, ...f64Bytes(2 ** -53), op.f64Mul];
/** Advances local `state` by the gamma and leaves `floor(nextDouble() * bound)` as an f64 on the stack. */
const nextIntF64 = (state: number, z: number, bound: number): number[] => [
  op.localGet, state, op.i64Const, ...sleb64(GAMMA), op.i64Add, op.localTee, state,
  ...mix64(z), ...toUnit, op.f64Const, ...f64Bytes(bound), op.f64Mul, op.f64Floor,
];
/** Advances local `state` and leaves the letter `97 + nextInt(26)` as an i32 on the stack. */
const nextLetter = (state: number, z: number): number[] => [...nextIntF64(state, z, 26), op.i32TruncF64U, op.i32Const, ...sleb64(97n), op.i32Add];

/** Locals: `i64s` i64 then one i32. */
const locals = (i64s: number): number[] => [0x02, i64s, I64, 0x01, I32];
/** Memory offsets: the state written back, and the first letter. */
export const STATE_OFFSET = 8;
export const LETTERS_OFFSET = 16;

/**
 * `for (i = 0; i < length (unsigned); i++) memory[16 + i] = <char>;` with `char` computed by
 * `charCode` from locals state, z; then the state -> memory[8..16). Params 0 (hi), 1 (lo), 2 (length);
 * `first` is the index of the first local (state, then z, then i).
 */
const lettersLoop = (first: number, charCode: (state: number, z: number) => number[]): number[] => {
  const [state, z, i] = [first, first + 1, first + 2];
  return [
    ...locals(2),
    ...combine, op.localSet, state,
    op.block, EMPTY_BLOCK,
    op.loop, EMPTY_BLOCK,
    op.localGet, i, op.localGet, 2, op.i32GeU, op.brIf, 1,
    op.localGet, i, ...charCode(state, z), op.i32Store8, 0, ...uleb(LETTERS_OFFSET),
    op.localGet, i, op.i32Const, ...sleb64(1n), op.i32Add, op.localSet, i,
    op.br, 0,
    op.end,
    op.end,
    op.i32Const, 0, op.localGet, state, op.i64Store, 3, ...uleb(STATE_OFFSET),
    op.end,
  ];
};

const toDoubleBody = [0x01, 0x01, I64, ...combine, ...mix64(2), ...toUnit, op.end];
const mixBody = [0x01, 0x01, I64, op.i32Const, 0, ...combine, ...mix64(2), op.i64Store, 3, 0, op.end];
const lettersBody = lettersLoop(3, nextLetter);
// Param 3 is `special`; the condition is floor(nextDouble() * 13) == 0.
const lettersOrSpecialBody = lettersLoop(4, (state, z) => [
  ...nextIntF64(state, z, 13), op.f64Const, ...f64Bytes(0), op.f64Eq,
  op.if, I32, op.localGet, 3, op.else, ...nextLetter(state, z), op.end,
]);

const code = (body: number[]) => [...uleb(body.length), ...body];
const exported = (s: string, func: number) => [...name(s), 0x00, func];

const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // types: 0 (i32 i32) -> f64, 1 (i32 i32), 2 (i32 i32 i32), 3 (i32 i32 i32 i32)
  ...section(1, vec([[0x60, 2, I32, I32, 1, F64], [0x60, 2, I32, I32, 0], [0x60, 3, I32, I32, I32, 0], [0x60, 4, I32, I32, I32, I32, 0]])),
  ...section(3, vec([[0], [1], [2], [3]])), // functions: toDouble, mix, letters, lettersOrSpecial
  ...section(5, vec([[0x00, 1]])), // one memory of one page, no maximum
  ...section(7, vec([exported("toDouble", 0), exported("mix", 1), exported("letters", 2), exported("lettersOrSpecial", 3), [...name("memory"), 0x02, 0]])),
  ...section(10, vec([code(toDoubleBody), code(mixBody), code(lettersBody), code(lettersOrSpecialBody)])),
]);

interface Kernel {
  toDouble(hi: number, lo: number): number;
  mix(hi: number, lo: number): void;
  letters(hi: number, lo: number, length: number): void;
  lettersOrSpecial(hi: number, lo: number, length: number, special: number): void;
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
}

// This project's TypeScript libs (ES2023, no DOM) do not declare WebAssembly's classes.
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } } })
  .WebAssembly;
const kernel = new wasm.Instance(new wasm.Module(moduleBytes)).exports as Kernel;

/** `(mix64(hi:lo) >>> 11) * 2^-53`: SplitMix64's next double for the state hi:lo (already advanced). */
export const mixToDouble: (hi: number, lo: number) => number = kernel.toDouble;

/**
 * `Buffer#latin1Slice(start, end)`: what `toString("latin1", start, end)` calls, without its
 * argument handling (about 20 ns a call less). Undocumented, so where it is missing the letters
 * are decoded with `toString` (same result).
 */
type Latin1Buffer = Buffer & { latin1Slice(start: number, end: number): string };
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === "function";

// Views of the memory; a grow detaches the old buffer, so they are rebuilt after one (`reserve`).
let out = new Uint32Array(kernel.memory.buffer, 0, 2);
let words = new Uint32Array(kernel.memory.buffer);
let bytes = Buffer.from(kernel.memory.buffer) as Latin1Buffer;
/** The `length` letters just written, as a string. */
const decode = (length: number): string =>
  hasLatin1Slice ? bytes.latin1Slice(LETTERS_OFFSET, LETTERS_OFFSET + length) : bytes.toString("latin1", LETTERS_OFFSET, LETTERS_OFFSET + length);

/** Writes mix64(hi:lo) to the result array ([lo, hi]) and returns it (valid until the next call). */
export const mixHalves = (hi: number, lo: number): Uint32Array => {
  kernel.mix(hi | 0, lo | 0);
  return out;
};

/** Longest string one letters call makes (a larger length throws). */
export const MAX_LETTERS = 1 << 28;
const PAGE = 65_536;

/** Makes room for `length` letters (growing the memory); throws RangeError past MAX_LETTERS. */
const reserve = (length: number): void => {
  if (LETTERS_OFFSET + length <= bytes.length) return;
  if (!(length <= MAX_LETTERS)) throw new RangeError(`SplitMix64: cannot draw ${length} letters at once (at most ${MAX_LETTERS})`);
  kernel.memory.grow(Math.ceil((LETTERS_OFFSET + length - bytes.length) / PAGE));
  out = new Uint32Array(kernel.memory.buffer, 0, 2);
  words = new Uint32Array(kernel.memory.buffer);
  bytes = Buffer.from(kernel.memory.buffer) as Latin1Buffer;
};

/**
 * The state after the last `drawLetters`/`drawLettersOrSpecial` call, as unsigned halves (a
 * shared object, overwritten by the next call).
 */
export const drawnState = { hi: 0, lo: 0 };

/**
 * `length` letters a–z, one draw each starting from the state hi:lo (not yet advanced), as a
 * latin1 string; the state after the last draw goes to `drawnState`. `length` is an integer in
 * [0, MAX_LETTERS] (the caller checks; a negative one is read as unsigned and throws RangeError).
 */
export const drawLetters = (hi: number, lo: number, length: number): string => {
  reserve(length >>> 0);
  kernel.letters(hi, lo, length);
  drawnState.lo = words[2]!;
  drawnState.hi = words[3]!;
  return decode(length);
};

/**
 * Per character: `special` if a draw gives floor(d * 13) == 0, else a letter a–z from a second
 * draw; otherwise as `drawLetters`. `special` is a char code in [0, 255].
 */
export const drawLettersOrSpecial = (hi: number, lo: number, length: number, special: number): string => {
  reserve(length >>> 0);
  kernel.lettersOrSpecial(hi, lo, length, special);
  drawnState.lo = words[2]!;
  drawnState.hi = words[3]!;
  return decode(length);
};
