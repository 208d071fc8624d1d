/**
 * A cached keyed-state cell and the read that fills a new one (keyed-store.ts owns the contract).
 * Every cell has this one shape, created in one place (`KeyedStateStore.prefetch`) with every
 * field set: a field added later makes the hot path polymorphic.
 */
import type { KvBackend } from "./kv-backend.ts";
import type { KeyValue } from "./key-groups.ts";
import { decodeValue } from "./value-codec.ts";
import type { ChangeList } from "./sealed-changes.ts";

/** Converts between a state's in-memory form (e.g. a Map) and the plain form that is encoded. */
export interface StoredForm {
  readonly toStored: (value: unknown) => unknown;
  readonly fromStored: (stored: unknown) => unknown;
}

export const identityForm: StoredForm = { toStored: (v) => v, fromStored: (v) => v };

export interface Cell {
  /** The cell's value (undefined: none), or the read that will fill it (a placeholder). */
  value: unknown;
  readonly key: KeyValue;
  readonly keyGroup: number;
  /**
   * The change list this cell is on: its table's open one (changed since the last cut), or one a
   * cut sealed and has not encoded this cell from yet; undefined when clean (sealed-changes.ts).
   */
  changes: ChangeList | undefined;
}

/**
 * One backend read of the cells a `prefetch` found missing: their placeholders hold it as their
 * value until it fills them. `done` never rejects unhandled: a read issued ahead may never be
 * awaited (its failure then surfaces at the `prefetch` that waits for it, or not at all).
 */
const HAND_OVER = { handOver: true } as const;

export class PendingRead {
  readonly cells: Cell[] = [];
  readonly keys: Buffer[] = [];
  readonly forms: StoredForm[] = [];
  done: Promise<void> = Promise.resolve();

  /** Reads the cells' values, in backend calls of at most `chunk` keys issued at once (they may run in parallel). */
  start(backend: KvBackend, chunk: number): void {
    const n = this.keys.length;
    // The keys are fresh buffers of this read's own: handed over, never copied.
    if (n <= chunk) this.done = backend.getMany(this.keys, HAND_OVER).then((values) => this.fill(values, 0));
    else {
      const parts: Promise<void>[] = [];
      for (let from = 0; from < n; from += chunk) {
        parts.push(backend.getMany(this.keys.slice(from, from + chunk), HAND_OVER).then((values) => this.fill(values, from)));
      }
      this.done = Promise.all(parts).then(() => undefined);
    }
    this.done.catch(() => undefined);
  }

  private fill(values: readonly (Buffer | undefined)[], from: number): void {
    for (let i = 0; i < values.length; i++) {
      const cell = this.cells[from + i]!;
      // Still this placeholder's (an evicted placeholder fills an unused cell, harmlessly).
      if (cell.value !== this) continue;
      const bytes = values[i];
      cell.value = bytes === undefined ? undefined : this.forms[from + i]!.fromStored(decodeValue(bytes));
    }
  }
}

