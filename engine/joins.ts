/**
 * Joins built from the primitives, as Flink builds them:
 * - window join / coGroup: both inputs tagged with their side, unioned, keyed by the side's key,
 *   and windowed with a full window function that splits the window's elements by side;
 * - interval join: a two-input keyed process function that buffers each side by timestamp and
 *   pairs a record with the other side's records in [t + lower, t + upper].
 *
 * Event time: each side's time function when given, else the timestamp its records carry (their
 * source's watermark strategy's, operators/timestamps.ts). A window join's results carry the
 * window's max timestamp, an interval join's the larger of the pair's timestamps (as in Flink).
 */
import { userError } from "../common/errors.ts";
import { durationMillis } from "../common/duration.ts";
import type { Collector, NotPromise, ProcessResult } from "../operators/operator.ts";
import { requireNothing, requireSync } from "../operators/user-error.ts";
import { withoutTimestamp, type WindowContext } from "../operators/window/window-operator.ts";
import { setOutputTimestamp } from "../operators/keyed-process.ts";
import type { InternalWindowOptions } from "./windowed-stream.ts";
import type { WindowAssigner } from "../operators/window/windows.ts";
import { mapState } from "../state/descriptors.ts";
import type { KeyValue } from "../state/key-groups.ts";
import type { DataStream, KeyedStream, KeyedStreamImpl, OperatorOptions } from "./data-stream.ts";

type Tagged<A, B> = { readonly s: 0; readonly v: A } | { readonly s: 1; readonly v: B };

export interface JoinWindowOptions<A, B> {
  /** Event time of a left / right record (default: the timestamp the record carries from its source's watermark strategy). */
  readonly timestamp1?: (value: A) => number;
  readonly timestamp2?: (value: B) => number;
}

export interface CoGroupedWindow<A, B, K extends KeyValue> {
  /** Called once per key and window with both sides' elements (either may be empty). */
  apply<O>(fn: (left: readonly A[], right: readonly B[], window: WindowContext<K>, out: Collector<O>) => ProcessResult, options?: OperatorOptions): DataStream<O>;
}

export interface JoinedWindow<A, B, K extends KeyValue> {
  /** Called for every pair of a left and a right element with the same key in the same window. */
  apply<O>(fn: (left: A, right: B, window: WindowContext<K>) => NotPromise<O>, options?: OperatorOptions): DataStream<O>;
}

export interface WhereClause<A, B, R> {
  where<K extends KeyValue>(key1: (value: A) => K): { equalTo(key2: (value: B) => K): { window(assigner: WindowAssigner, options?: JoinWindowOptions<A, B>): R extends "join" ? JoinedWindow<A, B, K> : CoGroupedWindow<A, B, K> } };
}

const coGroupWindow = <A, B, K extends KeyValue>(
  left: DataStream<A>,
  right: DataStream<B>,
  key1: (value: A) => K,
  key2: (value: B) => K,
  assigner: WindowAssigner,
  options: JoinWindowOptions<A, B>,
): CoGroupedWindow<A, B, K> => ({
  apply<O>(fn: (l: readonly A[], r: readonly B[], w: WindowContext<K>, out: Collector<O>) => ProcessResult, opts?: OperatorOptions): DataStream<O> {
    const name = opts?.name;
    const tag = (suffix: string) => (name === undefined ? undefined : { name: `${name}.${suffix}` });
    const t1 = options.timestamp1;
    const t2 = options.timestamp2;
    // Both given: a timestamp function as before; else the carried timestamp for the side without one.
    const times: InternalWindowOptions<Tagged<A, B>> =
      assigner.time !== "event" || (t1 === undefined && t2 === undefined)
        ? {}
        : t1 !== undefined && t2 !== undefined
          ? { timestamp: (t) => (t.s === 0 ? t1(t.v) : t2(t.v)) }
          : { timestampOrCarried: (t, carried) => (t.s === 0 ? (t1 === undefined ? carried : t1(t.v)) : t2 === undefined ? carried : t2(t.v)) };
    const tagged = left
      .map((v): Tagged<A, B> => ({ s: 0, v }), tag("left"))
      .union(right.map((v): Tagged<A, B> => ({ s: 1, v }), tag("right")));
    return tagged
      .keyBy((t) => (t.s === 0 ? key1(t.v) : key2(t.v)))
      .window(assigner, times)
      .process<O>((elements, window, out) => {
        const ls: A[] = [];
        const rs: B[] = [];
        for (const e of elements) {
          if (e.s === 0) ls.push(e.v);
          else rs.push(e.v);
        }
        requireNothing(fn(ls, rs, window as WindowContext<K>, out));
      }, opts);
  },
});

/** `left.coGroup(right).where(k1).equalTo(k2).window(assigner, times).apply(fn)` */
export const coGroup = <A, B>(left: DataStream<A>, right: DataStream<B>): WhereClause<A, B, "coGroup"> => ({
  where: (key1) => ({
    equalTo: (key2) => ({
      window: (assigner, options = {}) => coGroupWindow(left, right, key1, key2, assigner, options) as any,
    }),
  }),
});

