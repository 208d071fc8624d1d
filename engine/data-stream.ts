/**
 * The typed fluent API. A `DataStream<T>` carries records of type T; `keyBy` gives a
 * `KeyedStream<T, K>` whose operations keep state per key. Every operation takes one options
 * object: `name` (unique within the job; default `<kind>-<n>`) and `parallelism` (default: the
 * job's).
 *
 * Records are shared between consumers and must be treated as immutable by user functions.
 */
import type { Sink } from "../connectors/sink.ts";
import { aggregateOperator, type AggregateFunction } from "../operators/aggregate.ts";
import { filterOperator } from "../operators/filter.ts";
import { flatMapOperator } from "../operators/flat-map.ts";
import {
  keyedCoProcessOperator,
  keyedProcessOperator,
  type KeyedCoProcessFunction,
  type KeyedProcessFunction,
} from "../operators/keyed-process.ts";
import { mapOperator } from "../operators/map.ts";
import { asyncMapOperator } from "../operators/async/async-map.ts";
import { durationMillis } from "../common/duration.ts";
import { userError } from "../common/errors.ts";
import { processOperator, type ProcessFunction } from "../operators/process.ts";
import { SideOutputs, sideOutputOperator, type OutputTag } from "../operators/side-output.ts";
import {
  broadcastProcessOperator,
  keyedBroadcastProcessOperator,
  type BroadcastProcessFunction,
  type KeyedBroadcastProcessFunction,
} from "../operators/broadcast-process.ts";
import type { BroadcastStateDescriptor } from "../state/broadcast-state.ts";
import { BroadcastStreamImpl, type BroadcastConnectedStream, type BroadcastStream, type KeyedBroadcastConnectedStream } from "./broadcast-stream.ts";
import type { NotPromise, OperatorFactory } from "../operators/operator.ts";
import { reduceOperator } from "../operators/reduce.ts";
import type { StateSpec } from "../state/descriptors.ts";
import type { KeyValue } from "../state/key-groups.ts";
import type { GraphBuilder, NodeSpec, Partitioning } from "./graph.ts";
import type { WindowAssigner } from "../operators/window/windows.ts";
import { WindowedStreamImpl, type WindowedStream, type WindowOptions } from "./windowed-stream.ts";
import { coGroup, intervalJoin, join, type IntervalJoined, type IntervalJoinOptions, type WhereClause } from "./joins.ts";

export interface OperatorOptions {
  /** What the operator is called in the dashboard and the REST API (default: its uid). */
  readonly name?: string;
  /**
   * The operator's identity across runs: checkpoints and savepoints hold its state under it, so
   * keep it when the job changes (as Flink's uid). Default: the name, or `<kind>-<position>`.
   */
  readonly uid?: string;
  readonly parallelism?: number;
}

/** A node's identity (uid) and display name from its options. */
export const nodeNames = (options: OperatorOptions | undefined, fallback: string): { name: string; displayName?: string } => {
  const name = options?.uid ?? options?.name ?? fallback;
  return options?.name === undefined || options.name === name ? { name } : { name, displayName: options.name };
};

/** Options of `asyncMap` (async I/O); see DataStream.asyncMap. */
export interface AsyncMapOptions extends OperatorOptions {
  /** Calls in flight per subtask at most (default 100); while as many records are queued, the task takes no more input. */
  readonly capacity?: number;
  /** Emit results in input order (default true); false: as they complete, but never across a watermark. */
  readonly ordered?: boolean;
  /** Time each attempt may take, in ms or as a duration such as "5s" (default: no limit). */
  readonly timeout?: number | string;
  /** Attempts after the first one for a record whose call rejected or timed out (default 0). */
  readonly retries?: number;
  /** Wait before the first retry, doubled for each further one (default 100ms). */
  readonly retryDelay?: number | string;
}

