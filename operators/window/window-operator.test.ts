import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { MAX_WATERMARK } from "../../common/time.ts";
import { OperatorHarness } from "../harness.ts";
import { outputTag, sideRecord } from "../side-output.ts";
import {
  aggregateContents,
  listContents,
  reduceContents,
  windowOperator,
  type WindowContents,
  type WindowContext,
} from "./window-operator.ts";
import {
  eventTimeSessionWindows,
  slidingEventTimeWindows,
  slidingProcessingTimeWindows,
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
  type WindowAssigner,
} from "./windows.ts";

interface Ev {
  readonly k: string;
  readonly t: number;
  readonly v: number;
}

const late = outputTag<Ev>("late");

/** A window operator summing `v`, emitting "key[start,end)=sum". */
const summing = (
  assigner: WindowAssigner,
  extra: { allowedLateness?: number; lateData?: boolean; contents?: WindowContents<Ev, any, any> } = {},
) =>
  windowOperator<Ev, string, any, any, string>({
    name: "sum",
    key: (e) => e.k,
    assigner,
    timestamp: (e) => e.t,
    allowedLateness: extra.allowedLateness ?? 0,
    lateData: extra.lateData === true ? late : undefined,
    contents: extra.contents ?? aggregateContents({ createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a, merge: (a: number, b: number) => a + b }, "sum"),
    emit: (sum: number, w: WindowContext<string>, out) => out.collect(`${w.key}[${w.window.start},${w.window.end})=${sum}`),
  });

const ev = (k: string, t: number, v = 1): Ev => ({ k, t, v });

