/**
 * One run of one variant of bench/kafka.ts, in a process of its own (a fresh JIT and heap for
 * every run, so no variant runs on another's warm-up). Started by bench/kafka.ts as
 *
 *   node <tsx flags> bench/kafka-run.ts '<RunConfig as JSON>'
 *
 * It samples its counter of records handed to the output producer (Weir: the sink's
 * `sinkRecords`; the baseline: its `processed()`) together with its CPU time every
 * `SAMPLE_MS`, from before the pipeline starts. It stops, committing what it processed:
 * - with `stopAfterMs`, once that long has passed since the counter first moved;
 * - with `limit` (a bounded input), once the input is read;
 * - on a line "stop" on stdin, or when stdin closes (the parent is gone).
 * Stdout carries one JSON message per line: {"type":"ready"} once the pipeline is wired, then
 * {"type":"result", ...RunResult}. A failure exits with code 1 and the error on stderr.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Kafka, logLevel } from "../connectors/kafka/kafkajs.ts";
import { buildJob } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob } from "../engine/runtime.ts";
import kafkaTotals from "../jobs/kafka-totals.ts";
import { startBaseline } from "./kafka-baseline.ts";
import { epochNow } from "./kafka-proc.ts";
import type { Sample } from "./lib/kafka-steady.ts";

export type Variant = "weir-exactly-once" | "weir-at-least-once" | "kafkajs-txn";

export interface RunConfig {
  readonly variant: Variant;
  readonly bootstrap: string;
  readonly input: string;
  readonly output: string;
  /** The baseline's state changelog (compacted). */
  readonly changelog: string;
  readonly partitions: number;
  readonly parallelism: number;
  /** Weir's checkpoint interval = the baseline's commit interval. */
  readonly intervalMs: number;
  /** Unique per run (group, transactional ids). */
  readonly id: string;
  /** Records in the input topic when the input is bounded (throughput runs). */
  readonly limit?: number;
  readonly stopAfterMs?: number;
}

export interface RunResult {
  /** Times in epoch ms (kafka-proc.ts's `epochNow`), comparable with the parent's samples. */
  readonly samples: readonly Sample[];
  /** CPU time (user + system) of this process at each sample, ms. */
  readonly cpu: readonly Sample[];
  /** Records handed to the output producer, all committed when the run ended. */
  readonly records: number;
  /** Weir's completed checkpoints, or the baseline's commits. */
  readonly commits: number;
  readonly peakRssMiB: number;
}

const SAMPLE_MS = 100;

const send = (message: object) => process.stdout.write(`${JSON.stringify(message)}\n`);

async function main(config: RunConfig): Promise<RunResult> {
  let count = () => 0;
  const samples: Sample[] = [];
  const cpu: Sample[] = [];
  let peakRss = 0;
  let firstMovedAt: number | undefined;
  const stop = new AbortController();
  const sample = () => {
    const t = epochNow();
    const c = count();
    const u = process.cpuUsage();
    samples.push({ t, count: c });
    cpu.push({ t, count: (u.user + u.system) / 1000 });
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    if (c > 0 && firstMovedAt === undefined) firstMovedAt = t;
    if (config.stopAfterMs !== undefined && firstMovedAt !== undefined && t - firstMovedAt >= config.stopAfterMs) stop.abort();
  };
  sample();
  const sampler = setInterval(sample, SAMPLE_MS);
  // "stop", or the parent gone (stdin closed): stop with a commit.
  createInterface({ input: process.stdin })
    .on("line", (line) => line.trim() === "stop" && stop.abort())
    .on("close", () => stop.abort());

  let commits = () => 0;
  let records: number;
  if (config.variant === "kafkajs-txn") {
    const kafka = new Kafka({ clientId: "bench-baseline", brokers: [config.bootstrap], logLevel: logLevel.NOTHING });
    const loop = await startBaseline({
      kafka,
      input: config.input,
      output: config.output,
      changelog: config.changelog,
      partitions: config.partitions,
      commitIntervalMs: config.intervalMs,
      id: config.id,
      limit: config.limit,
    });
    count = () => loop.processed();
    commits = () => loop.commits();
    send({ type: "ready" });
    const stopped = new Promise<void>((resolve) => stop.signal.addEventListener("abort", () => resolve(), { once: true }));
    await Promise.race([stopped, loop.exhausted, loop.failed]);
    await loop.stop();
    records = loop.processed();
  } else {
    const dir = await mkdtemp(join(tmpdir(), "weir-bench-kafka-run-"));
    try {
      const mode = config.variant === "weir-exactly-once" ? "exactly-once" : "at-least-once";
      const built = buildJob(kafkaTotals, {
        params: paramsFrom({ brokers: config.bootstrap, input: config.input, output: config.output, mode, bounded: String(config.limit !== undefined) }),
        parallelism: config.parallelism,
      });
      const result = await runJob({
        plan: planJob(built),
        stateBackend: "rocksdb",
        stateDir: join(dir, "state"),
        checkpoints: { root: join(dir, "checkpoints"), config: { intervalMs: config.intervalMs } },
        stopSignal: stop.signal,
        onStart: (metrics) => {
          count = () => metrics.sinkRecords;
          commits = () => metrics.checkpointsCompleted;
          send({ type: "ready" });
        },
      });
      records = result.metrics.sinkRecords;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  sample();
  clearInterval(sampler);
  return { samples, cpu, records, commits: commits(), peakRssMiB: peakRss / 2 ** 20 };
}

const config = JSON.parse(process.argv[2] ?? "null") as RunConfig | null;
if (config === null) {
  console.error("usage: started by bench/kafka.ts with a RunConfig as JSON");
  process.exit(2);
}
try {
  const result = await main(config);
  send({ type: "result", ...result });
  process.exit(0);
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
}
