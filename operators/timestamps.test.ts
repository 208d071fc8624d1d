/** Which timestamp each operator gives what it emits (operators/timestamps.ts). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { filterOperator } from "./filter.ts";
import { flatMapOperator } from "./flat-map.ts";
import { OperatorHarness } from "./harness.ts";
import { keyedProcessOperator } from "./keyed-process.ts";
import { mapOperator } from "./map.ts";
import type { Operator } from "./operator.ts";
import { processOperator } from "./process.ts";
import { reduceOperator } from "./reduce.ts";
import { mainOutputOperator, outputTag, sideOutputOperator, SideOutputs, sideRecord } from "./side-output.ts";

interface R {
  readonly id: number;
  readonly n: number;
}

const late = outputTag<number>("odd");

/** Operators whose outputs name the input record they came from (`id`). */
const stateless: Record<string, () => Operator<R, { id: number }>> = {
  map: () => mapOperator("map", (r: R) => ({ id: r.id })),
  filter: () => filterOperator("filter", (r: R) => r.n % 3 !== 0),
  flatMap: () => flatMapOperator("flatMap", (r: R) => Array.from({ length: r.n % 3 }, () => ({ id: r.id }))),
};

describe("record timestamps through operators", () => {
  it("property: map, filter and flatMap give each output its input record's timestamp, and none without input timestamps", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(stateless)),
        fc.array(fc.tuple(fc.nat(10), fc.oneof(fc.integer(), fc.constant(Number.NaN))), { maxLength: 30 }),
        fc.boolean(),
        async (which, input, stamped) => {
          const h = await OperatorHarness.open(() => stateless[which]!(), { keyed: false });
          const records = input.map(([n], id) => ({ id, n }));
          const out = await h.processElements(records, stamped ? input.map(([, t]) => t) : undefined);
          const expected = out.map((o) => (stamped && !Number.isNaN(input[o.id]![1]) ? input[o.id]![1] : undefined));
          expect(h.timestamps).toEqual(expected);
        },
      ),
    );
  });

  it("a process function's main and side outputs get the record's timestamp; its endInput output gets none", async () => {
    const sides = new SideOutputs();
    sides.select(late);
    const h = await OperatorHarness.open(
      processOperator<number, string>(
        "p",
        {
          processElement(n, ctx, out) {
            out.collect(`${n}@${ctx.timestamp}`);
            if (n % 2 === 1) ctx.output(late, n);
          },
          endInput: (_ctx, out) => out.collect("end"),
        },
        sides,
      ),
      { keyed: false },
    );
    expect(await h.processElements([1, 2], [10, 20])).toEqual(["1@10", sideRecord(late, 1) as unknown as string, "2@20"]);
    expect(await h.endInput()).toEqual(["end"]);
    expect(h.timestamps).toEqual([10, 10, 20, undefined]);
  });

  it("side-output selectors keep the timestamps of the records they pass", async () => {
    const batch = [sideRecord(late, 1), "main", sideRecord(late, 3)];
    const main = await OperatorHarness.open(() => mainOutputOperator<string>(), { keyed: false });
    await main.processElements(batch, [1, 2, 3]);
    expect(main.timestamps).toEqual([2]);
    const side = await OperatorHarness.open(() => sideOutputOperator(late), { keyed: false });
    expect(await side.processElements(batch, [1, 2, 3])).toEqual([1, 3]);
    expect(side.timestamps).toEqual([1, 3]);
  });

  it("keyed reduce emits each running value with its record's timestamp", async () => {
    const h = await OperatorHarness.open(reduceOperator<R, number>({ name: "sum", key: (r) => r.id % 2, reduce: (a, b) => ({ id: b.id, n: a.n + b.n }) }));
    await h.processElements([{ id: 0, n: 1 }, { id: 1, n: 2 }, { id: 2, n: 3 }], [5, 6, 7]);
    expect(h.timestamps).toEqual([5, 6, 7]);
  });

  it("keyed process: processElement's output gets the record's timestamp, an event-time timer's its time, a processing-time timer's none", async () => {
    const h = await OperatorHarness.open(
      keyedProcessOperator<number, number, string, {}>({
        name: "kp",
        key: (n) => n,
        fn: {
          processElement(n, ctx, out) {
            out.collect(`element ${n}@${ctx.timestamp}`);
            ctx.timerService.registerEventTimeTimer(100);
            ctx.timerService.registerProcessingTimeTimer(50);
          },
          onTimer(ts, ctx, out) {
            out.collect(`${ctx.timeDomain} timer ${ts}@${ctx.timestamp}`);
          },
        },
      }),
    );
    await h.processElements([7], [42]);
    await h.setProcessingTime(60);
    await h.processWatermark(100);
    expect(h.output).toEqual(["element 7@42", "processing timer 50@undefined", "event timer 100@100"]);
    expect(h.timestamps).toEqual([42, undefined, 100]);
  });
});
