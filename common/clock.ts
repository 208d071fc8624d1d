/**
 * Processing time and timers as library code sees them: injected, never read from globals, so
 * tests drive the code with a `ManualClock` (common/manual-clock.ts) and stay deterministic.
 *
 * `systemClock` is the real one. Its intervals do not keep the process alive (periodic
 * housekeeping such as checkpoint ticks must never hold a finished job open); its timeouts do
 * (a pending retry must run).
 */
declare const timerBrand: unique symbol;
/** An opaque timer handle, only good for the clock that made it. */
export type Timer = { readonly [timerBrand]: true };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
  setInterval(fn: () => void, ms: number): Timer;
  clearInterval(timer: Timer): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as Timer,
  clearTimeout: (timer) => clearTimeout(timer as unknown as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref() as unknown as Timer,
  clearInterval: (timer) => clearInterval(timer as unknown as NodeJS.Timeout),
};

/** Resolves after `ms` on `clock`. */
export const sleep = (clock: Clock, ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
