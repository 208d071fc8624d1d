/**
 * Kafka -> Weir -> Kafka, exactly once, against a real broker: `weir run jobs/kafka-totals.ts` is
 * killed with SIGKILL at random moments and at every failpoint (including between pre-commit and
 * commit) and restarted until it finishes. A read_committed kafkajs consumer and, independently,
 * Kafka's own console consumer (the Java client, isolation.level=read_committed) must see exactly
 * the expected totals: nothing lost, nothing duplicated, per-account (= per-partition) order kept;
 * and no transaction may be left open.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { FAILPOINTS } from "../../common/failpoints.ts";
import { consoleRead, createTopic, kafkaBootstrap, openTransactions, readCommitted, testProducer } from "../support/kafka.ts";
import { runOrKill } from "../support/weir-process.ts";

const RECORDS = 40_000;
const ACCOUNTS = 60;
let bootstrap: string;
let tmp: string;
let input: string;
/** account -> expected totals in order. */
let expected: Map<string, string[]>;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-eos-"));
  input = `eos-in-${Date.now()}`;
  await createTopic(bootstrap, input, 4);
  const producer = testProducer(bootstrap);
  await producer.connect();
  expected = new Map();
  const totals = new Map<number, number>();
  const messages = [];
  for (let i = 0; i < RECORDS; i++) {
    const account = (i * 7) % ACCOUNTS;
    const amount = ((i * 31) % 200) - 50;
    const total = (totals.get(account) ?? 0) + amount;
    totals.set(account, total);
    const list = expected.get(String(account)) ?? [];
    list.push(JSON.stringify({ account, total }));
    expected.set(String(account), list);
    messages.push({ key: String(account), value: JSON.stringify({ account, amount }) });
  }
  for (let i = 0; i < messages.length; i += 5_000) await producer.send({ topic: input, messages: messages.slice(i, i + 5_000) });
  await producer.disconnect();
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let n = 0;
const jobArgs = (output: string, checkpoints: string, parallelism: number, extra: string[] = []) => [
  "run",
  "jobs/kafka-totals.ts",
  "--param",
  `brokers=${bootstrap}`,
  "--param",
  `input=${input}`,
  "--param",
  `output=${output}`,
  "--param",
  "bounded=true",
  "--checkpoint-dir",
  checkpoints,
  "--checkpoint-interval",
  "100ms",
  "--restart-delay",
  "200ms",
  "--parallelism",
  String(parallelism),
  "--no-progress",
  ...extra,
];

const freshOutput = async () => {
  const id = n++;
  const output = `eos-out-${Date.now()}-${id}`;
  await createTopic(bootstrap, output, 3);
  return { output, checkpoints: join(tmp, `chk-${id}`) };
};

const finish = async (output: string, checkpoints: string, parallelism: number) => {
  const exit = await runOrKill(jobArgs(output, checkpoints, parallelism));
  expect(exit.code, exit.stderr).toBe(0);
};

