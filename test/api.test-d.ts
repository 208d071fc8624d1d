/**
 * Type-level specification of the job API: types flow end to end, and misuse does not compile.
 * Checked by vitest's typecheck (tsc) as part of `npm test`.
 */
import { describe, expectTypeOf, it } from "vitest";
import {
  boundedOutOfOrderness,
  outputTag,
  tumblingEventTimeWindows,
  discard,
  fromFile,
  generator,
  job,
  listState,
  mapState,
  toFiles,
  valueState,
  broadcastState,
  type BroadcastState,
  type BroadcastStream,
  type Collector,
  type DataStream,
  type ReadOnlyBroadcastState,
  type KeyedStream,
  type ListState,
  type MapState,
  type ProcessStream,
  type ValueState,
} from "weir";

interface Bid {
  auction: number;
  price: number;
  bidder: string;
}

const bids = generator<Bid>({ splits: 2, generate: ({ index }) => ({ auction: index % 7, price: index, bidder: `b${index}` }) });

describe("job API types", () => {
  it("carries the record type through map, filter, flatMap and keyBy", () => {
    job("types", (env) => {
      const s = env.source(bids);
      expectTypeOf(s).toEqualTypeOf<DataStream<Bid>>();
      expectTypeOf(s.map((b) => b.price)).toEqualTypeOf<DataStream<number>>();
      expectTypeOf(s.filter((b) => b.price > 1)).toEqualTypeOf<DataStream<Bid>>();
      expectTypeOf(s.flatMap((b) => [b.bidder, b.bidder])).toEqualTypeOf<DataStream<string>>();
      expectTypeOf(s.keyBy((b) => b.auction)).toEqualTypeOf<KeyedStream<Bid, number>>();
      expectTypeOf(s.keyBy((b) => [b.auction, b.bidder] as const)).toEqualTypeOf<KeyedStream<Bid, readonly [number, string]>>();
      expectTypeOf(env.source(fromFile("x.txt"))).toEqualTypeOf<DataStream<string>>();
      s.sink(discard());
    });
  });

  it("narrows with a type-guard filter", () => {
    job("narrow", (env) => {
      const s = env.source(generator<string | number>({ splits: 1, generate: ({ index }) => (index % 2 ? "x" : index) }));
      expectTypeOf(s.filter((v): v is number => typeof v === "number")).toEqualTypeOf<DataStream<number>>();
      s.sink(discard());
    });
  });

  it("types reduce, aggregate and union", () => {
    job("agg", (env) => {
      const k = env.source(bids).keyBy((b) => b.auction);
      expectTypeOf(k.reduce((a, b) => (a.price > b.price ? a : b))).toEqualTypeOf<DataStream<Bid>>();
      const avg = k.aggregate({
        createAccumulator: () => ({ sum: 0, n: 0 }),
        add: (b, acc) => ({ sum: acc.sum + b.price, n: acc.n + 1 }),
        getResult: (acc) => acc.sum / acc.n,
      });
      expectTypeOf(avg).toEqualTypeOf<DataStream<number>>();
      expectTypeOf(avg.union(avg, avg)).toEqualTypeOf<DataStream<number>>();
      avg.sink(toFiles<number>("out"));
    });
  });

  it("gives a keyed process function typed state handles and its key", () => {
    job("process", (env) => {
      const out = env
        .source(bids)
        .keyBy((b) => b.bidder)
        .process({
          state: { max: valueState(0), last: valueState<Bid>(), prices: listState<number>(), byAuction: mapState<number, number>() },
          processElement(bid, ctx, out: Collector<{ bidder: string; max: number }>) {
            expectTypeOf(bid).toEqualTypeOf<Bid>();
            expectTypeOf(ctx.key).toEqualTypeOf<string>();
            expectTypeOf(ctx.state.max).toEqualTypeOf<ValueState<number, number>>();
            expectTypeOf(ctx.state.max.value()).toEqualTypeOf<number>();
            expectTypeOf(ctx.state.last.value()).toEqualTypeOf<Bid | undefined>();
            expectTypeOf(ctx.state.prices).toEqualTypeOf<ListState<number>>();
            expectTypeOf(ctx.state.byAuction).toEqualTypeOf<MapState<number, number>>();
            out.collect({ bidder: ctx.key, max: Math.max(ctx.state.max.value(), bid.price) });
          },
        });
      expectTypeOf(out).toEqualTypeOf<ProcessStream<{ bidder: string; max: number }>>();
      out.sink(discard());
    });
  });

  it("rejects misuse at compile time", () => {
    job("misuse", (env) => {
      const s = env.source(bids);
      // @ts-expect-error a Bid has no field 'name'
      s.map((b) => b.name);
      // @ts-expect-error a stream of bids cannot be written to a sink of strings
      s.sink(discard<string>());
      // @ts-expect-error union needs streams of the same type
      s.union(s.map((b) => b.price));
      // @ts-expect-error keys must be strings, numbers, booleans, bigints or arrays of them
      s.keyBy((b) => ({ id: b.auction }));
      s.keyBy((b) => b.auction).process({
        state: { n: valueState(0) },
        processElement(_b, ctx, out: Collector<number>) {
          // @ts-expect-error a number state takes numbers
          ctx.state.n.update("one");
          // @ts-expect-error undeclared state
          ctx.state.missing.value();
          out.collect(ctx.state.n.value());
        },
      });
      s.sink(discard());
    });
  });

  it("asyncMap takes a Promise-returning function and carries what it resolves to", () => {
    job("async", (env) => {
      const s = env.source(bids);
      const lookup = async (b: Bid) => ({ ...b, name: `user-${b.bidder}` });
      expectTypeOf(s.asyncMap(lookup)).toEqualTypeOf<DataStream<{ name: string; auction: number; price: number; bidder: string }>>();
      expectTypeOf(s.asyncMap(async (b) => b.price, { capacity: 10, ordered: false, timeout: "5s", retries: 2, retryDelay: 50, name: "n" })).toEqualTypeOf<
        DataStream<number>
      >();
      expectTypeOf(s.asyncMap((b) => Promise.resolve(b.bidder)).keyBy((x) => x)).toEqualTypeOf<KeyedStream<string, string>>();
      // @ts-expect-error asyncMap's function returns a Promise
      s.asyncMap((b) => b.price);
      // @ts-expect-error the record type flows into the function
      s.asyncMap(async (b: string) => b);
      // @ts-expect-error timeout is a duration
      s.asyncMap(async (b) => b, { timeout: true });
      // @ts-expect-error ordered is a boolean
      s.asyncMap(async (b) => b, { ordered: "yes" });
    });
  });

  it("rejects async user functions and values returned from process-like functions", () => {
    job("sync-only", (env) => {
      const s = env.source(bids, { watermarks: boundedOutOfOrderness((b: Bid) => b.auction, "4s") });
      const k = s.keyBy((b) => b.bidder);
      const other = s.map((b) => ({ id: b.bidder, price: b.price })).keyBy((p) => p.id);
      const sum = { createAccumulator: () => 0, add: (b: Bid, n: number) => n + b.price, getResult: (n: number) => n };
      const tumbling = tumblingEventTimeWindows("10s");

      // Still inferred as before; sync functions and out.collect-only bodies compile.
      expectTypeOf(s.map((b) => (b.price > 1 ? "high" : b.price))).toEqualTypeOf<DataStream<number | "high">>();
      const joined = k
        .intervalJoin(other)
        .between("-1s", "1s", { timestamp1: (b) => b.auction, timestamp2: (p) => p.price })
        .process((b, p, key, out: Collector<string>) => out.collect(`${key}:${b.price}:${p.price}`));
      expectTypeOf(joined).toEqualTypeOf<DataStream<string>>();
      // Without timestamp functions: the timestamps records carry from their sources' watermark strategies.
      const carried = k.intervalJoin(other).between("-1s", "1s").process((b, p, _key, out: Collector<number>) => out.collect(b.price + p.price));
      expectTypeOf(carried).toEqualTypeOf<DataStream<number>>();
      k.window(tumbling).aggregate(sum);
      k.process({ processElement: (_b, ctx, out: Collector<number | undefined>) => out.collect(ctx.timestamp) });
      s.process({
        processElement(_b, ctx, out: Collector<number>) {
          expectTypeOf(ctx.timestamp).toEqualTypeOf<number | undefined>();
          // @ts-expect-error the record's timestamp is read-only
          ctx.timestamp = 5;
          out.collect(1);
        },
      });

      // @ts-expect-error Weir functions must be synchronous
      s.map(async (b) => b.price);
      // @ts-expect-error a function that sometimes returns a Promise
      s.map((b) => (b.price > 1 ? b.price : Promise.resolve(0)));
      // @ts-expect-error an async aggregate function
      k.aggregate({ createAccumulator: async () => 0, add: async (b: Bid, n: number) => n + b.price, getResult: async (n: number) => n });
      k.process({
        // @ts-expect-error an async processElement
        async processElement(b, _ctx, out: Collector<number>) {
          out.collect(b.price);
        },
      });
      k.process({
        // @ts-expect-error processElement emits with out.collect; a returned value would be dropped
        processElement: (b, _ctx, _out: Collector<number>) => b.price,
      });
      k.process({
        processElement(b, ctx, _out: Collector<number>) {
          ctx.timerService.registerEventTimeTimer(b.auction);
        },
        // @ts-expect-error an async onTimer
        async onTimer(ts, _ctx, out) {
          out.collect(ts);
        },
      });
      k.connect(other).process({
        // @ts-expect-error an async processElement1
        async processElement1(b, _ctx, out: Collector<number>) {
          out.collect(b.price);
        },
        processElement2(p, _ctx, out) {
          out.collect(p.price);
        },
      });
      // @ts-expect-error the interval join function emits with out.collect; a returned value would be dropped
      k.intervalJoin(other).between("-1s", "1s", { timestamp1: (b) => b.auction, timestamp2: (p) => p.price }).process((b, p) => ({ b, p }));
      k.intervalJoin(other)
        .between("-1s", "1s", { timestamp1: (b) => b.auction, timestamp2: (p) => p.price })
        // @ts-expect-error an async interval join function
        .process(async (b, _p, _key, out: Collector<number>) => out.collect(b.price));
      // @ts-expect-error an async window function
      k.window(tumbling, { timestamp: (b) => b.auction }).process(async (bs, _w, out: Collector<number>) => out.collect(bs.length));
      // @ts-expect-error an async window result function
      k.window(tumbling, { timestamp: (b) => b.auction }).reduce((a, b) => (a.price > b.price ? a : b), async (b) => b.price);
      // @ts-expect-error an async window aggregate function
      k.window(tumbling, { timestamp: (b) => b.auction }).aggregate({ ...sum, getResult: async (n: number) => n });
      s.join(s)
        .where((b) => b.bidder)
        .equalTo((b) => b.bidder)
        .window(tumbling, { timestamp1: (b) => b.auction, timestamp2: (b) => b.auction })
        // @ts-expect-error an async join function
        .apply(async (a, b) => a.price + b.price);
      s.coGroup(s)
        .where((b) => b.bidder)
        .equalTo((b) => b.bidder)
        .window(tumbling, { timestamp1: (b) => b.auction, timestamp2: (b) => b.auction })
        // @ts-expect-error coGroup emits with out.collect; a returned value would be dropped
        .apply((as, bs, _w, _out: Collector<number>) => as.length + bs.length);
      joined.sink(discard());
    });
  });

  it("types event time, windows, joins and side outputs", () => {
    job("event-time-types", (env) => {
      const s = env.source(bids, { watermarks: boundedOutOfOrderness((b: Bid) => b.auction, "4s") });
      const late = outputTag<Bid>("late");
      const counts = s
        .keyBy((b) => b.bidder)
        .window(tumblingEventTimeWindows("10s"), { timestamp: (b) => b.auction, lateData: late })
        .aggregate({ createAccumulator: () => 0, add: (_b, n: number) => n + 1, getResult: (n: number) => n }, (n, w) => ({
          bidder: w.key,
          n,
          end: w.window.end,
        }));
      expectTypeOf(counts).toMatchTypeOf<DataStream<{ bidder: string; n: number; end: number }>>();
      expectTypeOf(counts.sideOutput(late)).toEqualTypeOf<DataStream<Bid>>();
      const joined = s
        .join(s.map((b) => ({ id: b.bidder, price: b.price })))
        .where((b) => b.bidder)
        .equalTo((p) => p.id)
        .window(tumblingEventTimeWindows(1000), { timestamp1: (b) => b.auction, timestamp2: (p) => p.price })
        .apply((b, p) => ({ auction: b.auction, price: p.price }));
      expectTypeOf(joined).toEqualTypeOf<DataStream<{ auction: number; price: number }>>();
      const co = s
        .connect(s.map((b) => b.price))
        .keyBy(
          (b) => b.auction,
          (price) => price,
        )
        .process({
          processElement1(b, ctx, out: Collector<string>) {
            ctx.timerService.registerEventTimeTimer(b.auction);
            out.collect(b.bidder);
          },
          processElement2(price, _ctx, out) {
            out.collect(String(price));
          },
          onTimer(ts, ctx, out) {
            expectTypeOf(ctx.timeDomain).toEqualTypeOf<"event" | "processing">();
            out.collect(`${ctx.key}@${ts}`);
          },
        });
      expectTypeOf(co).toEqualTypeOf<ProcessStream<string>>();
      // @ts-expect-error event-time windows take the record's type in `timestamp`
      s.keyBy((b) => b.bidder).window(tumblingEventTimeWindows("10s"), { timestamp: (x: string) => x.length });
      // @ts-expect-error the late-data tag must be of the window's input type
      s.keyBy((b) => b.bidder).window(tumblingEventTimeWindows("10s"), { timestamp: (b) => b.auction, lateData: outputTag<string>("x") });
      counts.sink(discard());
      joined.sink(discard());
      co.sink(discard());
    });
  });

  it("types side outputs of process functions and the non-keyed process", () => {
    job("side-outputs", (env) => {
      const bids = env.source(generator({ splits: 1, recordsPerSplit: 1, generate: (): Bid => ({ auction: 1, price: 2, bidder: "a" }) }));
      const cheap = outputTag<Bid>("cheap");
      const notes = outputTag<string>("notes");
      const plain = bids.process({
        processElement(b, ctx, out: Collector<number>) {
          expectTypeOf(ctx.subtask).toEqualTypeOf<number>();
          expectTypeOf(ctx.currentWatermark()).toEqualTypeOf<number>();
          if (b.price < 10) ctx.output(cheap, b);
          else out.collect(b.price);
          // @ts-expect-error a side output takes its tag's type
          ctx.output(notes, 42);
          // @ts-expect-error non-keyed process functions have no timers (they need a key)
          ctx.timerService.registerEventTimeTimer(1);
        },
      });
      expectTypeOf(plain).toEqualTypeOf<ProcessStream<number>>();
      expectTypeOf(plain.sideOutput(cheap)).toEqualTypeOf<DataStream<Bid>>();
      expectTypeOf(plain.sideOutput(notes)).toEqualTypeOf<DataStream<string>>();
      const keyed = bids.keyBy((b) => b.bidder).process({
        processElement(b, ctx, out: Collector<string>) {
          ctx.output(notes, `${ctx.key}: ${b.price}`);
          out.collect(b.bidder);
        },
      });
      expectTypeOf(keyed.sideOutput(notes)).toEqualTypeOf<DataStream<string>>();
      // @ts-expect-error async process functions are refused like the others
      bids.process({ async processElement(b, _ctx, out: Collector<number>) { out.collect(b.price); } });
      plain.sink(discard());
      keyed.sideOutput(notes).sink(discard());
    });
  });

  it("keeps the record type through rescale, broadcast and partitionCustom, whose partitioner takes the key's type", () => {
    job("partitioning", (env) => {
      const s = env.source(bids);
      expectTypeOf(s.rescale()).toEqualTypeOf<DataStream<Bid>>();
      expectTypeOf(s.broadcast()).toEqualTypeOf<DataStream<Bid>>();
      // TypeScript infers left to right: the partitioner's key parameter is annotated (unannotated, it is `unknown`).
      expectTypeOf(s.partitionCustom((bidder: string, n) => bidder.length % n, (b) => b.bidder)).toEqualTypeOf<DataStream<Bid>>();
      s.partitionCustom(
        (k, n) => {
          expectTypeOf(k).toEqualTypeOf<unknown>();
          expectTypeOf(n).toEqualTypeOf<number>();
          return 0;
        },
        (b) => b.auction,
      );
      // @ts-expect-error the partitioner's key is the key selector's type (a string here)
      s.partitionCustom((k: number, n) => k % n, (b) => b.bidder);
      // @ts-expect-error a partitioner returns a partition number
      s.partitionCustom((k: string) => k, (b) => b.bidder);
    });
  });
  it("types the broadcast state pattern: descriptors, read-only state in processElement, keyed state in the keyed variant", () => {
    interface Rule {
      kind: string;
      limit: number;
    }
    const rules = broadcastState<string, Rule>("rules");
    job("broadcast-state", (env) => {
      const s = env.source(bids);
      const ruleStream = env.source(generator<Rule>({ splits: 1, generate: () => ({ kind: "x", limit: 1 }) })).broadcast(rules);
      expectTypeOf(ruleStream).toEqualTypeOf<BroadcastStream<Rule>>();
      const plain = s.connect(ruleStream).process({
        processElement(b, ctx, out: Collector<string>) {
          expectTypeOf(b).toEqualTypeOf<Bid>();
          const state = ctx.broadcastState(rules);
          expectTypeOf(state).toEqualTypeOf<ReadOnlyBroadcastState<string, Rule>>();
          expectTypeOf(state.get("x")).toEqualTypeOf<Rule | undefined>();
          // @ts-expect-error processElement cannot change broadcast state
          state.put("x", { kind: "x", limit: 2 });
          // @ts-expect-error no keyed state without keyBy
          void ctx.state;
          out.collect(b.bidder);
        },
        processBroadcastElement(rule, ctx) {
          expectTypeOf(rule).toEqualTypeOf<Rule>();
          const state = ctx.broadcastState(rules);
          expectTypeOf(state).toEqualTypeOf<BroadcastState<string, Rule>>();
          state.put(rule.kind, rule);
          // @ts-expect-error keys are the descriptor's key type
          state.put(1, rule);
          // @ts-expect-error values are the descriptor's value type
          state.put(rule.kind, "rule");
        },
      });
      expectTypeOf(plain).toEqualTypeOf<DataStream<string>>();
      const keyed = s.keyBy((b) => b.auction).connect(ruleStream).process({
        state: { n: valueState(0) },
        processElement(b, ctx, out: Collector<number>) {
          expectTypeOf(ctx.key).toEqualTypeOf<number>();
          expectTypeOf(ctx.state.n).toEqualTypeOf<ValueState<number, number>>();
          ctx.timerService.registerEventTimeTimer(b.price);
          out.collect(ctx.broadcastState(rules).get("x")?.limit ?? ctx.state.n.value());
        },
        processBroadcastElement(rule, ctx) {
          ctx.broadcastState(rules).put(rule.kind, rule);
          // @ts-expect-error no current key in processBroadcastElement
          void ctx.key;
        },
        onTimer(_t, ctx, out) {
          out.collect(ctx.broadcastState(rules).size + ctx.state.n.value());
        },
      });
      expectTypeOf(keyed).toEqualTypeOf<DataStream<number>>();
      // @ts-expect-error a broadcast stream needs its function's processBroadcastElement
      s.connect(ruleStream).process({ processElement() {} });
      // @ts-expect-error broadcast state keys are primitives
      broadcastState<{ id: number }, Rule>("bad");
      plain.sink(discard());
      keyed.sink(discard());
    });
  });

  it("takes a state TTL as ms or a duration string, with Flink's update type and visibility", () => {
    valueState(0, { ttl: "1h" });
    listState<number>({ ttl: 60_000, updateType: "onReadAndWrite" });
    mapState<string, number>({ ttl: "10m", visibility: "returnExpiredIfNotCleanedUp", version: 2, migrate: (old: Map<string, number>) => old });
    expectTypeOf(valueState(0, { ttl: "1h" })).toEqualTypeOf(valueState(0));
    // @ts-expect-error a ttl is a number of ms or a duration string
    valueState(0, { ttl: true });
    // @ts-expect-error updateType is "onCreateAndWrite" or "onReadAndWrite"
    listState<number>({ ttl: 1_000, updateType: "onRead" });
    // @ts-expect-error visibility is "neverReturnExpired" or "returnExpiredIfNotCleanedUp"
    mapState<string, number>({ ttl: 1_000, visibility: "always" });
  });
});
