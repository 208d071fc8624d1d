/**
 * A batch of same-shaped plain objects as columns: the fast path of element-codec.ts for the
 * records most jobs move between threads (`{ key: 17, value: 3 }`, a projected bid).
 *
 *   const enc = new ColumnEncoder();
 *   const frame = enc.encode(records);        // undefined: not a column batch, use msgpackr
 *   const back = new ColumnDecoder().decode(frame);
 *
 * A batch is a column batch when every record is a plain object (prototype Object.prototype)
 * with the same keys in the same order as the first record, at most 255 of them, none
 * `__proto__`, and each field that is a number (or string, or boolean) in the first record is one
 * in every record. Numbers travel as int32 when a column's all are (and none is -0), else as
 * float64 (so -0, NaN and every integer survive), strings as
 * UTF-16 code units (so any JS string survives, lone surrogates included) or Latin-1 bytes when
 * the column is ASCII, booleans as bytes; any other field (nested object, array, null,
 * undefined, bigint, Date, ...) as one msgpackr-packed array of the column's values.
 *
 * Decoding builds each record with an object literal of the shape's keys in order (a function
 * compiled once per shape), so records come back with the same keys in the same order, and the
 * same hidden class, which keeps the operators after the exchange monomorphic.
 *
 * Frame layout (little-endian; 8-byte aligned sections, so typed arrays view it in place when the
 * frame itself is aligned):
 *   0: 0xC1 (element-codec's control marker, never a msgpack first byte), 1: kind COLUMNS,
 *   2: u16 field count, 4: u32 record count, 8: per field u8 type + u16 name length + UTF-8 name,
 *   then, aligned, one section per field in order:
 *     F64: count float64 · I32: count int32 · BOOL: count bytes · ANY: u32 length + msgpack bytes ·
 *     STR: u32 encoding (0 Latin-1, 1 UTF-16LE), (count + 1) u32 end offsets (in bytes), the bytes.
 *
 * Contract: `decode(encode(records))` deep-equals `records`, keys in order. `encode` returns the
 * encoder's reused buffer: consume or copy it before the next call. An encoder learns: a field
 * whose type changed within a batch (that batch then goes to msgpackr) is sent as ANY from then on.
 */
import { Packr, Unpackr } from "msgpackr";
import { internalError } from "../../common/errors.ts";

export const COLUMNS_MARKER = 0xc1;
export const COLUMNS_KIND = 5;

const F64 = 1;
const STR = 2;
const BOOL = 3;
const ANY = 4;
/** A number column whose values are all int32 (and none -0): decoded as small integers, as they were made. */
const I32 = 5;
type FieldType = typeof F64 | typeof STR | typeof BOOL | typeof ANY | typeof I32;

const MAX_FIELDS = 255;
const ASCII = /^[\x00-\x7f]*$/;

