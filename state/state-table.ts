/**
 * One declared state of an operator subtask: its cached cells (by key), and its list of cells
 * changed since the last cut. Reads and writes go to the cell of the store's current key, which a
 * prefetch must have loaded (keyed-store.ts).
 */
import { internalError } from "../common/errors.ts";
import { PendingRead, type Cell, type StoredForm } from "./cell.ts";
import type { KeyedStateStore } from "./keyed-store.ts";
import { ChangeList } from "./sealed-changes.ts";
import type { StateSignature } from "./state-signature.ts";
import type { TtlKind } from "./ttl.ts";

/** A TTL state's expiry, for the store's cleanup of stored values (keyed-store.ts). */
export interface TableExpiry {
  readonly kind: TtlKind;
  readonly millis: number;
  /** The processing-time clock the state's TTL is measured on. */
  readonly now: () => number;
}

/** What a state may have besides its form: see `KeyedStateStore.register`. */
export interface TableExtras {
  /** Reads a value an older version of this state stored (StateOptions.migrate). */
  readonly migrate?: (old: unknown, fromVersion: number) => unknown;
  /** Set for a TTL state: the store removes its expired stored values at cuts (keyed-store.ts). */
  readonly expiry?: TableExpiry;
}

export class StateTable {
  private readonly store: KeyedStateStore;
  readonly name: string;
  readonly id: number;
  readonly form: StoredForm;
  readonly signature: StateSignature;
  /** Reads a value an older version of this state stored (StateOptions.migrate); undefined: none. */
  readonly migrate: ((old: unknown, fromVersion: number) => unknown) | undefined;
  /** Set for a TTL state (TableExtras.expiry). */
  readonly expiry: TableExpiry | undefined;
  private cells = new Map<unknown, Cell>();
  private compositeCells = new Map<string, Cell>();
  /** Cells changed since the last cut, each once. */
  private open = new ChangeList();
  /** Entries of `open` whose cell eviction moved off it (they stay listed; a cut skips them). */
  private leftOpen = 0;
  /**
   * The cell `current()` found last, and its key (an operator reads, then writes, one key's cell:
   * one map lookup instead of two). Dropped whenever a cell enters or leaves the maps.
   */
  private lastCell: Cell | undefined;
  private lastId: unknown;
  private lastComposite = false;

  constructor(
    store: KeyedStateStore,
    name: string,
    id: number,
    form: StoredForm,
    signature: StateSignature,
    extras: TableExtras = {},
  ) {
    this.migrate = extras.migrate;
    this.expiry = extras.expiry;
    this.store = store;
    this.name = name;
    this.id = id;
    this.form = form;
    this.signature = signature;
  }

  lookup(id: unknown, composite: boolean): Cell | undefined {
    return composite ? this.compositeCells.get(id as string) : this.cells.get(id);
  }

  insert(id: unknown, composite: boolean, cell: Cell): void {
    this.lastCell = undefined;
    if (composite) this.compositeCells.set(id as string, cell);
    else this.cells.set(id, cell);
  }

  get cachedCount(): number {
    return this.cells.size + this.compositeCells.size;
  }

  /** The list of cells changed since the last cut (for eviction). */
  get openList(): ChangeList {
    return this.open;
  }

  /**
   * Eviction moved `n` cells off the open list to a list of their own. Once most of the open
   * list's entries are such leftovers, it is compacted, so it does not grow without bound
   * between cuts (e.g. without checkpoints) while state far larger than the cache is changed.
   */
  leftOpenList(n: number): void {
    this.leftOpen += n;
    const list = this.open;
    if (this.leftOpen * 2 <= list.cells.length) return;
    const live = list.cells.filter((c) => c.changes === list);
    list.cells.length = 0;
    for (const c of live) list.cells.push(c);
    this.leftOpen = 0;
  }

  /**
   * Removes up to `n` cells from the cache, oldest inserted first, skipping placeholders still
   * being read and the keys in `pinned` (by cache id), and calls `victim` for each; returns how
   * many were removed.
   */
  evictOldest(n: number, pinned: ReadonlySet<unknown>, victim: (id: unknown, composite: boolean, cell: Cell) => void): number {
    let removed = 0;
    for (const [map, composite] of [
      [this.cells, false],
      [this.compositeCells, true],
    ] as const) {
      if (removed >= n) break;
      for (const [id, cell] of map) {
        if (removed >= n) break;
        if (cell.value instanceof PendingRead || pinned.has(id)) continue;
        map.delete(id as never);
        this.lastCell = undefined;
        victim(id, composite, cell);
        removed++;
      }
    }
    return removed;
  }

  private current(): Cell {
    const s = this.store;
    if (this.lastCell !== undefined && s.currentId === this.lastId && s.currentComposite === this.lastComposite) return this.lastCell;
    const cell = s.currentComposite ? this.compositeCells.get(s.currentId as string) : this.cells.get(s.currentId);
    if (cell === undefined || cell.value instanceof PendingRead) {
      throw internalError(
        "STATE_NOT_PREFETCHED",
        `state '${this.name}' was read for key ${JSON.stringify(s.currentKey)} before the key's batch was prefetched`,
      );
    }
    // A filled cell never becomes a placeholder again (a new read makes a new cell), so it may be reused.
    this.lastCell = cell;
    this.lastId = s.currentId;
    this.lastComposite = s.currentComposite;
    return cell;
  }

  /**
   * The current key's value, or undefined if it has none. A value a cut has sealed but not yet
   * encoded is encoded first: the caller may mutate what it gets in place.
   */
  get(): unknown {
    const cell = this.current();
    const changes = cell.changes;
    if (changes !== undefined && changes !== this.open) changes.sealedBy!.capture(this, cell);
    return cell.value;
  }

  set(value: unknown): void {
    const cell = this.current();
    this.change(cell);
    cell.value = value;
  }

  /** Call after mutating the value returned by `get()` in place. */
  markDirty(): void {
    this.change(this.current());
  }

  delete(): void {
    const cell = this.current();
    this.change(cell);
    cell.value = undefined;
  }

  /** Lists `cell` as changed (once per cut), after a sealed cut has encoded its value. */
  private change(cell: Cell): void {
    const changes = cell.changes;
    if (changes === this.open) return;
    if (changes !== undefined) changes.sealedBy!.capture(this, cell);
    cell.changes = this.open;
    this.open.cells.push(cell);
  }

  /** The list of cells changed since the last cut (undefined: none), for a cut to seal; a new list opens. */
  takeChanged(): ChangeList | undefined {
    const list = this.open;
    if (list.cells.length === 0) return undefined;
    this.open = new ChangeList();
    this.leftOpen = 0;
    return list;
  }

  get changedCount(): number {
    return this.open.cells.length;
  }
}
