import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { boundedOutOfOrderness, MAX_WATERMARK, MIN_WATERMARK, monotonousTimestamps, SplitWatermarks, WatermarkValve } from "./watermarks.ts";

describe("watermark strategies", () => {
  it("bounded out-of-orderness: highest timestamp seen - bound - 1, never backwards", () => {
    const g = boundedOutOfOrderness((r: number) => r, "4s").createGenerator();
    g.onEvent(10_000, 10_000);
    expect(g.currentWatermark()).toBe(5_999);
    g.onEvent(7_000, 7_000);
    expect(g.currentWatermark()).toBe(5_999);
    g.onEvent(12_000, 12_000);
    expect(g.currentWatermark()).toBe(7_999);
  });

  it("monotonous timestamps: highest timestamp - 1", () => {
    const g = monotonousTimestamps((r: number) => r).createGenerator();
    g.onEvent(5, 5);
    expect(g.currentWatermark()).toBe(4);
  });

  it("rejects a bad bound or idle timeout with a clear error", () => {
    expect(() => boundedOutOfOrderness((r: number) => r, "soon")).toThrow(/maxOutOfOrderness must be a duration/);
    expect(() => monotonousTimestamps((r: number) => r, { idleTimeout: -1 })).toThrow(/idleTimeout/);
  });
});

describe("split watermarks (per source subtask)", () => {
  it("are the minimum over splits; an ended split no longer counts", () => {
    const w = new SplitWatermarks(undefined);
    w.add("a", undefined, 0);
    w.add("b", undefined, 0);
    w.onBatch("a", 100, 0);
    expect(w.update()).toBeUndefined(); // b has not started: still MIN
    w.onBatch("b", 50, 0);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 50 });
    w.onBatch("b", 70, 0);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 70 });
    w.onEnd("b");
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 100 });
    w.onEnd("a");
    expect(w.update()).toEqual({ kind: "watermark", timestamp: MAX_WATERMARK });
  });

  it("an idle split stops holding time back after the timeout, and all idle means idle", () => {
    const w = new SplitWatermarks(1_000);
    w.add("a", undefined, 0);
    w.add("b", undefined, 0);
    w.onBatch("a", 500, 10);
    w.onNoData("b", 999);
    expect(w.update()).toBeUndefined();
    w.onNoData("b", 1_000);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 500 });
    w.onNoData("a", 1_010);
    expect(w.update()).toEqual({ kind: "idle" });
    expect(w.update()).toBeUndefined();
    // Data again: active, and the watermark is announced again even if it did not move.
    w.onBatch("b", 200, 2_000);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 500 });
  });

  it("a checkpoint never records an idle split below what the subtask already sent", () => {
    const w = new SplitWatermarks(10);
    w.add("a", undefined, 0);
    w.add("b", undefined, 0);
    w.onBatch("a", 500, 0);
    w.onBatch("b", 100, 0);
    w.onNoData("b", 20); // b idle: the subtask's watermark moves to a's
    w.onBatch("a", 600, 20);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 600 });
    expect(w.snapshot()).toEqual({ a: 600, b: 600 });
  });

  it("restored splits start at their checkpointed watermark", () => {
    const w = new SplitWatermarks(undefined);
    w.add("a", 1_000, 0);
    w.onBatch("a", 10, 0); // a fresh generator reports less: ignored
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 1_000 });
    expect(w.snapshot()).toEqual({ a: 1_000 });
  });
});

describe("watermark valve (per task with input channels)", () => {
  it("emits the minimum over active channels, only when it advances", () => {
    const v = new WatermarkValve(3);
    expect(v.onWatermark(0, 10)).toBeUndefined();
    expect(v.onWatermark(1, 20)).toBeUndefined();
    expect(v.onWatermark(2, 5)).toEqual({ kind: "watermark", timestamp: 5 });
    expect(v.onWatermark(2, 30)).toEqual({ kind: "watermark", timestamp: 10 });
    expect(v.onEnd(0)).toEqual({ kind: "watermark", timestamp: 20 });
    expect(v.onIdle(1)).toEqual({ kind: "watermark", timestamp: 30 });
    expect(v.onIdle(2)).toEqual({ kind: "idle" });
    expect(v.onRecords(2)).toEqual({ kind: "watermark", timestamp: 30 });
    expect(v.onRecords(2)).toBeUndefined();
  });

  it("property: output never decreases and equals the minimum over non-idle, non-ended channels when it moves", () => {
    type Step = { c: number; kind: "wm"; t: number } | { c: number; kind: "idle" } | { c: number; kind: "records" } | { c: number; kind: "end" };
    const step = fc.oneof(
      fc.record({ c: fc.integer({ min: 0, max: 3 }), kind: fc.constant("wm" as const), t: fc.integer({ min: 0, max: 100 }) }),
      fc.record({ c: fc.integer({ min: 0, max: 3 }), kind: fc.constant("idle" as const) }),
      fc.record({ c: fc.integer({ min: 0, max: 3 }), kind: fc.constant("records" as const) }),
      fc.record({ c: fc.integer({ min: 0, max: 3 }), kind: fc.constant("end" as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps: Step[]) => {
        const v = new WatermarkValve(4);
        const model = Array.from({ length: 4 }, () => ({ wm: MIN_WATERMARK, idle: false, ended: false }));
        let last = MIN_WATERMARK;
        for (const s of steps) {
          const m = model[s.c]!;
          if (m.ended) continue;
          const u =
            s.kind === "wm" ? v.onWatermark(s.c, s.t) : s.kind === "idle" ? v.onIdle(s.c) : s.kind === "records" ? v.onRecords(s.c) : v.onEnd(s.c);
          if (s.kind === "wm") {
            m.wm = Math.max(m.wm, s.t);
            m.idle = false;
          } else if (s.kind === "idle") m.idle = true;
          else if (s.kind === "records") m.idle = false;
          else {
            m.ended = true;
            m.wm = MAX_WATERMARK;
          }
          const open = model.filter((x) => !x.ended);
          const active = open.filter((x) => !x.idle);
          if (u?.kind === "watermark") {
            expect(u.timestamp).toBeGreaterThanOrEqual(last);
            const min = open.length === 0 ? MAX_WATERMARK : Math.min(...active.map((x) => x.wm));
            expect(u.timestamp).toBe(Math.max(last, min));
            last = u.timestamp;
          }
          if (u?.kind === "idle") expect(open.length > 0 && active.length === 0).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
