/**
 * The runtime as a whole, in-process: results do not depend on parallelism or state backend,
 * keyed records reach the subtask owning their key group, backpressure stops the source, and
 * failures name the operator.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generator, job, listState, mapState, valueState, type Collector } from "../index.ts";
import { keyGroupFor, subtaskForKeyGroup } from "../state/key-groups.ts";
import { collectSink, multiset, runDefinition } from "./support/run.ts";

const scratch: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), "weir-runtime-"));
  scratch.push(d);
  return d;
};
afterAll(async () => {
  for (const d of scratch) await rm(d, { recursive: true, force: true });
});


interface Event {
  user: string;
  n: number;
}

/** A job using every operator kind; output records carry enough to check per-key order. */
const everything = (sink: ReturnType<typeof collectSink<unknown>>) =>
  job("everything", (env) => {
    const events = env.source(
      generator<Event>({
        splits: 3,
        recordsPerSplit: 2_000,
        seed: 7,
        generate: ({ split, index, random }) => ({ user: `u${split}-${random.int(20)}`, n: index }),
      }),
      { name: "events" },
    );
    const evens = events.filter((e) => e.n % 2 === 0, { name: "evens" });
    const doubled = events.flatMap((e) => (e.n % 5 === 0 ? [e, e] : [e]), { name: "dup-fives" });
    // Order between union inputs and across rebalance is not defined: only stateless work here.
    evens
      .union(doubled)
      .rebalance()
      .map((e) => ({ k: "merged", ...e, n: e.n + 1 }), { name: "inc" })
      .sink(sink, { name: "out-merged" });
    // Each user's events come from one split, in order: keyed results are order-sensitive on purpose.
    const keyed = events.map((e) => ({ ...e, n: e.n + 1 }), { name: "shift" }).keyBy((e) => e.user);
    keyed.reduce((a, b) => ({ user: a.user, n: a.n + b.n }), { name: "sum" }).map((r) => ({ k: "sum", ...r }), { name: "tag-sum" }).sink(sink, { name: "out-sum" });
    keyed
      .aggregate(
        { createAccumulator: () => 0, add: (_e, acc: number) => acc + 1, getResult: (acc) => acc },
        { name: "count" },
      )
      .map((c) => ({ k: "count", c }), { name: "tag-count" })
      .sink(sink, { name: "out-count" });
    keyed
      .process(
        {
          state: { seen: listState<number>(), last: valueState<number>(), hist: mapState<number, number>() },
          processElement(e, ctx, out: Collector<unknown>) {
            ctx.state.seen.add(e.n % 7);
            if (ctx.state.seen.get().length > 3) ctx.state.seen.update(ctx.state.seen.get().slice(1));
            const bucket = e.n % 3;
            ctx.state.hist.put(bucket, (ctx.state.hist.get(bucket) ?? 0) + 1);
            ctx.state.last.update(e.n);
            out.collect({ k: "proc", user: ctx.key, seen: [...ctx.state.seen.get()], hist: [...ctx.state.hist.entries()].sort() });
          },
        },
        { name: "proc" },
      )
      .sink(sink, { name: "out-proc" });
  });

