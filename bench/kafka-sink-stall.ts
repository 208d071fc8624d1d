/**
 * Kafka sink event-loop stalls (starts its own single-node broker): a generator writes keyed
 * records as fast as it can through the exactly-once Kafka sink into a topic with many partitions
 * (1 s checkpoints). Reports throughput and how long the event loop was blocked at most
 * (perf_hooks.monitorEventLoopDelay): while it is blocked, no progress line, checkpoint or
 * heartbeat runs.
 *
 *   npx tsx bench/kafka-sink-stall.ts [--records 300000] [--partitions 64] [--parallelism 2]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Kafka, logLevel } from "../connectors/kafka/kafkajs.ts";
import { startBroker } from "../kafka/broker.ts";
import { buildJob, job } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob } from "../engine/runtime.ts";
import { generator } from "../connectors/generator-source.ts";
import { toKafka } from "../connectors/kafka/index.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "300000" },
    partitions: { type: "string", default: "64" },
    parallelism: { type: "string", default: "2" },
  },
});
const RECORDS = Number(values.records);
const PARTITIONS = Number(values.partitions);
const PARALLELISM = Number(values.parallelism);

const ms = (ns: number) => `${(ns / 1e6).toFixed(1)} ms`;

const main = async () => {
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-stall-"));
  const broker = await startBroker({});
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: "stall-out", numPartitions: PARTITIONS }], waitForLeaders: true });
    // A fresh broker creates its transaction-state topic on first use, which can outlast a
    // producer's retries on a busy machine: open (and abort) one transaction before measuring.
    for (let attempt = 1; ; attempt++) {
      const warmup = kafka.producer({ transactionalId: "bench-warmup", idempotent: true, maxInFlightRequests: 1 });
      try {
        await warmup.connect();
        await (await warmup.transaction()).abort();
        break;
      } catch (e) {
        if (attempt >= 10) throw e;
      } finally {
        await warmup.disconnect().catch(() => undefined);
      }
    }
    const perSplit = Math.ceil(RECORDS / PARALLELISM);
    const pipeline = job("sink-stall", (env) =>
      env
        .source(generator({ splits: PARALLELISM, recordsPerSplit: perSplit, generate: ({ split, index }) => ({ account: (split * perSplit + index) % 10_000, total: index }) }))
        .sink(toKafka<{ account: number; total: number }>({ brokers: broker.bootstrap, topic: "stall-out", key: (r) => String(r.account) })),
    );
    const delay = monitorEventLoopDelay({ resolution: 5 });
    delay.enable();
    const started = performance.now();
    const result = await runJob({
      plan: planJob(buildJob(pipeline, { params: paramsFrom({}), parallelism: PARALLELISM })),
      stateBackend: "rocksdb",
      stateDir: join(dir, "state"),
      checkpoints: { root: join(dir, "chk"), config: { intervalMs: 1_000 } },
    });
    const secs = (performance.now() - started) / 1000;
    delay.disable();
    console.log(`Kafka sink, exactly-once, ${result.metrics.sinkRecords.toLocaleString("en-US")} records into ${PARTITIONS} partitions, parallelism ${PARALLELISM}:`);
    console.log(`  throughput ${Math.round(result.metrics.sinkRecords / secs).toLocaleString("en-US")} records/s (${secs.toFixed(1)} s, ${result.metrics.checkpointsCompleted} checkpoints)`);
    console.log(`  event-loop delay: max ${ms(delay.max)}, p99 ${ms(delay.percentile(99))}, mean ${ms(delay.mean)}`);
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

await main();
