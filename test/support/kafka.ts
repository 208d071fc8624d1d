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
import { execFile } from "node:child_process";
import type { Admin, Producer } from "kafkajs";
import { Kafka, logLevel } from "../../connectors/kafka/kafkajs.ts";
import { inject } from "vitest";
import type { KafkaProvidedKey } from "../../kafka/global-setup.ts";
import { createTopicAndWait } from "../../kafka/topics.ts";
import { TRANSACTIONS_COMMAND, kafkaTool } from "../../kafka/tools.ts";

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

/**
 * A producer for a test's input: idempotent, so a send retried after a slow broker's timeout is
 * not written twice (CI once read 3,600 records of a 2,000-record input on a loaded machine).
 */
export const testProducer = (bootstrap: string): Producer => testKafka(bootstrap).producer({ idempotent: true, maxInFlightRequests: 1 });

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

export { consoleRead, type ConsoleRecord, type ConsoleReadOptions } from "../../kafka/console-read.ts";

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
