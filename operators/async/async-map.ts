/**
 * Async I/O (Flink's AsyncWaitOperator): calls `fn` for each record, which returns a Promise (a
 * request to an external service), and emits each result without blocking the task while
 * requests are in flight.
 *
 * - At most `capacity` calls are in flight (or waiting for a retry, or completed and not yet
 *   emitted). `processBatch` queues its whole batch at once and issues what fits; the rest waits
 *   in the queue and is issued as results go out. While `capacity` or more records are queued,
 *   `inputBlocked` tells the task to take no more records (backpressure): the queue never holds
 *   more than `capacity - 1` plus one batch (plus what timers of operators before it emit).
 * - Results that complete wake the task (OperatorContext.wake) and go out in
 *   `processProcessingTime`: neither an idle input nor a full queue holds them back.
 * - ordered: results in input order; unordered: as they complete, never across a watermark
 *   (result-queue.ts). Watermarks are handed on by the operator itself (`emitsWatermarks`), after
 *   every result of the records before them.
 * - Each attempt has `timeout` ms (none if undefined); a rejected, throwing or timed-out attempt
 *   is retried up to `retries` times, the n-th retry `retryDelay * 2^(n-1)` ms after the failure
 *   (a late result of an abandoned attempt is ignored). Once the retries are spent the job fails:
 *   ASYNC_TIMEOUT (the last attempt timed out) or ASYNC_REQUEST_FAILED, a user error naming the
 *   operator, the record, the attempts and the cause. The calls are at least once: a retried or
 *   restored record calls `fn` again.
 * - Checkpoints: every queued record (not yet issued, in flight, or completed and not emitted)
 *   is keyed state of this subtask (in-flight-state.ts); a restore queues the stored records
 *   again, before any new input, oldest first. `endInput` waits until every result is emitted.
 * - Record timestamps (operators/timestamps.ts): a result gets its input's timestamp (stored with
 *   the input, so also after a restore); a call that emits none with a timestamp gives none.
 */
import { systemClock, type Clock, type Timer } from "../../common/clock.ts";
import { describeError, internalError, userError, type WeirError } from "../../common/errors.ts";
import { keyGroupRangeFor } from "../../state/key-groups.ts";
import { requireKeyedStore } from "../keyed.ts";
import { WatermarkMark, type Operator, type OperatorContext, type OperatorFactory, type Timestamps } from "../operator.ts";
import { NO_TIMESTAMP } from "../timestamps.ts";
import { isThenable, preview } from "../user-error.ts";
import { InFlightState, type StoredInput } from "./in-flight-state.ts";
import { resultQueue, type Drained, type QueueEntry, type ResultQueue } from "./result-queue.ts";

export interface AsyncMapSettings<I, O> {
  readonly name: string;
  readonly fn: (value: I) => PromiseLike<O> | O;
  readonly capacity: number;
  readonly ordered: boolean;
  /** Per attempt; undefined: no timeout. */
  readonly timeoutMs: number | undefined;
  readonly retries: number;
  readonly retryDelayMs: number;
}

interface Request<I, O> extends QueueEntry {
  readonly stored: StoredInput<I>;
  result: O | undefined;
  /** Attempts started so far. */
  attempts: number;
  /** The attempt whose outcome counts (0: none, e.g. waiting for a retry). */
  current: number;
  /** A timeout or retry timer. */
  timer: Timer | undefined;
}

const TIMED_OUT = Symbol("timed out");

class AsyncMap<I, O> implements Operator<I, O> {
  readonly emitsWatermarks = true;
  readonly timestamps = "assign";
  private readonly settings: AsyncMapSettings<I, O>;
  private readonly queue: ResultQueue<Request<I, O>>;
  private readonly state: InFlightState<I>;
  private readonly clock: Clock;
  private readonly wake: () => void;
  /** Queued requests not issued yet (no room when they came), oldest first. */
  private readonly unissued: Request<I, O>[] = [];
  /** Requests with a timer running. */
  private readonly timed = new Set<Request<I, O>>();
  private failure: WeirError | undefined;
  /** Set while the task (or `endInput`) waits for a request to complete; `close` rejects it. */
  private waiter: { readonly promise: Promise<void>; resolve(): void; reject(e: WeirError): void } | undefined;
  private closed = false;
  /** A signal is scheduled for the next turn of the event loop. */
  private signalled = false;

