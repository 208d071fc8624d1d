/**
 * What the REST API, the dashboard and /metrics show of a running job: its graph, its state over
 * restarts, per-subtask counters with rates and time ratios, checkpoint history, exceptions.
 * Fed by the run (run-command.ts) through the methods below; read by the views (flink-views.ts,
 * prometheus.ts). Plain data and explicit timestamps (no clock of its own), so it is tested with
 * made-up times.
 *
 * Rates and ratios come from two samples of the counters: `sample(now)` keeps the latest and the
 * one before (taken about a second apart by the server), and a rate is the difference over the
 * time between them. Counters restart from 0 with each attempt (as Flink's do); a sample that
 * went backwards (a restart in between) gives no rate until the next one.
 */
import { createHash, randomBytes } from "node:crypto";
import type { CompletedCheckpoint } from "../../checkpoint/driver.ts";
import { isWeirError } from "../../common/errors.ts";
import type { JobMetrics } from "../metrics.ts";
import type { ChainEdgeMode, JobPlan } from "../plan.ts";
import type { Partitioning } from "../graph.ts";
import type { TaskMetrics } from "../task-metrics.ts";

/** Flink's job states that a Weir run passes through. */
export type JobState = "INITIALIZING" | "RUNNING" | "RESTARTING" | "FINISHED" | "FAILED" | "CANCELED";

export type ShipStrategy = "FORWARD" | "HASH" | "REBALANCE" | "RESCALE" | "BROADCAST" | "CUSTOM";

/** Flink's name for an edge's partitioning (forward across a parallelism change is REBALANCE, as Flink's). */
export const shipStrategy = (kind: Partitioning["kind"], mode: ChainEdgeMode): ShipStrategy => {
  switch (kind) {
    case "hash":
      return "HASH";
    case "custom":
      return "CUSTOM";
    case "broadcast":
      return "BROADCAST";
    case "rescale":
      return "RESCALE";
    case "rebalance":
      return "REBALANCE";
    case "forward":
      return mode === "pointwise" ? "FORWARD" : "REBALANCE";
  }
};

export interface VertexInfo {
  /** 32 hex digits, stable for the same job name and chain (as Flink's vertex ids). */
  readonly id: string;
  readonly index: number;
  /** The chain's operators' display names joined with " -> " (Flink's vertex name). */
  readonly name: string;
  /** The chain's operators' uids (their state's identity). */
  readonly operators: readonly string[];
  readonly parallelism: number;
  readonly kind: "source" | "operator" | "sink";
  readonly inputs: readonly { readonly vertex: string; readonly ship: ShipStrategy }[];
}

export type CheckpointStatus = "IN_PROGRESS" | "COMPLETED" | "FAILED";

export interface CheckpointEntry {
  readonly id: number;
  status: CheckpointStatus;
  readonly triggeredAt: number;
  /** When it completed or failed. */
  endedAt?: number;
  completed?: CompletedCheckpoint;
  /** Where the completed checkpoint lies. */
  path?: string;
  failure?: string;
  /** Savepoints copied from it. */
  savepoints?: string[];
}

export interface SavepointEntry {
  readonly checkpoint: number;
  readonly path: string;
  readonly at: number;
}

export interface ExceptionEntry {
  readonly timestamp: number;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  readonly operator: string | undefined;
  readonly code: string | undefined;
  readonly domain: string | undefined;
  readonly retriable: boolean | undefined;
  /** Whether the run restarted after it (false: it ended the job). */
  readonly restarted: boolean;
}

/** One subtask's counters at a sample, and its rates since the sample before (undefined: none yet). */
export interface SubtaskView {
  readonly metrics: TaskMetrics;
  readonly recordsInPerSecond: number | undefined;
  readonly recordsOutPerSecond: number | undefined;
  /** Shares of the time between the two samples (0..1), Flink's backpressure ratios. */
  readonly idleRatio: number | undefined;
  readonly backpressuredRatio: number | undefined;
  readonly busyRatio: number | undefined;
}

interface Sample {
  readonly at: number;
  readonly tasks: ReadonlyMap<string, TaskMetrics>;
}

const HISTORY = 100;
const EXCEPTIONS = 50;

const taskKey = (chain: number, subtask: number) => `${chain}-${subtask}`;

export const vertexId = (jobName: string, chainName: string, index: number): string =>
  createHash("sha256").update(`${jobName}\u0000${index}\u0000${chainName}`).digest("hex").slice(0, 32);

