/**
 * The checkpoint metadata format (`_metadata`, JSON): what a completed checkpoint holds. It is
 * written last, atomically; a checkpoint directory without a valid `_metadata` is not a
 * checkpoint. A checksum over the body detects a torn or edited file.
 */
import { dirname, resolve } from "node:path";
import type { KeyedStateHandle } from "../state/snapshot.ts";
import type { StateLayoutEntry } from "../state/state-signature.ts";

export interface SourceSnapshot {
  readonly operator: string;
  /** Position of every split this subtask owned, by split id. */
  readonly positions: Readonly<Record<string, unknown>>;
  /** Watermark of every split this subtask owned (sources with a watermark strategy). */
  readonly watermarks?: Readonly<Record<string, number>>;
}

export interface KeyedSnapshot {
  readonly operator: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly handle: KeyedStateHandle;
  /** The operator's states: name, id, kind and shape (absent in checkpoints of format 1). */
  readonly states?: readonly StateLayoutEntry[];
  /** The types of the keys its state is keyed by (`keyTypeOf`); absent in older checkpoints. */
  readonly keyTypes?: readonly string[];
}

export interface SinkSnapshot {
  readonly operator: string;
  readonly subtask: number;
  /** Transactions pre-committed and not yet known to be committed, oldest first. */
  readonly committables: readonly unknown[];
  /** The writer's own recovery state (`SinkWriter.snapshotState`), if it has one. */
  readonly writerState?: unknown;
}

/** Subtask 0's copy of a broadcast process operator's broadcast states (state/broadcast-state.ts). */
export interface BroadcastSnapshot {
  readonly operator: string;
  readonly subtask: number;
  /** Each state's entries, msgpack-encoded, as base64, by state name. */
  readonly states: Readonly<Record<string, string>>;
}

/** What one task acknowledges for a checkpoint. */
export interface TaskSnapshot {
  readonly task: string;
  readonly sources: readonly SourceSnapshot[];
  readonly keyed: readonly KeyedSnapshot[];
  readonly sinks: readonly SinkSnapshot[];
  /** Broadcast states (subtask 0 of each broadcast process operator only); absent when none. */
  readonly broadcast?: readonly BroadcastSnapshot[];
  /** Milliseconds from trigger to this task's acknowledgement. */
  readonly durationMs: number;
  /**
   * Milliseconds of the task's synchronous part (between two batches: no record processed), from
   * its start to the barrier being ready to forward. Absent in older checkpoints.
   */
  readonly syncMs?: number;
  /**
   * Milliseconds the asynchronous part held the task's thread in its own steps (encoding state
   * and handing it to the backend in chunks; not the backend's own work after its first await),
   * summed; absent in older checkpoints.
   */
  readonly asyncBlockingMs?: number;
  /**
   * Milliseconds from the first barrier of this checkpoint the task received to the last (while
   * its inputs were aligned); 0 for a task with one input or a source; absent in older checkpoints.
   */
  readonly alignmentMs?: number;
  /** Milliseconds of the asynchronous part, from its start to its end (absent in older checkpoints). */
  readonly asyncMs?: number;
}

/**
 * Format 2 added, per keyed snapshot, the size and checksum of every state file
 * (`handle.contents`) and the operator's state layout (`states`). Format 1 checkpoints are still
 * read: their files are checked for presence only, and their states are not compared.
 */
export const METADATA_FORMAT = 2 as const;

export interface CheckpointMetadata {
  readonly format: 1 | 2;
  readonly job: string;
  readonly id: number;
  /** When the checkpoint was triggered (ms since epoch). */
  readonly timestamp: number;
  readonly completedAt: number;
  /** The last checkpoint of a job whose sources were all exhausted. */
  readonly final: boolean;
  readonly maxParallelism: number;
  /** The job's parameters (`--param`) in the run that took it; absent in older checkpoints. */
  readonly params?: Readonly<Record<string, string>>;
  readonly tasks: readonly TaskSnapshot[];
  /**
   * Set in a savepoint (checkpoint/savepoint.ts): a self-contained copy of checkpoint
   * `fromCheckpoint`, whose state paths are relative to its own directory (a checkpoint's are
   * relative to the job's folder), so it can be moved, renamed or copied to another machine.
   */
  readonly savepoint?: { readonly fromCheckpoint: number; readonly createdAt: number };
}

/** Totals for listings and the progress line. */
export const summarize = (m: CheckpointMetadata) => {
  let bytes = 0;
  let newBytes = 0;
  for (const t of m.tasks) {
    for (const k of t.keyed) {
      bytes += k.handle.bytes;
      newBytes += k.handle.newBytes;
    }
  }
  const positions: Record<string, Record<string, unknown>> = {};
  for (const t of m.tasks) for (const s of t.sources) Object.assign((positions[s.operator] ??= {}), s.positions);
  const pendingTransactions = m.tasks.reduce((n, t) => n + t.sinks.reduce((k, s) => k + s.committables.length, 0), 0);
  return { bytes, newBytes, durationMs: m.completedAt - m.timestamp, positions, pendingTransactions };
};

/** The directory a checkpoint's (or savepoint's) state paths are relative to, for the one in `dir`. */
export const snapshotBase = (metadata: Pick<CheckpointMetadata, "savepoint">, dir: string): string =>
  metadata.savepoint === undefined ? dirname(resolve(dir)) : resolve(dir);
