/**
 * One run of the checkpoint benchmark, in its own process (bench/checkpoints.ts starts it):
 * account-totals over an unbounded generator against RocksDB and a file sink, stopped (with a
 * stop checkpoint) after `--warmup` + `--seconds` seconds. Prints one line `RESULT <json>`.
 *
 * The engine is imported from `--root` (a checkout of Weir, e.g. a worktree of the base commit),
 * so the same measurement runs on two versions of the code. Measured, for the steady window
 * [warmup, warmup + seconds]:
 * - the sink's record counter, sampled every 100 ms (the rate is taken from it by the parent);
 * - every checkpoint completed in the window: its duration and, per task, its synchronous part,
 *   timed here around `Subtask.snapshotSync` (the same way on any version), and the time its
 *   asynchronous part held the thread (recorded by versions that have it, else absent);
 * - the event loop's delay (p50/p99/max), which shows any long synchronous step, whoever made it;
 * - the event loop's utilization (the main thread's busy fraction) and the process's CPU time
 *   over the window: in all, and (Linux) of the main thread, RocksDB's own threads and the others
 *   (libuv's pool, where the binding's reads and writes and file I/O run, and V8's helpers).
 *
 *   tsx bench/checkpoint-run.ts --root . --interval-ms 1000 [--warmup 5 --seconds 20 --accounts 100000 --parallelism 1]
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { monitorEventLoopDelay, performance as perf, type EventLoopUtilization } from "node:perf_hooks";

const { values } = parseArgs({
  options: {
    root: { type: "string", default: "." },
    "interval-ms": { type: "string", default: "0" },
    warmup: { type: "string", default: "5" },
    seconds: { type: "string", default: "20" },
    accounts: { type: "string", default: "100000" },
    parallelism: { type: "string", default: "1" },
  },
});

const root = resolve(values.root!);
const from = (path: string) => import(pathToFileURL(join(root, path)).href);

export interface RunCheckpoint {
  readonly id: number;
  /** Seconds since the start when it completed. */
  readonly at: number;
  readonly durationMs: number;
  /** Per task: synchronous part (timed by this runner) and async thread time (if recorded). */
  readonly tasks: readonly { readonly task: string; readonly syncMs: number; readonly asyncBlockingMs?: number }[];
}

export interface RunResult {
  readonly root: string;
  readonly intervalMs: number;
  readonly warmup: number;
  readonly seconds: number;
  readonly samples: readonly { readonly t: number; readonly count: number }[];
  readonly checkpoints: readonly RunCheckpoint[];
  readonly loopDelayMs: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Main thread busy fraction over the window (absent from results of older runners). */
  readonly loopUtilization?: number;
  /** Process CPU seconds (user + system, all threads) over the window. */
  readonly cpuSeconds?: number;
  /** The same by thread group (from /proc; absent elsewhere). */
  readonly threadCpuSeconds?: { readonly main: number; readonly rocksdb: number; readonly other: number };
}

/** CPU seconds so far of this process's threads by group, from /proc (undefined where there is none). */
const threadCpu = (): { main: number; rocksdb: number; other: number } | undefined => {
  try {
    const out = { main: 0, rocksdb: 0, other: 0 };
    for (const tid of readdirSync("/proc/self/task")) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const seconds = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
        if (Number(tid) === process.pid) out.main += seconds;
        else if (name.startsWith("rocksdb")) out.rocksdb += seconds;
        else out.other += seconds;
      } catch {
        // The thread ended meanwhile.
      }
    }
    return out;
  } catch {
    return undefined;
  }
};

