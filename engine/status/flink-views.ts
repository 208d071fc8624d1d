/**
 * The REST API's JSON bodies, shaped like Flink 1.20's where the concept is the same (paths and
 * field names: /jobs, /jobs/overview, /jobs/:id, /jobs/:id/vertices/:vid, .../backpressure,
 * .../watermarks, /jobs/:id/checkpoints, /jobs/:id/checkpoints/details/:cid, /jobs/:id/exceptions),
 * so tools written against Flink's API find their way. Weir's additions are marked in the README:
 * per-subtask `read-records-per-second`/`write-records-per-second`, a vertex's `operators` and
 * `state-size`, a checkpoint's `sync_duration`/`async_duration`/`alignment_duration`, an
 * exception's `code`/`domain`/`retriable`/`restarted`, and the job's `weir-outcome`.
 * Pure functions of a JobStatus and the time `now`.
 */
import type { CheckpointEntry, JobStatus, SubtaskView, VertexInfo } from "./job-status.ts";

type Json = Record<string, unknown>;

const taskCounts = (status: JobStatus, vertex: VertexInfo | undefined): Json => {
  const vertices = vertex === undefined ? status.vertices : [vertex];
  const n = vertices.reduce((sum, v) => sum + v.parallelism, 0);
  let finished = 0;
  for (const v of vertices) for (const s of status.subtasks(v.index)) if (s.metrics.finished) finished++;
  const ended = status.isEnded;
  const running = status.state === "RUNNING" ? n - finished : 0;
  return {
    total: n,
    created: status.state === "INITIALIZING" || status.state === "RESTARTING" ? n : 0,
    scheduled: 0,
    deploying: 0,
    running,
    finished: status.state === "FINISHED" ? n : ended ? 0 : status.state === "RUNNING" ? finished : 0,
    canceling: 0,
    canceled: status.state === "CANCELED" ? n : 0,
    failed: status.state === "FAILED" ? n : 0,
    reconciling: 0,
    initializing: 0,
  };
};

/** A vertex's or a subtask's state in Flink's words. */
const taskState = (status: JobStatus, finished: boolean): string => {
  if (status.state === "RUNNING") return finished ? "FINISHED" : "RUNNING";
  if (status.state === "RESTARTING" || status.state === "INITIALIZING") return "CREATED";
  return status.state;
};

const duration = (status: JobStatus, now: number) => (status.isEnded ? status.endTime : now) - status.startTime;

/** Flink's per-task IO metrics object, summed over `views`. */
const ioMetrics = (views: readonly SubtaskView[], complete: boolean, until: number): Json => {
  const sum = (f: (v: SubtaskView) => number) => views.reduce((n, v) => n + f(v), 0);
  const rate = (f: (v: SubtaskView) => number | undefined) => (views.some((v) => f(v) === undefined) ? null : sum((v) => f(v)!));
  const elapsed = (v: SubtaskView) => Math.max(0, until - v.metrics.startedAt);
  return {
    "read-bytes": 0,
    "read-bytes-complete": complete,
    "write-bytes": 0,
    "write-bytes-complete": complete,
    "read-records": sum((v) => v.metrics.recordsIn),
    "read-records-complete": complete,
    "write-records": sum((v) => v.metrics.recordsOut),
    "write-records-complete": complete,
    "accumulated-backpressured-time": Math.round(sum((v) => v.metrics.backpressuredMs)),
    "accumulated-idle-time": Math.round(sum((v) => v.metrics.idleMs)),
    "accumulated-busy-time": Math.round(sum((v) => Math.max(0, elapsed(v) - v.metrics.idleMs - v.metrics.backpressuredMs))),
    "read-records-per-second": rate((v) => v.recordsInPerSecond),
    "write-records-per-second": rate((v) => v.recordsOutPerSecond),
  };
};

export const jobsList = (jobs: readonly JobStatus[]): Json => ({ jobs: jobs.map((j) => ({ id: j.id, status: j.state })) });

export const jobsOverview = (jobs: readonly JobStatus[], now: number): Json => ({
  jobs: jobs.map((j) => ({
    jid: j.id,
    name: j.name,
    state: j.state,
    "start-time": j.startTime,
    "end-time": j.endTime,
    duration: duration(j, now),
    "last-modification": Math.max(...Object.values(j.timestamps).map((t) => t ?? 0)),
    tasks: taskCounts(j, undefined),
  })),
});

const vertexSummary = (status: JobStatus, v: VertexInfo, now: number): Json => {
  const views = status.subtasks(v.index);
  const finished = views.length === v.parallelism && views.every((s) => s.metrics.finished);
  const start = views.length === 0 ? -1 : Math.min(...views.map((s) => s.metrics.startedAt));
  return {
    id: v.id,
    name: v.name,
    maxParallelism: status.maxParallelism,
    parallelism: v.parallelism,
    status: taskState(status, finished),
    "start-time": start,
    "end-time": status.isEnded ? status.endTime : -1,
    duration: start < 0 ? -1 : (status.isEnded ? status.endTime : now) - start,
    tasks: taskCounts(status, v),
    metrics: ioMetrics(views, status.isEnded, status.isEnded ? status.endTime : now),
    operators: v.operators,
    kind: v.kind,
    "state-size": v.operators.reduce((n, op) => n + (status.stateBytes[op] ?? 0), 0),
  };
};