/** Buffer's encoding-specific methods (in Node since v0.x, not in @types/node): no encoding lookup per call. */
interface NodeBufferFast extends Buffer {
  latin1Write(s: string, offset: number): number;
  ucs2Write(s: string, offset: number): number;
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

const align8 = (n: number) => (n + 7) & ~7;

interface Shape {
  readonly names: readonly string[];
  readonly types: readonly FieldType[];
}

/**
 * Fills `columns[f][i]` for every record; returns the index of the first record that does not fit
 * the shape, or `records.length` when all do.
 */
type Gather = (records: readonly unknown[], columns: readonly unknown[], names: readonly string[], objectProto: object) => number;

/** One record per index from the columns (numbers, strings, booleans or any values). */
type Build = (count: number, columns: readonly ArrayLike<unknown>[]) => unknown[];

const fieldAccess = (name: string) => `r[${JSON.stringify(name)}]`;

const compileGather = (shape: Shape): Gather => {
  const checks = shape.types
    .map((type, f) => {
      const read = `const v${f} = ${fieldAccess(shape.names[f]!)};`;
      const test =
        type === F64 ? `if (typeof v${f} !== "number") return i;` : type === STR ? `if (typeof v${f} !== "string") return i;` : type === BOOL ? `if (typeof v${f} !== "boolean") return i;` : "";
      const store = type === BOOL ? `c${f}[i] = v${f} ? 1 : 0;` : `c${f}[i] = v${f};`;
      return `${read} ${test} ${store}`;
    })
    .join("\n      ");
  const columns = shape.types.map((_, f) => `const c${f} = columns[${f}];`).join(" ");
  const body = `
    ${columns}
    const n = records.length;
    const width = names.length;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (typeof r !== "object" || r === null || Object.getPrototypeOf(r) !== objectProto) return i;
      let k = 0;
      for (const key in r) {
        if (key !== names[k]) return i;
        k++;
      }
      if (k !== width) return i;
      ${checks}
    }
    return n;`;
  return new Function("records", "columns", "names", "objectProto", body) as Gather;
};

const compileBuild = (shape: Shape): Build => {
  const fields = shape.names.map((name, f) => `${JSON.stringify(name)}: c${f}[i]`).join(", ");
  const columns = shape.names.map((_, f) => `const c${f} = columns[${f}];`).join(" ");
  const body = `
    ${columns}
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = { ${fields} };
    return out;`;
  return new Function("count", "columns", body) as Build;
};

/** Every value an int32 and none -0 (so Int32Array holds them exactly). */
const allInt32 = (values: Float64Array): boolean => {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if ((v | 0) !== v || (v === 0 && 1 / v < 0)) return false;
  }
  return true;
};

const shapeKey = (names: readonly string[], types: readonly FieldType[]): string => `${types.join("")}\u0000${names.join("\u0000")}`;

export class ColumnEncoder {
  private buffer = new ArrayBuffer(1 << 16);
  private bytes = new Uint8Array(this.buffer);
  private view = new DataView(this.buffer);
  private readonly packr = new Packr({ useRecords: true, moreTypes: true });
  private readonly gathers = new Map<string, Gather>();
  /** Fields (by shape key of names only) that changed type once: sent as ANY from then on. */
  private readonly anyFields = new Map<string, Set<string>>();
  private readonly f64: (Float64Array | undefined)[] = [];
  private readonly u8: (Uint8Array | undefined)[] = [];
  private readonly values: (unknown[] | undefined)[] = [];

  /** The batch as a column frame (the encoder's buffer), or undefined when it is not a column batch. */
  encode(records: readonly unknown[]): Uint8Array | undefined {
    const first = records[0];
    if (typeof first !== "object" || first === null || Object.getPrototypeOf(first) !== Object.prototype) return undefined;
    const names = Object.keys(first);
    if (names.length === 0 || names.length > MAX_FIELDS || names.includes("__proto__")) return undefined;
    const namesKey = names.join("\u0000");
    const forcedAny = this.anyFields.get(namesKey);
    const row = first as Record<string, unknown>;
    const types = names.map((name): FieldType => {
      if (forcedAny?.has(name) === true) return ANY;
      const v = row[name];
      return typeof v === "number" ? F64 : typeof v === "string" ? STR : typeof v === "boolean" ? BOOL : ANY;
    });
    const key = shapeKey(names, types);
    let gather = this.gathers.get(key);
    if (gather === undefined) {
      gather = compileGather({ names, types });
      this.gathers.set(key, gather);
    }
    const columns = this.columnsFor(types, records.length);
    const fitted = gather(records, columns, names, Object.prototype);
    if (fitted < records.length) {
      this.learn(namesKey, names, types, records[fitted]);
      this.clearColumns(names.length);
      return undefined;
    }
    const frame = this.write(names, types, columns, records.length);
    this.clearColumns(names.length);
    return frame;
  }

