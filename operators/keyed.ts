/**
 * Shared hot-path plumbing of keyed operators: compute the batch's keys and key groups once,
 * prefetch their state in one backend call (started ahead when the engine hints the batch),
 * then run a synchronous per-record loop with the store's current key set.
 */
import type { KeyedStateStore } from "../state/keyed-store.ts";
import { keyGroupFor, type KeyValue } from "../state/key-groups.ts";
import { internalError } from "../common/errors.ts";
import type { OperatorContext } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export interface KeyedBatch<K extends KeyValue> {
  readonly keys: K[];
  readonly groups: number[];
  /**
   * Set when a prefetch found every cell of the batch cached and filled: the store's
   * `evictionRounds` then. While it is unchanged, the batch needs no prefetch.
   */
  cachedAt?: number;
}

export const keyBatch = <T, K extends KeyValue>(
  name: string,
  records: readonly T[],
  keyOf: (value: T) => K,
  maxParallelism: number,
): KeyedBatch<K> => {
  const keys = new Array<K>(records.length);
  const groups = new Array<number>(records.length);
  let i = 0;
  try {
    for (; i < records.length; i++) {
      const k = requireSync(keyOf(records[i]!));
      keys[i] = k;
      groups[i] = keyGroupFor(k, maxParallelism);
    }
  } catch (e) {
    throw userFunctionError(`${name} (key selector)`, records[i], i, e);
  }
  return { keys, groups };
};

export const requireKeyedStore = (context: OperatorContext): KeyedStateStore => {
  const store = context.keyedStore;
  if (store === undefined) {
    throw internalError("NO_KEYED_STORE", `operator '${context.operatorName}' is keyed but was opened without keyed state`);
  }
  return store;
};

/**
 * One keyed input's batches: `prefetch(records)` (an Operator.prefetch hint) keys a batch that
 * comes later and starts reading its state without waiting; `batchOf(records)` keys the batch
 * being processed, reusing the hinted batch's keys when it is the same array. A hint that fails
 * (a throwing key selector, a failed read) is dropped: the failure surfaces when the batch is
 * processed.
 */
export interface KeyedInput<T, K extends KeyValue> {
  prefetch(records: readonly T[]): void;
  batchOf(records: readonly T[]): KeyedBatch<K>;
}

export const keyedInput = <T, K extends KeyValue>(
  store: KeyedStateStore,
  name: string,
  keyOf: (value: T) => K,
  maxParallelism: number,
): KeyedInput<T, K> => {
  // The last two hinted batches: the engine hints batch n+1 before it processes batch n.
  type Hinted = { readonly records: readonly T[]; readonly batch: KeyedBatch<K> };
  let older: Hinted | undefined;
  let newer: Hinted | undefined;
  return {
    prefetch(records) {
      older = newer;
      newer = undefined;
      try {
        const batch = keyBatch(name, records, keyOf, maxParallelism);
        newer = { records, batch };
        const loading = store.prefetch(batch.keys, batch.groups);
        if (loading === undefined) batch.cachedAt = store.evictionRounds;
        else loading.catch(() => undefined);
      } catch {
        // Surfaces when the batch is processed.
      }
    },
    batchOf(records) {
      if (older?.records === records) {
        const { batch } = older;
        older = undefined;
        return batch;
      }
      if (newer?.records === records) {
        const { batch } = newer;
        newer = older = undefined;
        return batch;
      }
      return keyBatch(name, records, keyOf, maxParallelism);
    },
  };
};

/**
 * Runs `each(index)` for every record with the store's current key set, after the batch's
 * state is prefetched. One await per batch at most.
 */
export const forEachKeyed = <K extends KeyValue>(
  store: KeyedStateStore,
  batch: KeyedBatch<K>,
  each: (index: number) => void,
): void | Promise<void> => {
  const run = () => {
    const { keys, groups } = batch;
    for (let i = 0; i < keys.length; i++) {
      store.setCurrentKey(keys[i]!, groups[i]!);
      each(i);
    }
  };
  if (batch.cachedAt === store.evictionRounds) return run();
  const loading = store.prefetch(batch.keys, batch.groups);
  if (loading === undefined) return run();
  return loading.then(run);
};
