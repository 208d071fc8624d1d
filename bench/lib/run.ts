/**
 * One run of one column on one query (NEXMARK-SPEC §2–4): start it with an absolute schedule,
 * sample its process tree from /proc every 200 ms, wait for it to end, read its stats files, and
 * measure the steady window. A run that breaks a rule fails loudly (`RunFailed`, naming the run):
 * non-zero exit, missing or malformed stats, first event later than startAt + 2 s, no checkpoint
 * completed at all. A latency run more than 5 % below its asked rate (the system did not sustain
 * it, e.g. on a machine someone else is using) is a result too (`rateShortfall`), marked in the
 * report beside the achieved rate: its latency includes the queueing. Fewer checkpoints inside the steady window than `minCheckpoints` is not a failure but a
 * result (`checkpointShortfall`): under full load a system's checkpoints may take longer than the
 * interval (aligned barriers queued behind backpressure, as Flink SQL's q5 showed); the report
 * marks such cells instead of dropping the system's figures. A rate above the asked one is not a failure: on an absolute
 * schedule it means the source was behind when the window opened and caught up inside it, which
 * the latency figures then show as queueing.
 */
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LatencyJson } from "../../connectors/nexmark/stats/index.ts";
import type { Column, Command, RunSpec } from "./columns.ts";
import { startProcSampler } from "./proc.ts";
import { covers, increaseIn, resourcesIn } from "./steady.ts";
import { readRunStats, type RunStats } from "./stats-files.ts";

export class RunFailed extends Error {}

/** The first event may come at most this long after startAt. */
export const START_GRACE_MS = 2000;
/** The achieved input rate of a paced run must be within this of the asked rate. */
export const RATE_TOLERANCE = 0.05;

export interface RunChecks {
  /** Checkpoints that must complete inside the steady window. */
  readonly minCheckpoints: number;
  /** Longest a run may take after its steady window ends before it is killed. */
  readonly tailTimeoutMs: number;
}

export interface RunResult {
  readonly label: string;
  readonly column: string;
  readonly system: string;
  readonly query: string;
  readonly kind: "throughput" | "latency";
  readonly rep: number;
  readonly askedRate: number | null;
  readonly startAt: number;
  readonly steadyStart: number;
  readonly steadyEnd: number;
  readonly firstEventDelayMs: number;
  readonly wallMs: number;
  readonly eventsInWindow: number;
  readonly eventsPerSec: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerMillionEvents: number;
  readonly rssMaxMiB: number;
  readonly rssMeanMiB: number;
  readonly checkpointsInWindow: number;
  /** Fewer checkpoints completed inside the steady window than required (absent: enough; older results). */
  readonly checkpointShortfall?: boolean;
  /** A latency run that fell more than RATE_TOLERANCE short of its asked rate (absent: it did not; older results). */
  readonly rateShortfall?: boolean;
  readonly checkpointsTotal: number;
  readonly latencyUs: LatencyJson;
  readonly outputRows: number;
  readonly splitsEnd: Readonly<Record<string, number>>;
  readonly buckets: RunStats["buckets"];
  readonly statsFiles: number;
}

export interface RunRequest {
  readonly column: Column;
  readonly spec: Omit<RunSpec, "statsPrefix" | "checkpointDir">;
  readonly command: (spec: RunSpec) => Command;
  readonly kind: "throughput" | "latency";
  readonly rep: number;
  readonly checks: RunChecks;
  readonly cwd: string;
}

const MIB = 1024 * 1024;

export const labelOf = (r: { column: string; query: string; kind: string; rep: number; askedRate?: number | null | undefined }): string =>
  `${r.column} ${r.query} ${r.kind === "latency" ? `at ${r.askedRate} events/s` : `rep ${r.rep}`}`;

