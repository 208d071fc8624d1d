/**
 * Window assignment, pure: which time windows an element belongs to, and how session windows
 * merge. Semantics follow Flink's `TimeWindow` and its `Tumbling*`, `Sliding*` and `*Session*`
 * window assigners (org.apache.flink.streaming.api.windowing).
 *
 * Times are whole milliseconds (safe integers); event and processing time use the same math,
 * the domain only says which clock the caller feeds in.
 *
 * ```ts
 * const w = tumblingEventTimeWindows("10s");
 * assignWindows(w, 12_345); // [{ start: 10_000, end: 20_000 }]
 * ```
 */
import { durationMillis } from "../../common/duration.ts";
import { userError } from "../../common/errors.ts";

/** A window [start, end): holds timestamps start <= t < end. Always start < end. */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** The largest timestamp inside `w` (Flink's `maxTimestamp`): an event-time window is complete once the watermark reaches it. */
export const maxTimestamp = (w: TimeWindow): number => w.end - 1;

export type TimeDomain = "event" | "processing";

export type WindowAssigner =
  | { readonly kind: "tumbling"; readonly time: TimeDomain; readonly size: number; readonly offset: number }
  | { readonly kind: "sliding"; readonly time: TimeDomain; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly kind: "session"; readonly time: TimeDomain; readonly gap: number };

/** A length of time: a whole number of milliseconds, or a duration string like "500ms", "10s", "1.5m", "1h". */
export type DurationInput = number | string;

export interface TumblingOptions {
  /** Shifts window starts: windows start at `offset + k * size`. Requires |offset| < size. Default 0. */
  readonly offset?: DurationInput;
}

export interface SlidingOptions {
  /** Shifts window starts: windows start at `offset + k * slide`. Requires |offset| < slide (as Flink). Default 0. */
  readonly offset?: DurationInput;
}

// ---------------------------------------------------------------------------------------------
// Argument parsing and validation

const show = (value: unknown): string => (typeof value === "string" ? JSON.stringify(value) : String(value));

const badWindow = (fn: string, message: string) => userError("BAD_WINDOW", `${fn}: ${message}`);

const positiveDuration = (fn: string, name: string, value: unknown): number => {
  const ms = durationMillis(value);
  if (ms === undefined || ms <= 0) {
    throw badWindow(fn, `${name} must be a positive whole number of milliseconds or a duration like "10s", got ${show(value)}`);
  }
  return ms;
};

/** The offset in ms; it must satisfy |offset| < `bound` (`boundName` names the bound in the message). */
const offsetDuration = (fn: string, value: unknown, bound: number, boundName: string): number => {
  if (value === undefined) return 0;
  const ms = durationMillis(value, true);
  if (ms === undefined) {
    throw badWindow(fn, `offset must be a whole number of milliseconds or a duration like "-1h", got ${show(value)}`);
  }
  if (Math.abs(ms) >= bound) {
    throw badWindow(fn, `offset must satisfy |offset| < ${boundName} (${bound}ms), got ${show(value)}`);
  }
  return ms;
};

// ---------------------------------------------------------------------------------------------
// Factories

const tumbling = (fn: string, time: TimeDomain, size: DurationInput, options: TumblingOptions): WindowAssigner => {
  const sizeMs = positiveDuration(fn, "size", size);
  return { kind: "tumbling", time, size: sizeMs, offset: offsetDuration(fn, options.offset, sizeMs, "size") };
};

const sliding = (fn: string, time: TimeDomain, size: DurationInput, slide: DurationInput, options: SlidingOptions): WindowAssigner => {
  const sizeMs = positiveDuration(fn, "size", size);
  const slideMs = positiveDuration(fn, "slide", slide);
  return { kind: "sliding", time, size: sizeMs, slide: slideMs, offset: offsetDuration(fn, options.offset, slideMs, "slide") };
};

const session = (fn: string, time: TimeDomain, gap: DurationInput): WindowAssigner => ({
  kind: "session",
  time,
  gap: positiveDuration(fn, "gap", gap),
});

/** Fixed-size, non-overlapping event-time windows [offset + k*size, offset + (k+1)*size). */
export const tumblingEventTimeWindows = (size: DurationInput, options: TumblingOptions = {}): WindowAssigner =>
  tumbling("tumblingEventTimeWindows", "event", size, options);

/** As `tumblingEventTimeWindows`, on processing time. */
export const tumblingProcessingTimeWindows = (size: DurationInput, options: TumblingOptions = {}): WindowAssigner =>
  tumbling("tumblingProcessingTimeWindows", "processing", size, options);

/**
 * Event-time windows of length `size` starting every `slide` (at offset + k*slide). An element
 * falls into about size/slide windows. As in Flink, slide > size is allowed: elements between
 * windows then get no window at all (`assignWindows` returns []).
 */
export const slidingEventTimeWindows = (size: DurationInput, slide: DurationInput, options: SlidingOptions = {}): WindowAssigner =>
  sliding("slidingEventTimeWindows", "event", size, slide, options);

/** As `slidingEventTimeWindows`, on processing time. */
export const slidingProcessingTimeWindows = (size: DurationInput, slide: DurationInput, options: SlidingOptions = {}): WindowAssigner =>
  sliding("slidingProcessingTimeWindows", "processing", size, slide, options);

/** Event-time sessions: each element opens [t, t+gap); windows that intersect (touching included) merge. */
export const eventTimeSessionWindows = (gap: DurationInput): WindowAssigner => session("eventTimeSessionWindows", "event", gap);

/** As `eventTimeSessionWindows`, on processing time. */
export const processingTimeSessionWindows = (gap: DurationInput): WindowAssigner =>
  session("processingTimeSessionWindows", "processing", gap);

// ---------------------------------------------------------------------------------------------
// Assignment

/**
 * The start of the window of length `size` (windows starting at offset + k*size) that holds
 * `timestamp`: Flink's `TimeWindow.getWindowStartWithOffset`. Correct for negative timestamps
 * and offsets: the result s always satisfies s <= timestamp < s + size.
 */
export const windowStart = (timestamp: number, offset: number, size: number): number =>
  timestamp - ((((timestamp - offset) % size) + size) % size) + 0;

/** Whether the assigner's windows merge (sessions), i.e. need `mergeSessionWindow`. */
export const isMerging = (assigner: WindowAssigner): boolean => assigner.kind === "session";

/**
 * The windows an element with this timestamp (event or processing time, per `assigner.time`)
 * belongs to. Every returned window contains `timestamp`.
 * - tumbling: exactly one window;
 * - sliding: every window containing it, latest start first (Flink's order); [] if it falls
 *   between windows (slide > size);
 * - session: the fresh window [t, t + gap), to be merged with `mergeSessionWindow`.
 *
 * Throws a user error if `timestamp` is not a whole number of milliseconds (a missing or
 * fractional timestamp: a fractional t could lie after its window's `maxTimestamp`).
 */
export const assignWindows = (assigner: WindowAssigner, timestamp: number): TimeWindow[] => {
  const windows: TimeWindow[] = [];
  forEachWindow(assigner, timestamp, (start, end) => void windows.push({ start, end }));
  return windows;
};

/**
 * `assignWindows` without allocation (the window operator's hot path): calls `each(start, end)`
 * for every window in the same order. Same validation.
 */
export const forEachWindow = (assigner: WindowAssigner, timestamp: number, each: (start: number, end: number) => void): void => {
  if (!Number.isSafeInteger(timestamp)) {
    throw userError(
      "BAD_TIMESTAMP",
      `${assigner.kind} ${assigner.time}-time window: record timestamp must be a whole number of milliseconds, got ${show(timestamp)}` +
        (assigner.time === "event" ? " (does the stream assign timestamps?)" : ""),
    );
  }
  const t = timestamp + 0;
  switch (assigner.kind) {
    case "tumbling": {
      const start = windowStart(t, assigner.offset, assigner.size);
      each(start, start + assigner.size);
      return;
    }
    case "sliding": {
      const lastStart = windowStart(t, assigner.offset, assigner.slide);
      for (let start = lastStart; start > t - assigner.size; start -= assigner.slide) each(start, start + assigner.size);
      return;
    }
    case "session":
      each(t, t + assigner.gap);
  }
};

// ---------------------------------------------------------------------------------------------
// Keys

/**
 * A compact, stable string for `w`, usable as a Map key: `${start}:${end}` in decimal. These
 * keys are stored in checkpoints (window state, timers), so this encoding must never change.
 */
export const windowKey = (w: TimeWindow): string => `${w.start}:${w.end}`;

// ---------------------------------------------------------------------------------------------
// Session merging

/** Flink's `TimeWindow.intersects`: overlapping or touching ([0,10) and [10,20) intersect). */
export const intersects = (a: TimeWindow, b: TimeWindow): boolean => a.start <= b.end && a.end >= b.start;

/** The smallest window covering both (Flink's `TimeWindow.cover`). */
export const cover = (a: TimeWindow, b: TimeWindow): TimeWindow => ({
  start: Math.min(a.start, b.start),
  end: Math.max(a.end, b.end),
});

export interface SessionMerge {
  /** The union cover of `added` and every existing window it (transitively) intersects. */
  readonly window: TimeWindow;
  /** The existing windows merged into `window`, in their order in `existing`; possibly empty. */
  readonly absorbed: readonly TimeWindow[];
}

/**
 * Merges a fresh session window into a key's existing sessions. The caller replaces the
 * `absorbed` windows by `window`; that keeps its invariant: existing windows pairwise do not
 * intersect (in the `intersects` sense, so not even touch). `existing` may be in any order.
 * If `added` lies inside an existing window, `window` equals that window and `absorbed` holds it.
 */
export const mergeSessionWindow = (existing: readonly TimeWindow[], added: TimeWindow): SessionMerge => {
  let window = added;
  const taken = existing.map(() => false);
  // Repeat until stable: growing the cover can reach windows `added` alone did not (which the
  // invariant rules out, but a fixpoint costs little and does not depend on it).
  let grew = true;
  while (grew) {
    grew = false;
    for (const [i, w] of existing.entries()) {
      if (!taken[i] && intersects(window, w)) {
        taken[i] = true;
        window = cover(window, w);
        grew = true;
      }
    }
  }
  return { window, absorbed: existing.filter((_, i) => taken[i]) };
};
