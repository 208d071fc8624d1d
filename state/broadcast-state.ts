/**
 * Broadcast state (Flink's broadcast state pattern): a small map per named state that every
 * subtask of a broadcast process operator holds whole, written only by `processBroadcastElement`.
 *
 * Why every copy is the same: the broadcast input reaches every subtask with every record
 * (broadcast partitioning), and an aligned checkpoint barrier cuts each subtask's broadcast input
 * at the same records. So, as long as `processBroadcastElement` changes the state only from the
 * record and the state itself (no clock, no randomness, no main-input records), the copies of all
 * subtasks at a barrier are equal — as a set of records. When the broadcast stream has several
 * producer subtasks (a source at parallelism > 1), each consumer subtask may interleave their
 * records differently, so a state that depends on their order (last write wins between two
 * producers' records for one key) can differ between subtasks; then subtask 0's copy is the one
 * restored. Weir does not check either (neither does Flink, which documents the same).
 *
 * Design (the smallest addition next to keyed state, which lives in key-grouped backends):
 * - The state lives on the heap, in a `BroadcastStore` the engine owns (as it owns the keyed
 *   store) and hands to the operator in its context.
 * - Snapshot: only subtask 0 of the operator writes its copy, in the checkpoint's metadata
 *   (`TaskSnapshot.broadcast`), each state as base64 of its msgpack-encoded entries (the codec of
 *   keyed state values). It is encoded in the synchronous part of the snapshot, so it is the copy
 *   at the barrier; broadcast state is meant to be small (rules, configuration), and its size is
 *   paid at every checkpoint.
 * - Restore: every subtask, at any parallelism, starts from that one copy (Flink restores each
 *   new subtask from one old subtask's copy for the same reason: all are equal).
 * - A restored state the operator no longer declares is kept and written again, unread.
 */
import { userError } from "../common/errors.ts";
import { decodeValue, encodeValue } from "./value-codec.ts";

/** Keys of a broadcast state: compared by value in a Map, so primitives only. */
export type BroadcastKey = string | number | boolean | bigint;

/** A named broadcast state of entries K -> V (Flink's MapStateDescriptor used for broadcast). */
export interface BroadcastStateDescriptor<K extends BroadcastKey, V> {
  readonly kind: "broadcast";
  readonly name: string;
  /** Type carriers only; never set. */
  readonly _key?: K;
  readonly _value?: V;
}

/** `broadcastState<string, Rule>("rules")`: declares a broadcast state; pass it to `stream.broadcast(...)`. */
export const broadcastState = <K extends BroadcastKey, V>(name: string): BroadcastStateDescriptor<K, V> => {
  if (typeof name !== "string" || name.length === 0) {
    throw userError("BAD_BROADCAST_STATE", `a broadcast state needs a non-empty name, got ${JSON.stringify(name)}`);
  }
  return { kind: "broadcast", name };
};

/** What `processElement` sees: read only. */
export interface ReadOnlyBroadcastState<K, V> {
  get(key: K): V | undefined;
  contains(key: K): boolean;
  entries(): IterableIterator<[K, V]>;
  keys(): IterableIterator<K>;
  readonly size: number;
}

/** What `processBroadcastElement` sees: it may change the state (the same change on every subtask). */
export interface BroadcastState<K, V> extends ReadOnlyBroadcastState<K, V> {
  put(key: K, value: V): void;
  remove(key: K): void;
  clear(): void;
}

/** A state's snapshot: base64 of the msgpack encoding of its entries, by state name. */
export type BroadcastStatesSnapshot = Readonly<Record<string, string>>;

const readOnly = <K, V>(map: Map<K, V>): ReadOnlyBroadcastState<K, V> => ({
  get: (key) => map.get(key),
  contains: (key) => map.has(key),
  entries: () => map.entries(),
  keys: () => map.keys(),
  get size() {
    return map.size;
  },
});

const writable = <K, V>(map: Map<K, V>): BroadcastState<K, V> => ({
  get: (key) => map.get(key),
  contains: (key) => map.has(key),
  entries: () => map.entries(),
  keys: () => map.keys(),
  get size() {
    return map.size;
  },
  put: (key, value) => void map.set(key, value),
  remove: (key) => void map.delete(key),
  clear: () => map.clear(),
});

export interface BroadcastStoreOptions {
  /** The operator holding it, for errors. */
  readonly operator: string;
  /** The names of the states the operator declared. */
  readonly declared: readonly string[];
  /** Subtask 0's copy from the checkpoint restored, if any. */
  readonly restored?: BroadcastStatesSnapshot;
}

/** One subtask's broadcast states: handles for the function, a snapshot for the checkpoint. */
export class BroadcastStore {
  private readonly operator: string;
  private readonly states = new Map<string, Map<unknown, unknown>>();
  private readonly readers = new Map<string, ReadOnlyBroadcastState<unknown, unknown>>();
  private readonly writers = new Map<string, BroadcastState<unknown, unknown>>();

  constructor(options: BroadcastStoreOptions) {
    this.operator = options.operator;
    for (const [name, encoded] of Object.entries(options.restored ?? {})) {
      const entries = decodeValue(Buffer.from(encoded, "base64"));
      if (!Array.isArray(entries)) {
        throw userError("CHECKPOINT_CORRUPT", `broadcast state '${name}' of operator '${this.operator}' in the checkpoint is not a list of entries`, {
          operator: this.operator,
        });
      }
      this.states.set(name, new Map(entries as [unknown, unknown][]));
    }
    for (const name of options.declared) {
      let map = this.states.get(name);
      if (map === undefined) this.states.set(name, (map = new Map()));
      this.readers.set(name, readOnly(map));
      this.writers.set(name, writable(map));
    }
  }

  /** The read-only handle of a declared state. */
  reader<K extends BroadcastKey, V>(descriptor: BroadcastStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V> {
    return (this.readers.get(descriptor.name) ?? this.undeclared(descriptor.name)) as ReadOnlyBroadcastState<K, V>;
  }

  /** The writable handle of a declared state. */
  writer<K extends BroadcastKey, V>(descriptor: BroadcastStateDescriptor<K, V>): BroadcastState<K, V> {
    return (this.writers.get(descriptor.name) ?? this.undeclared(descriptor.name)) as BroadcastState<K, V>;
  }

  /** Every state encoded now (the copy at the barrier; later changes do not reach it). */
  snapshot(): BroadcastStatesSnapshot {
    const out: Record<string, string> = {};
    for (const [name, map] of this.states) out[name] = encodeValue([...map.entries()]).toString("base64");
    return out;
  }

  private undeclared(name: string): never {
    throw userError(
      "UNKNOWN_BROADCAST_STATE",
      `operator '${this.operator}' asked for broadcast state '${name}', which its broadcast stream does not declare (declared: ${[...this.readers.keys()].map((n) => `'${n}'`).join(", ") || "none"}); pass its descriptor to stream.broadcast(...)`,
      { operator: this.operator },
    );
  }
}

/** Each state of a snapshot with its number of entries and encoded size, for `weir checkpoints`. */
export const describeBroadcastStates = (snapshot: BroadcastStatesSnapshot): { name: string; entries: number; bytes: number }[] =>
  Object.entries(snapshot).map(([name, encoded]) => {
    const bytes = Buffer.from(encoded, "base64");
    const entries = decodeValue(bytes);
    return { name, entries: Array.isArray(entries) ? entries.length : 0, bytes: bytes.length };
  });
