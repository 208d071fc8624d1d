/**
 * A real single-node Kafka broker (KRaft, broker and controller in one JVM, loopback only) for
 * tests and local runs. No Docker: the jars come from Maven (kafka/pom.xml → ~/.m2) on first use.
 *
 *   const broker = await startBroker({});          // temp data dir, free ports, ~3 s
 *   const kafka = new Kafka({ brokers: [broker.bootstrap] });
 *   await broker.kill(); await broker.restart();    // crash it; data survives
 *   await broker.stop();                            // SIGTERM; removes the temp data dir
 *
 * Readiness is polled, not read from the log: a kafkajs admin `describeCluster` must answer with
 * this data dir's cluster id and node 1 on our port (so another process holding the port is never
 * mistaken for our broker). A child that exits during start-up fails the start at once.
 *
 * An attached broker (the default) is SIGKILLed when this Node process exits (also on SIGINT,
 * SIGTERM and SIGHUP), so a crashed test run leaves no JVM behind — except after a SIGKILL of Node
 * itself, which nothing can catch. A `detached` broker outlives this process (`npm run kafka:start`).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, openSync, rmSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { Kafka, logLevel } from "../connectors/kafka/kafkajs.ts";
import { describeError, externalError } from "../common/errors.ts";
import { sleep, systemClock } from "../common/clock.ts";

export interface StartBrokerOptions {
  /** Holds server.properties, logs/ (the Kafka data) and kafka-warn.log. Default: a new temp dir, removed by stop(). */
  readonly dataDir?: string;
  /** PLAINTEXT port on 127.0.0.1. Default: a free port. */
  readonly port?: number;
  /** CONTROLLER port on 127.0.0.1. Default: a free port. */
  readonly controllerPort?: number;
  /** JVM max heap in MB. Default 512. */
  readonly heapMb?: number;
  /** Receives each line the JVM prints (attached brokers only; see kafka/log4j.properties for what that is). */
  readonly log?: (line: string) => void;
  /** Run the JVM in its own process group with its output appended to `logFile`; it outlives this process. */
  readonly detached?: boolean;
  /** Where a detached broker's stdout and stderr go. Default `<dataDir>/broker.out`. */
  readonly logFile?: string;
  /** How long to wait for readiness, per start and per restart. Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export interface KafkaBroker {
  /** "127.0.0.1:PORT". */
  readonly bootstrap: string;
  readonly dataDir: string;
  readonly port: number;
  readonly controllerPort: number;
  /** The JVM's pid (changes on restart). */
  readonly pid: number;
  /** SIGTERM (clean shutdown), SIGKILL after 30 s; removes the data dir if startBroker created it. Final; idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit. The data dir stays; restart() brings the broker back. */
  kill(): Promise<void>;
  /** stop (unless already down) then start again on the same ports and data dir, waiting for readiness. */
  restart(): Promise<void>;
}

const kafkaDir = import.meta.dirname;
const repoRoot = resolve(kafkaDir, "..");
const pomFile = join(kafkaDir, "pom.xml");
const log4jFile = join(kafkaDir, "log4j.properties");
/** Cached output of `mvn dependency:build-classpath`; re-resolved when missing, older than the pom, or naming a missing jar. */
export const classpathFile = join(repoRoot, ".weir", "kafka", "classpath.txt");

const DEFAULT_HEAP_MB = 512;
const DEFAULT_READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const POLL_MS = 200;

const brokerError = (code: string, message: string, cause?: unknown) =>
  externalError(code, message, { retriable: false, cause });


const lastLines = (text: string, n: number): string[] => text.split("\n").filter((l) => l.trim() !== "").slice(-n);

// ---------------------------------------------------------------------------------------------
// Classpath

/** The broker's classpath (jars in ~/.m2), resolving it with Maven when the cache is stale. */
export async function resolveClasspath(): Promise<string> {
  const cached = await readFile(classpathFile, "utf8").then((s) => s.trim(), () => "");
  if (cached !== "" && statSync(classpathFile).mtimeMs >= statSync(pomFile).mtimeMs && cached.split(":").every((jar) => existsSync(jar))) {
    return cached;
  }
  await mkdir(join(classpathFile, ".."), { recursive: true });
  const tmp = `${classpathFile}.${process.pid}.tmp`;
  const args = ["-q", "-B", "-Dstyle.color=never", "-f", pomFile, "dependency:build-classpath", `-Dmdep.outputFile=${tmp}`];
  await run("mvn", args, {
    label: `mvn -f ${pomFile} dependency:build-classpath`,
    timeoutMs: 15 * 60_000,
    missing: "install Maven (apt-get install maven); it fetches the Kafka jars into ~/.m2 on first use",
  });
  const fresh = (await readFile(tmp, "utf8")).trim();
  if (!fresh.includes("kafka_2.13")) throw brokerError("KAFKA_CLASSPATH", `mvn wrote no Kafka jars to ${tmp}`);
  await rename(tmp, classpathFile); // atomic: concurrent resolvers each write their own tmp file
  return fresh;
}

