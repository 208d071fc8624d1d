/**
 * Keyed process function: the general keyed operator. It declares its states by name in
 * `state`; in `processElement` they are handles bound to the current record's key.
 *
 * ```ts
 * stream.keyBy((t) => t.account).process({
 *   state: { total: valueState(0), recent: listState<number>() },
 *   processElement(t, ctx, out) {
 *     const total = ctx.state.total.value() + t.amount;
 *     ctx.state.total.update(total);
 *     out.collect({ account: ctx.key, total });
 *   },
 * });
 * ```
 */
import type { StateSpec } from "../state/descriptors.ts";
import { bindStates, type StateHandles } from "../state/handles.ts";
import type { KeyValue } from "../state/key-groups.ts";
import { forEachKeyed, keyBatch, requireKeyedStore } from "./keyed.ts";
import type { Collector, OperatorFactory } from "./operator.ts";
import { userFunctionError } from "./user-error.ts";

export interface KeyedProcessContext<K, S extends StateSpec> {
  /** The key of the record being processed. */
  readonly key: K;
  readonly state: StateHandles<S>;
  readonly subtask: number;
}

export interface KeyedProcessFunction<T, K, O, S extends StateSpec> {
  readonly state?: S;
  processElement(value: T, context: KeyedProcessContext<K, S>, out: Collector<O>): void;
}

export interface KeyedProcessOptions<T, K extends KeyValue, O, S extends StateSpec> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly fn: KeyedProcessFunction<T, K, O, S>;
}

export const keyedProcessOperator =
  <T, K extends KeyValue, O, S extends StateSpec>(options: KeyedProcessOptions<T, K, O, S>): OperatorFactory<T, O> =>
  (context) => {
    const store = requireKeyedStore(context);
    const { name, fn } = options;
    const handles = bindStates(store, fn.state ?? ({} as S));
    const ctx = { key: undefined as unknown as K, state: handles, subtask: context.subtask };
    let target: O[] = [];
    const collector: Collector<O> = { collect: (value) => void target.push(value) };
    return {
      processBatch(records, out) {
        const batch = keyBatch(name, records, options.key, context.maxParallelism);
        return forEachKeyed(store, batch, (i) => {
          const record = records[i]!;
          ctx.key = batch.keys[i]!;
          target = out;
          try {
            fn.processElement(record, ctx, collector);
          } catch (e) {
            throw userFunctionError(name, record, i, e);
          }
        });
      },
      flushState: () => store.flush(),
    };
  };
