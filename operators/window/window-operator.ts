/**
 * The keyed window operator (Flink's WindowOperator with the default event-/processing-time
 * triggers), for tumbling, sliding and session windows, with incremental (reduce, aggregate) or
 * full (all elements) window contents.
 *
 * Per key, one state cell holds the key's open windows: window key -> { start, end, contents }.
 * Each window has a timer at its max timestamp (end - 1) that fires it, and — event time with
 * allowed lateness — a cleanup timer at max timestamp + lateness. Contracts, as in Flink:
 * - A window fires once when event time (or processing time) reaches end - 1; its state is
 *   removed when it can no longer fire: at end - 1 + allowedLateness.
 * - An element that went into no window is skipped. If it is also late itself (event time,
 *   timestamp + lateness <= watermark: every window it belongs to is past cleanup) it goes to the
 *   late-data side output if one is set, else it is dropped. An element that belongs to no window
 *   at all (sliding windows whose slide exceeds their size) but is not late is dropped silently.
 * - An element for a window that already fired but is within the allowed lateness updates the
 *   window and fires it again at once (a late firing).
 * - Session windows merge when they overlap or touch; contents merge with `merge`.
 * - At the end of input, event time reaches MAX_WATERMARK (every window fires) and pending
 *   processing-time windows fire too (Weir's choice: a bounded run emits every window).
 * - Record timestamps (operators/timestamps.ts): an event-time window takes a record's time from
 *   `timestamp` when given, else from the timestamp the record carries (its source's watermark
 *   strategy's); a record with neither fails the job (WINDOW_WITHOUT_TIMESTAMP). A window's
 *   results get the window's max timestamp (end - 1), a late record on the side output its own.
 */
import { MAX_WATERMARK, MIN_WATERMARK } from "../../common/time.ts";
import { userError } from "../../common/errors.ts";
import { keyGroupRangeFor, type KeyValue } from "../../state/key-groups.ts";
import type { StoredForm } from "../../state/keyed-store.ts";
import { forEachKeyed, keyedInput, requireKeyedStore } from "../keyed.ts";
import type { Collector, NotPromise, OperatorFactory, Timestamps } from "../operator.ts";
import { NO_TIMESTAMP } from "../timestamps.ts";
import { fireDueTimers, KeyedTimers, type Timer } from "../timers.ts";
import { requireSync, userFunctionError } from "../user-error.ts";
import { sideRecord, type OutputTag } from "../side-output.ts";
import { assignWindows, forEachWindow, isMerging, maxTimestamp, mergeSessionWindow, windowKey, type TimeWindow, type WindowAssigner } from "./windows.ts";

/** How a window's contents grow, merge and are read out. */
export interface WindowContents<T, A, R> {
  /** Adds `value` to `acc` (undefined: the window's first element); may mutate and return `acc`. */
  add(acc: A | undefined, value: T): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
}

/** What a window function sees of the window it is called for. */
export interface WindowContext<K> {
  readonly key: K;
  readonly window: TimeWindow;
}

export interface WindowOperatorOptions<T, K extends KeyValue, A, R, O> {
  readonly name: string;
  readonly key: (value: T) => K;
  readonly assigner: WindowAssigner;
  /**
   * The record's event time, given the timestamp it carries (NaN: none); undefined: the carried
   * timestamp. Unused by processing-time windows.
   */
  readonly timestamp: ((value: T, carried: number) => number) | undefined;
  readonly allowedLateness: number;
  readonly lateData: OutputTag<T> | undefined;
  readonly contents: WindowContents<T, A, R>;
  /** Emits the window's output for `result`. */
  readonly emit: (result: R, context: WindowContext<K>, out: Collector<O>) => void;
}

interface WindowEntry {
  readonly s: number;
  readonly e: number;
  a: unknown;
}

/**
 * A key's open windows. In memory: keyed by start (tumbling and sliding windows of one operator
 * have one size) or by `windowKey` (sessions); stored: the list of entries.
 */
type Windows = Map<string | number, WindowEntry>;

const windowsForm = (merging: boolean): StoredForm => ({
  toStored: (v) => [...(v as Windows).values()],
  fromStored: (s) => new Map((s as WindowEntry[]).map((w) => [merging ? windowKey({ start: w.s, end: w.e }) : w.s, w])),
});

