/**
 * The operator contract. An operator has one required method, `processBatch`; the rest have
 * engine defaults (do nothing).
 *
 * - `processBatch(records, out)` appends its outputs to `out`, in order. It may return a promise
 *   (at most one await per batch, e.g. to prefetch keyed state); it must not keep `records` or
 *   `out` after it settles, and must not mutate `records` (records may be shared between
 *   consumers).
 * - `endInput(out)` runs once when every input has ended, before downstream is told to end.
 * - Keyed state (`context.keyedStore`) is the engine's to snapshot: the task seals the store's
 *   changes at every checkpoint barrier and writes them in the background (state/keyed-store.ts).
 *   So is broadcast state (`context.broadcastStore`, state/broadcast-state.ts).
 * - `close()` releases resources, on success and on failure.
 * - `processWatermark(w, out)`: event time reached `w` on every input; fire what is due (e.g.
 *   event-time timers) into `out`. The engine runs `out` through the rest of the chain, then
 *   hands `w` on. At most one await, like `processBatch`.
 * - `processingTimeDue()` / `processProcessingTime(now, out)`: the earliest processing-time timer
 *   (undefined: none); the task calls `processProcessingTime` once the clock reaches it.
 * - `processBatch2(records, out)`: records of the second input (two-input operators only; they
 *   always head their chain).
 * - `prefetch(records)`: a hint from the engine that `records` will probably be the next batch
 *   given to `processBatch` (the engine peeked at its input queue before processing the current
 *   batch): the operator may start reading their keyed state, so the read overlaps the current
 *   batch's work. It must not change state nor emit, must not await, and must ignore its own
 *   failures (they surface when the batch is processed). A hinted batch may never come, or come
 *   later than predicted; the operator must stay correct either way.
 * - Record timestamps (Flink's StreamRecord timestamp; operators/timestamps.ts): records may
 *   carry the timestamp their source's watermark strategy gave them. An operator that declares
 *   `timestamps` gets a `Timestamps` argument (`ts`) and pushes one timestamp into `ts.output`
 *   per record it pushes into `out`, in step (NaN: that record has none), or none at all (then
 *   no output record has one). `"propagate"` operators get `ts` on `processBatch`/`processBatch2`
 *   only when the input records carry timestamps, so a job without event time pays nothing;
 *   `"assign"` operators (windows, keyed process functions) get it on every call that may emit,
 *   `ts.input` undefined when the input carries none. An operator without `timestamps` emits
 *   records without timestamps.
 * - `emitsWatermarks` (async I/O): the operator hands watermarks on itself. Its
 *   `processWatermark(w, out)` does not pass `w` on; instead, from any call, the operator puts a
 *   `WatermarkMark` into `out` where the watermark belongs among its records, and the engine runs
 *   the records before the mark through the rest of the chain, then the watermark (the later
 *   operators' `processWatermark`, then downstream), then the records after it. Without the flag
 *   a watermark follows `processWatermark`'s output at once.
 * - `inputBlocked()` (async I/O at capacity): undefined, or a promise while the operator must
 *   take no more records; the task then takes no record batch until it settles (it asks again
 *   after each settling, and before each batch), but still takes barriers, watermarks and ends,
 *   and still runs `processProcessingTime` when woken. Only consulted in input tasks.
 * - `context.wake()` (async I/O): the operator has output ready outside of any call (a request
 *   completed). The task then calls `processProcessingTime` soon, also when it is waiting for
 *   input, so an idle input does not hold results back; `processingTimeDue()` must return a time
 *   at or before now (e.g. -Infinity) while the operator has something to emit. Extra wakes are
 *   harmless. Only operators of a chain that is not a source's are woken (NodeSpec `wakes`).
 */
import type { Clock } from "../common/clock.ts";
import type { KeyedStateStore } from "../state/keyed-store.ts";
import type { BroadcastStore } from "../state/broadcast-state.ts";

export interface OperatorContext {
  readonly jobName: string;
  readonly operatorName: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** This subtask's keyed state; present for keyed operators only. */
  readonly keyedStore: KeyedStateStore | undefined;
  /** This subtask's broadcast state (state/broadcast-state.ts); present for broadcast process operators only. */
  readonly broadcastStore?: BroadcastStore;
  /** The subtask's processing-time clock (ms since epoch). */
  readonly now: () => number;
  /** The same clock with timers (for an operator that waits on its own, e.g. async I/O timeouts); default: the system clock. */
  readonly clock?: Clock;
  /** Asks the task to call `processProcessingTime` soon (see the file comment); absent where nothing runs the operator. */
  readonly wake?: () => void;
  /**
   * Set when a source upstream has no watermark strategy: the operator calls it when it starts
   * to rely on event time (its first event-time timer) and the engine warns, once per operator.
   */
  readonly eventTimeWithoutWatermarks?: () => void;
}

/** The timestamps beside a batch an operator processes (see the file comment). */
export interface Timestamps {
  /** The input records' timestamps, one per record (NaN: none); undefined when they carry none. */
  readonly input: readonly number[] | undefined;
  /** The output records' timestamps, pushed in step with `out` (or left empty: none). */
  readonly output: number[];
}

export interface Operator<I, O> {
  processBatch(records: readonly I[], out: O[], ts?: Timestamps): void | Promise<void>;
  open?(): void | Promise<void>;
  endInput?(out: O[], ts?: Timestamps): void | Promise<void>;
  close?(): void | Promise<void>;
  processWatermark?(watermark: number, out: O[], ts?: Timestamps): void | Promise<void>;
  processingTimeDue?(): number | undefined;
  processProcessingTime?(now: number, out: O[], ts?: Timestamps): void | Promise<void>;
  processBatch2?(records: readonly unknown[], out: O[], ts?: Timestamps): void | Promise<void>;
  prefetch?(records: readonly I[]): void;
  inputBlocked?(): Promise<void> | undefined;
  readonly emitsWatermarks?: boolean;
  /** How the operator handles record timestamps (see the file comment); absent: its output has none. */
  readonly timestamps?: "propagate" | "assign";
}

/** A watermark among an operator's output records (from operators with `emitsWatermarks` only). */
export class WatermarkMark {
  readonly timestamp: number;
  constructor(timestamp: number) {
    this.timestamp = timestamp;
  }
}

export type OperatorFactory<I, O> = (context: OperatorContext) => Operator<I, O>;

/** Emits into an operator's output array; what user functions see as `out`. */
export interface Collector<O> {
  collect(value: O): void;
}

/**
 * The result type of a user function whose result is emitted or stored (map, reduce, aggregate,
 * window results, join functions): any type but a Promise. Weir functions are synchronous, so a
 * Promise-returning (`async`) function is a compile error here, and a runtime error (ASYNC_USER_FUNCTION)
 * when the types are bypassed. Inference is unchanged: `map((x) => x.price)` still gives `number`.
 */
export type NotPromise<R> = R extends PromiseLike<unknown> ? "Weir functions must be synchronous: return a value, not a Promise" : R;

/**
 * What a process-like function returns (keyed and co-process functions, window process, coGroup
 * and interval-join functions): nothing; they emit with `out.collect`. `void | undefined` rather
 * than `void` because TypeScript accepts any function where a `void` one is expected, so an
 * `async` function or a returned value would compile and be dropped silently.
 */
export type ProcessResult = void | undefined;
