/**
 * Event time through the runtime: split watermarks reach a window operator across a shuffle,
 * an idle split stops holding time back only with an idle timeout, when every split is idle
 * event time advances to the highest split watermark, split watermarks are
 * recorded in checkpoints, and a restored source announces them before any record (so a record
 * behind them is late after a restore just as before it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Source } from "../connectors/source.ts";
import { job } from "../engine/job.ts";
import { monotonousTimestamps, type WatermarkStrategy } from "../engine/watermarks.ts";
import { outputTag } from "../operators/side-output.ts";
import { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from "../operators/window/windows.ts";
import { readMetadata, checkpointPath, listCheckpointIds } from "../checkpoint/storage.ts";
import { restorePlanFrom } from "../engine/restore-plan.ts";
import { collectSink, runDefinition } from "./support/run.ts";

interface Rec {
  readonly k: string;
  readonly t: number;
}

/**
 * Splits with fixed records; a split listed in `idle` has none and never ends. With `gapMs`, a
 * split hands out one record per `gapMs` (and reports "no data" in between).
 */
const listSource = (splits: Record<string, readonly Rec[]>, idle: readonly string[] = [], gapMs = 0): Source<Rec, number> => ({
  name: "list",
  bounded: idle.length === 0,
  splits: () => [...Object.keys(splits), ...idle],
  openReader(split, position) {
    let at = position ?? 0;
    let next = 0;
    const records = splits[split];
    return {
      read: (max) => {
        if (records === undefined) return { kind: "idle", retryAfterMs: 2 };
        if (at >= records.length) return { kind: "end" };
        if (gapMs > 0 && Date.now() < next) return { kind: "idle", retryAfterMs: 1 };
        next = Date.now() + gapMs;
        const batch = records.slice(at, at + Math.min(max, gapMs > 0 ? 1 : 2));
        at += batch.length;
        return { kind: "records", records: batch };
      },
      position: () => at,
      close: () => undefined,
    };
  },
});

/**
 * Splits that hand out their records, each split one per its own `gapMs`, and then stay silent
 * without ending (as Kafka partitions that go quiet).
 */
const quietingSource = (splits: Record<string, { readonly records: readonly Rec[]; readonly gapMs: number }>): Source<Rec, number> => ({
  name: "quieting",
  bounded: false,
  splits: () => Object.keys(splits),
  openReader(split, position) {
    let at = position ?? 0;
    let next = 0;
    const { records, gapMs } = splits[split]!;
    return {
      read: () => {
        if (at >= records.length || Date.now() < next) return { kind: "idle", retryAfterMs: 1 };
        next = Date.now() + gapMs;
        return { kind: "records", records: [records[at++]!] };
      },
      position: () => at,
      close: () => undefined,
    };
  },
});

const late = outputTag<Rec>("late");

