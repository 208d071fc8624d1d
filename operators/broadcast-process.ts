/**
 * Broadcast process functions (Flink's BroadcastProcessFunction and KeyedBroadcastProcessFunction):
 * two-input operators whose second input is a broadcast stream. `processBroadcastElement` sees
 * every broadcast record on every subtask and may change the broadcast state; `processElement`
 * sees the records of its own input and reads the broadcast state only.
 *
 * ```ts
 * const ruleState = broadcastState<string, Rule>("rules");
 * const rules = env.source(ruleSource).broadcast(ruleState);
 * events.keyBy((e) => e.user).connect(rules).process({
 *   state: { seen: valueState(0) },
 *   processElement(e, ctx, out: Collector<Alert>) {
 *     const rule = ctx.broadcastState(ruleState).get(e.kind);
 *     if (rule !== undefined && e.amount > rule.limit) out.collect({ user: ctx.key, rule: rule.id });
 *   },
 *   processBroadcastElement(rule, ctx) {
 *     ctx.broadcastState(ruleState).put(rule.kind, rule);
 *   },
 * });
 * ```
 *
 * Contract: the two inputs have no order between them (as in Flink): a main record may be
 * processed before a broadcast record that was produced earlier. `processBroadcastElement` must
 * change the state the same way on every subtask (from the record and the state only), since each
 * subtask applies it to its own copy and a checkpoint keeps subtask 0's (state/broadcast-state.ts).
 * The keyed variant has keyed state and timers in `processElement` and `onTimer`, as a keyed
 * process function; `processBroadcastElement` has no current key (no keyed state, no timers).
 */
import { internalError } from "../common/errors.ts";
import type { StateSpec } from "../state/descriptors.ts";
import type {
  BroadcastKey,
  BroadcastState,
  BroadcastStateDescriptor,
  BroadcastStore,
  ReadOnlyBroadcastState,
} from "../state/broadcast-state.ts";
import type { KeyValue } from "../state/key-groups.ts";
import { keyedRuntime, type KeyedProcessContext, type OnTimerContext } from "./keyed-process.ts";
import type { Collector, Operator, OperatorContext, OperatorFactory, ProcessResult, Timestamps } from "./operator.ts";
import { NO_TIMESTAMP } from "./timestamps.ts";
import { requireNothing, userFunctionError } from "./user-error.ts";

/** Reads broadcast state: what `processElement` (and the keyed `onTimer`) may do. */
export interface ReadsBroadcastState {
  broadcastState<K extends BroadcastKey, V>(descriptor: BroadcastStateDescriptor<K, V>): ReadOnlyBroadcastState<K, V>;
}

/** The context of `processElement` of a (non-keyed) broadcast process function. */
export interface ReadOnlyBroadcastContext extends ReadsBroadcastState {
  readonly subtask: number;
  /** The timestamp of the record being processed (operators/timestamps.ts); undefined when it has none. What `out` emits gets it. */
  readonly timestamp: number | undefined;
  /** The subtask's processing-time clock (ms since epoch). */
  currentProcessingTime(): number;
}

/** The context of `processBroadcastElement`: broadcast state may be changed. */
export interface BroadcastContext {
  readonly subtask: number;
  broadcastState<K extends BroadcastKey, V>(descriptor: BroadcastStateDescriptor<K, V>): BroadcastState<K, V>;
  currentProcessingTime(): number;
}

export interface KeyedReadOnlyBroadcastContext<K, S extends StateSpec> extends KeyedProcessContext<K, S>, ReadsBroadcastState {}

export interface KeyedBroadcastOnTimerContext<K, S extends StateSpec> extends OnTimerContext<K, S>, ReadsBroadcastState {}

export interface BroadcastProcessFunction<T, B, O> {
  processElement(value: T, context: ReadOnlyBroadcastContext, out: Collector<O>): ProcessResult;
  processBroadcastElement(value: B, context: BroadcastContext, out: Collector<O>): ProcessResult;
}

export interface KeyedBroadcastProcessFunction<T, B, K, O, S extends StateSpec> {
  readonly state?: S;
  processElement(value: T, context: KeyedReadOnlyBroadcastContext<K, S>, out: Collector<O>): ProcessResult;
  processBroadcastElement(value: B, context: BroadcastContext, out: Collector<O>): ProcessResult;
  onTimer?(timestamp: number, context: KeyedBroadcastOnTimerContext<K, S>, out: Collector<O>): ProcessResult;
}