export const jobDetails = (status: JobStatus, now: number): Json => ({
  jid: status.id,
  name: status.name,
  isStoppable: true,
  state: status.state,
  "job-type": "STREAMING",
  "start-time": status.startTime,
  "end-time": status.endTime,
  duration: duration(status, now),
  maxParallelism: status.maxParallelism,
  now,
  timestamps: status.timestamps,
  "weir-outcome": status.outcome ?? null,
  restarts: status.restarts,
  vertices: status.vertices.map((v) => vertexSummary(status, v, now)),
  "status-counts": taskCounts(status, undefined),
  plan: {
    jid: status.id,
    name: status.name,
    type: "STREAMING",
    nodes: status.vertices.map((v) => ({
      id: v.id,
      parallelism: v.parallelism,
      operator: "",
      operator_strategy: "",
      description: v.name,
      inputs: v.inputs.map((input, num) => ({ num, id: input.vertex, ship_strategy: input.ship, exchange: "pipelined_bounded" })),
      optimizer_properties: {},
    })),
  },
});

export const vertexDetails = (status: JobStatus, v: VertexInfo, now: number): Json => ({
  id: v.id,
  name: v.name,
  parallelism: v.parallelism,
  maxParallelism: status.maxParallelism,
  now,
  subtasks: status.subtasks(v.index).map((s) => ({
    subtask: s.metrics.subtask,
    status: taskState(status, s.metrics.finished),
    attempt: status.restarts,
    endpoint: "localhost",
    "start-time": s.metrics.startedAt,
    "end-time": status.isEnded ? status.endTime : -1,
    duration: (status.isEnded ? status.endTime : now) - s.metrics.startedAt,
    metrics: ioMetrics([s], status.isEnded, status.isEnded ? status.endTime : now),
  })),
});

/** Flink's thresholds: a backpressured share up to 10 % is ok, up to 50 % low, above high. */
export const backpressureLevel = (ratio: number): "ok" | "low" | "high" => (ratio <= 0.1 ? "ok" : ratio <= 0.5 ? "low" : "high");

export const vertexBackpressure = (status: JobStatus, v: VertexInfo, now: number): Json => {
  const subtasks = status.subtasks(v.index).map((s) => {
    const ratio = s.backpressuredRatio ?? 0;
    return {
      subtask: s.metrics.subtask,
      "attempt-number": status.restarts,
      backpressureLevel: backpressureLevel(ratio),
      ratio,
      idleRatio: s.idleRatio ?? 0,
      busyRatio: s.busyRatio ?? 0,
    };
  });
  const worst = Math.max(0, ...subtasks.map((s) => s.ratio));
  return { status: "ok", backpressureLevel: backpressureLevel(worst), "end-timestamp": now, subtasks };
};

/** Flink's shape: the current watermark of each subtask as `<subtask>.currentOutputWatermark` (and Input, the same for a chain). */
export const vertexWatermarks = (status: JobStatus, v: VertexInfo): Json[] =>
  status.subtasks(v.index).flatMap((s) => {
    const value = String(s.metrics.watermark === -Infinity ? Number.MIN_SAFE_INTEGER : s.metrics.watermark);
    return [
      { id: `${s.metrics.subtask}.currentInputWatermark`, value },
      { id: `${s.metrics.subtask}.currentOutputWatermark`, value },
    ];
  });

const stats = (values: readonly number[]): Json => {
  if (values.length === 0) return { min: 0, max: 0, avg: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    min: sorted[0],
    max: sorted[sorted.length - 1],
    avg: Math.round(values.reduce((a, b) => a + b, 0) / values.length),
    p50: at(0.5),
    p90: at(0.9),
    p95: at(0.95),
    p99: at(0.99),
    p999: at(0.999),
  };
};

/** The largest of a completed checkpoint's per-task times; null before it completes (or if it failed). */
const maxOf = (c: CheckpointEntry, f: (t: { syncMs: number; asyncMs: number; asyncBlockingMs: number; alignmentMs: number; durationMs: number }) => number) =>
  c.completed === undefined ? null : Math.round(Math.max(0, ...c.completed.tasks.map(f)));

