import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  boundedOutOfOrderness,
  MAX_WATERMARK,
  MIN_WATERMARK,
  monotonousTimestamps,
  SplitWatermarks,
  WatermarkValve,
  type WatermarkUpdate,
} from "./watermarks.ts";

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

  it("when every split is idle, the subtask's watermark advances to the highest split watermark, then it is idle", () => {
    const w = new SplitWatermarks(1_000);
    w.add("hi", undefined, 0);
    w.add("lo", undefined, 0);
    w.onBatch("hi", 500, 0);
    w.onBatch("lo", 200, 0);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 200 });
    // hi goes quiet first: lo alone holds time at 200; then lo goes quiet too.
    w.onNoData("hi", 1_000);
    expect(w.update()).toBeUndefined();
    w.onBatch("lo", 250, 1_100);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 250 });
    w.onNoData("lo", 2_100);
    expect(w.update()).toEqual({ kind: "idle", flushTo: 500 });
    expect(w.update()).toBeUndefined();
    expect(w.snapshot()).toEqual({ hi: 500, lo: 500 });
    // lo resumes behind 500: the subtask is active again at 500, and lo holds it there until it
    // catches up (Flink's source does not re-align splits).
    w.onBatch("lo", 300, 3_000);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 500 });
    w.onBatch("hi", 900, 3_000);
    expect(w.update()).toBeUndefined();
    w.onBatch("lo", 700, 3_000);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 700 });
  });

  it("going idle flushes only splits still open (an ended split's MAX_WATERMARK does not count)", () => {
    const w = new SplitWatermarks(10);
    w.add("a", undefined, 0);
    w.add("b", undefined, 0);
    w.onBatch("a", 50, 0);
    w.onBatch("b", 40, 0);
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 40 });
    w.onEnd("a");
    expect(w.update()).toBeUndefined();
    w.onNoData("b", 20);
    expect(w.update()).toEqual({ kind: "idle", flushTo: undefined });
  });

  it("restored splits start at their checkpointed watermark", () => {
    const w = new SplitWatermarks(undefined);
    w.add("a", 1_000, 0);
    w.onBatch("a", 10, 0); // a fresh generator reports less: ignored
    expect(w.update()).toEqual({ kind: "watermark", timestamp: 1_000 });
    expect(w.snapshot()).toEqual({ a: 1_000 });
  });
});

