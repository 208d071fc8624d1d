/**
 * Core benchmark: records/s of generator -> keyed reduce -> discarding sink (bench/jobs/), at
 * parallelism 1, and 2 on two worker threads and on one loop, with RocksDB state (and 1 with heap
 * state); a stateless chained pipeline at parallelism 1 and 2; next to the raw RocksDB binding
 * measured in the same run, so the engine's overhead reads as a ratio. Scaling = p=2 ÷ p=1.
 *
 * Large state: the same job over as many keys as records, drawn at random (few cache hits: the
 * keyed-state cache holds 200k cells per subtask, so most records miss, read their key from
 * RocksDB and evict another), read against the raw binding's batched-get ceiling, since each
 * record costs about one backend get there.
 *
 *   npm run bench                 # 10M records per run over 100k keys; stateless: 40M; large state: 2M over 2M; 3 runs each, medians
 *
 * Run sizes: a keyed run of 10M records takes ~5 s, so each worker thread's JIT warm-up and the
 * first read of each key (~0.5 s together) do not make most of it, as they would at 2M.
 *   npm run bench -- --records 500000 --runs 5 --large-records 1000000
 *   npm run bench -- --only "keyed reduce, p=1|keyed reduce, p=2, rocksdb"   # cases whose label starts so
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createInterface } from "node:readline";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { loadJob } from "../engine/cli/load-job.ts";
import { buildJob } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob, type StateBackendKind } from "../engine/runtime.ts";
import { measureRocksRaw } from "./rocksdb-raw.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "10000000" },
    keys: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    "large-records": { type: "string", default: "2000000" },
    "stateless-records": { type: "string", default: "40000000" },
    only: { type: "string" },
    child: { type: "string" },
  },
});
const largeRecords = Number(values["large-records"]);
const statelessRecords = Number(values["stateless-records"]);
const records = Number(values.records);
const keys = Number(values.keys);
const runs = Number(values.runs);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

type Which = "keyed-reduce" | "stateless" | "large-state";

/** Records/s of one run of a bench job (bench/jobs/) at `parallelism` on `workers` threads (0: the main thread's loop). */
const measureEngine = async (which: Which, parallelism: number, workers: number, stateBackend: StateBackendKind = "rocksdb"): Promise<number> => {
  const stateDir = await mkdtemp(join(tmpdir(), "weir-bench-"));
  try {
    const file = fileURLToPath(new URL(`./jobs/${which === "stateless" ? "stateless" : "keyed-reduce"}.ts`, import.meta.url));
    const params: Record<string, string> =
      which === "large-state"
        ? { records: String(largeRecords), random: "1" }
        : which === "stateless"
          ? { records: String(statelessRecords) }
          : { records: String(records), keys: String(keys) };
    const plan = planJob(buildJob(await loadJob(file), { params: paramsFrom(params), parallelism }));
    // From the moment every subtask exists (worker threads booted): start-up is not throughput.
    let started = performance.now();
    const result = await runJob({
      plan,
      stateBackend,
      stateDir,
      onStart: () => void (started = performance.now()),
      ...(workers === 0 ? {} : { workers: { count: workers, job: { file, params, parallelism } } }),
    });
    const secs = (performance.now() - started) / 1000;
    return result.metrics.sinkRecords / secs;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
};

/**
 * The machine's own ceiling for running two copies of a pipeline at once: two processes, each
 * running the job at parallelism 1 on its own loop, started together (each waits for "go" once
 * loaded). Returns the sum of their records/s. On a machine whose cores share caches and memory
 * bandwidth, this is below 2× one process even though nothing is shared between the two.
 */
const measureTwoProcesses = async (which: Which): Promise<number> => {
  const children = [0, 1].map(() =>
    spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", which, "--records", String(records), "--keys", String(keys), "--stateless-records", String(statelessRecords)], {
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  const lines = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  const next = async (i: number) => {
    const line = await lines[i]!.next();
    if (line.done === true) throw new Error(`bench child ${i} ended without a result`);
    return line.value;
  };
  await Promise.all([0, 1].map(async (i) => expectLine(await next(i), "ready")));
  for (const c of children) c.stdin!.write("go\n");
  const rates = await Promise.all([0, 1].map(async (i) => Number(await next(i))));
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(undefined) : c.once("exit", resolve)))));
  return rates[0]! + rates[1]!;
};

const expectLine = (line: string, expected: string) => {
  if (line !== expected) throw new Error(`bench child said '${line}', expected '${expected}'`);
};

/** A child of measureTwoProcesses: says "ready", waits for "go", runs one measurement, prints its records/s. */
const child = async (which: Which) => {
  await loadJob(fileURLToPath(new URL(`./jobs/${which === "stateless" ? "stateless" : "keyed-reduce"}.ts`, import.meta.url)));
  process.stdout.write("ready\n");
  const input = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  expectLine((await input.next()).value as string, "go");
  process.stdout.write(`${await measureEngine(which, 1, 0)}\n`);
  process.exit(0);
};

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(12);

