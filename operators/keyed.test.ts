/**
 * Keyed operators read state ahead when the engine hints the next batch (Operator.prefetch):
 * whatever is hinted (the batch that comes next, another one, nothing), with a cache small enough
 * to evict all the time and cuts in between, every record sees its key's latest state.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { OperatorHarness } from "./harness.ts";
import { reduceOperator } from "./reduce.ts";

interface Rec {
  readonly key: number;
  readonly value: number;
}

type Hint = "next" | "other" | "none";

const stepArb = fc.record({
  records: fc.array(fc.record({ key: fc.integer({ min: 0, max: 6 }), value: fc.integer({ min: 1, max: 9 }) }), { maxLength: 5 }),
  hint: fc.constantFrom<Hint>("next", "next", "other", "none"),
  cut: fc.boolean(),
});

describe("keyed operators: reads ahead", () => {
  it("property: whatever is hinted, each output is its key's running total (tiny caches, cuts in between)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 25 }), fc.constantFrom(1, 2, 4, 1_000), async (steps, maxCachedCells) => {
        const h = await OperatorHarness.open(
          reduceOperator<Rec, number>({ name: "sum", key: (r) => r.key, reduce: (a, b) => ({ key: a.key, value: a.value + b.value }) }),
          { maxCachedCells },
        );
        const totals = new Map<number, number>();
        for (let i = 0; i < steps.length; i++) {
          const step = steps[i]!;
          const next = steps[i + 1]?.records;
          if (step.hint === "next" && next !== undefined) h.hint(next);
          if (step.hint === "other") h.hint(steps[(i * 7) % steps.length]!.records);
          const out = await h.processElements(step.records);
          const want = step.records.map((r) => {
            const total = (totals.get(r.key) ?? 0) + r.value;
            totals.set(r.key, total);
            return { key: r.key, value: total };
          });
          expect(out).toEqual(want);
          if (step.cut) await h.snapshot();
        }
        await h.close();
      }),
      { numRuns: 300 },
    );
  });

  it("keys each record once when batches are hinted in the engine's order (n+1 hinted before n is processed)", async () => {
    let calls = 0;
    const h = await OperatorHarness.open(
      reduceOperator<Rec, number>({ name: "sum", key: (r) => (calls++, r.key), reduce: (a, b) => ({ key: a.key, value: a.value + b.value }) }),
    );
    const batches = Array.from({ length: 5 }, (_, b) => Array.from({ length: 10 }, (_, i) => ({ key: (b * 10 + i) % 7, value: 1 })));
    h.hint(batches[0]!);
    for (let b = 0; b < batches.length; b++) {
      if (b + 1 < batches.length) h.hint(batches[b + 1]!);
      await h.processElements(batches[b]!);
    }
    expect(calls).toBe(50);
    expect(h.output.slice(-1)).toEqual([{ key: 0, value: 8 }]); // key 0: records 0, 7, ..., 49
    await h.close();
  });
});
