/**
 * The keyed state of one operator subtask: an in-memory cache in front of a KvBackend.
 *
 * Hot-path contract: an operator calls `prefetch(keys, keyGroups)` once per batch (one backend
 * read at most, for every key of the batch the cache does not hold, awaited only if it is not
 * done), then, for each record, `setCurrentKey` and synchronous reads and writes through its
 * `StateTable`s. `prefetch` may also be called ahead, for a batch that comes later, without
 * awaiting it: its read then overlaps the work on the batches before it. A missing cell gets a
 * placeholder at once, whose value is the `PendingRead` filling it, so every later `prefetch` of
 * that key waits for that read instead of reading again; nothing else can write the cell before
 * it is filled, so a read is never stale.
 *
 * Writes are held in the cache (write-behind); each table lists the cells changed since the last
 * cut, so a cut costs the changed cells, never a scan of the cache. A cut (`snapshot`, at the
 * synchronous part of a checkpoint, the final one included; `flush`) seals the changed cells
 * without encoding them, and writes them to the backend in the background, in chunks, while
 * records go on being processed (sealed-changes.ts). Cuts reach the backend one after the other,
 * in the order they were taken, and a later change never reaches it before an earlier cut is
 * written and its follow-up (e.g. the checkpoint's copy of the backend) has run.
 *
 * Eviction: when `prefetch` finds more than `maxCachedCells` cells cached, it evicts the oldest
 * cached cells (in load order) down to 7/8 of the limit, without waiting: the dirty victims are
 * sealed as a cut of their own (so they reach the backend after every earlier cut, as any later
 * change), and every victim that may not be in the backend yet is parked (parked-cells.ts) until
 * that write is done; a clean victim is dropped at once when no cut is being written. `prefetch`
 * waits only when parked cells outgrow half the limit (the backend falls behind).
 *
 * TTL states (ttl.ts): a `snapshot` (so also `flush`) reads each TTL state's clock when it is
 * taken and, for a state not scanned in the last quarter of its ttl (`dueForScan`), scans that
 * state's stored cells after writing the cut's changes and before its follow-up (key group by key
 * group when `keyGroups` is given), deleting or rewriting what expired by then. So a checkpoint
 * holds no value expired more than a quarter ttl (plus a checkpoint interval) before it, and a
 * state's stored values are read at most ~4 times per ttl, in the background. Stores without
 * TTL states pay nothing.
 *
 * Failure behaviour: if a backend call fails, the store is unusable and the task fails; state
 * is restored from the last checkpoint, never patched up in place. A failing backend write makes
 * every later cut reject with that error; a failing follow-up (`snapshot`'s `then`) rejects only
 * its own cut.
 */
import { internalError, userError } from "../common/errors.ts";
import type { KvBackend, KvOp } from "./kv-backend.ts";
import { decodeCellKey, encodeCellKey } from "./key-codec.ts";
import type { KeyGroupRange, KeyValue } from "./key-groups.ts";
import { decodeValue, encodeValue } from "./value-codec.ts";
import type { StateLayoutEntry, StateSignature } from "./state-signature.ts";
import { ChangeList, SealedChanges, type SealedGroup, type SealedOps, type SealedWriteStats } from "./sealed-changes.ts";
import { ParkedCells } from "./parked-cells.ts";
import { identityForm, PendingRead, type Cell, type StoredForm } from "./cell.ts";
import { StateTable, type TableExtras } from "./state-table.ts";
import { purgeStored, UNCHANGED } from "./ttl.ts";

export { StateTable } from "./state-table.ts";
export type { TableExtras } from "./state-table.ts";
export type { StoredForm } from "./cell.ts";

/** Cache counters of one or more stores (plain numbers; a store adds to the object it is given). */
export interface StateCacheCounters {
  /** Cells a prefetch found cached or parked (a batch read ahead counts again, as hits, when it is processed). */
  hits: number;
  /** Cells a prefetch read from the backend. */
  misses: number;
  /** Cells evicted from the cache. */
  evictions: number;
  /** Of those, cells written to the backend because they were evicted. */
  evictionWrites: number;
}

export const newStateCacheCounters = (): StateCacheCounters => ({ hits: 0, misses: 0, evictions: 0, evictionWrites: 0 });