/** Runs a short command to completion; a failure names `label` (not the long classpath) and quotes the output. */
const run = (command: string, args: readonly string[], o: { label: string; timeoutMs: number; missing: string }) =>
  new Promise<string>((done, fail) => {
    execFile(command, args, { timeout: o.timeoutMs, maxBuffer: 16 << 20, cwd: repoRoot }, (error, stdout, stderr) => {
      if (error === null) return done(stdout);
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return fail(brokerError("KAFKA_TOOL_MISSING", `${command} not found: ${o.missing}`));
      const how = error.killed ? `timed out after ${o.timeoutMs / 1000} s` : error.signal ? `killed by ${error.signal}` : `exit code ${error.code}`;
      const output = lastLines(`${stdout}\n${stderr}`, 30).map((l) => `\n  ${l}`).join("");
      fail(brokerError("KAFKA_TOOL_FAILED", `${o.label} failed (${how}):${output || " (no output)"}`, error));
    });
  });

// ---------------------------------------------------------------------------------------------
// Ports, properties, storage

const listen = (port: number) =>
  new Promise<Server>((done, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => done(server));
  });

const closeServer = (server: Server) => new Promise<void>((done) => server.close(() => done()));

/** Two distinct free loopback ports (both held at once while choosing, so they differ). */
async function freePorts(): Promise<[number, number]> {
  const servers = [await listen(0), await listen(0)];
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map(closeServer));
  return [ports[0]!, ports[1]!];
}

async function assertPortFree(port: number, what: string): Promise<void> {
  const server = await listen(port).catch((e: unknown) => {
    throw brokerError("KAFKA_PORT_IN_USE", `cannot start Kafka: ${what} port 127.0.0.1:${port} is in use (${describeError(e)})`, e);
  });
  await closeServer(server);
}

const serverProperties = (dataDir: string, port: number, controllerPort: number): string => {
  const path = (p: string) => p.replaceAll("\\", "\\\\");
  return [
    "# Written by kafka/broker.ts on every start; edits are overwritten.",
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    `log.dirs=${path(join(dataDir, "logs"))}`,
    // One node: the internal topics cannot have the default replication factor 3 / min ISR 2.
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    // Fewer internal partitions start faster.
    "offsets.topic.num.partitions=3",
    "transaction.state.log.num.partitions=3",
    "group.initial.rebalance.delay.ms=0",
    "auto.create.topics.enable=false",
    "num.partitions=1",
    // transaction.max.timeout.ms stays at its default, 900000 (15 min).
    "",
  ].join("\n");
};

const metaPropertiesFile = (dataDir: string) => join(dataDir, "logs", "meta.properties");

/** The cluster id the data dir was formatted with, or undefined if it is not formatted. */
async function clusterIdOf(dataDir: string): Promise<string | undefined> {
  const text = await readFile(metaPropertiesFile(dataDir), "utf8").catch(() => undefined);
  return text === undefined ? undefined : /^cluster\.id=(.+)$/m.exec(text)?.[1]?.trim();
}

/** A Kafka cluster id: 16 random bytes in unpadded base64url, never starting with "-" (as Uuid.randomUuid). */
const randomClusterId = (): string => {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-") && id !== "AAAAAAAAAAAAAAAAAAAAAA" && id !== "AAAAAAAAAAAAAAAAAAAAAQ") return id;
  }
};

/** `$JAVA_HOME/bin/java`, or `java` from PATH. */
export const javaBin = () => (process.env.JAVA_HOME ? join(process.env.JAVA_HOME, "bin", "java") : "java");

const jvmArgs = (classpath: string, dataDir: string, heapMb: number) => [
  `-Xmx${heapMb}m`,
  "-XX:+ExitOnOutOfMemoryError",
  "-Djava.awt.headless=true",
  `-Dlog4j.configuration=${pathToFileURL(log4jFile).href}`,
  `-Dkafka.logs.dir=${dataDir}`,
  "-cp",
  classpath,
];

/** Formats the storage (only if meta.properties is missing) and returns the cluster id. */
async function ensureFormatted(classpath: string, dataDir: string, propsFile: string): Promise<string> {
  const existing = await clusterIdOf(dataDir);
  if (existing !== undefined) return existing;
  const args = [...jvmArgs(classpath, dataDir, 256), "kafka.tools.StorageTool", "format", "-t", randomClusterId(), "-c", propsFile, "--ignore-formatted"];
  await run(javaBin(), args, {
    label: `kafka.tools.StorageTool format -c ${propsFile}`,
    timeoutMs: 120_000,
    missing: "install Java 17 (apt-get install openjdk-17-jre-headless) or set JAVA_HOME",
  });
  const id = await clusterIdOf(dataDir);
  if (id === undefined) throw brokerError("KAFKA_FORMAT", `kafka.tools.StorageTool format left no ${metaPropertiesFile(dataDir)}`);
  return id;
}

