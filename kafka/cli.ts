/**
 * A standalone Kafka broker for trying Weir's Kafka connectors by hand. Data lives in
 * .weir/kafka/data (kept between runs), the broker's output in .weir/kafka/broker.log.
 *
 *   npm run kafka:start                  # 127.0.0.1:9092 (controller 9093); returns once it is ready
 *   npm run kafka:start -- --port 19092  # controller on port + 1 unless --controller-port
 *   npm run kafka:stop                   # SIGTERM, SIGKILL after 30 s
 *   npm run kafka:topic -- totals        # creates a topic (3 partitions)
 *   npm run kafka:produce -- input       # stdin lines key:value -> topic (Kafka's console producer)
 *   npm run kafka:consume -- totals      # key<TAB>value of every committed record, until Ctrl-C
 *                                        # (Kafka's console consumer, read_committed)
 *
 * Finding the broker (Linux): the pid in .weir/kafka/broker.pid, accepted only if that process is
 * still the JVM running this data dir's server.properties (pids get reused); else any such JVM
 * found in /proc (a start interrupted before it wrote the pid file).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { spawn } from "node:child_process";
import { startBroker } from "./broker.ts";
import { CONSOLE_CONSUMER, CONSOLE_PRODUCER, consoleConsumerArgs, consoleProducerArgs, kafkaTool } from "./tools.ts";
import { createTopicAndWait } from "./topics.ts";
import { sleep, systemClock } from "../common/clock.ts";

const repoRoot = resolve(import.meta.dirname, "..");
const stateDir = join(repoRoot, ".weir", "kafka");
const dataDir = join(stateDir, "data");
const pidFile = join(stateDir, "broker.pid");
const logFile = join(stateDir, "broker.log");
const propsFile = join(dataDir, "server.properties");
const STOP_TIMEOUT_MS = 30_000;

const shown = (path: string) => relative(process.cwd(), path) || ".";

/** True while `pid` is a live (not zombie) process running kafka.Kafka on our server.properties. */
function isOurBroker(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const state = /^\d+ \(.*\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1];
    return state !== "Z" && argv.includes("kafka.Kafka") && argv.includes(propsFile);
  } catch {
    return false; // no such process
  }
}

/** The running broker's pid, if any. */
async function runningPid(): Promise<number | undefined> {
  const recorded = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (Number.isInteger(recorded) && recorded > 0 && isOurBroker(recorded)) return recorded;
  const found = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number).find(isOurBroker);
  return found;
}

const portArg = (value: string | undefined, name: string, fallback: number): number => {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--${name} must be a port number (1-65535), got "${value}"`);
  return port;
};

const bootstrapOf = (): string => {
  const text = existsSync(propsFile) ? readFileSync(propsFile, "utf8") : "";
  return /^advertised\.listeners=PLAINTEXT:\/\/(\S+)$/m.exec(text)?.[1] ?? "(unknown address)";
};

async function start(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { port: { type: "string" }, "controller-port": { type: "string" }, "heap-mb": { type: "string" } },
  });
  const port = portArg(values.port, "port", 9092);
  const controllerPort = portArg(values["controller-port"], "controller-port", port + 1);
  const heapMb = values["heap-mb"] === undefined ? undefined : Number(values["heap-mb"]);
  if (heapMb !== undefined && !(Number.isInteger(heapMb) && heapMb >= 128)) throw new Error(`--heap-mb must be an integer >= 128, got "${values["heap-mb"]}"`);

  const running = await runningPid();
  if (running !== undefined) {
    await writeFile(pidFile, `${running}\n`);
    console.log(`Kafka broker already running at ${bootstrapOf()} (pid ${running}); stop it with npm run kafka:stop`);
    return;
  }
  await mkdir(dataDir, { recursive: true });
  const started = performance.now();
  const broker = await startBroker({ dataDir, port, controllerPort, heapMb, detached: true, logFile });
  await writeFile(pidFile, `${broker.pid}\n`);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Kafka broker ready at ${broker.bootstrap}`);
  console.log(`(pid ${broker.pid}, up in ${seconds} s; data ${shown(dataDir)}, log ${shown(logFile)}; stop with npm run kafka:stop)`);
}

