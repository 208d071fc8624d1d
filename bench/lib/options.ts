/**
 * The command line of bench/nexmark.ts, parsed into the plan of a bench run (pure: tested).
 * Defaults: full = 10 s warm-up, 30 s steady, 3 repetitions; latency runs (one per column, query
 * and rate) 5 s + 15 s at 25/50/75 % on `weir` and `flink-hashmap` (the as-shipped pair: one
 * column per system keeps the full run under two hours); --quick = 3 s + 6 s, 1 repetition,
 * latency at 50 % (2 s + 6 s), shorter ceilings: under 15 minutes.
 */
import { parseArgs } from "node:util";
import { baselineColumn, COLUMNS, type Column, type ColumnName } from "./columns.ts";
import { DEFAULT_MARGIN_MS, DEFAULT_MIN_COVERAGE } from "./output-check.ts";

export const ALL_QUERIES = ["q0", "q1", "q2", "q3", "q5", "q7", "q8", "qhc"] as const;

export interface BenchOptions {
  readonly quick: boolean;
  readonly queries: readonly string[];
  readonly columns: readonly Column[];
  readonly baseline: string | undefined;
  readonly parallelism: number;
  readonly seed: number;
  readonly warmupMs: number;
  readonly steadyMs: number;
  readonly reps: number;
  readonly checkpointIntervalMs: number;
  readonly minCheckpoints: number;
  readonly latencyFractions: readonly number[];
  readonly latencyColumns: readonly ColumnName[];
  /** Warm-up and steady window of a latency run (a fixed rate needs no long window to settle). */
  readonly latencyWarmupMs: number;
  readonly latencySteadyMs: number;
  readonly latencyMinCheckpoints: number;
  /** How far in the future startAt is set, per system. */
  readonly startupGraceMs: { readonly weir: number; readonly flink: number };
  readonly marginMs: number;
  readonly minCoverage: number;
  readonly keepGoing: boolean;
  readonly ceilings: boolean;
  readonly out: string | undefined;
  readonly readme: boolean;
  readonly readmeOnly: boolean;
  /** Testing the output check: a column that runs with another seed (e.g. weir-nocache=1). */
  readonly mismatchSeed: { readonly column: string; readonly seed: number } | undefined;
}

export const usage = `npm run bench:nexmark -- [options]
  --quick                  3 s warm-up, 6 s steady, 1 repetition, latency at 50 % only (< 15 minutes)
  --queries q0,q5          queries (default ${ALL_QUERIES.join(",")})
  --systems weir,flink     systems whose columns run (default both)
  --columns weir,flink-sql columns, instead of --systems (${COLUMNS.map((c) => c.name).join(", ")})
  --baseline DIR           also another Weir checkout, as the column weir-baseline
  --warmup MS --steady MS --reps N --parallelism N --seed N
  --latency 0.25,0.5,0.75  latency runs at these fractions of each column's median throughput (none: no latency runs)
  --latency-columns a,b    columns with latency runs (default weir,flink-hashmap)
  --latency-warmup MS --latency-steady MS   a latency run's windows (default 5000 + 15000; --quick: 2000 + 6000)
  --min-checkpoints N      checkpoints required inside each steady window (default min(10, steady / 2 s - 1))
  --startup-grace MS       how far ahead of its start each run is launched (default weir 4000, flink 8000; a run fails if its first event comes more than 2 s after its start)
  --check-margin MS        output check: buckets up to this much before the horizon (default ${DEFAULT_MARGIN_MS})
  --keep-going             record runs that break a rule and go on (exit code 1 at the end)
  --no-ceilings            skip the ceilings
  --out DIR                where latest.json and ratios.svg go (default bench/results; the README is only rewritten for the default)
  --no-readme              do not rewrite README.md's Performance section
  --readme-only            rewrite the README section from an existing latest.json, measure nothing
  --mismatch-seed COL=N    run one column with another seed (to see the output check fail)`;

const list = (s: string) => s.split(",").map((x) => x.trim()).filter((x) => x !== "");

const positive = (name: string, raw: string | undefined, fallback: number, min = 1): number => {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new Error(`${name} must be a number >= ${min}, got '${raw}'`);
  return n;
};

