/**
 * A subtask fed by input channels: takes elements from its gate, processes batches, aligns
 * checkpoint barriers across its inputs (checkpoint/alignment.ts), and, once every input has
 * ended, ends its chain's input and is finished.
 *
 * Time: the task's event time is the minimum of its active channels' watermarks (WatermarkValve);
 * when every channel is idle it advances to the highest of them, then the task is idle. When it
 * advances, the chain fires what is due and passes the watermark on. When every input has
 * ended, event time jumps to MAX_WATERMARK (every event-time timer fires) before the end of
 * input. Processing-time timers are checked between elements; a wait for input is interrupted
 * when the earliest one is due. Before processing a batch of its first input, the task hints the
 * head operator with the batch queued next (Operator.prefetch), so state reads overlap work.
 * An operator that has output ready outside of any call (async I/O) wakes the task (`wake`):
 * its processing-time timers are checked before the next element, and a wait for input ends.
 * While an operator blocks input (async I/O at capacity), the task takes no record batch, but
 * still takes barriers, watermarks and ends from any input, also while it waits for room.
 */
import { onBarrier, onChannelEnd, initialAlignment, type AlignmentAction, type AlignmentState } from "../checkpoint/alignment.ts";
import { failpoint } from "../common/failpoints.ts";
import { barrier } from "./elements.ts";
import type { GateElement, InputGate } from "./input-gate.ts";
import { Subtask, type SubtaskOptions } from "./subtask.ts";
import { MAX_WATERMARK, WatermarkValve, type WatermarkUpdate } from "./watermarks.ts";

/** `takeWhileBlocked`: no operator blocks input. */
const FREE = Symbol("free");

export interface InputTaskOptions extends SubtaskOptions {
  readonly gate: InputGate<unknown>;
  /** For each gate channel, the operator input it feeds (1: a two-input operator's second). */
  readonly sides: readonly (0 | 1)[];
  readonly now: () => number;
}

export class InputTask extends Subtask {
  private readonly gate: InputGate<unknown>;
  private alignment: AlignmentState = initialAlignment();
  private readonly open: Set<number>;
  private readonly sides: readonly (0 | 1)[];
  private readonly valve: WatermarkValve;
  private readonly now: () => number;

  constructor(options: InputTaskOptions) {
    super(options);
    this.gate = options.gate;
    this.sides = options.sides;
    this.now = options.now;
    this.valve = new WatermarkValve(options.gate.channelCount);
    this.open = new Set(Array.from({ length: options.gate.channelCount }, (_, c) => c));
  }

  private reachedMax = false;
  /** Set by `wake`: check processing time before the next element. */
  private woken = false;

  /** An operator has output ready (OperatorContext.wake): may be called at any time. */
  wake(): void {
    this.woken = true;
    this.gate.interrupt();
  }
  /** When the first barrier of the checkpoint being aligned blocked its channel. */
  private alignedFrom: number | undefined;

  private async applyTime(update: WatermarkUpdate | undefined): Promise<void> {
    if (update === undefined) return;
    if (update.kind === "watermark") return this.advanceTo(update.timestamp);
    // Every input idle: event time first advances to the highest watermark any of them reached.
    if (update.flushTo !== undefined) await this.advanceTo(update.flushTo);
    await this.chain.processIdle();
  }

  /** Processes a new watermark; MAX_WATERMARK (end of event time) at most once. */
  private async advanceTo(timestamp: number): Promise<void> {
    if (this.reachedMax) return;
    if (timestamp === MAX_WATERMARK) this.reachedMax = true;
    await this.chain.processWatermark(timestamp);
  }

  /**
   * Fires the processing-time timers that are due (checked between elements). A timer at t fires
   * once millisecond t has fully passed (clock > t): a record processed at clock t still belongs
   * to a window ending at t + 1, so its window cannot fire before that record is in it.
   */
  private async fireProcessingTime(): Promise<void> {
    const due = this.chain.processingTimeDue();
    if (due === undefined) return;
    const passed = this.now() - 1;
    if (due <= passed) await this.chain.processProcessingTime(passed);
  }

  /** The next element; undefined when a processing-time timer came due while waiting. */
  private async waitFor(next: Promise<GateElement<unknown> | undefined>): Promise<GateElement<unknown> | undefined> {
    const due = this.chain.processingTimeDue();
    if (due === undefined) return next;
    const timer = setTimeout(() => this.gate.interrupt(), Math.max(0, due + 1 - this.now()));
    try {
      return await next;
    } finally {
      clearTimeout(timer);
    }
  }

