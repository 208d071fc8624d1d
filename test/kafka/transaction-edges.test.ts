/**
 * Kafka transactions at the edges, against the real broker, read back with Kafka's own console
 * consumer (read_committed):
 * - a job killed after checkpoint n completed but before its commit, and left down past the
 *   transaction timeout (the broker aborts n's transactions): the rerun restores n-1 by itself,
 *   says so in one line, and the output is exactly once;
 * - the same job started twice with different checkpoint directories: the newer run takes the
 *   topic over, the older one fails with KAFKA_SINK_FENCED at its next commit (committing
 *   nothing), and the topic holds the output once.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consoleRead, createTopic, kafkaBootstrap, openTransactions, testProducer } from "../support/kafka.ts";
import { completedCheckpointIds, runOrKill, startWeir } from "../support/weir-process.ts";

const JOB = "kafka-totals";
const HALF = 500;
const ACCOUNTS = 20;
let bootstrap: string;
let tmp: string;

beforeAll(async () => {
  bootstrap = kafkaBootstrap();
  tmp = await mkdtemp(join(tmpdir(), "weir-kafka-txn-edges-"));
}, 120_000);

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const record = (i: number) => ({ account: i % ACCOUNTS, amount: i });

const produce = async (topic: string, from: number, count: number) => {
  const producer = testProducer(bootstrap);
  await producer.connect();
  const messages = Array.from({ length: count }, (_, k) => ({ key: String(record(from + k).account), value: JSON.stringify(record(from + k)) }));
  await producer.send({ topic, messages });
  await producer.disconnect();
};

/** Running totals per account (key), in order, for inputs 0..count-1. */
const expectedTotals = (count: number): Record<string, string[]> => {
  const totals = new Map<number, number>();
  const out: Record<string, string[]> = {};
  for (let i = 0; i < count; i++) {
    const { account, amount } = record(i);
    const total = (totals.get(account) ?? 0) + amount;
    totals.set(account, total);
    (out[String(account)] ??= []).push(JSON.stringify({ account, total }));
  }
  return out;
};

const byKey = (records: readonly { key: string; value: string }[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const r of records) (out[r.key] ??= []).push(r.value);
  return out;
};

const until = async (condition: () => Promise<boolean>, what: string, timeoutMs = 120_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

/** The id of the (single) run recorded in a checkpoint directory's runs log. */
const runIdOf = async (checkpoints: string): Promise<string | undefined> =>
  (await readdir(join(checkpoints, JOB, "runs")).catch(() => [] as string[])).find((n) => n.endsWith(".json"))?.replace(/\.json$/, "");

const args = (input: string, output: string, checkpoints: string, extra: string[]) => [
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
  "--parallelism",
  "2",
  "--restart-delay",
  "200ms",
  "--no-progress",
  ...extra,
];

describe("Kafka transactions at the edges", () => {
  it("a checkpoint whose transactions the broker aborted while the job was down: the rerun restores the one before, says so, output exactly once", async () => {
    const input = `edges-timeout-in-${Date.now()}`;
    const output = `edges-timeout-out-${Date.now()}`;
    await createTopic(bootstrap, input, 2);
    await createTopic(bootstrap, output, 2);
    const checkpoints = join(tmp, "timeout");
    const common = ["--param", "txn-timeout-ms=5000", "--checkpoint-interval", "2s"];

    // Half the input before checkpoint 1, half after it (in checkpoint 2's transactions); killed
    // once checkpoint 2 is complete, before its transactions are committed.
    await produce(input, 0, HALF);
    const first = startWeir(args(input, output, checkpoints, [...common, "--param", "bounded=false"]), { WEIR_FAILPOINT: "after-metadata@2" });
    await until(async () => (await completedCheckpointIds(checkpoints, JOB)).includes(1), "checkpoint 1");
    await produce(input, HALF, HALF);
    const killed = await first.exited;
    expect(killed.signal, killed.stderr).toBe("SIGKILL");
    expect(await completedCheckpointIds(checkpoints, JOB)).toContain(2);

    // Down until the broker has aborted checkpoint 2's transactions (timeout 5 s, checked every 10 s).
    const runId = await runIdOf(checkpoints);
    expect(runId).toBeDefined();
    await until(async () => (await openTransactions(bootstrap, `weir-${JOB}-totals-${runId}-`)).length === 0, "the broker to abort the transactions");

    const rerun = await runOrKill(args(input, output, checkpoints, [...common, "--param", "bounded=true"]));
    expect(rerun.code, rerun.stderr).toBe(0);
    const lines = rerun.stderr.split("\n").filter((l) => l.includes("the broker aborted"));
    expect(lines, rerun.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^weir: checkpoint 2 of 'kafka-totals': the broker aborted all its 2 transactions with \d+ records \(sink 'totals': transaction '.+' \(subtask [01], \d+ records\), transaction '.+' \(subtask [01], \d+ records\)\) before they were committed \(.*transaction timeout \(5000 ms\)\), so none of its output is visible; this run restores checkpoint 1 instead and writes those records again \(checkpoint 2 is deleted\)$/,
    );
    expect(rerun.stderr).not.toContain("restarting");
    expect(rerun.stderr).not.toContain("KAFKA_TXN_LOST");

    const seen = await consoleRead(bootstrap, output, { expected: 2 * HALF });
    expect(seen.length).toBe(2 * HALF);
    expect(byKey(seen)).toEqual(expectedTotals(2 * HALF));
  }, 300_000);

  it("a second run of the job with another checkpoint directory takes the topic over; the first fails with a clear error and commits nothing", async () => {
    const input = `edges-twice-in-${Date.now()}`;
    const output = `edges-twice-out-${Date.now()}`;
    await createTopic(bootstrap, input, 2);
    await createTopic(bootstrap, output, 2);
    await produce(input, 0, 2 * HALF);
    const older = join(tmp, "twice-a");
    const newer = join(tmp, "twice-b");

    // The older run writes everything into open transactions (no checkpoint for 10 minutes).
    const a = startWeir(args(input, output, older, ["--param", "bounded=false", "--param", "txn-timeout-ms=900000", "--checkpoint-interval", "10m"]));
    await until(async () => (await runIdOf(older)) !== undefined, "the older run to start");
    const runA = await runIdOf(older);
    await until(async () => (await openTransactions(bootstrap, `weir-${JOB}-totals-${runA}-`)).length === 2, "the older run's transactions");

    // The newer run (another checkpoint directory) runs to its end.
    const b = await runOrKill(args(input, output, newer, ["--param", "bounded=true", "--checkpoint-interval", "1s"]));
    expect(b.code, b.stderr).toBe(0);

    // Stopping the older run commits its final checkpoint: it must find it has been taken over.
    process.kill(a.pid, "SIGTERM");
    const stopped = await a.exited;
    expect(stopped.code, stopped.stderr).toBe(1);
    expect(stopped.stderr).toContain(
      `Kafka sink 'totals' of job 'kafka-totals': another run of the job started writing topic '${output}' (it took over transactional id 'weir-kafka-totals-totals:writer:${output}'); only one run may write a sink, so this run stops without committing`,
    );
    expect(stopped.stderr).toContain("(KAFKA_SINK_FENCED)");
    expect(stopped.stderr).not.toContain("restarting");

    const seen = await consoleRead(bootstrap, output, { expected: 2 * HALF });
    expect(seen.length, "no duplicates").toBe(2 * HALF);
    expect(byKey(seen)).toEqual(expectedTotals(2 * HALF));
    expect(await openTransactions(bootstrap, `weir-${JOB}-totals-${runA}-`)).toEqual([]);
  }, 300_000);
});
