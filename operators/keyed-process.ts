/**
 * Keyed process functions: the general keyed operators, with one input (`process`) or two
 * (`connect(...).keyBy(...).process`). A function declares its states by name in `state`; in
 * `processElement` and `onTimer` they are handles bound to the current key.
 *
 * ```ts
 * stream.keyBy((t) => t.account).process({
 *   state: { total: valueState(0) },
 *   processElement(t, ctx, out) {
 *     const total = ctx.state.total.value() + t.amount;
 *     ctx.state.total.update(total);
 *     ctx.timerService.registerEventTimeTimer(t.time + 60_000);
 *     out.collect({ account: ctx.key, total });
 *   },
 *   onTimer(timestamp, ctx, out) { ... },
 * });
 * ```
 *
 * Timers (operators/timers.ts) are keyed state: they are checkpointed, restored and rescaled
 * with the key's other state. `onTimer` runs with the timer's key current.
 *
 * Record timestamps (operators/timestamps.ts): what `processElement` emits has the input
 * record's timestamp (none when it has none), what `onTimer` emits the event-time timer's time
 * (none for a processing-time timer), as in Flink.
 */
import { MIN_WATERMARK } from "../common/time.ts";
import type { StateSpec } from "../state/descriptors.ts";
import { bindStates, type StateHandles } from "../state/handles.ts";
import { keyGroupRangeFor, type KeyValue } from "../state/key-groups.ts";
import type { KeyedStateStore } from "../state/keyed-store.ts";
import { forEachKeyed, keyedInput, requireKeyedStore } from "./keyed.ts";
import type { Collector, Operator, OperatorContext, OperatorFactory, ProcessResult, Timestamps } from "./operator.ts";
import { NO_TIMESTAMP } from "./timestamps.ts";
import { fireDueTimers, KeyedTimers, OperatorTime, type TimeDomain, type TimerService } from "./timers.ts";
import { requireNothing, userFunctionError } from "./user-error.ts";
import { SideOutputs, type OutputTag } from "./side-output.ts";

export interface KeyedProcessContext<K, S extends StateSpec> {
  /** The key of the record (or timer) being processed. */
  readonly key: K;
  readonly state: StateHandles<S>;
  readonly subtask: number;
  readonly timerService: TimerService;
  /**
   * The timestamp of the record being processed (Flink's Context.timestamp()): the one its
   * source's watermark strategy gave it, handed on by the operators between; undefined when it
   * has none. In `onTimer`: the timer's time for an event-time timer, undefined for a
   * processing-time one. Records emitted with `out.collect` or `output` get this timestamp.
   */
  readonly timestamp: number | undefined;
  /**
   * Emits `value` on the side output `tag` (select it with `result.sideOutput(tag)`; a value
   * for a tag the job does not select is dropped, as in Flink).
   */
  output<X>(tag: OutputTag<X>, value: X): void;
}

export interface OnTimerContext<K, S extends StateSpec> extends KeyedProcessContext<K, S> {
  /** Which clock fired the timer. */
  readonly timeDomain: TimeDomain;
}

export interface KeyedProcessFunction<T, K, O, S extends StateSpec> {
  readonly state?: S;
  processElement(value: T, context: KeyedProcessContext<K, S>, out: Collector<O>): ProcessResult;
  onTimer?(timestamp: number, context: OnTimerContext<K, S>, out: Collector<O>): ProcessResult;
}

export interface KeyedCoProcessFunction<T1, T2, K, O, S extends StateSpec> {
  readonly state?: S;
  processElement1(value: T1, context: KeyedProcessContext<K, S>, out: Collector<O>): ProcessResult;
  processElement2(value: T2, context: KeyedProcessContext<K, S>, out: Collector<O>): ProcessResult;
  onTimer?(timestamp: number, context: OnTimerContext<K, S>, out: Collector<O>): ProcessResult;
}

export interface KeyedProcessOptions<T, K extends KeyValue, O, S extends StateSpec> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly fn: KeyedProcessFunction<T, K, O, S>;
  /** The side outputs the job selects (default: none). */
  readonly sideOutputs?: SideOutputs;
}

export interface KeyedCoProcessOptions<T1, T2, K extends KeyValue, O, S extends StateSpec> {
  readonly name: string;
  readonly key1: (value: T1) => K;
  readonly key2: (value: T2) => K;
  readonly fn: KeyedCoProcessFunction<T1, T2, K, O, S>;
  readonly sideOutputs?: SideOutputs;
}

type OnTimer<K, O, S extends StateSpec> = ((timestamp: number, context: OnTimerContext<K, S>, out: Collector<O>) => ProcessResult) | undefined;

/**
 * What one- and two-input keyed functions share (and the keyed broadcast process function):
 * state handles, the mutable context, the collector, timers and their firing. `input(key,
 * element)` makes a per-input batch handler.
 */
