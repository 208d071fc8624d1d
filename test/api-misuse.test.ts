/**
 * API misuse that used to give silent wrong results, through the runtime: an `async` user
 * function (its Promise was emitted or stored as `{}`, or ignored) and a value returned from a
 * process-like function (dropped). Each must fail the job with a user error naming the operator,
 * before anything is written. The functions are cast past the types on purpose: `weir run` does
 * not type-check, and plain JavaScript jobs have no types at all (test/api.test-d.ts covers the
 * compile-time side).
 */
import { describe, expect, it } from "vitest";
import type { DataStream } from "../engine/data-stream.ts";
import { job } from "../engine/job.ts";
import { monotonousTimestamps } from "../engine/watermarks.ts";
import { generator } from "../connectors/generator-source.ts";
import { tumblingEventTimeWindows } from "../operators/window/windows.ts";
import { collectSink, runDefinition } from "./support/run.ts";

interface Rec {
  readonly k: number;
  readonly t: number;
}

/** Bypasses the compile-time check, as an untyped job would. */
const untyped = (fn: unknown): any => fn;

type Case = readonly [what: string, operator: string, build: (s: DataStream<Rec>) => DataStream<any>];

const ASYNC = "ASYNC_USER_FUNCTION";
const RETURNED = "PROCESS_FUNCTION_RETURNED_VALUE";