export const windowOperator =
  <T, K extends KeyValue, A, R, O>(options: WindowOperatorOptions<T, K, A, R, O>): OperatorFactory<T, O> =>
  (context) => {
    const { name, assigner, contents, emit, lateData } = options;
    const eventTime = assigner.time === "event";
    const domain = assigner.time;
    const merging = isMerging(assigner);
    const lateness = eventTime ? options.allowedLateness : 0;
    const timestampOf = options.timestamp;
    const store = requireKeyedStore(context);
    const table = store.register("windows", { kind: "windows" }, windowsForm(merging));
    const timers = new KeyedTimers(store);
    let watermark = MIN_WATERMARK;
    let target: unknown[] = [];
    /** The output's timestamps, and the timestamp of what is emitted now. */
    let stamps: number[] | undefined;
    let current = NO_TIMESTAMP;
    const collector: Collector<O> = {
      collect: (v) => {
        target.push(v);
        if (stamps !== undefined) stamps.push(current);
      },
    };
    const wctx = { key: undefined as unknown as K, window: undefined as unknown as TimeWindow };

    // By a window's max timestamp (end - 1). Clamped: a window whose cleanup would lie beyond the
    // end of time is cleaned at the end.
    const cleanupTime = (maxTs: number) => Math.min(maxTs + lateness, MAX_WATERMARK);
    const isLate = (maxTs: number) => eventTime && cleanupTime(maxTs) <= watermark;
    /** Flink's isElementLate: only a skipped element that is late itself goes to the side output. */
    const isElementLate = (ts: number) => eventTime && cleanupTime(ts) <= watermark;

    const fire = (key: K, entry: WindowEntry) => {
      wctx.key = key;
      wctx.window = { start: entry.s, end: entry.e };
      current = entry.e - 1;
      emit(contents.result(entry.a as A), wctx, collector);
    };

    /**
     * A window's timers: one to fire it at its max timestamp (unless event time is already past
     * it: then it fires at once, as Flink's trigger does) and, with allowed lateness, one to clean
     * it up. Timers are (timestamp, key) only, so one timer can serve several windows of a key;
     * `onTimer` therefore fires and cleans by comparing each window's times with the timer's, and
     * timers are never deleted (a stale one finds nothing to do).
     */
    const registerTimers = (maxTs: number) => {
      if (!eventTime || maxTs > watermark) timers.register(domain, maxTs);
      if (lateness > 0) timers.register(domain, cleanupTime(maxTs));
    };

    /** Adds one element to the current key's windows; returns false if it went into none (late or in a gap). */
    const addElement = (value: T, key: K, ts: number): boolean => {
      let windows = table.get() as Windows | undefined;
      let added = false;
      if (merging) {
        const fresh = assignWindows(assigner, ts)[0]!;
        const existing = windows === undefined ? [] : [...windows.values()].map((w) => ({ start: w.s, end: w.e }));
        const { window, absorbed } = mergeSessionWindow(existing, fresh);
        if (isLate(maxTimestamp(window))) return false;
        windows ??= new Map();
        let acc: A | undefined;
        for (const old of absorbed) {
          const k = windowKey(old);
          const entry = windows.get(k)!;
          acc = acc === undefined ? (entry.a as A) : contents.merge(acc, entry.a as A);
          windows.delete(k);
        }
        acc = contents.add(acc, value);
        const entry: WindowEntry = { s: window.start, e: window.end, a: acc };
        windows.set(windowKey(window), entry);
        registerTimers(maxTimestamp(window));
        if (eventTime && maxTimestamp(window) <= watermark) fire(key, entry);
        added = true;
      } else {
        forEachWindow(assigner, ts, (start, end) => {
          const maxTs = end - 1;
          if (isLate(maxTs)) return;
          windows ??= new Map();
          let entry = windows.get(start);
          if (entry === undefined) {
            entry = { s: start, e: end, a: contents.add(undefined, value) };
            windows.set(start, entry);
            registerTimers(maxTs);
          } else {
            entry.a = contents.add(entry.a as A, value);
          }
          if (eventTime && maxTs <= watermark) fire(key, entry);
          added = true;
        });
      }
      if (added) {
        if (table.get() === windows) table.markDirty();
        else table.set(windows);
      }
      return added;
    };

    const onTimer = (timer: Timer, out: unknown[], ts: Timestamps | undefined) => {
      const windows = table.get() as Windows | undefined;
      if (windows === undefined) return;
      target = out;
      stamps = ts?.output;
      const key = timer.key as K;
      let changed = false;
      for (const [k, entry] of windows) {
        const maxTs = entry.e - 1;
        try {
          if (maxTs === timer.timestamp) fire(key, entry);
        } catch (e) {
          throw userFunctionError(`${name} (window function)`, { key, window: { start: entry.s, end: entry.e } }, 0, e);
        }
        if (cleanupTime(maxTs) <= timer.timestamp) {
          windows.delete(k);
          changed = true;
        }
      }
      if (!changed) return;
      if (windows.size === 0) table.delete();
      else table.markDirty();
    };

    const fireTimers = (kind: "event" | "processing", upTo: number, out: unknown[], ts: Timestamps | undefined) => {
      const next = timers.nextTimestamp(kind);
      if (next === undefined || next > upTo) return undefined;
      return fireDueTimers(store, timers, kind, upTo, (t) => onTimer(t, out, ts));
    };

    /** A record's event time: `timestamp` of it, else the one it carries; neither fails the job. */
    const eventTimeOf = (record: T, carried: number): number => {
      const t = timestampOf === undefined ? carried : timestampOf(record, carried);
      if (t === undefined || Number.isNaN(t)) throw withoutTimestamp(name);
      return t;
    };

    const input = keyedInput(store, name, options.key, context.maxParallelism);
    return {
      open: () => timers.restore(keyGroupRangeFor(context.subtask, context.parallelism, context.maxParallelism)),
      prefetch: (records) => input.prefetch(records),
      timestamps: "assign",
      processBatch(records, out, ts) {
        const batch = input.batchOf(records);
        const now = eventTime ? 0 : context.now();
        const carried = ts?.input;
        return forEachKeyed(store, batch, (i) => {
          const record = records[i]!;
          target = out;
          stamps = ts?.output;
          let t = now;
          try {
            if (eventTime) t = eventTimeOf(record, carried === undefined ? NO_TIMESTAMP : carried[i]!);
            if (!addElement(record, batch.keys[i]!, t) && isElementLate(t)) {
              // Late: to the side output if set, else dropped (as in Flink). Skipped but not late: dropped.
              if (lateData !== undefined) {
                out.push(sideRecord(lateData, record) as unknown as O);
                stamps?.push(t);
              }
            }
          } catch (e) {
            throw userFunctionError(name, record, i, e);
          }
        });
      },
      processWatermark(wm, out, ts) {
        if (wm > watermark) watermark = wm;
        if (!eventTime) return;
        return fireTimers("event", wm, out, ts);
      },
      processingTimeDue: () => (eventTime ? undefined : timers.nextTimestamp("processing")),
      processProcessingTime: (now, out, ts) => fireTimers("processing", now, out, ts),
      endInput: (out, ts) => (eventTime ? undefined : fireTimers("processing", MAX_WATERMARK, out, ts)),
    };
  };

