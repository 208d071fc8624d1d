/**
 * The Kafka broker the connector tests run against is a real one: topics, transactions as a
 * read_committed consumer (Kafka's own console consumer, the Java client) sees them, and data that
 * survives a clean restart and a SIGKILL. These tests also show that the console consumer the
 * exactly-once tests rely on really reads read_committed. Needs Java 17 and Maven (first run).
 */
import { randomUUID } from "node:crypto";
import type { Producer } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type KafkaBroker } from "../../kafka/broker.ts";
import { consoleRead, createTopic, deleteTopic, kafkaBootstrap, testKafka, type ConsoleRecord } from "../support/kafka.ts";

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

const simple = (records: readonly ConsoleRecord[]) => records.map(({ partition, key, value }) => ({ partition, key, value }));

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

    // Commit markers are written after commit() returns: the read waits for all four.
    const committed = await consoleRead(bootstrap, topic, { expected: 4 });
    expect(simple(committed)).toEqual([
      { partition: 0, key: "a", value: "committed-1" },
      { partition: 0, key: "a", value: "committed-3" },
      { partition: 1, key: "b", value: "committed-2" },
      { partition: 1, key: "b", value: "committed-4" },
    ]);
    // The aborted records are in the log; isolation is what hides them.
    const everything = await consoleRead(bootstrap, topic, { expected: 6, isolation: "read_uncommitted" });
    expect(everything.map((r) => r.value).sort()).toEqual(["aborted-1", "aborted-2", "committed-1", "committed-2", "committed-3", "committed-4"]);
  }, 120_000);

  it("read_committed does not see an open transaction's records, only what was committed before it", async () => {
    const bootstrap = kafkaBootstrap();
    const topic = freshTopic("open-txn");
    await createTopic(bootstrap, topic, 2);
    await produce(bootstrap, topic, ["before-1", "before-2"]); // partition 0, no transaction
    const open = testKafka(bootstrap).producer({
      transactionalId: `weir-test-${randomUUID()}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    await withProducer(open, async (p) => {
      // As a Weir sink between pre-commit and commit: records written, transaction not committed.
      const tx = await p.transaction();
      await tx.send({ topic, acks: -1, messages: [{ key: "o", value: "open-1", partition: 0 }, { key: "o", value: "open-2", partition: 1 }] });
      // The open records are in the log: a read_uncommitted reader sees them.
      const everything = await consoleRead(bootstrap, topic, { expected: 4, isolation: "read_uncommitted" });
      expect(everything.map((r) => r.value).sort()).toEqual(["before-1", "before-2", "open-1", "open-2"]);
      // read_committed stops at the open transaction: only what was committed before it.
      expect(simple(await consoleRead(bootstrap, topic, { expected: 2 }))).toEqual([
        { partition: 0, key: "before-1", value: "before-1" },
        { partition: 0, key: "before-2", value: "before-2" },
      ]);
      await tx.abort();
    });
  }, 120_000);
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
    consoleRead(bootstrap, topic, { expected: count });

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