async function stop(): Promise<void> {
  const pid = await runningPid();
  if (pid === undefined) {
    const stale = existsSync(pidFile);
    await rm(pidFile, { force: true });
    console.log(stale ? `No Kafka broker running; removed the stale ${shown(pidFile)}` : "No Kafka broker running");
    return;
  }
  const started = performance.now();
  const waitGone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (isOurBroker(pid) && Date.now() < deadline) await sleep(systemClock, 100);
    return !isOurBroker(pid);
  };
  process.kill(pid, "SIGTERM");
  let how = "SIGTERM";
  if (!(await waitGone(STOP_TIMEOUT_MS))) {
    process.kill(pid, "SIGKILL");
    how = `SIGKILL (still running ${STOP_TIMEOUT_MS / 1000} s after SIGTERM)`;
    if (!(await waitGone(10_000))) throw new Error(`Kafka broker pid ${pid} survived SIGKILL for 10 s; left ${shown(pidFile)} in place`);
  }
  await rm(pidFile, { force: true });
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`Stopped the Kafka broker at ${bootstrapOf()} (pid ${pid}) with ${how} in ${seconds} s; data kept in ${shown(dataDir)}`);
}

/** `topic <name> [--partitions N] [--bootstrap host:port]`: creates a topic (no-op if it exists). */
async function topic(args: string[]): Promise<void> {
  const name = args[0];
  if (name === undefined || name.startsWith("--")) throw new Error("usage: tsx kafka/cli.ts topic <name> [--partitions 3] [--bootstrap 127.0.0.1:9092]");
  const flag = (f: string, d: string) => (args.includes(f) ? args[args.indexOf(f) + 1] ?? d : d);
  const partitions = Number(flag("--partitions", "3"));
  const bootstrap = flag("--bootstrap", "127.0.0.1:9092");
  const { Kafka, logLevel } = await import("../connectors/kafka/kafkajs.ts");
  const admin = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const created = (await createTopicAndWait(admin, { topic: name, partitions })) === "created";
    console.log(created ? `Created topic ${name} (${partitions} partitions) at ${bootstrap}` : `Topic ${name} already exists at ${bootstrap}`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Runs one of Kafka's console tools with this terminal's stdin, stdout and stderr; resolves to its
 * exit code. Ctrl-C reaches the tool too (same process group): it closes its client and exits,
 * which counts as success.
 */
async function runTool(mainClass: string, args: string[]): Promise<number> {
  const tool = await kafkaTool(mainClass, args);
  const child = spawn(tool.command, tool.args, { stdio: "inherit" });
  let interrupted = false;
  const onInterrupt = () => (interrupted = true);
  process.on("SIGINT", onInterrupt);
  try {
    return await new Promise<number>((done, fail) => {
      child.once("error", (e) => fail(new Error(`cannot run ${tool.command}: ${e.message} (install Java 17 or set JAVA_HOME)`)));
      child.once("exit", (code) => done(interrupted ? 0 : code ?? 1));
    });
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

const consoleUsage = {
  consume: "usage: tsx kafka/cli.ts consume <topic> [--bootstrap 127.0.0.1:9092] [--timeout-ms N]",
  produce: "usage: tsx kafka/cli.ts produce <topic> [--bootstrap 127.0.0.1:9092] < lines of key:value",
};

/** `consume <topic> [--bootstrap host:port] [--timeout-ms N]` and `produce <topic> [--bootstrap host:port]`. */
async function consoleTool(command: "consume" | "produce", args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { bootstrap: { type: "string", default: "127.0.0.1:9092" }, "timeout-ms": { type: "string" } },
  });
  const topic = positionals[0];
  const timeout = values["timeout-ms"];
  if (topic === undefined || positionals.length > 1 || (command === "produce" && timeout !== undefined)) throw new Error(consoleUsage[command]);
  const bootstrap = values.bootstrap;
  if (command === "produce") return runTool(CONSOLE_PRODUCER, consoleProducerArgs({ bootstrap, topic }));
  const idleTimeoutMs = timeout === undefined ? undefined : Number(timeout);
  if (idleTimeoutMs !== undefined && !(Number.isInteger(idleTimeoutMs) && idleTimeoutMs > 0)) throw new Error(`--timeout-ms must be a positive integer, got "${timeout}"`);
  return runTool(CONSOLE_CONSUMER, consoleConsumerArgs({ bootstrap, topic, idleTimeoutMs }));
}

const [command, ...rest] = process.argv.slice(2);
try {
  if (command === "start") await start(rest);
  else if (command === "stop") await stop();
  else if (command === "topic") await topic(rest);
  else if (command === "consume" || command === "produce") process.exit(await consoleTool(command, rest));
  else throw new Error(`usage: tsx kafka/cli.ts start [--port 9092] [--controller-port 9093] [--heap-mb 512] | stop | topic <name> [--partitions N] | produce <topic> | consume <topic>`);
  process.exit(0);
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
