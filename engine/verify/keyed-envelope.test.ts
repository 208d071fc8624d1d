/** The verify envelope around a keyed operator hands record timestamps through as the operator gives them. */
import { describe, expect, it } from "vitest";
import { OperatorHarness } from "../../operators/harness.ts";
import { keyedProcessOperator } from "../../operators/keyed-process.ts";
import { keyedEnvelopeOperator, type Envelope } from "./keyed-envelope.ts";

describe("keyed envelope (weir verify)", () => {
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
    const h = await OperatorHarness.open(keyedEnvelopeOperator(inner as never));
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
