/**
 * Kafka benchmark (starts its own single-node broker): Kafka -> running total per account ->
 * Kafka, three ways, measured the same way:
 *
 * - Weir exactly-once: jobs/kafka-totals.ts, RocksDB state, Kafka transactions committed at
 *   checkpoints every `--interval-ms`;
 * - Weir at-least-once: the same job and checkpoints, the sink flushed at each checkpoint;
 * - kafkajs transactional loop: kafkajs's own consume-transform-produce loop, exactly once
 *   (`sendOffsets` in the transaction, state persisted to a compacted changelog topic in the
 *   same transaction at every commit, every `--interval-ms`): bench/kafka-baseline.ts.
 *
 * Throughput: every run is a fresh process (bench/kafka-run.ts) reading the same pre-filled
 * input topic from the beginning into a fresh output topic; its counter of records handed to the
 * output producer is sampled every 100 ms; the rate is taken over the steady window only
 * (`--warmup-s` after the counter first moved, `--window-s` long; lib/kafka-steady.ts), then the
 * run stops, committing what it processed. `--reps` rounds, the variants' order rotating each
 * round; medians with min–max. Every run's output (with `--quick`, each variant's first run's:
 * `--check first-round`) is read back read_committed by Kafka's own console consumer (Java client)
 * and compared with the expected output of the input it read: count and an order-independent
 * digest (lib/kafka-workload.ts, lib/kafka-digest.ts).
 *
 * Latency: for each variant, at `--rates` percent of its median throughput, an open-loop
 * producer schedules record i at t0 + i/rate and the latency is arrival at a read_committed
 * reader minus the scheduled time (bench/kafka-latency.ts); p50, p99, max after a warm-up. Each
 * level starts with the harness alone (the producer writing the expected output straight to the
 * output topic, at the highest of the level's rates): the floor the machine puts under all rows.
 *
 * A failed check prints ✗ and makes the process exit with code 1 after the summary.
 *
 *   npm run bench:kafka [-- --quick] [-- --reps 3 --warmup-s 3 --window-s 10 --records 1000000
 *        --rates 25,50,75 --latency-warmup-s 3 --latency-s 8 --interval-ms 1000 --parallelism 1
 *        --accounts 10000 --partitions 3 --check all|first-round --json out.json]
 *
 * --quick: warm-up 2 s, window 3 s, 300,000 input records, latency at 50 % only (2 s + 3 s),
 * each variant's first run read back. --parallelism is Weir's (default 1, like for like with the
 * baseline, which is always one consumer and one transactional producer in one process).
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import type { Admin } from "kafkajs";
import { Kafka, logLevel } from "../connectors/kafka/kafkajs.ts";
import { startBroker } from "../kafka/broker.ts";
import { consoleRead } from "../kafka/console-read.ts";
import { createTopicAndWait } from "../kafka/topics.ts";
import { startRun } from "./kafka-child.ts";
import { fillInput, warmTransactions } from "./kafka-input.ts";
import { sampleCpu } from "./kafka-proc.ts";
import { latencyRun, type LatencyRunResult } from "./kafka-latency.ts";
import type { RunResult, Variant } from "./kafka-run.ts";
import { rotations } from "./lib/kafka-schedule.ts";
import { countAt, steadyWindow, type Sample, type SteadyWindow } from "./lib/kafka-steady.ts";
import { spread } from "./lib/kafka-stats.ts";
import { ExpectedOutput, type CheckResult, type Workload } from "./lib/kafka-workload.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    reps: { type: "string" },
    records: { type: "string" },
    accounts: { type: "string", default: "10000" },
    partitions: { type: "string", default: "3" },
    parallelism: { type: "string", default: "1" },
    "interval-ms": { type: "string", default: "1000" },
    "warmup-s": { type: "string" },
    "window-s": { type: "string" },
    rates: { type: "string" },
    "latency-warmup-s": { type: "string" },
    "latency-s": { type: "string" },
    check: { type: "string" },
    json: { type: "string" },
  },
});
const quick = values.quick;
const num = (v: string | undefined, full: number, fast: number) => (v === undefined ? (quick ? fast : full) : Number(v));
const S = {
  reps: num(values.reps, 3, 3),
  records: num(values.records, 1_000_000, 300_000),
  warmupMs: num(values["warmup-s"], 3, 2) * 1000,
  windowMs: num(values["window-s"], 10, 3) * 1000,
  rates: (values.rates ?? (quick ? "50" : "25,50,75")).split(",").map(Number),
  latencyWarmupMs: num(values["latency-warmup-s"], 3, 2) * 1000,
  latencyMs: num(values["latency-s"], 8, 3) * 1000,
  parallelism: Number(values.parallelism),
  intervalMs: Number(values["interval-ms"]),
  /** Which throughput runs are read back by the console consumer: every one, or each variant's first (--quick). */
  check: (values.check ?? (quick ? "first-round" : "all")) as "all" | "first-round",
};
if (S.check !== "all" && S.check !== "first-round") throw new Error(`--check must be all or first-round, got ${String(S.check)}`);
const workload: Workload = { accounts: Number(values.accounts), partitions: Number(values.partitions) };
const VARIANTS: readonly Variant[] = ["weir-exactly-once", "weir-at-least-once", "kafkajs-txn"];
const LABEL: Record<Variant, string> = {
  "weir-exactly-once": "Weir exactly-once",
  "weir-at-least-once": "Weir at-least-once",
  "kafkajs-txn": "kafkajs transactional loop",
};

