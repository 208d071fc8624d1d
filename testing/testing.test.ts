/**
 * `weir/testing` as a user meets it: harnesses for each kind of process function (timers on
 * both clocks, side outputs, both inputs) and `testJob`'s errors for sources and sinks it cannot
 * find or run.
 */
import { describe, expect, it } from "vitest";
import { discard, generator, job, outputTag, valueState, type Collector, type KeyedProcessFunction, type ValueStateDescriptor } from "weir";
import { fromKafka } from "weir/kafka";
import { coProcessHarness, keyedProcessHarness, processHarness, testJob } from "weir/testing";

interface Reading {
  sensor: string;
  value: number;
  time: number;
}

const tooHigh = outputTag<Reading>("too-high");

/** Emits each sensor's maximum when event time passes the end of its minute; high readings go to a side output. */
const minuteMax: KeyedProcessFunction<Reading, string, string, { max: ValueStateDescriptor<number, undefined> }> = {
  state: { max: valueState<number>() },
  processElement(r, ctx) {
    if (r.value > 100) ctx.output(tooHigh, r);
    ctx.state.max.update(Math.max(ctx.state.max.value() ?? -Infinity, r.value));
    ctx.timerService.registerEventTimeTimer(Math.floor(r.time / 60_000) * 60_000 + 59_999);
  },
  onTimer(ts, ctx, out) {
    out.collect(`${ctx.key}@${ts}: ${ctx.state.max.value()}`);
    ctx.state.max.clear();
  },
};

describe("keyedProcessHarness", () => {
  it("fires event-time timers on watermarks and keeps side outputs apart from the main output", async () => {
    const h = await keyedProcessHarness(minuteMax, { key: (r: Reading) => r.sensor });
    expect(await h.processElements([
      { sensor: "a", value: 5, time: 1_000 },
      { sensor: "a", value: 150, time: 2_000 },
      { sensor: "b", value: 7, time: 61_000 },
    ])).toEqual([]);
    expect(await h.processWatermark(59_999)).toEqual(["a@59999: 150"]);
    expect(await h.processWatermark(200_000)).toEqual(["b@119999: 7"]);
    expect(h.sideOutput(tooHigh)).toEqual([{ sensor: "a", value: 150, time: 2_000 }]);
    expect(h.output).toEqual(["a@59999: 150", "b@119999: 7"]);
  });

  it("hands records their timestamps: ctx.timestamp in processElement, the event-time timer's in onTimer", async () => {
    const stamps: KeyedProcessFunction<Reading, string, string, {}> = {
      processElement(r, ctx, out) {
        out.collect(`${r.sensor} at ${ctx.timestamp}`);
        if (ctx.timestamp !== undefined) ctx.timerService.registerEventTimeTimer(ctx.timestamp + 10);
      },
      onTimer(ts, ctx, out) {
        out.collect(`timer ${ts} at ${ctx.timestamp}`);
      },
    };
    const h = await keyedProcessHarness(stamps, { key: (r: Reading) => r.sensor });
    expect(await h.processElement({ sensor: "a", value: 1, time: 0 }, 500)).toEqual(["a at 500"]);
    expect(await h.processElement({ sensor: "b", value: 1, time: 0 })).toEqual(["b at undefined"]);
    expect(await h.processWatermark(510)).toEqual(["timer 510 at 510"]);
  });

  it("restores timers with the state at another parallelism", async () => {
    const before = await keyedProcessHarness(minuteMax, { key: (r: Reading) => r.sensor });
    await before.processElements(["a", "b", "c", "d"].map((sensor, i) => ({ sensor, value: i, time: 10 })));
    const snapshot = await before.snapshot();
    const fired: string[] = [];
    for (const subtask of [0, 1, 2]) {
      const h = await keyedProcessHarness(minuteMax, { key: (r: Reading) => r.sensor, restore: snapshot, parallelism: 3, subtask });
      fired.push(...(await h.processWatermark(60_000)));
    }
    expect(fired.sort()).toEqual(["a@59999: 0", "b@59999: 1", "c@59999: 2", "d@59999: 3"]);
  });

  it("fires processing-time timers on the manual clock", async () => {
    const h = await keyedProcessHarness(
      {
        processElement(r: Reading, ctx, _out: Collector<string>) {
          ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 1_000);
        },
        onTimer(ts, ctx, out) {
          out.collect(`${ctx.key} at ${ts}`);
        },
      },
      { key: (r: Reading) => r.sensor, processingTime: 5_000 },
    );
    await h.processElement({ sensor: "x", value: 1, time: 0 });
    expect(await h.setProcessingTime(5_999)).toEqual([]);
    expect(await h.setProcessingTime(6_000)).toEqual(["x at 6000"]);
  });
});