const requireBroadcastStore = (context: OperatorContext): BroadcastStore => {
  const store = context.broadcastStore;
  if (store === undefined) {
    throw internalError("NO_BROADCAST_STORE", `operator '${context.operatorName}' has broadcast state but was opened without it`);
  }
  return store;
};

/** Runs `call` on each record with `out` as the collector's target; a throw names the operator and the record. */
const perRecord = <R>(name: string, setTarget: (out: unknown[]) => void, call: (record: R) => ProcessResult) =>
  (records: readonly R[], out: unknown[]): void => {
    setTarget(out);
    for (let i = 0; i < records.length; i++) {
      try {
        requireNothing(call(records[i]!));
      } catch (e) {
        throw userFunctionError(name, records[i], i, e);
      }
    }
  };

/** The broadcast side: `processBroadcastElement` with a writable context and its own collector. */
const broadcastSide = <B, O>(context: OperatorContext, name: string, fn: { processBroadcastElement: BroadcastProcessFunction<unknown, B, O>["processBroadcastElement"] }) => {
  const store = requireBroadcastStore(context);
  let target: unknown[] = [];
  const collector: Collector<O> = { collect: (value) => void target.push(value) };
  const ctx: BroadcastContext = {
    subtask: context.subtask,
    broadcastState: (descriptor) => store.writer(descriptor),
    currentProcessingTime: context.now,
  };
  return perRecord<B>(`${name} (processBroadcastElement)`, (out) => (target = out), (value) => fn.processBroadcastElement(value, ctx, collector));
};

const reading = (store: BroadcastStore): ReadsBroadcastState => ({ broadcastState: (descriptor) => store.reader(descriptor) });

export interface BroadcastProcessOptions<T, B, O> {
  readonly name: string;
  readonly fn: BroadcastProcessFunction<T, B, O>;
}

/** `stream.connect(broadcastStream).process(fn)`: input 1 is the broadcast stream. */
export const broadcastProcessOperator =
  <T, B, O>(options: BroadcastProcessOptions<T, B, O>): OperatorFactory<T, O> =>
  (context) => {
    const { name, fn } = options;
    const store = requireBroadcastStore(context);
    let target: unknown[] = [];
    let stamps: number[] | undefined;
    const ctx = { subtask: context.subtask, timestamp: undefined as number | undefined, currentProcessingTime: context.now, ...reading(store) };
    const collector: Collector<O> = {
      collect: (value) => {
        target.push(value);
        if (stamps !== undefined) stamps.push(ctx.timestamp ?? NO_TIMESTAMP);
      },
    };
    // The record's timestamp goes to what it emits; the broadcast side's output carries none.
    const processBatch = (records: readonly T[], out: unknown[], ts?: Timestamps): void => {
      target = out;
      stamps = ts?.output;
      const input = ts?.input;
      try {
        for (let i = 0; i < records.length; i++) {
          if (input !== undefined) {
            const t = input[i]!;
            ctx.timestamp = Number.isNaN(t) ? undefined : t;
          }
          try {
            requireNothing(fn.processElement(records[i]!, ctx, collector));
          } catch (e) {
            throw userFunctionError(name, records[i], i, e);
          }
        }
      } finally {
        stamps = undefined;
        ctx.timestamp = undefined;
      }
    };
    return { timestamps: "propagate", processBatch, processBatch2: broadcastSide(context, name, fn) } as Operator<T, O>;
  };

export interface KeyedBroadcastProcessOptions<T, B, K extends KeyValue, O, S extends StateSpec> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly fn: KeyedBroadcastProcessFunction<T, B, K, O, S>;
}

/** `keyedStream.connect(broadcastStream).process(fn)`: keyed state and timers as a keyed process function. */
export const keyedBroadcastProcessOperator =
  <T, B, K extends KeyValue, O, S extends StateSpec>(options: KeyedBroadcastProcessOptions<T, B, K, O, S>): OperatorFactory<T, O> =>
  (context) => {
    const { name, fn } = options;
    const onTimer = fn.onTimer?.bind(fn);
    const rt = keyedRuntime<K, O, S, ReadsBroadcastState>(
      context,
      name,
      fn.state ?? ({} as S),
      onTimer === undefined ? undefined : (timestamp, ctx, out) => onTimer(timestamp, ctx as KeyedBroadcastOnTimerContext<K, S>, out),
      undefined,
      reading(requireBroadcastStore(context)),
    );
    const main = rt.input(options.key, (value: T, ctx, out) => fn.processElement(value, ctx, out));
    return { ...rt.common, processBatch: main.process, prefetch: main.prefetch, processBatch2: broadcastSide(context, name, fn) } as Operator<T, O>;
  };