/** The latency runs' calibration row: bench/kafka-latency.ts's "direct" (no pipeline). */
const DIRECT_LABEL = "harness alone (no pipeline)";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

interface ThroughputRun {
  readonly variant: Variant;
  readonly round: number;
  readonly window: SteadyWindow;
  /** CPU seconds of the run's process per million records, over the steady window. */
  readonly cpuPerMillion: number | undefined;
  /** The same for the broker's JVM. */
  readonly brokerCpuPerMillion: number | undefined;
  readonly result: Omit<RunResult, "samples" | "cpu">;
  /** Undefined when this run's output was not read back (--check first-round). */
  readonly check: CheckResult | undefined;
  readonly ok: boolean;
  /** Topics, process start and run; the read-back check. */
  readonly runMs: number;
  readonly checkMs: number;
}

interface ThroughputRunOptions {
  readonly admin: Admin;
  readonly bootstrap: string;
  readonly brokerPid: number;
  /** The expected output of the whole input topic (`expected.n` records). */
  readonly expected: ExpectedOutput;
  readonly variant: Variant;
  readonly round: number;
  readonly input: string;
  /** Read the output back with the console consumer and check it. */
  readonly readBack: boolean;
}

/** One throughput run on fresh output topics (deleted afterwards); throws if the run fails or processes nothing. */
async function throughputRun(o: ThroughputRunOptions): Promise<ThroughputRun> {
  const { admin, bootstrap, brokerPid, expected, variant, round, input, readBack } = o;
  const started = performance.now();
  const id = `${variant}-r${round}-${Date.now().toString(36)}`;
  const output = `out-${id}`;
  const changelog = `changelog-${id}`;
  await createTopicAndWait(admin, { topic: output, partitions: workload.partitions });
  await createTopicAndWait(admin, { topic: changelog, partitions: workload.partitions });
  await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2, name: changelog, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });
  const brokerCpu = sampleCpu(brokerPid, 100);
  try {
    const run = startRun({
      variant,
      bootstrap,
      input,
      output,
      changelog,
      partitions: workload.partitions,
      parallelism: S.parallelism,
      intervalMs: S.intervalMs,
      id,
      limit: expected.n,
      stopAfterMs: S.warmupMs + S.windowMs + 500,
    });
    const { samples, cpu, ...result } = await run.result;
    const brokerSamples = brokerCpu.stop();
    const window = steadyWindow(samples, { warmupMs: S.warmupMs, windowMs: S.windowMs, endCount: Math.floor(expected.n * 0.99) });
    /** CPU seconds per million records over the window, from a CPU-ms series. */
    const perMillion = (series: readonly Sample[]) =>
      window.kind === "none" || window.records === 0 || series.length < 2 ? undefined : ((countAt(series, window.toMs) - countAt(series, window.fromMs)) / 1000 / window.records) * 1e6;
    const cpuPerMillion = perMillion(cpu);
    const brokerCpuPerMillion = perMillion(brokerSamples);
    if (result.records === 0) throw new Error(`${variant} run ${id} processed no record`);
    const ran = performance.now();
    if (!readBack) return { variant, round, window, cpuPerMillion, brokerCpuPerMillion, result, check: undefined, ok: true, runMs: ran - started, checkMs: 0 };
    const records = await consoleRead(bootstrap, output, { expected: result.records, quietMs: quick ? 1_000 : 2_000, timeoutMs: 300_000, positions: false });
    const check = expected.check(records);
    const ok = check.ok && check.observed.count === result.records;
    return { variant, round, window, cpuPerMillion, brokerCpuPerMillion, result, check, ok, runMs: ran - started, checkMs: performance.now() - ran };
  } finally {
    brokerCpu.stop();
    await admin.deleteTopics({ topics: [output, changelog], timeout: 30_000 }).catch(() => undefined);
  }
}

