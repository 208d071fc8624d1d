/**
 * The broadcast side of the fluent API (Flink's broadcast state pattern):
 * `stream.broadcast(descriptor, ...)` gives a BroadcastStream, which a DataStream or a KeyedStream
 * connects to for a (keyed) broadcast process function (operators/broadcast-process.ts). The node
 * takes the connecting stream as input 0 and the broadcast stream, broadcast to every subtask, as
 * input 1, and holds the declared broadcast states (state/broadcast-state.ts).
 */
import { userError } from "../common/errors.ts";
import type { BroadcastProcessFunction, KeyedBroadcastProcessFunction } from "../operators/broadcast-process.ts";
import type { BroadcastStateDescriptor } from "../state/broadcast-state.ts";
import type { StateSpec } from "../state/descriptors.ts";
import type { KeyValue } from "../state/key-groups.ts";
import type { DataStream, OperatorOptions } from "./data-stream.ts";

/** A stream whose records reach every subtask of the operator it is connected to, with broadcast state. */
export interface BroadcastStream<T> {
  readonly kind: "broadcast-stream";
  /** Type carrier only; never set. */
  readonly _record?: T;
}

export interface BroadcastConnectedStream<T, B> {
  /** A two-input function: `processElement` reads the broadcast state, `processBroadcastElement` may change it. */
  process<O>(fn: BroadcastProcessFunction<T, B, O>, options?: OperatorOptions): DataStream<O>;
}

export interface KeyedBroadcastConnectedStream<T, B, K extends KeyValue> {
  /** As BroadcastConnectedStream's, with keyed state and timers in `processElement` and `onTimer`. */
  process<O, S extends StateSpec = {}>(fn: KeyedBroadcastProcessFunction<T, B, K, O, S>, options?: OperatorOptions): DataStream<O>;
}

export class BroadcastStreamImpl<T> implements BroadcastStream<T> {
  readonly kind = "broadcast-stream";
  readonly heads: readonly number[];
  readonly states: readonly string[];

  constructor(heads: readonly number[], descriptors: readonly BroadcastStateDescriptor<any, any>[]) {
    const names = descriptors.map((d) => d.name);
    const twice = names.find((n, i) => names.indexOf(n) !== i);
    if (twice !== undefined) {
      throw userError("DUPLICATE_BROADCAST_STATE", `broadcast(...) declares the broadcast state '${twice}' twice; give each state its own name`);
    }
    this.heads = heads;
    this.states = names;
  }
}
