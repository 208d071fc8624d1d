import { describe, expect, it } from "vitest";
import { nexmarkConfig } from "../generator.ts";
import { createRunStats, type RunStatsOptions } from "./run-stats.ts";
import { statsSink } from "./stats-sink.ts";
import { canonical } from "./canonical.ts";
import { fnv1a64Hex } from "./fnv1a64.ts";
import { bucketUpper } from "./latency-histogram.ts";

const config = nexmarkConfig({});
const BASE = config.baseTime;
const START = 1_800_000_000_000;

/** A run on a manual clock, with the timer and the file write captured. */
const harness = (overrides: Partial<RunStatsOptions> = {}) => {
  const clock = { t: START - 1000 };
  const ticks: (() => void)[] = [];
  const files: { path: string; text: string }[] = [];
  let stopped = 0;
  const stats = createRunStats({
    prefix: "/tmp/x/q0",
    query: "q0",
    startAt: START,
    steadyStart: START + 1000,
    steadyEnd: START + 3000,
    rate: 1000,
    config,
    now: () => clock.t,
    every: (_ms, tick) => {
      ticks.push(tick);
      return () => stopped++;
    },
    write: (path, text) => files.push({ path, text }),
    ...overrides,
  });
  return { stats, clock, ticks, files, stopped: () => stopped };
};

const timing = { rowTime: (r: { t: number }) => r.t, latencyTime: (r: { t: number }) => r.t };

describe("run statistics", () => {
  it("samples emitted events from [startAt, 0], tracks split ends and the first event's time", () => {
    const { stats, clock, ticks } = harness();
    stats.observer.opened(0, 0);
    stats.observer.opened(1, 1);
    expect(ticks).toHaveLength(1); // one timer for the process
    ticks[0]!(); // before startAt: not after the first sample, dropped
    clock.t = START + 100;
    stats.observer.emitted(0, 20, 10);
    clock.t = START + 150;
    ticks[0]!();
    stats.observer.emitted(1, 41, 20);
    const s = stats.snapshot();
    expect(s.samples).toEqual([
      [START, 0],
      [START + 150, 10],
    ]);
    expect(s.firstEventAtMs).toBe(START + 100);
    expect(s.splitsEnd).toEqual({ "0": 20, "1": 41 });
  });

  it("digests every row into its bucket, and records latency only for rows arriving in the steady window", () => {
    const { stats, clock } = harness();
    const row = (t: number) => ({ t });
    clock.t = START + 500; // before the steady window
    stats.rows([row(BASE + 5)], timing);
    clock.t = START + 2000; // inside: row time BASE + 1 ms is count 10, due at START + 10 ms
    stats.rows([row(BASE + 1), row(BASE + 10_001)], timing);
    clock.t = START + 3000.5; // after
    stats.rows([row(BASE + 2)], timing);
    const s = stats.snapshot();
    expect(s.outputRows).toBe(4);
    expect(Object.keys(s.buckets)).toEqual(["0", "1"]);
    expect(s.buckets["0"]!.count).toBe(3);
    expect(s.buckets["1"]).toEqual({ count: 1, digest: fnv1a64Hex(`t=${BASE + 10_001}`) });
    // count 10 due at START + 10 → 1990 ms; count 100,010 due at START + 100,010 ms → negative, counted as 0.
    expect(s.latencyUs.count).toBe(2);
    expect(s.latencyUs.max).toBe(1_990_000);
    expect(s.latencyUs.histogram).toEqual([
      [0, 1],
      [bucketUpper(1_990_000), 1],
    ]);
  });

  it("a batch's rows go to their buckets with the digests of canonical(row), whatever their shape", () => {
    const { stats, clock } = harness();
    clock.t = START + 500;
    const rows = [
      { t: BASE + 1, extra: "é😀\uD800" },
      { t: BASE + 2, nested: { a: [1, "x"] } },
      { t: BASE + 10_000, price: 0.5 },
      { t: BASE + 3, extra: undefined },
    ];
    stats.rows(rows, timing);
    const sum = (xs: string[]) => xs.map((x) => BigInt(`0x${x}`)).reduce((a, b) => (a + b) & 0xffffffffffffffffn, 0n).toString(16).padStart(16, "0");
    const d = (r: object) => fnv1a64Hex(canonical(r));
    expect(stats.snapshot().buckets).toEqual({
      "0": { count: 3, digest: sum([d(rows[0]!), d(rows[1]!), d(rows[3]!)]) },
      "1": { count: 1, digest: d(rows[2]!) },
    });
    const bad = { t: BASE, s: Symbol("x") };
    expect(() => stats.rows([rows[0]!, bad], timing)).toThrow(TypeError);
    expect(stats.snapshot().outputRows).toBe(4); // nothing of a batch that cannot be digested
  });

  it("without a rate, no latency is recorded", () => {
    const { stats, clock } = harness({ rate: undefined });
    clock.t = START + 2000;
    stats.rows([{ t: BASE }], timing);
    expect(stats.snapshot().latencyUs.count).toBe(0);
  });

  it("the sink: markers per checkpoint, each id once with its first completion time; the last writer to close writes the file", async () => {
    const { stats, clock, files, stopped } = harness();
    stats.observer.opened(0, 0);
    const sink = statsSink(stats, timing);
    const context = { jobName: "j", operatorName: "out", subtask: 0, parallelism: 2, runId: "r", checkpointIntervalMs: 2000 };
    const [w0, w1] = [await sink.createWriter(context), await sink.createWriter({ ...context, subtask: 1 })];
    await w0.write([{ t: BASE }]);
    expect(await w0.preCommit(3)).toEqual([{ checkpoint: 3 }]);
    clock.t = START + 4000;
    await w0.commit([{ checkpoint: 3 }]);
    clock.t = START + 4001;
    await w1.commit([{ checkpoint: 2 }, { checkpoint: 3 }]);
    await w0.close();
    await w0.close(); // twice: still one writer fewer
    expect(files).toEqual([]);
    clock.t = START + 5000;
    await w1.close();
    expect(files).toHaveLength(1);
    expect(files[0]!.path).toMatch(/^\/tmp\/x\/q0\.weir-\d+-\d+\.json$/);
    const written = JSON.parse(files[0]!.text);
    expect(written).toEqual({ ...stats.snapshot(), samples: written.samples });
    expect(written.system).toBe("weir");
    expect(written.query).toBe("q0");
    expect(written.checkpoints).toEqual([
      { id: 2, completedAtMs: START + 4001 },
      { id: 3, completedAtMs: START + 4000 },
    ]);
    expect(written.samples[written.samples.length - 1]).toEqual([START + 5000, 0]);
    expect(stopped()).toBe(1);
  });
});
