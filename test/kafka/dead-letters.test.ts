/**
 * Dead letters as a real `weir run jobs/kafka-totals.ts --param bad-records=dlq:<topic>` process,
 * checked with Kafka's own console consumer (read_committed): killed with SIGKILL at each step of
 * the checkpoint that covers the dead letters and resumed, the dead-letter topic holds each bad
 * record exactly once; a bad record too large for the dead-letter topic is truncated with headers
 * saying so, and the job carries on (no failure, no restart loop).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRead, createTopic, kafkaBootstrap, readCommitted, testKafka, testProducer } from "../support/kafka.ts";
import { runOrKill } from "../support/weir-process.ts";

const GOOD = 201;
const BAD = 3;
let bootstrap: string;
let tmp: string;
let n = 0;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-dlq-"));
}, 60_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const produce = async (topic: string, messages: { key: string; value: string | Buffer }[]) => {
  const producer = testProducer(bootstrap);
  await producer.connect();
  await producer.send({ topic, messages });
  await producer.disconnect();
};

/** An input topic of GOOD transactions with BAD unreadable records among them (values `{broken <k>`). */
const inputWithBadRecords = async (): Promise<string> => {
  const topic = `dlq-in-${Date.now()}-${n++}`;
  await createTopic(bootstrap, topic, 2);
  const messages: { key: string; value: string }[] = Array.from({ length: GOOD }, (_, i) => ({ key: String(i % 5), value: JSON.stringify({ account: i % 5, amount: i }) }));
  for (let k = 0; k < BAD; k++) messages.splice(30 + k * 50, 0, { key: `bad-${k}`, value: `{broken ${k}` });
  await produce(topic, messages);
  return topic;
};

const jobArgs = async (input: string, dlq: string, checkpoints: string) => {
  const output = `dlq-out-${Date.now()}-${n++}`;
  await createTopic(bootstrap, output, 2);
  return [
    "run", "jobs/kafka-totals.ts",
    "--param", `brokers=${bootstrap}`, "--param", `input=${input}`, "--param", `output=${output}`,
    "--param", `bad-records=dlq:${dlq}`, "--param", "bounded=true",
    // Only the final checkpoint: it is the one that covers the dead letters.
    "--checkpoint-interval", "off", "--checkpoint-dir", checkpoints, "--restart-delay", "200ms", "--no-progress",
  ];
};

describe("Kafka dead letters", () => {
  it.each(["sync-snapshot", "after-ack", "after-metadata"])(
    "killed at %s of the checkpoint covering the dead letters and resumed: each bad record is in the dead-letter topic exactly once",
    async (failpoint) => {
      const input = await inputWithBadRecords();
      const dlq = `dlq-${Date.now()}-${n++}`;
      await createTopic(bootstrap, dlq, 1);
      const args = await jobArgs(input, dlq, join(tmp, `chk-${n++}`));
      const killed = await runOrKill(args, undefined, { WEIR_FAILPOINT: failpoint });
      expect(killed.signal, killed.stderr).toBe("SIGKILL");
      expect(killed.stderr).toContain(`failpoint '${failpoint}' reached`);
      const resumed = await runOrKill(args);
      expect(resumed.code, resumed.stderr).toBe(0);
      const letters = await consoleRead(bootstrap, dlq, { expected: BAD, isolation: "read_committed" });
      expect(letters.map((l) => `${l.key}=${l.value}`).sort()).toEqual(Array.from({ length: BAD }, (_, k) => `bad-${k}={broken ${k}`));
    },
    240_000,
  );

  it("truncates a bad record too large for the dead-letter topic, says so in its headers, and goes on", async () => {
    const input = `dlq-big-in-${Date.now()}`;
    await createTopic(bootstrap, input, 1);
    const admin = testKafka(bootstrap).admin();
    await admin.connect();
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: 2 /* TOPIC */, name: input, configEntries: [{ name: "max.message.bytes", value: "8000000" }] }] });
    await admin.disconnect();
    const big = Buffer.alloc(5 * 1024 * 1024, "x"); // not JSON: a bad record, 5 MB
    await produce(input, [
      { key: "1", value: JSON.stringify({ account: 1, amount: 10 }) },
      { key: "big", value: big },
      { key: "1", value: JSON.stringify({ account: 1, amount: 5 }) },
    ]);
    const dlq = `dlq-big-${Date.now()}`;
    await createTopic(bootstrap, dlq, 1); // the broker's default limit: about 1 MB
    const exit = await runOrKill(await jobArgs(input, dlq, join(tmp, `chk-big`)));
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).not.toContain("restarting");
    expect(exit.stderr).toMatch(/2 records read, 2 written, bad records: 1 dead-lettered/);
    const letters = await consoleRead(bootstrap, dlq, { expected: 1, isolation: "read_committed" });
    expect(letters.map((l) => l.key)).toEqual(["big"]);
    const [letter] = await readCommitted(bootstrap, dlq, 1, 500);
    expect(letter!.headers).toMatchObject({ "weir.truncated": "true", "weir.original-size": String(big.length), "weir.offset": "1", "weir.topic": input });
    expect(letter!.value.length).toBeGreaterThan(900_000);
    expect(letter!.value.length).toBeLessThan(1_000_000);
    expect(letter!.value).toBe("x".repeat(letter!.value.length));
  }, 240_000);
});
