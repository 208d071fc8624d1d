/**
 * Compares one committed output of `weir verify` with the failure-free run's: the same multiset of
 * records, and, for outputs whose records carry their key, the same sequence per key. Records are
 * compared as JSON text. Pure.
 */

/** One committed record: its JSON text, and the JSON of its key when the output is keyed. */
export interface OutputRecord {
  readonly value: string;
  /** Undefined: the output is not keyed; null: keyed output whose key is not known (timer output). */
  readonly key?: string | null;
}

export interface Difference {
  readonly count: number;
  /** A few of them (JSON text), for the user. */
  readonly examples: readonly string[];
}

export type Comparison =
  | { readonly kind: "same"; readonly records: number }
  | {
      readonly kind: "differs";
      readonly expected: number;
      readonly actual: number;
      /** Expected records missing (or present fewer times). */
      readonly lost: Difference;
      /** Expected records present more times than expected. */
      readonly duplicated: Difference;
      /** Records the failure-free run never produced. */
      readonly unexpected: Difference;
      /** Keys whose records came in another order (the multiset being equal); examples are the keys. */
      readonly reordered: Difference;
    };

const EXAMPLES = 3;
const EXAMPLE_CHARS = 160;

const counts = (records: readonly OutputRecord[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const r of records) m.set(r.value, (m.get(r.value) ?? 0) + 1);
  return m;
};

const sequencesByKey = (records: readonly OutputRecord[]): Map<string, string[]> => {
  const m = new Map<string, string[]>();
  for (const r of records) {
    if (r.key === undefined || r.key === null) continue;
    const list = m.get(r.key);
    if (list === undefined) m.set(r.key, [r.value]);
    else list.push(r.value);
  }
  return m;
};

class Tally {
  count = 0;
  readonly examples: string[] = [];
  add(value: string, n: number): void {
    this.count += n;
    if (this.examples.length < EXAMPLES) this.examples.push(value.length > EXAMPLE_CHARS ? `${value.slice(0, EXAMPLE_CHARS)}…` : value);
  }
  done(): Difference {
    return { count: this.count, examples: this.examples };
  }
}

/** Per-key order is checked only when both outputs carry keys. */
export const compareOutputs = (expected: readonly OutputRecord[], actual: readonly OutputRecord[]): Comparison => {
  const want = counts(expected);
  const got = counts(actual);
  const lost = new Tally();
  const duplicated = new Tally();
  const unexpected = new Tally();
  for (const [value, n] of want) {
    const m = got.get(value) ?? 0;
    if (m < n) lost.add(value, n - m);
    else if (m > n) duplicated.add(value, m - n);
  }
  for (const [value, m] of got) if (!want.has(value)) unexpected.add(value, m);
  const reordered = new Tally();
  if (lost.count + duplicated.count + unexpected.count === 0) {
    const a = sequencesByKey(expected);
    const b = sequencesByKey(actual);
    for (const [key, seq] of a) {
      const other = b.get(key);
      if (other !== undefined && (other.length !== seq.length || other.some((v, i) => v !== seq[i]))) reordered.add(key, 1);
    }
  }
  if (lost.count + duplicated.count + unexpected.count + reordered.count === 0) return { kind: "same", records: actual.length };
  return {
    kind: "differs",
    expected: expected.length,
    actual: actual.length,
    lost: lost.done(),
    duplicated: duplicated.done(),
    unexpected: unexpected.done(),
    reordered: reordered.done(),
  };
};

/** Drops the keys: compares as a plain multiset. */
export const withoutKeys = (records: readonly OutputRecord[]): OutputRecord[] => records.map((r) => ({ value: r.value }));

/** One line describing a difference, e.g. "3 records lost (e.g. {...}), 1 duplicated (e.g. {...})". */
export const describeComparison = (c: Comparison): string => {
  if (c.kind === "same") return `${c.records} records, the same as the failure-free run`;
  const parts: string[] = [];
  const eg = (d: Difference) => (d.examples.length === 0 ? "" : ` (e.g. ${d.examples.join(", ")})`);
  if (c.lost.count > 0) parts.push(`${c.lost.count} records lost${eg(c.lost)}`);
  if (c.duplicated.count > 0) parts.push(`${c.duplicated.count} duplicated${eg(c.duplicated)}`);
  if (c.unexpected.count > 0) parts.push(`${c.unexpected.count} differing (not in the failure-free output)${eg(c.unexpected)}`);
  if (c.reordered.count > 0) parts.push(`${c.reordered.count} keys in another order${c.reordered.examples.length === 0 ? "" : ` (e.g. key ${c.reordered.examples.join(", key ")})`}`);
  return `${c.actual} records where the failure-free run committed ${c.expected}: ${parts.join("; ")}`;
};
