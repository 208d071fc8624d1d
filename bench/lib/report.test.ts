import { describe, expect, it } from "vitest";
import { COLUMNS } from "./columns.ts";
import { cellsOf, ratioOf, renderMarkdown, type Report } from "./report.ts";
import type { RunResult } from "./run.ts";

const result = (column: string, query: string, eventsPerSec: number, extra: Partial<RunResult> = {}): RunResult => ({
  label: `${column} ${query}`,
  column,
  system: column.startsWith("flink") ? "flink" : "weir",
  query,
  kind: "throughput",
  rep: 1,
  askedRate: null,
  startAt: 0,
  steadyStart: 10_000,
  steadyEnd: 40_000,
  firstEventDelayMs: 10,
  wallMs: 45_000,
  eventsInWindow: eventsPerSec * 30,
  eventsPerSec,
  cpuSeconds: 30,
  cpuSecondsPerMillionEvents: 2.5,
  rssMaxMiB: 300,
  rssMeanMiB: 250,
  checkpointsInWindow: 14,
  checkpointsTotal: 20,
  latencyUs: { count: 0, p50: 0, p99: 0, max: 0, histogram: [] },
  outputRows: 1,
  splitsEnd: { "0": 1 },
  buckets: {},
  statsFiles: 1,
  ...extra,
});

const report = (runs: RunResult[], columns = COLUMNS): Report => ({
  machine: { cpus: 2, cpuModel: "test", memoryGiB: 8, node: "v20" },
  date: "2026-01-02T03:04:05.000Z",
  mode: "full",
  command: "npm run bench:nexmark",
  durationSeconds: 100,
  config: {
    queries: ["q0", "qhc"],
    columns,
    parallelism: 2,
    seed: 0,
    eventRate: 10_000,
    warmupMs: 10_000,
    steadyMs: 30_000,
    reps: 3,
    checkpointIntervalMs: 2000,
    minCheckpoints: 10,
    latencyFractions: [0.5],
    latencyColumns: ["weir"],
    startupGraceMs: { weir: 4000, flink: 10_000 },
    outputCheck: { marginMs: 2000, minCoverage: 0.5 },
    baseline: null,
  },
  ceilings: null,
  generatorCheck: null,
  outputChecks: [
    { query: "q0", runs: 4, pairs: 6, minBuckets: 3, minCoveredEvents: 300_000, unchecked: [] },
    { query: "qhc", runs: 2, pairs: 1, minBuckets: 4, minCoveredEvents: 400_000, unchecked: ["weir-nocache qhc latency 50 %"] },
  ],
  failures: [],
  runs,
});

describe("report", () => {
  const runs = [
    result("weir", "q0", 100_000),
    result("weir", "q0", 120_000, { rep: 2 }),
    result("weir", "q0", 90_000, { rep: 3 }),
    result("flink-hashmap", "q0", 200_000),
    result("weir-nocache", "qhc", 30_000),
    result("flink-rocksdb", "qhc", 20_000),
    result("weir", "q0", 50_000, { kind: "latency", askedRate: 50_000, latencyUs: { count: 10, p50: 1500, p99: 25_000, max: 31_000, histogram: [[1500, 5], [25_000, 5]] } }),
  ];

  it("cells are medians with min–max of the throughput runs; ratios like for like", () => {
    const cells = cellsOf(runs);
    expect(cells.find((c) => c.column === "weir" && c.query === "q0")?.eventsPerSec).toEqual({ median: 100_000, min: 90_000, max: 120_000, n: 3 });
    expect(ratioOf(cells, "q0", "weir", "flink-hashmap")).toBe(0.5);
    expect(ratioOf(cells, "qhc", "weir-nocache", "flink-rocksdb")).toBe(1.5);
    expect(ratioOf(cells, "q0", "weir-nocache", "flink-rocksdb")).toBeNull();
  });

  it("renders the tables, the configuration, the checks and the ⊕ deviations", () => {
    const md = renderMarkdown(report(runs));
    expect(md).toContain("| q0 | 100,000 (90,000–120,000) | – | 200,000 | – | – | 0.50 | – |");
    expect(md).toContain("| qhc | – | 30,000 | – | 20,000 | – | – | 1.50 |");
    expect(md).toContain("| q0 | `weir` | 50,000 | 50,000 | 1.5 | 25 | 31 | 10 |");
    expect(md).toContain("- qhc: 2 runs, 1 pairs equal, each pair over at least 4 buckets (400,000 events)");
    expect(md).toContain("  - **unchecked** (no bucket complete: too short in event time): weir-nocache qhc latency 50 %");
    expect(md).toMatch(/q5 `\{auction, num, ⊕end\}`/);
    expect(md).toMatch(/Checkpoints every 2000 ms/);
    expect(md).toContain("JVM -Xmx1024m; managed memory 256 MiB");
    expect(md).not.toMatch(/measured Weir's columns only/);
  });

  it("says so when Flink did not run", () => {
    expect(renderMarkdown(report(runs, COLUMNS.filter((c) => c.system === "weir")))).toMatch(/measured Weir's columns only/);
  });

  it("marks a cell whose runs completed fewer checkpoints in the window than required, and says which", () => {
    const md = renderMarkdown(report([result("weir", "q0", 100_000), result("flink-sql", "q0", 50_000, { checkpointsInWindow: 4, checkpointShortfall: true })]));
    expect(md).toContain("| 50,000 ᶜ |");
    expect(md).toContain("| 100,000 |");
    expect(md).toMatch(/ᶜ Fewer than 10 checkpoints completed inside the steady window in at least one run: q0 `flink-sql` \(4–4\)/);
    expect(renderMarkdown(report([result("weir", "q0", 100_000)]))).not.toContain("ᶜ Fewer");
  });

  it("marks a latency run that fell short of its asked rate", () => {
    const latency = (column: string, asked: number, achieved: number, shortfall: boolean) =>
      result(column, "q0", achieved, { kind: "latency", askedRate: asked, rateShortfall: shortfall, latencyUs: { count: 10, p50: 1000, p99: 2000, max: 3000, histogram: [] } });
    const md = renderMarkdown(report([result("weir", "q0", 100_000), latency("weir", 50_000, 50_000, false), latency("flink-hashmap", 2_000_000, 1_800_000, true)]));
    expect(md).toContain("| 1,800,000 ʳ |");
    expect(md).toContain("| 50,000 | 1.0 |");
    expect(md).toMatch(/ʳ The run fell more than 5 % short of the asked rate/);
  });
});
