/**
 * Kafka helpers for tests: the run's broker (started by kafka/global-setup.ts), topic admin with
 * kafkajs, and an independent read_committed reader (Kafka's own console consumer, run from the
 * broker's jars) to check what a downstream exactly-once consumer would see.
 *
 *   const bootstrap = kafkaBootstrap();
 *   await createTopic(bootstrap, topic, 2);
 *   ... run a job that writes to `topic` ...
 *   expect(await consoleRead(bootstrap, topic, { expected: 3 })).toEqual([...]);
 */
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import type { Admin } from "kafkajs";
import { Kafka, logLevel } from "../../connectors/kafka/kafkajs.ts";
import { inject } from "vitest";
import type { KafkaProvidedKey } from "../../kafka/global-setup.ts";
import { createTopicAndWait } from "../../kafka/topics.ts";
import { CONSOLE_CONSUMER, TRANSACTIONS_COMMAND, consoleConsumerArgs, kafkaTool, type IsolationLevel } from "../../kafka/tools.ts";

/** "127.0.0.1:PORT" of the broker shared by the whole run. */
export function kafkaBootstrap(): string {
  const key: KafkaProvidedKey = "kafkaBootstrap";
  const bootstrap = inject(key) as string | undefined;
  if (bootstrap === undefined) {
    throw new Error(
      'no Kafka broker for this run: add globalSetup: ["kafka/global-setup.ts"] to vitest.config.ts ' +
        "(or run vitest with --globalSetup kafka/global-setup.ts)",
    );
  }
  return bootstrap;
}

/** A kafkajs client that logs nothing and fails fast enough for tests. */
export const testKafka = (bootstrap: string, clientId = "weir-test"): Kafka =>
  new Kafka({ clientId, brokers: [bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 10_000, requestTimeout: 30_000 });

async function withAdmin<T>(bootstrap: string, use: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = testKafka(bootstrap, "weir-test-admin").admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates a topic (replication factor 1) and waits for its partition leaders. Throws if it already exists. */
export async function createTopic(bootstrap: string, name: string, partitions: number): Promise<void> {
  const outcome = await withAdmin(bootstrap, (admin) => createTopicAndWait(admin, { topic: name, partitions, replicationFactor: 1 }));
  if (outcome === "exists") throw new Error(`topic ${name} already exists on ${bootstrap}: use a fresh name per test`);
}

export async function deleteTopic(bootstrap: string, name: string): Promise<void> {
  await withAdmin(bootstrap, (admin) => admin.deleteTopics({ topics: [name], timeout: 30_000 }));
}

export interface ConsoleRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
}

export interface ConsoleReadOptions {
  /** Records to wait for (at least 1); the read then goes on for `quietMs` so that any beyond it would show. */
  readonly expected: number;
  /** Default read_committed. read_uncommitted also shows the records of open and aborted transactions. */
  readonly isolation?: IsolationLevel;
  /** Default 3 s. */
  readonly quietMs?: number;
  /** Give up waiting for `expected` after this long and return what arrived. Default 120 s. */
  readonly timeoutMs?: number;
}

/**
 * What Kafka's own console consumer (the Java client, independent of kafkajs) sees in `topic`
 * from the beginning, by partition then offset: read until `expected` records arrived, then
 * `quietMs` more, so that duplicates, or an open or aborted transaction's records, would show
 * (a consumer fetches all partitions at once: what lies beyond arrives right behind). Never
 * fewer than what arrived in time: compare the result exactly. A null key or value reads as
 * "null"; keys must not contain tabs, values no newlines. Offsets have gaps (transaction
 * markers): compare records, not offsets. One JVM per call (1-2 s before it reads).
 * Throws if the consumer fails (e.g. no java), naming its stderr.
 */
export async function consoleRead(bootstrap: string, topic: string, o: ConsoleReadOptions): Promise<ConsoleRecord[]> {
  if (!(o.expected >= 1)) throw new Error(`consoleRead needs expected >= 1 (an empty read proves nothing before the consumer has joined), got ${o.expected}`);
  const timeoutMs = o.timeoutMs ?? 120_000;
  // The idle timeout only stops a consumer whose test process died (it is killed below otherwise).
  const args = consoleConsumerArgs({ bootstrap, topic, isolation: o.isolation, printPosition: true, idleTimeoutMs: timeoutMs + 60_000 });
  const tool = await kafkaTool(CONSOLE_CONSUMER, args);
  const child = spawn(tool.command, tool.args, { stdio: ["ignore", "pipe", "pipe"] });
  const seen: ConsoleRecord[] = [];
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-8_000)));
  let stopping = false;
  const stop = () => {
    stopping = true;
    child.kill("SIGTERM");
  };
  const deadline = setTimeout(stop, timeoutMs);
  let quiet: NodeJS.Timeout | undefined;
  createInterface({ input: child.stdout }).on("line", (line) => {
    const [partition, offset, key, ...value] = line.split("\t");
    seen.push({ partition: Number(partition?.replace("Partition:", "")), offset: Number(offset?.replace("Offset:", "")), key: key ?? "", value: value.join("\t") });
    if (seen.length >= o.expected && quiet === undefined) quiet = setTimeout(stop, o.quietMs ?? 3_000);
  });
  const exit = await new Promise<{ code: number | null; error?: Error }>((done) => {
    child.once("error", (error) => done({ code: null, error }));
    child.once("close", (code) => done({ code }));
  });
  clearTimeout(deadline);
  clearTimeout(quiet);
  if (exit.error !== undefined) throw new Error(`cannot run Kafka's console consumer (${tool.command}): ${exit.error.message}; install Java 17 or set JAVA_HOME`, { cause: exit.error });
  if (!stopping && exit.code !== 0) throw new Error(`Kafka's console consumer of ${topic} at ${bootstrap} exited with code ${exit.code}:\n${stderr}`);
  return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

