/**
 * The windowed part of the fluent API: `keyedStream.window(assigner, options)` and its window
 * functions. Event-time windows take the record's time from `options.timestamp` when given, else
 * the timestamp the record carries from its source's watermark strategy (operators/timestamps.ts);
 * processing-time windows use the subtask's clock.
 */
import { durationMillis } from "../common/duration.ts";
import { userError } from "../common/errors.ts";
import type { Collector, NotPromise, ProcessResult } from "../operators/operator.ts";
import { requireNothing, requireSync } from "../operators/user-error.ts";
import { mainOutputOperator, sideOutputOperator, type OutputTag } from "../operators/side-output.ts";
import {
  aggregateContents,
  listContents,
  reduceContents,
  windowOperator,
  type WindowAggregateFunction,
  type WindowContents,
  type WindowContext,
} from "../operators/window/window-operator.ts";
import type { WindowAssigner } from "../operators/window/windows.ts";
import type { KeyValue } from "../state/key-groups.ts";
import type { DataStreamImpl, DataStream, OperatorOptions } from "./data-stream.ts";

export interface WindowOptions<T> {
  /**
   * The record's event time in ms, for event-time windows. Default: the timestamp the record
   * carries, which its source's watermark strategy gave it (`env.source(src, { watermarks })`).
   */
  readonly timestamp?: (value: T) => number;
  /** How long after a window fired late records still update it, e.g. "5s" (default 0). */
  readonly allowedLateness?: number | string;
  /**
   * Records too late for every window (time + allowed lateness <= watermark) go to this side
   * output (default: dropped, as in Flink). A record in no window that is not late (in the gap of
   * sliding windows with slide > size) is dropped silently, as in Flink.
   */
  readonly lateData?: OutputTag<T>;
}

/** What joins.ts also passes: a record's time given the one it carries (NaN: none). */
export interface InternalWindowOptions<T> extends WindowOptions<T> {
  readonly timestampOrCarried?: (value: T, carried: number) => number;
}

/** A window operator's output; `sideOutput(tag)` gives its late records. */
export interface WindowResult<O, T> extends DataStream<O> {
  sideOutput(tag: OutputTag<T>): DataStream<T>;
}

export interface WindowedStream<T, K extends KeyValue> {
  /** Reduces each window's elements; emits the reduced value (or `result` of it). */
  reduce(fn: (a: T, b: T) => T, options?: OperatorOptions): WindowResult<T, T>;
  reduce<O>(fn: (a: T, b: T) => T, result: (value: T, window: WindowContext<K>) => NotPromise<O>, options?: OperatorOptions): WindowResult<O, T>;
  /** Aggregates incrementally; emits `getResult` (or `result` of it). Session windows need `merge`. */
  aggregate<A, R>(fn: WindowAggregateFunction<T, A, R>, options?: OperatorOptions): WindowResult<R, T>;
  aggregate<A, R, O>(
    fn: WindowAggregateFunction<T, A, R>,
    result: (value: R, window: WindowContext<K>) => NotPromise<O>,
    options?: OperatorOptions,
  ): WindowResult<O, T>;
  /** Full window function: all of the window's elements at once (kept in state until it fires). */
  process<O>(fn: (elements: readonly T[], window: WindowContext<K>, out: Collector<O>) => ProcessResult, options?: OperatorOptions): WindowResult<O, T>;
}

/** Adds `sideOutput` to the window's main stream (no subclass: data-stream.ts imports this module). */
const withSideOutput = <O, T>(
  main: DataStreamImpl<O>,
  windowNode: DataStreamImpl<unknown>,
  lateData: OutputTag<T> | undefined,
  nodeName: string,
  parallelism: number | undefined,
): WindowResult<O, T> =>
  Object.assign(main, {
    sideOutput(tag: OutputTag<T>): DataStream<T> {
      if (lateData?.id !== tag.id) {
        throw userError("UNKNOWN_SIDE_OUTPUT", `window operator '${nodeName}' has no side output '${tag.id}'; set { lateData: tag } in its window options`, {
          operator: nodeName,
        });
      }
      return windowNode.addNode<T>("side", { name: `${nodeName}.${tag.id}`, parallelism }, () => ({
        kind: "operator",
        keyed: false,
        create: () => sideOutputOperator(tag),
      }));
    },
  });

