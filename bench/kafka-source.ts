/**
 * What the Kafka source costs to start, per process: TCP connections to the broker, peak RSS and
 * time to first record, for one topic of `--partitions` partitions read at `--parallelism`.
 * Starts its own single-node broker, fills the topic (`--records` per partition), then runs the
 * job (Kafka source -> discard, unbounded) in a child process so that only Weir is measured, and
 * stops it once every record was read and `--hold` ms passed.
 *
 *   npx tsx bench/kafka-source.ts [--partitions 64 --parallelism 2 --records 200 --hold 3000]
 *
 * Connections: sockets of the child (/proc/<pid>/fd) whose remote port is the broker's, sampled
 * every 20 ms (peak and at the end). RSS: the child's maxRSS. Time to first record: from the
 * call to runJob to the first record the sink sees.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    partitions: { type: "string", default: "64" },
    parallelism: { type: "string", default: "2" },
    records: { type: "string", default: "200" },
    hold: { type: "string", default: "3000" },
    child: { type: "boolean", default: false },
    bootstrap: { type: "string" },
    topic: { type: "string" },
  },
});
const PARTITIONS = Number(values.partitions);
const PARALLELISM = Number(values.parallelism);
const RECORDS = Number(values.records);

/** Sockets of this process connected to `port` (IPv4 and IPv6 tables). */
const connectionsTo = (port: number): number => {
  const inodes = new Set<string>();
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  let count = 0;
  for (const table of ["/proc/self/net/tcp", "/proc/self/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const remotePort = parseInt(cols[2]!.split(":")[1]!, 16);
      if (remotePort === port && inodes.has(cols[9]!)) count++;
    }
  }
  return count;
};

const child = async () => {
  const { job, buildJob } = await import("../engine/job.ts");
  const { paramsFrom } = await import("../engine/params.ts");
  const { planJob } = await import("../engine/plan.ts");
  const { runJob } = await import("../engine/runtime.ts");
  const { fromKafka } = await import("../connectors/kafka/index.ts");
  const { discard } = await import("../connectors/discard-sink.ts");
  const bootstrap = values.bootstrap!;
  const port = Number(bootstrap.split(":")[1]);
  const total = PARTITIONS * RECORDS;
  let firstAt: number | undefined;
  let seen = 0;
  const def = job("kafka-source-bench", (env) =>
    env
      .source(fromKafka<string, unknown>({ brokers: bootstrap, topic: values.topic! }), { name: "in" })
      .map((r) => {
        firstAt ??= performance.now();
        seen++;
        return r.offset;
      })
      .sink(discard<number>()),
  );
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, connectionsTo(port))), 20);
  const stop = new AbortController();
  const started = performance.now();
  const running = runJob({ plan: planJob(buildJob(def, { params: paramsFrom({}), parallelism: PARALLELISM })), stateBackend: "heap", stopSignal: stop.signal });
  while (seen < total) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, Number(values.hold)));
  const atEnd = connectionsTo(port);
  peak = Math.max(peak, atEnd);
  stop.abort();
  await running;
  clearInterval(sampler);
  const out = { peakConnections: peak, connectionsAtEnd: atEnd, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024), firstRecordMs: Math.round(firstAt! - started), records: seen };
  console.log(JSON.stringify(out));
  process.exit(0);
};

const parent = async () => {
  const { startBroker } = await import("../kafka/broker.ts");
  const { Kafka, logLevel } = await import("../connectors/kafka/kafkajs.ts");
  const broker = await startBroker({});
  try {
    const kafka = new Kafka({ brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    const topic = `bench-source-${PARTITIONS}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let p = 0; p < PARTITIONS; p++) {
      await producer.send({ topic, messages: Array.from({ length: RECORDS }, (_, i) => ({ partition: p, key: String(i), value: JSON.stringify({ p, i }) })) });
    }
    await producer.disconnect();
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    console.log(`Kafka source startup: ${PARTITIONS} partitions x ${RECORDS} records, parallelism ${PARALLELISM} (commit ${commit})`);
    const proc = spawn(process.execPath, [...process.execArgv, import.meta.filename, "--child", "--bootstrap", broker.bootstrap, "--topic", topic, "--partitions", String(PARTITIONS), "--parallelism", String(PARALLELISM), "--records", String(RECORDS), "--hold", String(values.hold)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    proc.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    const code = await new Promise<number | null>((done) => proc.once("close", done));
    if (code !== 0) throw new Error(`the measured process exited with ${code}: ${out}`);
    const r = JSON.parse(out.trim().split("\n").pop()!) as Record<string, number>;
    console.log(`  TCP connections to the broker: peak ${r.peakConnections}, after reading ${r.connectionsAtEnd}`);
    console.log(`  peak RSS: ${r.maxRssMb} MB`);
    console.log(`  time to first record: ${r.firstRecordMs} ms (${r.records} records read)`);
  } finally {
    await broker.stop();
  }
};

await (values.child ? child() : parent());
