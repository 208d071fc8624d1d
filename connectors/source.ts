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
 */
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
  close(): void | Promise<void>;
}

export interface SourceContext {
  /** Injected clock (ms since epoch); generators use it for rate limits and timestamps. */
  readonly now: () => number;
  readonly jobName: string;
  /** Unique for this run of the job (e.g. to name private consumer groups). */
  readonly runId: string;
}

export interface Source<T, P = unknown> {
  /** Default operator name, e.g. "file-source". */
  readonly name: string;
  /** True if every split ends by itself. */
  readonly bounded: boolean;
  /** The split ids, stable across runs (checkpoints refer to them). */
  splits(context: SourceContext): readonly string[] | Promise<readonly string[]>;
  /**
   * Opens one split at `position` (undefined: from its start). Errors name the split
   * (a missing file is a user error naming the path).
   */
  openReader(split: string, position: P | undefined, context: SourceContext): SplitReader<T, P> | Promise<SplitReader<T, P>>;
}