const checkpointEntry = (status: JobStatus, c: CheckpointEntry): Json => {
  const done = c.completed;
  const subtasks = status.vertices.reduce((n, v) => n + v.parallelism, 0);
  const base = {
    "@class": c.status === "COMPLETED" ? "completed" : c.status === "FAILED" ? "failed" : "in_progress",
    id: c.id,
    status: c.status,
    is_savepoint: (c.savepoints?.length ?? 0) > 0,
    savepointFormat: (c.savepoints?.length ?? 0) > 0 ? "CANONICAL" : null,
    checkpoint_type: "CHECKPOINT",
    trigger_timestamp: c.triggeredAt,
    latest_ack_timestamp: done?.completedAt ?? c.endedAt ?? -1,
    state_size: done?.bytes ?? 0,
    checkpointed_size: done?.newBytes ?? 0,
    end_to_end_duration: done?.durationMs ?? (c.endedAt === undefined ? -1 : c.endedAt - c.triggeredAt),
    alignment_buffered: 0,
    processed_data: 0,
    persisted_data: 0,
    num_subtasks: subtasks,
    num_acknowledged_subtasks: done === undefined ? 0 : subtasks,
    sync_duration: maxOf(c, (t) => t.syncMs),
    async_duration: maxOf(c, (t) => t.asyncMs),
    alignment_duration: maxOf(c, (t) => t.alignmentMs),
    is_final: done?.final ?? false,
    discarded: false,
    external_path: c.savepoints?.[0] ?? c.path ?? null,
  };
  return c.status === "FAILED" ? { ...base, failure_timestamp: c.endedAt ?? -1, failure_message: c.failure ?? "" } : base;
};

export const checkpointsView = (status: JobStatus): Json => {
  const completed = status.checkpoints.filter((c) => c.status === "COMPLETED" && c.completed !== undefined);
  const failed = status.checkpoints.find((c) => c.status === "FAILED");
  const last = completed[0];
  return {
    counts: {
      restored: status.restored === undefined ? 0 : 1,
      total: status.counts.total,
      in_progress: status.counts.inProgress,
      completed: status.counts.completed,
      failed: status.counts.failed,
    },
    summary: {
      state_size: stats(completed.map((c) => c.completed!.bytes)),
      checkpointed_size: stats(completed.map((c) => c.completed!.newBytes)),
      end_to_end_duration: stats(completed.map((c) => c.completed!.durationMs)),
      alignment_buffered: stats([]),
      processed_data: stats([]),
      persisted_data: stats([]),
    },
    latest: {
      completed: last === undefined ? null : checkpointEntry(status, last),
      savepoint: (() => {
        const sp = status.savepoints[0];
        const entry = sp === undefined ? undefined : status.checkpoints.find((c) => c.id === sp.checkpoint);
        return sp === undefined ? null : { ...(entry === undefined ? { id: sp.checkpoint } : checkpointEntry(status, entry)), is_savepoint: true, external_path: sp.path };
      })(),
      failed: failed === undefined ? null : checkpointEntry(status, failed),
      restored:
        status.restored === undefined
          ? null
          : { id: status.restored.id, restore_timestamp: status.restored.at, is_savepoint: status.restored.savepoint, external_path: status.restored.path },
    },
    history: status.checkpoints.map((c) => checkpointEntry(status, c)),
  };
};

/** One checkpoint with its per-vertex figures (Flink's /checkpoints/details/:cid). */
export const checkpointDetails = (status: JobStatus, c: CheckpointEntry): Json => {
  const done = c.completed;
  const tasks: Record<string, Json> = {};
  for (const v of status.vertices) {
    const mine = done?.tasks.filter((t) => t.task.startsWith(`${v.index}-`)) ?? [];
    tasks[v.id] = {
      id: v.id,
      status: c.status,
      latest_ack_timestamp: done?.completedAt ?? -1,
      state_size: mine.reduce((n, t) => n + t.bytes, 0),
      checkpointed_size: mine.reduce((n, t) => n + t.newBytes, 0),
      end_to_end_duration: Math.round(Math.max(0, ...mine.map((t) => t.durationMs))),
      num_subtasks: v.parallelism,
      num_acknowledged_subtasks: mine.length,
      subtasks: mine.map((t) => ({
        index: Number(t.task.slice(t.task.indexOf("-") + 1)),
        status: "completed",
        end_to_end_duration: Math.round(t.durationMs),
        state_size: t.bytes,
        checkpoint: { sync: Math.round(t.syncMs), async: Math.round(t.asyncMs), async_blocking: Math.round(t.asyncBlockingMs) },
        alignment: { duration: Math.round(t.alignmentMs) },
      })),
    };
  }
  return { ...checkpointEntry(status, c), tasks };
};

export const exceptionsView = (status: JobStatus): Json => {
  const root = status.exceptions[0];
  return {
    "root-exception": root === undefined ? null : (root.stack ?? root.message),
    timestamp: root?.timestamp ?? null,
    "all-exceptions": [],
    truncated: false,
    exceptionHistory: {
      entries: status.exceptions.map((e) => ({
        exceptionName: e.name,
        stacktrace: e.stack ?? e.message,
        message: e.message,
        timestamp: e.timestamp,
        taskName: e.operator ?? null,
        endpoint: "localhost",
        failureLabels: {},
        concurrentExceptions: [],
        code: e.code ?? null,
        domain: e.domain ?? null,
        retriable: e.retriable ?? null,
        restarted: e.restarted,
      })),
      truncated: false,
    },
  };
};