  /** After a misfit: fields whose type differs in the misfit record are ANY from now on. */
  private learn(namesKey: string, names: readonly string[], types: readonly FieldType[], misfit: unknown): void {
    if (typeof misfit !== "object" || misfit === null) return;
    const row = misfit as Record<string, unknown>;
    for (const [f, name] of names.entries()) {
      const type = types[f];
      if (type === ANY) continue;
      const v = row[name];
      const same = type === F64 ? typeof v === "number" : type === STR ? typeof v === "string" : typeof v === "boolean";
      if (!same && Object.hasOwn(row, name)) {
        let set = this.anyFields.get(namesKey);
        if (set === undefined) this.anyFields.set(namesKey, (set = new Set()));
        set.add(name);
      }
    }
  }

  /** Per field, a reused column of the field's type: Float64Array, Uint8Array (booleans as 0/1) or array. */
  private columnsFor(types: readonly FieldType[], count: number): unknown[] {
    const columns: unknown[] = [];
    for (const [f, type] of types.entries()) {
      if (type === F64) {
        let c = this.f64[f];
        if (c === undefined || c.length < count) this.f64[f] = c = new Float64Array(Math.max(count, 1024));
        columns.push(c);
      } else if (type === BOOL) {
        let c = this.u8[f];
        if (c === undefined || c.length < count) this.u8[f] = c = new Uint8Array(Math.max(count, 1024));
        columns.push(c);
      } else {
        let c = this.values[f];
        if (c === undefined) this.values[f] = c = [];
        columns.push(c);
      }
    }
    return columns;
  }

  /** Drops references to the batch's values (the value columns are reused). */
  private clearColumns(width: number): void {
    for (let f = 0; f < width; f++) if (this.values[f] !== undefined) this.values[f]!.length = 0;
  }

  private ensure(bytes: number): void {
    if (bytes <= this.buffer.byteLength) return;
    let size = this.buffer.byteLength;
    while (size < bytes) size *= 2;
    const grown = new ArrayBuffer(size);
    new Uint8Array(grown).set(this.bytes);
    this.buffer = grown;
    this.bytes = new Uint8Array(grown);
    this.view = new DataView(grown);
  }

  private write(names: readonly string[], types: readonly FieldType[], columns: readonly unknown[], count: number): Uint8Array {
    let at = 8;
    const encodedNames = names.map((n) => Buffer.from(n, "utf8"));
    this.ensure(at + encodedNames.reduce((s, b) => s + 3 + b.length, 0) + 8);
    this.bytes[0] = COLUMNS_MARKER;
    this.bytes[1] = COLUMNS_KIND;
    this.view.setUint16(2, names.length, true);
    this.view.setUint32(4, count, true);
    /** Where each field's type byte is (a number column is marked I32 once its values are seen). */
    const typeAt: number[] = [];
    for (const [f, name] of encodedNames.entries()) {
      typeAt.push(at);
      this.bytes[at] = types[f]!;
      this.view.setUint16(at + 1, name.length, true);
      this.bytes.set(name, at + 3);
      at += 3 + name.length;
    }
    at = align8(at);
    for (const [f, type] of types.entries()) {
      const column = columns[f];
      switch (type) {
        case F64: {
          const values = (column as Float64Array).subarray(0, count);
          if (allInt32(values)) {
            this.bytes[typeAt[f]!] = I32;
            this.ensure(at + count * 4 + 8);
            new Int32Array(this.buffer, at, count).set(values);
            at = align8(at + count * 4);
          } else {
            this.ensure(at + count * 8);
            new Float64Array(this.buffer, at, count).set(values);
            at += count * 8;
          }
          break;
        }
        case BOOL:
          this.ensure(at + count + 8);
          this.bytes.set((column as Uint8Array).subarray(0, count), at);
          at = align8(at + count);
          break;
        case STR:
          at = this.writeStrings(column as string[], count, at);
          break;
        default: {
          const packed = this.packr.pack(column);
          this.ensure(at + 4 + packed.length + 8);
          this.view.setUint32(at, packed.length, true);
          this.bytes.set(packed, at + 4);
          at = align8(at + 4 + packed.length);
        }
      }
    }
    return this.bytes.subarray(0, at);
  }