const isComposite = (key: KeyValue): key is readonly KeyValue[] => typeof key === "object";
const compositeId = (key: KeyValue): string => encodeValue(key).toString("latin1");

/** State kept outside the cell cache (e.g. timers) that writes its changes with every cut. */
export interface FlushContributor {
  /**
   * At a cut: takes the changes made since the previous cut, without encoding them if it can,
   * and returns their encoder (undefined: no changes), which the cut's writer calls later,
   * while the task goes on changing this state.
   */
  sealChanges(): SealedOps | undefined;
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
  /** Cells encoded and written per backend write when a cut is written (default 1_000). */
  readonly writeChunk?: number;
  /**
   * Keys per backend read (default 1_024): a batch missing more is read in several calls issued
   * at once, which the RocksDB binding runs on several threads.
   */
  readonly readChunk?: number;
  /** Counters this store adds its cache hits, misses and evictions to (default: its own). */
  readonly counters?: StateCacheCounters;
  /**
   * The types of keys the restored state was keyed by (`keyTypeOf`; undefined: not recorded).
   * A key of another type is refused at its first prefetch (STATE_KEY_TYPE_CHANGED): the
   * restored cells would not be found under it (keys are encoded with their type).
   */
  readonly keyTypes?: readonly string[];
  /**
   * The key groups the backend holds (the subtask's range): TTL cleanup scans each TTL state's
   * cells group by group. Undefined: it scans the whole backend once, skipping other states' cells.
   */
  readonly keyGroups?: KeyGroupRange;
}

/** A key's type as checkpoints record it: number, string, boolean, bigint or composite. */
export const keyTypeOf = (key: KeyValue): string => (typeof key === "object" ? "composite" : typeof key);

/** A cut written to the backend: its follow-up's result, and what writing it cost. */
export interface WrittenCut<T> {
  readonly result: T;
  readonly stats: SealedWriteStats;
}

/** The backend keys of state `id`'s cells in key group `group` (key-codec.ts lays them out). */
const cellRange = (group: number, id: number): { gte: Buffer; lt: Buffer } => {
  const gte = Buffer.alloc(4);
  gte.writeUInt16BE(group, 0);
  gte.writeUInt16BE(id, 2);
  const lt = Buffer.alloc(4);
  lt.writeUInt32BE(group * 0x10000 + id + 1, 0);
  return { gte, lt };
};

const EVERY_CELL = { gte: Buffer.alloc(0), lt: Buffer.alloc(64, 0xff) };

/** Names starting with this are Weir's own states (e.g. `__timers`); a job's states may not use it. */
export const RESERVED_STATE_PREFIX = "__";

export class KeyedStateStore {
  readonly backend: KvBackend;
  private readonly maxCachedCells: number;
  /** Every declared state (for the layout). */
  private readonly tables: StateTable[] = [];
  /** The states whose cells the cache holds (`register`ed, not `reserve`d), in declaration order. */
  private readonly cached: StateTable[] = [];
  /** The cached states with a TTL, whose expired stored values each `snapshot` removes. */
  private readonly expiring: StateTable[] = [];
  /** When each of `expiring` was last scanned for expired values (its clock's time; -Infinity: never). */
  private readonly scannedAt: number[] = [];
  private readonly keyGroups: KeyGroupRange | undefined;
  /** Stored values of TTL states that cuts deleted or rewrote because (part of) them expired. */
  expiredRemoved = 0;
  private readonly contributors: FlushContributor[] = [];
  private cellCount = 0;
  private readonly restoredLayout: ReadonlyMap<string, StateLayoutEntry>;
  private nextId: number;
  /** The operator whose state this is, if known (for errors). */
  readonly operator: string | undefined;
  private readonly writeChunk: number;
  private readonly readChunk: number;
  /** Settles when every cut taken so far is written and followed up. */
  private written: Promise<void> = Promise.resolve();
  /** Set when writing a cut failed: the backend misses changes, so nothing more may be written. */
  private writeFailure: { readonly error: unknown } | undefined;
  /** Cuts taken and not yet written (while any is, a clean cell may not be in the backend yet). */
  private unwrittenCuts = 0;
  /**
   * Evictions so far. Cells only leave the cache by eviction, so a batch whose `prefetch` found
   * every cell cached and filled still has them while this is unchanged.
   */
  evictionRounds = 0;
  /** The keys of the latest `prefetch` (kept by eviction, see `evict`). */
  private lastKeys: readonly KeyValue[] | undefined;
  /** Evicted cells whose write is not done yet. */
  private readonly parked = new ParkedCells<Cell>();
  readonly counters: StateCacheCounters;
  /** Set by `setCurrentKey`; read by the tables. */
  currentKey: KeyValue | undefined;
  currentKeyGroup = -1;
  currentId: unknown;
  currentComposite = false;
  /** Types of the keys this store's state has (restored, and seen since). */
  private readonly seenKeyTypes: Set<string>;
  private readonly restoredKeyTypes: ReadonlySet<string> | undefined;
  /** The type of the key checked last (most batches hold one type: one comparison per key). */
  private lastKeyType: string | undefined;

