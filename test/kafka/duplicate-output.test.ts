/**
 * A Kafka sink cannot take back what it committed, so restoring a checkpoint older than the
 * latest completed one would write the output of the checkpoints in between a second time:
 * `weir run --from <older>` refuses that (naming the sink and the checkpoints) and changes
 * nothing, unless `--allow-duplicate-output`, with which it runs and says what is written twice.
 * Real broker (vitest global setup), real `weir run` processes.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTopic, kafkaBootstrap, readCommitted, testProducer } from "../support/kafka.ts";
import { completedCheckpointIds, runOrKill, startWeir } from "../support/weir-process.ts";

const JOB = "kafka-totals";
const HALF = 1_000;
let bootstrap: string;
let tmp: string;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-duplicates-"));
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const produce = async (topic: string, from: number, count: number) => {
  const producer = testProducer(bootstrap);
  await producer.connect();
  const messages = Array.from({ length: count }, (_, k) => {
    const i = from + k;
    return { key: String(i % 20), value: JSON.stringify({ account: i % 20, amount: i }) };
  });
  await producer.send({ topic, messages });
  await producer.disconnect();
};

const until = async (condition: () => Promise<boolean>) => {
  while (!(await condition())) await new Promise((r) => setTimeout(r, 50));
};

describe("restoring an older checkpoint with a Kafka sink", () => {
  it("is refused without --allow-duplicate-output (nothing changed), and runs with it, saying what is written twice", async () => {
    const input = `dup-in-${Date.now()}`;
    const output = `dup-out-${Date.now()}`;
    await createTopic(bootstrap, input, 2);
    await createTopic(bootstrap, output, 2);
    const checkpoints = join(tmp, "chk");
    const args = (extra: string[]) => [
      "run",
      "jobs/kafka-totals.ts",
      "--param",
      `brokers=${bootstrap}`,
      "--param",
      `input=${input}`,
      "--param",
      `output=${output}`,
      "--checkpoint-dir",
      checkpoints,
      "--checkpoint-interval",
      "100ms",
      "--retain",
      "1000",
      "--no-progress",
      ...extra,
    ];

    // First run (unbounded): half the input before checkpoint 1, half after; stop it (SIGTERM)
    // once all of it is committed and a few more checkpoints completed.
    await produce(input, 0, HALF);
    const first = startWeir(args([]));
    await until(async () => (await completedCheckpointIds(checkpoints, JOB)).includes(1));
    await produce(input, HALF, HALF);
    expect((await readCommitted(bootstrap, output, 2 * HALF, 0)).length).toBe(2 * HALF);
    const seenAt = Math.max(...(await completedCheckpointIds(checkpoints, JOB)));
    await until(async () => Math.max(...(await completedCheckpointIds(checkpoints, JOB))) >= seenAt + 2);
    process.kill(first.pid, "SIGTERM");
    const stopped = await first.exited;
    expect(stopped.code, stopped.stderr).toBe(0);
    const last = Math.max(...(await completedCheckpointIds(checkpoints, JOB)));
    const before = (await readdir(join(checkpoints, JOB))).sort();

    const from = ["--from", join(checkpoints, JOB, "chk-1"), "--param", "bounded=true"];
    const refused = await runOrKill(args(from));
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(
      `restoring checkpoint 1 of '${JOB}', but checkpoints 2-${last} had already completed: sink 'totals' cannot take back what they committed, so it would be written twice; run with --allow-duplicate-output`,
    );
    expect(refused.stderr).toContain("(DUPLICATE_OUTPUT)");
    expect((await readdir(join(checkpoints, JOB))).sort(), "a refused run changes no checkpoint").toEqual(before);

    const allowed = await runOrKill(args([...from, "--allow-duplicate-output"]));
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain(`sink 'totals': the output of checkpoints 2-${last} will be written again (--allow-duplicate-output)`);
    // As announced: what came after checkpoint 1 (at least the second half) is in the topic twice.
    const seen = await readCommitted(bootstrap, output, 3 * HALF);
    expect(seen.length).toBeGreaterThanOrEqual(3 * HALF);
  }, 180_000);
});
