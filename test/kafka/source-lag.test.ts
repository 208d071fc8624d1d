/**
 * Consumer lag per partition (Prometheus' weir_source_lag_records): while a slow job reads a
 * backlog, each partition's lag is the records between its read position and the partition's end,
 * and it falls to 0 once the job has caught up.
 */
import { describe, expect, it } from "vitest";
import { job } from "../../engine/job.ts";
import type { JobMetrics } from "../../engine/metrics.ts";
import { fromKafka } from "../../connectors/kafka/index.ts";
import { collectSink, runDefinition } from "../support/run.ts";
import { createTopic, kafkaBootstrap, testProducer } from "../support/kafka.ts";

const PER_PARTITION = 1_500;

describe("Kafka source lag", () => {
  it("is reported per partition while a backlog is read, and falls to 0 once caught up", async () => {
    const bootstrap = kafkaBootstrap();
    const topic = `lag-${Date.now()}`;
    await createTopic(bootstrap, topic, 2);
    const producer = testProducer(bootstrap);
    await producer.connect();
    for (const partition of [0, 1]) {
      await producer.send({ topic, messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition, value: JSON.stringify(i) })) });
    }
    await producer.disconnect();

    let read = 0;
    const def = job("kafka-lag", (env) =>
      env
        .source(fromKafka<string, number>({ brokers: bootstrap, topic }), { name: "in" })
        .map((r) => {
          const until = performance.now() + 0.5; // slow: a backlog builds up behind the reader
          while (performance.now() < until);
          read++;
          return r.offset;
        })
        .sink(collectSink<number>(), { name: "out" }),
    );
    let metrics: JobMetrics | undefined;
    const lagNow = () => metrics?.tasks.find((t) => t.chain === 0)?.lag ?? {};
    const stop = new AbortController();
    const running = runDefinition(def, { parallelism: 1, batchSize: 64 /* small batches: this test polls between them */, runId: "lag-test", stopSignal: stop.signal, onStart: (m) => void (metrics = m) });
    try {
      let maxLag: Record<string, number> = {};
      const deadline = Date.now() + 60_000;
      while (read < 2 * PER_PARTITION && Date.now() < deadline) {
        const lag = lagNow();
        for (const [split, n] of Object.entries(lag)) maxLag = { ...maxLag, [split]: Math.max(maxLag[split] ?? 0, n) };
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(read).toBe(2 * PER_PARTITION);
      expect(Object.keys(maxLag).sort()).toEqual([`${topic}-0`, `${topic}-1`].sort());
      for (const n of Object.values(maxLag)) {
        expect(n).toBeGreaterThan(0);
        expect(n).toBeLessThanOrEqual(PER_PARTITION);
      }
      await expect.poll(lagNow, { timeout: 10_000 }).toEqual({ [`${topic}-0`]: 0, [`${topic}-1`]: 0 });
    } finally {
      stop.abort();
      await running;
    }
  }, 90_000);
});