/** `left.join(right).where(k1).equalTo(k2).window(assigner, times).apply((l, r) => out)`: inner join per window. */
export const join = <A, B>(left: DataStream<A>, right: DataStream<B>): WhereClause<A, B, "join"> => ({
  where: (key1) => ({
    equalTo: (key2) => ({
      window: (assigner, options = {}) =>
        ({
          apply: <O>(fn: (l: A, r: B, w: WindowContext<any>) => NotPromise<O>, opts?: OperatorOptions) =>
            coGroupWindow(left, right, key1, key2, assigner, options).apply<O>((ls, rs, w, out) => {
              for (const l of ls) for (const r of rs) out.collect(requireSync(fn(l, r, w)));
            }, opts),
        }) as any,
    }),
  }),
});

const ms = (what: string, value: number | string): number => {
  const v = durationMillis(value, true);
  if (v === undefined) throw userError("BAD_INTERVAL_JOIN", `intervalJoin: ${what} must be a duration such as "-5s" or 2000, got ${JSON.stringify(value)}`);
  return v;
};

export interface IntervalJoinOptions<A, B> {
  /** Event time of a left / right record (default: the timestamp the record carries from its source's watermark strategy). */
  readonly timestamp1?: (value: A) => number;
  readonly timestamp2?: (value: B) => number;
}

export interface IntervalJoined<A, B, K extends KeyValue> {
  /**
   * Called for each pair with right time in [left time + lower, left time + upper]; emits with
   * `out.collect` and returns nothing (as Flink's ProcessJoinFunction): a returned value fails the job.
   */
  process<O>(fn: (left: A, right: B, key: K, out: Collector<O>) => ProcessResult, options?: OperatorOptions): DataStream<O>;
}

/**
 * `intervalJoin(left.keyBy(k1), right.keyBy(k2), lower, upper, times)`: event time only (as in
 * Flink). A record older than the operator's watermark is late and dropped; each side's records
 * are kept until no future record of the other side can match them.
 */
export const intervalJoin = <A, B, K extends KeyValue>(
  left: KeyedStream<A, K>,
  right: KeyedStream<B, K>,
  lowerBound: number | string,
  upperBound: number | string,
  options: IntervalJoinOptions<A, B> = {},
): IntervalJoined<A, B, K> => {
  const lower = ms("lowerBound", lowerBound);
  const upper = ms("upperBound", upperBound);
  if (lower > upper) throw userError("BAD_INTERVAL_JOIN", `intervalJoin: lowerBound ${lower} is above upperBound ${upper}`);
  const { timestamp1, timestamp2 } = options;
  const leftKeep = Math.max(upper, 0);
  const rightKeep = Math.max(-lower, 0);
  return {
    process: <O>(fn: (l: A, r: B, key: K, out: Collector<O>) => ProcessResult, opts?: OperatorOptions) => {
      const name = () => opts?.name ?? "intervalJoin";
      return (left as KeyedStreamImpl<A, K>).coProcess<B, O, { left: ReturnType<typeof mapState<number, A[]>>; right: ReturnType<typeof mapState<number, B[]>> }>(
        right,
        {
          state: { left: mapState<number, A[]>(), right: mapState<number, B[]>() },
          processElement1(a, ctx, out) {
            const t = timeOf(timestamp1, a, ctx, name);
            if (t < ctx.timerService.currentWatermark()) return; // late (Flink's IntervalJoinOperator.isLate)
            for (const [t2, bs] of ctx.state.right.entries()) {
              if (t2 >= t + lower && t2 <= t + upper) {
                setOutputTimestamp(ctx, Math.max(t, t2));
                for (const b of bs) requireNothing(fn(a, b, ctx.key, out));
              }
            }
            ctx.state.left.put(t, [...(ctx.state.left.get(t) ?? []), a]);
            ctx.timerService.registerEventTimeTimer(t + leftKeep);
          },
          processElement2(b, ctx, out) {
            const t = timeOf(timestamp2, b, ctx, name);
            if (t < ctx.timerService.currentWatermark()) return; // late (Flink's IntervalJoinOperator.isLate)
            for (const [t1, as] of ctx.state.left.entries()) {
              if (t >= t1 + lower && t <= t1 + upper) {
                setOutputTimestamp(ctx, Math.max(t, t1));
                for (const a of as) requireNothing(fn(a, b, ctx.key, out));
              }
            }
            ctx.state.right.put(t, [...(ctx.state.right.get(t) ?? []), b]);
            ctx.timerService.registerEventTimeTimer(t + rightKeep);
          },
          onTimer(ts, ctx) {
            for (const t1 of [...ctx.state.left.keys()]) if (t1 + leftKeep <= ts) ctx.state.left.remove(t1);
            for (const t2 of [...ctx.state.right.keys()]) if (t2 + rightKeep <= ts) ctx.state.right.remove(t2);
          },
        },
        opts,
        true,
        timestamp1 === undefined || timestamp2 === undefined,
      );
    },
  };
};

/** A side's record time: its time function's, else the timestamp it carries; neither fails the job. */
const timeOf = <T>(timestamp: ((value: T) => number) | undefined, value: T, ctx: { readonly timestamp: number | undefined }, name: () => string): number => {
  if (timestamp !== undefined) return timestamp(value);
  if (ctx.timestamp === undefined) throw withoutTimestamp(name());
  return ctx.timestamp;
};