/** An event-time window got a record without a timestamp (none given, none carried). */
export const withoutTimestamp = (operator: string) =>
  userError(
    "WINDOW_WITHOUT_TIMESTAMP",
    `operator '${operator}' got a record without a timestamp: event-time windows and joins take the timestamp records carry from their source's watermark strategy ` +
      `(env.source(..., { watermarks: boundedOutOfOrderness((r) => r.time, "5s") })), but this record has none (no strategy upstream, or an operator in between that does not hand timestamps on); ` +
      `set a watermark strategy on the source or pass the record's time explicitly: window(assigner, { timestamp: (r) => r.time })`,
    { operator },
  );

// ---------------------------------------------------------------------------------------------
// Window contents

export const reduceContents = <T>(reduce: (a: T, b: T) => T): WindowContents<T, T, T> => ({
  add: (acc, value) => (acc === undefined ? value : requireSync(reduce(acc, value))),
  merge: (a, b) => requireSync(reduce(a, b)),
  result: (acc) => acc,
});

export interface WindowAggregateFunction<T, A, R> {
  createAccumulator(): NotPromise<A>;
  add(value: T, accumulator: A): NotPromise<A>;
  getResult(accumulator: A): NotPromise<R>;
  /** Needed by session windows (merging). */
  merge?(a: A, b: A): NotPromise<A>;
}

export const aggregateContents = <T, A, R>(fn: WindowAggregateFunction<T, A, R>, operator: string): WindowContents<T, A, R> => ({
  add: (acc, value) => requireSync(fn.add(value, acc === undefined ? requireSync(fn.createAccumulator()) : acc)),
  merge: (a, b) => {
    if (fn.merge === undefined) {
      throw userError("AGGREGATE_WITHOUT_MERGE", `window operator '${operator}': session windows merge, so the aggregate function needs merge(a, b)`, {
        operator,
      });
    }
    return requireSync(fn.merge(a, b));
  },
  result: (acc) => requireSync(fn.getResult(acc)),
});

/** Full contents: every element, in arrival order. */
export const listContents = <T>(): WindowContents<T, T[], readonly T[]> => ({
  add: (acc, value) => {
    if (acc === undefined) return [value];
    acc.push(value);
    return acc;
  },
  merge: (a, b) => a.concat(b),
  result: (acc) => acc,
});
