/**
 * Runs a chain's operators back to back on each batch and hands the result to the Output.
 * At most one await per operator per batch, and only when an operator returns a promise.
 *
 * An operator that hands watermarks on itself (`emitsWatermarks`, async I/O) puts
 * `WatermarkMark`s among its output: the records before a mark run through the rest of the
 * chain first, then the watermark, then the records after it; a watermark that reaches such an
 * operator goes no further until the operator emits it.
 *
 * Record timestamps (operators/timestamps.ts) travel beside the records: each operator gets the
 * batch's timestamps if it declares `timestamps`, and what it emitted carries the timestamps it
 * gave (none when it declares nothing).
 */
import { WatermarkMark, type Operator, type Timestamps } from "../operators/operator.ts";
import { emittedTimestamps, outputTimestampsFor, sliceTimestamps, timestampsFor } from "../operators/timestamps.ts";
import type { SinkOperator } from "../operators/sink-operator.ts";
import { endOfInput, idleStatus, watermark } from "./elements.ts";
import type { JobMetrics } from "./metrics.ts";
import type { Output } from "./output.ts";

export interface ChainRunnerOptions {
  readonly operators: readonly Operator<unknown, unknown>[];
  /** The chain's sink, if it ends in one (it is also the last of `operators`). */
  readonly sink: SinkOperator<unknown> | undefined;
  readonly output: Output;
  readonly metrics: JobMetrics;
}

export class ChainRunner {
  private readonly operators: readonly Operator<unknown, unknown>[];
  private readonly sink: SinkOperator<unknown> | undefined;
  private readonly output: Output;
  private readonly metrics: JobMetrics;

  constructor(options: ChainRunnerOptions) {
    this.operators = options.operators;
    this.sink = options.sink;
    this.output = options.output;
    this.metrics = options.metrics;
  }

  async open(): Promise<void> {
    for (const op of this.operators) await op.open?.();
  }

  /**
   * Processes one batch (with its records' timestamps, undefined: none) through the operators
   * from index `from` onwards, then emits it.
   */
  process(records: readonly unknown[], timestamps?: readonly number[], from = 0): Promise<void> | undefined {
    let current = records;
    let stamps = timestamps;
    for (let k = from; k < this.operators.length; k++) {
      const op = this.operators[k]!;
      if (op === this.sink) this.metrics.sinkRecords += current.length;
      const out: unknown[] = [];
      const ts = timestampsFor(op, stamps);
      const pending = op.processBatch(current, out, ts);
      if (pending !== undefined) return pending.then(() => this.emitFrom(k, out, ts));
      if (out.length === 0) return undefined;
      if (op.emitsWatermarks) return this.emitFrom(k, out, ts);
      stamps = emittedTimestamps(`#${k} of its chain`, out, ts);
      current = out;
    }
    return this.output.emit(current, stamps);
  }

  /** True if some operator may block input (Operator.inputBlocked). */
  get blocksInput(): boolean {
    return this.operators.some((op) => op.inputBlocked !== undefined);
  }

  /** A promise while some operator takes no more records (Operator.inputBlocked), else undefined. */
  inputBlocked(): Promise<void> | undefined {
    for (const op of this.operators) {
      const blocked = op.inputBlocked?.();
      if (blocked !== undefined) return blocked;
    }
    return undefined;
  }

  /** True if the head operator takes `prefetch` hints. */
  get prefetches(): boolean {
    return this.operators[0]?.prefetch !== undefined;
  }

  /** Hints the head operator that `records` are probably its next batch (Operator.prefetch). */
  prefetch(records: readonly unknown[]): void {
    this.operators[0]?.prefetch?.(records);
  }

  /** Records of a two-input head operator's second input. */
  process2(records: readonly unknown[], timestamps?: readonly number[]): Promise<void> | undefined {
    const head = this.operators[0]!;
    if (head.processBatch2 === undefined) throw new Error("unreachable: second input on a one-input operator");
    const out: unknown[] = [];
    const ts = timestampsFor(head, timestamps);
    const pending = head.processBatch2(records, out, ts);
    if (pending !== undefined) return pending.then(() => this.emitFrom(0, out, ts));
    return this.emitFrom(0, out, ts);
  }

  /**
   * Event time reached `timestamp`: each operator in chain order fires what is due (its output
   * runs through the operators after it), then the watermark goes downstream.
   */
  processWatermark(timestamp: number): Promise<void> {
    return this.watermarkFrom(0, timestamp);
  }

