/**
 * The broker dies in the middle of a run and comes back 8 s later: the job fails (broker unreachable), restarts from
 * its latest checkpoint under the restart strategy once the broker is back, and the output is
 * still exactly once.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type KafkaBroker } from "../../kafka/broker.ts";
import { consoleRead, createTopic, openTransactions, readCommitted, testProducer } from "../support/kafka.ts";
import { hasCompletedCheckpoint, startWeir } from "../support/weir-process.ts";

const RECORDS = 100_000;
let broker: KafkaBroker;
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-bounce-"));
  broker = await startBroker({});
}, 120_000);

afterAll(async () => {
  await broker?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("Kafka broker bounce", () => {
  it("the job survives a broker restart mid-run and its output stays exactly once", async () => {
    const bootstrap = broker.bootstrap;
    await createTopic(bootstrap, "bounce-in", 3);
    await createTopic(bootstrap, "bounce-out", 3);
    const producer = testProducer(bootstrap);
    await producer.connect();
    const totals = new Map<number, number>();
    const expected: string[] = [];
    const messages = [];
    for (let i = 0; i < RECORDS; i++) {
      const account = i % 97;
      const total = (totals.get(account) ?? 0) + (i % 13);
      totals.set(account, total);
      expected.push(`${account}\t${JSON.stringify({ account, total })}`);
      messages.push({ key: String(account), value: JSON.stringify({ account, amount: i % 13 }) });
    }
    for (let i = 0; i < messages.length; i += 10_000) await producer.send({ topic: "bounce-in", messages: messages.slice(i, i + 10_000) });
    await producer.disconnect();

    const checkpoints = join(tmp, "chk");
    const run = startWeir([
      "run",
      "jobs/kafka-totals.ts",
      "--param",
      `brokers=${bootstrap}`,
      "--param",
      "input=bounce-in",
      "--param",
      "output=bounce-out",
      "--param",
      "bounded=true",
      "--checkpoint-dir",
      checkpoints,
      "--checkpoint-interval",
      "200ms",
      "--restart-attempts",
      "30",
      "--restart-delay",
      "1s",
      "--parallelism",
      "2",
      "--no-progress",
    ]);
    const ready = hasCompletedCheckpoint(checkpoints, "kafka-totals");
    while (!(await ready())) await new Promise((r) => setTimeout(r, 20));
    // Down for longer than the clients' own retries (a few seconds), so the job itself fails.
    await broker.kill();
    await new Promise((r) => setTimeout(r, 8_000));
    await broker.restart();
    const exit = await run.exited;
    expect(exit.code, exit.stderr).toBe(0);
    expect(exit.stderr).toContain("restarting from the latest checkpoint");
    expect(exit.stderr).toMatch(/resuming 'kafka-totals' from checkpoint \d+/);

    const seen = await readCommitted(bootstrap, "bounce-out", RECORDS);
    const byKey = (rows: readonly { key: string; value: string }[]) => {
      const m = new Map<string, string[]>();
      for (const r of rows) m.set(r.key, [...(m.get(r.key) ?? []), r.value]);
      return Object.fromEntries([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
    };
    const want = byKey(expected.map((line) => ({ key: line.split("\t")[0]!, value: line.split("\t")[1]! })));
    expect(seen.length).toBe(RECORDS);
    expect(byKey(seen)).toEqual(want);
    expect(byKey(await consoleRead(bootstrap, "bounce-out", { expected: RECORDS }))).toEqual(want);
    expect(await openTransactions(bootstrap, "weir-kafka-totals-")).toEqual([]);
  }, 240_000);
});