  /** A string column: ASCII as Latin-1 bytes, anything else as UTF-16 code units (exact for any string). */
  private writeStrings(column: readonly string[], count: number, at: number): number {
    let chars = 0;
    for (let i = 0; i < count; i++) chars += column[i]!.length;
    const joined = column.join("");
    const ascii = ASCII.test(joined);
    const unit = ascii ? 1 : 2;
    const offsetsAt = at + 8;
    const dataAt = offsetsAt + align8((count + 1) * 4);
    this.ensure(dataAt + chars * unit + 8);
    this.view.setUint32(at, ascii ? 0 : 1, true);
    const offsets = new Uint32Array(this.buffer, offsetsAt, count + 1);
    let end = 0;
    offsets[0] = 0;
    for (let i = 0; i < count; i++) {
      end += column[i]!.length * unit;
      offsets[i + 1] = end;
    }
    const buf = Buffer.from(this.buffer, dataAt, chars * unit) as NodeBufferFast;
    if (ascii) buf.latin1Write(joined, 0);
    else buf.ucs2Write(joined, 0);
    return align8(dataAt + chars * unit);
  }
}

export class ColumnDecoder {
  // copyBuffers: a Buffer or typed array in a record must not be a view of the (reused) frame.
  private readonly unpackr = new Unpackr({ useRecords: true, moreTypes: true, copyBuffers: true });
  private readonly builds = new Map<string, Build>();

  /** The records of a column frame (its bytes are not retained: strings and numbers are copied out). */
  decode(frame: Uint8Array): unknown[] {
    if (frame[0] !== COLUMNS_MARKER || frame[1] !== COLUMNS_KIND) throw internalError("EXCHANGE_BAD_FRAME", "not a column frame");
    // Sections are aligned relative to the frame's start: view them in place only when the frame is.
    const bytes = frame.byteOffset % 8 === 0 ? frame : frame.slice();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as NodeBufferFast;
    const width = view.getUint16(2, true);
    const count = view.getUint32(4, true);
    let at = 8;
    const names: string[] = [];
    const types: FieldType[] = [];
    for (let f = 0; f < width; f++) {
      types.push(bytes[at] as FieldType);
      const length = view.getUint16(at + 1, true);
      names.push(buf.toString("utf8", at + 3, at + 3 + length));
      at += 3 + length;
    }
    at = align8(at);
    const columns: ArrayLike<unknown>[] = [];
    for (const type of types) {
      switch (type) {
        case F64:
          columns.push(new Float64Array(bytes.buffer, bytes.byteOffset + at, count));
          at += count * 8;
          break;
        case I32:
          columns.push(new Int32Array(bytes.buffer, bytes.byteOffset + at, count));
          at = align8(at + count * 4);
          break;
        case BOOL: {
          const flags = new Array<boolean>(count);
          for (let i = 0; i < count; i++) flags[i] = bytes[at + i] === 1;
          columns.push(flags);
          at = align8(at + count);
          break;
        }
        case STR: {
          const ascii = view.getUint32(at, true) === 0;
          const offsets = new Uint32Array(bytes.buffer, bytes.byteOffset + at + 8, count + 1);
          const dataAt = at + 8 + align8((count + 1) * 4);
          const strings = new Array<string>(count);
          for (let i = 0; i < count; i++) {
            strings[i] = ascii ? buf.latin1Slice(dataAt + offsets[i]!, dataAt + offsets[i + 1]!) : buf.ucs2Slice(dataAt + offsets[i]!, dataAt + offsets[i + 1]!);
          }
          columns.push(strings);
          at = align8(dataAt + offsets[count]!);
          break;
        }
        case ANY: {
          const length = view.getUint32(at, true);
          const values = this.unpackr.unpack(bytes.subarray(at + 4, at + 4 + length)) as unknown[];
          columns.push(values);
          at = align8(at + 4 + length);
          break;
        }
        default:
          throw internalError("EXCHANGE_BAD_FRAME", `unknown column type ${String(type)}`);
      }
    }
    const key = shapeKey(names, types);
    let build = this.builds.get(key);
    if (build === undefined) {
      build = compileBuild({ names, types });
      this.builds.set(key, build);
    }
    return build(count, columns);
  }
}