  /** The watermark reaches operator `from`; an operator with `emitsWatermarks` takes it over. */
  private async watermarkFrom(from: number, timestamp: number): Promise<void> {
    for (let k = from; k < this.operators.length; k++) {
      const op = this.operators[k]!;
      const out: unknown[] = [];
      const ts = outputTimestampsFor(op);
      const pending = op.processWatermark?.(timestamp, out, ts);
      if (pending !== undefined) await pending;
      if (op.emitsWatermarks) return this.emitFrom(k, out, ts);
      if (out.length > 0) await this.process(out, emittedTimestamps(`#${k} of its chain`, out, ts), k + 1);
    }
    await this.output.broadcast(watermark(timestamp));
  }

  /**
   * Runs what operator `k` emitted (given `ts`) through the operators after it (splitting at its
   * watermark marks, which then have a timestamp slot each too).
   */
  private emitFrom(k: number, out: readonly unknown[], ts: Timestamps | undefined): Promise<void> | undefined {
    const stamps = emittedTimestamps(`#${k} of its chain`, out, ts);
    if (!this.operators[k]!.emitsWatermarks || !out.some((e) => e instanceof WatermarkMark)) return this.continueFrom(k + 1, out, stamps);
    return this.emitMarked(k, out, stamps);
  }

  private async emitMarked(k: number, out: readonly unknown[], stamps: readonly number[] | undefined): Promise<void> {
    let start = 0;
    for (let i = 0; i < out.length; i++) {
      const element = out[i];
      if (!(element instanceof WatermarkMark)) continue;
      if (i > start) await this.process(out.slice(start, i), sliceTimestamps(stamps, start, i), k + 1);
      await this.watermarkFrom(k + 1, element.timestamp);
      start = i + 1;
    }
    if (start < out.length) await this.process(out.slice(start), sliceTimestamps(stamps, start), k + 1);
  }

  /** Calls `fire` on each operator in chain order; what one emits runs through the ones after it. */
  private async eachInOrder(fire: (op: Operator<unknown, unknown>, out: unknown[], ts: Timestamps | undefined) => void | Promise<void>): Promise<void> {
    for (let k = 0; k < this.operators.length; k++) {
      const out: unknown[] = [];
      const op = this.operators[k]!;
      const ts = outputTimestampsFor(op);
      const pending = fire(op, out, ts);
      if (pending !== undefined) await pending;
      if (out.length > 0) await this.emitFrom(k, out, ts);
    }
  }

  /** Every input is idle: downstream leaves this task out of its watermark minimum. */
  processIdle(): Promise<void> | undefined {
    return this.output.broadcast(idleStatus);
  }

  /** True if some operator may set processing-time timers. */
  get usesProcessingTime(): boolean {
    return this.operators.some((op) => op.processingTimeDue !== undefined);
  }

  /** The earliest processing-time timer of any operator, or undefined. */
  processingTimeDue(): number | undefined {
    let due: number | undefined;
    for (const op of this.operators) {
      const t = op.processingTimeDue?.();
      if (t !== undefined && (due === undefined || t < due)) due = t;
    }
    return due;
  }

  /** Fires every operator's processing-time timers due at `now`. */
  processProcessingTime(now: number): Promise<void> {
    return this.eachInOrder((op, out, ts) => op.processProcessingTime?.(now, out, ts));
  }

  private continueFrom(k: number, records: readonly unknown[], stamps: readonly number[] | undefined): Promise<void> | undefined {
    if (records.length === 0) return undefined;
    return this.process(records, stamps, k);
  }

  /**
   * Every input has ended: lets each operator emit what it held back (in chain order), then
   * tells downstream the input ended. The sink's last records are committed by the final
   * checkpoint.
   */
  async endInput(): Promise<void> {
    for (let k = 0; k < this.operators.length; k++) {
      const op = this.operators[k]!;
      if (op.endInput === undefined) continue;
      const out: unknown[] = [];
      const ts = outputTimestampsFor(op);
      await op.endInput(out, ts);
      if (out.length > 0) await this.emitFrom(k, out, ts);
    }
    await this.output.broadcast(endOfInput);
  }

  broadcast(element: Parameters<Output["broadcast"]>[0]): Promise<void> | undefined {
    return this.output.broadcast(element);
  }

  /** Releases every operator's resources; runs on success and failure, and never throws. */
  async close(): Promise<unknown[]> {
    const errors: unknown[] = [];
    for (const op of this.operators) {
      try {
        await op.close?.();
      } catch (e) {
        errors.push(e);
      }
    }
    return errors;
  }
}
