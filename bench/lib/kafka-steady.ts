/**
 * The steady-window rate of a run from a sampled counter: warm-up discarded, the tail where the
 * input runs out cut off, the rate taken over the window in between only. Every variant of
 * bench/kafka.ts is measured with this one function.
 *
 *   const samples = [{ t: 0, count: 0 }, { t: 100, count: 0 }, { t: 200, count: 900 }, ...];
 *   steadyWindow(samples, { warmupMs: 3_000, windowMs: 10_000, endCount: 980_000 });
 *   // { kind: "full", fromMs: 3_100, toMs: 13_100, records: ..., rate: ... }
 *
 * Samples are (time in ms, cumulative count) with non-decreasing times and counts, as read from
 * a counter by a timer; between two samples the counter is taken to grow linearly.
 */

export interface Sample {
  /** Milliseconds on any monotonic clock. */
  readonly t: number;
  /** Cumulative count at `t`. */
  readonly count: number;
}

/** The counter at time `t`, linearly interpolated between samples; clamped outside them. */
export function countAt(samples: readonly Sample[], t: number): number {
  if (samples.length === 0) throw new Error("countAt of no samples");
  const first = samples[0]!;
  if (t <= first.t) return first.count;
  for (let i = 1; i < samples.length; i++) {
    const b = samples[i]!;
    if (t <= b.t) {
      const a = samples[i - 1]!;
      return b.t === a.t ? b.count : a.count + ((b.count - a.count) * (t - a.t)) / (b.t - a.t);
    }
  }
  return samples[samples.length - 1]!.count;
}

/** The first time the counter reaches `count` (interpolated), or undefined if it never does. */
export function timeAt(samples: readonly Sample[], count: number): number | undefined {
  for (let i = 0; i < samples.length; i++) {
    const b = samples[i]!;
    if (b.count >= count) {
      if (i === 0) return b.t;
      const a = samples[i - 1]!;
      return b.count === a.count ? b.t : a.t + ((b.t - a.t) * (count - a.count)) / (b.count - a.count);
    }
  }
  return undefined;
}

/** When work began: the last sample at which the counter was still at its first value. */
export function startOf(samples: readonly Sample[]): number | undefined {
  const first = samples[0];
  if (first === undefined) return undefined;
  let start: number | undefined;
  for (const s of samples) {
    if (s.count !== first.count) return start;
    start = s.t;
  }
  return undefined; // never moved
}

export interface SteadyOptions {
  /** Discarded after the counter first moved. */
  readonly warmupMs: number;
  /** Wanted length of the steady window. */
  readonly windowMs: number;
  /** The window ends at the latest when the counter reaches this (the input is running out). */
  readonly endCount?: number;
}

export type SteadyWindow =
  | {
      /** "full": the window is `windowMs` long; "short": the input or the samples ended first. */
      readonly kind: "full" | "short";
      readonly fromMs: number;
      readonly toMs: number;
      readonly records: number;
      /** Records per second over the window. */
      readonly rate: number;
    }
  | { readonly kind: "none"; readonly reason: string };

/**
 * The window [start + warm-up, start + warm-up + windowMs], cut at `endCount` and at the last
 * sample, where start is `startOf(samples)`; its rate is the counter's growth over it divided by
 * its length. "none" when the counter never moved or nothing of the window is left after the cuts.
 */
export function steadyWindow(samples: readonly Sample[], o: SteadyOptions): SteadyWindow {
  const start = startOf(samples);
  if (start === undefined) return { kind: "none", reason: "the counter never moved" };
  const fromMs = start + o.warmupMs;
  const last = samples[samples.length - 1]!.t;
  const ended = o.endCount === undefined ? undefined : timeAt(samples, o.endCount);
  const toMs = Math.min(fromMs + o.windowMs, last, ended ?? Infinity);
  if (!(toMs > fromMs)) {
    const why = ended !== undefined && ended <= fromMs ? `the input ran out ${((ended - start) / 1000).toFixed(1)} s after the start` : "the samples end";
    return { kind: "none", reason: `no steady window left after a warm-up of ${o.warmupMs / 1000} s: ${why}` };
  }
  const records = countAt(samples, toMs) - countAt(samples, fromMs);
  return { kind: toMs >= fromMs + o.windowMs ? "full" : "short", fromMs, toMs, records, rate: (records * 1000) / (toMs - fromMs) };
}
