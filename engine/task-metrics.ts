/**
 * One subtask's counters, as Flink reports them per subtask of a job vertex (a chain): records
 * received from upstream channels (0 for a source, as in Flink), records emitted downstream, and
 * where its time went: idle (nothing to read), backpressured (waiting for room downstream), the
 * rest busy. Updated once per batch or per wait, never per record; plain data, so a worker thread
 * posts copies of them to the main thread (engine/worker/).
 */
export interface TaskMetrics {
  /** The chain's index in the plan (the job vertex). */
  readonly chain: number;
  readonly subtask: number;
  /** Wall-clock time (ms since the epoch) the subtask was created. */
  readonly startedAt: number;
  recordsIn: number;
  recordsOut: number;
  /** Milliseconds spent waiting for input. */
  idleMs: number;
  /** Milliseconds spent waiting for room in a downstream channel. */
  backpressuredMs: number;
  /** The last watermark the subtask sent downstream; -Infinity before the first. */
  watermark: number;
  /** Set once the subtask has finished its input (bounded jobs). */
  finished: boolean;
  /** A source subtask's records behind the end of each split, where its reader knows (Kafka: consumer lag per partition). */
  lag?: Record<string, number>;
}

export const newTaskMetrics = (chain: number, subtask: number, startedAt: number): TaskMetrics => ({
  chain,
  subtask,
  startedAt,
  recordsIn: 0,
  recordsOut: 0,
  idleMs: 0,
  backpressuredMs: 0,
  watermark: -Infinity,
  finished: false,
});

/** Counters that are not attached to any subtask (e.g. an Output in a unit test). */
export const detachedTaskMetrics = (): TaskMetrics => newTaskMetrics(-1, -1, 0);

/**
 * Adds the time until `pending` settles to `metrics[field]`, and returns a promise that settles
 * with it (rejections pass through). One timer read on each side of a wait, not per record.
 */
export const timed = (pending: Promise<void>, metrics: TaskMetrics, field: "idleMs" | "backpressuredMs"): Promise<void> => {
  const from = performance.now();
  const add = () => {
    metrics[field] += performance.now() - from;
  };
  return pending.then(add, (e: unknown) => {
    add();
    throw e;
  });
};
