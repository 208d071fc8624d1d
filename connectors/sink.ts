/**
 * The sink contract: one writer per sink subtask, shaped for two-phase commit (DESIGN §5).
 *
 * - `write` receives every record in order, one batch at a time.
 * - `preCommit(checkpointId)` makes everything written since the previous preCommit durable but
 *   not yet visible, and returns the committables (plain data) that `commit` needs; they are
 *   stored in the checkpoint. A non-transactional sink flushes here and returns [].
 * - A writer with `cutsOnCall` takes preCommit's cut before its first await: what was written
 *   before the call belongs to transaction n, what is written while its promise is pending to the
 *   next one, and `preCommit(n + 1)` may be called before `preCommit(n)` settles. The engine then
 *   awaits it in the asynchronous part of the snapshot, so its I/O (e.g. fsync) does not hold up
 *   record processing. A failing such preCommit fails the task (its records would be lost).
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
 * opened or pre-committed after that checkpoint). Called with [] on a fresh start. A sink whose
 * destination can discard a pre-committed transaction on its own (Kafka aborts one that outlives
 * its transaction timeout) reports what became of each committable (`RecoveryReport`): when
 * every committable of the restored checkpoint n was aborted and none committed, nothing of n is
 * visible and the engine restores n-1 instead (its input is read again, the records are written
 * again); when some committed and some were aborted, it stops and says what.
 *
 * Output of abandoned checkpoints (`Sink.retract`): a run that restores checkpoint n while later
 * checkpoints had completed (`--from` an older one, or a fallback past a damaged latest one) must
 * not keep, or write a second time, what those later checkpoints committed. A sink that can remove
 * it implements `retract`; for a sink without it the engine refuses such a restore unless the user
 * accepts duplicates. The engine also uses `retract(0, { dryRun: true })` on a start without a
 * checkpoint to find committed output of earlier runs of the job.
 *
 * Destination claim (`Sink.claim`): taken once per run before `recover`, released when the run
 * ends; refuses (a user error) while another live run writes to the same destination, or, where
 * liveness cannot be told (Kafka), takes the destination over so that the older run fails with
 * a clear error at its next commit.
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
  /** preCommit cuts when it is called, and may overlap writes and later preCommits (see above). */
  readonly cutsOnCall?: boolean;
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

export interface ClaimContext {
  readonly jobName: string;
  readonly operatorName: string;
  readonly runId: string;
  /** The job's checkpoint directory (`<root>/<job>`), to tell the user which run holds a claim. */
  readonly checkpointDir: string;
}

export interface SinkClaim {
  release(): Promise<void>;
  /**
   * Called on the main thread once per completed checkpoint, before any writer commits it, with
   * that checkpoint's committables of this sink (every subtask's, wherever the writers run):
   * throws (e.g. KAFKA_SINK_FENCED, after aborting them) when this run may no longer commit, which
   * fails the run before anything of the checkpoint becomes visible.
   */
  beforeCommit?(checkpointId: number, committables: readonly unknown[]): Promise<void>;
}

export interface RetractContext {
  readonly jobName: string;
  readonly operatorName: string;
  /** Every run of this job so far (the runs log): only their output is this job's to retract. */
  readonly runIds: readonly string[];
  /** Count what would be retracted, change nothing. */
  readonly dryRun: boolean;
}

export interface RetractResult {
  /** Committed outputs (e.g. part files) removed, or that would be removed on a dry run. */
  readonly removed: number;
  /** Ids of the checkpoints that had committed them, ascending. */
  readonly checkpoints: readonly number[];
  /** Where they were, for the user (e.g. the output directory). */
  readonly location: string;
  /** What they are called, plural (e.g. "part files"). */
  readonly unit: string;
}

/** One committable of a restored checkpoint, described for the user. */
export interface CommittableFate {
  /** e.g. "transaction 'weir-job-sink-lx3-1-4' (subtask 1, 500 records)". */
  readonly description: string;
  /** Records it holds, if known. */
  readonly records: number | undefined;
}

/** What `recover` found of the restored checkpoint's committables: a normal outcome, not an error. */
export interface RecoveryReport {
  /** Committed (now or before): their records are visible. */
  readonly committed: readonly CommittableFate[];
  /** Discarded by the destination before they were committed: their records are not visible and never will be. */
  readonly aborted: readonly CommittableFate[];
  /** Neither provably committed nor provably aborted. */
  readonly unknown: readonly CommittableFate[];
  /** Why committables get aborted, for the user (e.g. "the transaction timeout of 60000 ms passed ..."). */
  readonly abortReason: string;
}

export interface Sink<T, C = unknown> {
  readonly name: string;
  createWriter(context: SinkContext): SinkWriter<T, C> | Promise<SinkWriter<T, C>>;
  /** Commits `committables` (idempotently) and aborts lingering transactions; see above. */
  recover?(committables: readonly C[], context: RecoveryContext): Promise<RecoveryReport | void>;
  /**
   * Removes the output this job's runs committed under checkpoints after `afterCheckpoint`
   * (0: all of it). Idempotent: called again after a crash, it removes what is left.
   */
  retract?(afterCheckpoint: number, context: RetractContext): Promise<RetractResult>;
  /** Claims the destination for this run; see above. */
  claim?(context: ClaimContext): Promise<SinkClaim>;
  /**
   * The records committed at the destination, decoded, in write order per subtask as far as the
   * destination keeps one (read back by `weir verify --real-sinks` after the job ended). Undefined
   * when the records cannot be decoded (e.g. a custom encoder). A sink without it cannot be checked
   * by `weir verify --real-sinks`.
   */
  readCommitted?(): Promise<readonly unknown[] | undefined>;
}
