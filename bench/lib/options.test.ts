import { describe, expect, it } from "vitest";
import { parseOptions } from "./options.ts";

const names = (o: ReturnType<typeof parseOptions>) => o.columns.map((c) => c.name);

describe("bench options", () => {
  it("full defaults follow the contract", () => {
    const o = parseOptions([]);
    expect(o.queries).toEqual(["q0", "q1", "q2", "q3", "q5", "q7", "q8", "qhc"]);
    expect(names(o)).toEqual(["weir", "weir-nocache", "flink-hashmap", "flink-rocksdb", "flink-sql"]);
    expect([o.warmupMs, o.steadyMs, o.reps, o.checkpointIntervalMs, o.minCheckpoints]).toEqual([10_000, 30_000, 3, 2000, 10]);
    expect(o.latencyFractions).toEqual([0.25, 0.5, 0.75]);
    expect(o.latencyColumns).toEqual(["weir", "flink-hashmap"]);
    expect([o.latencyWarmupMs, o.latencySteadyMs, o.latencyMinCheckpoints]).toEqual([5000, 15_000, 6]);
    expect(o.marginMs).toBe(2_000); // not the contract's 20 s: see output-check.ts
  });

  it("--quick: 3 s + 6 s, one repetition, latency at 50 % on weir and flink-hashmap, fewer checkpoints required", () => {
    const o = parseOptions(["--quick", "--systems", "weir"]);
    expect([o.warmupMs, o.steadyMs, o.reps, o.minCheckpoints]).toEqual([3000, 6000, 1, 2]);
    expect(o.latencyFractions).toEqual([0.5]);
    expect([o.latencyWarmupMs, o.latencySteadyMs, o.latencyMinCheckpoints]).toEqual([2000, 6000, 2]);
    expect(names(o)).toEqual(["weir", "weir-nocache"]);
  });

  it("columns, baseline, overrides", () => {
    const o = parseOptions(["--columns", "weir,flink-sql", "--baseline", "../old", "--queries", "q5", "--steady", "12000", "--warmup", "0", "--reps", "2", "--latency", "none", "--min-checkpoints", "4"]);
    expect(names(o)).toEqual(["weir", "flink-sql", "weir-baseline"]);
    expect([o.steadyMs, o.warmupMs, o.reps, o.minCheckpoints]).toEqual([12_000, 0, 2, 4]);
    expect(o.latencyFractions).toEqual([]);
    expect(parseOptions(["--mismatch-seed", "weir-nocache=1", "--systems", "weir"]).mismatchSeed).toEqual({ column: "weir-nocache", seed: 1 });
  });

  it("rejects unknown queries, columns, systems and bad numbers", () => {
    expect(() => parseOptions(["--queries", "q4"])).toThrow(/unknown query 'q4'/);
    expect(() => parseOptions(["--columns", "spark"])).toThrow(/unknown column 'spark'/);
    expect(() => parseOptions(["--systems", "spark"])).toThrow(/unknown system/);
    expect(() => parseOptions(["--systems", "weir", "--columns", "weir"])).toThrow(/not both/);
    expect(() => parseOptions(["--steady", "0"])).toThrow(/--steady/);
    expect(() => parseOptions(["--latency", "1.5"])).toThrow(/at most 1/);
    expect(() => parseOptions(["--mismatch-seed", "flink-sql=1", "--systems", "weir"])).toThrow(/--mismatch-seed/);
    expect(() => parseOptions(["--latency-columns", "weir,spark"])).toThrow(/--latency-columns: unknown column 'spark'/);
    expect(parseOptions(["--latency-columns", "weir-nocache,flink-rocksdb", "--latency-steady", "9000"]).latencyColumns).toEqual(["weir-nocache", "flink-rocksdb"]);
    expect(() => parseOptions(["--bogus"])).toThrow();
  });
});