/** Counts records per key and 10 ms window; late records go to a second sink. */
const countingJob = (source: Source<Rec, number>, strategy: WatermarkStrategy<Rec>, sinks: { main: ReturnType<typeof collectSink<string>>; late?: ReturnType<typeof collectSink<Rec>> }) =>
  job("event-time", (env) => {
    const counted = env
      .source(source, { name: "src", watermarks: strategy })
      .keyBy((r) => r.k)
      .window(tumblingEventTimeWindows(10), { timestamp: (r) => r.t, lateData: late })
      .aggregate({ createAccumulator: () => 0, add: (_r, n: number) => n + 1, getResult: (n: number) => n }, (n, w) => `${w.key}[${w.window.start})=${n}`, {
        name: "count",
      });
    counted.sink(sinks.main, { name: "main" });
    if (sinks.late !== undefined) counted.sideOutput(late).sink(sinks.late, { name: "late" });
  });

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-event-time-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("event time in the runtime", () => {
  it("windows over several splits and a shuffle fire from split watermarks (min over splits)", async () => {
    const main = collectSink<string>("main");
    const source = listSource({
      a: [{ k: "x", t: 1 }, { k: "y", t: 2 }, { k: "x", t: 12 }, { k: "x", t: 25 }],
      b: [{ k: "y", t: 3 }, { k: "x", t: 9 }, { k: "y", t: 15 }],
    });
    await runDefinition(countingJob(source, monotonousTimestamps((r) => r.t), { main }), { parallelism: 2 });
    expect(main.all().sort()).toEqual(["x[0)=2", "x[10)=1", "x[20)=1", "y[0)=2", "y[10)=1"]);
  });

  it("an idle split holds event time back unless the strategy has an idle timeout", async () => {
    // Split a delivers a record every 10 ms (never silent for the 50 ms timeout); "quiet" never does.
    const splits = { a: [{ k: "x", t: 1 }, { k: "x", t: 5 }, ...Array.from({ length: 30 }, (_, i) => ({ k: "x", t: 30 + i }))] };
    for (const idleTimeout of [undefined, 50]) {
      const main = collectSink<string>("main");
      const stop = new AbortController();
      const strategy = monotonousTimestamps((r: Rec) => r.t, idleTimeout === undefined ? {} : { idleTimeout });
      const running = runDefinition(countingJob(listSource(splits, ["quiet"], 10), strategy, { main }), {
        parallelism: 1,
        stopSignal: stop.signal,
        checkpoints: { config: { intervalMs: 20 } },
      });
      // Stop once the window fired, or after a while if it never does.
      const deadline = Date.now() + (idleTimeout === undefined ? 500 : 10_000);
      while (main.all().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      stop.abort();
      const result = await running;
      expect(result.outcome).toBe("stopped");
      // A stop is not the end of input: windows still open do not fire.
      if (idleTimeout === undefined) expect(main.all()).toEqual([]);
      else {
        // Split a's time moves on without "quiet": the first window fired, maybe later ones too
        // (how many depends on when the stop came), each complete.
        expect(main.all()[0]).toBe("x[0)=2");
        for (const w of main.all()) expect(["x[0)=2", "x[30)=10", "x[40)=10", "x[50)=10"]).toContain(w);
      }
    }
  });

  it("when every split goes quiet, windows up to the highest split watermark fire without new data", async () => {
    // Split "hi" reaches watermark 34 at once and goes quiet; "lo" keeps time at 4, then 14, for a
    // while (a record every 10 ms, never silent for the 200 ms timeout), then goes quiet too. Once
    // both are idle, event time advances to 34: window [10, 20) fires although no record came
    // after it. Parallelism 1: the source combines both splits; 2: the window task combines two
    // source subtasks (one split each).
    const splits = {
      hi: { records: [{ k: "x", t: 35 }], gapMs: 0 },
      lo: { records: [...Array.from({ length: 20 }, () => ({ k: "x", t: 5 })), ...Array.from({ length: 20 }, () => ({ k: "x", t: 15 }))], gapMs: 10 },
    };
    for (const parallelism of [1, 2]) {
      const main = collectSink<string>("main");
      const lateRecords = collectSink<Rec>("late");
      const stop = new AbortController();
      const running = runDefinition(countingJob(quietingSource(splits), monotonousTimestamps((r: Rec) => r.t, { idleTimeout: 200 }), { main, late: lateRecords }), {
        parallelism,
        stopSignal: stop.signal,
        checkpoints: { config: { intervalMs: 50 } },
      });
      const deadline = Date.now() + 15_000;
      while (main.all().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      stop.abort();
      expect((await running).outcome).toBe("stopped");
      // [30, 40) stays open: 34 < 39, and a stop is not the end of input.
      expect(main.all().sort()).toEqual(["x[0)=20", "x[10)=20"]);
      expect(lateRecords.all()).toEqual([]);
    }
  });

  it("split watermarks are checkpointed, and a restored source announces them before any record", async () => {
    const root = join(tmp, "chk");
    const records = { a: [{ k: "x", t: 100 }, { k: "x", t: 200 }, { k: "x", t: 50 }, { k: "x", t: 300 }] };
    const main = collectSink<string>("main");
    const lateRecords = collectSink<Rec>("late");
    // Straight: 50 arrives after watermark 199 (monotonous: 200 - 1): late.
    await runDefinition(countingJob(listSource(records), monotonousTimestamps((r) => r.t), { main, late: lateRecords }), {
      checkpoints: { root },
    });
    expect(lateRecords.all()).toEqual([{ k: "x", t: 50 }]);
    const [last] = (await listCheckpointIds(root, "event-time")).slice(-1);
    const metadata = await readMetadata(checkpointPath(root, "event-time", last!));
    const wms = metadata.tasks.flatMap((t) => t.sources.map((s) => s.watermarks));
    expect(wms).toContainEqual({ a: Number.MAX_SAFE_INTEGER });

    // Restore at position 2 (after t=100 and t=200) with the watermark the split had there.
    const restoredMain = collectSink<string>("main");
    const restoredLate = collectSink<Rec>("late");
    const plan = restorePlanFrom(metadata, checkpointPath(root, "event-time", last!));
    await runDefinition(countingJob(listSource(records), monotonousTimestamps((r) => r.t), { main: restoredMain, late: restoredLate }), {
      checkpoints: {
        root: join(tmp, "chk2"),
        restore: {
          ...plan,
          keyed: new Map(),
          committables: new Map(),
          writerStates: new Map(),
          positions: new Map([["src", { a: 2 }]]),
          watermarks: new Map([["src", { a: 199 }]]),
          maxParallelism: 128,
        },
      },
    });
    // The first record read after the restore (t=50) is behind the restored watermark: late.
    expect(restoredLate.all()).toEqual([{ k: "x", t: 50 }]);
    expect(restoredMain.all().sort()).toEqual(["x[300)=1"]);
  });

  it("processing-time windows fire from the clock while the job runs (the task wakes up for its timers)", async () => {
    // One record every 5 ms on one split that never ends; 40 ms windows.
    const records = { a: Array.from({ length: 400 }, (_, i) => ({ k: i % 2 === 0 ? "x" : "y", t: i })) };
    const main = collectSink<{ key: string; n: number; start: number }>("main");
    const stop = new AbortController();
    const running = runDefinition(
      job("processing-time", (env) =>
        env
          .source(listSource(records, ["quiet"], 5), { name: "src" })
          .keyBy((r) => r.k)
          .window(tumblingProcessingTimeWindows(40))
          .aggregate({ createAccumulator: () => 0, add: (_r, n: number) => n + 1, getResult: (n: number) => n }, (n, w) => ({ key: w.key, n, start: w.window.start }), {
            name: "count",
          })
          .sink(main, { name: "main" }),
      ),
      { stopSignal: stop.signal, checkpoints: { config: { intervalMs: 20 } } },
    );
    const deadline = Date.now() + 10_000;
    while (main.all().length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    stop.abort();
    await running;
    const fired = main.all();
    expect(fired.length).toBeGreaterThanOrEqual(4);
    for (const w of fired) {
      expect(w.start % 40).toBe(0);
      expect(w.n).toBeGreaterThan(0);
    }
    // Each (key, window) fires once.
    expect(new Set(fired.map((w) => `${w.key}@${w.start}`)).size).toBe(fired.length);
  });
});
