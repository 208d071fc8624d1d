/**
 * Kafka's own command-line tools, run from the jars the broker already uses (kafka/pom.xml →
 * ~/.m2): the console consumer, the console producer and TransactionsCommand. Nothing to install
 * besides Java 17 and Maven, and the clients are Kafka's Java ones, independent of kafkajs.
 *
 *   const { command, args } = await kafkaTool(CONSOLE_CONSUMER, consoleConsumerArgs({ bootstrap, topic: "totals" }));
 *   spawn(command, args, { stdio: "inherit" });   // prints key<TAB>value per committed record
 *
 * Each call starts a JVM (about 1-2 s before it does anything): fine for a check or a terminal,
 * not for a loop.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { javaBin, resolveClasspath } from "./broker.ts";

/** Kafka 3.9's console consumer (`kafka-console-consumer.sh`). */
export const CONSOLE_CONSUMER = "org.apache.kafka.tools.consumer.ConsoleConsumer";
/** Kafka 3.9's console producer (`kafka-console-producer.sh`; still in the broker's jar in 3.9). */
export const CONSOLE_PRODUCER = "kafka.tools.ConsoleProducer";
/** Kafka's `kafka-transactions.sh`: list, describe, abort transactions. */
export const TRANSACTIONS_COMMAND = "org.apache.kafka.tools.TransactionsCommand";

const toolsLog4j = join(import.meta.dirname, "tools-log4j.properties");

/**
 * The command line that runs `mainClass` with `args` on the broker's classpath (resolved with
 * Maven on first use, which can take minutes; throws KAFKA_TOOL_MISSING if Maven is missing).
 * Warnings of the tool go to stderr; a missing `java` shows as ENOENT when spawning.
 */
export async function kafkaTool(mainClass: string, args: readonly string[]): Promise<{ command: string; args: string[] }> {
  const classpath = await resolveClasspath();
  return {
    command: javaBin(),
    args: [
      "-Xmx256m",
      "-XX:+ExitOnOutOfMemoryError",
      // Short-lived tools: the C1 compiler alone and the serial collector start faster and take
      // less CPU from a busy machine.
      "-XX:TieredStopAtLevel=1",
      "-XX:+UseSerialGC",
      "-Djava.awt.headless=true",
      `-Dlog4j.configuration=${pathToFileURL(toolsLog4j).href}`,
      "-cp",
      classpath,
      mainClass,
      ...args,
    ],
  };
}

export type IsolationLevel = "read_committed" | "read_uncommitted";

export interface ConsoleConsumerOptions {
  /** "HOST:PORT". */
  readonly bootstrap: string;
  readonly topic: string;
  /** Default read_committed: what an exactly-once downstream consumer sees (no open or aborted transaction's records). */
  readonly isolation?: IsolationLevel;
  /** Start each line with "Partition:<p><TAB>Offset:<o><TAB>". Default false. */
  readonly printPosition?: boolean;
  /** Exit after this long without a new record (the first wait includes joining the group). Default: run until killed. */
  readonly idleTimeoutMs?: number;
}

/**
 * Arguments of CONSOLE_CONSUMER that print every record of `topic` from the beginning as one line
 * `[Partition:<p>\tOffset:<o>\t]<key>\t<value>`, a null key or value as `null`. The consumer
 * joins a fresh group of its own (console-consumer-<random>) and follows the topic until killed
 * (or `idleTimeoutMs`); on SIGINT/SIGTERM it closes, prints "Processed a total of N messages" to
 * stderr and exits.
 */
export function consoleConsumerArgs(o: ConsoleConsumerOptions): string[] {
  const property = (p: string) => ["--property", p];
  return [
    "--bootstrap-server",
    o.bootstrap,
    "--topic",
    o.topic,
    "--from-beginning",
    "--isolation-level",
    o.isolation ?? "read_committed",
    ...property("print.key=true"),
    ...(o.printPosition === true ? [...property("print.partition=true"), ...property("print.offset=true")] : []),
    ...(o.idleTimeoutMs === undefined ? [] : ["--timeout-ms", String(o.idleTimeoutMs)]),
  ];
}

/**
 * Arguments of CONSOLE_PRODUCER that send each line of stdin to `topic` as `<key>:<value>` (split
 * at the first ":"; a line without one fails with Kafka's "No key separator found"), acknowledged
 * by all in-sync replicas (the console producer's default acks=-1).
 */
export const consoleProducerArgs = (o: { readonly bootstrap: string; readonly topic: string }): string[] => [
  "--bootstrap-server",
  o.bootstrap,
  "--topic",
  o.topic,
  "--property",
  "parse.key=true",
  "--property",
  "key.separator=:",
];