  private async apply(actions: readonly AlignmentAction[]): Promise<void> {
    for (const action of actions) {
      switch (action.kind) {
        case "block":
          this.alignedFrom ??= performance.now();
          this.gate.block(action.channel);
          failpoint("alignment");
          break;
        case "unblock-all":
          // Alignment ended (the checkpoint was taken, or abandoned for a newer one).
          this.alignedFrom = undefined;
          this.gate.unblockAll();
          break;
        case "snapshot": {
          const alignmentMs = this.alignedFrom === undefined ? 0 : performance.now() - this.alignedFrom;
          this.alignedFrom = undefined;
          const asyncPart = await this.snapshotSync(action.id, alignmentMs);
          const forwarded = this.chain.broadcast(barrier(action.id, this.bridge.triggeredAt(action.id)));
          if (forwarded !== undefined) await forwarded;
          this.finishSnapshot(action.id, asyncPart);
          break;
        }
      }
    }
  }

  /**
   * While an operator blocks input (Operator.inputBlocked), the task takes no record batch but
   * still takes barriers, watermarks, idle marks and ends (a hung call must not hold up a
   * checkpoint or a stop-with-savepoint): returns the next such element of any input, or a
   * promise that settles once either one arrives or the operator may unblock (then it fires what
   * is due); FREE when nothing blocks input (no await then).
   */
  private takeWhileBlocked(): GateElement<unknown> | typeof FREE | Promise<void> {
    const blocked = this.chain.inputBlocked();
    if (blocked === undefined) return FREE;
    return this.gate.pollControl() ?? this.waitForRoomOrControl(blocked);
  }

  private async waitForRoomOrControl(blocked: Promise<void>): Promise<void> {
    const unblocked = await Promise.race([blocked.then(() => true), this.gate.whenControl().then(() => false)]);
    if (unblocked) {
      this.woken = false;
      await this.fireProcessingTime();
    }
  }

  /** Hints the chain's head with the batch the gate would give next, if it is one for input 0. */
  private hintNext(): void {
    const ahead = this.gate.peek();
    if (ahead !== undefined && ahead.element.kind === "batch" && this.sides[ahead.channel] !== 1) this.chain.prefetch(ahead.element.records);
  }

  async run(): Promise<void> {
    await this.chain.open();
    const hasTimers = this.chain.usesProcessingTime;
    const prefetches = this.chain.prefetches;
    const blocksInput = this.chain.blocksInput;
    let checks = 0;
    while (this.open.size > 0) {
      if (this.woken || (hasTimers && (checks++ & 15) === 0)) {
        this.woken = false;
        await this.fireProcessingTime();
      }
      let next: GateElement<unknown> | undefined;
      const whileBlocked = blocksInput ? this.takeWhileBlocked() : FREE;
      if (whileBlocked instanceof Promise) {
        await whileBlocked;
        continue;
      }
      const taken = whileBlocked === FREE ? this.gate.take() : whileBlocked;
      if (taken instanceof Promise) {
        const from = performance.now();
        next = await this.waitFor(taken);
        this.taskMetrics.idleMs += performance.now() - from;
      } else next = taken;
      if (next === undefined) {
        this.woken = false;
        await this.fireProcessingTime();
        continue;
      }
      const element = next.element;
      switch (element.kind) {
        case "batch": {
          this.taskMetrics.recordsIn += element.records.length;
          if (this.sides[next.channel] === 1) {
            const pending = this.chain.process2(element.records, element.timestamps);
            if (pending !== undefined) await pending;
          } else {
            // Overlap the next queued batch's state reads with this batch's work.
            if (prefetches) this.hintNext();
            const pending = this.chain.process(element.records, element.timestamps);
            if (pending !== undefined) await pending;
          }
          // Usually undefined: no extra await per batch unless an idle channel woke up.
          const woke = this.valve.onRecords(next.channel);
          if (woke !== undefined) await this.applyTime(woke);
          break;
        }
        case "barrier": {
          const result = onBarrier(this.alignment, next.channel, element.checkpointId, this.open);
          this.alignment = result.state;
          await this.apply(result.actions);
          break;
        }
        case "end": {
          this.gate.finish(next.channel);
          this.open.delete(next.channel);
          const result = onChannelEnd(this.alignment, this.open);
          this.alignment = result.state;
          await this.apply(result.actions);
          await this.applyTime(this.valve.onEnd(next.channel));
          break;
        }
        case "watermark":
          await this.applyTime(this.valve.onWatermark(next.channel, element.timestamp));
          break;
        case "idle":
          await this.applyTime(this.valve.onIdle(next.channel));
          break;
      }
    }
    // Every input ended: event time ends too, so every event-time timer fires.
    await this.advanceTo(MAX_WATERMARK);
    await this.chain.endInput();
    await this.markFinished();
  }
}