const main = async () => {
  const [{ buildJob }, { paramsFrom }, { planJob }, { runJob }, { Subtask }, job] = await Promise.all([
    from("engine/job.ts"),
    from("engine/params.ts"),
    from("engine/plan.ts"),
    from("engine/runtime.ts"),
    from("engine/subtask.ts"),
    from("jobs/account-totals.ts"),
  ]);
  const intervalMs = Number(values["interval-ms"]);
  const warmup = Number(values.warmup);
  const seconds = Number(values.seconds);
  const end = warmup + seconds;

  // Time the synchronous part of every snapshot, per task and checkpoint.
  const syncMs = new Map<string, number>();
  const proto = Subtask.prototype as { snapshotSync: (this: { id: string }, id: number) => Promise<unknown> };
  const original = proto.snapshotSync;
  proto.snapshotSync = async function (this: { id: string }, id: number) {
    const started = performance.now();
    try {
      return await original.call(this, id);
    } finally {
      syncMs.set(`${this.id}/${id}`, performance.now() - started);
    }
  };

  const dir = await mkdtemp(join(tmpdir(), "weir-bench-chk-"));
  const samples: { t: number; count: number }[] = [];
  const checkpoints: RunCheckpoint[] = [];
  const loop = monitorEventLoopDelay({ resolution: 5 });
  const stop = new AbortController();
  let started = 0;
  const now = () => (performance.now() - started) / 1000;
  let sampler: NodeJS.Timeout | undefined;
  let utilization: number | undefined;
  let cpuSeconds: number | undefined;
  let threadSeconds: RunResult["threadCpuSeconds"];
  try {
    const built = buildJob(job.default, {
      params: paramsFrom({ events: String(1e12), accounts: values.accounts!, out: join(dir, "out") }),
      parallelism: Number(values.parallelism),
    });
    await runJob({
      plan: planJob(built),
      stateBackend: "rocksdb",
      stateDir: join(dir, "state"),
      checkpoints: { root: join(dir, "chk"), config: { intervalMs: intervalMs > 0 ? intervalMs : Infinity } },
      stopSignal: stop.signal,
      log: () => undefined,
      onStart: (metrics: { sinkRecords: number }) => {
        started = performance.now();
        samples.push({ t: 0, count: metrics.sinkRecords });
        let monitoring = false;
        let elu: EventLoopUtilization | undefined;
        let cpu: NodeJS.CpuUsage | undefined;
        let threads: ReturnType<typeof threadCpu>;
        sampler = setInterval(() => {
          const t = now();
          samples.push({ t, count: metrics.sinkRecords });
          if (!monitoring && t >= warmup) {
            loop.enable();
            elu = perf.eventLoopUtilization();
            cpu = process.cpuUsage();
            threads = threadCpu();
            monitoring = true;
          }
          if (t >= end) {
            loop.disable();
            if (elu !== undefined) utilization = perf.eventLoopUtilization(elu).utilization;
            if (cpu !== undefined) {
              const used = process.cpuUsage(cpu);
              cpuSeconds = (used.user + used.system) / 1e6;
            }
            const now = threadCpu();
            if (threads !== undefined && now !== undefined) {
              const r = (x: number) => Math.round(x * 100) / 100;
              threadSeconds = { main: r(now.main - threads.main), rocksdb: r(now.rocksdb - threads.rocksdb), other: r(now.other - threads.other) };
            }
            clearInterval(sampler);
            stop.abort();
          }
        }, 100);
      },
      onCheckpoint: (c: { id: number; durationMs: number; tasks?: readonly { task: string; asyncBlockingMs: number }[] }) => {
        const at = now();
        if (at - c.durationMs / 1000 < warmup || at > end) return;
        const tasks = [...syncMs].filter(([k]) => k.endsWith(`/${c.id}`)).map(([k, ms]) => {
          const task = k.slice(0, k.lastIndexOf("/"));
          const blocking = c.tasks?.find((t) => t.task === task)?.asyncBlockingMs;
          return { task, syncMs: ms, ...(blocking === undefined ? {} : { asyncBlockingMs: blocking }) };
        });
        checkpoints.push({ id: c.id, at, durationMs: c.durationMs, tasks });
      },
    });
  } finally {
    if (sampler !== undefined) clearInterval(sampler);
    await rm(dir, { recursive: true, force: true });
  }
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  const result: RunResult = {
    root,
    intervalMs,
    warmup,
    seconds,
    samples,
    checkpoints,
    loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
    ...(utilization === undefined ? {} : { loopUtilization: Math.round(utilization * 1000) / 1000 }),
    ...(cpuSeconds === undefined ? {} : { cpuSeconds: Math.round(cpuSeconds * 100) / 100 }),
    ...(threadSeconds === undefined ? {} : { threadCpuSeconds: threadSeconds }),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
};

await main();
