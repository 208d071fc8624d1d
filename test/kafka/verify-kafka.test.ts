/**
 * `weir verify --real-sinks` on a Kafka sink, against the real broker: the sink is read back as a
 * downstream read_committed consumer sees it (aborted transactions invisible), and a correct
 * Kafka -> Kafka job killed at random passes with its own exactly-once sink checked.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toKafka } from "../../connectors/kafka/index.ts";
import { createTopic, kafkaBootstrap, testKafka, testProducer } from "../support/kafka.ts";
import { repoRoot } from "../support/weir-process.ts";

let bootstrap: string;
let tmp: string;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-verify-kafka-"));
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("the Kafka sink's read-back (Sink.readCommitted)", () => {
  it("gives the committed values in offset order, without aborted transactions; a custom value serializer cannot be read back", async () => {
    const topic = `read-back-${Date.now()}`;
    await createTopic(bootstrap, topic, 1);
    const producer = testKafka(bootstrap).producer({ transactionalId: `${topic}-txn`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const inTxn = async (values: unknown[], end: "commit" | "abort") => {
      const txn = await producer.transaction();
      await txn.send({ topic, messages: values.map((v) => ({ value: JSON.stringify(v) })) });
      await (end === "commit" ? txn.commit() : txn.abort());
    };
    await inTxn([{ n: 1 }, { n: 2 }], "commit");
    await inTxn([{ n: 99 }], "abort");
    await inTxn([{ n: 3 }], "commit");
    await producer.disconnect();
    expect(await toKafka({ brokers: bootstrap, topic }).readCommitted!()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(await toKafka<{ n: number }>({ brokers: bootstrap, topic, value: (r) => String(r.n) }).readCommitted!()).toBeUndefined();
  });
});

describe("weir verify --real-sinks with a Kafka sink", () => {
  it("passes jobs/kafka-totals.ts killed at random: its own sink, read back read_committed, holds the failure-free output", async () => {
    const input = `verify-in-${Date.now()}`;
    const output = `verify-out-${Date.now()}`;
    await createTopic(bootstrap, input, 2);
    await createTopic(bootstrap, output, 2);
    const producer = testProducer(bootstrap);
    await producer.connect();
    const messages = Array.from({ length: 3_000 }, (_, i) => ({ key: String(i % 20), value: JSON.stringify({ account: i % 20, amount: (i * 13) % 100 }) }));
    await producer.send({ topic: input, messages });
    await producer.disconnect();

    const args = ["verify", "jobs/kafka-totals.ts", "--param", `brokers=${bootstrap}`, "--param", `input=${input}`, "--param", `output=${output}`, "--param", "bounded=true"];
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [join(repoRoot, "bin/weir.mjs"), ...args, "--real-sinks", "--kills", "2", "--seed", "3", "--parallelism-range", "1..2"], {
        cwd: repoRoot,
        env: { ...process.env, NO_COLOR: "1", WEIR_FAILPOINT: "", TMPDIR: tmp },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("exit", (code) => done({ code, stdout, stderr }));
    });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/^sink 'totals': OK: 3000 records, the same as the failure-free run/m);
    expect(result.stdout).toMatch(/^job 'kafka-totals', seed 3: 2 kills delivered$/m);
    expect(result.stdout).toMatch(/^verdict: OK/m);
  }, 240_000);
});