export interface DataStream<T> {
  map<O>(fn: (value: T) => NotPromise<O>, options?: OperatorOptions): DataStream<O>;
  /**
   * Async I/O: calls `fn` (e.g. a lookup in an external service) for each record and emits what
   * its Promise resolves to, with up to `capacity` calls in flight, without blocking the task.
   * In-flight records are checkpointed and called again after a restore (calls are at least
   * once; results are emitted exactly once). A call that still fails or times out after
   * `retries` fails the job (ASYNC_REQUEST_FAILED / ASYNC_TIMEOUT).
   */
  asyncMap<O>(fn: (value: T) => PromiseLike<O>, options?: AsyncMapOptions): DataStream<O>;
  filter<S extends T>(predicate: (value: T) => value is S, options?: OperatorOptions): DataStream<S>;
  filter(predicate: (value: T) => boolean, options?: OperatorOptions): DataStream<T>;
  flatMap<O>(fn: (value: T) => Iterable<O>, options?: OperatorOptions): DataStream<O>;
  /** The general one-input operator without keys: emits with `out.collect`, side outputs with `ctx.output(tag, value)`. */
  process<O>(fn: ProcessFunction<T, O>, options?: OperatorOptions): ProcessStream<O>;
  /** Partitions by key: records with equal keys reach the same subtask, in order per input. */
  keyBy<K extends KeyValue>(key: (value: T) => K): KeyedStream<T, K>;
  /** Merges streams of the same type (no order between them). */
  union(...others: DataStream<T>[]): DataStream<T>;
  /** Spreads records round-robin (by batch) over the next operator's subtasks. */
  rebalance(): DataStream<T>;
  /**
   * Spreads records round-robin (by batch) over a local share of the next operator's subtasks
   * (Flink's rescale): with p upstream and q downstream subtasks, upstream i feeds only its
   * contiguous share, so there are about max(p, q) channels instead of p x q.
   */
  rescale(): DataStream<T>;
  /** Sends every record to every subtask of the next operator. */
  broadcast(): DataStream<T>;
  /**
   * A broadcast stream with broadcast state (Flink's broadcast state pattern): connect a stream
   * to it (`events.connect(rules).process(fn)`); every subtask of that operator gets every record
   * of this stream in `processBroadcastElement` and keeps the declared states.
   */
  broadcast(first: BroadcastStateDescriptor<any, any>, ...more: BroadcastStateDescriptor<any, any>[]): BroadcastStream<T>;
  /**
   * Sends each record to the subtask `partitioner(key(record), numPartitions)` returns (an integer
   * in 0..numPartitions-1; anything else fails the job with BAD_PARTITION). The next operator is not
   * keyed: use keyBy for keyed state. Annotate the partitioner's key parameter
   * (`(key: string, n) => ...`): TypeScript infers left to right, so unannotated it is `unknown`.
   */
  partitionCustom<K>(partitioner: (key: K, numPartitions: number) => number, key: (value: T) => K): DataStream<T>;
  /** Pairs this stream with a broadcast stream, for a broadcast process function. */
  connect<U>(other: BroadcastStream<U>): BroadcastConnectedStream<T, U>;
  /** Pairs this stream with another (of any type) for a two-input operator. */
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U>;
  /** Window join: `join(other).where(k1).equalTo(k2).window(assigner, times).apply((a, b) => ...)`. */
  join<U>(other: DataStream<U>): WhereClause<T, U, "join">;
  /** Window coGroup: like `join`, but the function gets both sides' elements of a key and window. */
  coGroup<U>(other: DataStream<U>): WhereClause<T, U, "coGroup">;
  sink(sink: Sink<T, any>, options?: OperatorOptions): void;
}

export interface KeyedStream<T, K extends KeyValue> {
  /** Emits the running reduction of each key after every record. */
  reduce(fn: (accumulator: T, value: T) => T, options?: OperatorOptions): DataStream<T>;
  /** Emits `getResult` of each key's accumulator after every record. */
  aggregate<A, O>(fn: AggregateFunction<T, A, O>, options?: OperatorOptions): DataStream<O>;
  /** The general keyed operator, with typed per-key state. */
  process<O, S extends StateSpec = {}>(fn: KeyedProcessFunction<T, K, O, S>, options?: OperatorOptions): ProcessStream<O>;
  /** Groups each key's records into windows (tumbling, sliding, session; event or processing time). */
  window(assigner: WindowAssigner, options?: WindowOptions<T>): WindowedStream<T, K>;
  /** Pairs with a broadcast stream, for a keyed broadcast process function. */
  connect<U>(other: BroadcastStream<U>): KeyedBroadcastConnectedStream<T, U, K>;
  /** Pairs with another stream keyed the same way, for a two-input keyed process function. */
  connect<U>(other: KeyedStream<U, K>): ConnectedKeyedStreams<T, U, K>;
  /**
   * Interval join: pairs each record with `other`'s records of the same key within [t + lower, t + upper].
   * Times: `times` when given, else the timestamps records carry from their sources' watermark strategies.
   */
  intervalJoin<U>(other: KeyedStream<U, K>): {
    between(lower: number | string, upper: number | string, times?: IntervalJoinOptions<T, U>): IntervalJoined<T, U, K>;
  };
}

