/**
 * The wall-clock schedule of a Nexmark run and the event-time arithmetic the benchmark uses
 * (NEXMARK-SPEC.md §2, §3), as pure functions.
 *
 *   const s = { startAt: Date.now() + 3000, rate: 50_000 };
 *   scheduledAt(120, s);          // startAt + 120 * 1000 / 50_000 ms: when count 120 is due
 *   dueCounts(now, s);            // how many counts (0, 1, ...) are due at `now`
 *   firstCountAtOrAfter(t, cfg);  // n(T): the first generator count whose event time is >= t
 *
 * Count n is due at `sched(n) = startAt + n * 1000 / rate`; a source emits n only once
 * `now >= sched(n)` and never skips or re-bases (queueing delay shows up as latency).
 */

export interface Schedule {
  /** Epoch ms at which count 0 is due. */
  readonly startAt: number;
  /** Counts per second of wall-clock time, all splits together (> 0). */
  readonly rate: number;
}

/** Epoch ms at which count `n` is due. */
export const scheduledAt = (n: number, schedule: Schedule): number => schedule.startAt + (n * 1000) / schedule.rate;

/**
 * The number of counts due at `now`: every n < result has `scheduledAt(n) <= now`, and
 * `scheduledAt(result) > now` (0 before startAt). Exact at the boundaries: the estimate from the
 * inverse formula is corrected with `scheduledAt` itself, so it agrees with it bit for bit.
 */
export const dueCounts = (now: number, schedule: Schedule): number => {
  if (now < schedule.startAt) return 0;
  let n = Math.max(0, Math.floor(((now - schedule.startAt) * schedule.rate) / 1000) + 1);
  while (n > 0 && scheduledAt(n - 1, schedule) > now) n--;
  while (scheduledAt(n, schedule) <= now) n++;
  return n;
};

/** What `firstCountAtOrAfter` needs of a generator config. */
export interface EventTimeConfig {
  readonly baseTime: number;
  readonly firstEventRate: number;
  readonly numEventGenerators: number;
}

/**
 * n(T): the first generator count whose event time `ts(n) = baseTime + floor(n * gens * 1000 /
 * rate)` is >= T (0 for T <= baseTime). For an integral T this is
 * `ceil((T - baseTime) * rate / (1000 * gens))`; corrected against `ts` so it is exact.
 */
export const firstCountAtOrAfter = (t: number, config: EventTimeConfig): number => {
  const ts = (n: number) => config.baseTime + Math.floor((n * config.numEventGenerators * 1000) / config.firstEventRate);
  if (t <= config.baseTime) return 0;
  let n = Math.max(0, Math.ceil(((t - config.baseTime) * config.firstEventRate) / (1000 * config.numEventGenerators)));
  while (n > 0 && ts(n - 1) >= t) n--;
  while (ts(n) < t) n++;
  return n;
};
