/**
 * Pure helpers of the checkpoint benchmark (bench/checkpoints.ts): rates over a steady window
 * from sampled counters, percentiles, spreads, and the run schedule (variants alternating, the
 * order rotated every repetition).
 */

/** A counter read at a time (seconds since the run started). */
export interface Sample {
  readonly t: number;
  readonly count: number;
}

/**
 * The counter at time `t`, interpolated linearly between the samples around it; undefined if `t`
 * lies outside the samples (samples in ascending time).
 */
export const counterAt = (samples: readonly Sample[], t: number): number | undefined => {
  if (samples.length === 0 || t < samples[0]!.t || t > samples[samples.length - 1]!.t) return undefined;
  let lo = 0;
  let hi = samples.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.t <= t) lo = mid;
    else hi = mid;
  }
  const a = samples[lo]!;
  const b = samples[hi]!;
  if (b.t === a.t) return b.count;
  return a.count + ((b.count - a.count) * (t - a.t)) / (b.t - a.t);
};

/** Counts per second between `from` and `to` (seconds), or undefined if the samples do not cover it. */
export const rateBetween = (samples: readonly Sample[], from: number, to: number): number | undefined => {
  const a = counterAt(samples, from);
  const b = counterAt(samples, to);
  if (a === undefined || b === undefined || to <= from) return undefined;
  return (b - a) / (to - from);
};

/**
 * The p-th percentile (0..100) of `xs`, by linear interpolation between closest ranks (as numpy's
 * default); undefined for no values.
 */
export const percentile = (xs: readonly number[], p: number): number | undefined => {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
};

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export const spreadOf = (xs: readonly number[]): Spread | undefined =>
  xs.length === 0 ? undefined : { median: percentile(xs, 50)!, min: Math.min(...xs), max: Math.max(...xs), n: xs.length };

/** How much lower `rate` is than `reference`, in percent (positive: slower). */
export const costPercent = (rate: number, reference: number): number => (1 - rate / reference) * 100;

export interface ScheduledRun<V, T> {
  readonly rep: number;
  readonly variant: V;
  readonly tree: T;
}

/**
 * Every (repetition, variant, tree) once. Within a repetition the variants come in an order
 * rotated by one each repetition, and for each variant the trees alternate which goes first, so
 * no variant or tree always runs first (cold machine) or last (warm, or after a long run).
 */
export const schedule = <V, T>(variants: readonly V[], trees: readonly T[], reps: number): ScheduledRun<V, T>[] => {
  const runs: ScheduledRun<V, T>[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < variants.length; i++) {
      const v = (i + rep) % variants.length;
      const variant = variants[v]!;
      for (let j = 0; j < trees.length; j++) runs.push({ rep, variant, tree: trees[(j + rep + v) % trees.length]! });
    }
  }
  return runs;
};