const describeCheck = (c: CheckResult | undefined, reported: number): string =>
  c === undefined
    ? "not read back (--check first-round)"
    : c.ok && c.observed.count === reported
    ? `read back ${fmt(c.observed.count)} = reported, digest ${c.observed.hex()} = expected ✓`
    : `✗ read back ${c.observed.toString()}; reported ${fmt(reported)}; expected ${c.expected.toString()}; missing ${c.missing}, duplicates ${c.duplicates}, unknown ${c.unknown}`;

async function main(): Promise<number> {
  const wallStart = performance.now();
  const broker = await startBroker({});
  const kafka = new Kafka({ clientId: "bench-kafka", brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  let failures = 0;
  try {
    console.log(
      `Kafka benchmark${quick ? " (--quick)" : ""}: broker ${broker.bootstrap}; ${fmt(S.records)} input records over ${fmt(workload.accounts)} accounts, ` +
        `${workload.partitions} partitions; Weir parallelism ${S.parallelism}, checkpoints / baseline commits every ${S.intervalMs} ms`,
    );
    await warmTransactions(kafka);
    const input = "bench-in";
    await createTopicAndWait(admin, { topic: input, partitions: workload.partitions });
    const fillMs = await fillInput(kafka, input, S.records, workload);
    let expected = new ExpectedOutput(S.records, workload);
    console.log(`Input written in ${secs(fillMs)}. Throughput: warm-up ${secs(S.warmupMs)} discarded, steady window ${secs(S.windowMs)}, ${S.reps} rounds in rotating order; ${S.check === "all" ? "every run's output" : "each variant's first run's output"} read back by Kafka's console consumer.`);

    const runs: ThroughputRun[] = [];
    for (const [round, order] of rotations(VARIANTS, S.reps).entries()) {
      for (const variant of order) {
        const run = await throughputRun({ admin, bootstrap: broker.bootstrap, brokerPid: broker.pid, expected, variant, round: round + 1, input, readBack: S.check === "all" || round === 0 });
        runs.push(run);
        if (!run.ok) failures++;
        const w = run.window;
        const rate = w.kind === "none" ? `no steady window (${w.reason})` : `${fmt(w.rate)} rec/s over ${secs(w.toMs - w.fromMs)}${w.kind === "short" ? " (short: input ran out; raise --records)" : ""}`;
        console.log(
          `  round ${round + 1} ${LABEL[variant].padEnd(27)} ${rate}; CPU s/M rec: run ${run.cpuPerMillion?.toFixed(1) ?? "-"}, broker ${run.brokerCpuPerMillion?.toFixed(1) ?? "-"}; ${fmt(run.result.records)} records, ` +
            `${run.result.commits} commits, peak RSS ${Math.round(run.result.peakRssMiB)} MiB; ${describeCheck(run.check, run.result.records)} [run ${secs(run.runMs)}, check ${secs(run.checkMs)}]`,
        );
      }
    }

    const medians = new Map<Variant, number>();
    console.log(`\nThroughput (records/s over the steady window; median [min–max] of ${S.reps}; CPU = seconds per million records over the window, of the run's process and of the broker):`);
    for (const variant of VARIANTS) {
      const mine = runs.filter((r) => r.variant === variant);
      const rates = mine.flatMap((r) => (r.window.kind === "none" ? [] : [r.window.rate]));
      const cpus = mine.flatMap((r) => (r.cpuPerMillion === undefined ? [] : [r.cpuPerMillion]));
      const brokerCpus = mine.flatMap((r) => (r.brokerCpuPerMillion === undefined ? [] : [r.brokerCpuPerMillion]));
      const read = mine.filter((r) => r.check !== undefined);
      const checked = `${read.filter((r) => r.ok).length}/${read.length} read back ✓`;
      if (rates.length === 0) {
        console.log(`  ${LABEL[variant].padEnd(27)} no steady window; ${checked}`);
        continue;
      }
      const s = spread(rates);
      medians.set(variant, s.median);
      const cpu = (xs: number[]) => (xs.length > 0 ? spread(xs).median.toFixed(1) : "-");
      console.log(`  ${LABEL[variant].padEnd(27)} ${fmt(s.median).padStart(9)}  [${fmt(s.min)}–${fmt(s.max)}]   CPU s/M: run ${cpu(cpus)}, broker ${cpu(brokerCpus)}   ${checked}`);
    }
    const base = medians.get("kafkajs-txn");
    if (base !== undefined) {
      for (const v of ["weir-exactly-once", "weir-at-least-once"] as const) {
        const m = medians.get(v);
        if (m !== undefined) console.log(`  ${LABEL[v]} / kafkajs transactional loop: ${(m / base).toFixed(2)}`);
      }
    }

    const latencies: { variant: Variant | "direct"; percent: number; rate: number; result: LatencyRunResult }[] = [];
    if (S.rates.length > 0 && medians.size > 0) {
      const needed = Math.ceil((Math.max(...medians.values()) * Math.max(...S.rates) * (S.latencyWarmupMs + S.latencyMs)) / 100 / 1000);
      if (needed > expected.n) expected = new ExpectedOutput(needed, workload);
      console.log(`\nLatency (ms from a record's scheduled send time to its arrival at a read_committed reader; warm-up ${secs(S.latencyWarmupMs)} discarded, ${secs(S.latencyMs)} measured):`);
      for (const [k, percent] of S.rates.entries()) {
        const level = VARIANTS.flatMap((variant) => {
          const max = medians.get(variant);
          return max === undefined ? [] : [{ variant, rate: Math.max(1, Math.round((max * percent) / 100)) }];
        });
        // The harness alone at the highest of these rates, then the variants in rotating order.
        const order = rotations(level, S.rates.length)[k]!;
        const runsAtLevel = [{ variant: "direct" as const, rate: Math.max(...level.map((l) => l.rate)) }, ...order];
        for (const { variant, rate } of runsAtLevel) {
          const id = `${variant}-${percent}-${Date.now().toString(36)}`;
          const started = performance.now();
          const result = await latencyRun({ kafka, bootstrap: broker.bootstrap, variant, rate, warmupMs: S.latencyWarmupMs, measureMs: S.latencyMs, expected, parallelism: S.parallelism, intervalMs: S.intervalMs, id, primeTimeoutMs: 60_000, drainMs: 30_000 });
          latencies.push({ variant, percent, rate, result });
          if (!result.ok) failures++;
          const l = result.latency;
          const lat = l === undefined ? "no record arrived" : `p50 ${fmt(l.p50).padStart(5)}  p99 ${fmt(l.p99).padStart(5)}  max ${fmt(l.max).padStart(5)}`;
          const what = variant === "direct" ? `${DIRECT_LABEL.padEnd(27)} ${"".padStart(5)}` : `${LABEL[variant].padEnd(27)} ${String(percent).padStart(3)} %`;
          console.log(
            `  ${what} = ${fmt(rate).padStart(7)} rec/s   ${lat}   (producer lag max ${fmt(result.maxSendLagMs)} ms; ` +
              `${describeCheck(result.check, result.sent)}) [${secs(performance.now() - started)}]`,
          );
        }
      }
    }

    const wall = performance.now() - wallStart;
    console.log(`\nDone in ${secs(wall)}${failures > 0 ? `; ${failures} run(s) FAILED their output check` : ""}.`);
    if (values.json !== undefined) {
      const json = {
        date: new Date().toISOString(),
        settings: { ...S, workload, quick },
        throughput: runs.map((r) => ({ variant: r.variant, round: r.round, window: r.window, cpuPerMillion: r.cpuPerMillion, brokerCpuPerMillion: r.brokerCpuPerMillion, ...r.result, ok: r.ok, checked: r.check !== undefined, digest: r.check?.observed.hex() })),
        latency: latencies.map((l) => ({ variant: l.variant, percent: l.percent, rate: l.rate, ...l.result.latency, sent: l.result.sent, maxSendLagMs: l.result.maxSendLagMs, ok: l.result.ok })),
        wallSeconds: wall / 1000,
      };
      await writeFile(values.json, `${JSON.stringify(json, null, 2)}\n`);
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
  }
  return failures;
}

process.exit((await main()) > 0 ? 1 : 0);
