import { newStateCacheCounters, type StateCacheCounters } from "../state/keyed-store.ts";
import type { TaskMetrics } from "./task-metrics.ts";

/**
 * Counters the runtime keeps for the progress line and tests. Plain numbers, updated once per
 * batch (never per record).
 */
export interface JobMetrics {
  /** Records emitted by all source subtasks. */
  sourceRecords: number;
  /** Records sources read but dropped by their bad-record policy ("skip"). */
  sourceSkipped: number;
  /** Records sources read but sent to a dead-letter topic instead of downstream. */
  sourceDeadLettered: number;
  /** Records received by all sink subtasks. */
  sinkRecords: number;
  /** Milliseconds source subtasks spent waiting for room downstream, summed over subtasks. */
  sourceBlockedMs: number;
  /** Number of source subtasks (to turn blocked time into a fraction). */
  sourceSubtasks: number;
  readonly startedAt: number;
  checkpointsCompleted: number;
  lastCheckpoint: { readonly id: number; readonly durationMs: number; readonly bytes: number; readonly newBytes: number } | undefined;
  /** Keyed-state cache hits, misses and evictions, summed over every keyed operator subtask. */
  readonly stateCache: StateCacheCounters;
  /**
   * Per subtask (task-metrics.ts). In-thread: the live objects; with worker threads, the latest
   * copies each worker posted (replaced as they arrive).
   */
  tasks: TaskMetrics[];
}

export const newJobMetrics = (startedAt: number): JobMetrics => ({
  sourceRecords: 0,
  sourceSkipped: 0,
  sourceDeadLettered: 0,
  sinkRecords: 0,
  sourceBlockedMs: 0,
  sourceSubtasks: 0,
  startedAt,
  checkpointsCompleted: 0,
  lastCheckpoint: undefined,
  stateCache: newStateCacheCounters(),
  tasks: [],
});

/** What a worker thread counts over its subtasks and posts to the main thread (the per-batch numbers). */
export type MetricCounters = Pick<
  JobMetrics,
  "sourceRecords" | "sourceSkipped" | "sourceDeadLettered" | "sinkRecords" | "sourceBlockedMs" | "sourceSubtasks" | "stateCache" | "tasks"
>;

/** A copy of `metrics`' counters (plain data, to post). */
export const countersOf = (metrics: JobMetrics): MetricCounters => ({
  sourceRecords: metrics.sourceRecords,
  sourceSkipped: metrics.sourceSkipped,
  sourceDeadLettered: metrics.sourceDeadLettered,
  sinkRecords: metrics.sinkRecords,
  sourceBlockedMs: metrics.sourceBlockedMs,
  sourceSubtasks: metrics.sourceSubtasks,
  stateCache: { ...metrics.stateCache },
  tasks: metrics.tasks.map((t) => ({ ...t })),
});
