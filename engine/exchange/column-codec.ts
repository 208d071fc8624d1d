/**
 * A batch of same-shaped plain objects as columns: the fast path of element-codec.ts for the
 * records most jobs move between threads (`{ key: 17, value: 3 }`, a projected bid).
 *
 *   const enc = new ColumnEncoder();
 *   const frame = enc.encode(records);        // undefined: not a column batch, use msgpackr
 *   const back = new ColumnDecoder().decode(frame);
 *
 * A batch is a column batch when every record is a plain object (prototype Object.prototype)
 * with the same keys in the same order as the first record, at most 255 columns, no key
 * `__proto__`, and each field that is a number (or string, or boolean) in the first record is one
 * in every record. A field that is a non-empty plain object in the first record is flattened the
 * same way (down to depth 3: `{ kind, bid: { auction, price } }` is three columns), and must then
 * be one of the same keys in every record. Numbers travel as int32 when a column's all are (and none is -0), else as
 * float64 (so -0, NaN and every integer survive), strings as
 * UTF-16 code units or Latin-1 bytes when every character of the column is below U+0100 (a
 * column with an unpaired surrogate goes to msgpackr, as every other path writes it as U+FFFD), booleans as bytes; any other field (nested object, array, null,
 * undefined, bigint, Date, ...) as one msgpackr-packed array of the column's values.
 *
 * Decoding builds each record with an object literal of the shape's keys in order (a function
 * compiled once per shape), so records come back with the same keys in the same order, and the
 * same hidden class, which keeps the operators after the exchange monomorphic.
 *
 * Frame layout (little-endian; 8-byte aligned sections, so typed arrays view it in place when the
 * frame itself is aligned):
 *   0: 0xC1 (element-codec's control marker, never a msgpack first byte), 1: kind COLUMNS,
 *   2: u16 column count, 4: u32 record count, 8: u32 length of the shape, 12: the shape as JSON
 *   (a field as its name, a nested object as [name, [fields]]), then one u8 type per column
 *   (the shape's leaves, depth first), then, aligned, one section per column in order:
 *     F64: count float64 · I32: count int32 · BOOL: count bytes · ANY: u32 length + msgpack bytes ·
 *     STR: u32 encoding (0 Latin-1, 1 UTF-16LE), (count + 1) u32 end offsets (in bytes), the bytes.
 *
 * Contract: `decode(encode(records))` deep-equals `records`, keys in order. `encode` returns the
 * encoder's reused buffer: consume or copy it before the next call. An encoder learns: a field
 * whose type (or nested object whose keys) changed within a batch (that batch then goes to
 * msgpackr) is sent as a packed column from then on; a key list whose batches keep misfitting is
 * left to msgpackr.
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
/** Nested plain objects flattened into columns down to this depth (deeper: a packed column). */
const MAX_DEPTH = 3;
/** Batches of one top-level key list that may misfit (then learn) before its records go to msgpackr for good. */
const MAX_MISFITS = 16;
/** Strings whose every code unit Latin-1 holds (latin1Write and latin1Slice are exact for them). */
const LATIN1 = /^[\x00-\xff]*$/;
/** Distinct shapes one encoder compiles before it leaves new ones to msgpackr (the decoder keeps as many). */
const MAX_SHAPES = 64;

/** Thrown inside the encoder when a batch cannot be columns after all; the batch goes to msgpackr. */
class NotColumns extends Error {}

