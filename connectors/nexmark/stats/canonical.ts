/**
 * The canonical form of an output row (NEXMARK-SPEC.md §3), the text both systems digest:
 * the row's fields sorted by name (ASCII order), written `name=value`, joined with `|`;
 * nested objects flattened with dotted names (`bid.price=...`), sorted by the dotted name.
 * Values: a number that is a mathematical integer in decimal (no exponent, no ".0"; -0 is "0");
 * any other number as "x" + the 16 lowercase hex digits of its IEEE-754 double bits; a string
 * as it is; a boolean as true/false, null as "null"; a bigint in decimal; an array as an object
 * with keys 0, 1, ...; an undefined field is left out (as JSON leaves it out).
 *
 *   canonical({ price: 908.5, auction: 1000 })  // "auction=1000|price=x408c640000000000"
 *
 * `RowDigester` hashes the same bytes with FNV-1a-64 without building the string, a row at a
 * time in JavaScript; `BatchDigester` (batch-digest.ts, the stats sink's path) a batch of rows at
 * once in WebAssembly. Tests check that all three agree.
 */
import { Fnv1a64 } from "./fnv1a64.ts";

const bits = new DataView(new ArrayBuffer(8));
const hex32 = (n: number) => (n >>> 0).toString(16).padStart(8, "0");

/** The canonical text of a number. */
export const canonicalNumber = (n: number): string => {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n === 0 ? 0 : n) : BigInt(n).toString();
  bits.setFloat64(0, n);
  return `x${hex32(bits.getUint32(0))}${hex32(bits.getUint32(4))}`;
};

const scalar = (v: unknown): string | undefined => {
  switch (typeof v) {
    case "number":
      return canonicalNumber(v);
    case "string":
      return v;
    case "boolean":
    case "bigint":
      return String(v);
    case "undefined":
      return undefined;
    default:
      if (v === null) return "null";
      throw new TypeError(`canonical: cannot write a ${typeof v}`);
  }
};

/** [dotted name, canonical value] of every scalar field of `row`, sorted by name. */
export const canonicalFields = (row: object): [string, string][] => {
  const out: [string, string][] = [];
  const walk = (value: object, prefix: string) => {
    for (const [key, v] of Object.entries(value)) {
      const name = prefix + key;
      if (v !== null && typeof v === "object") walk(v as object, `${name}.`);
      else {
        const text = scalar(v);
        if (text !== undefined) out.push([name, text]);
      }
    }
  };
  walk(row, "");
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
};

export const canonical = (row: object): string => canonicalFields(row).map(([k, v]) => `${k}=${v}`).join("|");

/**
 * Hashes `canonical(row)` into `hash` (which the caller resets). Rows of one shape share one
 * sorted key order (cached by comparing key lists), so a flat row costs one `Object.keys`, a
 * few comparisons and the bytes; a row with a nested object or array (met while writing) starts
 * over with `canonical(row)`.
 */
export class RowDigester {
  private keys: string[] = [];
  private sorted: string[] = [];

  constructor(readonly hash: Fnv1a64 = new Fnv1a64()) {}

  /** Resets `hash` and feeds it `canonical(row)`. */
  digest(row: object): void {
    const h = this.hash;
    h.reset();
    const r = row as Record<string, unknown>;
    const keys = Object.keys(r);
    if (!this.sameKeys(keys)) {
      this.keys = keys;
      this.sorted = [...keys].sort();
    }
    let first = true;
    for (const k of this.sorted) {
      const v = r[k];
      if (v !== null && typeof v === "object") {
        // Nested: the shape's key order is not the row's field order. (Deciding this once per
        // shape threw on { a: {...} } after { a: 1 }.)
        h.reset();
        h.string(canonical(row));
        return;
      }
      const text = scalar(v);
      if (text === undefined) continue;
      if (!first) h.byte(0x7c); // |
      first = false;
      h.string(k);
      h.byte(0x3d); // =
      h.string(text);
    }
  }

  private sameKeys(keys: readonly string[]): boolean {
    if (keys.length !== this.keys.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== this.keys[i]) return false;
    return true;
  }
}