  constructor(settings: AsyncMapSettings<I, O>, context: OperatorContext) {
    this.settings = settings;
    this.queue = resultQueue(settings.ordered);
    this.clock = context.clock ?? systemClock;
    this.wake = context.wake ?? (() => undefined);
    this.state = new InFlightState<I>({
      store: requireKeyedStore(context),
      range: keyGroupRangeFor(context.subtask, context.parallelism, context.maxParallelism),
      subtask: context.subtask,
    });
  }

  async open(): Promise<void> {
    for (const stored of await this.state.restore()) this.enqueue(stored);
  }

  processBatch(records: readonly I[], out: O[], ts?: Timestamps): void {
    const stamps = ts?.output;
    this.drain(out, stamps);
    const input = ts?.input;
    for (let i = 0; i < records.length; i++) this.enqueue(this.state.add(records[i]!, input?.[i]));
    if (this.queue.hasReady()) this.drain(out, stamps);
    this.settle(stamps);
  }

  inputBlocked(): Promise<void> | undefined {
    if (this.failure !== undefined || this.queue.size < this.settings.capacity) return undefined;
    return this.changed();
  }

  processWatermark(watermark: number, out: O[], ts?: Timestamps): void {
    this.queue.addWatermark(watermark);
    this.drain(out, ts?.output);
    this.settle(ts?.output);
  }

  processingTimeDue(): number | undefined {
    return this.failure !== undefined || this.queue.hasReady() ? -Infinity : undefined;
  }

  processProcessingTime(_now: number, out: O[], ts?: Timestamps): void {
    this.drain(out, ts?.output);
    this.settle(ts?.output);
  }

  async endInput(out: O[], ts?: Timestamps): Promise<void> {
    for (;;) {
      this.drain(out, ts?.output);
      if (this.queue.empty) return this.settle(ts?.output);
      await this.changed();
    }
  }

