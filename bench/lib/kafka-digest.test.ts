import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { RecordDigest, hash32, hashesOf } from "./kafka-digest.ts";

const digestOf = (records: readonly (readonly [string, string])[]) => {
  const d = new RecordDigest();
  for (const [k, v] of records) d.add(k, v);
  return d;
};
const record = fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 }));

describe("RecordDigest", () => {
  it("does not depend on the order of the records", () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 40 }), fc.integer(), (records, seed) => {
        const shuffled = [...records].sort((a, b) => hash32(a.join("\t"), seed) - hash32(b.join("\t"), seed));
        expect(digestOf(shuffled).equals(digestOf(records))).toBe(true);
      }),
    );
  });

  it("changes when a record is duplicated, dropped or altered", () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 40 }), fc.nat(), (records, at) => {
        const i = at % records.length;
        const base = digestOf(records);
        expect(digestOf([...records, records[i]!]).equals(base)).toBe(false);
        expect(digestOf(records.filter((_, j) => j !== i)).equals(base)).toBe(false);
        const [k, v] = records[i]!;
        const altered = records.map((r, j) => (j === i ? ([k, `${v}x`] as const) : r));
        expect(digestOf(altered).equals(base)).toBe(false);
      }),
    );
  });

  it("addAll and addHashes agree with add", () => {
    const a = digestOf([["1", "x"], ["2", "y"]]);
    const b = new RecordDigest();
    b.addHashes(...hashesOf("1", "x"));
    const c = new RecordDigest();
    c.add("2", "y");
    b.addAll(c);
    expect(b.equals(a)).toBe(true);
    expect(a.toString()).toBe(`2 records, digest ${a.hex()}`);
    expect(a.hex()).toMatch(/^[0-9a-f]{16}$/);
  });

  it("tells key from value", () => {
    expect(digestOf([["a", "b\tc"]]).equals(digestOf([["a\tb", "c"]]))).toBe(true); // same text: documented limit
    expect(digestOf([["ab", "c"]]).equals(digestOf([["a", "bc"]]))).toBe(false);
  });
});
