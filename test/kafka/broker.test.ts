/**
 * The Kafka broker the connector tests run against is a real one: topics, transactions as a
 * read_committed consumer (kcat, librdkafka) sees them, and data that survives a clean restart and
 * a SIGKILL. Needs Java 17, Maven (first run) and kcat.
 */
import { randomUUID } from "node:crypto";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type KafkaBroker } from "../../kafka/broker.ts";
import { createTopic, deleteTopic, kafkaBootstrap, kcatRead, kcatReadCommitted, testKafka, type KcatRecord } from "../support/kafka.ts";

const freshTopic = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Polls `read` until `done` holds (or `timeoutMs` passes) and returns the last result. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const simple = (records: readonly KcatRecord[]) => records.map(({ partition, key, value }) => ({ partition, key, value }));

async function withProducer<T>(producer: Producer, use: (p: Producer) => Promise<T>): Promise<T> {
  await producer.connect();
  try {
    return await use(producer);
  } finally {
    await producer.disconnect();
  }
}

/** Writes `values` (key = value) to partition 0, acknowledged by the (only) replica. */
const produce = (bootstrap: string, topic: string, values: readonly string[]) =>
  withProducer(testKafka(bootstrap).producer({ allowAutoTopicCreation: false }), (p) =>
    p.send({ topic, acks: -1, messages: values.map((v) => ({ key: v, value: v, partition: 0 })) }),
  );

describe("the run's broker (kafka/global-setup.ts)", () => {
  it("creates and deletes topics", async () => {
    const bootstrap = kafkaBootstrap();
    const topic = freshTopic("create");
    await createTopic(bootstrap, topic, 3);
    const admin = testKafka(bootstrap).admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(topics[0]?.partitions.map((p) => p.partitionId).sort()).toEqual([0, 1, 2]);
      await expect(createTopic(bootstrap, topic, 3)).rejects.toThrow(/already exists/);
      await deleteTopic(bootstrap, topic);
      const remaining = await eventually(() => admin.listTopics(), (names) => !names.includes(topic));
      expect(remaining).not.toContain(topic);
    } finally {
      await admin.disconnect();
    }
  });

  it("read_committed sees exactly the committed transactions' records, none of an aborted one", async () => {
    const bootstrap = kafkaBootstrap();
    const topic = freshTopic("txn");
    await createTopic(bootstrap, topic, 2);
    const producer = testKafka(bootstrap).producer({
      transactionalId: `weir-test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await withProducer(producer, async (p) => {
      const inTransaction = async (outcome: "commit" | "abort", messages: { key: string; value: string; partition: number }[]) => {
        const tx = await p.transaction();
        await tx.send({ topic, messages });
        await (outcome === "commit" ? tx.commit() : tx.abort());
      };
      await inTransaction("commit", [
        { key: "a", value: "committed-1", partition: 0 },
        { key: "b", value: "committed-2", partition: 1 },
        { key: "a", value: "committed-3", partition: 0 },
      ]);
      await inTransaction("abort", [
        { key: "a", value: "aborted-1", partition: 0 },
        { key: "b", value: "aborted-2", partition: 1 },
      ]);
      await inTransaction("commit", [{ key: "b", value: "committed-4", partition: 1 }]);
    });

    // Commit markers are written after commit() returns: wait until the last commit is visible.
    const committed = await eventually(
      () => kcatReadCommitted(bootstrap, topic),
      (records) => records.some((r) => r.value === "committed-4"),
    );
    expect(simple(committed)).toEqual([
      { partition: 0, key: "a", value: "committed-1" },
      { partition: 0, key: "a", value: "committed-3" },
      { partition: 1, key: "b", value: "committed-2" },
      { partition: 1, key: "b", value: "committed-4" },
    ]);
    // The aborted records are in the log; isolation is what hides them.
    const everything = await kcatRead(bootstrap, topic, "read_uncommitted");
    expect(everything.map((r) => r.value).sort()).toEqual(["aborted-1", "aborted-2", "committed-1", "committed-2", "committed-3", "committed-4"]);
  });
});

describe("a broker of its own: restart and SIGKILL", () => {
  let broker: KafkaBroker | undefined;

  beforeAll(async () => {
    broker = await startBroker({});
  }, 180_000);

  afterAll(async () => {
    await broker?.stop();
  }, 60_000);

  const readAll = (bootstrap: string, topic: string, count: number) =>
    eventually(() => kcatReadCommitted(bootstrap, topic), (records) => records.length >= count, 60_000);

  it("keeps topic data across restart()", async () => {
    const b = broker!;
    const topic = freshTopic("restart");
    await createTopic(b.bootstrap, topic, 1);
    await produce(b.bootstrap, topic, ["r1", "r2", "r3"]);
    const pidBefore = b.pid;

    await b.restart();

    expect(b.pid).not.toBe(pidBefore);
    expect((await readAll(b.bootstrap, topic, 3)).map((r) => r.value)).toEqual(["r1", "r2", "r3"]);
    await produce(b.bootstrap, topic, ["r4"]);
    expect((await readAll(b.bootstrap, topic, 4)).map((r) => r.value)).toEqual(["r1", "r2", "r3", "r4"]);
  }, 180_000);

  it("comes back after kill() (SIGKILL) with its data", async () => {
    const b = broker!;
    const topic = freshTopic("kill");
    await createTopic(b.bootstrap, topic, 1);
    await produce(b.bootstrap, topic, ["k1", "k2", "k3"]);
    const killed = b.pid;

    await b.kill();
    expect(() => process.kill(killed, 0)).toThrow(); // gone, not just signalled
    await b.restart(); // a killed broker's old registration must expire first: ~10-15 s

    expect((await readAll(b.bootstrap, topic, 3)).map((r) => r.value)).toEqual(["k1", "k2", "k3"]);
    await produce(b.bootstrap, topic, ["k4"]);
    expect((await readAll(b.bootstrap, topic, 4)).map((r) => r.value)).toEqual(["k1", "k2", "k3", "k4"]);
  }, 180_000);
});
