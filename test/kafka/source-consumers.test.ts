/**
 * How the Kafka source reads, as the broker sees it: each source subtask reads all of its
 * partitions through one consumer (one private group, one member), not one consumer per
 * partition, and between them the subtasks hold every partition exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Admin } from "kafkajs";
import { job } from "../../engine/job.ts";
import { fromKafka } from "../../connectors/kafka/index.ts";
import { AssignerProtocol } from "../../connectors/kafka/kafkajs.ts";
import { collectSink, runDefinition } from "../support/run.ts";
import { createTopic, kafkaBootstrap, testKafka, testProducer } from "../support/kafka.ts";

const PARTITIONS = 12;
const PER_PARTITION = 50;
let bootstrap: string;
let admin: Admin;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  admin = testKafka(bootstrap).admin();
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

describe("Kafka source consumers", () => {
  it("reads all of a subtask's partitions through one consumer", async () => {
    const topic = `consumers-${Date.now()}`;
    await createTopic(bootstrap, topic, PARTITIONS);
    const producer = testProducer(bootstrap);
    await producer.connect();
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send({ topic, messages: Array.from({ length: PER_PARTITION }, (_, i) => ({ partition: p, value: JSON.stringify(i) })) });
    }
    await producer.disconnect();

    let read = 0;
    const def = job("kafka-consumers", (env) =>
      env
        .source(fromKafka<string, number>({ brokers: bootstrap, topic }), { name: "in" })
        .map((r) => {
          read++;
          return r.offset;
        })
        .sink(collectSink<number>(), { name: "out" }),
    );
    const stop = new AbortController();
    const running = runDefinition(def, { parallelism: 2, runId: "consumers-test", stopSignal: stop.signal });
    try {
      const deadline = Date.now() + 60_000;
      while (read < PARTITIONS * PER_PARTITION && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(read).toBe(PARTITIONS * PER_PARTITION);
      // The source's consumers, as the group coordinator knows them while the job runs.
      const groupIds = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith("weir-kafka-consumers-consumers-test-"));
      const { groups } = await admin.describeGroups(groupIds);
      const live = groups.filter((g) => g.members.length > 0);
      expect(live.length, `groups: ${groupIds.join(", ")}`).toBe(2);
      expect(live.map((g) => g.members.length)).toEqual([1, 1]);
      const assigned = live.flatMap((g) => AssignerProtocol.MemberAssignment.decode(g.members[0]!.memberAssignment)?.assignment[topic] ?? []);
      expect([...assigned].sort((a, b) => a - b)).toEqual(Array.from({ length: PARTITIONS }, (_, p) => p));
    } finally {
      stop.abort();
      await running;
    }
  }, 120_000);
});