export interface ConnectedStreams<T1, T2> {
  /** Partitions both inputs by key; equal keys of either input reach the same subtask. */
  keyBy<K extends KeyValue>(key1: (value: T1) => K, key2: (value: T2) => K): ConnectedKeyedStreams<T1, T2, K>;
}

export interface ConnectedKeyedStreams<T1, T2, K extends KeyValue> {
  /** A two-input keyed function with shared per-key state and timers. */
  process<O, S extends StateSpec = {}>(fn: KeyedCoProcessFunction<T1, T2, K, O, S>, options?: OperatorOptions): ProcessStream<O>;
}

/** A process function's main output; `sideOutput(tag)` gives what it emitted with `ctx.output(tag, value)`. */
export interface ProcessStream<O> extends DataStream<O> {
  sideOutput<X>(tag: OutputTag<X>): DataStream<X>;
}

const forward: Partitioning = { kind: "forward" };
const broadcastEdge: Partitioning = { kind: "broadcast" };

export class DataStreamImpl<T> implements DataStream<T> {
  readonly graph: GraphBuilder;
  /** The node(s) whose output this stream is; more than one after a union. */
  readonly heads: readonly number[];
  readonly partitioning: Partitioning;

  constructor(graph: GraphBuilder, heads: readonly number[], partitioning: Partitioning = forward) {
    this.graph = graph;
    this.heads = heads;
    this.partitioning = partitioning;
  }

  /** Adds a node fed by this stream; `spec` receives the node's resolved name. */
  addNode<O>(defaultName: string, options: OperatorOptions | undefined, spec: (name: string) => NodeSpec): DataStreamImpl<O> {
    const { name, displayName } = nodeNames(options, `${defaultName}-${this.graph.nodes.length}`);
    const id = this.graph.add({
      name,
      ...(displayName === undefined ? {} : { displayName }),
      parallelism: options?.parallelism,
      inputs: this.heads.map((from) => ({ from, partitioning: this.partitioning })),
      spec: spec(name),
    });
    return new DataStreamImpl<O>(this.graph, [id]);
  }

  map<O>(fn: (value: T) => NotPromise<O>, options?: OperatorOptions): DataStream<O> {
    return this.addNode<O>("map", options, (name) => ({ kind: "operator", keyed: false, create: () => mapOperator(name, fn) }));
  }

  asyncMap<O>(fn: (value: T) => PromiseLike<O>, options: AsyncMapOptions = {}): DataStream<O> {
    const bad = (what: string, value: unknown) =>
      userError("BAD_ASYNC_OPTIONS", `asyncMap${options.name === undefined ? "" : ` '${options.name}'`}: ${what}, got ${JSON.stringify(value)}`, {
        ...(options.name === undefined ? {} : { operator: options.uid ?? options.name }),
      });
    const capacity = options.capacity ?? 100;
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw bad("capacity must be a positive integer", options.capacity);
    const retries = options.retries ?? 0;
    if (!Number.isSafeInteger(retries) || retries < 0) throw bad("retries must be an integer >= 0", options.retries);
    const timeoutMs = options.timeout === undefined ? undefined : durationMillis(options.timeout);
    if (options.timeout !== undefined && (timeoutMs === undefined || timeoutMs <= 0)) throw bad(`timeout must be a duration > 0 such as "5s"`, options.timeout);
    const retryDelayMs = durationMillis(options.retryDelay ?? 100);
    if (retryDelayMs === undefined || retryDelayMs < 0) throw bad(`retryDelay must be a duration >= 0 such as "200ms"`, options.retryDelay);
    const ordered = options.ordered ?? true;
    return this.addNode<O>("async-map", options, (name) => ({
      kind: "operator",
      keyed: true,
      wakes: true,
      create: asyncMapOperator<T, O>({ name, fn, capacity, ordered, timeoutMs, retries, retryDelayMs }),
    }));
  }