describe("coProcessHarness and processHarness", () => {
  it("takes records on either input of a co-process function", async () => {
    const h = await coProcessHarness(
      {
        state: { limit: valueState(10) },
        processElement1(r: Reading, ctx, out: Collector<string>) {
          if (r.value > ctx.state.limit.value()) out.collect(`${ctx.key} over ${ctx.state.limit.value()}: ${r.value}`);
        },
        processElement2(limit: { sensor: string; limit: number }, ctx) {
          ctx.state.limit.update(limit.limit);
        },
      },
      { key1: (r: Reading) => r.sensor, key2: (l: { sensor: string; limit: number }) => l.sensor },
    );
    expect(await h.processElement({ sensor: "a", value: 20, time: 0 })).toEqual(["a over 10: 20"]);
    await h.processElements2([{ sensor: "a", limit: 50 }]);
    expect(await h.processElement({ sensor: "a", value: 20, time: 0 })).toEqual([]);
  });

  it("runs a non-keyed process function with side outputs and endInput", async () => {
    const odd = outputTag<number>("odd");
    const h = await processHarness({
      processElement(n: number, ctx, out: Collector<number>) {
        if (n % 2 === 1) ctx.output(odd, n);
        else out.collect(n);
      },
      endInput(_ctx, out) {
        out.collect(-1);
      },
    });
    expect(await h.processElements([1, 2, 3, 4])).toEqual([2, 4]);
    expect(await h.endInput()).toEqual([-1]);
    expect(h.sideOutput(odd)).toEqual([1, 3]);
  });
});

describe("testJob", () => {
  const small = job("small", (env) => {
    env
      .source(generator({ splits: 1, recordsPerSplit: 3, generate: ({ index }) => index }), { name: "numbers" })
      .map((n) => n * 10)
      .sink(
        // The job's own sink is never written to under testJob.
        { name: "real", createWriter: () => { throw new Error("the job's own sink must not be used"); } },
        { name: "tens" },
      );
  });

  it("runs a job's own bounded sources when a test gives them no records", async () => {
    const result = await testJob(small);
    expect(result.sink<number>("tens")).toEqual([0, 10, 20]);
    expect(result.sinks).toEqual({ tens: [0, 10, 20] });
  });

  it("reads records that are arrays as records (splits only with { splits })", async () => {
    const pairs = job("pairs", (env) => {
      env.source(generator({ splits: 1, recordsPerSplit: 0, generate: (): [string, number] => ["", 0] }), { name: "pairs" }).map(([k, v]) => `${k}=${v}`).sink(discard(), { name: "out" });
    });
    expect((await testJob(pairs, { sources: { pairs: [["a", 1], ["b", 2]] } })).sink("out")).toEqual(["a=1", "b=2"]);
    const split = await testJob(pairs, { sources: { pairs: { splits: [[["a", 1]], [["b", 2]]] } } });
    expect(split.sink<string>("out").sort()).toEqual(["a=1", "b=2"]);
    await expect(testJob(pairs, { sources: { pairs: { splits: [] } } })).rejects.toThrow(/records for source 'pairs' must be an array, or \{ splits/);
  });

  it("names the job's sinks when asked for one it does not have", async () => {
    const result = await testJob(small, { sources: { numbers: [5] } });
    expect(result.sink<number>("tens")).toEqual([50]);
    expect(() => result.sink("ten")).toThrow(/job 'small' has no sink 'ten' \(its sinks: 'tens'\)/);
  });

  it("refuses to run an unbounded source without records, saying how to give it some", async () => {
    const fromTopic = job("from-topic", (env) => {
      env.source(fromKafka({ brokers: "127.0.0.1:1", topic: "in" }), { name: "orders" }).sink(
        { name: "s", createWriter: () => { throw new Error("unused"); } },
      );
    });
    await expect(testJob(fromTopic)).rejects.toThrow(/source 'orders' of job 'from-topic' is unbounded.*testJob\(job, \{ sources: \{ "orders": \[\.\.\.\] \} \}\)/);
    const result = await testJob(fromTopic, { sources: { orders: [{ key: null, value: "x" }] } });
    expect(Object.values(result.sinks)).toEqual([[{ key: null, value: "x" }]]);
  });
});