  constructor(options: KeyedStoreOptions) {
    this.restoredKeyTypes = options.keyTypes === undefined || options.keyTypes.length === 0 ? undefined : new Set(options.keyTypes);
    this.seenKeyTypes = new Set(options.keyTypes ?? []);
    this.backend = options.backend;
    this.maxCachedCells = options.maxCachedCells ?? 200_000;
    this.restoredLayout = new Map((options.layout ?? []).map((e) => [e.name, e]));
    this.nextId = Math.max(-1, ...(options.layout ?? []).map((e) => e.id)) + 1;
    this.operator = options.operator;
    this.writeChunk = Math.max(1, options.writeChunk ?? 1_000);
    this.counters = options.counters ?? newStateCacheCounters();
    this.readChunk = Math.max(1, options.readChunk ?? 1_024);
    this.keyGroups = options.keyGroups;
  }

  /**
   * Declares a state. A state named in the restored layout keeps its id there (so its cells are
   * found); any other gets a new id above every id in use. Without a restored layout, ids follow
   * registration order, so register in a fixed order. Compatibility of `signature` with the
   * restored one is checked before the job starts (engine/state-compatibility.ts), not here.
   * A name may be declared once (STATE_DECLARED_TWICE, a user error): two states of one name
   * would share one id after a restore, and so each other's cells.
   * `extras.migrate` reads what an older version stored (`migrateRestored`); a state with
   * `extras.expiry` (TTL) has its expired stored values removed by scans at `snapshot`s (`dueForScan`).
   */
  register(name: string, signature: StateSignature, form: StoredForm = identityForm, extras: TableExtras = {}): StateTable {
    const table = this.declare(name, signature, form, extras);
    this.cached.push(table);
    if (extras.expiry !== undefined) {
      this.expiring.push(table);
      this.scannedAt.push(-Infinity);
    }
    return table;
  }

  /**
   * Declares a state whose cells its owner keeps itself (e.g. timers, written by a contributor):
   * it gets an id and is recorded in the layout as `register`'s are, but the cache holds no cells
   * of it, so `prefetch` neither reads nor caches them. Returns the state's id.
   */
  reserve(name: string, signature: StateSignature): number {
    return this.declare(name, signature, identityForm).id;
  }

  private declare(name: string, signature: StateSignature, form: StoredForm, extras: TableExtras = {}): StateTable {
    if (this.tables.some((t) => t.name === name)) {
      const where = this.operator === undefined ? "" : `operator '${this.operator}' `;
      throw userError("STATE_DECLARED_TWICE", `${where}declares the state '${name}' twice; give each state its own name`, {
        ...(this.operator === undefined ? {} : { operator: this.operator }),
      });
    }
    const id = this.restoredLayout.get(name)?.id ?? this.nextId++;
    if (id > 0xffff) throw internalError("TOO_MANY_STATES", "an operator may declare at most 65535 states");
    const table = new StateTable(this, name, id, form, signature, extras);
    this.tables.push(table);
    return table;
  }

  /** Names of the declared states that have a `migrate` function (engine/state-compatibility.ts). */
  get migratable(): ReadonlySet<string> {
    return new Set(this.tables.filter((t) => t.migrate !== undefined).map((t) => t.name));
  }