  filter(predicate: (value: T) => boolean, options?: OperatorOptions): DataStream<any> {
    return this.addNode<T>("filter", options, (name) => ({
      kind: "operator",
      keyed: false,
      create: () => filterOperator(name, predicate),
    }));
  }

  flatMap<O>(fn: (value: T) => Iterable<O>, options?: OperatorOptions): DataStream<O> {
    return this.addNode<O>("flat-map", options, (name) => ({
      kind: "operator",
      keyed: false,
      create: () => flatMapOperator(name, fn),
    }));
  }

  process<O>(fn: ProcessFunction<T, O>, options?: OperatorOptions): ProcessStream<O> {
    const sideOutputs = new SideOutputs();
    const main = this.addNode<O>("process", options, (name) => ({
      kind: "operator",
      keyed: false,
      sideOutputs,
      create: processOperator(name, fn, sideOutputs),
    }));
    return withSideOutputs(main, sideOutputs, options?.parallelism);
  }

  keyBy<K extends KeyValue>(key: (value: T) => K): KeyedStream<T, K> {
    return new KeyedStreamImpl<T, K>(new DataStreamImpl<T>(this.graph, this.heads, { kind: "hash", key }), key);
  }

  union(...others: DataStream<T>[]): DataStream<T> {
    const heads = [...this.heads];
    for (const other of others) heads.push(...(other as DataStreamImpl<T>).heads);
    return new DataStreamImpl<T>(this.graph, heads, this.partitioning);
  }

  rebalance(): DataStream<T> {
    return new DataStreamImpl<T>(this.graph, this.heads, { kind: "rebalance" });
  }

  rescale(): DataStream<T> {
    return new DataStreamImpl<T>(this.graph, this.heads, { kind: "rescale" });
  }

  broadcast(): DataStream<T>;
  broadcast(first: BroadcastStateDescriptor<any, any>, ...more: BroadcastStateDescriptor<any, any>[]): BroadcastStream<T>;
  broadcast(...descriptors: BroadcastStateDescriptor<any, any>[]): DataStream<T> | BroadcastStream<T> {
    if (descriptors.length > 0) return new BroadcastStreamImpl<T>(this.heads, descriptors);
    return new DataStreamImpl<T>(this.graph, this.heads, broadcastEdge);
  }

  partitionCustom<K>(partitioner: (key: K, numPartitions: number) => number, key: (value: T) => K): DataStream<T> {
    return new DataStreamImpl<T>(this.graph, this.heads, { kind: "custom", key, partitioner });
  }

  join<U>(other: DataStream<U>): WhereClause<T, U, "join"> {
    return join(this, other);
  }

  coGroup<U>(other: DataStream<U>): WhereClause<T, U, "coGroup"> {
    return coGroup(this, other);
  }

  connect<U>(other: BroadcastStream<U>): BroadcastConnectedStream<T, U>;
  connect<U>(other: DataStream<U>): ConnectedStreams<T, U>;
  connect<U>(other: DataStream<U> | BroadcastStream<U>): ConnectedStreams<T, U> | BroadcastConnectedStream<T, U> {
    if (other instanceof BroadcastStreamImpl) {
      return {
        process: <O>(fn: BroadcastProcessFunction<T, U, O>, options?: OperatorOptions) =>
          this.addBroadcastNode<O>("broadcast-process", options, other, this.partitioning, false, (name) => broadcastProcessOperator({ name, fn })),
      };
    }
    return {
      keyBy: <K extends KeyValue>(key1: (value: T) => K, key2: (value: U) => K): ConnectedKeyedStreams<T, U, K> => ({
        process: <O, S extends StateSpec = {}>(fn: KeyedCoProcessFunction<T, U, K, O, S>, options?: OperatorOptions) =>
          this.coProcess(other as DataStreamImpl<U>, key1, key2, fn, options, false),
      }),
    };
  }

