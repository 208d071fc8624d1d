/**
 * Partition discovery against the real broker: `weir run` copies an unbounded topic with the
 * exactly-once sink while partitions are added to it; the running job must read the new
 * partitions from their first record without a restart, checkpoint them, and after kill -9 and a
 * resume at another parallelism, Kafka's own console consumer (read_committed) must see every
 * input record exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkpointPath, listCheckpointIds, readMetadata } from "../../checkpoint/storage.ts";
import { consoleRead, createTopic, kafkaBootstrap, testKafka, testProducer } from "../support/kafka.ts";
import { hasCompletedCheckpoint, runUntil, startWeir } from "../support/weir-process.ts";

const JOB = "kafka-discovery";
let bootstrap: string;
let tmp: string;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-discovery-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const produce = async (topic: string, partitions: readonly number[], tag: string, perPartition: number): Promise<string[]> => {
  const producer = testProducer(bootstrap);
  await producer.connect();
  const values: string[] = [];
  for (const partition of partitions) {
    const messages = Array.from({ length: perPartition }, (_, i) => ({ partition, key: `${tag}-${partition}`, value: `${tag}-${partition}-${i}` }));
    await producer.send({ topic, messages });
    values.push(...messages.map((m) => m.value));
  }
  await producer.disconnect();
  return values;
};

/** Source positions (split -> next offset) of the newest completed checkpoint. */
const latestPositions = async (root: string): Promise<Record<string, number>> => {
  const ids = await listCheckpointIds(root, JOB);
  const last = ids.at(-1);
  if (last === undefined) return {};
  const metadata = await readMetadata(checkpointPath(root, JOB, last)).catch(() => undefined);
  const positions: Record<string, number> = {};
  for (const task of metadata?.tasks ?? []) for (const s of task.sources) Object.assign(positions, s.positions);
  return positions;
};

const waitFor = async (condition: () => Promise<boolean>, timeoutMs: number): Promise<boolean> => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
};

/** Counts what a read_committed consumer sees in `topic` while it runs (to know when a job caught up). */
const countCommitted = async (topic: string) => {
  const consumer = testKafka(bootstrap, "weir-test-counter").consumer({ groupId: `weir-test-counter-${topic}-${Date.now()}`, readUncommitted: false });
  let count = 0;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({ eachBatch: async ({ batch }) => void (count += batch.messages.length) });
  return { count: () => count, stop: () => consumer.disconnect() };
};

describe("Kafka source partition discovery", () => {
  it("reads partitions added while running from their first record, exactly once across kill -9 and a resume at another parallelism", async () => {
    const input = `disc-in-${Date.now()}`;
    const output = `disc-out-${Date.now()}`;
    const checkpoints = join(tmp, "chk");
    await createTopic(bootstrap, input, 2);
    await createTopic(bootstrap, output, 3);
    const args = (parallelism: number) => [
      "run",
      "test/fixtures/kafka-discovery-job.ts",
      "--param",
      `brokers=${bootstrap}`,
      "--param",
      `input=${input}`,
      "--param",
      `output=${output}`,
      "--checkpoint-dir",
      checkpoints,
      "--checkpoint-interval",
      "200ms",
      "--restart-delay",
      "200ms",
      "--parallelism",
      String(parallelism),
      "--no-progress",
    ];
    const expected = await produce(input, [0, 1], "a", 300);

    const first = startWeir(args(2));
    try {
      expect(await waitFor(hasCompletedCheckpoint(checkpoints, JOB), 60_000), "a first checkpoint").toBe(true);
      const admin = testKafka(bootstrap).admin();
      await admin.connect();
      await admin.createPartitions({ topicPartitions: [{ topic: input, count: 5 }] });
      await admin.disconnect();
      expected.push(...(await produce(input, [2, 3, 4], "b", 300)));
      // The running job (no restart) reads the new partitions and checkpoints their positions.
      const caughtUp = await waitFor(async () => {
        const p = await latestPositions(checkpoints);
        return [2, 3, 4].every((n) => p[`${input}-${n}`] === 300);
      }, 90_000);
      expect(caughtUp, `positions of the added partitions in the latest checkpoint: ${JSON.stringify(await latestPositions(checkpoints))}`).toBe(true);
    } finally {
      first.kill();
    }
    const killed = await first.exited;
    expect(killed.signal, killed.stderr).toBe("SIGKILL");

    // More input in every partition, then resume from the checkpoint at parallelism 3.
    expected.push(...(await produce(input, [0, 1, 2, 3, 4], "c", 100)));
    const counter = await countCommitted(output);
    try {
      const resumed = await runUntil(args(3), async () => counter.count() >= expected.length);
      expect(resumed.signal, resumed.stderr).toBe("SIGKILL");
    } finally {
      await counter.stop();
    }
    const seen = await consoleRead(bootstrap, output, { expected: expected.length });
    expect(seen.length, "records Kafka's console consumer sees").toBe(expected.length);
    expect(seen.map((r) => r.value).sort()).toEqual([...expected].sort());
    // Per input partition (= per key), order is kept.
    for (const key of new Set(seen.map((r) => r.key))) {
      const values = seen.filter((r) => r.key === key).map((r) => r.value);
      expect(values).toEqual(expected.filter((v) => v.startsWith(`${key}-`)));
    }
  }, 300_000);
});
