/**
 * What a user sees about unreadable Kafka records, as a real `weir run` process: records dropped
 * by "skip" and records sent to a dead-letter topic are counted in the progress line and the final
 * summary (a job that read 205 offsets and emitted 201 records says where the other 4 went), and
 * the "fail" error names the job's own switch (`--param bad-records`) as well as the API option.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopic, kafkaBootstrap, testProducer } from "../support/kafka.ts";
import { runOrKill, startWeir } from "../support/weir-process.ts";

const GOOD = 201;
const BAD = 4;
let bootstrap: string;
let tmp: string;
let input: string;
let n = 0;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-bad-counts-"));
  input = `bad-counts-in-${Date.now()}`;
  await createTopic(bootstrap, input, 2);
  const messages = Array.from({ length: GOOD }, (_, i) => ({ key: String(i % 7), value: JSON.stringify({ account: i % 7, amount: i }) }));
  for (let k = 0; k < BAD; k++) messages.splice(20 + k * 40, 0, { key: "x", value: `{broken ${k}` });
  const producer = testProducer(bootstrap);
  await producer.connect();
  await producer.send({ topic: input, messages });
  await producer.disconnect();
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** Arguments for jobs/kafka-totals.ts on the test input, with a fresh output topic and checkpoint folder. */
const jobArgs = async (badRecords: string, extra: string[] = []) => {
  const id = n++;
  const output = `bad-counts-out-${Date.now()}-${id}`;
  await createTopic(bootstrap, output, 2);
  const args = ["run", "jobs/kafka-totals.ts", "--param", `brokers=${bootstrap}`, "--param", `input=${input}`, "--param", `output=${output}`];
  return [...args, "--param", `bad-records=${badRecords}`, "--checkpoint-dir", join(tmp, `chk-${id}`), "--checkpoint-interval", "200ms", ...extra];
};

describe("unreadable Kafka records are counted for the user", () => {
  it("skip: the progress line and the stop line count the skipped records", async () => {
    const run = startWeir(await jobArgs("skip", ["--param", "bounded=false", "--progress-interval", "100"]));
    const deadline = Date.now() + 120_000;
    while (!/in [\d,]+ rec\/s \(201\).*bad records: 4 skipped/.test(run.stderr()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    process.kill(run.pid, "SIGTERM");
    const exit = await run.exited;
    expect(exit.stderr).toMatch(/\| in [\d,]+ rec\/s \(201\) \|.*\| bad records: 4 skipped/);
    expect(exit.stderr).toMatch(/stopped after .* \(bad records: 4 skipped\)/);
    expect(exit.code).toBe(0);
  }, 180_000);

  it("skip: the final summary counts the skipped records", async () => {
    const exit = await runOrKill(await jobArgs("skip", ["--param", "bounded=true", "--no-progress"]));
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain("kafka-totals finished in");
    expect(exit.stderr).toMatch(/201 records read, 201 written, bad records: 4 skipped/);
  }, 180_000);

  it("dead-letter topic: the final summary counts the dead-lettered records", async () => {
    const dlq = `bad-counts-dlq-${Date.now()}`;
    await createTopic(bootstrap, dlq, 1);
    const exit = await runOrKill(await jobArgs(`dlq:${dlq}`, ["--param", "bounded=true", "--no-progress"]));
    expect(exit.code).toBe(0);
    expect(exit.stderr).toMatch(/201 records read, 201 written, bad records: 4 dead-lettered/);
  }, 180_000);

  it("fail: the error names the job's --param bad-records and the source's onBadRecord option", async () => {
    const exit = await runOrKill(await jobArgs("fail", ["--param", "bounded=true", "--no-progress"]));
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toMatch(/cannot be deserialized/);
    expect(exit.stderr).toContain("--param bad-records=skip");
    expect(exit.stderr).toContain("onBadRecord");
  }, 180_000);
});
