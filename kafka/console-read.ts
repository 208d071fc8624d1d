/**
 * An independent read_committed reader: Kafka's own console consumer (the Java client, run from
 * the broker's jars, see tools.ts), for tests (test/support/kafka.ts re-exports it) and benchmarks
 * (bench/kafka.ts) to check what a downstream exactly-once consumer sees.
 *
 *   const records = await consoleRead(bootstrap, "totals", { expected: 3 });
 *   // [{ partition: 0, offset: 0, key: "7", value: '{"account":7,"total":12}' }, ...]
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { CONSOLE_CONSUMER, consoleConsumerArgs, kafkaTool, type IsolationLevel } from "./tools.ts";

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
  /**
   * Default true. False: the consumer does not print partitions and offsets (they read as NaN and
   * the records stay in arrival order); about half the output, for reads of many records.
   */
  readonly positions?: boolean;
}

/**
 * What Kafka's own console consumer (the Java client, independent of kafkajs) sees in `topic`
 * from the beginning, by partition then offset (unless `positions` is false): read until `expected` records arrived, then
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
  const positions = o.positions ?? true;
  const args = consoleConsumerArgs({ bootstrap, topic, isolation: o.isolation, printPosition: positions, idleTimeoutMs: timeoutMs + 60_000 });
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
    if (positions) {
      const [partition, offset, key, ...value] = line.split("\t");
      seen.push({ partition: Number(partition?.replace("Partition:", "")), offset: Number(offset?.replace("Offset:", "")), key: key ?? "", value: value.join("\t") });
    } else {
      const tab = line.indexOf("\t");
      seen.push({ partition: NaN, offset: NaN, key: tab < 0 ? line : line.slice(0, tab), value: tab < 0 ? "" : line.slice(tab + 1) });
    }
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
  return positions ? seen.sort((a, b) => a.partition - b.partition || a.offset - b.offset) : seen;
}