export const keyedRuntime = <K extends KeyValue, O, S extends StateSpec, E extends object = {}>(
  context: OperatorContext,
  name: string,
  spec: S,
  onTimer: OnTimer<K, O, S>,
  sideOutputs: SideOutputs = new SideOutputs(),
  /** More fields of the context user functions get (e.g. broadcast state). */
  extra?: E,
) => {
  const store: KeyedStateStore = requireKeyedStore(context);
  const handles = bindStates(store, spec, { now: context.now });
  const timers = new KeyedTimers(store);
  const time = new OperatorTime(timers, context.now, MIN_WATERMARK, context.eventTimeWithoutWatermarks);
  let target: unknown[] = [];
  /** The output's timestamps while the records emitted now get one (else undefined). */
  let stamps: number[] | undefined;
  const ctx = {
    key: undefined as unknown as K,
    state: handles,
    subtask: context.subtask,
    timerService: time as TimerService,
    timeDomain: "event" as TimeDomain,
    timestamp: undefined as number | undefined,
    output: <X>(tag: OutputTag<X>, value: X): void => sideOutputs.emit(target, tag, value, stamps, ctx.timestamp ?? NO_TIMESTAMP),
    ...(extra as E),
  };
  const collector: Collector<O> = {
    collect: (value) => {
      target.push(value);
      if (stamps !== undefined) stamps.push(ctx.timestamp ?? NO_TIMESTAMP);
    },
  };

  /** A batch handler for one input, and its prefetch hint (Operator.prefetch). */
  const input = <T>(keyOf: (value: T) => K, element: (value: T, c: typeof ctx, out: Collector<O>) => ProcessResult) => {
    const keyed = keyedInput(store, name, keyOf, context.maxParallelism);
    const process = (records: readonly T[], out: unknown[], ts?: Timestamps): void | Promise<void> => {
      const batch = keyed.batchOf(records);
      const input = ts?.input;
      return forEachKeyed(store, batch, (i) => {
        const record = records[i]!;
        ctx.key = batch.keys[i]!;
        target = out;
        if (input === undefined) {
          stamps = undefined;
          ctx.timestamp = undefined;
        } else {
          stamps = ts!.output;
          const t = input[i]!;
          ctx.timestamp = Number.isNaN(t) ? undefined : t;
        }
        try {
          requireNothing(element(record, ctx, collector));
        } catch (e) {
          throw userFunctionError(name, record, i, e);
        }
      });
    };
    return { process, prefetch: (records: readonly T[]) => keyed.prefetch(records) };
  };

  const fire = (domain: TimeDomain, upTo: number, out: unknown[], ts: Timestamps | undefined): void | Promise<void> => {
    if (onTimer === undefined) {
      timers.pollDue(domain, upTo);
      return;
    }
    return fireDueTimers(store, timers, domain, upTo, (timer) => {
      ctx.key = timer.key as K;
      ctx.timeDomain = domain;
      ctx.timestamp = domain === "event" ? timer.timestamp : undefined;
      // Processing-time timers' output has no timestamp: no array at all (a call fires one domain).
      stamps = domain === "event" ? ts?.output : undefined;
      target = out;
      try {
        requireNothing(onTimer(timer.timestamp, ctx, collector));
      } catch (e) {
        throw userFunctionError(`${name} (onTimer)`, { timestamp: timer.timestamp, key: timer.key }, 0, e);
      }
    });
  };

  const common: Omit<Operator<unknown, unknown>, "processBatch"> = {
    timestamps: "assign",
    open: () => timers.restore(keyGroupRangeFor(context.subtask, context.parallelism, context.maxParallelism)),
    processWatermark(watermark, out, ts) {
      time.watermark = watermark;
      const next = timers.nextTimestamp("event");
      if (next === undefined || next > watermark) return;
      return fire("event", watermark, out, ts);
    },
    processingTimeDue: () => timers.nextTimestamp("processing"),
    processProcessingTime: (now, out, ts) => fire("processing", now, out, ts),
  };
  return { input, common, ctx };
};

/**
 * Sets the timestamp the records emitted next get (Flink's TimestampedCollector.setAbsoluteTimestamp),
 * until the next record or timer; for functions the engine builds (the interval join: the pair's
 * larger timestamp). `context` must be a context this module made.
 */
export const setOutputTimestamp = (context: { readonly timestamp: number | undefined }, timestamp: number): void => {
  (context as { timestamp: number | undefined }).timestamp = timestamp;
};

export const keyedProcessOperator =
  <T, K extends KeyValue, O, S extends StateSpec>(options: KeyedProcessOptions<T, K, O, S>): OperatorFactory<T, O> =>
  (context) => {
    const { fn } = options;
    const rt = keyedRuntime<K, O, S>(context, options.name, fn.state ?? ({} as S), fn.onTimer?.bind(fn), options.sideOutputs);
    const first = rt.input(options.key, (value: T, ctx, out) => fn.processElement(value, ctx, out));
    return { ...rt.common, processBatch: first.process, prefetch: first.prefetch } as Operator<T, O>;
  };

export const keyedCoProcessOperator =
  <T1, T2, K extends KeyValue, O, S extends StateSpec>(options: KeyedCoProcessOptions<T1, T2, K, O, S>): OperatorFactory<T1, O> =>
  (context) => {
    const { fn } = options;
    const rt = keyedRuntime<K, O, S>(context, options.name, fn.state ?? ({} as S), fn.onTimer?.bind(fn), options.sideOutputs);
    const first = rt.input(options.key1, (value: T1, ctx, out) => fn.processElement1(value, ctx, out));
    const second = rt.input(options.key2, (value: T2, ctx, out) => fn.processElement2(value, ctx, out));
    return { ...rt.common, processBatch: first.process, prefetch: first.prefetch, processBatch2: second.process } as Operator<T1, O>;
  };
