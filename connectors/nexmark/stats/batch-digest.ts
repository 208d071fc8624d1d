/**
 * FNV-1a-64 of `canonical(row)` for a whole batch of rows with one call into WebAssembly per
 * CHUNK_ROWS rows (fnv1a64-wasm.ts): bit-identical to `RowDigester` and
 * `fnv1a64Hex(canonical(row))` (canonical.ts), i.e. the hash of the text's UTF-8 bytes (WTF-8
 * for a lone surrogate, see wtf8.ts).
 *
 *   const d = new BatchDigester();
 *   const h = d.digest(rows);            // row i: lo = h[2 * i], hi = h[2 * i + 1]
 *   buckets.add(rowTime(rows[0]), h[1]!, h[0]!);
 *
 * Each row's canonical text is written as bytes straight into the module's memory
 * (canonical-bytes.ts): a flat row through its shape's sorted keys, cached as RowDigester does
 * (one `Object.keys` and a comparison per row) with each `|name=` already in bytes; a row with a
 * nested object or array as the bytes of `canonical(row)`. Then one call hashes the chunk.
 *
 * Memory, from byte 0: the n hashes (8 per row), the chunk's row ends (4 per row: byte offsets
 * from the data), the chunk's bytes. It grows as a row needs (doubling) and never shrinks.
 * Failures: a value `canonical` cannot write (a symbol, a function) throws its TypeError, and no
 * hash of that batch is returned; memory that cannot grow throws a RangeError.
 */
import { canonical } from "./canonical.ts";
import { NUMBER_ROOM, writeAscii, writeNumber, writeText } from "./canonical-bytes.ts";
import { FnvKernel } from "./fnv1a64-wasm.ts";
import { writeWtf8 } from "./wtf8.ts";

/** Rows per call into WebAssembly (bounds the memory for the rows' bytes to one chunk's). */
export const CHUNK_ROWS = 1024;

/** WTF-8 bytes of `|name=` (a shape's field): written from index 1 for the row's first field. */
const piece = (name: string): Uint8Array => {
  const s = `|${name}=`;
  const b = new Uint8Array(3 * s.length);
  return b.subarray(0, writeWtf8(s, b, 0));
};

export class BatchDigester {
  private readonly kernel = new FnvKernel();
  private bytes: Uint8Array;
  /** Bytes of memory (as `kernel.size`, read once per growth). */
  private size: number;
  private keys: string[] = [];
  private sorted: string[] = [];
  private pieces: Uint8Array[] = [];

  constructor() {
    this.bytes = this.kernel.bytes;
    this.size = this.kernel.size;
  }

  /**
   * The hashes of `canonical(row)` for every row, as u32 words: row i's low half at [2i], high
   * half at [2i + 1]. The array views this digester's memory: valid until its next `digest`.
   */
  digest(rows: readonly object[]): Uint32Array {
    const n = rows.length;
    const endsAt = 8 * n;
    const dataAt = endsAt + 4 * Math.min(n, CHUNK_ROWS);
    this.room(0, dataAt);
    for (let start = 0; start < n; start += CHUNK_ROWS) {
      const count = Math.min(CHUNK_ROWS, n - start);
      let at = dataAt;
      for (let i = 0; i < count; i++) {
        at = this.row(rows[start + i]!, at);
        this.kernel.words[(endsAt >>> 2) + i] = at - dataAt;
      }
      this.kernel.hash(dataAt, endsAt, count, 8 * start);
    }
    return this.kernel.words;
  }

  /** Writes `canonical(row)` from `at`; returns the offset after it. */
  private row(row: object, at: number): number {
    const r = row as Record<string, unknown>;
    const keys = Object.keys(r);
    if (!this.sameKeys(keys)) this.shape(keys);
    const { sorted, pieces } = this;
    const start = at;
    let from = 1; // the first field written has no "|"
    for (let j = 0; j < sorted.length; j++) {
      const v = r[sorted[j]!];
      if (v === undefined) continue;
      const p = pieces[j]!;
      this.room(at, p.length + NUMBER_ROOM);
      let b = this.bytes;
      for (let q = from; q < p.length; q++) b[at++] = p[q]!;
      from = 0;
      switch (typeof v) {
        case "number":
          at = writeNumber(b, at, v);
          break;
        case "string":
          this.room(at, 3 * v.length);
          b = this.bytes;
          at = writeText(b, this.kernel.buffer, at, v);
          break;
        case "boolean":
          at = writeAscii(b, at, v ? "true" : "false");
          break;
        case "bigint": {
          const s = String(v);
          this.room(at, s.length);
          at = writeAscii(this.bytes, at, s);
          break;
        }
        default:
          if (v === null) {
            at = writeAscii(b, at, "null");
            break;
          }
          return this.text(start, canonical(row)); // nested (or a value canonical refuses: its TypeError)
      }
    }
    return at;
  }

  /** Writes `s` (a row's whole text) from `at`. */
  private text(at: number, s: string): number {
    this.room(at, 3 * s.length);
    return writeText(this.bytes, this.kernel.buffer, at, s);
  }

  /** Makes bytes [at, at + n) exist (doubling the memory at least); refreshes `bytes`. */
  private room(at: number, n: number): void {
    if (at + n <= this.size) return;
    this.kernel.reserve(Math.max(at + n, 2 * this.size));
    this.bytes = this.kernel.bytes;
    this.size = this.kernel.size;
  }

  private shape(keys: string[]): void {
    this.keys = keys;
    this.sorted = [...keys].sort();
    this.pieces = this.sorted.map(piece);
  }

  private sameKeys(keys: readonly string[]): boolean {
    if (keys.length !== this.keys.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== this.keys[i]) return false;
    return true;
  }
}