describe("window operator (event time)", () => {
  it("a tumbling window fires once the watermark reaches end - 1, and its state is then gone", async () => {
    const h = await OperatorHarness.open(summing(tumblingEventTimeWindows(10)));
    await h.processElements([ev("a", 0, 1), ev("a", 9, 2), ev("b", 5, 10), ev("a", 10, 100)]);
    expect(await h.processWatermark(8)).toEqual([]);
    expect(await h.processWatermark(9)).toEqual(["a[0,10)=3", "b[0,10)=10"]);
    expect(await h.storedCells()).toBeGreaterThan(0);
    expect(await h.processWatermark(19)).toEqual(["a[10,20)=100"]);
    expect(await h.storedCells()).toBe(0);
  });

  it("sliding windows: each element counts in size/slide windows", async () => {
    const h = await OperatorHarness.open(summing(slidingEventTimeWindows(10, 5)));
    await h.processElements([ev("a", 7, 1), ev("a", 12, 10)]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual(["a[0,10)=1", "a[5,15)=11", "a[10,20)=10"]);
    expect(await h.storedCells()).toBe(0);
  });

  it("late records: dropped by default, to the side output when set, and within allowed lateness they fire the window again", async () => {
    const dropped = await OperatorHarness.open(summing(tumblingEventTimeWindows(10)));
    await dropped.processElements([ev("a", 1)]);
    await dropped.processWatermark(15);
    expect(await dropped.processElements([ev("a", 2)])).toEqual([]);
    expect(dropped.output).toEqual(["a[0,10)=1"]);

    const side = await OperatorHarness.open(summing(tumblingEventTimeWindows(10), { lateData: true }));
    await side.processElements([ev("a", 1)]);
    await side.processWatermark(15);
    const out = await side.processElements([ev("a", 2, 5), ev("a", 16, 7)]);
    expect(out).toEqual([sideRecord(outputTag("late"), ev("a", 2, 5))]);

    const lenient = await OperatorHarness.open(summing(tumblingEventTimeWindows(10), { allowedLateness: 5 }));
    await lenient.processElements([ev("a", 1)]);
    expect(await lenient.processWatermark(10)).toEqual(["a[0,10)=1"]);
    // Within lateness (cleanup at 9 + 5 = 14): the window fires again with the late record.
    expect(await lenient.processElements([ev("a", 3, 4)])).toEqual(["a[0,10)=5"]);
    expect(await lenient.storedCells()).toBeGreaterThan(0);
    expect(await lenient.processWatermark(14)).toEqual([]);
    expect(await lenient.storedCells()).toBe(0);
    // Past cleanup: late.
    expect(await lenient.processElements([ev("a", 4, 1)])).toEqual([]);
  });

  it("a record in the gap between sliding windows (slide > size) is skipped, not late, unless its own time is late", async () => {
    // Windows [0,5), [10,15), ...: a record at 7 belongs to none.
    const h = await OperatorHarness.open(summing(slidingEventTimeWindows(5, 10), { lateData: true }));
    expect(await h.processElements([ev("a", 7), ev("a", 12, 3)])).toEqual([]);
    expect(await h.storedCells()).toBeGreaterThan(0);
    expect(await h.processWatermark(14)).toEqual(["a[10,15)=3"]);
    // At watermark 14 a record at 17 is in no window and not late: skipped silently (as Flink).
    expect(await h.processElements([ev("a", 17, 100)])).toEqual([]);
    // A record at 8 is in no window and its time is behind the watermark: late, as in Flink.
    expect(await h.processElements([ev("a", 8, 5)])).toEqual([sideRecord(outputTag("late"), ev("a", 8, 5))]);
    expect(await h.storedCells()).toBe(0);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual([]);
  });

  it("a window created or merged behind the watermark (within lateness) fires once, at once", async () => {
    const tumbling = await OperatorHarness.open(summing(tumblingEventTimeWindows(10), { allowedLateness: 100 }));
    await tumbling.processWatermark(20);
    expect(await tumbling.processElements([ev("a", 5)])).toEqual(["a[0,10)=1"]);
    expect(await tumbling.processWatermark(30)).toEqual([]);
    expect(await tumbling.processWatermark(MAX_WATERMARK)).toEqual([]);
    expect(await tumbling.storedCells()).toBe(0);

    const sessions = await OperatorHarness.open(summing(eventTimeSessionWindows(10), { allowedLateness: 100 }));
    await sessions.processElements([ev("a", 0)]);
    expect(await sessions.processWatermark(20)).toEqual(["a[0,10)=1"]);
    expect(await sessions.processElements([ev("a", 2)])).toEqual(["a[0,12)=2"]);
    expect(await sessions.processWatermark(30)).toEqual([]);
  });

  it("merging sessions never cancels another window's firing (timers are shared per key and time)", async () => {
    // gap 10, lateness 20: A = [0,10) is cleaned at 29, B = [20,30) fires at 29.
    const h = await OperatorHarness.open(summing(eventTimeSessionWindows(10), { allowedLateness: 20 }));
    await h.processElements([ev("a", 0, 1), ev("a", 20, 100)]);
    await h.processElements([ev("a", 5, 1)]); // A grows to [0,15)
    expect(await h.processWatermark(29)).toEqual(["a[0,15)=2", "a[20,30)=100"]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual([]);
    expect(await h.storedCells()).toBe(0);
  });

  it("an allowed lateness beyond the end of time is cleaned up at the end", async () => {
    const h = await OperatorHarness.open(summing(tumblingEventTimeWindows(10), { allowedLateness: Number.MAX_SAFE_INTEGER }));
    await h.processElements([ev("a", 1)]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual(["a[0,10)=1"]);
    expect(await h.storedCells()).toBe(0);
  });

  it("session windows merge overlapping and touching sessions, with merged contents", async () => {
    const h = await OperatorHarness.open(summing(eventTimeSessionWindows(5)));
    // a: [1,6) and [10,15) are separate; then 5 -> [5,10) touches both: one session [1,15).
    await h.processElements([ev("a", 1, 1), ev("a", 10, 10), ev("b", 3, 100)]);
    expect(await h.processWatermark(4)).toEqual([]);
    await h.processElements([ev("a", 5, 1000)]);
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual(["b[3,8)=100", "a[1,15)=1011"]);
    expect(await h.storedCells()).toBe(0);
  });

  it("full window function sees every element in arrival order; reduce works as contents", async () => {
    const all = await OperatorHarness.open(
      windowOperator<Ev, string, Ev[], readonly Ev[], string>({
        name: "all",
        key: (e) => e.k,
        assigner: tumblingEventTimeWindows(10),
        timestamp: (e) => e.t,
        allowedLateness: 0,
        lateData: undefined,
        contents: listContents<Ev>(),
        emit: (es, w, out) => out.collect(`${w.key}:${es.map((e) => e.v).join(",")}`),
      }),
    );
    await all.processElements([ev("a", 3, 3), ev("a", 1, 1), ev("a", 2, 2)]);
    expect(await all.processWatermark(MAX_WATERMARK)).toEqual(["a:3,1,2"]);

    const max = await OperatorHarness.open(summing(tumblingEventTimeWindows(10), { contents: { ...reduceContents<Ev>((a, b) => (b.v > a.v ? b : a)), result: (e: Ev) => e.v } }));
    await max.processElements([ev("a", 3, 3), ev("a", 1, 9), ev("a", 2, 2)]);
    expect(await max.processWatermark(MAX_WATERMARK)).toEqual(["a[0,10)=9"]);
  });

  it("restored at another parallelism, windows fire exactly as without the restore", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ k: fc.constantFrom("a", "b", "c", "d", "e"), t: fc.integer({ min: 0, max: 60 }), v: fc.integer({ min: 1, max: 9 }) }), { maxLength: 30 }),
        fc.array(fc.record({ k: fc.constantFrom("a", "b", "c", "d", "e"), t: fc.integer({ min: 0, max: 60 }), v: fc.integer({ min: 1, max: 9 }) }), { maxLength: 30 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 1, max: 3 }),
        fc.constantFrom<WindowAssigner>(tumblingEventTimeWindows(10), slidingEventTimeWindows(20, 10), eventTimeSessionWindows(7)),
        async (first, second, cut, p, assigner) => {
          const make = () => summing(assigner, { lateData: true });
          const straight = await OperatorHarness.open(make());
          await straight.processElements(first);
          await straight.processWatermark(cut);
          await straight.processElements(second);
          await straight.processWatermark(MAX_WATERMARK);

          const before = await OperatorHarness.open(make());
          await before.processElements(first);
          await before.processWatermark(cut);
          const snap = await before.snapshot();
          const outputs = [...before.output];
          for (let s = 0; s < p; s++) {
            const h = await OperatorHarness.open(make(), { restore: snap, subtask: s, parallelism: p });
            await h.processWatermark(cut); // the restored watermark arrives again from upstream
            await h.processElements(second.filter((e) => subtaskOwns(e.k, s, p)));
            await h.processWatermark(MAX_WATERMARK);
            outputs.push(...h.output);
          }
          const norm = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();
          expect(norm(outputs)).toEqual(norm(straight.output));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("window operator (processing time)", () => {
  it("tumbling processing-time windows use the clock at arrival and fire when it passes end - 1", async () => {
    const op = windowOperator<Ev, string, number, number, string>({
      name: "pt",
      key: (e) => e.k,
      assigner: tumblingProcessingTimeWindows(100),
      timestamp: undefined,
      allowedLateness: 0,
      lateData: undefined,
      contents: aggregateContents({ createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a }, "pt"),
      emit: (sum, w, out) => out.collect(`${w.key}[${w.window.start},${w.window.end})=${sum}`),
    });
    const h = await OperatorHarness.open(op, { processingTime: 1_050 });
    await h.processElements([ev("a", 0, 1), ev("a", 999_999, 2)]); // event times are ignored
    expect(await h.processWatermark(MAX_WATERMARK)).toEqual([]);
    expect(await h.setProcessingTime(1_098)).toEqual([]);
    expect(await h.setProcessingTime(1_099)).toEqual(["a[1000,1100)=3"]);
    expect(await h.setProcessingTime(1_150)).toEqual([]);
    await h.processElements([ev("a", 0, 5)]);
    // A bounded run fires what is still open at the end of input.
    expect(await h.endInput()).toEqual(["a[1100,1200)=5"]);
  });

  it("a record that arrives in the gap between sliding processing-time windows is skipped, never late", async () => {
    const op = windowOperator<Ev, string, number, number, string>({
      name: "pt-gap",
      key: (e) => e.k,
      assigner: slidingProcessingTimeWindows(50, 100),
      timestamp: undefined,
      allowedLateness: 0,
      lateData: late,
      contents: aggregateContents({ createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a }, "pt-gap"),
      emit: (sum, w, out) => out.collect(`${w.key}[${w.window.start},${w.window.end})=${sum}`),
    });
    const h = await OperatorHarness.open(op, { processingTime: 1_070 }); // windows [1000,1050), [1100,1150)
    expect(await h.processElements([ev("a", 0, 1)])).toEqual([]);
    expect(await h.storedCells()).toBe(0);
    expect(await h.endInput()).toEqual([]);
  });
});

import { keyGroupFor, subtaskForKeyGroup } from "../../state/key-groups.ts";
const subtaskOwns = (key: string, s: number, p: number) => subtaskForKeyGroup(keyGroupFor(key, 128), p, 128) === s;

describe("window operator: record timestamps", () => {
  /** `summing`, but taking each element's time from the timestamp it carries. */
  const carried = (assigner: WindowAssigner, lateData = false) =>
    windowOperator<Ev, string, any, any, string>({
      name: "sum",
      key: (e) => e.k,
      assigner,
      timestamp: undefined,
      allowedLateness: 0,
      lateData: lateData ? late : undefined,
      contents: aggregateContents({ createAccumulator: () => 0, add: (e: Ev, a: number) => a + e.v, getResult: (a: number) => a }, "sum"),
      emit: (sum: number, w: WindowContext<string>, out) => out.collect(`${w.key}[${w.window.start},${w.window.end})=${sum}`),
    });

  it("windows by the carried timestamps (not the records' fields); results carry end - 1, late records their own", async () => {
    const h = await OperatorHarness.open(carried(tumblingEventTimeWindows(10), true));
    // The fields say 0; the carried timestamps put the elements in [10, 20) and [20, 30).
    await h.processElements([ev("a", 0, 1), ev("a", 0, 2), ev("a", 0, 4)], [12, 19, 25]);
    expect(await h.processWatermark(19)).toEqual(["a[10,20)=3"]);
    expect(await h.processElements([ev("a", 0, 8)], [15])).toEqual([sideRecord(late, ev("a", 0, 8)) as unknown as string]);
    expect(await h.processWatermark(30)).toEqual(["a[20,30)=4"]);
    expect(h.timestamps).toEqual([19, 15, 29]);
  });

  it("processing-time window results carry the window's max timestamp too (as in Flink)", async () => {
    const h = await OperatorHarness.open(carried(tumblingProcessingTimeWindows(10)), { processingTime: 3 });
    await h.processElements([ev("a", 0, 1)]);
    expect(await h.setProcessingTime(10)).toEqual(["a[0,10)=1"]);
    expect(h.timestamps).toEqual([9]);
  });

  it("an event-time element without a timestamp (none carried, no function) fails with WINDOW_WITHOUT_TIMESTAMP naming the operator", async () => {
    const h = await OperatorHarness.open(carried(tumblingEventTimeWindows(10)));
    await expect(h.processElements([ev("a", 1)])).rejects.toMatchObject({ code: "WINDOW_WITHOUT_TIMESTAMP", operator: "sum" });
    await expect(h.processElements([ev("a", 1), ev("a", 2)], [1, Number.NaN])).rejects.toThrow(/operator 'sum' got a record without a timestamp/);
  });
});
