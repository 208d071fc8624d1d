/**
 * A clock for tests: time moves only when the test calls `advance`, and the timers due run
 * then, in order of their due time (ties in the order they were set), each seeing `now()` at
 * its own due time. An interval re-arms itself after each run.
 */
import type { Clock, Timer } from "./clock.ts";

interface Scheduled {
  readonly id: number;
  readonly fn: () => void;
  dueAt: number;
  readonly everyMs: number | undefined;
}

export class ManualClock implements Clock {
  private time: number;
  private nextId = 1;
  private readonly timers = new Map<number, Scheduled>();

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: Timer): void {
    this.timers.delete(timer as unknown as number);
  }

  clearInterval(timer: Timer): void {
    this.timers.delete(timer as unknown as number);
  }

  /** Timers waiting to run. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, running every timer that comes due on the way. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let next: Scheduled | undefined;
      for (const t of this.timers.values()) if (t.dueAt <= until && (next === undefined || t.dueAt < next.dueAt)) next = t;
      if (next === undefined) break;
      this.time = Math.max(this.time, next.dueAt);
      if (next.everyMs === undefined) this.timers.delete(next.id);
      else next.dueAt += next.everyMs;
      next.fn();
    }
    this.time = until;
  }

  private schedule(fn: () => void, ms: number, everyMs: number | undefined): Timer {
    const id = this.nextId++;
    this.timers.set(id, { id, fn, dueAt: this.time + Math.max(0, ms), everyMs });
    return id as unknown as Timer;
  }
}