export interface CommittedRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * What a read_committed kafkajs consumer sees in `topic`, in partition order: read until
 * `expected` records arrived (or nothing new came for 15 s), then `quietMs` more so that
 * duplicates beyond `expected` would show.
 */
export async function readCommitted(bootstrap: string, topic: string, expected: number, quietMs = 3_000): Promise<CommittedRecord[]> {
  const consumer = testKafka(bootstrap, "weir-test-reader").consumer({ groupId: `weir-test-reader-${topic}-${Date.now()}`, readUncommitted: false });
  const seen: CommittedRecord[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          seen.push({ partition: batch.partition, offset: Number(m.offset), key: m.key?.toString() ?? "", value: m.value?.toString() ?? "", headers });
        }
        last = Date.now();
      },
    });
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && seen.length < expected && Date.now() - last < 15_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Anything beyond `expected` (duplicates) arrives right behind it: give it a moment.
    const settle = Date.now() + quietMs;
    while (Date.now() < settle) await new Promise((r) => setTimeout(r, 50));
  } finally {
    await consumer.disconnect();
  }
  return seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/**
 * Transactional ids with `prefix` whose transaction is still open (Ongoing, PrepareCommit or
 * PrepareAbort), as Kafka's own TransactionsCommand (ListTransactions + DescribeTransactions) reports.
 */
export async function openTransactions(bootstrap: string, prefix: string): Promise<string[]> {
  const run = async (args: string[]) => {
    const tool = await kafkaTool(TRANSACTIONS_COMMAND, ["--bootstrap-server", bootstrap, ...args]);
    return new Promise<string>((resolve, reject) =>
      execFile(tool.command, tool.args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
        error === null ? resolve(stdout) : reject(new Error(`TransactionsCommand ${args.join(" ")} failed: ${stderr || error.message}`)),
      ),
    );
  };
  const lines = (await run(["list"])).trim().split("\n").slice(1);
  const open: string[] = [];
  for (const line of lines) {
    const [id, , , state] = line.trim().split(/\s+/);
    if (id === undefined || !id.startsWith(prefix)) continue;
    if (state === "Ongoing" || state === "PrepareCommit" || state === "PrepareAbort") open.push(`${id} (${state})`);
  }
  return open.sort();
}
