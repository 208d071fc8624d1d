/**
 * The keyed state of one operator subtask: an in-memory cache in front of a KvBackend.
 *
 * Hot-path contract: an operator calls `prefetch(keys, keyGroups)` once per batch (one awaited
 * backend call at most, for every key of the batch the cache does not hold), then, for each
 * record, `setCurrentKey` and synchronous reads and writes through its `StateTable`s. Writes are
 * held in the cache (write-behind) and reach the backend in one atomic write at `flush()`, which
 * the engine calls at the synchronous part of a snapshot (the final checkpoint included), and
 * which also runs when the cache outgrows `maxCachedCells` (then the cache is also emptied,
 * between two batches).
 *
 * Failure behaviour: if a backend call fails, the store is unusable and the task fails; state
 * is restored from the last checkpoint, never patched up in place.
 */
import { internalError, userError } from "../common/errors.ts";
import type { KvBackend, KvOp } from "./kv-backend.ts";
import { encodeCellKey } from "./key-codec.ts";
import type { KeyValue } from "./key-groups.ts";
import { decodeValue, encodeValue } from "./value-codec.ts";
import type { StateLayoutEntry, StateSignature } from "./state-signature.ts";

interface Cell {
  value: unknown;
  dirty: boolean;
  readonly key: KeyValue;
  readonly keyGroup: number;
}

/** Converts between a state's in-memory form (e.g. a Map) and the plain form that is encoded. */
export interface StoredForm {
  readonly toStored: (value: unknown) => unknown;
  readonly fromStored: (stored: unknown) => unknown;
}

const identity: StoredForm = { toStored: (v) => v, fromStored: (v) => v };

const isComposite = (key: KeyValue): key is readonly KeyValue[] => typeof key === "object";
const compositeId = (key: KeyValue): string => encodeValue(key).toString("latin1");

/** State kept outside the cell cache (e.g. timers) that writes its changes with every flush. */
export interface FlushContributor {
  collectDirty(ops: KvOp[]): void;
}

export interface KeyedStoreOptions {
  readonly backend: KvBackend;
  /** Cells held in memory before the cache is flushed and emptied (default 200_000). */
  readonly maxCachedCells?: number;
  /**
   * The layout recorded with the restored checkpoint (undefined: none, or a checkpoint from
   * before layouts were recorded; ids are then given in registration order).
   */
  readonly layout?: readonly StateLayoutEntry[];
  /** The operator whose state this is, named in errors about its state declarations. */
  readonly operator?: string;
}

/** Names starting with this are Weir's own states (e.g. `__timers`); a job's states may not use it. */
export const RESERVED_STATE_PREFIX = "__";

export class KeyedStateStore {
  readonly backend: KvBackend;
  private readonly maxCachedCells: number;
  private readonly tables: StateTable[] = [];
  private readonly contributors: FlushContributor[] = [];
  private cellCount = 0;
  private readonly restoredLayout: ReadonlyMap<string, StateLayoutEntry>;
  private nextId: number;
  /** The operator whose state this is, if known (for errors). */
  readonly operator: string | undefined;
  /** Set by `setCurrentKey`; read by the tables. */
  currentKey: KeyValue | undefined;
  currentKeyGroup = -1;
  currentId: unknown;
  currentComposite = false;

  constructor(options: KeyedStoreOptions) {
    this.backend = options.backend;
    this.maxCachedCells = options.maxCachedCells ?? 200_000;
    this.restoredLayout = new Map((options.layout ?? []).map((e) => [e.name, e]));
    this.nextId = Math.max(-1, ...(options.layout ?? []).map((e) => e.id)) + 1;
    this.operator = options.operator;
  }

  /**
   * Declares a state. A state named in the restored layout keeps its id there (so its cells are
   * found); any other gets a new id above every id in use. Without a restored layout, ids follow
   * registration order, so register in a fixed order. Compatibility of `signature` with the
   * restored one is checked before the job starts (engine/state-compatibility.ts), not here.
   * A name may be declared once (STATE_DECLARED_TWICE, a user error): two states of one name
   * would share one id after a restore, and so each other's cells.
   */
  register(name: string, signature: StateSignature, form: StoredForm = identity): StateTable {
    if (this.tables.some((t) => t.name === name)) {
      const where = this.operator === undefined ? "" : `operator '${this.operator}' `;
      throw userError("STATE_DECLARED_TWICE", `${where}declares the state '${name}' twice; give each state its own name`, {
        ...(this.operator === undefined ? {} : { operator: this.operator }),
      });
    }
    const id = this.restoredLayout.get(name)?.id ?? this.nextId++;
    if (id > 0xffff) throw internalError("TOO_MANY_STATES", "an operator may declare at most 65535 states");
    const table = new StateTable(this, name, id, form, signature);
    this.tables.push(table);
    return table;
  }

  /**
   * What a checkpoint records: every declared state, and every restored state no longer declared
   * (its cells stay in the backend, so its id stays reserved), by id.
   */
  layout(): StateLayoutEntry[] {
    const entries: StateLayoutEntry[] = this.tables.map((t) => ({ name: t.name, id: t.id, ...t.signature }));
    for (const e of this.restoredLayout.values()) if (!this.tables.some((t) => t.name === e.name)) entries.push(e);
    return entries.sort((a, b) => a.id - b.id);
  }

  /** Adds `contributor`'s changes to every flush (in the same atomic write as the cells). */
  addContributor(contributor: FlushContributor): void {
    this.contributors.push(contributor);
  }

