/**
 * Kafka benchmark (starts its own single-node broker): records/s through Kafka -> Weir -> Kafka
 * (account totals: keyed running total, RocksDB state) with the exactly-once sink at a 1 s
 * checkpoint interval, with the at-least-once sink, and a plain kafkajs consume-transform-produce
 * loop doing the same work; then end-to-end latency (produce time -> visible to a read_committed
 * consumer) of the exactly-once pipeline at a steady input rate. All in one run.
 *
 *   npm run bench:kafka [-- --records 300000 --rate 5000 --seconds 15]
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Consumer, Kafka as KafkaClient } from "kafkajs";
import { Kafka, logLevel } from "../connectors/kafka/kafkajs.ts";
import { startBroker } from "../kafka/broker.ts";
import { buildJob, job } from "../engine/job.ts";
import { paramsFrom } from "../engine/params.ts";
import { planJob } from "../engine/plan.ts";
import { runJob } from "../engine/runtime.ts";
import { fromKafka, toKafka } from "../connectors/kafka/index.ts";
import kafkaTotals from "../jobs/kafka-totals.ts";

const { values } = parseArgs({
  options: {
    records: { type: "string", default: "300000" },
    accounts: { type: "string", default: "10000" },
    rate: { type: "string", default: "5000" },
    seconds: { type: "string", default: "15" },
    partitions: { type: "string", default: "3" },
  },
});
const RECORDS = Number(values.records);
const ACCOUNTS = Number(values.accounts);
const PARTITIONS = Number(values.partitions);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const drain = async (kafka: KafkaClient, topic: string, expected: number, onMessage?: (value: Buffer) => void): Promise<number> => {
  const consumer: Consumer = kafka.consumer({ groupId: `bench-check-${topic}-${Date.now()}`, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0;
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) {
        count++;
        onMessage?.(m.value!);
      }
    },
  });
  const deadline = Date.now() + 120_000;
  while (count < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await consumer.disconnect();
  return count;
};

const main = async () => {
  const dir = await mkdtemp(join(tmpdir(), "weir-bench-kafka-"));
  const broker = await startBroker({});
  const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    console.log(`Kafka benchmark: broker ${broker.bootstrap}, ${RECORDS.toLocaleString("en-US")} records over ${ACCOUNTS} accounts, ${PARTITIONS} partitions, parallelism 2`);
    await admin.createTopics({ topics: [{ topic: "bench-in", numPartitions: PARTITIONS }], waitForLeaders: true });
    const producer = kafka.producer();
    await producer.connect();
    for (let i = 0; i < RECORDS; i += 5_000) {
      const messages = [];
      for (let j = i; j < Math.min(RECORDS, i + 5_000); j++) messages.push({ key: String(j % ACCOUNTS), value: JSON.stringify({ account: j % ACCOUNTS, amount: (j * 7) % 100 }) });
      await producer.send({ topic: "bench-in", messages });
    }

    const throughput: [string, number][] = [];
    for (const mode of ["exactly-once", "at-least-once"] as const) {
      const output = `bench-out-${mode}`;
      await admin.createTopics({ topics: [{ topic: output, numPartitions: PARTITIONS }], waitForLeaders: true });
      const built = buildJob(kafkaTotals, {
        params: paramsFrom({ brokers: broker.bootstrap, input: "bench-in", output, mode, bounded: "true" }),
        parallelism: 2,
      });
      const started = performance.now();
      const result = await runJob({
        plan: planJob(built),
        stateBackend: "rocksdb",
        stateDir: join(dir, `state-${mode}`),
        checkpoints: { root: join(dir, `chk-${mode}`), config: { intervalMs: 1_000 } },
      });
      const secs = (performance.now() - started) / 1000;
      const seen = await drain(kafka, output, RECORDS);
      if (seen !== RECORDS) throw new Error(`${mode}: read_committed consumer saw ${seen} records, expected ${RECORDS}`);
      throughput.push([`Weir ${mode} (1 s checkpoints)`, result.metrics.sinkRecords / secs]);
    }

    // A plain kafkajs consume-transform-produce loop doing the same work (no state backend, no checkpoints).
    {
      const output = "bench-out-plain";
      await admin.createTopics({ topics: [{ topic: output, numPartitions: PARTITIONS }], waitForLeaders: true });
      const consumer = kafka.consumer({ groupId: `bench-plain-${Date.now()}` });
      const out = kafka.producer();
      await Promise.all([consumer.connect(), out.connect()]);
      await consumer.subscribe({ topics: ["bench-in"], fromBeginning: true });
      const totals = new Map<number, number>();
      let processed = 0;
      const started = performance.now();
      await consumer.run({
        eachBatch: async ({ batch }) => {
          const messages = batch.messages.map((m) => {
            const t = JSON.parse(m.value!.toString()) as { account: number; amount: number };
            const total = (totals.get(t.account) ?? 0) + t.amount;
            totals.set(t.account, total);
            return { key: String(t.account), value: JSON.stringify({ account: t.account, total }) };
          });
          await out.send({ topic: output, messages });
          processed += messages.length;
        },
      });
      while (processed < RECORDS) await new Promise((r) => setTimeout(r, 20));
      const secs = (performance.now() - started) / 1000;
      await Promise.all([consumer.disconnect(), out.disconnect()]);
      throughput.push(["plain kafkajs loop (at-least-once)", RECORDS / secs]);
    }
    console.log("Throughput (records/s, Kafka -> account totals -> Kafka):");
    for (const [label, rate] of throughput) console.log(`  ${label.padEnd(38)} ${Math.round(rate).toLocaleString("en-US").padStart(10)}`);

    // Latency: steady input, exactly-once pipeline, read_committed consumer at the end.
    const rate = Number(values.rate);
    const seconds = Number(values.seconds);
    await admin.createTopics({ topics: [{ topic: "lat-in", numPartitions: PARTITIONS }, { topic: "lat-out", numPartitions: PARTITIONS }], waitForLeaders: true });
    const passThrough = job("latency", (env) =>
      env
        .source(fromKafka<string, { sentAt: number }>({ brokers: broker.bootstrap, topic: "lat-in" }))
        .map((r) => ({ sentAt: r.value.sentAt, partition: r.partition }))
        .sink(toKafka({ brokers: broker.bootstrap, topic: "lat-out" })),
    );
    const stop = new AbortController();
    const running = runJob({
      plan: planJob(buildJob(passThrough, { params: paramsFrom({}), parallelism: 2 })),
      stateBackend: "rocksdb",
      stateDir: join(dir, "state-latency"),
      checkpoints: { root: join(dir, "chk-latency"), config: { intervalMs: 1_000 } },
      stopSignal: stop.signal,
    });
    const latencies: number[] = [];
    const total = rate * seconds;
    const reading = drain(kafka, "lat-out", total, (value) => latencies.push(Date.now() - (JSON.parse(value.toString()) as { sentAt: number }).sentAt));
    const startedAt = Date.now();
    let sent = 0;
    while (sent < total) {
      const due = Math.min(total, Math.floor(((Date.now() - startedAt) / 1000) * rate));
      if (due > sent) {
        const messages = [];
        for (; sent < due; sent++) messages.push({ key: String(sent), value: JSON.stringify({ sentAt: Date.now() }) });
        await producer.send({ topic: "lat-in", messages });
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await reading;
    stop.abort();
    await running;
    const steady = latencies.slice(Math.floor(latencies.length * 0.1));
    console.log(`Latency, exactly-once, 1 s checkpoints, ${rate}/s for ${seconds} s (produce -> visible to read_committed; first 10% dropped):`);
    console.log(`  p50 ${quantile(steady, 0.5)} ms   p99 ${quantile(steady, 0.99)} ms   max ${Math.max(...steady)} ms   (${latencies.length} records)`);
    await producer.disconnect();
  } finally {
    await admin.disconnect().catch(() => undefined);
    await broker.stop();
    await rm(dir, { recursive: true, force: true });
  }
};

await main();
