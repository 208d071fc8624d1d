/**
 * One latency run of bench/kafka.ts: a variant runs on a fresh input topic (unbounded) while this
 * process feeds it at a fixed rate and reads its output read_committed.
 *
 * Open loop: record i is due at t0 + i/rate (lib/kafka-schedule.ts); every tick the producer
 * sends whatever is due (in requests of at most `SEND_CHUNK` records), with no other pacing, and
 * a send that takes long only makes the next one larger. A record's latency is its arrival at the reader (a kafkajs
 * read_committed consumer in this process; arrival = when its batch reaches the application)
 * minus its scheduled time, so time the producer or the pipeline fell behind counts (no
 * coordinated omission). The reader maps each output back to its input record by (account,
 * total) (lib/kafka-workload.ts). Records due in the warm-up are left out of the percentiles.
 *
 * Before the schedule starts, the pipeline is primed: one record per input partition, for
 * accounts outside the workload, is sent every `PRIME_EVERY_MS` until the reader has seen an
 * output of each, so the schedule starts on a pipeline that is consuming every partition and
 * committing (the start-up of consumers and producers is not measured). The reader ignores
 * those accounts' outputs.
 *
 * The output is checked as in throughput runs (count and digest against the expected output of
 * every record sent), from what the reader saw.
 *
 * Variant "direct" runs no pipeline: the producer writes each record's expected output straight
 * to the output topic on the same schedule, which measures the harness itself (producer, broker,
 * reader on this machine at this rate): the floor under every variant's figures.
 */
import type { Kafka, Message } from "kafkajs";
import { createTopicAndWait } from "../kafka/topics.ts";
import { startRun } from "./kafka-child.ts";
import type { RunConfig, Variant } from "./kafka-run.ts";
import { dueCount, scheduledAt } from "./lib/kafka-schedule.ts";
import { latencySummary, type LatencySummary } from "./lib/kafka-stats.ts";
import { inputRecord, outputValue, type CheckResult, type ExpectedOutput } from "./lib/kafka-workload.ts";

export interface LatencyRunOptions {
  readonly kafka: Kafka;
  readonly bootstrap: string;
  readonly variant: Variant | "direct";
  readonly rate: number;
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly expected: ExpectedOutput;
  readonly parallelism: number;
  readonly intervalMs: number;
  readonly id: string;
  /** Give up priming the pipeline after this long. */
  readonly primeTimeoutMs: number;
  /** How long to wait for the last outputs after the last send. */
  readonly drainMs: number;
}

export interface LatencyRunResult {
  readonly sent: number;
  /** Over records due after the warm-up that arrived; undefined if none did. */
  readonly latency: LatencySummary | undefined;
  /** How late the producer sent a record at worst (its own lag, part of every latency). */
  readonly maxSendLagMs: number;
  readonly check: CheckResult;
  readonly ok: boolean;
}