  /**
   * A node with this stream as input 0 (partitioned by `partitioning`) and a broadcast stream as
   * input 1 (broadcast to every subtask), holding the broadcast stream's states.
   */
  addBroadcastNode<O>(
    defaultName: string,
    options: OperatorOptions | undefined,
    broadcast: BroadcastStreamImpl<unknown>,
    partitioning: Partitioning,
    keyed: boolean,
    create: (name: string) => OperatorFactory<any, any>,
  ): DataStreamImpl<O> {
    const { name, displayName } = nodeNames(options, `${defaultName}-${this.graph.nodes.length}`);
    const id = this.graph.add({
      name,
      ...(displayName === undefined ? {} : { displayName }),
      parallelism: options?.parallelism,
      inputs: [
        ...this.heads.map((from) => ({ from, partitioning, side: 0 as const })),
        ...broadcast.heads.map((from) => ({ from, partitioning: broadcastEdge, side: 1 as const })),
      ],
      spec: { kind: "operator", keyed, create: create(name), broadcastStates: broadcast.states },
    });
    return new DataStreamImpl<O>(this.graph, [id]);
  }

  /**
   * A keyed two-input process node: this stream is input 0, `other` input 1. `eventTime`: the
   * node needs watermarks to make progress (an interval join); see watermark-check.ts.
   */
  coProcess<U, K extends KeyValue, O, S extends StateSpec>(
    other: DataStreamImpl<U>,
    key1: (value: T) => K,
    key2: (value: U) => K,
    fn: KeyedCoProcessFunction<T, U, K, O, S>,
    options: OperatorOptions | undefined,
    eventTime: boolean,
    carriedTimestamps = false,
  ): ProcessStream<O> {
    const sideOutputs = new SideOutputs();
    const main = this.addTwoInputNode<O>("co-process", options, other, key1, key2, (name) => ({
      kind: "operator",
      keyed: true,
      eventTime,
      carriedTimestamps,
      sideOutputs,
      create: keyedCoProcessOperator({ name, key1, key2, fn, sideOutputs }),
    }));
    return withSideOutputs(main, sideOutputs, options?.parallelism);
  }

  /** Adds a keyed two-input node: this stream is input 0 (hashed by `key1`), `other` input 1. */
  addTwoInputNode<O>(
    defaultName: string,
    options: OperatorOptions | undefined,
    other: DataStreamImpl<any>,
    key1: (value: any) => KeyValue,
    key2: (value: any) => KeyValue,
    spec: (name: string) => NodeSpec,
  ): DataStreamImpl<O> {
    const { name, displayName } = nodeNames(options, `${defaultName}-${this.graph.nodes.length}`);
    const id = this.graph.add({
      name,
      ...(displayName === undefined ? {} : { displayName }),
      parallelism: options?.parallelism,
      inputs: [
        ...this.heads.map((from) => ({ from, partitioning: { kind: "hash" as const, key: key1 }, side: 0 as const })),
        ...other.heads.map((from) => ({ from, partitioning: { kind: "hash" as const, key: key2 }, side: 1 as const })),
      ],
      spec: spec(name),
    });
    return new DataStreamImpl<O>(this.graph, [id]);
  }

  sink(sink: Sink<T, any>, options?: OperatorOptions): void {
    this.addNode<never>(sink.name, options, () => ({ kind: "sink", sink }));
  }
}

/** A stream partitioned by key; `hashed` is the input stream with hash partitioning on `key`. */
export class KeyedStreamImpl<T, K extends KeyValue> implements KeyedStream<T, K> {
  readonly hashed: DataStreamImpl<T>;
  readonly key: (value: T) => K;

  constructor(hashed: DataStreamImpl<T>, key: (value: T) => K) {
    this.hashed = hashed;
    this.key = key;
  }

  reduce(fn: (accumulator: T, value: T) => T, options?: OperatorOptions): DataStream<T> {
    return this.hashed.addNode<T>("reduce", options, (name) => ({
      kind: "operator",
      keyed: true,
      create: reduceOperator({ name, key: this.key, reduce: fn }),
    }));
  }

