import { describe, expect, it } from "vitest";
import { WatermarkMark, type Operator, type OperatorContext } from "../../operators/operator.ts";
import type { KeyedStateStore } from "../../state/keyed-store.ts";
import { OperatorHarness } from "../../operators/harness.ts";
import { keyedProcessOperator } from "../../operators/keyed-process.ts";
import { keyedEnvelopeOperator, type Envelope } from "./keyed-envelope.ts";

/** A context whose keyed store's current key is whatever the inner operator last set. */
const contextWith = (store: { currentKey: unknown }): OperatorContext => ({
  jobName: "j",
  operatorName: "op",
  subtask: 0,
  parallelism: 1,
  maxParallelism: 128,
  keyedStore: store as unknown as KeyedStateStore,
  now: () => 0,
});

describe("keyedEnvelopeOperator", () => {
  it("wraps each record's output with its key, a second input's with its key when it is keyed (co-process)", async () => {
    const store = { currentKey: undefined as unknown };
    const inner: Operator<string, string> = {
      processBatch(records, out) {
        for (const r of records) {
          store.currentKey = r;
          out.push(`${r}!`);
        }
      },
      processBatch2(records, out) {
        for (const r of records) {
          store.currentKey = r;
          out.push(`${String(r)}?`);
        }
      },
    };
    const op = keyedEnvelopeOperator(() => inner, { keyedSecondInput: true })(contextWith(store));
    const out: unknown[] = [];
    await op.processBatch(["a", "b"], out);
    await op.processBatch2!(["c"], out);
    expect(out).toEqual([
      { k: '"a"', v: "a!" },
      { k: '"b"', v: "b!" },
      { k: '"c"', v: "c?" },
    ]);
  });

  it("a broadcast second input has no key: its output gets k null, not the last main record's key", async () => {
    const store = { currentKey: undefined as unknown };
    const inner: Operator<string, string> = {
      processBatch(records, out) {
        for (const r of records) {
          store.currentKey = r;
          out.push(r);
        }
      },
      processBatch2(records, out) {
        for (const r of records) out.push(`rule ${String(r)}`);
      },
    };
    const op = keyedEnvelopeOperator(() => inner, { keyedSecondInput: false })(contextWith(store));
    const out: unknown[] = [];
    await op.processBatch(["a"], out);
    await op.processBatch2!(["r1"], out);
    expect(out).toEqual([
      { k: '"a"', v: "a" },
      { k: null, v: "rule r1" },
    ]);
  });

  it("forwards every optional member of the operator (async I/O's among them) and leaves watermark marks unwrapped", async () => {
    const calls: string[] = [];
    const blocked = Promise.resolve();
    const inner: Operator<number, number> = {
      emitsWatermarks: true,
      processBatch(records, out) {
        for (const r of records) out.push(r, new WatermarkMark(r) as unknown as number);
      },
      open: () => void calls.push("open"),
      close: () => void calls.push("close"),
      endInput: (out) => void out.push(-1),
      processWatermark: (w, out) => void out.push(new WatermarkMark(w) as unknown as number),
      processingTimeDue: () => -Infinity,
      processProcessingTime: (now, out) => void out.push(now),
      prefetch: (records) => void calls.push(`prefetch ${records.join(",")}`),
      inputBlocked: () => blocked,
    };
    const op = keyedEnvelopeOperator(() => inner, { keyedSecondInput: false })(contextWith({ currentKey: undefined }));
    expect(op.emitsWatermarks).toBe(true);
    expect(op.inputBlocked?.()).toBe(blocked);
    expect(op.processingTimeDue?.()).toBe(-Infinity);
    op.prefetch?.([1, 2]);
    await op.open?.();
    await op.close?.();
    expect(calls).toEqual(["prefetch 1,2", "open", "close"]);

    const out: unknown[] = [];
    await op.processBatch([7], out);
    await op.processWatermark!(9, out);
    await op.processProcessingTime!(5, out);
    await op.endInput!(out);
    expect(out).toEqual([{ k: null, v: 7 }, new WatermarkMark(7), new WatermarkMark(9), { k: null, v: 5 }, { k: null, v: -1 }]);
    expect(out[1]).toBeInstanceOf(WatermarkMark);
  });

  it("stays synchronous while the inner operator is (no await per record)", () => {
    const inner: Operator<number, number> = { processBatch: (records, out) => void out.push(...records) };
    const op = keyedEnvelopeOperator(() => inner, { keyedSecondInput: false })(contextWith({ currentKey: undefined }));
    const out: unknown[] = [];
    expect(op.processBatch([1, 2], out)).toBeUndefined();
    expect(out).toHaveLength(2);
  });

  it("keeps each output's timestamp (the record's, the event-time timer's) while wrapping it with its key", async () => {
    const inner = keyedProcessOperator<number, number, number, {}>({
      name: "kp",
      key: (n) => n % 2,
      fn: {
        processElement(n, ctx, out) {
          out.collect(n);
          out.collect(n * 10);
          ctx.timerService.registerEventTimeTimer(50);
        },
        onTimer: (ts, _ctx, out) => out.collect(ts),
      },
    });
    const h = await OperatorHarness.open(keyedEnvelopeOperator(inner as never, { keyedSecondInput: false }));
    expect(await h.processElements([1, 2], [11, 12])).toEqual([
      { k: "1", v: 1 },
      { k: "1", v: 10 },
      { k: "0", v: 2 },
      { k: "0", v: 20 },
    ] satisfies Envelope[]);
    expect(await h.processWatermark(50)).toEqual([
      { k: null, v: 50 },
      { k: null, v: 50 },
    ]);
    expect(h.timestamps).toEqual([11, 11, 12, 12, 50, 50]);
  });
});
