/**
 * Keyed aggregate: an accumulator per key (created, added to, read out by the user's
 * AggregateFunction); emits `getResult(accumulator)` after every record.
 */
import type { KeyValue } from "../state/key-groups.ts";
import { shapeOf, type StateSignature } from "../state/state-signature.ts";
import { forEachKeyed, keyedInput, requireKeyedStore } from "./keyed.ts";
import type { NotPromise, OperatorFactory } from "./operator.ts";
import { requireSync, userFunctionError } from "./user-error.ts";

export interface AggregateFunction<T, A, O> {
  createAccumulator(): NotPromise<A>;
  add(value: T, accumulator: A): NotPromise<A>;
  getResult(accumulator: A): NotPromise<O>;
}

export interface AggregateOptions<T, K extends KeyValue, A, O> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly aggregate: AggregateFunction<T, A, O>;
}

/** The accumulator's kind and, if `createAccumulator` answers, the shape of a new one. */
const accumulatorSignature = (aggregate: AggregateFunction<unknown, unknown, unknown>): StateSignature => {
  try {
    return { kind: "aggregate", shape: shapeOf(aggregate.createAccumulator()) };
  } catch {
    return { kind: "aggregate" };
  }
};

export const aggregateOperator =
  <T, K extends KeyValue, A, O>(options: AggregateOptions<T, K, A, O>): OperatorFactory<T, O> =>
  (context) => {
    const store = requireKeyedStore(context);
    const { name, aggregate } = options;
    const acc = store.register("aggregate", accumulatorSignature(aggregate));
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
          try {
            const stored = acc.get() as A | undefined;
            const next = requireSync(aggregate.add(record, stored === undefined ? requireSync(aggregate.createAccumulator()) : stored));
            acc.set(next);
            out.push(requireSync(aggregate.getResult(next)));
            if (stamps !== undefined) stamps.push(times![i]!);
          } catch (e) {
            throw userFunctionError(name, record, i, e);
          }
        });
      },
    };
  };
