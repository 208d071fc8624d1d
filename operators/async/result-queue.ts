/**
 * The queue of an async I/O operator (Flink's StreamElementQueue): the requests in flight and
 * the watermarks between them, in input order. Entries complete in any order; `drain` hands out
 * what may be emitted now.
 *
 * - ordered: an entry is emitted once it and every entry before it completed; a watermark once
 *   every entry before it was emitted (Flink's orderedWait).
 * - unordered: entries are emitted as they complete, but never across a watermark: an entry
 *   after watermark w is emitted only once w was, and w only once every entry before it was
 *   (Flink's unorderedWait).
 *
 * Watermarks that follow each other with no entry between them are kept as the latest one, so
 * the queue holds at most one watermark per entry (plus one).
 */

/** What the queue needs of an entry. */
export interface QueueEntry {
  done: boolean;
}

export type Drained<E> = { readonly kind: "entry"; readonly entry: E } | { readonly kind: "watermark"; readonly timestamp: number };

export interface ResultQueue<E extends QueueEntry> {
  /** Entries in the queue (completed or not). */
  readonly size: number;
  /** True when nothing is queued, watermarks included. */
  readonly empty: boolean;
  add(entry: E): void;
  addWatermark(timestamp: number): void;
  /** `entry` (in the queue) completed: set `done`, and tell the queue. */
  complete(entry: E): void;
  /** True if `drain` would hand out something. */
  hasReady(): boolean;
  /** Removes and hands out, in emission order, what may be emitted now. */
  drain(emit: (drained: Drained<E>) => void): void;
}

type Item<E> = { readonly entry: E } | { timestamp: number };

class OrderedQueue<E extends QueueEntry> implements ResultQueue<E> {
  private items: Item<E>[] = [];
  private head = 0;
  size = 0;

  get empty(): boolean {
    return this.head === this.items.length;
  }

  add(entry: E): void {
    this.items.push({ entry });
    this.size++;
  }

  addWatermark(timestamp: number): void {
    const tail = this.items.length > this.head ? this.items[this.items.length - 1]! : undefined;
    if (tail !== undefined && "timestamp" in tail) tail.timestamp = Math.max(tail.timestamp, timestamp);
    else this.items.push({ timestamp });
  }

  complete(entry: E): void {
    entry.done = true;
  }

  hasReady(): boolean {
    const first = this.items[this.head];
    return first !== undefined && (!("entry" in first) || first.entry.done);
  }

  drain(emit: (drained: Drained<E>) => void): void {
    while (this.head < this.items.length) {
      const first = this.items[this.head]!;
      if ("entry" in first) {
        if (!first.entry.done) break;
        this.size--;
        emit({ kind: "entry", entry: first.entry });
      } else emit({ kind: "watermark", timestamp: first.timestamp });
      this.head++;
    }
    // Compact now and then, not per element.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/** Entries between two watermarks; `watermark` closes the segment (undefined: the open, last one). */
interface Segment<E> {
  readonly pending: Set<E>;
  readonly done: E[];
  watermark: number | undefined;
}

class UnorderedQueue<E extends QueueEntry> implements ResultQueue<E> {
  private readonly segments: Segment<E>[] = [UnorderedQueue.segment()];
  private readonly segmentOf = new Map<E, Segment<E>>();
  size = 0;

  private static segment<E>(): Segment<E> {
    return { pending: new Set(), done: [], watermark: undefined };
  }

  get empty(): boolean {
    return this.size === 0 && this.segments.length === 1;
  }

  add(entry: E): void {
    const open = this.segments[this.segments.length - 1]!;
    if (entry.done) open.done.push(entry);
    else open.pending.add(entry);
    this.segmentOf.set(entry, open);
    this.size++;
  }

  addWatermark(timestamp: number): void {
    const open = this.segments[this.segments.length - 1]!;
    const closed = this.segments[this.segments.length - 2];
    if (open.pending.size === 0 && open.done.length === 0 && closed !== undefined) {
      closed.watermark = Math.max(closed.watermark!, timestamp);
      return;
    }
    open.watermark = timestamp;
    this.segments.push(UnorderedQueue.segment());
  }

  complete(entry: E): void {
    entry.done = true;
    const segment = this.segmentOf.get(entry);
    if (segment === undefined || !segment.pending.delete(entry)) return;
    segment.done.push(entry);
  }

  hasReady(): boolean {
    const first = this.segments[0]!;
    return first.done.length > 0 || (first.pending.size === 0 && first.watermark !== undefined);
  }

  drain(emit: (drained: Drained<E>) => void): void {
    for (;;) {
      const first = this.segments[0]!;
      for (const entry of first.done) {
        this.segmentOf.delete(entry);
        this.size--;
        emit({ kind: "entry", entry });
      }
      first.done.length = 0;
      if (first.pending.size > 0 || first.watermark === undefined) return;
      emit({ kind: "watermark", timestamp: first.watermark });
      this.segments.shift();
    }
  }
}

export const resultQueue = <E extends QueueEntry>(ordered: boolean): ResultQueue<E> => (ordered ? new OrderedQueue<E>() : new UnorderedQueue<E>());