// ---------------------------------------------------------------------------------------------
// The JVM process

interface BrokerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<string>; // "code 1" / "signal SIGKILL"
  alive(): boolean;
  /** The last lines of output of this launch, for error messages. */
  tail(): Promise<string[]>;
}

/** Attached JVMs, SIGKILLed when this process exits or is told to by a signal. */
const attached = new Set<ChildProcess>();
/** Temp data dirs of attached brokers not yet stopped: removed (best effort) after that SIGKILL. */
const tempDirs = new Set<string>();
let hooksInstalled = false;

const killAttached = () => {
  for (const child of attached) child.kill("SIGKILL");
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // best effort: a JVM dying this very moment may still hold a file
    }
  }
};

const onSignal = (signal: NodeJS.Signals) => {
  killAttached();
  // Nobody else handles it: restore the default action (terminate) by raising it again.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
};

function track(child: ChildProcess): void {
  attached.add(child);
  child.once("exit", () => attached.delete(child));
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAttached);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(signal, onSignal);
}

const exitOf = (child: ChildProcess) =>
  new Promise<string>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done(describeExit(child.exitCode, child.signalCode));
    child.once("exit", (code, signal) => done(describeExit(code, signal)));
    // A JVM that cannot be spawned (no java on PATH) emits only "error"; unhandled, it would crash Node.
    child.once("error", (e) => done(`error: ${e.message} (install Java 17 or set JAVA_HOME)`));
  });

const describeExit = (code: number | null, signal: NodeJS.Signals | null) => (signal !== null ? `signal ${signal}` : `code ${code}`);

const fileSize = (file: string) => (existsSync(file) ? statSync(file).size : 0);

const tailOf = async (file: string, from: number, n: number): Promise<string[]> => {
  const text = await readFile(file).then((b) => b.subarray(from).toString("utf8"), () => "");
  return lastLines(text, n);
};

interface Launch {
  readonly classpath: string;
  readonly dataDir: string;
  readonly propsFile: string;
  readonly heapMb: number;
  readonly detached: boolean;
  readonly logFile: string;
  readonly log: ((line: string) => void) | undefined;
}

function spawnBroker(l: Launch): BrokerProcess {
  const args = [...jvmArgs(l.classpath, l.dataDir, l.heapMb), "kafka.Kafka", l.propsFile];
  if (l.detached) {
    const from = fileSize(l.logFile);
    const fd = openSync(l.logFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(javaBin(), args, { cwd: l.dataDir, detached: true, stdio: ["ignore", fd, fd] });
    } finally {
      closeSync(fd);
    }
    child.unref();
    const exited = exitOf(child);
    return { child, exited, alive: () => child.exitCode === null && child.signalCode === null, tail: () => tailOf(l.logFile, from, 40) };
  }
  const child = spawn(javaBin(), args, { cwd: l.dataDir, detached: false, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid !== undefined) track(child);
  const recent: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    (stream as Socket).unref?.(); // the exit hook, not the pipes, decides the JVM's fate when Node is done
    createInterface({ input: stream }).on("line", (line) => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      l.log?.(line);
    });
  }
  child.unref();
  const exited = exitOf(child);
  return { child, exited, alive: () => child.exitCode === null && child.signalCode === null, tail: async () => [...recent] };
}

/** Signals the JVM and waits for its exit; SIGTERM escalates to SIGKILL after `timeoutMs`. */
async function terminate(proc: BrokerProcess, signal: "SIGTERM" | "SIGKILL", timeoutMs = STOP_TIMEOUT_MS): Promise<void> {
  if (!proc.alive()) return;
  proc.child.kill(signal);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    proc.exited.then(() => false),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    proc.child.kill("SIGKILL");
    await proc.exited;
  }
}

// ---------------------------------------------------------------------------------------------
// Readiness

/** True if something accepts TCP connections on 127.0.0.1:port (cheap pre-check before kafkajs). */
const accepts = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect({ host: "127.0.0.1", port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });

