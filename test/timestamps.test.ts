/**
 * Record timestamps (Flink's StreamRecord timestamp), in-process: the source's watermark strategy
 * gives each record its timestamp once; it travels with the record through map, filter, flatMap,
 * process and keyBy, so event-time windows and joins need no timestamp function (an explicit one
 * still wins); process functions read it as `ctx.timestamp`; window results carry the window's
 * max timestamp and event-time timer output the timer's time. A window that can never get a
 * timestamp is refused when the job is built, a record that arrives without one fails the job.
 */
import { describe, expect, it } from "vitest";
import type { Source } from "../connectors/source.ts";
import { isWeirError } from "../common/errors.ts";
import { buildJob, job } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { boundedOutOfOrderness, monotonousTimestamps } from "../engine/watermarks.ts";
import { tumblingEventTimeWindows } from "../operators/window/windows.ts";
import { broadcastState } from "../state/broadcast-state.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

interface Rec {
  readonly k: string;
  readonly t: number;
  readonly v: number;
}

/** Fixed records per split, handed out a few at a time. */
const listSource = <T>(splits: Record<string, readonly T[]>): Source<T, number> => ({
  name: "list",
  bounded: true,
  splits: () => Object.keys(splits),
  openReader(split, position) {
    let at = position ?? 0;
    const records = splits[split]!;
    return {
      read: (max) => {
        if (at >= records.length) return { kind: "end" };
        const batch = records.slice(at, at + Math.min(max, 3));
        at += batch.length;
        return { kind: "records", records: batch };
      },
      position: () => at,
      close: () => undefined,
    };
  },
});

/** Two splits of records out of order by up to 4 ms. */
const recordsOf = (n: number, salt: number): Rec[] =>
  Array.from({ length: n }, (_, i) => ({ k: `k${(i * 3 + salt) % 4}`, t: i * 3 + ((i * 7 + salt) % 5), v: i }));
const splits = { a: recordsOf(60, 0), b: recordsOf(50, 1) };
const strategy = boundedOutOfOrderness((r: Rec) => r.t, 5);

const counts = { createAccumulator: () => 0, add: (_r: unknown, n: number) => n + 1, getResult: (n: number) => n };