const asyncCases: Case[] = [
  ["map", "enrich", (s) => s.map(untyped(async (r: Rec) => ({ ...r, extra: 1 })), { name: "enrich" })],
  ["map that sometimes returns a Promise", "enrich", (s) => s.map(untyped((r: Rec) => (r.t < 3 ? r : Promise.resolve(r))), { name: "enrich" })],
  ["filter", "keep", (s) => s.filter(untyped(async (r: Rec) => r.k > 0), { name: "keep" })],
  ["flatMap", "explode", (s) => s.flatMap(untyped(async (r: Rec) => [r, r]), { name: "explode" })],
  ["keyBy key selector", "sum (key selector)", (s) => s.keyBy(untyped(async (r: Rec) => r.k)).reduce((a) => a, { name: "sum" })],
  ["keyed reduce", "sum", (s) => s.keyBy((r) => r.k).reduce(untyped(async (a: Rec, b: Rec) => ({ k: a.k, t: a.t + b.t })), { name: "sum" })],
  [
    "keyed aggregate",
    "count",
    (s) => s.keyBy((r) => r.k).aggregate(untyped({ createAccumulator: () => 0, add: async (_r: Rec, n: number) => n + 1, getResult: (n: number) => n }), { name: "count" }),
  ],
  ["keyed process function", "proc", (s) => s.keyBy((r) => r.k).process(untyped({ processElement: async (r: Rec, _c: unknown, out: any) => out.collect(r) }), { name: "proc" })],
  [
    "onTimer",
    "timed (onTimer)",
    (s) =>
      s.keyBy((r) => r.k).process(
        untyped({
          processElement: (r: Rec, ctx: any) => ctx.timerService.registerEventTimeTimer(r.t),
          onTimer: async (ts: number, _c: unknown, out: any) => out.collect(ts),
        }),
        { name: "timed" },
      ),
  ],
  [
    "co-process function",
    "co",
    (s) =>
      s
        .connect(s)
        .keyBy((r) => r.k, (r) => r.k)
        .process(untyped({ processElement1: async () => undefined, processElement2: () => undefined }), { name: "co" }),
  ],
  [
    "window process function",
    "win (window function)",
    (s) => s.keyBy((r) => r.k).window(tumblingEventTimeWindows(10), { timestamp: (r) => r.t }).process(untyped(async (rs: Rec[], _w: unknown, out: any) => out.collect(rs.length)), { name: "win" }),
  ],
  [
    "window result function",
    "win (window function)",
    (s) => s.keyBy((r) => r.k).window(tumblingEventTimeWindows(10), { timestamp: (r) => r.t }).reduce((a) => a, untyped(async (r: Rec) => r.t), { name: "win" }),
  ],
  [
    "window join function",
    "joined (window function)",
    (s) =>
      s
        .join(s)
        .where((r) => r.k)
        .equalTo((r) => r.k)
        .window(tumblingEventTimeWindows(10), { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .apply(untyped(async (a: Rec, b: Rec) => a.t + b.t), { name: "joined" }),
  ],
  ["a function that rejects later", "enrich", (s) => s.map(untyped(async () => Promise.reject(new Error("lookup failed"))), { name: "enrich" })],
];

const returnedCases: Case[] = [
  ["keyed process function", "proc", (s) => s.keyBy((r) => r.k).process(untyped({ processElement: (r: Rec) => r }), { name: "proc" })],
  [
    "interval join function",
    "pairs",
    (s) =>
      s
        .keyBy((r) => r.k)
        .intervalJoin(s.keyBy((r) => r.k))
        .between(-1, 1, { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .process(untyped((a: Rec, b: Rec) => ({ a, b })), { name: "pairs" }),
  ],
  [
    "coGroup function",
    "grouped (window function)",
    (s) =>
      s
        .coGroup(s)
        .where((r) => r.k)
        .equalTo((r) => r.k)
        .window(tumblingEventTimeWindows(10), { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .apply(untyped((as: Rec[], bs: Rec[]) => as.length + bs.length), { name: "grouped" }),
  ],
  [
    "window process function",
    "win (window function)",
    (s) => s.keyBy((r) => r.k).window(tumblingEventTimeWindows(10), { timestamp: (r) => r.t }).process(untyped((rs: Rec[]) => rs.length), { name: "win" }),
  ],
];

const runCase = async (build: Case[2]) => {
  const sink = collectSink<unknown>("out");
  const definition = job("misuse", (env) => {
    const s = env.source(generator<Rec>({ splits: 1, recordsPerSplit: 20, generate: ({ index }) => ({ k: index % 2, t: index }) }), {
      name: "recs",
      watermarks: monotonousTimestamps((r) => r.t),
    });
    build(s).sink(sink, { name: "out" });
  });
  const error = await runDefinition(definition).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, sink };
};

describe("an async user function fails the job instead of emitting or storing a Promise", () => {
  it.each(asyncCases)("%s", async (_what, operator, build) => {
    const { error, sink } = await runCase(build);
    expect(error).toMatchObject({ code: ASYNC, domain: "user", retriable: false });
    const message = (error as Error).message;
    expect(message).toContain(`operator '${operator}' returned a Promise for record`);
    expect(message).toContain("Weir functions must be synchronous");
    expect(message).toContain("AsyncDataStream");
    expect(sink.written.flat()).toEqual([]);
    expect(sink.all()).toEqual([]);
  });
});

describe("a value returned from a process-like function fails the job instead of being dropped", () => {
  it.each(returnedCases)("%s", async (_what, operator, build) => {
    const { error, sink } = await runCase(build);
    expect(error).toMatchObject({ code: RETURNED, domain: "user", retriable: false });
    const message = (error as Error).message;
    expect(message).toMatch(new RegExp(`^operator '${operator.replace(/[()]/g, "\\$&")}' returned .+ for record .+: this function emits with out\\.collect\\(value\\)`));
    expect(sink.written.flat()).toEqual([]);
    expect(sink.all()).toEqual([]);
  });

  it("functions that return nothing (or the void result of out.collect) still run", async () => {
    const { error, sink } = await runCase((s) =>
      s
        .keyBy((r) => r.k)
        .intervalJoin(s.keyBy((r) => r.k))
        .between(0, 0, { timestamp1: (r) => r.t, timestamp2: (r) => r.t })
        .process<number>((a, _b, _k, out) => out.collect(a.t), { name: "pairs" }),
    );
    expect(error).toBeUndefined();
    expect(sink.all().sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