export class WindowedStreamImpl<T, K extends KeyValue> implements WindowedStream<T, K> {
  private readonly hashed: DataStreamImpl<T>;
  private readonly key: (value: T) => K;
  private readonly assigner: WindowAssigner;
  private readonly options: WindowOptions<T>;
  private readonly allowedLateness: number;

  constructor(hashed: DataStreamImpl<T>, key: (value: T) => K, assigner: WindowAssigner, options: WindowOptions<T>) {
    this.hashed = hashed;
    this.key = key;
    this.assigner = assigner;
    this.options = options;
    const lateness = options.allowedLateness;
    const ms = lateness === undefined ? 0 : durationMillis(lateness);
    if (ms === undefined || !Number.isSafeInteger(ms) || ms < 0) {
      throw userError("BAD_WINDOW", `window: allowedLateness must be a duration >= 0 such as "5s", got ${JSON.stringify(lateness)}`);
    }
    this.allowedLateness = ms;
  }

  private build<A, R, O>(
    defaultName: string,
    contents: (name: string) => WindowContents<T, A, R>,
    emit: (result: R, window: WindowContext<K>, out: Collector<O>) => void,
    options: OperatorOptions | undefined,
  ): WindowResult<O, T> {
    let nodeName = "";
    const windowNode = this.hashed.addNode<unknown>(defaultName, options, (name) => {
      nodeName = name;
      return {
        kind: "operator",
        keyed: true,
        eventTime: this.assigner.time === "event",
        carriedTimestamps: this.assigner.time === "event" && this.options.timestamp === undefined,
        create: windowOperator<T, K, A, R, O>({
          name,
          key: this.key,
          assigner: this.assigner,
          timestamp: this.options.timestamp ?? (this.options as InternalWindowOptions<T>).timestampOrCarried,
          allowedLateness: this.allowedLateness,
          lateData: this.options.lateData,
          contents: contents(name),
          emit,
        }),
      };
    });
    const lateData = this.options.lateData;
    const main =
      lateData === undefined
        ? (windowNode as DataStreamImpl<O>)
        : windowNode.addNode<O>("main", { name: `${nodeName}.main`, parallelism: options?.parallelism }, () => ({
            kind: "operator",
            keyed: false,
            create: () => mainOutputOperator<O>(),
          }));
    return withSideOutput<O, T>(main, windowNode, lateData, nodeName, options?.parallelism);
  }

  reduce(fn: (a: T, b: T) => T, resultOrOptions?: ((value: T, window: WindowContext<K>) => unknown) | OperatorOptions, options?: OperatorOptions): any {
    const result = typeof resultOrOptions === "function" ? resultOrOptions : undefined;
    const opts = typeof resultOrOptions === "function" ? options : resultOrOptions;
    return this.build<T, T, unknown>(
      "window-reduce",
      () => reduceContents(fn),
      result === undefined ? (v, _w, out) => out.collect(v) : (v, w, out) => out.collect(requireSync(result(v, w))),
      opts,
    );
  }

  aggregate<A, R>(
    fn: WindowAggregateFunction<T, A, R>,
    resultOrOptions?: ((value: R, window: WindowContext<K>) => unknown) | OperatorOptions,
    options?: OperatorOptions,
  ): any {
    const result = typeof resultOrOptions === "function" ? resultOrOptions : undefined;
    const opts = typeof resultOrOptions === "function" ? options : resultOrOptions;
    if (this.assigner.kind === "session" && fn.merge === undefined) {
      throw userError("AGGREGATE_WITHOUT_MERGE", "session windows merge, so their aggregate function needs merge(a, b)");
    }
    return this.build<A, R, unknown>(
      "window-aggregate",
      (name) => aggregateContents(fn, name),
      result === undefined ? (v, _w, out) => out.collect(v) : (v, w, out) => out.collect(requireSync(result(v, w))),
      opts,
    );
  }

  process<O>(fn: (elements: readonly T[], window: WindowContext<K>, out: Collector<O>) => ProcessResult, options?: OperatorOptions): WindowResult<O, T> {
    return this.build<T[], readonly T[], O>("window-process", () => listContents<T>(), (elements, w, out) => requireNothing(fn(elements, w, out)), options);
  }
}