  /**
   * Rewrites, through its `migrate` function, every stored value of each state the restored layout
   * recorded at a lower version than it is declared now, in key groups `range`: call once after
   * the backend is restored and every state is declared, before any record (nothing is cached
   * yet). A value migrated to undefined is deleted. Returns what it migrated, per state. A throwing
   * `migrate` is STATE_MIGRATION_FAILED (a user error naming the operator, the state and the key).
   */
  async migrateRestored(range: { readonly start: number; readonly end: number }): Promise<{ state: string; from: number; to: number; values: number }[]> {
    const done: { state: string; from: number; to: number; values: number }[] = [];
    for (const table of this.cached) {
      const recorded = this.restoredLayout.get(table.name);
      const from = recorded?.version ?? 1;
      const to = table.signature.version ?? 1;
      if (recorded === undefined || table.migrate === undefined || from >= to) continue;
      let values = 0;
      for (let group = range.start; group <= range.end; group++) {
        // One key group's values at a time, written after its scan (no write under a live iterator).
        const out: KvOp[] = [];
        for await (const [key, bytes] of this.backend.scan(cellRange(group, table.id))) {
          let next: unknown;
          try {
            next = table.migrate(table.form.fromStored(decodeValue(bytes)), from);
          } catch (e) {
            const where = this.operator === undefined ? "" : `operator '${this.operator}', `;
            throw userError(
              "STATE_MIGRATION_FAILED",
              `${where}state '${table.name}': migrate from version ${from} to ${to} threw for key ${JSON.stringify(decodeCellKey(key).key)}: ${e instanceof Error ? e.message : String(e)}`,
              { cause: e, ...(this.operator === undefined ? {} : { operator: this.operator }) },
            );
          }
          out.push(next === undefined ? { kind: "delete", key } : { kind: "put", key, value: encodeValue(table.form.toStored(next)) });
          values++;
        }
        if (out.length > 0) await this.backend.write(out);
      }
      done.push({ state: table.name, from, to, values });
    }
    return done;
  }

  /**
   * The TTL states a cut taken now scans for expired values, each with its clock's time: a state
   * at the first cut, then at the first cut a quarter of its ttl or more after its previous scan
   * (marked as scanned now). A scan costs a read of every stored cell of the state (measured
   * ~4-5 µs a cell on RocksDB), so it is not repeated at every checkpoint.
   */
  private dueForScan(): { readonly table: StateTable; readonly now: number }[] {
    const due: { table: StateTable; now: number }[] = [];
    for (let i = 0; i < this.expiring.length; i++) {
      const table = this.expiring[i]!;
      const now = table.expiry!.now();
      if (now - this.scannedAt[i]! < table.expiry!.millis / 4) continue;
      this.scannedAt[i] = now;
      due.push({ table, now });
    }
    return due;
  }