describe("runtime", () => {
  it("gives the same result multiset at parallelism 1, 2 and 4, on both state backends", async () => {
    const results: string[][] = [];
    for (const [parallelism, stateBackend] of [
      [1, "heap"],
      [2, "rocksdb"],
      [4, "heap"],
      [4, "rocksdb"],
    ] as const) {
      const sink = collectSink<unknown>();
      const stateDir = stateBackend === "rocksdb" ? await tempDir() : undefined;
      await runDefinition(everything(sink), { parallelism, stateBackend, ...(stateDir ? { stateDir } : {}), batchSize: 64 });
      results.push(multiset(sink.all()));
      if (stateDir) expect(existsSync(stateDir)).toBe(false); // working state is removed at the end
    }
    expect(results[0]!.length).toBeGreaterThan(3 * 2_000);
    for (const r of results.slice(1)) expect(r).toEqual(results[0]);
  });

  it("delivers every keyed record to the subtask that owns its key group", async () => {
    const sink = collectSink<{ key: string; subtask: number }>();
    const def = job("routing", (env) =>
      env
        .source(generator({ splits: 5, recordsPerSplit: 500, generate: ({ split, index }) => `k${(split * 31 + index) % 97}` }))
        .keyBy((k) => k)
        .process({
          processElement(key, ctx, out: Collector<{ key: string; subtask: number }>) {
            out.collect({ key, subtask: ctx.subtask });
          },
        })
        .sink(sink),
    );
    await runDefinition(def, { parallelism: 3 });
    const got = sink.all();
    expect(got.length).toBe(2_500);
    const subtasksUsed = new Set(got.map((r) => r.subtask));
    expect(subtasksUsed.size).toBe(3);
    for (const r of got) expect(r.subtask).toBe(subtaskForKeyGroup(keyGroupFor(r.key, 128), 3, 128));
  });

  it("keeps results when write-behind evicts the cache mid-run (RocksDB, tiny cache)", async () => {
    const straight = collectSink<unknown>();
    const evicting = collectSink<unknown>();
    await runDefinition(everything(straight), { parallelism: 2 });
    await runDefinition(everything(evicting), { parallelism: 2, stateBackend: "rocksdb", stateDir: await tempDir(), maxCachedCells: 10 });
    expect(multiset(evicting.all())).toEqual(multiset(straight.all()));
  });

  it("commits sinks at the end of a bounded job: committed equals everything written", async () => {
    const sink = collectSink<number>();
    await runDefinition(job("bounded", (env) => env.source(generator({ splits: 2, recordsPerSplit: 1000, generate: ({ index }) => index })).sink(sink)), {
      parallelism: 2,
    });
    expect(sink.all().length).toBe(2000);
    expect(sink.committed).toEqual(sink.written);
  });

  it("fails with an error naming the operator and the record when a user function throws", async () => {
    const stateDir = await tempDir();
    const def = job("throws", (env) =>
      env
        .source(generator({ splits: 1, recordsPerSplit: 100, generate: ({ index }) => ({ id: index }) }))
        .keyBy((r) => r.id % 4)
        .reduce((_a, b) => b, { name: "latest" })
        .map(
          (r) => {
            if (r.id === 42) throw new Error("bad record");
            return r;
          },
          { name: "picky" },
        )
        .sink(collectSink()),
    );
    const failure = runDefinition(def, { stateBackend: "rocksdb", stateDir });
    await expect(failure).rejects.toMatchObject({
      code: "USER_FUNCTION_FAILED",
      domain: "user",
      operator: "picky",
      message: expect.stringMatching(/operator 'picky' threw on record \{"id":42\}.*bad record/),
    });
    expect(existsSync(stateDir)).toBe(false);
  });
});

describe("backpressure", () => {
  it("a blocked sink stops the source: records read stay bounded by the channels' capacity", async () => {
    let generated = 0;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let writes = 0;
    const def = job("blocked", (env) =>
      env
        .source(
          generator({
            splits: 1,
            recordsPerSplit: 100_000,
            generate: ({ index }) => {
              generated++;
              return index;
            },
          }),
        )
        .rebalance()
        .map((x) => x)
        .sink({
          name: "stuck",
          createWriter: () => ({
            write: () => (writes++ === 0 ? released : undefined),
            preCommit: async () => [],
            commit: async () => undefined,
            close: async () => undefined,
          }),
        }),
    );
    const running = runDefinition(def, { batchSize: 100, channelCapacity: 4 });
    await new Promise((r) => setTimeout(r, 200));
    const first = generated;
    await new Promise((r) => setTimeout(r, 200));
    // One batch in the sink, four queued in the channel, one waiting to be pushed.
    expect(first).toBeLessThanOrEqual(6 * 100);
    expect(generated).toBe(first);
    release();
    const result = await running;
    expect(generated).toBe(100_000);
    expect(result.metrics.sinkRecords).toBe(100_000);
    expect(result.metrics.sourceBlockedMs).toBeGreaterThan(0);
  });

  it("a slow sink keeps the gap between read and written records bounded", async () => {
    let generated = 0;
    let sunk = 0;
    let maxGap = 0;
    const def = job("slow", (env) =>
      env
        .source(generator({ splits: 2, recordsPerSplit: 3_000, generate: ({ index }) => (generated++, index) }))
        .keyBy((x) => x % 10)
        .reduce((a, b) => a + b)
        .sink({
          name: "slow",
          createWriter: () => ({
            write: async (records) => {
              maxGap = Math.max(maxGap, generated - sunk);
              await new Promise((r) => setTimeout(r, 2));
              sunk += records.length;
            },
            preCommit: async () => [],
            commit: async () => undefined,
            close: async () => undefined,
          }),
        }),
    );
    await runDefinition(def, { parallelism: 2, batchSize: 50, channelCapacity: 2 });
    expect(sunk).toBe(6_000);
    // 2 sources x (2 channels x 2 batches + 1 pending push) + batches inside the two reducers and sinks.
    expect(maxGap).toBeLessThanOrEqual(2 * (2 * 2 + 1) * 50 + 4 * 50);
  });
});