const TICK_MS = 5;
const PRIME_EVERY_MS = 200;
const SEND_CHUNK = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function latencyRun(o: LatencyRunOptions): Promise<LatencyRunResult> {
  const { workload } = o.expected;
  const input = `lat-in-${o.id}`;
  const output = `lat-out-${o.id}`;
  const changelog = `lat-changelog-${o.id}`;
  const total = Math.round((o.rate * (o.warmupMs + o.measureMs)) / 1000);
  if (total > o.expected.n) throw new Error(`latency run needs ${total} records, the expected output covers ${o.expected.n}`);
  const admin = o.kafka.admin();
  await admin.connect();
  const topics = [input, output, changelog];
  try {
    for (const topic of topics) await createTopicAndWait(admin, { topic, partitions: workload.partitions });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: changelog, configEntries: [{ name: "cleanup.policy", value: "compact" }] }] });

    const { accounts, partitions } = workload;
    /** Account accounts + k lands in partition (accounts + k) mod partitions: one per partition. */
    const primeAccounts = Array.from({ length: partitions }, (_, k) => accounts + k);
    const primed = new Set<number>();
    // Only stamped and kept while the run goes on; mapped to input records afterwards, so the
    // reader does as little as possible on the event loop the producer shares.
    const received: { key: string; value: string; arrival: number }[] = [];
    let t0 = Infinity;
    const reader = o.kafka.consumer({ groupId: `lat-reader-${o.id}`, readUncommitted: false, maxWaitTimeInMs: 50 });
    await reader.connect();
    await reader.subscribe({ topics: [output], fromBeginning: true });
    await reader.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const arrival = performance.now();
        for (const m of batch.messages) {
          const key = m.key?.toString("utf8") ?? "null";
          const value = m.value?.toString("utf8") ?? "null";
          if (Number(key) >= accounts) {
            primed.add(Number(key));
            continue;
          }
          received.push({ key, value, arrival });
        }
      },
    });

    const direct = o.variant === "direct";
    const target = direct ? output : input;
    const running = new Float64Array(accounts); // direct: the running totals of what was sent
    const recordFor = (i: number): Message => {
      const r = inputRecord(i, workload);
      return direct ? { key: r.key, value: outputValue(r.account, (running[r.account]! += r.amount)), partition: r.partition } : { key: r.key, value: r.value, partition: r.partition };
    };
    const run = o.variant === "direct" ? undefined : startRun({ variant: o.variant, bootstrap: o.bootstrap, input, output, changelog, partitions, parallelism: o.parallelism, intervalMs: o.intervalMs, id: o.id } satisfies RunConfig);
    run?.result.catch(() => undefined); // awaited below; a failure while priming must not go unhandled
    const producer = o.kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    let sent = 0;
    let primes = 0;
    let maxSendLagMs = 0;
    try {
      await run?.ready;
      const primeDeadline = performance.now() + o.primeTimeoutMs;
      while (primed.size < partitions) {
        if (performance.now() > primeDeadline) throw new Error(`${o.variant} produced no output for a priming record within ${o.primeTimeoutMs / 1000} s`);
        await producer.send({ topic: target, messages: primeAccounts.map((a) => ({ key: String(a), value: JSON.stringify({ account: a, amount: 1 }), partition: a % partitions })) });
        primes += partitions;
        await sleep(PRIME_EVERY_MS);
      }
      t0 = performance.now();
      while (sent < total) {
        const now = performance.now();
        const due = dueCount(t0, now, o.rate, total);
        if (due > sent) {
          maxSendLagMs = Math.max(maxSendLagMs, now - scheduledAt(t0, sent, o.rate));
          // In requests of at most SEND_CHUNK (a producer far behind would exceed the broker's
          // 1 MB limit per partition), one after the other so each partition's order is kept.
          while (sent < due) {
            const messages: Message[] = [];
            for (const end = Math.min(due, sent + SEND_CHUNK); sent < end; sent++) messages.push(recordFor(sent));
            await producer.send({ topic: target, messages });
          }
        }
        await sleep(TICK_MS);
      }
      const deadline = performance.now() + o.drainMs;
      while (received.length < total && performance.now() < deadline) await sleep(50);
    } finally {
      run?.stop();
      await producer.disconnect().catch(() => undefined);
    }
    const processed = run === undefined ? total + primes : (await run.result).records;
    await sleep(500); // anything beyond `total` (duplicates) would arrive right behind
    await reader.disconnect();

    const latencies = new Float64Array(total).fill(NaN);
    for (const r of received) {
      const i = o.expected.indexOf(r.key, r.value);
      if (i !== undefined && i < total && Number.isNaN(latencies[i]!)) latencies[i] = r.arrival - scheduledAt(t0, i, o.rate);
    }
    const warm = Math.ceil((o.warmupMs * o.rate) / 1000);
    const measured: number[] = [];
    for (let i = warm; i < total; i++) if (!Number.isNaN(latencies[i]!)) measured.push(latencies[i]!);
    const check = o.expected.check(received);
    const ok = check.ok && check.expected.count === total && check.observed.count === total && processed === total + primes;
    return { sent, latency: measured.length === 0 ? undefined : latencySummary(measured), maxSendLagMs, check, ok };
  } finally {
    await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => undefined);
    await admin.disconnect();
  }
}
