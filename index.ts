/**
 * Weir's public API: everything a job module needs.
 *
 * ```ts
 * import { job, fromFile, toFiles } from "weir";
 *
 * export default job("word-count", (env) => {
 *   env
 *     .source(fromFile(env.params.get("input", "data/lines.txt")))
 *     .flatMap((line) => line.toLowerCase().split(/\W+/))
 *     .filter((word) => word.length > 0)
 *     .map((word) => ({ word, count: 1 }))
 *     .keyBy((wc) => wc.word)
 *     .reduce((a, b) => ({ word: a.word, count: a.count + b.count }))
 *     .sink(toFiles(env.params.get("out", "out/word-count")));
 * });
 * ```
 *
 * Kafka lives behind a subpath, `weir/kafka`, so that importing `weir` loads no kafkajs and patches
 * nothing for jobs that do not use it.
 */
export { job, type JobDefinition, type JobEnv, type JobOptions } from "./engine/job.ts";
export type { AsyncMapOptions, DataStream, KeyedStream, OperatorOptions, ProcessStream } from "./engine/data-stream.ts";
export type { ProcessFunction, ProcessContext } from "./operators/process.ts";
export type { Params } from "./engine/params.ts";
export type { Collector } from "./operators/operator.ts";
export type { AggregateFunction } from "./operators/aggregate.ts";
export type {
  KeyedProcessContext,
  KeyedProcessFunction,
  KeyedCoProcessFunction,
  OnTimerContext,
} from "./operators/keyed-process.ts";
export type { TimerService, TimeDomain } from "./operators/timers.ts";
export type { ConnectedStreams, ConnectedKeyedStreams } from "./engine/data-stream.ts";
export type { BroadcastStream, BroadcastConnectedStream, KeyedBroadcastConnectedStream } from "./engine/broadcast-stream.ts";
export type {
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  BroadcastContext,
  ReadOnlyBroadcastContext,
  KeyedReadOnlyBroadcastContext,
  KeyedBroadcastOnTimerContext,
} from "./operators/broadcast-process.ts";
export {
  broadcastState,
  type BroadcastStateDescriptor,
  type BroadcastState,
  type ReadOnlyBroadcastState,
  type BroadcastKey,
} from "./state/broadcast-state.ts";
export type { SourceOptions } from "./engine/job.ts";
export {
  boundedOutOfOrderness,
  monotonousTimestamps,
  customWatermarks,
  MIN_WATERMARK,
  MAX_WATERMARK,
  type WatermarkStrategy,
  type WatermarkGenerator,
} from "./engine/watermarks.ts";
export {
  tumblingEventTimeWindows,
  tumblingProcessingTimeWindows,
  slidingEventTimeWindows,
  slidingProcessingTimeWindows,
  eventTimeSessionWindows,
  processingTimeSessionWindows,
  type TimeWindow,
  type WindowAssigner,
} from "./operators/window/windows.ts";
export type { WindowContext, WindowAggregateFunction } from "./operators/window/window-operator.ts";
export type { WindowedStream, WindowOptions, WindowResult } from "./engine/windowed-stream.ts";
export type { JoinWindowOptions, JoinedWindow, CoGroupedWindow, IntervalJoinOptions, IntervalJoined } from "./engine/joins.ts";
export { outputTag, type OutputTag } from "./operators/side-output.ts";
export {
  valueState,
  listState,
  mapState,
  type StateSpec,
  type StateOptions,
  type StateTtlUpdateType,
  type StateTtlVisibility,
  type ValueStateDescriptor,
  type ListStateDescriptor,
  type MapStateDescriptor,
} from "./state/descriptors.ts";
export type { ValueState, ListState, MapState, StateHandles } from "./state/handles.ts";
export type { KeyValue } from "./state/key-groups.ts";
export type { Source, SplitReader, ReadResult, Dropped, SourceContext } from "./connectors/source.ts";
export type { Sink, SinkWriter, SinkContext } from "./connectors/sink.ts";
export { fromFile, type FileSourceOptions } from "./connectors/file-source.ts";
export { generator, type GeneratorOptions, type GeneratorContext } from "./connectors/generator-source.ts";
export type { Random } from "./connectors/random.ts";
export { toFiles, type FileSinkOptions } from "./connectors/file-sink.ts";
export { print, type PrintOptions } from "./connectors/print-sink.ts";
export { discard } from "./connectors/discard-sink.ts";
export { WeirError, type ErrorDomain } from "./common/errors.ts";
export {
  nexmark,
  eventTime,
  type NexmarkOptions,
  type Event as NexmarkEvent,
  type Person,
  type Auction,
  type Bid,
} from "./connectors/nexmark/index.ts";