  /**
   * Removes from the backend every stored value of the `due` TTL states expired at their `now`,
   * and the expired elements of lists and entries of maps (rewriting what is left). Runs in a
   * cut, after its changes are written and before its follow-up, so the follow-up (a checkpoint's
   * copy) holds no value of them expired by `now`, and no later change is written meanwhile.
   * Cached cells are left as they are: their handles never show what is expired, and their next
   * write replaces the stored value. Returns how many stored values it deleted or rewrote.
   */
  private async removeExpired(due: readonly { readonly table: StateTable; readonly now: number }[]): Promise<number> {
    let changed = 0;
    const byId = new Map(due.map((d) => [d.table.id, { expiry: d.table.expiry!, now: d.now }]));
    const clean = async (range: { readonly gte: Buffer; readonly lt: Buffer }): Promise<void> => {
      const out: KvOp[] = [];
      for await (const [key, bytes] of this.backend.scan(range)) {
        const state = byId.get(key.readUInt16BE(2));
        if (state === undefined) continue;
        const { kind, millis } = state.expiry;
        const next = purgeStored(kind, millis, decodeValue(bytes), state.now);
        if (next === UNCHANGED) continue;
        out.push(next === undefined ? { kind: "delete", key } : { kind: "put", key, value: encodeValue(next) });
      }
      if (out.length > 0) await this.backend.write(out);
      changed += out.length;
    };
    const groups = this.keyGroups;
    if (groups === undefined) await clean(EVERY_CELL);
    else {
      for (let group = groups.start; group <= groups.end; group++) {
        for (const d of due) await clean(cellRange(group, d.table.id));
      }
    }
    return changed;
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

  /** The key types this store's state holds, for its snapshot (sorted). */
  get keyTypes(): string[] {
    return [...this.seenKeyTypes].sort();
  }

  /** Notes `key`'s type; a type the restored state never had throws, and is thrown again on every later key of it. */
  private noteKeyType(key: KeyValue): void {
    const type = keyTypeOf(key);
    if (this.seenKeyTypes.has(type)) {
      this.lastKeyType = typeof key;
      return;
    }
    if (this.restoredKeyTypes !== undefined) {
      const where = this.operator === undefined ? "" : `operator '${this.operator}': `;
      throw userError(
        "STATE_KEY_TYPE_CHANGED",
        `${where}its restored state is keyed by ${[...this.restoredKeyTypes].join(" and ")} keys, and this job's key ${JSON.stringify(key, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v))} is a ${type}: the restored state would not be found under it. Key by the same type as before (e.g. Number(...) or String(...)), or start over with --fresh`,
        this.operator === undefined ? {} : { operator: this.operator },
      );
    }
    this.seenKeyTypes.add(type);
    this.lastKeyType = typeof key;
  }

  setCurrentKey(key: KeyValue, keyGroup: number): void {
    this.currentKey = key;
    this.currentKeyGroup = keyGroup;
    this.currentComposite = isComposite(key);
    this.currentId = this.currentComposite ? compositeId(key) : key;
  }

  /**
   * Makes every (state, key) cell of the batch readable synchronously once the returned promise
   * settles; returns undefined (no await needed) when every cell is cached and filled already.
   * May be called ahead for a later batch without awaiting (see the file's contract); the cells
   * must then still be prefetched again, awaited, right before the batch is processed.
   */
  prefetch(keys: readonly KeyValue[], keyGroups: readonly number[]): Promise<void> | undefined {
    if (this.writeFailure !== undefined) throw this.writeFailure.error;
    let waitFor: Promise<void> | undefined;
    if (this.cellCount > this.maxCachedCells) {
      if (this.parked.size <= this.maxCachedCells >> 1) this.evict(keys);
      // The backend falls behind the evictions: wait for the oldest parked cells to be written.
      else waitFor = this.parked.oldestReleased;
    }
    let read: PendingRead | undefined;
    let others: Set<PendingRead> | undefined;
    let hits = 0;
    const tables = this.cached;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const type = typeof key;
      if (type !== this.lastKeyType) this.noteKeyType(key);
      const composite = isComposite(key);
      const id = composite ? compositeId(key) : key;
      for (let t = 0; t < tables.length; t++) {
        const table = tables[t]!;
        let cell = table.lookup(id, composite);
        if (cell === undefined && !this.parked.empty) {
          cell = this.parked.find(t, id, composite);
          if (cell !== undefined) {
            table.insert(id, composite, cell);
            this.cellCount++;
          }
        }
        if (cell === undefined) {
          read ??= new PendingRead();
          cell = { value: read, key, keyGroup: keyGroups[i]!, changes: undefined };
          table.insert(id, composite, cell);
          this.cellCount++;
          read.cells.push(cell);
          read.keys.push(encodeCellKey(cell.keyGroup, table.id, key));
          read.forms.push(table.form);
          continue;
        }
        hits++;
        const value = cell.value;
        if (value instanceof PendingRead && value !== read) (others ??= new Set()).add(value);
      }
    }
    this.counters.hits += hits;
    this.lastKeys = keys;
    if (read !== undefined) {
      this.counters.misses += read.cells.length;
      read.start(this.backend, this.readChunk);
      (others ??= new Set()).add(read);
    }
    if (others === undefined) return waitFor;
    const reads = [...others].map((r) => r.done);
    if (waitFor !== undefined) reads.push(waitFor);
    return reads.length === 1 ? reads[0] : Promise.all(reads).then(() => undefined);
  }

