/**
 * Core benchmark: records/s of generator -> keyed reduce -> discarding sink, at parallelism 1
 * and 2 with RocksDB state (and 1 with heap state), next to the raw RocksDB binding measured in
 * the same run, so the engine's overhead reads as a ratio.
 *
 * Large state: the same job over as many keys as records, drawn at random (few cache hits: the
 * keyed-state cache holds 200k cells per subtask, so most records miss, read their key from
 * RocksDB and evict another), read against the raw binding's batched-get ceiling, since each
 * record costs about one backend get there.
 *
 *   npm run bench                 # 2M records per run over 100k keys; large state: 2M over 2M; 3 runs each, medians
 *   npm run bench -- --records 500000 --runs 5 --large-records 1000000
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { discard, generator, job } from "../index.ts";
import { buildJob } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob, type StateBackendKind } from "../engine/runtime.ts";
import { measureRocksRaw } from "./rocksdb-raw.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "2000000" },
    keys: { type: "string", default: "100000" },
    runs: { type: "string", default: "3" },
    "large-records": { type: "string", default: "2000000" },
  },
});
const largeRecords = Number(values["large-records"]);
const records = Number(values.records);
const keys = Number(values.keys);
const runs = Number(values.runs);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const reduceJob = job("bench-keyed-reduce", (env) =>
  env
    .source(
      generator({
        splits: 4,
        recordsPerSplit: Math.ceil(records / 4),
        generate: ({ index, split }) => ({ key: (index * 4 + split) % keys, value: 1 }),
      }),
    )
    .keyBy((r) => r.key)
    .reduce((a, b) => ({ key: a.key, value: a.value + b.value }))
    .sink(discard()),
);

/** `largeRecords` records over as many keys, each drawn at random: few cache hits. */
const largeStateJob = job("bench-large-state", (env) =>
  env
    .source(
      generator({
        splits: 4,
        seed: 42,
        recordsPerSplit: Math.ceil(largeRecords / 4),
        generate: ({ random }) => ({ key: random.int(largeRecords), value: 1 }),
      }),
    )
    .keyBy((r) => r.key)
    .reduce((a, b) => ({ key: a.key, value: a.value + b.value }))
    .sink(discard()),
);

const measureEngine = async (parallelism: number, stateBackend: StateBackendKind, which = reduceJob): Promise<number> => {
  const stateDir = await mkdtemp(join(tmpdir(), "weir-bench-"));
  try {
    const plan = planJob(buildJob(which, { params: paramsFrom({}), parallelism }));
    const started = performance.now();
    const result = await runJob({ plan, stateBackend, stateDir });
    const secs = (performance.now() - started) / 1000;
    return result.metrics.sinkRecords / secs;
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
};

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(12);

const main = async () => {
  console.log(`Weir core benchmark: ${records.toLocaleString("en-US")} records over ${keys.toLocaleString("en-US")} keys, ${runs} runs each, medians`);
  const engine: [string, number][] = [];
  for (const [label, p, backend] of [
    ["keyed reduce, p=1, rocksdb", 1, "rocksdb"],
    ["keyed reduce, p=2, rocksdb", 2, "rocksdb"],
    ["keyed reduce, p=1, heap", 1, "heap"],
  ] as const) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) samples.push(await measureEngine(p, backend));
    engine.push([label, median(samples)]);
    console.log(`  ${label.padEnd(34)} ${fmt(median(samples))} rec/s   (runs: ${samples.map((s) => Math.round(s)).join(", ")})`);
  }
  const largeLabel = `large state, p=1, rocksdb`;
  const large: number[] = [];
  for (let i = 0; i < runs; i++) large.push(await measureEngine(1, "rocksdb", largeStateJob));
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

await main();
