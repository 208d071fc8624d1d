/**
 * Open-loop input schedule and run order for the Kafka benchmark.
 *
 * Record i of a latency run is due at t0 + i / rate, whatever happened to earlier sends; its
 * latency is measured from that scheduled time, so a producer or pipeline that falls behind shows
 * as latency instead of silently slowing the input (no coordinated omission).
 *
 *   scheduledAt(t0, 500, 1_000)     // t0 + 500 ms
 *   dueCount(t0, t0 + 500, 1_000, 10_000)  // 501: records 0..500 are due
 *   rotations(["a", "b", "c"], 4)   // [[a,b,c],[b,c,a],[c,a,b],[a,b,c]]
 */

/** When record `i` is due, in the clock of `t0` (ms); `rate` in records per second. */
export const scheduledAt = (t0: number, i: number, rate: number): number => t0 + (i * 1000) / rate;

/**
 * How many records are due at `now`: those i < total with scheduledAt(t0, i, rate) <= now
 * (0 before t0, `total` from the last one's time on).
 */
export function dueCount(t0: number, now: number, rate: number, total: number): number {
  if (now < t0) return 0;
  return Math.min(total, Math.floor(((now - t0) * rate) / 1000) + 1);
}

/**
 * The order of the variants in each of `repetitions` rounds: round r starts with variant
 * r mod n and keeps the cyclic order, so each variant runs first, second, ... equally often
 * (when `repetitions` is a multiple of n) and no variant always runs on a machine warmed by another.
 */
export function rotations<T>(variants: readonly T[], repetitions: number): T[][] {
  const n = variants.length;
  return Array.from({ length: repetitions }, (_, r) => Array.from({ length: n }, (_, k) => variants[(r + k) % n]!));
}