export const runOne = async (request: RunRequest): Promise<RunResult> => {
  const { column, kind, rep, checks } = request;
  const label = labelOf({ column: column.name, query: request.spec.query, kind, rep, askedRate: request.spec.rate });
  const dir = await mkdtemp(join(tmpdir(), `weir-nexmark-${column.name}-${request.spec.query}-`));
  const spec: RunSpec = { ...request.spec, statsPrefix: join(dir, "stats", "run"), checkpointDir: join(dir, "checkpoints") };
  await mkdir(join(dir, "stats"));
  const command = request.command(spec);
  const steadyStart = spec.startAt + spec.warmupMs;
  const steadyEnd = steadyStart + spec.steadyMs;
  const started = Date.now();
  const child = spawn(command.argv[0]!, command.argv.slice(1), { cwd: request.cwd, env: { ...process.env, ...command.env }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-20_000);
  });
  const sampler = child.pid === undefined ? undefined : startProcSampler(child.pid, 200, [steadyStart, steadyEnd]);
  let killedAfterMs: number | undefined;
  const deadline = setTimeout(() => {
    killedAfterMs = Date.now() - started;
    child.kill("SIGKILL");
  }, steadyEnd + checks.tailTimeoutMs - Date.now());
  const exit = await new Promise<{ code: number | null; error?: Error }>((done) => {
    child.on("error", (error) => done({ code: null, error }));
    child.on("exit", (code) => done({ code }));
  });
  clearTimeout(deadline);
  sampler?.stop();
  const wallMs = Date.now() - started;
  const failed = (why: string): never => {
    throw new RunFailed(`${label}: ${why}\n  command: ${command.argv.join(" ")}\n  files kept in ${dir}${stderr === "" ? "" : `\n  stderr (last lines):\n${stderr.trimEnd().split("\n").slice(-15).join("\n")}`}`);
  };
  if (exit.error !== undefined) failed(`could not start: ${exit.error.message}`);
  if (killedAfterMs !== undefined) failed(`still running ${checks.tailTimeoutMs} ms after its steady window ended: killed`);
  if (exit.code !== 0) failed(`exited with code ${exit.code}`);
  let stats: RunStats;
  try {
    stats = readRunStats(spec.statsPrefix);
  } catch (e) {
    return failed((e as Error).message);
  }
  if (stats.system !== column.system) failed(`its stats files say system '${stats.system}', expected '${column.system}'`);
  if (stats.query !== spec.query) failed(`its stats files say query '${stats.query}', expected '${spec.query}'`);
  if (stats.firstEventAtMs === null) failed("its sources emitted no event");
  const firstEventDelayMs = stats.firstEventAtMs! - spec.startAt;
  if (firstEventDelayMs > START_GRACE_MS) {
    failed(`the first event came ${Math.round(firstEventDelayMs)} ms after startAt: start-up took longer than the grace; raise --startup-grace`);
  }
  for (const s of stats.sampleSeries) if (!covers(s, steadyStart, steadyEnd)) failed("its event samples do not cover the steady window");
  const eventsInWindow = increaseIn(stats.sampleSeries, steadyStart, steadyEnd);
  const eventsPerSec = eventsInWindow / (spec.steadyMs / 1000);
  let resources;
  try {
    resources = resourcesIn(sampler?.samples ?? [], steadyStart, steadyEnd);
  } catch (e) {
    return failed((e as Error).message);
  }
  const checkpointsInWindow = stats.checkpoints.filter((c) => c.completedAtMs >= steadyStart && c.completedAtMs <= steadyEnd).length;
  if (stats.checkpoints.length === 0) failed("completed no checkpoint at all (is checkpointing on?)");
  await rm(dir, { recursive: true, force: true });
  return {
    label,
    column: column.name,
    system: column.system,
    query: spec.query,
    kind,
    rep,
    askedRate: spec.rate ?? null,
    startAt: spec.startAt,
    steadyStart,
    steadyEnd,
    firstEventDelayMs,
    wallMs,
    eventsInWindow,
    eventsPerSec,
    cpuSeconds: resources.cpuSeconds,
    cpuSecondsPerMillionEvents: eventsInWindow > 0 ? resources.cpuSeconds / (eventsInWindow / 1e6) : Number.NaN,
    rssMaxMiB: resources.rssMaxBytes / MIB,
    rssMeanMiB: resources.rssMeanBytes / MIB,
    checkpointsInWindow,
    checkpointShortfall: checkpointsInWindow < checks.minCheckpoints,
    rateShortfall: spec.rate !== undefined && spec.rate - eventsPerSec > RATE_TOLERANCE * spec.rate,
    checkpointsTotal: stats.checkpoints.length,
    latencyUs: stats.latencyUs,
    outputRows: stats.outputRows,
    splitsEnd: stats.splitsEnd,
    buckets: stats.buckets,
    statsFiles: stats.files,
  };
};
