/**
 * The split-based source contract (as Flink's FLIP-27 sources).
 *
 * A source has a fixed set of splits (files, generator shards, Kafka partitions), each with its
 * own position. The engine assigns splits to source subtasks and owns the positions: a
 * checkpoint stores each split's position, and restoring (at any parallelism) reopens each split
 * at its stored position. Records of one split are emitted in order.
 *
 * Positions are plain data (msgpack/JSON-serialisable); a reader's `position()` is the position
 * just after the last record it returned, so reopening there continues with the next record.
 *
 * Optional, for sources whose splits share a client (Kafka: one consumer for all of a subtask's
 * partitions): `openSplitSet` opens a subtask's splits together. Optional, for unbounded sources
 * whose split set grows (Kafka partitions added to a topic): `discovery`, see SplitDiscovery.
 */
import type { Sink } from "./sink.ts";

export type ReadResult<T> =
  | { readonly kind: "records"; readonly records: T[]; readonly dropped?: Dropped }
  | { readonly kind: "idle"; readonly retryAfterMs: number; readonly dropped?: Dropped }
  | { readonly kind: "end"; readonly dropped?: Dropped };

/**
 * Records a read passed over without returning them (e.g. unreadable ones under a bad-record
 * policy), by what happened to them; the engine counts them for the user (progress line, final
 * summary). The position still moves past them.
 */
export interface Dropped {
  readonly skipped: number;
  readonly deadLettered: number;
}

export interface SplitReader<T, P> {
  /** Up to `max` records of this split. Called again only after the previous call settled. */
  read(max: number): ReadResult<T> | Promise<ReadResult<T>>;
  /** Where to reopen to continue after the last record returned. */
  position(): P;
  /**
   * Records between this reader's position and the end of its split as last seen (Kafka: the
   * partition's high watermark minus the next offset, the consumer lag); undefined: not known.
   */
  lag?(): number | undefined;
  close(): void | Promise<void>;
}

/** Where a reader writes records for its source's side sink (see `Source.sideSink`). */
export interface SideOutput {
  /** Written in this subtask's current checkpoint interval; may wait (backpressure). */
  write(records: readonly unknown[]): void | Promise<void>;
}

export interface SourceContext {
  /** Injected clock (ms since epoch); generators use it for rate limits and timestamps. */
  readonly now: () => number;
  readonly jobName: string;
  /** Unique for this run of the job (e.g. to name private consumer groups). */
  readonly runId: string;
  /** The reading subtask, in `openReader` and split sets (absent where no subtask reads, e.g. `splits`). */
  readonly subtask?: number;
  /** The subtask's writer of the source's side sink, in `openReader` (absent without one). */
  readonly sideOutput?: SideOutput;
}

export interface Source<T, P = unknown> {
  /** Default operator name, e.g. "file-source". */
  readonly name: string;
  /** True if every split ends by itself. */
  readonly bounded: boolean;
  /**
   * A sink the source's readers write to themselves (e.g. a dead-letter topic), through
   * `context.sideOutput`. The engine runs it as a sink of the job: one writer per source subtask,
   * pre-committed at the subtask's snapshot (after the positions were taken, so everything written
   * before a position is in the same checkpoint), committed when the checkpoint completes,
   * recovered from the checkpoint after a failure; see engine/side-sinks.ts.
   */
  readonly sideSink?: Sink<any, any>;
  /** The split ids, stable across runs (checkpoints refer to them). */
  splits(context: SourceContext): readonly string[] | Promise<readonly string[]>;
  /**
   * Opens one split at `position` (undefined: from its start). Errors name the split
   * (a missing file is a user error naming the path).
   */
  openReader(split: string, position: P | undefined, context: SourceContext): SplitReader<T, P> | Promise<SplitReader<T, P>>;
  /**
   * One subtask's splits through one shared client. When present the engine opens every split
   * of a subtask through the set (never through `openReader`), and closes the set after its readers.
   */
  openSplitSet?(context: SourceContext): SplitSet<T, P>;
  /** Unbounded sources whose split set can grow while the job runs (absent: the set is fixed at start). */
  readonly discovery?: SplitDiscovery<P>;
}

export interface SplitSet<T, P> {
  /**
   * Opens `splits` (position undefined: from the split's start) and returns their readers in the
   * same order. May be called again while the earlier readers are reading (a discovered split);
   * errors name the split.
   */
  add(splits: readonly { readonly split: string; readonly position: P | undefined }[]): Promise<SplitReader<T, P>[]>;
  /** Releases the shared client; called once, after every reader was closed. */
  close(): Promise<void>;
}

/**
 * Split discovery (as Flink's Kafka partition discovery): every `intervalMs` each subtask lists
 * the splits again (`Source.splits`) and opens the new ones it owns. No coordinator: ownership is
 * a function of the split id and the parallelism only, so subtasks agree without talking, the
 * owner of a split never changes while a run lasts, and the engine also uses it for the initial
 * assignment. A discovered split is checkpointed like any other and reassigned on restore.
 */
export interface SplitDiscovery<P> {
  readonly intervalMs: number;
  /** The subtask (0 ≤ result < parallelism) that reads `split`. */
  owner(split: string, parallelism: number): number;
  /**
   * Where a split starts that did not exist when the job first started: one discovered while
   * running, or one a restored run finds without a checkpointed position (Kafka: the earliest offset).
   */
  newSplitPosition(split: string): P;
}