/** True once the broker on `port` answers Metadata as node 1 of cluster `clusterId`. */
async function answers(port: number, clusterId: string): Promise<boolean> {
  if (!(await accepts(port))) return false;
  const kafka = new Kafka({
    clientId: "weir-kafka-readiness",
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.clusterId === clusterId && cluster.brokers.some((b) => b.nodeId === 1 && b.port === port);
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function waitReady(proc: BrokerProcess, port: number, clusterId: string, dataDir: string, timeoutMs: number): Promise<void> {
  const warnLog = join(dataDir, "kafka-warn.log");
  const warnFrom = fileSize(warnLog);
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void proc.exited.then((e) => (exit = e));
  while (exit === undefined && Date.now() < deadline) {
    if (await answers(port, clusterId)) return;
    await Promise.race([sleep(systemClock, POLL_MS), proc.exited]);
  }
  const what =
    exit !== undefined
      ? `exited with ${exit} during start-up`
      : `did not become ready within ${Math.round(timeoutMs / 1000)} s (the JVM was killed)`;
  if (exit === undefined) await terminate(proc, "SIGKILL");
  const output = await proc.tail();
  const warnings = await tailOf(warnLog, warnFrom, 20);
  throw brokerError(
    "KAFKA_BROKER_START",
    [
      `Kafka broker on 127.0.0.1:${port} ${what} (data dir ${dataDir}).`,
      `Last broker output:${output.length === 0 ? " (none)" : ""}`,
      ...output.map((l) => `  ${l}`),
      `Last lines of ${warnLog}:${warnings.length === 0 ? " (none)" : ""}`,
      ...warnings.map((l) => `  ${l}`),
    ].join("\n"),
  );
}

// ---------------------------------------------------------------------------------------------
// startBroker

export async function startBroker(options: StartBrokerOptions = {}): Promise<KafkaBroker> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = ownsDir ? await mkdtemp(join(tmpdir(), "weir-kafka-")) : resolve(options.dataDir!);
  const forgetDir = async () => {
    tempDirs.delete(dataDir);
    await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
  };
  if (ownsDir && options.detached !== true) tempDirs.add(dataDir);
  const autoPorts = options.port === undefined && options.controllerPort === undefined;
  const timeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  try {
    await mkdir(dataDir, { recursive: true });
    const launch: Launch = {
      classpath: await resolveClasspath(),
      dataDir,
      propsFile: join(dataDir, "server.properties"),
      heapMb: options.heapMb ?? DEFAULT_HEAP_MB,
      detached: options.detached ?? false,
      logFile: resolve(options.logFile ?? join(dataDir, "broker.out")),
      log: options.log,
    };

    /** One start on fixed ports: properties, format if needed, JVM, readiness. */
    const startOn = async (port: number, controllerPort: number): Promise<BrokerProcess> => {
      await assertPortFree(port, "PLAINTEXT");
      await assertPortFree(controllerPort, "CONTROLLER");
      await writeFile(launch.propsFile, serverProperties(dataDir, port, controllerPort));
      const clusterId = await ensureFormatted(launch.classpath, dataDir, launch.propsFile);
      const proc = spawnBroker(launch);
      await waitReady(proc, port, clusterId, dataDir, timeoutMs);
      return proc;
    };

    let ports: [number, number];
    let proc: BrokerProcess;
    for (let attempt = 1; ; attempt++) {
      const [p, c] = await freePorts();
      ports = [options.port ?? p, options.controllerPort ?? c];
      try {
        proc = await startOn(...ports);
        break;
      } catch (e) {
        // Free ports are found by binding port 0 and closing it; another process may take one
        // before the JVM binds it. Only then, and only with ports we chose, try other ports.
        const raced = /Address already in use|BindException|KAFKA_PORT_IN_USE/.test(`${describeError(e)} ${(e as { code?: string }).code}`);
        if (!(autoPorts && raced && attempt < 3)) throw e;
      }
    }

    const [port, controllerPort] = ports;
    let state: "up" | "down" | "stopped" = "up";
    let queue: Promise<unknown> = Promise.resolve();
    /** Lifecycle calls run one at a time, in call order. */
    const serial = (op: () => Promise<void>): Promise<void> => {
      const next = queue.then(op);
      queue = next.catch(() => undefined);
      return next;
    };

    return {
      bootstrap: `127.0.0.1:${port}`,
      dataDir,
      port,
      controllerPort,
      get pid() {
        return proc.child.pid!;
      },
      stop: () =>
        serial(async () => {
          if (state === "stopped") return;
          state = "stopped";
          await terminate(proc, "SIGTERM");
          if (ownsDir) await forgetDir();
        }),
      kill: () =>
        serial(async () => {
          if (state === "stopped") return;
          await terminate(proc, "SIGKILL");
          state = "down";
        }),
      restart: () =>
        serial(async () => {
          if (state === "stopped") throw brokerError("KAFKA_BROKER_STOPPED", `Kafka broker ${dataDir} was stopped; start a new one`);
          await terminate(proc, "SIGTERM");
          state = "down";
          proc = await startOn(port, controllerPort);
          state = "up";
        }),
    };
  } catch (e) {
    if (ownsDir) await forgetDir();
    throw e;
  }
}