export const verticesOf = (plan: JobPlan): VertexInfo[] => {
  const ids = plan.chains.map((c) => vertexId(plan.job.name, c.name, c.index));
  return plan.chains.map((chain) => {
    const head = chain.nodes[0]!;
    const last = chain.nodes[chain.nodes.length - 1]!;
    return {
      id: ids[chain.index]!,
      index: chain.index,
      name: chain.nodes.map((n) => n.displayName ?? n.name).join(" -> "),
      operators: chain.nodes.map((n) => n.name),
      parallelism: chain.parallelism,
      kind: head.spec.kind === "source" ? "source" : last.spec.kind === "sink" ? "sink" : "operator",
      inputs: chain.inputs.map((input) => ({
        vertex: ids[input.fromChain]!,
        ship: shipStrategy(input.partitioning.kind, input.mode),
      })),
    };
  });
};

export class JobStatus {
  readonly id: string;
  readonly name: string;
  readonly vertices: readonly VertexInfo[];
  readonly maxParallelism: number;
  readonly startTime: number;
  endTime = -1;
  state: JobState = "INITIALIZING";
  /** When the job entered each state (the last time). */
  readonly timestamps: Partial<Record<JobState, number>> = {};
  /** How the run ended, in Weir's words, once it has. */
  outcome: "finished" | "stopped" | "cancelled" | "failed" | undefined;
  restarts = 0;
  /** The checkpoint this run resumed from. */
  restored: { readonly id: number; readonly at: number; readonly path: string; readonly savepoint: boolean } | undefined;
  /** Savepoints taken, newest first. */
  readonly savepoints: SavepointEntry[] = [];
  readonly checkpoints: CheckpointEntry[] = [];
  readonly counts = { total: 0, inProgress: 0, completed: 0, failed: 0 };
  readonly exceptions: ExceptionEntry[] = [];
  private live: JobMetrics | undefined;
  private previous: Sample | undefined;
  private latest: Sample | undefined;

  constructor(plan: JobPlan, now: number, id: string = randomBytes(16).toString("hex")) {
    this.id = id;
    this.name = plan.job.name;
    this.vertices = verticesOf(plan);
    this.maxParallelism = plan.job.maxParallelism;
    this.startTime = now;
    this.timestamps.INITIALIZING = now;
  }

  private enter(state: JobState, now: number): void {
    this.state = state;
    this.timestamps[state] = now;
  }

  /** An attempt is running, with these live counters. */
  attemptStarted(metrics: JobMetrics, now: number): void {
    this.live = metrics;
    this.previous = this.latest = undefined;
    this.enter("RUNNING", now);
    this.sample(now);
  }

  /** The attempt failed with `error`; `restarting`: the restart strategy runs it again. */
  attemptFailed(error: unknown, restarting: boolean, now: number): void {
    this.sample(now);
    const e = error instanceof Error ? error : new Error(String(error));
    const weir = isWeirError(e) ? e : undefined;
    this.exceptions.unshift({
      timestamp: now,
      name: weir?.code ?? e.name,
      message: e.message,
      stack: e.stack,
      operator: weir?.operator,
      code: weir?.code,
      domain: weir?.domain,
      retriable: weir?.retriable,
      restarted: restarting,
    });
    this.exceptions.length = Math.min(this.exceptions.length, EXCEPTIONS);
    if (restarting) {
      this.restarts++;
      this.enter("RESTARTING", now);
    }
    for (const c of this.checkpoints) if (c.status === "IN_PROGRESS") this.failCheckpoint(c, "the attempt failed", now);
  }

  /** The run is over (`failed`: the restart strategy gave up or the failure is not retried). */
  ended(outcome: "finished" | "stopped" | "cancelled" | "failed", now: number): void {
    this.sample(now);
    this.outcome = outcome;
    this.endTime = now;
    this.enter(outcome === "failed" ? "FAILED" : outcome === "cancelled" ? "CANCELED" : "FINISHED", now);
    for (const c of this.checkpoints) if (c.status === "IN_PROGRESS") this.failCheckpoint(c, `the job ${outcome === "stopped" ? "stopped" : outcome}`, now);
  }

  get isEnded(): boolean {
    return this.endTime >= 0;
  }

  checkpointTriggered(id: number, at: number): void {
    this.checkpoints.unshift({ id, status: "IN_PROGRESS", triggeredAt: at });
    this.checkpoints.length = Math.min(this.checkpoints.length, HISTORY);
    this.counts.total++;
    this.counts.inProgress++;
  }

  checkpointCompleted(c: CompletedCheckpoint, path?: string): void {
    const entry = this.entry(c.id, c.triggeredAt);
    if (path !== undefined) entry.path = path;
    if (entry.status === "IN_PROGRESS") this.counts.inProgress--;
    else if (entry.status === "FAILED") this.counts.failed--;
    entry.status = "COMPLETED";
    entry.endedAt = c.completedAt;
    entry.completed = c;
    this.counts.completed++;
  }