const main = async () => {
  console.log(`Weir core benchmark: ${records.toLocaleString("en-US")} records over ${keys.toLocaleString("en-US")} keys, ${runs} runs each, medians`);
  const engine: [string, number][] = [];
  const cases = [
    ["keyed reduce, p=1, rocksdb", "keyed-reduce", 1, 0, "rocksdb"],
    ["keyed reduce, p=2, rocksdb", "keyed-reduce", 2, 2, "rocksdb"],
    ["keyed reduce, p=2, --workers 0", "keyed-reduce", 2, 0, "rocksdb"],
    ["keyed reduce, p=1, heap", "keyed-reduce", 1, 0, "heap"],
    ["stateless, p=1", "stateless", 1, 0, "rocksdb"],
    ["stateless, p=2", "stateless", 2, 2, "rocksdb"],
    ["keyed reduce, 2 processes × p=1", "keyed-reduce", 1, -1, "rocksdb"],
    ["stateless, 2 processes × p=1", "stateless", 1, -1, "rocksdb"],
  ] as const;
  const chosen = values.only === undefined ? cases : cases.filter(([label]) => values.only!.split("|").some((o) => label.startsWith(o)));
  if (chosen.length === 0) {
    console.error(`--only '${values.only}' matches no case; labels (match by prefix, separate with |): ${cases.map(([l]) => l).join("; ")}`);
    process.exit(2);
  }
  // Runs alternate between the cases (round r of every case, then round r+1), so a noisy
  // stretch of the machine spreads over all of them instead of one.
  const samples = chosen.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, [, which, p, workers, backend]] of chosen.entries()) samples[k]!.push(workers === -1 ? await measureTwoProcesses(which) : await measureEngine(which, p, workers, backend));
  }
  for (const [k, [label]] of chosen.entries()) {
    engine.push([label, median(samples[k]!)]);
    console.log(`  ${label.padEnd(34)} ${fmt(median(samples[k]!))} rec/s   (runs: ${samples[k]!.map((s) => Math.round(s)).join(", ")})`);
  }
  // --only: the chosen cases' rates, nothing else (for working on one case).
  if (values.only !== undefined) return;
  const rate = (label: string) => engine.find(([l]) => l === label)![1];
  console.log("Scaling (p=2 on 2 worker threads ÷ p=1, medians of this run):");
  console.log(`  ${"keyed reduce".padEnd(34)} ${(rate("keyed reduce, p=2, rocksdb") / rate("keyed reduce, p=1, rocksdb")).toFixed(2)}x`);
  console.log(`  ${"stateless".padEnd(34)} ${(rate("stateless, p=2") / rate("stateless, p=1")).toFixed(2)}x`);
  console.log("The machine's ceiling (2 processes × p=1, each on its own loop, nothing shared ÷ p=1):");
  console.log(`  ${"keyed reduce".padEnd(34)} ${(rate("keyed reduce, 2 processes × p=1") / rate("keyed reduce, p=1, rocksdb")).toFixed(2)}x`);
  console.log(`  ${"stateless".padEnd(34)} ${(rate("stateless, 2 processes × p=1") / rate("stateless, p=1")).toFixed(2)}x`);
  const largeLabel = `large state, p=1, rocksdb`;
  const large: number[] = [];
  for (let i = 0; i < runs; i++) large.push(await measureEngine("large-state", 1, 0));
  console.log(
    `  ${largeLabel.padEnd(34)} ${fmt(median(large))} rec/s   (${largeRecords.toLocaleString("en-US")} records over as many random keys; runs: ${large.map((s) => Math.round(s)).join(", ")})`,
  );
  const raw = await measureRocksRaw({ repetitions: runs });
  console.log("Raw RocksDB binding (rocksdb-native), same machine, same run:");
  for (const [name, value] of Object.entries(raw)) console.log(`  ${name.padEnd(34)} ${fmt(value)} /s`);
  const puts = raw.putsPerSec!;
  console.log("Ratios (engine records/s ÷ raw batched puts/s):");
  for (const [label, value] of engine) console.log(`  ${label.padEnd(34)} ${(value / puts).toFixed(2)}`);
  const small = engine[0]![1];
  console.log("Large state:");
  console.log(`  ${"÷ raw batched gets/s".padEnd(34)} ${(median(large) / raw.batchedGetsPerSec!).toFixed(2)}`);
  console.log(`  ${`÷ ${engine[0]![0]}`.padEnd(34)} ${(median(large) / small).toFixed(2)}`);
};

if (values.child !== undefined && !["keyed-reduce", "stateless"].includes(values.child)) {
  console.error(`--child '${values.child}': expected keyed-reduce or stateless (bench/core.ts starts its own children)`);
  process.exit(2);
}
if (values.child !== undefined) await child(values.child as Which);
else await main();
