/**
 * The sink contract: one writer per sink subtask, shaped for two-phase commit (DESIGN §5).
 *
 * - `write` receives every record in order, one batch at a time.
 * - `preCommit(checkpointId)` makes everything written since the previous preCommit durable but
 *   not yet visible, and returns the committables (plain data) that `commit` needs; they are
 *   stored in the checkpoint. A non-transactional sink flushes here and returns [].
 * - `commit(committables)` makes them visible. It must be idempotent: after a crash it is called
 *   again, with committables that may already be committed.
 * - `close()` releases resources; it does not commit.
 *
 * At the end of a bounded job the engine takes a final checkpoint: preCommit, then commit once
 * it completes, then close.
 *
 * Recovery (`Sink.recover`, called once per sink operator before any writer of a restarted job
 * exists): commit every committable recorded in the restored checkpoint (some may already be
 * committed: that must succeed), then abort whatever the crashed run left behind (transactions
 * opened or pre-committed after that checkpoint). Called with [] on a fresh start.
 */
export interface SinkContext {
  readonly jobName: string;
  readonly operatorName: string;
  readonly subtask: number;
  readonly parallelism: number;
  /** Unique for this run of the job; used to keep file names of different runs apart. */
  readonly runId: string;
  /** Milliseconds between checkpoints (Infinity: only the final one); transactions must outlive it. */
  readonly checkpointIntervalMs: number;
}

export interface SinkWriter<T, C = unknown> {
  write(records: readonly T[]): void | Promise<void>;
  preCommit(checkpointId: number): Promise<readonly C[]>;
  commit(committables: readonly C[]): Promise<void>;
  close(): Promise<void>;
  /** State stored with each checkpoint for `Sink.recover` (e.g. transaction-naming counters). */
  snapshotState?(): unknown;
}

export interface RecoveryContext {
  readonly jobName: string;
  readonly operatorName: string;
  /** Each writer's `snapshotState()` in the restored checkpoint (empty on a fresh start). */
  readonly writerStates: readonly unknown[];
  /** Earlier runs of the job that recovery has not cleaned up after yet (killed or failed runs). */
  readonly previousRuns: readonly { readonly runId: string; readonly parallelism: number }[];
}

export interface Sink<T, C = unknown> {
  readonly name: string;
  createWriter(context: SinkContext): SinkWriter<T, C> | Promise<SinkWriter<T, C>>;
  /** Commits `committables` (idempotently) and aborts lingering transactions; see above. */
  recover?(committables: readonly C[], context: RecoveryContext): Promise<void>;
}