  checkpointAborted(id: number, reason: string, at: number): void {
    const entry = this.checkpoints.find((c) => c.id === id);
    if (entry !== undefined && entry.status === "IN_PROGRESS") this.failCheckpoint(entry, reason, at);
  }

  private failCheckpoint(entry: CheckpointEntry, reason: string, at: number): void {
    entry.status = "FAILED";
    entry.failure = reason;
    entry.endedAt = at;
    this.counts.inProgress--;
    this.counts.failed++;
  }

  /** The history entry of `id` (made if a restart's first checkpoint completes without a trigger seen). */
  private entry(id: number, triggeredAt: number): CheckpointEntry {
    let entry = this.checkpoints.find((c) => c.id === id);
    if (entry === undefined) {
      this.checkpointTriggered(id, triggeredAt);
      entry = this.checkpoints[0]!;
    }
    return entry;
  }

  /** A savepoint was copied from checkpoint `id` into `path`. */
  savepointTaken(id: number, path: string, at: number): void {
    this.savepoints.unshift({ checkpoint: id, path, at });
    const entry = this.checkpoints.find((c) => c.id === id);
    if (entry !== undefined) (entry.savepoints ??= []).push(path);
  }

  /** The latest completed checkpoint. */
  get lastCompleted(): CheckpointEntry | undefined {
    return this.checkpoints.find((c) => c.status === "COMPLETED");
  }

  /** Keyed state size per operator, from the latest completed checkpoint. */
  get stateBytes(): Readonly<Record<string, number>> {
    return this.lastCompleted?.completed?.stateBytes ?? {};
  }

  /** Takes a sample of the live counters (copies), keeping the one before for rates. */
  sample(now: number): void {
    if (this.live === undefined) return;
    const tasks = new Map<string, TaskMetrics>();
    for (const t of this.live.tasks) tasks.set(taskKey(t.chain, t.subtask), { ...t });
    if (this.latest !== undefined && now - this.latest.at < 1) {
      this.latest = { at: this.latest.at, tasks };
      return;
    }
    this.previous = this.latest;
    this.latest = { at: now, tasks };
  }

  /** Job-wide counters of the current attempt (sources read, sinks received, state cache). */
  get jobMetrics(): JobMetrics | undefined {
    return this.live;
  }

  /** Subtask `subtask` of vertex `index` at the latest sample, with its rates. */
  subtask(index: number, subtask: number): SubtaskView | undefined {
    const key = taskKey(index, subtask);
    const now = this.latest?.tasks.get(key);
    if (now === undefined) return undefined;
    const before = this.previous?.tasks.get(key);
    const dt = this.previous === undefined ? 0 : this.latest!.at - this.previous.at;
    if (before === undefined || dt <= 0 || now.recordsIn < before.recordsIn || now.recordsOut < before.recordsOut) {
      return { metrics: now, recordsInPerSecond: undefined, recordsOutPerSecond: undefined, idleRatio: undefined, backpressuredRatio: undefined, busyRatio: undefined };
    }
    const ratio = (ms: number) => Math.min(1, Math.max(0, ms / dt));
    // The subtask measures its times itself, so over one sample interval they can add up to a little
    // more than the interval: scaled down to sum to at most 1 (idle + backpressured + busy = 1).
    const rawIdle = ratio(now.idleMs - before.idleMs);
    const rawBackpressured = ratio(now.backpressuredMs - before.backpressuredMs);
    const scale = rawIdle + rawBackpressured > 1 ? 1 / (rawIdle + rawBackpressured) : 1;
    const idle = rawIdle * scale;
    const backpressured = rawBackpressured * scale;
    return {
      metrics: now,
      recordsInPerSecond: ((now.recordsIn - before.recordsIn) * 1000) / dt,
      recordsOutPerSecond: ((now.recordsOut - before.recordsOut) * 1000) / dt,
      idleRatio: idle,
      backpressuredRatio: backpressured,
      busyRatio: Math.max(0, 1 - idle - backpressured),
    };
  }

  /** Every subtask of vertex `index` that has reported (in subtask order). */
  subtasks(index: number): SubtaskView[] {
    const vertex = this.vertices[index];
    if (vertex === undefined) return [];
    const out: SubtaskView[] = [];
    for (let s = 0; s < vertex.parallelism; s++) {
      const view = this.subtask(index, s);
      if (view !== undefined) out.push(view);
    }
    return out;
  }
}
