/**
 * operators/: one operator per file; each exports a factory of the `Operator` contract.
 *
 * ```ts
 * const op = mapOperator("double", (x: number) => x * 2);
 * const out: number[] = [];
 * op.processBatch([1, 2], out); // out = [2, 4]
 * ```
 */
export { WatermarkMark, type Operator, type OperatorContext, type OperatorFactory, type Collector, type Timestamps } from "./operator.ts";
export { NO_TIMESTAMP, emittedTimestamps, outputTimestampsFor, timestampsFor } from "./timestamps.ts";
export { mapOperator } from "./map.ts";
export { filterOperator } from "./filter.ts";
export { flatMapOperator } from "./flat-map.ts";
export { reduceOperator, type ReduceOptions } from "./reduce.ts";
export { aggregateOperator, type AggregateFunction, type AggregateOptions } from "./aggregate.ts";
export { keyedProcessOperator, type KeyedProcessFunction, type KeyedProcessContext, type KeyedProcessOptions } from "./keyed-process.ts";
export {
  broadcastProcessOperator,
  keyedBroadcastProcessOperator,
  type BroadcastProcessFunction,
  type KeyedBroadcastProcessFunction,
} from "./broadcast-process.ts";
export { sinkOperator, type SinkOperator } from "./sink-operator.ts";
export { asyncMapOperator, type AsyncMapSettings } from "./async/async-map.ts";
export { userFunctionError } from "./user-error.ts";