  /**
   * Evicts the oldest cached cells down to 7/8 of `maxCachedCells`, each table in proportion to
   * its share of the cache. Placeholders still being read are kept, and so are the cells of
   * `keys` (the batch being prefetched) and of the previous prefetch's keys (the engine prefetches
   * batch n+1 ahead, then batch n: each is about to be processed). Does not wait (see the file's
   * contract for what happens to the victims).
   */
  private evict(keys: readonly KeyValue[]): void {
    this.evictionRounds++;
    const target = this.maxCachedCells - (this.maxCachedCells >> 3);
    const excess = this.cellCount - target;
    if (excess <= 0) return;
    // While a cut is being written, a clean cell may be encoded but not yet in the backend.
    const parkClean = this.unwrittenCuts > 0;
    const gen = this.parked.open(this.cached.length);
    const pinned = new Set<unknown>();
    for (const batch of [this.lastKeys ?? [], keys]) {
      for (const key of batch) pinned.add(isComposite(key) ? compositeId(key) : key);
    }
    const groups: SealedGroup[] = [];
    let evicted = 0;
    let written = 0;
    for (let t = 0; t < this.cached.length; t++) {
      const table = this.cached[t]!;
      const open = table.openList;
      // Dirty victims go on a change list of their own, sealed below as one cut.
      const victims = new ChangeList();
      const share = Math.ceil((excess * table.cachedCount) / this.cellCount);
      evicted += table.evictOldest(share, pinned, (id, composite, cell) => {
        const changes = cell.changes;
        if (changes === undefined && !parkClean) return;
        // A cell on a sealed list is written by the cut that sealed it, before this one.
        if (changes === open) {
          cell.changes = victims;
          victims.cells.push(cell);
        }
        this.parked.park(gen, t, id, composite, cell);
      });
      if (victims.cells.length > 0) {
        groups.push({ table, list: victims });
        written += victims.cells.length;
        table.leftOpenList(victims.cells.length);
      }
    }
    this.cellCount -= evicted;
    this.counters.evictions += evicted;
    this.counters.evictionWrites += written;
    // A failed write is the store's (writeFailure): every later prefetch and cut throws it.
    if (groups.length > 0) this.cut(new SealedChanges(groups, []), () => Promise.resolve()).catch(() => undefined);
    this.parked.releaseAfter(gen, this.written);
  }

  /**
   * Takes a cut: synchronously seals every change made so far (cells and contributors), without
   * encoding cells; then, in the background, once earlier cuts are done, writes the sealed changes
   * to the backend and runs `then` (e.g. copy the backend for a checkpoint) before any later
   * change is written. The returned promise settles with `then`'s result. It is the caller's to
   * handle: a rejection (a failed write, or `then` failing) is not reported anywhere else. Throws
   * at once (the task fails) if an earlier cut's write failed.
   */
  snapshot<T>(then: () => Promise<T>): Promise<WrittenCut<T>> {
    if (this.writeFailure !== undefined) throw this.writeFailure.error;
    const groups: SealedGroup[] = [];
    for (const table of this.cached) {
      const list = table.takeChanged();
      if (list !== undefined) groups.push({ table, list });
    }
    const others: SealedOps[] = [];
    for (const c of this.contributors) {
      const sealed = c.sealChanges();
      if (sealed !== undefined) others.push(sealed);
    }
    const due = this.expiring.length === 0 ? [] : this.dueForScan();
    if (due.length === 0) return this.cut(new SealedChanges(groups, others), then);
    return this.cut(new SealedChanges(groups, others), async () => {
      this.expiredRemoved += await this.removeExpired(due);
      return then();
    });
  }

  /** Writes `sealed` once every earlier cut is written and followed up, then runs `then`. */
  private cut<T>(sealed: SealedChanges, then: () => Promise<T>): Promise<WrittenCut<T>> {
    this.unwrittenCuts++;
    const cut = this.written.then(async () => {
      let stats: SealedWriteStats;
      try {
        if (this.writeFailure !== undefined) throw this.writeFailure.error;
        stats = await sealed.writeTo(this.backend, this.writeChunk);
      } catch (e) {
        this.writeFailure ??= { error: e };
        throw e;
      } finally {
        this.unwrittenCuts--;
      }
      return { result: await then(), stats };
    });
    this.written = cut.then(
      () => undefined,
      () => undefined,
    );
    return cut;
  }

  /** Writes every change made so far to the backend; resolves once it (and every earlier cut) is written. */
  async flush(): Promise<void> {
    await this.snapshot(() => Promise.resolve());
  }

  /** Cells changed since the last cut (for tests and metrics). */
  get dirtyCount(): number {
    let n = 0;
    for (const t of this.cached) n += t.changedCount;
    return n;
  }

  get cachedCells(): number {
    return this.cellCount;
  }
}

