/**
 * Timers of a keyed operator subtask: event-time and processing-time, each for a key and a
 * timestamp (Flink's InternalTimerService, heap variant).
 *
 * Contract:
 * - A timer is identified by (domain, timestamp, key): registering it twice is one timer;
 *   deleting an absent timer does nothing.
 * - Due timers come out in timestamp order; equal timestamps in registration order (after a
 *   restore: in stored key order).
 * - Timers are keyed state: every change is written with the store's next flush (so a snapshot
 *   holds exactly the timers registered before its barrier), under the key's key group, so they
 *   move with their key group when a job is rescaled. `restore(range)` loads the subtask's
 *   timers from the backend at open.
 * - All live timers are also held in memory (two binary heaps), like Flink's heap timers.
 */
import { decodeCellKey, encodeCellKey } from "../state/key-codec.ts";
import type { SealedOps } from "../state/sealed-changes.ts";
import type { KeyGroupRange, KeyValue } from "../state/key-groups.ts";
import type { KeyedStateStore } from "../state/keyed-store.ts";

export type TimeDomain = "event" | "processing";

export interface Timer {
  readonly domain: TimeDomain;
  readonly timestamp: number;
  readonly key: KeyValue;
  readonly keyGroup: number;
  /** The key as the index holds it: the key itself, or a composite key's encoding (see TimerIndex). */
  readonly slot: unknown;
  readonly composite: boolean;
  readonly seq: number;
  /** The backend holds this timer (written by a flush, or restored). */
  persisted: boolean;
}

/** Where a timer lives in a TimerIndex. */
interface TimerRef {
  readonly domain: TimeDomain;
  readonly timestamp: number;
  readonly slot: unknown;
  readonly composite: boolean;
}

const compositeSlot = (key: KeyValue): string => encodeCellKey(0, 0, key).toString("latin1");

/**
 * Values by timer identity (domain, timestamp, key) without building a string per lookup
 * (formatting a 13-digit timestamp costs more than the rest of a registration): per domain and
 * timestamp, a map by key — the key itself for a plain key (a Map tells 1, "1", 1n and true
 * apart), its encoding for a composite key, in maps of their own so the two never meet.
 */
class TimerIndex<V> {
  private readonly maps = [new Map<number, Map<unknown, V>>(), new Map<number, Map<unknown, V>>(), new Map<number, Map<unknown, V>>(), new Map<number, Map<unknown, V>>()];
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(ref: TimerRef): V | undefined {
    return this.outer(ref).get(ref.timestamp)?.get(ref.slot);
  }

  set(ref: TimerRef, value: V): void {
    const outer = this.outer(ref);
    let inner = outer.get(ref.timestamp);
    if (inner === undefined) outer.set(ref.timestamp, (inner = new Map()));
    const before = inner.size;
    inner.set(ref.slot, value);
    this.count += inner.size - before;
  }

  delete(ref: TimerRef): void {
    const outer = this.outer(ref);
    const inner = outer.get(ref.timestamp);
    if (inner === undefined || !inner.delete(ref.slot)) return;
    this.count--;
    if (inner.size === 0) outer.delete(ref.timestamp);
  }

  /** Every value, then none left. */
  drain(): V[] {
    const out: V[] = [];
    for (const outer of this.maps) {
      for (const inner of outer.values()) for (const v of inner.values()) out.push(v);
      outer.clear();
    }
    this.count = 0;
    return out;
  }

  private outer(ref: TimerRef): Map<number, Map<unknown, V>> {
    return this.maps[(ref.domain === "event" ? 0 : 2) + (ref.composite ? 1 : 0)]!;
  }
}

const PRESENT = Buffer.from([1]);

const before = (a: Timer, b: Timer) => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq);

