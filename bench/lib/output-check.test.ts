import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nexmarkConfig } from "../../connectors/nexmark/index.ts";
import { checkQueryOutputs, compareRuns, comparableHorizon, emittedEvents, lastComparableBucket, OutputMismatch, type CheckedRun } from "./output-check.ts";

const config = nexmarkConfig({}); // 10,000 events per s of event time: 100,000 per 10 s bucket
const options = { config, marginMs: 20_000 }; // the contract's margin: the arithmetic below uses it
const digest = (n: number) => n.toString(16).padStart(16, "0");
/** Buckets 0..n-1, bucket b with b + 1 rows and digest f(b). */
const buckets = (n: number, f: (b: number) => number = (b) => b * 7 + 1) =>
  Object.fromEntries(Array.from({ length: n }, (_, b) => [String(b), { count: b + 1, digest: digest(f(b)) }]));
const run = (label: string, splitsEnd: Record<string, number>, n: number, f?: (b: number) => number): CheckedRun => ({ label, splitsEnd, buckets: buckets(n, f) });

describe("output check", () => {
  it("horizon = ts(min splitsEnd); bucket b is comparable if base + 10 s (b + 1) <= H - 20 s", () => {
    const ends = { "0": 800_000, "1": 700_001 };
    expect(comparableHorizon(ends, options)).toBe(config.baseTime + 70_000);
    expect(lastComparableBucket(ends, options)).toBe(4); // 10 s·5 <= 70 s - 20 s
    expect(lastComparableBucket({ "0": 200_000, "1": 200_001 }, options)).toBe(-1);
    expect(lastComparableBucket(ends, { ...options, marginMs: 0 })).toBe(6);
    expect(emittedEvents({ "0": 10, "1": 11, "2": 5 })).toBe(4 + 4 + 1); // counts 0..9 step 3, 1..10, 2
  });

  it("equal runs pass; only buckets comparable in both are compared", () => {
    const a = run("weir rep 1", { "0": 1_500_000, "1": 1_500_001 }, 15); // comparable 0..12
    const b = run("flink-hashmap rep 1", { "0": 900_000, "1": 900_001 }, 9, (x) => (x >= 6 ? 99 : x * 7 + 1)); // comparable 0..6
    expect(compareRuns(a, b, options)).toEqual({ kind: "differ", bucket: 6, a: a.buckets["6"], b: b.buckets["6"] });
    const c = run("flink-hashmap rep 1", { "0": 900_000, "1": 900_001 }, 9, (x) => (x >= 7 ? 99 : x * 7 + 1)); // partial last buckets differ
    expect(compareRuns(a, c, options)).toEqual({ kind: "equal", buckets: 7, coveredEvents: 700_000 });
  });

  it("a missing bucket counts as empty: a run without rows in a comparable bucket differs from one with rows", () => {
    const a = run("a", { "0": 1_000_000 }, 8);
    const b: CheckedRun = { ...a, label: "b", buckets: { ...a.buckets } };
    delete (b.buckets as Record<string, unknown>)["3"];
    expect(compareRuns(a, b, options)).toMatchObject({ kind: "differ", bucket: 3, b: { count: 0 } });
  });

  it("too little in common fails: the common range must cover half of the shorter run's events", () => {
    const long = run("long", { "0": 3_000_000, "1": 3_000_001 }, 30);
    const short = run("short", { "0": 350_000, "1": 350_001 }, 3); // comparable: bucket 0 only, 100k of 350k events
    expect(compareRuns(long, short, options)).toEqual({ kind: "too-short", coveredEvents: 100_000, shorterEmitted: 350_000 });
    expect(() => checkQueryOutputs("q5", [long, short], options)).toThrow(/q5: 'long' and 'short' share comparable buckets covering only 100000 events/);
  });

  it("latency runs: compared where comparable, no coverage required; one with no comparable bucket is listed as unchecked", () => {
    const long = run("weir rep 1", { "0": 3_000_000, "1": 3_000_001 }, 30);
    const short = { ...run("weir at 5000 events/s", { "0": 350_000, "1": 350_001 }, 3), kind: "latency" as const };
    const tiny = { ...run("weir-nocache at 2000 events/s", { "0": 150_000 }, 2), kind: "latency" as const };
    expect(compareRuns(long, short, options)).toEqual({ kind: "equal", buckets: 1, coveredEvents: 100_000 });
    expect(checkQueryOutputs("q5", [long, short, tiny], options)).toEqual({ query: "q5", runs: 3, pairs: 3, minBuckets: 1, minCoveredEvents: 100_000, unchecked: ["weir-nocache at 2000 events/s"] });
    const wrong = { ...short, buckets: { ...short.buckets, "0": { count: 99, digest: digest(1) } } };
    expect(() => checkQueryOutputs("q5", [long, wrong], options)).toThrow(/differ in bucket 0/);
  });

  it("the default margin (2 s) compares up to the last bucket that ends 2 s before the horizon", () => {
    expect(lastComparableBucket({ "0": 700_000 }, { config })).toBe(5); // H = 70 s: buckets ending by 68 s
    expect(lastComparableBucket({ "0": 120_000 }, { config })).toBe(0);
    expect(lastComparableBucket({ "0": 119_999 }, { config })).toBe(-1);
  });

  it("checkQueryOutputs compares every pair and names the query, both runs and the bucket", () => {
    const runs = [run("weir rep 1", { "0": 1_000_000 }, 10), run("weir-nocache rep 1", { "0": 1_200_000 }, 12), run("flink-rocksdb rep 1", { "0": 1_100_000 }, 11, (b) => (b === 5 ? 0 : b * 7 + 1))];
    expect(() => checkQueryOutputs("q7", runs, options)).toThrow(OutputMismatch);
    expect(() => checkQueryOutputs("q7", runs, options)).toThrow(/q7: 'weir rep 1' and 'flink-rocksdb rep 1' differ in bucket 5 \(row times from 2015-07-15T00:00:50.000Z, 10 s\): 6 rows, digest 0000000000000024 vs 6 rows, digest 0000000000000000/);
    expect(checkQueryOutputs("q7", runs.slice(0, 2), options)).toEqual({ query: "q7", runs: 2, pairs: 1, minBuckets: 8, minCoveredEvents: 800_000, unchecked: [] });
  });

  it("any change to a comparable bucket of one run is found, at that bucket", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9 }), fc.boolean(), (bucket, countOnly) => {
        const a = run("a", { "0": 1_500_000, "1": 1_500_001 }, 13);
        const changed = { ...a.buckets[String(bucket)]! };
        const b: CheckedRun = {
          ...a,
          label: "b",
          buckets: { ...a.buckets, [String(bucket)]: countOnly ? { ...changed, count: changed.count + 1 } : { ...changed, digest: digest(12345) } },
        };
        expect(compareRuns(a, b, options)).toMatchObject({ kind: "differ", bucket });
      }),
    );
  });
});
