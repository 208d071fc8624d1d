/**
 * The cached changes of one keyed-state store as they stood at a cut (a checkpoint barrier or a
 * flush), written to the backend after the cut while the task goes on processing records.
 *
 * Sealing costs one step per state, whatever the number of changed cells: each state's open
 * change list (the cells changed since the previous cut, each once) is marked as sealed by these
 * changes, and a new list opens. A cell still on a sealed list owes its value at the cut. A value
 * may be replaced or mutated in place once the task reads it again, so such a cell is encoded at
 * the latest when its StateTable next touches it (`capture`, on every read and write); the others are
 * encoded by `writeTo` in chunks of at most `chunk` cells, each chunk written in its own backend
 * call, so no step holds the event loop for long. Every cell is encoded exactly once, with its
 * value at the cut.
 *
 * Contract for users of state values: a value must be read through its table (`get`) before it is
 * mutated in place, as the handles do. A value kept outside the state across a cut and mutated
 * without a read gives the cut the mutated value (Flink's copy-on-write heap snapshots have the
 * same rule).
 *
 * Failure behaviour: a failing backend write rejects `writeTo`; the cells not yet written stay
 * unwritten, and the store that sealed them refuses further writes (keyed-store.ts).
 */
import type { KvBackend, KvOp } from "./kv-backend.ts";
import { encodeCellKey } from "./key-codec.ts";
import type { KeyValue } from "./key-groups.ts";
import { encodeValue } from "./value-codec.ts";

/** A cached cell as sealing sees it (keyed-store.ts owns the full shape). */
export interface SealedCell {
  value: unknown;
  readonly key: KeyValue;
  readonly keyGroup: number;
  /** The change list the cell is on (undefined: clean); see ChangeList. */
  changes?: ChangeList | undefined;
}

/**
 * The cells of one state changed since a cut, each once (a cell is on one list at a time:
 * `cell.changes`). Open until the next cut seals it (`sealedBy`); a sealed list's cells leave it
 * as they are encoded.
 */
export class ChangeList {
  readonly cells: SealedCell[] = [];
  sealedBy: SealedChanges | undefined = undefined;
}

/** The state a cell belongs to: its id in the key layout, and its stored form. */
export interface SealedTable {
  readonly id: number;
  readonly form: { readonly toStored: (value: unknown) => unknown };
}

/**
 * Changes sealed at a cut outside the cell cache (e.g. timers): appends up to `max` more of their
 * ops to `ops` and returns true once all of them are appended. Called until it returns true.
 */
export type SealedOps = (ops: KvOp[], max: number) => boolean;

export interface SealedGroup {
  readonly table: SealedTable;
  readonly list: ChangeList;
}

/** What writing one cut cost, for checkpoint statistics. */
export interface SealedWriteStats {
  /** Cells sealed at the cut. */
  readonly cells: number;
  /** Of those, cells encoded when the task touched them (the rest were encoded by `writeTo`). */
  readonly captured: number;
  /** Backend writes issued. */
  readonly writes: number;
  /**
   * Milliseconds `writeTo` held the event loop in its own steps (encoding chunks, handing each to
   * the backend up to the backend's first await), summed: time in which no record was processed
   * on this thread. What the backend does after its first await on this thread (the RocksDB
   * binding turns the ops into its native batch one microtask later) is not included.
   */
  readonly blockingMs: number;
}

const HAND_OVER = { handOver: true } as const;

const encodeCell = (table: SealedTable, cell: SealedCell): KvOp => {
  const key = encodeCellKey(cell.keyGroup, table.id, cell.key);
  return cell.value === undefined ? { kind: "delete", key } : { kind: "put", key, value: encodeValue(table.form.toStored(cell.value)) };
};

export class SealedChanges {
  private readonly groups: readonly SealedGroup[];
  private readonly others: SealedOps[];
  readonly cells: number;
  private ops: KvOp[] = [];
  private group = 0;
  private index = 0;
  private captured = 0;
  private writes = 0;
  private blockingMs = 0;

  /** Seals `groups` (open change lists, taken off their tables) and `others` (e.g. timers), written with them. */
  constructor(groups: readonly SealedGroup[], others: readonly SealedOps[]) {
    this.groups = groups;
    this.others = [...others];
    let n = 0;
    for (const g of groups) {
      g.list.sealedBy = this;
      n += g.list.cells.length;
    }
    this.cells = n;
  }

  /** Encodes `cell` (on one of these sealed lists) with its value at the cut now, before the task reads or changes it. */
  capture(table: SealedTable, cell: SealedCell): void {
    this.ops.push(encodeCell(table, cell));
    cell.changes = undefined;
    this.captured++;
  }

  /** Encodes up to `max` cells not captured yet; true once every sealed cell is encoded. */
  private encodeSome(max: number): boolean {
    while (this.others.length > 0) {
      const before = this.ops.length;
      if (this.others[0]!(this.ops, max)) this.others.shift();
      if (this.ops.length - before >= max) return false;
    }
    let budget = max;
    while (this.group < this.groups.length) {
      const { table, list } = this.groups[this.group]!;
      const cells = list.cells;
      while (this.index < cells.length) {
        if (budget-- === 0) return false;
        const cell = cells[this.index++]!;
        if (cell.changes !== list) continue;
        this.ops.push(encodeCell(table, cell));
        cell.changes = undefined;
      }
      this.group++;
      this.index = 0;
    }
    return true;
  }

  /**
   * Writes every sealed cell (and the given ops) to `backend`, `chunk` ops per write at most.
   * Call once. Resolves when all of them are written.
   */
  async writeTo(backend: KvBackend, chunk: number): Promise<SealedWriteStats> {
    for (;;) {
      const started = performance.now();
      const done = this.encodeSome(chunk);
      let written: Promise<void> | undefined;
      if (this.ops.length >= chunk || (done && this.ops.length > 0)) {
        const ops = this.ops.length > chunk ? this.ops.splice(0, chunk) : this.ops;
        if (ops === this.ops) this.ops = [];
        this.writes++;
        // Encoded here, for this write only (timers' shared marker value is only read): handed over.
        written = backend.write(ops, HAND_OVER);
      }
      this.blockingMs += performance.now() - started;
      if (written !== undefined) await written;
      else if (done) break;
    }
    return { cells: this.cells, captured: this.captured, writes: this.writes, blockingMs: this.blockingMs };
  }
}