/** A binary min-heap of timers by (timestamp, seq). */
class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Timer | undefined {
    return this.items[0];
  }

  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(a[i]!, a[parent]!)) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && before(a[l]!, a[m]!)) m = l;
        if (r < a.length && before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

export class KeyedTimers {
  private readonly store: KeyedStateStore;
  private readonly stateId: number;
  private readonly heaps = { event: new TimerHeap(), processing: new TimerHeap() };
  /** Live timers (heap entries not found here were deleted). */
  private readonly live = new TimerIndex<Timer>();
  /**
   * Changes not yet flushed: `put` = write the timer, else delete it. A timer added and removed
   * between two flushes never reaches the backend.
   */
  private readonly pending = new TimerIndex<{ readonly timer: Timer; readonly put: boolean }>();
  private seq = 0;

  /** Reserves a state id in `store` (register after the operator's own states, in a fixed order). */
  constructor(store: KeyedStateStore, name = "__timers") {
    this.store = store;
    this.stateId = store.reserve(name, { kind: "timers" });
    store.addContributor(this);
  }

  get size(): number {
    return this.live.size;
  }

  /** Loads this subtask's stored timers (key groups `range`). */
  async restore(range: KeyGroupRange): Promise<void> {
    const backend = this.store.backend;
    for (let kg = range.start; kg <= range.end; kg++) {
      const gte = Buffer.alloc(4);
      gte.writeUInt16BE(kg, 0);
      gte.writeUInt16BE(this.stateId, 2);
      const lt = Buffer.alloc(4);
      lt.writeUInt16BE(kg, 0);
      lt.writeUInt16BE(this.stateId + 1, 2);
      for await (const [bytes] of backend.scan({ gte, lt })) {
        const [code, timestamp, key] = decodeCellKey(bytes).key as readonly [number, number, KeyValue];
        this.add(code === 0 ? "event" : "processing", timestamp, key, kg, true);
      }
    }
  }

  /** Registers a timer for the store's current key. */
  register(domain: TimeDomain, timestamp: number): void {
    this.add(domain, timestamp, this.store.currentKey!, this.store.currentKeyGroup, false);
  }

  /** Deletes the current key's timer at `timestamp`, if any. */
  delete(domain: TimeDomain, timestamp: number): void {
    const key = this.store.currentKey!;
    const composite = typeof key === "object";
    const timer = this.live.get({ domain, timestamp, slot: composite ? compositeSlot(key) : key, composite });
    if (timer !== undefined) this.remove(timer);
  }

  private add(domain: TimeDomain, timestamp: number, key: KeyValue, keyGroup: number, restored: boolean): void {
    const composite = typeof key === "object";
    const ref: TimerRef = { domain, timestamp, slot: composite ? compositeSlot(key) : key, composite };
    if (this.live.get(ref) !== undefined) return;
    // Registered again after a delete that is not flushed yet: the backend still holds it.
    const persisted = restored || this.pending.get(ref)?.put === false;
    const timer: Timer = { domain, timestamp, key, keyGroup, slot: ref.slot, composite, seq: this.seq++, persisted };
    this.live.set(timer, timer);
    this.heaps[domain].push(timer);
    if (!restored) this.pending.set(timer, { timer, put: true });
  }

  private remove(timer: Timer): void {
    this.live.delete(timer);
    if (timer.persisted) this.pending.set(timer, { timer, put: false });
    else this.pending.delete(timer);
  }

  /** The earliest live timer's timestamp in `domain`, or undefined. */
  nextTimestamp(domain: TimeDomain): number | undefined {
    const heap = this.heaps[domain];
    for (;;) {
      const top = heap.peek();
      if (top === undefined) return undefined;
      if (this.live.get(top) === top) return top.timestamp;
      heap.pop();
    }
  }

  /** Removes and returns every live timer of `domain` with timestamp <= `upTo`, in firing order. */
  pollDue(domain: TimeDomain, upTo: number): Timer[] {
    const due = this.takeDue(domain, upTo);
    for (const t of due) this.remove(t);
    return due;
  }

  /**
   * Takes the due timers of `domain` off the heap, in firing order, for a firing round; they
   * stay live (a delete before they fire still cancels them). Fire them with `fire`.
   */
  takeDue(domain: TimeDomain, upTo: number): Timer[] {
    const heap = this.heaps[domain];
    const due: Timer[] = [];
    for (;;) {
      const top = heap.peek();
      if (top === undefined || top.timestamp > upTo) break;
      heap.pop();
      if (this.isLive(top)) due.push(top);
    }
    return due;
  }

  isLive(timer: Timer): boolean {
    return this.live.get(timer) === timer;
  }

  /** The earliest live timer still on the heap if it is due, taken off the heap; else undefined. */
  takeDueBefore(domain: TimeDomain, upTo: number, other: Timer | undefined): Timer | undefined {
    if (this.nextTimestamp(domain) === undefined) return undefined;
    const top = this.heaps[domain].peek()!;
    if (top.timestamp > upTo || (other !== undefined && !before(top, other))) return undefined;
    return this.heaps[domain].pop();
  }

  /** Marks a taken timer as fired (it is no longer live; the backend forgets it at the next flush). */
  fire(timer: Timer): void {
    this.remove(timer);
  }

  /**
   * At a cut: takes the changes since the previous cut and marks each timer as the backend will
   * hold it once they are written (so a later delete is written too); encoding is left to the
   * returned encoder (timers never change, so it may run any time later).
   */
  sealChanges(): SealedOps | undefined {
    if (this.pending.size === 0) return undefined;
    const changes = this.pending.drain();
    for (const { timer, put } of changes) timer.persisted = put;
    let next = 0;
    return (ops, max) => {
      const end = Math.min(changes.length, next + max);
      for (; next < end; next++) {
        const { timer, put } = changes[next]!;
        const key = encodeCellKey(timer.keyGroup, this.stateId, [timer.domain === "event" ? 0 : 1, timer.timestamp, timer.key]);
        ops.push(put ? { kind: "put", key, value: PRESENT } : { kind: "delete", key });
      }
      return next === changes.length;
    };
  }
}

/**
 * Fires every timer of `domain` due at `upTo`: pops them, prefetches their keys' state in one
 * backend call, then calls `each` with the store's current key set to the timer's key. Timers
 * that `each` registers at or before `upTo` fire in the same call. At most one await per round.
 */
export const fireDueTimers = (
  store: KeyedStateStore,
  timers: KeyedTimers,
  domain: TimeDomain,
  upTo: number,
  each: (timer: Timer) => void,
): void | Promise<void> => {
  for (;;) {
    const due = timers.takeDue(domain, upTo);
    if (due.length === 0) return;
    // One timer at a time, as Flink: a timer deleted by an earlier `each` does not fire, and one
    // registered by it (for the current key, whose state is loaded) fires in timestamp order.
    const run = () => {
      let i = 0;
      for (;;) {
        while (i < due.length && !timers.isLive(due[i]!)) i++;
        const t = timers.takeDueBefore(domain, upTo, due[i]) ?? due[i++];
        if (t === undefined) return;
        timers.fire(t);
        store.setCurrentKey(t.key, t.keyGroup);
        each(t);
      }
    };
    const loading = store.prefetch(
      due.map((t) => t.key),
      due.map((t) => t.keyGroup),
    );
    if (loading !== undefined) return loading.then(run).then(() => fireDueTimers(store, timers, domain, upTo, each));
    run();
  }
};

/** What a keyed function sees of time. */
export interface TimerService {
  /** The operator's event time: the last watermark it processed. */
  currentWatermark(): number;
  currentProcessingTime(): number;
  /** Calls `onTimer` for the current key once the watermark reaches `timestamp`. */
  registerEventTimeTimer(timestamp: number): void;
  deleteEventTimeTimer(timestamp: number): void;
  /** Calls `onTimer` for the current key once the processing-time clock reaches `timestamp`. */
  registerProcessingTimeTimer(timestamp: number): void;
  deleteProcessingTimeTimer(timestamp: number): void;
}

/** The operator-side time state: watermark, clock and timers, as a TimerService for user code. */
export class OperatorTime implements TimerService {
  readonly timers: KeyedTimers;
  private readonly now: () => number;
  watermark: number;
  /** Called on the first event-time timer, then dropped (see OperatorContext.eventTimeWithoutWatermarks). */
  private onFirstEventTimer: (() => void) | undefined;

  constructor(timers: KeyedTimers, now: () => number, initialWatermark: number, onFirstEventTimer?: () => void) {
    this.timers = timers;
    this.now = now;
    this.watermark = initialWatermark;
    this.onFirstEventTimer = onFirstEventTimer;
  }

  currentWatermark(): number {
    return this.watermark;
  }
  currentProcessingTime(): number {
    return this.now();
  }
  registerEventTimeTimer(timestamp: number): void {
    if (this.onFirstEventTimer !== undefined) {
      this.onFirstEventTimer();
      this.onFirstEventTimer = undefined;
    }
    this.timers.register("event", timestamp);
  }
  deleteEventTimeTimer(timestamp: number): void {
    this.timers.delete("event", timestamp);
  }
  registerProcessingTimeTimer(timestamp: number): void {
    this.timers.register("processing", timestamp);
  }
  deleteProcessingTimeTimer(timestamp: number): void {
    this.timers.delete("processing", timestamp);
  }
}
