import { describe, expect, it } from "vitest";
import { discard } from "../connectors/discard-sink.ts";
import { generator } from "../connectors/generator-source.ts";
import { tumblingEventTimeWindows, tumblingProcessingTimeWindows } from "../operators/window/windows.ts";
import { buildJob, job, type JobEnv } from "./job.ts";
import { paramsFrom } from "./params.ts";
import { missingWatermarks } from "./watermark-check.ts";
import { boundedOutOfOrderness } from "./watermarks.ts";
import type { Collector } from "../operators/operator.ts";
import { collectSink, runDefinition } from "../test/support/run.ts";

interface Rec {
  readonly k: number;
  readonly t: number;
}

const recs = generator<Rec>({ splits: 1, recordsPerSplit: 10, generate: ({ index }) => ({ k: index % 3, t: index }) });
const watermarks = boundedOutOfOrderness((r: Rec) => r.t, "1s");
const warnings = (build: (env: JobEnv) => void) => missingWatermarks(buildJob(job("check", build), { params: paramsFrom({}), parallelism: 2 }));
const count = (env: JobEnv, withWatermarks: boolean, name = "recs") =>
  env
    .source(recs, withWatermarks ? { name, watermarks } : { name })
    .keyBy((r) => r.k)
    .window(tumblingEventTimeWindows("10s"), { timestamp: (r) => r.t })
    .aggregate({ createAccumulator: () => 0, add: (_r, n: number) => n + 1, getResult: (n: number) => n }, { name: "per-key-counts" })
    .sink(discard(), { name: "out" });

describe("missing watermarks", () => {
  it("names an event-time window, its source without a watermark strategy, and the fix", () => {
    expect(warnings((env) => count(env, false))).toEqual([
      `source 'recs' has no watermark strategy, so event-time operator 'per-key-counts' will fire only at the end of input; ` +
        `give the source one: env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })`,
    ]);
  });

  it("says nothing when the source has watermarks, or when the window is on processing time", () => {
    expect(warnings((env) => count(env, true))).toEqual([]);
    expect(
      warnings((env) =>
        env
          .source(recs, { name: "recs" })
          .keyBy((r) => r.k)
          .window(tumblingProcessingTimeWindows("10s"))
          .reduce((a) => a)
          .sink(discard()),
      ),
    ).toEqual([]);
  });

  it("finds the source through other operators and unions, once per source, naming every operator it holds back", () => {
    const lines = warnings((env) => {
      const ok = env.source(recs, { name: "with", watermarks });
      const bad = env.source(recs, { name: "without" });
      const both = ok.union(bad.map((r) => ({ ...r, t: r.t + 1 })));
      both
        .keyBy((r) => r.k)
        .window(tumblingEventTimeWindows(5), { timestamp: (r) => r.t })
        .reduce((a) => a, { name: "w1" })
        .sink(discard(), { name: "o1" });
      both
        .keyBy((r) => r.k)
        .intervalJoin(ok.keyBy((r) => r.k))
        .between(-1, 1, { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .process<number>((a, _b, _k, out) => out.collect(a.t), { name: "j1" })
        .sink(discard(), { name: "o2" });
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^source 'without' has no watermark strategy, so event-time operators 'w1', 'j1' will fire only at the end of input/);
  });

  it("flags an interval join and a window join like a window", () => {
    const lines = warnings((env) => {
      const a = env.source(recs, { name: "a" });
      const b = env.source(recs, { name: "b", watermarks });
      a.keyBy((r) => r.k)
        .intervalJoin(b.keyBy((r) => r.k))
        .between(-1, 1, { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .process<number>((x, _y, _k, out) => out.collect(x.t), { name: "interval" })
        .sink(discard(), { name: "o1" });
      a.join(b)
        .where((r) => r.k)
        .equalTo((r) => r.k)
        .window(tumblingEventTimeWindows(5), { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .apply((x, y) => x.t + y.t, { name: "joined" })
        .sink(discard(), { name: "o2" });
    });
    expect(lines).toEqual([expect.stringMatching(/^source 'a' has no watermark strategy, so event-time operators 'interval', 'joined' will fire/)]);
  });
});

describe("event-time timers without watermarks", () => {
  const timers = (withWatermarks: boolean, eventTimers: boolean) => {
    const lines: string[] = [];
    const sink = collectSink<number>("out");
    const definition = job("timers", (env) =>
      env
        .source(recs, withWatermarks ? { name: "recs", watermarks } : { name: "recs" })
        .keyBy((r) => r.k)
        .process(
          {
            processElement(r, ctx, _out: Collector<number>) {
              if (eventTimers) ctx.timerService.registerEventTimeTimer(r.t + 1);
              else ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + 60_000);
            },
            onTimer(ts, _ctx, out) {
              out.collect(ts);
            },
          },
          { name: "alarms" },
        )
        .sink(sink, { name: "out" }),
    );
    return { run: runDefinition(definition, { parallelism: 2, log: (line) => void lines.push(line) }), lines, sink };
  };

  it("warns once, when a keyed process function registers its first event-time timer, naming it and the source", async () => {
    const { run, lines, sink } = timers(false, true);
    await run;
    expect(lines.filter((l) => l.startsWith("warning:"))).toEqual([
      `warning: operator 'alarms' registered an event-time timer, but source 'recs' upstream has no watermark strategy, ` +
        `so its event-time timers will fire only at the end of input; give the source one: env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })`,
    ]);
    expect(sink.all()).toHaveLength(10); // still fired, at the end of input
  });

  it("says nothing with watermarks, or with processing-time timers only", async () => {
    for (const [withWatermarks, eventTimers] of [
      [true, true],
      [false, false],
    ] as const) {
      const { run, lines } = timers(withWatermarks, eventTimers);
      await run;
      expect(lines.filter((l) => l.startsWith("warning:"))).toEqual([]);
    }
  });
});
