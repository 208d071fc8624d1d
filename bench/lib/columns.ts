/**
 * The columns of the Nexmark comparison (NEXMARK-SPEC §4) and the command line of one run of
 * each (§2 parameters for Weir, §5 for the Flink program), with equal memory budgets.
 */
import { join } from "node:path";

export type System = "weir" | "flink";
export type ColumnName = "weir" | "weir-nocache" | "flink-hashmap" | "flink-rocksdb" | "flink-sql" | "weir-baseline";

export interface Column {
  readonly name: ColumnName;
  readonly system: System;
  /** What runs, for the results and the README. */
  readonly description: string;
  /** The memory budget it runs with. */
  readonly memory: string;
  /** Queries the column runs (default: every query). */
  readonly queries?: readonly string[];
  /** Start-up time the column needs beyond its system's grace (SQL planning), in ms. */
  readonly extraStartupMs?: number;
}

export const WEIR_HEAP_MIB = 1024;
export const FLINK_HEAP_MIB = 1024;
export const FLINK_MANAGED_MIB = 256;
/** Cells per operator subtask of the cache-less column (`--state-cache-cells`). */
export const NOCACHE_CELLS = 16;

const weirMemory = `Node heap --max-old-space-size=${WEIR_HEAP_MIB} (NODE_OPTIONS); RocksDB outside the heap: per keyed operator subtask one DB, write buffer 32 MiB × 2, block cache RocksDB's default (32 MiB; rocksdb-native sets none), bloom filter 10 bits/key`;
const flinkMemory = `JVM -Xmx${FLINK_HEAP_MIB}m; managed memory ${FLINK_MANAGED_MIB} MiB (RocksDB's budget, set by the Flink program)`;

export const COLUMNS: readonly Column[] = [
  {
    name: "weir",
    system: "weir",
    description: "Weir as shipped: keyed state in a write-behind cache of live objects (200,000 cells per operator subtask) in front of RocksDB",
    memory: weirMemory,
  },
  {
    name: "weir-nocache",
    system: "weir",
    description: `Weir with --state-cache-cells ${NOCACHE_CELLS}: state is read from and written back to RocksDB (serialised) for every batch, as Flink's RocksDB backend does per access; only the keys of the batch being processed and of the next one (read ahead) are held as objects, the smallest cache Weir's batched reads allow`,
    memory: weirMemory,
  },
  { name: "flink-hashmap", system: "flink", description: "Flink 1.20 DataStream API, HashMapStateBackend (state as objects on the JVM heap)", memory: flinkMemory },
  { name: "flink-rocksdb", system: "flink", description: "Flink 1.20 DataStream API, EmbeddedRocksDBStateBackend, incremental checkpoints", memory: flinkMemory },
  {
    name: "flink-sql",
    system: "flink",
    description: "Flink 1.20 SQL (Nexmark's q5/q7 with window table-valued functions), EmbeddedRocksDBStateBackend, incremental checkpoints",
    memory: flinkMemory,
    queries: ["q5", "q7"],
    // Planning the SQL took 11 s from launch on this machine (the DataStream program: under 8 s).
    extraStartupMs: 8000,
  },
];

export const baselineColumn = (checkout: string): Column => ({
  name: "weir-baseline",
  system: "weir",
  description: `another Weir checkout (${checkout}), as shipped`,
  memory: weirMemory,
});

/** The like-for-like ratios (numerator / denominator). */
export const PAIRS = [
  { numerator: "weir", denominator: "flink-hashmap", meaning: "state in memory on both (Weir's cache, Flink's heap)" },
  { numerator: "weir-nocache", denominator: "flink-rocksdb", meaning: "state in RocksDB per access on both" },
] as const satisfies readonly { numerator: ColumnName; denominator: ColumnName; meaning: string }[];

export const runsQuery = (column: Column, query: string): boolean => column.queries === undefined || column.queries.includes(query);

/** One run, as the harness schedules it. */
export interface RunSpec {
  readonly query: string;
  readonly parallelism: number;
  readonly seed: number;
  readonly startAt: number;
  readonly warmupMs: number;
  readonly steadyMs: number;
  /** Events/s (latency runs); undefined: as fast as possible. */
  readonly rate?: number | undefined;
  readonly statsPrefix: string;
  readonly checkpointDir: string;
  readonly checkpointIntervalMs: number;
}

export interface Command {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** `weir run` of the query from the checkout `root` (this one, or a baseline). */
export const weirCommand = (column: Column, spec: RunSpec, root: string, node: string = process.execPath): Command => {
  const param = (name: string, value: number | string) => ["--param", `${name}=${value}`];
  return {
    argv: [
      node,
      join(root, "bin", "weir.mjs"),
      "run",
      join(root, "jobs", "nexmark", `${spec.query}.ts`),
      "--parallelism",
      String(spec.parallelism),
      "--state-backend",
      "rocksdb",
      ...(column.name === "weir-nocache" ? ["--state-cache-cells", String(NOCACHE_CELLS)] : []),
      "--checkpoint-interval",
      `${spec.checkpointIntervalMs}ms`,
      "--checkpoint-dir",
      spec.checkpointDir,
      "--restart-attempts",
      "0",
      "--no-progress",
      ...param("seed", spec.seed),
      ...param("startAt", spec.startAt),
      ...param("warmupMs", spec.warmupMs),
      ...param("steadyMs", spec.steadyMs),
      ...(spec.rate === undefined ? [] : param("rate", spec.rate)),
      ...param("stats", spec.statsPrefix),
    ],
    env: { NODE_OPTIONS: `--max-old-space-size=${WEIR_HEAP_MIB}` },
  };
};

/** `java ... -jar weir-nexmark-flink.jar run ...` (NEXMARK-SPEC §5). */
export const flinkCommand = (column: Column, spec: RunSpec, jar: string, jvmArgs: readonly string[]): Command => {
  const backend = column.name === "flink-hashmap" ? "hashmap" : "rocksdb";
  const api = column.name === "flink-sql" ? "sql" : "datastream";
  return {
    argv: [
      "java",
      ...jvmArgs,
      `-Xmx${FLINK_HEAP_MIB}m`,
      "-jar",
      jar,
      "run",
      "--query",
      spec.query,
      "--parallelism",
      String(spec.parallelism),
      "--backend",
      backend,
      "--api",
      api,
      "--checkpoint-interval-ms",
      String(spec.checkpointIntervalMs),
      "--checkpoint-dir",
      spec.checkpointDir,
      "--seed",
      String(spec.seed),
      "--start-at",
      String(spec.startAt),
      "--warmup-ms",
      String(spec.warmupMs),
      "--steady-ms",
      String(spec.steadyMs),
      ...(spec.rate === undefined ? [] : ["--rate", String(spec.rate)]),
      "--stats",
      spec.statsPrefix,
    ],
    env: {},
  };
};
