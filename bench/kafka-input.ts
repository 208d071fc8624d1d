/**
 * Set-up of bench/kafka.ts: the pre-filled input topic and a warmed transaction coordinator.
 *
 *   await warmTransactions(kafka);
 *   const ms = await fillInput(kafka, "bench-in", 1_000_000, { accounts: 10_000, partitions: 3 });
 */
import type { Kafka, Message } from "kafkajs";
import { inputRecord, type Workload } from "./lib/kafka-workload.ts";

/** Writes input records 0..n-1, each partition's in order (one chain of sends per partition, side by side). */
export async function fillInput(kafka: Kafka, topic: string, n: number, workload: Workload): Promise<number> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const started = performance.now();
  const chains = Array.from({ length: workload.partitions }, () => Promise.resolve());
  let pending: Message[][] = chains.map(() => []);
  const flush = () => {
    for (const [p, messages] of pending.entries()) if (messages.length > 0) chains[p] = chains[p]!.then(() => producer.send({ topic, messages }).then(() => undefined));
    pending = chains.map(() => []);
  };
  for (let i = 0; i < n; i++) {
    const r = inputRecord(i, workload);
    pending[r.partition]!.push({ key: r.key, value: r.value, partition: r.partition });
    if (i % 15_000 === 14_999) {
      flush();
      await Promise.all(chains); // bounded memory; each send ~5,000 records
    }
  }
  flush();
  await Promise.all(chains);
  await producer.disconnect();
  return performance.now() - started;
}

/** Opens (and aborts) one transaction: a fresh broker creates its transaction-state topic on first use, slowly. */
export async function warmTransactions(kafka: Kafka): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const p = kafka.producer({ transactionalId: "bench-warmup", idempotent: true, maxInFlightRequests: 1 });
    try {
      await p.connect();
      await (await p.transaction()).abort();
      return;
    } catch (e) {
      if (attempt >= 10) throw e;
    } finally {
      await p.disconnect().catch(() => undefined);
    }
  }
}
