import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { valueState } from "../state/descriptors.ts";
import { MAX_WATERMARK } from "../common/time.ts";
import { OperatorHarness } from "./harness.ts";
import { keyedCoProcessOperator, keyedProcessOperator, type KeyedProcessFunction } from "./keyed-process.ts";

interface Ev {
  readonly k: string;
  readonly t: number;
}

/** Registers an event-time timer at each record's `t` and reports (key, timestamp) when it fires. */
const echo = (domain: "event" | "processing" = "event"): KeyedProcessFunction<Ev, string, string, { seen: ReturnType<typeof valueState<number>> }> => ({
  state: { seen: valueState(0) },
  processElement(e, ctx) {
    ctx.state.seen.update(ctx.state.seen.value() + 1);
    if (domain === "event") ctx.timerService.registerEventTimeTimer(e.t);
    else ctx.timerService.registerProcessingTimeTimer(e.t);
  },
  onTimer(ts, ctx, out) {
    out.collect(`${ctx.key}@${ts}:${ctx.timeDomain}:${ctx.state.seen.value()}`);
  },
});

const op = (fn = echo()) => keyedProcessOperator({ name: "echo", key: (e: Ev) => e.k, fn });

describe("keyed process function timers", () => {
  it("fire when the watermark reaches them, in timestamp order, with the timer's key and state current", async () => {
    const h = await OperatorHarness.open(op());
    await h.processElements([
      { k: "a", t: 30 },
      { k: "b", t: 10 },
      { k: "a", t: 20 },
      { k: "b", t: 30 },
    ]);
    expect(await h.processWatermark(9)).toEqual([]);
    expect(await h.processWatermark(20)).toEqual(["b@10:event:2", "a@20:event:2"]);
    // Equal timestamps fire in registration order.
    expect(await h.processWatermark(30)).toEqual(["a@30:event:2", "b@30:event:2"]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual([]);
  });

  it("are registered once per (key, timestamp) and can be deleted", async () => {
    const h = await OperatorHarness.open(
      keyedProcessOperator({
        name: "p",
        key: (e: Ev) => e.k,
        fn: {
          processElement(e, ctx) {
            if (e.t < 0) ctx.timerService.deleteEventTimeTimer(-e.t);
            else ctx.timerService.registerEventTimeTimer(e.t);
          },
          onTimer(ts, ctx, out: { collect(v: string): void }) {
            out.collect(`${ctx.key}@${ts}`);
          },
        },
      }),
    );
    await h.processElements([
      { k: "a", t: 5 },
      { k: "a", t: 5 },
      { k: "a", t: 7 },
      { k: "b", t: 7 },
      { k: "a", t: -7 },
    ]);
    expect(await h.processWatermark(100)).toEqual(["a@5", "b@7"]);
  });

  it("processing-time timers fire when the clock reaches them", async () => {
    const h = await OperatorHarness.open(op(echo("processing")), { processingTime: 0 });
    await h.processElements([
      { k: "a", t: 50 },
      { k: "b", t: 20 },
    ]);
    expect(await h.setProcessingTime(19)).toEqual([]);
    expect(await h.setProcessingTime(60)).toEqual(["b@20:processing:1", "a@50:processing:1"]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual([]);
  });

  it("a timer set in onTimer at or before the watermark fires in the same advance", async () => {
    const h = await OperatorHarness.open(
      keyedProcessOperator({
        name: "chain",
        key: (e: Ev) => e.k,
        fn: {
          processElement(e, ctx) {
            ctx.timerService.registerEventTimeTimer(e.t);
          },
          onTimer(ts, ctx, out: { collect(v: number): void }) {
            out.collect(ts);
            if (ts < 3) ctx.timerService.registerEventTimeTimer(ts + 1);
          },
        },
      }),
    );
    await h.processElements([{ k: "a", t: 1 }]);
    expect(await h.processWatermark(10)).toEqual([1, 2, 3]);
  });

  it("fire one at a time: a timer deleted by an earlier onTimer does not fire, one registered by it fires in order", async () => {
    const h = await OperatorHarness.open(
      keyedProcessOperator({
        name: "cancel",
        key: (e: Ev) => e.k,
        fn: {
          processElement(e, ctx) {
            ctx.timerService.registerEventTimeTimer(e.t);
          },
          onTimer(ts, ctx, out: { collect(v: string): void }) {
            out.collect(`fired ${ts}`);
            if (ts === 10) {
              ctx.timerService.deleteEventTimeTimer(20);
              ctx.timerService.registerEventTimeTimer(15);
            }
          },
        },
      }),
    );
    await h.processElements([{ k: "a", t: 10 }, { k: "a", t: 20 }]);
    expect(await h.processWatermark(30)).toEqual(["fired 10", "fired 15"]);
  });

  it("survive a snapshot and restore, and move with their key groups when rescaled", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ k: fc.constantFrom("a", "b", "c", "d", "e", "f", "g"), t: fc.integer({ min: 0, max: 50 }) }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 4 }),
        async (events, cut, newParallelism) => {
          // Reference: one subtask, no restore.
          const straight = await OperatorHarness.open(op());
          await straight.processElements(events);
          await straight.processWatermark(cut);
          await straight.processWatermark(MAX_WATERMARK);
          // Snapshot after the first watermark, restore at another parallelism, finish there.
          const first = await OperatorHarness.open(op());
          await first.processElements(events);
          const before = await first.processWatermark(cut);
          const snap = await first.snapshot();
          await first.close();
          const after: string[] = [];
          for (let s = 0; s < newParallelism; s++) {
            const h = await OperatorHarness.open(op(), { restore: snap, subtask: s, parallelism: newParallelism });
            after.push(...(await h.processWatermark(MAX_WATERMARK)));
            await h.close();
          }
          expect([...before, ...after].sort()).toEqual([...straight.output].sort());
          // Nothing fired twice, nothing left over.
          expect(before.every((x) => Number(x.split("@")[1]!.split(":")[0]) <= cut)).toBe(true);
          await straight.close();
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("keyed co-process function", () => {
  it("sees both inputs under one key, with shared state", async () => {
    const h = await OperatorHarness.open(
      keyedCoProcessOperator({
        name: "join",
        key1: (p: { id: number; name: string }) => p.id,
        key2: (a: { seller: number; item: string }) => a.seller,
        fn: {
          state: { name: valueState<string>(), waiting: valueState<string[]>([]) },
          processElement1(p, ctx, out: { collect(v: string): void }) {
            ctx.state.name.update(p.name);
            for (const item of ctx.state.waiting.value()) out.collect(`${p.name}:${item}`);
            ctx.state.waiting.clear();
          },
          processElement2(a, ctx, out) {
            const name = ctx.state.name.value();
            if (name === undefined) ctx.state.waiting.update([...ctx.state.waiting.value(), a.item]);
            else out.collect(`${name}:${a.item}`);
          },
        },
      }),
    );
    await h.processElements2([{ seller: 1, item: "x" }]);
    await h.processElements([{ id: 1, name: "ann" }, { id: 2, name: "bob" }]);
    await h.processElements2([{ seller: 2, item: "y" }, { seller: 1, item: "z" }]);
    expect(h.output).toEqual(["ann:x", "bob:y", "ann:z"]);
  });
});
