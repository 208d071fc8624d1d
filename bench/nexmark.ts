/**
 * Nexmark side by side: each query on Weir (`weir run jobs/nexmark/<q>.ts`) and on Apache Flink
 * (bench/flink, a DataStream program on a local MiniCluster) in one run on this machine, with
 * the same events (both generators are pure functions of (seed, event id); a sample is compared
 * first), the same parallelism, RocksDB state and exactly-once checkpoints at the same interval,
 * and discarding sinks. Each run is its own process, measured from outside: events/s over the
 * steady part (between 10% and 90% of the events read), CPU seconds and peak RSS (GNU time).
 * The machine's ceilings (generator alone, msgpackr, RocksDB batched writes and reads) are
 * measured in the same run.
 *
 *   npm run bench:nexmark                     # every query, p=1 and 2 (Weir), p=2 side by side
 *   npm run bench:nexmark -- --quick          # fewer events, p=2, within 10 minutes
 *   npm run bench:nexmark -- --queries q0,q5 --events 2000000 --parallelism 2 --systems weir
 *   npm run bench:nexmark -- --baseline ../weir-old   # also an older Weir checkout, for before/after
 *
 * Writes bench/results/latest.json and bench/results/ratios.svg.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { pack, unpack } from "msgpackr";
import { generateEvent, nexmarkConfig } from "../connectors/nexmark/index.ts";
import { measureRocksRaw } from "./rocksdb-raw.ts";
import { ratioChart } from "./chart.ts";

const root = resolve(import.meta.dirname, "..");

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    queries: { type: "string" },
    events: { type: "string" },
    parallelism: { type: "string" },
    systems: { type: "string", default: "weir,flink" },
    interval: { type: "string", default: "10000" },
    seed: { type: "string", default: "0" },
    out: { type: "string", default: join(root, "bench", "results") },
    /** Another Weir checkout (e.g. a worktree at an older commit) measured in the same run, at the main parallelism. */
    baseline: { type: "string" },
  },
});

const quick = values.quick === true;
const SIDE_BY_SIDE = ["q0", "q1", "q2", "q3", "q5", "q7", "q8"];
const queries = (values.queries ?? (quick ? SIDE_BY_SIDE.join(",") : "q0,q1,q2,q3,q4,q5,q7,q8")).split(",");
const events = Number(values.events ?? (quick ? 1_000_000 : 2_000_000));
const parallelisms = (values.parallelism ?? (quick ? "2" : "1,2")).split(",").map(Number);
const systems = new Set(values.systems!.split(","));
const intervalMs = Number(values.interval);
const seed = Number(values.seed);