  aggregate<A, O>(fn: AggregateFunction<T, A, O>, options?: OperatorOptions): DataStream<O> {
    return this.hashed.addNode<O>("aggregate", options, (name) => ({
      kind: "operator",
      keyed: true,
      create: aggregateOperator({ name, key: this.key, aggregate: fn }),
    }));
  }

  process<O, S extends StateSpec = {}>(fn: KeyedProcessFunction<T, K, O, S>, options?: OperatorOptions): ProcessStream<O> {
    const sideOutputs = new SideOutputs();
    const main = this.hashed.addNode<O>("process", options, (name) => ({
      kind: "operator",
      keyed: true,
      sideOutputs,
      create: keyedProcessOperator({ name, key: this.key, fn, sideOutputs }),
    }));
    return withSideOutputs(main, sideOutputs, options?.parallelism);
  }

  window(assigner: WindowAssigner, options: WindowOptions<T> = {}): WindowedStream<T, K> {
    return new WindowedStreamImpl<T, K>(this.hashed, this.key, assigner, options);
  }

  connect<U>(other: BroadcastStream<U>): KeyedBroadcastConnectedStream<T, U, K>;
  connect<U>(other: KeyedStream<U, K>): ConnectedKeyedStreams<T, U, K>;
  connect<U>(other: KeyedStream<U, K> | BroadcastStream<U>): ConnectedKeyedStreams<T, U, K> | KeyedBroadcastConnectedStream<T, U, K> {
    if (other instanceof BroadcastStreamImpl) {
      return {
        process: <O, S extends StateSpec = {}>(fn: KeyedBroadcastProcessFunction<T, U, K, O, S>, options?: OperatorOptions) =>
          this.hashed.addBroadcastNode<O>("broadcast-process", options, other, this.hashed.partitioning, true, (name) =>
            keyedBroadcastProcessOperator({ name, key: this.key, fn }),
          ),
      };
    }
    return {
      process: <O, S extends StateSpec = {}>(fn: KeyedCoProcessFunction<T, U, K, O, S>, options?: OperatorOptions) =>
        this.coProcess(other as KeyedStream<U, K>, fn, options, false),
    };
  }

  /** `connect(other).process(fn, options)`, marked as needing watermarks if `eventTime` (see DataStreamImpl.coProcess). */
  coProcess<U, O, S extends StateSpec>(
    other: KeyedStream<U, K>,
    fn: KeyedCoProcessFunction<T, U, K, O, S>,
    options: OperatorOptions | undefined,
    eventTime: boolean,
    carriedTimestamps = false,
  ): ProcessStream<O> {
    const that = other as KeyedStreamImpl<U, K>;
    const unhashed = <X>(s: DataStreamImpl<X>) => new DataStreamImpl<X>(s.graph, s.heads);
    return unhashed(this.hashed).coProcess(unhashed(that.hashed), this.key, that.key, fn, options, eventTime, carriedTimestamps);
  }

  intervalJoin<U>(other: KeyedStream<U, K>) {
    return {
      between: (lower: number | string, upper: number | string, times?: IntervalJoinOptions<T, U>): IntervalJoined<T, U, K> =>
        intervalJoin(this, other, lower, upper, times),
    };
  }
}

/**
 * Adds `sideOutput(tag)` to a process node's main stream. Selecting a tag registers it (so the
 * operator emits it) and adds a selector node that unwraps the tag's records; one selector per
 * tag, however often it is asked for.
 */
const withSideOutputs = <O>(main: DataStreamImpl<O>, sideOutputs: SideOutputs, parallelism: number | undefined): ProcessStream<O> => {
  const nodeName = main.graph.nodes[main.heads[0]!]!.name;
  const selected = new Map<string, unknown>();
  return Object.assign(main, {
    sideOutput<X>(tag: OutputTag<X>): DataStream<X> {
      const known = selected.get(tag.id);
      if (known !== undefined) return known as DataStream<X>;
      sideOutputs.select(tag);
      const side = main.addNode<X>("side", { name: `${nodeName}.${tag.id}`, parallelism }, () => ({
        kind: "operator",
        keyed: false,
        selectsSideOutput: true,
        create: () => sideOutputOperator(tag),
      }));
      selected.set(tag.id, side);
      return side;
    },
  });
};
