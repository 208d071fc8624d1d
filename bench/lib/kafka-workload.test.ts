import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ExpectedOutput, inputRecord, outputValue } from "./kafka-workload.ts";

const w = { accounts: 37, partitions: 3 };
const N = 2000;
const expected = new ExpectedOutput(N, w);

/** The pipeline's output for input records 0..n-1, computed the straightforward way. */
const outputs = (n: number) => {
  const totals = new Map<number, number>();
  return Array.from({ length: n }, (_, i) => {
    const r = inputRecord(i, w);
    const total = (totals.get(r.account) ?? 0) + r.amount;
    totals.set(r.account, total);
    return { i, partition: r.partition, key: String(r.account), value: JSON.stringify({ account: r.account, total }) };
  });
};
const all = outputs(N);

/** The outputs of the first `lengths[p]` input records of each partition p. */
const prefixes = (lengths: readonly number[]) => {
  const taken = [0, 0, 0];
  return all.filter((o) => taken[o.partition]! < lengths[o.partition]! && ++taken[o.partition]! > 0);
};
const perPartition = [0, 1, 2].map((p) => all.filter((o) => o.partition === p).length);

describe("workload", () => {
  it("input records are deterministic, positive and partitioned by account", () => {
    for (let i = 0; i < 200; i++) {
      const r = inputRecord(i, w);
      expect(r).toEqual(inputRecord(i, w));
      expect(r.amount).toBeGreaterThan(0);
      expect(r.partition).toBe(r.account % 3);
      expect(JSON.parse(r.value)).toEqual({ account: r.account, amount: r.amount });
    }
    expect(outputValue(12, 345)).toBe(JSON.stringify({ account: 12, total: 345 }));
  });

  it("indexOf finds the input record of every output, and nothing else", () => {
    for (const o of all) expect(expected.indexOf(o.key, o.value)).toBe(o.i);
    const o = all[5]!;
    const { account, total } = JSON.parse(o.value) as { account: number; total: number };
    expect(expected.indexOf(o.key, JSON.stringify({ account, total: total + 0.5 }))).toBeUndefined();
    expect(expected.indexOf("x", o.value)).toBeUndefined();
    expect(expected.indexOf(o.key, "not json")).toBeUndefined();
    expect(expected.indexOf(o.key, "null")).toBeUndefined();
  });
});

describe("ExpectedOutput.check", () => {
  const lengths = fc.tuple(...perPartition.map((n) => fc.integer({ min: 0, max: n })));

  it("accepts the outputs of any per-partition prefixes, in any order", () => {
    fc.assert(
      fc.property(lengths, fc.integer(), (ls, seed) => {
        const records = prefixes(ls).sort((a, b) => ((a.i * 2654435761 + seed) >>> 0) - ((b.i * 2654435761 + seed) >>> 0));
        const r = expected.check(records);
        expect(r.ok).toBe(true);
        expect(r.perPartition).toEqual(ls);
        expect(r.expected.count).toBe(ls.reduce((a, b) => a + b, 0));
        expect(r).toMatchObject({ missing: 0, duplicates: 0, unknown: 0 });
      }),
    );
  });

  it("rejects a duplicate, a hole, or an unknown record", () => {
    fc.assert(
      fc.property(lengths, fc.nat(), (ls, at) => {
        const records = prefixes(ls);
        fc.pre(records.length >= 2);
        const i = at % (records.length - 1); // not the last: dropping a partition's last record just shortens its prefix
        const last = new Set([0, 1, 2].map((p) => records.filter((o) => o.partition === p).at(-1)?.i));
        expect(expected.check([...records, records[i]!])).toMatchObject({ ok: false, duplicates: 1 });
        if (!last.has(records[i]!.i)) expect(expected.check(records.filter((_, j) => j !== i))).toMatchObject({ ok: false, missing: 1 });
        const wrong = { key: records[i]!.key, value: records[i]!.value.replace("}", ",\"x\":1}") };
        expect(expected.check([...records, wrong])).toMatchObject({ ok: false, unknown: 1 });
      }),
    );
  });
});
