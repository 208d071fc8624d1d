/**
 * The in-flight requests of an async I/O subtask as keyed state (Flink keeps them in operator
 * state): every input whose result is not yet emitted is a cell, written with the store's next
 * cut, so a checkpoint holds exactly the inputs that were queued when its barrier passed; an
 * input added and emitted between two cuts never reaches the backend.
 *
 * Cells live in key groups of this subtask's own range (spread by sequence number), under the
 * key `[subtask, seq]`, so a restore at any parallelism cuts them by key group like any keyed
 * state and each stored input is re-issued by exactly one new subtask. Within one subtask, `seq`
 * is queue order: a restore sorts by `[subtask, seq]` and then re-keys every restored input under
 * a fresh `[thisSubtask, seq]` in that order (the next cut deletes the old cells and writes the
 * new ones), so the inputs this subtask takes afterwards are numbered after the restored ones and
 * a later restore replays the queue as it was at its checkpoint (as Flink's ListState does). New
 * numbers start above every sequence number restored under this subtask's own index in its
 * range, so a new cell never overwrites a restored one.
 *
 * An input is encoded at the cut (`sealChanges`, the synchronous part of a checkpoint), not by
 * the cut's background writer: the function (or an operator after it, which gets the same object
 * when the function returns its input) may mutate it after the barrier. Encoding at the cut costs
 * at most the queued inputs (≤ capacity plus one batch) per cut; encoding when a record is queued
 * would cost every record, most of which leave before any cut. A mutation made before the
 * barrier (while the record is queued) is what the checkpoint holds, and a restore calls the
 * function again with it (Flink's snapshotState copies the queued inputs the same way).
 *
 * An input that carries a timestamp (operators/timestamps.ts) is stored under
 * `[subtask, seq, timestamp]`, so its result gets it after a restore too (a cell of two elements,
 * as older checkpoints hold, has none); re-keying keeps the timestamp.
 */
import { decodeCellKey, encodeCellKey, keyGroupByteRange } from "../../state/key-codec.ts";
import type { KeyGroupRange } from "../../state/key-groups.ts";
import type { KeyedStateStore } from "../../state/keyed-store.ts";
import type { SealedOps } from "../../state/sealed-changes.ts";
import { decodeValue, encodeValue } from "../../state/value-codec.ts";

/** One stored input. */
export interface StoredInput<I> {
  readonly input: I;
  readonly keyGroup: number;
  /** [subtask that took the input, its sequence number there]. */
  readonly id: readonly [number, number];
  /** The input's timestamp; undefined: none. */
  readonly timestamp: number | undefined;
  /** The backend holds it (written by a cut, or restored). */
  persisted: boolean;
  /** Restored from a checkpoint (its id is fresh: it says nothing about where it came from). */
  readonly restored: boolean;
}

export class InFlightState<I> {
  private readonly store: KeyedStateStore;
  private readonly stateId: number;
  private readonly range: KeyGroupRange;
  private readonly subtask: number;
  private nextSeq = 0;
  /** Changes since the last cut: true = write the input, false = delete it. */
  private readonly changes = new Map<StoredInput<I>, boolean>();

  constructor(options: { store: KeyedStateStore; range: KeyGroupRange; subtask: number; name?: string }) {
    this.store = options.store;
    this.range = options.range;
    this.subtask = options.subtask;
    this.stateId = options.store.reserve(options.name ?? "__async", { kind: "async" });
    options.store.addContributor(this);
  }

  /**
   * The stored inputs of this subtask's key groups, oldest first (by the subtask that took them,
   * then its queue order), re-keyed under fresh ids of this subtask in that order; call once, at
   * open, before `add`.
   */
  async restore(): Promise<StoredInput<I>[]> {
    const found: StoredInput<I>[] = [];
    if (this.range.end < this.range.start) return found;
    const { gte, lt } = keyGroupByteRange(this.range.start, this.range.end);
    for await (const [key, value] of this.store.backend.scan({ gte, lt })) {
      const cell = decodeCellKey(key);
      if (cell.stateId !== this.stateId) continue;
      const [taker, seq, timestamp] = cell.key as readonly [number, number, number?];
      const id = [taker, seq] as const;
      found.push({ input: decodeValue(value) as I, keyGroup: cell.keyGroup, id, timestamp, persisted: true, restored: true });
      if (id[0] === this.subtask) this.nextSeq = Math.max(this.nextSeq, id[1] + 1);
    }
    found.sort((a, b) => a.id[0] - b.id[0] || a.id[1] - b.id[1]);
    return found.map((old) => {
      this.changes.set(old, false);
      return this.fresh(old.input, old.timestamp, true);
    });
  }

  /** Stores a new input and its timestamp (NaN or undefined: none) with the next cut. */
  add(input: I, timestamp?: number): StoredInput<I> {
    return this.fresh(input, timestamp, false);
  }

  private fresh(input: I, timestamp: number | undefined, restored: boolean): StoredInput<I> {
    const seq = this.nextSeq++;
    const width = this.range.end - this.range.start + 1;
    const t = timestamp === undefined || Number.isNaN(timestamp) ? undefined : timestamp;
    const stored: StoredInput<I> = { input, keyGroup: this.range.start + (seq % width), id: [this.subtask, seq], timestamp: t, persisted: false, restored };
    this.changes.set(stored, true);
    return stored;
  }

  /** Forgets an input (its result was emitted). */
  remove(stored: StoredInput<I>): void {
    if (stored.persisted) this.changes.set(stored, false);
    else this.changes.delete(stored);
  }

  /** Inputs changed since the last cut (for tests). */
  get changedCount(): number {
    return this.changes.size;
  }

  /**
   * FlushContributor: the changes since the last cut, the inputs encoded now (see the header),
   * the keys by the cut's writer.
   */
  sealChanges(): SealedOps | undefined {
    if (this.changes.size === 0) return undefined;
    const sealed: { readonly stored: StoredInput<I>; readonly value: Buffer | undefined }[] = [];
    for (const [stored, put] of this.changes) {
      stored.persisted = put;
      sealed.push({ stored, value: put ? encodeValue(stored.input) : undefined });
    }
    this.changes.clear();
    let next = 0;
    return (ops, max) => {
      const end = Math.min(sealed.length, next + max);
      for (; next < end; next++) {
        const { stored, value } = sealed[next]!;
        const key = encodeCellKey(stored.keyGroup, this.stateId, stored.timestamp === undefined ? (stored.id as [number, number]) : [...stored.id, stored.timestamp]);
        ops.push(value !== undefined ? { kind: "put", key, value } : { kind: "delete", key });
      }
      return next === sealed.length;
    };
  }
}