  get stateNames(): readonly string[] {
    return this.tables.map((t) => t.name);
  }

  setCurrentKey(key: KeyValue, keyGroup: number): void {
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.currentComposite = isComposite(key);
    this.currentId = this.currentComposite ? compositeId(key) : key;
  }

  /**
   * Makes every (state, key) cell of the batch readable synchronously. Returns undefined (no
   * await needed) when the cache already holds all of them.
   */
  prefetch(keys: readonly KeyValue[], keyGroups: readonly number[]): Promise<void> | undefined {
    if (this.cellCount > this.maxCachedCells) return this.evictThenPrefetch(keys, keyGroups);
    return this.loadMissing(keys, keyGroups);
  }

  private async evictThenPrefetch(keys: readonly KeyValue[], keyGroups: readonly number[]): Promise<void> {
    await this.flush();
    for (const t of this.tables) t.clearCache();
    this.cellCount = 0;
    await this.loadMissing(keys, keyGroups);
  }

  private loadMissing(keys: readonly KeyValue[], keyGroups: readonly number[]): Promise<void> | undefined {
    // Missing cells get a placeholder at once (so a key repeated in the batch is fetched once),
    // filled in when the backend answers. If the backend fails, the store is not used again.
    let pending: Cell[] | undefined;
    let encoded: Buffer[] | undefined;
    let forms: StoredForm[] | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const composite = isComposite(key);
      const id = composite ? compositeId(key) : key;
      for (const table of this.tables) {
        if (table.has(id, composite)) continue;
        const cell: Cell = { value: undefined, dirty: false, key, keyGroup: keyGroups[i]! };
        table.insert(id, composite, cell);
        this.cellCount++;
        (pending ??= []).push(cell);
        (encoded ??= []).push(encodeCellKey(cell.keyGroup, table.id, key));
        (forms ??= []).push(table.form);
      }
    }
    if (pending === undefined) return undefined;
    const cells = pending;
    const cellForms = forms!;
    return this.backend.getMany(encoded!).then((values) => {
      for (let i = 0; i < cells.length; i++) {
        const bytes = values[i];
        if (bytes !== undefined) cells[i]!.value = cellForms[i]!.fromStored(decodeValue(bytes));
      }
    });
  }

  /** Writes every dirty cell to the backend in one atomic batch. */
  async flush(): Promise<void> {
    const ops: KvOp[] = [];
    for (const table of this.tables) table.collectDirty(ops);
    for (const c of this.contributors) c.collectDirty(ops);
    if (ops.length > 0) await this.backend.write(ops);
  }

  /** Dirty cells not yet flushed (for tests and metrics). */
  get dirtyCount(): number {
    let n = 0;
    for (const t of this.tables) n += t.dirtyCount();
    return n;
  }

  get cachedCells(): number {
    return this.cellCount;
  }
}

/** One declared state of an operator: reads and writes the cell of the store's current key. */
export class StateTable {
  private readonly store: KeyedStateStore;
  readonly name: string;
  readonly id: number;
  readonly form: StoredForm;
  readonly signature: StateSignature;
  private cells = new Map<unknown, Cell>();
  private compositeCells = new Map<string, Cell>();

  constructor(store: KeyedStateStore, name: string, id: number, form: StoredForm, signature: StateSignature) {
    this.store = store;
    this.name = name;
    this.id = id;
    this.form = form;
    this.signature = signature;
  }

  has(id: unknown, composite: boolean): boolean {
    return composite ? this.compositeCells.has(id as string) : this.cells.has(id);
  }

  insert(id: unknown, composite: boolean, cell: Cell): void {
    if (composite) this.compositeCells.set(id as string, cell);
    else this.cells.set(id, cell);
  }

  clearCache(): void {
    this.cells = new Map();
    this.compositeCells = new Map();
  }

  private current(): Cell {
    const s = this.store;
    const cell = s.currentComposite ? this.compositeCells.get(s.currentId as string) : this.cells.get(s.currentId);
    if (cell === undefined) {
      throw internalError(
        "STATE_NOT_PREFETCHED",
        `state '${this.name}' was read for key ${JSON.stringify(s.currentKey)} before the key's batch was prefetched`,
      );
    }
    return cell;
  }

  /** The current key's value, or undefined if it has none. */
  get(): unknown {
    return this.current().value;
  }

  set(value: unknown): void {
    const cell = this.current();
    cell.value = value;
    cell.dirty = true;
  }

  /** Call after mutating the value returned by `get()` in place. */
  markDirty(): void {
    this.current().dirty = true;
  }

  delete(): void {
    const cell = this.current();
    cell.value = undefined;
    cell.dirty = true;
  }

  collectDirty(ops: KvOp[]): void {
    const visit = (cell: Cell) => {
      if (!cell.dirty) return;
      const key = encodeCellKey(cell.keyGroup, this.id, cell.key);
      ops.push(
        cell.value === undefined
          ? { kind: "delete", key }
          : { kind: "put", key, value: encodeValue(this.form.toStored(cell.value)) },
      );
      cell.dirty = false;
    };
    this.cells.forEach(visit);
    this.compositeCells.forEach(visit);
  }

  dirtyCount(): number {
    let n = 0;
    this.cells.forEach((c) => (n += c.dirty ? 1 : 0));
    this.compositeCells.forEach((c) => (n += c.dirty ? 1 : 0));
    return n;
  }
}
