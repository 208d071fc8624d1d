/**
 * Reads the elements of several input channels as one sequence, for a task with many inputs.
 *
 * Fairness: channels are visited round-robin, one element at a time, so one busy input cannot
 * starve another. Blocking: a blocked channel is not read until unblocked; its elements stay
 * queued in the channel (whose bound then backpressures that producer). Barrier alignment
 * blocks the inputs that delivered barrier n until barrier n has arrived on all of them.
 */
import type { ChannelReader } from "./channel.ts";
import type { StreamElement } from "./elements.ts";

export interface GateElement<T> {
  readonly channel: number;
  readonly element: StreamElement<T>;
}

export class InputGate<T> {
  private readonly channels: readonly ChannelReader<T>[];
  private readonly blocked: boolean[];
  private readonly finished: boolean[];
  private next = 0;

  constructor(channels: readonly ChannelReader<T>[]) {
    this.channels = channels;
    this.blocked = channels.map(() => false);
    this.finished = channels.map(() => false);
  }

  get channelCount(): number {
    return this.channels.length;
  }

  block(channel: number): void {
    this.blocked[channel] = true;
  }

  unblockAll(): void {
    this.blocked.fill(false);
  }

  /** Marks a channel as done (it delivered `end`); it is not read again. */
  finish(channel: number): void {
    this.finished[channel] = true;
  }

  /** The next element from any readable channel, without waiting; undefined if none is queued. */
  poll(): GateElement<T> | undefined {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const c = (this.next + i) % n;
      if (this.blocked[c] || this.finished[c]) continue;
      const element = this.channels[c]!.poll();
      if (element !== undefined) {
        this.next = (c + 1) % n;
        return { channel: c, element };
      }
    }
    return undefined;
  }

  /**
   * The element `poll()` would return now, left queued (undefined if none is queued). A hint
   * only: blocking a channel or a new element on an earlier channel changes what comes next.
   */
  peek(): GateElement<T> | undefined {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const c = (this.next + i) % n;
      if (this.blocked[c] || this.finished[c]) continue;
      const element = this.channels[c]!.peek();
      if (element !== undefined) return { channel: c, element };
    }
    return undefined;
  }

  /**
   * The next element that is not a record batch (barrier, watermark, idle, end) at the head of
   * a readable channel, taken (round-robin); undefined if no channel has one at its head. For a
   * task that takes no records for now: a channel whose head is a batch is passed over (its
   * order is kept: nothing behind that batch is taken).
   */
  pollControl(): GateElement<T> | undefined {
    const n = this.channels.length;
    for (let i = 0; i < n; i++) {
      const c = (this.next + i) % n;
      if (this.blocked[c] || this.finished[c]) continue;
      const head = this.channels[c]!.peek();
      if (head !== undefined && head.kind !== "batch") {
        this.next = (c + 1) % n;
        return { channel: c, element: this.channels[c]!.poll()! };
      }
    }
    return undefined;
  }

  /**
   * Resolves once `pollControl()` may have something (a readable channel that is empty now
   * receives an element that is not a batch); never if none does. A channel whose head is a
   * batch cannot get a new head until the batch is taken, so only empty channels are watched.
   * Replaces the channels' readable callbacks, like `take()`: use one of them at a time.
   */
  whenControl(): Promise<void> {
    return new Promise((resolve) => {
      this.channels.forEach((channel, c) => {
        if (this.blocked[c] || this.finished[c] || channel.peek() !== undefined) return;
        channel.onReadable(() => {
          const head = channel.peek();
          if (head !== undefined && head.kind !== "batch") resolve();
        });
      });
    });
  }

  private interruptWaiting: (() => void) | undefined;

  /**
   * The next element, waiting until some unblocked, unfinished channel has one; undefined if
   * `interrupt()` was called while waiting (the element is then left in its channel).
   */
  take(): GateElement<T> | Promise<GateElement<T> | undefined> {
    const ready = this.poll();
    if (ready !== undefined) return ready;
    return new Promise((resolve) => {
      let done = false;
      const wake = () => {
        if (done) return;
        const got = this.poll();
        if (got !== undefined) {
          done = true;
          this.interruptWaiting = undefined;
          resolve(got);
        }
      };
      this.interruptWaiting = () => {
        if (done) return;
        done = true;
        this.interruptWaiting = undefined;
        resolve(undefined);
      };
      this.channels.forEach((channel, c) => {
        if (!this.blocked[c] && !this.finished[c]) channel.onReadable(wake);
      });
    });
  }

  /** Ends a pending `take()` with undefined (e.g. a processing-time timer is due). */
  interrupt(): void {
    this.interruptWaiting?.();
  }
}