interface Measured {
  readonly system: "weir" | "flink" | "weir-baseline";
  readonly query: string;
  readonly parallelism: number;
  readonly events: number;
  readonly steadyEps: number;
  readonly totalEps: number;
  readonly wallMs: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
  readonly outputRecords: number | undefined;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

/**
 * Runs `argv` and measures its CPU seconds and peak RSS: under GNU time when the machine has it
 * (Debian's `time`), else by sampling /proc every 100 ms (peak RSS from VmHWM is exact; CPU
 * misses at most the last 100 ms).
 */
const timed = async (argv: readonly string[], env: Record<string, string> = {}) => {
  const gnuTime = existsSync("/usr/bin/time");
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-time-"));
  const timeFile = join(dir, "time");
  const started = performance.now();
  const command = gnuTime ? ["/usr/bin/time", "-f", "%U %S %M", "-o", timeFile, ...argv] : [...argv];
  const child = spawn(command[0]!, command.slice(1), { cwd: root, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  let sampled = { cpuSeconds: 0, peakRssMiB: 0 };
  const sampler = gnuTime
    ? undefined
    : setInterval(() => {
        try {
          const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
          const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          sampled = { cpuSeconds: (Number(stat[11]) + Number(stat[12])) / 100, peakRssMiB: Number(hwm?.[1] ?? 0) / 1024 };
        } catch {
          // exited between two samples
        }
      }, 100);
  const code = await new Promise<number | null>((done) => child.on("exit", (c) => done(c)));
  if (sampler !== undefined) clearInterval(sampler);
  const wallMs = performance.now() - started;
  if (gnuTime) {
    const [user, sys, rssKb] = (await readFile(timeFile, "utf8")).trim().split("\n").pop()!.split(" ").map(Number);
    sampled = { cpuSeconds: user! + sys!, peakRssMiB: rssKb! / 1024 };
  }
  await rm(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}:\n${stderr.slice(-3000)}`);
  return { stdout, stderr, wallMs, ...sampled };
};

/** Time at which the sampled counter crosses `target`, by linear interpolation. */
const crossing = (samples: readonly [number, number][], target: number): number => {
  for (let i = 1; i < samples.length; i++) {
    const [t0, n0] = samples[i - 1]!;
    const [t1, n1] = samples[i]!;
    if (n1 >= target) return n1 === n0 ? t1 : t0 + ((target - n0) * (t1 - t0)) / (n1 - n0);
  }
  return samples[samples.length - 1]![0];
};

const runWeir = async (query: string, parallelism: number, weirRoot = root): Promise<Measured> => {
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-nexmark-"));
  try {
    const metricsFile = join(dir, "metrics.json");
    const argv = [
      process.execPath,
      join(weirRoot, "bin", "weir.mjs"),
      "run",
      join(weirRoot, "jobs", "nexmark", `${query}.ts`),
      "--param",
      `events=${events}`,
      "--param",
      `seed=${seed}`,
      "--param",
      "sink=discard",
      "--parallelism",
      String(parallelism),
      "--state-backend",
      "rocksdb",
      "--checkpoint-interval",
      `${intervalMs}ms`,
      "--checkpoint-dir",
      join(dir, "checkpoints"),
      "--no-progress",
    ];
    const run = await timed(argv, { WEIR_METRICS_FILE: metricsFile });
    const m = JSON.parse(await readFile(metricsFile, "utf8")) as { sourceRecords: number; sinkRecords: number; samples: [number, number][] };
    if (m.sourceRecords !== events) throw new Error(`weir ${query}: read ${m.sourceRecords} of ${events} events`);
    const t10 = crossing(m.samples, 0.1 * events);
    const t90 = crossing(m.samples, 0.9 * events);
    return {
      system: weirRoot === root ? "weir" : "weir-baseline",
      query,
      parallelism,
      events,
      steadyEps: (0.8 * events * 1000) / Math.max(1, t90 - t10),
      totalEps: (events * 1000) / run.wallMs,
      wallMs: run.wallMs,
      cpuSeconds: run.cpuSeconds,
      peakRssMiB: run.peakRssMiB,
      outputRecords: m.sinkRecords,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

const flinkDir = join(root, "bench", "flink");
const flinkJar = join(flinkDir, "target", "weir-nexmark-flink.jar");
const jvmArgs = () =>
  readFileSync(join(flinkDir, "jvm-args.txt"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));

const buildFlink = () => {
  log("building bench/flink (Maven fetches Flink on the first run) ...");
  execFileSync("mvn", ["-q", "-f", join(flinkDir, "pom.xml"), "-DskipTests", "package"], { stdio: ["ignore", "inherit", "inherit"] });
  if (!existsSync(flinkJar)) throw new Error(`Maven did not produce ${flinkJar}`);
};

/** The first `n` events from Flink's generator twin must equal Weir's, field by field. */
const checkGenerators = (n: number): string => {
  const out = execFileSync("java", [...jvmArgs(), "-jar", flinkJar, "dump", "--events", String(n), "--seed", String(seed)], {
    maxBuffer: 256 * 1024 * 1024,
  }).toString();
  const lines = out.split("\n").filter((l) => l.startsWith("{"));
  const config = nexmarkConfig({ seed });
  let equal = 0;
  for (let i = 0; i < n; i++) {
    const mine = JSON.stringify(generateEvent(config.firstEventId + i, config));
    if (lines[i] !== mine) throw new Error(`generator mismatch at event ${i}:\n weir  ${mine}\n flink ${lines[i]}`);
    equal++;
  }
  return `${equal}/${n} events equal (seed ${seed})`;
};

const runFlink = async (query: string, parallelism: number): Promise<Measured> => {
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-flink-"));
  try {
    const argv = [
      "java",
      ...jvmArgs(),
      "-jar",
      flinkJar,
      "run",
      "--query",
      query,
      "--events",
      String(events),
      "--seed",
      String(seed),
      "--parallelism",
      String(parallelism),
      "--checkpoint-interval-ms",
      String(intervalMs),
      "--checkpoint-dir",
      join(dir, "checkpoints"),
    ];
    const run = await timed(argv);
    const summary = JSON.parse(run.stdout.trim().split("\n").pop()!) as { steadyEps: number; outputRecords: number };
    return {
      system: "flink",
      query,
      parallelism,
      events,
      steadyEps: summary.steadyEps,
      totalEps: (events * 1000) / run.wallMs,
      wallMs: run.wallMs,
      cpuSeconds: run.cpuSeconds,
      peakRssMiB: run.peakRssMiB,
      outputRecords: summary.outputRecords,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/** Ceilings of this machine, measured in this run. */
const ceilings = async () => {
  const config = nexmarkConfig({ seed });
  const n = 300_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) generateEvent(config.firstEventId + i, config);
  const generatorEps = (n * 1000) / (performance.now() - t0);
  const sample = Array.from({ length: 1000 }, (_, i) => generateEvent(config.firstEventId + i, config));
  const t1 = performance.now();
  for (let r = 0; r < 300; r++) for (const e of sample) unpack(pack(e));
  const msgpackRoundTripsPerSec = (300_000 * 1000) / (performance.now() - t1);
  const rocks = await measureRocksRaw({ entries: 200_000, batchedGets: 100_000, singleGets: 5_000, msgpackRoundTrips: 200_000, repetitions: 1 });
  return {
    generatorEventsPerSec: Math.round(generatorEps),
    msgpackEventRoundTripsPerSec: Math.round(msgpackRoundTripsPerSec),
    rocksdbBatchedPutsPerSec: Math.round(rocks["putsPerSec"]!),
    rocksdbBatchedGetsPerSec: Math.round(rocks["batchedGetsPerSec"]!),
  };
};

const fmt = (n: number | undefined) => (n === undefined ? "-" : Math.round(n).toLocaleString("en-US"));

const main = async () => {
  const started = Date.now();
  log(`Nexmark: ${queries.join(",")} | ${events.toLocaleString("en-US")} events | p=${parallelisms.join(",")} | ${[...systems].join("+")} | checkpoints every ${intervalMs} ms | RocksDB`);
  const limits = await ceilings();
  log(`ceilings: generator ${fmt(limits.generatorEventsPerSec)} events/s, msgpackr ${fmt(limits.msgpackEventRoundTripsPerSec)} event round trips/s, RocksDB batched puts ${fmt(limits.rocksdbBatchedPutsPerSec)}/s, batched gets ${fmt(limits.rocksdbBatchedGetsPerSec)}/s`);
  let generatorCheck: string | undefined;
  if (systems.has("flink")) {
    buildFlink();
    generatorCheck = checkGenerators(quick ? 2_000 : 10_000);
    log(`generator check: ${generatorCheck}`);
  }
  const results: Measured[] = [];
  const mainParallelism = parallelisms.includes(2) ? 2 : parallelisms[parallelisms.length - 1]!;
  for (const parallelism of parallelisms) {
    for (const query of queries) {
      if (systems.has("weir")) {
        const r = await runWeir(query, parallelism);
        results.push(r);
        log(`weir  ${query} p=${parallelism}: ${fmt(r.steadyEps)} events/s steady (${fmt(r.totalEps)} overall), ${r.cpuSeconds.toFixed(1)} CPU s, ${r.peakRssMiB.toFixed(0)} MiB`);
      }
      if (values.baseline !== undefined && parallelism === mainParallelism) {
        const r = await runWeir(query, parallelism, resolve(values.baseline));
        results.push(r);
        log(`base  ${query} p=${parallelism}: ${fmt(r.steadyEps)} events/s steady (${fmt(r.totalEps)} overall), ${r.cpuSeconds.toFixed(1)} CPU s, ${r.peakRssMiB.toFixed(0)} MiB`);
      }
      if (systems.has("flink") && SIDE_BY_SIDE.includes(query)) {
        const r = await runFlink(query, parallelism);
        results.push(r);
        log(`flink ${query} p=${parallelism}: ${fmt(r.steadyEps)} events/s steady (${fmt(r.totalEps)} overall), ${r.cpuSeconds.toFixed(1)} CPU s, ${r.peakRssMiB.toFixed(0)} MiB`);
      }
    }
  }

  const find = (system: string, query: string, p: number) => results.find((r) => r.system === system && r.query === query && r.parallelism === p);
  const mainP = mainParallelism;
  const table = queries.map((query) => {
    const w = find("weir", query, mainP);
    const f = find("flink", query, mainP);
    const b = find("weir-baseline", query, mainP);
    return {
      query,
      parallelism: mainP,
      weir_eps: w === undefined ? null : Math.round(w.steadyEps),
      flink_eps: f === undefined ? null : Math.round(f.steadyEps),
      ratio: w !== undefined && f !== undefined ? Number((w.steadyEps / f.steadyEps).toFixed(3)) : null,
      weir_cpu_s: w === undefined ? null : Number(w.cpuSeconds.toFixed(1)),
      flink_cpu_s: f === undefined ? null : Number(f.cpuSeconds.toFixed(1)),
      weir_peak_rss_mib: w === undefined ? null : Math.round(w.peakRssMiB),
      flink_peak_rss_mib: f === undefined ? null : Math.round(f.peakRssMiB),
      ...(b === undefined
        ? {}
        : { baseline_eps: Math.round(b.steadyEps), baseline_ratio: f === undefined ? null : Number((b.steadyEps / f.steadyEps).toFixed(3)) }),
    };
  });

  console.log(`\nNexmark, ${events.toLocaleString("en-US")} events, parallelism ${mainP}, RocksDB, checkpoints every ${intervalMs} ms (steady events/s)`);
  console.log("| query | Weir events/s | Flink events/s | Weir/Flink | Weir CPU s | Flink CPU s | Weir peak RSS MiB | Flink peak RSS MiB |");
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of table) {
    console.log(
      `| ${r.query} | ${fmt(r.weir_eps ?? undefined)} | ${fmt(r.flink_eps ?? undefined)} | ${r.ratio ?? "-"} | ${r.weir_cpu_s ?? "-"} | ${r.flink_cpu_s ?? "-"} | ${r.weir_peak_rss_mib ?? "-"} | ${r.flink_peak_rss_mib ?? "-"} |`,
    );
  }
  if (values.baseline !== undefined) {
    console.log(`\nBefore/after (baseline: ${values.baseline}), p=${mainP}, steady events/s and ratio to Flink`);
    console.log("| query | baseline events/s | baseline/Flink | Weir events/s | Weir/Flink |");
    console.log("|---|---:|---:|---:|---:|");
    for (const r of table) console.log(`| ${r.query} | ${fmt(r.baseline_eps)} | ${r.baseline_ratio ?? "-"} | ${fmt(r.weir_eps ?? undefined)} | ${r.ratio ?? "-"} |`);
  }
  if (parallelisms.length > 1) {
    console.log(`\nWeir, every parallelism (steady events/s)`);
    console.log(`| query | ${parallelisms.map((p) => `p=${p}`).join(" | ")} |`);
    console.log(`|---|${parallelisms.map(() => "---:").join("|")}|`);
    for (const q of queries) console.log(`| ${q} | ${parallelisms.map((p) => fmt(find("weir", q, p)?.steadyEps)).join(" | ")} |`);
  }

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    java: systems.has("flink") ? spawnSync("java", ["-version"], { encoding: "utf8" }).stderr.split("\n")[0] : undefined,
  };
  const report = {
    machine,
    date: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    events,
    checkpointIntervalMs: intervalMs,
    stateBackend: "rocksdb",
    generatorCheck,
    ceilings: limits,
    queries: table,
    runs: results,
    durationSeconds: Math.round((Date.now() - started) / 1000),
  };
  await mkdir(values.out!, { recursive: true });
  await writeFile(join(values.out!, "latest.json"), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(values.out!, "ratios.svg"), ratioChart(table, `Weir / Flink, Nexmark, p=${mainP}, ${events.toLocaleString("en-US")} events`));
  log(`wrote ${join(values.out!, "latest.json")} and ratios.svg (${report.durationSeconds}s)`);
};

await main();
