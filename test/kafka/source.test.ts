/**
 * The Kafka source against the real broker, in-process: partitions are split across source
 * subtasks at any parallelism, every record is read exactly once, positions live in checkpoints
 * and are restored exactly, and unreadable records follow the chosen policy.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { job } from "../../engine/job.ts";
import { fromKafka, type KafkaRecord } from "../../connectors/kafka/index.ts";
import { chooseStart } from "../../engine/cli/resume.ts";
import { collectSink, runDefinition } from "../support/run.ts";
import { createTopic, kafkaBootstrap, readCommitted, testProducer } from "../support/kafka.ts";

let bootstrap: string;
let tmp: string;
const PARTITIONS = 5;
const PER_PARTITION = 400;
let topic: string;

const produce = async (name: string, messages: { partition: number; key: string; value: string }[]) => {
  const producer = testProducer(bootstrap);
  await producer.connect();
  for (let i = 0; i < messages.length; i += 2_000) await producer.send({ topic: name, messages: messages.slice(i, i + 2_000) });
  await producer.disconnect();
};

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-source-"));
  topic = `src-${Date.now()}`;
  await createTopic(bootstrap, topic, PARTITIONS);
  const messages = [];
  for (let p = 0; p < PARTITIONS; p++) for (let i = 0; i < PER_PARTITION; i++) messages.push({ partition: p, key: `k${p}`, value: JSON.stringify({ p, i }) });
  await produce(topic, messages);
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

type Rec = KafkaRecord<string, { p: number; i: number }>;

const readAll = (parallelism: number, extra: Record<string, unknown> = {}) => {
  const sink = collectSink<{ partition: number; offset: number; i: number; subtask?: number }>();
  const def = job("kafka-read", (env) =>
    env
      .source(fromKafka<string, { p: number; i: number }>({ brokers: bootstrap, topic, bounded: true, ...extra }), { name: "in" })
      .map((r: Rec) => ({ partition: r.partition, offset: r.offset, i: r.value.i }), { name: "strip" })
      .sink(sink, { name: "out" }),
  );
  return { sink, def, run: () => runDefinition(def, { parallelism }) };
};

describe("Kafka source", () => {
  it.each([1, 2, 3])("reads every record of every partition exactly once, in partition order, at parallelism %i", async (parallelism) => {
    const { sink, run } = readAll(parallelism);
    await run();
    const all = sink.all();
    expect(all.length).toBe(PARTITIONS * PER_PARTITION);
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = all.filter((r) => r.partition === p);
      expect(mine.map((r) => r.i)).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => i));
      expect(mine.map((r) => r.offset)).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => i));
    }
    // Each subtask owns whole partitions: a partition's records all come out of one sink subtask.
    const owners = new Map<number, Set<number>>();
    sink.committed.forEach((records, subtask) => records.forEach((r) => owners.set(r.partition, (owners.get(r.partition) ?? new Set()).add(subtask))));
    for (const set of owners.values()) expect(set.size).toBe(1);
    expect(new Set([...owners.values()].map((s) => [...s][0])).size).toBe(Math.min(parallelism, PARTITIONS));
  }, 60_000);

  it("stores positions only in checkpoints and restores them exactly, at another parallelism", async () => {
    const root = join(tmp, "positions");
    const first = collectSink<{ partition: number; offset: number }>();
    const slow = job("kafka-positions", (env) =>
      env
        // Unbounded: the run can only end by the stop below, whatever the machine's speed.
        .source(fromKafka<string, { p: number; i: number }>({ brokers: bootstrap, topic, maxBuffered: 50 }), { name: "in" })
        .map((r: Rec) => ({ partition: r.partition, offset: r.offset }), { name: "strip" })
        .sink(first, { name: "out" }),
    );
    const stop = new AbortController();
    // Stop with a checkpoint as soon as some records are through.
    const stopper = setInterval(() => {
      if (first.written.flat().length > 200) stop.abort();
    }, 5);
    const result = await runDefinition(slow, { parallelism: 2, checkpoints: { root, config: { intervalMs: 50 } }, stopSignal: stop.signal, batchSize: 20 });
    clearInterval(stopper);
    expect(result.outcome).toBe("stopped");
    const partial = first.all();
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThanOrEqual(PARTITIONS * PER_PARTITION);

    const start = await chooseStart({ root, job: "kafka-positions", fresh: false, from: undefined, log: () => undefined });
    const positions = start.checkpoints.restore!.positions.get("in")!;
    // The checkpointed position of each partition is exactly one past the last record committed.
    for (let p = 0; p < PARTITIONS; p++) {
      const mine = partial.filter((r) => r.partition === p);
      expect(positions[`${topic}-${p}`]).toBe(mine.length === 0 ? 0 : mine[mine.length - 1]!.offset + 1);
    }
    const second = collectSink<{ partition: number; offset: number }>();
    const resumed = job("kafka-positions", (env) =>
      env
        .source(fromKafka<string, { p: number; i: number }>({ brokers: bootstrap, topic, bounded: true }), { name: "in" })
        .map((r: Rec) => ({ partition: r.partition, offset: r.offset }), { name: "strip" })
        .sink(second, { name: "out" }),
    );
    await runDefinition(resumed, { parallelism: 3, checkpoints: { ...start.checkpoints } });
    const rest = second.all();
    for (let p = 0; p < PARTITIONS; p++) {
      const firstOffset = rest.filter((r) => r.partition === p)[0]?.offset;
      if (firstOffset !== undefined) expect(firstOffset).toBe(positions[`${topic}-${p}`]);
    }
    const union = [...partial, ...rest].map((r) => `${r.partition}@${r.offset}`).sort();
    expect(union).toEqual(Array.from({ length: PARTITIONS * PER_PARTITION }, (_, k) => `${Math.floor(k / PER_PARTITION)}@${k % PER_PARTITION}`).sort());
  }, 60_000);
});

describe("Kafka source: unreadable records", () => {
  let bad: string;
  beforeAll(async () => {
    bad = `bad-${Date.now()}`;
    await createTopic(bootstrap, bad, 1);
    await produce(bad, [
      { partition: 0, key: "a", value: JSON.stringify({ p: 0, i: 0 }) },
      { partition: 0, key: "b", value: "{not json" },
      { partition: 0, key: "c", value: JSON.stringify({ p: 0, i: 2 }) },
      { partition: 0, key: "d", value: "\u0000garbage" },
      { partition: 0, key: "e", value: JSON.stringify({ p: 0, i: 4 }) },
    ]);
  }, 60_000);

  const runWith = async (onBadRecord: "fail" | "skip" | { deadLetterTopic: string }) => {
    const sink = collectSink<number>();
    const source = fromKafka<string, { p: number; i: number }>({ brokers: bootstrap, topic: bad, bounded: true, onBadRecord });
    const def = job("kafka-bad", (env) => env.source(source, { name: "in" }).map((r: Rec) => r.value.i, { name: "i" }).sink(sink, { name: "out" }));
    return { sink, source, result: runDefinition(def, { parallelism: 1 }) };
  };

  it("fails by default, naming topic, partition and offset", async () => {
    const { result } = await runWith("fail");
    await expect(result).rejects.toMatchObject({
      code: "KAFKA_BAD_RECORD",
      message: expect.stringContaining(`record at ${bad}/0@1 cannot be deserialized`),
    });
  });

  it("skips with a counter", async () => {
    const { sink, source, result } = await runWith("skip");
    await result;
    expect(sink.all()).toEqual([0, 2, 4]);
    expect(source.skipped()).toBe(2);
  });

  it("sends unreadable records to a dead-letter topic, with the error and where they came from", async () => {
    const dlq = `${bad}-dlq`;
    await createTopic(bootstrap, dlq, 1);
    const { sink, result } = await runWith({ deadLetterTopic: dlq });
    await result;
    expect(sink.all()).toEqual([0, 2, 4]);
    const letters = await readCommitted(bootstrap, dlq, 2, 500);
    expect(letters.map((l) => [l.key, l.value])).toEqual([
      ["b", "{not json"],
      ["d", "\u0000garbage"],
    ]);
    expect(letters.map((l) => [l.headers["weir.topic"], l.headers["weir.partition"], l.headers["weir.offset"]])).toEqual([
      [bad, "0", "1"],
      [bad, "0", "3"],
    ]);
    for (const l of letters) expect(l.headers["weir.error"]).toMatch(/JSON|Unexpected token|position/);
  }, 60_000);
});