/** Values per key, in the order read (sorted by key for comparison). */
const byKey = (records: readonly { key: string; value: string }[]): Record<string, string[]> => {
  const out = new Map<string, string[]>();
  for (const r of records) out.set(r.key, [...(out.get(r.key) ?? []), r.value]);
  return Object.fromEntries([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
};
const sortedExpected = () => Object.fromEntries([...expected.entries()].sort(([a], [b]) => a.localeCompare(b)));

const expectExactlyOnce = async (output: string) => {
  const seen = await readCommitted(bootstrap, output, RECORDS);
  expect(seen.length, "records visible to read_committed").toBe(RECORDS);
  expect(byKey(seen)).toEqual(sortedExpected());
  const java = await consoleRead(bootstrap, output, { expected: RECORDS });
  expect(java.length, "records Kafka's console consumer sees").toBe(RECORDS);
  expect(byKey(java)).toEqual(sortedExpected());
  expect(await openTransactions(bootstrap, "weir-kafka-totals-"), "transactions left open").toEqual([]);
};

describe("Kafka exactly-once end to end (real broker, SIGKILL)", () => {
  it("a failure-free run writes exactly the expected totals", async () => {
    const { output, checkpoints } = await freshOutput();
    await finish(output, checkpoints, 2);
    await expectExactlyOnce(output);
  }, 120_000);

  it("random kills at random moments, restarting at varying parallelism", async () => {
    let kills = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ afterMs: fc.integer({ min: 150, max: 1_500 }), parallelism: fc.integer({ min: 1, max: 3 }) }), { minLength: 5, maxLength: 5 }),
        async (schedule) => {
          const { output, checkpoints } = await freshOutput();
          for (const { afterMs, parallelism } of schedule) {
            const exit = await runOrKill(jobArgs(output, checkpoints, parallelism), afterMs);
            runs++;
            if (exit.killedByUs) kills++;
            else expect(exit.code, exit.stderr).toBe(0);
          }
          await finish(output, checkpoints, 2);
          await expectExactlyOnce(output);
        },
      ),
      { numRuns: 2, endOnFailure: true },
    );
    // Most runs must really die mid-run (kill times are short: with one consumer per subtask a run
    // finishes its input in about a second on this machine), or the property proves little.
    expect(kills, `${kills} of ${runs} runs killed mid-run`).toBeGreaterThanOrEqual(5);
  }, 300_000);

  it.each(FAILPOINTS.filter((f) => f !== "restore"))(
    "dies at failpoint '%s' and recovers exactly once",
    async (name) => {
      const { output, checkpoints } = await freshOutput();
      // Steps that happen once per checkpoint die at the first one, and so does alignment (its
      // blocks stop once the bounded sources have ended); per-task snapshot steps a little later.
      const nth = name === "after-metadata" || name === "mid-commit" || name === "alignment" ? 1 : 3;
      // Checkpoints every 20 ms, so that the nth step comes well before the input runs out.
      const exit = await runOrKill(jobArgs(output, checkpoints, 2, ["--checkpoint-interval", "20ms"]), undefined, { WEIR_FAILPOINT: `${name}@${nth}` });
      expect(exit.signal, exit.stderr).toBe("SIGKILL");
      await finish(output, checkpoints, 3);
      await expectExactlyOnce(output);
    },
    120_000,
  );
});

describe("Kafka sink configuration errors", () => {
  it("a transaction timeout above the broker's maximum is a clear error naming the setting", async () => {
    const { output, checkpoints } = await freshOutput();
    const exit = await runOrKill(jobArgs(output, checkpoints, 1, ["--param", "txn-timeout-ms=1000000"]));
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("KAFKA_TXN_TIMEOUT_TOO_LONG");
    expect(exit.stderr).toContain("transaction.max.timeout.ms 900000");
    expect(exit.stderr).not.toContain("restarting");
  }, 60_000);

  it("a transaction timeout not above the checkpoint interval is a clear error", async () => {
    const { output, checkpoints } = await freshOutput();
    const exit = await runOrKill(jobArgs(output, checkpoints, 1, ["--param", "txn-timeout-ms=500", "--checkpoint-interval", "1s"]));
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("KAFKA_TXN_TIMEOUT_TOO_SHORT");
    expect(exit.stderr).toContain("must exceed the checkpoint interval 1000 ms");
  }, 60_000);

  it("an unreachable broker is a clear error naming the address, retried under the restart strategy", async () => {
    const exit = await runOrKill([
      "run",
      "jobs/kafka-totals.ts",
      "--param",
      "brokers=127.0.0.1:1",
      "--checkpoint-dir",
      join(tmp, "unreachable"),
      "--restart-attempts",
      "2",
      "--restart-delay",
      "100ms",
      "--no-progress",
    ]);
    expect(exit.code).toBe(1);
    expect(exit.stderr).toContain("cannot reach Kafka at 127.0.0.1:1");
    expect(exit.stderr).toContain("KAFKA_UNREACHABLE");
    expect(exit.stderr.match(/restarting from the latest checkpoint/g)?.length).toBe(2);
  }, 60_000);
});
