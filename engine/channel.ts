/**
 * A bounded single-producer, single-consumer queue of stream elements.
 *
 * Backpressure: `push` resolves only once the element fits (`capacity` elements at most are
 * queued), so a slow consumer makes its producer wait, and that wait travels up to the source,
 * which then stops reading. Capacity counts elements (batches), not records.
 *
 * The consumer side is driven by `poll()` plus `onReadable(cb)`: the callback fires once, the next
 * time an element is queued (or at once if one is queued already).
 */
import type { StreamElement } from "./elements.ts";
import { internalError } from "../common/errors.ts";

/**
 * The producing end of a channel, in this thread or across threads (engine/exchange/ring-channel.ts).
 * `push` returns undefined when the element was queued at once, otherwise a promise that settles
 * once it was (backpressure). One producer per channel: never call `push` while one waits.
 */
export interface ChannelWriter<T> {
  push(element: StreamElement<T>): Promise<void> | undefined;
}

/**
 * The consuming end of a channel. `poll` and `peek` never wait; `onReadable` calls its callback
 * once, when an element is (or already was) queued. Only the latest callback is kept.
 */
export interface ChannelReader<T> {
  poll(): StreamElement<T> | undefined;
  peek(): StreamElement<T> | undefined;
  onReadable(callback: () => void): void;
}

export class Channel<T> implements ChannelWriter<T>, ChannelReader<T> {
  readonly capacity: number;
  private readonly items: (StreamElement<T> | undefined)[] = [];
  private head = 0;
  private producerWaiter: (() => void) | undefined;
  private readableWaiter: (() => void) | undefined;
  /** Milliseconds the producer has spent blocked on a full channel (backpressure). */
  blockedMs = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw internalError("BAD_CHANNEL_CAPACITY", `channel capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Queues `element`, waiting while the channel is full. Single producer: never call concurrently. */
  push(element: StreamElement<T>): Promise<void> | undefined {
    if (this.producerWaiter !== undefined) {
      throw internalError("CHANNEL_CONCURRENT_PUSH", "a channel has one producer; push was called while another push waits");
    }
    if (this.size < this.capacity) {
      this.enqueue(element);
      return undefined;
    }
    const started = performance.now();
    return new Promise<void>((resolve) => {
      this.producerWaiter = () => {
        this.blockedMs += performance.now() - started;
        this.enqueue(element);
        resolve();
      };
    });
  }

  /** The element `poll()` would return next, left queued; undefined when the channel is empty. */
  peek(): StreamElement<T> | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  /** The next element, or undefined when the channel is empty. */
  poll(): StreamElement<T> | undefined {
    if (this.head >= this.items.length) return undefined;
    const element = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    const waiter = this.producerWaiter;
    if (waiter !== undefined && this.size < this.capacity) {
      this.producerWaiter = undefined;
      waiter();
    }
    return element;
  }

  /** Calls `callback` once, as soon as an element is queued (immediately if one already is). */
  onReadable(callback: () => void): void {
    if (this.size > 0) {
      callback();
      return;
    }
    this.readableWaiter = callback;
  }

  private enqueue(element: StreamElement<T>): void {
    this.items.push(element);
    const waiter = this.readableWaiter;
    if (waiter !== undefined) {
      this.readableWaiter = undefined;
      waiter();
    }
  }
}