describe("split watermarks: property", () => {
  it("min over active splits; all idle: the highest split watermark, then idle; resumed splits are not re-aligned", () => {
    type Step = { s: number; kind: "batch"; wm: number; dt: number } | { s: number; kind: "none"; dt: number } | { s: number; kind: "end" };
    const split = fc.integer({ min: 0, max: 2 });
    const dt = fc.integer({ min: 0, max: 15 });
    const step = fc.oneof(
      fc.record({ s: split, kind: fc.constant("batch" as const), wm: fc.integer({ min: 0, max: 100 }), dt }),
      fc.record({ s: split, kind: fc.constant("none" as const), dt }),
      fc.record({ s: split, kind: fc.constant("end" as const) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps: Step[]) => {
        const timeout = 10;
        const w = new SplitWatermarks(timeout);
        const model = [0, 1, 2].map(() => ({ wm: MIN_WATERMARK, lastActive: 0, idle: false, ended: false }));
        model.forEach((_, i) => w.add(String(i), undefined, 0));
        let now = 0;
        let last = MIN_WATERMARK;
        let idleOut = false;
        for (const st of steps) {
          const m = model[st.s]!;
          if (m.ended) continue;
          if (st.kind !== "end") now += st.dt;
          if (st.kind === "batch") {
            w.onBatch(String(st.s), st.wm, now);
            m.wm = Math.max(m.wm, st.wm);
            m.lastActive = now;
            m.idle = false;
          } else if (st.kind === "none") {
            w.onNoData(String(st.s), now);
            if (now - m.lastActive >= timeout) m.idle = true;
          } else {
            w.onEnd(String(st.s));
            m.ended = true;
            m.wm = MAX_WATERMARK;
          }
          const open = model.filter((x) => !x.ended);
          const active = open.filter((x) => !x.idle);
          let want: WatermarkUpdate | undefined;
          if (open.length > 0 && active.length === 0) {
            if (!idleOut) {
              idleOut = true;
              const max = Math.max(...open.map((x) => x.wm));
              want = { kind: "idle", flushTo: max > last ? max : undefined };
              last = Math.max(last, max);
            }
          } else {
            const min = open.length === 0 ? MAX_WATERMARK : Math.min(...active.map((x) => x.wm));
            if (min > last) want = { kind: "watermark", timestamp: (last = min) };
            else if (idleOut) want = { kind: "watermark", timestamp: last };
            idleOut = false;
          }
          expect(w.update()).toEqual(want);
          // A checkpoint never records a split below what the subtask sent.
          for (const v of Object.values(w.snapshot())) expect(v).toBeGreaterThanOrEqual(last);
        }
      }),
      { numRuns: 300 },
    );
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

  it("when every channel is idle, the task's watermark advances to the highest channel watermark, then it is idle", () => {
    const v = new WatermarkValve(3);
    v.onWatermark(0, 10);
    v.onWatermark(1, 40);
    expect(v.onWatermark(2, 20)).toEqual({ kind: "watermark", timestamp: 10 });
    // Channel 1 (the highest) goes idle first; the rest still hold time at their minimum.
    expect(v.onIdle(1)).toBeUndefined();
    expect(v.onIdle(0)).toEqual({ kind: "watermark", timestamp: 20 });
    expect(v.onIdle(2)).toEqual({ kind: "idle", flushTo: 40 });
    expect(v.current).toBe(40);
    expect(v.onIdle(2)).toBeUndefined();
    // A channel that wakes up brings the task back (at 40: nothing lower is sent again).
    expect(v.onRecords(2)).toEqual({ kind: "watermark", timestamp: 40 });
  });

  it("an ended channel's MAX_WATERMARK does not count when the others go idle", () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 10);
    expect(v.onWatermark(1, 5)).toEqual({ kind: "watermark", timestamp: 5 });
    expect(v.onEnd(0)).toBeUndefined();
    expect(v.onIdle(1)).toEqual({ kind: "idle", flushTo: undefined });
    expect(v.current).toBe(5);
  });

  it("a channel that resumes behind the task's watermark does not hold it back until it catches up", () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 50);
    expect(v.onWatermark(1, 100)).toEqual({ kind: "watermark", timestamp: 50 });
    expect(v.onIdle(0)).toEqual({ kind: "watermark", timestamp: 100 });
    // Channel 0 resumes (records) with its old watermark 50, behind 100: not counted yet.
    expect(v.onRecords(0)).toBeUndefined();
    expect(v.onWatermark(1, 200)).toEqual({ kind: "watermark", timestamp: 200 });
    expect(v.onWatermark(0, 150)).toBeUndefined();
    // Caught up: it counts again and holds time at its watermark.
    expect(v.onWatermark(0, 250)).toBeUndefined();
    expect(v.onWatermark(1, 300)).toEqual({ kind: "watermark", timestamp: 250 });
  });

  it("after all channels went idle, one resuming behind is active but holds nothing until it catches up", () => {
    const v = new WatermarkValve(2);
    v.onWatermark(0, 30);
    v.onWatermark(1, 80);
    v.onIdle(1);
    expect(v.onIdle(0)).toEqual({ kind: "idle", flushTo: 80 });
    // A watermark behind 80 wakes channel 0: the task is active again, still at 80.
    expect(v.onWatermark(0, 40)).toEqual({ kind: "watermark", timestamp: 80 });
    expect(v.onWatermark(0, 70)).toBeUndefined();
    expect(v.onWatermark(0, 90)).toEqual({ kind: "watermark", timestamp: 90 });
    // Channel 1 wakes at 80, behind 90: it does not hold channel 0's progress.
    expect(v.onRecords(1)).toBeUndefined();
    expect(v.onWatermark(0, 120)).toEqual({ kind: "watermark", timestamp: 120 });
  });

  it("property: the valve behaves as Flink's (min over active aligned channels, flush to max when all idle, re-alignment)", () => {
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
        // The model: each channel's watermark, status, and whether it counts (aligned).
        const model = Array.from({ length: 4 }, () => ({ wm: MIN_WATERMARK, idle: false, ended: false, aligned: true }));
        let last = MIN_WATERMARK;
        let idleOut = false;
        const wake = (m: (typeof model)[number]) => {
          m.idle = false;
          if (m.wm >= last) m.aligned = true;
        };
        const expected = (): WatermarkUpdate | undefined => {
          const open = model.filter((x) => !x.ended);
          const active = open.filter((x) => !x.idle);
          if (open.length > 0 && active.length === 0) {
            if (idleOut) return undefined;
            idleOut = true;
            const max = Math.max(...open.map((x) => x.wm));
            if (max <= last) return { kind: "idle", flushTo: undefined };
            last = max;
            return { kind: "idle", flushTo: max };
          }
          const wasIdle = idleOut;
          idleOut = false;
          const counted = active.filter((x) => x.aligned);
          const min = open.length === 0 ? MAX_WATERMARK : counted.length === 0 ? MIN_WATERMARK : Math.min(...counted.map((x) => x.wm));
          if (min > last) {
            last = min;
            return { kind: "watermark", timestamp: min };
          }
          return wasIdle ? { kind: "watermark", timestamp: last } : undefined;
        };
        for (const s of steps) {
          const m = model[s.c]!;
          if (m.ended) continue;
          const before = last;
          const u =
            s.kind === "wm" ? v.onWatermark(s.c, s.t) : s.kind === "idle" ? v.onIdle(s.c) : s.kind === "records" ? v.onRecords(s.c) : v.onEnd(s.c);
          let want: WatermarkUpdate | undefined;
          if (s.kind === "wm") {
            m.wm = Math.max(m.wm, s.t);
            wake(m);
            want = expected();
          } else if (s.kind === "idle") {
            m.idle = true;
            m.aligned = false;
            want = expected();
          } else if (s.kind === "records") {
            if (m.idle) {
              wake(m);
              want = expected();
            }
          } else {
            m.ended = true;
            m.wm = MAX_WATERMARK;
            want = expected();
          }
          expect(u).toEqual(want);
          expect(v.current).toBe(last);
          // Invariants, whatever the model says: time never goes back, never beyond what some
          // input reached, and no channel that counts is behind the task's watermark.
          expect(last).toBeGreaterThanOrEqual(before);
          expect(last).toBeLessThanOrEqual(Math.max(...model.map((x) => x.wm)));
          for (const x of model) if (!x.ended && !x.idle && x.aligned) expect(x.wm).toBeGreaterThanOrEqual(last);
        }
      }),
      { numRuns: 300 },
    );
  });
});
