/**
 * state/: keyed state. A `KvBackend` (RocksDB, or heap for tests) stores bytes laid out by key
 * group; a `KeyedStateStore` caches cells in front of it; handles give typed access per key.
 *
 * ```ts
 * const store = new KeyedStateStore({ backend: openHeapBackend() });
 * const s = bindStates(store, { total: valueState(0) });
 * await store.prefetch(["a"], [keyGroupFor("a", 128)]);
 * store.setCurrentKey("a", keyGroupFor("a", 128));
 * s.total.update(s.total.value() + 1);
 * await store.flush();
 * ```
 */
export type { KvBackend, KvOp, KvRange } from "./kv-backend.ts";
export { openHeapBackend } from "./heap-backend.ts";
export { openRocksBackend, type RocksKvBackend, type RocksBackendOptions, type RocksCheckpoint } from "./rocksdb-backend.ts";
export { KeyedStateStore, StateTable, newStateCacheCounters, type KeyedStoreOptions, type StoredForm, type StateCacheCounters } from "./keyed-store.ts";
export { valueState, listState, mapState, type StateDescriptor, type StateSpec } from "./descriptors.ts";
export {
  broadcastState,
  BroadcastStore,
  type BroadcastStateDescriptor,
  type BroadcastState,
  type ReadOnlyBroadcastState,
  type BroadcastStatesSnapshot,
} from "./broadcast-state.ts";
export { bindStates, type ValueState, type ListState, type MapState, type StateHandles } from "./handles.ts";
export {
  hashKey,
  keyGroupFor,
  keyGroupRangeFor,
  subtaskForKeyGroup,
  DEFAULT_MAX_PARALLELISM,
  type KeyValue,
  type KeyGroupRange,
} from "./key-groups.ts";
export { encodeCellKey, decodeCellKey, keyGroupByteRange } from "./key-codec.ts";
export { shapeOf, describeSignature, incompatibility, type StateKind, type StateSignature, type StateLayoutEntry } from "./state-signature.ts";