  close(): void {
    this.closed = true;
    for (const request of this.timed) this.clock.clearTimeout(request.timer!);
    this.timed.clear();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.closedError());
  }

  /** Why a wait ends at teardown: the task is being torn down (after a failure or cancel), nothing to do. */
  private closedError(): WeirError {
    const { name } = this.settings;
    return internalError("ASYNC_OPERATOR_CLOSED", `operator '${name}' was closed while the task waited for its calls`, { operator: name });
  }

  /** Queues a record and issues it if there is room (else it waits in `unissued`). */
  private enqueue(stored: StoredInput<I>): void {
    const request = this.request(stored);
    this.queue.add(request);
    if (this.unissued.length === 0 && this.queue.size <= this.settings.capacity) this.issue(request);
    else this.unissued.push(request);
  }

  /**
   * Resolves when a request completed or failed (at once if something is ready to emit); rejects
   * with ASYNC_OPERATOR_CLOSED if the operator is (or gets) closed first.
   */
  private changed(): Promise<void> {
    if (this.failure !== undefined || this.queue.hasReady()) return Promise.resolve();
    if (this.closed) return Promise.reject(this.closedError());
    if (this.waiter !== undefined) return this.waiter.promise;
    let resolve!: () => void;
    let reject!: (e: WeirError) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.waiter = { promise, resolve, reject };
    return promise;
  }

  /**
   * A request completed or failed: ends a wait, and wakes the task (which may be waiting for
   * input instead), once per turn of the event loop, so the results of every call that completed
   * meanwhile go out together (as one batch, not one per record).
   */
  private signal(): void {
    if (this.signalled) return;
    this.signalled = true;
    setImmediate(() => {
      this.signalled = false;
      if (this.closed) return;
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter?.resolve();
      this.wake();
    });
  }

  /** Set when a call emitted a result with a timestamp (see `settle`). */
  private stamped = false;

  /**
   * Ends a call: a call whose results had no timestamp leaves `stamps` empty (its output has
   * none), so a job without event time carries no array of NaNs on.
   */
  private settle(stamps: number[] | undefined): void {
    if (stamps !== undefined && !this.stamped) stamps.length = 0;
    this.stamped = false;
  }

  /**
   * Emits what may go out now (results with their inputs' timestamps into `stamps`, and
   * watermarks with a NaN slot), then issues restored requests that now have room.
   */
  private drain(out: unknown[], stamps: number[] | undefined): void {
    if (this.failure !== undefined) throw this.failure;
    this.queue.drain((d: Drained<Request<I, O>>) => {
      if (d.kind === "watermark") {
        out.push(new WatermarkMark(d.timestamp));
        stamps?.push(NO_TIMESTAMP);
        return;
      }
      this.state.remove(d.entry.stored);
      out.push(d.entry.result);
      const t = d.entry.stored.timestamp;
      if (t !== undefined) this.stamped = true;
      stamps?.push(t ?? NO_TIMESTAMP);
    });
    while (this.unissued.length > 0 && this.queue.size - this.unissued.length < this.settings.capacity) this.issue(this.unissued.shift()!);
  }

  private request(stored: StoredInput<I>): Request<I, O> {
    return { stored, done: false, result: undefined, attempts: 0, current: 0, timer: undefined };
  }

  /**
   * Starts the next attempt of `request`. Never throws: `fn` throwing, or a thenable whose `then`
   * (or its getter) throws, is a failed attempt like a rejection (retried, then
   * ASYNC_REQUEST_FAILED); `issue` also runs from retry timers, where a throw would crash the process.
   */
  private issue(request: Request<I, O>): void {
    const attempt = ++request.attempts;
    request.current = attempt;
    try {
      const result = this.settings.fn(request.stored.input);
      if (!isThenable(result)) {
        this.completed(request, attempt, result);
        return;
      }
      const { timeoutMs } = this.settings;
      if (timeoutMs !== undefined) this.setTimer(request, timeoutMs, () => this.attemptFailed(request, attempt, TIMED_OUT));
      result.then(
        (value) => this.completed(request, attempt, value),
        (e: unknown) => this.attemptFailed(request, attempt, e),
      );
    } catch (e) {
      this.attemptFailed(request, attempt, e);
    }
  }

  private setTimer(request: Request<I, O>, ms: number, fn: () => void): void {
    this.timed.add(request);
    request.timer = this.clock.setTimeout(() => {
      this.timed.delete(request);
      request.timer = undefined;
      fn();
    }, ms);
  }

  private clearTimer(request: Request<I, O>): void {
    if (request.timer === undefined) return;
    this.clock.clearTimeout(request.timer);
    this.timed.delete(request);
    request.timer = undefined;
  }

  private completed(request: Request<I, O>, attempt: number, value: O): void {
    if (this.closed || request.current !== attempt) return;
    this.clearTimer(request);
    request.current = 0;
    request.result = value;
    this.queue.complete(request);
    this.signal();
  }

  private attemptFailed(request: Request<I, O>, attempt: number, cause: unknown): void {
    if (this.closed || request.current !== attempt || this.failure !== undefined) return;
    this.clearTimer(request);
    request.current = 0;
    const { retries, retryDelayMs } = this.settings;
    if (attempt <= retries) {
      this.setTimer(request, retryDelayMs * 2 ** (attempt - 1), () => this.issue(request));
      return;
    }
    this.failure = this.gaveUp(request, cause);
    this.signal();
  }

  private gaveUp(request: Request<I, O>, cause: unknown): WeirError {
    const { name, timeoutMs } = this.settings;
    const { id, restored } = request.stored;
    const where = restored ? "restored: in flight at the checkpoint" : `input ${id[1]} of subtask ${id[0]}`;
    const what = `operator '${name}' gave up on record ${preview(request.stored.input)} (${where}) after ${request.attempts} attempt${request.attempts === 1 ? "" : "s"}`;
    if (cause === TIMED_OUT) {
      return userError(
        "ASYNC_TIMEOUT",
        `${what}: the last one timed out after ${timeoutMs}ms. If the service is slow rather than down, raise asyncMap's timeout or retries`,
        { operator: name },
      );
    }
    return userError(
      "ASYNC_REQUEST_FAILED",
      `${what}: ${describeError(cause)}. Raise asyncMap's retries if the failure is transient, or catch it in the function and return a fallback value`,
      { operator: name, cause },
    );
  }
}

export const asyncMapOperator =
  <I, O>(settings: AsyncMapSettings<I, O>): OperatorFactory<I, O> =>
  (context) =>
    new AsyncMap(settings, context);
