/**
 * Measures over the steady window [start, end] from sampled counters (NEXMARK-SPEC §4):
 * events emitted inside it (interpolated between the sources' 100 ms samples, summed over stats
 * files), CPU seconds (difference of the /proc samples interpolated at start and end), and RSS
 * (max and mean of the /proc samples inside the window).
 */
import type { ProcSample } from "./proc.ts";

export type Samples = readonly (readonly [number, number])[];

/**
 * The counter's value at time t by linear interpolation between the samples around it; before
 * the first sample the first value, after the last the last value (a counter that stopped).
 */
export const valueAt = (samples: Samples, t: number): number => {
  if (samples.length === 0) throw new Error("no samples to interpolate");
  if (t <= samples[0]![0]) return samples[0]![1];
  for (let i = 1; i < samples.length; i++) {
    const [t1, v1] = samples[i]!;
    if (t <= t1) {
      const [t0, v0] = samples[i - 1]!;
      return t1 === t0 ? v1 : v0 + ((v1 - v0) * (t - t0)) / (t1 - t0);
    }
  }
  return samples[samples.length - 1]![1];
};

/** Increase of a counter (summed over several sampled counters) between start and end. */
export const increaseIn = (series: readonly Samples[], start: number, end: number): number =>
  series.reduce((sum, s) => sum + valueAt(s, end) - valueAt(s, start), 0);

/** True if the samples reach from at or before `start` to at or after `end`. */
export const covers = (samples: Samples, start: number, end: number): boolean =>
  samples.length > 0 && samples[0]![0] <= start && samples[samples.length - 1]![0] >= end;

export interface WindowResources {
  readonly cpuSeconds: number;
  readonly rssMaxBytes: number;
  readonly rssMeanBytes: number;
}

export const resourcesIn = (samples: readonly ProcSample[], start: number, end: number): WindowResources => {
  const cpu = samples.map((s) => [s.atMs, s.cpuSeconds] as const);
  if (!covers(cpu, start, end)) throw new Error(`the /proc samples (${samples.length}) do not cover the steady window`);
  const inside = samples.filter((s) => s.atMs >= start && s.atMs <= end).map((s) => s.rssBytes);
  if (inside.length === 0) throw new Error("no /proc sample inside the steady window");
  return {
    cpuSeconds: valueAt(cpu, end) - valueAt(cpu, start),
    rssMaxBytes: Math.max(...inside),
    rssMeanBytes: inside.reduce((a, b) => a + b, 0) / inside.length,
  };
};
