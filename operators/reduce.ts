/**
 * Keyed reduce: keeps one accumulated value per key and emits it after every record (as Flink's
 * KeyedStream.reduce does), so the last output per key is the key's total so far.
 */
import type { KeyValue } from "../state/key-groups.ts";
import { forEachKeyed, keyedInput, requireKeyedStore } from "./keyed.ts";
import type { OperatorFactory } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export interface ReduceOptions<T, K extends KeyValue> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly reduce: (accumulator: T, value: T) => T;
}

export const reduceOperator =
  <T, K extends KeyValue>(options: ReduceOptions<T, K>): OperatorFactory<T, T> =>
  (context) => {
    const store = requireKeyedStore(context);
    const acc = store.register("reduce", { kind: "reduce" });
    const { name, reduce } = options;
    const input = keyedInput(store, name, options.key, context.maxParallelism);
    return {
      prefetch: (records) => input.prefetch(records),
      timestamps: "propagate",
      processBatch(records, out, ts) {
        const stamps = ts?.output;
        const times = ts?.input;
        const batch = input.batchOf(records);
        return forEachKeyed(store, batch, (i) => {
          const record = records[i]!;
          const previous = acc.get() as T | undefined;
          let next: T;
          try {
            next = previous === undefined ? record : requireSync(reduce(previous, record));
          } catch (e) {
            throw userFunctionError(name, record, i, e);
          }
          acc.set(next);
          out.push(next);
          if (stamps !== undefined) stamps.push(times![i]!);
        });
      },
    };
  };