export const parseOptions = (argv: readonly string[]): BenchOptions => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: "boolean", default: false },
      queries: { type: "string" },
      systems: { type: "string" },
      columns: { type: "string" },
      baseline: { type: "string" },
      warmup: { type: "string" },
      steady: { type: "string" },
      reps: { type: "string" },
      parallelism: { type: "string" },
      seed: { type: "string" },
      latency: { type: "string" },
      "latency-columns": { type: "string" },
      "latency-warmup": { type: "string" },
      "latency-steady": { type: "string" },
      "min-checkpoints": { type: "string" },
      "startup-grace": { type: "string" },
      "check-margin": { type: "string" },
      "keep-going": { type: "boolean", default: false },
      "no-ceilings": { type: "boolean", default: false },
      out: { type: "string" },
      "no-readme": { type: "boolean", default: false },
      "readme-only": { type: "boolean", default: false },
      "mismatch-seed": { type: "string" },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const queries = values.queries === undefined ? [...ALL_QUERIES] : list(values.queries);
  for (const q of queries) if (!(ALL_QUERIES as readonly string[]).includes(q)) throw new Error(`unknown query '${q}' (queries: ${ALL_QUERIES.join(", ")})`);
  if (values.systems !== undefined && values.columns !== undefined) throw new Error("give --systems or --columns, not both");
  let columns: Column[];
  if (values.columns !== undefined) {
    columns = list(values.columns).map((name) => {
      const c = COLUMNS.find((x) => x.name === name);
      if (c === undefined) throw new Error(`unknown column '${name}' (columns: ${COLUMNS.map((x) => x.name).join(", ")})`);
      return c;
    });
  } else {
    const systems = list(values.systems ?? "weir,flink");
    for (const s of systems) if (s !== "weir" && s !== "flink") throw new Error(`unknown system '${s}' (weir, flink)`);
    columns = COLUMNS.filter((c) => systems.includes(c.system));
  }
  if (values.baseline !== undefined) columns.push(baselineColumn(values.baseline));
  if (columns.length === 0) throw new Error("no column to run");
  const warmupMs = positive("--warmup", values.warmup, quick ? 3000 : 10_000, 0);
  const steadyMs = positive("--steady", values.steady, quick ? 6000 : 30_000);
  const checkpointIntervalMs = 2000;
  const latencyFractions =
    values.latency === undefined ? (quick ? [0.5] : [0.25, 0.5, 0.75]) : values.latency === "none" ? [] : list(values.latency).map((f) => positive("--latency", f, 0, 0.01));
  for (const f of latencyFractions) if (f > 1) throw new Error(`--latency fractions must be at most 1, got ${f}`);
  const latencyWarmupMs = positive("--latency-warmup", values["latency-warmup"], quick ? 2000 : 5000, 0);
  const latencySteadyMs = positive("--latency-steady", values["latency-steady"], quick ? 6000 : 15_000);
  const latencyColumns = (values["latency-columns"] === undefined ? ["weir", "flink-hashmap"] : list(values["latency-columns"])) as ColumnName[];
  for (const c of latencyColumns) if (!COLUMNS.some((x) => x.name === c) && c !== "weir-baseline") throw new Error(`--latency-columns: unknown column '${c}'`);
  const minCheckpointsFor = (ms: number) => Math.max(1, Math.min(10, Math.floor(ms / checkpointIntervalMs) - 1));
  const grace = values["startup-grace"] === undefined ? undefined : positive("--startup-grace", values["startup-grace"], 0, 0);
  let mismatchSeed: BenchOptions["mismatchSeed"];
  if (values["mismatch-seed"] !== undefined) {
    const [column, seed] = values["mismatch-seed"].split("=");
    if (column === undefined || !columns.some((c) => c.name === column) || seed === undefined || !Number.isSafeInteger(Number(seed))) {
      throw new Error(`--mismatch-seed takes <column>=<seed> for a column that runs, got '${values["mismatch-seed"]}'`);
    }
    mismatchSeed = { column, seed: Number(seed) };
  }
  return {
    quick,
    queries,
    columns,
    baseline: values.baseline,
    parallelism: positive("--parallelism", values.parallelism, 2),
    seed: positive("--seed", values.seed, 0, -Number.MAX_SAFE_INTEGER),
    warmupMs,
    steadyMs,
    reps: positive("--reps", values.reps, quick ? 1 : 3),
    checkpointIntervalMs,
    minCheckpoints: positive("--min-checkpoints", values["min-checkpoints"], minCheckpointsFor(steadyMs), 0),
    latencyFractions,
    latencyColumns,
    latencyWarmupMs,
    latencySteadyMs,
    latencyMinCheckpoints: minCheckpointsFor(latencySteadyMs),
    startupGraceMs: { weir: grace ?? 4000, flink: grace ?? 8000 },
    marginMs: positive("--check-margin", values["check-margin"], DEFAULT_MARGIN_MS, 0),
    minCoverage: DEFAULT_MIN_COVERAGE,
    keepGoing: values["keep-going"] === true,
    ceilings: values["no-ceilings"] !== true,
    out: values.out,
    readme: values["no-readme"] !== true,
    readmeOnly: values["readme-only"] === true,
    mismatchSeed,
  };
};