// String.prototype.isWellFormed is in Node 20 but not in this project's ES2023 lib.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Buffer's encoding-specific methods (in Node since v0.x, not in @types/node): no encoding lookup per call. */
interface NodeBufferFast extends Buffer {
  latin1Write(s: string, offset: number): number;
  ucs2Write(s: string, offset: number): number;
  latin1Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

const align8 = (n: number) => (n + 7) & ~7;

/**
 * A record shape: its fields in order, each a leaf (one column) or a nested plain object of a
 * shape of its own. In a frame's header: a leaf as its name, an object as [name, fields].
 */
type ShapeField = string | readonly [string, readonly ShapeField[]];

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype;

const fieldName = (f: ShapeField): string => (typeof f === "string" ? f : f[0]);

/**
 * Fills column `j` with leaf `j` of every record; returns the index of the first record that does
 * not fit the shape, or `records.length` when all do.
 */
type Gather = (records: readonly unknown[], columns: readonly unknown[], names: readonly (readonly string[])[], objectProto: object) => number;

/** One record per index from the columns. */
type Build = (count: number, columns: readonly ArrayLike<unknown>[]) => unknown[];

const access = (object: string, name: string) => `${object}[${JSON.stringify(name)}]`;

/**
 * The gather function of a shape: per record, the object (and each nested object) must be plain
 * and have exactly the shape's keys in order (checked with for-in, which also sees inherited
 * enumerable keys), and each typed leaf the type of its column.
 */
const compileGather = (fields: readonly ShapeField[], types: readonly FieldType[]): Gather => {
  const keyLists: string[][] = [];
  let leaf = 0;
  let objects = 0;
  const emit = (fs: readonly ShapeField[], object: string): string => {
    const list = keyLists.length;
    keyLists.push(fs.map(fieldName));
    const k = `k${list}`;
    let code = `let ${k} = 0; for (const key in ${object}) { if (key !== names[${list}][${k}]) return i; ${k}++; } if (${k} !== ${fs.length}) return i;\n`;
    for (const f of fs) {
      if (typeof f === "string") {
        const j = leaf++;
        const type = types[j];
        const v = `v${j}`;
        code += `const ${v} = ${access(object, f)}; `;
        if (type === F64) code += `if (typeof ${v} !== "number") return i; c${j}[i] = ${v};\n`;
        else if (type === STR) code += `if (typeof ${v} !== "string") return i; c${j}[i] = ${v};\n`;
        else if (type === BOOL) code += `if (typeof ${v} !== "boolean") return i; c${j}[i] = ${v} ? 1 : 0;\n`;
        else code += `c${j}[i] = ${v};\n`;
      } else {
        const o = `o${objects++}`;
        code += `const ${o} = ${access(object, f[0])}; if (typeof ${o} !== "object" || ${o} === null || Object.getPrototypeOf(${o}) !== objectProto) return i;\n`;
        code += emit(f[1], o);
      }
    }
    return code;
  };
  const perRecord = emit(fields, "r");
  const columns = types.map((_, j) => `const c${j} = columns[${j}];`).join(" ");
  const body = `
    ${columns}
    const n = records.length;
    for (let i = 0; i < n; i++) {
      const r = records[i];
      if (typeof r !== "object" || r === null || Object.getPrototypeOf(r) !== objectProto) return i;
      ${perRecord}
    }
    return n;`;
  const gather = new Function("records", "columns", "names", "objectProto", body) as (...args: unknown[]) => number;
  return (records, cols, _names, proto) => gather(records, cols, keyLists, proto);
};

const compileBuild = (fields: readonly ShapeField[], leaves: number): Build => {
  let leaf = 0;
  const literal = (fs: readonly ShapeField[]): string =>
    `{ ${fs.map((f) => (typeof f === "string" ? `${JSON.stringify(f)}: c${leaf++}[i]` : `${JSON.stringify(f[0])}: ${literal(f[1])}`)).join(", ")} }`;
  const record = literal(fields);
  const columns = Array.from({ length: leaves }, (_, j) => `const c${j} = columns[${j}];`).join(" ");
  const body = `
    ${columns}
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = ${record};
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

/** The column type of a leaf value. */
const leafType = (v: unknown): FieldType => (typeof v === "number" ? F64 : typeof v === "string" ? STR : typeof v === "boolean" ? BOOL : ANY);

/** A path's name in the learned set. */
const pathKey = (path: readonly string[]) => path.join("\u0000");

export class ColumnEncoder {
  private buffer = new ArrayBuffer(1 << 16);
  private bytes = new Uint8Array(this.buffer);
  private view = new DataView(this.buffer);
  private readonly packr = new Packr({ useRecords: true, moreTypes: true });
  private readonly gathers = new Map<string, Gather>();
  /** Paths (of a top-level key list) whose value changed type or shape once: a packed column from then on. */
  private readonly anyPaths = new Map<string, Set<string>>();
  /** Batches of a top-level key list that did not fit their shape (see MAX_MISFITS). */
  private readonly misfits = new Map<string, number>();
  private readonly f64: (Float64Array | undefined)[] = [];
  private readonly u8: (Uint8Array | undefined)[] = [];
  private readonly values: (unknown[] | undefined)[] = [];

  /** The batch as a column frame (the encoder's buffer), or undefined when it is not a column batch. */
  encode(records: readonly unknown[]): Uint8Array | undefined {
    const first = records[0];
    if (!isPlainObject(first)) return undefined;
    const topNames = Object.keys(first);
    const namesKey = topNames.join("\u0000");
    if ((this.misfits.get(namesKey) ?? 0) >= MAX_MISFITS) return undefined;
    const forced = this.anyPaths.get(namesKey);
    const types: FieldType[] = [];
    const fields = this.shapeOf(first, topNames, [], forced, types);
    if (fields === undefined) return undefined;
    const key = `${types.join("")}${JSON.stringify(fields)}`;
    let gather = this.gathers.get(key);
    if (gather === undefined) {
      // Keys that are data ({ [user]: n }) would compile a function per record: msgpackr's case.
      if (this.gathers.size >= MAX_SHAPES) return undefined;
      gather = compileGather(fields, types);
      this.gathers.set(key, gather);
    }
    try {
      const columns = this.columnsFor(types, records.length);
      const fitted = gather(records, columns, [], Object.prototype);
      if (fitted < records.length) {
        this.learn(namesKey, fields, types, records[fitted]);
        return undefined;
      }
      return this.write(fields, types, columns, records.length);
    } catch (e) {
      // Anything columns cannot carry (an unpaired surrogate, a value msgpackr refuses in a packed
      // column, a string too long to join) is left to msgpackr, which fails the same way if it must.
      if (e instanceof NotColumns || e instanceof RangeError || e instanceof TypeError) return undefined;
      throw e;
    } finally {
      this.clearColumns(types.length);
    }
  }

  /**
   * The shape of `object` (its keys `names`), pushing each leaf's type to `types`; undefined when
   * the top level cannot be a column batch (no keys, too many, `__proto__`).
   */
  private shapeOf(object: Record<string, unknown>, names: readonly string[], prefix: readonly string[], forced: ReadonlySet<string> | undefined, types: FieldType[]): ShapeField[] | undefined {
    if (names.length === 0 || names.length > MAX_FIELDS || names.includes("__proto__") || types.length + names.length > MAX_FIELDS) return undefined;
    const fields: ShapeField[] = [];
    for (const name of names) {
      const v = object[name];
      const path = [...prefix, name];
      if (forced?.has(pathKey(path)) !== true && prefix.length + 1 < MAX_DEPTH && isPlainObject(v)) {
        const mark = types.length;
        const nested = this.shapeOf(v, Object.keys(v), path, forced, types);
        if (nested !== undefined) {
          fields.push([name, nested]);
          continue;
        }
        types.length = mark;
      }
      fields.push(name);
      types.push(forced?.has(pathKey(path)) === true ? ANY : leafType(v));
    }
    return fields;
  }

  /**
   * After a misfit: each leaf whose type differs, and each nested object whose keys (in order)
   * differ or that is not a plain object, in the misfit record, is a packed column from now on.
   * A top-level key list that keeps misfitting is left to msgpackr altogether.
   */
  private learn(namesKey: string, fields: readonly ShapeField[], types: readonly FieldType[], misfit: unknown): void {
    const misfits = (this.misfits.get(namesKey) ?? 0) + 1;
    this.misfits.set(namesKey, misfits);
    if (!isPlainObject(misfit)) return;
    let set = this.anyPaths.get(namesKey);
    const force = (path: readonly string[]) => {
      if (set === undefined) this.anyPaths.set(namesKey, (set = new Set()));
      set.add(pathKey(path));
    };
    let leaf = 0;
    const skipLeaves = (fs: readonly ShapeField[]) => {
      for (const f of fs) {
        if (typeof f === "string") leaf++;
        else skipLeaves(f[1]);
      }
    };
    const walk = (fs: readonly ShapeField[], object: Record<string, unknown>, prefix: readonly string[]) => {
      for (const f of fs) {
        const name = fieldName(f);
        const v = object[name];
        const path = [...prefix, name];
        if (typeof f === "string") {
          const type = types[leaf++]!;
          if (type !== ANY && leafType(v) !== type) force(path);
          continue;
        }
        const keys = isPlainObject(v) ? Object.keys(v) : undefined;
        if (keys === undefined || keys.length !== f[1].length || keys.some((k, i) => k !== fieldName(f[1][i]!))) {
          force(path);
          skipLeaves(f[1]);
        } else walk(f[1], v as Record<string, unknown>, path);
      }
    };
    walk(fields, misfit, []);
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

  private write(fields: readonly ShapeField[], types: readonly FieldType[], columns: readonly unknown[], count: number): Uint8Array {
    const shape = Buffer.from(JSON.stringify(fields), "utf8");
    this.ensure(12 + shape.length + types.length + 8);
    this.bytes[0] = COLUMNS_MARKER;
    this.bytes[1] = COLUMNS_KIND;
    this.view.setUint16(2, types.length, true);
    this.view.setUint32(4, count, true);
    this.view.setUint32(8, shape.length, true);
    this.bytes.set(shape, 12);
    let at = 12 + shape.length;
    /** Where each column's type byte is (a number column is marked I32 once its values are seen). */
    const typeAt: number[] = [];
    for (const type of types) {
      typeAt.push(at);
      this.bytes[at++] = type;
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

  /** A string column: Latin-1 bytes when every character is below U+0100, else UTF-16 code units (well-formed strings only). */
  private writeStrings(column: readonly string[], count: number, at: number): number {
    let chars = 0;
    for (let i = 0; i < count; i++) chars += column[i]!.length;
    const joined = column.join("");
    const ascii = LATIN1.test(joined);
    // msgpackr writes an unpaired surrogate as U+FFFD: such a column goes to msgpackr too, so a
    // string arrives the same whichever path its batch took (a key must hash the same way).
    if (!ascii && !isWellFormed(joined)) throw new NotColumns();
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
  /** By frame header: the column types and the compiled record builder. */
  private readonly shapes = new Map<string, { readonly types: readonly FieldType[]; readonly build: Build }>();

  /** The records of a column frame (its bytes are not retained: strings and numbers are copied out). */
  decode(frame: Uint8Array): unknown[] {
    if (frame[0] !== COLUMNS_MARKER || frame[1] !== COLUMNS_KIND) throw internalError("EXCHANGE_BAD_FRAME", "not a column frame");
    // Sections are aligned relative to the frame's start: view them in place only when the frame is.
    const bytes = frame.byteOffset % 8 === 0 ? frame : frame.slice();
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as NodeBufferFast;
    const width = view.getUint16(2, true);
    const count = view.getUint32(4, true);
    const shapeBytes = view.getUint32(8, true);
    const typesAt = 12 + shapeBytes;
    // The header (shape and column types) names the compiled builder: one string per frame, no parse.
    const header = buf.latin1Slice(8, typesAt + width);
    let known = this.shapes.get(header);
    if (known === undefined) {
      if (this.shapes.size >= 4 * MAX_SHAPES) this.shapes.clear(); // an encoder sends at most MAX_SHAPES: only a long-lived mix gets here
      const fields = JSON.parse(buf.toString("utf8", 12, typesAt)) as ShapeField[];
      const types = Array.from(bytes.subarray(typesAt, typesAt + width)) as FieldType[];
      known = { types, build: compileBuild(fields, width) };
      this.shapes.set(header, known);
    }
    const { types, build } = known;
    let at = align8(typesAt + width);
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
    return build(count, columns);
  }
}