describe("record timestamps", () => {
  it("an event-time window without timestamp options, fed through map/filter/flatMap/keyBy at parallelism 2, gives what explicit timestamps give", async () => {
    const run = async (explicit: boolean) => {
      const out = collectSink<string>();
      await runDefinition(
        job("tumbling", (env) => {
          env
            .source(listSource(splits), { name: "src", watermarks: strategy })
            .map((r) => ({ key: r.k, at: r.t, v: r.v }))
            .filter((r) => r.v % 5 !== 0)
            .flatMap((r) => (r.v % 2 === 0 ? [r, { ...r, key: `${r.key}+` }] : [r]))
            .keyBy((r) => r.key)
            .window(tumblingEventTimeWindows(20), explicit ? { timestamp: (r) => r.at } : {})
            .aggregate(counts, (n, w) => `${w.key}[${w.window.start})=${n}`, { name: "count" })
            .sink(out, { name: "out" });
        }),
        { parallelism: 2 },
      );
      return multiset(out.all());
    };
    const explicit = await run(true);
    expect(explicit.length).toBeGreaterThan(20);
    expect(await run(false)).toEqual(explicit);
  });

  it("window join, coGroup and interval join without timestamp options give what explicit timestamps give", async () => {
    const right = { c: recordsOf(40, 2).map((r) => ({ ...r, t: r.t + 1 })) };
    const run = async (explicit: boolean) => {
      const joined = collectSink<string>("joined");
      const grouped = collectSink<string>("grouped");
      const interval = collectSink<string>("interval");
      await runDefinition(
        job("joins", (env) => {
          const left = env.source(listSource(splits), { name: "left", watermarks: strategy }).map((r) => ({ ...r, side: "l" }));
          const other = env.source(listSource(right), { name: "right", watermarks: boundedOutOfOrderness((r: Rec) => r.t, 5) });
          const times = explicit ? { timestamp1: (r: Rec) => r.t, timestamp2: (r: Rec) => r.t } : {};
          left
            .join(other)
            .where((r) => r.k)
            .equalTo((r) => r.k)
            .window(tumblingEventTimeWindows(30), times)
            .apply((l, r, w) => `${w.window.start}:${l.v}-${r.v}`, { name: "join" })
            .sink(joined, { name: "joined" });
          left
            .coGroup(other)
            .where((r) => r.k)
            .equalTo((r) => r.k)
            .window(tumblingEventTimeWindows(30), times)
            .apply<string>((ls, rs, w, out) => out.collect(`${w.key}[${w.window.start})=${ls.length}/${rs.length}`), { name: "cogroup" })
            .sink(grouped, { name: "grouped" });
          left
            .keyBy((r) => r.k)
            .intervalJoin(other.keyBy((r) => r.k))
            .between(-4, 6, explicit ? times : undefined)
            .process<string>((l, r, key, out) => out.collect(`${key}:${l.v}-${r.v}`), { name: "interval" })
            .sink(interval, { name: "interval-out" });
        }),
        { parallelism: 2 },
      );
      return { joined: multiset(joined.all()), grouped: multiset(grouped.all()), interval: multiset(interval.all()) };
    };
    const explicit = await run(true);
    for (const output of Object.values(explicit)) expect(output.length).toBeGreaterThan(10);
    expect(await run(false)).toEqual(explicit);
  });

  it("a window join may take one side's time explicitly and the other's carried", async () => {
    const out = collectSink<string>();
    const other = { c: [{ k: "x", t: 999, v: 12 }] };
    await runDefinition(
      job("half", (env) => {
        const left = env.source(listSource({ a: [{ k: "x", t: 15, v: 1 }] }), { name: "left", watermarks: strategy });
        // The right record's explicit time (12) puts it in [10, 20) with the left one; its carried timestamp (9) would not.
        const right = env.source(listSource(other), { name: "right", watermarks: monotonousTimestamps((r: Rec) => r.t - 990) });
        left
          .join(right)
          .where((r) => r.k)
          .equalTo((r) => r.k)
          .window(tumblingEventTimeWindows(10), { timestamp2: (r) => r.v })
          .apply((l, r, w) => `${w.window.start}:${l.v}-${r.v}`)
          .sink(out, { name: "out" });
      }),
    );
    expect(out.all()).toEqual(["10:1-12"]);
  });

  it("an explicit timestamp function wins over the carried timestamp", async () => {
    const out = collectSink<string>();
    await runDefinition(
      job("explicit-wins", (env) => {
        env
          .source(listSource({ a: [{ k: "x", t: 1, v: 25 }, { k: "x", t: 2, v: 35 }, { k: "x", t: 3, v: 38 }] }), { name: "src", watermarks: strategy })
          .keyBy((r) => r.k)
          .window(tumblingEventTimeWindows(10), { timestamp: (r) => r.v })
          .aggregate(counts, (n, w) => `[${w.window.start})=${n}`, { name: "count" })
          .sink(out, { name: "out" });
      }),
    );
    expect(out.all().sort()).toEqual(["[20)=1", "[30)=2"]);
  });

  it("process functions read the record's timestamp as ctx.timestamp; onTimer's is the event-time timer's, and what it emits carries it", async () => {
    const seen = collectSink<string>("seen");
    const windows = collectSink<string>("windows");
    await runDefinition(
      job("ctx-timestamp", (env) => {
        const fired = env
          .source(listSource({ a: [{ k: "x", t: 3, v: 0 }, { k: "y", t: 14, v: 1 }, { k: "x", t: 21, v: 2 }] }), { name: "src", watermarks: strategy })
          .map((r) => ({ ...r, t: r.t * 1000 })) // the record's own field changes; its timestamp does not
          .process<Rec>({
            processElement(r, ctx, out) {
              out.collect(r);
              if (ctx.timestamp !== r.t / 1000) throw new Error(`process saw ${ctx.timestamp} for ${r.t}`);
            },
          })
          .keyBy((r) => r.k)
          .process<string>({
            processElement(r, ctx, out) {
              out.collect(`element v${r.v} at ${ctx.timestamp}`);
              ctx.timerService.registerEventTimeTimer(ctx.timestamp! + 100);
            },
            onTimer(timestamp, ctx, out) {
              out.collect(`timer ${timestamp} ${ctx.timeDomain} at ${ctx.timestamp}`);
            },
          });
        fired.sink(seen, { name: "seen" });
        // The timers' output carries their times (103, 114, 121): one 100 ms window holds all three,
        // the elements' output (3, 14, 21) another.
        fired
          .keyBy(() => "all")
          .window(tumblingEventTimeWindows(100))
          .process<string>((xs, w, out) => out.collect(`[${w.window.start})=${xs.length}`))
          .sink(windows, { name: "windows" });
      }),
    );
    expect(seen.all().sort()).toEqual([
      "element v0 at 3",
      "element v1 at 14",
      "element v2 at 21",
      "timer 103 event at 103",
      "timer 114 event at 114",
      "timer 121 event at 121",
    ]);
    expect(windows.all().sort()).toEqual(["[0)=3", "[100)=3"]);
  });

  it("window results carry the window's max timestamp (end - 1)", async () => {
    const out = collectSink<string>();
    await runDefinition(
      job("window-ts", (env) => {
        env
          .source(listSource({ a: [{ k: "x", t: 3, v: 0 }, { k: "x", t: 27, v: 1 }] }), { name: "src", watermarks: strategy })
          .keyBy((r) => r.k)
          .window(tumblingEventTimeWindows(10))
          .aggregate(counts)
          .process<string>({ processElement: (n, ctx, o) => o.collect(`${n} at ${ctx.timestamp}`) })
          .sink(out, { name: "out" });
      }),
    );
    expect(out.all().sort()).toEqual(["1 at 29", "1 at 9"]);
  });

  it("an interval join's results carry the larger of the pair's timestamps, a window join's the window's max timestamp", async () => {
    const out = collectSink<string>();
    const out2 = collectSink<string>("out2");
    await runDefinition(
      job("join-ts", (env) => {
        const left = env.source(listSource({ a: [{ k: "x", t: 5, v: 1 }, { k: "x", t: 12, v: 2 }] }), { name: "left", watermarks: strategy });
        const right = env.source(listSource({ b: [{ k: "x", t: 8, v: 3 }] }), { name: "right", watermarks: strategy });
        const stampOf = (what: string) => ({ processElement: (x: unknown, ctx: { timestamp: number | undefined }, o: { collect(s: string): void }) => o.collect(`${what} ${JSON.stringify(x)} at ${ctx.timestamp}`) });
        left
          .keyBy((r) => r.k)
          .intervalJoin(right.keyBy((r) => r.k))
          .between(-5, 5)
          .process<string>((l, r, _k, o) => o.collect(`${l.v}-${r.v}`))
          .process<string>(stampOf("interval"))
          .sink(out, { name: "out" });
        left
          .join(right)
          .where((r) => r.k)
          .equalTo((r) => r.k)
          .window(tumblingEventTimeWindows(10))
          .apply((l, r) => `${l.v}-${r.v}`)
          .process<string>(stampOf("window"))
          .sink(out2, { name: "out2" });
      }),
    );
    expect([...out.all(), ...out2.all()].sort()).toEqual(['interval "1-3" at 8', 'interval "2-3" at 12', 'window "1-3" at 9']);
  });

  it("asyncMap results keep their inputs' timestamps: a window behind it needs no timestamp function", async () => {
    const run = async (explicit: boolean) => {
      const out = collectSink<string>();
      await runDefinition(
        job("async", (env) => {
          env
            .source(listSource(splits), { name: "src", watermarks: strategy })
            .asyncMap(async (r) => ({ key: r.k, at: r.t }), { name: "lookup", ordered: false })
            .keyBy((r) => r.key)
            .window(tumblingEventTimeWindows(20), explicit ? { timestamp: (r) => r.at } : {})
            .aggregate(counts, (n, w) => `${w.key}[${w.window.start})=${n}`, { name: "count" })
            .sink(out, { name: "out" });
        }),
        { parallelism: 2 },
      );
      return multiset(out.all());
    };
    const explicit = await run(true);
    expect(explicit.length).toBeGreaterThan(20);
    expect(await run(false)).toEqual(explicit);
  });

  it("a broadcast process function reads the record's timestamp as ctx.timestamp, and what it emits keeps it", async () => {
    const out = collectSink<string>();
    await runDefinition(
      job("broadcast-ts", (env) => {
        const rules = env.source(listSource({ r: [{ k: "rule", t: 0, v: 0 }] }), { name: "rules" }).broadcast(broadcastState<string, number>("rules"));
        env
          .source(listSource({ a: [{ k: "x", t: 7, v: 1 }, { k: "x", t: 31, v: 2 }] }), { name: "src", watermarks: strategy })
          .connect(rules)
          .process<string>({
            processElement: (r, ctx, o) => o.collect(`${r.v} at ${ctx.timestamp}`),
            processBroadcastElement: () => undefined,
          })
          .keyBy(() => "all")
          .window(tumblingEventTimeWindows(10))
          .process<string>((xs, w, o) => o.collect(`[${w.window.start}) ${xs.join(", ")}`))
          .sink(out, { name: "out" });
      }),
    );
    expect(out.all().sort()).toEqual(["[0) 1 at 7", "[30) 2 at 31"]);
  });

  it("without a watermark strategy records carry no timestamp: ctx.timestamp is undefined", async () => {
    const out = collectSink<string>();
    const keyed = collectSink<string>("keyed");
    await runDefinition(
      job("no-strategy", (env) => {
        const s = env.source(listSource({ a: [{ k: "x", t: 3, v: 0 }] }), { name: "src" });
        s.process<string>({ processElement: (_r, ctx, o) => o.collect(`process ${ctx.timestamp}`) }).sink(out, { name: "out" });
        s.keyBy((r) => r.k)
          .process<string>({ processElement: (_r, ctx, o) => o.collect(`keyed ${ctx.timestamp}`) })
          .sink(keyed, { name: "keyed-out" });
      }),
    );
    expect(out.all()).toEqual(["process undefined"]);
    expect(keyed.all()).toEqual(["keyed undefined"]);
  });

  it("refuses at build time an event-time window or interval join without timestamps when no source upstream has a watermark strategy", () => {
    const build = (which: "window" | "interval") =>
      buildJob(
        job("refused", (env) => {
          const s = env.source(listSource(splits), { name: "src" }).keyBy((r) => r.k);
          if (which === "window") s.window(tumblingEventTimeWindows(10)).aggregate(counts, { name: "per-key" }).sink(collectSink(), { name: "out" });
          else s.intervalJoin(s).between(0, 1).process<number>((l, _r, _k, o) => o.collect(l.v), { name: "pairs" }).sink(collectSink(), { name: "out" });
        }),
        { params: paramsFrom({}), parallelism: 1 },
      );
    for (const [which, operator] of [["window", "per-key"], ["interval", "pairs"]] as const) {
      let error: unknown;
      try {
        build(which);
      } catch (e) {
        error = e;
      }
      expect(isWeirError(error) && error.code).toBe("WINDOW_WITHOUT_TIMESTAMP");
      expect(isWeirError(error) && error.operator).toBe(operator);
      expect(String(error)).toContain("no source upstream has a watermark strategy");
      expect(String(error)).toContain("{ timestamp: (r) => r.time }");
    }
  });

  it("fails the job, naming the window and the fixes, when a record reaches it without a timestamp", async () => {
    // One source has a strategy (so the build cannot tell), the other none: its records carry none.
    const running = runDefinition(
      job("unstamped", (env) => {
        const stamped = env.source(listSource({ a: [{ k: "x", t: 3, v: 0 }] }), { name: "stamped", watermarks: strategy });
        const bare = env.source(listSource({ b: [{ k: "x", t: 4, v: 1 }] }), { name: "bare" });
        stamped
          .union(bare)
          .keyBy((r) => r.k)
          .window(tumblingEventTimeWindows(10))
          .aggregate(counts, { name: "per-key" })
          .sink(collectSink(), { name: "out" });
      }),
    );
    await expect(running).rejects.toMatchObject({ code: "WINDOW_WITHOUT_TIMESTAMP", operator: "per-key" });
    await expect(running).rejects.toThrow(/operator 'per-key' got a record without a timestamp.*set a watermark strategy on the source or pass the record's time explicitly/);
  });
});
